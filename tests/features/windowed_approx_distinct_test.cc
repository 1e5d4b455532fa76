// approx_count_distinct over time windows (SlidingSketch): exact and equal
// to count_distinct while a window holds up to 64 distinct values; within
// the HyperLogLog's error of the true count beyond; values that leave the
// window stop counting; the sketch holds no events, its memory stays within
// the documented bound and goes with its key; checkpoints restore it
// exactly; corrupt images are refused without a crash (run under ASan/UBSan).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <unordered_map>

#include "features/internal/sliding_sketch.h"
#include "pipeline/spec.h"
#include "runtime/engine.h"

namespace sluice {
namespace {

using features::internal::SlidingSketch;

constexpr int64_t kMinute = 60'000;  // ms
constexpr int64_t kNull = -1;        // a null v

std::shared_ptr<const runtime::Engine> Build(const std::string& features) {
  const std::string yaml = R"(pipeline: sliding
source:
  schema:
    ts: {type: timestamp, event_time: true, format: epoch_ms}
    k: int64
    g: int64
    v: {type: int64, nullable: true}
    s: {type: string, nullable: true}
features:
)" + features;
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(yaml, "p.yaml", &diags);
  EXPECT_TRUE(spec.ok()) << FormatDiagnostics(diags);
  if (!spec.ok()) return nullptr;
  auto engine = runtime::Engine::Compile(std::move(spec).value(), &diags);
  EXPECT_TRUE(engine) << FormatDiagnostics(diags);
  return engine;
}

struct Event {
  int64_t t;  // ms
  int64_t k;
  int64_t g;
  int64_t v;  // kNull: null (s too)
};

// Every feature's value per row, by feature name (kNull for null).
using Results = std::map<std::string, std::vector<int64_t>>;

Results Feed(const runtime::Engine& engine, features::FeatureState* state,
             const std::vector<Event>& events) {
  Results out;
  Batch batch(engine.layout(), 512);
  const auto& f = engine.source_fields();
  const int first_feature = static_cast<int>(f.size());
  for (size_t start = 0; start < events.size(); start += 512) {
    batch.Clear();
    for (size_t i = start; i < std::min(events.size(), start + 512); ++i) {
      const Event& e = events[i];
      const size_t r = batch.AppendRow();
      auto put = [&](int field, int64_t x) {
        batch.column(f[field].column).valid()[r] = x != kNull;
        batch.column(f[field].column).data<int64_t>()[r] = x;
      };
      put(0, e.t * 1'000'000);  // the column holds nanoseconds
      put(1, e.k);
      put(2, e.g);
      put(3, e.v);
      const std::string s = "s" + std::to_string(e.v);
      batch.column(f[4].column).valid()[r] = e.v != kNull;
      batch.column(f[4].column).data<std::string_view>()[r] = batch.arena().Copy(s);
    }
    engine.Process(batch, state);
    for (int c = first_feature; c < static_cast<int>(engine.layout().size()); ++c) {
      const std::string& name = engine.layout().column(c).name;
      if (name[0] == '$') continue;
      auto& col = out[name];
      for (size_t r = 0; r < batch.size(); ++r) {
        col.push_back(batch.column(c).is_valid(r) ? batch.column(c).data<int64_t>()[r] : kNull);
      }
    }
  }
  return out;
}

Results RunPipeline(const std::string& features, const std::vector<Event>& events) {
  auto engine = Build(features);
  if (!engine) return {};
  auto state = engine->NewFeatureState();
  return Feed(*engine, state.get(), events);
}

// The true number of distinct non-null v of the event's key in (t - window, t],
// the event included: a reference computed here, independent of the engine.
std::vector<int64_t> TrueDistinct(const std::vector<Event>& events, int64_t window) {
  struct KeyWindow {
    std::deque<std::pair<int64_t, int64_t>> held;  // (t, v)
    std::unordered_map<int64_t, int> counts;
  };
  std::unordered_map<int64_t, KeyWindow> keys;
  std::vector<int64_t> out;
  for (const Event& e : events) {
    KeyWindow& w = keys[e.k];
    while (!w.held.empty() && w.held.front().first <= e.t - window) {
      if (--w.counts[w.held.front().second] == 0) w.counts.erase(w.held.front().second);
      w.held.pop_front();
    }
    if (e.v != kNull) {
      w.held.emplace_back(e.t, e.v);
      ++w.counts[e.v];
    }
    out.push_back(static_cast<int64_t>(w.counts.size()));
  }
  return out;
}

constexpr double kStandardError = 1.04 / 32;   // 1.04 / sqrt(1024)
constexpr double kBound = 4 * kStandardError;  // every estimate within 13%

TEST(WindowedApproxCountDistinct, ExactPhaseEqualsCountDistinct) {
  // At most 60 distinct values: the sketches stay exact.
  std::mt19937_64 rng(11);
  std::vector<Event> events;
  int64_t t = 1'700'000'000'000;
  for (int i = 0; i < 6000; ++i) {
    const uint64_t r = rng() % 100;
    if (r >= 20) t += static_cast<int64_t>(rng() % 400);  // equal times too
    if (r == 99) t += 120 * kMinute;                      // gaps: windows empty
    events.push_back({t, static_cast<int64_t>(rng() % 5), static_cast<int64_t>(rng() % 3),
                      rng() % 10 == 0 ? kNull : static_cast<int64_t>(rng() % 60)});
  }
  const std::vector<std::pair<std::string, std::string>> clauses = {
      {"(v)", "over 1s by k"},
      {"(s)", "over 1m by (k, g) where v > 10 exclude current"},
      {"(v)", "over 1h by k exclude current"},
      {"(v)", "over 1y by g where g != 1"},
      {"(s)", "over 30s"},
  };
  std::string features;
  for (size_t i = 0; i < clauses.size(); ++i) {
    const auto& [arg, clause] = clauses[i];
    features += "  a" + std::to_string(i) + ": approx_count_distinct" + arg + " " + clause + "\n";
    features += "  c" + std::to_string(i) + ": count_distinct" + arg + " " + clause + "\n";
  }
  const Results got = RunPipeline(features, events);
  for (size_t i = 0; i < clauses.size(); ++i) {
    SCOPED_TRACE(clauses[i].second);
    const auto& a = got.at("a" + std::to_string(i));
    const auto& c = got.at("c" + std::to_string(i));
    ASSERT_EQ(a.size(), events.size());
    for (size_t row = 0; row < a.size(); ++row) {
      ASSERT_EQ(a[row], c[row]) << "row " << row;
    }
  }
}

TEST(WindowedApproxCountDistinct, WithinTheSketchErrorOfTheTrueCount) {
  // Four keys with about 1,500 to 6,000 events an hour each, values drawn
  // from ranges that make most of them distinct; four hours.
  std::mt19937_64 rng(5);
  std::vector<Event> events;
  int64_t t = 1'700'000'000'000;
  for (int i = 0; i < 60000; ++i) {
    t += static_cast<int64_t>(rng() % 480);
    const uint64_t p = rng() % 10;
    const int64_t k = p < 1 ? 0 : p < 3 ? 1 : p < 6 ? 2 : 3;
    events.push_back({t, k, static_cast<int64_t>(rng() % 4),
                      static_cast<int64_t>(rng() % static_cast<uint64_t>(20000 * (k + 1)))});
  }
  const Results got = RunPipeline(
      "  a: approx_count_distinct(v) over 1h by k\n"
      "  c: count_distinct(v) over 1h by k\n"
      "  as: approx_count_distinct(s) over 10m by k where g = 0 exclude current\n"
      "  cs: count_distinct(s) over 10m by k where g = 0 exclude current\n",
      events);
  const std::vector<int64_t> truth = TrueDistinct(events, 60 * kMinute);
  struct Figures {
    double sq = 0, worst = 0;
    size_t n = 0;
    int64_t largest = 0;
  };
  auto check = [&](const std::vector<int64_t>& est, const std::vector<int64_t>& want,
                   const char* what, int64_t reach) {
    Figures fig;
    for (size_t row = 0; row < want.size(); ++row) {
      if (want[row] <= 64) {
        // The window may still hold pairs of a larger past: then approximate.
        EXPECT_LE(std::abs(est[row] - want[row]), 2 + want[row] / 8) << what << " row " << row;
        continue;
      }
      const double rel = static_cast<double>(est[row] - want[row]) / static_cast<double>(want[row]);
      ASSERT_LT(std::fabs(rel), kBound)
          << what << " row " << row << ": " << est[row] << " for " << want[row];
      fig.sq += rel * rel;
      fig.worst = std::max(fig.worst, std::fabs(rel));
      fig.largest = std::max(fig.largest, want[row]);
      ++fig.n;
    }
    const double rms = std::sqrt(fig.sq / static_cast<double>(fig.n));
    std::printf(
        "%s: %zu estimates of 65 to %lld distinct values: rms relative error %.4f, "
        "largest %.4f\n",
        what, fig.n, static_cast<long long>(fig.largest), rms, fig.worst);
    // Consistent with 1.04/sqrt(1024) (the estimates of one key are correlated
    // over time, so allow for the few independent windows there are).
    EXPECT_LT(rms, 1.5 * kStandardError) << what;
    EXPECT_GT(rms, 0.2 * kStandardError) << what;
    EXPECT_GT(fig.largest, reach) << what;  // the test reached large counts
  };
  ASSERT_EQ(got.at("c"), truth);  // the reference agrees with count_distinct
  check(got.at("a"), truth, "over 1h", 5000);
  check(got.at("as"), got.at("cs"), "over 10m where, exclude current", 200);
}

TEST(WindowedApproxCountDistinct, ValuesThatLeaveTheWindowStopCounting) {
  // A burst of 5,000 distinct values spread over 10 minutes, then one value
  // every 5 seconds for 30 minutes: the estimate falls with the exact count
  // and is exact again once the burst has left.
  std::vector<Event> events;
  const int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < 5000; ++i) events.push_back({t0 + i * 120, 1, 0, 1'000'000 + i});
  const int64_t quiet = t0 + 5000 * 120;
  for (int i = 0; i < 360; ++i) events.push_back({quiet + i * 5000, 1, 0, i % 3});
  const Results got = RunPipeline(
      "  a: approx_count_distinct(v) over 10m by k\n"
      "  c: count_distinct(v) over 10m by k\n",
      events);
  const auto& a = got.at("a");
  const auto& c = got.at("c");
  EXPECT_EQ(TrueDistinct(events, 10 * kMinute), c);
  for (size_t row = 0; row < events.size(); ++row) {
    if (c[row] > 64) {
      EXPECT_LT(std::fabs(static_cast<double>(a[row] - c[row]) / static_cast<double>(c[row])),
                kBound)
          << "row " << row << ": " << a[row] << " for " << c[row];
    } else if (events[row].t - 10 * kMinute >= t0 + 4999 * 120) {
      EXPECT_EQ(a[row], c[row]) << "row " << row << ": the burst has left";
    } else {
      EXPECT_LE(std::abs(a[row] - c[row]), 2 + c[row] / 8) << "row " << row;
    }
  }
  EXPECT_GT(a[4999], 4500);
  EXPECT_EQ(a.back(), 3);
}

