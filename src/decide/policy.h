#pragma once
// A compiled policy: ordered rules (the first match decides), a decision
// table (hit policies unique, first, priority, any and collect), or a
// scored rule set (every matching rule adds points; thresholds map the total
// to an action). Each policy may choose an action and fills typed outputs.
//
// A policy runs over a whole batch after its expressions (conditions, cells,
// output values) have run: it picks, per record, the branch that decides (a
// rule, a table row, a threshold or the default), writes the action, the
// branch id ("rule"), the points and the outputs into its columns, and its
// reasons into its reason list. Later policies read those columns by name
// ("risk_band.band"), so policies chain.
//
// What the compiler can prove is reported when compiling: a rule that can
// never fire, table rows that overlap under hit policy unique, a table
// without a default that some input falls through, outputs of the wrong
// type. What it cannot prove is a record error at run time (two rows of a
// unique table matching, matching rows of an `any` table that disagree, no
// row matching without a default, an int64 collect sum out of range).
//
// Thread safety: immutable after Compile; Decide may run on many batches at once.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "decide/internal/table_matcher.h"
#include "decide/reason_catalog.h"
#include "expr/expr.h"
#include "pipeline/spec.h"
#include "types/batch.h"

namespace sluice::decide {

inline constexpr std::string_view kDefaultRuleId = "default";

// A model whose score can be explained input by input (implemented by the
// runtime's model stage). Contributions are additive parts of the margin;
// a positive one pushed the score up.
class ContributionSource {
 public:
  virtual ~ContributionSource() = default;
  virtual const std::string& model_name() const = 0;
  // The pipeline names of the model's inputs, in the model's order.
  virtual const std::vector<std::string>& input_names() const = 0;
  // False for models with several outputs (multi-class).
  virtual bool explainable() const = 0;
  // Writes input_names().size() contributions of row `row` to `out`.
  virtual void RowContributions(const Batch& batch, size_t row, double* out) const = 0;
};

using ModelLookup = std::function<const ContributionSource*(std::string_view name)>;

// The contributions computed for the rows of one batch, so that policies
// explaining the same row by the same model (a champion and its shadow
// challenger both declining on the score) compute them once. Clear it
// before each batch.
class ContributionCache {
 public:
  void Clear() {
    index_.clear();
    values_.clear();
  }
  // Writes model.input_names().size() contributions of `row` to `out`.
  void Get(const ContributionSource& model, const Batch& batch, size_t row, double* out);

 private:
  struct Key {
    const ContributionSource* model;
    size_t row;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.model) ^ (k.row * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::unordered_map<Key, size_t, KeyHash> index_;  // -> offset in values_
  std::vector<double> values_;
};

// What compiling a policy uses and extends.
struct PolicyContext {
  const pipeline::PipelineSpec* spec = nullptr;
  expr::Compiler* compiler = nullptr;
  expr::Scope* scope = nullptr;  // gains NAME.action, NAME.rule, NAME.points, NAME.OUTPUT
  BatchLayout* layout = nullptr;
  expr::ErrorTable* errors = nullptr;
  ModelLookup models;
  std::vector<std::string> model_names;  // every model of the pipeline
  ReasonCatalog* catalog = nullptr;
  std::vector<Diagnostic>* diags = nullptr;
  int reason_list = -1;  // the batch reason list to fill; -1: a new one
  std::string section;   // "decision" or "challenger" for those, "" under policies
};

class Policy {
 public:
  struct Output {
    std::string name;
    Type type;
    int column = -1;
  };

  // Compiles `spec`'s expressions into ctx.compiler (the caller's next
  // Finish() gives the program to run before Decide) and adds the policy's
  // columns and a reason list to ctx.layout. Returns nullopt after appending
  // diagnostics.
  static std::optional<Policy> Compile(const pipeline::PolicySpec& spec, PolicyContext& ctx);

  // REQUIRES: the program compiled with this policy has run on `batch`.
  // `cache`: contributions shared with the other policies deciding the
  // same batch (nullptr: computed here).
  void Decide(Batch& batch, ContributionCache* cache = nullptr) const;

