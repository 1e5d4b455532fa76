// Loading of the policy sections: `policies`, `decision` and `challenger`.
// Structure and names are checked here; expressions, types, hit policies
// and the static checks (dead rules, overlapping rows, coverage) are checked
// when the decide module compiles the policies.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "common/names.h"
#include "pipeline/internal/loader.h"

namespace sluice::pipeline::internal {

namespace {

const std::vector<std::string> kPolicyKeys = {"name",    "description", "actions",
                                              "outputs", "rules",       "table",
                                              "scored",  "default",     "max_reasons"};

std::string Trimmed(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return std::string(t);
}

}  // namespace

void Loader::LoadReasonItem(const YAML::Node& v, ReasonsSpec* out) {
  if (v.IsScalar() && v.Scalar().rfind("top(", 0) == 0) {
    // top(MODEL) or top(MODEL, K)
    const std::string& s = v.Scalar();
    const size_t close = s.find(')');
    if (close == std::string::npos || close + 1 != s.size()) {
      Error(v, fmt::format("expected top(model) or top(model, count), found '{}'{}", s,
                           close == std::string::npos
                               ? "; inside [...] write it in quotes: \"top(model, 4)\""
                               : ""));
      return;
    }
    const std::string inner = s.substr(4, close - 4);
    const size_t comma = inner.find(',');
    TopReasonsSpec t;
    t.model = Trimmed(std::string_view(inner).substr(0, comma));
    t.where = Where(v);
    if (!IsIdentifier(t.model)) {
      Error(v, fmt::format("expected a model name in top(model, count), found '{}'", t.model));
      return;
    }
    t.count = 0;  // 0: up to the policy's max_reasons
    if (comma != std::string::npos) {
      const std::string count = Trimmed(std::string_view(inner).substr(comma + 1));
      int k = 0;
      auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), k);
      if (ec != std::errc() || p != count.data() + count.size() || k < 1 || k > 16) {
        Error(v, fmt::format("the count in top(model, count) must be a whole number from 1 to "
                             "16, found '{}'",
                             count));
        return;
      }
      t.count = k;
    }
    out->tops.push_back(std::move(t));
    return;
  }
  if (auto r = Name(v, "a reason code")) out->codes.push_back(*r);
}

void Loader::LoadReasonList(const YAML::Node& parent, std::string_view what, ReasonsSpec* out) {
  YAML::Node one = parent["reason"];
  YAML::Node many = parent["reasons"];
  if (one && many) {
    Error(many, fmt::format("{} has both 'reason' and 'reasons'; use one", what));
    return;
  }
  if (one) {
    if (one.IsSequence()) {
      Error(one,
            fmt::format("'reason' of {} takes one code; write 'reasons: [...]' for several", what));
      return;
    }
    LoadReasonItem(one, out);
  } else if (many) {
    if (many.IsScalar()) {
      LoadReasonItem(many, out);
    } else if (many.IsSequence()) {
      for (const auto& v : many) LoadReasonItem(v, out);
    } else {
      Error(many,
            fmt::format("'reasons' must be a list of reason codes, found {}", NodeKind(many)));
    }
  }
}

void Loader::LoadSet(const YAML::Node& n, std::string_view what,
                     std::vector<OutputValueSpec>* out) {
  if (!CheckMap(n, fmt::format("'set' of {}", what), {})) return;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) continue;
    OutputValueSpec v;
    v.output = kv.first.Scalar();
    v.where = Where(kv.first);
    if (!IsIdentifier(v.output)) {
      Error(kv.first, fmt::format("an output name must be a name, found '{}'", v.output));
      continue;
    }
    if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
      Error(kv.second.IsNull() ? kv.first : kv.second,
            fmt::format("the value of output '{}' in {} must be an expression, found {}", v.output,
                        what, kv.second.IsScalar() ? "an empty text" : NodeKind(kv.second)));
      continue;
    }
    v.value = Expression(kv.second);
    out->push_back(std::move(v));
  }
}

