#include "features/internal/key_table.h"

#include <algorithm>
#include <cstring>

#include "common/check.h"

namespace sluice::features::internal {

KeyTable::KeyTable(std::vector<int> columns, std::vector<Type> types, uint32_t key_groups,
                   int64_t max_window_ns)
    : columns_(std::move(columns)),
      types_(std::move(types)),
      key_groups_(key_groups),
      max_window_ns_(max_window_ns),
      index_(NewIndex(64)) {}

KeyTable::~KeyTable() {
  FreeIndex(&index_);
  FreeIndex(&old_index_);
}

KeyTable::Index KeyTable::NewIndex(size_t size) {
  Index index;
  index.size = size;
  index.mapped = (size * sizeof(uint32_t) + 4095) / 4096 * 4096;
  index.buckets = static_cast<uint32_t*>(MapZeroed(index.mapped));
  return index;
}

void KeyTable::FreeIndex(Index* index) {
  if (index->buckets != nullptr) Unmap(index->buckets, index->mapped);
  *index = Index{};
}

namespace {

// Copies `s` to `out`, which has at least 8 bytes of room past s.size():
// strings of up to 16 bytes (most keys) with fixed-size loads and stores
// that stay inside `s`, not a library call.
void CopyKeyBytes(char* out, std::string_view s) {
  const size_t n = s.size();
  if (n <= 7) {
    const uint64_t w = LoadShortBytes(s.data(), n);  // zero above n bytes
    std::memcpy(out, &w, 8);
  } else if (n <= 16) {
    uint64_t head, tail;
    std::memcpy(&head, s.data(), 8);
    std::memcpy(&tail, s.data() + n - 8, 8);
    std::memcpy(out, &head, 8);
    std::memcpy(out + n - 8, &tail, 8);
  } else {
    std::memcpy(out, s.data(), n);
  }
}

}  // namespace

size_t KeyTable::EncodedBound(const Batch& batch, size_t rows) const {
  size_t bound = kEncodeSlack;
  for (size_t i = 0; i < columns_.size(); ++i) {
    switch (types_[i].kind) {
      case TypeKind::kString: {
        const std::string_view* s = batch.column(columns_[i]).data<std::string_view>();
        bound += rows * sizeof(uint32_t);
        for (size_t row = 0; row < rows; ++row) bound += s[row].size();
        break;
      }
      case TypeKind::kBool:
        bound += rows;
        break;
      case TypeKind::kEnum:
        bound += rows * sizeof(int32_t);
        break;
      default:
        bound += rows * sizeof(int64_t);
        break;
    }
  }
  return bound;
}

size_t KeyTable::Encode(const Batch& batch, size_t row, char* out) const {
  // Each value in turn: a string as its 32-bit length and its bytes; a bool
  // as one byte; an enum as its int32 index; int64 and timestamps as eight
  // bytes (all little-endian).
  char* p = out;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = batch.column(columns_[i]);
    if (!c.is_valid(row)) return kNullKey;
    switch (types_[i].kind) {
      case TypeKind::kString: {
        const std::string_view s = c.data<std::string_view>()[row];
        const auto n = static_cast<uint32_t>(s.size());
        std::memcpy(p, &n, sizeof n);
        CopyKeyBytes(p + sizeof n, s);
        p += sizeof n + n;
        break;
      }
      case TypeKind::kBool:
        *p++ = c.data<uint8_t>()[row] != 0 ? 1 : 0;
        break;
      case TypeKind::kEnum:
        std::memcpy(p, &c.data<int32_t>()[row], sizeof(int32_t));
        p += sizeof(int32_t);
        break;
      default:  // int64, timestamp
        std::memcpy(p, &c.data<int64_t>()[row], sizeof(int64_t));
        p += sizeof(int64_t);
        break;
    }
  }
  return static_cast<size_t>(p - out);
}

uint32_t KeyTable::Find(std::string_view key, uint64_t hash) const {
  const size_t mask = index_.size - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const uint32_t e = index_.buckets[i];
    if (e == 0) break;
    const uint32_t slot = e - 1;
    if (entries_[slot].hash == hash && SameKey(slot, key)) return slot;
  }
  return growing() ? FindInOld(key, hash) : kNoSlot;
}

