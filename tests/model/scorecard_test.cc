#include "model/scorecard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace sluice::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
using Kind = ScorecardBin::Kind;

ScorecardBin Range(double from, double to, double points) {
  return {Kind::kRange, from, to, {}, points};
}
ScorecardBin Values(std::vector<std::string> values, double points) {
  return {Kind::kValues, -kInf, kInf, std::move(values), points};
}
ScorecardBin Missing(double points) {
  return {Kind::kMissing, -kInf, kInf, {}, points};
}
ScorecardBin Else(double points) {
  return {Kind::kElse, -kInf, kInf, {}, points};
}

ScorecardDefinition Example() {
  ScorecardDefinition def;
  def.base_points = 600;
  def.characteristics = {
      {"Age", {Range(-kInf, 25, 10), Range(40, kInf, 40), Range(25, 40, 25), Missing(15)}},
      {"Home", {Values({"owner"}, 40), Values({"rent", "parents"}, 20), Else(5)}},
  };
  return def;
}

TEST(Scorecard, ScoresRows) {
  auto card = Scorecard::Create(Example());
  ASSERT_TRUE(card.ok()) << card.status().message();
  ASSERT_EQ((*card)->categories(1), (std::vector<std::string>{"owner", "rent", "parents"}));
  // Age, Home code: 24.9/owner, 25/rent, 40/parents, missing/unknown code, 39.99/missing.
  const double x[] = {24.9, 0, 25, 1, 40, 2, kNaN, 7, 39.99, kNaN};
  double score[5], points[10];
  (*card)->Predict(x, 5, 2, score, points);
  EXPECT_EQ(std::vector<double>(points, points + 10),
            (std::vector<double>{10, 40, 25, 20, 40, 20, 15, 5, 25, 5}));
  EXPECT_EQ(std::vector<double>(score, score + 5), (std::vector<double>{650, 645, 660, 620, 630}));
}

TEST(Scorecard, ContributionsArePointsBelowMaximum) {
  auto card = Scorecard::Create(Example());
  ASSERT_TRUE(card.ok());
  EXPECT_EQ((*card)->max_points(0), 40);
  EXPECT_EQ((*card)->max_points(1), 40);
  EXPECT_EQ((*card)->max_score(), 680);
  const double row[] = {30, 1};
  double contrib[2], score = 0, points[2];
  (*card)->Contributions(row, contrib);
  (*card)->Predict(row, 1, 2, &score, points);
  EXPECT_EQ(contrib[0], 15);
  EXPECT_EQ(contrib[1], 20);
  EXPECT_EQ(contrib[0] + contrib[1], (*card)->max_score() - score);
}

TEST(Scorecard, MissingWithoutMissingBin) {
  ScorecardDefinition def;
  def.characteristics = {{"x", {Range(-kInf, kInf, 1)}}, {"c", {Values({"a"}, 2), Else(3)}}};
  auto card = Scorecard::Create(def);
  ASSERT_TRUE(card.ok()) << card.status().message();
  const double x[] = {kNaN, kNaN};
  double score = 0, points[2];
  (*card)->Predict(x, 1, 2, &score, points);
  EXPECT_TRUE(std::isnan(points[0]));  // a numeric input has nowhere to go
  EXPECT_EQ(points[1], 3);             // a categorical one takes `else`
  EXPECT_TRUE(std::isnan(score));
}

TEST(Scorecard, RejectsHostileDefinitions) {
  struct Case {
    std::vector<Characteristic> chars;
    std::string message;
  };
  std::vector<Case> cases = {
      {{}, "a scorecard needs at least one characteristic"},
      {{{"x", {Range(-kInf, 1, 0), Range(2, kInf, 0)}}},
       "characteristic 'x' has no bin for [1, 2)"},
      {{{"x", {Range(-kInf, 5, 0), Range(2, kInf, 0)}}},
       "bins [-inf, 5) and [2, inf) of characteristic 'x' overlap on [2, 5)"},
      {{{"x", {Range(0, kInf, 0)}}}, "characteristic 'x' has no bin for [-inf, 0)"},
      {{{"x", {Range(-kInf, 0, 0)}}}, "characteristic 'x' has no bin for [0, inf)"},
      {{{"x", {Range(-kInf, kInf, 0), Range(3, 3, 0)}}},
       "bin [3, 3) of characteristic 'x' is empty: 'from' must be below 'to'"},
      {{{"x", {Range(-kInf, kInf, kNaN)}}},
       "the points of a bin of characteristic 'x' must be finite"},
      {{{"x", {Range(-kInf, kInf, 0), Values({"a"}, 1)}}},
       "characteristic 'x' mixes range bins (from/to) and value bins"},
      {{{"x", {Values({"a", "b"}, 0), Values({"b"}, 1)}}},
       "value 'b' is in two bins of characteristic 'x'"},
      {{{"x", {Missing(1)}}}, "characteristic 'x' needs range bins (from/to) or value bins"},
      {{{"x", {Range(-kInf, kInf, 0), Else(1)}}},
       "'else' applies to value bins; the range bins of characteristic 'x' must cover every "
       "number"},
      {{{"x", {Values({"a"}, 0), Missing(1), Missing(2)}}},
       "characteristic 'x' has two 'missing' bins"},
      {{{"x", {Range(-kInf, kInf, 0)}}, {"x", {Range(-kInf, kInf, 0)}}},
       "input 'x' has two characteristics"},
  };
  for (const Case& c : cases) {
    ScorecardDefinition def;
    def.characteristics = c.chars;
    auto card = Scorecard::Create(def);
    ASSERT_FALSE(card.ok()) << c.message;
    EXPECT_EQ(card.status().message(), c.message);
  }
  ScorecardDefinition def = Example();
  def.base_points = kInf;
  EXPECT_EQ(Scorecard::Create(def).status().message(), "base points must be finite");
}

}  // namespace
}  // namespace sluice::model
