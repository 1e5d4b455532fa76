#pragma once
// Double-double arithmetic (about 106 bits of significand) for running sums
// that have values both added and removed: with plain doubles, removing a
// large value that has left the window leaves its rounding error behind in
// every later result; with double-doubles the error stays near 1e-32 of the
// largest value seen, so a result is the correctly rounded double of the
// exact window sum in practice. Dekker's and Knuth's error-free transforms;
// no fma needed (baseline x86-64 has none).

namespace sluice::features::internal {

struct DoubleDouble {
  double hi = 0.0;
  double lo = 0.0;
  double value() const { return hi + lo; }
};

[[gnu::always_inline]] inline DoubleDouble TwoSum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}

[[gnu::always_inline]] inline DoubleDouble FastTwoSum(double a,
                                                      double b) {  // REQUIRES |a| >= |b| or a == 0
  const double s = a + b;
  return {s, b - (s - a)};
}

[[gnu::always_inline]] inline DoubleDouble TwoProduct(double a, double b) {
  constexpr double kSplit = 134217729.0;  // 2^27 + 1
  const double p = a * b;
  const double ca = kSplit * a;
  const double ahi = ca - (ca - a);
  const double alo = a - ahi;
  const double cb = kSplit * b;
  const double bhi = cb - (cb - b);
  const double blo = b - bhi;
  return {p, ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo};
}

[[gnu::always_inline]] inline DoubleDouble Add(DoubleDouble a, double b) {
  DoubleDouble s = TwoSum(a.hi, b);
  return FastTwoSum(s.hi, s.lo + a.lo);
}

[[gnu::always_inline]] inline DoubleDouble Add(DoubleDouble a, DoubleDouble b) {
  DoubleDouble s = TwoSum(a.hi, b.hi);
  return FastTwoSum(s.hi, s.lo + a.lo + b.lo);
}

[[gnu::always_inline]] inline DoubleDouble Negate(DoubleDouble a) {
  return {-a.hi, -a.lo};
}

// A 128-bit integer as a double-double (exact below 2^106).
__extension__ typedef __int128 DdInt128;
[[gnu::always_inline]] inline DoubleDouble FromInt128(DdInt128 v) {
  const double hi = static_cast<double>(v);
  return {hi, static_cast<double>(v - static_cast<DdInt128>(hi))};
}

[[gnu::always_inline]] inline DoubleDouble Multiply(DoubleDouble a, DoubleDouble b) {
  DoubleDouble p = TwoProduct(a.hi, b.hi);
  return FastTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

[[gnu::always_inline]] inline DoubleDouble Multiply(DoubleDouble a, double b) {
  DoubleDouble p = TwoProduct(a.hi, b);
  return FastTwoSum(p.hi, p.lo + a.lo * b);
}

[[gnu::always_inline]] inline DoubleDouble Divide(DoubleDouble a, double d) {
  const double q1 = a.hi / d;
  DoubleDouble p = TwoProduct(q1, d);
  const double r = ((a.hi - p.hi) - p.lo) + a.lo;
  return FastTwoSum(q1, r / d);
}

}  // namespace sluice::features::internal
