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

// `set: {limit: "amount * 2"}`: a value for one of the policy's outputs.
struct OutputValueSpec {
  std::string output;
  ExprText value;
  SourceLocation where;  // of the output's name
};

// The reasons a rule, row, threshold or default gives.
struct ReasonsSpec {
  std::vector<NamedRef> codes;
  std::vector<TopReasonsSpec> tops;  // after the fixed codes
};

struct RuleSpec {
  std::string id;     // "" when missing (an error)
  size_t number = 0;  // 1-based position in 'rules' as written
  ExprText when;
  NamedRef action;  // name "" when the rule gives no action (scored rule sets)
  ReasonsSpec reasons;
  std::vector<OutputValueSpec> set;
  double points = 0;  // scored rule sets
  bool points_given = false;
  SourceLocation where;  // of the rule
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

// A typed output of a policy, besides its action: a limit, a queue.
struct PolicyOutputSpec {
  std::string name;
  Type type;  // bool, int64, float64, string, timestamp or enum (with its values)
  SourceLocation where;
};

// One cell of a decision-table row as written ("< 600", "[1..5)", "-").
struct CellSpec {
  ExprText text;
};

struct TableRowSpec {
  std::string id;              // "" = the row's number
  size_t number = 0;           // 1-based position in 'rows' as written
  std::vector<CellSpec> when;  // one per table input
  std::vector<CellSpec> then;  // one per table output column
  ReasonsSpec reasons;
  SourceLocation where;
};

enum class HitPolicy { kUnique, kFirst, kPriority, kAny, kCollect };
enum class CollectAggregate { kNone, kSum, kMin, kMax, kCount };

struct TableSpec {
  HitPolicy hit = HitPolicy::kUnique;
  CollectAggregate aggregate = CollectAggregate::kNone;
  SourceLocation hit_where;
  std::vector<ExprText> inputs;
  std::vector<NamedRef> columns;  // the output columns the rows give: "action" or outputs
  std::vector<TableRowSpec> rows;
  SourceLocation where;
};

// A threshold of a scored rule set: totals of at least `at_least` points take it.
struct ThresholdSpec {
  double at_least = 0;
  NamedRef action;
  ReasonsSpec reasons;
  std::vector<OutputValueSpec> set;
  SourceLocation where;
};

struct DefaultSpec {
  std::optional<NamedRef> action;
  ReasonsSpec reasons;
  std::vector<OutputValueSpec> set;
  SourceLocation where;
};

// A policy: ordered rules (the first match decides), a decision table, or a
// scored rule set (every matching rule adds points; thresholds map the total
// to an action). Each has an optional action and typed outputs.
struct PolicySpec {
  enum class Kind { kRules, kTable, kScored };
  std::string name;
  Kind kind = Kind::kRules;
  std::vector<NamedRef> actions;  // declared actions; empty = those named
  std::vector<PolicyOutputSpec> outputs;
  std::vector<RuleSpec> rules;  // kRules and kScored
  TableSpec table;
  std::vector<ThresholdSpec> thresholds;  // kScored, highest first
  std::optional<DefaultSpec> default_value;
  int max_reasons = 4;
  SourceLocation where;
};

// A challenger policy: in `split` mode it acts for `percent` of the traffic,
// chosen by a stable hash of `key`; in `shadow` mode it is evaluated and
// recorded while the champion acts.
struct ChallengerSpec {
  PolicySpec policy;
  enum class Mode { kSplit, kShadow };
  Mode mode = Mode::kShadow;
  double percent = 0;       // split: the challenger's share, 0..100
  std::vector<ExprText> key;  // split: the expressions hashed
  std::string salt;           // split: changes the assignment without changing the key
  SourceLocation where;
};

// A reason code: its text (which may quote values: "{amount:.2f}") and the
// model inputs it stands for when reasons come from contributions (by
// default, the input named like the code).
struct ReasonCodeSpec {
  std::string code;
  std::string text;
  std::vector<NamedRef> features;
  SourceLocation where;
  ExprText text_source;  // the text with its file positions, for messages about placeholders
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
  std::vector<PolicySpec> policies;   // feed the decision, in order
  std::optional<PolicySpec> decision;  // the champion: its action is the decision
  std::optional<ChallengerSpec> challenger;
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
