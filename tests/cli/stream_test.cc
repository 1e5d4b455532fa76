// `sluice stream` as users run it: the same events streamed in arrival order
// (out of order within the lateness) give the output of `sluice run` on the
// file, byte for byte; late events are routed with their reason; SIGTERM
// and the end of the input finish cleanly; --follow picks up appended data.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

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
  lateness: 30s
features:
  txn_10m: count() over 10m by card_id
  amount_1h: sum(amount) over 1h by card_id
  avg_1d: avg(amount) over 1d by card_id exclude current
  max_1h: max(amount) over 1h by card_id
  std_1d: stddev(amount) over 1d by card_id
  merchants_1d: count_distinct(merchant) over 1d by card_id
  since_last: time_since_last() by card_id
  prev_country: previous(country) by card_id
  new_country: country != prev_country
  pair_1d: count() over 1d by (card_id, merchant)
  big_1h: count() over 1h by card_id where amount > 500
  decayed: decayed_sum(amount, 1h) over 1d by card_id
  amounts_1d: approx_count_distinct(amount) over 1d
  amounts_2h: approx_count_distinct(amount) over 2h by country where amount > 100 exclude current
  merchants_7d: approx_count_distinct(merchant) over 7d by (card_id, country)
decision:
  rules:
    - {id: velocity, when: txn_10m >= 4, action: review, reason: VELOCITY}
    - {id: travel, when: new_country and amount > 300, action: review, reason: TRAVEL}
  default: approve
reason_codes:
  VELOCITY: Many payments in ten minutes
  TRAVEL: Large payment from a new country
)";

// Card payments in event-time order, then shuffled into an arrival order
// where each event is delayed by up to `max_delay_ms`.
std::string CardPayments(uint32_t seed, size_t n, int64_t max_delay_ms) {
  std::mt19937_64 rng(seed);
  struct Row {
    int64_t t, arrival;
    std::string line;
  };
  std::vector<Row> rows;
  int64_t t = 1'767'225'600'000;  // 2026-01-01
  const char* countries[] = {"FR", "DE", "US", "GB", "ES"};
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng() % 100;
    if (r >= 25) t += static_cast<int64_t>(rng() % 20000);
    if (r >= 98) t += 3'600'000 * static_cast<int64_t>(1 + rng() % 30);
    const std::string amount = rng() % 20 == 0 ? ""
                                               : std::to_string(rng() % 100000 / 100) + "." +
                                                     std::to_string(10 + rng() % 90);
    std::string line = "t" + std::to_string(i) + "," + std::to_string(t) + ",c" +
                       std::to_string(rng() % 60) + ",m" + std::to_string(rng() % 15) + "," +
                       amount + "," + countries[rng() % (rng() % 10 == 0 ? 5 : 1) % 5];
    const int64_t delay = max_delay_ms > 0 ? static_cast<int64_t>(rng() % max_delay_ms) : 0;
    rows.push_back({t, t + delay, std::move(line)});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.arrival < b.arrival; });
  std::string out = "txn_id,ts,card_id,merchant,amount,country\n";
  for (const auto& r : rows) out += r.line + "\n";
  return out;
}

class Stream : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    std::ofstream(dir_ / "p.yaml") << kPipeline;
  }
  testing::CommandResult Sluice(const std::string& args) {
    return testing::RunShell("'" + testing::SluiceBinary() + "' " + args, dir_.string());
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string Read(const std::string& name) { return testing::ReadFile(dir_ / name); }
  fs::path dir_;
};

TEST_F(Stream, EqualsBatchRunByteForByte) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    // Delays up to 25 s, lateness 30 s: nothing is late.
    Write("events.csv", CardPayments(seed, 3000, 25'000));
    auto batch = Sluice("run p.yaml -i events.csv -o batch.csv -q");
    ASSERT_EQ(batch.exit_code, 0) << batch.output;
    for (const char* size : {"1", "7", "1024"}) {
      auto s = Sluice(std::string("stream p.yaml --input-format csv -o stream.csv -q ") +
                      "--batch-size " + size + " --summary s.json < events.csv");
      ASSERT_EQ(s.exit_code, 0) << s.output;
      EXPECT_TRUE(Read("stream.csv") == Read("batch.csv")) << "batch size " << size;
      EXPECT_NE(Read("s.json").find("\"records_late\":0"), std::string::npos) << Read("s.json");
    }
  }
}

