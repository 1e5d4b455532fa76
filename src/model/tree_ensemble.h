#pragma once
// XGBoost models (XGBoost JSON): tree ensembles (gbtree, dart), compiled
// into flat node arrays for fast scoring, with exact path-dependent TreeSHAP
// contributions; and linear boosters (gblinear), with contributions
// weight * value.
//
// Thread safety: a TreeEnsemble is immutable after loading and may be used
// by many threads at once.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"

namespace sluice::model {

enum class Objective : uint8_t {
  kBinaryLogistic,  // binary:logistic, reg:logistic: score = sigmoid(margin)
  kBinaryLogitRaw,  // binary:logitraw: score = margin
  kSquaredError,    // reg:squarederror, reg:pseudohubererror, reg:absoluteerror: score = margin
  kPoisson,         // count:poisson (and other log links): score = exp(margin)
  kSoftprob,        // multi:softprob: per-class probabilities (softmax)
  kSoftmax,         // multi:softmax: the arg-max class
  kRank,            // rank:*: score = margin
};

class TreeEnsemble {
 public:
  // Loads a model written by XGBoost's save_model as JSON (1.x and 2.x).
  // Every malformed, truncated or hostile file gives an error naming the
  // path and what is wrong; nothing crashes.
  static Result<std::shared_ptr<const TreeEnsemble>> LoadXgboostJson(const std::string& path);
  static Result<std::shared_ptr<const TreeEnsemble>> ParseXgboostJson(std::string_view json,
                                                                      const std::string& name);

  // "gbtree", "dart" or "gblinear" (a linear booster: no trees; see
  // PredictMargin and Contributions).
  std::string_view booster() const;
  // Feature names stored in the model ("" entries when it has none).
  const std::vector<std::string>& feature_names() const;
  size_t num_features() const;
  // 1 for binary and regression, the number of classes for multi:*.
  size_t num_groups() const;
  Objective objective() const;
  std::string_view objective_name() const;
  size_t num_trees() const;  // 0 for gblinear
  // Values per row that Transform writes: 1 for multi:softmax (the class
  // index), num_groups() otherwise.
  size_t num_outputs() const;
  // base_score converted to margin space by the objective's inverse link
  // (logit for logistic objectives, log for count:poisson and other log links).
  float base_margin() const;

  // Margins of `rows` rows. Row r's features are x[r * stride + f], float32,
  // NaN meaning missing. Writes margin[r * num_groups() + g]. Computed in
  // float, tree by tree in model order, as XGBoost does; rows are processed in
  // blocks so each tree stays in cache (see docs/models.md, "How trees are
  // scored"). For gblinear, group g's margin is bias_g + base_margin() + the
  // sum of weight_fg * x_f in feature order, a missing x_f adding nothing,
  // again in float as XGBoost does. Allocates nothing; uses about 34 KiB of
  // stack. REQUIRES: stride >= num_features().
  void PredictMargin(const float* x, size_t rows, size_t stride, float* margin) const;
  // Applies the objective's link to margins of `rows` rows (num_groups() each),
  // writing num_outputs() values per row: sigmoid, exp, softmax, the arg-max
  // class for multi:softmax, or the margin itself.
  void Transform(const float* margin, size_t rows, float* out) const;
  // Exact path-dependent TreeSHAP for one row: out[g * (num_features() + 1) + f],
  // the last entry of each group being the bias; each group sums to its margin.
  // The bias is base_margin() plus each tree's cover-weighted mean leaf value.
  // Scratch space is thread_local and grows to the deepest model used on the
  // calling thread; after that, calls allocate nothing. For gblinear, as
  // XGBoost's pred_contribs: weight_fg * x_f (0 for a missing x_f), and the
  // bias bias_g + base_margin().
  void Contributions(const float* row, float* out) const;
  // Bytes of the tables that Contributions precomputed at load (Fast TreeSHAP
  // v2 values for trees whose paths have at most 6 unique features each), at
  // most 16 MiB; 0 for gblinear and for models of deeper trees only.
  size_t contribution_table_bytes() const;
  // The instruction set PredictMargin's tree walks use: "avx512", "avx2" or
  // "scalar" (and "scalar" for gblinear), the fastest this processor runs
  // unless the environment variable SLUICE_MODEL_KERNEL named another one it
  // runs when the model was loaded. The margins are the same whichever.
  std::string_view scoring_kernel() const;

  ~TreeEnsemble();

 private:
  TreeEnsemble();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::model
