#include "expr/internal/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "types/timestamp.h"

namespace sluice::expr::internal {
namespace {

NodePtr MakeNode(NodeKind kind, size_t begin, size_t end) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->begin = begin;
  n->end = end;
  n->op_offset = begin;
  return n;
}

NodePtr MakeBinary(Op op, NodePtr a, NodePtr b, size_t op_offset) {
  auto n = MakeNode(NodeKind::kBinary, a->begin, b->end);
  n->op = op;
  n->op_offset = op_offset;
  n->args.push_back(std::move(a));
  n->args.push_back(std::move(b));
  return n;
}

std::optional<Op> ComparisonOp(const Token& t) {
  if (t.kind != TokenKind::kSymbol) return std::nullopt;
  if (t.text == "=" || t.text == "==") return Op::kEq;
  if (t.text == "!=" || t.text == "<>") return Op::kNe;
  if (t.text == "<") return Op::kLt;
  if (t.text == "<=") return Op::kLe;
  if (t.text == ">") return Op::kGt;
  if (t.text == ">=") return Op::kGe;
  return std::nullopt;
}

// Words that cannot be names: they would make the grammar ambiguous.
bool IsReserved(const Token& t) {
  static constexpr std::string_view kReserved[] = {"and",  "or",      "not",  "is",   "null",
                                                   "in",   "between", "case", "when", "then",
                                                   "else", "end",     "true", "false"};
  for (std::string_view kw : kReserved) {
    if (IsKeyword(t, kw)) return true;
  }
  return false;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

const char* OpText(Op op) {
  switch (op) {
    case Op::kNone:
      return "?";
    case Op::kNeg:
      return "-";
    case Op::kPlus:
      return "+";
    case Op::kNot:
      return "not";
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kIntDiv:
      return "//";
    case Op::kMod:
      return "%";
    case Op::kConcat:
      return "||";
    case Op::kEq:
      return "=";
    case Op::kNe:
      return "!=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
  }
  return "?";
}

const Token& Parser::Peek(size_t ahead) const {
  size_t i = pos_ + ahead;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

const Token& Parser::Next() {
  const Token& t = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

NodePtr Parser::Fail(size_t offset, std::string message) {
  if (!failed_) {
    failed_ = true;
    error_ = {offset, std::move(message)};
  }
  return nullptr;
}

NodePtr Parser::Unexpected(const Token& t, std::string_view expected) {
  return Fail(t.offset, "expected " + std::string(expected) + ", found " + DescribeToken(t));
}

NodePtr Parser::Sealed(NodePtr n) {
  if (!n) return n;
  uint32_t depth = 0;
  for (const auto& a : n->args) depth = std::max(depth, a->depth);
  if (n->filter) depth = std::max(depth, n->filter->depth);
  n->depth = depth + 1;
  if (n->depth > static_cast<uint32_t>(kMaxDepth)) {
    return Fail(n->op_offset, "expression is nested too deeply (more than " +
                                  std::to_string(kMaxDepth) + " levels)");
  }
  return n;
}

NodePtr Parser::ParseExpression() {
  NodePtr e = ParseOr();
  if (!e) return nullptr;
  if (Peek().kind != TokenKind::kEnd)
    return Fail(Peek().offset, "unexpected " + DescribeToken(Peek()));
  return e;
}

NodePtr Parser::ParseOr() {
  NestingGuard guard(&nesting_);
  if (nesting_ > kMaxDepth) {
    return Fail(Peek().offset, "expression is nested too deeply (more than " +
                                   std::to_string(kMaxDepth) + " levels)");
  }
  NodePtr left = ParseAnd();
  while (left && IsKeyword(Peek(), "or")) {
    size_t at = Next().offset;
    NodePtr right = ParseAnd();
    if (!right) return nullptr;
    left = Sealed(MakeBinary(Op::kOr, std::move(left), std::move(right), at));
  }
  return left;
}

NodePtr Parser::ParseAnd() {
  NodePtr left = ParseNot();
  while (left && IsKeyword(Peek(), "and")) {
    size_t at = Next().offset;
    NodePtr right = ParseNot();
    if (!right) return nullptr;
    left = Sealed(MakeBinary(Op::kAnd, std::move(left), std::move(right), at));
  }
  return left;
}

NodePtr Parser::ParseNot() {
  if (IsKeyword(Peek(), "not")) {
    NestingGuard guard(&nesting_);
    if (nesting_ > kMaxDepth) {
      return Fail(Peek().offset, "expression is nested too deeply (more than " +
                                     std::to_string(kMaxDepth) + " levels)");
    }
    const Token& t = Next();
    NodePtr operand = ParseNot();
    if (!operand) return nullptr;
    auto n = MakeNode(NodeKind::kUnary, t.offset, operand->end);
    n->op = Op::kNot;
    n->args.push_back(std::move(operand));
    return Sealed(std::move(n));
  }
  return ParseComparison();
}

NodePtr Parser::ParseComparison() {
  NodePtr left = ParseAdditive();
  while (left) {
    const Token& t = Peek();
    if (auto op = ComparisonOp(t)) {
      Next();
      NodePtr right = ParseAdditive();
      if (!right) return nullptr;
      left = Sealed(MakeBinary(*op, std::move(left), std::move(right), t.offset));
      continue;
    }
    if (IsKeyword(t, "is")) {
      Next();
      bool negated = false;
      if (IsKeyword(Peek(), "not")) {
        Next();
        negated = true;
      }
      if (!IsKeyword(Peek(), "null")) {
        return Unexpected(Peek(),
                          negated ? "'null' after 'is not'" : "'null' or 'not null' after 'is'");
      }
      const Token& null_token = Next();
      auto n = MakeNode(NodeKind::kIsNull, left->begin, null_token.end);
      n->op_offset = t.offset;
      n->negated = negated;
      n->args.push_back(std::move(left));
      left = Sealed(std::move(n));
      continue;
    }
    bool negated = false;
    size_t at = t.offset;
    if (IsKeyword(t, "not")) {
      if (!IsKeyword(Peek(1), "in") && !IsKeyword(Peek(1), "between")) {
        Next();
        return Unexpected(Peek(), "'in' or 'between' after 'not'");
      }
      Next();
      negated = true;
    }
    if (IsKeyword(Peek(), "in")) {
      const Token& in = Next();
      if (Peek().kind != TokenKind::kSymbol || Peek().text != "(") {
        return Unexpected(Peek(), "'(' after 'in'");
      }
      const Token& open = Next();
      auto n = MakeNode(NodeKind::kIn, left->begin, 0);
      n->op_offset = negated ? at : in.offset;
      n->negated = negated;
      n->args.push_back(std::move(left));
      while (true) {
        NodePtr item = ParseOr();
        if (!item) return nullptr;
        n->args.push_back(std::move(item));
        const Token& sep = Peek();
        if (sep.kind == TokenKind::kSymbol && sep.text == ",") {
          Next();
          continue;
        }
        if (sep.kind == TokenKind::kSymbol && sep.text == ")") {
          n->end = Next().end;
          break;
        }
        return Fail(sep.offset, "expected ',' or ')' to close '(' at column " +
                                    std::to_string(column_of_(open.offset)));
      }
      left = Sealed(std::move(n));
      continue;
    }
    if (IsKeyword(Peek(), "between")) {
      const Token& between = Next();
      NodePtr lo = ParseAdditive();
      if (!lo) return nullptr;
      if (!IsKeyword(Peek(), "and")) return Unexpected(Peek(), "'and' after 'between ...'");
      Next();
      NodePtr hi = ParseAdditive();
      if (!hi) return nullptr;
      auto n = MakeNode(NodeKind::kBetween, left->begin, hi->end);
      n->op_offset = negated ? at : between.offset;
      n->negated = negated;
      n->args.push_back(std::move(left));
      n->args.push_back(std::move(lo));
      n->args.push_back(std::move(hi));
      left = Sealed(std::move(n));
      continue;
    }
    break;
  }
  return left;
}

NodePtr Parser::ParseAdditive() {
  NodePtr left = ParseMultiplicative();
  while (left) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kSymbol) break;
    Op op;
    if (t.text == "+") {
      op = Op::kAdd;
    } else if (t.text == "-") {
      op = Op::kSub;
    } else if (t.text == "||") {
      op = Op::kConcat;
    } else {
      break;
    }
    Next();
    NodePtr right = ParseMultiplicative();
    if (!right) return nullptr;
    left = Sealed(MakeBinary(op, std::move(left), std::move(right), t.offset));
  }
  return left;
}

NodePtr Parser::ParseMultiplicative() {
  NodePtr left = ParseUnary();
  while (left) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kSymbol) break;
    Op op;
    if (t.text == "*") {
      op = Op::kMul;
    } else if (t.text == "/") {
      op = Op::kDiv;
    } else if (t.text == "//") {
      op = Op::kIntDiv;
    } else if (t.text == "%") {
      op = Op::kMod;
    } else {
      break;
    }
    Next();
    NodePtr right = ParseUnary();
    if (!right) return nullptr;
    left = Sealed(MakeBinary(op, std::move(left), std::move(right), t.offset));
  }
  return left;
}

