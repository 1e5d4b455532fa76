#include "features/internal/mapped_array.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sluice::features::internal {
namespace {

#if defined(__linux__)
// Below this, the heap: a mapping each would waste pages and mappings.
constexpr size_t kMapAtLeast = size_t{256} << 10;
// From this size on, ask for transparent huge pages (where the system gives
// them on request, the default on Debian): random accesses to per-key state
// then miss the TLB far less.
constexpr size_t kHugeAtLeast = size_t{4} << 20;

void AdviseHuge(void* p, size_t bytes) {
  if (bytes >= kHugeAtLeast) (void)madvise(p, bytes, MADV_HUGEPAGE);  // only advice
}
#endif

void* HeapZeroed(size_t bytes) {
  void* p = std::calloc(bytes, 1);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* MapZeroed(size_t bytes) {
#if defined(__linux__)
  if (bytes >= kMapAtLeast) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    AdviseHuge(p, bytes);
    return p;
  }
#endif
  return HeapZeroed(bytes);
}

void* RemapZeroed(void* p, size_t old_bytes, size_t new_bytes) {
#if defined(__linux__)
  if (old_bytes >= kMapAtLeast) {
    void* q = mremap(p, old_bytes, new_bytes, MREMAP_MAYMOVE);  // new pages are zero
    if (q == MAP_FAILED) throw std::bad_alloc();
    AdviseHuge(q, new_bytes);
    return q;
  }
  if (new_bytes >= kMapAtLeast) {
    void* q = MapZeroed(new_bytes);
    std::memcpy(q, p, old_bytes);
    std::free(p);
    return q;
  }
#endif
  void* q = std::realloc(p, new_bytes);
  if (q == nullptr) throw std::bad_alloc();
  std::memset(static_cast<char*>(q) + old_bytes, 0, new_bytes - old_bytes);
  return q;
}

void Unmap(void* p, size_t bytes) {
#if defined(__linux__)
  if (bytes >= kMapAtLeast) {
    munmap(p, bytes);
    return;
  }
#endif
  (void)bytes;
  std::free(p);
}

}  // namespace sluice::features::internal
