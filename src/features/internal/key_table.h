#pragma once
// The keys of one `by` clause: a map from the key values of an event to a
// dense slot number, which indexes every per-key state array of the windows
// grouped by those keys.
//
// Each key belongs to one of a fixed number of key groups, chosen by its
// hash; a key group is the unit in which state is checkpointed and, later,
// moved between machines. The hash is defined here (not std::hash) so that a
// key lands in the same group on every machine and every run.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/binary_io.h"
#include "features/internal/mapped_array.h"
#include "types/batch.h"
#include "types/type.h"

namespace sluice::features::internal {

// Bytes [0, n) of `p` as a little-endian word, zero above them, for n <= 7,
// read with fixed-size loads that stay inside the n bytes.
inline uint64_t LoadShortBytes(const char* p, size_t n) {
  const auto byte = [p](size_t at) { return uint64_t{static_cast<unsigned char>(p[at])}; };
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return lo | (uint64_t{hi} << (8 * (n - 4)));
  }
  if (n == 0) return 0;
  return byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1)));
}

// Inline: every event's key and string values are hashed.
inline uint64_t HashBytes(std::string_view bytes) {
  // A 64-bit multiply-xorshift hash over 8-byte words (in the spirit of
  // MurmurHash64A). Fixed here, so that key groups are stable everywhere.
  constexpr uint64_t kMul = 0xc6a4a7935bd1e995ULL;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (bytes.size() * kMul);
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t k;
    std::memcpy(&k, bytes.data() + i, 8);
    k *= kMul;
    k ^= k >> 47;
    k *= kMul;
    h ^= k;
    h *= kMul;
  }
  if (const size_t rem = bytes.size() - i; rem != 0) {
    // The last 1-7 bytes as a little-endian word, zero above them, read
    // without a library call.
    uint64_t k;
    if (bytes.size() >= 8) {
      std::memcpy(&k, bytes.data() + bytes.size() - 8, 8);
      k >>= 8 * (8 - rem);
    } else {
      k = LoadShortBytes(bytes.data(), rem);
    }
    h ^= k;
    h *= kMul;
  }
  h ^= h >> 47;
  h *= kMul;
  h ^= h >> 47;
  return h;
}

class KeyTable {
 public:
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  // `max_window_ns` < 0: some window over these keys is unbounded, so keys
  // are never evicted.
  KeyTable(std::vector<int> columns, std::vector<Type> types, uint32_t key_groups,
           int64_t max_window_ns);
  ~KeyTable();
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  const std::vector<int>& columns() const { return columns_; }
  int64_t max_window_ns() const { return max_window_ns_; }

  // For rows [0, rows) of `batch`: slots[row] gets the slot of the row's
  // key, added if new, with its last event time set to times[row]; kNoSlot
  // for a null key or a row with a record error. Rows are looked up in
  // order, after the hash-table loads of all of them have been issued
  // together.
  void LookupBatch(const Batch& batch, size_t rows, const int64_t* times, uint32_t* slots);

  // Appends to `out` the slots in [begin, begin + count) (clipped to
  // slot_limit()) whose keys have no event left in any window at time `now`
  // (their last event is at or before now - max window). Scanning a range at
  // a time lets the caller spread a pass over all keys across batches, so
  // that no single batch waits for millions of keys. REQUIRES: every later
  // event has time >= now.
  void Expired(int64_t now, size_t begin, size_t count, std::vector<uint32_t>* out) const;
  // Forgets the key of `slot`; the slot number may be given to a new key.
  void Remove(uint32_t slot);

  size_t live() const { return live_; }
  // One past the highest slot number in use; per-slot arrays need this size.
  size_t slot_limit() const { return entries_.size(); }
  uint32_t key_group(uint32_t slot) const {
    return static_cast<uint32_t>((entries_[slot].hash >> 32) % key_groups_);
  }
  bool in_use(uint32_t slot) const { return in_use_[slot] != 0; }
  std::string_view key_bytes(uint32_t slot) const { return KeyOf(slot); }
  int64_t last_time(uint32_t slot) const { return entries_[slot].last_time; }
  // Adds a key with its encoded bytes (restoring a checkpoint).
  uint32_t Insert(std::string_view key_bytes, int64_t last_time);
  size_t bytes_reserved() const;
  // Whether the hash index is being moved to a larger one (see Grow).
  bool growing() const { return old_index_.buckets != nullptr; }

  void Save(StateWriter& w) const;
  bool Load(StateReader& r);

