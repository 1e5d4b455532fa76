#pragma once
// WindowGroup: the state of every windowed aggregate that shares its keys,
// window, filter and argument (`sum(amount)`, `avg(amount)` and
// `stddev(amount)` over 30d by card_id share one). It holds, per key slot,
// the events in the window (a RingPool queue of [time, value]) and running
// aggregates updated as events enter and leave, so that each event costs
// amortised O(1) per aggregate:
//
//  * count, sum, avg: counts and double-double sums; int64 sums are exact
//    (128-bit);
//  * variance, stddev: double-double sums of x and x^2 (exact enough that
//    the cancellation in sum(x^2) - sum(x)^2/n loses nothing a double keeps);
//  * min, max: monotonic queues (each event enters and leaves once);
//  * first, time_since_first: the oldest event in the window; last,
//    previous, time_since_last: the newest value and its time;
//  * count_distinct: per-(key, value) counts;
//  * approx_count_distinct: a DistinctSketch per key (unbounded windows) or
//    a SlidingSketch, which forgets values as they leave the window and
//    holds no events;
//  * decayed_sum/avg: the decayed totals at the time of the key's last event.
//
// When a key's window becomes empty its running values are reset to exactly
// zero, so a key evicted and seen again computes what it would have computed
// had it stayed: eviction never changes a result.
//
// Thread safety: none; one FeatureState belongs to one thread.

#include <cstdint>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "features/internal/distinct_sketch.h"
#include "features/internal/double_double.h"
#include "features/internal/key_table.h"
#include "features/internal/pair_counter.h"
#include "features/internal/ring_pool.h"
#include "features/internal/sliding_sketch.h"
#include "features/internal/string_pool.h"
#include "types/batch.h"

namespace sluice::features::internal {

// Exact int64 sums over windows (GCC and Clang extension).
__extension__ typedef __int128 Int128;

struct GroupMember {
  expr::AggregateKind kind;
  bool exclude_current = false;
  Type result_type;
  uint32_t overflow_error = 0;
  // This batch's results, copied to the result column by the member's step.
  std::vector<uint64_t> words;
  std::vector<std::string_view> strings;  // string results, in the batch arena
  std::vector<uint8_t> valid;
  std::vector<uint8_t> overflow;
};

class WindowGroup {
 public:
  // `value` / `filter`: columns of the first member's expressions (-1: none).
  WindowGroup(KeyTable* keys, int value, Type value_type, int filter, int64_t window_ns,
              int64_t half_life_ns, StringPool* strings);
  WindowGroup(const WindowGroup&) = delete;
  WindowGroup& operator=(const WindowGroup&) = delete;
  ~WindowGroup();

  // Adds an aggregate; returns its index. Only before the first Process().
  size_t AddMember(const expr::WindowCall& call);
  GroupMember& member(size_t i) { return members_[i]; }
  size_t num_members() const { return members_.size(); }
  KeyTable* keys() const { return keys_; }
  size_t slots() const { return slots_; }

  // Runs every row of `batch` through the state, filling the members'
  // results. `slots[row]` is the row's key slot or KeyTable::kNoSlot;
  // `time` the event-time column.
  void Process(Batch& batch, const uint32_t* slots, int time_column);
  // Forgets everything about `slot` (its key is being evicted).
  void Reset(uint32_t slot);

  void Save(StateWriter& w) const;
  // Restores what Save wrote; false if the image is inconsistent.
  bool Load(StateReader& r);
  // Every string id held refers to a string in the pool (after loading).
  bool StringsValid() const;
  bool LoadSketches(StateReader& r);
  // Bytes of the approx_count_distinct sketches (included in bytes_reserved).
  size_t SketchBytes() const;

  size_t events_held() const;
  size_t bytes_reserved() const;
  // The part of bytes_reserved() that holds window contents.
  size_t window_bytes() const;

