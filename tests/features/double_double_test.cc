// Error-free products (double_double.h): whichever way this CPU offers
// (Dekker's splitting always, the fused multiply-add where the CPU has one),
// p + e is the exact product, checked in 128-bit integers over factors of
// every magnitude the windows meet; where both ways exist they give the same
// bits, in products and in the double-double operations built on them.

#include "features/internal/double_double.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace sluice::features::internal {
namespace {

__extension__ typedef __int128 Int128;

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

// The ways this CPU can take a product's error: splitting, and the fused
// multiply-add if it has one.
std::vector<bool> Ways() {
  std::vector<bool> ways = {false};
  if (CpuHasFma()) ways.push_back(true);
  return ways;
}

// Restores the CPU's answer when a test has changed it.
class FmaProducts : public ::testing::Test {
 protected:
  void TearDown() override { fma_products = CpuHasFma(); }
};

DoubleDouble Product(double a, double b, bool fma) {
  fma_products = fma;
  return TwoProduct(a, b);
}

// x as m * 2^e with an integer m of at most 53 bits.
void Split(double x, int64_t* m, int* e) {
  const double f = std::frexp(x, e);  // x = f * 2^e, 0.5 <= |f| < 1
  *m = static_cast<int64_t>(std::ldexp(f, 53));
  *e -= 53;
}

// x as an integer count of 2^base, if it is a whole multiple of 2^base.
bool Scaled(double x, int base, Int128* out) {
  if (x == 0.0) {
    *out = 0;
    return true;
  }
  int64_t m;
  int e;
  Split(x, &m, &e);
  if (e >= base) {
    *out = static_cast<Int128>(m) << (e - base);
    return true;
  }
  const int drop = base - e;
  if (drop >= 63 || m % (int64_t{1} << drop) != 0) return false;
  *out = m / (int64_t{1} << drop);
  return true;
}

// Whether hi + lo is exactly a * b, and lo within half an ulp of hi (hi is
// the rounded product). REQUIRES: finite normal factors and products.
::testing::AssertionResult IsExactProduct(double a, double b, DoubleDouble p) {
  int64_t ma, mb;
  int ea, eb;
  Split(a, &ma, &ea);
  Split(b, &mb, &eb);
  const int base = ea + eb;  // the exact product is ma * mb * 2^base
  Int128 hi, lo;
  if (!Scaled(p.hi, base, &hi) || !Scaled(p.lo, base, &lo)) {
    return ::testing::AssertionFailure() << a << " * " << b << ": a term finer than the product";
  }
  if (hi + lo != static_cast<Int128>(ma) * mb) {
    return ::testing::AssertionFailure()
           << a << " * " << b << " = " << p.hi << " + " << p.lo << " is not exact";
  }
  const double half_ulp = std::ldexp(std::fabs(p.hi), -53);
  if (std::fabs(p.lo) > half_ulp) {
    return ::testing::AssertionFailure()
           << a << " * " << b << ": error " << p.lo << " larger than half an ulp of " << p.hi;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(FmaProducts, KnownProductsHaveTheirExactError) {
  for (bool fma : Ways()) {
    SCOPED_TRACE(fma ? "fused multiply-add" : "splitting");
    // (1 + 2^-30)^2 = 1 + 2^-29 + 2^-60: the last term is below the double's
    // precision at 1 and is the error.
    const double a = 1.0 + std::ldexp(1.0, -30);
    DoubleDouble p = Product(a, a, fma);
    EXPECT_EQ(p.hi, 1.0 + std::ldexp(1.0, -29));
    EXPECT_EQ(p.lo, std::ldexp(1.0, -60));
    // Exact products have no error.
    p = Product(3.0, 7.0, fma);
    EXPECT_EQ(p.hi, 21.0);
    EXPECT_EQ(p.lo, 0.0);
    // 0.1 * 10 rounds to 1 with an error of 2^-54 (0.1 is slightly more than
    // a tenth).
    p = Product(0.1, 10.0, fma);
    EXPECT_EQ(p.hi, 1.0);
    EXPECT_EQ(p.lo, std::ldexp(1.0, -54));
  }
}

TEST_F(FmaProducts, RandomProductsAreExactEveryWayAndAgree) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-400, 400);
  const std::vector<bool> ways = Ways();
  for (int i = 0; i < 200000; ++i) {
    double a = std::ldexp(mantissa(rng), exponent(rng));
    double b = std::ldexp(mantissa(rng), exponent(rng));
    if (rng() % 2 != 0) a = -a;
    if (rng() % 3 == 0) b = std::round(b * 100.0) / 100.0;  // amounts in cents
    if (b == 0.0) continue;
    const DoubleDouble first = Product(a, b, ways[0]);
    for (bool fma : ways) {
      const DoubleDouble p = Product(a, b, fma);
      ASSERT_TRUE(IsExactProduct(a, b, p)) << (fma ? "fused multiply-add" : "splitting");
      ASSERT_EQ(Bits(p.hi), Bits(first.hi)) << a << " * " << b;
      ASSERT_EQ(Bits(p.lo), Bits(first.lo)) << a << " * " << b;
    }
  }
}

TEST_F(FmaProducts, DoubleDoubleArithmeticIsTheSameEveryWay) {
  // Products, quotients and a variance-like difference of squares: exact
  // enough to meet a 1e-30 relative bar against long double's 64-bit
  // significand where it can tell, and bit-identical between the ways.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> value(-1e6, 1e6);
  const std::vector<bool> ways = Ways();
  for (int i = 0; i < 20000; ++i) {
    const DoubleDouble x = TwoSum(value(rng), value(rng) * 1e-17);
    const DoubleDouble y = TwoSum(value(rng), value(rng) * 1e-17);
    const double n = static_cast<double>(1 + rng() % 100000);
    DoubleDouble r[2][3];
    for (size_t w = 0; w < ways.size(); ++w) {
      fma_products = ways[w];
      r[w][0] = Multiply(x, y);
      r[w][1] = Divide(x, n);
      r[w][2] = Add(Multiply(x, x), Negate(Divide(Multiply(y, y), n)));
      // The quotient times n gives x back to double-double precision.
      const DoubleDouble back = Multiply(r[w][1], n);
      const double diff = Add(back, Negate(x)).value();
      ASSERT_LE(std::fabs(diff), 1e-29 * std::fabs(x.hi)) << "x / n * n";
      // The product agrees with long double's (64-bit) product to its precision.
      const long double wide = static_cast<long double>(x.hi) * static_cast<long double>(y.hi);
      ASSERT_LE(std::fabs(static_cast<long double>(r[w][0].hi) - wide),
                std::ldexp(std::fabs(static_cast<long double>(r[w][0].hi)), -52));
    }
    for (size_t w = 1; w < ways.size(); ++w) {
      for (int k = 0; k < 3; ++k) {
        ASSERT_EQ(Bits(r[0][k].hi), Bits(r[w][k].hi)) << "operation " << k;
        ASSERT_EQ(Bits(r[0][k].lo), Bits(r[w][k].lo)) << "operation " << k;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::features::internal
