// `sluice stream --checkpoint`: killed with SIGKILL at random moments and
// restarted each time with the same folder, the stream's final output, dead
// letters and audit trail are those of an uninterrupted run (byte for byte,
// but for the audit records' processing times); a SIGTERM
// keeps waiting events for the next run; a bad checkpoint is refused with a
// clear message.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const char* kPipeline = R"(pipeline: cards
source:
  schema:
    txn_id:   {type: string, id: true}
    ts:       {type: timestamp, event_time: true, format: epoch_ms}
    card_id:  string
    merchant: string
    amount:   {type: float64, nullable: true}
    country:  string
    qty:      int64
  lateness: 30s
features:
  txn_10m: count() over 10m by card_id
  amount_1h: sum(amount) over 1h by card_id
  avg_1d: avg(amount) over 1d by card_id exclude current
  std_1d: stddev(amount) over 1d by card_id
  max_1h: max(amount) over 1h by card_id
  merchants_1d: count_distinct(merchant) over 1d by card_id
  first_merchant: first(merchant) over 1d by card_id
  since_last: time_since_last() by card_id
  prev_country: previous(country) by card_id
  decayed: decayed_avg(amount, 1h) by card_id
  amounts_1d: approx_count_distinct(amount) over 1d
  merchants_7d: approx_count_distinct(merchant) over 7d by card_id exclude current
  qty_1h: sum(qty) over 1h by card_id
  big: qty * 1000000000000 > 0
decision:
  rules:
    - {id: velocity, when: txn_10m >= 4, action: review, reason: VELOCITY}
  default: approve
reason_codes:
  VELOCITY: Many payments in ten minutes
)";

// Events delayed by up to 25 s (within the lateness), a few bad records
// (dead letters on input) and a few integer overflows (in the pipeline).
std::string Events(uint32_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  struct Row {
    int64_t arrival;
    std::string line;
  };
  std::vector<Row> rows;
  int64_t t = 1'767'225'600'000;
  const char* countries[] = {"FR", "DE", "US"};
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 100 >= 25) t += static_cast<int64_t>(rng() % 20000);
    std::string amount = rng() % 25 == 0 ? "" : std::to_string(rng() % 100000 / 100);
    std::string qty = std::to_string(rng() % 9);
    if (rng() % 500 == 0) qty = "99999999";  // qty * 1e12 overflows
    std::string line = "t" + std::to_string(i) + "," + std::to_string(t) + ",c" +
                       std::to_string(rng() % 300) + ",m" + std::to_string(rng() % 40) + "," +
                       amount + "," + countries[rng() % 3] + "," + qty;
    if (rng() % 700 == 0) line = "t" + std::to_string(i) + ",not a time,c1,m1,1,FR,1";
    rows.push_back({t + static_cast<int64_t>(rng() % 25000), std::move(line)});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.arrival < b.arrival; });
  std::string out = "txn_id,ts,card_id,merchant,amount,country,qty\n";
  for (const auto& r : rows) out += r.line + "\n";
  return out;
}

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    std::ofstream(dir_ / "p.yaml") << kPipeline;
  }
  testing::CommandResult Shell(const std::string& script) {
    std::ofstream(dir_ / "run.sh") << script;
    return testing::RunShell("sh run.sh", dir_.string());
  }
  std::string Bin() { return "'" + testing::SluiceBinary() + "'"; }
  std::string Read(const std::string& name) {
    return fs::exists(dir_ / name) ? testing::ReadFile(dir_ / name) : "<missing>";
  }
  fs::path dir_;
};

TEST_F(Checkpoints, KillNineAtRandomMomentsChangesNothing) {
  std::ofstream(dir_ / "events.csv") << Events(17, 60000);
  auto ref = Shell(Bin() +
                   " stream p.yaml -i events.csv -o ref.csv --dead-letter ref.rejects "
                   "--audit ref.audit -q; echo exit=$?");
  ASSERT_NE(ref.output.find("exit=0"), std::string::npos) << ref.output;
  ASSERT_NE(Read("ref.rejects"), "<missing>");

  std::mt19937 rng(5);
  int kills = 0, runs = 0, resumes = 0;
  std::string last_checkpoint;
  bool finished = false;
  while (!finished && runs < 200) {
    ++runs;
    // Early runs die quickly; the delay grows so that the stream ends.
    const int delay_ms = 5 + static_cast<int>(rng() % 60) + runs * 2;
    auto r = Shell(Bin() +
                   " stream p.yaml -i events.csv -o out.csv --dead-letter out.rejects "
                   "--audit out.audit --checkpoint ck --checkpoint-every 1000 -q & pid=$!\n"
                   "sleep " +
                   std::to_string(delay_ms / 1000.0) +
                   "\nkill -9 $pid 2>/dev/null\nwait $pid\necho exit=$?\n");
    if (r.output.find("exit=0") != std::string::npos) {
      finished = true;
    } else {
      ASSERT_NE(r.output.find("exit=137"), std::string::npos) << r.output;
      ++kills;
      // Count the kills after which a later checkpoint is on disk: each is
      // a resume from a new position.
      const std::string ck = Read("ck/checkpoint");
      if (ck != "<missing>" && ck != last_checkpoint) ++resumes;
      last_checkpoint = ck;
    }
  }
  ASSERT_TRUE(finished);
  EXPECT_GE(kills, 8) << "too few kills to mean anything";
  EXPECT_GE(resumes, 4) << "too few resumes from a new position (" << kills << " kills)";
  EXPECT_TRUE(Read("out.csv") == Read("ref.csv")) << "output differs after " << kills << " kills";
  EXPECT_TRUE(Read("out.rejects") == Read("ref.rejects"))
      << "dead letters differ after " << kills << " kills";
  // Each decision is in the audit trail once, as in the uninterrupted run.
  const std::regex processed_at("\"processed_at\":\"[^\"]*\"");
  const std::string want = std::regex_replace(Read("ref.audit"), processed_at, "");
  EXPECT_GT(want.size(), 1000u);
  EXPECT_TRUE(std::regex_replace(Read("out.audit"), processed_at, "") == want)
      << "audit trail differs after " << kills << " kills";
}

