// Scorecards read from JSON: the same card as one defined in code, the
// committed example file, and the exact error for each kind of malformed file.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "model/scorecard.h"

namespace sluice::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
using Kind = ScorecardBin::Kind;

// The card of scorecard_test.cc's Example(), as a file.
constexpr std::string_view kCard = R"({"base_points": 600, "characteristics": [
  {"input": "Age", "bins": [{"to": 25, "points": 10}, {"from": 40, "points": 40},
                            {"from": 25, "to": 40, "points": 25}, {"missing": true, "points": 15}]},
  {"input": "Home", "bins": [{"values": ["owner"], "points": 40},
                             {"values": ["rent", "parents"], "points": 20},
                             {"else": true, "points": 5}]}]})";

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string s(text);
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string DataPath(const std::string& file) {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/model/data/" + file;
}

TEST(ScorecardJson, ReadsTheCardAsWritten) {
  auto card = Scorecard::ParseJson(kCard, "card.json");
  ASSERT_TRUE(card.ok()) << card.status().message();
  const ScorecardDefinition& def = (*card)->definition();
  EXPECT_EQ(def.base_points, 600);
  ASSERT_EQ(def.characteristics.size(), 2u);
  const Characteristic& age = def.characteristics[0];
  EXPECT_EQ(age.input, "Age");
  ASSERT_EQ(age.bins.size(), 4u);
  EXPECT_EQ(age.bins[0].kind, Kind::kRange);
  EXPECT_EQ(age.bins[0].from, -kInf);  // left out: -infinity
  EXPECT_EQ(age.bins[0].to, 25);
  EXPECT_EQ(age.bins[1].from, 40);
  EXPECT_EQ(age.bins[1].to, kInf);  // left out: +infinity
  EXPECT_EQ(age.bins[3].kind, Kind::kMissing);
  EXPECT_EQ(age.bins[3].points, 15);
  const Characteristic& home = def.characteristics[1];
  EXPECT_EQ(home.bins[1].kind, Kind::kValues);
  EXPECT_EQ(home.bins[1].values, (std::vector<std::string>{"rent", "parents"}));
  EXPECT_EQ(home.bins[2].kind, Kind::kElse);

  // Scored exactly as the card made in code (scorecard_test.cc).
  ASSERT_EQ((*card)->categories(1), (std::vector<std::string>{"owner", "rent", "parents"}));
  const double x[] = {24.9, 0, 25, 1, 40, 2, kNaN, 7, 39.99, kNaN};
  double score[5], points[10];
  (*card)->Predict(x, 5, 2, score, points);
  EXPECT_EQ(std::vector<double>(points, points + 10),
            (std::vector<double>{10, 40, 25, 20, 40, 20, 15, 5, 25, 5}));
  EXPECT_EQ(std::vector<double>(score, score + 5), (std::vector<double>{650, 645, 660, 620, 630}));
  EXPECT_EQ((*card)->max_score(), 680);
}

TEST(ScorecardJson, LoadsTheCommittedExample) {
  // data/scorecard.json is the card of tests/golden/linear_scorecard.
  auto card = Scorecard::LoadJson(DataPath("scorecard.json"));
  ASSERT_TRUE(card.ok()) << card.status().message();
  ASSERT_EQ((*card)->num_characteristics(), 3u);
  EXPECT_FALSE((*card)->is_categorical(0));
  EXPECT_TRUE((*card)->is_categorical(1));
  EXPECT_TRUE((*card)->has_missing(2));
  // Age 30, owner, debt_to_income 0.2; then 24, rent, 2; then 40, unlisted, missing.
  const double x[] = {30, 0, 0.2, 24, 1, 2, 40, -1, kNaN};
  double score[3], points[9];
  (*card)->Predict(x, 3, 3, score, points);
  EXPECT_EQ(std::vector<double>(score, score + 3), (std::vector<double>{695, 630, 657}));
  double contributions[3];
  (*card)->Contributions(x + 3, contributions);
  EXPECT_EQ(std::vector<double>(contributions, contributions + 3),
            (std::vector<double>{30, 20, 30}));
}

struct BadCard {
  const char* what;
  std::string json;
  std::string error;
};

