#include "model/tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "model/internal/forest.h"
#include "model/internal/tree_shap.h"
#include "model/internal/xgboost_json.h"

namespace sluice::model {

namespace {

// The scoring form of a node, parallel to Forest::nodes (same indices), made
// so that one step is branch-free: next = left + offset, where offset is
// !(x < threshold) for a number, and the default direction for a missing
// value. A leaf loops to itself: its threshold is NaN (so offset is 1 for any
// x, NaN included) and its left is its own index minus one, so every row can
// take exactly max_depth steps. Categorical splits keep a flag and are
// decided by internal::NextNode.
constexpr uint32_t kStepDefaultLeft = 1u << 31;
constexpr uint32_t kStepCategorical = 1u << 30;
constexpr uint32_t kStepFeatureMask = (1u << 24) - 1;

struct StepNode {
  float threshold;
  uint32_t feature_and_flags;
  int32_t left;
};
static_assert(sizeof(StepNode) == 12);

// Trees walked at once for one row.
constexpr size_t kTreesAtOnce = 8;

}  // namespace

struct TreeEnsemble::Impl {
  internal::Forest forest;
  std::vector<StepNode> steps;            // parallel to forest.nodes
  std::vector<uint8_t> tree_categorical;  // per tree: has a categorical split
  internal::ShapPaths shap;               // for Contributions; empty for gblinear
};

namespace {

void BuildSteps(const internal::Forest& forest, std::vector<StepNode>* steps,
                std::vector<uint8_t>* tree_categorical) {
  steps->resize(forest.nodes.size());
  for (size_t i = 0; i < forest.nodes.size(); ++i) {
    const internal::FlatNode& node = forest.nodes[i];
    StepNode& step = (*steps)[i];
    if (node.is_leaf()) {
      step.threshold = std::numeric_limits<float>::quiet_NaN();
      step.feature_and_flags = 0;
      step.left = static_cast<int32_t>(i) - 1;
      continue;
    }
    step.threshold = node.value;
    step.feature_and_flags = node.feature();
    if (node.feature_and_flags & internal::kDefaultLeftFlag) {
      step.feature_and_flags |= kStepDefaultLeft;
    }
    if (node.feature_and_flags & internal::kCategoricalFlag) {
      step.feature_and_flags |= kStepCategorical;
    }
    step.left = node.left;
  }
  tree_categorical->assign(forest.trees.size(), 0);
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    const internal::FlatTree& tree = forest.trees[t];
    // Breadth-first numbering: a tree's nodes run from its root to the next
    // tree's root.
    const size_t end = t + 1 < forest.trees.size() ? static_cast<size_t>(forest.trees[t + 1].root)
                                                   : forest.nodes.size();
    for (size_t i = static_cast<size_t>(tree.root); i < end; ++i) {
      if ((*steps)[i].feature_and_flags & kStepCategorical) (*tree_categorical)[t] = 1;
    }
  }
}

// One step from node `at` for `row`; a leaf stays where it is.
template <bool kCategorical>
inline int32_t Step(const internal::Forest& forest, const StepNode* steps, int32_t at,
                    const float* row) {
  const StepNode& step = steps[at];
  if constexpr (kCategorical) {
    if (step.feature_and_flags & kStepCategorical) {
      return internal::NextNode(forest, forest.nodes[static_cast<size_t>(at)], row);
    }
  }
  const float x = row[step.feature_and_flags & kStepFeatureMask];
  // !(x < threshold) is 1 for NaN; a missing value going left clears it.
  const auto right = static_cast<int32_t>(!(x < step.threshold));
  const auto missing_left =
      static_cast<int32_t>(std::isnan(x)) & static_cast<int32_t>(step.feature_and_flags >> 31);
  return step.left + (right & (missing_left ^ 1));
}

// Walks one tree for rows [0, count) of a block, all rows one level at a
// time, so the rows' load chains overlap; leaves the final node in at[].
template <bool kCategorical>
void WalkRows(const internal::Forest& forest, const StepNode* steps, const internal::FlatTree& tree,
              const float* x, size_t count, size_t stride, int32_t* at) {
  std::fill(at, at + count, tree.root);
  for (uint32_t level = 0; level < tree.max_depth; ++level) {
    for (size_t r = 0; r < count; ++r) {
      at[r] = Step<kCategorical>(forest, steps, at[r], x + r * stride);
    }
  }
}

// Walks trees [first, first + count) for one row, all trees one level at a
// time; leaves the final nodes in at[].
template <bool kCategorical>
void WalkTrees(const internal::Forest& forest, const StepNode* steps, size_t first, size_t count,
               const float* row, int32_t* at) {
  uint32_t depth = 0;
  for (size_t k = 0; k < count; ++k) {
    at[k] = forest.trees[first + k].root;
    depth = std::max(depth, forest.trees[first + k].max_depth);
  }
  for (uint32_t level = 0; level < depth; ++level) {
    for (size_t k = 0; k < count; ++k) at[k] = Step<kCategorical>(forest, steps, at[k], row);
  }
}

// gblinear, as XGBoost's GBLinear::Pred: the sum starts at bias + base
// margin and adds weight * value feature by feature, in float; missing values
// are absent from XGBoost's sparse rows, so they add nothing.
void PredictLinearMargin(const internal::Forest& forest, const float* x, size_t rows, size_t stride,
                         float* margin) {
  const internal::LinearBooster& linear = *forest.linear;
  const size_t groups = forest.num_groups;
  const size_t features = forest.num_features;
  const float* weights = linear.weights.data();
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * stride;
    float* out = margin + r * groups;
    for (size_t g = 0; g < groups; ++g) out[g] = linear.bias[g] + forest.base_margin;
    for (size_t f = 0; f < features; ++f) {
      const float v = row[f];
      if (std::isnan(v)) continue;
      const float* w = weights + f * groups;
      for (size_t g = 0; g < groups; ++g) out[g] += v * w[g];
    }
  }
}