 private:
  // Writes the encoding of row `row`'s key at `out` and returns its size,
  // or kNullKey if a key value is null. `out` has room for the row's share
  // of EncodedBound() (writes may run up to kEncodeSlack bytes past the key).
  static constexpr size_t kNullKey = SIZE_MAX;
  static constexpr size_t kEncodeSlack = 16;
  size_t Encode(const Batch& batch, size_t row, char* out) const;
  // Bytes that the keys of rows [0, rows) take encoded, plus kEncodeSlack.
  size_t EncodedBound(const Batch& batch, size_t rows) const;
  uint32_t Find(std::string_view key, uint64_t hash) const;
  uint32_t FindInOld(std::string_view key, uint64_t hash) const;
  // The old index's bucket holding a slot for which `match(slot)` is true
  // among those a key of `hash` may sit in, or SIZE_MAX.
  template <typename Match>
  size_t OldBucket(uint64_t hash, Match match) const;
  uint32_t Add(std::string_view key, uint64_t hash, int64_t time);
  void Grow();
  // Moves up to `buckets` buckets of the old index into the new one.
  void MoveOldBuckets(size_t buckets);
  void InsertIntoIndex(uint32_t slot);

  std::vector<int> columns_;
  std::vector<Type> types_;
  uint32_t key_groups_;
  int64_t max_window_ns_;

  // The hash index: open addressing with linear probing over a power-of-two
  // number of buckets, each slot + 1 (0 = empty), at most half full.
  //
  // Growing is incremental, so that no event waits for millions of keys to
  // be rehashed: Grow() allocates an index twice the size (untouched pages,
  // which the kernel zeroes as they are first written) and from then on
  // every new key moves kMovePerAdd buckets of the old index into the new
  // one, from the front, until none is left (well before the new index is
  // half full); LookupBatch moves two buckets per row as well, so that a
  // growth also ends when few new keys come. Meanwhile a key is looked for in the new index, then
  // in the part of the old one not yet moved, [moved_, size). The old index is never written except
  // to mark a removed key's bucket kGone, so its probe chains stay whole; its moved part is given
  // back to the system as the front advances. A key in the old index whose home bucket was already
  // passed is found by probing from moved_: its chain ran unbroken from its
  // home to its bucket.
  struct Index {
    uint32_t* buckets = nullptr;
    size_t size = 0;    // buckets, a power of two
    size_t mapped = 0;  // bytes
  };
  static constexpr uint32_t kGone = UINT32_MAX;  // old index only: removed
  static constexpr size_t kMovePerAdd = 8;
  static Index NewIndex(size_t size);
  static void FreeIndex(Index* index);
  Index index_;
  Index old_index_;
  size_t moved_ = 0;     // old index buckets [0, moved_) are in the new one
  size_t released_ = 0;  // bytes of the old index given back so far
  // A key's encoded bytes: up to 12 inline (card and account ids), longer
  // ones in long_keys_ (the inline bytes then hold its index).
  struct StoredKey {
    uint32_t size = 0;
    char bytes[12] = {};
  };
  std::string_view KeyOf(uint32_t slot) const {
    const StoredKey& k = entries_[slot].key;
    if (k.size <= sizeof k.bytes) return {k.bytes, k.size};
    uint32_t i;
    std::memcpy(&i, k.bytes, sizeof i);
    return long_keys_[i];
  }
  bool SameKey(uint32_t slot, std::string_view key) const {
    const StoredKey& k = entries_[slot].key;
    if (k.size != key.size()) return false;
    if (key.size() <= sizeof k.bytes) {
      // Inline keys are zero after their bytes: compare all 12 as two words
      // read with fixed-size loads (no library call).
      static_assert(sizeof k.bytes == 12);
      const size_t n = key.size();
      uint64_t lo;
      uint32_t hi = 0;
      if (n >= 8) {
        std::memcpy(&lo, key.data(), 8);
        hi = static_cast<uint32_t>(LoadShortBytes(key.data() + 8, n - 8));
      } else {
        lo = LoadShortBytes(key.data(), n);
      }
      uint64_t stored_lo;
      uint32_t stored_hi;
      std::memcpy(&stored_lo, k.bytes, 8);
      std::memcpy(&stored_hi, k.bytes + 8, 4);
      return lo == stored_lo && hi == stored_hi;
    }
    return KeyOf(slot) == key;
  }
  void StoreKey(uint32_t slot, std::string_view key);
  void FreeKey(uint32_t slot);
  // Per slot, what a lookup reads: one 32-byte entry, so one cache line in
  // the (page-aligned) mapped arrays of large tables.
  struct Entry {
    uint64_t hash = 0;
    int64_t last_time = 0;
    StoredKey key;
  };
  static_assert(sizeof(Entry) == 32);
  // Mapped arrays grow without copying (a vector's copy of millions of
  // entries stalled the deciding thread of `sluice serve`).
  MappedArray<Entry> entries_;
  std::vector<std::string> long_keys_;
  std::vector<uint32_t> free_long_keys_;
  MappedArray<uint8_t> in_use_;
  std::vector<uint32_t> free_slots_;
  size_t live_ = 0;
  // LookupBatch scratch: every row's encoded key, its hash and its end offset.
  std::string batch_keys_;
  std::vector<uint64_t> batch_hashes_;
  std::vector<uint32_t> batch_ends_;
  uint64_t touch_sink_ = 0;
};

}  // namespace sluice::features::internal