NodePtr Parser::ParseUnary() {
  const Token& t = Peek();
  if (t.kind == TokenKind::kSymbol && (t.text == "-" || t.text == "+")) {
    Next();
    // "-9223372036854775808" is a literal, not the negation of an
    // out-of-range one.
    if (t.text == "-" && Peek().kind == TokenKind::kInt) {
      return ParseIntLiteral(Next(), /*negative=*/true, t.offset);
    }
    NestingGuard guard(&nesting_);
    if (nesting_ > kMaxDepth) {
      return Fail(t.offset, "expression is nested too deeply (more than " +
                                std::to_string(kMaxDepth) + " levels)");
    }
    NodePtr operand = ParseUnary();
    if (!operand) return nullptr;
    auto n = MakeNode(NodeKind::kUnary, t.offset, operand->end);
    n->op = t.text == "-" ? Op::kNeg : Op::kPlus;
    n->args.push_back(std::move(operand));
    return Sealed(std::move(n));
  }
  return ParsePrimary();
}

NodePtr Parser::ParseIntLiteral(const Token& t, bool negative, size_t begin) {
  // Accumulate as a negative number so that INT64_MIN fits.
  int64_t v = 0;
  bool overflow = false;
  for (char c : t.text) {
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, c - '0', &v)) {
      overflow = true;
      break;
    }
  }
  if (!overflow && !negative && v == std::numeric_limits<int64_t>::min()) overflow = true;
  if (overflow) {
    return Fail(begin, "integer literal " + std::string(negative ? "-" : "") + t.text +
                           " is out of range for int64");
  }
  auto n = MakeNode(NodeKind::kLiteral, begin, t.end);
  n->literal = Value::Int64(negative ? v : -v);
  return n;
}

