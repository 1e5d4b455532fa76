#include "features/internal/pair_counter.h"

#include "common/check.h"

namespace sluice::features::internal {

bool PairCounter::Add(uint32_t slot, uint64_t value) {
  if ((size_ + 1) * 2 > table_.size()) Grow();
  const size_t mask = table_.size() - 1;
  for (size_t i = Hash(slot, value) & mask;; i = (i + 1) & mask) {
    Entry& e = table_[i];
    if (e.count == 0) {
      e = Entry{value, slot, 1};
      ++size_;
      return true;
    }
    if (e.slot == slot && e.value == value) {
      ++e.count;
      return false;
    }
  }
}

bool PairCounter::Remove(uint32_t slot, uint64_t value) {
  const size_t mask = table_.size() - 1;
  size_t i = Hash(slot, value) & mask;
  while (!(table_[i].slot == slot && table_[i].value == value && table_[i].count != 0)) {
    SLUICE_CHECK(table_[i].count != 0);
    i = (i + 1) & mask;
  }
  if (--table_[i].count != 0) return false;
  // Backward-shift deletion.
  size_t hole = i;
  for (size_t j = (hole + 1) & mask; table_[j].count != 0; j = (j + 1) & mask) {
    const size_t home = Hash(table_[j].slot, table_[j].value) & mask;
    const bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!between) {
      table_[hole] = table_[j];
      hole = j;
    }
  }
  table_[hole] = Entry{};
  --size_;
  return true;
}

void PairCounter::Grow() {
  std::vector<Entry> old = std::move(table_);
  table_.assign(old.size() * 2, Entry{});
  const size_t mask = table_.size() - 1;
  for (const Entry& e : old) {
    if (e.count == 0) continue;
    size_t i = Hash(e.slot, e.value) & mask;
    while (table_[i].count != 0) i = (i + 1) & mask;
    table_[i] = e;
  }
}

}  // namespace sluice::features::internal
