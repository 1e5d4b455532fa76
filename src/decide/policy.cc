#include "decide/policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <set>

#include "common/names.h"
#include "decide/internal/rule_analysis.h"

namespace sluice::decide {

namespace {

using pipeline::CollectAggregate;
using pipeline::HitPolicy;
using Kind = pipeline::PolicySpec::Kind;

std::string_view TrimText(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

bool IsName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// Whether `text` mentions `name.` as a whole word (a model output).
bool Mentions(std::string_view text, std::string_view name) {
  size_t at = 0;
  while ((at = text.find(name, at)) != std::string_view::npos) {
    const bool start = at == 0 || !(std::isalnum(static_cast<unsigned char>(text[at - 1])) ||
                                    text[at - 1] == '_' || text[at - 1] == '.');
    const size_t end = at + name.size();
    if (start && end < text.size() && text[end] == '.') return true;
    at = end;
  }
  return false;
}

std::string TopText(const pipeline::TopReasonsSpec& t) {
  return t.count > 0 ? fmt::format("top({}, {})", t.model, t.count)
                     : fmt::format("top({})", t.model);
}

std::string_view HitName(HitPolicy h) {
  switch (h) {
    case HitPolicy::kUnique:
      return "unique";
    case HitPolicy::kFirst:
      return "first";
    case HitPolicy::kPriority:
      return "priority";
    case HitPolicy::kAny:
      return "any";
    case HitPolicy::kCollect:
      return "collect";
  }
  return "";
}

bool SameValue(const Column& a, const Column& b, size_t row, const Type& type) {
  const bool va = a.is_valid(row), vb = b.is_valid(row);
  if (!va || !vb) return va == vb;
  switch (type.kind) {
    case TypeKind::kBool:
      return a.data<uint8_t>()[row] == b.data<uint8_t>()[row];
    case TypeKind::kEnum:
      return a.data<int32_t>()[row] == b.data<int32_t>()[row];
    case TypeKind::kFloat64:
      return a.data<double>()[row] == b.data<double>()[row];
    case TypeKind::kString:
      return a.data<std::string_view>()[row] == b.data<std::string_view>()[row];
    default:
      return a.data<int64_t>()[row] == b.data<int64_t>()[row];
  }
}

double NumberAt(const Column& c, size_t row, bool is_int) {
  return is_int ? static_cast<double>(c.data<int64_t>()[row]) : c.data<double>()[row];
}

// Whether two values of one output are equal in row `row`; `a_int` and
// `b_int` say which come from int64 columns widened into a float64 output.
bool SameOutput(const Column& a, bool a_int, const Column& b, bool b_int, size_t row) {
  if (a_int == b_int) return SameValue(a, b, row, a.type());
  const bool va = a.is_valid(row), vb = b.is_valid(row);
  if (!va || !vb) return va == vb;
  return NumberAt(a, row, a_int) == NumberAt(b, row, b_int);
}

// `text` as a literal of type `type` ("1000", "0.5", "'manual'", "true"),
// or nullopt when it is anything else (an expression, a null).
std::optional<Value> ParseLiteral(std::string_view text, const Type& type) {
  if (text.empty()) return std::nullopt;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  switch (type.kind) {
    case TypeKind::kInt64:
    case TypeKind::kFloat64: {
      if (!(std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '-' ||
            text.front() == '.')) {
        return std::nullopt;
      }
      int64_t i = 0;
      if (auto [p, ec] = std::from_chars(begin, end, i); ec == std::errc() && p == end) {
        return type.kind == TypeKind::kInt64 ? Value::Int64(i)
                                             : Value::Float64(static_cast<double>(i));
      }
      if (type.kind == TypeKind::kInt64) return std::nullopt;
      if (text.find_first_not_of("0123456789.eE+-") != std::string_view::npos) return std::nullopt;
      double d = 0;
      if (auto [p, ec] = std::from_chars(begin, end, d);
          ec == std::errc() && p == end && std::isfinite(d)) {
        return Value::Float64(d);
      }
      return std::nullopt;
    }
    case TypeKind::kBool:
      if (text == "true" || text == "false") return Value::Bool(text == "true");
      return std::nullopt;
    case TypeKind::kString: {
      if (text.size() < 2 || text.front() != '\'' || text.back() != '\'') return std::nullopt;
      std::string v;
      for (size_t i = 1; i + 1 < text.size(); ++i) {
        if (text[i] == '\'') {
          if (i + 2 >= text.size() || text[i + 1] != '\'') return std::nullopt;
          ++i;
        }
        v += text[i];
      }
      return Value::String(std::move(v));
    }
    default:
      return std::nullopt;
  }
}

// out[i] = row i of the column of the branch chosen for record i (data[b],
// ok[b]; data[b] == nullptr: null).
template <typename T>
void Gather(size_t n, const int32_t* chosen, const void* const* data, const uint8_t* const* ok,
            T* out, uint8_t* out_ok) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t b = chosen[i];
    const T* d = b < 0 ? nullptr : static_cast<const T*>(data[b]);
    if (d == nullptr) {
      out_ok[i] = 0;
      continue;
    }
    out[i] = d[i];
    out_ok[i] = ok[b][i];
  }
}

// Gather into a float64 output from branches whose values are float64 or,
// where widen[b], int64.
void GatherWidened(size_t n, const int32_t* chosen, const void* const* data,
                   const uint8_t* const* ok, const uint8_t* widen, double* out, uint8_t* out_ok) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t b = chosen[i];
    if (b < 0 || data[b] == nullptr) {
      out_ok[i] = 0;
      continue;
    }
    out[i] = widen[b] ? static_cast<double>(static_cast<const int64_t*>(data[b])[i])
                      : static_cast<const double*>(data[b])[i];
    out_ok[i] = ok[b][i];
  }
}

// Whether two constants are the same value of an output.
bool SameConstant(const Value& a, const Value& b) {
  if (a.is_null || b.is_null) return a.is_null == b.is_null;
  switch (a.type.kind) {
    case TypeKind::kBool:
      return a.b == b.b;
    case TypeKind::kFloat64:
      return a.f == b.f;
    case TypeKind::kString:
      return a.s == b.s;
    default:
      return a.i == b.i;
  }
}

}  // namespace

