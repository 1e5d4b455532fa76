#pragma once
// String values held in window state (for first, last, previous and
// count_distinct) are 64-bit words, compared as integers:
//
//  * a string of at most 7 bytes is its own word: its bytes (little-endian,
//    the first in the lowest byte), its length in bits 56-58 and bit 63
//    set. Country codes, currencies, short ids cost no table and no count.
//  * a longer string is interned: its word is its id (below 2^32) in this
//    pool of reference-counted strings, so that equal strings are stored
//    once. An open-addressing index over the fixed key hash (key_table.h)
//    finds a string's id.
//
// Equal strings have equal words and different strings different ones.

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/binary_io.h"
#include "features/internal/key_table.h"

namespace sluice::features::internal {

static_assert(std::endian::native == std::endian::little,
              "short strings are held as little-endian words");

class StringPool {
 public:
  static constexpr uint64_t kShortBit = uint64_t{1} << 63;
  static constexpr size_t kShortMax = 7;

  StringPool() : index_(64, kEmpty) {}

  static bool IsShort(uint64_t word) { return (word & kShortBit) != 0; }
  // The word of `s` if it has at most kShortMax bytes (no pool involved).
  static bool ShortWord(std::string_view s, uint64_t* word) {
    if (s.size() > kShortMax) return false;
    *word = kShortBit | (uint64_t{s.size()} << 56) | LoadShortBytes(s.data(), s.size());
    return true;
  }
  // The string of `word`; a short word's bytes are read in place, so the
  // view lives as long as `word` does.
  std::string_view View(const uint64_t& word) const {
    if (IsShort(word)) return {reinterpret_cast<const char*>(&word), (word >> 56) & 7};
    return entries_[static_cast<uint32_t>(word)].text;
  }
  // References held by window state: short words hold none.
  void RetainWord(uint64_t word) {
    if (!IsShort(word)) Retain(static_cast<uint32_t>(word));
  }
  void ReleaseWord(uint64_t word) {
    if (!IsShort(word)) Release(static_cast<uint32_t>(word));
  }
  // Whether `word` is a well-formed short word or the id of a string held
  // (after loading).
  bool ValidWord(uint64_t word) const {
    if (IsShort(word)) {
      const uint64_t n = (word >> 56) & 0x7f;  // bits 59-62 must be zero too
      const uint64_t bytes = word & ((uint64_t{1} << 56) - 1);
      return n <= kShortMax && (n == kShortMax || (bytes >> (8 * n)) == 0);
    }
    return (word >> 32) == 0 && Valid(static_cast<uint32_t>(word));
  }
  // The word of the string held as `word`: the same, except for a short
  // string interned by a version that interned every string, whose word is
  // now the string itself (the caller releases the id's reference).
  // REQUIRES: ValidWord(word).
  uint64_t Current(uint64_t word) const {
    uint64_t w = word;
    if (!IsShort(word)) ShortWord(entries_[static_cast<uint32_t>(word)].text, &w);
    return w;
  }

  // Returns the id of `s` with one more reference (any length: words of
  // short strings come from ShortWord()).
  uint32_t Intern(std::string_view s) { return Intern(s, HashBytes(s)); }
  // The same, with h = HashBytes(s).
  uint32_t Intern(std::string_view s, uint64_t h) {
    const size_t mask = index_.size() - 1;
    size_t i = h & mask;
    for (; index_[i] != kEmpty; i = (i + 1) & mask) {
      if (Tag(index_[i]) != Tag(h)) continue;
      const auto id = static_cast<uint32_t>(index_[i]);
      if (entries_[id].text == s) {
        ++refs_[id];
        return id;
      }
    }
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      entries_[id].text.assign(s);
    } else {
      id = static_cast<uint32_t>(entries_.size());
      entries_.push_back({std::string(s), 0});
      refs_.push_back(0);
    }
    entries_[id].hash = h;
    refs_[id] = 1;
    index_[i] = IndexEntry(h, id);
    if (++live_ * 2 > index_.size()) Rebuild(index_.size() * 2);
    return id;
  }
  // What Intern(s, h) will read, in two halves for two passes over a batch
  // (plain loads in tight loops, which the CPU overlaps), so that the
  // Intern() calls hit the cache: the index entry of hash `h`, then the
  // string that entry points to. They return values to sink.
  uint64_t TouchIndex(uint64_t h) const { return index_[h & (index_.size() - 1)]; }
  uint64_t TouchEntry(uint64_t index_entry) const {
    if (index_entry == kEmpty) return 0;
    const std::string& text = entries_[static_cast<uint32_t>(index_entry)].text;
    return text.size() + (text.empty() ? 0 : static_cast<unsigned char>(text[0]));
  }
  void Retain(uint32_t id) { ++refs_[id]; }
  void Release(uint32_t id) {
    if (--refs_[id] == 0) Forget(id);
  }
  size_t size() const { return live_; }
  bool Valid(uint32_t id) const { return id < entries_.size() && refs_[id] != 0; }
  size_t bytes_estimate() const {
    size_t b = index_.capacity() * sizeof(uint64_t) + entries_.capacity() * sizeof(Entry) +
               refs_.capacity() * sizeof(uint32_t) + free_.capacity() * sizeof(uint32_t);
    for (const auto& e : entries_) {
      if (e.text.capacity() > 15) b += e.text.capacity() + 1;
    }
    return b;
  }

  void Save(StateWriter& w) const {
    w.Put<uint64_t>(entries_.size());
    for (size_t id = 0; id < entries_.size(); ++id) {
      w.Put<uint32_t>(refs_[id]);
      if (refs_[id] != 0) w.PutString(entries_[id].text);
    }
  }
  bool Load(StateReader& r) {
    uint64_t n = 0;
    // Each string takes at least 4 bytes of the image: a bound before reserving.
    if (!r.Get(&n) || n >= UINT32_MAX || n > r.remaining() / 4) return false;
    entries_.assign(n, {});
    refs_.assign(n, 0);
    free_.clear();
    live_ = 0;
    for (uint64_t id = 0; id < n; ++id) {
      Entry& e = entries_[id];
      if (!r.Get(&refs_[id])) return false;
      if (refs_[id] == 0) {
        free_.push_back(static_cast<uint32_t>(id));
        continue;
      }
      if (!r.GetString(&e.text)) return false;
      e.hash = HashBytes(e.text);
      ++live_;
    }
    size_t size = 64;
    while (size < 2 * (live_ + 1)) size *= 2;
    Rebuild(size);
    // A string given twice would make ids ambiguous.
    for (uint64_t id = 0; id < n; ++id) {
      if (refs_[id] != 0 && Find(entries_[id].text, entries_[id].hash) != id) return false;
    }
    return true;
  }

 private:
  // Index entries: the string's id, and above it the top half of its hash,
  // so that a probe compares strings only when those match.
  static constexpr uint64_t kEmpty = UINT64_MAX;
  static uint32_t Tag(uint64_t hash_or_entry) { return static_cast<uint32_t>(hash_or_entry >> 32); }
  static uint64_t IndexEntry(uint64_t hash, uint32_t id) {
    return (hash & ~uint64_t{UINT32_MAX}) | id;
  }
  // A string with its hash. The reference counts are an array of their
  // own: windows retain and release a string at each event that enters or
  // leaves, and a dense array of counts stays in cache where the entries
  // (40 bytes each) would not.
  struct Entry {
    std::string text;
    uint64_t hash = 0;
  };

  // The last reference to `id` is gone (out of line: Release is inlined).
  __attribute__((noinline)) void Forget(uint32_t id) {
    Erase(id);
    entries_[id].text.clear();
    entries_[id].text.shrink_to_fit();
    free_.push_back(id);
    --live_;
  }
  uint32_t Find(std::string_view s, uint64_t h) const {
    const size_t mask = index_.size() - 1;
    for (size_t i = h & mask; index_[i] != kEmpty; i = (i + 1) & mask) {
      const auto id = static_cast<uint32_t>(index_[i]);
      if (Tag(index_[i]) == Tag(h) && entries_[id].text == s) return id;
    }
    return UINT32_MAX;
  }
  void Erase(uint32_t id) {
    const size_t mask = index_.size() - 1;
    size_t i = entries_[id].hash & mask;
    while (static_cast<uint32_t>(index_[i]) != id) i = (i + 1) & mask;
    // Backward-shift deletion (no tombstones).
    size_t hole = i;
    for (size_t j = (hole + 1) & mask; index_[j] != kEmpty; j = (j + 1) & mask) {
      const size_t home = entries_[static_cast<uint32_t>(index_[j])].hash & mask;
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
    for (size_t id = 0; id < entries_.size(); ++id) {
      const Entry& e = entries_[id];
      if (refs_[id] == 0) continue;
      size_t i = e.hash & mask;
      while (index_[i] != kEmpty) i = (i + 1) & mask;
      index_[i] = IndexEntry(e.hash, static_cast<uint32_t>(id));
    }
  }

  std::vector<uint64_t> index_;  // IndexEntry; kEmpty = free
  std::vector<Entry> entries_;   // by id
  std::vector<uint32_t> refs_;   // by id; 0 = free
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace sluice::features::internal
