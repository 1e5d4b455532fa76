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
// The fixed-size running values of a slot live in the KeyRecords shared by
// every group over the same keys (one record per key, a few adjacent cache
// lines); the events held and the sketches live in the group.
//
// Nested windows: a group of counts and sums (count, sum, avg, variance,
// stddev) over a shorter window than another group of the same keys, filter
// and value (`sum(amount) over 24h` beside `avg(amount) over 30d`) holds no
// events of its own. Its window is the newest `n` events of the other
// group's ring (the host), with `n` and its running sums in the key's
// record, and the host updates it in the same pass over the rows, right
// after its own. Results are those of a group of its own: the same values
// enter and leave the running sums in the same order. Checkpoint images
// hold a nested group's events as its own ring would, so that they do not
// depend on nesting.
//
// When a key's window becomes empty its running values are reset to exactly
// zero, so a key evicted and seen again computes what it would have computed
// had it stayed: eviction never changes a result.
//
// Thread safety: none; one FeatureState belongs to one thread.

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "features/internal/distinct_sketch.h"
#include "features/internal/double_double.h"
#include "features/internal/key_records.h"
#include "features/internal/key_table.h"
#include "features/internal/pair_counter.h"
#include "features/internal/ring_pool.h"
#include "features/internal/sliding_sketch.h"
#include "features/internal/string_pool.h"
#include "types/batch.h"

namespace sluice::features::internal {

// Exact int64 sums over windows (GCC and Clang extension).
__extension__ typedef __int128 Int128;

// A byte that is not a character type: a store through a uint8_t may change
// any object as far as the compiler knows, so that every pointer the row
// loops use would be loaded again after each one; a store through a Flag
// changes only Flags.
enum class Flag : uint8_t { kNo = 0, kYes = 1 };

struct GroupMember {
  expr::AggregateKind kind;
  bool exclude_current = false;
  Type result_type;
  uint32_t overflow_error = 0;
  bool can_overflow = false;  // an int64 sum: `overflow` is filled
  // This batch's results, copied to the result column by the member's step.
  std::vector<uint64_t> words;
  std::vector<std::string_view> strings;  // string results, in the batch arena
  std::vector<Flag> valid;
  std::vector<Flag> overflow;
  // A float avg, variance or stddev: the window's count and sums at each row
  // (their order: see window_group.cc), made into results after a chunk's
  // row loop (FinishResults), with rows independent of one another, two at
  // a time.
  bool deferred = false;
  std::array<std::vector<double>, 6> inputs;
};

class WindowGroup {
 public:
  // `value` / `filter`: columns of the first member's expressions (-1: none).
  // `records`: the per-key records of `keys`, shared with the other groups
  // over the same keys.
  WindowGroup(KeyTable* keys, KeyRecords* records, int value, Type value_type, int filter,
              int64_t window_ns, int64_t half_life_ns, StringPool* strings);
  WindowGroup(const WindowGroup&) = delete;
  WindowGroup& operator=(const WindowGroup&) = delete;
  ~WindowGroup();

  // Adds an aggregate; returns its index. Only before the first Process().
  size_t AddMember(const expr::WindowCall& call);
  // Whether the group could be nested in another (see above): a time window
  // of counts and sums only.
  bool Nestable() const;
  // Makes this group a nested window of `host`, which updates it from then
  // on (Process() of this group does nothing). Before DeclareFields().
  // REQUIRES: Nestable(); host's keys, filter and value are this group's,
  // its window longer, and host is not nested itself.
  void NestIn(WindowGroup* host);
  // Whether the group is time_since_last() alone, which can read the last
  // time of a group of the same keys and filter whose value is never null
  // (previous(country) beside time_since_last() by card_id).
  bool NestableLast() const;
  // Whether the group keeps the time of its keys' last events.
  bool keeps_last() const { return needs_.last; }
  bool nested() const { return host_ != nullptr; }
  WindowGroup* host() const { return host_; }
  int value_column() const { return value_; }
  int filter_column() const { return filter_; }
  // Declares the group's fields in the records, after the last AddMember();
  // BindFields() reads their places once the records are finished.
  // `cache_front`: keep the ring's oldest time in the record (FeatureState
  // asks it of the groups with the longest window of their key table).
  void DeclareFields(bool cache_front = false);
  // Whether the group holds the events of a time window (a ring).
  bool holds_events() const { return needs_.ring && window_ns_ > 0 && host_ == nullptr; }
  int64_t window_ns() const { return window_ns_; }
  void BindFields();
  GroupMember& member(size_t i) { return members_[i]; }
  size_t num_members() const { return members_.size(); }
  KeyTable* keys() const { return keys_; }
  size_t slots() const { return records_->slots(); }

