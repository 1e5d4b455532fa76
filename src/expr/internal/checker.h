#pragma once
// Type checking: resolves names and functions, computes every node's type,
// rejects ill-typed expressions with one diagnostic, and marks the subtrees
// that may raise record errors (so that codegen guards them in branches).
//
// Implicit conversions are not written into the tree; codegen derives them
// from the operand types with the same helpers (ArithmeticType,
// ComparisonType, UnifyTypes), so the two cannot disagree.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "expr/internal/ast.h"

namespace sluice::expr::internal {

enum class Builtin : uint8_t {
  kNone,
  kIf,
  kCoalesce,
  kNullIf,
  kAbs,
  kSign,
  kLog,
  kLog10,
  kLog2,
  kLog1p,
  kExp,
  kSqrt,
  kPow,
  kMin,
  kMax,
  kClamp,
  kRound,
  kFloor,
  kCeil,
  kLower,
  kUpper,
  kTrim,
  kLength,
  kContains,
  kStartsWith,
  kEndsWith,
  kSubstr,
  kConcat,
  kToFloat,
  kToInt,
  kToString,
  kYear,
  kMonth,
  kDay,
  kHour,
  kMinute,
  kDayOfWeek,
  kSecondsBetween,
  kEpochSeconds,
};

struct BuiltinInfo {
  std::string_view name;
  Builtin id;
  int min_args;
  int max_args;  // -1: no limit
};

struct AggregateInfo {
  std::string_view name;
  AggregateKind kind;
  int min_args;
  int max_args;
};
// nullptr when `lower_name` is not a windowed aggregate.
const AggregateInfo* FindAggregate(std::string_view lower_name);
const AggregateInfo* FindAggregate(AggregateKind kind);
std::vector<std::string> AggregateNames();

// nullptr when `lower_name` is not a function.
const BuiltinInfo* FindBuiltin(std::string_view lower_name);
std::vector<std::string> BuiltinNames();

// The type int64/float64 arithmetic computes in: float64 if either side is,
// else int64 (a null operand counts as int64).
Type ArithmeticType(const Type& a, const Type& b);

// The type both sides of a comparison are converted to, or nullopt when they
// cannot be compared. An enum compared with a string literal stays an enum
// (the literal becomes an index); with any other string it becomes a string.
std::optional<Type> ComparisonType(const Node& a, const Node& b);

// The common type of two branch results, or nullopt.
std::optional<Type> UnifyTypes(const Type& a, const Type& b);

bool IsNullLiteral(const Node& n);

struct CheckError {
  size_t offset = 0;
  std::string message;
};

class Checker {
 public:
  // Windowed aggregates are accepted only with `windows_allowed`; otherwise
  // they fail with `windows_why_not`.
  Checker(const Scope& scope, bool windows_allowed, std::string windows_why_not)
      : scope_(scope),
        windows_allowed_(windows_allowed),
        windows_why_not_(std::move(windows_why_not)) {}
  // Annotates `n` and its subtree. Returns false and sets error() on the
  // first type error.
  bool Check(Node& n);
  const CheckError& error() const { return error_; }

 private:
  bool Fail(size_t offset, std::string message);
  bool CheckName(Node& n);
  bool CheckUnary(Node& n);
  bool CheckBinary(Node& n);
  bool CheckComparable(const Node& a, const Node& b, std::string_view what, size_t offset);
  bool CheckIn(Node& n);
  bool CheckCase(Node& n);
  bool CheckCall(Node& n);
  bool CheckWindow(Node& n);
  // Unifies the types of `nodes`; `what` names them in messages ("if branches").
  bool Unify(const std::vector<const Node*>& nodes, std::string_view what, Type* out);
  bool ExpectArg(const Node& call, size_t i, bool ok, std::string_view expected);

  const Scope& scope_;
  bool windows_allowed_;
  std::string windows_why_not_;
  CheckError error_;
};

}  // namespace sluice::expr::internal
