#include "expr/internal/checker.h"

#include "common/names.h"

namespace sluice::expr::internal {
namespace {

constexpr BuiltinInfo kBuiltins[] = {
    {"if", Builtin::kIf, 3, 3},
    {"coalesce", Builtin::kCoalesce, 1, -1},
    {"nullif", Builtin::kNullIf, 2, 2},
    {"abs", Builtin::kAbs, 1, 1},
    {"sign", Builtin::kSign, 1, 1},
    {"log", Builtin::kLog, 1, 2},
    {"log10", Builtin::kLog10, 1, 1},
    {"log2", Builtin::kLog2, 1, 1},
    {"log1p", Builtin::kLog1p, 1, 1},
    {"exp", Builtin::kExp, 1, 1},
    {"sqrt", Builtin::kSqrt, 1, 1},
    {"pow", Builtin::kPow, 2, 2},
    {"min", Builtin::kMin, 1, -1},
    {"max", Builtin::kMax, 1, -1},
    {"clamp", Builtin::kClamp, 3, 3},
    {"round", Builtin::kRound, 1, 2},
    {"floor", Builtin::kFloor, 1, 1},
    {"ceil", Builtin::kCeil, 1, 1},
    {"lower", Builtin::kLower, 1, 1},
    {"upper", Builtin::kUpper, 1, 1},
    {"trim", Builtin::kTrim, 1, 1},
    {"length", Builtin::kLength, 1, 1},
    {"contains", Builtin::kContains, 2, 2},
    {"starts_with", Builtin::kStartsWith, 2, 2},
    {"ends_with", Builtin::kEndsWith, 2, 2},
    {"substr", Builtin::kSubstr, 2, 3},
    {"concat", Builtin::kConcat, 1, -1},
    {"to_float", Builtin::kToFloat, 1, 1},
    {"to_int", Builtin::kToInt, 1, 1},
    {"to_string", Builtin::kToString, 1, 1},
    {"year", Builtin::kYear, 1, 1},
    {"month", Builtin::kMonth, 1, 1},
    {"day", Builtin::kDay, 1, 1},
    {"hour", Builtin::kHour, 1, 1},
    {"minute", Builtin::kMinute, 1, 1},
    {"day_of_week", Builtin::kDayOfWeek, 1, 1},
    {"seconds_between", Builtin::kSecondsBetween, 2, 2},
    {"epoch_seconds", Builtin::kEpochSeconds, 1, 1},
};

constexpr AggregateInfo kAggregates[] = {
    {"count", AggregateKind::kCount, 0, 1},
    {"sum", AggregateKind::kSum, 1, 1},
    {"avg", AggregateKind::kAvg, 1, 1},
    {"min", AggregateKind::kMin, 1, 1},
    {"max", AggregateKind::kMax, 1, 1},
    {"variance", AggregateKind::kVariance, 1, 1},
    {"stddev", AggregateKind::kStddev, 1, 1},
    {"first", AggregateKind::kFirst, 1, 1},
    {"last", AggregateKind::kLast, 1, 1},
    {"previous", AggregateKind::kPrevious, 1, 1},
    {"count_distinct", AggregateKind::kCountDistinct, 1, 1},
    {"approx_count_distinct", AggregateKind::kApproxCountDistinct, 1, 1},
    {"time_since_last", AggregateKind::kTimeSinceLast, 0, 0},
    {"time_since_first", AggregateKind::kTimeSinceFirst, 0, 0},
    {"decayed_sum", AggregateKind::kDecayedSum, 2, 2},
    {"decayed_avg", AggregateKind::kDecayedAvg, 2, 2},
};

bool IsNull(const Type& t) {
  return t.kind == TypeKind::kNull;
}
bool IsNumeric(const Type& t) {
  return t.is_numeric() || IsNull(t);
}
bool IsStringLike(const Type& t) {
  return t.kind == TypeKind::kString || t.kind == TypeKind::kEnum || IsNull(t);
}
bool IsBool(const Type& t) {
  return t.kind == TypeKind::kBool || IsNull(t);
}
bool IsTimestamp(const Type& t) {
  return t.kind == TypeKind::kTimestamp || IsNull(t);
}
bool IsInt(const Type& t) {
  return t.kind == TypeKind::kInt64 || IsNull(t);
}
bool IsOrdered(const Type& t) {
  return IsNumeric(t) || t.kind == TypeKind::kString || t.kind == TypeKind::kTimestamp;
}

bool IsStringLiteral(const Node& n) {
  return n.kind == NodeKind::kLiteral && !n.literal.is_null &&
         n.literal.type.kind == TypeKind::kString;
}

std::string ArgumentCount(const BuiltinInfo& b) {
  auto plural = [](int k) { return std::to_string(k) + (k == 1 ? " argument" : " arguments"); };
  if (b.max_args < 0) return "at least " + plural(b.min_args);
  if (b.min_args == b.max_args) return plural(b.min_args);
  if (b.max_args == b.min_args + 1) {
    return std::to_string(b.min_args) + " or " + plural(b.max_args);
  }
  return std::to_string(b.min_args) + " to " + plural(b.max_args);
}

}  // namespace

const BuiltinInfo* FindBuiltin(std::string_view name) {
  for (const auto& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const AggregateInfo* FindAggregate(std::string_view name) {
  for (const auto& a : kAggregates) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const AggregateInfo* FindAggregate(AggregateKind kind) {
  for (const auto& a : kAggregates) {
    if (a.kind == kind) return &a;
  }
  return nullptr;
}

std::vector<std::string> AggregateNames() {
  std::vector<std::string> out;
  for (const auto& a : kAggregates) out.emplace_back(a.name);
  return out;
}

std::vector<std::string> BuiltinNames() {
  std::vector<std::string> out;
  for (const auto& b : kBuiltins) out.emplace_back(b.name);
  return out;
}

bool IsNullLiteral(const Node& n) {
  return n.kind == NodeKind::kLiteral && n.literal.is_null && IsNull(n.literal.type);
}

Type ArithmeticType(const Type& a, const Type& b) {
  if (a.kind == TypeKind::kFloat64 || b.kind == TypeKind::kFloat64) return Type::Float64();
  return Type::Int64();
}

std::optional<Type> ComparisonType(const Node& a, const Node& b) {
  const Type& ta = a.type;
  const Type& tb = b.type;
  if (IsNull(ta)) return tb;
  if (IsNull(tb)) return ta;
  if (ta.is_numeric() && tb.is_numeric()) return ArithmeticType(ta, tb);
  if (ta.kind == TypeKind::kEnum && tb.kind == TypeKind::kString) {
    return IsStringLiteral(b) ? ta : Type::String();
  }
  if (tb.kind == TypeKind::kEnum && ta.kind == TypeKind::kString) {
    return IsStringLiteral(a) ? tb : Type::String();
  }
  if (ta == tb) return ta;
  return std::nullopt;
}

std::optional<Type> UnifyTypes(const Type& a, const Type& b) {
  if (IsNull(a)) return b;
  if (IsNull(b)) return a;
  if (a == b) return a;
  if (a.is_numeric() && b.is_numeric()) return Type::Float64();
  if ((a.kind == TypeKind::kEnum || a.kind == TypeKind::kString) &&
      (b.kind == TypeKind::kEnum || b.kind == TypeKind::kString)) {
    if (a.kind == TypeKind::kEnum && b.kind == TypeKind::kEnum) return std::nullopt;
    return Type::String();
  }
  return std::nullopt;
}

bool Checker::Fail(size_t offset, std::string message) {
  error_ = {offset, std::move(message)};
  return false;
}

bool Checker::Check(Node& n) {
  if (n.kind == NodeKind::kWindow) return CheckWindow(n);
  if (n.kind == NodeKind::kDuration) {
    return Fail(n.begin,
                "a duration can only give a window ('over 1h') or a half-life "
                "('decayed_sum(x, 1h)')");
  }
  for (auto& arg : n.args) {
    if (!Check(*arg)) return false;
    n.can_error = n.can_error || arg->can_error;
  }
  switch (n.kind) {
    case NodeKind::kLiteral:
      n.type = n.literal.type;
      return true;
    case NodeKind::kName:
      return CheckName(n);
    case NodeKind::kUnary:
      return CheckUnary(n);
    case NodeKind::kBinary:
      return CheckBinary(n);
    case NodeKind::kIsNull:
      n.type = Type::Bool();
      return true;
    case NodeKind::kIn:
    case NodeKind::kBetween:
      return CheckIn(n);
    case NodeKind::kCase:
      return CheckCase(n);
    case NodeKind::kCall:
      return CheckCall(n);
    case NodeKind::kDuration:
    case NodeKind::kWindow:
      break;
  }
  return Fail(n.begin, "unsupported expression");
}

bool Checker::CheckName(Node& n) {
  if (const Symbol* s = scope_.Find(n.name)) {
    n.type = s->type;
    n.column = s->column;
    return true;
  }
  if (const std::string* why = scope_.Unavailable(n.name)) {
    return Fail(n.begin, "'" + n.name + "' is not available here: " + *why);
  }
  return Fail(n.begin, "unknown name '" + n.name + "'" + DidYouMean(n.name, scope_.Names()));
}

bool Checker::CheckUnary(Node& n) {
  const Type& t = n.args[0]->type;
  if (n.op == Op::kNot) {
    if (!IsBool(t)) return Fail(n.op_offset, "'not' expects bool, found " + TypeName(t));
    n.type = Type::Bool();
    return true;
  }
  if (!IsNumeric(t)) {
    return Fail(n.op_offset,
                std::string("'") + OpText(n.op) + "' expects a number, found " + TypeName(t));
  }
  n.type = IsNull(t) ? Type::Int64() : t;
  if (n.op == Op::kNeg && n.type.kind == TypeKind::kInt64) n.can_error = true;
  return true;
}

bool Checker::CheckComparable(const Node& a, const Node& b, std::string_view what, size_t offset) {
  auto t = ComparisonType(a, b);
  if (!t) {
    return Fail(offset, "'" + std::string(what) + "' expects comparable types, found " +
                            TypeName(a.type) + " and " + TypeName(b.type));
  }
  if (t->kind == TypeKind::kEnum) {
    for (const Node* side : {&a, &b}) {
      if (IsStringLiteral(*side) && t->domain->Find(side->literal.s) < 0) {
        return Fail(side->begin, "'" + side->literal.s + "' is not a value of " + TypeName(*t));
      }
    }
  }
  return true;
}

bool Checker::CheckBinary(Node& n) {
  const Node& a = *n.args[0];
  const Node& b = *n.args[1];
  const std::string op = OpText(n.op);
  const std::string found = TypeName(a.type) + " and " + TypeName(b.type);
  switch (n.op) {
    case Op::kAnd:
    case Op::kOr:
      if (!IsBool(a.type) || !IsBool(b.type)) {
        return Fail(n.op_offset, "'" + op + "' expects bool, found " + found);
      }
      n.type = Type::Bool();
      return true;
    case Op::kConcat:
      if (!IsStringLike(a.type) || !IsStringLike(b.type)) {
        return Fail(n.op_offset,
                    "'||' expects strings, found " + found + "; use to_string(x) to convert");
      }
      n.type = Type::String();
      return true;
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
      if (!CheckComparable(a, b, op, n.op_offset)) return false;
      n.type = Type::Bool();
      return true;
    default:
      break;
  }
  if (!IsNumeric(a.type) || !IsNumeric(b.type)) {
    return Fail(n.op_offset, "'" + op + "' expects numbers, found " + found);
  }
  n.type = n.op == Op::kDiv ? Type::Float64() : ArithmeticType(a.type, b.type);
  if (n.type.kind == TypeKind::kInt64 && n.op != Op::kMod) n.can_error = true;
  return true;
}

bool Checker::CheckIn(Node& n) {
  const char* what = n.kind == NodeKind::kIn ? "in" : "between";
  for (size_t i = 1; i < n.args.size(); ++i) {
    if (!CheckComparable(*n.args[0], *n.args[i], what, n.args[i]->begin)) return false;
  }
  n.type = Type::Bool();
  return true;
}

bool Checker::Unify(const std::vector<const Node*>& nodes, std::string_view what, Type* out) {
  Type t = Type::Null();
  for (const Node* node : nodes) {
    auto u = UnifyTypes(t, node->type);
    if (!u) {
      return Fail(node->begin, std::string(what) + " have different types: " + TypeName(t) +
                                   " and " + TypeName(node->type));
    }
    t = *u;
  }
  *out = t;
  return true;
}

bool Checker::CheckCase(Node& n) {
  size_t first = n.has_subject ? 1 : 0;
  size_t pairs_end = n.args.size() - (n.has_else ? 1 : 0);
  std::vector<const Node*> results;
  for (size_t i = first; i < pairs_end; i += 2) {
    const Node& when = *n.args[i];
    if (n.has_subject) {
      if (!CheckComparable(*n.args[0], when, "case", when.begin)) return false;
    } else if (!IsBool(when.type)) {
      return Fail(when.begin, "'when' expects bool, found " + TypeName(when.type));
    }
    results.push_back(n.args[i + 1].get());
  }
  if (n.has_else) results.push_back(n.args.back().get());
  return Unify(results, "case branches", &n.type);
}

bool Checker::ExpectArg(const Node& call, size_t i, bool ok, std::string_view expected) {
  if (ok) return true;
  return Fail(call.args[i]->begin, "'" + call.name + "' expects " + std::string(expected) +
                                       " as argument " + std::to_string(i + 1) + ", found " +
                                       TypeName(call.args[i]->type));
}

bool Checker::CheckCall(Node& n) {
  const BuiltinInfo* b = FindBuiltin(n.name);
  if (!b && FindAggregate(n.name) != nullptr) {
    return Fail(n.begin, "'" + n.name +
                             "' is a windowed aggregate: say what it groups by and "
                             "over which window, as in '" +
                             n.name + "(" + (FindAggregate(n.name)->min_args > 0 ? "x" : "") +
                             ") over 1h by card_id' (no 'over' means all earlier events)");
  }
  if (!b) {
    return Fail(n.begin, "unknown function '" + n.name + "'" + DidYouMean(n.name, BuiltinNames()));
  }
  const int argc = static_cast<int>(n.args.size());
  if (argc < b->min_args || (b->max_args >= 0 && argc > b->max_args)) {
    return Fail(n.begin, "function '" + n.name + "' takes " + ArgumentCount(*b) + ", found " +
                             std::to_string(argc));
  }
  n.fn = b->id;
  auto arg = [&n](size_t i) -> const Type& { return n.args[i]->type; };
  auto all = [&](auto pred, std::string_view expected) {
    for (size_t i = 0; i < n.args.size(); ++i) {
      if (!ExpectArg(n, i, pred(arg(i)), expected)) return false;
    }
    return true;
  };
  switch (b->id) {
    case Builtin::kNone:
      break;
    case Builtin::kIf:
      if (!ExpectArg(n, 0, IsBool(arg(0)), "bool")) return false;
      return Unify({n.args[1].get(), n.args[2].get()}, "if branches", &n.type);
    case Builtin::kCoalesce: {
      std::vector<const Node*> nodes;
      for (auto& a : n.args) nodes.push_back(a.get());
      return Unify(nodes, "coalesce arguments", &n.type);
    }
    case Builtin::kNullIf:
      if (!CheckComparable(*n.args[0], *n.args[1], "nullif", n.args[1]->begin)) return false;
      n.type = IsNull(arg(0)) ? arg(1) : arg(0);
      return true;
    case Builtin::kAbs:
    case Builtin::kSign:
    case Builtin::kFloor:
    case Builtin::kCeil:
      if (!all(IsNumeric, "a number")) return false;
      n.type = IsNull(arg(0)) ? Type::Int64() : arg(0);
      if (b->id == Builtin::kAbs && n.type.kind == TypeKind::kInt64) n.can_error = true;
      return true;
    case Builtin::kRound:
      if (!ExpectArg(n, 0, IsNumeric(arg(0)), "a number")) return false;
      if (argc == 2) {
        if (!ExpectArg(n, 1, IsInt(arg(1)), "an integer")) return false;
        n.type = Type::Float64();
      } else {
        n.type = IsNull(arg(0)) ? Type::Int64() : arg(0);
      }
      return true;
    case Builtin::kLog:
    case Builtin::kLog10:
    case Builtin::kLog2:
    case Builtin::kLog1p:
    case Builtin::kExp:
    case Builtin::kSqrt:
    case Builtin::kPow:
      if (!all(IsNumeric, "a number")) return false;
      n.type = Type::Float64();
      return true;
    case Builtin::kMin:
    case Builtin::kMax:
    case Builtin::kClamp: {
      std::vector<const Node*> nodes;
      for (auto& a : n.args) nodes.push_back(a.get());
      if (!Unify(nodes, "'" + n.name + "' arguments", &n.type)) return false;
      if (IsNull(n.type)) n.type = Type::Int64();
      if (!IsOrdered(n.type)) {
        return Fail(n.begin, "'" + n.name + "' expects numbers, strings or timestamps, found " +
                                 TypeName(n.type));
      }
      return true;
    }
    case Builtin::kLower:
    case Builtin::kUpper:
    case Builtin::kTrim:
      if (!all(IsStringLike, "a string")) return false;
      n.type = Type::String();
      return true;
    case Builtin::kLength:
      if (!all(IsStringLike, "a string")) return false;
      n.type = Type::Int64();
      return true;
    case Builtin::kContains:
    case Builtin::kStartsWith:
    case Builtin::kEndsWith:
      if (!all(IsStringLike, "a string")) return false;
      n.type = Type::Bool();
      return true;
    case Builtin::kSubstr:
      if (!ExpectArg(n, 0, IsStringLike(arg(0)), "a string")) return false;
      for (size_t i = 1; i < n.args.size(); ++i) {
        if (!ExpectArg(n, i, IsInt(arg(i)), "an integer")) return false;
      }
      n.type = Type::String();
      return true;
    case Builtin::kConcat:
      for (size_t i = 0; i < n.args.size(); ++i) {
        if (!IsStringLike(arg(i))) {
          return Fail(n.args[i]->begin, "'concat' expects strings as argument " +
                                            std::to_string(i + 1) + ", found " + TypeName(arg(i)) +
                                            "; use to_string(x) to convert");
        }
      }
      n.type = Type::String();
      return true;
    case Builtin::kToFloat:
    case Builtin::kToInt: {
      const Type& t = arg(0);
      bool ok = IsNumeric(t) || t.kind == TypeKind::kBool || t.kind == TypeKind::kString;
      if (!ExpectArg(n, 0, ok, "a number, bool or string")) return false;
      n.type = b->id == Builtin::kToInt ? Type::Int64() : Type::Float64();
      return true;
    }
    case Builtin::kToString:
      n.type = Type::String();
      return true;
    case Builtin::kYear:
    case Builtin::kMonth:
    case Builtin::kDay:
    case Builtin::kHour:
    case Builtin::kMinute:
    case Builtin::kDayOfWeek:
      if (!all(IsTimestamp, "a timestamp")) return false;
      n.type = Type::Int64();
      return true;
    case Builtin::kSecondsBetween:
    case Builtin::kEpochSeconds:
      if (!all(IsTimestamp, "a timestamp")) return false;
      n.type = Type::Float64();
      return true;
  }
  return Fail(n.begin, "unsupported function '" + n.name + "'");
}

bool Checker::CheckWindow(Node& n) {
  const AggregateInfo* agg = FindAggregate(n.name);
  if (agg == nullptr) {
    return Fail(n.begin, "'" + n.name + "' is not a windowed aggregate" +
                             DidYouMean(n.name, AggregateNames()) + "; 'over' and 'by' follow " +
                             "one of: count, sum, avg, min, max, variance, stddev, first, last, " +
                             "previous, count_distinct, approx_count_distinct, time_since_last, " +
                             "time_since_first, " + "decayed_sum, decayed_avg");
  }
  if (!windows_allowed_) return Fail(n.begin, windows_why_not_);
  const int argc = static_cast<int>(n.args.size());
  if (argc < agg->min_args || argc > agg->max_args) {
    BuiltinInfo shape{agg->name, Builtin::kNone, agg->min_args, agg->max_args};
    return Fail(n.begin, "aggregate '" + n.name + "' takes " + ArgumentCount(shape) + ", found " +
                             std::to_string(argc));
  }
  const bool decayed =
      agg->kind == AggregateKind::kDecayedSum || agg->kind == AggregateKind::kDecayedAvg;
  for (size_t i = 0; i < n.args.size(); ++i) {
    Node& a = *n.args[i];
    if (decayed && i == 1) {
      if (a.kind != NodeKind::kDuration) {
        return Fail(a.begin, "the half-life of '" + n.name + "' must be a duration such as 1h");
      }
      if (a.duration_ns <= 0) return Fail(a.begin, "a half-life must be longer than 0");
      continue;
    }
    if (!Check(a)) return false;
    if (a.type.kind == TypeKind::kNull) {
      return Fail(a.begin, "the argument of '" + n.name + "' is always null; give it a type");
    }
  }
  const Type* value = n.args.empty() ? nullptr : &n.args[0]->type;
  auto expect = [&](bool ok, std::string_view expected) {
    return ok || Fail(n.args[0]->begin, "aggregate '" + n.name + "' expects " +
                                            std::string(expected) + ", found " + TypeName(*value));
  };
  switch (agg->kind) {
    case AggregateKind::kCount:
    case AggregateKind::kCountDistinct:
    case AggregateKind::kApproxCountDistinct:
      n.type = Type::Int64();
      break;
    case AggregateKind::kSum:
      if (!expect(value->is_numeric(), "int64 or float64")) return false;
      n.type = *value;
      n.can_error = value->kind == TypeKind::kInt64;
      break;
    case AggregateKind::kAvg:
    case AggregateKind::kVariance:
    case AggregateKind::kStddev:
    case AggregateKind::kDecayedSum:
    case AggregateKind::kDecayedAvg:
      if (!expect(value->is_numeric(), "int64 or float64")) return false;
      n.type = Type::Float64();
      break;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      if (!expect(value->is_numeric() || value->kind == TypeKind::kTimestamp,
                  "int64, float64 or timestamp")) {
        return false;
      }
      n.type = *value;
      break;
    case AggregateKind::kFirst:
    case AggregateKind::kLast:
    case AggregateKind::kPrevious:
      n.type = *value;
      break;
    case AggregateKind::kTimeSinceLast:
    case AggregateKind::kTimeSinceFirst:
      n.type = Type::Float64();
      break;
  }
  for (size_t i = 0; i < n.keys.size(); ++i) {
    Node& k = *n.keys[i];
    if (!CheckName(k)) return false;
    if (k.type.kind == TypeKind::kFloat64) {
      return Fail(k.begin, "cannot group by float64 '" + k.name +
                               "': equal-looking values may differ; group by to_int(...) or "
                               "round(...) defined as a feature");
    }
    for (size_t j = 0; j < i; ++j) {
      if (n.keys[j]->name == k.name) return Fail(k.begin, "key '" + k.name + "' is given twice");
    }
  }
  if (n.filter) {
    if (!Check(*n.filter)) return false;
    if (!IsBool(n.filter->type)) {
      return Fail(n.filter->begin,
                  "the 'where' condition must be bool, found " + TypeName(n.filter->type));
    }
  }
  for (const auto& a : n.args) n.can_error = n.can_error || a->can_error;
  if (n.filter) n.can_error = n.can_error || n.filter->can_error;
  return true;
}

}  // namespace sluice::expr::internal
