#pragma once
// Vectorised instructions. Each instruction reads whole input columns and
// writes one output column over rows [0, batch.size()): one virtual call per
// batch, then a tight loop. Conventions shared by every kernel:
//
//  * The output column is never one of the inputs.
//  * A null input gives a null output unless the function says otherwise;
//    the value slot of a null output holds a harmless value (0, empty view).
//  * Values in the slots of null inputs are never trusted: kernels either
//    compute on them branch-free and discard the result (numbers), or skip
//    them (strings, enum names, divisors).
//  * A kernel that can raise a record error takes an ErrorSite: the error
//    code, and a guard column (bool, -1 for none) naming the rows where the
//    code is live; rows outside the guard get null but no error. This is
//    how "errors only from the branch taken" is implemented.

#include <cstdint>
#include <memory>
#include <vector>

#include "expr/expr.h"
#include "types/batch.h"
#include "types/type.h"

namespace sluice::expr {

class Instruction {
 public:
  virtual ~Instruction() = default;
  virtual void Run(Batch& batch) const = 0;
};

namespace internal {

using InstructionPtr = std::unique_ptr<Instruction>;

// Stands for a stateful step (a windowed aggregate) in the instruction list;
// Program::Run hands it to its StepRunner instead of running it.
class StepMarker final : public Instruction {
 public:
  explicit StepMarker(int id) : id_(id) {}
  int id() const { return id_; }
  void Run(Batch&) const override;

 private:
  int id_;
};

struct ErrorSite {
  uint32_t code = 0;  // ErrorTable code; 0 = errors cannot happen
  int guard = -1;     // bool column: 1 where the instruction's result is used
};

enum class ArithOp : uint8_t { kAdd, kSub, kMul, kDiv, kIntDiv, kMod };
// int64: + - * overflow and INT64_MIN // -1 raise `err`; // and % by 0 give
// null. REQUIRES: op != kDiv.
InstructionPtr IntArith(ArithOp op, int a, int b, int out, ErrorSite err);
// float64: / // % by 0 give null; non-finite results give null.
InstructionPtr FloatArith(ArithOp op, int a, int b, int out);
InstructionPtr IntNegate(int a, int out, ErrorSite err);
InstructionPtr FloatNegate(int a, int out);

enum class MathOp : uint8_t {
  kAbs,
  kSign,
  kFloor,
  kCeil,
  kRound,
  kLog,
  kLog10,
  kLog2,
  kLog1p,
  kExp,
  kSqrt
};
InstructionPtr FloatMath(MathOp op, int a, int out);
InstructionPtr IntAbs(int a, int out, ErrorSite err);
InstructionPtr IntSign(int a, int out);
enum class Math2Op : uint8_t { kPow, kLogBase, kRoundDigits };  // kRoundDigits: b is int64
InstructionPtr FloatMath2(Math2Op op, int a, int b, int out);

enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
// Both inputs have physical kind `kind` (enums compare by index).
InstructionPtr Compare(CmpOp op, TypeKind kind, int a, int b, int out);

// Three-valued logic.
InstructionPtr And(int a, int b, int out);
InstructionPtr Or(int a, int b, int out);
InstructionPtr Not(int a, int out);
InstructionPtr IsNull(int a, bool negated, int out);

// Guard columns: out = parent (or 1 when parent is -1) and a test of `col`.
enum class GuardTest : uint8_t { kTrue, kNotTrue, kNull, kNotFalse };
InstructionPtr Guard(int parent, int col, GuardTest test, int out);

// out = cond is true ? a : b.
InstructionPtr Select(TypeKind kind, int cond, int a, int b, int out);
// out = a if not null else b.
InstructionPtr Coalesce(TypeKind kind, int a, int b, int out);
// out = null where `equal` is true, else a.
InstructionPtr NullIf(TypeKind kind, int a, int equal, int out);
InstructionPtr Copy(TypeKind kind, int a, int out);
// Nulls ignored: null only if both are null.
InstructionPtr MinMax(bool max, TypeKind kind, int a, int b, int out);
// Null if any input is null.
InstructionPtr Clamp(TypeKind kind, int x, int lo, int hi, int out);
// A column of nulls (for expressions whose type is null).
InstructionPtr SetNull(int out);

InstructionPtr IntToFloat(int a, int out);
InstructionPtr BoolToFloat(int a, int out);
InstructionPtr BoolToInt(int a, int out);
InstructionPtr FloatToInt(int a, int out);     // truncates; out of range -> null
InstructionPtr StringToInt(int a, int out);    // whole string an integer, else null
InstructionPtr StringToFloat(int a, int out);  // whole string a finite number, else null
InstructionPtr EnumToString(std::shared_ptr<const EnumDomain> domain, int a, int out);
InstructionPtr ToString(const Type& from, int a, int out);

enum class StringOp : uint8_t { kLower, kUpper, kTrim };
InstructionPtr StringMap(StringOp op, int a, int out);
InstructionPtr Length(int a, int out);
enum class MatchOp : uint8_t { kContains, kStartsWith, kEndsWith };
InstructionPtr StringMatch(MatchOp op, int a, int b, int out);
// out = a is one of `values` (null when a is null): `x in ('US', 'CA')` in
// one pass instead of one comparison pass per value.
InstructionPtr StringInSet(int a, std::vector<std::string> values, int out);
InstructionPtr Substr(int s, int start, int length /* -1: to the end */, int out);
InstructionPtr Concat(std::vector<int> parts, int out);

enum class TimePart : uint8_t { kYear, kMonth, kDay, kHour, kMinute, kDayOfWeek };
InstructionPtr TimePartOf(TimePart part, int a, int out);
InstructionPtr SecondsBetween(int a, int b, int out);
InstructionPtr EpochSeconds(int a, int out);

}  // namespace internal
}  // namespace sluice::expr
