#include "model/tree_ensemble.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "model/internal/forest.h"
#include "model/internal/scoring.h"
#include "model/internal/tree_shap.h"
#include "model/internal/xgboost_json.h"

namespace sluice::model {

struct TreeEnsemble::Impl {
  internal::Forest forest;
  internal::ScoringForest scoring;  // for PredictMargin; empty for gblinear
  internal::Kernel kernel = internal::Kernel::kScalar;
  internal::ShapPaths shap;         // for Contributions; empty for gblinear
};

namespace {

// The fastest kernel this processor runs, unless SLUICE_MODEL_KERNEL names
// another one it runs ("scalar", "avx2", "avx512"): for measuring, and for
// ruling the SIMD kernels out when a result looks wrong.
internal::Kernel ScoringKernel() {
  const char* wanted = std::getenv("SLUICE_MODEL_KERNEL");
  if (wanted != nullptr) {
    for (internal::Kernel k :
         {internal::Kernel::kScalar, internal::Kernel::kAvx2, internal::Kernel::kAvx512}) {
      if (std::string_view(wanted) == internal::KernelName(k) && internal::KernelSupported(k)) {
        return k;
      }
    }
  }
  return internal::BestKernel();
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
  if (!model->impl_->forest.linear) {
    model->impl_->scoring = internal::BuildScoringForest(model->impl_->forest);
    model->impl_->kernel = ScoringKernel();
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
std::string_view TreeEnsemble::scoring_kernel() const {
  return internal::KernelName(impl_->kernel);
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
  internal::PredictForestMargin(forest, impl_->scoring, impl_->kernel, x, rows, stride, margin);
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
