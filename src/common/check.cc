#include "common/check.h"

namespace sluice::internal {
void CheckFailed(const char* file, int line, const char* cond, const std::string& detail) {
  std::fprintf(stderr, "sluice internal error: %s:%d: check failed: %s %s\n", file, line, cond,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}
}  // namespace sluice::internal
