#pragma once
// Recursive-descent parser for the expression grammar (docs/expressions.md).
//
//   expr       := or
//   or         := and ("or" and)*
//   and        := not ("and" not)*
//   not        := "not" not | comparison
//   comparison := additive (cmp_op additive | "is" ["not"] "null"
//                 | ["not"] "in" "(" expr ("," expr)* ")"
//                 | ["not"] "between" additive "and" additive)*
//   additive   := multiplicative (("+" | "-" | "||") multiplicative)*
//   multiplicative := unary (("*" | "/" | "//" | "%") unary)*
//   unary      := ("-" | "+") unary | primary
//   primary    := literal | name | call [window] | "(" expr ")" | case | duration
//   call       := word "(" [expr ("," expr)*] ")"
//   window     := ["over" (duration | "unbounded")] ["by" (name | "(" name ("," name)* ")")]
//                 ["where" or] ["exclude" "current"]      (at least "over" or "by")

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/internal/ast.h"
#include "expr/internal/lexer.h"

namespace sluice::expr::internal {

struct ParseError {
  size_t offset = 0;
  std::string message;
};

class Parser {
 public:
  // REQUIRES: `tokens` ends with kEnd and outlives the parser.
  // `column_of` maps a byte offset to the column shown in messages such as
  // "expected ')' to close '(' at column N".
  Parser(const std::vector<Token>& tokens, std::function<int(size_t)> column_of)
      : tokens_(tokens), column_of_(std::move(column_of)) {}

  // Parses one whole expression; anything after it is an error.
  NodePtr ParseExpression();
  const ParseError& error() const { return error_; }

  // The pieces, for callers that extend the grammar (e.g. a postfix
  // "over ..." clause): they may inspect Peek() and continue.
  NodePtr ParseOr();
  const Token& Peek(size_t ahead = 0) const;
  const Token& Next();
  bool failed() const { return failed_; }

 private:
  NodePtr ParseAnd();
  NodePtr ParseNot();
  NodePtr ParseComparison();
  NodePtr ParseAdditive();
  NodePtr ParseMultiplicative();
  NodePtr ParseUnary();
  NodePtr ParsePrimary();
  NodePtr ParseCase();
  NodePtr ParseCallArgs(NodePtr call);
  NodePtr ParseWindow(NodePtr call);
  NodePtr ParseIntLiteral(const Token& t, bool negative, size_t begin);

  NodePtr Fail(size_t offset, std::string message);
  // Records the depth of a finished composite node; fails when an
  // expression nests deeper than kMaxDepth (the checker, the code generator
  // and the tree's destructor recurse over it).
  NodePtr Sealed(NodePtr n);
  // Counts nested sub-expressions being parsed; see ParseOr.
  struct NestingGuard {
    explicit NestingGuard(int* n) : nesting(n) { ++*nesting; }
    ~NestingGuard() { --*nesting; }
    int* nesting;
  };
  static constexpr int kMaxDepth = 256;
  int nesting_ = 0;
  NodePtr Unexpected(const Token& t, std::string_view expected);
  const std::vector<Token>& tokens_;
  std::function<int(size_t)> column_of_;
  size_t pos_ = 0;
  bool failed_ = false;
  ParseError error_;
};

}  // namespace sluice::expr::internal