std::vector<BadCard> BadCards() {
  const std::string_view c = kCard;
  const std::string age_bins =
      R"([{"to": 25, "points": 10}, {"from": 40, "points": 40},
                            {"from": 25, "to": 40, "points": 25}, {"missing": true, "points": 15}])";
  const auto with_age_bins = [&](std::string_view bins) { return Replace(c, age_bins, bins); };
  const auto with_first_bin = [&](std::string_view bin) {
    return Replace(c, R"({"to": 25, "points": 10})", bin);
  };
  return {
      {"truncated", std::string(c.substr(0, 60)),
       "card.json: not valid JSON (The JSON document has an improper structure: missing or "
       "superfluous commas, braces, missing keys, etc.)"},
      {"empty", "", "card.json: not valid JSON (Empty: no JSON found)"},
      {"not an object", "[1, 2]",
       "card.json: expected a JSON object with \"base_points\" and \"characteristics\", found an "
       "array"},
      {"no base points", Replace(c, R"("base_points": 600, )", ""),
       "card.json: missing key \"base_points\""},
      {"base points as text", Replace(c, "600", "\"600\""),
       "card.json: base_points: expected a number, found a string"},
      {"unknown key", Replace(c, R"("base_points")", R"("base")"),
       "card.json: unknown key \"base\" (expected base_points and characteristics)"},
      {"repeated key",
       Replace(c, R"("base_points": 600,)", R"("base_points": 600, "base_points": 1,)"),
       "card.json: duplicate key \"base_points\""},
      {"no characteristics", R"({"base_points": 600})",
       "card.json: missing key \"characteristics\""},
      {"characteristics not a list", R"({"base_points": 600, "characteristics": {"Age": []}})",
       "card.json: characteristics: expected an array of {\"input\", \"bins\"} objects, found an "
       "object"},
      {"no characteristic", R"({"base_points": 600, "characteristics": []})",
       "card.json: a scorecard needs at least one characteristic"},
      {"characteristic not an object", R"({"base_points": 600, "characteristics": [7]})",
       "card.json: characteristics[0]: expected an object with \"input\" and \"bins\", found a "
       "number"},
      {"characteristic without input", Replace(c, R"("input": "Home", )", ""),
       "card.json: characteristics[1]: missing key \"input\""},
      {"input not a name", Replace(c, R"("input": "Home")", R"("input": 3)"),
       "card.json: characteristics[1].input: expected a string (a field or feature name), found "
       "a number"},
      {"unknown characteristic key", Replace(c, R"("input": "Home")", R"("name": "Home")"),
       "card.json: characteristics[1]: unknown key \"name\" (expected input and bins)"},
      {"bins not a list", with_age_bins(R"({"to": 25, "points": 10})"),
       "card.json: characteristics[0].bins: expected an array of bins, found an object"},
      {"no bins", with_age_bins("[]"),
       "card.json: characteristics[0]: characteristic 'Age' needs range bins (from/to) or value "
       "bins"},
      {"bin not an object", with_first_bin("[25, 10]"),
       "card.json: characteristics[0].bins[0]: expected an object such as {\"from\": 25, \"to\": "
       "40, \"points\": 10}, found an array"},
      {"misspelt key", with_first_bin(R"({"too": 25, "points": 10})"),
       "card.json: characteristics[0].bins[0]: unknown key \"too\" (expected from, to, values, "
       "missing, else and points)"},
      {"two kinds of bin", with_first_bin(R"({"to": 25, "values": ["x"], "points": 10})"),
       "card.json: characteristics[0].bins[0]: a bin needs exactly one of from/to, values, "
       "\"missing\": true and \"else\": true"},
      {"no kind of bin", with_first_bin(R"({"points": 10})"),
       "card.json: characteristics[0].bins[0]: a bin needs exactly one of from/to, values, "
       "\"missing\": true and \"else\": true"},
      {"bound as text", with_first_bin(R"({"to": "25", "points": 10})"),
       "card.json: characteristics[0].bins[0].to: expected a number, found a string"},
      {"bound null", with_first_bin(R"({"from": null, "to": 25, "points": 10})"),
       "card.json: characteristics[0].bins[0].from: expected a number, found null"},
      {"no points", with_first_bin(R"({"to": 25})"),
       "card.json: characteristics[0].bins[0]: missing key \"points\""},
      {"points not a number", with_first_bin(R"({"to": 25, "points": true})"),
       "card.json: characteristics[0].bins[0].points: expected a number, found true/false"},
      {"number too large", with_first_bin(R"({"to": 25, "points": 1e999})"),
       "card.json: not valid JSON (Problem while parsing a number)"},
      {"values not a list", Replace(c, R"(["owner"])", R"("owner")"),
       "card.json: characteristics[1].bins[0].values: expected an array of strings, found a "
       "string"},
      {"value not a string", Replace(c, R"(["rent", "parents"])", R"(["rent", 2])"),
       "card.json: characteristics[1].bins[1].values[1]: expected a string, found a number"},
      {"missing: false", Replace(c, R"("missing": true)", R"("missing": false)"),
       "card.json: characteristics[0].bins[3].missing: expected true, found false"},
      {"else as text", Replace(c, R"("else": true)", R"("else": "yes")"),
       "card.json: characteristics[1].bins[2].else: expected true, found a string"},
      // What Scorecard::Validate refuses, at the bin or characteristic at fault.
      {"overlapping bins", Replace(c, R"({"to": 25, "points": 10})", R"({"to": 30, "points": 10})"),
       "card.json: characteristics[0].bins[2]: bins [-inf, 30) and [25, 40) of characteristic "
       "'Age' overlap on [25, 30)"},
      {"a gap", Replace(c, R"({"to": 25, "points": 10})", R"({"to": 20, "points": 10})"),
       "card.json: characteristics[0].bins[2]: characteristic 'Age' has no bin for [20, 25)"},
      {"empty range", with_first_bin(R"({"from": 25, "to": 25, "points": 10})"),
       "card.json: characteristics[0].bins[0]: bin [25, 25) of characteristic 'Age' is empty: "
       "'from' must be below 'to'"},
      {"value in two bins", Replace(c, R"(["owner"])", R"(["owner", "rent"])"),
       "card.json: characteristics[1].bins[1]: value 'rent' is in two bins of characteristic "
       "'Home'"},
      {"ranges and values mixed", with_first_bin(R"({"values": ["young"], "points": 10})"),
       "card.json: characteristics[0]: characteristic 'Age' mixes range bins (from/to) and value "
       "bins"},
      {"else with ranges",
       Replace(c, R"({"missing": true, "points": 15})", R"({"else": true, "points": 15})"),
       "card.json: characteristics[0].bins[3]: 'else' applies to value bins; the range bins of "
       "characteristic 'Age' must cover every number"},
      {"two missing bins",
       Replace(c, R"({"else": true, "points": 5})", R"({"missing": true, "points": 5},
                  {"missing": true, "points": 6})"),
       "card.json: characteristics[1].bins[3]: characteristic 'Home' has two 'missing' bins"},
      {"input used twice", Replace(c, R"("input": "Home")", R"("input": "Age")"),
       "card.json: characteristics[1]: input 'Age' has two characteristics"},
      {"empty input", Replace(c, R"("input": "Home")", R"("input": "")"),
       "card.json: characteristics[1]: a characteristic has no input"},
  };
}

TEST(ScorecardJson, EachMalformedFileGivesItsExactError) {
  for (const BadCard& bad : BadCards()) {
    auto card = Scorecard::ParseJson(bad.json, "card.json");
    ASSERT_FALSE(card.ok()) << bad.what;
    EXPECT_EQ(card.status().code(), StatusCode::kInvalidInput) << bad.what;
    EXPECT_EQ(card.status().message(), bad.error) << bad.what;
  }
}

TEST(ScorecardJson, EveryTruncationIsAnError) {
  for (size_t n = 0; n + 1 < kCard.size(); ++n) {
    auto card = Scorecard::ParseJson(kCard.substr(0, n), "cut.json");
    EXPECT_FALSE(card.ok()) << n;
  }
}

TEST(ScorecardJson, MissingFile) {
  auto card = Scorecard::LoadJson("/nonexistent/card.json");
  ASSERT_FALSE(card.ok());
  EXPECT_EQ(card.status().code(), StatusCode::kIoError);
  EXPECT_EQ(card.status().message(), "/nonexistent/card.json: cannot open the model file");
}

}  // namespace
}  // namespace sluice::model