TEST_F(Stream, RequiredFieldMissingIsRejectedAndNestedWindowsAgree) {
  // amount is required: the counts nest in the 30-day amount window
  // (docs/windows.md), which relies on a record without an amount never
  // reaching the state. Such records are rejected with their reason, the
  // others computed as by the same pipeline with amount nullable (no
  // nesting of the counts) on the file without them; stream = batch.
  const std::string features = R"(  lateness: 30s
features:
  n10m: count() over 10m by card_id
  n1h: count() over 1h by card_id exclude current
  s1h: sum(amount) over 1h by card_id
  a30d: avg(amount) over 30d by card_id
  since: time_since_last() by card_id
  prev: previous(country) by card_id
)";
  auto pipeline = [&](const char* amount) {
    return std::string("pipeline: required\nsource:\n  schema:\n") +
           "    txn_id: {type: string, id: true}\n" +
           "    ts: {type: timestamp, event_time: true, format: epoch_ms}\n" +
           "    card_id: string\n    merchant: string\n    amount: " + amount + "\n" +
           "    country: string\n" + features;
  };
  Write("required.yaml", pipeline("float64"));
  Write("nullable.yaml", pipeline("{type: float64, nullable: true}"));
  // CardPayments leaves about one amount in 20 empty; make one malformed.
  std::istringstream in(CardPayments(7, 3000, 0));
  std::string line, clean, bad_file;
  size_t bad = 0, row = 0;
  while (std::getline(in, line)) {
    if (row++ == 100) line.replace(line.rfind(','), 0, "x");  // amount "12.34x"
    const bool missing =
        line.find(",,") != std::string::npos || line.find("x,") != std::string::npos;
    bad += missing ? 1 : 0;
    bad_file += line + "\n";
    if (!missing) clean += line + "\n";
  }
  ASSERT_GT(bad, 20u);
  Write("events.csv", bad_file);
  Write("clean.csv", clean);
  auto batch = Sluice("run required.yaml -i events.csv -o batch.csv -q --summary b.json");
  ASSERT_EQ(batch.exit_code, 0) << batch.output;
  EXPECT_NE(Read("b.json").find("\"records_rejected\":" + std::to_string(bad)), std::string::npos)
      << Read("b.json");
  const std::string rejects = Read("batch.csv.rejects.jsonl");
  EXPECT_EQ(static_cast<size_t>(std::count(rejects.begin(), rejects.end(), '\n')), bad);
  EXPECT_NE(rejects.find("field 'amount' is required but is null"), std::string::npos);
  EXPECT_NE(rejects.find("field 'amount': expected float64"), std::string::npos);
  auto reference = Sluice("run nullable.yaml -i clean.csv -o reference.csv -q");
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  EXPECT_TRUE(Read("batch.csv") == Read("reference.csv"));
  for (const char* size : {"1", "7", "1024"}) {
    auto s = Sluice(std::string("stream required.yaml --input-format csv -o stream.csv -q ") +
                    "--batch-size " + size + " < events.csv");
    ASSERT_EQ(s.exit_code, 0) << s.output;
    EXPECT_TRUE(Read("stream.csv") == Read("batch.csv")) << "batch size " << size;
  }
}