void Loader::LoadRule(const YAML::Node& n, size_t number, PolicySpec& p) {
  const bool scored = p.kind == PolicySpec::Kind::kScored;
  std::vector<std::string> keys = {"id", "when", "reason", "reasons", "description", "set"};
  keys.emplace_back(scored ? "points" : "action");
  if (!CheckMap(n, fmt::format("rule {} of {}", number, policy_label_), keys)) {
    if (!n.IsMap()) return;
  }
  RuleSpec r;
  r.where = Where(n);
  r.number = number;
  if (YAML::Node id = n["id"]; id) {
    if (auto name = Name(id, "a rule id")) r.id = name->name;
  } else {
    Error(n, fmt::format("rule {} of {} needs an 'id'", number, policy_label_));
  }
  // Messages name the rule by its id, or by its position when it has none.
  const std::string rule =
      r.id.empty() ? fmt::format("rule {}", number) : fmt::format("rule '{}'", r.id);
  if (YAML::Node w = n["when"]; w) {
    if (!w.IsScalar() || w.Scalar().empty()) {
      Error(w, fmt::format("'when' of {} must be a condition, found {}", rule,
                           w.IsScalar() ? "an empty text" : NodeKind(w)));
    } else {
      r.when = Expression(w);
    }
  } else {
    Error(n, fmt::format("{} needs a condition ('when')", rule));
  }
  if (scored) {
    if (YAML::Node pts = n["points"]; pts) {
      if (auto v = Number(pts, fmt::format("'points' of {}", rule))) {
        r.points = *v;
        r.points_given = true;
      }
    } else {
      Error(n, fmt::format("{} of a scored rule set needs 'points'", rule));
    }
  } else if (YAML::Node a = n["action"]; a) {
    if (auto name = Name(a, "an action")) r.action = *name;
  } else if (!n["set"]) {
    Error(n, fmt::format("{} needs an 'action' (or 'set' for a policy without actions)", rule));
  }
  LoadReasonList(n, rule, &r.reasons);
  if (YAML::Node s = n["set"]; s) LoadSet(s, rule, &r.set);
  p.rules.push_back(std::move(r));
}

std::optional<Type> Loader::LoadOutputType(const YAML::Node& n, std::string_view what) {
  static const std::vector<std::string> kTypes = {"bool",   "int64",     "float64",
                                                  "string", "timestamp", "enum"};
  // Copy-constructed from the lookups: reset() throws on a missing key, and
  // a default-constructed Node is a (defined) null, not a missing one.
  const YAML::Node type_node = n.IsMap() ? n["type"] : n;
  const YAML::Node values = n.IsMap() ? n["values"] : YAML::Node(YAML::NodeType::Undefined);
  if (n.IsMap()) {
    CheckMap(n, what, {"type", "values", "description"});
    if (!type_node) {
      Error(n, fmt::format("{} has no 'type'; expected one of {}", what, QuotedList(kTypes)));
      return std::nullopt;
    }
  }
  auto name = Scalar(type_node, fmt::format("the type of {}", what));
  if (!name) return std::nullopt;
  Type t;
  if (*name == "bool") {
    t.kind = TypeKind::kBool;
  } else if (*name == "int64") {
    t.kind = TypeKind::kInt64;
  } else if (*name == "float64") {
    t.kind = TypeKind::kFloat64;
  } else if (*name == "string") {
    t.kind = TypeKind::kString;
  } else if (*name == "timestamp") {
    t.kind = TypeKind::kTimestamp;
  } else if (*name == "enum") {
    if (!values || !values.IsSequence() || values.size() == 0) {
      Error(values ? values : type_node,
            fmt::format("{} is an enum: give its values, as {{type: enum, values: [a, b]}}", what));
      return std::nullopt;
    }
    std::vector<std::string> names;
    for (const auto& v : values) {
      auto s = Name(v, "an enum value");
      if (!s) return std::nullopt;
      if (std::find(names.begin(), names.end(), s->name) != names.end()) {
        Error(v, fmt::format("enum value '{}' is listed twice", s->name));
        return std::nullopt;
      }
      names.push_back(s->name);
    }
    return Type::Enum(std::make_shared<const EnumDomain>(names));
  } else {
    std::string hint = DidYouMean(*name, kTypes);
    if (hint.empty()) hint = "; expected one of " + QuotedList(kTypes);
    Error(type_node, fmt::format("unknown type '{}' for {}{}", *name, what, hint));
    return std::nullopt;
  }
  if (values) Error(values, fmt::format("'values' applies to enum outputs; {} is {}", what, *name));
  return t;
}

