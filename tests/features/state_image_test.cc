// Feature-state images (checkpoints): a saved state restores into a state
// that computes exactly what the original would have; truncated or altered
// images are refused with an error and never crash (run under ASan/UBSan).

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "pipeline/spec.h"
#include "runtime/engine.h"

namespace sluice {
namespace {

const char* kPipeline = R"(pipeline: image
source:
  schema:
    ts: {type: timestamp, event_time: true, format: epoch_ms}
    k: string
    s: {type: string, nullable: true}
    x: {type: float64, nullable: true}
    y: int64
features:
  c: count() over 10s by k
  sx: sum(x) over 10s by k
  sy: sum(y) over 1m by k
  vx: variance(x) over 10s by k
  mx: max(x) over 10s by k
  mn: min(y) by k
  cd: count_distinct(s) over 30s by k
  ad: approx_count_distinct(s) by k
  ls: last(s) over 10s by k
  fs: first(s) by k
  ps: previous(s) by (k, s)
  ds: decayed_sum(x, 5s) over 1m by k
  tsl: time_since_last() over 10s by k
)";

std::shared_ptr<const runtime::Engine> Build() {
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(kPipeline, "p.yaml", &diags);
  if (!spec.ok()) return nullptr;
  return runtime::Engine::Compile(std::move(spec).value(), &diags);
}

// Runs `n` seeded events starting at `first` through `state`; returns the
// feature columns as text, row by row.
// `prefix` starts the string values: short ones are held as their own
// words, long ones interned.
std::string Feed(const runtime::Engine& engine, features::FeatureState* state, uint32_t seed,
                 int first, int n, const std::string& prefix = "s") {
  std::mt19937 rng(seed);
  Batch batch(engine.layout(), 64);
  const auto& f = engine.source_fields();
  std::string out;
  for (int start = 0; start < n; start += 64) {
    batch.Clear();
    for (int i = start; i < std::min(n, start + 64); ++i) {
      const size_t r = batch.AppendRow();
      auto put_s = [&](int col, const std::string& v, bool valid) {
        batch.column(col).valid()[r] = valid;
        batch.column(col).data<std::string_view>()[r] = batch.arena().Copy(v);
      };
      batch.column(f[0].column).valid()[r] = 1;
      batch.column(f[0].column).data<int64_t>()[r] = int64_t{first + i} * 700;
      put_s(f[1].column, "k" + std::to_string(rng() % 5), true);
      put_s(f[2].column, prefix + std::to_string(rng() % 9), rng() % 7 != 0);
      batch.column(f[3].column).valid()[r] = rng() % 5 != 0;
      batch.column(f[3].column).data<double>()[r] = static_cast<double>(rng() % 10000) / 7.0;
      batch.column(f[4].column).valid()[r] = 1;
      batch.column(f[4].column).data<int64_t>()[r] = static_cast<int64_t>(rng() % 1000) - 500;
    }
    engine.Process(batch, state);
    for (size_t r = 0; r < batch.size(); ++r) {
      for (int c = static_cast<int>(f.size()); c < static_cast<int>(engine.layout().size()); ++c) {
        const Column& col = batch.column(c);
        if (engine.layout().column(c).name[0] == '$') continue;
        if (!col.is_valid(r)) {
          out += "null,";
        } else if (col.type().kind == TypeKind::kString) {
          out += std::string(col.data<std::string_view>()[r]) + ",";
        } else {
          out += std::to_string(col.data<int64_t>()[r]) + ",";  // the value's bits
        }
      }
      out += "\n";
    }
  }
  return out;
}

TEST(StateImage, RestoredStateComputesWhatTheOriginalWould) {
  auto engine = Build();
  ASSERT_TRUE(engine);
  auto original = engine->NewFeatureState();
  Feed(*engine, original.get(), 1, 0, 3000);
  const std::string image = original->Save();
  auto restored = engine->NewFeatureState();
  ASSERT_TRUE(restored->Load(image).ok());
  EXPECT_EQ(restored->Save(), image);
  EXPECT_EQ(Feed(*engine, restored.get(), 2, 3000, 2000),
            Feed(*engine, original.get(), 2, 3000, 2000));
}

TEST(StateImage, RestoredStateComputesWhatTheOriginalWouldWithInternedStrings) {
  auto engine = Build();
  ASSERT_TRUE(engine);
  const std::string prefix = "a value longer than seven bytes ";
  auto original = engine->NewFeatureState();
  Feed(*engine, original.get(), 1, 0, 3000, prefix);
  const std::string image = original->Save();
  auto restored = engine->NewFeatureState();
  ASSERT_TRUE(restored->Load(image).ok());
  EXPECT_EQ(restored->Save(), image);
  // Long and short values mixed after the restart.
  EXPECT_EQ(Feed(*engine, restored.get(), 2, 3000, 1000, prefix),
            Feed(*engine, original.get(), 2, 3000, 1000, prefix));
  EXPECT_EQ(Feed(*engine, restored.get(), 5, 4000, 1000),
            Feed(*engine, original.get(), 5, 4000, 1000));
}

TEST(StateImage, ImagesOfLaterVersionsAreRefusedByName) {
  auto engine = Build();
  ASSERT_TRUE(engine);
  auto state = engine->NewFeatureState();
  Feed(*engine, state.get(), 6, 0, 200);
  std::string image = state->Save();
  for (uint32_t version : {1u, 5u}) {
    std::memcpy(image.data() + 4, &version, sizeof version);  // after the magic
    auto fresh = engine->NewFeatureState();
    const Status s = fresh->Load(image);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("version " + std::to_string(version) + " is not supported"),
              std::string::npos)
        << s.message();
  }
}

