#include "expr/internal/codegen.h"

#include <cstring>

#include "common/check.h"
#include "expr/internal/checker.h"

namespace sluice::expr::internal {
namespace {

CmpOp ToCmp(Op op) {
  switch (op) {
    case Op::kEq:
      return CmpOp::kEq;
    case Op::kNe:
      return CmpOp::kNe;
    case Op::kLt:
      return CmpOp::kLt;
    case Op::kLe:
      return CmpOp::kLe;
    case Op::kGt:
      return CmpOp::kGt;
    default:
      return CmpOp::kGe;
  }
}

ArithOp ToArith(Op op) {
  switch (op) {
    case Op::kAdd:
      return ArithOp::kAdd;
    case Op::kSub:
      return ArithOp::kSub;
    case Op::kMul:
      return ArithOp::kMul;
    case Op::kDiv:
      return ArithOp::kDiv;
    case Op::kIntDiv:
      return ArithOp::kIntDiv;
    default:
      return ArithOp::kMod;
  }
}

bool IsComparison(Op op) {
  return op == Op::kEq || op == Op::kNe || op == Op::kLt || op == Op::kLe || op == Op::kGt ||
         op == Op::kGe;
}

std::string ConstantKey(const Value& v) {
  std::string key = TypeName(v.type) + "|";
  if (v.is_null) return key + "null";
  switch (v.type.kind) {
    case TypeKind::kFloat64: {
      uint64_t bits;
      std::memcpy(&bits, &v.f, sizeof bits);
      return key + std::to_string(bits);
    }
    case TypeKind::kString:
      return key + v.s;
    case TypeKind::kBool:
      return key + (v.b ? "1" : "0");
    default:
      return key + std::to_string(v.i);
  }
}

void CollectConcat(const Node& n, std::vector<const Node*>* parts) {
  if (n.kind == NodeKind::kBinary && n.op == Op::kConcat) {
    CollectConcat(*n.args[0], parts);
    CollectConcat(*n.args[1], parts);
  } else {
    parts->push_back(&n);
  }
}

}  // namespace

CodeGen::~CodeGen() {
  for (auto& [key, column] : temps_) pool_->free[key].push_back(column);
}

int CodeGen::Temp(const Type& t) {
  std::string key = TypeName(t);
  auto& free = pool_->free[key];
  int column;
  if (!free.empty()) {
    column = free.back();
    free.pop_back();
  } else {
    column = layout_->Add(ColumnSpec{"$tmp" + std::to_string(layout_->size()), t, std::nullopt});
  }
  temps_.emplace_back(std::move(key), column);
  return column;
}

int CodeGen::Constant(const Value& v) {
  std::string key = ConstantKey(v);
  auto it = pool_->constants.find(key);
  if (it != pool_->constants.end()) return it->second;
  int column = layout_->Add(ColumnSpec{"$const" + std::to_string(layout_->size()), v.type, v});
  pool_->constants.emplace(std::move(key), column);
  return column;
}

int CodeGen::As(const Operand& op, const Type& t) {
  if (op.literal != nullptr) {
    const Value& v = *op.literal;
    if (v.is_null) return Constant(Value::Null(t));
    if (t.kind == TypeKind::kFloat64 && v.type.kind == TypeKind::kInt64) {
      return Constant(Value::Float64(static_cast<double>(v.i)));
    }
    if (t.kind == TypeKind::kEnum && v.type.kind == TypeKind::kString) {
      int32_t index = t.domain->Find(v.s);
      SLUICE_CHECK(index >= 0);
      return Constant(Value::Enum(t, index));
    }
    SLUICE_CHECK(v.type == t);
    return Constant(v);
  }
  if (op.type == t) return op.column;
  if (op.type.kind == TypeKind::kNull) return Constant(Value::Null(t));
  int out = Temp(t);
  if (op.type.kind == TypeKind::kInt64 && t.kind == TypeKind::kFloat64) {
    Add(IntToFloat(op.column, out));
  } else if (op.type.kind == TypeKind::kEnum && t.kind == TypeKind::kString) {
    Add(EnumToString(op.type.domain, op.column, out));
  } else {
    ::sluice::internal::CheckFailed(__FILE__, __LINE__, "convertible types",
                                    TypeName(op.type) + " to " + TypeName(t));
  }
  return out;
}

int CodeGen::GuardColumn(int parent, int col, GuardTest test) {
  int out = Temp(Type::Bool());
  Add(Guard(parent, col, test, out));
  return out;
}

ErrorSite CodeGen::Site(const Node& n, int guard) {
  std::string message =
      "integer overflow in '" + std::string(text_.substr(n.begin, n.end - n.begin)) + "'";
  if (!context_.empty()) message += " (" + std::string(context_) + ")";
  return ErrorSite{errors_->Add(std::move(message)), guard};
}

int CodeGen::EmitRoot(const Node& root, const std::string& result_name) {
  int result = layout_->Add(ColumnSpec{result_name, root.type, std::nullopt});
  Operand v = Emit(root, -1, result);
  if (v.literal != nullptr || v.column != result) {
    if (root.type.kind == TypeKind::kNull) {
      Add(SetNull(result));
    } else {
      Add(Copy(root.type.kind, As(v, root.type), result));
    }
  }
  return result;
}

CodeGen::Operand CodeGen::Emit(const Node& n, int guard, int dest) {
  switch (n.kind) {
    case NodeKind::kLiteral:
      return {-1, n.type, &n.literal};
    case NodeKind::kName:
      return {n.column, n.type, nullptr};
    case NodeKind::kUnary: {
      Operand a = Emit(*n.args[0], guard, -1);
      if (n.op == Op::kNot) {
        int out = Out(n.type, dest);
        Add(Not(As(a, Type::Bool()), out));
        return {out, n.type};
      }
      if (n.op == Op::kPlus) return {As(a, n.type), n.type};
      if (a.literal != nullptr && !a.literal->is_null && n.type.kind == TypeKind::kFloat64) {
        return {Constant(Value::Float64(-a.literal->f)), n.type};
      }
      int out = Out(n.type, dest);
      if (n.type.kind == TypeKind::kInt64) {
        Add(IntNegate(As(a, n.type), out, Site(n, guard)));
      } else {
        Add(FloatNegate(As(a, n.type), out));
      }
      return {out, n.type};
    }
    case NodeKind::kBinary:
      return EmitBinary(n, guard, dest);
    case NodeKind::kWindow:
      return EmitWindow(n, dest);
    case NodeKind::kDuration:
      break;
    case NodeKind::kIsNull: {
      Operand a = Emit(*n.args[0], guard, -1);
      int column = a.literal != nullptr ? As(a, a.type) : a.column;
      int out = Out(n.type, dest);
      Add(IsNull(column, n.negated, out));
      return {out, n.type};
    }
    case NodeKind::kIn: {
      Operand x = Emit(*n.args[0], guard, -1);
      // A text against text literals: one set lookup per row.
      bool literals = x.type.kind == TypeKind::kString && n.args.size() > 2;
      std::vector<std::string> values;
      for (size_t i = 1; i < n.args.size() && literals; ++i) {
        const Node& item = *n.args[i];
        literals = item.kind == NodeKind::kLiteral && !item.literal.is_null &&
                   item.literal.type.kind == TypeKind::kString;
        if (literals) values.push_back(item.literal.s);
      }
      if (literals) {
        int out = n.negated ? Temp(n.type) : Out(n.type, dest);
        Add(StringInSet(x.column, std::move(values), out));
        if (!n.negated) return {out, n.type};
        int negated = Out(n.type, dest);
        Add(Not(out, negated));
        return {negated, n.type};
      }
      int acc = -1;
      for (size_t i = 1; i < n.args.size(); ++i) {
        Operand item = Emit(*n.args[i], guard, -1);
        int eq = EmitCompare(CmpOp::kEq, *n.args[0], x, *n.args[i], item, -1);
        if (acc < 0) {
          acc = eq;
        } else {
          int out = (i + 1 == n.args.size() && !n.negated) ? Out(n.type, dest) : Temp(n.type);
          Add(Or(acc, eq, out));
          acc = out;
        }
      }
      if (n.negated) {
        int out = Out(n.type, dest);
        Add(Not(acc, out));
        acc = out;
      }
      return {acc, n.type};
    }
    case NodeKind::kBetween: {
      Operand x = Emit(*n.args[0], guard, -1);
      Operand lo = Emit(*n.args[1], guard, -1);
      Operand hi = Emit(*n.args[2], guard, -1);
      int ge = EmitCompare(CmpOp::kGe, *n.args[0], x, *n.args[1], lo, -1);
      int le = EmitCompare(CmpOp::kLe, *n.args[0], x, *n.args[2], hi, -1);
      int both = n.negated ? Temp(n.type) : Out(n.type, dest);
      Add(And(ge, le, both));
      if (!n.negated) return {both, n.type};
      int out = Out(n.type, dest);
      Add(Not(both, out));
      return {out, n.type};
    }
    case NodeKind::kCase:
      return EmitBranches(n, guard, dest);
    case NodeKind::kCall:
      return EmitCall(n, guard, dest);
  }
  ::sluice::internal::CheckFailed(__FILE__, __LINE__, "known node kind", "");
}

int CodeGen::EmitCompare(CmpOp op, const Node& na, const Operand& a, const Node& nb,
                         const Operand& b, int dest) {
  auto t = ComparisonType(na, nb);
  SLUICE_CHECK(t.has_value());
  int out = Out(Type::Bool(), dest);
  if (t->kind == TypeKind::kNull) {
    Add(SetNull(out));
    return out;
  }
  Add(Compare(op, t->kind, As(a, *t), As(b, *t), out));
  return out;
}

CodeGen::Operand CodeGen::EmitBinary(const Node& n, int guard, int dest) {
  if (n.op == Op::kConcat) {
    std::vector<const Node*> parts;
    CollectConcat(n, &parts);
    std::vector<int> columns;
    for (const Node* p : parts) columns.push_back(As(Emit(*p, guard, -1), Type::String()));
    int out = Out(n.type, dest);
    Add(Concat(std::move(columns), out));
    return {out, n.type};
  }
  Operand a = Emit(*n.args[0], guard, -1);
  if (n.op == Op::kAnd || n.op == Op::kOr) {
    int ca = As(a, Type::Bool());
    int right_guard = guard;
    if (n.args[1]->can_error) {
      right_guard =
          GuardColumn(guard, ca, n.op == Op::kAnd ? GuardTest::kNotFalse : GuardTest::kNotTrue);
    }
    int cb = As(Emit(*n.args[1], right_guard, -1), Type::Bool());
    int out = Out(n.type, dest);
    Add(n.op == Op::kAnd ? And(ca, cb, out) : Or(ca, cb, out));
    return {out, n.type};
  }
  Operand b = Emit(*n.args[1], guard, -1);
  if (IsComparison(n.op)) {
    return {EmitCompare(ToCmp(n.op), *n.args[0], a, *n.args[1], b, dest), n.type};
  }
  int ca = As(a, n.type);
  int cb = As(b, n.type);
  int out = Out(n.type, dest);
  if (n.type.kind == TypeKind::kInt64) {
    Add(IntArith(ToArith(n.op), ca, cb, out, Site(n, guard)));
  } else {
    Add(FloatArith(ToArith(n.op), ca, cb, out));
  }
  return {out, n.type};
}

// if(c, a, b) and both forms of case.
CodeGen::Operand CodeGen::EmitBranches(const Node& n, int guard, int dest) {
  std::vector<const Node*> conds, values;
  const Node* subject = nullptr;
  const Node* otherwise = nullptr;
  if (n.kind == NodeKind::kCall) {
    conds = {n.args[0].get()};
    values = {n.args[1].get()};
    otherwise = n.args[2].get();
  } else {
    size_t first = 0;
    size_t pairs_end = n.args.size() - (n.has_else ? 1 : 0);
    if (n.has_subject) {
      subject = n.args[0].get();
      first = 1;
    }
    for (size_t i = first; i < pairs_end; i += 2) {
      conds.push_back(n.args[i].get());
      values.push_back(n.args[i + 1].get());
    }
    if (n.has_else) otherwise = n.args.back().get();
  }
  const Type& t = n.type;
  const bool guarded = n.can_error;
  Operand subject_value;
  if (subject != nullptr) subject_value = Emit(*subject, guard, -1);
  int remaining = guard;  // rows no earlier condition has taken
  std::vector<int> cond_columns, value_columns;
  for (size_t i = 0; i < conds.size(); ++i) {
    Operand c = Emit(*conds[i], remaining, -1);
    int cond = subject != nullptr
                   ? EmitCompare(CmpOp::kEq, *subject, subject_value, *conds[i], c, -1)
                   : As(c, Type::Bool());
    int branch_guard = remaining;
    if (guarded) {
      branch_guard = GuardColumn(remaining, cond, GuardTest::kTrue);
      remaining = GuardColumn(remaining, cond, GuardTest::kNotTrue);
    }
    cond_columns.push_back(cond);
    value_columns.push_back(As(Emit(*values[i], branch_guard, -1), t));
  }
  int result =
      otherwise != nullptr ? As(Emit(*otherwise, remaining, -1), t) : Constant(Value::Null(t));
  for (size_t i = cond_columns.size(); i-- > 0;) {
    int out = i == 0 ? Out(t, dest) : Temp(t);
    Add(Select(t.kind, cond_columns[i], value_columns[i], result, out));
    result = out;
  }
  return {result, t};
}

CodeGen::Operand CodeGen::EmitCoalesce(const Node& n, int guard, int dest) {
  const Type& t = n.type;
  int result = As(Emit(*n.args[0], guard, -1), t);
  for (size_t i = 1; i < n.args.size(); ++i) {
    int g = guard;
    if (n.args[i]->can_error) g = GuardColumn(guard, result, GuardTest::kNull);
    int v = As(Emit(*n.args[i], g, -1), t);
    int out = i + 1 == n.args.size() ? Out(t, dest) : Temp(t);
    Add(Coalesce(t.kind, result, v, out));
    result = out;
  }
  return {result, t};
}

CodeGen::Operand CodeGen::EmitCall(const Node& n, int guard, int dest) {
  if (n.fn == Builtin::kIf) return EmitBranches(n, guard, dest);
  if (n.fn == Builtin::kCoalesce) return EmitCoalesce(n, guard, dest);
  std::vector<Operand> args;
  for (const auto& a : n.args) args.push_back(Emit(*a, guard, -1));
  const Type& t = n.type;
  const Type f64 = Type::Float64();
  const Type i64 = Type::Int64();
  const Type str = Type::String();
  const Type ts = Type::Timestamp();
  auto arg = [&](size_t i, const Type& as) { return As(args[i], as); };
  auto chain = [&](auto make) {
    int result = arg(0, t);
    for (size_t i = 1; i < args.size(); ++i) {
      int out = i + 1 == args.size() ? Out(t, dest) : Temp(t);
      Add(make(result, arg(i, t), out));
      result = out;
    }
    return Operand{result, t};
  };
  auto unary = [&](auto make, const Type& as) {
    int out = Out(t, dest);
    Add(make(arg(0, as), out));
    return Operand{out, t};
  };
  auto binary = [&](auto make, const Type& as0, const Type& as1) {
    int out = Out(t, dest);
    Add(make(arg(0, as0), arg(1, as1), out));
    return Operand{out, t};
  };
  auto float_math = [&](MathOp op) {
    return unary([op](int a, int out) { return FloatMath(op, a, out); }, f64);
  };
  switch (n.fn) {
    case Builtin::kNone:
    case Builtin::kIf:
    case Builtin::kCoalesce:
      break;
    case Builtin::kNullIf: {
      int eq = EmitCompare(CmpOp::kEq, *n.args[0], args[0], *n.args[1], args[1], -1);
      int out = Out(t, dest);
      Add(NullIf(t.kind, arg(0, t), eq, out));
      return {out, t};
    }
    case Builtin::kAbs:
      if (t.kind == TypeKind::kInt64) {
        return unary([&](int a, int out) { return IntAbs(a, out, Site(n, guard)); }, t);
      }
      return float_math(MathOp::kAbs);
    case Builtin::kSign:
      if (t.kind == TypeKind::kInt64) return unary(IntSign, t);
      return float_math(MathOp::kSign);
    case Builtin::kFloor:
    case Builtin::kCeil:
    case Builtin::kRound:
      if (args.size() == 2) {
        return binary(
            [](int a, int b, int out) { return FloatMath2(Math2Op::kRoundDigits, a, b, out); }, f64,
            i64);
      }
      if (t.kind == TypeKind::kInt64) return {arg(0, t), t};
      return float_math(n.fn == Builtin::kFloor  ? MathOp::kFloor
                        : n.fn == Builtin::kCeil ? MathOp::kCeil
                                                 : MathOp::kRound);
    case Builtin::kLog:
      if (args.size() == 2) {
        return binary(
            [](int a, int b, int out) { return FloatMath2(Math2Op::kLogBase, a, b, out); }, f64,
            f64);
      }
      return float_math(MathOp::kLog);
    case Builtin::kLog10:
      return float_math(MathOp::kLog10);
    case Builtin::kLog2:
      return float_math(MathOp::kLog2);
    case Builtin::kLog1p:
      return float_math(MathOp::kLog1p);
    case Builtin::kExp:
      return float_math(MathOp::kExp);
    case Builtin::kSqrt:
      return float_math(MathOp::kSqrt);
    case Builtin::kPow:
      return binary([](int a, int b, int out) { return FloatMath2(Math2Op::kPow, a, b, out); }, f64,
                    f64);
    case Builtin::kMin:
    case Builtin::kMax: {
      const bool max = n.fn == Builtin::kMax;
      return chain([&](int a, int b, int out) { return MinMax(max, t.kind, a, b, out); });
    }
    case Builtin::kClamp: {
      int out = Out(t, dest);
      Add(Clamp(t.kind, arg(0, t), arg(1, t), arg(2, t), out));
      return {out, t};
    }
    case Builtin::kLower:
    case Builtin::kUpper:
    case Builtin::kTrim: {
      StringOp op = n.fn == Builtin::kLower   ? StringOp::kLower
                    : n.fn == Builtin::kUpper ? StringOp::kUpper
                                              : StringOp::kTrim;
      return unary([op](int a, int out) { return StringMap(op, a, out); }, str);
    }
    case Builtin::kLength:
      return unary(Length, str);
    case Builtin::kContains:
    case Builtin::kStartsWith:
    case Builtin::kEndsWith: {
      MatchOp op = n.fn == Builtin::kContains     ? MatchOp::kContains
                   : n.fn == Builtin::kStartsWith ? MatchOp::kStartsWith
                                                  : MatchOp::kEndsWith;
      return binary([op](int a, int b, int out) { return StringMatch(op, a, b, out); }, str, str);
    }
    case Builtin::kSubstr: {
      int s = arg(0, str);
      int start = arg(1, i64);
      int length = args.size() == 3 ? arg(2, i64) : -1;
      int out = Out(t, dest);
      Add(Substr(s, start, length, out));
      return {out, t};
    }
    case Builtin::kConcat: {
      std::vector<int> columns;
      for (size_t i = 0; i < args.size(); ++i) columns.push_back(arg(i, str));
      int out = Out(t, dest);
      Add(Concat(std::move(columns), out));
      return {out, t};
    }
    case Builtin::kToFloat:
    case Builtin::kToInt: {
      const Type& from = args[0].type;
      if (from.kind == TypeKind::kNull || from == t) return {arg(0, t), t};
      const bool to_int = n.fn == Builtin::kToInt;
      switch (from.kind) {
        case TypeKind::kInt64:
          return unary(IntToFloat, from);
        case TypeKind::kFloat64:
          return unary(FloatToInt, from);
        case TypeKind::kBool:
          return unary(to_int ? BoolToInt : BoolToFloat, from);
        case TypeKind::kString:
          return unary(to_int ? StringToInt : StringToFloat, from);
        default:
          break;
      }
      break;
    }
    case Builtin::kToString: {
      const Type from = args[0].type;
      if (from.kind == TypeKind::kNull) return {Constant(Value::Null(t)), t};
      return unary([&from](int a, int out) { return ToString(from, a, out); }, from);
    }
    case Builtin::kYear:
    case Builtin::kMonth:
    case Builtin::kDay:
    case Builtin::kHour:
    case Builtin::kMinute:
    case Builtin::kDayOfWeek: {
      TimePart part =
          static_cast<TimePart>(static_cast<int>(n.fn) - static_cast<int>(Builtin::kYear));
      return unary([part](int a, int out) { return TimePartOf(part, a, out); }, ts);
    }
    case Builtin::kSecondsBetween:
      return binary(SecondsBetween, ts, ts);
    case Builtin::kEpochSeconds:
      return unary(EpochSeconds, ts);
  }
  ::sluice::internal::CheckFailed(__FILE__, __LINE__, "known function", n.name);
}

CodeGen::Operand CodeGen::EmitWindow(const Node& n, int dest) {
  SLUICE_CHECK(windows_ != nullptr);
  WindowCall call;
  call.kind = FindAggregate(n.name)->kind;
  auto span = [this](const Node& x) { return std::string(text_.substr(x.begin, x.end - x.begin)); };
  std::string signature = n.name + "(";
  if (!n.args.empty()) {
    Operand v = Emit(*n.args[0], -1, -1);
    call.value = As(v, n.args[0]->type);
    call.value_type = n.args[0]->type;
    call.value_text = span(*n.args[0]);
    if (n.args[0]->kind == NodeKind::kName && scope_ != nullptr) {
      const Symbol* sym = scope_->Find(n.args[0]->name);
      call.value_never_null = sym != nullptr && sym->never_null;
    }
    signature += call.value_text;
  }
  if (n.args.size() > 1) {
    call.half_life_ns = n.args[1]->duration_ns;
    signature += ", " + std::to_string(call.half_life_ns) + "ns";
  }
  signature += ")";
  call.window_ns = n.duration_ns;
  if (call.window_ns > 0) signature += " over " + std::to_string(call.window_ns) + "ns";
  if (!n.keys.empty()) signature += " by (";
  for (size_t i = 0; i < n.keys.size(); ++i) {
    call.keys.push_back(n.keys[i]->column);
    call.key_types.push_back(n.keys[i]->type);
    signature += (i > 0 ? ", " : "") + n.keys[i]->name;
  }
  if (!n.keys.empty()) signature += ")";
  if (n.filter) {
    Operand f = Emit(*n.filter, -1, -1);
    call.filter = As(f, Type::Bool());
    call.filter_text = span(*n.filter);
    signature += " where " + call.filter_text;
  }
  call.exclude_current = n.exclude_current;
  if (call.exclude_current) signature += " exclude current";
  call.result = Out(n.type, dest);
  call.result_type = n.type;
  if (call.kind == AggregateKind::kSum && n.type.kind == TypeKind::kInt64) {
    std::string message = "integer overflow in '" + span(n) + "'";
    if (!context_.empty()) message += " (" + std::string(context_) + ")";
    call.overflow_error = errors_->Add(std::move(message));
  }
  call.lineage = signature + " {" + NameLineage(n, scope_) + "}";
  for (const auto& k : n.keys) call.key_lineage += NameLineage(*k, scope_);
  call.signature = std::move(signature);
  const int result = call.result;
  Add(std::make_unique<StepMarker>(windows_->Register(std::move(call))));
  return {result, n.type};
}

namespace {

void AppendNames(const Node& n, const Scope* scope, std::string* out) {
  if (n.kind == NodeKind::kName) {
    const Symbol* sym = scope != nullptr ? scope->Find(n.name) : nullptr;
    *out += n.name;
    *out += ':';
    if (sym == nullptr) {
      *out += TypeName(n.type);
    } else if (sym->definition.empty()) {
      *out += TypeName(sym->type);
    } else {
      *out += sym->definition;
    }
    *out += ';';
  }
  for (const auto& a : n.args) AppendNames(*a, scope, out);
  for (const auto& k : n.keys) AppendNames(*k, scope, out);
  if (n.filter) AppendNames(*n.filter, scope, out);
}

}  // namespace

std::string NameLineage(const Node& n, const Scope* scope) {
  std::string out;
  AppendNames(n, scope, &out);
  return out;
}

}  // namespace sluice::expr::internal
