#pragma once
// PrefetchLine: starts loading the cache line of `p` without waiting for it.
//
// The passes that load window contents ahead of the row updates use
// prefetch instructions, not loads: a load that misses holds its place in
// the reorder buffer until its line comes, so that only a few rows' lines
// are on their way at once; a prefetch retires at once (bench/README.md).
// An asm statement, not __builtin_prefetch: GCC deletes a loop whose only
// effect is __builtin_prefetch (C++ loops without side effects may be
// assumed to end and be removed).

namespace sluice::features::internal {

inline void PrefetchLine(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__aarch64__)
  asm volatile("prfm pldl1keep, %0" : : "Q"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace sluice::features::internal
