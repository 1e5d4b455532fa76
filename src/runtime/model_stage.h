#pragma once
// A model bound into a pipeline: gathers the model's inputs from batch
// columns, scores every row and writes the outputs to columns that later
// expressions and rules use:
//  - xgboost: `<model>.score`, `<model>.margin` (one output) or
//    `<model>.class` and `<model>.prob_<k>` (multi-class). Inputs: int64 and
//    float64 as numbers, bool as 0/1, an enum as the index of its value in
//    declaration order; null is a missing value (the trees' default branch).
//  - linear / logistic: `<model>.score` (after the link) and
//    `<model>.margin`. Inputs: int64, float64, bool (0/1); a null input takes
//    its reference value (it contributes nothing).
//  - scorecard: `<model>.score` (base points + the points of every
//    characteristic) and `<model>.points_<input>` per characteristic. Range
//    bins take int64 or float64 inputs; value bins take enum inputs, whose
//    every value must be in a bin unless there is an `else` bin, so every row
//    gets a score.
//
// Thread safety: immutable after Compile; Run may be called concurrently on
// different batches (scratch buffers are per thread).

#include <memory>
#include <optional>
#include <vector>

#include "decide/policy.h"
#include "expr/expr.h"
#include "model/linear_model.h"
#include "model/scorecard.h"
#include "model/tree_ensemble.h"
#include "pipeline/spec.h"
#include "types/batch.h"

namespace sluice::runtime {

class ModelStage final : public decide::ContributionSource {
 public:
  // Loads and checks the model and its input mapping, adds its outputs to
  // `layout` and `scope`. Returns nullopt and appends diagnostics on error.
  static std::optional<ModelStage> Compile(const pipeline::ModelSpec& spec, expr::Scope& scope,
                                           BatchLayout& layout, std::vector<Diagnostic>* diags);

  void Run(Batch& batch) const;
  const std::string& name() const { return name_; }

  // decide::ContributionSource: explains a row's score input by input.
  const std::string& model_name() const override { return name_; }
  const std::vector<std::string>& input_names() const override { return input_names_; }
  bool explainable() const override;
  void RowContributions(const Batch& batch, size_t row, double* out) const override;
  // The tree model; null for a linear model or a scorecard.
  const model::TreeEnsemble* trees() const { return trees_.get(); }
  const model::LinearModel* linear() const { return linear_.get(); }
  const model::Scorecard* scorecard() const { return scorecard_.get(); }
  // The single-output score column, or -1 for multi-class models.
  int score_column() const { return score_column_; }
  // Every output column (score, margin, class, probabilities, points); their
  // layout names are the names expressions use ("risk.score").
  std::vector<int> output_columns() const {
    std::vector<int> out;
    for (int c : {score_column_, margin_column_, class_column_}) {
      if (c >= 0) out.push_back(c);
    }
    out.insert(out.end(), prob_columns_.begin(), prob_columns_.end());
    out.insert(out.end(), points_columns_.begin(), points_columns_.end());
    return out;
  }

 private:
  struct Input {
    int column = -1;
    TypeKind kind = TypeKind::kFloat64;
    // Scorecard value bins: the card's category code of each enum value.
    std::vector<double> codes;
  };
  static std::optional<ModelStage> CompileTrees(const pipeline::ModelSpec& spec, expr::Scope& scope,
                                                BatchLayout& layout,
                                                std::vector<Diagnostic>* diags);
  static std::optional<ModelStage> CompileLinear(const pipeline::ModelSpec& spec,
                                                 expr::Scope& scope, BatchLayout& layout,
                                                 std::vector<Diagnostic>* diags);
  static std::optional<ModelStage> CompileScorecard(const pipeline::ModelSpec& spec,
                                                    expr::Scope& scope, BatchLayout& layout,
                                                    std::vector<Diagnostic>* diags);
  // Gathers the inputs of `rows` rows into x (row-major, inputs_.size() wide).
  void GatherInputs(const Batch& batch, size_t rows, double* x) const;
  void RunTrees(Batch& batch) const;
  void RunLinear(Batch& batch) const;
  void RunScorecard(Batch& batch) const;

  std::string name_;
  std::shared_ptr<const model::TreeEnsemble> trees_;
  std::shared_ptr<const model::LinearModel> linear_;
  std::shared_ptr<const model::Scorecard> scorecard_;
  std::vector<Input> inputs_;  // in the model's input order
  std::vector<std::string> input_names_;
  int score_column_ = -1;   // single output: transformed score
  int margin_column_ = -1;  // single output: raw margin
  int class_column_ = -1;   // multi-class: arg-max class
  std::vector<int> prob_columns_;
  std::vector<int> points_columns_;  // scorecard: per characteristic
};

}  // namespace sluice::runtime