void CheckAlteredImages(const runtime::Engine* engine) {
  ASSERT_TRUE(engine);
  auto state = engine->NewFeatureState();
  Feed(*engine, state.get(), 3, 0, 800);
  const std::string image = state->Save();
  for (size_t len = 0; len < image.size(); len += 1 + len / 64) {
    auto fresh = engine->NewFeatureState();
    const Status s = fresh->Load(std::string_view(image).substr(0, len));
    EXPECT_FALSE(s.ok()) << "a " << len << "-byte prefix of a " << image.size()
                         << "-byte image loaded";
  }
  std::mt19937 rng(9);
  int refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bad = image;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    auto fresh = engine->NewFeatureState();
    if (!fresh->Load(bad).ok()) {
      ++refused;
    } else {
      Feed(*engine, fresh.get(), 4, 800, 200);  // or loaded: either way, no crash
    }
  }
  EXPECT_GT(refused, 100);
}

TEST(StateImage, TruncatedOrAlteredImagesAreRefusedWithoutCrashing) {
  CheckAlteredImages(Build().get());
}

TEST(StateImage, ImageOfAnotherPipelineIsRefused) {
  auto engine = Build();
  ASSERT_TRUE(engine);
  auto state = engine->NewFeatureState();
  Feed(*engine, state.get(), 4, 0, 100);
  std::vector<Diagnostic> diags;
  std::string other = kPipeline;
  other.replace(other.find("over 10s by k\n"), 14, "over 11s by k\n");
  auto spec = pipeline::LoadPipelineText(other, "q.yaml", &diags);
  ASSERT_TRUE(spec.ok());
  auto engine2 = runtime::Engine::Compile(std::move(spec).value(), &diags);
  ASSERT_TRUE(engine2);
  auto state2 = engine2->NewFeatureState();
  const Status s = state2->Load(state->Save());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("windowed features differ"), std::string::npos) << s.message();
}

std::shared_ptr<const runtime::Engine> BuildText(const std::string& text) {
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(text, "p.yaml", &diags);
  if (!spec.ok()) return nullptr;
  auto engine = runtime::Engine::Compile(std::move(spec).value(), &diags);
  return diags.empty() ? engine : nullptr;
}

