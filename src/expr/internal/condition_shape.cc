#include "expr/internal/condition_shape.h"

namespace sluice::expr::internal {

namespace {

using Kind = ColumnTest::Kind;

// A non-null literal, or a negated number ("-5" parses as a negation).
bool IsConstant(const Node& n) {
  if (n.kind == NodeKind::kUnary && n.op == Op::kNeg) {
    const Node& a = *n.args[0];
    return a.kind == NodeKind::kLiteral && !a.literal.is_null && a.literal.type.is_numeric();
  }
  return n.kind == NodeKind::kLiteral && !n.literal.is_null;
}

// The literal as the column compares it: enums compare by value name.
Value AsTestValue(const Node& n) {
  if (n.kind == NodeKind::kUnary) {
    Value v = n.args[0]->literal;
    v.i = -v.i;
    v.f = -v.f;
    return v;
  }
  return n.literal;
}

Kind Mirror(Kind k) {
  switch (k) {
    case Kind::kLess:
      return Kind::kGreater;
    case Kind::kLessEqual:
      return Kind::kGreaterEqual;
    case Kind::kGreater:
      return Kind::kLess;
    case Kind::kGreaterEqual:
      return Kind::kLessEqual;
    default:
      return k;
  }
}

std::optional<Kind> CompareKind(Op op) {
  switch (op) {
    case Op::kLt:
      return Kind::kLess;
    case Op::kLe:
      return Kind::kLessEqual;
    case Op::kGt:
      return Kind::kGreater;
    case Op::kGe:
      return Kind::kGreaterEqual;
    case Op::kEq:
      return Kind::kEqual;
    case Op::kNe:
      return Kind::kNotEqual;
    default:
      return std::nullopt;
  }
}

bool IsColumn(const Node& n) { return n.kind == NodeKind::kName && n.column >= 0; }

// Appends the tests of `n` to `shape`; marks it incomplete where it cannot.
void Read(const Node& n, ConditionShape& shape) {
  switch (n.kind) {
    case NodeKind::kLiteral:
      if (!n.literal.is_null && n.literal.type.kind == TypeKind::kBool) {
        if (!n.literal.b) shape.constant = false;
        return;  // `true` adds nothing to a conjunction
      }
      shape.complete = false;
      return;
    case NodeKind::kName:
      if (IsColumn(n) && n.type.kind == TypeKind::kBool) {
        shape.tests.push_back({n.column, n.type, Kind::kEqual, {Value::Bool(true)}});
        return;
      }
      break;
    case NodeKind::kUnary:
      if (n.op == Op::kNot && IsColumn(*n.args[0]) && n.args[0]->type.kind == TypeKind::kBool) {
        shape.tests.push_back(
            {n.args[0]->column, n.args[0]->type, Kind::kEqual, {Value::Bool(false)}});
        return;
      }
      break;
    case NodeKind::kBinary: {
      if (n.op == Op::kAnd) {
        Read(*n.args[0], shape);
        Read(*n.args[1], shape);
        return;
      }
      auto kind = CompareKind(n.op);
      if (!kind) break;
      const Node& a = *n.args[0];
      const Node& b = *n.args[1];
      if (IsColumn(a) && IsConstant(b)) {
        shape.tests.push_back({a.column, a.type, *kind, {AsTestValue(b)}});
        return;
      }
      if (IsConstant(a) && IsColumn(b)) {
        shape.tests.push_back({b.column, b.type, Mirror(*kind), {AsTestValue(a)}});
        return;
      }
      break;
    }
    case NodeKind::kIsNull:
      if (IsColumn(*n.args[0])) {
        shape.tests.push_back({n.args[0]->column, n.args[0]->type,
                               n.negated ? Kind::kIsNotNull : Kind::kIsNull,
                               {}});
        return;
      }
      break;
    case NodeKind::kIn: {
      if (!IsColumn(*n.args[0])) break;
      ColumnTest t{n.args[0]->column, n.args[0]->type, n.negated ? Kind::kNotIn : Kind::kIn, {}};
      for (size_t i = 1; i < n.args.size(); ++i) {
        if (!IsConstant(*n.args[i])) {
          shape.complete = false;
          return;
        }
        t.values.push_back(AsTestValue(*n.args[i]));
      }
      shape.tests.push_back(std::move(t));
      return;
    }
    case NodeKind::kBetween:
      if (!n.negated && IsColumn(*n.args[0]) && IsConstant(*n.args[1]) &&
          IsConstant(*n.args[2])) {
        shape.tests.push_back(
            {n.args[0]->column, n.args[0]->type, Kind::kGreaterEqual, {AsTestValue(*n.args[1])}});
        shape.tests.push_back(
            {n.args[0]->column, n.args[0]->type, Kind::kLessEqual, {AsTestValue(*n.args[2])}});
        return;
      }
      break;
    default:
      break;
  }
  shape.complete = false;
}

}  // namespace

ConditionShape ReadConditionShape(const Node& root) {
  ConditionShape shape;
  if (root.kind == NodeKind::kLiteral && !root.literal.is_null &&
      root.literal.type.kind == TypeKind::kBool) {
    shape.constant = root.literal.b;
    return shape;
  }
  Read(root, shape);
  return shape;
}

}  // namespace sluice::expr::internal
