#pragma once
// The pipeline file as written: what `sluice check` validates and what the
// engine is compiled from. The loader checks structure and names; the types
// of expressions are checked when the engine compiles them.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.h"
#include "expr/expr.h"
#include "model/linear_model.h"
#include "model/scorecard.h"
#include "sluice/status.h"
#include "types/timestamp.h"
#include "types/type.h"

namespace sluice::pipeline {

struct FieldSpec {
  std::string name;
  Type type;
  bool nullable = false;
  bool is_id = false;
  bool is_event_time = false;
  TimestampFormat timestamp_format = TimestampFormat::kIso8601;
  SourceLocation where;
};

// An expression as it stands in the file, with a map from its characters to
// file positions.
struct ExprText {
  std::string text;
  std::shared_ptr<const expr::TextLocator> locator;
  SourceLocation where() const { return locator->Locate(0); }
};

struct FeatureSpec {
  std::string name;
  ExprText expression;
  std::string description;
  SourceLocation where;  // of the name
};

struct NamedRef {
  std::string name;
  SourceLocation where;
};

// `top(model, k)` in a reason list: the k inputs that pushed the model's
// score up the most, each given as the reason code named like the input.
struct TopReasonsSpec {
  std::string model;
  int count = 0;
  SourceLocation where;
};

struct RuleSpec {
  std::string id;
  ExprText when;
  NamedRef action;
  std::vector<NamedRef> reasons;
  std::vector<TopReasonsSpec> top_reasons;  // after the fixed reasons
  SourceLocation where;                     // of the rule
};

// Where each part of a scorecard characteristic is written, for messages.
struct BinLocation {
  SourceLocation bin;
  std::vector<SourceLocation> values;  // kValues: each listed value
};
struct CharacteristicLocation {
  SourceLocation input;
  std::vector<BinLocation> bins;
};

// A model the pipeline scores. For xgboost, its inputs are the model's
// features, matched to pipeline fields and features by name unless `inputs`
// says otherwise; linear models and scorecards name their inputs directly.
struct ModelSpec {
  std::string name;
  NamedRef format;            // "xgboost", "linear", "logistic", "scorecard"
  std::string path;           // as written; "" when the model is inline
  std::string resolved_path;  // relative to the pipeline file's folder
  SourceLocation path_where;
  // linear / logistic written in the pipeline (unset with `path`); `link`
  // holds the link also when the coefficients are in a file.
  std::optional<model::LinearDefinition> linear;
  std::vector<SourceLocation> term_where;  // per term: its coefficient's key
  model::Link link = model::Link::kIdentity;
  bool link_given = false;
  SourceLocation link_where;
  // scorecard
  std::optional<model::ScorecardDefinition> scorecard;
  std::vector<CharacteristicLocation> characteristic_where;
  // Explicit mapping: model feature -> pipeline name. With `positional`,
  // the i-th entry feeds the model's i-th feature (model feature "" ).
  std::vector<std::pair<std::string, NamedRef>> inputs;
  bool positional = false;
  SourceLocation where;  // of the name
};

struct DecisionSpec {
  std::vector<RuleSpec> rules;
  std::optional<NamedRef> default_action;
  std::vector<NamedRef> default_reasons;
  std::vector<TopReasonsSpec> default_top_reasons;
  std::vector<NamedRef> actions;  // declared actions; empty = any
  SourceLocation where;
};

struct ReasonCodeSpec {
  std::string code;
  std::string text;
  SourceLocation where;
};

struct PipelineSpec {
  std::string file;          // path as given
  std::string content_hash;  // FNV-1a 64 of the file bytes, hex
  std::string name;
  std::string version;
  std::string description;
  std::vector<FieldSpec> fields;
  std::vector<std::string> null_values = {""};
  std::string input_format;  // "" = from the command line or the extension
  // How long `sluice stream` waits for events that arrive out of order
  // (source.lateness); 0 = events are processed as they arrive.
  int64_t lateness_ns = 0;
  std::string lateness_text = "0";
  std::vector<FeatureSpec> features;
  std::vector<ModelSpec> models;
  std::optional<DecisionSpec> decision;
  std::vector<ReasonCodeSpec> reason_codes;
  std::vector<NamedRef> output_fields;  // empty = id, event time and all features
  bool output_fields_given = false;
  bool output_decision = true;
  // Fields whose declaration has an error, with its line: expressions that
  // use them are told so instead of "unknown name".
  std::vector<std::pair<std::string, int>> invalid_fields;

  const FieldSpec* FindField(std::string_view n) const;
  const ReasonCodeSpec* FindReason(std::string_view code) const;
};

// Reads and structurally validates a pipeline file. Diagnostics are appended
// to `diags`; the spec is returned even when some parts were wrong, so that
// later checks can report more errors in one pass. Returns an error Status
// only when the file cannot be read or is not YAML at all (with a diagnostic).
Result<PipelineSpec> LoadPipelineFile(const std::string& path, std::vector<Diagnostic>* diags);
Result<PipelineSpec> LoadPipelineText(const std::string& text, const std::string& file_name,
                                      std::vector<Diagnostic>* diags);

}  // namespace sluice::pipeline
