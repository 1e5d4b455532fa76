#pragma once
// The decision stage: the pipeline's policies in order (each may read the
// outputs of those before it), the champion whose action is the decision,
// and an optional challenger.
//
// A challenger runs in one of two modes. In shadow mode it is evaluated for
// every record and recorded (audit, backtest) while the champion acts. In
// split mode it acts for a share of the records chosen by a stable hash of a
// key (the same key always goes the same way, whatever the batch, the run or
// the machine). Every record names the policy that acted. Only the acting
// policy's record errors reject a record: where the other one fails (a
// shadow challenger, or the side of a split that does not act), its results
// for the record are null.
//
// The decision's columns: action, rule (the rule, row or threshold that
// decided), policy, the champion's outputs, and reason list 0.
//
// Thread safety: immutable after Compile; Run may run on many batches at once.

#include <optional>
#include <string>
#include <vector>

#include "decide/policy.h"
#include "decide/reason_catalog.h"

namespace sluice::decide {

class DecisionStage {
 public:
  // Compiles the policies of `spec` (its `policies`, `decision` and
  // `challenger`); `scope` gains their outputs. Returns nullopt after
  // appending diagnostics.
  static std::optional<DecisionStage> Compile(const pipeline::PipelineSpec& spec,
                                              expr::Compiler& compiler, expr::Scope& scope,
                                              BatchLayout& layout, expr::ErrorTable& errors,
                                              ModelLookup models,
                                              std::vector<std::string> model_names,
                                              std::vector<Diagnostic>* diags);

  // REQUIRES: features and models have run on `batch`.
  void Run(Batch& batch) const;

  // Every policy in the order they run: the `policies`, the champion, the challenger.
  const std::vector<Policy>& policies() const { return policies_; }
  const Policy* champion() const;
  const Policy* challenger() const;
  bool split() const { return split_; }

  // The decision (absent when the pipeline has no `decision`).
  bool has_decision() const { return champion_ >= 0; }
  int action_column() const { return action_column_; }
  const Type& action_type() const { return action_type_; }
  int rule_column() const { return rule_column_; }
  const Type& rule_type() const { return rule_type_; }
  int policy_column() const { return policy_column_; }  // -1 without a challenger
  const std::vector<Policy::Output>& outputs() const { return outputs_; }
  const ReasonCatalog& catalog() const { return catalog_; }

 private:
  explicit DecisionStage(ReasonCatalog catalog) : catalog_(std::move(catalog)) {}

  ReasonCatalog catalog_;
  std::vector<Policy> policies_;
  std::vector<expr::Program> programs_;  // run before policies_[i]
  expr::Program final_program_;          // split keys and reason texts
  int champion_ = -1;
  int challenger_ = -1;
  bool split_ = false;
  uint32_t split_threshold_ = 0;  // of 1,000,000
  uint64_t split_salt_ = 0;
  std::vector<std::pair<int, Type>> split_key_;  // columns hashed
  int action_column_ = -1;
  Type action_type_;
  int rule_column_ = -1;
  Type rule_type_;
  int policy_column_ = -1;
  Type policy_type_;
  std::vector<Policy::Output> outputs_;
  // Split mode: challenger action and rule index -> the decision's.
  std::vector<int32_t> challenger_action_;
  std::vector<int32_t> challenger_rule_;
  std::vector<int32_t> champion_rule_;
  std::vector<int> challenger_output_;  // per output: the challenger's column
};

}  // namespace sluice::decide
