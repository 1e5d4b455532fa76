// Feature-state images (checkpoints): a saved state restores into a state
// that computes exactly what the original would have; truncated or altered
// images are refused with an error and never crash (run under ASan/UBSan).

#include <gtest/gtest.h>

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
)";

std::shared_ptr<const runtime::Engine> Build() {
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(kPipeline, "p.yaml", &diags);
  if (!spec.ok()) return nullptr;
  return runtime::Engine::Compile(std::move(spec).value(), &diags);
}

// Runs `n` seeded events starting at `first` through `state`; returns the
// feature columns as text, row by row.
std::string Feed(const runtime::Engine& engine, features::FeatureState* state, uint32_t seed,
                 int first, int n) {
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
      put_s(f[2].column, "s" + std::to_string(rng() % 9), rng() % 7 != 0);
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

TEST(StateImage, TruncatedOrAlteredImagesAreRefusedWithoutCrashing) {
  auto engine = Build();
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
    if (!fresh->Load(bad).ok()) ++refused;  // or loaded: either way, no crash
  }
  EXPECT_GT(refused, 100);
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

}  // namespace
}  // namespace sluice
