#include "model/tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "model/internal/forest.h"
#include "model/internal/tree_shap.h"
#include "model/internal/xgboost_json.h"

namespace sluice::model {

struct TreeEnsemble::Impl {
  internal::Forest forest;
};

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
  return std::shared_ptr<const TreeEnsemble>(std::move(model));
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

void TreeEnsemble::PredictMargin(const float* x, size_t rows, size_t stride, float* margin) const {
  const internal::Forest& forest = impl_->forest;
  const size_t groups = forest.num_groups;
  // Each tree runs over a block of rows before the next tree, so the tree's
  // nodes stay in cache; per row, trees are still added in model order, in
  // float, as XGBoost does.
  constexpr size_t kBlockRows = 128;
  for (size_t begin = 0; begin < rows; begin += kBlockRows) {
    const size_t end = std::min(rows, begin + kBlockRows);
    std::fill(margin + begin * groups, margin + end * groups, forest.base_margin);
    for (const internal::FlatTree& tree : forest.trees) {
      for (size_t r = begin; r < end; ++r) {
        margin[r * groups + tree.group] +=
            internal::LeafValue(forest, tree, x + r * stride) * tree.weight;
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
  // Grows to the largest model seen on this thread, then is reused.
  thread_local std::vector<internal::PathElement> path;
  thread_local std::vector<float> tree_phi;
  path.resize(std::max(path.size(), internal::ShapScratchSize(forest.max_depth)));
  tree_phi.resize(std::max(tree_phi.size(), columns));

  std::fill(out, out + forest.num_groups * columns, 0.0f);
  for (const internal::FlatTree& tree : forest.trees) {
    std::fill(tree_phi.begin(), tree_phi.begin() + static_cast<std::ptrdiff_t>(columns), 0.0f);
    internal::AddTreeContributions(forest, tree, row, path.data(), tree_phi.data());
    float* group_out = out + tree.group * columns;
    for (size_t c = 0; c < columns; ++c) group_out[c] += tree_phi[c] * tree.weight;
  }
  for (size_t g = 0; g < forest.num_groups; ++g)
    out[g * columns + columns - 1] += forest.base_margin;
}

}  // namespace sluice::model
