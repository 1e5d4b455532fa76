#pragma once
// Double-double arithmetic (about 106 bits of significand) for running sums
// that have values both added and removed: with plain doubles, removing a
// large value that has left the window leaves its rounding error behind in
// every later result; with double-doubles the error stays near 1e-32 of the
// largest value seen, so a result is the correctly rounded double of the
// exact window sum in practice. Dekker's and Knuth's error-free transforms.
//
// The rounding error of a product comes from the CPU's fused multiply-add
// where it has one (x86-64 CPUs since about 2013; the baseline instruction
// set has none, so it is chosen at run time), else from Dekker's splitting.
// Both give the exact error, so the same bits (for products whose factors
// are below about 1e300 and not subnormal, where splitting is exact).

namespace sluice::features::internal {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SLUICE_FMA_AT_RUN_TIME 1
inline bool CpuHasFma() {
  __builtin_cpu_init();  // may run before the constructor that does it
  return __builtin_cpu_supports("fma") != 0;
}
#else
#define SLUICE_FMA_AT_RUN_TIME 0
inline bool CpuHasFma() {
  return false;
}
#endif

// Whether TwoProduct uses the fused multiply-add: the CPU's answer, set at
// startup; tests turn it off to compare the two ways.
inline bool fma_products = CpuHasFma();

// T is double, or a GCC vector of doubles (lanes computed independently,
// each exactly as a double would be: the same operations in the same order).
template <typename T>
struct DoubleDoubleT {
  T hi = T{};
  T lo = T{};
  T value() const { return hi + lo; }
};
using DoubleDouble = DoubleDoubleT<double>;

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> TwoSum(T a, T b) {
  const T s = a + b;
  const T bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}

// REQUIRES: |a| >= |b| or a == 0.
template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> FastTwoSum(T a, T b) {
  const T s = a + b;
  return {s, b - (s - a)};
}

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> TwoProduct(T a, T b) {
  const T p = a * b;
#if SLUICE_FMA_AT_RUN_TIME
  if (fma_products) {
    T e = p;  // e = a * b - e, rounded once: exact
    if constexpr (sizeof(T) == sizeof(double)) {
      asm("vfmsub231sd %2, %1, %0" : "+x"(e) : "x"(a), "x"(b));
    } else {
      static_assert(sizeof(T) == 16, "one SSE register of doubles");
      asm("vfmsub231pd %2, %1, %0" : "+x"(e) : "x"(a), "x"(b));
    }
    return {p, e};
  }
#endif
  constexpr double kSplit = 134217729.0;  // 2^27 + 1
  const T ca = kSplit * a;
  const T ahi = ca - (ca - a);
  const T alo = a - ahi;
  const T cb = kSplit * b;
  const T bhi = cb - (cb - b);
  const T blo = b - bhi;
  return {p, ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo};
}

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> Add(DoubleDoubleT<T> a, T b) {
  DoubleDoubleT<T> s = TwoSum(a.hi, b);
  return FastTwoSum(s.hi, s.lo + a.lo);
}

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> Add(DoubleDoubleT<T> a, DoubleDoubleT<T> b) {
  DoubleDoubleT<T> s = TwoSum(a.hi, b.hi);
  return FastTwoSum(s.hi, s.lo + a.lo + b.lo);
}

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> Negate(DoubleDoubleT<T> a) {
  return {-a.hi, -a.lo};
}

// A 128-bit integer as a double-double (exact below 2^106).
__extension__ typedef __int128 DdInt128;
[[gnu::always_inline]] inline DoubleDouble FromInt128(DdInt128 v) {
  const double hi = static_cast<double>(v);
  return {hi, static_cast<double>(v - static_cast<DdInt128>(hi))};
}

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> Multiply(DoubleDoubleT<T> a, DoubleDoubleT<T> b) {
  DoubleDoubleT<T> p = TwoProduct(a.hi, b.hi);
  return FastTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> Multiply(DoubleDoubleT<T> a, T b) {
  DoubleDoubleT<T> p = TwoProduct(a.hi, b);
  return FastTwoSum(p.hi, p.lo + a.lo * b);
}

template <typename T>
[[gnu::always_inline]] inline DoubleDoubleT<T> Divide(DoubleDoubleT<T> a, T d) {
  const T q1 = a.hi / d;
  DoubleDoubleT<T> p = TwoProduct(q1, d);
  const T r = ((a.hi - p.hi) - p.lo) + a.lo;
  return FastTwoSum(q1, r / d);
}

}  // namespace sluice::features::internal