 private:
  struct Needs {
    bool ring = false;   // the events in the window, to remove them later
    bool count = false;  // unbounded windows: a counter
    bool sum = false;
    bool welford = false;
    bool min = false;
    bool max = false;
    bool first = false;  // unbounded windows
    bool last = false;
    bool distinct = false;
    bool sketch = false;  // approx_count_distinct: sketch_ or, windowed, sliding_
    bool decay = false;
  };

  void EnsureSlots(size_t n);
  // The sliding sketches' heap bytes: window contents, freed as values leave.
  size_t SlidingSketchBytes() const;
  // Loads the state of `slot` (see Process); returns a value to sink.
  // `contents`: the window contents the per-slot entries point to.
  uint64_t Touch(uint32_t slot, bool contents) const;
  uint64_t ValueWord(const Batch& batch, size_t row);
  void Evict(uint32_t slot, int64_t now);
  void Enter(uint32_t slot, int64_t t, uint64_t word);
  void Leave(uint32_t slot, int64_t t, uint64_t word);
  void Emit(GroupMember& m, Batch& batch, size_t row, uint32_t slot, int64_t t);
  // A result read from a held value: seconds elapsed since it, or the value.
  void EmitHeld(GroupMember& m, Batch& batch, size_t row, bool elapsed, int64_t elapsed_ns,
                uint64_t word);
  void ReleaseWord(uint64_t word);
  void RetainWord(uint64_t word);
  int64_t CountOf(uint32_t slot) const;
  bool IsString() const { return value_type_.kind == TypeKind::kString; }
  bool Less(uint64_t a, uint64_t b) const;
  // 2^(dt / half-life), and value times it without early underflow.
  double DecayFactor(int64_t dt) const;
  double Decayed(double value, int64_t dt) const;
  double AsDouble(uint64_t word) const;
  // x - K for variance, K the slot's shift (exact: a double-double).
  DoubleDouble Deviation(uint32_t slot, uint64_t word) const;
  // sum(x - K) over the window's n values.
  DoubleDouble ShiftedSum(uint32_t slot, int64_t n) const;
  // Whether a value of magnitude `largest` leaving cost the sums precision.
  bool Cancelled(uint32_t slot, double largest) const;
  // Sums the window's values again (and re-picks the variance shift).
  void Resum(uint32_t slot);

  KeyTable* keys_;
  int value_;
  Type value_type_;
  int filter_;
  int64_t window_ns_;  // -1 unbounded
  int64_t half_life_ns_;
  StringPool* strings_;
  std::vector<GroupMember> members_;
  std::vector<GroupMember*> before_, after_;  // set on the first Process()
  Needs needs_;
  bool int_sum_ = false;
  uint64_t touch_sink_ = 0;
  std::vector<uint8_t> enters_;  // this batch: the row enters the window
  std::vector<uint64_t> words_;  // this batch: the row's value  // keeps the loads of Touch() from
                                 // being optimised away

  size_t slots_ = 0;
  RingPool ring_pool_{2};
  RingPool min_pool_{2};
  RingPool max_pool_{2};
  std::vector<RingRef> ring_;
  std::vector<RingRef> min_q_;
  std::vector<RingRef> max_q_;
  std::vector<int64_t> count_;
  std::vector<double> sum_;  // float sums: double-double (hi, lo) per slot
  std::vector<Int128> isum_;
  // Per slot: the sum of (x - K)^2 (a double-double) and K, the first value
  // that entered the window (the value's bits); sum(x) is in sum_ / isum_.
  std::vector<double> welford_;
  std::vector<uint64_t> first_;  // word, time interleaved
  std::vector<uint64_t> last_;   // word, time interleaved
  std::vector<uint8_t> has_last_;
  std::vector<uint32_t> distinct_;
  std::vector<DistinctSketch> sketch_;  // unbounded windows
  std::vector<SlidingSketch> sliding_;  // time windows
  PairCounter pairs_;
  // Per slot: sum of x * 2^((t - t0)/H) and of 2^((t - t0)/H) (double-doubles)
  // and the reference time t0 (int64 bits).
  std::vector<double> decay_;
};

}  // namespace sluice::features::internal
