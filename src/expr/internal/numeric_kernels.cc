// Arithmetic, math functions and numeric conversions.

#include <cmath>
#include <limits>

#include "expr/internal/kernel_loops.h"

namespace sluice::expr::internal {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

struct IntAdd {
  uint8_t operator()(int64_t a, int64_t b, int64_t& r) const {
    return !__builtin_add_overflow(a, b, &r);
  }
  bool Error(int64_t, int64_t) const { return true; }
};
struct IntSub {
  uint8_t operator()(int64_t a, int64_t b, int64_t& r) const {
    return !__builtin_sub_overflow(a, b, &r);
  }
  bool Error(int64_t, int64_t) const { return true; }
};
struct IntMul {
  uint8_t operator()(int64_t a, int64_t b, int64_t& r) const {
    return !__builtin_mul_overflow(a, b, &r);
  }
  bool Error(int64_t, int64_t) const { return true; }
};
// Floor division: rounds toward negative infinity.
struct IntFloorDiv {
  uint8_t operator()(int64_t a, int64_t b, int64_t& r) const {
    const bool bad = b == 0 || (a == kMin && b == -1);
    const int64_t d = bad ? 1 : b;
    int64_t q = a / d;
    q -= static_cast<int64_t>((a % d != 0) & ((a < 0) != (d < 0)));
    r = bad ? 0 : q;
    return !bad;
  }
  bool Error(int64_t a, int64_t b) const { return a == kMin && b == -1; }
};
// Modulo with the sign of the divisor.
struct IntMod {
  uint8_t operator()(int64_t a, int64_t b, int64_t& r) const {
    const bool zero = b == 0;
    const int64_t d = (zero || b == -1) ? 1 : b;  // x % -1 == 0 == x % 1
    int64_t m = a % d;
    m += ((m != 0) & ((m < 0) != (d < 0))) ? d : 0;
    r = zero ? 0 : m;
    return !zero;
  }
};

struct FloatAdd {
  uint8_t operator()(double a, double b, double& r) const {
    r = a + b;
    return Finite(r);
  }
};
struct FloatSub {
  uint8_t operator()(double a, double b, double& r) const {
    r = a - b;
    return Finite(r);
  }
};
struct FloatMul {
  uint8_t operator()(double a, double b, double& r) const {
    r = a * b;
    return Finite(r);
  }
};
struct FloatDiv {
  uint8_t operator()(double a, double b, double& r) const {
    r = a / (b == 0 ? 1.0 : b);
    return static_cast<uint8_t>(Finite(r) & (b != 0));
  }
};
struct FloatFloorDiv {
  uint8_t operator()(double a, double b, double& r) const {
    r = std::floor(a / (b == 0 ? 1.0 : b));
    return static_cast<uint8_t>(Finite(r) & (b != 0));
  }
};
struct FloatMod {
  uint8_t operator()(double a, double b, double& r) const {
    double m = std::fmod(a, b == 0 ? 1.0 : b);
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    r = m;
    return static_cast<uint8_t>(Finite(r) & (b != 0));
  }
};

struct IntNeg {
  uint8_t operator()(int64_t a, int64_t& r) const {
    return !__builtin_sub_overflow(int64_t{0}, a, &r);
  }
  bool Error(int64_t) const { return true; }
};
struct IntAbsFn {
  uint8_t operator()(int64_t a, int64_t& r) const {
    r = a < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(a)) : a;
    return a != kMin;
  }
  bool Error(int64_t) const { return true; }
};

template <typename F>
InstructionPtr Float1(int a, int out, F f) {
  return MakeUnary<double, double>(a, out, [f](double x, double& r) -> uint8_t {
    r = f(x);
    return Finite(r);
  });
}

// 10^k for k = 0..22: exactly representable, as std::pow gives them.
constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

double RoundDigits(double x, int64_t digits) {
  if (digits > 308) return x;
  if (digits < -308) return 0.0 * x;
  const int64_t k = digits < 0 ? -digits : digits;
  const double scale =
      k <= 22 ? kPowersOfTen[k] : std::pow(10.0, static_cast<double>(k));
  if (digits >= 0) {
    const double scaled = x * scale;
    if (!std::isfinite(scaled)) return x;
    return std::round(scaled) / scale;
  }
  return std::round(x / scale) * scale;
}

}  // namespace

InstructionPtr IntArith(ArithOp op, int a, int b, int out, ErrorSite err) {
  switch (op) {
    case ArithOp::kAdd:
      return MakeBinary<int64_t, int64_t, int64_t>(a, b, out, IntAdd{}, err);
    case ArithOp::kSub:
      return MakeBinary<int64_t, int64_t, int64_t>(a, b, out, IntSub{}, err);
    case ArithOp::kMul:
      return MakeBinary<int64_t, int64_t, int64_t>(a, b, out, IntMul{}, err);
    case ArithOp::kIntDiv:
      return MakeBinary<int64_t, int64_t, int64_t>(a, b, out, IntFloorDiv{}, err);
    case ArithOp::kMod:
      return MakeBinary<int64_t, int64_t, int64_t>(a, b, out, IntMod{});
    case ArithOp::kDiv:
      break;
  }
  return nullptr;
}

