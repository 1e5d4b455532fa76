#pragma once
// Counts of (slot, value) pairs for exact count_distinct over windows: one
// flat open-addressing table per aggregate instead of a hash set per key.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/binary_io.h"
#include "features/internal/prefetch.h"

namespace sluice::features::internal {

class PairCounter {
 public:
  PairCounter() : table_(64) {}
  // Adds one occurrence; returns true if the pair was new.
  bool Add(uint32_t slot, uint64_t value);
  // Removes one occurrence; returns true if none is left.
  // REQUIRES: the pair was added more times than removed.
  bool Remove(uint32_t slot, uint64_t value);
  size_t size() const { return size_; }
  // Starts loading the pair's home entry (see WindowGroup::ProcessChunk).
  void Prefetch(uint32_t slot, uint64_t value) const {
    PrefetchLine(&table_[Hash(slot, value) & (table_.size() - 1)]);
  }
  size_t bytes_reserved() const { return table_.capacity() * sizeof(Entry); }
  template <typename F>
  bool AllValues(F ok) const {
    for (const Entry& e : table_) {
      if (e.count != 0 && !ok(e.value)) return false;
    }
    return true;
  }
  // Replaces each value v by f(v); the table is rebuilt only if a value
  // changes.
  // REQUIRES: f maps different values to different values.
  template <typename F>
  void MapValues(F f) {
    bool changes = false;
    for (const Entry& e : table_) changes = changes || (e.count != 0 && f(e.value) != e.value);
    if (!changes) return;
    std::vector<Entry> old(table_.size());
    old.swap(table_);
    const size_t mask = table_.size() - 1;
    for (const Entry& e : old) {
      if (e.count == 0) continue;
      const uint64_t value = f(e.value);
      size_t i = Hash(e.slot, value) & mask;
      while (table_[i].count != 0) i = (i + 1) & mask;
      table_[i] = Entry{value, e.slot, e.count};
    }
  }
  void Save(StateWriter& w) const {
    w.PutVector(table_);
    w.Put<uint64_t>(size_);
  }
  bool Load(StateReader& r) {
    uint64_t size = 0;
    if (!r.GetVector(&table_) || !r.Get(&size)) return false;
    size_t used = 0;
    for (const Entry& e : table_) used += e.count != 0;
    size_ = size;
    return !table_.empty() && (table_.size() & (table_.size() - 1)) == 0 && used == size;
  }

 private:
  struct Entry {
    uint64_t value = 0;
    uint32_t slot = 0;
    uint32_t count = 0;  // 0 = empty
  };
  static size_t Hash(uint32_t slot, uint64_t value) {
    uint64_t h = (value ^ (uint64_t{slot} * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
    return static_cast<size_t>(h ^ (h >> 32));
  }
  void Grow();

  std::vector<Entry> table_;
  size_t size_ = 0;
};

}  // namespace sluice::features::internal
