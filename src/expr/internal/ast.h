#pragma once
// The syntax tree of one expression. The parser fills the syntactic fields;
// the checker (checker.h) fills the annotations; codegen reads both.
//
// New constructs (windowed aggregates: `sum(x) over 1h by k`) add a NodeKind
// and their own fields; nothing here assumes the set of kinds is closed.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "types/type.h"
#include "types/value.h"

namespace sluice::expr::internal {

enum class NodeKind : uint8_t {
  kLiteral,   // literal
  kName,      // name
  kUnary,     // op args[0]                      (kNeg, kPlus, kNot)
  kBinary,    // args[0] op args[1]
  kIsNull,    // args[0] is [not] null
  kIn,        // args[0] [not] in (args[1..])
  kBetween,   // args[0] [not] between args[1] and args[2]
  kCall,      // name(args...)
  kCase,      // [subject] (when then)* [else]
  kDuration,  // a duration literal ("1h"): only as a half-life argument
  kWindow,    // name(args...) [over W] by keys [where filter] [exclude current]
};

enum class Op : uint8_t {
  kNone,
  kNeg,
  kPlus,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kIntDiv,
  kMod,
  kConcat,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
};

// "+", "//", "and", ...
const char* OpText(Op op);

enum class Builtin : uint8_t;  // checker.h

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  Op op = Op::kNone;
  size_t begin = 0;  // byte span of the whole expression in the text
  size_t end = 0;
  size_t op_offset = 0;      // the operator, keyword or function-name token
  std::string name;          // kName: the symbol; kCall: the function name, lower case
  Value literal;             // kLiteral
  bool negated = false;      // is not null, not in, not between
  bool has_subject = false;  // kCase: args[0] is the subject of a simple case
  bool has_else = false;     // kCase: the last arg is the else value
  std::vector<std::unique_ptr<Node>> args;
  uint32_t depth = 1;  // levels of this subtree (the parser bounds it)

  // kDuration: the length; kWindow: the window length, -1 when unbounded.
  int64_t duration_ns = -1;
  size_t window_offset = 0;                 // kWindow: the "over" or "by" keyword
  std::vector<std::unique_ptr<Node>> keys;  // kWindow: kName nodes
  std::unique_ptr<Node> filter;             // kWindow: the where condition, or null
  bool exclude_current = false;             // kWindow

  // Set by the checker.
  Type type;
  int column = -1;         // kName: batch column
  Builtin fn{};            // kCall
  bool can_error = false;  // this subtree may raise a record error
};

using NodePtr = std::unique_ptr<Node>;

}  // namespace sluice::expr::internal
