// The layout of per-key state: count_distinct over time windows counts by
// scanning a key's short window and moves the key to the (key, value) pair
// table when its window grows, and back when the window empties; checkpoints
// taken in either mode restore exactly. Also the containers under the state:
// KeyRecords (one record per key for every window group) and MappedArray
// (growth without copies, zeroed growth).

#include <gtest/gtest.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <array>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "features/internal/key_records.h"
#include "features/internal/mapped_array.h"
#include "pipeline/spec.h"
#include "runtime/engine.h"

namespace sluice {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kWindow = 40'000 * kMs;

const char* kPipeline = R"(pipeline: distinct_modes
source:
  schema:
    ts: {type: timestamp, event_time: true, format: epoch_ms}
    k: string
    s: {type: string, nullable: true}
    y: int64
features:
  cds: count_distinct(s) over 40s by k
  cdy: count_distinct(y) over 40s by k exclude current
  c: count() over 40s by k
)";

struct Event {
  int64_t t;
  std::string k;
  std::optional<std::string> s;
  int64_t y;
};

// Keys that alternate between bursts (an event every 50-250 ms for 20 s:
// far more than 32 events in the window, so the pair table) and quiet
// spells (a few events, or none for longer than the window, which empties
// it and brings the key back to scanning). Values repeat, so that a value
// leaving the window may or may not be the last of its kind.
std::vector<Event> Stream(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  std::vector<Event> ev;
  int64_t t = 1'700'000'000'000 * kMs;
  int phase = 0;
  for (int i = 0; i < n; ++i) {
    if (i % 400 == 0) phase = static_cast<int>(rng() % 3);
    if (phase == 0) {
      t += static_cast<int64_t>(50 + rng() % 200) * kMs;  // a burst
    } else if (phase == 1) {
      t += static_cast<int64_t>(2'000 + rng() % 8'000) * kMs;  // quiet
    } else {
      t += static_cast<int64_t>(rng() % 3 == 0 ? 45'000 : 500) * kMs;  // gaps over the window
    }
    Event e;
    e.t = t;
    e.k = "k" + std::to_string(phase == 0 ? rng() % 2 : rng() % 4);
    if (rng() % 9 != 0) e.s = "m" + std::to_string(rng() % (phase == 0 ? 40 : 6));
    e.y = static_cast<int64_t>(rng() % 25);
    ev.push_back(std::move(e));
  }
  return ev;
}

// count_distinct by brute force, as docs/windows.md defines the windows.
std::vector<std::array<int64_t, 3>> Reference(const std::vector<Event>& ev) {
  std::vector<std::array<int64_t, 3>> out;
  for (size_t i = 0; i < ev.size(); ++i) {
    std::set<std::string> s;
    std::set<int64_t> y;
    int64_t c = 0;
    for (size_t j = 0; j <= i; ++j) {
      if (ev[j].k != ev[i].k || ev[j].t <= ev[i].t - kWindow) continue;
      ++c;
      if (ev[j].s) s.insert(*ev[j].s);
      if (j < i) y.insert(ev[j].y);
    }
    out.push_back({static_cast<int64_t>(s.size()), static_cast<int64_t>(y.size()), c});
  }
  return out;
}

std::shared_ptr<const runtime::Engine> Build() {
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(kPipeline, "p.yaml", &diags);
  if (!spec.ok()) return nullptr;
  return runtime::Engine::Compile(std::move(spec).value(), &diags);
}

// Runs events [begin, end) through `state` in batches of `batch_size`.
std::vector<std::array<int64_t, 3>> Feed(const runtime::Engine& engine,
                                         features::FeatureState* state,
                                         const std::vector<Event>& ev, size_t begin, size_t end,
                                         size_t batch_size) {
  const auto& f = engine.source_fields();
  auto column = [&](const char* name) {
    for (size_t c = 0; c < engine.layout().size(); ++c) {
      if (engine.layout().column(static_cast<int>(c)).name == name) return static_cast<int>(c);
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  };
  const int cds = column("cds"), cdy = column("cdy"), c = column("c");
  Batch batch(engine.layout(), batch_size);
  std::vector<std::array<int64_t, 3>> out;
  for (size_t start = begin; start < end; start += batch_size) {
    batch.Clear();
    for (size_t i = start; i < std::min(end, start + batch_size); ++i) {
      const size_t r = batch.AppendRow();
      batch.column(f[0].column).valid()[r] = 1;
      batch.column(f[0].column).data<int64_t>()[r] = ev[i].t;
      batch.column(f[1].column).valid()[r] = 1;
      batch.column(f[1].column).data<std::string_view>()[r] = batch.arena().Copy(ev[i].k);
      batch.column(f[2].column).valid()[r] = ev[i].s.has_value();
      batch.column(f[2].column).data<std::string_view>()[r] =
          batch.arena().Copy(ev[i].s.value_or(""));
      batch.column(f[3].column).valid()[r] = 1;
      batch.column(f[3].column).data<int64_t>()[r] = ev[i].y;
    }
    engine.Process(batch, state);
    for (size_t r = 0; r < batch.size(); ++r) {
      out.push_back({batch.column(cds).data<int64_t>()[r], batch.column(cdy).data<int64_t>()[r],
                     batch.column(c).data<int64_t>()[r]});
    }
  }
  return out;
}

TEST(DistinctModes, ScanningAndPairTableCountTheSameAsBruteForce) {
  auto engine = Build();
  ASSERT_TRUE(engine);
  const auto ev = Stream(3, 4000);
  const auto want = Reference(ev);
  int64_t widest = 0;
  for (const auto& w : want) widest = std::max(widest, w[2]);
  ASSERT_GT(widest, 64) << "the stream must fill some windows far beyond the scan limit";
  for (size_t batch_size : {size_t{1}, size_t{100}, size_t{1024}}) {
    SCOPED_TRACE("batch size " + std::to_string(batch_size));
    auto state = engine->NewFeatureState();
    const auto got = Feed(*engine, state.get(), ev, 0, ev.size(), batch_size);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "event " << i << " (key " << ev[i].k << ")";
    }
  }
}

TEST(DistinctModes, CheckpointsInEitherModeRestoreExactly) {
  auto engine = Build();
  ASSERT_TRUE(engine);
  const auto ev = Stream(5, 3000);
  auto whole = engine->NewFeatureState();
  const auto want = Feed(*engine, whole.get(), ev, 0, ev.size(), 64);
  // Cut inside bursts (pair tables in use) and inside quiet spells.
  for (size_t cut : {size_t{150}, size_t{390}, size_t{700}, size_t{1210}, size_t{2000}}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    auto first = engine->NewFeatureState();
    auto got = Feed(*engine, first.get(), ev, 0, cut, 64);
    const std::string image = first->Save();
    auto restored = engine->NewFeatureState();
    ASSERT_TRUE(restored->Load(image).ok());
    // The image keeps one format whatever mode each key is in.
    EXPECT_EQ(restored->Save(), image);
    const auto rest = Feed(*engine, restored.get(), ev, cut, ev.size(), 64);
    got.insert(got.end(), rest.begin(), rest.end());
    ASSERT_EQ(got, want);
  }
}

TEST(KeyRecords, FieldsArePlacedByAlignmentAndNewRecordsAreZero) {
  features::internal::KeyRecords records;
  const uint32_t byte = records.Declare(1, 1);
  const uint32_t wide = records.Declare(16, 8);
  const uint32_t word = records.Declare(4, 4);
  records.Finish();
  EXPECT_EQ(records.offset(wide), 0u);
  EXPECT_EQ(records.offset(word), 16u);
  EXPECT_EQ(records.offset(byte), 20u);
  EXPECT_EQ(records.stride(), 24u);
  records.EnsureSlots(10);
  ASSERT_GE(records.slots(), 10u);
  *reinterpret_cast<uint32_t*>(records.record(3) + records.offset(word)) = 77;
  const size_t before = records.slots();
  records.EnsureSlots(before + 100'000);  // moves to a mapping
  EXPECT_EQ(*reinterpret_cast<uint32_t*>(records.record(3) + records.offset(word)), 77u);
  for (uint32_t slot = static_cast<uint32_t>(before); slot < records.slots(); slot += 997) {
    for (size_t b = 0; b < records.stride(); ++b) {
      ASSERT_EQ(static_cast<int>(records.record(slot)[b]), 0) << "slot " << slot;
    }
  }
  records.Clear(3);
  EXPECT_EQ(*reinterpret_cast<uint32_t*>(records.record(3) + records.offset(word)), 0u);
  EXPECT_EQ(records.bytes_reserved(), records.slots() * records.stride());
}

TEST(MappedArray, GrowsWithoutLosingContentsAndZeroesWhatItAdds) {
  features::internal::MappedArray<uint64_t> a;
  EXPECT_TRUE(a.empty());
  // From the heap to a mapping and through several remappings.
  for (size_t n : {size_t{10}, size_t{5'000}, size_t{40'000}, size_t{300'000}, size_t{2'000'000}}) {
    const size_t old = a.size();
    a.resize(n);
    ASSERT_EQ(a.size(), n);
    for (size_t i = 0; i < old; ++i) ASSERT_EQ(a[i], i * 3 + 1) << "at " << i << " of " << n;
    for (size_t i = old; i < n; ++i) {
      ASSERT_EQ(a[i], 0u);
      a[i] = i * 3 + 1;
    }
  }
  // Shrinking then growing again gives zeros, not the old values.
  a.resize(100);
  a.resize(200);
  EXPECT_EQ(a[99], 99u * 3 + 1);
  for (size_t i = 100; i < 200; ++i) ASSERT_EQ(a[i], 0u);
  // reserve() sets the capacity reported in statistics, exactly.
  a.reserve(3'000'000);
  EXPECT_EQ(a.capacity(), 3'000'000u);
  EXPECT_EQ(a[150], 0u);
  features::internal::MappedArray<uint64_t> b = std::move(a);
  EXPECT_EQ(b.size(), 200u);
  EXPECT_EQ(b[7], 22u);
  const uint64_t values[] = {5, 6, 7};
  b.assign(values, 3);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2], 7u);
  b.clear();
  EXPECT_TRUE(b.empty());
}

#if defined(__linux__)
// Whether the system makes pages present on request (Linux 5.14 and later).
bool SystemPopulatesPages() {
#if defined(MADV_POPULATE_WRITE)
  const size_t bytes = 4096;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  const bool ok = madvise(p, bytes, MADV_POPULATE_WRITE) == 0;
  munmap(p, bytes);
  return ok;
#else
  return false;
#endif
}

// Pages of `p` [begin, end) that are resident.
size_t ResidentPages(const void* p, size_t begin, size_t end) {
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (base + begin) & ~uintptr_t{4095};
  const size_t pages = (base + end - first + 4095) / 4096;
  std::vector<unsigned char> in(pages);
  EXPECT_EQ(mincore(reinterpret_cast<void*>(first), pages * 4096, in.data()), 0);
  size_t n = 0;
  for (unsigned char c : in) n += c & 1;
  return n;
}

TEST(MappedArray, GrowingMakesTheNewPagesPresentInOneGoWhereTheSystemCan) {
  features::internal::MappedArray<uint64_t> a;
  a.reserve(4'000'000);  // 32 MB mapped, none of it written
  a.resize(100'000);     // 800 KB in use, not written either
  const size_t used = 100'000 * sizeof(uint64_t);
  const size_t present = ResidentPages(a.data(), 0, used);
  if (SystemPopulatesPages()) {
    EXPECT_EQ(present, (used + 4095) / 4096);
  } else {
    EXPECT_EQ(present, 0u);  // they fault in as they are written
  }
  // Never far ahead of the size: most of the reserve is still untouched.
  EXPECT_LT(ResidentPages(a.data(), 0, 4'000'000 * sizeof(uint64_t)), 300u);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], 0u);
  // Present pages move with the array and keep what was written.
  a[99'999] = 7;
  a.resize(5'000'000);  // past the reserve: remapped
  EXPECT_EQ(a[99'999], 7u);
  for (size_t i = 100'000; i < 5'000'000; i += 4096) ASSERT_EQ(a[i], 0u);
}
#endif

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// An int64 sum outside int64 is a record error; the record has entered the
// windows of the aggregates computed before the error and of none after.
TEST(IntegerSums, OverflowIsARecordErrorThatKeepsTheRecordOutOfLaterWindows) {
  const char* yaml = R"(pipeline: overflow
source:
  schema:
    ts: {type: timestamp, event_time: true, format: epoch_ms}
    k: string
    y: int64
features:
  s: sum(y) over 10s by k
  c: count() over 10s by k
)";
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(yaml, "p.yaml", &diags);
  ASSERT_TRUE(spec.ok());
  auto engine = runtime::Engine::Compile(std::move(spec).value(), &diags);
  ASSERT_TRUE(engine);
  auto state = engine->NewFeatureState();
  const auto& f = engine->source_fields();
  int s = -1, c = -1;
  for (size_t i = 0; i < engine->layout().size(); ++i) {
    const std::string& name = engine->layout().column(static_cast<int>(i)).name;
    if (name == "s") s = static_cast<int>(i);
    if (name == "c") c = static_cast<int>(i);
  }
  ASSERT_GE(s, 0);
  ASSERT_GE(c, 0);
  constexpr int64_t kHalf = int64_t{1} << 62;
  const int64_t ys[] = {kHalf, kHalf, -kHalf};
  Batch batch(engine->layout(), 8);
  for (int i = 0; i < 3; ++i) {
    const size_t r = batch.AppendRow();
    batch.column(f[0].column).valid()[r] = 1;
    batch.column(f[0].column).data<int64_t>()[r] = int64_t{i} * 1'000'000'000;
    batch.column(f[1].column).valid()[r] = 1;
    batch.column(f[1].column).data<std::string_view>()[r] = "k";
    batch.column(f[2].column).valid()[r] = 1;
    batch.column(f[2].column).data<int64_t>()[r] = ys[i];
  }
  engine->Process(batch, state.get());
  EXPECT_EQ(batch.row_error(0), 0u);
  EXPECT_NE(batch.row_error(1), 0u) << "2^62 + 2^62 is outside int64";
  EXPECT_EQ(batch.row_error(2), 0u);
  EXPECT_EQ(batch.column(s).data<int64_t>()[0], kHalf);
  // The sum counted the failed record (it came before the error)...
  EXPECT_EQ(batch.column(s).data<int64_t>()[2], kHalf);
  // ... count(), computed after it, did not.
  EXPECT_EQ(batch.column(c).data<int64_t>()[0], 1);
  EXPECT_EQ(batch.column(c).data<int64_t>()[2], 2);
}

}  // namespace
}  // namespace sluice
