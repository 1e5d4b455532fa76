#pragma once
// Per-key queues of [time, value] records (the events a window holds),
// stored in one pooled array per window so that a key costs a 16-byte
// RingRef and no allocation of its own. The pool's capacity doubles as it
// grows, as a std::vector's would. Capacities are powers of two; storage
// freed by a shrinking or evicted key is reused through per-size free lists.
//
// A queue of one record keeps it in its RingRef, with no block: short
// windows (an hour of a card's payments) hold zero or one event most of the
// time, and a record kept inline is read and written with the per-key
// record that holds the RingRef, without a cache miss of its own. The
// second record moves both to a block; a queue that empties gives its block
// back, so that its next record is inline again.
//
// Inline records need their time within 2^62 ns of 1970 (the years 1824 to
// 2116); a queue whose record is outside that range uses a block.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/binary_io.h"
#include "features/internal/mapped_array.h"
#include "features/internal/prefetch.h"

namespace sluice::features::internal {

// A queue: either a block of the pool (`offset` .. `offset + capacity`, the
// records from index `head`, `size` of them), or one inline record: its
// value in the bytes of `offset` and `capacity`, its time (encoded, see
// RingPool) in those of `head` and `size`, with the top bit of `size` set.
// All zero: an empty queue without a block.
struct RingRef {
  uint32_t offset = 0;    // first record of the block, in records
  uint32_t capacity = 0;  // records; 0 = no block
  uint32_t head = 0;      // index of the oldest record within the block
  uint32_t size = 0;
};
static_assert(sizeof(RingRef) == 16);

class RingPool {
 public:
  // 64-bit words per record: [time, value]. A constant, so that indexing
  // is shifts and masks.
  static constexpr uint32_t kWidth = 2;
  // The largest block: blocks' sizes never reach the inline bit.
  static constexpr uint32_t kMaxCapacity = uint32_t{1} << 30;

  static bool IsInline(const RingRef& r) { return (r.size & kInlineBit) != 0; }
  // Records in the queue.
  static uint32_t Size(const RingRef& r) { return IsInline(r) ? 1 : r.size; }
  // The i-th oldest record's time and value. REQUIRES: i < Size(r).
  int64_t TimeAt(const RingRef& r, uint32_t i) const {
    if (IsInline(r)) return DecodeTime(Word(r, 1));
    return static_cast<int64_t>(store_[Index(r, i)]);
  }
  uint64_t ValueAt(const RingRef& r, uint32_t i) const {
    if (IsInline(r)) return Word(r, 0);
    return store_[Index(r, i) + 1];
  }
  void SetValue(RingRef& r, uint32_t i, uint64_t value) {
    if (IsInline(r)) {
      SetWord(r, 0, value);
    } else {
      store_[Index(r, i) + 1] = value;
    }
  }
  int64_t FrontTime(const RingRef& r) const { return TimeAt(r, 0); }
  uint64_t FrontValue(const RingRef& r) const { return ValueAt(r, 0); }
  uint64_t BackValue(const RingRef& r) const { return ValueAt(r, Size(r) - 1); }

  // Whether one of the `count` records from the i-th, `first`, has `value`:
  // a scan of at most two runs of the block, without the index arithmetic
  // of ValueAt().
  // REQUIRES: first + count <= Size(r).
  bool Holds(const RingRef& r, uint32_t first, uint32_t count, uint64_t value) const {
    if (count == 0) return false;
    if (IsInline(r)) return Word(r, 0) == value;
    const uint64_t* block = &store_[static_cast<size_t>(r.offset) * kWidth] + 1;
    const uint32_t start = (r.head + first) & (r.capacity - 1);
    const uint32_t run = count < r.capacity - start ? count : r.capacity - start;
    for (const uint64_t *p = block + size_t{start} * kWidth, *end = p + size_t{run} * kWidth;
         p != end; p += kWidth) {
      if (*p == value) return true;
    }
    for (const uint64_t *p = block, *end = p + size_t{count - run} * kWidth; p != end;
         p += kWidth) {
      if (*p == value) return true;
    }
    return false;
  }
  // Starts loading every cache line that holds a record of `r`, and the
  // one the next record goes to (none for an inline queue): blocks are
  // between a quarter and wholly full, so not every line of the block.
  void PrefetchHeld(const RingRef& r) const {
    if (IsInline(r) || r.capacity == 0) return;
    // Blocks start on a line, or (under 64 bytes) within one (Allocate).
    constexpr uint32_t kLineRecords = 64 / (kWidth * sizeof(uint64_t));
    const uint64_t* block = &store_[static_cast<size_t>(r.offset) * kWidth];
    const uint32_t count = r.size < r.capacity ? r.size + 1 : r.capacity;
    const uint32_t run = count < r.capacity - r.head ? count : r.capacity - r.head;
    for (uint32_t i = r.head & ~(kLineRecords - 1); i < r.head + run; i += kLineRecords) {
      PrefetchLine(block + size_t{i} * kWidth);
    }
    for (uint32_t i = 0; i < count - run; i += kLineRecords) {
      PrefetchLine(block + size_t{i} * kWidth);
    }
  }
  // Start loading the lines of the oldest and the newest record, or of the
  // newest alone (none for an empty or inline queue).
  void PrefetchEnds(const RingRef& r) const {
    if (IsInline(r) || r.size == 0) return;
    PrefetchLine(&store_[Index(r, 0)]);
    PrefetchLine(&store_[Index(r, r.size - 1)]);
  }
  void PrefetchBack(const RingRef& r) const {
    if (IsInline(r) || r.size == 0) return;
    PrefetchLine(&store_[Index(r, r.size - 1)]);
  }
  // The line of the i-th oldest record (none for an inline queue).
  // REQUIRES: i < Size(r).
  void PrefetchAt(const RingRef& r, uint32_t i) const {
    if (IsInline(r)) return;
    PrefetchLine(&store_[Index(r, i)]);
  }

