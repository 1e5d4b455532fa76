#include "features/internal/window_group.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/check.h"
#include "features/internal/distinct_sketch.h"
#include "features/internal/double_double.h"
#include "features/internal/prefetch.h"

namespace sluice::features::internal {
namespace {

using expr::AggregateKind;

// count_distinct over a time window: while a key's window holds at most
// kScanDistinct events, its distinct count is kept by scanning them (a few
// adjacent records, already in cache) instead of probing the (key, value)
// pair table; the top bit of the count says that the key has outgrown that
// and its pairs are in the table, until its window is empty again. 32, not
// 16: on the features benchmark, where one event in seven finds more than 16
// in its card's 7-day window, the feature stage took 0.95-0.96 of the time
// (48: no further change).
constexpr uint32_t kScanDistinct = 32;
constexpr uint32_t kPairTable = 0x80000000u;

// Rows per chunk of WindowGroup::Process: a chunk's state (a few cache lines
// per row and queue) stays within the first-level cache.
constexpr size_t kChunkRows = 64;

uint64_t DoubleWord(double d) {
  uint64_t w;
  std::memcpy(&w, &d, sizeof w);
  return w;
}
double WordDouble(uint64_t w) {
  double d;
  std::memcpy(&d, &w, sizeof d);
  return d;
}

// The results of avg and variance from a window's count n and sums, for a
// double or for lanes of doubles (FinishResults): the same operations either
// way, so the same bits.
template <typename T>
T MeanOf(DoubleDoubleT<T> sum, T n) {
  return Divide(sum, n).value();
}
// With d = x - K (K: a value of the window), M2 = sum(d^2) - sum(d)^2 / n,
// in double-double; equal values give exactly 0.
template <typename T>
T VarianceOf(DoubleDoubleT<T> squares, DoubleDoubleT<T> deviations, T n) {
  const T m2 = Add(squares, Negate(Divide(Multiply(deviations, deviations), n))).value();
  return (0.0 < m2 ? m2 : T{}) / (n - 1.0);  // std::max(0.0, m2): NaN and -0 give +0
}

// Two rows of deferred results at a time (SSE2, baseline x86-64; other
// targets split or join the lanes as they can).
using Lanes = double __attribute__((vector_size(16)));
constexpr size_t kLanes = sizeof(Lanes) / sizeof(double);

double Sqrt(double x) {
  return std::sqrt(x);
}
Lanes Sqrt(Lanes x) {
  for (size_t i = 0; i < kLanes; ++i) x[i] = std::sqrt(x[i]);
  return x;
}

// GroupMember::inputs of a deferred result.
enum DeferredInput : size_t { kInCount, kInSumHi, kInSumLo, kInSquaresHi, kInSquaresLo, kInShift };

template <typename T>
T DeferredResult(const GroupMember& m, size_t row) {
  const auto in = [&](DeferredInput i) {
    T v;
    std::memcpy(&v, &m.inputs[i][row], sizeof v);
    return v;
  };
  const T n = in(kInCount);
  const DoubleDoubleT<T> sum{in(kInSumHi), in(kInSumLo)};
  if (m.kind == AggregateKind::kAvg) return MeanOf(sum, n);
  const DoubleDoubleT<T> deviations = Add(sum, Negate(TwoProduct(n, in(kInShift))));
  const T var = VarianceOf(DoubleDoubleT<T>{in(kInSquaresHi), in(kInSquaresLo)}, deviations, n);
  return m.kind == AggregateKind::kVariance ? var : Sqrt(var);
}

// A 64-bit finaliser (SplitMix64's) spreading a value's bits for the sketch.
uint64_t MixWord(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// sum[0..1] += x, as a double-double.
void Accumulate(double* sum, DoubleDouble x) {
  const DoubleDouble r = Add(DoubleDouble{sum[0], sum[1]}, x);
  sum[0] = r.hi;
  sum[1] = r.lo;
}

}  // namespace

double WindowGroup::DecayFactor(int64_t dt) const {
  return std::exp2(static_cast<double>(dt) / static_cast<double>(half_life_ns_));
}

double WindowGroup::Decayed(double value, int64_t dt) const {
  // value * 2^(dt / H), with the integral part of the exponent applied by
  // ldexp so that a large sum times a tiny factor does not underflow first.
  const double e = static_cast<double>(dt) / static_cast<double>(half_life_ns_);
  const double whole = std::floor(e);
  if (whole < -4000) return 0.0;
  return std::ldexp(value * std::exp2(e - whole), static_cast<int>(std::min(whole, 4000.0)));
}

double WindowGroup::AsDouble(uint64_t word) const {
  return value_type_.kind == TypeKind::kInt64 ? static_cast<double>(static_cast<int64_t>(word))
                                              : WordDouble(word);
}

DoubleDouble WindowGroup::Deviation(uint32_t slot, uint64_t word) const {
  uint64_t k;
  std::memcpy(&k, &welford(slot)[2], sizeof k);
  if (value_type_.kind == TypeKind::kInt64) {
    return FromInt128(static_cast<Int128>(static_cast<int64_t>(word)) - static_cast<int64_t>(k));
  }
  return TwoSum(WordDouble(word), -WordDouble(k));  // exact
}

DoubleDouble WindowGroup::ShiftedSum(uint32_t slot, int64_t n) const {
  uint64_t k;
  std::memcpy(&k, &welford(slot)[2], sizeof k);
  if (int_sum_) {  // exact: sum(y) - n * K in 128 bits
    return FromInt128(isum(slot) - static_cast<Int128>(n) * static_cast<int64_t>(k));
  }
  return Add(DoubleDouble{sum(slot)[0], sum(slot)[1]},
             Negate(TwoProduct(static_cast<double>(n), WordDouble(k))));
}

bool WindowGroup::Cancelled(uint32_t slot, double largest) const {
  constexpr double kLost = 1048576.0;  // 2^20: 20 of the ~106 bits
  if (needs_.sum && !int_sum_ && largest > kLost * std::fabs(sum(slot)[0])) return true;
  if (needs_.welford) {
    const double squares = welford(slot)[0];
    if (largest * largest > kLost * kLost * std::fabs(squares)) return true;
    // The shift K has drifted far from the window's values (K may have
    // left): sum(d^2) and sum(d)^2 / n then cancel.
    const auto n = static_cast<double>(CountOf(slot));
    const double offset = ShiftedSum(slot, CountOf(slot)).hi;
    const double spread = squares - offset * offset / n;
    if (offset * offset / n > kLost * kLost * std::fabs(spread)) return true;
  }
  return false;
}

void WindowGroup::Resum(uint32_t slot, const RingPool& pool, const RingRef& r, uint32_t first) {
  const uint32_t size = RingPool::Size(r);
  if (needs_.sum && !int_sum_) {
    DoubleDouble total;
    for (uint32_t i = first; i < size; ++i) total = Add(total, WordDouble(pool.ValueAt(r, i)));
    sum(slot)[0] = total.hi;
    sum(slot)[1] = total.lo;
  }
  if (needs_.welford) {
    const uint64_t k = pool.ValueAt(r, first);
    std::memcpy(&welford(slot)[2], &k, sizeof k);
    DoubleDouble squares;
    for (uint32_t i = first; i < size; ++i) {
      const DoubleDouble d = Deviation(slot, pool.ValueAt(r, i));
      squares = Add(squares, Multiply(d, d));
    }
    welford(slot)[0] = squares.hi;
    welford(slot)[1] = squares.lo;
  }
}

WindowGroup::WindowGroup(KeyTable* keys, KeyRecords* records, int value, Type value_type,
                         int filter, int64_t window_ns, int64_t half_life_ns, StringPool* strings)
    : keys_(keys),
      records_(records),
      value_(value),
      value_type_(std::move(value_type)),
      filter_(filter),
      window_ns_(window_ns),
      half_life_ns_(half_life_ns),
      strings_(strings),
      int_sum_(value_type_.kind == TypeKind::kInt64) {}

WindowGroup::~WindowGroup() = default;

size_t WindowGroup::AddMember(const expr::WindowCall& call) {
  SLUICE_CHECK_EQ(records_->slots(), size_t{0});
  const bool windowed = window_ns_ > 0;
  switch (call.kind) {
    case AggregateKind::kCount:
      break;
    case AggregateKind::kSum:
    case AggregateKind::kAvg:
      needs_.sum = true;
      break;
    case AggregateKind::kVariance:
    case AggregateKind::kStddev:
      needs_.sum = true;  // sum(x), with the sum of squared deviations in welford_
      needs_.welford = true;
      break;
    case AggregateKind::kMin:
      needs_.min = true;
      break;
    case AggregateKind::kMax:
      needs_.max = true;
      break;
    case AggregateKind::kFirst:
    case AggregateKind::kTimeSinceFirst:
      needs_.first = !windowed;
      break;
    case AggregateKind::kLast:
    case AggregateKind::kPrevious:
    case AggregateKind::kTimeSinceLast:
      needs_.last = true;
      break;
    case AggregateKind::kCountDistinct:
      needs_.distinct = true;
      break;
    case AggregateKind::kApproxCountDistinct:
      needs_.sketch = true;
      break;
    case AggregateKind::kDecayedSum:
    case AggregateKind::kDecayedAvg:
      needs_.decay = true;
      break;
  }
  const bool by_queue = call.kind == AggregateKind::kMin || call.kind == AggregateKind::kMax ||
                        call.kind == AggregateKind::kLast ||
                        call.kind == AggregateKind::kPrevious ||
                        call.kind == AggregateKind::kTimeSinceLast ||
                        call.kind == AggregateKind::kApproxCountDistinct;  // its own expiry
  if (windowed && !by_queue) needs_.ring = true;
  if (!windowed) needs_.count = true;
  GroupMember m;
  m.kind = call.kind;
  m.exclude_current = call.exclude_current;
  m.result_type = call.result_type;
  m.overflow_error = call.overflow_error;
  members_.push_back(std::move(m));
  return members_.size() - 1;
}

bool WindowGroup::Nestable() const {
  if (!holds_events()) return false;
  for (const auto& m : members_) {
    switch (m.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kSum:
      case AggregateKind::kAvg:
      case AggregateKind::kVariance:
      case AggregateKind::kStddev:
        break;
      default:
        return false;
    }
  }
  return true;
}

bool WindowGroup::NestableLast() const {
  if (value_ >= 0 || needs_.ring || !needs_.last) return false;
  for (const auto& m : members_) {
    if (m.kind != AggregateKind::kTimeSinceLast) return false;
  }
  return true;
}

void WindowGroup::NestIn(WindowGroup* host) {
  SLUICE_CHECK(host != this && host->host_ == nullptr && nested_.empty());
  SLUICE_CHECK(host->keys_ == keys_ && host->records_ == records_);
  SLUICE_CHECK_EQ(host->filter_, filter_);
  if (NestableLast()) {
    SLUICE_CHECK(host->needs_.last && host->value_ >= 0);
  } else {
    SLUICE_CHECK(Nestable());
    SLUICE_CHECK(value_ < 0 || (host->value_ == value_ && host->value_type_ == value_type_));
    SLUICE_CHECK(host->holds_events() && host->window_ns_ > window_ns_);
  }
  host_ = host;
  // A count nested in a group with a value (one that is never null) counts
  // the events that group holds: every event that passes the filter.
  host->check_values_ = host->check_values_ || (value_ < 0 && host->value_ >= 0);
  host->nested_.push_back({this, 0, nullptr, nullptr});  // row functions: BindFields()
}

void WindowGroup::DeclareFields(bool cache_front) {
  cache_front_ = cache_front && holds_events();
  const std::pair<bool, uint32_t> needs[] = {
      {needs_.ring, kRing},       {needs_.count, kCount}, {needs_.sum, kSum},
      {needs_.welford, kWelford}, {needs_.min, kMin},     {needs_.max, kMax},
      {needs_.first, kFirst},     {needs_.last, kLast},   {needs_.distinct, kDistinct},
      {needs_.sketch, kSketch},   {needs_.decay, kDecay}};
  shape_ = 0;
  for (const auto& [needed, bit] : needs) shape_ |= needed ? bit : 0;
  // A nested group counts its window's events instead of holding them (or,
  // time_since_last(), reads its host's last time).
  if (host_ != nullptr && !needs_.last) shape_ = (shape_ & ~kRing) | kCount;
  auto declare = [this](bool needed, uint32_t size, uint32_t align) {
    return needed ? records_->Declare(size, align) : 0;
  };
  // Int128 sums are read and written with memcpy: 8-byte alignment is enough.
  at_.ring = declare(needs_.ring && host_ == nullptr, sizeof(RingRef), alignof(RingRef));
  at_.min_q = declare(needs_.min, sizeof(RingRef), alignof(RingRef));
  at_.max_q = declare(needs_.max, sizeof(RingRef), alignof(RingRef));
  at_.count = declare(needs_.count || (host_ != nullptr && !needs_.last), 8, 8);
  at_.sum = declare(needs_.sum, 16, 8);
  at_.welford = declare(needs_.welford, 24, 8);
  at_.first = declare(needs_.first, 16, 8);
  at_.last = declare(needs_.last && value_ >= 0, 8, 8);
  at_.last_time = declare(needs_.last && host_ == nullptr, 8, 8);
  // Nested: whether the key's last event (its host's) is one this group saw.
  at_.has_last = declare(needs_.last, 1, 1);
  at_.distinct = declare(needs_.distinct, 4, 4);
  at_.decay = declare(needs_.decay, 40, 8);
  at_.front = declare(cache_front_, 8, 8);
}

void WindowGroup::BindFields() {
  auto bind = [this](bool needed, uint32_t& at) { at = needed ? records_->offset(at) : 0; };
  bind(needs_.ring && host_ == nullptr, at_.ring);
  bind(needs_.min, at_.min_q);
  bind(needs_.max, at_.max_q);
  bind(needs_.count || (host_ != nullptr && !needs_.last), at_.count);
  bind(needs_.sum, at_.sum);
  bind(needs_.welford, at_.welford);
  bind(needs_.first, at_.first);
  bind(needs_.last && value_ >= 0, at_.last);
  bind(needs_.last && host_ == nullptr, at_.last_time);
  bind(needs_.last, at_.has_last);
  bind(needs_.distinct, at_.distinct);
  bind(needs_.decay, at_.decay);
  bind(cache_front_, at_.front);
  if (host_ == nullptr) return;
  Nested& n = *std::find_if(host_->nested_.begin(), host_->nested_.end(),
                            [this](const Nested& x) { return x.group == this; });
  n.shape = needs_.last ? kLastOfHost : shape_;
  switch (n.shape) {
    case kLastOfHost:
      host_->reads_last_ = true;  // NestedLast(), not the row functions
      break;
    case kCount:
      n.evict = &WindowGroup::NestedEvict<kCount>;
      n.row = &WindowGroup::NestedRow<kCount>;
      break;
    case kCount | kSum:
      n.evict = &WindowGroup::NestedEvict<kCount | kSum>;
      n.row = &WindowGroup::NestedRow<kCount | kSum>;
      break;
    default:
      n.evict = &WindowGroup::NestedEvict<kAnyShape>;
      n.row = &WindowGroup::NestedRow<kAnyShape>;
      break;
  }
}

void WindowGroup::EnsureSketches(size_t n) {
  if (!needs_.sketch) return;
  // Exact reservations, as for the records.
  auto grow = [n](auto& v) {
    if (v.size() >= n) return;
    v.reserve(n);
    v.resize(n);
  };
  if (window_ns_ < 0) {
    grow(sketch_);
  } else {
    grow(sliding_);
  }
}

void WindowGroup::ValueWords(const Column& c, size_t begin, size_t end) {
  // One loop per type (strings are interned by ProcessChunk); rows that do
  // not enter get 0.
  auto fill = [&](auto word) {
    for (size_t row = begin; row < end; ++row)
      words_[row] = enters_[row] != Flag::kNo ? word(row) : 0;
  };
  switch (value_type_.kind) {
    case TypeKind::kFloat64: {
      const double* d = c.data<double>();
      fill([d](size_t row) {
        const double x = d[row];
        return DoubleWord(x == 0.0 ? 0.0 : x);  // -0.0 and 0.0 are one value
      });
      break;
    }
    case TypeKind::kBool: {
      const uint8_t* d = c.data<uint8_t>();
      fill([d](size_t row) { return uint64_t{d[row] != 0 ? 1u : 0u}; });
      break;
    }
    case TypeKind::kEnum: {
      const int32_t* d = c.data<int32_t>();
      fill([d](size_t row) { return static_cast<uint64_t>(d[row]); });
      break;
    }
    default: {
      SLUICE_CHECK(!IsString());
      const int64_t* d = c.data<int64_t>();
      fill([d](size_t row) { return static_cast<uint64_t>(d[row]); });
      break;
    }
  }
}

bool WindowGroup::Less(uint64_t a, uint64_t b) const {
  if (value_type_.kind == TypeKind::kFloat64) return WordDouble(a) < WordDouble(b);
  return static_cast<int64_t>(a) < static_cast<int64_t>(b);
}

template <uint32_t S>
int64_t WindowGroup::CountOf(uint32_t slot) const {
  return Need<S>(kRing) ? static_cast<int64_t>(RingPool::Size(ring(slot))) : count(slot);
}

template <uint32_t S>
void WindowGroup::Enter(uint32_t slot, int64_t t, uint64_t word) {
  if (Need<S>(kRing)) {
    ring_pool_.Push(ring(slot), t, word);
    if (cache_front_ && RingPool::Size(ring(slot)) == 1) front_time(slot) = t;
    RetainWord(word);
  }
  if (Need<S>(kCount)) ++count(slot);
  const int64_t n = (Need<S>(kRing) || Need<S>(kCount)) ? CountOf<S>(slot) : 0;
  if (Need<S>(kSum)) {
    if (int_sum_) {
      set_isum(slot, isum(slot) + static_cast<int64_t>(word));
    } else {
      Accumulate(sum(slot), DoubleDouble{WordDouble(word), 0.0});
    }
  }
  const double x = value_type_.kind == TypeKind::kInt64
                       ? static_cast<double>(static_cast<int64_t>(word))
                       : WordDouble(word);
  if (Need<S>(kWelford)) {
    double* w = welford(slot);
    if (n == 1) std::memcpy(&w[2], &word, sizeof word);  // the shift: the first value
    const DoubleDouble d = Deviation(slot, word);
    Accumulate(w, Multiply(d, d));
  }
  auto push_queue = [&](RingPool& pool, RingRef& q, bool keep_max) {
    if (window_ns_ < 0) {  // unbounded: only the extreme matters
      if (RingPool::Size(q) == 0) {
        pool.Push(q, t, word);
      } else if (keep_max ? Less(pool.FrontValue(q), word) : Less(word, pool.FrontValue(q))) {
        pool.SetValue(q, 0, word);
      }
      return;
    }
    // Values that can never be the extreme again leave from the back.
    while (RingPool::Size(q) > 0 &&
           (keep_max ? !Less(word, pool.BackValue(q)) : !Less(pool.BackValue(q), word))) {
      pool.PopBack(q);
    }
    pool.Push(q, t, word);
  };
  if (Need<S>(kMin)) push_queue(min_pool_, min_q(slot), false);
  if (Need<S>(kMax)) push_queue(max_pool_, max_q(slot), true);
  if (Need<S>(kFirst) && n == 1) {
    first(slot)[0] = word;
    first(slot)[1] = static_cast<uint64_t>(t);
    RetainWord(word);
  }
  if (Need<S>(kLast)) {
    if (has_last(slot) != Flag::kNo) ReleaseWord(last_word(slot));
    set_last_word(slot, word);
    last_time(slot) = t;
    has_last(slot) = Flag::kYes;
    RetainWord(word);
  }
  if (Need<S>(kSketch)) {
    const uint64_t h = IsString() ? HashBytes(strings_->View(word)) : MixWord(word);
    if (window_ns_ < 0) {
      sketch_[slot].Add(h);
    } else {
      sliding_[slot].Add(h, t);
    }
  }
  if (Need<S>(kDistinct)) {
    uint32_t& d = distinct(slot);
    bool added;
    if (Need<S>(kRing) && (d & kPairTable) == 0) {
      // A short window: is the value among the others held (the new record
      // is the newest)?
      const RingRef& r = ring(slot);
      const uint32_t size = RingPool::Size(r);
      added = !ring_pool_.Holds(r, 0, size - 1, word);
      if (size > kScanDistinct) {  // from now on, the pair table
        for (uint32_t i = 0; i < size; ++i) pairs_.Add(slot, ring_pool_.ValueAt(r, i));
        d |= kPairTable;
      }
    } else {
      added = pairs_.Add(slot, word);
    }
    if (added) {
      ++d;
      if (!Need<S>(kRing)) RetainWord(word);  // unbounded: the pair holds the string
    }
  }
  if (Need<S>(kDecay)) {
    double* d = decay(slot);
    int64_t t0;
    std::memcpy(&t0, &d[4], sizeof t0);
    if (n == 1) {
      t0 = t;
      std::memcpy(&d[4], &t0, sizeof t0);
    } else if (t - t0 > 256 * half_life_ns_) {
      // Keep the growth factors finite: move the reference time to t.
      const double f = DecayFactor(t0 - t);
      const DoubleDouble s = Multiply(DoubleDouble{d[0], d[1]}, f);
      const DoubleDouble w = Multiply(DoubleDouble{d[2], d[3]}, f);
      d[0] = s.hi;
      d[1] = s.lo;
      d[2] = w.hi;
      d[3] = w.lo;
      t0 = t;
      std::memcpy(&d[4], &t0, sizeof t0);
    }
    // Sums are kept at reference time t0: x * 2^((t - t0) / H).
    const double g = DecayFactor(t - t0);
    Accumulate(d, TwoProduct(x, g));
    Accumulate(d + 2, DoubleDouble{g, 0.0});
  }
}

template <uint32_t S>
void WindowGroup::Leave(uint32_t slot, int64_t t, uint64_t word) {
  // Called with the record still in the ring; CountOf counts it.
  const int64_t n = CountOf<S>(slot);
  const double x = value_type_.kind == TypeKind::kInt64
                       ? static_cast<double>(static_cast<int64_t>(word))
                       : WordDouble(word);
  if (Need<S>(kSum)) {
    if (int_sum_) {
      set_isum(slot, isum(slot) - static_cast<int64_t>(word));
    } else {
      Accumulate(sum(slot), DoubleDouble{-WordDouble(word), 0.0});
    }
  }
  if (Need<S>(kWelford)) {
    const DoubleDouble d = Deviation(slot, word);
    Accumulate(welford(slot), Negate(Multiply(d, d)));
  }
  if (Need<S>(kDistinct)) {
    uint32_t& d = distinct(slot);
    if (Need<S>(kRing) && (d & kPairTable) == 0) {
      // Whether another record of the window (after the leaving one, the
      // oldest) holds the value.
      const RingRef& r = ring(slot);
      if (!ring_pool_.Holds(r, 1, RingPool::Size(r) - 1, word)) --d;
    } else if (pairs_.Remove(slot, word)) {
      --d;
    }
  }
  if (Need<S>(kDecay)) {
    double* d = decay(slot);
    int64_t t0;
    std::memcpy(&t0, &d[4], sizeof t0);
    const double g = DecayFactor(t - t0);
    Accumulate(d, Negate(TwoProduct(x, g)));
    Accumulate(d + 2, DoubleDouble{-g, 0.0});
  }
  ReleaseWord(word);
  if (n == 1) {  // the window is empty: start again from exact zeros
    if (Need<S>(kSum)) {
      if (int_sum_) {
        set_isum(slot, 0);
      } else {
        sum(slot)[0] = sum(slot)[1] = 0.0;
      }
    }
    if (Need<S>(kWelford)) std::fill_n(welford(slot), 3, 0.0);
    if (Need<S>(kDecay)) std::fill_n(decay(slot), 5, 0.0);
    // The pair table holds none of the key's pairs now: back to scanning.
    if (Need<S>(kDistinct) && Need<S>(kRing)) distinct(slot) = 0;
  }
}

template <uint32_t S>
void WindowGroup::Evict(uint32_t slot, int64_t now) {
  if (window_ns_ < 0) return;
  const int64_t horizon = now - window_ns_;  // times <= horizon have left
  if (Need<S>(kRing)) {
    RingRef& r = ring(slot);
    double largest = 0;  // magnitude of the largest value that left
    while (RingPool::Size(r) > 0 && ring_pool_.FrontTime(r) <= horizon) {
      const int64_t time = ring_pool_.FrontTime(r);
      const uint64_t value = ring_pool_.FrontValue(r);
      if (Need<S>(kSum) || Need<S>(kWelford))
        largest = std::max(largest, std::fabs(AsDouble(value)));
      Leave<S>(slot, time, value);
      ring_pool_.PopFront(r);
    }
    if (cache_front_ && RingPool::Size(r) > 0) front_time(slot) = ring_pool_.FrontTime(r);
    // A value far larger than what remains has left: the running sums keep
    // its rounding residue (about 1e-32 of it). Sum the window again.
    if (largest > 0 && RingPool::Size(r) > 0 && Cancelled(slot, largest)) {
      Resum(slot, ring_pool_, r, 0);
    }
  }
  auto evict_queue = [horizon](RingPool& pool, RingRef& q) {
    while (RingPool::Size(q) > 0 && pool.FrontTime(q) <= horizon) pool.PopFront(q);
  };
  if (Need<S>(kMin)) evict_queue(min_pool_, min_q(slot));
  if (Need<S>(kMax)) evict_queue(max_pool_, max_q(slot));
  if (Need<S>(kSketch)) sliding_[slot].Expire(horizon);
}

template <uint32_t S>
void WindowGroup::NestedEvict(uint32_t slot, int64_t now, const RingPool& pool, const RingRef& r) {
  int64_t& n = count(slot);
  if (n == 0) return;
  // The window is the newest n records of the host's ring; its oldest
  // leave as they would leave a ring of its own.
  const int64_t horizon = now - window_ns_;
  const uint32_t size = RingPool::Size(r);
  double largest = 0;
  while (n > 0) {
    const uint32_t i = size - static_cast<uint32_t>(n);
    const int64_t time = pool.TimeAt(r, i);
    if (time > horizon) break;
    const uint64_t value = pool.ValueAt(r, i);
    if (Need<S>(kSum) || Need<S>(kWelford)) {
      largest = std::max(largest, std::fabs(AsDouble(value)));
    }
    Leave<S>(slot, time, value);
    --n;
  }
  if (largest > 0 && n > 0 && Cancelled(slot, largest)) {
    Resum(slot, pool, r, size - static_cast<uint32_t>(n));
  }
}

template <uint32_t S>
void WindowGroup::NestedRow(Batch& batch, size_t row, uint32_t slot, int64_t t, bool enters,
                            uint64_t word) {
  if constexpr (S == kCount) {
    // Counts only (any other member needs a sum): every result is the count.
    int64_t& n = count(slot);
    for (GroupMember* m : before_) {
      m->words[row] = static_cast<uint64_t>(n);
      m->valid[row] = Flag::kYes;
    }
    n += enters ? 1 : 0;
    for (GroupMember* m : after_) {
      m->words[row] = static_cast<uint64_t>(n);
      m->valid[row] = Flag::kYes;
    }
    return;
  }
  if (!before_.empty()) EmitAll<S>(before_, batch, row, slot, t);
  if (enters) Enter<S>(slot, t, word);
  if (!after_.empty()) EmitAll<S>(after_, batch, row, slot, t);
}

void WindowGroup::NestedLast(size_t row, uint32_t slot, int64_t t, bool enters,
                             const WindowGroup& host) {
  // Every member is a time_since_last() (see NestableLast), read before the
  // event enters: the host's last event, if this group saw it (a group that
  // starts empty at a reload has not).
  const int64_t time = host.last_time(slot);
  const bool known = has_last(slot) != Flag::kNo && host.has_last(slot) != Flag::kNo &&
                     (window_ns_ < 0 || time > t - window_ns_);
  const uint64_t word = known ? DoubleWord(static_cast<double>(t - time) / 1e9) : 0;
  for (GroupMember* m : before_) {
    m->words[row] = word;
    m->valid[row] = known ? Flag::kYes : Flag::kNo;
  }
  if (enters) {
    has_last(slot) = Flag::kYes;
    if (needs_.count) ++count(slot);
  }
}

void WindowGroup::EmitHeld(GroupMember& m, Batch& batch, size_t row, bool elapsed,
                           int64_t elapsed_ns, uint64_t word) {
  if (elapsed) {
    m.words[row] = DoubleWord(static_cast<double>(elapsed_ns) / 1e9);
  } else if (IsString() && StringPool::IsShort(word)) {
    // The word's 8 bytes start with the string's: one fixed-size copy.
    char* p = batch.arena().Allocate(sizeof word);
    std::memcpy(p, &word, sizeof word);
    m.strings[row] = {p, strings_->View(word).size()};
  } else if (IsString()) {
    m.strings[row] = batch.arena().Copy(strings_->View(word));
  } else {
    m.words[row] = word;
  }
}

template <uint32_t S>
void WindowGroup::Emit(GroupMember& m, Batch& batch, size_t row, uint32_t slot, int64_t t,
                       int64_t n) {
  uint64_t& out = m.words[row];
  Flag& valid = m.valid[row];
  valid = Flag::kYes;
  auto in_window = [&](int64_t time) { return window_ns_ < 0 || time > t - window_ns_; };
  switch (m.kind) {
    case AggregateKind::kCount:
      out = static_cast<uint64_t>(n);
      return;
    case AggregateKind::kCountDistinct:
      out = distinct(slot) & ~kPairTable;
      return;
    case AggregateKind::kApproxCountDistinct:
      out = static_cast<uint64_t>(window_ns_ < 0 ? sketch_[slot].Estimate()
                                                 : sliding_[slot].Estimate());
      return;
    case AggregateKind::kSum:
      if (n == 0) break;
      if (int_sum_) {
        const Int128 s = isum(slot);
        if (s > std::numeric_limits<int64_t>::max() || s < std::numeric_limits<int64_t>::min()) {
          m.overflow[row] = Flag::kYes;
          break;
        }
        out = static_cast<uint64_t>(static_cast<int64_t>(s));
      } else {
        out = DoubleWord(sum(slot)[0] + sum(slot)[1]);  // hi + lo, rounded once
      }
      return;
    case AggregateKind::kAvg:
      if (n == 0) break;
      if (int_sum_) {
        out = DoubleWord(static_cast<double>(isum(slot)) / static_cast<double>(n));
      } else {
        Defer(m, row, slot, n);
      }
      return;
    case AggregateKind::kVariance:
    case AggregateKind::kStddev: {
      if (n < 2) break;
      if (!int_sum_) {
        Defer(m, row, slot, n);
        return;
      }
      const double* w = welford(slot);
      const double var =
          VarianceOf(DoubleDouble{w[0], w[1]}, ShiftedSum(slot, n), static_cast<double>(n));
      out = DoubleWord(m.kind == AggregateKind::kVariance ? var : std::sqrt(var));
      return;
    }
    case AggregateKind::kMin:
    case AggregateKind::kMax: {
      const RingRef& q = m.kind == AggregateKind::kMin ? min_q(slot) : max_q(slot);
      if (RingPool::Size(q) == 0) break;
      out = (m.kind == AggregateKind::kMin ? min_pool_ : max_pool_).FrontValue(q);
      return;
    }
    case AggregateKind::kFirst:
    case AggregateKind::kTimeSinceFirst: {
      uint64_t word;
      int64_t time;
      if (Need<S>(kRing)) {
        const RingRef& r = ring(slot);
        if (RingPool::Size(r) == 0) break;
        time = ring_pool_.FrontTime(r);
        word = ring_pool_.FrontValue(r);
      } else {
        if (count(slot) == 0) break;
        word = first(slot)[0];
        time = static_cast<int64_t>(first(slot)[1]);
      }
      EmitHeld(m, batch, row, m.kind == AggregateKind::kTimeSinceFirst, t - time, word);
      return;
    }
    case AggregateKind::kLast:
    case AggregateKind::kPrevious:
    case AggregateKind::kTimeSinceLast: {
      if (has_last(slot) == Flag::kNo) break;
      const int64_t time = last_time(slot);
      if (!in_window(time)) break;
      EmitHeld(m, batch, row, m.kind == AggregateKind::kTimeSinceLast, t - time, last_word(slot));
      return;
    }
    case AggregateKind::kDecayedSum:
    case AggregateKind::kDecayedAvg: {
      if (n == 0) break;
      const double* d = decay(slot);
      int64_t t0;
      std::memcpy(&t0, &d[4], sizeof t0);
      const double s = d[0] + d[1];
      if (m.kind == AggregateKind::kDecayedAvg) {
        const double w = d[2] + d[3];
        out = DoubleWord(w > 0 ? s / w : 0.0);
      } else {
        out = DoubleWord(Decayed(s, t0 - t));
      }
      return;
    }
  }
  valid = Flag::kNo;
  out = 0;
}

template <uint32_t S>
void WindowGroup::EmitAll(const std::vector<GroupMember*>& members, Batch& batch, size_t row,
                          uint32_t slot, int64_t t) {
  const int64_t n = (Need<S>(kRing) || Need<S>(kCount)) ? CountOf<S>(slot) : 0;
  for (GroupMember* m : members) Emit<S>(*m, batch, row, slot, t, n);
}

[[gnu::always_inline]] inline void WindowGroup::Defer(GroupMember& m, size_t row, uint32_t slot,
                                                      int64_t n) const {
  m.inputs[kInCount][row] = static_cast<double>(n);
  m.inputs[kInSumHi][row] = sum(slot)[0];
  m.inputs[kInSumLo][row] = sum(slot)[1];
  if (m.kind == AggregateKind::kAvg) return;
  const double* w = welford(slot);
  m.inputs[kInSquaresHi][row] = w[0];
  m.inputs[kInSquaresLo][row] = w[1];
  m.inputs[kInShift][row] = w[2];  // the shift K's bits: a double here
}

void WindowGroup::FinishResults(size_t begin, size_t end) {
  // Each row's division and square root wait on a chain of dependent
  // additions; done in the row loop, they stalled it. Here rows overlap, and
  // a row that has no result (Emit left it invalid) keeps its word.
  for (GroupMember& m : members_) {
    if (!m.deferred) continue;
    size_t row = begin;
    for (; row + kLanes <= end; row += kLanes) {
      const Lanes r = DeferredResult<Lanes>(m, row);
      for (size_t i = 0; i < kLanes; ++i) {
        if (m.valid[row + i] != Flag::kNo) m.words[row + i] = DoubleWord(r[i]);
      }
    }
    for (; row < end; ++row) {
      if (m.valid[row] != Flag::kNo) m.words[row] = DoubleWord(DeferredResult<double>(m, row));
    }
  }
  for (const Nested& n : nested_) n.group->FinishResults(begin, end);
}

void WindowGroup::Prefetch(const uint32_t* slots, const int64_t* times, size_t rows) const {
  // The oldest record of each queue (eviction reads it) and the newest
  // (min/max queues compare an entering value with it; a ring writes the
  // next record there), one queue at a time.
  auto queue = [&](const RingPool& pool, uint32_t at) {
    for (size_t row = 0; row < rows; ++row) {
      if (slots[row] != KeyTable::kNoSlot) pool.PrefetchEnds(*Field<RingRef>(slots[row], at));
    }
  };
  if (cache_front_) {
    // The oldest record only if it is leaving (the record keeps its time).
    for (size_t row = 0; row < rows; ++row) {
      const uint32_t slot = slots[row];
      if (slot == KeyTable::kNoSlot) continue;
      const RingRef& r = ring(slot);
      if (front_time(slot) <= times[row] - window_ns_) {
        ring_pool_.PrefetchEnds(r);
      } else {
        ring_pool_.PrefetchBack(r);
      }
    }
  } else if (needs_.ring) {
    queue(ring_pool_, at_.ring);
  }
  // A nested window's oldest record (its eviction reads it).
  for (const Nested& n : nested_) {
    if (n.shape == kLastOfHost) continue;
    for (size_t row = 0; row < rows; ++row) {
      const uint32_t slot = slots[row];
      if (slot == KeyTable::kNoSlot) continue;
      const RingRef& r = ring(slot);
      const auto k = static_cast<uint32_t>(n.group->count(slot));
      if (k != 0) ring_pool_.PrefetchAt(r, RingPool::Size(r) - k);
    }
  }
  if (needs_.min) queue(min_pool_, at_.min_q);
  if (needs_.max) queue(max_pool_, at_.max_q);
  if (needs_.distinct && needs_.ring) {
    // Keys that count by scanning their window: every line holding a record
    // of it (entering and leaving values are compared with all the others).
    for (size_t row = 0; row < rows; ++row) {
      const uint32_t slot = slots[row];
      if (slot == KeyTable::kNoSlot || (distinct(slot) & kPairTable) != 0) continue;
      ring_pool_.PrefetchHeld(ring(slot));
    }
    // Others: the count of the pair that the oldest event's eviction will lower.
    for (size_t row = 0; row < rows; ++row) {
      const uint32_t slot = slots[row];
      if (slot == KeyTable::kNoSlot || (distinct(slot) & kPairTable) == 0) continue;
      const RingRef& r = ring(slot);
      if (RingPool::Size(r) == 0) continue;
      if (ring_pool_.FrontTime(r) <= times[row] - window_ns_) {
        pairs_.Prefetch(slot, ring_pool_.FrontValue(r));
      }
    }
  }
}

void WindowGroup::PrepareMembers(const Batch& batch) {
  const size_t rows = batch.size();
  if (before_.size() + after_.size() != members_.size()) {
    // Members read the state before the event enters (exclude current, and
    // previous / time_since_last) or after.
    for (auto& m : members_) {
      const bool before = m.exclude_current || m.kind == AggregateKind::kPrevious ||
                          m.kind == AggregateKind::kTimeSinceLast;
      (before ? before_ : after_).push_back(&m);
    }
  }
  for (auto& m : members_) {
    if (m.words.size() < rows) {
      m.words.resize(batch.capacity());
      m.valid.resize(batch.capacity());
      m.overflow.resize(batch.capacity());
      if (m.result_type.kind == TypeKind::kString) m.strings.resize(batch.capacity());
    }
    m.deferred =
        !int_sum_ && (m.kind == AggregateKind::kAvg || m.kind == AggregateKind::kVariance ||
                      m.kind == AggregateKind::kStddev);
    if (m.deferred && m.inputs[0].size() < rows) {
      for (auto& in : m.inputs) in.resize(batch.capacity());
    }
    m.can_overflow = int_sum_ && m.kind == AggregateKind::kSum;
    if (m.can_overflow) {
      std::fill(m.overflow.begin(), m.overflow.begin() + static_cast<ptrdiff_t>(rows), Flag::kNo);
    }
  }
}

void WindowGroup::Process(Batch& batch, const uint32_t* slots, int time_column) {
  SLUICE_CHECK(host_ == nullptr);  // the host updates a nested group
  SLUICE_CHECK_LE(keys_->slot_limit(), records_->slots());
  EnsureSketches(records_->slots());
  const size_t rows = batch.size();
  PrepareMembers(batch);
  for (const Nested& n : nested_) n.group->PrepareMembers(batch);
  const int64_t* times = batch.column(time_column).data<int64_t>();
  const Column* filter = filter_ >= 0 ? &batch.column(filter_) : nullptr;
  const Column* value = value_ >= 0 ? &batch.column(value_) : nullptr;
  enters_.resize(batch.capacity());
  words_.resize(batch.capacity());
  if (IsString()) {
    hashes_.resize(batch.capacity());
    probed_.resize(batch.capacity());
    interned_.resize(batch.capacity());
  }
  // Rows go through in chunks small enough that what a chunk's first passes
  // load is still in the nearest cache when its last pass updates it.
  for (size_t begin = 0; begin < rows; begin += kChunkRows) {
    ProcessChunk(batch, slots, times, filter, value, begin, std::min(rows, begin + kChunkRows));
  }
}

void WindowGroup::ProcessChunk(Batch& batch, const uint32_t* slots, const int64_t* times,
                               const Column* filter, const Column* value, size_t begin,
                               size_t end) {
  // Window contents are scattered over memory. A first pass starts loading
  // what every row will read, so that the pass that updates it finds it in
  // cache (or on its way) while the passes in between run. The per-key
  // records were loaded once for every group (FeatureState::RunStep).
  Prefetch(slots + begin, times + begin, end - begin);
  // Which rows enter the window, and their values (long strings interned
  // here, in loops of their own for the same reason).
  for (size_t row = begin; row < end; ++row) {
    enters_[row] = static_cast<Flag>(
        slots[row] != KeyTable::kNoSlot && batch.row_error(row) == 0 &&
        (filter == nullptr || (filter->is_valid(row) && filter->data<uint8_t>()[row] != 0)) &&
        (value == nullptr || value->is_valid(row)));
  }
  if (check_values_) {
    // Counts nested here count the events this group holds, whose value
    // the schema requires: a record without it never reaches the state.
    for (size_t row = begin; row < end; ++row) {
      SLUICE_CHECK(
          slots[row] == KeyTable::kNoSlot || batch.row_error(row) != 0 ||
          (filter != nullptr && (!filter->is_valid(row) || filter->data<uint8_t>()[row] == 0)) ||
          value->is_valid(row));
    }
  }
  if (IsString() && value != nullptr) {
    // Short strings are their own words. Longer ones are interned, which
    // probes a table as scattered as the state: its index, then the strings
    // it points to (each in a pass of its own); each string is hashed once.
    const std::string_view* text = value->data<std::string_view>();
    bool any_interned = false;
    for (size_t row = begin; row < end; ++row) {
      const bool intern =
          enters_[row] != Flag::kNo && !StringPool::ShortWord(text[row], &words_[row]);
      interned_[row] = static_cast<Flag>(intern);
      if (intern) {
        hashes_[row] = HashBytes(text[row]);
        any_interned = true;
      } else if (enters_[row] == Flag::kNo) {
        words_[row] = 0;
      }
    }
    if (any_interned) {
      uint64_t probed = 0;
      for (size_t row = begin; row < end; ++row) {
        if (interned_[row] != Flag::kNo) probed_[row] = strings_->TouchIndex(hashes_[row]);
      }
      for (size_t row = begin; row < end; ++row) {
        if (interned_[row] != Flag::kNo) probed += strings_->TouchEntry(probed_[row]);
      }
      touch_sink_ += probed;
      for (size_t row = begin; row < end; ++row) {
        if (interned_[row] != Flag::kNo) words_[row] = strings_->Intern(text[row], hashes_[row]);
      }
    }
  } else if (value == nullptr) {
    std::fill(words_.begin() + static_cast<ptrdiff_t>(begin),
              words_.begin() + static_cast<ptrdiff_t>(end), 0);
  } else {
    ValueWords(*value, begin, end);
  }
  if (needs_.distinct) {
    // The (key, value) counts are one more scattered table: the home entry
    // of each pair that will be added.
    for (size_t row = begin; row < end; ++row) {
      if (enters_[row] != Flag::kNo && (!needs_.ring || (distinct(slots[row]) & kPairTable) != 0)) {
        pairs_.Prefetch(slots[row], words_[row]);
      }
    }
  }
  // The updates, row by row, specialised for the groups of one kind of
  // aggregate (their needs known at compile time), generic for the rest.
  switch (shape_) {
    case kRing:
      RowLoop<kRing>(batch, slots, times, value, begin, end);
      break;
    case kRing | kSum:
      RowLoop<kRing | kSum>(batch, slots, times, value, begin, end);
      break;
    case kRing | kSum | kWelford:
      RowLoop<kRing | kSum | kWelford>(batch, slots, times, value, begin, end);
      break;
    case kRing | kDistinct:
      RowLoop<kRing | kDistinct>(batch, slots, times, value, begin, end);
      break;
    case kMin:
      RowLoop<kMin>(batch, slots, times, value, begin, end);
      break;
    case kMax:
      RowLoop<kMax>(batch, slots, times, value, begin, end);
      break;
    case kMin | kMax:
      RowLoop<kMin | kMax>(batch, slots, times, value, begin, end);
      break;
    case kLast:
      RowLoop<kLast>(batch, slots, times, value, begin, end);
      break;
    default:
      RowLoop<kAnyShape>(batch, slots, times, value, begin, end);
      break;
  }
  FinishResults(begin, end);
}

template <uint32_t S>
void WindowGroup::RowLoop(Batch& batch, const uint32_t* slots, const int64_t* times,
                          const Column* value, size_t begin, size_t end) {
  for (size_t row = begin; row < end; ++row) {
    const uint32_t slot = slots[row];
    if (slot == KeyTable::kNoSlot || batch.row_error(row) != 0) {
      for (auto& m : members_) m.valid[row] = Flag::kNo;
      for (const Nested& n : nested_) {
        for (auto& m : n.group->members_) m.valid[row] = Flag::kNo;
      }
      continue;
    }
    const int64_t t = times[row];
    // Nested windows first: the host's eviction may remove events that
    // leave them too.
    for (const Nested& n : nested_) {
      // Most events find that nothing has left the nested window: checked
      // here, without the call.
      if (n.shape == kLastOfHost) continue;
      WindowGroup& g = *n.group;
      const int64_t k = g.count(slot);
      if (k == 0) continue;
      const RingRef& r = ring(slot);
      if (ring_pool_.TimeAt(r, RingPool::Size(r) - static_cast<uint32_t>(k)) > t - g.window_ns_) {
        continue;
      }
      switch (n.shape) {  // the commonest shapes inline
        case kCount:
          g.NestedEvict<kCount>(slot, t, ring_pool_, r);
          break;
        case kCount | kSum:
          g.NestedEvict<kCount | kSum>(slot, t, ring_pool_, r);
          break;
        default:
          (g.*n.evict)(slot, t, ring_pool_, r);
      }
    }
    if (MayEvict<S>(slot, t)) Evict<S>(slot, t);
    const bool enters = enters_[row] != Flag::kNo;
    const uint64_t word = words_[row];
    if (!before_.empty()) EmitAll<S>(before_, batch, row, slot, t);
    if (reads_last_) {  // before this group's last changes
      for (const Nested& n : nested_) {
        if (n.shape == kLastOfHost) n.group->NestedLast(row, slot, t, enters, *this);
      }
    }
    if (enters) Enter<S>(slot, t, word);
    if (!after_.empty()) EmitAll<S>(after_, batch, row, slot, t);
    for (const Nested& n : nested_) {
      switch (n.shape) {
        case kLastOfHost:
          break;
        case kCount:
          n.group->NestedRow<kCount>(batch, row, slot, t, enters, word);
          break;
        case kCount | kSum:
          n.group->NestedRow<kCount | kSum>(batch, row, slot, t, enters, word);
          break;
        default:
          (n.group->*n.row)(batch, row, slot, t, enters, word);
      }
    }
    if (enters && value != nullptr) ReleaseWord(word);  // the reference Intern() gave
  }
}

void WindowGroup::Reset(uint32_t slot) {
  if (slot >= records_->slots()) return;
  if (host_ != nullptr && needs_.last) {
    has_last(slot) = Flag::kNo;
    if (needs_.count) count(slot) = 0;
    return;
  }
  if (host_ != nullptr) {
    count(slot) = 0;
    if (needs_.sum) std::fill_n(sum(slot), 2, 0.0);  // the int sum's 16 bytes too
    if (needs_.welford) std::fill_n(welford(slot), 3, 0.0);
    return;
  }
  if (needs_.ring) {
    RingRef& r = ring(slot);
    while (RingPool::Size(r) > 0) {
      Leave<kAnyShape>(slot, ring_pool_.FrontTime(r), ring_pool_.FrontValue(r));
      ring_pool_.PopFront(r);
    }
    ring_pool_.Release(r);  // a queue emptied before this version kept a block
  }
  if (needs_.min) min_pool_.Release(min_q(slot));
  if (needs_.max) max_pool_.Release(max_q(slot));
  if (needs_.sketch) sliding_[slot] = SlidingSketch();
  SLUICE_CHECK(!needs_.count);  // unbounded windows never evict their keys
  if (needs_.last) {
    if (has_last(slot) != Flag::kNo) ReleaseWord(last_word(slot));
    has_last(slot) = Flag::kNo;
    set_last_word(slot, 0);
    last_time(slot) = 0;
  }
}

template <typename T>
void WindowGroup::PutField(StateWriter& w, bool needed, uint32_t offset, size_t per_slot) const {
  const size_t slots = records_->slots();
  if (!needed) {
    w.Put<uint64_t>(0);
    return;
  }
  w.Put<uint64_t>(slots * per_slot);
  std::string& out = w.bytes();
  out.reserve(out.size() + slots * per_slot * sizeof(T));
  for (size_t slot = 0; slot < slots; ++slot) {
    out.append(
        reinterpret_cast<const char*>(records_->record(static_cast<uint32_t>(slot)) + offset),
        per_slot * sizeof(T));
  }
}

template <typename T>
bool WindowGroup::GetField(StateReader& r, bool needed, uint32_t offset, size_t per_slot,
                           size_t slots) {
  std::vector<T> values;
  if (!r.GetVector(&values) || values.size() != (needed ? slots * per_slot : 0)) return false;
  if (!needed) return true;
  for (size_t slot = 0; slot < slots; ++slot) {
    std::memcpy(records_->record(static_cast<uint32_t>(slot)) + offset, &values[slot * per_slot],
                per_slot * sizeof(T));
  }
  return true;
}

void WindowGroup::Save(StateWriter& w) const {
  // The layout of the arrays each group had before the records were shared:
  // images are unchanged.
  w.Put<uint64_t>(records_->slots());
  // A nested group's window contents are written as its own ring would
  // hold them: images do not depend on nesting.
  RingPool held;
  if (host_ != nullptr && needs_.ring) {
    std::vector<RingRef> refs(records_->slots());
    for (uint32_t slot = 0; slot < refs.size(); ++slot) {
      const RingRef& hr = host_->ring(slot);
      const uint32_t size = RingPool::Size(hr);
      for (auto i = size - static_cast<uint32_t>(count(slot)); i < size; ++i) {
        // A group without a value holds 0s (its host may have one).
        held.Push(refs[slot], host_->ring_pool_.TimeAt(hr, i),
                  value_ >= 0 ? host_->ring_pool_.ValueAt(hr, i) : 0);
      }
    }
    w.PutVector(refs);
  } else {
    PutField<RingRef>(w, needs_.ring, at_.ring, 1);
  }
  PutField<RingRef>(w, needs_.min, at_.min_q, 1);
  PutField<RingRef>(w, needs_.max, at_.max_q, 1);
  PutField<int64_t>(w, needs_.count, at_.count, 1);
  PutField<double>(w, needs_.sum && !int_sum_, at_.sum, 2);
  PutField<Int128>(w, needs_.sum && int_sum_, at_.sum, 1);
  PutField<double>(w, needs_.welford, at_.welford, 3);
  PutField<uint64_t>(w, needs_.first, at_.first, 2);
  // last: (word, time) per slot, 0 for the word of groups without a value.
  if (needs_.last && host_ != nullptr) {
    // As a group of its own would: the host's last time where this group saw it.
    const auto slots = static_cast<uint32_t>(records_->slots());
    w.Put<uint64_t>(size_t{slots} * 2);
    for (uint32_t slot = 0; slot < slots; ++slot) {
      w.Put<uint64_t>(0);
      w.Put<int64_t>(has_last(slot) != Flag::kNo ? host_->last_time(slot) : 0);
    }
  } else if (needs_.last) {
    w.Put<uint64_t>(records_->slots() * 2);
    for (uint32_t slot = 0; slot < records_->slots(); ++slot) {
      w.Put<uint64_t>(last_word(slot));
      w.Put<int64_t>(last_time(slot));
    }
  } else {
    w.Put<uint64_t>(0);
  }
  PutField<uint8_t>(w, needs_.last, at_.has_last, 1);
  if (needs_.distinct && needs_.ring) {
    // The image holds what it held before short windows were scanned: the
    // counts alone, and every pair in the table.
    std::vector<uint32_t> counts(records_->slots());
    for (uint32_t slot = 0; slot < counts.size(); ++slot)
      counts[slot] = distinct(slot) & ~kPairTable;
    w.PutVector(counts);
  } else {
    PutField<uint32_t>(w, needs_.distinct, at_.distinct, 1);
  }
  PutField<double>(w, needs_.decay, at_.decay, 5);
  // Time windows write their sliding sketches in the place of the unbounded
  // ones (which they never have), so that images without them are unchanged.
  if (window_ns_ < 0) {
    w.Put<uint64_t>(sketch_.size());
    for (const auto& sk : sketch_) sk.Save(w);
  } else {
    w.Put<uint64_t>(sliding_.size());
    for (const auto& sk : sliding_) sk.Save(w);
  }
  if (needs_.distinct && needs_.ring) {
    PairCounter all = pairs_;
    for (uint32_t slot = 0; slot < records_->slots(); ++slot) {
      if ((distinct(slot) & kPairTable) != 0) continue;
      const RingRef& r = ring(slot);
      for (uint32_t i = 0; i < RingPool::Size(r); ++i) all.Add(slot, ring_pool_.ValueAt(r, i));
    }
    all.Save(w);
  } else {
    pairs_.Save(w);
  }
  (host_ != nullptr && needs_.ring ? held : ring_pool_).Save(w);
  min_pool_.Save(w);
  max_pool_.Save(w);
}

bool WindowGroup::Load(StateReader& r) {
  uint64_t slots = 0;
  // Every slot takes at least one byte of the image (a field or a sketch):
  // a bound before the records grow.
  if (!r.Get(&slots) || slots >= UINT32_MAX || slots < keys_->slot_limit() ||
      slots > r.remaining()) {
    return false;
  }
  records_->EnsureSlots(slots);
  const bool refs_ok = host_ == nullptr || !needs_.ring
                           ? GetField<RingRef>(r, needs_.ring, at_.ring, 1, slots)
                           : r.GetVector(&image_refs_) && image_refs_.size() == slots;
  if (!refs_ok || !GetField<RingRef>(r, needs_.min, at_.min_q, 1, slots) ||
      !GetField<RingRef>(r, needs_.max, at_.max_q, 1, slots) ||
      !GetField<int64_t>(r, needs_.count, at_.count, 1, slots) ||
      !GetField<double>(r, needs_.sum && !int_sum_, at_.sum, 2, slots) ||
      !GetField<Int128>(r, needs_.sum && int_sum_, at_.sum, 1, slots) ||
      !GetField<double>(r, needs_.welford, at_.welford, 3, slots) ||
      !GetField<uint64_t>(r, needs_.first, at_.first, 2, slots) || !GetLast(r, slots) ||
      !GetField<uint8_t>(r, needs_.last, at_.has_last, 1, slots) ||
      !GetField<uint32_t>(r, needs_.distinct, at_.distinct, 1, slots) ||
      !GetField<double>(r, needs_.decay, at_.decay, 5, slots) || !LoadSketches(r) ||
      !pairs_.Load(r) || !ring_pool_.Load(r) || !min_pool_.Load(r) || !max_pool_.Load(r)) {
    return false;
  }
  if (needs_.distinct && needs_.ring) {
    // The image's pair table holds every pair: keys with values use it.
    for (uint32_t slot = 0; slot < slots; ++slot) {
      uint32_t& d = distinct(slot);
      if ((d & kPairTable) != 0) return false;
      if (d != 0) d |= kPairTable;
    }
  }
  auto sized = [&](size_t n, bool needed) { return n == (needed ? slots : 0); };
  if (!sized(sketch_.size(), needs_.sketch && window_ns_ < 0) ||
      !sized(sliding_.size(), needs_.sketch && window_ns_ >= 0)) {
    return false;
  }
  for (uint32_t slot = 0; slot < slots; ++slot) {
    if ((host_ != nullptr && needs_.ring && !ring_pool_.Valid(image_refs_[slot])) ||
        (needs_.ring && host_ == nullptr && !ring_pool_.Valid(ring(slot))) ||
        (needs_.min && !min_pool_.Valid(min_q(slot))) ||
        (needs_.max && !max_pool_.Valid(max_q(slot)))) {
      return false;
    }
    // Not in images: the oldest time is read from the ring.
    if (cache_front_) {
      const RingRef& q = ring(slot);
      front_time(slot) = RingPool::Size(q) > 0 ? ring_pool_.FrontTime(q) : 0;
    }
  }
  return true;
}

bool WindowGroup::AdoptNestedImage() {
  SLUICE_CHECK(host_ != nullptr);
  if (needs_.last) {
    // The image's last times (where it has one) are the host's.
    bool ok = image_last_times_.size() <= records_->slots();
    for (uint32_t slot = 0; ok && slot < image_last_times_.size(); ++slot) {
      ok = has_last(slot) == Flag::kNo || (host_->has_last(slot) != Flag::kNo &&
                                           host_->last_time(slot) == image_last_times_[slot]);
    }
    image_last_times_ = {};
    if (!ok) ClearNested();
    return ok;
  }
  bool ok = image_refs_.size() <= records_->slots();
  for (uint32_t slot = 0; ok && slot < image_refs_.size(); ++slot) {
    const RingRef& mine = image_refs_[slot];
    const RingRef& hr = host_->ring(slot);
    const uint32_t n = RingPool::Size(mine);
    const uint32_t size = RingPool::Size(hr);
    ok = n <= size;
    for (uint32_t i = 0; ok && i < n; ++i) {
      ok = ring_pool_.TimeAt(mine, i) == host_->ring_pool_.TimeAt(hr, size - n + i) &&
           ring_pool_.ValueAt(mine, i) ==
               (value_ >= 0 ? host_->ring_pool_.ValueAt(hr, size - n + i) : 0);
    }
    if (ok) count(slot) = n;
  }
  image_refs_ = {};
  ring_pool_ = RingPool();
  if (!ok) ClearNested();
  return ok;
}

void WindowGroup::ClearNested() {
  for (uint32_t slot = 0; slot < records_->slots(); ++slot) Reset(slot);
}

bool WindowGroup::GetLast(StateReader& r, size_t slots) {
  std::vector<uint64_t> values;
  if (!r.GetVector(&values) || values.size() != (needs_.last ? slots * 2 : 0)) return false;
  image_last_times_.clear();
  for (uint32_t slot = 0; slot < values.size() / 2; ++slot) {
    // A group without a value has no word to keep (images hold 0).
    if (value_ < 0 && values[2 * slot] != 0) return false;
    if (host_ != nullptr) {  // checked against the host's (AdoptNestedImage)
      image_last_times_.push_back(static_cast<int64_t>(values[2 * slot + 1]));
      continue;
    }
    set_last_word(slot, values[2 * slot]);
    last_time(slot) = static_cast<int64_t>(values[2 * slot + 1]);
  }
  return true;
}

bool WindowGroup::LoadSketches(StateReader& r) {
  uint64_t n = 0;
  if (!r.Get(&n) || n > (uint64_t{1} << 32)) return false;
  if (window_ns_ < 0) {
    sketch_.assign(n, DistinctSketch{});
    for (auto& sk : sketch_) {
      if (!sk.Load(r)) return false;
    }
    return true;
  }
  // Each sliding sketch takes at least 9 bytes: a corrupt count fails here
  // rather than allocating.
  sliding_.clear();
  for (uint64_t i = 0; i < n; ++i) {
    SlidingSketch sk;
    if (!sk.Load(r)) return false;
    sliding_.push_back(std::move(sk));
  }
  return true;
}

size_t WindowGroup::SketchBytes() const {
  size_t b = sketch_.capacity() * sizeof(DistinctSketch);
  for (const auto& sk : sketch_) b += sk.bytes();
  b += sliding_.capacity() * sizeof(SlidingSketch);
  for (const auto& sk : sliding_) b += sk.bytes();
  return b;
}

size_t WindowGroup::SlidingSketchBytes() const {
  size_t b = 0;
  for (const auto& sk : sliding_) b += sk.bytes();
  return b;
}

void WindowGroup::RewordStrings() {
  if (!IsString()) return;
  // Every word is rewritten before any reference is released: a release
  // may free a string that other words still name.
  std::vector<uint32_t> released;
  auto held = [&](uint64_t& word) {
    const uint64_t now = strings_->Current(word);
    if (now == word) return;
    released.push_back(static_cast<uint32_t>(word));
    word = now;
  };
  const auto slots = static_cast<uint32_t>(records_->slots());
  for (uint32_t slot = 0; needs_.ring && host_ == nullptr && slot < slots; ++slot) {
    RingRef& q = ring(slot);
    for (uint32_t i = 0; i < RingPool::Size(q); ++i) {
      uint64_t word = ring_pool_.ValueAt(q, i);
      held(word);
      ring_pool_.SetValue(q, i, word);
    }
  }
  for (uint32_t slot = 0; slot < slots; ++slot) {
    if (needs_.last && has_last(slot) != Flag::kNo) {
      uint64_t word = last_word(slot);
      held(word);
      set_last_word(slot, word);
    }
    if (needs_.first && count(slot) > 0) held(first(slot)[0]);
  }
  // The pairs of unbounded windows hold a reference each; those of time
  // windows are counted from the ring's records, which hold them.
  if (!needs_.ring) {
    pairs_.AllValues([&](uint64_t word) {
      if (strings_->Current(word) != word) released.push_back(static_cast<uint32_t>(word));
      return true;
    });
  }
  pairs_.MapValues([this](uint64_t word) { return strings_->Current(word); });
  for (uint32_t id : released) strings_->ReleaseWord(id);
}

bool WindowGroup::StringsValid() const {
  if (!IsString()) return true;
  auto ok = [this](uint64_t word) { return strings_->ValidWord(word); };
  const auto slots = static_cast<uint32_t>(records_->slots());
  for (uint32_t slot = 0; needs_.ring && host_ == nullptr && slot < slots; ++slot) {
    const RingRef& q = ring(slot);
    for (uint32_t i = 0; i < RingPool::Size(q); ++i) {
      if (!ok(ring_pool_.ValueAt(q, i))) return false;
    }
  }
  for (uint32_t slot = 0; slot < slots; ++slot) {
    if (needs_.last && has_last(slot) != Flag::kNo && !ok(last_word(slot))) return false;
    if (needs_.first && count(slot) > 0 && !ok(first(slot)[0])) return false;
  }
  return pairs_.AllValues(ok);
}

size_t WindowGroup::events_held() const {
  if (!needs_.ring || host_ != nullptr) return 0;  // a nested group's are its host's
  size_t n = 0;
  const auto slots = static_cast<uint32_t>(records_->slots());
  for (uint32_t slot = 0; slot < slots; ++slot) n += RingPool::Size(ring(slot));
  return n;
}

size_t WindowGroup::window_bytes() const {
  return ring_pool_.bytes_reserved() + min_pool_.bytes_reserved() + max_pool_.bytes_reserved() +
         pairs_.bytes_reserved() + SlidingSketchBytes();
}

size_t WindowGroup::bytes_reserved() const {
  return window_bytes() + SketchBytes() - SlidingSketchBytes();
}

}  // namespace sluice::features::internal