void Loader::LoadPolicyOutputs(const YAML::Node& n, PolicySpec& p) {
  if (!n.IsMap()) {
    Error(n, fmt::format("'outputs' of {} must be a mapping of output names to types ({{limit: "
                         "float64}}), found {}",
                         policy_label_, NodeKind(n)));
    return;
  }
  if (!CheckMap(n, fmt::format("'outputs' of {}", policy_label_), {})) return;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) continue;
    PolicyOutputSpec o;
    o.name = kv.first.Scalar();
    o.where = Where(kv.first);
    if (!IsIdentifier(o.name)) {
      Error(kv.first, fmt::format("an output name must be a name (letters, digits and '_'), "
                                  "found '{}'",
                                  o.name));
      continue;
    }
    static const std::vector<std::string> kReserved = {"action", "rule", "points", "policy",
                                                       "reasons"};
    if (std::find(kReserved.begin(), kReserved.end(), o.name) != kReserved.end()) {
      Error(kv.first,
            fmt::format("'{}' is a name every policy has; choose another output name", o.name));
      continue;
    }
    auto type = LoadOutputType(kv.second, fmt::format("output '{}'", o.name));
    if (!type) continue;
    o.type = *type;
    p.outputs.push_back(std::move(o));
  }
}

std::optional<std::vector<CellSpec>> Loader::LoadCells(const YAML::Node& n, std::string_view what) {
  std::vector<CellSpec> cells;
  bool ok = true;
  auto one = [&](const YAML::Node& v) {
    CellSpec c;
    if (v.IsNull()) {
      c.text.text = "-";
      c.text.locator = Expression(v).locator;
    } else if (v.IsScalar()) {
      c.text = Expression(v);
    } else {
      Error(v, fmt::format("a cell of {} must be a single value or test (quote it: \"...\"), "
                           "found {}",
                           what, NodeKind(v)));
      ok = false;
      return;
    }
    cells.push_back(std::move(c));
  };
  if (n.IsSequence()) {
    for (const auto& v : n) one(v);
  } else {
    one(n);
  }
  if (!ok) return std::nullopt;
  return cells;
}

