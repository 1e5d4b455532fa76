// RunBatch on damaged inputs: whatever the bytes, nothing crashes and every
// record read is written or rejected. Inputs are seeded mutations of a valid
// file (flipped bytes, stray quotes and delimiters, cut lines, truncation).

#include "runtime/batch_job.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "pipeline/spec.h"

namespace sluice::runtime {
namespace {

namespace fs = std::filesystem;

const char* kPipeline = R"(pipeline: damaged
source:
  null_values: ["", "NA"]
  schema:
    id: {type: string, id: true}
    ts: {type: timestamp, event_time: true}
    amount: float64
    qty: {type: int64, nullable: true}
    channel: {type: enum, values: [pos, ecom, atm]}
    ok: bool
features:
  total: amount * qty
  big: total > 100
  label: concat(lower(id), '-', channel)
  prod: qty * qty * qty
decision:
  rules:
    - {id: big, when: big, action: review, reason: BIG}
  default: approve
reason_codes:
  BIG: big
)";

std::string ValidCsv(std::mt19937_64& rng, int rows) {
  std::string s = "id,ts,amount,qty,channel,ok\n";
  const char* channels[] = {"pos", "ecom", "atm"};
  for (int i = 0; i < rows; ++i) {
    s += "\"r" + std::to_string(i) + (i % 7 == 0 ? ",x\"" : "\"") + ",2024-03-0" +
         std::to_string(1 + i % 9) + "T10:00:00Z," + std::to_string(rng() % 100000 / 100.0) + "," +
         (i % 5 == 0 ? "" : std::to_string(static_cast<int64_t>(rng() % 3000000) - 1000)) + "," +
         channels[rng() % 3] + "," + (rng() % 2 ? "true" : "false") + (i % 3 ? "\n" : "\r\n");
  }
  return s;
}

std::string Mutate(std::string s, std::mt19937_64& rng) {
  const char noise[] = {'"', ',', '\n', '\r', '\0', '\xff', 'x', '9', ' ', '\xc3'};
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0:
        s[at] = noise[rng() % sizeof(noise)];
        break;
      case 1:
        s.insert(at, 1, noise[rng() % sizeof(noise)]);
        break;
      case 2:
        s.erase(at, 1 + rng() % 20);
        break;
      case 3:
        s.resize(at);
        break;
    }
  }
  return s;
}

TEST(RunBatch, DamagedInputsNeverCrashAndLoseNothing) {
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineText(kPipeline, "p.yaml", &diags);
  ASSERT_TRUE(spec.ok());
  auto engine = Engine::Compile(std::move(spec).value(), &diags);
  ASSERT_TRUE(engine) << FormatDiagnostics(diags);

  const fs::path dir = fs::path(SLUICE_BINARY_DIR) / "runtime_out";
  fs::create_directories(dir);
  std::mt19937_64 rng(20261123);
  const std::string valid = ValidCsv(rng, 60);
  int runs_with_rejects = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const std::string text = trial == 0 ? valid : Mutate(valid, rng);
    std::ofstream(dir / "in.csv", std::ios::binary) << text;
    fs::remove(dir / "rejects.jsonl");
    RunOptions o;
    o.input = (dir / "in.csv").string();
    o.output = (dir / "out.csv").string();
    o.dead_letter = (dir / "rejects.jsonl").string();
    o.batch_size = 1 + rng() % 16;
    RunSummary s;
    Status st = RunBatch(*engine, o, &s);
    if (!st.ok()) {
      // Only the header can fail a whole run.
      EXPECT_EQ(st.code(), StatusCode::kInvalidInput) << st.message();
      continue;
    }
    EXPECT_EQ(s.records_read, s.records_written + s.records_rejected) << "trial " << trial;
    // The dead-letter file has one line per rejection.
    size_t lines = 0;
    if (fs::exists(dir / "rejects.jsonl")) {
      std::ifstream in(dir / "rejects.jsonl");
      std::string line;
      while (std::getline(in, line)) ++lines;
    }
    EXPECT_EQ(lines, s.records_rejected) << "trial " << trial;
    runs_with_rejects += s.records_rejected > 0;
    if (trial == 0) {
      EXPECT_EQ(s.records_read, 60u);
      // qty^3 overflows int64 for some rows: those are record errors.
      EXPECT_EQ(s.records_rejected, s.rejected_in_pipeline);
    }
  }
  EXPECT_GT(runs_with_rejects, 100);
}

}  // namespace
}  // namespace sluice::runtime