TEST_F(Checkpoints, SigtermKeepsWaitingEventsForTheNextRun) {
  const std::string all = Events(23, 3000);
  const size_t cut = all.find('\n', all.size() / 2) + 1;
  std::ofstream(dir_ / "whole.csv") << all;
  std::ofstream(dir_ / "events.csv") << all.substr(0, cut);
  std::ofstream(dir_ / "rest.csv") << all.substr(cut);
  auto ref = Shell(Bin() + " stream p.yaml -i whole.csv -o ref.csv -q; echo exit=$?");
  ASSERT_NE(ref.output.find("exit=0"), std::string::npos);
  // First run: follows the first half, stopped by SIGTERM; the events
  // within the lateness of the latest one wait in the checkpoint.
  auto first = Shell(Bin() +
                     " stream p.yaml -i events.csv --follow -o out.csv --checkpoint ck 2> err1 &"
                     " pid=$!\nsleep 1\nkill -TERM $pid\nwait $pid\necho exit=$?\n"
                     "cat rest.csv >> events.csv\n" +
                     Bin() +
                     " stream p.yaml -i events.csv -o out.csv --checkpoint ck 2> err2\n"
                     "echo exit=$?\n");
  EXPECT_NE(first.output.find("exit=0\nexit=0"), std::string::npos) << first.output;
  EXPECT_NE(Read("err1").find("saved in the checkpoint for the next run"), std::string::npos)
      << Read("err1");
  EXPECT_NE(Read("err2").find("resumed from a checkpoint"), std::string::npos) << Read("err2");
  EXPECT_TRUE(Read("out.csv") == Read("ref.csv"));
}

// tests/cli/data/checkpoint_0430c9d: a checkpoint written by sluice at
// 0430c9d, before the running values of the window groups were laid out in
// one record per key, in the middle of a burst (count_distinct windows of
// about 90 events, in the pair table), with the input and the output as they
// were then. The state image kept its format: sluice resumes from it and
// writes what an uninterrupted run writes.
TEST_F(Checkpoints, ResumesFromACheckpointOfAnEarlierSluice) {
  const fs::path data = fs::path(SLUICE_SOURCE_DIR) / "tests/cli/data/checkpoint_0430c9d";
  for (const char* name : {"p.yaml", "events.csv", "rest.csv", "out.csv"}) {
    fs::copy_file(data / name, dir_ / name, fs::copy_options::overwrite_existing);
  }
  fs::create_directories(dir_ / "ck");
  fs::copy_file(data / "ck" / "checkpoint", dir_ / "ck" / "checkpoint");
  auto r = Shell("cat events.csv rest.csv > whole.csv\ncat rest.csv >> events.csv\n" + Bin() +
                 " stream p.yaml -i events.csv -o out.csv --checkpoint ck 2> err\n"
                 "echo exit=$?\n" +
                 Bin() + " run p.yaml -i whole.csv -o ref.csv -q\necho exit=$?\n");
  EXPECT_NE(r.output.find("exit=0\nexit=0"), std::string::npos) << r.output;
  EXPECT_NE(Read("err").find("resumed from a checkpoint"), std::string::npos) << Read("err");
  const std::string want = Read("ref.csv");
  EXPECT_EQ(std::count(want.begin(), want.end(), '\n'), 1201);
  EXPECT_TRUE(Read("out.csv") == want);
}

TEST_F(Checkpoints, RefusesACorruptCheckpointOrAnotherPipelines) {
  std::ofstream(dir_ / "events.csv") << Events(3, 500);
  auto r = Shell(Bin() +
                 " stream p.yaml -i events.csv -o out.csv --checkpoint ck -q\n"
                 "echo exit=$?\n"
                 "echo '# changed' >> p.yaml\n" +
                 Bin() +
                 " stream p.yaml -i events.csv -o out.csv --checkpoint ck -q\n"
                 "echo exit=$?\n"
                 "printf 'x' | dd of=ck/checkpoint bs=1 seek=100 conv=notrunc 2>/dev/null\n" +
                 Bin() +
                 " stream p.yaml -i events.csv -o out.csv --checkpoint ck -q\n"
                 "echo exit=$?\n" +
                 Bin() +
                 " stream p.yaml --input-format csv -o out.csv --checkpoint ck2 -q < events.csv\n"
                 "echo exit=$?\n");
  EXPECT_NE(r.output.find("exit=0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("was written by another version of the pipeline"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("is corrupt (checksum mismatch); remove the folder"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--checkpoint needs a file input"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice
