#include "decide/rule_set.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "common/names.h"

namespace sluice::decide {

std::optional<RuleSet> RuleSet::Compile(const pipeline::PipelineSpec& spec,
                                        expr::Compiler& compiler, const expr::Scope& scope,
                                        BatchLayout& layout, const ModelLookup& models,
                                        std::vector<Diagnostic>* diags) {
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

  struct PendingTop {
    const ContributionSource* model;
    size_t count;
    std::vector<PendingReason> by_input;
  };
  auto resolve_tops = [&](const std::vector<pipeline::TopReasonsSpec>& refs) {
    std::vector<PendingTop> out;
    for (const auto& t : refs) {
      const ContributionSource* m = models ? models(t.model) : nullptr;
      if (!m) {
        diags->push_back({t.where, fmt::format("top({}, {}) names no model of this pipeline",
                                               t.model, t.count)});
        continue;
      }
      if (!m->explainable()) {
        diags->push_back({t.where, fmt::format("model '{}' has several outputs; top() explains "
                                               "models with one score",
                                               t.model)});
        continue;
      }
      PendingTop p{m, static_cast<size_t>(t.count), {}};
      std::vector<std::string> missing;
      for (const auto& input : m->input_names()) {
        const pipeline::ReasonCodeSpec* rc = spec.FindReason(input);
        if (!rc) {
          missing.push_back(input);
          continue;
        }
        texts->push_back(rc->code);
        texts->push_back(rc->text);
        p.by_input.push_back({texts->size() - 2, texts->size() - 1});
      }
      if (!missing.empty()) {
        diags->push_back({t.where, fmt::format("top({}, {}) needs a reason code for each input of "
                                               "model '{}'; add {} under 'reason_codes'",
                                               t.model, t.count, t.model,
                                               fmt::format("'{}'", fmt::join(missing, "', '")))});
        continue;
      }
      out.push_back(std::move(p));
    }
    return out;
  };

  RuleSet set;
  std::vector<std::vector<PendingReason>> pending;
  std::vector<std::vector<PendingTop>> pending_tops;
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
    pending_tops.push_back(resolve_tops(r.top_reasons));
    rule_ids.push_back(r.id);
    set.rules_.push_back(std::move(rule));
  }
  Rule def;
  if (d.default_action) def.action = action_index(*d.default_action);
  pending.push_back(resolve_reasons(d.default_reasons));
  pending_tops.push_back(resolve_tops(d.default_top_reasons));
  rule_ids.emplace_back(kDefaultRuleId);
  set.rules_.push_back(std::move(def));

  if (diags->size() != errors_before) return std::nullopt;

  // The strings are final now: take views.
  set.texts_ = texts;
  for (size_t i = 0; i < set.rules_.size(); ++i) {
    for (const auto& p : pending[i]) {
      set.rules_[i].reasons.push_back({(*texts)[p.code_index], (*texts)[p.text_index]});
    }
    for (const auto& t : pending_tops[i]) {
      TopReasons top{t.model, t.count, {}};
      for (const auto& p : t.by_input) {
        top.by_input.push_back({(*texts)[p.code_index], (*texts)[p.text_index]});
      }
      set.rules_[i].tops.push_back(std::move(top));
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
    reasons.insert(reasons.end(), fired.reasons.begin(), fired.reasons.end());
    // Contributions are computed only for the rows whose rule asks for them.
    for (const TopReasons& t : fired.tops) AddTopReasons(t, batch, i, begin[i]);
    count[i] = static_cast<uint32_t>(reasons.size() - begin[i]);
  }
}

void RuleSet::AddTopReasons(const TopReasons& t, Batch& batch, size_t row, uint32_t begin) {
  const size_t n = t.by_input.size();
  thread_local std::vector<double> contribution;
  thread_local std::vector<uint32_t> order;
  contribution.resize(n);
  t.model->RowContributions(batch, row, contribution.data());
  order.resize(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  // Largest push towards a higher score first; ties keep the input order.
  std::stable_sort(order.begin(), order.end(),
                   [](uint32_t a, uint32_t b) { return contribution[a] > contribution[b]; });
  std::vector<Reason>& reasons = batch.reasons();
  size_t given = 0;
  for (size_t k = 0; k < n && given < t.count; ++k) {
    const uint32_t i = order[k];
    if (!(contribution[i] > 0)) break;
    const Reason& r = t.by_input[i];
    bool seen = false;
    for (size_t j = begin; j < reasons.size(); ++j) seen |= reasons[j].code == r.code;
    if (seen) continue;
    reasons.push_back(r);
    ++given;
  }
}

}  // namespace sluice::decide
