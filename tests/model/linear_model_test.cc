#include "model/linear_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace sluice::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

LinearDefinition Example() {
  LinearDefinition def;
  def.intercept = -3.2;
  def.link = Link::kLogistic;
  def.terms = {{"dti", 0.8, 0}, {"Age", -0.02, 37}, {"Records", 1.1, 0}};
  return def;
}

TEST(LinearModel, PredictsMarginsAndScores) {
  auto model = LinearModel::Create(Example());
  ASSERT_TRUE(model.ok()) << model.status().message();
  const double x[] = {0.5, 30, 1, 0.0, 50, 0};
  double margin[2], score[2];
  (*model)->PredictMargin(x, 2, 3, margin);
  (*model)->Transform(margin, 2, score);
  EXPECT_DOUBLE_EQ(margin[0], -3.2 + 0.8 * 0.5 - 0.02 * 30 + 1.1);
  EXPECT_DOUBLE_EQ(margin[1], -3.2 - 0.02 * 50);
  EXPECT_DOUBLE_EQ(score[0], 1 / (1 + std::exp(-margin[0])));
}

TEST(LinearModel, MissingInputTakesItsReference) {
  auto model = LinearModel::Create(Example());
  ASSERT_TRUE(model.ok());
  const double x[] = {0.5, kNaN, 1};
  double margin = 0, contrib[4];
  (*model)->PredictMargin(x, 1, 3, &margin);
  EXPECT_DOUBLE_EQ(margin, -3.2 + 0.8 * 0.5 - 0.02 * 37 + 1.1);
  (*model)->Contributions(x, contrib);
  EXPECT_EQ(contrib[1], 0.0);
}

TEST(LinearModel, ContributionsSumToMargin) {
  auto model = LinearModel::Create(Example());
  ASSERT_TRUE(model.ok());
  const double x[] = {0.25, 61, 0};
  double margin = 0, contrib[4];
  (*model)->PredictMargin(x, 1, 3, &margin);
  (*model)->Contributions(x, contrib);
  EXPECT_DOUBLE_EQ(contrib[0], 0.8 * 0.25);
  EXPECT_DOUBLE_EQ(contrib[1], -0.02 * (61 - 37));
  EXPECT_DOUBLE_EQ(contrib[3], -3.2 - 0.02 * 37);  // bias: the margin at the reference
  EXPECT_NEAR(contrib[0] + contrib[1] + contrib[2] + contrib[3], margin, 1e-12);
}

TEST(LinearModel, Links) {
  LinearDefinition def = Example();
  def.link = Link::kExp;
  auto model = LinearModel::Create(def);
  ASSERT_TRUE(model.ok());
  const double m = 0.7;
  double out = 0;
  (*model)->Transform(&m, 1, &out);
  EXPECT_DOUBLE_EQ(out, std::exp(0.7));
  EXPECT_EQ(ParseLink("identity"), Link::kIdentity);
  EXPECT_EQ(ParseLink("logit"), std::nullopt);
}

TEST(LinearModel, RejectsHostileDefinitions) {
  struct Case {
    LinearDefinition def;
    std::string message;
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Case> cases = {
      {{kNaN, Link::kIdentity, {{"a", 1, 0}}}, "the intercept must be a finite number"},
      {{0, Link::kIdentity, {}}, "a linear model needs at least one coefficient"},
      {{0, Link::kIdentity, {{"a", inf, 0}}}, "the coefficient of 'a' must be a finite number"},
      {{0, Link::kIdentity, {{"a", 1, kNaN}}}, "the reference of 'a' must be a finite number"},
      {{0, Link::kIdentity, {{"a", 1, 0}, {"a", 2, 0}}}, "input 'a' has two coefficients"},
      {{0, Link::kIdentity, {{"", 1, 0}}}, "an input name is empty"},
  };
  for (const Case& c : cases) {
    auto model = LinearModel::Create(c.def);
    ASSERT_FALSE(model.ok()) << c.message;
    EXPECT_EQ(model.status().message(), c.message);
  }
}

TEST(LinearModel, ParsesJson) {
  auto model = LinearModel::ParseJson(
      R"({"intercept": 1, "coefficients": {"a": 2, "b": -0.5}, "reference": {"b": 4}})", "m.json",
      Link::kLogistic);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->link(), Link::kLogistic);
  ASSERT_EQ((*model)->num_inputs(), 2u);
  EXPECT_EQ((*model)->definition().terms[1].input, "b");
  EXPECT_EQ((*model)->definition().terms[1].reference, 4);
  EXPECT_DOUBLE_EQ((*model)->bias(), 1 - 0.5 * 4);
}

TEST(LinearModel, RejectsBadJson) {
  struct Case {
    std::string json, message;
  };
  std::vector<Case> cases = {
      {"{", "m.json: not valid JSON"},
      {"[1]", "m.json: expected a JSON object with \"intercept\" and \"coefficients\""},
      {R"({"coefficients": {"a": 1}})", "m.json: missing key \"intercept\""},
      {R"({"intercept": 0})", "m.json: missing key \"coefficients\""},
      {R"({"intercept": "x", "coefficients": {"a": 1}})",
       "m.json: \"intercept\": expected a number"},
      {R"({"intercept": 0, "coefficients": {"a": 1}, "link": "logit"})",
       "m.json: \"link\": unknown link 'logit'; expected identity, logistic or exp"},
      {R"({"intercept": 0, "coefficients": {"a": 1}, "bias": 1})",
       "m.json: unknown key \"bias\"; expected intercept, coefficients, link or reference"},
      {R"({"intercept": 0, "coefficients": {"a": 1}, "reference": {"b": 1}})",
       "m.json: \"reference\" names 'b', which has no coefficient"},
      {R"({"intercept": 0, "coefficients": {"a": 1e999}})", "m.json: "},
      {R"({"intercept": 0, "coefficients": {"a": 1, "a": 2}})",
       "m.json: input 'a' has two coefficients"},
  };
  for (const Case& c : cases) {
    auto model = LinearModel::ParseJson(c.json, "m.json", Link::kIdentity);
    ASSERT_FALSE(model.ok()) << c.json;
    EXPECT_EQ(model.status().message().substr(0, c.message.size()), c.message) << c.json;
  }
}

// The committed fixture was fitted by scikit-learn's LogisticRegression
// (tests/model/make_linear_reference.py); sluice must reproduce its margins
// and probabilities.
TEST(LinearModel, MatchesScikitLearn) {
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/tests/model/data/";
  auto model = LinearModel::LoadJson(dir + "credit_logistic.json", Link::kIdentity);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->link(), Link::kLogistic);
  std::ifstream in(dir + "credit_logistic_reference.csv");
  ASSERT_TRUE(in);
  std::string line;
  std::getline(in, line);
  int rows = 0;
  while (std::getline(in, line)) {
    std::vector<double> v;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) v.push_back(std::stod(cell));
    ASSERT_EQ(v.size(), 8u);
    double margin = 0, prob = 0;
    (*model)->PredictMargin(v.data(), 1, 6, &margin);
    (*model)->Transform(&margin, 1, &prob);
    EXPECT_NEAR(margin, v[6], 1e-12);
    EXPECT_NEAR(prob, v[7], 1e-12);
    ++rows;
  }
  EXPECT_EQ(rows, 50);
}

}  // namespace
}  // namespace sluice::model
