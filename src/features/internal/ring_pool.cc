#include "features/internal/ring_pool.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "common/check.h"

namespace sluice::features::internal {

uint32_t RingPool::Allocate(uint32_t capacity) {
  const auto cls = static_cast<size_t>(std::countr_zero(capacity));
  if (cls < free_.size() && !free_[cls].empty()) {
    uint32_t offset = free_[cls].back();
    free_[cls].pop_back();
    return offset;
  }
  // Blocks of up to 64 bytes start at a multiple of their size, so that a
  // short queue's oldest and newest records share a cache line.
  size_t records = store_.size() / width_;
  const size_t align = std::max<size_t>(1, std::min<size_t>(capacity, 64 / (width_ * 8)));
  records = (records + align - 1) / align * align;
  SLUICE_CHECK_LE(records + capacity, size_t{UINT32_MAX});
  const size_t words = (records + capacity) * width_;
  if (words > store_.capacity()) store_.reserve(std::max(words, store_.capacity() * 2));
  store_.resize(words);
  return static_cast<uint32_t>(records);
}

void RingPool::Free(uint32_t offset, uint32_t capacity) {
  const auto cls = static_cast<size_t>(std::countr_zero(capacity));
  if (free_.size() <= cls) free_.resize(cls + 1);
  free_[cls].push_back(offset);
}

void RingPool::Resize(RingRef& r, uint32_t capacity) {
  const uint32_t offset = Allocate(capacity);
  uint64_t* to = &store_[static_cast<size_t>(offset) * width_];
  for (uint32_t i = 0; i < r.size; ++i) {
    const uint64_t* from = &store_[Index(r, i)];
    for (uint32_t w = 0; w < width_; ++w) *to++ = from[w];
  }
  if (r.capacity != 0) Free(r.offset, r.capacity);
  r.offset = offset;
  r.capacity = capacity;
  r.head = 0;
}

void RingPool::Grow(RingRef& r) {
  Resize(r, r.capacity == 0 ? kMinCapacity : r.capacity * 2);
}

void RingPool::Shrink(RingRef& r) {
  if (r.size == 0) {
    Release(r);
    r.offset = Allocate(kMinCapacity);
    r.capacity = kMinCapacity;
  } else if (r.capacity >= 16) {
    Resize(r, r.capacity / 2);
  }
}

void RingPool::Release(RingRef& r) {
  if (r.capacity != 0) Free(r.offset, r.capacity);
  r = RingRef{};
}

void RingPool::Save(StateWriter& w) const {
  w.Put(width_);
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
  if (!r.Get(&width) || width != width_ || !r.GetVector(&store) || store.size() % width_ != 0) {
    return false;
  }
  store_.assign(store.data(), store.size());
  uint64_t classes = 0;
  if (!r.Get(&classes) || classes > 32) return false;
  free_.assign(classes, {});
  const size_t records = store_.size() / width_;
  for (size_t c = 0; c < classes; ++c) {
    if (!r.GetVector(&free_[c])) return false;
    for (uint32_t offset : free_[c]) {
      if (offset + (size_t{1} << c) > records) return false;
    }
  }
  return true;
}

bool RingPool::Valid(const RingRef& r) const {
  if (r.capacity == 0) return r.size == 0 && r.head == 0;
  return std::has_single_bit(r.capacity) && r.head < r.capacity && r.size <= r.capacity &&
         static_cast<size_t>(r.offset) + r.capacity <= store_.size() / width_;
}

}  // namespace sluice::features::internal
