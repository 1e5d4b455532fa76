#include "decide/decision_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sluice::decide {

namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kFnvPrime;
  }
  return h;
}

// A number's 8 bytes, least significant first whatever the machine.
uint64_t FnvWord(uint64_t h, uint64_t v) {
  unsigned char bytes[8];
  for (int k = 0; k < 8; ++k) bytes[k] = static_cast<unsigned char>(v >> (8 * k));
  return Fnv(h, bytes, 8);
}

uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// The union of two enum domains, `a`'s values first; `map_b` maps b's
// indexes into it.
Type Union(const Type& a, const Type& b, std::vector<int32_t>* map_a, std::vector<int32_t>* map_b) {
  std::vector<std::string> values = a.domain->values();
  map_a->clear();
  for (size_t i = 0; i < values.size(); ++i) map_a->push_back(static_cast<int32_t>(i));
  map_b->clear();
  for (const auto& v : b.domain->values()) {
    auto it = std::find(values.begin(), values.end(), v);
    if (it == values.end()) {
      values.push_back(v);
      it = values.end() - 1;
    }
    map_b->push_back(static_cast<int32_t>(it - values.begin()));
  }
  return Type::Enum(std::make_shared<const EnumDomain>(values));
}

size_t ValueWidth(const Type& t) {
  switch (t.kind) {
    case TypeKind::kBool:
      return 1;
    case TypeKind::kEnum:
      return 4;
    case TypeKind::kString:
      return sizeof(std::string_view);
    default:
      return 8;
  }
}

}  // namespace

const Policy* DecisionStage::champion() const {
  return champion_ >= 0 ? &policies_[static_cast<size_t>(champion_)] : nullptr;
}

const Policy* DecisionStage::challenger() const {
  return challenger_ >= 0 ? &policies_[static_cast<size_t>(challenger_)] : nullptr;
}