std::optional<Policy> Policy::Compile(const pipeline::PolicySpec& spec, PolicyContext& ctx) {
  std::vector<Diagnostic>* diags = ctx.diags;
  const size_t errors_before = diags->size();
  Policy p;
  p.name_ = spec.name;
  p.kind_ = spec.kind;
  p.hit_ = spec.table.hit;
  p.aggregate_ = spec.table.aggregate;
  p.max_reasons_ = static_cast<size_t>(spec.max_reasons);
  p.catalog_ = *ctx.catalog;
  const std::string& pname = spec.name;
  // How messages name the policy: "policy 'band'", "the decision", "the
  // challenger 'strict'".
  const std::string label = ctx.section == "decision" ? std::string("the decision")
                            : ctx.section == "challenger"
                                ? fmt::format("the challenger '{}'", pname)
                                : fmt::format("policy '{}'", pname);
  const bool table = spec.kind == Kind::kTable;
  const bool collect = table && spec.table.hit == HitPolicy::kCollect;

  // Actions: the declared list, or every action named, in order of first use.
  std::vector<std::string> actions;
  for (const auto& a : spec.actions) {
    if (std::find(actions.begin(), actions.end(), a.name) != actions.end()) {
      diags->push_back({a.where, fmt::format("action '{}' is declared twice", a.name)});
      continue;
    }
    actions.push_back(a.name);
  }
  const bool declared = !spec.actions.empty();
  auto action_index = [&](const pipeline::NamedRef& a) -> int32_t {
    auto it = std::find(actions.begin(), actions.end(), a.name);
    if (it != actions.end()) return static_cast<int32_t>(it - actions.begin());
    if (declared) {
      std::string hint = DidYouMean(a.name, actions);
      if (hint.empty()) hint = "; declared: " + QuotedList(actions);
      diags->push_back(
          {a.where,
           fmt::format("action '{}' is not in {}{}", a.name,
                       ctx.section.empty() ? fmt::format("the 'actions' of policy '{}'", pname)
                                           : fmt::format("'{}.actions'", ctx.section),
                       hint)});
      return -1;
    }
    actions.push_back(a.name);
    return static_cast<int32_t>(actions.size()) - 1;
  };

  // Outputs.
  for (const auto& o : spec.outputs) {
    for (const auto& prev : p.outputs_) {
      if (prev.name == o.name)
        diags->push_back({o.where, fmt::format("output '{}' is declared twice", o.name)});
    }
    Output out{o.name, o.type, -1};
    p.outputs_.push_back(std::move(out));
  }
  for (Output& o : p.outputs_) {
    o.column = ctx.layout->Add({pname + "." + o.name, o.type, std::nullopt});
  }
  auto find_output = [&](std::string_view name) -> int {
    for (size_t i = 0; i < p.outputs_.size(); ++i) {
      if (p.outputs_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };

  // A value for output `o` from an expression (or a bare enum value).
  auto compile_value = [&](const pipeline::ExprText& text, size_t o,
                           std::string_view what) -> std::optional<ValueSource> {
    const Output& out = p.outputs_[o];
    std::string_view t = TrimText(text.text);
    if (out.type.kind == TypeKind::kEnum) {
      std::string_view name = t;
      if (name.size() >= 2 && (name.front() == '\'' || name.front() == '"') &&
          name.back() == name.front()) {
        name = name.substr(1, name.size() - 2);
      }
      if (IsName(name) || name != t) {
        const int32_t idx = out.type.domain->Find(name);
        if (idx >= 0) {
          int col = ctx.layout->Add({pname + "." + out.name, out.type, Value::Enum(out.type, idx)});
          return ValueSource{col, false};
        }
        if (name != t || ctx.scope->Find(name) == nullptr) {
          diags->push_back(
              {text.where(), fmt::format("'{}' is not a value of output '{}' ({}) "
                                         "in {}{}",
                                         name, out.name, TypeName(out.type), what,
                                         DidYouMean(name, out.type.domain->values()))});
          return std::nullopt;
        }
      }
    }
    // A literal becomes a constant column: no per-record work, and the
    // static checks can compare it.
    if (auto v = ParseLiteral(t, out.type)) {
      return ValueSource{ctx.layout->Add({pname + "." + out.name, out.type, std::move(*v)}), false};
    }
    auto compiled = ctx.compiler->Compile(text.text, *ctx.scope, *text.locator,
                                          fmt::format("{}.{}", pname, out.name),
                                          fmt::format("{}, output {}", label, out.name), diags);
    if (!compiled) return std::nullopt;
    const Type& vt = compiled->type;
    if (vt.kind == TypeKind::kNull) return ValueSource{-1, false};
    if (vt == out.type) return ValueSource{compiled->column, false};
    if (out.type.kind == TypeKind::kFloat64 && vt.kind == TypeKind::kInt64) {
      return ValueSource{compiled->column, true};
    }
    std::string hint;
    if (out.type.kind == TypeKind::kInt64 && vt.kind == TypeKind::kFloat64) {
      hint = "; convert it with to_int(round(...)) or declare the output float64";
    } else if (out.type.kind == TypeKind::kString) {
      hint = "; convert it with to_string(...)";
    } else if (out.type.kind == TypeKind::kEnum) {
      hint = fmt::format("; give one of its values by name ({}: {}) or a value of the same enum",
                         out.name, out.type.domain->Name(0));
    }
    diags->push_back(
        {text.where(), fmt::format("output '{}' of {} is {}; the value in "
                                   "{} is {}{}",
                                   out.name, label, TypeName(out.type), what, TypeName(vt), hint)});
    return std::nullopt;
  };

  // Values from `set`, per output (nullopt: not set here).
  auto compile_set = [&](const std::vector<pipeline::OutputValueSpec>& set, std::string_view what) {
    std::vector<std::optional<ValueSource>> values(p.outputs_.size());
    for (const auto& v : set) {
      const int o = find_output(v.output);
      if (o < 0) {
        std::vector<std::string> names;
        for (const auto& out : p.outputs_) names.push_back(out.name);
        std::string hint = DidYouMean(v.output, names);
        if (hint.empty()) {
          hint = names.empty() ? fmt::format("; declare it under 'outputs' of {}", label)
                               : "; outputs: " + QuotedList(names);
        }
        diags->push_back({v.where, fmt::format("{} has no output '{}'{}", label, v.output, hint)});
        continue;
      }
      values[static_cast<size_t>(o)] = compile_value(v.value, static_cast<size_t>(o), what);
    }
    return values;
  };

  auto resolve_codes = [&](const pipeline::ReasonsSpec& r, Branch& b) {
    for (const auto& c : r.codes) {
      const int i = ctx.catalog->Resolve(c, diags);
      if (i >= 0) b.codes.push_back(i);
    }
    for (const auto& t : r.tops) {
      const ContributionSource* m = ctx.models ? ctx.models(t.model) : nullptr;
      if (!m) {
        diags->push_back({t.where, fmt::format("{} names no model of this pipeline{}", TopText(t),
                                               DidYouMean(t.model, ctx.model_names))});
        continue;
      }
      if (!m->explainable()) {
        diags->push_back({t.where, fmt::format("model '{}' has several outputs; top() explains "
                                               "models with one score",
                                               t.model)});
        continue;
      }
      std::vector<int> codes = ctx.catalog->CodesForInputs(m->input_names());
      std::vector<std::string> missing;
      TopReasons top;
      top.model = m;
      top.count = static_cast<size_t>(t.count);
      for (size_t i = 0; i < codes.size(); ++i) {
        if (codes[i] < 0) {
          missing.push_back(m->input_names()[i]);
          continue;
        }
        auto it = std::find(top.codes.begin(), top.codes.end(), codes[i]);
        if (it == top.codes.end()) {
          top.codes.push_back(codes[i]);
          it = top.codes.end() - 1;
        }
        top.input_code.push_back(static_cast<int>(it - top.codes.begin()));
      }
      if (!missing.empty()) {
        diags->push_back(
            {t.where,
             fmt::format("{} needs a reason code for each input of model '{}'; add "
                         "{} under 'reason_codes' (or list them in the 'features' of a "
                         "code)",
                         TopText(t), t.model, fmt::format("'{}'", fmt::join(missing, "', '")))});
        continue;
      }
      if (std::find(p.models_.begin(), p.models_.end(), t.model) == p.models_.end()) {
        p.models_.push_back(t.model);
      }
      b.tops.push_back(std::move(top));
    }
  };
  auto note_models = [&](std::string_view text) {
    for (const auto& m : ctx.model_names) {
      if (Mentions(text, m) &&
          std::find(p.models_.begin(), p.models_.end(), m) == p.models_.end()) {
        p.models_.push_back(m);
      }
    }
  };
  // A rule by its id, or by its position when it has none (a loader error).
  auto rule_name = [](const pipeline::RuleSpec& r) {
    return r.id.empty() ? fmt::format("rule {}", r.number) : fmt::format("rule '{}'", r.id);
  };
  auto compile_condition = [&](const pipeline::RuleSpec& r) -> std::optional<expr::CompiledExpr> {
    if (r.when.text.empty()) return std::nullopt;
    note_models(r.when.text);
    auto compiled = ctx.compiler->Compile(r.when.text, *ctx.scope, *r.when.locator,
                                          fmt::format("{} rule {}", pname, r.id),
                                          fmt::format("{}, rule {}", label, r.id), diags);
    if (compiled && compiled->type.kind != TypeKind::kBool) {
      diags->push_back({r.when.where(), fmt::format("the condition of {} must be bool, found {}",
                                                    rule_name(r), TypeName(compiled->type))});
      return std::nullopt;
    }
    return compiled;
  };

  // Whether each branch names an action (resolved or not), so that a wrong
  // action name is reported once.
  std::vector<bool> names_action;
  // Branches, with their values per output (nullopt: take the default's).
  std::vector<std::vector<std::optional<ValueSource>>> set_values;
  std::vector<SourceLocation> branch_where;
  std::vector<std::string> branch_label;  // "rule 'big'", "row 3", "the default"
  std::set<std::string> ids;
  auto add_branch = [&](Branch b, std::vector<std::optional<ValueSource>> values,
                        const SourceLocation& where, std::string what) {
    if (!b.id.empty() && b.id != kDefaultRuleId && !ids.insert(b.id).second) {
      diags->push_back(
          {where, fmt::format("{} id '{}' is used twice{}", table ? "row" : "rule", b.id,
                              ctx.section.empty() ? fmt::format(" in policy '{}'", pname)
                                                  : std::string())});
    }
    names_action.push_back(false);
    p.branches_.push_back(std::move(b));
    set_values.push_back(std::move(values));
    branch_where.push_back(where);
    branch_label.push_back(std::move(what));
  };

  std::vector<std::optional<expr::CompiledExpr>> conditions;
  size_t num_rules = 0;  // scored: rule branches before the thresholds
  if (spec.kind == Kind::kRules || spec.kind == Kind::kScored) {
    for (const auto& r : spec.rules) {
      if (r.id == kDefaultRuleId) {
        diags->push_back({r.where,
                          "'default' is reserved for the default; choose another rule "
                          "id"});
      }
      Branch b;
      b.id = r.id;
      auto cond = compile_condition(r);
      if (cond) b.condition = cond->column;
      conditions.push_back(cond);
      const bool named = !r.action.name.empty() || r.set.empty();
      if (!r.action.name.empty()) b.action = action_index(r.action);
      b.points = r.points;
      resolve_codes(r.reasons, b);
      for (const auto& v : r.set) note_models(v.value.text);
      auto values = compile_set(r.set, rule_name(r));
      if (spec.kind == Kind::kScored && !r.set.empty()) {
        diags->push_back({r.where, fmt::format("{} of a scored rule set adds points; set "
                                               "outputs in the thresholds",
                                               rule_name(r))});
      }
      add_branch(std::move(b), std::move(values), r.where, rule_name(r));
      names_action.back() = named;
    }
    num_rules = p.branches_.size();
  }
  if (spec.kind == Kind::kScored) {
    for (const auto& t : spec.thresholds) {
      Branch b;
      b.id = fmt::format("at_least_{}", t.at_least);
      b.points = t.at_least;
      for (char& c : b.id) {
        if (c == '.' || c == '-') c = '_';
      }
      if (!t.action.name.empty()) b.action = action_index(t.action);
      resolve_codes(t.reasons, b);
      auto values = compile_set(t.set, fmt::format("the threshold at {}", t.at_least));
      add_branch(std::move(b), std::move(values), t.where,
                 fmt::format("the threshold at {}", t.at_least));
      names_action.back() = !t.action.name.empty() || t.set.empty();
    }
  }
  std::optional<internal::TableMatcher> matcher;
  if (table) {
    const pipeline::TableSpec& ts = spec.table;
    // Inputs.
    std::vector<internal::TableMatcher::Input> inputs;
    for (size_t i = 0; i < ts.inputs.size(); ++i) {
      note_models(ts.inputs[i].text);
      auto compiled = ctx.compiler->Compile(ts.inputs[i].text, *ctx.scope, *ts.inputs[i].locator,
                                            fmt::format("{} input {}", pname, i + 1),
                                            fmt::format("{}, table input {}", label, i + 1), diags);
      if (!compiled) continue;
      if (compiled->type.kind == TypeKind::kNull) {
        diags->push_back({ts.inputs[i].where(),
                          "a table input must have a type; this one is "
                          "always null"});
        continue;
      }
      inputs.push_back(
          {std::string(TrimText(ts.inputs[i].text)), compiled->column, compiled->type});
    }
    // Output columns: "action" or outputs.
    int action_col = -1;
    std::vector<int> col_output(ts.columns.size(), -1);
    for (size_t c = 0; c < ts.columns.size(); ++c) {
      const auto& col = ts.columns[c];
      if (col.name == "action") {
        if (collect) {
          diags->push_back({col.where,
                            "a collect table cannot choose an action; use its result "
                            "in a later policy"});
        }
        action_col = static_cast<int>(c);
        continue;
      }
      const int o = find_output(col.name);
      if (o < 0) {
        std::vector<std::string> names = {"action"};
        for (const auto& out : p.outputs_) names.push_back(out.name);
        diags->push_back({col.where, fmt::format("table output '{}' is not 'action' nor an output "
                                                 "of {}{}",
                                                 col.name, label, DidYouMean(col.name, names))});
        continue;
      }
      col_output[c] = o;
    }
    if (collect) {
      if (spec.table.aggregate == CollectAggregate::kNone) {
        diags->push_back({ts.hit_where,
                          "hit policy collect needs an 'aggregate': sum, min, max "
                          "or count"});
      }
      for (size_t k = 0; k < p.outputs_.size(); ++k) {
        const Output& o = p.outputs_[k];
        const bool count = spec.table.aggregate == CollectAggregate::kCount;
        if ((count && o.type.kind != TypeKind::kInt64) || (!count && !o.type.is_numeric())) {
          diags->push_back(
              {spec.outputs[k].where,
               fmt::format("output '{}' of {} is {}; hit "
                           "policy collect {} {}",
                           o.name, label, TypeName(o.type),
                           count ? "with aggregate count" : "aggregates numbers:",
                           count ? "needs int64 outputs" : "it needs int64 or float64 outputs")});
        }
      }
    }
    for (size_t r = 0; r < ts.rows.size(); ++r) {
      const auto& row = ts.rows[r];
      Branch b;
      b.id = row.id.empty() ? fmt::format("row_{}", row.number) : row.id;
      std::vector<std::optional<ValueSource>> values(p.outputs_.size());
      const std::string what = fmt::format("row {}", row.number);
      for (size_t c = 0; c < row.then.size() && c < ts.columns.size(); ++c) {
        const pipeline::CellSpec& cell = row.then[c];
        std::string_view t = TrimText(cell.text.text);
        if (static_cast<int>(c) == action_col) {
          if (!IsName(t)) {
            diags->push_back({cell.text.where(), fmt::format("the action of {} must be an action "
                                                             "name, found '{}'",
                                                             what, t)});
          } else {
            b.action = action_index({std::string(t), cell.text.where()});
          }
          continue;
        }
        if (col_output[c] < 0) continue;
        if (t == "-" || t.empty()) {
          // In a collect table the row adds no value; elsewhere the default's.
          if (collect) values[static_cast<size_t>(col_output[c])] = ValueSource{-1, false};
          continue;
        }
        note_models(cell.text.text);
        values[static_cast<size_t>(col_output[c])] =
            compile_value(cell.text, static_cast<size_t>(col_output[c]), what);
      }
      resolve_codes(row.reasons, b);
      const bool named = action_col >= 0;
      add_branch(std::move(b), std::move(values), row.where,
                 row.id.empty() ? what : fmt::format("{} ('{}')", what, row.id));
      names_action.back() = named;
    }
    if (diags->size() == errors_before) {
      matcher =
          internal::TableMatcher::Build(inputs, ts.rows, *ctx.compiler, *ctx.scope, label, diags);
    }
    // Priority: the first output column ranks the rows.
    if (spec.table.hit == HitPolicy::kPriority && !ts.columns.empty()) {
      const auto& first = ts.columns[0];
      const int o = col_output[0];
      if (action_col != 0 &&
          (o < 0 || p.outputs_[static_cast<size_t>(o)].type.kind != TypeKind::kEnum)) {
        diags->push_back({ts.hit_where, fmt::format("hit policy priority ranks rows by their "
                                                    "first output, which must be 'action' or an "
                                                    "enum output; '{}' is not",
                                                    first.name)});
      } else if (action_col == 0 && !declared) {
        diags->push_back({ts.hit_where,
                          "hit policy priority ranks actions in the order of "
                          "'actions': declare them"});
      } else {
        for (size_t r = 0; r < ts.rows.size(); ++r) {
          // (A string_view on both sides: `"" : std::string` would make a temporary.)
          const std::string_view t =
              TrimText(ts.rows[r].then.empty() ? std::string_view()
                                               : std::string_view(ts.rows[r].then[0].text.text));
          if (action_col == 0) {
            p.branches_[r].priority = p.branches_[r].action;
          } else {
            std::string_view name = t;
            if (name.size() >= 2 && name.front() == '\'' && name.back() == '\'') {
              name = name.substr(1, name.size() - 2);
            }
            const int32_t idx = p.outputs_[static_cast<size_t>(o)].type.domain->Find(name);
            if (idx < 0) {
              diags->push_back({ts.rows[r].where, fmt::format("under hit policy priority, the "
                                                              "first output of row {} must be a "
                                                              "value of its enum, found '{}'",
                                                              ts.rows[r].number, t)});
            }
            p.branches_[r].priority = idx;
          }
        }
      }
    }
  }

  // The default.
  {
    Branch b;
    b.id = std::string(kDefaultRuleId);
    std::vector<std::optional<ValueSource>> values(p.outputs_.size());
    if (spec.default_value) {
      const auto& d = *spec.default_value;
      p.has_default_ = true;
      if (d.action) b.action = action_index(*d.action);
      resolve_codes(d.reasons, b);
      for (const auto& v : d.set) note_models(v.value.text);
      values = compile_set(d.set, "the default");
    }
    add_branch(std::move(b), std::move(values),
               spec.default_value ? spec.default_value->where : spec.where, "the default");
    names_action.back() = !spec.default_value || spec.default_value->action.has_value();
  }

  // Every deciding branch must give every output a value, or the default must.
  const size_t def = p.branches_.size() - 1;
  const size_t first_decider = spec.kind == Kind::kScored ? num_rules : 0;
  for (size_t o = 0; o < p.outputs_.size() && !collect; ++o) {
    for (size_t b = first_decider; b < p.branches_.size(); ++b) {
      if (b == def && !p.has_default_) continue;
      if (set_values[b][o]) continue;
      if (set_values[def][o]) continue;
      diags->push_back(
          {branch_where[b], fmt::format("output '{}' of {} has no value when {} "
                                        "decides; set it {}",
                                        p.outputs_[o].name, label, branch_label[b],
                                        b == def ? "in the default" : "there or in the default")});
    }
  }
  for (size_t b = 0; b < p.branches_.size(); ++b) {
    p.branches_[b].values.resize(p.outputs_.size());
    for (size_t o = 0; o < p.outputs_.size(); ++o) {
      if (set_values[b][o]) {
        p.branches_[b].values[o] = *set_values[b][o];
      } else if (set_values[def][o]) {
        p.branches_[b].values[o] = *set_values[def][o];
      }
    }
  }
  // Actions: with any action named, every deciding branch needs one.
  const bool has_actions = !actions.empty();
  if (has_actions && !collect) {
    for (size_t b = first_decider; b < p.branches_.size(); ++b) {
      if (p.branches_[b].action >= 0 || names_action[b]) continue;
      if (b == def) {
        if (p.has_default_) {
          diags->push_back(
              {branch_where[b], fmt::format("the default of {} needs an 'action'", label)});
        }
        continue;
      }
      diags->push_back({branch_where[b], fmt::format("{} of {} gives no action; every "
                                                     "rule, row or threshold of a policy with "
                                                     "actions names one",
                                                     branch_label[b], label)});
    }
  }

  // Static checks of rules.
  if (spec.kind == Kind::kRules || spec.kind == Kind::kScored) {
    for (size_t j = 0; j < conditions.size(); ++j) {
      if (!conditions[j]) continue;
      const auto& rj = spec.rules[j];
      if (internal::NeverTrue(conditions[j]->shape)) {
        diags->push_back({rj.when.where(), fmt::format("{} can never fire: its condition is never "
                                                       "true",
                                                       rule_name(rj))});
        continue;
      }
      if (spec.kind != Kind::kRules) continue;
      for (size_t i = 0; i < j; ++i) {
        if (!conditions[i]) continue;
        const bool same_text = TrimText(spec.rules[i].when.text) == TrimText(rj.when.text);
        if (same_text || internal::Implies(conditions[j]->shape, conditions[i]->shape)) {
          diags->push_back(
              {rj.when.where(),
               conditions[i]->shape.constant && *conditions[i]->shape.constant
                   ? fmt::format("{} can never fire: {} (line {}) before it always fires",
                                 rule_name(rj), rule_name(spec.rules[i]), spec.rules[i].where.line)
                   : fmt::format("{} can never fire: {} (line {}) before it matches every record "
                                 "it matches",
                                 rule_name(rj), rule_name(spec.rules[i]),
                                 spec.rules[i].where.line)});
          break;
        }
      }
    }
  }
  // Static checks of tables.
  if (matcher) {
    const auto& ts = spec.table;
    auto row_name = [&](size_t r) {
      return ts.rows[r].id.empty() ? fmt::format("row {}", ts.rows[r].number)
                                   : fmt::format("row {} ('{}')", ts.rows[r].number, ts.rows[r].id);
    };
    if (spec.table.hit == HitPolicy::kUnique) {
      for (const auto& ov : matcher->Overlaps(8)) {
        diags->push_back({ts.rows[ov.b].where,
                          fmt::format("{} and {} of the table of {} overlap (hit policy unique): "
                                      "both match {}; make them exclusive or choose another hit "
                                      "policy",
                                      row_name(ov.a), row_name(ov.b), label, ov.example)});
      }
    }
    if (spec.table.hit == HitPolicy::kAny && diags->size() == errors_before) {
      const Value null_value = Value::Null();
      // Overlapping rows must give the same outputs. Reported only when provable: both values are
      // literals that differ (an expression's value is known at run time, where a conflict is a
      // record error).
      auto constant = [&](const ValueSource& v) -> const Value* {
        if (v.column < 0 || v.to_float) return nullptr;
        const auto& c = ctx.layout->column(v.column).constant;
        return c ? &*c : nullptr;
      };
      for (const auto& ov : matcher->Overlaps(64)) {
        const Branch& a = p.branches_[ov.a];
        const Branch& b = p.branches_[ov.b];
        bool differ = a.action != b.action;
        for (size_t o = 0; o < p.outputs_.size() && !differ; ++o) {
          const ValueSource& va = a.values[o];
          const ValueSource& vb = b.values[o];
          if (va.column == vb.column) continue;
          const Value* x = va.column < 0 ? &null_value : constant(va);
          const Value* y = vb.column < 0 ? &null_value : constant(vb);
          differ = x != nullptr && y != nullptr && !SameConstant(*x, *y);
        }
        if (differ) {
          diags->push_back({ts.rows[ov.b].where,
                            fmt::format("{} and {} of the table of {} give different outputs and "
                                        "overlap (hit policy any): both match {}",
                                        row_name(ov.a), row_name(ov.b), label, ov.example)});
        }
      }
    }
    const bool empty_is_fine = collect && (spec.table.aggregate == CollectAggregate::kSum ||
                                           spec.table.aggregate == CollectAggregate::kCount);
    if (!p.has_default_ && !empty_is_fine) {
      if (auto hole = matcher->Uncovered()) {
        diags->push_back({ts.where, fmt::format("the table of {} has no default, and no row "
                                                "matches {}; add a row or a 'default'",
                                                label, *hole)});
      }
    }
    p.table_ = std::move(matcher);
  }

  if (diags->size() != errors_before) return std::nullopt;

  // Columns and names.
  p.num_rules_ = table ? spec.table.rows.size() : spec.rules.size();
  std::vector<std::string> ids_in_order;
  for (const auto& b : p.branches_) ids_in_order.push_back(b.id);
  p.rule_type_ = Type::Enum(std::make_shared<const EnumDomain>(ids_in_order));
  p.rule_column_ = ctx.layout->Add({pname + ".rule", p.rule_type_, std::nullopt});
  ctx.scope->Add({pname + ".rule", p.rule_type_, p.rule_column_});
  if (has_actions) {
    p.action_type_ = Type::Enum(std::make_shared<const EnumDomain>(actions));
    p.action_column_ = ctx.layout->Add({pname + ".action", p.action_type_, std::nullopt});
    ctx.scope->Add({pname + ".action", p.action_type_, p.action_column_});
  }
  if (spec.kind == Kind::kScored) {
    p.points_column_ = ctx.layout->Add({pname + ".points", Type::Float64(), std::nullopt});
    ctx.scope->Add({pname + ".points", Type::Float64(), p.points_column_});
    for (size_t r = 0; r < num_rules; ++r) p.by_points_.push_back(r);
    std::stable_sort(p.by_points_.begin(), p.by_points_.end(), [&](size_t a, size_t b) {
      return p.branches_[a].points > p.branches_[b].points;
    });
  }
  for (const Output& o : p.outputs_) ctx.scope->Add({pname + "." + o.name, o.type, o.column});
  p.reason_list_ = ctx.reason_list >= 0 ? ctx.reason_list : ctx.layout->AddReasonList();
  if (collect && spec.table.aggregate == CollectAggregate::kSum) {
    p.sum_overflow_error_.assign(p.outputs_.size(), 0);
    for (size_t o = 0; o < p.outputs_.size(); ++o) {
      if (p.outputs_[o].type.kind != TypeKind::kInt64) continue;
      p.sum_overflow_error_[o] = ctx.errors->Add(
          fmt::format("{}: integer overflow in the sum of '{}' (hit policy collect)", label,
                      p.outputs_[o].name));
    }
  }
  if (table) {
    p.no_match_error_ =
        ctx.errors->Add(fmt::format("{}: no row of the table matches, and it has "
                                    "no default",
                                    label));
    p.conflict_error_ = ctx.errors->Add(
        spec.table.hit == HitPolicy::kAny
            ? fmt::format("{}: rows of the table that match give different outputs (hit policy "
                          "any)",
                          label)
            : fmt::format("{}: more than one row of the table matches (hit policy {})", label,
                          HitName(spec.table.hit)));
  }
  return p;
}

void Policy::ChooseRules(const Batch& batch, int32_t* chosen) const {
  const size_t n = batch.size();
  const size_t last = branches_.size() - 1;
  std::fill_n(chosen, n, static_cast<int32_t>(last));
  // Rules outer, records inner: one pass per rule over flat arrays. Last rule
  // first, so that the first true rule is written last: a plain select per
  // record, which vectorises.
  for (size_t r = last; r-- > 0;) {
    const Column& c = batch.column(branches_[r].condition);
    const uint8_t* v = c.data<uint8_t>();
    const uint8_t* ok = c.valid();
    const auto id = static_cast<int32_t>(r);
    for (size_t i = 0; i < n; ++i) chosen[i] = (v[i] & ok[i]) ? id : chosen[i];
  }
}

void Policy::ChooseScored(Batch& batch, int32_t* chosen) const {
  const size_t n = batch.size();
  double* points = batch.column(points_column_).data<double>();
  std::fill_n(points, n, 0.0);
  std::fill_n(batch.column(points_column_).valid(), n, 1);
  const size_t rules = by_points_.size();
  for (size_t r = 0; r < rules; ++r) {
    const Column& c = batch.column(branches_[r].condition);
    const uint8_t* v = c.data<uint8_t>();
    const uint8_t* ok = c.valid();
    const double add = branches_[r].points;
    for (size_t i = 0; i < n; ++i) points[i] += (v[i] & ok[i]) ? add : 0.0;
  }
  // Thresholds come highest first, then the default.
  const size_t def = branches_.size() - 1;
  for (size_t i = 0; i < n; ++i) {
    size_t pick = def;
    for (size_t t = rules; t < def; ++t) {
      if (points[i] >= branches_[t].points) {
        pick = t;
        break;
      }
    }
    chosen[i] = static_cast<int32_t>(pick);
  }
}

void Policy::ChooseTable(Batch& batch, int32_t* chosen, std::vector<uint64_t>& masks) const {
  const size_t n = batch.size();
  const size_t w = table_->words();
  masks.resize(n * w);
  table_->MatchBatch(batch, masks.data());
  const auto def = static_cast<int32_t>(branches_.size() - 1);
  const bool collect = hit_ == HitPolicy::kCollect;
  const bool empty_ok =
      collect && (aggregate_ == CollectAggregate::kSum || aggregate_ == CollectAggregate::kCount);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t* m = masks.data() + i * w;
    int32_t first = -1;
    size_t count = 0;
    for (size_t k = 0; k < w; ++k) {
      if (m[k] == 0) continue;
      if (first < 0)
        first = static_cast<int32_t>(k * 64 + static_cast<size_t>(std::countr_zero(m[k])));
      count += static_cast<size_t>(std::popcount(m[k]));
    }
    if (first < 0) {
      if (has_default_ || empty_ok) {
        chosen[i] = def;
      } else {
        chosen[i] = -1;
        batch.SetRowError(i, no_match_error_);
      }
      continue;
    }
    chosen[i] = first;
    if (count == 1 || hit_ == HitPolicy::kFirst || collect) continue;
    if (hit_ == HitPolicy::kUnique) {
      chosen[i] = -1;
      batch.SetRowError(i, conflict_error_);
      continue;
    }
    // priority and any look at every matching row.
    for (size_t k = 0; k < w; ++k) {
      for (uint64_t bits = m[k]; bits != 0; bits &= bits - 1) {
        const size_t r = k * 64 + static_cast<size_t>(std::countr_zero(bits));
        const Branch& b = branches_[r];
        if (hit_ == HitPolicy::kPriority) {
          if (b.priority < branches_[static_cast<size_t>(chosen[i])].priority) {
            chosen[i] = static_cast<int32_t>(r);
          }
          continue;
        }
        const Branch& a = branches_[static_cast<size_t>(first)];
        bool same = a.action == b.action;
        for (size_t o = 0; o < outputs_.size() && same; ++o) {
          const ValueSource& va = a.values[o];
          const ValueSource& vb = b.values[o];
          if (va.column < 0 || vb.column < 0) {
            same = va.column == vb.column || (va.column < 0 ? !batch.column(vb.column).is_valid(i)
                                                            : !batch.column(va.column).is_valid(i));
          } else {
            same = SameOutput(batch.column(va.column), va.to_float, batch.column(vb.column),
                              vb.to_float, i);
          }
        }
        if (!same) {
          chosen[i] = -1;
          batch.SetRowError(i, conflict_error_);
          k = w;
          break;
        }
      }
    }
  }
}

void Policy::WriteOutputs(Batch& batch, const int32_t* chosen,
                          const std::vector<uint64_t>& masks) const {
  if (kind_ == Kind::kTable && hit_ == HitPolicy::kCollect) {
    WriteCollected(batch, chosen, masks);
    return;
  }
  const size_t n = batch.size();
  const size_t num_branches = branches_.size();
  // Per branch, where its value of the output comes from (nullptr: null),
  // so that the record loop is a gather without lookups.
  thread_local std::vector<const void*> data;
  thread_local std::vector<const uint8_t*> ok;
  thread_local std::vector<uint8_t> widen;
  data.resize(num_branches);
  ok.resize(num_branches);
  widen.resize(num_branches);
  for (size_t o = 0; o < outputs_.size(); ++o) {
    bool any_widen = false;
    for (size_t b = 0; b < num_branches; ++b) {
      const ValueSource& src = branches_[b].values[o];
      if (src.column < 0) {
        data[b] = nullptr;
        ok[b] = nullptr;
        widen[b] = 0;
        continue;
      }
      const Column& c = batch.column(src.column);
      data[b] = c.data<char>();
      ok[b] = c.valid();
      widen[b] = src.to_float;
      any_widen = any_widen || src.to_float;
    }
    Column& out = batch.column(outputs_[o].column);
    switch (outputs_[o].type.kind) {
      case TypeKind::kBool:
        Gather(n, chosen, data.data(), ok.data(), out.data<uint8_t>(), out.valid());
        break;
      case TypeKind::kEnum:
        Gather(n, chosen, data.data(), ok.data(), out.data<int32_t>(), out.valid());
        break;
      case TypeKind::kFloat64:
        if (any_widen) {
          GatherWidened(n, chosen, data.data(), ok.data(), widen.data(), out.data<double>(),
                        out.valid());
        } else {
          Gather(n, chosen, data.data(), ok.data(), out.data<double>(), out.valid());
        }
        break;
      case TypeKind::kString:
        Gather(n, chosen, data.data(), ok.data(), out.data<std::string_view>(), out.valid());
        break;
      default:  // int64, timestamp
        Gather(n, chosen, data.data(), ok.data(), out.data<int64_t>(), out.valid());
        break;
    }
  }
}

void Policy::WriteCollected(Batch& batch, const int32_t* chosen,
                            const std::vector<uint64_t>& masks) const {
  const size_t n = batch.size();
  const size_t w = table_->words();
  const bool empty_zero =
      aggregate_ == CollectAggregate::kSum || aggregate_ == CollectAggregate::kCount;
  for (size_t o = 0; o < outputs_.size(); ++o) {
    Column& out = batch.column(outputs_[o].column);
    uint8_t* valid = out.valid();
    const bool is_int = outputs_[o].type.kind == TypeKind::kInt64;
    for (size_t i = 0; i < n; ++i) {
      valid[i] = 0;
      if (chosen[i] < 0) continue;
      bool none = true;
      for (size_t k = 0; k < w; ++k) none = none && masks[i * w + k] == 0;
      if (none && has_default_) {
        // Nothing matched: the default's value.
        const ValueSource& src = branches_.back().values[o];
        if (src.column < 0 || !batch.column(src.column).is_valid(i)) continue;
        const Column& c = batch.column(src.column);
        if (is_int) {
          out.data<int64_t>()[i] = c.data<int64_t>()[i];
        } else {
          out.data<double>()[i] = NumberAt(c, i, src.to_float);
        }
        valid[i] = 1;
        continue;
      }
      // Aggregate over the matching rows.
      double acc = aggregate_ == CollectAggregate::kMin   ? INFINITY
                   : aggregate_ == CollectAggregate::kMax ? -INFINITY
                                                          : 0.0;
      int64_t iacc = 0;
      bool any = false;
      bool overflow = false;
      for (size_t k = 0; k < w; ++k) {
        for (uint64_t bits = masks[i * w + k]; bits != 0; bits &= bits - 1) {
          const size_t r = k * 64 + static_cast<size_t>(std::countr_zero(bits));
          if (aggregate_ == CollectAggregate::kCount) {
            ++iacc;
            any = true;
            continue;
          }
          const ValueSource& src = branches_[r].values[o];
          if (src.column < 0 || !batch.column(src.column).is_valid(i)) continue;
          const Column& c = batch.column(src.column);
          if (is_int) {
            const int64_t v = c.data<int64_t>()[i];
            if (aggregate_ == CollectAggregate::kSum) {
              if (__builtin_add_overflow(iacc, v, &iacc)) {
                batch.SetRowError(i, sum_overflow_error_[o]);
                overflow = true;
              }
            } else if (!any || (aggregate_ == CollectAggregate::kMin ? v < iacc : v > iacc)) {
              iacc = v;
            }
          } else {
            const double v = NumberAt(c, i, src.to_float);
            acc = aggregate_ == CollectAggregate::kSum   ? acc + v
                  : aggregate_ == CollectAggregate::kMin ? std::min(acc, v)
                                                         : std::max(acc, v);
          }
          any = true;
        }
      }
      if ((!any && !empty_zero) || overflow) continue;
      if (is_int) {
        out.data<int64_t>()[i] = iacc;
      } else {
        if (!any) acc = 0.0;
        if (!std::isfinite(acc)) continue;  // a float64 sum out of range is null
        out.data<double>()[i] = acc;
      }
      valid[i] = 1;
    }
  }
}

void ContributionCache::Get(const ContributionSource& model, const Batch& batch, size_t row,
                            double* out) {
  const size_t n = model.input_names().size();
  auto [it, added] = index_.try_emplace(Key{&model, row}, values_.size());
  if (added) {
    values_.resize(values_.size() + n);
    model.RowContributions(batch, row, values_.data() + it->second);
  }
  std::copy_n(values_.data() + it->second, n, out);
}

void Policy::AddTopReasons(const TopReasons& t, const Batch& batch, size_t row,
                           std::vector<Reason>& reasons, uint32_t begin, size_t limit,
                           ContributionCache* cache) const {
  const size_t n = t.input_code.size();
  thread_local std::vector<double> contribution;
  thread_local std::vector<double> group;
  thread_local std::vector<uint32_t> order;
  contribution.resize(n);
  if (cache != nullptr) {
    cache->Get(*t.model, batch, row, contribution.data());
  } else {
    t.model->RowContributions(batch, row, contribution.data());
  }
  group.assign(t.codes.size(), 0.0);
  for (size_t i = 0; i < n; ++i) group[static_cast<size_t>(t.input_code[i])] += contribution[i];
  order.resize(t.codes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  // Largest push towards a higher score first; ties keep the input order.
  std::stable_sort(order.begin(), order.end(),
                   [](uint32_t a, uint32_t b) { return group[a] > group[b]; });
  const size_t want = t.count == 0 ? limit : std::min(t.count, limit);
  size_t given = 0;
  for (size_t k = 0; k < order.size() && given < want; ++k) {
    if (reasons.size() - begin >= limit) break;
    const uint32_t g = order[k];
    if (!(group[g] > 0)) break;
    const Reason r = catalog_->MakeReason(t.codes[g]);
    bool seen = false;
    for (size_t j = begin; j < reasons.size(); ++j) seen |= reasons[j].code.data() == r.code.data();
    if (seen) continue;
    reasons.push_back(r);
    ++given;
  }
}

void Policy::WriteReasons(Batch& batch, const int32_t* chosen, const std::vector<uint64_t>& masks,
                          ContributionCache* cache) const {
  const size_t n = batch.size();
  ReasonList& list = batch.reason_list(reason_list_);
  std::vector<Reason>& reasons = list.reasons;
  const size_t limit = max_reasons_;
  auto add_codes = [&](const Branch& b, uint32_t begin) {
    for (int code : b.codes) {
      if (reasons.size() - begin >= limit) return;
      const Reason r = catalog_->MakeReason(code);
      bool seen = false;
      for (size_t j = begin; j < reasons.size(); ++j)
        seen |= reasons[j].code.data() == r.code.data();
      if (!seen) reasons.push_back(r);
    }
  };
  const bool collect = kind_ == Kind::kTable && hit_ == HitPolicy::kCollect;
  const size_t w = table_ ? table_->words() : 0;
  const Column* scored = nullptr;
  for (size_t i = 0; i < n; ++i) {
    const auto begin = static_cast<uint32_t>(reasons.size());
    list.begin[i] = begin;
    if (chosen[i] >= 0 && limit > 0) {
      const Branch& b = branches_[static_cast<size_t>(chosen[i])];
      if (kind_ == Kind::kScored) {
        // The rules that added points, most points first, then the threshold's.
        for (size_t r : by_points_) {
          scored = &batch.column(branches_[r].condition);
          if (scored->data<uint8_t>()[i] & scored->valid()[i]) {
            add_codes(branches_[r], begin);
            for (const TopReasons& t : branches_[r].tops) {
              AddTopReasons(t, batch, i, reasons, begin, limit, cache);
            }
          }
        }
        add_codes(b, begin);
      } else if (collect && static_cast<size_t>(chosen[i]) + 1 != branches_.size()) {
        for (size_t k = 0; k < w; ++k) {
          for (uint64_t bits = masks[i * w + k]; bits != 0; bits &= bits - 1) {
            const Branch& hit = branches_[k * 64 + static_cast<size_t>(std::countr_zero(bits))];
            add_codes(hit, begin);
            for (const TopReasons& t : hit.tops)
              AddTopReasons(t, batch, i, reasons, begin, limit, cache);
          }
        }
      } else {
        add_codes(b, begin);
      }
      // Contributions are computed only for the records whose branch asks for them.
      for (const TopReasons& t : b.tops) AddTopReasons(t, batch, i, reasons, begin, limit, cache);
    }
    list.count[i] = static_cast<uint32_t>(reasons.size() - begin);
  }
}

void Policy::Decide(Batch& batch, ContributionCache* cache) const {
  const size_t n = batch.size();
  thread_local std::vector<int32_t> chosen;
  thread_local std::vector<uint64_t> masks;
  chosen.resize(n);
  masks.clear();
  switch (kind_) {
    case Kind::kRules:
      ChooseRules(batch, chosen.data());
      break;
    case Kind::kScored:
      ChooseScored(batch, chosen.data());
      break;
    case Kind::kTable:
      ChooseTable(batch, chosen.data(), masks);
      break;
  }
  Column& rule = batch.column(rule_column_);
  int32_t* rule_data = rule.data<int32_t>();
  uint8_t* rule_valid = rule.valid();
  for (size_t i = 0; i < n; ++i) {
    rule_data[i] = chosen[i] < 0 ? 0 : chosen[i];
    rule_valid[i] = chosen[i] >= 0;
  }
  if (action_column_ >= 0) {
    Column& action = batch.column(action_column_);
    int32_t* a = action.data<int32_t>();
    uint8_t* ok = action.valid();
    for (size_t i = 0; i < n; ++i) {
      const int32_t act = chosen[i] < 0 ? -1 : branches_[static_cast<size_t>(chosen[i])].action;
      a[i] = act < 0 ? 0 : act;
      ok[i] = act >= 0;
    }
  }
  WriteOutputs(batch, chosen.data(), masks);
  WriteReasons(batch, chosen.data(), masks, cache);
}

void Policy::ClearRow(Batch& batch, size_t row) const {
  batch.column(rule_column_).valid()[row] = 0;
  if (action_column_ >= 0) batch.column(action_column_).valid()[row] = 0;
  if (points_column_ >= 0) batch.column(points_column_).valid()[row] = 0;
  for (const Output& o : outputs_) batch.column(o.column).valid()[row] = 0;
  batch.reason_list(reason_list_).count[row] = 0;
}

void Policy::Trace(const Batch& batch, size_t row, std::vector<std::string_view>* evaluated,
                   std::vector<std::string_view>* matched) const {
  const Column& rule = batch.column(rule_column_);
  const int32_t chosen = rule.is_valid(row) ? rule.data<int32_t>()[row] : -1;
  const size_t def = branches_.size() - 1;
  auto is_true = [&](int column) {
    const Column& c = batch.column(column);
    return (c.data<uint8_t>()[row] & c.valid()[row]) != 0;
  };
  switch (kind_) {
    case Kind::kRules:
      for (size_t r = 0; r < def; ++r) {
        evaluated->push_back(branches_[r].id);
        if (static_cast<int32_t>(r) == chosen) {
          matched->push_back(branches_[r].id);
          return;
        }
      }
      if (chosen == static_cast<int32_t>(def)) matched->push_back(branches_[def].id);
      return;
    case Kind::kScored:
      for (size_t r = 0; r < by_points_.size(); ++r) {
        evaluated->push_back(branches_[r].id);
        if (is_true(branches_[r].condition)) matched->push_back(branches_[r].id);
      }
      return;
    case Kind::kTable: {
      std::vector<uint64_t> m(table_->words());
      table_->MatchRow(batch, row, m.data());
      for (size_t r = 0; r < def; ++r) {
        evaluated->push_back(branches_[r].id);
        if ((m[r / 64] >> (r % 64)) & 1) matched->push_back(branches_[r].id);
      }
      if (chosen == static_cast<int32_t>(def)) matched->push_back(branches_[def].id);
      return;
    }
  }
}

}  // namespace sluice::decide