InstructionPtr FloatArith(ArithOp op, int a, int b, int out) {
  switch (op) {
    case ArithOp::kAdd:
      return MakeBinary<double, double, double>(a, b, out, FloatAdd{});
    case ArithOp::kSub:
      return MakeBinary<double, double, double>(a, b, out, FloatSub{});
    case ArithOp::kMul:
      return MakeBinary<double, double, double>(a, b, out, FloatMul{});
    case ArithOp::kDiv:
      return MakeBinary<double, double, double>(a, b, out, FloatDiv{});
    case ArithOp::kIntDiv:
      return MakeBinary<double, double, double>(a, b, out, FloatFloorDiv{});
    case ArithOp::kMod:
      return MakeBinary<double, double, double>(a, b, out, FloatMod{});
  }
  return nullptr;
}

InstructionPtr IntNegate(int a, int out, ErrorSite err) {
  return MakeUnary<int64_t, int64_t>(a, out, IntNeg{}, err);
}

InstructionPtr FloatNegate(int a, int out) {
  return MakeUnary<double, double>(a, out, [](double x, double& r) -> uint8_t {
    r = -x;
    return 1;
  });
}

InstructionPtr IntAbs(int a, int out, ErrorSite err) {
  return MakeUnary<int64_t, int64_t>(a, out, IntAbsFn{}, err);
}

InstructionPtr IntSign(int a, int out) {
  return MakeUnary<int64_t, int64_t>(a, out, [](int64_t x, int64_t& r) -> uint8_t {
    r = (x > 0) - (x < 0);
    return 1;
  });
}

InstructionPtr FloatMath(MathOp op, int a, int out) {
  switch (op) {
    case MathOp::kAbs:
      return Float1(a, out, [](double x) { return std::fabs(x); });
    case MathOp::kSign:
      return Float1(a, out, [](double x) { return static_cast<double>((x > 0) - (x < 0)); });
    case MathOp::kFloor:
      return Float1(a, out, [](double x) { return std::floor(x); });
    case MathOp::kCeil:
      return Float1(a, out, [](double x) { return std::ceil(x); });
    case MathOp::kRound:
      return Float1(a, out, [](double x) { return std::round(x); });
    case MathOp::kLog:
      return Float1(a, out, [](double x) { return x > 0 ? std::log(x) : std::nan(""); });
    case MathOp::kLog10:
      return Float1(a, out, [](double x) { return x > 0 ? std::log10(x) : std::nan(""); });
    case MathOp::kLog2:
      return Float1(a, out, [](double x) { return x > 0 ? std::log2(x) : std::nan(""); });
    case MathOp::kLog1p:
      return Float1(a, out, [](double x) { return x > -1 ? std::log1p(x) : std::nan(""); });
    case MathOp::kExp:
      return Float1(a, out, [](double x) { return std::exp(x); });
    case MathOp::kSqrt:
      return Float1(a, out, [](double x) { return x >= 0 ? std::sqrt(x) : std::nan(""); });
  }
  return nullptr;
}

InstructionPtr FloatMath2(Math2Op op, int a, int b, int out) {
  switch (op) {
    case Math2Op::kPow:
      return MakeBinary<double, double, double>(a, b, out,
                                                [](double x, double y, double& r) -> uint8_t {
                                                  r = std::pow(x, y);
                                                  return Finite(r);
                                                });
    case Math2Op::kLogBase:
      return MakeBinary<double, double, double>(a, b, out,
                                                [](double x, double base, double& r) -> uint8_t {
                                                  const bool ok = x > 0 && base > 0 && base != 1;
                                                  r = ok ? std::log(x) / std::log(base) : 0.0;
                                                  return static_cast<uint8_t>(ok & Finite(r));
                                                });
    case Math2Op::kRoundDigits:
      return MakeBinary<double, int64_t, double>(a, b, out,
                                                 [](double x, int64_t d, double& r) -> uint8_t {
                                                   r = RoundDigits(x, d);
                                                   return Finite(r);
                                                 });
  }
  return nullptr;
}

InstructionPtr IntToFloat(int a, int out) {
  return MakeUnary<int64_t, double>(a, out, [](int64_t x, double& r) -> uint8_t {
    r = static_cast<double>(x);
    return 1;
  });
}

InstructionPtr BoolToFloat(int a, int out) {
  return MakeUnary<uint8_t, double>(a, out, [](uint8_t x, double& r) -> uint8_t {
    r = x != 0 ? 1.0 : 0.0;
    return 1;
  });
}

InstructionPtr BoolToInt(int a, int out) {
  return MakeUnary<uint8_t, int64_t>(a, out, [](uint8_t x, int64_t& r) -> uint8_t {
    r = x != 0;
    return 1;
  });
}

InstructionPtr FloatToInt(int a, int out) {
  return MakeUnary<double, int64_t>(a, out, [](double x, int64_t& r) -> uint8_t {
    // [-2^63, 2^63) is exactly the range that truncates into int64.
    const bool ok = x >= -9223372036854775808.0 && x < 9223372036854775808.0;
    r = ok ? static_cast<int64_t>(x) : 0;
    return ok;
  });
}

}  // namespace sluice::expr::internal