  // Runs every row of `batch` through the state, filling the members'
  // results. `slots[row]` is the row's key slot or KeyTable::kNoSlot;
  // `time` the event-time column.
  // REQUIRES: records cover keys()->slot_limit() slots.
  void Process(Batch& batch, const uint32_t* slots, int time_column);
  // Forgets everything about `slot` (its key is being evicted).
  void Reset(uint32_t slot);

  void Save(StateWriter& w) const;
  // Restores what Save wrote; false if the image is inconsistent.
  bool Load(StateReader& r);
  // For a nested group, after its host is loaded: takes the window contents
  // that the image holds as its own ring (see Save) as the newest events of
  // the host's. False if they are not those events (the host started empty,
  // or the image is inconsistent); the group is then empty.
  bool AdoptNestedImage();
  // Every string id held refers to a string in the pool (after loading).
  bool StringsValid() const;
  // After StringsValid(): short strings that an image from an earlier
  // version holds as ids become their own words (see StringPool).
  void RewordStrings();
  bool LoadSketches(StateReader& r);
  // Bytes of the approx_count_distinct sketches (included in bytes_reserved).
  size_t SketchBytes() const;

  size_t events_held() const;
  // Excludes the shared KeyRecords (FeatureState counts them once).
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

  // What a group holds, as bits (its Needs): the row-by-row updates are
  // compiled for a few exact combinations, those of groups of one kind of
  // aggregate, with the checks of what is not needed removed; kAnyShape
  // checks every need at run time.
  static constexpr uint32_t kRing = 1, kCount = 2, kSum = 4, kWelford = 8, kMin = 16, kMax = 32,
                            kFirst = 64, kLast = 128, kDistinct = 256, kSketch = 512, kDecay = 1024,
                            kAnyShape = UINT32_MAX;
  // Nested::shape of a nested time_since_last() (no row functions).
  static constexpr uint32_t kLastOfHost = 1u << 20;
  template <uint32_t S>
  bool Need(uint32_t bit) const {
    return ((S == kAnyShape ? shape_ : S) & bit) != 0;
  }
  // ProcessChunk's updates for rows [begin, end).
  template <uint32_t S>
  void RowLoop(Batch& batch, const uint32_t* slots, const int64_t* times, const Column* value,
               size_t begin, size_t end);