template <typename Match>
size_t KeyTable::OldBucket(uint64_t hash, Match match) const {
  const size_t size = old_index_.size;
  // Buckets before moved_ count as occupied by other keys: the chain of a
  // key still here ran through them unbroken when they were written.
  size_t i = hash & (size - 1);
  bool wrapped = false;
  for (;;) {
    if (i < moved_) i = moved_;
    if (i == size) {
      if (wrapped) return SIZE_MAX;
      wrapped = true;
      i = 0;
      continue;
    }
    const uint32_t e = old_index_.buckets[i];
    if (e == 0) return SIZE_MAX;
    if (e != kGone && match(e - 1)) return i;
    ++i;
  }
}

uint32_t KeyTable::FindInOld(std::string_view key, uint64_t hash) const {
  const size_t i = OldBucket(
      hash, [&](uint32_t slot) { return entries_[slot].hash == hash && SameKey(slot, key); });
  return i == SIZE_MAX ? kNoSlot : old_index_.buckets[i] - 1;
}

void KeyTable::InsertIntoIndex(uint32_t slot) {
  const size_t mask = index_.size - 1;
  size_t i = entries_[slot].hash & mask;
  while (index_.buckets[i] != 0) i = (i + 1) & mask;
  index_.buckets[i] = slot + 1;
}

void KeyTable::MoveOldBuckets(size_t buckets) {
  const size_t size = old_index_.size;
  const size_t stop = buckets >= size - moved_ ? size : moved_ + buckets;
  for (; moved_ < stop; ++moved_) {
    const uint32_t e = old_index_.buckets[moved_];
    if (e != 0 && e != kGone) InsertIntoIndex(e - 1);
  }
  if (moved_ == size) {
    FreeIndex(&old_index_);
    moved_ = released_ = 0;
    return;
  }
  // Give the moved part back in steps of 64 KiB.
  const size_t moved_bytes = moved_ * sizeof(uint32_t);
  if (moved_bytes - released_ >= (size_t{64} << 10)) {
    ReleasePages(old_index_.buckets, old_index_.mapped, released_, moved_bytes);
    released_ = moved_bytes / 4096 * 4096;
  }
}

void KeyTable::Grow() {
  if (growing()) MoveOldBuckets(SIZE_MAX);
  const Index larger = NewIndex(index_.size * 2);
  old_index_ = index_;
  index_ = larger;
  moved_ = released_ = 0;
}

uint32_t KeyTable::Add(std::string_view key, uint64_t hash, int64_t time) {
  if (growing()) MoveOldBuckets(kMovePerAdd);
  if ((live_ + 1) * 2 > index_.size) Grow();
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(entries_.size());
    if (entries_.size() == entries_.capacity()) {
      // Grow by an eighth (not double): per-key memory is what --stats reports.
      const size_t n = entries_.size() + entries_.size() / 8 + 64;
      entries_.reserve(n);
      in_use_.reserve(n);
    }
    entries_.resize(entries_.size() + 1);
    in_use_.resize(in_use_.size() + 1);
  }
  entries_[slot].hash = hash;
  StoreKey(slot, key);
  entries_[slot].last_time = time;
  in_use_[slot] = 1;
  ++live_;
  InsertIntoIndex(slot);
  return slot;
}

