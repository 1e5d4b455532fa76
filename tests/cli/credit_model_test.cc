// The credit example scores its XGBoost model inside the pipeline: sluice's
// risk.score must equal XGBoost's own prediction for every application
// (credit_model_reference.csv, written by examples/credit/train_model.py).

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

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

  std::map<std::string, double> reference;
  std::istringstream ref(testing::ReadFile(example / "credit_model_reference.csv"));
  std::string line;
  std::getline(ref, line);  // header: app_id,margin,score
  while (std::getline(ref, line)) {
    const size_t a = line.find(','), b = line.rfind(',');
    reference[line.substr(0, a)] = std::stod(line.substr(b + 1));
  }
  ASSERT_EQ(reference.size(), 4454u);

  std::istringstream got(testing::ReadFile(out));
  size_t rows = 0;
  double worst = 0;
  while (std::getline(got, line)) {
    const size_t id = line.find("\"app_id\":\"") + 10;
    const std::string app = line.substr(id, line.find('"', id) - id);
    const size_t s = line.find("\"risk.score\":") + 13;
    const double score = std::stod(line.substr(s));
    ASSERT_TRUE(reference.count(app)) << app;
    worst = std::max(worst, std::abs(score - reference[app]));
    ++rows;
  }
  EXPECT_EQ(rows, 4454u);
  EXPECT_LT(worst, 1e-6);
}

}  // namespace
}  // namespace sluice
