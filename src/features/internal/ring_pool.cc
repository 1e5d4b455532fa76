#include "features/internal/ring_pool.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/check.h"

namespace sluice::features::internal {

uint32_t RingPool::AllocateNew(uint32_t capacity) {
  // Blocks of up to 64 bytes start at a multiple of their size, so that a
  // short queue's oldest and newest records share a cache line.
  constexpr size_t kLineRecords = 64 / (kWidth * sizeof(uint64_t));
  const size_t align = std::min<size_t>(capacity, kLineRecords);  // powers of two
  const size_t records = (store_.size() / kWidth + align - 1) & ~(align - 1);
  SLUICE_CHECK_LE(records + capacity, size_t{UINT32_MAX});
  const size_t words = (records + capacity) * kWidth;
  if (words > store_.capacity()) store_.reserve(std::max(words, store_.capacity() * 2));
  store_.resize(words);
  return static_cast<uint32_t>(records);
}

void RingPool::Resize(RingRef& r, uint32_t capacity) {
  const uint32_t offset = Allocate(capacity);
  // The records in order: from the head to the end of the block, then
  // from its start.
  uint64_t* to = &store_[static_cast<size_t>(offset) * kWidth];
  const uint32_t run = std::min(r.size, r.capacity - r.head);
  // Most blocks moved are a few records: copied word by word, not by a call.
  const auto copy = [](uint64_t* dest, const uint64_t* from, size_t words) {
    if (words > 16) {
      std::memcpy(dest, from, words * sizeof(uint64_t));
    } else {
      for (size_t i = 0; i < words; ++i) dest[i] = from[i];
    }
  };
  copy(to, &store_[Index(r, 0)], size_t{run} * kWidth);
  copy(to + size_t{run} * kWidth, &store_[static_cast<size_t>(r.offset) * kWidth],
       size_t{r.size - run} * kWidth);
  if (r.capacity != 0) Free(r.offset, r.capacity);
  r.offset = offset;
  r.capacity = capacity;
  r.head = 0;
}

void RingPool::Grow(RingRef& r) {
  if (IsInline(r)) {
    // The inline record becomes the first of a block.
    const int64_t time = DecodeTime(Word(r, 1));
    const uint64_t value = Word(r, 0);
    r = RingRef{};
    r.offset = Allocate(kMinCapacity);
    r.capacity = kMinCapacity;
    r.size = 1;
    uint64_t* rec = &store_[static_cast<size_t>(r.offset) * kWidth];
    rec[0] = static_cast<uint64_t>(time);
    rec[1] = value;
    return;
  }
  SLUICE_CHECK_LT(r.capacity, kMaxCapacity);  // over a billion events for one key
  Resize(r, r.capacity == 0 ? kMinCapacity : r.capacity * 2);
}

void RingPool::Shrink(RingRef& r) {
  if (r.size == 0) {
    Release(r);
  } else if (r.capacity >= 16) {
    Resize(r, r.capacity / 2);
  }
}

void RingPool::Release(RingRef& r) {
  if (!IsInline(r) && r.capacity != 0) Free(r.offset, r.capacity);
  r = RingRef{};
}

void RingPool::Save(StateWriter& w) const {
  w.Put(kWidth);
  w.Put<uint64_t>(store_.size());  // as StateWriter::PutVector
  if (!store_.empty()) {
    w.bytes().append(reinterpret_cast<const char*>(store_.data()),
                     store_.size() * sizeof(uint64_t));
  }
  w.Put<uint64_t>(free_.size());
  for (const auto& f : free_) w.PutVector(f);
}

bool RingPool::Load(StateReader& r) {
  uint32_t width = 0;
  std::vector<uint64_t> store;
  if (!r.Get(&width) || width != kWidth || !r.GetVector(&store) || store.size() % kWidth != 0) {
    return false;
  }
  store_.assign(store.data(), store.size());
  uint64_t classes = 0;
  if (!r.Get(&classes) || classes > 32) return false;
  free_.assign(classes, {});
  const size_t records = store_.size() / kWidth;
  for (size_t c = 0; c < classes; ++c) {
    if (!r.GetVector(&free_[c])) return false;
    for (uint32_t offset : free_[c]) {
      if (offset + (size_t{1} << c) > records) return false;
    }
  }
  return true;
}

bool RingPool::Valid(const RingRef& r) const {
  if (IsInline(r)) return true;  // any value; the time decodes within the inline range
  if (r.capacity == 0) return r.size == 0 && r.head == 0;
  if (r.capacity > kMaxCapacity) return false;
  return std::has_single_bit(r.capacity) && r.head < r.capacity && r.size <= r.capacity &&
         static_cast<size_t>(r.offset) + r.capacity <= store_.size() / kWidth;
}

}  // namespace sluice::features::internal
