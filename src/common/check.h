#pragma once
// Internal invariant checks. A failed check is a bug in sluice, never bad
// input: it prints both values and aborts. Bad input returns a Status.

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace sluice::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond,
                              const std::string& detail);

template <typename A, typename B>
std::string DescribeValues(const A& a, const B& b) {
  std::ostringstream os;
  os << "(" << a << " vs " << b << ")";
  return os.str();
}
}  // namespace sluice::internal

#define SLUICE_CHECK(cond) \
  ((cond) ? (void)0 : ::sluice::internal::CheckFailed(__FILE__, __LINE__, #cond, ""))

#define SLUICE_CHECK_OP(a, op, b)                                                      \
  (((a)op(b)) ? (void)0                                                                \
              : ::sluice::internal::CheckFailed(__FILE__, __LINE__, #a " " #op " " #b, \
                                                ::sluice::internal::DescribeValues((a), (b))))

#define SLUICE_CHECK_EQ(a, b) SLUICE_CHECK_OP(a, ==, b)
#define SLUICE_CHECK_LT(a, b) SLUICE_CHECK_OP(a, <, b)
#define SLUICE_CHECK_LE(a, b) SLUICE_CHECK_OP(a, <=, b)