namespace {

std::string Count(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

void Loader::LoadTable(const YAML::Node& n, PolicySpec& p) {
  TableSpec& t = p.table;
  t.where = Where(n);
  if (!CheckMap(n, fmt::format("the table of {}", policy_label_),
                {"hit_policy", "aggregate", "inputs", "outputs", "rows"})) {
    if (!n.IsMap()) return;
  }
  if (YAML::Node h = n["hit_policy"]; h) {
    static const std::vector<std::pair<std::string, HitPolicy>> kHits = {
        {"unique", HitPolicy::kUnique},
        {"first", HitPolicy::kFirst},
        {"priority", HitPolicy::kPriority},
        {"any", HitPolicy::kAny},
        {"collect", HitPolicy::kCollect}};
    t.hit_where = Where(h);
    if (auto s = Scalar(h, "'hit_policy'")) {
      std::string lower = *s;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto it = std::find_if(kHits.begin(), kHits.end(),
                             [&](const auto& kv) { return kv.first == lower; });
      if (it == kHits.end()) {
        std::string hint = DidYouMean(lower, {"unique", "first", "priority", "any", "collect"});
        if (hint.empty()) hint = "; expected unique, first, priority, any or collect";
        Error(h, fmt::format("unknown hit policy '{}'{}", *s, hint));
      } else {
        t.hit = it->second;
      }
    }
  } else {
    t.hit_where = Where(n);
  }
  if (YAML::Node a = n["aggregate"]; a) {
    static const std::vector<std::pair<std::string, CollectAggregate>> kAggs = {
        {"sum", CollectAggregate::kSum},
        {"min", CollectAggregate::kMin},
        {"max", CollectAggregate::kMax},
        {"count", CollectAggregate::kCount}};
    if (auto s = Scalar(a, "'aggregate'")) {
      std::string lower = *s;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto it = std::find_if(kAggs.begin(), kAggs.end(),
                             [&](const auto& kv) { return kv.first == lower; });
      if (it == kAggs.end()) {
        std::string hint = DidYouMean(lower, {"sum", "min", "max", "count"});
        if (hint.empty()) hint = "; expected sum, min, max or count";
        Error(a, fmt::format("unknown aggregate '{}'{}", *s, hint));
      } else if (t.hit != HitPolicy::kCollect) {
        Error(a,
              "'aggregate' applies to the collect hit policy only; set 'hit_policy: collect' "
              "or remove it");
      } else {
        t.aggregate = it->second;
      }
    }
  }
  // Rows are checked against the inputs and outputs only when those are right.
  bool shape_ok = true;
  if (YAML::Node in = n["inputs"]; in) {
    if (!in.IsSequence() || in.size() == 0) {
      Error(in, fmt::format("'inputs' of a table must be a non-empty list of expressions, found "
                            "{}",
                            in.IsSequence() ? "an empty list" : NodeKind(in)));
      shape_ok = false;
    } else {
      for (const auto& v : in) {
        if (!v.IsScalar() || v.Scalar().empty()) {
          Error(v, fmt::format("a table input must be an expression, found {}",
                               v.IsScalar() ? "an empty text" : NodeKind(v)));
          shape_ok = false;
          continue;
        }
        t.inputs.push_back(Expression(v));
      }
    }
  } else {
    Error(n, fmt::format("the table of {} needs 'inputs' (the expressions the rows test)",
                         policy_label_));
    shape_ok = false;
  }
  if (YAML::Node out = n["outputs"]; out) {
    if (!out.IsSequence() || out.size() == 0) {
      Error(out, fmt::format("'outputs' of a table must be a non-empty list of names (action "
                             "or the policy's outputs), found {}",
                             out.IsSequence() ? "an empty list" : NodeKind(out)));
      shape_ok = false;
    } else {
      for (const auto& v : out) {
        if (auto name = Name(v, "a table output")) {
          t.columns.push_back(*name);
        } else {
          shape_ok = false;
        }
      }
    }
  } else {
    Error(n, fmt::format("the table of {} needs 'outputs' (the columns each row gives after "
                         "its input cells: action or the policy's outputs)",
                         policy_label_));
    shape_ok = false;
  }
  YAML::Node rows = n["rows"];
  if (!rows) {
    Error(n, fmt::format("the table of {} needs 'rows'", policy_label_));
    return;
  }
  if (!rows.IsSequence()) {
    Error(rows, fmt::format("'rows' of the table of {} must be a list of rows, found {}",
                            policy_label_, NodeKind(rows)));
    return;
  }
  if (rows.size() == 0) {
    Error(rows, fmt::format("the table of {} has no rows", policy_label_));
    return;
  }
  const size_t width = t.inputs.size() + t.columns.size();
  size_t number = 0;
  for (const auto& r : rows) {
    TableRowSpec row;
    row.where = Where(r);
    row.number = ++number;
    const std::string what = fmt::format("row {} of the table of {}", number, policy_label_);
    if (r.IsSequence()) {
      auto cells = LoadCells(r, what);
      if (!cells) continue;
      if (!shape_ok) continue;
      if (cells->size() != width) {
        Error(r, fmt::format("{} has {}; expected {} ({}, then {})", what,
                             Count(cells->size(), "cell", "cells"), width,
                             Count(t.inputs.size(), "input", "inputs"),
                             Count(t.columns.size(), "output", "outputs")));
        continue;
      }
      row.when.assign(cells->begin(), cells->begin() + static_cast<long>(t.inputs.size()));
      row.then.assign(cells->begin() + static_cast<long>(t.inputs.size()), cells->end());
    } else if (r.IsMap()) {
      CheckMap(r, what, {"id", "when", "then", "reason", "reasons", "description"});
      if (YAML::Node id = r["id"]; id) {
        if (auto name = Name(id, "a row id")) row.id = name->name;
      }
      YAML::Node w = r["when"];
      YAML::Node th = r["then"];
      if (!w || !th) {
        Error(r, fmt::format("{} needs {}", what,
                             !w ? "'when' (its input cells)" : "'then' (its output cells)"));
        continue;
      }
      auto when = LoadCells(w, what);
      auto then = LoadCells(th, what);
      if (!when || !then || !shape_ok) continue;
      row.when = std::move(*when);
      row.then = std::move(*then);
      if (row.when.size() != t.inputs.size()) {
        Error(w, fmt::format("{} tests {} in 'when'; the table has {}", what,
                             Count(row.when.size(), "input", "inputs"),
                             Count(t.inputs.size(), "input", "inputs")));
        continue;
      }
      if (row.then.size() != t.columns.size()) {
        Error(th, fmt::format("{} gives {} in 'then'; the table has {}", what,
                              Count(row.then.size(), "value", "values"),
                              Count(t.columns.size(), "output", "outputs")));
        continue;
      }
      LoadReasonList(r, what, &row.reasons);
    } else {
      Error(r, fmt::format("{} must be a list of cells or a mapping with 'when' and 'then', "
                           "found {}",
                           what, NodeKind(r)));
      continue;
    }
    t.rows.push_back(std::move(row));
  }
}

void Loader::LoadThresholds(const YAML::Node& n, PolicySpec& p) {
  if (!n.IsSequence()) {
    Error(n, fmt::format("'thresholds' must be a list of {{at_least: points, action: name}}, "
                         "found {}",
                         NodeKind(n)));
    return;
  }
  for (const auto& v : n) {
    if (!CheckMap(v, "a threshold", {"at_least", "action", "reason", "reasons", "set"})) {
      if (!v.IsMap()) continue;
    }
    ThresholdSpec t;
    t.where = Where(v);
    if (YAML::Node a = v["at_least"]; a) {
      auto x = Number(a, "'at_least'");
      if (!x) continue;
      t.at_least = *x;
    } else {
      Error(v, "a threshold needs 'at_least' (the lowest total that takes it)");
      continue;
    }
    if (YAML::Node a = v["action"]; a) {
      if (auto name = Name(a, "an action")) t.action = *name;
    } else if (!v["set"]) {
      Error(v, "a threshold needs an 'action' (or 'set' for a policy without actions)");
    }
    LoadReasonList(v, "a threshold", &t.reasons);
    if (YAML::Node s = v["set"]; s) LoadSet(s, "a threshold", &t.set);
    bool twice = false;
    for (const auto& other : p.thresholds) {
      if (other.at_least == t.at_least) {
        Error(v, fmt::format("two thresholds at {} points (the other at line {})", t.at_least,
                             other.where.line));
        twice = true;
      }
    }
    if (!twice) p.thresholds.push_back(std::move(t));
  }
  std::stable_sort(
      p.thresholds.begin(), p.thresholds.end(),
      [](const ThresholdSpec& a, const ThresholdSpec& b) { return a.at_least > b.at_least; });
}

void Loader::LoadDefault(const YAML::Node& def, PolicySpec& p) {
  DefaultSpec d;
  d.where = Where(def);
  if (def.IsMap()) {
    CheckMap(def, fmt::format("the default of {}", policy_label_),
             {"action", "reason", "reasons", "set"});
    if (YAML::Node a = def["action"]; a) {
      if (auto name = Name(a, "the default action")) d.action = *name;
    }
    LoadReasonList(def, "the default", &d.reasons);
    if (YAML::Node s = def["set"]; s) LoadSet(s, "the default", &d.set);
  } else if (auto name = Name(def, "the default action")) {
    d.action = *name;
  }
  p.default_value = std::move(d);
}

std::optional<PolicySpec> Loader::LoadPolicy(const YAML::Node& n, std::string_view what,
                                             std::string default_name,
                                             const std::vector<std::string>& extra_keys) {
  std::vector<std::string> keys = kPolicyKeys;
  keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
  if (!CheckMap(n, what, keys)) {
    if (!n.IsMap()) return std::nullopt;
  }
  PolicySpec p;
  p.where = Where(n);
  p.name = std::move(default_name);
  if (YAML::Node name = n["name"]; name) {
    if (auto s = Name(name, "a policy name")) p.name = s->name;
  } else if (p.name.empty()) {
    Error(n, fmt::format("{} needs a 'name'", what));
  }
  policy_label_ = what == "'decision'"     ? std::string("the decision")
                  : what == "'challenger'" ? fmt::format("the challenger '{}'", p.name)
                  : p.name.empty()         ? std::string(what)
                                           : fmt::format("policy '{}'", p.name);
  int bodies = 0;
  for (const char* k : {"rules", "table", "scored"}) bodies += n[k] ? 1 : 0;
  if (bodies == 0) {
    Error(n, fmt::format("{} needs 'rules' (first match decides), 'table' (a decision table) or "
                         "'scored' (a scored rule set)",
                         what));
  } else if (bodies > 1) {
    Error(n, fmt::format("{} has more than one of 'rules', 'table' and 'scored'; a policy is one "
                         "of them (chain several under 'policies')",
                         what));
  }
  if (YAML::Node a = n["actions"]; a) {
    if (!a.IsSequence()) {
      Error(a, fmt::format("'actions' must be a list of action names, found {}", NodeKind(a)));
    } else {
      for (const auto& v : a) {
        if (auto name = Name(v, "an action")) p.actions.push_back(*name);
      }
    }
  }
  if (YAML::Node o = n["outputs"]; o) LoadPolicyOutputs(o, p);
  if (YAML::Node m = n["max_reasons"]; m) {
    auto v = Number(m, "'max_reasons'");
    if (v && (*v < 0 || *v > 64 || *v != static_cast<int>(*v))) {
      Error(m, fmt::format("'max_reasons' must be a whole number from 0 to 64, found {}", *v));
    } else if (v) {
      p.max_reasons = static_cast<int>(*v);
    }
  }
  if (YAML::Node rules = n["rules"]; rules) {
    p.kind = PolicySpec::Kind::kRules;
    if (!rules.IsSequence()) {
      Error(rules, fmt::format("'rules' must be a list of rules, found {}", NodeKind(rules)));
    } else {
      size_t number = 0;
      for (const auto& r : rules) LoadRule(r, ++number, p);
    }
  } else if (YAML::Node t = n["table"]; t) {
    p.kind = PolicySpec::Kind::kTable;
    LoadTable(t, p);
  } else if (YAML::Node s = n["scored"]; s) {
    p.kind = PolicySpec::Kind::kScored;
    if (CheckMap(s, fmt::format("the scored rule set of {}", policy_label_),
                 {"rules", "thresholds"})) {
      if (YAML::Node scored_rules = s["rules"]; scored_rules && scored_rules.IsSequence()) {
        size_t number = 0;
        for (const auto& r : scored_rules) LoadRule(r, ++number, p);
      } else {
        Error(scored_rules ? scored_rules : s,
              fmt::format("the scored rule set of {} needs 'rules', a list of rules with "
                          "'points', found {}",
                          policy_label_, scored_rules ? NodeKind(scored_rules) : "none"));
      }
      if (YAML::Node th = s["thresholds"]; th) LoadThresholds(th, p);
    }
  }
  if (YAML::Node def = n["default"]; def) {
    LoadDefault(def, p);
  } else if (p.kind == PolicySpec::Kind::kRules && bodies > 0) {
    Error(n, fmt::format("{} has no 'default' (taken when no rule matches)", policy_label_));
  } else if (p.kind == PolicySpec::Kind::kScored && !p.thresholds.empty()) {
    Error(n, fmt::format("{} has no 'default' (taken when the total is below every threshold)",
                         policy_label_));
  }
  return p;
}

void Loader::LoadPolicies(const YAML::Node& n, PipelineSpec& spec) {
  if (!n.IsSequence()) {
    Error(n, fmt::format("'policies' must be a list of policies, found {}", NodeKind(n)));
    return;
  }
  std::set<std::string> names;
  for (const auto& v : n) {
    auto p = LoadPolicy(v, "a policy", "", {});
    if (!p) continue;
    if (!p->name.empty() && !names.insert(p->name).second) {
      Error(v, fmt::format("policy name '{}' is used twice", p->name));
      continue;
    }
    spec.policies.push_back(std::move(*p));
  }
}

void Loader::LoadChallenger(const YAML::Node& n, PipelineSpec& spec) {
  auto p = LoadPolicy(n, "'challenger'", "challenger", {"mode", "percent", "split_by", "salt"});
  if (!p) return;
  ChallengerSpec c;
  c.where = Where(n);
  c.policy = std::move(*p);
  if (YAML::Node m = n["mode"]; m) {
    if (auto s = Scalar(m, "'mode'")) {
      if (*s == "shadow") {
        c.mode = ChallengerSpec::Mode::kShadow;
      } else if (*s == "split") {
        c.mode = ChallengerSpec::Mode::kSplit;
      } else {
        Error(m, fmt::format("'mode' of the challenger must be shadow or split, found '{}'", *s));
      }
    }
  } else {
    Error(n,
          "'challenger' needs a 'mode': shadow (recorded, the champion acts) or split (acts "
          "for 'percent' of the traffic)");
  }
  // Keys of split mode are errors only when the mode is surely shadow.
  const bool shadow_given = n["mode"] && n["mode"].IsScalar() && n["mode"].Scalar() == "shadow";
  if (YAML::Node pc = n["percent"]; pc) {
    if (auto v = Number(pc, "'percent'")) {
      if (!(*v > 0 && *v <= 100)) {
        Error(pc, fmt::format("'percent' must be above 0 and at most 100, found {}", *v));
      }
      c.percent = *v;
    }
    if (shadow_given) {
      Error(pc, "'percent' applies to mode split; a shadow challenger sees all traffic");
    }
  }
  if (YAML::Node k = n["split_by"]; k) {
    auto add = [&](const YAML::Node& v) {
      if (!v.IsScalar() || v.Scalar().empty()) {
        Error(v, fmt::format("'split_by' must name expressions, found {}",
                             v.IsScalar() ? "an empty text" : NodeKind(v)));
        return;
      }
      c.key.push_back(Expression(v));
    };
    if (k.IsSequence()) {
      for (const auto& v : k) add(v);
    } else {
      add(k);
    }
    if (shadow_given) {
      Error(k, "'split_by' applies to mode split; a shadow challenger sees all traffic");
    }
  }
  if (YAML::Node s = n["salt"]; s) {
    if (auto v = Scalar(s, "'salt'")) c.salt = *v;
  }
  if (c.mode == ChallengerSpec::Mode::kSplit) {
    if (!n["percent"]) Error(n, "a split challenger needs 'percent' (its share of the traffic)");
    if (c.key.empty()) {
      Error(n,
            "a split challenger needs 'split_by' (the key whose hash assigns each record, "
            "such as card_id)");
    }
  }
  if (spec.decision && spec.decision->name == c.policy.name) {
    Error(n, fmt::format("the challenger has the champion's name '{}'; name it", c.policy.name));
  }
  spec.challenger = std::move(c);
}

}  // namespace sluice::pipeline::internal
