#pragma once
// Per-key queues of fixed-width records (the events a window holds), stored
// in one pooled array per window so that a key costs a 16-byte RingRef and
// no allocation of its own. The pool's capacity doubles as it grows, as a
// std::vector's would. Capacities are powers of two; storage freed by a
// shrinking or evicted key is reused through per-size free lists.
//
// A queue that empties keeps a block of the smallest capacity: short windows
// (an hour of a card's payments) go from empty to one event and back at
// almost every event, and would otherwise take a block from a free list and
// give it back each time. Release() gives it back for good.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/binary_io.h"
#include "features/internal/mapped_array.h"
#include "features/internal/prefetch.h"

namespace sluice::features::internal {

struct RingRef {
  uint32_t offset = 0;    // first record of the block, in records
  uint32_t capacity = 0;  // records; 0 = no block
  uint32_t head = 0;      // index of the oldest record within the block
  uint32_t size = 0;
};

class RingPool {
 public:
  // `width`: 64-bit words per record.
  explicit RingPool(uint32_t width) : width_(width) {}

  uint32_t width() const { return width_; }
  const uint64_t* At(const RingRef& r, uint32_t i) const { return &store_[Index(r, i)]; }
  uint64_t* At(const RingRef& r, uint32_t i) { return &store_[Index(r, i)]; }
  const uint64_t* Front(const RingRef& r) const { return At(r, 0); }
  const uint64_t* Back(const RingRef& r) const { return At(r, r.size - 1); }
  uint64_t* Back(RingRef& r) { return At(r, r.size - 1); }

  // Whether one of the `count` records from the i-th, `first`, has `value`
  // in word `field`: a scan of at most two runs of the block, without the
  // index arithmetic of At().
  // REQUIRES: first + count <= r.size.
  bool Holds(const RingRef& r, uint32_t first, uint32_t count, uint32_t field,
             uint64_t value) const {
    if (count == 0) return false;
    const uint64_t* block = &store_[static_cast<size_t>(r.offset) * width_] + field;
    const uint32_t start = (r.head + first) & (r.capacity - 1);
    const uint32_t run = count < r.capacity - start ? count : r.capacity - start;
    for (const uint64_t *p = block + size_t{start} * width_, *end = p + size_t{run} * width_;
         p != end; p += width_) {
      if (*p == value) return true;
    }
    for (const uint64_t *p = block, *end = p + size_t{count - run} * width_; p != end;
         p += width_) {
      if (*p == value) return true;
    }
    return false;
  }
  // Starts loading every cache line of the block of `r` (none without one).
  void PrefetchBlock(const RingRef& r) const {
    if (r.capacity == 0) return;
    // Blocks start on a line, or (under 64 bytes) within one (Allocate).
    const uint64_t* p = &store_[static_cast<size_t>(r.offset) * width_];
    const size_t words = size_t{r.capacity} * width_;
    for (size_t w = 0; w < words; w += 8) PrefetchLine(p + w);
  }
  // Appends a record and returns it to be filled.
  uint64_t* PushBack(RingRef& r) {
    if (r.size == r.capacity) Grow(r);
    ++r.size;
    return Back(r);
  }
  // REQUIRES: r.size > 0.
  void PopFront(RingRef& r) {
    r.head = (r.head + 1) & (r.capacity - 1);
    --r.size;
    if (ShouldShrink(r)) Shrink(r);
  }
  void PopBack(RingRef& r) {
    --r.size;
    if (ShouldShrink(r)) Shrink(r);
  }
  // Gives the block back; `r` becomes empty.
  void Release(RingRef& r);

  size_t bytes_reserved() const { return store_.capacity() * sizeof(uint64_t); }

  void Save(StateWriter& w) const;
  bool Load(StateReader& r);
  // Whether `r` points inside this pool (checked when loading state).
  bool Valid(const RingRef& r) const;

 private:
  static constexpr uint32_t kMinCapacity = 2;

  size_t Index(const RingRef& r, uint32_t i) const {
    return (static_cast<size_t>(r.offset) + ((r.head + i) & (r.capacity - 1))) * width_;
  }
  uint32_t Allocate(uint32_t capacity);
  void Free(uint32_t offset, uint32_t capacity);
  void Resize(RingRef& r, uint32_t capacity);
  // Blocks halve once a quarter full, from 16 records up; an emptied queue
  // goes back to (or keeps) a block of the smallest size.
  static bool ShouldShrink(const RingRef& r) {
    return r.size <= r.capacity / 4 &&
           (r.capacity >= 16 || (r.size == 0 && r.capacity > kMinCapacity));
  }
  // Out of line: the rare paths of PushBack and the pops.
  void Grow(RingRef& r);
  void Shrink(RingRef& r);

  uint32_t width_;
  MappedArray<uint64_t> store_;              // grows without copying (see MappedArray)
  std::vector<std::vector<uint32_t>> free_;  // by log2(capacity)
};

}  // namespace sluice::features::internal
