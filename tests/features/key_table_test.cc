// The key table against a std::unordered_map, through many growths of its
// hash index, which move the index to a larger one a few buckets at a time:
// keys added, found, removed and restored while the two indexes coexist.

#include "features/internal/key_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::features::internal {
namespace {

// Keys of 8 bytes (inline) and of 20 to 40 bytes (stored apart).
std::string KeyBytes(uint64_t n) {
  std::string key(8, '\0');
  std::memcpy(key.data(), &n, sizeof n);
  if (n % 3 == 0) key += std::string(12 + n % 21, static_cast<char>('a' + n % 26));
  return key;
}

KeyTable NewTable(int64_t max_window_ns = 1000) {
  return KeyTable({0}, {Type::String()}, 16, max_window_ns);
}

// Every key of `model` is found in its slot, no other slot is in use, and
// live() agrees.
void ExpectSame(KeyTable& table, const std::unordered_map<std::string, uint32_t>& model) {
  ASSERT_EQ(table.live(), model.size());
  size_t in_use = 0;
  for (size_t s = 0; s < table.slot_limit(); ++s) in_use += table.in_use(static_cast<uint32_t>(s));
  ASSERT_EQ(in_use, model.size());
  for (const auto& [key, slot] : model) {
    ASSERT_TRUE(table.in_use(slot));
    ASSERT_EQ(table.key_bytes(slot), key);
    // Insert of a present key finds it and adds nothing.
    ASSERT_EQ(table.Insert(key, 7), slot) << "key " << key.size() << " bytes";
  }
  ASSERT_EQ(table.live(), model.size());
}

TEST(KeyTable, AgreesWithAMapThroughGrowthsWithRemovesDuringEachMove) {
  KeyTable table = NewTable();
  std::unordered_map<std::string, uint32_t> model;
  std::vector<std::string> keys;  // present keys, for picking one to remove
  std::mt19937_64 rng(11);
  uint64_t next = 1;
  size_t growths = 0, removed_while_growing = 0, found_while_growing = 0;
  bool was_growing = false;
  for (int op = 0; op < 400'000; ++op) {
    const uint64_t r = rng() % 100;
    if (r < 55 || keys.empty()) {  // a new key
      const std::string key = KeyBytes(next++);
      const uint32_t slot = table.Insert(key, op);
      ASSERT_FALSE(model.count(key));
      if (op % 50'000 == 0) {  // spot check: the slot was free
        for (const auto& [k, s] : model) ASSERT_NE(s, slot) << k.size();
      }
      model.emplace(key, slot);
      keys.push_back(key);
    } else if (r < 80) {  // an existing key
      const std::string& key = keys[rng() % keys.size()];
      ASSERT_EQ(table.Insert(key, op), model.at(key));
      found_while_growing += table.growing();
    } else {  // remove one
      const size_t i = rng() % keys.size();
      const std::string key = keys[i];
      keys[i] = keys.back();
      keys.pop_back();
      removed_while_growing += table.growing();
      table.Remove(model.at(key));
      model.erase(key);
    }
    if (table.growing() && !was_growing) ++growths;
    was_growing = table.growing();
    if (op % 20'011 == 0) ExpectSame(table, model);
  }
  ExpectSame(table, model);
  EXPECT_GE(growths, 8u);
  EXPECT_GT(removed_while_growing, 1000u);
  EXPECT_GT(found_while_growing, 1000u);
}

// Keys whose home bucket in an index of `buckets` is `home`.
std::vector<std::string> KeysAt(size_t home, size_t buckets, size_t count, uint64_t* n) {
  std::vector<std::string> keys;
  while (keys.size() < count) {
    std::string key = KeyBytes((*n)++);
    if ((HashBytes(key) & (buckets - 1)) == home) keys.push_back(std::move(key));
  }
  return keys;
}

TEST(KeyTable, FindsKeysWhoseChainsCrossTheMovedPart) {
  // An index of 65,536 buckets (256 KiB, a mapping of its own) holds up to
  // 32,768 keys. Two runs of keys with one home bucket each: one that
  // straddles the first 64 KiB given back while the index moves, one that
  // wraps round the end. Every run key must be found after every step of
  // the move (a miss would add it again).
  constexpr size_t kBuckets = 65536;
  KeyTable table = NewTable();
  uint64_t n = 1'000'000;
  const std::vector<std::string> straddling = KeysAt(16380, kBuckets, 30, &n);
  const std::vector<std::string> wrapping = KeysAt(kBuckets - 6, kBuckets, 30, &n);
  std::unordered_map<std::string, uint32_t> runs;
  for (const auto* keys : {&straddling, &wrapping}) {
    for (const auto& key : *keys) runs.emplace(key, table.Insert(key, 1));
  }
  uint64_t filler = 0;
  while (table.live() < kBuckets / 2) table.Insert(KeyBytes(filler++), 1);
  ASSERT_FALSE(table.growing());
  table.Insert(KeyBytes(filler++), 1);
  ASSERT_TRUE(table.growing());
  size_t steps = 0;
  while (table.growing()) {
    for (const auto& [key, slot] : runs) {
      const size_t live = table.live();
      ASSERT_EQ(table.Insert(key, 2), slot) << "after " << steps << " steps";
      ASSERT_EQ(table.live(), live);
    }
    if (steps % 500 == 250) {  // remove a run key still in the old index, most likely
      const auto it = runs.begin();
      table.Remove(it->second);
      runs.erase(it);
    }
    table.Insert(KeyBytes(filler++), 1);
    ++steps;
  }
  EXPECT_GT(steps, 2048u);  // past the first 64 KiB given back
  EXPECT_LT(runs.size(), 60u);
  for (const auto& [key, slot] : runs) EXPECT_EQ(table.Insert(key, 3), slot);
}

TEST(KeyTable, KeysOfEveryShortLengthAreToldApart) {
  // Keys of 0 to 16 bytes (inline up to 12), each pair differing in one
  // byte only, at every position: each gets a slot of its own, and finds it.
  KeyTable table = NewTable();
  std::unordered_map<std::string, uint32_t> slots;
  for (size_t n = 0; n <= 16; ++n) {
    const std::string base(n, 'k');
    std::vector<std::string> keys = {base};
    for (size_t at = 0; at < n; ++at) {
      std::string other = base;
      other[at] = '\0';
      keys.push_back(other);
      other[at] = '\xff';
      keys.push_back(other);
    }
    for (const std::string& key : keys) {
      const uint32_t slot = table.Insert(key, 1);
      ASSERT_TRUE(slots.emplace(key, slot).second || slots[key] == slot);
    }
  }
  std::unordered_map<uint32_t, int> uses;
  for (const auto& [key, slot] : slots) {
    EXPECT_EQ(table.Insert(key, 2), slot);
    EXPECT_EQ(++uses[slot], 1) << "two keys share slot " << slot;
  }
  EXPECT_EQ(table.live(), slots.size());
}

// The bytes a key is stored as: each value in turn, a string as its 32-bit
// length and its bytes, a bool as a byte, an enum as its int32 index, int64
// and timestamps as 8 bytes (little-endian). Checkpoints hold these bytes.
template <typename T>
void Append(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}
std::string StringKey(const std::string& text) {
  std::string out;
  Append(&out, static_cast<uint32_t>(text.size()));
  return out + text;
}

TEST(KeyTable, LookupBatchStoresStringKeysOfEveryLengthAsEncoded) {
  // One string column (the inline fast path): texts of 0 to 40 bytes with
  // zero and 0xff bytes, null keys and rows with a record error.
  BatchLayout layout;
  const int col = layout.Add({"k", Type::String(), std::nullopt});
  KeyTable table({col}, {Type::String()}, 16, 1000);
  std::mt19937_64 rng(5);
  std::vector<std::string> texts;
  for (size_t n = 0; n <= 40; ++n) {
    for (int variant = 0; variant < 3; ++variant) {
      std::string t(n, '\0');
      for (char& c : t) c = static_cast<char>(rng() % 3 == 0 ? 0 : (rng() % 2 ? 0xff : rng()));
      texts.push_back(t);
    }
  }
  std::unordered_map<std::string, uint32_t> seen;
  for (int round = 0; round < 2; ++round) {  // the second batch finds every key again
    Batch batch(layout, texts.size() + 2);
    std::vector<int64_t> times(texts.size() + 2, 1);
    for (const std::string& t : texts) {
      const size_t r = batch.AppendRow();
      batch.column(col).valid()[r] = 1;
      batch.column(col).data<std::string_view>()[r] = batch.arena().Copy(t);
    }
    const size_t null_row = batch.AppendRow();
    batch.column(col).valid()[null_row] = 0;
    const size_t error_row = batch.AppendRow();
    batch.column(col).valid()[error_row] = 1;
    batch.column(col).data<std::string_view>()[error_row] = "some key";
    batch.SetRowError(error_row, 1);
    std::vector<uint32_t> slots(batch.size(), 0);
    table.LookupBatch(batch, batch.size(), times.data(), slots.data());
    EXPECT_EQ(slots[null_row], KeyTable::kNoSlot);
    EXPECT_EQ(slots[error_row], KeyTable::kNoSlot);
    for (size_t r = 0; r < texts.size(); ++r) {
      ASSERT_NE(slots[r], KeyTable::kNoSlot);
      EXPECT_EQ(table.key_bytes(slots[r]), StringKey(texts[r])) << texts[r].size() << " bytes";
      const auto [it, added] = seen.emplace(texts[r], slots[r]);
      EXPECT_EQ(it->second, slots[r]);  // a repeated text, the same slot
      if (round == 1) {
        EXPECT_FALSE(added);
      }
    }
  }
  std::unordered_map<uint32_t, int> uses;
  for (const auto& [text, slot] : seen) EXPECT_EQ(++uses[slot], 1) << "two keys share a slot";
}

TEST(KeyTable, LookupBatchFindsRepeatedKeysWhileTheIndexGrowsWithinABatch) {
  // Batches of 1,000 rows: half new keys (so that the index grows, and moves,
  // in the middle of batches), half keys seen before or earlier in the same
  // batch. Every row gets its key's slot, and each key the time of its last row.
  BatchLayout layout;
  const int col = layout.Add({"k", Type::String(), std::nullopt});
  KeyTable table({col}, {Type::String()}, 16, 1000);
  std::mt19937_64 rng(17);
  std::unordered_map<std::string, uint32_t> model;
  std::unordered_map<std::string, int64_t> last;
  std::vector<std::string> keys;
  uint64_t next = 1;
  size_t growing_batches = 0;
  int64_t time = 0;
  for (int b = 0; b < 120; ++b) {
    Batch batch(layout, 1000);
    std::vector<std::string> texts;
    std::vector<int64_t> times;
    for (int r = 0; r < 1000; ++r) {
      if (keys.empty() || rng() % 2 == 0) {
        keys.push_back(KeyBytes(next++));
        texts.push_back(keys.back());
      } else {
        texts.push_back(keys[rng() % keys.size()]);
      }
      times.push_back(++time);
      const size_t row = batch.AppendRow();
      batch.column(col).valid()[row] = 1;
      batch.column(col).data<std::string_view>()[row] = batch.arena().Copy(texts.back());
    }
    const bool was_growing = table.growing();
    std::vector<uint32_t> slots(batch.size(), 0);
    table.LookupBatch(batch, batch.size(), times.data(), slots.data());
    growing_batches += was_growing || table.growing();
    for (size_t r = 0; r < texts.size(); ++r) {
      ASSERT_NE(slots[r], KeyTable::kNoSlot);
      const auto [it, added] = model.emplace(texts[r], slots[r]);
      ASSERT_EQ(it->second, slots[r]) << "batch " << b << " row " << r;
      last[texts[r]] = times[r];
    }
  }
  EXPECT_GE(growing_batches, 10u);
  ASSERT_EQ(table.live(), model.size());
  std::unordered_map<uint32_t, int> uses;
  for (const auto& [key, slot] : model) {
    ASSERT_EQ(++uses[slot], 1) << "two keys share a slot";
    ASSERT_EQ(table.key_bytes(slot), StringKey(key));
    ASSERT_EQ(table.last_time(slot), last.at(key));
  }
}

TEST(KeyTable, LookupBatchEncodesCompositeKeys) {
  // Several columns of every key type: the stored bytes follow the format,
  // and a null in any column leaves the row without a slot.
  BatchLayout layout;
  auto domain = std::make_shared<const EnumDomain>(std::vector<std::string>{"pos", "ecom", "atm"});
  const std::vector<Type> types = {Type::Int64(), Type::Bool(), Type::Enum(domain), Type::String(),
                                   Type::Timestamp()};
  std::vector<int> cols;
  for (size_t i = 0; i < types.size(); ++i) {
    cols.push_back(layout.Add({"c" + std::to_string(i), types[i], std::nullopt}));
  }
  KeyTable table(cols, types, 16, 1000);
  Batch batch(layout, 64);
  std::vector<std::string> want;
  std::vector<bool> has_null;
  std::mt19937_64 rng(9);
  for (int i = 0; i < 64; ++i) {
    const size_t r = batch.AppendRow();
    const auto v = static_cast<int64_t>(rng() % 5) - 2;
    const bool b = rng() % 2 == 0;
    const auto e = static_cast<int32_t>(rng() % 3);
    const std::string s(rng() % 30, static_cast<char>('a' + rng() % 3));
    const auto ts = static_cast<int64_t>(rng() % 3) * 1'000'000'000;
    batch.column(cols[0]).data<int64_t>()[r] = v;
    batch.column(cols[1]).data<uint8_t>()[r] = b ? 1 : 0;
    batch.column(cols[2]).data<int32_t>()[r] = e;
    batch.column(cols[3]).data<std::string_view>()[r] = batch.arena().Copy(s);
    batch.column(cols[4]).data<int64_t>()[r] = ts;
    const int null_col = i % 8 == 0 ? static_cast<int>(rng() % cols.size()) : -1;
    for (size_t c = 0; c < cols.size(); ++c) {
      batch.column(cols[c]).valid()[r] = static_cast<int>(c) == null_col ? 0 : 1;
    }
    std::string key;
    Append(&key, v);
    key.push_back(b ? 1 : 0);
    Append(&key, e);
    Append(&key, static_cast<uint32_t>(s.size()));
    key += s;
    Append(&key, ts);
    want.push_back(key);
    has_null.push_back(null_col >= 0);
  }
  std::vector<int64_t> times(batch.size(), 1);
  std::vector<uint32_t> slots(batch.size(), 0);
  table.LookupBatch(batch, batch.size(), times.data(), slots.data());
  std::unordered_map<std::string, uint32_t> seen;
  for (size_t r = 0; r < batch.size(); ++r) {
    if (has_null[r]) {
      EXPECT_EQ(slots[r], KeyTable::kNoSlot) << r;
      continue;
    }
    ASSERT_NE(slots[r], KeyTable::kNoSlot);
    EXPECT_EQ(table.key_bytes(slots[r]), want[r]) << r;
    EXPECT_EQ(seen.emplace(want[r], slots[r]).first->second, slots[r]) << r;
  }
}

TEST(KeyTable, EmptiedAndRefilledWhileGrowing) {
  KeyTable table = NewTable();
  std::unordered_map<std::string, uint32_t> model;
  for (uint64_t round = 0; round < 4; ++round) {
    // Fill until a growth starts, then remove everything mid-move.
    uint64_t n = round * 1'000'000;
    while (!table.growing() || table.live() < 2000) {
      const std::string key = KeyBytes(n++);
      model.emplace(key, table.Insert(key, 1));
      if (table.live() > 200'000) break;
    }
    ASSERT_TRUE(table.growing());
    ExpectSame(table, model);
    for (const auto& [key, slot] : model) table.Remove(slot);
    model.clear();
    ExpectSame(table, model);
  }
}

TEST(KeyTable, SavedAndLoadedWhileGrowing) {
  KeyTable table = NewTable();
  std::unordered_map<std::string, uint32_t> model;
  uint64_t n = 0;
  while (table.live() < 5000 || !table.growing()) {
    const std::string key = KeyBytes(n++);
    model.emplace(key, table.Insert(key, static_cast<int64_t>(n)));
  }
  // Remove a few, some of them still in the old index.
  for (uint64_t k = 1; k < n; k += 7) {
    const auto it = model.find(KeyBytes(k));
    table.Remove(it->second);
    model.erase(it);
  }
  StateWriter w;
  table.Save(w);
  KeyTable loaded = NewTable();
  StateReader r(w.bytes());
  ASSERT_TRUE(loaded.Load(r));
  EXPECT_FALSE(loaded.growing());
  ExpectSame(loaded, model);
  for (const auto& [key, slot] : model) EXPECT_EQ(loaded.last_time(slot), 7);  // set by ExpectSame
}

TEST(KeyTable, ExpiredScansTheRangeAsked) {
  KeyTable table = NewTable(/*max_window_ns=*/100);
  for (uint64_t k = 0; k < 50; ++k) table.Insert(KeyBytes(k), static_cast<int64_t>(k * 10));
  table.Remove(table.Insert(KeyBytes(3), 30));  // a free slot is never expired
  // At 300, keys with last time <= 200 have nothing left: slots 0-20 but 3.
  std::vector<uint32_t> out;
  table.Expired(300, 0, 10, &out);
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 2, 4, 5, 6, 7, 8, 9}));
  out.clear();
  table.Expired(300, 10, 1000, &out);  // clipped to the slots in use
  EXPECT_EQ(out.size(), 11u);
  EXPECT_EQ(out.back(), 20u);
  out.clear();
  table.Expired(300, 60, 10, &out);  // past the end
  EXPECT_TRUE(out.empty());
  KeyTable unbounded = NewTable(/*max_window_ns=*/-1);
  unbounded.Insert(KeyBytes(1), 0);
  unbounded.Expired(INT64_MAX, 0, 10, &out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace sluice::features::internal

namespace sluice::features::internal {
namespace {

// HashBytes as first defined, restated: words read byte by byte
// (little-endian), the last one zero-padded. Key groups and saved states
// depend on its values, which must never change.
uint64_t ReferenceHash(std::string_view bytes) {
  constexpr uint64_t kM = 0xc6a4a7935bd1e995ULL;
  const auto word_at = [&](size_t at, size_t n) {
    uint64_t w = 0;
    for (size_t b = 0; b < n; ++b)
      w |= uint64_t{static_cast<unsigned char>(bytes[at + b])} << (8 * b);
    return w;
  };
  const auto fold = [](uint64_t x) { return x ^ (x >> 47); };
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (bytes.size() * kM);
  const size_t whole = bytes.size() / 8;
  for (size_t w = 0; w < whole; ++w) h = (h ^ (fold(word_at(8 * w, 8) * kM) * kM)) * kM;
  if (const size_t rest = bytes.size() % 8; rest != 0) h = (h ^ word_at(8 * whole, rest)) * kM;
  return fold(fold(h) * kM);
}

TEST(LoadShortBytes, ReadsExactlyTheBytesAsked) {
  // Up to 7 bytes as a little-endian word, zero above them, never reading
  // past them (ASan: the bytes sit at the end of their allocation).
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    for (size_t n = 0; n <= 7; ++n) {
      std::vector<char> bytes(n);  // exactly n bytes on the heap
      for (char& c : bytes) c = static_cast<char>(rng());
      uint64_t want = 0;
      if (n != 0) std::memcpy(&want, bytes.data(), n);
      ASSERT_EQ(LoadShortBytes(bytes.data(), n), want) << "length " << n;
    }
  }
}

TEST(HashBytes, KeepsItsValuesForEveryLengthAndPlace) {
  std::mt19937_64 rng(11);
  std::string buffer(96, '\0');
  for (int round = 0; round < 50; ++round) {
    for (char& c : buffer) c = static_cast<char>(rng());
    for (size_t start = 0; start < 9; ++start) {
      for (size_t n = 0; start + n <= 48; ++n) {
        const std::string_view bytes(buffer.data() + start, n);
        ASSERT_EQ(HashBytes(bytes), ReferenceHash(bytes)) << "length " << n << " at " << start;
      }
    }
  }
  // And fixed values, so that a change to both functions shows too.
  EXPECT_EQ(HashBytes(""), 0x84d69dcef1e6733aULL);
  EXPECT_EQ(HashBytes("c072772"), 0x318c514d616fd53bULL);
  EXPECT_EQ(HashBytes("merchant-0012345678"), 0xc5e6a51e7f4b2a6bULL);
}

}  // namespace
}  // namespace sluice::features::internal