void KeyTable::LookupBatch(const Batch& batch, size_t rows, const int64_t* times, uint32_t* slots) {
  // Every row's key fits in the bound: the buffer only ever grows.
  const size_t bound = EncodedBound(batch, rows);
  if (batch_keys_.size() < bound) batch_keys_.resize(bound);
  char* const keys = batch_keys_.data();
  batch_hashes_.resize(rows);
  batch_ends_.resize(rows);
  uint64_t touched = 0;
  // A growth in progress moves on with lookups too, not only with new keys:
  // until it ends, a key still in the old index costs a probe of each.
  if (growing()) MoveOldBuckets(2 * rows + 64);
  const size_t mask = index_.size - 1;
  // Pass 1: encode and hash every key. Pass 2: load its home bucket (plain
  // loads in a tight loop, which the CPU overlaps).
  size_t at = 0;
  // Keys of one string column (an id: most `by` clauses) encoded inline.
  const Column* text_key = columns_.size() == 1 && types_[0].kind == TypeKind::kString
                               ? &batch.column(columns_[0])
                               : nullptr;
  for (size_t row = 0; row < rows; ++row) {
    size_t n = kNullKey;
    if (batch.row_error(row) == 0) {
      if (text_key == nullptr) {
        n = Encode(batch, row, keys + at);
      } else if (text_key->is_valid(row)) {  // as Encode() writes it
        const std::string_view text = text_key->data<std::string_view>()[row];
        const auto size = static_cast<uint32_t>(text.size());
        std::memcpy(keys + at, &size, sizeof size);
        CopyKeyBytes(keys + at + sizeof size, text);
        n = sizeof size + size;
      }
    }
    const bool ok = n != kNullKey;
    if (ok) {
      batch_hashes_[row] = HashBytes({keys + at, n});
      at += n;
    } else {
      batch_hashes_[row] = 0;
      slots[row] = kNoSlot;
    }
    batch_ends_[row] = static_cast<uint32_t>(at) | (ok ? 0u : 0x80000000u);
  }
  for (size_t row = 0; row < rows; ++row) {
    if ((batch_ends_[row] & 0x80000000u) == 0) touched += index_.buckets[batch_hashes_[row] & mask];
  }
  // Pass 3: load the slot entries the buckets point to (one line each).
  for (size_t row = 0; row < rows; ++row) {
    const uint32_t e = index_.buckets[batch_hashes_[row] & mask];
    if (e != 0) touched += entries_[e - 1].hash;
  }
  touch_sink_ += touched;
  // Pass 4: the lookups themselves, in row order.
  uint32_t begin = 0;
  for (size_t row = 0; row < rows; ++row) {
    const uint32_t end_word = batch_ends_[row];
    if ((end_word & 0x80000000u) != 0) continue;
    const uint32_t end = end_word;
    const std::string_view key(keys + begin, end - begin);
    begin = end;
    const uint64_t hash = batch_hashes_[row];
    // Most keys sit in their home bucket (the index is at most half full),
    // whose entry pass 3 loaded: checked inline, before the probing call.
    const uint32_t home = index_.buckets[hash & (index_.size - 1)];  // Add() may grow it
    uint32_t slot = home != 0 && entries_[home - 1].hash == hash && SameKey(home - 1, key)
                        ? home - 1
                        : Find(key, hash);
    if (slot == kNoSlot) {
      slot = Add(key, hash, times[row]);
    } else {
      entries_[slot].last_time = times[row];
    }
    slots[row] = slot;
  }
}

uint32_t KeyTable::Insert(std::string_view key_bytes, int64_t last_time) {
  const uint64_t hash = HashBytes(key_bytes);
  uint32_t slot = Find(key_bytes, hash);
  if (slot != kNoSlot) {
    entries_[slot].last_time = last_time;
    return slot;
  }
  return Add(key_bytes, hash, last_time);
}

void KeyTable::StoreKey(uint32_t slot, std::string_view key) {
  StoredKey& k = entries_[slot].key;
  k.size = static_cast<uint32_t>(key.size());
  if (key.size() <= sizeof k.bytes) {
    std::memcpy(k.bytes, key.data(), key.size());
    return;
  }
  uint32_t i;
  if (!free_long_keys_.empty()) {
    i = free_long_keys_.back();
    free_long_keys_.pop_back();
    long_keys_[i].assign(key);
  } else {
    i = static_cast<uint32_t>(long_keys_.size());
    long_keys_.emplace_back(key);
  }
  std::memcpy(k.bytes, &i, sizeof i);
}

void KeyTable::FreeKey(uint32_t slot) {
  StoredKey& k = entries_[slot].key;
  if (k.size > sizeof k.bytes) {
    uint32_t i;
    std::memcpy(&i, k.bytes, sizeof i);
    long_keys_[i].clear();
    long_keys_[i].shrink_to_fit();
    free_long_keys_.push_back(i);
  }
  k = StoredKey{};
}