TEST_F(Stream, LateEventsGoToTheLateOutputWithTheirReason) {
  Write("events.csv", CardPayments(9, 2000, 120'000));  // delays beyond the 30 s lateness
  auto s =
      Sluice("stream p.yaml -i events.csv -o out.csv --late-output late.jsonl --summary s.json -q");
  ASSERT_EQ(s.exit_code, 0) << s.output;
  const std::string late = Read("late.jsonl");
  const size_t n_late = static_cast<size_t>(std::count(late.begin(), late.end(), '\n'));
  EXPECT_GT(n_late, 10u);
  EXPECT_NE(late.find("\"field\":\"ts\",\"reason\":\"late: event time 2026-"), std::string::npos)
      << late.substr(0, 400);
  EXPECT_NE(late.find("(latest event time minus lateness 30s)"), std::string::npos);
  const std::string out = Read("out.csv");
  const size_t written = static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) - 1;
  EXPECT_EQ(written + n_late, 2000u);
  EXPECT_NE(Read("s.json").find("\"records_late\":" + std::to_string(n_late)), std::string::npos);
}

TEST_F(Stream, SigtermFlushesHeldEventsAndPrintsTheSummary) {
  Write("events.csv", CardPayments(3, 500, 20'000));
  auto batch = Sluice("run p.yaml -i events.csv -o batch.csv -q");
  ASSERT_EQ(batch.exit_code, 0);
  // The input stays open (a FIFO whose writer sleeps); SIGTERM ends the run.
  Write("run.sh", "mkfifo in.fifo\n'" + testing::SluiceBinary() +
                      "' stream p.yaml -i in.fifo --input-format csv -o out.csv 2> err.txt &\n"
                      "pid=$!\n"
                      "(cat events.csv; sleep 30) > in.fifo &\n"
                      "writer=$!\n"
                      "sleep 1\n"
                      "kill -TERM $pid\n"
                      "wait $pid\n"
                      "echo exit=$?\n"
                      "kill $writer\n");
  auto s = Sluice("--version >/dev/null; sh run.sh");
  EXPECT_NE(s.output.find("exit=0"), std::string::npos) << s.output;
  EXPECT_TRUE(Read("out.csv") == Read("batch.csv")) << "output differs from sluice run";
  EXPECT_NE(Read("err.txt").find("sluice stream: pipeline cards"), std::string::npos);
}

TEST_F(Stream, FollowReadsWhatIsAppended) {
  const std::string all = CardPayments(4, 400, 0);
  const size_t cut = all.find('\n', all.size() / 2) + 1;
  Write("events.csv", all.substr(0, cut));
  Write("whole.csv", all);
  auto batch = Sluice("run p.yaml -i whole.csv -o batch.csv -q");
  ASSERT_EQ(batch.exit_code, 0);
  Write("rest.csv", all.substr(cut));
  Write("run.sh", "'" + testing::SluiceBinary() +
                      "' stream p.yaml -i events.csv --follow -o out.csv -q &\n"
                      "pid=$!\n"
                      "sleep 0.5\n"
                      "cat rest.csv >> events.csv\n"
                      "sleep 0.7\n"
                      "kill -TERM $pid\n"
                      "wait $pid\n"
                      "echo exit=$?\n");
  auto s = Sluice("--version >/dev/null; sh run.sh");
  EXPECT_NE(s.output.find("exit=0"), std::string::npos) << s.output;
  EXPECT_TRUE(Read("out.csv") == Read("batch.csv")) << "output differs from sluice run";
}

TEST_F(Stream, BadArgumentsAreClearErrors) {
  auto r = Sluice("stream p.yaml --lateness 5sec -i - --input-format csv -q < /dev/null");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--lateness must be a duration such as 5s, found '5sec'"),
            std::string::npos)
      << r.output;
  r = Sluice("stream p.yaml -i tcp://127.0.0.1 -o out.jsonl -q");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("expected tcp://HOST:PORT, found tcp://127.0.0.1"), std::string::npos)
      << r.output;
  r = Sluice("stream p.yaml -i missing.csv -o out.csv -q");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("cannot open missing.csv"), std::string::npos) << r.output;
}

TEST_F(Stream, ReadsATcpConnection) {
  // CSV from `sluice run`'s view, JSON Lines over the socket: the same events.
  Write("events.csv", CardPayments(5, 300, 0));
  auto batch = Sluice("run p.yaml -i events.csv -o batch.jsonl -q");
  ASSERT_EQ(batch.exit_code, 0) << batch.output;
  std::string jsonl;
  {
    std::istringstream lines(Read("events.csv"));
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::vector<std::string> f;
      std::stringstream cells(line);
      std::string cell;
      while (std::getline(cells, cell, ',')) f.push_back(cell);
      if (f.size() < 6) f.resize(6);
      jsonl += "{\"txn_id\":\"" + f[0] + "\",\"ts\":" + f[1] + ",\"card_id\":\"" + f[2] +
               "\",\"merchant\":\"" + f[3] + "\",\"amount\":" + (f[4].empty() ? "null" : f[4]) +
               ",\"country\":\"" + f[5] + "\"}\n";
    }
  }
  Write("events.jsonl", jsonl);
  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  const std::string address = "127.0.0.1/" + std::to_string(port);
  Write("run.sh", "'" + testing::SluiceBinary() +
                      "' stream p.yaml -i tcp://127.0.0.1:" + std::to_string(port) +
                      " -o out.jsonl -q &\n"
                      "pid=$!\n"
                      "for i in $(seq 100); do\n"
                      "  (cat events.jsonl > /dev/tcp/" +
                      address +
                      ") 2>/dev/null && break\n"
                      "  sleep 0.1\n"
                      "done\n"
                      "wait $pid\n"
                      "echo exit=$?\n");
  auto s = Sluice("--version > /dev/null; bash run.sh");
  EXPECT_NE(s.output.find("exit=0"), std::string::npos) << s.output;
  EXPECT_TRUE(Read("out.jsonl") == Read("batch.jsonl")) << "output differs from sluice run";
}

}  // namespace
}  // namespace sluice
