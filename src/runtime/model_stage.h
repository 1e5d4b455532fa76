#pragma once
// A model bound into a pipeline: gathers the model's inputs from batch
// columns, scores every row and writes the outputs to columns that later
// expressions and rules use as `<model>.score`, `<model>.margin` (one
// output) or `<model>.class` and `<model>.prob_<k>` (multi-class).
//
// Inputs: int64 and float64 as numbers, bool as 0/1, an enum as the index of
// its value in declaration order; null is a missing value (the trees'
// default branch).
//
// Thread safety: immutable after Compile; Run may be called concurrently on
// different batches (scratch buffers are per thread).

#include <memory>
#include <optional>
#include <vector>

#include "expr/expr.h"
#include "model/tree_ensemble.h"
#include "pipeline/spec.h"
#include "types/batch.h"

namespace sluice::runtime {

class ModelStage {
 public:
  // Loads and checks the model and its input mapping, adds its outputs to
  // `layout` and `scope`. Returns nullopt and appends diagnostics on error.
  static std::optional<ModelStage> Compile(const pipeline::ModelSpec& spec, expr::Scope& scope,
                                           BatchLayout& layout, std::vector<Diagnostic>* diags);

  void Run(Batch& batch) const;
  const std::string& name() const { return name_; }
  const model::TreeEnsemble& model() const { return *model_; }

 private:
  struct Input {
    int column = -1;
    TypeKind kind = TypeKind::kFloat64;
  };
  std::string name_;
  std::shared_ptr<const model::TreeEnsemble> model_;
  std::vector<Input> inputs_;  // in the model's feature order
  int score_column_ = -1;      // single output: transformed score
  int margin_column_ = -1;     // single output: raw margin
  int class_column_ = -1;      // multi-class: arg-max class
  std::vector<int> prob_columns_;
};

}  // namespace sluice::runtime
