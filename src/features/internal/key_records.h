#pragma once
// KeyRecords: per key slot, one fixed-size record that holds the running
// state of every window group over the keys of one `by` clause (ring
// references, counts, sums, the newest value, ...), so that an event loads
// a few adjacent cache lines for all its groups instead of one scattered
// line per array per group. Window contents (the events held) live apart,
// in each group's RingPool.
//
// Layout: groups declare their fields (size and alignment) before the first
// record exists; Finish() places them, widest alignment first, and fixes
// the record size. A slot's record is zero until its state is written, and
// a zero record is the state of a key never seen.
//
// Thread safety: none; it belongs to one FeatureState.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "common/check.h"
#include "features/internal/mapped_array.h"

namespace sluice::features::internal {

class KeyRecords {
 public:
  static constexpr uint32_t kLine = 64;

  // Declares a field of `size` bytes; returns its id for offset().
  // REQUIRES: before Finish(); `align` is 1, 2, 4, 8 or 16.
  uint32_t Declare(uint32_t size, uint32_t align) {
    SLUICE_CHECK(!finished_);
    fields_.push_back({size, align, 0});
    return static_cast<uint32_t>(fields_.size() - 1);
  }
  // Places the fields. Later calls do nothing.
  void Finish() {
    if (finished_) return;
    finished_ = true;
    std::vector<size_t> order(fields_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [this](size_t a, size_t b) { return fields_[a].align > fields_[b].align; });
    uint32_t at = 0, widest = 1;
    for (size_t i : order) {
      Field& f = fields_[i];
      at = (at + f.align - 1) / f.align * f.align;
      f.offset = at;
      at += f.size;
      widest = std::max(widest, f.align);
    }
    stride_ = at == 0 ? 0 : (at + widest - 1) / widest * widest;
  }
  uint32_t offset(uint32_t field) const { return fields_[field].offset; }
  // Bytes per record.
  size_t stride() const { return stride_; }
  size_t slots() const { return slots_; }

  // Makes records [0, n) exist; new records are zero. Grows by an eighth
  // (not doubling): memory per key is what --stats reports.
  void EnsureSlots(size_t n) {
    SLUICE_CHECK(finished_);
    if (n <= slots_) return;
    const size_t grown = std::max<size_t>(n, slots_ + slots_ / 8 + 64);
    // Pages from the heap or a mapping, aligned for any of the fields (their
    // objects are created implicitly in them); new records are zero.
    data_.resize(std::max<size_t>(grown * stride_, 1));
    slots_ = grown;
  }
  std::byte* record(uint32_t slot) const {
    return const_cast<std::byte*>(data_.data()) + size_t{slot} * stride_;
  }
  void Clear(uint32_t slot) { std::memset(record(slot), 0, stride_); }

  // Loads every cache line of the records of `slots` (kNoSlot entries,
  // UINT32_MAX, are skipped), so that the passes that update them find them
  // in cache (plain loads in a tight loop, which the CPU overlaps; measured
  // faster than prefetch instructions); returns a value to sink.
  uint64_t Touch(const uint32_t* slots, size_t rows) const {
    uint64_t acc = 0;
    if (stride_ == 0) return 0;
    for (size_t row = 0; row < rows; ++row) {
      if (slots[row] == UINT32_MAX) continue;
      const auto* r = reinterpret_cast<const unsigned char*>(record(slots[row]));
      // Every line the record spans: from its first byte's to its last's.
      const auto first = reinterpret_cast<uintptr_t>(r);
      const uintptr_t last = first + stride_ - 1;
      for (uintptr_t line = first & ~uintptr_t{kLine - 1}; line <= last; line += kLine) {
        acc += r[line < first ? 0 : line - first];
      }
    }
    return acc;
  }

  size_t bytes_reserved() const { return slots_ * stride_; }

 private:
  struct Field {
    uint32_t size;
    uint32_t align;
    uint32_t offset;
  };
  std::vector<Field> fields_;
  bool finished_ = false;
  size_t stride_ = 0;
  size_t slots_ = 0;
  MappedArray<std::byte> data_;
};

}  // namespace sluice::features::internal
