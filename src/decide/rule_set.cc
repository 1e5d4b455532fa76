#include "decide/rule_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/names.h"

namespace sluice::decide {

std::optional<RuleSet> RuleSet::Compile(const pipeline::PipelineSpec& spec,
                                        expr::Compiler& compiler, const expr::Scope& scope,
                                        BatchLayout& layout, std::vector<Diagnostic>* diags) {
  const pipeline::DecisionSpec& d = *spec.decision;
  const size_t errors_before = diags->size();

  // Actions: the declared list, or every action named, in order of first use.
  std::vector<std::string> actions;
  for (const auto& a : d.actions) {
    if (std::find(actions.begin(), actions.end(), a.name) != actions.end()) {
      diags->push_back({a.where, fmt::format("action '{}' is declared twice", a.name)});
      continue;
    }
    actions.push_back(a.name);
  }
  const bool declared = !d.actions.empty();
  auto action_index = [&](const pipeline::NamedRef& a) -> int32_t {
    auto it = std::find(actions.begin(), actions.end(), a.name);
    if (it != actions.end()) return static_cast<int32_t>(it - actions.begin());
    if (declared) {
      std::string hint = DidYouMean(a.name, actions);
      if (hint.empty()) hint = "; declared: " + QuotedList(actions);
      diags->push_back(
          {a.where, fmt::format("action '{}' is not in 'decision.actions'{}", a.name, hint)});
      return 0;
    }
    actions.push_back(a.name);
    return static_cast<int32_t>(actions.size()) - 1;
  };

  std::vector<std::string> known_codes;
  for (const auto& r : spec.reason_codes) known_codes.push_back(r.code);
  auto texts = std::make_shared<std::vector<std::string>>();
  struct PendingReason {
    size_t code_index, text_index;
  };
  auto resolve_reasons = [&](const std::vector<pipeline::NamedRef>& refs) {
    std::vector<PendingReason> out;
    for (const auto& ref : refs) {
      const pipeline::ReasonCodeSpec* rc = spec.FindReason(ref.name);
      if (!rc) {
        std::string hint = DidYouMean(ref.name, known_codes);
        diags->push_back(
            {ref.where, fmt::format("unknown reason code '{}'{}", ref.name,
                                    hint.empty() ? "; add it to 'reason_codes'" : hint)});
        continue;
      }
      texts->push_back(rc->code);
      texts->push_back(rc->text);
      out.push_back({texts->size() - 2, texts->size() - 1});
    }
    return out;
  };

  RuleSet set;
  std::vector<std::vector<PendingReason>> pending;
  std::vector<std::string> rule_ids;
  std::set<std::string> seen_ids;
  for (const auto& r : d.rules) {
    if (!r.id.empty() && !seen_ids.insert(r.id).second) {
      diags->push_back({r.where, fmt::format("rule id '{}' is used twice", r.id)});
    }
    if (r.id == kDefaultRuleId) {
      diags->push_back({r.where,
                        "'default' is reserved for the default action; choose another "
                        "rule id"});
    }
    Rule rule;
    if (!r.when.text.empty()) {
      auto compiled =
          compiler.Compile(r.when.text, scope, *r.when.locator, fmt::format("rule {}", r.id),
                           fmt::format("rule {}", r.id), diags);
      if (compiled) {
        if (compiled->type.kind != TypeKind::kBool) {
          diags->push_back(
              {r.when.where(), fmt::format("the condition of rule '{}' must be bool, found {}",
                                           r.id, TypeName(compiled->type))});
        }
        rule.condition_column = compiled->column;
      }
    }
    if (!r.action.name.empty()) rule.action = action_index(r.action);
    pending.push_back(resolve_reasons(r.reasons));
    rule_ids.push_back(r.id);
    set.rules_.push_back(std::move(rule));
  }
  Rule def;
  if (d.default_action) def.action = action_index(*d.default_action);
  pending.push_back(resolve_reasons(d.default_reasons));
  rule_ids.emplace_back(kDefaultRuleId);
  set.rules_.push_back(std::move(def));

  if (diags->size() != errors_before) return std::nullopt;

  // The strings are final now: take views.
  set.texts_ = texts;
  for (size_t i = 0; i < set.rules_.size(); ++i) {
    for (const auto& p : pending[i]) {
      set.rules_[i].reasons.push_back({(*texts)[p.code_index], (*texts)[p.text_index]});
    }
  }
  set.action_type_ = Type::Enum(std::make_shared<const EnumDomain>(actions));
  set.rule_type_ = Type::Enum(std::make_shared<const EnumDomain>(rule_ids));
  set.action_column_ = layout.Add({"action", set.action_type_, std::nullopt});
  set.rule_column_ = layout.Add({"rule", set.rule_type_, std::nullopt});
  return set;
}

void RuleSet::Decide(Batch& batch) const {
  const size_t n = batch.size();
  int32_t* action = batch.column(action_column_).data<int32_t>();
  int32_t* rule = batch.column(rule_column_).data<int32_t>();
  std::fill_n(batch.column(action_column_).valid(), n, 1);
  std::fill_n(batch.column(rule_column_).valid(), n, 1);
  std::fill_n(rule, n, -1);
  // Rules outer, records inner: one pass per rule over flat arrays.
  const size_t last = rules_.size() - 1;
  for (size_t r = 0; r < last; ++r) {
    const Column& c = batch.column(rules_[r].condition_column);
    const uint8_t* v = c.data<uint8_t>();
    const uint8_t* ok = c.valid();
    const int32_t a = rules_[r].action;
    for (size_t i = 0; i < n; ++i) {
      if (rule[i] < 0 && (v[i] & ok[i])) {
        rule[i] = static_cast<int32_t>(r);
        action[i] = a;
      }
    }
  }
  std::vector<Reason>& reasons = batch.reasons();
  uint32_t* begin = batch.reason_begin();
  uint32_t* count = batch.reason_count();
  for (size_t i = 0; i < n; ++i) {
    if (rule[i] < 0) {
      rule[i] = static_cast<int32_t>(last);
      action[i] = rules_[last].action;
    }
    const Rule& fired = rules_[static_cast<size_t>(rule[i])];
    begin[i] = static_cast<uint32_t>(reasons.size());
    count[i] = static_cast<uint32_t>(fired.reasons.size());
    reasons.insert(reasons.end(), fired.reasons.begin(), fired.reasons.end());
  }
}

}  // namespace sluice::decide
