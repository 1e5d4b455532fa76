#pragma once
// SlidingSketch: approx_count_distinct over a time window, for one key.
//
// Exact phase: up to kExact distinct 64-bit value hashes, each with the time
// it was last seen, oldest first; the estimate is their number (exact, up to
// hash collisions). Dense phase, from the (kExact + 1)th distinct hash on: a
// sliding HyperLogLog (Chabchoub and Hebrail 2010) with the 1,024 registers
// and the estimator of DistinctSketch. Each register keeps its "list of
// possible future maxima": the (time, rank) pairs that may still be the
// register's largest rank in some later window. From the oldest pair to the
// newest, time grows and rank falls strictly: a new pair removes the newer
// pairs of rank <= its own, since they leave the window before it does. The
// register's value for a window (horizon, now] is then the rank of its
// oldest pair newer than the horizon, which is its oldest pair once
// Expire(horizon) has run.
//
// Cost: Add is amortised O(1) (each pair is appended and removed once) plus,
// when the register's oldest pair changes, a walk up a tournament tree of the
// registers' oldest times (10 levels); Expire finds the expired pairs through
// that tree, O(10) per pair removed; Estimate is O(kMaxRank) from a histogram
// of the registers' ranks.
//
// Memory: exact phase, 16 bytes per distinct value (at most 1 KiB). Dense
// phase: 6,288 bytes of register lists' ends, tree and histogram, plus 16
// bytes per pair held (the pool's capacity doubles up to the maximum). A
// register holds at most kMaxRank (55) pairs, so the worst case is
// 1,024 * 55 * 16 bytes + 6,288 = 886 KiB per key. Random hashes leave few
// pairs, growing with the logarithm of the number n of distinct values in
// the window: 1.2 per register at n = 2,000, 2.8 at 20,000, 4.4 at 200,000
// (38, 70 and 134 KiB; tests/features/windowed_approx_distinct_test.cc).
// When every pair has left the window the sketch returns to an empty exact
// phase, which is also the state of a key never seen: evicting a key never
// changes a result.
//
// Times passed to Add never decrease (events reach a key in event-time
// order).

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/binary_io.h"
#include "features/internal/distinct_sketch.h"

namespace sluice::features::internal {

class SlidingSketch {
 public:
  static constexpr size_t kExact = DistinctSketch::kExact;
  static constexpr size_t kRegisters = DistinctSketch::kRegisters;
  static constexpr int kMaxRank = DistinctSketch::kMaxRank;

  SlidingSketch();
  SlidingSketch(SlidingSketch&&) noexcept;
  SlidingSketch& operator=(SlidingSketch&&) noexcept;
  ~SlidingSketch();

  // The value with hash `hash` seen at time `t`.
  // REQUIRES: t >= every earlier t.
  void Add(uint64_t hash, int64_t t);
  // Forgets the values last seen at or before `horizon`.
  void Expire(int64_t horizon);
  // The estimated number of distinct values held.
  int64_t Estimate() const;
  bool dense() const { return dense_ != nullptr; }
  // Pairs held in the dense phase (0 in the exact phase).
  size_t pairs() const;
  // Heap bytes held.
  size_t bytes() const;

  void Save(StateWriter& w) const;
  // Restores what Save wrote; false if the image is inconsistent.
  bool Load(StateReader& r);

 private:
  struct Dense;
  void Densify();

  // Exact phase: (hash, time) pairs, oldest first.
  std::vector<uint64_t> exact_;
  std::unique_ptr<Dense> dense_;
};

}  // namespace sluice::features::internal