  void EnsureSketches(size_t n);
  // Process() for rows [begin, end).
  void ProcessChunk(Batch& batch, const uint32_t* slots, const int64_t* times, const Column* filter,
                    const Column* value, size_t begin, size_t end);
  // The deferred results (GroupMember::deferred) of rows [begin, end), this
  // group's and its nested groups'.
  void FinishResults(size_t begin, size_t end);
  // Keeps what a deferred result of row `row` needs (Emit).
  void Defer(GroupMember& m, size_t row, uint32_t slot, int64_t n) const;
  // This group's fields in slot `slot`'s record.
  template <typename T>
  T* Field(uint32_t slot, uint32_t offset) const {
    return reinterpret_cast<T*>(records_->record(slot) + offset);
  }
  RingRef& ring(uint32_t slot) const { return *Field<RingRef>(slot, at_.ring); }
  RingRef& min_q(uint32_t slot) const { return *Field<RingRef>(slot, at_.min_q); }
  RingRef& max_q(uint32_t slot) const { return *Field<RingRef>(slot, at_.max_q); }
  int64_t& count(uint32_t slot) const { return *Field<int64_t>(slot, at_.count); }
  double* sum(uint32_t slot) const { return Field<double>(slot, at_.sum); }  // hi, lo
  Int128 isum(uint32_t slot) const {
    Int128 v;
    std::memcpy(&v, records_->record(slot) + at_.sum, sizeof v);
    return v;
  }
  void set_isum(uint32_t slot, Int128 v) const {
    std::memcpy(records_->record(slot) + at_.sum, &v, sizeof v);
  }
  double* welford(uint32_t slot) const { return Field<double>(slot, at_.welford); }
  uint64_t* first(uint32_t slot) const { return Field<uint64_t>(slot, at_.first); }
  // The newest value's word (groups without a value, time_since_last(),
  // hold only its time) and time.
  uint64_t last_word(uint32_t slot) const {
    return value_ >= 0 ? *Field<uint64_t>(slot, at_.last) : 0;
  }
  void set_last_word(uint32_t slot, uint64_t word) const {
    if (value_ >= 0) *Field<uint64_t>(slot, at_.last) = word;
  }
  int64_t& last_time(uint32_t slot) const { return *Field<int64_t>(slot, at_.last_time); }
  Flag& has_last(uint32_t slot) const { return *Field<Flag>(slot, at_.has_last); }
  // The time of the oldest event in the ring (when it holds any), for the
  // groups with cache_front_.
  int64_t& front_time(uint32_t slot) const { return *Field<int64_t>(slot, at_.front); }
  uint32_t& distinct(uint32_t slot) const { return *Field<uint32_t>(slot, at_.distinct); }
  double* decay(uint32_t slot) const { return Field<double>(slot, at_.decay); }
  // Checkpoints write each field as the array it was before records were
  // shared (so images are unchanged): `per_slot` T's of each slot.
  template <typename T>
  void PutField(StateWriter& w, bool needed, uint32_t offset, size_t per_slot) const;
  template <typename T>
  bool GetField(StateReader& r, bool needed, uint32_t offset, size_t per_slot, size_t slots);
  // The `last` field, written as (word, time) per slot.
  bool GetLast(StateReader& r, size_t slots);
  // The sliding sketches' heap bytes: window contents, freed as values leave.
  size_t SlidingSketchBytes() const;
  // Starts loading the window contents that the rows' events will read
  // (see ProcessChunk).
  void Prefetch(const uint32_t* slots, const int64_t* times, size_t rows) const;
  // words_[row] for rows [begin, end) from the value column `c` (not strings).
  void ValueWords(const Column& c, size_t begin, size_t end);
  template <uint32_t S>
  void Evict(uint32_t slot, int64_t now);
  // Whether Evict(slot, now) has anything to do: most events find nothing
  // that has left (checked inline, without the call).
  template <uint32_t S>
  bool MayEvict(uint32_t slot, int64_t now) const {
    if (window_ns_ < 0) return false;
    const int64_t horizon = now - window_ns_;
    auto due = [horizon](const RingPool& pool, const RingRef& q) {
      return RingPool::Size(q) != 0 && pool.FrontTime(q) <= horizon;
    };
    auto ring_due = [&] {
      if (!cache_front_) return due(ring_pool_, ring(slot));
      return RingPool::Size(ring(slot)) != 0 && front_time(slot) <= horizon;
    };
    return (Need<S>(kRing) && ring_due()) || (Need<S>(kMin) && due(min_pool_, min_q(slot))) ||
           (Need<S>(kMax) && due(max_pool_, max_q(slot))) || Need<S>(kSketch);
  }
  template <uint32_t S>
  void Enter(uint32_t slot, int64_t t, uint64_t word);
  template <uint32_t S>
  void Leave(uint32_t slot, int64_t t, uint64_t word);
  // The results of `members` for the event at `row` (time t) of `slot`.
  // A nested group's share of its host's row loop: evicts what has left
  // its window (before the host evicts), then emits and enters (after the
  // host has entered the event).
  template <uint32_t S>
  void NestedEvict(uint32_t slot, int64_t now, const RingPool& pool, const RingRef& r);
  template <uint32_t S>
  void NestedRow(Batch& batch, size_t row, uint32_t slot, int64_t t, bool enters, uint64_t word);
  // A nested time_since_last(): its results from the host's last event,
  // before the row's event enters the host.
  void NestedLast(size_t row, uint32_t slot, int64_t t, bool enters, const WindowGroup& host);
  // Sizes the members' result buffers for `batch` (Process, or the host's).
  void PrepareMembers(const Batch& batch);
  // Empties a nested group's window in every slot.
  void ClearNested();
  template <uint32_t S>
  void EmitAll(const std::vector<GroupMember*>& members, Batch& batch, size_t row, uint32_t slot,
               int64_t t);
  // One member's, with n the window's count.
  template <uint32_t S>
  void Emit(GroupMember& m, Batch& batch, size_t row, uint32_t slot, int64_t t, int64_t n);
  // A result read from a held value: seconds elapsed since it, or the value.
  void EmitHeld(GroupMember& m, Batch& batch, size_t row, bool elapsed, int64_t elapsed_ns,
                uint64_t word);
  // References to string values held in the state (inline: a few per event).
  void ReleaseWord(uint64_t word) {
    if (IsString()) strings_->ReleaseWord(word);
  }
  void RetainWord(uint64_t word) {
    if (IsString()) strings_->RetainWord(word);
  }
  template <uint32_t S = kAnyShape>
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
  // Sums the window's values again (and re-picks the variance shift): the
  // records of `r` in `pool` from the `first`-th (the group's own ring, or
  // the newest of its host's for a nested group).
  void Resum(uint32_t slot, const RingPool& pool, const RingRef& r, uint32_t first);

