#pragma once
// Engine: a pipeline compiled for execution. It fixes the batch layout,
// holds the compiled feature code and decision rules, and processes batches
// in place. One code path serves every mode: `sluice run` drives it with
// batches read from a file; streaming and serving will drive the same
// Process() with smaller batches.
//
// Windowed features keep their state outside the Engine, in a
// features::FeatureState made by NewFeatureState(): one per run, holding a
// reference to the Engine (which must outlive it).
//
// Thread safety: immutable after Compile; Process() may run concurrently on
// different batches with different feature states.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decide/decision_stage.h"
#include "expr/expr.h"
#include "features/feature_state.h"
#include "io/record_io.h"
#include "pipeline/spec.h"
#include "runtime/model_stage.h"
#include "types/batch.h"

namespace sluice::runtime {

class Engine {
 public:
  // Compiles `spec`. Returns nullptr and appends diagnostics if anything in
  // the pipeline is wrong.
  static std::shared_ptr<const Engine> Compile(pipeline::PipelineSpec spec,
                                               std::vector<Diagnostic>* diags);

  const pipeline::PipelineSpec& spec() const { return spec_; }
  const BatchLayout& layout() const { return layout_; }
  const std::vector<io::SourceField>& source_fields() const { return source_fields_; }
  io::SourceOptions source_options() const;
  // The output columns for a format (CSV spreads reasons over two columns).
  std::vector<io::OutputColumn> OutputColumns(io::Format format) const;
  const expr::ErrorTable& errors() const { return errors_; }
  // The policies and the decision, or nullptr when the pipeline has none.
  const decide::DecisionStage* decision() const { return decision_ ? &*decision_ : nullptr; }
  const std::vector<ModelStage>& models() const { return models_; }
  // The features, in order, with their result columns.
  const std::vector<std::pair<std::string, int>>& feature_columns() const {
    return feature_columns_;
  }

  // The state windowed features need, or nullptr if the pipeline has none.
  std::unique_ptr<features::FeatureState> NewFeatureState() const;
  bool has_windows() const { return !windows_->empty(); }
  const features::FeatureSet& windows() const { return *windows_; }

  // Evaluates features, models and the decision for every row of `batch`.
  // Rows must come in canonical order (event time, then arrival).
  // REQUIRES: state != nullptr if has_windows().
  // `times`, if given, gains the CPU seconds of each stage.
  struct StageTimes {
    double features = 0, models = 0, decisions = 0;
  };
  void Process(Batch& batch, features::FeatureState* state, StageTimes* times = nullptr) const;

 private:
  Engine() = default;

  pipeline::PipelineSpec spec_;
  BatchLayout layout_;
  expr::ErrorTable errors_;
  std::vector<io::SourceField> source_fields_;
  std::unique_ptr<features::FeatureSet> windows_;
  expr::Program features_;
  std::vector<ModelStage> models_;
  std::optional<decide::DecisionStage> decision_;
  std::vector<std::pair<std::string, int>> value_outputs_;  // name, column
  std::vector<std::pair<std::string, int>> feature_columns_;
};

}  // namespace sluice::runtime
