#pragma once
// Ordered decision rules: the first rule whose condition is true decides.
// A null condition does not match (as in SQL WHERE). When no rule matches,
// the default action decides. The decision fills three outputs per record:
// the action (an enum over the pipeline's actions), the rule id (an enum over
// the rule ids and "default") and the reasons (codes with their texts).
//
// Thread safety: immutable after Compile; Decide may run on many batches at once.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

class RuleSet {
 public:
  // Compiles the conditions of `spec.decision` (which must be set) into
  // `compiler` and adds the action and rule columns to `layout`. Returns
  // nullopt and appends diagnostics when anything is wrong.
  // `models` finds the models named in `top(model, k)` reasons.
  static std::optional<RuleSet> Compile(const pipeline::PipelineSpec& spec,
                                        expr::Compiler& compiler, const expr::Scope& scope,
                                        BatchLayout& layout, const ModelLookup& models,
                                        std::vector<Diagnostic>* diags);

  // REQUIRES: the conditions' program has run on `batch`.
  void Decide(Batch& batch) const;

  int action_column() const { return action_column_; }
  int rule_column() const { return rule_column_; }
  const Type& action_type() const { return action_type_; }
  const Type& rule_type() const { return rule_type_; }
  size_t num_rules() const { return rules_.size() - 1; }  // without the default

 private:
  // top(model, k): the reason of each input, by input index.
  struct TopReasons {
    const ContributionSource* model = nullptr;
    size_t count = 0;
    std::vector<Reason> by_input;
  };
  struct Rule {
    int condition_column = -1;  // -1 for the default
    int32_t action = 0;
    std::vector<Reason> reasons;
    std::vector<TopReasons> tops;
  };
  // Appends the top reasons of `row` to the batch, skipping codes already given.
  static void AddTopReasons(const TopReasons& t, Batch& batch, size_t row, uint32_t begin);
  std::vector<Rule> rules_;  // the default last
  int action_column_ = -1;
  int rule_column_ = -1;
  Type action_type_;
  Type rule_type_;
  std::shared_ptr<const std::vector<std::string>> texts_;  // backing store of Reason views
};

}  // namespace sluice::decide