TEST(WindowedApproxCountDistinct, EvictingAKeyChangesNoResult) {
  // Keys go quiet for longer than the window and come back. With the count
  // over a year, the same keys are never evicted: every estimate agrees.
  std::mt19937_64 rng(8);
  std::vector<Event> events;
  int64_t t = 1'700'000'000'000;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 6000; ++i) {
      t += static_cast<int64_t>(rng() % 20);
      events.push_back({t, static_cast<int64_t>(rng() % 3), 0, static_cast<int64_t>(rng())});
    }
    for (int i = 0; i < 5000; ++i) {  // other keys, long after: sweeps evict the first
      t += 1000;
      events.push_back({t, 100 + static_cast<int64_t>(rng() % 5), 0, 7});
    }
  }
  const std::string acd = "  a: approx_count_distinct(v) over 1m by k\n";
  auto engine = Build(acd);
  ASSERT_TRUE(engine);
  auto state = engine->NewFeatureState();
  const Results evicting = Feed(*engine, state.get(), events);
  EXPECT_GT(state->Stats().evicted_keys, 5u);
  const Results kept = RunPipeline(acd + "  n: count() over 1y by k\n", events);
  EXPECT_EQ(evicting.at("a"), kept.at("a"));
}

TEST(WindowedApproxCountDistinct, HoldsNoEventsAndItsMemoryGoesWithItsKey) {
  auto engine = Build("  a: approx_count_distinct(v) over 1m by k\n");
  ASSERT_TRUE(engine);
  auto state = engine->NewFeatureState();
  // 20 keys with 1,000 distinct values each in 20 seconds: dense sketches.
  std::vector<Event> events;
  const int64_t t0 = 1'700'000'000'000;
  for (int i = 0; i < 20000; ++i) events.push_back({t0 + i, i % 20, 0, i});
  Feed(*engine, state.get(), events);
  const features::FeatureStats busy = state->Stats();
  EXPECT_EQ(busy.live_keys, 20u);
  EXPECT_EQ(busy.events_held, 0u);
  // Per key: the dense phase's fixed part and 16 bytes per pair; 1,000
  // values in 1,024 registers leave about one pair per register.
  EXPECT_GT(busy.window_bytes, 20 * 6000u);
  EXPECT_LT(busy.window_bytes, 20 * (6400u + 16 * 2048u));
  EXPECT_GE(busy.state_bytes, busy.window_bytes);
  // Two minutes later, 5,000 events of another key: a sweep evicts the 20.
  events.clear();
  for (int i = 0; i < 5000; ++i) events.push_back({t0 + 2 * kMinute + i, 99, 0, 5});
  Feed(*engine, state.get(), events);
  const features::FeatureStats quiet = state->Stats();
  EXPECT_EQ(quiet.live_keys, 1u);
  EXPECT_EQ(quiet.evicted_keys, 20u);
  EXPECT_LT(quiet.window_bytes, busy.window_bytes / 100);
  EXPECT_LT(quiet.state_bytes, busy.state_bytes - 20 * 6000u);
}

