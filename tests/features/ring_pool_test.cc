// Window queues (ring_pool.h): many queues in one pool behave as deques of
// [time, value] records through growth, wrap-around, shrinking, inline
// single records and a save/load round trip; malformed references are
// refused when loading.

#include "features/internal/ring_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <utility>
#include <vector>

namespace sluice::features::internal {
namespace {

using Record = std::pair<int64_t, uint64_t>;

void ExpectSame(const RingPool& pool, const RingRef& r, const std::deque<Record>& want) {
  ASSERT_EQ(RingPool::Size(r), want.size());
  for (uint32_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(pool.TimeAt(r, i), want[i].first) << i;
    EXPECT_EQ(pool.ValueAt(r, i), want[i].second) << i;
  }
  EXPECT_TRUE(pool.Valid(r));
}

TEST(RingPool, QueuesBehaveAsDequesThroughGrowthAndInlineRecords) {
  std::mt19937_64 rng(11);
  RingPool pool;
  constexpr size_t kQueues = 64;
  std::vector<RingRef> refs(kQueues);
  std::vector<std::deque<Record>> want(kQueues);
  int64_t now = 1'700'000'000'000'000'000;
  size_t inline_seen = 0, block_seen = 0;
  for (int step = 0; step < 200'000; ++step) {
    const size_t q = rng() % kQueues;
    RingRef& r = refs[q];
    std::deque<Record>& w = want[q];
    // Queues swing between empty, one record and a few hundred.
    const uint64_t op = rng() % 100;
    const bool grow_phase = (step / 20'000) % 2 == 0;
    if (op < (grow_phase ? 60u : 35u) || w.empty()) {
      // Mostly times near now; some outside the inline range.
      int64_t t = now + static_cast<int64_t>(rng() % 1000);
      if (rng() % 50 == 0) t = (rng() % 2 == 0) ? INT64_MAX - 5 : INT64_MIN + 5;
      const uint64_t v = rng();
      pool.Push(r, t, v);
      w.emplace_back(t, v);
    } else if (op < 80) {
      pool.PopFront(r);
      w.pop_front();
    } else if (op < 95) {
      pool.PopBack(r);
      w.pop_back();
    } else {
      const auto i = static_cast<uint32_t>(rng() % w.size());
      const uint64_t v = rng();
      pool.SetValue(r, i, v);
      w[i].second = v;
    }
    ++now;
    if (RingPool::IsInline(r)) {
      ++inline_seen;
      // Only a single record with a time in range is inline.
      ASSERT_EQ(w.size(), 1u);
      EXPECT_LT(w.front().first, int64_t{1} << 62);
      EXPECT_GE(w.front().first, -(int64_t{1} << 62));
    } else if (!w.empty()) {
      ++block_seen;
    }
    if (step % 997 == 0) ExpectSame(pool, r, w);
  }
  EXPECT_GT(inline_seen, 1000u);
  EXPECT_GT(block_seen, 1000u);
  for (size_t q = 0; q < kQueues; ++q) ExpectSame(pool, refs[q], want[q]);

  // Holds() over sub-ranges of each queue, against the deque: values at
  // some positions inside and outside the range, and one held nowhere.
  for (size_t q = 0; q < kQueues; ++q) {
    const auto n = static_cast<uint32_t>(want[q].size());
    for (uint32_t first = 0; first <= n && first < 4; ++first) {
      for (uint32_t count = 0; first + count <= n; count += 1 + count / 2) {
        for (int probe = 0; probe < 6 && n > 0; ++probe) {
          const uint64_t v = want[q][rng() % n].second;
          bool expected = false;
          for (uint32_t j = first; j < first + count; ++j) expected |= want[q][j].second == v;
          EXPECT_EQ(pool.Holds(refs[q], first, count, v), expected) << q << " " << first;
        }
        EXPECT_FALSE(pool.Holds(refs[q], first, count, 0x5eed5eed5eed5eedULL));
      }
    }
  }

  // A saved pool loads back, with every queue intact.
  StateWriter w;
  pool.Save(w);
  RingPool loaded;
  StateReader reader(w.bytes());
  ASSERT_TRUE(loaded.Load(reader));
  for (size_t q = 0; q < kQueues; ++q) ExpectSame(loaded, refs[q], want[q]);

  // Released queues are empty, and blocks given back are used again: after
  // a first round, rounds of the same pushes and pops take no new memory.
  for (size_t q = 0; q < kQueues; ++q) {
    pool.Release(refs[q]);
    EXPECT_EQ(RingPool::Size(refs[q]), 0u);
  }
  size_t reserved = 0;
  for (int round = 0; round < 4; ++round) {
    for (size_t q = 0; q < kQueues; ++q) {
      for (int i = 0; i < 9; ++i) pool.Push(refs[q], now + i, static_cast<uint64_t>(i));
    }
    for (size_t q = 0; q < kQueues; ++q) {
      for (int i = 0; i < 9; ++i) pool.PopFront(refs[q]);
    }
    if (round == 0) reserved = pool.bytes_reserved();
    EXPECT_EQ(pool.bytes_reserved(), reserved);
  }
}

TEST(RingPool, OneRecordIsInlineAndTheSecondMovesBothToABlock) {
  RingPool pool;
  RingRef r;
  pool.Push(r, 5, 50);
  EXPECT_TRUE(RingPool::IsInline(r));
  EXPECT_EQ(pool.bytes_reserved(), 0u);  // no block yet
  pool.Push(r, 6, 60);
  EXPECT_FALSE(RingPool::IsInline(r));
  ExpectSame(pool, r, {{5, 50}, {6, 60}});
  pool.PopFront(r);
  ExpectSame(pool, r, {{6, 60}});
  pool.PopFront(r);  // empty: the block goes back, the next record is inline
  EXPECT_EQ(RingPool::Size(r), 0u);
  EXPECT_EQ(r.capacity, 0u);
  pool.Push(r, -7, 70);
  EXPECT_TRUE(RingPool::IsInline(r));
  ExpectSame(pool, r, {{-7, 70}});
  // Times outside +-2^62 ns take a block even alone.
  RingRef far;
  pool.Push(far, INT64_MIN, 1);
  EXPECT_FALSE(RingPool::IsInline(far));
  ExpectSame(pool, far, {{INT64_MIN, 1}});
}

TEST(RingPool, MalformedReferencesAreRefused) {
  RingPool pool;
  RingRef a, b;
  for (int i = 0; i < 5; ++i) pool.Push(a, i, 1);  // a block of 8
  pool.Push(b, 1, 2);                              // inline
  EXPECT_TRUE(pool.Valid(a));
  EXPECT_TRUE(pool.Valid(b));
  EXPECT_TRUE(pool.Valid(RingRef{}));
  auto bad = [&](RingRef r) { EXPECT_FALSE(pool.Valid(r)); };
  RingRef r = a;
  r.capacity = 6;  // not a power of two
  bad(r);
  r = a;
  r.head = r.capacity;
  bad(r);
  r = a;
  r.size = r.capacity + 1;
  bad(r);
  r = a;
  r.offset = 1u << 30;  // past the store
  bad(r);
  r = a;
  r.capacity = 1u << 31;  // larger than any block
  bad(r);
  bad(RingRef{0, 0, 0, 3});  // records without a block
}

}  // namespace
}  // namespace sluice::features::internal