NodePtr Parser::ParsePrimary() {
  const Token& t = Peek();
  switch (t.kind) {
    case TokenKind::kEnd:
      return Unexpected(t, "an expression");
    case TokenKind::kInt:
      return ParseIntLiteral(Next(), /*negative=*/false, t.offset);
    case TokenKind::kFloat: {
      Next();
      double v = 0;
      const char* b = t.text.data();
      const char* e = b + t.text.size();
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc::result_out_of_range || (ec == std::errc() && !std::isfinite(v))) {
        return Fail(t.offset, "float literal " + t.text + " is out of range for float64");
      }
      if (ec != std::errc() || p != e) return Fail(t.offset, "invalid number '" + t.text + "'");
      auto n = MakeNode(NodeKind::kLiteral, t.offset, t.end);
      n->literal = Value::Float64(v);
      return n;
    }
    case TokenKind::kDuration: {
      Next();
      auto ns = DurationNanos(t.text);
      if (!ns) return Fail(t.offset, "duration " + t.text + " is too long");
      auto n = MakeNode(NodeKind::kDuration, t.offset, t.end);
      n->duration_ns = *ns;
      return n;
    }
    case TokenKind::kString: {
      Next();
      auto n = MakeNode(NodeKind::kLiteral, t.offset, t.end);
      n->literal = Value::String(t.text);
      return n;
    }
    case TokenKind::kQuotedName: {
      Next();
      auto n = MakeNode(NodeKind::kName, t.offset, t.end);
      n->name = t.text;
      return n;
    }
    case TokenKind::kSymbol: {
      if (t.text == "(") {
        Next();
        NodePtr inner = ParseOr();
        if (!inner) return nullptr;
        const Token& close = Peek();
        if (close.kind != TokenKind::kSymbol || close.text != ")") {
          return Fail(close.offset, "expected ')' to close '(' at column " +
                                        std::to_string(column_of_(t.offset)));
        }
        Next();
        // Keep the parentheses in the span so that messages quote them.
        inner->begin = t.offset;
        inner->end = close.end;
        return inner;
      }
      if (t.text == ")") return Fail(t.offset, "unexpected ')'");
      return Unexpected(t, "an expression");
    }
    case TokenKind::kWord:
      break;
  }
  if (IsKeyword(t, "case")) return ParseCase();
  if (IsKeyword(t, "true") || IsKeyword(t, "false")) {
    Next();
    auto n = MakeNode(NodeKind::kLiteral, t.offset, t.end);
    n->literal = Value::Bool(IsKeyword(t, "true"));
    return n;
  }
  if (IsKeyword(t, "null")) {
    Next();
    return MakeNode(NodeKind::kLiteral, t.offset, t.end);  // Value::Null()
  }
  if (IsKeyword(t, "timestamp") && Peek(1).kind == TokenKind::kString) {
    Next();
    const Token& s = Next();
    auto ns = ParseIso8601(s.text);
    if (!ns) {
      return Fail(s.offset, "invalid timestamp literal '" + s.text +
                                "'; expected ISO-8601 such as '2024-01-01T00:00:00Z'");
    }
    auto n = MakeNode(NodeKind::kLiteral, t.offset, s.end);
    n->literal = Value::Timestamp(*ns);
    return n;
  }
  if (Peek(1).kind == TokenKind::kSymbol && Peek(1).text == "(" && !IsReserved(t)) {
    Next();
    auto call = MakeNode(NodeKind::kCall, t.offset, t.end);
    call->name = Lower(t.text);
    NodePtr parsed = ParseCallArgs(std::move(call));
    if (parsed && (IsKeyword(Peek(), "over") || IsKeyword(Peek(), "by"))) {
      return ParseWindow(std::move(parsed));
    }
    return parsed;
  }
  if (IsReserved(t)) {
    return Fail(t.offset, "expected an expression, found keyword '" + t.text + "'");
  }
  Next();
  auto n = MakeNode(NodeKind::kName, t.offset, t.end);
  n->name = t.text;
  return n;
}