// A hash that updates register `reg` with rank `rank`.
uint64_t HashFor(size_t reg, int rank) {
  const uint64_t high = uint64_t{reg} << (64 - 10);
  return rank == SlidingSketch::kMaxRank ? high : high | (uint64_t{1} << (54 - rank));
}

TEST(SlidingSketch, WorstCaseMemoryIsFiftyFivePairsPerRegister) {
  SlidingSketch sk;
  // Falling ranks over time: every pair stays a possible future maximum.
  int64_t t = 0;
  for (int rank = SlidingSketch::kMaxRank; rank >= 1; --rank) {
    for (size_t reg = 0; reg < SlidingSketch::kRegisters; ++reg) sk.Add(HashFor(reg, rank), ++t);
  }
  EXPECT_EQ(sk.pairs(), SlidingSketch::kRegisters * SlidingSketch::kMaxRank);
  const size_t documented = 6400 + 1024 * 55 * 16;  // docs/windows.md: 887 KiB
  EXPECT_LE(sk.bytes(), documented);
  std::printf("worst case: %zu pairs, %zu bytes\n", sk.pairs(), sk.bytes());
  // A repeated top-rank value per register replaces its 55 pairs with one.
  for (size_t reg = 0; reg < SlidingSketch::kRegisters; ++reg) {
    sk.Add(HashFor(reg, SlidingSketch::kMaxRank), ++t);
  }
  EXPECT_EQ(sk.pairs(), SlidingSketch::kRegisters);
  // Everything leaves: back to an empty exact phase, no memory.
  sk.Expire(t);
  EXPECT_FALSE(sk.dense());
  EXPECT_EQ(sk.Estimate(), 0);
  EXPECT_EQ(sk.bytes(), 0u);
}