  // Appends a record.
  void Push(RingRef& r, int64_t time, uint64_t value) {
    if (r.size == 0 && r.capacity == 0 && InlineTime(time)) {
      SetWord(r, 0, value);
      SetWord(r, 1, EncodeTime(time));
      return;
    }
    if (IsInline(r) || r.size == r.capacity) Grow(r);
    ++r.size;
    uint64_t* rec = &store_[Index(r, r.size - 1)];
    rec[0] = static_cast<uint64_t>(time);
    rec[1] = value;
  }
  // REQUIRES: Size(r) > 0.
  void PopFront(RingRef& r) {
    if (IsInline(r)) {
      r = RingRef{};
      return;
    }
    r.head = (r.head + 1) & (r.capacity - 1);
    --r.size;
    if (ShouldShrink(r)) Shrink(r);
  }
  void PopBack(RingRef& r) {
    if (IsInline(r)) {
      r = RingRef{};
      return;
    }
    --r.size;
    if (ShouldShrink(r)) Shrink(r);
  }
  // Gives the block back; `r` becomes empty.
  void Release(RingRef& r);

  size_t bytes_reserved() const { return store_.capacity() * sizeof(uint64_t); }

  void Save(StateWriter& w) const;
  bool Load(StateReader& r);
  // Whether `r` is an inline record or points inside this pool (checked
  // when loading state).
  bool Valid(const RingRef& r) const;

 private:
  static constexpr uint32_t kMinCapacity = 2;
  static constexpr uint32_t kInlineBit = 0x80000000u;
  static constexpr uint64_t kTimeBias = uint64_t{1} << 62;
  static constexpr uint64_t kInlineWordBit = uint64_t{1} << 63;  // kInlineBit in word 1

  // Word i (0 or 1) of the 16 bytes of `r` (little-endian: word 1 holds
  // `head` and, in its top half, `size`).
  static uint64_t Word(const RingRef& r, int i) {
    uint64_t w;
    std::memcpy(&w, reinterpret_cast<const char*>(&r) + 8 * i, sizeof w);
    return w;
  }
  static void SetWord(RingRef& r, int i, uint64_t w) {
    std::memcpy(reinterpret_cast<char*>(&r) + 8 * i, &w, sizeof w);
  }
  static bool InlineTime(int64_t t) {
    return t >= -static_cast<int64_t>(kTimeBias) && t < static_cast<int64_t>(kTimeBias);
  }
  // t + 2^62 (in [0, 2^63) for inline times), with the inline bit.
  static uint64_t EncodeTime(int64_t t) {
    return (static_cast<uint64_t>(t) + kTimeBias) | kInlineWordBit;
  }
  static int64_t DecodeTime(uint64_t w) {
    return static_cast<int64_t>((w & ~kInlineWordBit) - kTimeBias);
  }
  size_t Index(const RingRef& r, uint32_t i) const {
    return (static_cast<size_t>(r.offset) + ((r.head + i) & (r.capacity - 1))) * kWidth;
  }
  // A block of `capacity` records: a freed one of that size if there is one
  // (the common case: queues grow and empty all the time), else new space.
  uint32_t Allocate(uint32_t capacity) {
    const auto cls = static_cast<size_t>(std::countr_zero(capacity));
    if (cls < free_.size() && !free_[cls].empty()) {
      const uint32_t offset = free_[cls].back();
      free_[cls].pop_back();
      return offset;
    }
    return AllocateNew(capacity);
  }
  uint32_t AllocateNew(uint32_t capacity);
  void Free(uint32_t offset, uint32_t capacity) {
    const auto cls = static_cast<size_t>(std::countr_zero(capacity));
    if (free_.size() <= cls) free_.resize(cls + 1);
    free_[cls].push_back(offset);
  }
  void Resize(RingRef& r, uint32_t capacity);
  // Blocks halve once a quarter full, from 16 records up; an emptied queue
  // gives its block back (its next record is inline).
  static bool ShouldShrink(const RingRef& r) {
    return r.size == 0 || (r.size <= r.capacity / 4 && r.capacity >= 16);
  }
  // Out of line: the rare paths of Push and the pops. Grow also moves an
  // inline record to a block.
  void Grow(RingRef& r);
  void Shrink(RingRef& r);

  MappedArray<uint64_t> store_;              // grows without copying (see MappedArray)
  std::vector<std::vector<uint32_t>> free_;  // by log2(capacity)
};

}  // namespace sluice::features::internal