  const std::string& name() const { return name_; }
  pipeline::PolicySpec::Kind kind() const { return kind_; }
  bool has_action() const { return action_column_ >= 0; }
  int action_column() const { return action_column_; }
  const Type& action_type() const { return action_type_; }
  int rule_column() const { return rule_column_; }
  const Type& rule_type() const { return rule_type_; }
  int points_column() const { return points_column_; }  // -1 unless scored
  const std::vector<Output>& outputs() const { return outputs_; }
  int reason_list() const { return reason_list_; }
  // Models whose scores or contributions the policy reads, by name.
  const std::vector<std::string>& models() const { return models_; }
  // Rules (or table rows), without thresholds and the default.
  size_t num_rules() const { return num_rules_; }

  // Marks record `row` as not decided by this policy: its action, rule,
  // points and outputs null and no reasons (a challenger that failed on a
  // record it does not act for).
  void ClearRow(Batch& batch, size_t row) const;

  // For audit records: the rules (or table rows) evaluated for record `row`,
  // in order, and those that matched.
  void Trace(const Batch& batch, size_t row, std::vector<std::string_view>* evaluated,
             std::vector<std::string_view>* matched) const;

 private:
  // top(model, k): the reasons of the inputs that pushed the score up most.
  struct TopReasons {
    const ContributionSource* model = nullptr;
    size_t count = 0;             // 0: up to max_reasons
    std::vector<int> input_code;  // per model input: index into codes
    std::vector<int> codes;       // catalog indexes of the groups
  };
  // Where a branch takes an output's value from.
  struct ValueSource {
    int column = -1;  // -1: null
    bool to_float = false;
  };
  // What can decide: a rule, a table row, a threshold, or the default.
  struct Branch {
    std::string id;
    int32_t action = -1;
    int condition = -1;               // rules and scored rules: the bool column
    double points = 0;                // scored rules
    std::vector<ValueSource> values;  // per output
    std::vector<int> codes;           // reason codes (catalog indexes)
    std::vector<TopReasons> tops;
    int32_t priority = 0;  // table rows under hit policy priority: lower wins
  };

  void ChooseRules(const Batch& batch, int32_t* chosen) const;
  void ChooseScored(Batch& batch, int32_t* chosen) const;
  void ChooseTable(Batch& batch, int32_t* chosen, std::vector<uint64_t>& masks) const;
  void WriteOutputs(Batch& batch, const int32_t* chosen, const std::vector<uint64_t>& masks) const;
  void WriteCollected(Batch& batch, const int32_t* chosen,
                      const std::vector<uint64_t>& masks) const;
  void WriteReasons(Batch& batch, const int32_t* chosen, const std::vector<uint64_t>& masks,
                    ContributionCache* cache) const;
  void AddTopReasons(const TopReasons& t, const Batch& batch, size_t row,
                     std::vector<Reason>& reasons, uint32_t begin, size_t limit,
                     ContributionCache* cache) const;

  std::string name_;
  pipeline::PolicySpec::Kind kind_ = pipeline::PolicySpec::Kind::kRules;
  pipeline::HitPolicy hit_ = pipeline::HitPolicy::kFirst;
  pipeline::CollectAggregate aggregate_ = pipeline::CollectAggregate::kNone;
  std::vector<Branch> branches_;  // rules, rows or thresholds; then the default
  bool has_default_ = false;
  std::vector<size_t> by_points_;  // scored: rule branches, most points first
  std::optional<internal::TableMatcher> table_;
  std::vector<Output> outputs_;
  int action_column_ = -1;
  Type action_type_;
  int rule_column_ = -1;
  Type rule_type_;
  int points_column_ = -1;
  int reason_list_ = -1;
  size_t max_reasons_ = 4;
  uint32_t no_match_error_ = 0;               // table without default: no row matched
  uint32_t conflict_error_ = 0;               // unique: several rows; any: different outputs
  std::vector<uint32_t> sum_overflow_error_;  // collect sum: per int64 output
  std::optional<ReasonCatalog> catalog_;      // shares the stage's codes
  std::vector<std::string> models_;
  size_t num_rules_ = 0;
};

}  // namespace sluice::decide