TEST(SlidingSketch, PairsPerRegisterGrowLikeTheLogarithmOfTheCount) {
  std::mt19937_64 rng(2);
  for (int n : {2000, 20000, 200000}) {
    SlidingSketch sk;
    for (int i = 0; i < n; ++i) sk.Add(rng(), i);
    const double per_register =
        static_cast<double>(sk.pairs()) / static_cast<double>(SlidingSketch::kRegisters);
    std::printf("%d distinct values: %.2f pairs per register, %zu bytes\n", n, per_register,
                sk.bytes());
    EXPECT_LT(per_register, std::log(n / 1024.0) + 2.5) << n;
    EXPECT_LT(std::fabs(static_cast<double>(sk.Estimate() - n) / n), kBound) << n;
  }
}

TEST(SlidingSketch, ImageRoundTripAndCorruptImagesRefused) {
  std::mt19937_64 rng(4);
  SlidingSketch dense, exact;
  for (int i = 0; i < 3000; ++i) dense.Add(rng(), i / 3);
  for (int i = 0; i < 40; ++i) exact.Add(rng() % 30, i);
  for (SlidingSketch* sk : {&dense, &exact}) {
    StateWriter w;
    sk->Save(w);
    SlidingSketch back;
    StateReader r(w.bytes());
    ASSERT_TRUE(back.Load(r));
    EXPECT_TRUE(r.at_end());
    StateWriter again;
    back.Save(again);
    EXPECT_EQ(again.bytes(), w.bytes());
    EXPECT_EQ(back.Estimate(), sk->Estimate());
    back.Expire(500);
    sk->Expire(500);
    EXPECT_EQ(back.Estimate(), sk->Estimate());
    // Every truncation fails.
    for (size_t len = 0; len < w.bytes().size(); len += 1 + len / 32) {
      SlidingSketch cut;
      StateReader rc(std::string_view(w.bytes()).substr(0, len));
      EXPECT_FALSE(cut.Load(rc)) << len;
    }
  }
  auto refused = [](const std::string& image) {
    SlidingSketch sk;
    StateReader r(image);
    return !sk.Load(r);
  };
  auto exact_image = [](const std::vector<uint64_t>& words) {
    StateWriter w;
    w.Put<uint8_t>(0);
    w.PutVector(words);
    return w.bytes();
  };
  EXPECT_FALSE(refused(exact_image({5, 1, 6, 2})));
  EXPECT_TRUE(refused(exact_image({5, 1, 6})));                      // odd
  EXPECT_TRUE(refused(exact_image({5, 2, 6, 1})));                   // time falls
  EXPECT_TRUE(refused(exact_image({5, 1, 5, 2})));                   // repeated hash
  EXPECT_TRUE(refused(exact_image(std::vector<uint64_t>(130, 0))));  // over 64 values
  EXPECT_TRUE(refused(std::string(1, '\x02')));                      // no such phase
  // Dense images: per register a count, then (time, rank) pairs.
  auto dense_image = [](const std::vector<std::pair<int64_t, uint8_t>>& first) {
    StateWriter w;
    w.Put<uint8_t>(1);
    w.Put(static_cast<uint8_t>(first.size()));
    for (const auto& [time, rank] : first) {
      w.Put(time);
      w.Put(rank);
    }
    for (size_t reg = 1; reg < SlidingSketch::kRegisters; ++reg) w.Put<uint8_t>(0);
    return w.bytes();
  };
  EXPECT_FALSE(refused(dense_image({{1, 9}, {2, 3}})));
  EXPECT_TRUE(refused(dense_image({})));                // dense but empty
  EXPECT_TRUE(refused(dense_image({{1, 3}, {2, 9}})));  // rank grows
  EXPECT_TRUE(refused(dense_image({{1, 3}, {2, 3}})));  // rank repeats
  EXPECT_TRUE(refused(dense_image({{2, 9}, {1, 3}})));  // time falls
  EXPECT_TRUE(refused(dense_image({{1, 0}})));          // rank 0
  EXPECT_TRUE(refused(dense_image({{1, 56}})));         // rank above 55
  std::vector<std::pair<int64_t, uint8_t>> long_list;
  for (int i = 0; i < 56; ++i) long_list.emplace_back(i, static_cast<uint8_t>(56 - i));
  EXPECT_TRUE(refused(dense_image(long_list)));  // 56 pairs (and a rank 56)
}

