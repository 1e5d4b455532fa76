// Model files in a pipeline, end to end through the sluice binary: a
// scorecard read from JSON gives the same output as the same card written
// inline, and its errors are reported at the pipeline's 'path'; a gblinear
// model scores and explains each record as XGBoost does.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/subprocess.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = fs::path(SLUICE_SOURCE_DIR);
const fs::path kData = kSource / "tests" / "model" / "data";

// A fresh folder for one test's files.
fs::path WorkDir(const std::string& name) {
  const fs::path dir = fs::path(SLUICE_BINARY_DIR) / "model_pipeline_out" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string ReplaceOnce(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, sep)) cells.push_back(cell);
  if (!line.empty() && line.back() == sep) cells.emplace_back();
  return cells;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

TEST(ScorecardFile, SameOutputAsTheInlineCard) {
  // tests/golden/linear_scorecard with its card moved to a file
  // (data/scorecard.json holds the same bins).
  const fs::path golden = kSource / "tests" / "golden" / "linear_scorecard";
  std::string pipeline = testing::ReadFile(golden / "pipeline.yaml");
  const size_t begin = pipeline.find("    base_points: 600\n");
  const size_t end = pipeline.find("decision:");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  pipeline.replace(begin, end - begin, "    path: card.json\n");
  const fs::path dir = WorkDir("scorecard_file");
  testing::WriteFile(dir / "pipeline.yaml", pipeline);
  fs::copy_file(kData / "scorecard.json", dir / "card.json");
  fs::copy_file(golden / "input.csv", dir / "input.csv");

  auto check = testing::RunShell("'" + testing::SluiceBinary() + "' check pipeline.yaml", dir);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  auto run = testing::RunShell("'" + testing::SluiceBinary() +
                                   "' run pipeline.yaml --input input.csv --output out.csv --quiet",
                               dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(testing::ReadFile(dir / "out.csv"), testing::ReadFile(golden / "expected.csv"));
}

constexpr std::string_view kCheckPipeline = R"(pipeline: card_check
source:
  schema:
    app_id: {type: string, id: true}
    Age:    int64
    Home:   {type: enum, values: [rent, owner, parents, other], nullable: true}
models:
  card:
    format: scorecard
    path: card.json
)";

struct CardCase {
  const char* name;
  std::string card;      // card.json; none when empty
  std::string pipeline;  // p.yaml
  std::string output;    // what `sluice check p.yaml` prints
};

std::vector<CardCase> CardCases() {
  const std::string good = R"({"base_points": 600, "characteristics": [
  {"input": "Age", "bins": [{"to": 25, "points": 10}, {"from": 25, "points": 40}]},
  {"input": "Home", "bins": [{"values": ["owner"], "points": 40}, {"else": true, "points": 5}]}]})";
  const std::string p(kCheckPipeline);
  return {
      {"valid", good, p, "p.yaml: pipeline card_check is valid: 3 fields, 0 features, 0 rules\n"},
      {"truncated file", good.substr(0, 50), p,
       "p.yaml:10:11: error: scorecard 'card' cannot be loaded: card.json: not valid JSON (A "
       "string is opened, but never closed.)\n1 error in p.yaml\n"},
      {"wrong type", ReplaceOnce(good, "600", "\"600\""), p,
       "p.yaml:10:11: error: scorecard 'card' cannot be loaded: card.json: base_points: expected "
       "a number, found a string\n1 error in p.yaml\n"},
      {"overlapping bins",
       ReplaceOnce(good, R"({"to": 25, "points": 10})", R"({"to": 30, "points": 10})"), p,
       "p.yaml:10:11: error: scorecard 'card' cannot be loaded: card.json: "
       "characteristics[0].bins[1]: bins [-inf, 30) and [25, inf) of characteristic 'Age' "
       "overlap on [25, 30)\n1 error in p.yaml\n"},
      {"no file", "", p,
       "p.yaml:10:11: error: scorecard 'card' cannot be loaded: card.json: cannot open the model "
       "file\n1 error in p.yaml\n"},
      {"path and bins", good, p + "    base_points: 600\n",
       "p.yaml:11:18: error: scorecard 'card' reads its card from 'path'; 'base_points' belongs in "
       "that file\n1 error in p.yaml\n"},
      {"nullable input without a missing bin",
       ReplaceOnce(good, R"({"else": true, "points": 5})",
                   R"({"values": ["rent", "parents", "other"], "points": 5})"),
       p,
       "p.yaml:10:11: error: scorecard 'card': 'Home' may be null (a nullable field), so its "
       "characteristic needs a {missing: true, points: ...} bin\n1 error in p.yaml\n"},
      {"value not in the enum", ReplaceOnce(good, R"(["owner"])", R"(["owners"])"), p,
       "p.yaml:10:11: error: scorecard 'card': 'owners' is not a value of 'Home' (its values are "
       "'rent', 'owner', 'parents' or 'other'); did you mean 'owner'?\n1 error in p.yaml\n"},
      {"unknown input", ReplaceOnce(good, R"("input": "Age")", R"("input": "Agee")"), p,
       "p.yaml:10:11: error: model 'card' input 'Agee' is not a field or feature; did you mean "
       "'Age'?\n1 error in p.yaml\n"},
  };
}

