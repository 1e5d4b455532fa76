// StringArena: bytes handed out stay intact until Reset(), across blocks,
// including requests larger than a block; after Reset() the blocks are used
// again without new memory when the requests repeat.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "types/batch.h"

namespace sluice {
namespace {

TEST(StringArena, CopiesStayIntactAcrossBlocksAndResets) {
  StringArena arena(256);
  std::mt19937_64 rng(4);
  size_t reserved_after_first = 0;
  for (int round = 0; round < 4; ++round) {
    rng.seed(4);  // the same requests every round, as batches of one shape
    std::vector<std::string> want;
    std::vector<std::string_view> got;
    for (int i = 0; i < 400; ++i) {
      // Mostly short strings; some larger than a whole block.
      const size_t n = rng() % 20 == 0 ? 300 + rng() % 700 : rng() % 40;
      std::string s(n, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      got.push_back(arena.Copy(s));
      want.push_back(std::move(s));
    }
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "round " << round;
    if (round == 0) reserved_after_first = arena.bytes_reserved();
    arena.Reset();
  }
  // Later rounds asked for the same: they reuse the blocks, none is added.
  EXPECT_EQ(arena.bytes_reserved(), reserved_after_first);
}

TEST(StringArena, AllocationsAreWritableAndDistinct) {
  StringArena arena(64);
  char* empty = arena.Allocate(0);
  EXPECT_NE(empty, nullptr);
  std::vector<char*> blocks;
  for (size_t n : {1, 63, 64, 65, 1, 200, 7}) {
    char* p = arena.Allocate(n);
    ASSERT_NE(p, nullptr);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(n);
    blocks.push_back(p);
  }
  size_t k = 0;
  for (size_t n : {1, 63, 64, 65, 1, 200, 7}) {
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(blocks[k][i], static_cast<char>(n)) << n;
    ++k;
  }
}

}  // namespace
}  // namespace sluice