std::optional<DecisionStage> DecisionStage::Compile(const pipeline::PipelineSpec& spec,
                                                    expr::Compiler& compiler, expr::Scope& scope,
                                                    BatchLayout& layout, expr::ErrorTable& errors,
                                                    ModelLookup models,
                                                    std::vector<std::string> model_names,
                                                    std::vector<Diagnostic>* diags) {
  const size_t errors_before = diags->size();
  DecisionStage st{ReasonCatalog(spec)};
  PolicyContext ctx;
  ctx.spec = &spec;
  ctx.compiler = &compiler;
  ctx.scope = &scope;
  ctx.layout = &layout;
  ctx.errors = &errors;
  ctx.models = std::move(models);
  ctx.model_names = std::move(model_names);
  ctx.catalog = &st.catalog_;
  ctx.diags = diags;

  auto add = [&](const pipeline::PolicySpec& p, int reason_list, std::string section) -> int {
    ctx.section = std::move(section);
    for (const auto& m : ctx.model_names) {
      if (m == p.name) {
        diags->push_back({p.where, fmt::format("policy '{}' has the name of a model", p.name)});
      }
    }
    for (const auto& f : spec.features) {
      if (f.name == p.name) {
        diags->push_back({p.where, fmt::format("policy '{}' has the name of a feature (line {})",
                                               p.name, f.where.line)});
      }
    }
    ctx.reason_list = reason_list;
    auto compiled = Policy::Compile(p, ctx);
    if (!compiled) {
      (void)compiler.Finish();
      // Later policies that read this one are told why, not "unknown name".
      std::vector<std::string> names = {p.name + ".action", p.name + ".rule", p.name + ".points"};
      for (const auto& o : p.outputs) names.push_back(p.name + "." + o.name);
      for (const auto& n : names) {
        if (scope.Find(n) == nullptr) {
          scope.AddUnavailable(
              n, fmt::format("policy '{}' (line {}) has an error", p.name, p.where.line));
        }
      }
      return -1;
    }
    st.programs_.push_back(compiler.Finish());
    st.policies_.push_back(std::move(*compiled));
    return static_cast<int>(st.policies_.size()) - 1;
  };
  for (const auto& p : spec.policies) {
    if ((spec.decision && p.name == spec.decision->name) ||
        (spec.challenger && p.name == spec.challenger->policy.name)) {
      diags->push_back({p.where, fmt::format("policy name '{}' is also the name of the {}", p.name,
                                             spec.decision && p.name == spec.decision->name
                                                 ? "decision (the champion)"
                                                 : "challenger")});
      continue;
    }
    add(p, -1, "");
  }
  const bool split =
      spec.challenger && spec.challenger->mode == pipeline::ChallengerSpec::Mode::kSplit;
  if (spec.decision) st.champion_ = add(*spec.decision, split ? -1 : 0, "decision");
  if (spec.challenger) {
    if (!spec.decision) {
      diags->push_back({spec.challenger->where,
                        "a challenger needs a 'decision' (the champion) "
                        "to compete with"});
    } else {
      st.challenger_ = add(spec.challenger->policy, -1, "challenger");
    }
  }
  if (diags->size() != errors_before) return std::nullopt;

  // Split keys and reason texts run after every policy.
  if (split) {
    const auto& c = *spec.challenger;
    for (size_t i = 0; i < c.key.size(); ++i) {
      auto compiled =
          compiler.Compile(c.key[i].text, scope, *c.key[i].locator,
                           fmt::format("split key {}", i + 1), "challenger split_by", diags);
      if (compiled) st.split_key_.emplace_back(compiled->column, compiled->type);
    }
    st.split_ = true;
    st.split_threshold_ = static_cast<uint32_t>(std::llround(c.percent * 10000.0));
    st.split_salt_ = Fnv(kFnvOffset, c.salt.data(), c.salt.size());
  }
  st.catalog_.CompileTexts(compiler, scope, diags);
  st.final_program_ = compiler.Finish();
  if (diags->size() != errors_before) return std::nullopt;

  if (st.champion_ < 0) return st;
  const Policy& champ = st.policies_[static_cast<size_t>(st.champion_)];
  if (!champ.has_action()) {
    diags->push_back({spec.decision->where, "the decision (the champion) must choose an action"});
    return std::nullopt;
  }
  if (st.challenger_ >= 0) {
    const Policy& chal = st.policies_[static_cast<size_t>(st.challenger_)];
    if (!chal.has_action()) {
      diags->push_back({spec.challenger->where, "the challenger must choose an action"});
      return std::nullopt;
    }
    std::vector<std::string> names = {champ.name(), chal.name()};
    st.policy_type_ = Type::Enum(std::make_shared<const EnumDomain>(names));
  }
  if (!st.split_) {
    st.action_column_ = champ.action_column();
    st.action_type_ = champ.action_type();
    st.rule_column_ = champ.rule_column();
    st.rule_type_ = champ.rule_type();
    st.outputs_ = champ.outputs();
    if (st.challenger_ >= 0) {
      st.policy_column_ = layout.Add({"policy", st.policy_type_, Value::Enum(st.policy_type_, 0)});
    }
    return st;
  }
  const Policy& chal = st.policies_[static_cast<size_t>(st.challenger_)];
  // Split: the challenger must give the champion's outputs.
  for (const auto& o : champ.outputs()) {
    auto it = std::find_if(chal.outputs().begin(), chal.outputs().end(),
                           [&](const Policy::Output& x) { return x.name == o.name; });
    if (it == chal.outputs().end()) {
      diags->push_back({spec.challenger->where,
                        fmt::format("the split challenger has no output '{}' ({}); in split mode "
                                    "it acts for some records and must give the champion's "
                                    "outputs",
                                    o.name, TypeName(o.type))});
      st.challenger_output_.push_back(-1);
    } else if (!(it->type == o.type)) {
      st.challenger_output_.push_back(-1);
      SourceLocation where = spec.challenger->where;
      for (const auto& so : spec.challenger->policy.outputs) {
        if (so.name == o.name) where = so.where;
      }
      diags->push_back({where, fmt::format("output '{}' is {} in the challenger and {} in the "
                                           "champion; in split mode they must have the same type",
                                           o.name, TypeName(it->type), TypeName(o.type))});
    } else {
      st.challenger_output_.push_back(it->column);
    }
  }
  if (diags->size() != errors_before) return std::nullopt;
  std::vector<int32_t> champion_action;
  st.action_type_ =
      Union(champ.action_type(), chal.action_type(), &champion_action, &st.challenger_action_);
  st.rule_type_ =
      Union(champ.rule_type(), chal.rule_type(), &st.champion_rule_, &st.challenger_rule_);
  st.action_column_ = layout.Add({"action", st.action_type_, std::nullopt});
  st.rule_column_ = layout.Add({"rule", st.rule_type_, std::nullopt});
  st.policy_column_ = layout.Add({"policy", st.policy_type_, std::nullopt});
  for (const auto& o : champ.outputs()) {
    st.outputs_.push_back({o.name, o.type, layout.Add({o.name, o.type, std::nullopt})});
  }
  return st;
}