// The values of feature `name` in the rows Feed printed for `engine`.
std::vector<std::string> FeatureValues(const runtime::Engine& engine, const std::string& text,
                                       const std::string& name) {
  int index = 0;
  const auto& layout = engine.layout();
  const int fields = static_cast<int>(engine.source_fields().size());
  int wanted = -1;
  for (int c = fields; c < static_cast<int>(layout.size()); ++c) {
    if (layout.column(c).name[0] == '$') continue;
    if (layout.column(c).name == name) wanted = index;
    ++index;
  }
  EXPECT_GE(wanted, 0) << name;
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    size_t cell = pos;
    for (int i = 0; i < wanted; ++i) cell = text.find(',', cell) + 1;
    out.push_back(text.substr(cell, text.find(',', cell) - cell));
    pos = end + 1;
  }
  return out;
}

TEST(StateImage, ReloadedPipelineKeepsTheStateOfUnchangedFeaturesOnly) {
  const std::string v1 = std::string(kPipeline) + "  x2: x * 2\n  sx2: sum(x2) over 10s by k\n";
  // v2: features reordered (other columns), `c` over another window, `x2`
  // redefined (so `sx2`, written the same, means something else), `ds`
  // dropped, `nz` new, the variance group changed by a new member.
  const std::string v2 = R"(pipeline: image
source:
  schema:
    ts: {type: timestamp, event_time: true, format: epoch_ms}
    k: string
    s: {type: string, nullable: true}
    x: {type: float64, nullable: true}
    y: int64
features:
  nz: max(y) over 5s by k
  x2: x * 3
  sx2: sum(x2) over 10s by k
  ps: previous(s) by (k, s)
  fs: first(s) by k
  ls: last(s) over 10s by k
  ad: approx_count_distinct(s) by k
  cd: count_distinct(s) over 30s by k
  mn: min(y) by k
  sy: sum(y) over 1m by k
  c: count() over 11s by k
  sx: sum(x) over 10s by k
  vx: variance(x) over 10s by k
  mx: max(x) over 10s by k
  ax: avg(x) over 10s by k
)";
  auto e1 = BuildText(v1);
  auto e2 = BuildText(v2);
  ASSERT_TRUE(e1 && e2);
  auto old_state = e1->NewFeatureState();
  Feed(*e1, old_state.get(), 5, 0, 2500);
  auto reloaded = e2->NewFeatureState();
  features::FeatureState::Carried carried;
  ASSERT_TRUE(reloaded->LoadMatching(old_state->Save(), &carried).ok());
  const std::vector<std::string> kept = {"ps", "fs", "ls", "ad", "cd", "mn", "sy"};
  const std::vector<std::string> reset = {"nz", "sx2", "c", "sx", "vx", "mx", "ax"};
  EXPECT_EQ(carried.kept.size(), kept.size());
  EXPECT_EQ(carried.reset.size(), reset.size());

  // What happens next: kept features go on as v1 would have; the others as
  // a v2 state that started empty at the reload.
  auto fresh = e2->NewFeatureState();
  const std::string after_old = Feed(*e1, old_state.get(), 6, 2500, 1500);
  const std::string after_reload = Feed(*e2, reloaded.get(), 6, 2500, 1500);
  const std::string after_fresh = Feed(*e2, fresh.get(), 6, 2500, 1500);
  for (const auto& name : kept) {
    EXPECT_EQ(FeatureValues(*e2, after_reload, name), FeatureValues(*e1, after_old, name)) << name;
    EXPECT_NE(FeatureValues(*e2, after_reload, name), FeatureValues(*e2, after_fresh, name))
        << name << " should not have started empty";
  }
  for (const auto& name : reset) {
    EXPECT_EQ(FeatureValues(*e2, after_reload, name), FeatureValues(*e2, after_fresh, name))
        << name;
  }
  // A corrupt image is refused.
  std::string image = old_state->Save();
  auto bad = e2->NewFeatureState();
  EXPECT_FALSE(bad->LoadMatching(image.substr(0, image.size() / 2), &carried).ok());
}

