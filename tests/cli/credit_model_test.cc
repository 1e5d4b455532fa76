// The credit example scores its XGBoost model inside the pipeline: sluice's
// risk.score must equal XGBoost's own prediction for every application
// (credit_model_reference.csv, written by examples/credit/train_model.py),
// and the reasons that rules take from the model's contributions must be the
// inputs XGBoost's own TreeSHAP ranks highest.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

TEST(CreditExample, ModelScoresEqualXGBoost) {
  const fs::path example = fs::path(SLUICE_SOURCE_DIR) / "examples" / "credit";
  const fs::path out = fs::path(SLUICE_BINARY_DIR) / "credit_example_scores.jsonl";
  auto r = testing::RunShell("'" + testing::SluiceBinary() +
                                 "' run credit.yaml --input credit_data.csv --output '" +
                                 out.string() + "' --quiet",
                             example.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // app_id -> (score, inputs with positive contributions, strongest first)
  std::map<std::string, std::pair<double, std::vector<std::string>>> reference;
  std::istringstream ref(testing::ReadFile(example / "credit_model_reference.csv"));
  std::string line;
  std::getline(ref, line);  // header: app_id,margin,score,top_inputs
  while (std::getline(ref, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (cells.size() == 3) cells.emplace_back();
    ASSERT_EQ(cells.size(), 4u) << line;
    std::vector<std::string> top;
    std::stringstream ts(cells[3]);
    while (std::getline(ts, cell, ';')) top.push_back(cell);
    reference[cells[0]] = {std::stod(cells[2]), top};
  }
  ASSERT_EQ(reference.size(), 4454u);

  std::istringstream got(testing::ReadFile(out));
  size_t rows = 0, explained = 0;
  double worst = 0;
  auto text_after = [&line](const std::string& key, size_t from = 0) {
    const size_t at = line.find(key, from);
    if (at == std::string::npos) return std::string();
    const size_t start = at + key.size();
    return line.substr(start, line.find('"', start) - start);
  };
  while (std::getline(got, line)) {
    const std::string app = text_after("\"app_id\":\"");
    const size_t s = line.find("\"risk.score\":") + 13;
    const double score = std::stod(line.substr(s));
    ASSERT_TRUE(reference.count(app)) << app;
    const auto& [want_score, want_top] = reference[app];
    worst = std::max(worst, std::abs(score - want_score));
    ++rows;
    // Rules with top(risk, k) give the k inputs with the largest positive
    // TreeSHAP contributions, as XGBoost's pred_contribs ranks them.
    const std::string rule = text_after("\"rule\":\"");
    const size_t k = rule == "model_high_risk" ? 4 : rule == "model_elevated_risk" ? 2 : 0;
    if (k == 0) continue;
    std::vector<std::string> codes;
    for (size_t at = line.find("\"code\":\""); at != std::string::npos;
         at = line.find("\"code\":\"", at + 1)) {
      codes.push_back(text_after("\"code\":\"", at));
    }
    std::vector<std::string> expected(want_top.begin(),
                                      want_top.begin() + std::min(k, want_top.size()));
    EXPECT_EQ(codes, expected) << app;
    ++explained;
  }
  EXPECT_EQ(rows, 4454u);
  EXPECT_LT(worst, 1e-6);
  EXPECT_GT(explained, 900u);
}

}  // namespace
}  // namespace sluice