void DecisionStage::Run(Batch& batch) const {
  const size_t n = batch.size();
  uint32_t* errors = batch.row_errors();
  // Record errors of a policy that may not act (a shadow challenger; either
  // side of a split) are held back: `before` the errors until then, and per
  // side the errors it would raise.
  thread_local std::vector<uint32_t> before, champion_errors, challenger_errors;
  thread_local ContributionCache contributions;
  contributions.Clear();
  for (size_t i = 0; i < policies_.size(); ++i) {
    const int k = static_cast<int>(i);
    const bool held = k == challenger_ || (split_ && k == champion_);
    if (held) before.assign(errors, errors + n);
    programs_[i].Run(batch);
    policies_[i].Decide(batch, &contributions);
    if (!held) continue;
    std::vector<uint32_t>& mine = k == champion_ ? champion_errors : challenger_errors;
    mine.assign(errors, errors + n);
    std::copy(before.begin(), before.end(), errors);
    if (split_) continue;
    // Shadow: the champion acts; the challenger is left undecided where it failed.
    for (size_t r = 0; r < n; ++r) {
      if (mine[r] != before[r]) policies_[i].ClearRow(batch, r);
    }
  }
  final_program_.Run(batch);
  if (!split_) {
    for (const Policy& p : policies_) catalog_.RenderTexts(batch, p.reason_list());
    return;
  }

  const Policy& champ = policies_[static_cast<size_t>(champion_)];
  const Policy& chal = policies_[static_cast<size_t>(challenger_)];
  int32_t* action = batch.column(action_column_).data<int32_t>();
  uint8_t* action_ok = batch.column(action_column_).valid();
  int32_t* rule = batch.column(rule_column_).data<int32_t>();
  uint8_t* rule_ok = batch.column(rule_column_).valid();
  int32_t* policy = batch.column(policy_column_).data<int32_t>();
  std::fill_n(batch.column(policy_column_).valid(), n, 1);
  ReasonList& out = batch.reason_list(0);
  const ReasonList& champ_reasons = batch.reason_list(champ.reason_list());
  const ReasonList& chal_reasons = batch.reason_list(chal.reason_list());
  thread_local std::vector<uint8_t> assigned;
  assigned.resize(n);
  for (size_t i = 0; i < n; ++i) {
    // A stable hash of the key; a null key stays with the champion.
    bool to_challenger = !split_key_.empty();
    uint64_t h = split_salt_;
    for (const auto& [column, type] : split_key_) {
      const Column& c = batch.column(column);
      if (!c.is_valid(i)) {
        to_challenger = false;
        break;
      }
      switch (type.kind) {
        case TypeKind::kString: {
          const std::string_view s = c.data<std::string_view>()[i];
          h = Fnv(h, s.data(), s.size());
          break;
        }
        case TypeKind::kEnum: {
          const std::string_view s = type.domain->Name(c.data<int32_t>()[i]);
          h = Fnv(h, s.data(), s.size());
          break;
        }
        case TypeKind::kBool:
          h = Fnv(h, c.data<uint8_t>() + i, 1);
          break;
        default:  // int64, float64 and timestamp: their 8 bytes
          h = FnvWord(h, c.data<uint64_t>()[i]);
          break;
      }
      h = Fnv(h, "\x1f", 1);
    }
    to_challenger = to_challenger && Mix(h) % 1'000'000 < split_threshold_;
    assigned[i] = to_challenger;
    // Only the acting policy's errors reject the record.
    const uint32_t mine = to_challenger ? challenger_errors[i] : champion_errors[i];
    const uint32_t other = to_challenger ? champion_errors[i] : challenger_errors[i];
    if (errors[i] == 0 && mine != before[i]) errors[i] = mine;
    if (other != before[i]) (to_challenger ? champ : chal).ClearRow(batch, i);
  }
  for (const Policy& p : policies_) catalog_.RenderTexts(batch, p.reason_list());
  for (size_t i = 0; i < n; ++i) {
    const bool to_challenger = assigned[i] != 0;
    const Policy& acting = to_challenger ? chal : champ;
    const Column& a = batch.column(acting.action_column());
    const Column& r = batch.column(acting.rule_column());
    action_ok[i] = a.valid()[i];
    action[i] = to_challenger ? challenger_action_[static_cast<size_t>(a.data<int32_t>()[i])]
                              : a.data<int32_t>()[i];
    rule_ok[i] = r.valid()[i];
    rule[i] = to_challenger ? challenger_rule_[static_cast<size_t>(r.data<int32_t>()[i])]
                            : champion_rule_[static_cast<size_t>(r.data<int32_t>()[i])];
    policy[i] = to_challenger ? 1 : 0;
    for (size_t o = 0; o < outputs_.size(); ++o) {
      const Column& src =
          batch.column(to_challenger ? challenger_output_[o] : champ.outputs()[o].column);
      Column& dst = batch.column(outputs_[o].column);
      const size_t width = ValueWidth(outputs_[o].type);
      dst.valid()[i] = src.valid()[i];
      std::memcpy(dst.data<char>() + i * width, src.data<char>() + i * width, width);
    }
    const ReasonList& from = to_challenger ? chal_reasons : champ_reasons;
    out.begin[i] = static_cast<uint32_t>(out.reasons.size());
    out.reasons.insert(out.reasons.end(), from.reasons.begin() + from.begin[i],
                       from.reasons.begin() + from.begin[i] + from.count[i]);
    out.count[i] = from.count[i];
  }
}

}  // namespace sluice::decide