  KeyTable* keys_;
  KeyRecords* records_;
  int value_;
  Type value_type_;
  int filter_;
  int64_t window_ns_;  // -1 unbounded
  int64_t half_life_ns_;
  StringPool* strings_;
  std::vector<GroupMember> members_;
  std::vector<GroupMember*> before_, after_;  // set on the first Process()
  Needs needs_;
  uint32_t shape_ = 0;  // needs_ as bits, set by DeclareFields()
  // The record keeps the time of the ring's oldest event, so that an event
  // finds whether any has left without reading the ring (whose oldest and
  // newest records are in different cache lines when it holds many).
  bool cache_front_ = false;
  bool int_sum_ = false;
  uint64_t touch_sink_ = 0;       // keeps the loads of interning's passes from being optimised away
  std::vector<Flag> enters_;      // this batch: the row enters the window
  std::vector<uint64_t> words_;   // this batch: the row's value
  std::vector<uint64_t> hashes_;  // this batch: string values' hashes
  std::vector<uint64_t> probed_;  // this batch: their strings' index entries
  std::vector<Flag> interned_;    // this batch: the row's string is interned

  // Field ids (until BindFields()), then offsets, in the records.
  struct Places {
    uint32_t ring = 0, min_q = 0, max_q = 0, count = 0, sum = 0, welford = 0, first = 0, last = 0,
             last_time = 0, has_last = 0, distinct = 0, decay = 0, front = 0;
  };
  Places at_;
  // In the records: per slot the RingRefs, count, the float sum (a
  // double-double) or the int sum (Int128), for variance the sum of
  // (x - K)^2 (a double-double) and K, the first value that entered the
  // window (the value's bits); first as (word, time); last as its word
  // (groups with a value) and its time; has_last; the ring's oldest time;
  // the distinct count; decayed sums of x * 2^((t - t0)/H) and of
  // 2^((t - t0)/H) (double-doubles) and the reference time t0 (int64 bits).
  RingPool ring_pool_;
  RingPool min_pool_;
  RingPool max_pool_;
  std::vector<DistinctSketch> sketch_;  // unbounded windows
  std::vector<SlidingSketch> sliding_;  // time windows
  PairCounter pairs_;
  // Nesting (see above): the host of a nested group; a host's nested
  // groups, with their row functions for their shapes.
  WindowGroup* host_ = nullptr;
  struct Nested {
    WindowGroup* group;
    uint32_t shape;  // the nested group's (the commonest are called inline)
    void (WindowGroup::*evict)(uint32_t, int64_t, const RingPool&, const RingRef&);
    void (WindowGroup::*row)(Batch&, size_t, uint32_t, int64_t, bool, uint64_t);
  };
  std::vector<Nested> nested_;
  // A count without a value is nested here: check that every event that
  // passes the filter has a value (see NestIn).
  bool check_values_ = false;
  bool reads_last_ = false;  // a nested time_since_last() reads this group's last
  // A nested time_since_last()'s last times as an image gave them, until
  // AdoptNestedImage().
  std::vector<int64_t> image_last_times_;
  // A nested group's window contents as a checkpoint image gave them, until
  // AdoptNestedImage() (the records are in ring_pool_ meanwhile).
  std::vector<RingRef> image_refs_;
};

}  // namespace sluice::features::internal
