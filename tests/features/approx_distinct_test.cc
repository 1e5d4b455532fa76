// approx_count_distinct without `over`: exact up to 64 distinct values per
// key, then a HyperLogLog whose error matches its documented standard error
// (3.25%). Over time windows: windowed_approx_distinct_test.cc.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "pipeline/spec.h"
#include "runtime/engine.h"

namespace sluice {
namespace {

std::shared_ptr<const runtime::Engine> Build(const std::string& features,
                                             std::vector<Diagnostic>* diags) {
  const std::string yaml = R"(pipeline: sketch
source:
  schema:
    ts: {type: timestamp, event_time: true, format: epoch_ms}
    k: int64
    v: int64
    s: string
features:
)" + features;
  auto spec = pipeline::LoadPipelineText(yaml, "p.yaml", diags);
  if (!spec.ok()) return nullptr;
  return runtime::Engine::Compile(std::move(spec).value(), diags);
}

// Feeds (key, value) pairs; returns the feature's last value per key.
std::vector<int64_t> LastPerKey(const runtime::Engine& engine,
                                const std::vector<std::pair<int, int64_t>>& ev, int keys) {
  auto state = engine.NewFeatureState();
  Batch batch(engine.layout(), 1024);
  const auto& f = engine.source_fields();
  int out = -1;
  for (int c = 0; c < static_cast<int>(engine.layout().size()); ++c) {
    if (engine.layout().column(c).name == "d") out = c;
  }
  std::vector<int64_t> last(static_cast<size_t>(keys), -1);
  for (size_t start = 0; start < ev.size(); start += 1024) {
    batch.Clear();
    for (size_t i = start; i < std::min(ev.size(), start + 1024); ++i) {
      const size_t r = batch.AppendRow();
      batch.column(f[0].column).valid()[r] = 1;
      batch.column(f[0].column).data<int64_t>()[r] = static_cast<int64_t>(i) * 1'000'000;
      batch.column(f[1].column).valid()[r] = 1;
      batch.column(f[1].column).data<int64_t>()[r] = ev[i].first;
      batch.column(f[2].column).valid()[r] = 1;
      batch.column(f[2].column).data<int64_t>()[r] = ev[i].second;
      const std::string s = "v" + std::to_string(ev[i].second);
      batch.column(f[3].column).valid()[r] = 1;
      batch.column(f[3].column).data<std::string_view>()[r] = batch.arena().Copy(s);
    }
    engine.Process(batch, state.get());
    for (size_t r = 0; r < batch.size(); ++r) {
      last[static_cast<size_t>(ev[start + r].first)] = batch.column(out).data<int64_t>()[r];
    }
  }
  return last;
}

TEST(ApproxCountDistinct, ExactUpToSixtyFourValuesThenWithinItsError) {
  for (const char* feature :
       {"  d: approx_count_distinct(v) by k\n", "  d: approx_count_distinct(s) by k\n"}) {
    SCOPED_TRACE(feature);
    std::vector<Diagnostic> diags;
    auto engine = Build(feature, &diags);
    ASSERT_TRUE(engine) << FormatDiagnostics(diags);
    // Key i has distinct(i) values, each seen several times, shuffled.
    const int keys = 40;
    auto distinct = [](int i) { return i < 10 ? 1 + 7 * i : 150 * i; };
    std::vector<std::pair<int, int64_t>> ev;
    for (int i = 0; i < keys; ++i) {
      for (int rep = 0; rep < 2; ++rep) {
        for (int v = 0; v < distinct(i); ++v) ev.emplace_back(i, int64_t{v} * 7919 + i);
      }
    }
    std::shuffle(ev.begin(), ev.end(), std::mt19937(3));
    const auto got = LastPerKey(*engine, ev, keys);
    double sq = 0;
    int dense = 0;
    for (int i = 0; i < keys; ++i) {
      const double want = distinct(i);
      if (want <= 64) {
        EXPECT_EQ(got[static_cast<size_t>(i)], distinct(i)) << "key " << i;
        continue;
      }
      const double rel = (static_cast<double>(got[static_cast<size_t>(i)]) - want) / want;
      EXPECT_LT(std::fabs(rel), 4 * 0.0325)
          << "key " << i << ": " << got[static_cast<size_t>(i)] << " for " << want;
      sq += rel * rel;
      ++dense;
    }
    const double rms = std::sqrt(sq / dense);
    EXPECT_LT(rms, 0.05) << "relative error (rms over " << dense << " keys)";
  }
}

}  // namespace
}  // namespace sluice
