// `sluice features`: the training set holds, for each labelled event, the
// features as `sluice run` computed them at that event (unlabelled events
// still update state), joined with typed labels; errors in the labels file
// are reported clearly.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const char* kPipeline = R"(pipeline: tiny
source:
  schema:
    id: {type: string, id: true}
    ts: {type: timestamp, event_time: true, format: epoch_s}
    k:  string
    x:  float64
features:
  n_1h: count() over 1h by k
  sum_1h: sum(x) over 1h by k exclude current
output:
  fields: [id, ts, n_1h, sum_1h]
  decision: false
)";

class Features : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    Write("p.yaml", kPipeline);
    // Out of time order on purpose: e3 comes first in the file.
    Write("events.csv",
          "id,ts,k,x\ne3,300,A,4\ne1,100,A,1\ne2,200,A,2\ne4,400,B,8\ne5,5000,A,16\n");
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string Read(const std::string& name) { return testing::ReadFile(dir_ / name); }
  testing::CommandResult Sluice(const std::string& args) {
    return testing::RunShell("'" + testing::SluiceBinary() + "' " + args, dir_.string());
  }
  fs::path dir_;
};

TEST_F(Features, LabelledEventsWithTheirPointInTimeFeatures) {
  Write("labels.csv", "id,is_fraud,score\ne2,1,0.5\ne5,0,0.25\ne4,0,\nnot_an_event,1,1\n");
  auto r = Sluice("features p.yaml -i events.csv --labels labels.csv -o train.csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // e2 sees e1 (and itself for count); e5 sees nothing within the hour.
  EXPECT_EQ(Read("train.csv"),
            "id,ts,n_1h,sum_1h,is_fraud,score\n"
            "e2,1970-01-01T00:03:20Z,2,1.0,1,0.5\n"
            "e4,1970-01-01T00:06:40Z,1,,0,\n"
            "e5,1970-01-01T01:23:20Z,1,,0,0.25\n");
  EXPECT_NE(r.output.find("3 labelled events written; 2 events without a label, 0 outside "
                          "--from/--to; 1 of 4 labels matched no event"),
            std::string::npos)
      << r.output;
  // The same values as `sluice run` computed for those events.
  auto run = Sluice("run p.yaml -i events.csv -o all.csv -q");
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_NE(Read("all.csv").find("e2,1970-01-01T00:03:20Z,2,1.0\n"), std::string::npos);
}

TEST_F(Features, TimeRangeAndJsonLinesWithTypedLabels) {
  Write("labels.csv", "event,label\ne1,yes\ne2,no\ne3,yes\n");
  auto r = Sluice(
      "features p.yaml -i events.csv --labels labels.csv --label-key event "
      "--from 1970-01-01T00:03:20Z --to 1970-01-01T00:05:00.001Z -o train.jsonl -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Read("train.jsonl"),
            "{\"id\":\"e2\",\"ts\":\"1970-01-01T00:03:20Z\",\"n_1h\":2,\"sum_1h\":1.0,"
            "\"label\":\"no\"}\n"
            "{\"id\":\"e3\",\"ts\":\"1970-01-01T00:05:00Z\",\"n_1h\":3,\"sum_1h\":3.0,"
            "\"label\":\"yes\"}\n");
}

TEST_F(Features, BadLabelsFilesAreClearErrors) {
  Write("dup.csv", "id,y\ne1,1\ne1,0\n");
  auto r = Sluice("features p.yaml -i events.csv --labels dup.csv -o t.csv -q");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("labels file dup.csv line 3: event id 'e1' has a label already"),
            std::string::npos)
      << r.output;
  Write("nokey.csv", "txn,y\ne1,1\n");
  r = Sluice("features p.yaml -i events.csv --labels nokey.csv -o t.csv -q");
  EXPECT_NE(r.output.find("has no column 'id' holding the event ids (its columns: txn, y); name "
                          "it with --label-key"),
            std::string::npos)
      << r.output;
  r = Sluice("features p.yaml -i events.csv --labels missing.csv -o t.csv -q");
  EXPECT_NE(r.output.find("cannot open labels file missing.csv"), std::string::npos) << r.output;
}

TEST_F(Features, WindowedApproxCountDistinctAsSluiceRunComputesIt) {
  // Past 64 distinct amounts in a window the sketches are dense.
  Write("q.yaml", R"(pipeline: amounts
source:
  schema:
    id: {type: string, id: true}
    ts: {type: timestamp, event_time: true, format: epoch_s}
    k:  string
    x:  float64
features:
  amounts_1h: approx_count_distinct(x) over 1h by k
  amounts_1d: approx_count_distinct(x) over 1d where x > 10 exclude current
output:
  fields: [id, ts, amounts_1h, amounts_1d]
  decision: false
)");
  std::string events = "id,ts,k,x\n", labels = "id,y\n";
  uint64_t r = 1;
  for (int i = 0; i < 4000; ++i) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::string id = "e" + std::to_string(i);
    events += id + "," + std::to_string(1000 + i * 5) + ",k" + std::to_string(r >> 62) + "," +
              std::to_string((r >> 20) % 100000) + "\n";
    if (i % 3 == 0) labels += id + "," + std::to_string(i % 2) + "\n";
  }
  Write("many.csv", events);
  Write("many_labels.csv", labels);
  auto f = Sluice("features q.yaml -i many.csv --labels many_labels.csv -o train.csv -q");
  ASSERT_EQ(f.exit_code, 0) << f.output;
  auto run = Sluice("run q.yaml -i many.csv -o all.csv -q");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // Each training row is the run's row for that event, with its label.
  const std::string all = Read("all.csv"), train = Read("train.csv");
  size_t rows = 0, large = 0;
  for (size_t at = train.find('\n') + 1; at < train.size(); at = train.find('\n', at) + 1) {
    const std::string line = train.substr(at, train.find('\n', at) - at);
    const std::string features = line.substr(0, line.rfind(','));
    EXPECT_NE(all.find("\n" + features + "\n"), std::string::npos) << line;
    const size_t comma = features.rfind(',');
    large += std::stoll(features.substr(comma + 1)) > 64;
    ++rows;
  }
  EXPECT_EQ(rows, 1334u);
  EXPECT_GT(large, 1000u);  // dense sketches
}

}  // namespace
}  // namespace sluice
