// String words (string_pool.h): strings of up to 7 bytes are their own
// words, longer ones interned ids; equal strings have equal words, different
// strings different ones, and a word always reads back as its string.

#include "features/internal/string_pool.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace sluice::features::internal {
namespace {

// The word window state would hold for `s`, with a reference if interned.
uint64_t WordOf(StringPool& pool, const std::string& s) {
  uint64_t word;
  if (StringPool::ShortWord(s, &word)) return word;
  return pool.Intern(s);
}

TEST(StringPool, ShortStringsAreTheirOwnWordsAndReadBack) {
  std::mt19937_64 rng(3);
  StringPool pool;
  std::map<uint64_t, std::string> seen;
  for (int round = 0; round < 2000; ++round) {
    // Every length up to 7, with bytes that include zeros and 0xff.
    std::string s(static_cast<size_t>(round % 8), '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    uint64_t word = 0;
    ASSERT_TRUE(StringPool::ShortWord(s, &word));
    EXPECT_TRUE(StringPool::IsShort(word));
    EXPECT_TRUE(pool.ValidWord(word));
    EXPECT_EQ(pool.View(word), s);
    // The same string, the same word; another string, another word.
    auto [it, added] = seen.emplace(word, s);
    if (!added) {
      EXPECT_EQ(it->second, s);
    }
  }
  std::map<std::string, uint64_t> by_string;
  for (const auto& [word, s] : seen) by_string.emplace(s, word);
  EXPECT_EQ(by_string.size(), seen.size());
  // No reference, no pool entry.
  uint64_t w = 0;
  ASSERT_TRUE(StringPool::ShortWord("US", &w));
  pool.RetainWord(w);
  pool.ReleaseWord(w);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(StringPool, LongStringsAreInternedAndCounted) {
  StringPool pool;
  const std::string a = "merchant-0001";
  const std::string b = "merchant-0002";
  uint64_t unused = 0;
  EXPECT_FALSE(StringPool::ShortWord(a, &unused));
  EXPECT_FALSE(StringPool::ShortWord("12345678", &unused));
  const uint64_t wa = WordOf(pool, a);
  const uint64_t wb = WordOf(pool, b);
  EXPECT_FALSE(StringPool::IsShort(wa));
  EXPECT_NE(wa, wb);
  EXPECT_EQ(WordOf(pool, a), wa);  // a second reference
  EXPECT_EQ(pool.View(wa), a);
  EXPECT_EQ(pool.View(wb), b);
  EXPECT_EQ(pool.size(), 2u);
  pool.ReleaseWord(wa);
  EXPECT_TRUE(pool.ValidWord(wa));
  pool.ReleaseWord(wa);  // the last reference: the string is gone
  EXPECT_FALSE(pool.ValidWord(wa));
  EXPECT_EQ(pool.size(), 1u);
  // Its id is used again for the next new string.
  EXPECT_EQ(WordOf(pool, "another long string"), wa);
}

TEST(StringPool, MalformedWordsAreNotValid) {
  StringPool pool;
  uint64_t w = 0;
  ASSERT_TRUE(StringPool::ShortWord("abc", &w));
  EXPECT_TRUE(pool.ValidWord(w));
  EXPECT_FALSE(pool.ValidWord(w | (uint64_t{0x41} << 24)));  // a byte past the length
  EXPECT_FALSE(pool.ValidWord(w | (uint64_t{1} << 59)));     // length bits above 7
  EXPECT_FALSE(pool.ValidWord(StringPool::kShortBit | (uint64_t{8} << 56)));
  const uint64_t id = pool.Intern("a long enough string");
  EXPECT_TRUE(pool.ValidWord(id));
  EXPECT_FALSE(pool.ValidWord(id + 1));                    // no such string
  EXPECT_FALSE(pool.ValidWord(id | (uint64_t{1} << 40)));  // bits above an id
}

TEST(StringPool, ShortStringsInternedByEarlierVersionsGetTheirWords) {
  // Earlier versions interned every string: their saved states hold ids of
  // short strings, which must compare equal to the words of the same
  // strings seen after a restart.
  StringPool pool;
  const uint64_t old_short = pool.Intern("DE");
  const uint64_t old_long = pool.Intern("longer than seven");
  uint64_t now = 0;
  ASSERT_TRUE(StringPool::ShortWord("DE", &now));
  EXPECT_EQ(pool.Current(old_short), now);
  EXPECT_EQ(pool.Current(old_long), old_long);
  EXPECT_EQ(pool.Current(now), now);
}

}  // namespace
}  // namespace sluice::features::internal