// gblinear, as XGBoost's GBLinear::PredictContribution.
void LinearContributions(const internal::Forest& forest, const float* row, float* out) {
  const internal::LinearBooster& linear = *forest.linear;
  const size_t groups = forest.num_groups;
  const size_t features = forest.num_features;
  const size_t columns = features + 1;
  for (size_t g = 0; g < groups; ++g) {
    float* group_out = out + g * columns;
    for (size_t f = 0; f < features; ++f) {
      group_out[f] = std::isnan(row[f]) ? 0.0f : row[f] * linear.weights[f * groups + g];
    }
    group_out[features] = linear.bias[g] + forest.base_margin;
  }
}

}  // namespace

TreeEnsemble::TreeEnsemble() : impl_(std::make_unique<Impl>()) {}
TreeEnsemble::~TreeEnsemble() = default;

Result<std::shared_ptr<const TreeEnsemble>> TreeEnsemble::LoadXgboostJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open the model file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError(path + ": cannot read the model file");
  return ParseXgboostJson(text.str(), path);
}

Result<std::shared_ptr<const TreeEnsemble>> TreeEnsemble::ParseXgboostJson(
    std::string_view json, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(internal::Forest forest, internal::ParseXgboostForest(json, name));
  std::shared_ptr<TreeEnsemble> model(new TreeEnsemble());
  model->impl_->forest = std::move(forest);
  BuildSteps(model->impl_->forest, &model->impl_->steps, &model->impl_->tree_categorical);
  if (!model->impl_->forest.linear) {
    model->impl_->shap = internal::BuildShapPaths(model->impl_->forest);
  }
  return std::shared_ptr<const TreeEnsemble>(std::move(model));
}

std::string_view TreeEnsemble::booster() const {
  return impl_->forest.booster;
}
const std::vector<std::string>& TreeEnsemble::feature_names() const {
  return impl_->forest.feature_names;
}
size_t TreeEnsemble::num_features() const {
  return impl_->forest.num_features;
}
size_t TreeEnsemble::num_groups() const {
  return impl_->forest.num_groups;
}
size_t TreeEnsemble::num_outputs() const {
  return impl_->forest.objective == Objective::kSoftmax ? 1 : impl_->forest.num_groups;
}
Objective TreeEnsemble::objective() const {
  return impl_->forest.objective;
}
std::string_view TreeEnsemble::objective_name() const {
  return impl_->forest.objective_name;
}
size_t TreeEnsemble::num_trees() const {
  return impl_->forest.trees.size();
}
float TreeEnsemble::base_margin() const {
  return impl_->forest.base_margin;
}
size_t TreeEnsemble::contribution_table_bytes() const {
  return impl_->shap.table_bytes();
}

