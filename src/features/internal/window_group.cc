#include "features/internal/window_group.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "common/check.h"
#include "features/internal/distinct_sketch.h"
#include "features/internal/double_double.h"

namespace sluice::features::internal {
namespace {

using expr::AggregateKind;

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
  std::memcpy(&k, &welford_[slot * 3 + 2], sizeof k);
  if (value_type_.kind == TypeKind::kInt64) {
    return FromInt128(static_cast<Int128>(static_cast<int64_t>(word)) - static_cast<int64_t>(k));
  }
  return TwoSum(WordDouble(word), -WordDouble(k));  // exact
}

DoubleDouble WindowGroup::ShiftedSum(uint32_t slot, int64_t n) const {
  uint64_t k;
  std::memcpy(&k, &welford_[slot * 3 + 2], sizeof k);
  if (int_sum_) {  // exact: sum(y) - n * K in 128 bits
    return FromInt128(isum_[slot] - static_cast<Int128>(n) * static_cast<int64_t>(k));
  }
  return Add(DoubleDouble{sum_[slot * 2], sum_[slot * 2 + 1]},
             Negate(TwoProduct(static_cast<double>(n), WordDouble(k))));
}

bool WindowGroup::Cancelled(uint32_t slot, double largest) const {
  constexpr double kLost = 1048576.0;  // 2^20: 20 of the ~106 bits
  if (needs_.sum && !int_sum_ && largest > kLost * std::fabs(sum_[slot * 2])) return true;
  if (needs_.welford) {
    const double squares = welford_[slot * 3];
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

void WindowGroup::Resum(uint32_t slot) {
  const RingRef& r = ring_[slot];
  if (needs_.sum && !int_sum_) {
    DoubleDouble total;
    for (uint32_t i = 0; i < r.size; ++i) total = Add(total, WordDouble(ring_pool_.At(r, i)[1]));
    sum_[slot * 2] = total.hi;
    sum_[slot * 2 + 1] = total.lo;
  }
  if (needs_.welford) {
    const uint64_t k = ring_pool_.Front(r)[1];
    std::memcpy(&welford_[slot * 3 + 2], &k, sizeof k);
    DoubleDouble squares;
    for (uint32_t i = 0; i < r.size; ++i) {
      const DoubleDouble d = Deviation(slot, ring_pool_.At(r, i)[1]);
      squares = Add(squares, Multiply(d, d));
    }
    welford_[slot * 3] = squares.hi;
    welford_[slot * 3 + 1] = squares.lo;
  }
}

WindowGroup::WindowGroup(KeyTable* keys, int value, Type value_type, int filter, int64_t window_ns,
                         int64_t half_life_ns, StringPool* strings)
    : keys_(keys),
      value_(value),
      value_type_(std::move(value_type)),
      filter_(filter),
      window_ns_(window_ns),
      half_life_ns_(half_life_ns),
      strings_(strings),
      int_sum_(value_type_.kind == TypeKind::kInt64) {}

WindowGroup::~WindowGroup() = default;

size_t WindowGroup::AddMember(const expr::WindowCall& call) {
  SLUICE_CHECK_EQ(slots_, size_t{0});
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

void WindowGroup::EnsureSlots(size_t n) {
  if (n <= slots_) return;
  const size_t grown = std::max<size_t>(n, slots_ + slots_ / 8 + 64);
  // Exact reservations: resize() alone may double the capacity, and memory
  // per key is what --stats reports.
  auto grow = [grown](auto& v, size_t per_slot) {
    v.reserve(grown * per_slot);
    v.resize(grown * per_slot);
  };
  if (needs_.ring) grow(ring_, 1);
  if (needs_.min) grow(min_q_, 1);
  if (needs_.max) grow(max_q_, 1);
  if (needs_.count) grow(count_, 1);
  if (needs_.sum) {
    if (int_sum_) {
      grow(isum_, 1);
    } else {
      grow(sum_, 2);
    }
  }
  if (needs_.welford) grow(welford_, 3);
  if (needs_.first) grow(first_, 2);
  if (needs_.last) {
    grow(last_, 2);
    grow(has_last_, 1);
  }
  if (needs_.distinct) grow(distinct_, 1);
  if (needs_.sketch) {
    if (window_ns_ < 0) {
      grow(sketch_, 1);
    } else {
      grow(sliding_, 1);
    }
  }
  if (needs_.decay) grow(decay_, 5);
  slots_ = grown;
}

uint64_t WindowGroup::ValueWord(const Batch& batch, size_t row) {
  const Column& c = batch.column(value_);
  switch (value_type_.kind) {
    case TypeKind::kFloat64: {
      double d = c.data<double>()[row];
      if (d == 0.0) d = 0.0;  // -0.0 and 0.0 are one value
      return DoubleWord(d);
    }
    case TypeKind::kBool:
      return c.data<uint8_t>()[row] != 0 ? 1 : 0;
    case TypeKind::kEnum:
      return static_cast<uint64_t>(c.data<int32_t>()[row]);
    case TypeKind::kString:
      return strings_->Intern(c.data<std::string_view>()[row]);
    default:
      return static_cast<uint64_t>(c.data<int64_t>()[row]);
  }
}

void WindowGroup::RetainWord(uint64_t word) {
  if (IsString()) strings_->Retain(static_cast<uint32_t>(word));
}
void WindowGroup::ReleaseWord(uint64_t word) {
  if (IsString()) strings_->Release(static_cast<uint32_t>(word));
}

bool WindowGroup::Less(uint64_t a, uint64_t b) const {
  if (value_type_.kind == TypeKind::kFloat64) return WordDouble(a) < WordDouble(b);
  return static_cast<int64_t>(a) < static_cast<int64_t>(b);
}

int64_t WindowGroup::CountOf(uint32_t slot) const {
  return needs_.ring ? static_cast<int64_t>(ring_[slot].size) : count_[slot];
}

void WindowGroup::Enter(uint32_t slot, int64_t t, uint64_t word) {
  if (needs_.ring) {
    uint64_t* rec = ring_pool_.PushBack(ring_[slot]);
    rec[0] = static_cast<uint64_t>(t);
    rec[1] = word;
    RetainWord(word);
  }
  if (needs_.count) ++count_[slot];
  const int64_t n = (needs_.ring || needs_.count) ? CountOf(slot) : 0;
  if (needs_.sum) {
    if (int_sum_) {
      isum_[slot] += static_cast<int64_t>(word);
    } else {
      Accumulate(&sum_[slot * 2], DoubleDouble{WordDouble(word), 0.0});
    }
  }
  const double x = value_type_.kind == TypeKind::kInt64
                       ? static_cast<double>(static_cast<int64_t>(word))
                       : WordDouble(word);
  if (needs_.welford) {
    double* w = &welford_[slot * 3];
    if (n == 1) std::memcpy(&w[2], &word, sizeof word);  // the shift: the first value
    const DoubleDouble d = Deviation(slot, word);
    Accumulate(w, Multiply(d, d));
  }
  auto push_queue = [&](RingPool& pool, RingRef& q, bool keep_max) {
    if (window_ns_ < 0) {  // unbounded: only the extreme matters
      if (q.size == 0) {
        uint64_t* rec = pool.PushBack(q);
        rec[0] = static_cast<uint64_t>(t);
        rec[1] = word;
      } else if (keep_max ? Less(pool.Front(q)[1], word) : Less(word, pool.Front(q)[1])) {
        pool.At(q, 0)[1] = word;
      }
      return;
    }
    // Values that can never be the extreme again leave from the back.
    while (q.size > 0 && (keep_max ? !Less(word, pool.Back(q)[1]) : !Less(pool.Back(q)[1], word))) {
      pool.PopBack(q);
    }
    uint64_t* rec = pool.PushBack(q);
    rec[0] = static_cast<uint64_t>(t);
    rec[1] = word;
  };
  if (needs_.min) push_queue(min_pool_, min_q_[slot], false);
  if (needs_.max) push_queue(max_pool_, max_q_[slot], true);
  if (needs_.first && n == 1) {
    first_[slot * 2] = word;
    first_[slot * 2 + 1] = static_cast<uint64_t>(t);
    RetainWord(word);
  }
  if (needs_.last) {
    if (has_last_[slot] != 0) ReleaseWord(last_[slot * 2]);
    last_[slot * 2] = word;
    last_[slot * 2 + 1] = static_cast<uint64_t>(t);
    has_last_[slot] = 1;
    RetainWord(word);
  }
  if (needs_.sketch) {
    const uint64_t h =
        IsString() ? HashBytes(strings_->Get(static_cast<uint32_t>(word))) : MixWord(word);
    if (window_ns_ < 0) {
      sketch_[slot].Add(h);
    } else {
      sliding_[slot].Add(h, t);
    }
  }
  if (needs_.distinct) {
    if (pairs_.Add(slot, word)) {
      ++distinct_[slot];
      if (!needs_.ring) RetainWord(word);  // unbounded: the pair holds the string
    }
  }
  if (needs_.decay) {
    double* d = &decay_[slot * 5];
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

void WindowGroup::Leave(uint32_t slot, int64_t t, uint64_t word) {
  // Called with the record still in the ring; CountOf counts it.
  const int64_t n = CountOf(slot);
  const double x = value_type_.kind == TypeKind::kInt64
                       ? static_cast<double>(static_cast<int64_t>(word))
                       : WordDouble(word);
  if (needs_.sum) {
    if (int_sum_) {
      isum_[slot] -= static_cast<int64_t>(word);
    } else {
      Accumulate(&sum_[slot * 2], DoubleDouble{-WordDouble(word), 0.0});
    }
  }
  if (needs_.welford) {
    const DoubleDouble d = Deviation(slot, word);
    Accumulate(&welford_[slot * 3], Negate(Multiply(d, d)));
  }
  if (needs_.distinct && pairs_.Remove(slot, word)) --distinct_[slot];
  if (needs_.decay) {
    double* d = &decay_[slot * 5];
    int64_t t0;
    std::memcpy(&t0, &d[4], sizeof t0);
    const double g = DecayFactor(t - t0);
    Accumulate(d, Negate(TwoProduct(x, g)));
    Accumulate(d + 2, DoubleDouble{-g, 0.0});
  }
  ReleaseWord(word);
  if (n == 1) {  // the window is empty: start again from exact zeros
    if (needs_.sum) {
      if (int_sum_) {
        isum_[slot] = 0;
      } else {
        sum_[slot * 2] = sum_[slot * 2 + 1] = 0.0;
      }
    }
    if (needs_.welford) std::fill_n(&welford_[slot * 3], 3, 0.0);
    if (needs_.decay) std::fill_n(&decay_[slot * 5], 5, 0.0);
  }
}

void WindowGroup::Evict(uint32_t slot, int64_t now) {
  if (window_ns_ < 0) return;
  const int64_t horizon = now - window_ns_;  // times <= horizon have left
  if (needs_.ring) {
    RingRef& r = ring_[slot];
    double largest = 0;  // magnitude of the largest value that left
    while (r.size > 0 && static_cast<int64_t>(ring_pool_.Front(r)[0]) <= horizon) {
      const uint64_t* rec = ring_pool_.Front(r);
      if (needs_.sum || needs_.welford) largest = std::max(largest, std::fabs(AsDouble(rec[1])));
      Leave(slot, static_cast<int64_t>(rec[0]), rec[1]);
      ring_pool_.PopFront(r);
    }
    // A value far larger than what remains has left: the running sums keep
    // its rounding residue (about 1e-32 of it). Sum the window again.
    if (largest > 0 && r.size > 0 && Cancelled(slot, largest)) Resum(slot);
  }
  auto evict_queue = [horizon](RingPool& pool, RingRef& q) {
    while (q.size > 0 && static_cast<int64_t>(pool.Front(q)[0]) <= horizon) pool.PopFront(q);
  };
  if (needs_.min) evict_queue(min_pool_, min_q_[slot]);
  if (needs_.max) evict_queue(max_pool_, max_q_[slot]);
  if (needs_.sketch) sliding_[slot].Expire(horizon);
}

void WindowGroup::EmitHeld(GroupMember& m, Batch& batch, size_t row, bool elapsed,
                           int64_t elapsed_ns, uint64_t word) {
  if (elapsed) {
    m.words[row] = DoubleWord(static_cast<double>(elapsed_ns) / 1e9);
  } else if (IsString()) {
    m.strings[row] = batch.arena().Copy(strings_->Get(static_cast<uint32_t>(word)));
  } else {
    m.words[row] = word;
  }
}

void WindowGroup::Emit(GroupMember& m, Batch& batch, size_t row, uint32_t slot, int64_t t) {
  uint64_t& out = m.words[row];
  uint8_t& valid = m.valid[row];
  valid = 1;
  const int64_t n = (needs_.ring || needs_.count) ? CountOf(slot) : 0;
  auto in_window = [&](int64_t time) { return window_ns_ < 0 || time > t - window_ns_; };
  switch (m.kind) {
    case AggregateKind::kCount:
      out = static_cast<uint64_t>(n);
      return;
    case AggregateKind::kCountDistinct:
      out = distinct_[slot];
      return;
    case AggregateKind::kApproxCountDistinct:
      out = static_cast<uint64_t>(window_ns_ < 0 ? sketch_[slot].Estimate()
                                                 : sliding_[slot].Estimate());
      return;
    case AggregateKind::kSum:
      if (n == 0) break;
      if (int_sum_) {
        const Int128 s = isum_[slot];
        if (s > std::numeric_limits<int64_t>::max() || s < std::numeric_limits<int64_t>::min()) {
          m.overflow[row] = 1;
          break;
        }
        out = static_cast<uint64_t>(static_cast<int64_t>(s));
      } else {
        out = DoubleWord(sum_[slot * 2] + sum_[slot * 2 + 1]);  // hi + lo, rounded once
      }
      return;
    case AggregateKind::kAvg:
      if (n == 0) break;
      if (int_sum_) {
        out = DoubleWord(static_cast<double>(isum_[slot]) / static_cast<double>(n));
      } else {
        out = DoubleWord(
            Divide(DoubleDouble{sum_[slot * 2], sum_[slot * 2 + 1]}, static_cast<double>(n))
                .value());
      }
      return;
    case AggregateKind::kVariance:
    case AggregateKind::kStddev: {
      if (n < 2) break;
      // With d = x - K (K: a value of the window), M2 = sum(d^2) - sum(d)^2 / n,
      // in double-double; equal values give exactly 0.
      const double* w = &welford_[slot * 3];
      const DoubleDouble sd = ShiftedSum(slot, n);
      const DoubleDouble m2 =
          Add(DoubleDouble{w[0], w[1]}, Negate(Divide(Multiply(sd, sd), static_cast<double>(n))));
      const double var = std::max(0.0, m2.value()) / static_cast<double>(n - 1);
      out = DoubleWord(m.kind == AggregateKind::kVariance ? var : std::sqrt(var));
      return;
    }
    case AggregateKind::kMin:
    case AggregateKind::kMax: {
      const RingRef& q = m.kind == AggregateKind::kMin ? min_q_[slot] : max_q_[slot];
      if (q.size == 0) break;
      out = (m.kind == AggregateKind::kMin ? min_pool_ : max_pool_).Front(q)[1];
      return;
    }
    case AggregateKind::kFirst:
    case AggregateKind::kTimeSinceFirst: {
      uint64_t word;
      int64_t time;
      if (needs_.ring) {
        if (ring_[slot].size == 0) break;
        const uint64_t* rec = ring_pool_.Front(ring_[slot]);
        time = static_cast<int64_t>(rec[0]);
        word = rec[1];
      } else {
        if (count_[slot] == 0) break;
        word = first_[slot * 2];
        time = static_cast<int64_t>(first_[slot * 2 + 1]);
      }
      EmitHeld(m, batch, row, m.kind == AggregateKind::kTimeSinceFirst, t - time, word);
      return;
    }
    case AggregateKind::kLast:
    case AggregateKind::kPrevious:
    case AggregateKind::kTimeSinceLast: {
      if (has_last_[slot] == 0) break;
      const int64_t time = static_cast<int64_t>(last_[slot * 2 + 1]);
      if (!in_window(time)) break;
      EmitHeld(m, batch, row, m.kind == AggregateKind::kTimeSinceLast, t - time, last_[slot * 2]);
      return;
    }
    case AggregateKind::kDecayedSum:
    case AggregateKind::kDecayedAvg: {
      if (n == 0) break;
      const double* d = &decay_[slot * 5];
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
  valid = 0;
  out = 0;
}

uint64_t WindowGroup::Touch(uint32_t slot, bool contents) const {
  if (slot == KeyTable::kNoSlot) return 0;
  uint64_t acc = 0;
  auto queue = [&acc, contents](const RingPool& pool, const RingRef& q) {
    acc += q.size;
    if (contents && q.size != 0) acc += pool.Front(q)[0] + pool.Back(q)[0];
  };
  if (contents) {
    if (needs_.ring) queue(ring_pool_, ring_[slot]);
    if (needs_.min) queue(min_pool_, min_q_[slot]);
    if (needs_.max) queue(max_pool_, max_q_[slot]);
    return acc;
  }
  if (needs_.ring) queue(ring_pool_, ring_[slot]);
  if (needs_.min) queue(min_pool_, min_q_[slot]);
  if (needs_.max) queue(max_pool_, max_q_[slot]);
  if (needs_.count) acc += static_cast<uint64_t>(count_[slot]);
  if (needs_.sum) {
    acc += int_sum_ ? static_cast<uint64_t>(isum_[slot]) : DoubleWord(sum_[slot * 2]);
  }
  if (needs_.welford) acc += DoubleWord(welford_[slot * 3]);
  if (needs_.first) acc += first_[slot * 2];
  if (needs_.last) acc += last_[slot * 2] + has_last_[slot];
  if (needs_.distinct) acc += distinct_[slot];
  if (needs_.decay) acc += DoubleWord(decay_[slot * 5]);
  return acc;
}

void WindowGroup::Process(Batch& batch, const uint32_t* slots, int time_column) {
  EnsureSlots(keys_->slot_limit());
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
    std::fill(m.overflow.begin(), m.overflow.begin() + static_cast<ptrdiff_t>(rows), 0);
  }
  const int64_t* times = batch.column(time_column).data<int64_t>();
  const Column* filter = filter_ >= 0 ? &batch.column(filter_) : nullptr;
  const Column* value = value_ >= 0 ? &batch.column(value_) : nullptr;
  // Per-key state is scattered over memory. A first pass loads every row's
  // state (plain loads in a tight loop, which the CPU overlaps; measured
  // faster here than prefetch instructions), so that the pass that updates
  // it finds it in cache.
  uint64_t touched = 0;
  for (size_t row = 0; row < rows; ++row) touched += Touch(slots[row], /*contents=*/false);
  for (size_t row = 0; row < rows; ++row) touched += Touch(slots[row], /*contents=*/true);
  touch_sink_ += touched;
  // Which rows enter the window, and their values (strings interned here,
  // in a loop of their own for the same reason).
  enters_.resize(batch.capacity());
  words_.resize(batch.capacity());
  if (IsString() && value != nullptr) {
    // Interning probes a table as scattered as the state: load first.
    uint64_t probed = 0;
    const std::string_view* text = value->data<std::string_view>();
    for (size_t row = 0; row < rows; ++row) {
      if (value->is_valid(row)) probed += strings_->Touch(text[row]);
    }
    touch_sink_ += probed;
  }
  for (size_t row = 0; row < rows; ++row) {
    const bool enters =
        slots[row] != KeyTable::kNoSlot && batch.row_error(row) == 0 &&
        (filter == nullptr || (filter->is_valid(row) && filter->data<uint8_t>()[row] != 0)) &&
        (value == nullptr || value->is_valid(row));
    enters_[row] = enters;
    words_[row] = enters && value != nullptr ? ValueWord(batch, row) : 0;
  }
  if (needs_.distinct) {
    // The (key, value) counts are one more scattered table: load the home
    // entry of each pair that will be added.
    uint64_t probed = 0;
    for (size_t row = 0; row < rows; ++row) {
      if (enters_[row] != 0) probed += pairs_.Touch(slots[row], words_[row]);
    }
    touch_sink_ += probed;
  }
  for (size_t row = 0; row < rows; ++row) {
    const uint32_t slot = slots[row];
    if (slot == KeyTable::kNoSlot || batch.row_error(row) != 0) {
      for (auto& m : members_) m.valid[row] = 0;
      continue;
    }
    const int64_t t = times[row];
    Evict(slot, t);
    const bool enters = enters_[row] != 0;
    const uint64_t word = words_[row];
    for (GroupMember* m : before_) Emit(*m, batch, row, slot, t);
    if (enters) Enter(slot, t, word);
    for (GroupMember* m : after_) Emit(*m, batch, row, slot, t);
    if (enters && value != nullptr) ReleaseWord(word);  // ValueWord's reference
  }
}

void WindowGroup::Reset(uint32_t slot) {
  if (slot >= slots_) return;
  if (needs_.ring) {
    RingRef& r = ring_[slot];
    while (r.size > 0) {
      const uint64_t* rec = ring_pool_.Front(r);
      Leave(slot, static_cast<int64_t>(rec[0]), rec[1]);
      ring_pool_.PopFront(r);
    }
  }
  if (needs_.min) min_pool_.Release(min_q_[slot]);
  if (needs_.max) max_pool_.Release(max_q_[slot]);
  if (needs_.sketch) sliding_[slot] = SlidingSketch();
  SLUICE_CHECK(!needs_.count);  // unbounded windows never evict their keys
  if (needs_.last) {
    if (has_last_[slot] != 0) ReleaseWord(last_[slot * 2]);
    has_last_[slot] = 0;
    last_[slot * 2] = last_[slot * 2 + 1] = 0;
  }
}

void WindowGroup::Save(StateWriter& w) const {
  w.Put<uint64_t>(slots_);
  w.PutVector(ring_);
  w.PutVector(min_q_);
  w.PutVector(max_q_);
  w.PutVector(count_);
  w.PutVector(sum_);
  w.PutVector(isum_);
  w.PutVector(welford_);
  w.PutVector(first_);
  w.PutVector(last_);
  w.PutVector(has_last_);
  w.PutVector(distinct_);
  w.PutVector(decay_);
  // Time windows write their sliding sketches in the place of the unbounded
  // ones (which they never have), so that images without them are unchanged.
  if (window_ns_ < 0) {
    w.Put<uint64_t>(sketch_.size());
    for (const auto& sk : sketch_) sk.Save(w);
  } else {
    w.Put<uint64_t>(sliding_.size());
    for (const auto& sk : sliding_) sk.Save(w);
  }
  pairs_.Save(w);
  ring_pool_.Save(w);
  min_pool_.Save(w);
  max_pool_.Save(w);
}

bool WindowGroup::Load(StateReader& r) {
  uint64_t slots = 0;
  if (!r.Get(&slots) || !r.GetVector(&ring_) || !r.GetVector(&min_q_) || !r.GetVector(&max_q_) ||
      !r.GetVector(&count_) || !r.GetVector(&sum_) || !r.GetVector(&isum_) ||
      !r.GetVector(&welford_) || !r.GetVector(&first_) || !r.GetVector(&last_) ||
      !r.GetVector(&has_last_) || !r.GetVector(&distinct_) || !r.GetVector(&decay_) ||
      !LoadSketches(r) || !pairs_.Load(r) || !ring_pool_.Load(r) || !min_pool_.Load(r) ||
      !max_pool_.Load(r)) {
    return false;
  }
  slots_ = slots;
  auto sized = [&](size_t n, bool needed, size_t per_slot) {
    return n == (needed ? slots * per_slot : 0);
  };
  if (!sized(ring_.size(), needs_.ring, 1) || !sized(min_q_.size(), needs_.min, 1) ||
      !sized(max_q_.size(), needs_.max, 1) || !sized(count_.size(), needs_.count, 1) ||
      !sized(sum_.size(), needs_.sum && !int_sum_, 2) ||
      !sized(isum_.size(), needs_.sum && int_sum_, 1) ||
      !sized(welford_.size(), needs_.welford, 3) || !sized(first_.size(), needs_.first, 2) ||
      !sized(last_.size(), needs_.last, 2) || !sized(has_last_.size(), needs_.last, 1) ||
      !sized(distinct_.size(), needs_.distinct, 1) || !sized(decay_.size(), needs_.decay, 5) ||
      !sized(sketch_.size(), needs_.sketch && window_ns_ < 0, 1) ||
      !sized(sliding_.size(), needs_.sketch && window_ns_ >= 0, 1)) {
    return false;
  }
  for (const RingRef& q : ring_) {
    if (!ring_pool_.Valid(q)) return false;
  }
  for (const RingRef& q : min_q_) {
    if (!min_pool_.Valid(q)) return false;
  }
  for (const RingRef& q : max_q_) {
    if (!max_pool_.Valid(q)) return false;
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

bool WindowGroup::StringsValid() const {
  if (!IsString()) return true;
  auto ok = [this](uint64_t word) { return strings_->Valid(static_cast<uint32_t>(word)); };
  for (const RingRef& q : ring_) {
    for (uint32_t i = 0; i < q.size; ++i) {
      if (!ok(ring_pool_.At(q, i)[1])) return false;
    }
  }
  for (size_t slot = 0; slot < slots_; ++slot) {
    if (needs_.last && has_last_[slot] != 0 && !ok(last_[slot * 2])) return false;
    if (needs_.first && count_[slot] > 0 && !ok(first_[slot * 2])) return false;
  }
  return pairs_.AllValues(ok);
}

size_t WindowGroup::events_held() const {
  size_t n = 0;
  for (const auto& r : ring_) n += r.size;
  return n;
}

size_t WindowGroup::window_bytes() const {
  return ring_pool_.bytes_reserved() + min_pool_.bytes_reserved() + max_pool_.bytes_reserved() +
         pairs_.bytes_reserved() + SlidingSketchBytes();
}

size_t WindowGroup::bytes_reserved() const {
  return ring_pool_.bytes_reserved() + min_pool_.bytes_reserved() + max_pool_.bytes_reserved() +
         ring_.capacity() * sizeof(RingRef) + min_q_.capacity() * sizeof(RingRef) +
         max_q_.capacity() * sizeof(RingRef) + count_.capacity() * sizeof(int64_t) +
         sum_.capacity() * sizeof(double) + isum_.capacity() * sizeof(Int128) +
         welford_.capacity() * sizeof(double) + first_.capacity() * sizeof(uint64_t) +
         last_.capacity() * sizeof(uint64_t) + has_last_.capacity() +
         distinct_.capacity() * sizeof(uint32_t) + pairs_.bytes_reserved() +
         decay_.capacity() * sizeof(double) + SketchBytes();
}

}  // namespace sluice::features::internal
