#pragma once
// Ordered decision rules: the first rule whose condition is true decides.
// A null condition does not match (as in SQL WHERE). When no rule matches,
// the default action decides. The decision fills three outputs per record:
// the action (an enum over the pipeline's actions), the rule id (an enum over
// the rule ids and "default") and the reasons (codes with their texts).
//
// Thread safety: immutable after Compile; Decide may run on many batches at once.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "expr/expr.h"
#include "pipeline/spec.h"
#include "types/batch.h"

namespace sluice::decide {

inline constexpr std::string_view kDefaultRuleId = "default";

class RuleSet {
 public:
  // Compiles the conditions of `spec.decision` (which must be set) into
  // `compiler` and adds the action and rule columns to `layout`. Returns
  // nullopt and appends diagnostics when anything is wrong.
  static std::optional<RuleSet> Compile(const pipeline::PipelineSpec& spec,
                                        expr::Compiler& compiler, const expr::Scope& scope,
                                        BatchLayout& layout, std::vector<Diagnostic>* diags);

  // REQUIRES: the conditions' program has run on `batch`.
  void Decide(Batch& batch) const;

  int action_column() const { return action_column_; }
  int rule_column() const { return rule_column_; }
  const Type& action_type() const { return action_type_; }
  const Type& rule_type() const { return rule_type_; }
  size_t num_rules() const { return rules_.size() - 1; }  // without the default

 private:
  struct Rule {
    int condition_column = -1;  // -1 for the default
    int32_t action = 0;
    std::vector<Reason> reasons;
  };
  std::vector<Rule> rules_;  // the default last
  int action_column_ = -1;
  int rule_column_ = -1;
  Type action_type_;
  Type rule_type_;
  std::shared_ptr<const std::vector<std::string>> texts_;  // backing store of Reason views
};

}  // namespace sluice::decide