TEST(ScorecardFile, CheckReportsFileErrorsAtPath) {
  for (const CardCase& c : CardCases()) {
    const fs::path dir = WorkDir("card_check");
    testing::WriteFile(dir / "p.yaml", c.pipeline);
    if (!c.card.empty()) testing::WriteFile(dir / "card.json", c.card);
    auto r = testing::RunShell("'" + testing::SluiceBinary() + "' check p.yaml", dir);
    EXPECT_EQ(r.output, c.output) << c.name;
    EXPECT_EQ(r.exit_code, std::string(c.name) == "valid" ? 0 : 1) << c.name;
  }
}

// gblinear_binary (make_gblinear_reference.py) in a pipeline: every field
// nullable float64, a fifth of the values missing. The scores and margins
// must be XGBoost's, and top(risk, 3) must name the inputs with the largest
// positive pred_contribs.
TEST(GblinearModel, ScoresAndExplainsAsXgboost) {
  const std::vector<std::string> reference =
      Lines(testing::ReadFile(kData / "gblinear_binary.csv"));
  ASSERT_GT(reference.size(), 1u);
  const std::vector<std::string> header = Split(reference[0], ',');
  std::vector<std::string> features;
  for (const std::string& h : header) {
    if (h == "margin0") break;
    features.push_back(h);
  }
  const size_t nf = features.size();
  ASSERT_EQ(nf, 13u);

  std::string pipeline =
      "pipeline: gblinear\nsource:\n  schema:\n    id: {type: int64, id: true}\n";
  for (const std::string& f : features)
    pipeline += "    " + f + ": {type: float64, nullable: true}\n";
  pipeline += "models:\n  risk: {format: xgboost, path: '" +
              (kData / "gblinear_binary.json").string() +
              "'}\ndecision:\n  rules:\n    - {id: all, when: risk.score >= 0, action: explain, "
              "reasons: \"top(risk, 3)\"}\n  default: explain\nreason_codes:\n";
  for (const std::string& f : features) pipeline += "  " + f + ": " + f + " text\n";
  pipeline += "output:\n  fields: [id, risk.score, risk.margin]\n";
  std::string input = "id";
  for (const std::string& f : features) input += "," + f;
  input += "\n";
  for (size_t r = 1; r < reference.size(); ++r) {
    const std::vector<std::string> cells = Split(reference[r], ',');
    input += std::to_string(r);
    for (size_t f = 0; f < nf; ++f) input += "," + cells[f];
    input += "\n";
  }
  const fs::path dir = WorkDir("gblinear");
  testing::WriteFile(dir / "pipeline.yaml", pipeline);
  testing::WriteFile(dir / "input.csv", input);
  auto run = testing::RunShell("'" + testing::SluiceBinary() +
                                   "' run pipeline.yaml --input input.csv --output out.csv --quiet",
                               dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;

  const std::vector<std::string> out = Lines(testing::ReadFile(dir / "out.csv"));
  ASSERT_EQ(out.size(), reference.size());
  EXPECT_EQ(out[0], "id,risk.score,risk.margin,action,rule,reason_codes,reason_texts");
  for (size_t r = 1; r < reference.size(); ++r) {
    const std::vector<std::string> want = Split(reference[r], ',');
    const std::vector<std::string> got = Split(out[r], ',');
    ASSERT_EQ(got.size(), 7u) << out[r];
    const double margin = std::stod(want[nf]), prob = std::stod(want[nf + 1]);
    EXPECT_NEAR(std::stod(got[1]), prob, 1e-6) << "row " << r;
    EXPECT_NEAR(std::stod(got[2]), margin, 1e-5) << "row " << r;
    // The three largest positive contributions, strongest first.
    std::vector<std::pair<double, size_t>> contribs;
    for (size_t f = 0; f < nf; ++f) {
      const double c = std::stod(want[nf + 2 + f]);
      if (c > 0) contribs.emplace_back(-c, f);
    }
    std::sort(contribs.begin(), contribs.end());
    std::string codes;
    for (size_t k = 0; k < std::min<size_t>(3, contribs.size()); ++k) {
      codes += (k ? "|" : "") + features[contribs[k].second];
    }
    EXPECT_EQ(got[5], codes) << "row " << r;
  }
}

}  // namespace
}  // namespace sluice
