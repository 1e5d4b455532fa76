// Error-free products (double_double.h): the CPU's fused multiply-add and
// Dekker's splitting give the same exact rounding error, bit for bit, over
// factors of every magnitude the windows meet; known products check the
// error itself.

#include "features/internal/double_double.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

namespace sluice::features::internal {
namespace {

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
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

TEST_F(FmaProducts, KnownProductsHaveTheirExactError) {
  for (bool fma : {false, CpuHasFma()}) {
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

TEST_F(FmaProducts, BothWaysGiveTheSameBits) {
  if (!CpuHasFma()) GTEST_SKIP() << "this CPU has no fused multiply-add";
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-400, 400);
  for (int i = 0; i < 200000; ++i) {
    double a = std::ldexp(mantissa(rng), exponent(rng));
    double b = std::ldexp(mantissa(rng), exponent(rng));
    if (rng() % 2 != 0) a = -a;
    if (rng() % 3 == 0) b = std::round(b * 100.0) / 100.0;  // amounts in cents
    const DoubleDouble split = Product(a, b, false);
    const DoubleDouble fused = Product(a, b, true);
    ASSERT_EQ(Bits(split.hi), Bits(fused.hi)) << a << " * " << b;
    ASSERT_EQ(Bits(split.lo), Bits(fused.lo)) << a << " * " << b;
  }
}

TEST_F(FmaProducts, DoubleDoubleArithmeticGivesTheSameBitsBothWays) {
  if (!CpuHasFma()) GTEST_SKIP() << "this CPU has no fused multiply-add";
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> value(-1e6, 1e6);
  for (int i = 0; i < 20000; ++i) {
    const DoubleDouble x = TwoSum(value(rng), value(rng) * 1e-17);
    const DoubleDouble y = TwoSum(value(rng), value(rng) * 1e-17);
    const double n = static_cast<double>(1 + rng() % 100000);
    DoubleDouble r[2][3];
    for (int fma = 0; fma < 2; ++fma) {
      fma_products = fma != 0;
      r[fma][0] = Multiply(x, y);
      r[fma][1] = Divide(x, n);
      r[fma][2] = Add(Multiply(x, x), Negate(Divide(Multiply(y, y), n)));
    }
    for (int k = 0; k < 3; ++k) {
      ASSERT_EQ(Bits(r[0][k].hi), Bits(r[1][k].hi)) << "operation " << k;
      ASSERT_EQ(Bits(r[0][k].lo), Bits(r[1][k].lo)) << "operation " << k;
    }
  }
}

}  // namespace
}  // namespace sluice::features::internal