// Nested windows (window_group.h): c3 in c1m, (sx5, vx5) in ax1m, sy2 in
// sy30, tl in py. Their images hold their events (tl: its last times) as a
// window of their own would.
// kPipeline's source, without its features.
std::string Schema() {
  const std::string_view head(kPipeline);
  return std::string(head.substr(0, head.find("features:\n") + 10));
}
const char* kShortWindows = R"(  c3: count() over 3s by k
  sx5: sum(x) over 5s by k
  vx5: variance(x) over 5s by k
  sy2: sum(y) over 2s by k exclude current
  tl: time_since_last() over 4s by k
)";
const char* kLongWindows = R"(  c1m: count() over 1m by k
  ax1m: avg(x) over 1m by k
  sy30: sum(y) over 30s by k
  py: previous(y) by k
)";

TEST(StateImage, NestedWindowsRestoreAndTheirImagesLoadWhereTheyStandAlone) {
  auto nested = BuildText(Schema() + kShortWindows + kLongWindows);
  auto alone = BuildText(Schema() + kShortWindows);
  ASSERT_TRUE(nested && alone);
  auto original = nested->NewFeatureState();
  EXPECT_EQ(original->Stats().nested_windows, 4u);
  Feed(*nested, original.get(), 1, 0, 2500);
  const std::string image = original->Save();
  auto restored = nested->NewFeatureState();
  ASSERT_TRUE(restored->Load(image).ok());
  EXPECT_EQ(restored->Save(), image);
  // An image of the short windows alone holds the same events: loaded
  // where they stand alone, they go on as they would have.
  auto standalone = alone->NewFeatureState();
  features::FeatureState::Carried carried;
  ASSERT_TRUE(standalone->LoadMatching(image, &carried).ok());
  EXPECT_EQ(carried.kept.size(), 5u);
  EXPECT_EQ(carried.reset.size(), 0u);
  const std::string next = Feed(*nested, original.get(), 2, 2500, 1500);
  EXPECT_EQ(Feed(*nested, restored.get(), 2, 2500, 1500), next);
  const std::string next_alone = Feed(*alone, standalone.get(), 2, 2500, 1500);
  for (const char* name : {"c3", "sx5", "vx5", "sy2", "tl"}) {
    EXPECT_EQ(FeatureValues(*alone, next_alone, name), FeatureValues(*nested, next, name)) << name;
  }
}

TEST(StateImage, NestedWindowsKeepTheirStateOnlyWithTheirHosts) {
  auto nested = BuildText(Schema() + kShortWindows + kLongWindows);
  auto alone = BuildText(Schema() + kShortWindows);
  ASSERT_TRUE(nested && alone);
  // Images of the windows alone: a state with every window, its short ones
  // nested, loads them kept with their hosts' events...
  auto both = nested->NewFeatureState();
  Feed(*nested, both.get(), 3, 0, 2500);
  auto reloaded = nested->NewFeatureState();
  features::FeatureState::Carried carried;
  ASSERT_TRUE(reloaded->LoadMatching(both->Save(), &carried).ok());
  EXPECT_EQ(carried.kept.size(), 9u);
  EXPECT_EQ(Feed(*nested, reloaded.get(), 4, 2500, 1000), Feed(*nested, both.get(), 4, 2500, 1000));
  // ...but not when their hosts are new: a host starts empty, and so do the
  // windows nested in it (reported as reset).
  auto short_only = alone->NewFeatureState();
  Feed(*alone, short_only.get(), 3, 0, 2500);
  auto grown = nested->NewFeatureState();
  carried = {};
  ASSERT_TRUE(grown->LoadMatching(short_only->Save(), &carried).ok());
  EXPECT_EQ(carried.kept.size(), 0u);
  EXPECT_EQ(carried.reset.size(), 9u);
  auto fresh = nested->NewFeatureState();
  EXPECT_EQ(Feed(*nested, grown.get(), 4, 2500, 1000), Feed(*nested, fresh.get(), 4, 2500, 1000));
}

TEST(StateImage, TruncatedOrAlteredNestedImagesAreRefusedWithoutCrashing) {
  CheckAlteredImages(BuildText(Schema() + kShortWindows + kLongWindows).get());
}

}  // namespace
}  // namespace sluice
