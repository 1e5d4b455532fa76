#pragma once
// Reference-counted interned strings: window state holds string values (for
// first, last, previous and count_distinct) as 32-bit ids, so that equal
// strings are stored once and compared as integers. An open-addressing
// index over the fixed key hash (key_table.h) finds a string's id.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/binary_io.h"
#include "features/internal/key_table.h"

namespace sluice::features::internal {

class StringPool {
 public:
  StringPool() : index_(64, kEmpty) {}

  // Returns the id of `s` with one more reference.
  uint32_t Intern(std::string_view s) {
    const uint64_t h = HashBytes(s);
    const size_t mask = index_.size() - 1;
    size_t i = h & mask;
    for (; index_[i] != kEmpty; i = (i + 1) & mask) {
      const uint32_t id = index_[i];
      if (hashes_[id] == h && strings_[id] == s) {
        ++refs_[id];
        return id;
      }
    }
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      strings_[id].assign(s);
      hashes_[id] = h;
    } else {
      id = static_cast<uint32_t>(strings_.size());
      strings_.emplace_back(s);
      hashes_.push_back(h);
      refs_.push_back(0);
    }
    refs_[id] = 1;
    index_[i] = id;
    if (++live_ * 2 > index_.size()) Rebuild(index_.size() * 2);
    return id;
  }
  // Loads the index entry and the string `s` would be found at (a value to
  // sink): a first pass over a batch makes the Intern() calls hit the cache.
  uint64_t Touch(std::string_view s) const {
    const uint32_t id = index_[HashBytes(s) & (index_.size() - 1)];
    return id == kEmpty ? 0 : hashes_[id] + strings_[id].size();
  }
  void Retain(uint32_t id) { ++refs_[id]; }
  void Release(uint32_t id) {
    if (--refs_[id] != 0) return;
    Erase(id);
    strings_[id].clear();
    strings_[id].shrink_to_fit();
    free_.push_back(id);
    --live_;
  }
  std::string_view Get(uint32_t id) const { return strings_[id]; }
  size_t size() const { return live_; }
  bool Valid(uint32_t id) const { return id < refs_.size() && refs_[id] != 0; }
  size_t bytes_estimate() const {
    size_t b = index_.capacity() * sizeof(uint32_t) + strings_.capacity() * sizeof(std::string) +
               hashes_.capacity() * sizeof(uint64_t) + refs_.capacity() * sizeof(uint32_t);
    for (const auto& s : strings_) {
      if (s.capacity() > 15) b += s.capacity() + 1;
    }
    return b;
  }

  void Save(StateWriter& w) const {
    w.Put<uint64_t>(strings_.size());
    for (size_t id = 0; id < strings_.size(); ++id) {
      w.Put<uint32_t>(refs_[id]);
      if (refs_[id] != 0) w.PutString(strings_[id]);
    }
  }
  bool Load(StateReader& r) {
    uint64_t n = 0;
    if (!r.Get(&n) || n >= UINT32_MAX) return false;
    strings_.assign(n, {});
    hashes_.assign(n, 0);
    refs_.assign(n, 0);
    free_.clear();
    live_ = 0;
    for (uint64_t id = 0; id < n; ++id) {
      if (!r.Get(&refs_[id])) return false;
      if (refs_[id] == 0) {
        free_.push_back(static_cast<uint32_t>(id));
        continue;
      }
      if (!r.GetString(&strings_[id])) return false;
      hashes_[id] = HashBytes(strings_[id]);
      ++live_;
    }
    size_t size = 64;
    while (size < 2 * (live_ + 1)) size *= 2;
    Rebuild(size);
    // A string given twice would make ids ambiguous.
    for (uint64_t id = 0; id < n; ++id) {
      if (refs_[id] != 0 && Find(strings_[id], hashes_[id]) != id) return false;
    }
    return true;
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  uint32_t Find(std::string_view s, uint64_t h) const {
    const size_t mask = index_.size() - 1;
    for (size_t i = h & mask; index_[i] != kEmpty; i = (i + 1) & mask) {
      if (hashes_[index_[i]] == h && strings_[index_[i]] == s) return index_[i];
    }
    return kEmpty;
  }
  void Erase(uint32_t id) {
    const size_t mask = index_.size() - 1;
    size_t i = hashes_[id] & mask;
    while (index_[i] != id) i = (i + 1) & mask;
    // Backward-shift deletion (no tombstones).
    size_t hole = i;
    for (size_t j = (hole + 1) & mask; index_[j] != kEmpty; j = (j + 1) & mask) {
      const size_t home = hashes_[index_[j]] & mask;
      const bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!between) {
        index_[hole] = index_[j];
        hole = j;
      }
    }
    index_[hole] = kEmpty;
  }
  void Rebuild(size_t size) {
    index_.assign(size, kEmpty);
    const size_t mask = size - 1;
    for (size_t id = 0; id < refs_.size(); ++id) {
      if (refs_[id] == 0) continue;
      size_t i = hashes_[id] & mask;
      while (index_[i] != kEmpty) i = (i + 1) & mask;
      index_[i] = static_cast<uint32_t>(id);
    }
  }

  std::vector<uint32_t> index_;  // ids; kEmpty = free
  std::vector<std::string> strings_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> refs_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace sluice::features::internal