NodePtr Parser::ParseWindow(NodePtr call) {
  call->kind = NodeKind::kWindow;
  call->window_offset = Peek().offset;
  if (IsKeyword(Peek(), "over")) {
    Next();
    const Token& w = Peek();
    if (IsKeyword(w, "unbounded")) {
      Next();
      call->end = w.end;
    } else if (w.kind == TokenKind::kDuration) {
      Next();
      auto ns = DurationNanos(w.text);
      if (!ns) return Fail(w.offset, "window " + w.text + " is too long");
      if (*ns <= 0) return Fail(w.offset, "a window must be longer than 0");
      call->duration_ns = *ns;
      call->end = w.end;
    } else {
      return Unexpected(w, "a window length such as 1h, 30d or 'unbounded' after 'over'");
    }
  }
  if (IsKeyword(Peek(), "by")) {
    Next();
    auto key_name = [&]() -> NodePtr {
      const Token& k = Peek();
      if ((k.kind != TokenKind::kWord || IsReserved(k)) && k.kind != TokenKind::kQuotedName) {
        return Unexpected(k, "a field or feature name to group by");
      }
      Next();
      auto n = MakeNode(NodeKind::kName, k.offset, k.end);
      n->name = k.text;
      return n;
    };
    const Token& open = Peek();
    if (open.kind == TokenKind::kSymbol && open.text == "(") {
      Next();
      while (true) {
        NodePtr key = key_name();
        if (!key) return nullptr;
        call->keys.push_back(std::move(key));
        const Token& sep = Next();
        if (sep.kind == TokenKind::kSymbol && sep.text == ",") continue;
        if (sep.kind == TokenKind::kSymbol && sep.text == ")") {
          call->end = sep.end;
          break;
        }
        return Fail(sep.offset, "expected ',' or ')' to close the key list at column " +
                                    std::to_string(column_of_(open.offset)));
      }
    } else {
      NodePtr key = key_name();
      if (!key) return nullptr;
      call->end = key->end;
      call->keys.push_back(std::move(key));
    }
  }
  if (IsKeyword(Peek(), "where")) {
    Next();
    NodePtr filter = ParseOr();
    if (!filter) return nullptr;
    call->end = filter->end;
    call->filter = std::move(filter);
  }
  if (IsKeyword(Peek(), "exclude")) {
    Next();
    const Token& c = Peek();
    if (!IsKeyword(c, "current")) return Unexpected(c, "'current' after 'exclude'");
    Next();
    call->exclude_current = true;
    call->end = c.end;
  }
  return Sealed(std::move(call));
}