void TreeEnsemble::PredictMargin(const float* x, size_t rows, size_t stride, float* margin) const {
  const internal::Forest& forest = impl_->forest;
  if (forest.linear) {
    PredictLinearMargin(forest, x, rows, stride, margin);
    return;
  }
  const StepNode* steps = impl_->steps.data();
  const uint8_t* tree_categorical = impl_->tree_categorical.data();
  const size_t groups = forest.num_groups;
  const size_t num_trees = forest.trees.size();
  const internal::FlatNode* nodes = forest.nodes.data();
  // Each tree runs over a block of rows before the next tree, so the tree's
  // nodes stay in cache, and the block's rows go down the tree together, a
  // level at a time, so their node loads overlap. Per row, trees are still
  // added in model order, in float, as XGBoost does.
  constexpr size_t kBlockRows = 128;
  // Below this many rows a block is walked row by row, several trees at once.
  constexpr size_t kMinLockstepRows = 8;
  int32_t at[kBlockRows > kTreesAtOnce ? kBlockRows : kTreesAtOnce];
  for (size_t begin = 0; begin < rows; begin += kBlockRows) {
    const size_t end = std::min(rows, begin + kBlockRows);
    const size_t count = end - begin;
    std::fill(margin + begin * groups, margin + end * groups, forest.base_margin);
    if (count >= kMinLockstepRows) {
      const float* block = x + begin * stride;
      for (size_t t = 0; t < num_trees; ++t) {
        const internal::FlatTree& tree = forest.trees[t];
        if (tree_categorical[t]) {
          WalkRows<true>(forest, steps, tree, block, count, stride, at);
        } else {
          WalkRows<false>(forest, steps, tree, block, count, stride, at);
        }
        float* out = margin + begin * groups + tree.group;
        for (size_t r = 0; r < count; ++r) {
          out[r * groups] += nodes[at[r]].value * tree.weight;
        }
      }
      continue;
    }
    for (size_t r = begin; r < end; ++r) {
      const float* row = x + r * stride;
      float* out = margin + r * groups;
      for (size_t first = 0; first < num_trees; first += kTreesAtOnce) {
        const size_t n = std::min(kTreesAtOnce, num_trees - first);
        bool categorical = false;
        for (size_t k = 0; k < n; ++k) categorical |= tree_categorical[first + k] != 0;
        if (categorical) {
          WalkTrees<true>(forest, steps, first, n, row, at);
        } else {
          WalkTrees<false>(forest, steps, first, n, row, at);
        }
        // Added one tree after the other, in model order.
        for (size_t k = 0; k < n; ++k) {
          const internal::FlatTree& tree = forest.trees[first + k];
          out[tree.group] += nodes[at[k]].value * tree.weight;
        }
      }
    }
  }
}

void TreeEnsemble::Transform(const float* margin, size_t rows, float* out) const {
  const size_t groups = impl_->forest.num_groups;
  switch (impl_->forest.objective) {
    case Objective::kBinaryLogistic:
      for (size_t i = 0; i < rows * groups; ++i) out[i] = 1.0f / (1.0f + std::exp(-margin[i]));
      return;
    case Objective::kPoisson:
      for (size_t i = 0; i < rows * groups; ++i) out[i] = std::exp(margin[i]);
      return;
    case Objective::kSoftprob:
      for (size_t r = 0; r < rows; ++r) {
        const float* m = margin + r * groups;
        float* o = out + r * groups;
        const float top = *std::max_element(m, m + groups);
        double sum = 0;
        for (size_t g = 0; g < groups; ++g) {
          o[g] = std::exp(m[g] - top);
          sum += o[g];
        }
        for (size_t g = 0; g < groups; ++g) o[g] /= static_cast<float>(sum);
      }
      return;
    case Objective::kSoftmax:
      for (size_t r = 0; r < rows; ++r) {
        const float* m = margin + r * groups;
        out[r] = static_cast<float>(std::max_element(m, m + groups) - m);
      }
      return;
    case Objective::kBinaryLogitRaw:
    case Objective::kSquaredError:
    case Objective::kRank:
      std::copy(margin, margin + rows * groups, out);
      return;
  }
}

void TreeEnsemble::Contributions(const float* row, float* out) const {
  const internal::Forest& forest = impl_->forest;
  const size_t columns = forest.num_features + 1;
  if (forest.linear) {
    LinearContributions(forest, row, out);
    return;
  }
  // Grows to the largest model seen on this thread, then is reused.
  thread_local internal::ShapScratch scratch;
  thread_local std::vector<float> tree_phi;
  scratch.Reserve(impl_->shap);
  tree_phi.resize(std::max(tree_phi.size(), columns));

  std::fill(out, out + forest.num_groups * columns, 0.0f);
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    const internal::FlatTree& tree = forest.trees[t];
    std::fill(tree_phi.begin(), tree_phi.begin() + static_cast<std::ptrdiff_t>(columns), 0.0f);
    internal::AddTreeContributions(forest, impl_->shap, t, row, &scratch, tree_phi.data());
    float* group_out = out + tree.group * columns;
    for (size_t c = 0; c < columns; ++c) group_out[c] += tree_phi[c] * tree.weight;
  }
  for (size_t g = 0; g < forest.num_groups; ++g)
    out[g * columns + columns - 1] += forest.base_margin;
}

}  // namespace sluice::model