void KeyTable::Expired(int64_t now, size_t begin, size_t count, std::vector<uint32_t>* out) const {
  if (max_window_ns_ < 0) return;
  // A key is empty for every later event e when last <= e.t - W, and e.t >= now.
  const size_t end = std::min(entries_.size(), begin + std::min(count, entries_.size()));
  for (size_t s = begin; s < end; ++s) {
    if (in_use_[s] != 0 && entries_[s].last_time <= now - max_window_ns_) {
      out->push_back(static_cast<uint32_t>(s));
    }
  }
}

void KeyTable::Remove(uint32_t slot) {
  SLUICE_CHECK(in_use_[slot] != 0);
  if (growing()) MoveOldBuckets(kMovePerAdd);
  const uint64_t hash = entries_[slot].hash;
  const size_t mask = index_.size - 1;
  size_t i = hash & mask;
  while (index_.buckets[i] != 0 && index_.buckets[i] != slot + 1) i = (i + 1) & mask;
  if (index_.buckets[i] == 0) {
    // Not moved yet: mark its bucket in the old index, whose chains must
    // stay whole until it is retired.
    const size_t old = OldBucket(hash, [slot](uint32_t s) { return s == slot; });
    SLUICE_CHECK(old != SIZE_MAX);
    old_index_.buckets[old] = kGone;
  } else {
    // Backward-shift deletion keeps probe sequences unbroken without tombstones.
    size_t hole = i;
    for (size_t j = (hole + 1) & mask; index_.buckets[j] != 0; j = (j + 1) & mask) {
      const size_t home = entries_[index_.buckets[j] - 1].hash & mask;
      // Move entry j into the hole if its home is not in (hole, j].
      const bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!between) {
        index_.buckets[hole] = index_.buckets[j];
        hole = j;
      }
    }
    index_.buckets[hole] = 0;
  }
  in_use_[slot] = 0;
  FreeKey(slot);
  free_slots_.push_back(slot);
  --live_;
}

size_t KeyTable::bytes_reserved() const {
  size_t b = index_.mapped + (old_index_.mapped - released_) + entries_.capacity() * sizeof(Entry) +
             in_use_.capacity() + free_slots_.capacity() * sizeof(uint32_t);
  b += long_keys_.capacity() * sizeof(std::string);
  for (const auto& k : long_keys_) {
    if (k.capacity() > 15) b += k.capacity() + 1;
  }
  return b;
}

void KeyTable::Save(StateWriter& w) const {
  w.Put<uint64_t>(entries_.size());
  for (size_t s = 0; s < entries_.size(); ++s) {
    w.Put(in_use_[s]);
    if (in_use_[s] != 0) {
      w.PutString(KeyOf(static_cast<uint32_t>(s)));
      w.Put(entries_[s].last_time);
    }
  }
  w.PutVector(free_slots_);
}

bool KeyTable::Load(StateReader& r) {
  uint64_t slots = 0;
  if (!r.Get(&slots) || slots >= UINT32_MAX) return false;
  // Each slot takes at least a byte of the image: a bound before reserving.
  if (slots > r.remaining()) return false;
  entries_.clear();
  entries_.resize(slots);
  long_keys_.clear();
  free_long_keys_.clear();
  in_use_.clear();
  in_use_.resize(slots);
  live_ = 0;
  for (size_t s = 0; s < slots; ++s) {
    if (!r.Get(&in_use_[s])) return false;
    if (in_use_[s] == 0) continue;
    std::string key;
    if (!r.GetString(&key) || !r.Get(&entries_[s].last_time)) return false;
    StoreKey(static_cast<uint32_t>(s), key);
    entries_[s].hash = HashBytes(key);
    ++live_;
  }
  if (!r.GetVector(&free_slots_) || free_slots_.size() + live_ != slots) return false;
  for (uint32_t s : free_slots_) {
    if (s >= slots || in_use_[s] != 0) return false;
  }
  size_t size = 64;
  while (size < 2 * (live_ + 1)) size *= 2;
  FreeIndex(&old_index_);
  moved_ = released_ = 0;
  FreeIndex(&index_);
  index_ = NewIndex(size);
  for (size_t s = 0; s < slots; ++s) {
    if (in_use_[s] == 0) continue;
    if (Find(KeyOf(static_cast<uint32_t>(s)), entries_[s].hash) != kNoSlot) return false;  // twice
    InsertIntoIndex(static_cast<uint32_t>(s));
  }
  return true;
}

}  // namespace sluice::features::internal