NodePtr Parser::ParseCallArgs(NodePtr call) {
  const Token& open = Next();
  if (Peek().kind == TokenKind::kSymbol && Peek().text == ")") {
    call->end = Next().end;
    return Sealed(std::move(call));
  }
  while (true) {
    NodePtr arg = ParseOr();
    if (!arg) return nullptr;
    call->args.push_back(std::move(arg));
    const Token& sep = Peek();
    if (sep.kind == TokenKind::kSymbol && sep.text == ",") {
      Next();
      continue;
    }
    if (sep.kind == TokenKind::kSymbol && sep.text == ")") {
      call->end = Next().end;
      return Sealed(std::move(call));
    }
    return Fail(sep.offset, "expected ',' or ')' to close '(' at column " +
                                std::to_string(column_of_(open.offset)));
  }
}

NodePtr Parser::ParseCase() {
  const Token& kw = Next();
  auto n = MakeNode(NodeKind::kCase, kw.offset, kw.end);
  if (!IsKeyword(Peek(), "when")) {
    NodePtr subject = ParseOr();
    if (!subject) return nullptr;
    n->has_subject = true;
    n->args.push_back(std::move(subject));
    if (!IsKeyword(Peek(), "when")) return Unexpected(Peek(), "'when'");
  }
  while (IsKeyword(Peek(), "when")) {
    Next();
    NodePtr cond = ParseOr();
    if (!cond) return nullptr;
    if (!IsKeyword(Peek(), "then")) return Unexpected(Peek(), "'then'");
    Next();
    NodePtr value = ParseOr();
    if (!value) return nullptr;
    n->args.push_back(std::move(cond));
    n->args.push_back(std::move(value));
  }
  if (IsKeyword(Peek(), "else")) {
    Next();
    NodePtr value = ParseOr();
    if (!value) return nullptr;
    n->has_else = true;
    n->args.push_back(std::move(value));
  }
  if (!IsKeyword(Peek(), "end")) {
    return Unexpected(Peek(), "'when', 'else' or 'end' to close 'case' at column " +
                                  std::to_string(column_of_(kw.offset)));
  }
  n->end = Next().end;
  return Sealed(std::move(n));
}

}  // namespace sluice::expr::internal
