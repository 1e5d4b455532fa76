// The audit trail, `sluice replay` and `sluice backtest`, end to end on the
// credit example (real applications, an XGBoost model, a decision table and
// rules) and on small pipelines with a challenger.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

fs::path Example() { return fs::path(SLUICE_SOURCE_DIR) / "examples" / "credit"; }

std::string Bin() { return "'" + testing::SluiceBinary() + "'"; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// A CSV line split on commas outside quotes.
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// The number after `"key": ` in `json`, searching from `from`.
double NumberAfter(const std::string& json, const std::string& key, size_t from = 0) {
  const size_t at = json.find("\"" + key + "\": ", from);
  if (at == std::string::npos) return NAN;
  return std::stod(json.substr(at + key.size() + 4));
}

TEST(Audit, ReplayReproducesEveryCreditDecision) {
  const fs::path dir = testing::FreshTestDir();
  auto r = testing::RunShell(Bin() + " run credit.yaml -i credit_data.csv -o '" +
                                 (dir / "out.csv").string() + "' --audit '" +
                                 (dir / "audit.jsonl").string() + "' -q",
                             Example().string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto audit = Lines(testing::ReadFile(dir / "audit.jsonl"));
  ASSERT_EQ(audit.size(), 4454u);
  // Every record names the pipeline version and the model file it used.
  for (const auto& line : {audit.front(), audit.back()}) {
    EXPECT_NE(line.find("\"pipeline\":{\"name\":\"credit_applications\",\"version\":\"1\",\"hash\":"),
              std::string::npos);
    EXPECT_NE(line.find("{\"name\":\"risk\",\"file\":\"credit_model.json\",\"hash\":"),
              std::string::npos);
    EXPECT_NE(line.find("\"role\":\"champion\""), std::string::npos);
    EXPECT_NE(line.find("\"evaluated\":["), std::string::npos);
  }

  r = testing::RunShell(Bin() + " replay credit.yaml --audit '" + (dir / "audit.jsonl").string() +
                            "'",
                        Example().string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4454 audit records, 4454 decisions reproduced exactly, 0 differ"),
            std::string::npos)
      << r.output;
}

TEST(Audit, ReplayFindsARecordThatWasChanged) {
  const fs::path dir = testing::FreshTestDir();
  auto r = testing::RunShell(Bin() + " run credit.yaml -i credit_data.csv -o '" +
                                 (dir / "out.csv").string() + "' --audit '" +
                                 (dir / "audit.jsonl").string() + "' -q",
                             Example().string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto audit = Lines(testing::ReadFile(dir / "audit.jsonl"));
  // Application A00009 is declined for negative disposable income; record a
  // higher income for it and the rules decide otherwise.
  size_t changed = 0;
  for (auto& line : audit) {
    if (line.rfind("{\"id\":\"A00009\"", 0) != 0) continue;
    ASSERT_NE(line.find("\"rule\":\"negative_disposable\""), std::string::npos) << line;
    const size_t at = line.find("\"disposable_income\":");
    ASSERT_NE(at, std::string::npos);
    const size_t end = line.find(',', at);
    line.replace(at, end - at, "\"disposable_income\":500.0");
    ++changed;
  }
  ASSERT_EQ(changed, 1u);
  std::ofstream out(dir / "changed.jsonl", std::ios::binary);
  for (const auto& line : audit) out << line << '\n';
  out.close();
  r = testing::RunShell(Bin() + " replay credit.yaml --audit '" +
                            (dir / "changed.jsonl").string() + "'",
                        Example().string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("record \"A00009\" differs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("4453 decisions reproduced exactly, 1 differ"), std::string::npos)
      << r.output;
}

TEST(Audit, ReplayRefusesAnotherVersionOfThePipeline) {
  const fs::path dir = testing::FreshTestDir();
  for (const char* f : {"credit.yaml", "credit_data.csv", "credit_model.json"}) {
    fs::copy_file(Example() / f, dir / f);
  }
  auto r = testing::RunShell(Bin() + " run credit.yaml -i credit_data.csv -o out.csv "
                                     "--audit audit.jsonl -q",
                             dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ofstream(dir / "credit.yaml", std::ios::app) << "# edited\n";
  r = testing::RunShell(Bin() + " replay credit.yaml --audit audit.jsonl", dir.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("was made by the pipeline with content hash"), std::string::npos)
      << r.output;
}

TEST(Backtest, CreditMetricsAgreeWithTheDecisions) {
  const fs::path dir = testing::FreshTestDir();
  auto r = testing::RunShell(Bin() + " backtest credit.yaml -i credit_data.csv --labels "
                                     "credit_data.csv --label-column Status --bad-value bad "
                                     "--report '" +
                                 dir.string() + "'",
                             Example().string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string metrics = testing::ReadFile(dir / "metrics.json");
  const std::string html = testing::ReadFile(dir / "report.html");
  EXPECT_NE(html.find("vegaEmbed"), std::string::npos);
  EXPECT_NE(html.find("credit_applications"), std::string::npos);

  // Count actions, bads and the AUC of risk.score from decisions.csv directly.
  const auto rows = Lines(testing::ReadFile(dir / "decisions.csv"));
  ASSERT_EQ(rows.size(), 4455u);
  const auto header = Cells(rows[0]);
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t status = col("Status"), action = col("action"), score = col("risk.score");
  ASSERT_LT(score, header.size());
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_action;  // count, bad
  std::vector<double> bad_scores, good_scores;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto c = Cells(rows[i]);
    const bool bad = c[status] == "bad";
    auto& slot = by_action[c[action]];
    ++slot.first;
    slot.second += bad;
    (bad ? bad_scores : good_scores).push_back(std::stod(c[score]));
  }
  for (const auto& [name, counts] : by_action) {
    const size_t at = metrics.find("{\"action\": \"" + name + "\"");
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_EQ(NumberAfter(metrics, "count", at), static_cast<double>(counts.first)) << name;
    EXPECT_EQ(NumberAfter(metrics, "bad", at), static_cast<double>(counts.second)) << name;
  }
  // AUC by counting pairs (ties count half): exact, and slow enough only here.
  double wins = 0;
  for (double b : bad_scores) {
    for (double g : good_scores) wins += b > g ? 1.0 : b == g ? 0.5 : 0.0;
  }
  const double auc = wins / (static_cast<double>(bad_scores.size()) *
                             static_cast<double>(good_scores.size()));
  EXPECT_NEAR(NumberAfter(metrics, "auc"), auc, 1e-12);
  EXPECT_NEAR(NumberAfter(metrics, "gini"), 2 * auc - 1, 1e-12);
  EXPECT_EQ(NumberAfter(metrics, "labelled"), 4454.0);
  EXPECT_EQ(NumberAfter(metrics, "bad"), 1254.0);
  EXPECT_NE(metrics.find("\"swap\": null"), std::string::npos);
  EXPECT_NE(metrics.find("\"period_unit\": \"all\""), std::string::npos);
}

const char* kSplitPipeline = R"(pipeline: split_test
source:
  schema:
    id:      {type: string, id: true}
    ts:      {type: timestamp, event_time: true}
    card:    string
    amount:  float64
features:
  n_1h: count() over 1h by card
decision:
  actions: [approve, review, decline]
  rules:
    - {id: big, when: amount > 900, action: decline, reason: BIG}
    - {id: busy, when: n_1h >= 3, action: review, reason: BUSY}
  default: approve
challenger:
  name: strict
  mode: split
  percent: 30
  split_by: card
  rules:
    - {id: big, when: amount > 500, action: decline, reason: BIG}
    - {id: busy, when: n_1h >= 2, action: review, reason: BUSY}
  default: approve
reason_codes:
  BIG: "Amount {amount:.2f} is large"
  BUSY: Many payments in an hour
)";

TEST(Backtest, SplitChallengerGivesTheSwapSets) {
  const fs::path dir = testing::FreshTestDir();
  std::ofstream(dir / "p.yaml") << kSplitPipeline;
  std::ofstream events(dir / "events.csv");
  std::ofstream labels(dir / "labels.csv");
  events << "id,ts,card,amount\n";
  labels << "id,outcome\n";
  uint64_t x = 88172645463325252ULL;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 3000; ++i) {
    const int amount = static_cast<int>(next() % 1000);
    const int minute = i / 10;
    events << "e" << i << ",2026-03-0" << 1 + minute / 1440 << "T" << (minute / 60) % 24 / 10
           << (minute / 60) % 24 % 10 << ":" << minute % 60 / 10 << minute % 60 % 10 << ":00Z,c"
           << next() % 200 << "," << amount << "\n";
    labels << "e" << i << "," << (amount > 700 && next() % 3 == 0 ? "yes" : "no") << "\n";
  }
  events.close();
  labels.close();
  auto r = testing::RunShell(Bin() + " backtest p.yaml -i events.csv --labels labels.csv "
                                     "--report rep -q",
                             dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string m = testing::ReadFile(dir / "rep" / "metrics.json");
  EXPECT_NE(m.find("\"role\": \"champion\""), std::string::npos);
  EXPECT_NE(m.find("\"role\": \"challenger\""), std::string::npos);
  // Every record is in one cell of the swap matrix.
  double total = 0;
  for (size_t at = m.find("\"matrix\": ["); at != std::string::npos;) {
    at = m.find("{\"champion\": ", at + 1);
    if (at == std::string::npos || at > m.find("\"swap_in\"")) break;
    total += NumberAfter(m, "count", at);
  }
  EXPECT_EQ(total, 3000.0);
  // Approved by the champion, declined or reviewed by the stricter
  // challenger: swap-out; the reverse cannot happen with these rules.
  EXPECT_GT(NumberAfter(m, "count", m.find("\"swap_out\"")), 0.0);
  EXPECT_EQ(NumberAfter(m, "count", m.find("\"swap_in\"")), 0.0);

  // The output names the acting policy; the split is about 30% of cards.
  const auto rows = Lines(testing::ReadFile(dir / "rep" / "decisions.csv"));
  ASSERT_EQ(rows.size(), 3001u);
  const auto header = Cells(rows[0]);
  const size_t policy =
      static_cast<size_t>(std::find(header.begin(), header.end(), "policy") - header.begin());
  ASSERT_LT(policy, header.size()) << rows[0];
  size_t strict = 0;
  for (size_t i = 1; i < rows.size(); ++i) strict += Cells(rows[i])[policy] == "strict";
  EXPECT_GT(strict, 600u);
  EXPECT_LT(strict, 1200u);
}

TEST(Backtest, ExplainsBadLabels) {
  const fs::path dir = testing::FreshTestDir();
  std::ofstream(dir / "p.yaml") << kSplitPipeline;
  std::ofstream(dir / "events.csv") << "id,ts,card,amount\ne1,2026-03-01T00:00:00Z,c1,5\n";
  std::ofstream(dir / "labels.csv") << "id,outcome\ne1,maybe\n";
  auto r = testing::RunShell(Bin() + " backtest p.yaml -i events.csv --labels labels.csv "
                                     "--report rep -q",
                             dir.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("outcome 'maybe' is not 1/0, true/false, yes/no or bad/good"),
            std::string::npos)
      << r.output;
  std::ofstream(dir / "labels2.csv") << "id,a,b\ne1,1,0\n";
  r = testing::RunShell(Bin() + " backtest p.yaml -i events.csv --labels labels2.csv --report "
                                "rep -q",
                        dir.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("name the outcome with --label-column"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice
