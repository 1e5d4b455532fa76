#include "features/internal/mapped_array.h"

#include <algorithm>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sluice::features::internal {
namespace {

#if defined(__linux__)
// Below this, the heap: a mapping each would waste pages and mappings.
constexpr size_t kMapAtLeast = size_t{256} << 10;
// No transparent huge pages are asked for (MADV_HUGEPAGE): they made no
// measurable difference to the feature stage (bench/README.md), and the
// first touch of a huge page zeroes 2 MiB at once, which on a virtual
// machine whose memory the host backs lazily took milliseconds: runs of
// them stalled `sluice serve`'s deciding thread for 25-57 ms while its
// state grew (at most 11 ms without them).
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

void ReleasePages([[maybe_unused]] void* p, [[maybe_unused]] size_t bytes,
                  [[maybe_unused]] size_t begin, [[maybe_unused]] size_t end) {
#if defined(__linux__)
  constexpr size_t kPage = 4096;
  if (bytes < kMapAtLeast) return;
  const size_t first = (begin + kPage - 1) / kPage * kPage;
  const size_t last = std::min(end, bytes) / kPage * kPage;
  if (first < last) madvise(static_cast<char*>(p) + first, last - first, MADV_DONTNEED);
#endif
}

void PopulatePages([[maybe_unused]] void* p, [[maybe_unused]] size_t bytes,
                   [[maybe_unused]] size_t begin, [[maybe_unused]] size_t end) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  if (bytes < kMapAtLeast || begin >= end) return;
  // Fails on kernels before 5.14 (EINVAL): the pages then fault in one by
  // one, as they would have anyway.
  madvise(static_cast<char*>(p) + begin, end - begin, MADV_POPULATE_WRITE);
#endif
}

}  // namespace sluice::features::internal