// The engine-level image: a restored state computes what the original would.
TEST(WindowedApproxCountDistinct, RestoredStateComputesWhatTheOriginalWould) {
  const std::string features =
      "  a: approx_count_distinct(v) over 10m by k where g != 0\n"
      "  b: approx_count_distinct(s) over 1h by (k, g) exclude current\n"
      "  c: approx_count_distinct(v) by k\n";
  auto engine = Build(features);
  ASSERT_TRUE(engine);
  std::mt19937_64 rng(6);
  auto make = [&rng](int64_t from, int n) {
    std::vector<Event> ev;
    for (int i = 0; i < n; ++i) {
      const int64_t k = static_cast<int64_t>(rng() % 6);
      // Keys 0 and 1 see many values (dense), the others few (exact).
      const int64_t v =
          k < 2 ? static_cast<int64_t>(rng() % 100000) : static_cast<int64_t>(rng() % 20);
      ev.push_back({from + i * 50, k, static_cast<int64_t>(rng() % 3), rng() % 9 ? v : kNull});
    }
    return ev;
  };
  const std::vector<Event> first = make(1'700'000'000'000, 30000);
  const std::vector<Event> second = make(1'700'000'000'000 + 30000 * 50, 20000);
  auto original = engine->NewFeatureState();
  Feed(*engine, original.get(), first);
  const std::string image = original->Save();
  auto restored = engine->NewFeatureState();
  const Status loaded = restored->Load(image);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  EXPECT_EQ(restored->Save(), image);
  EXPECT_EQ(Feed(*engine, restored.get(), second), Feed(*engine, original.get(), second));

  for (size_t len = 0; len < image.size(); len += 1 + len / 16) {
    auto fresh = engine->NewFeatureState();
    const Status s = fresh->Load(std::string_view(image).substr(0, len));
    ASSERT_FALSE(s.ok()) << "a " << len << "-byte prefix of a " << image.size()
                         << "-byte image loaded";
  }
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bad = image;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    auto fresh = engine->NewFeatureState();
    const Status s = fresh->Load(bad);  // refused or loaded: either way, no crash
    if (!s.ok()) {
      ++refused;
      const bool clear = s.message().find("feature-state image") != std::string::npos ||
                         s.message().find("windowed features differ") != std::string::npos;
      EXPECT_TRUE(clear) << s.message();
    }
  }
  EXPECT_GT(refused, 30);
}

}  // namespace
}  // namespace sluice
