// Hand-made models: exact scoring and contributions on a tiny tree and a tiny
// gblinear booster, and the exact error for each kind of malformed or hostile
// file.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "model/tree_ensemble.h"

namespace sluice::model {
namespace {

// One tree: node 0 splits feature b (index 1) at 0.5, missing goes left;
// leaves -1 (cover 4) and 2 (cover 6).
constexpr std::string_view kTinyModel = R"({"learner":{"feature_names":["a","b"],
"gradient_booster":{"model":{"gbtree_model_param":{"num_trees":"1"},"tree_info":[0],
"trees":[{"tree_param":{"num_nodes":"3","num_feature":"2","size_leaf_vector":"0"},
"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[1,0,0],
"split_conditions":[5E-1,-1E0,2E0],"default_left":[1,0,0],"sum_hessian":[1E1,4E0,6E0],
"split_type":[0,0,0],"categories":[],"categories_nodes":[],"categories_segments":[],
"categories_sizes":[]}]},"name":"gbtree"},
"learner_model_param":{"base_score":"5E-1","num_class":"0","num_feature":"2"},
"objective":{"name":"binary:logistic"}},"version":[1,7,4]})";

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string s(text);
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(TinyModel, ScoresAndExplains) {
  auto loaded = TreeEnsemble::ParseXgboostJson(kTinyModel, "tiny.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const TreeEnsemble& model = **loaded;
  EXPECT_EQ(model.num_features(), 2u);
  EXPECT_EQ(model.feature_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model.base_margin(), 0.0f);
  const std::vector<float> rows = {9, 0.25f, 9, 0.5f, 9, kNaN, kNaN, 7};
  std::vector<float> margin(4);
  model.PredictMargin(rows.data(), 4, 2, margin.data());
  EXPECT_EQ(margin, (std::vector<float>{-1, 2, -1, 2}));
  std::vector<float> prob(4);
  model.Transform(margin.data(), 4, prob.data());
  EXPECT_FLOAT_EQ(prob[1], 1.0f / (1.0f + std::exp(-2.0f)));

  // Expected value (-1 * 4 + 2 * 6) / 10 = 0.8; feature b explains the rest.
  std::vector<float> phi(3);
  model.Contributions(rows.data(), phi.data());
  EXPECT_FLOAT_EQ(phi[0], 0.0f);
  EXPECT_FLOAT_EQ(phi[1], -1.8f);
  EXPECT_FLOAT_EQ(phi[2], 0.8f);
  model.Contributions(rows.data() + 2, phi.data());
  EXPECT_FLOAT_EQ(phi[1], 1.2f);
}

TEST(TinyModel, ReadsXgboost2Spellings) {
  // 2.x writes base_score as a list and may write default_left as booleans.
  std::string json = Replace(kTinyModel, R"("base_score":"5E-1")", R"("base_score":"[2E-1]")");
  json = Replace(json, R"("default_left":[1,0,0])", R"("default_left":[true,false,false])");
  auto loaded = TreeEnsemble::ParseXgboostJson(json, "v2.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_FLOAT_EQ((*loaded)->base_margin(), std::log(0.25f));
  const float row[] = {0, kNaN};
  float margin = 0;
  (*loaded)->PredictMargin(row, 1, 2, &margin);
  EXPECT_FLOAT_EQ(margin, std::log(0.25f) - 1.0f);
}

TEST(TinyModel, CategoricalSplitSendsTheSetRight) {
  std::string json = Replace(
      kTinyModel,
      R"("split_type":[0,0,0],"categories":[],"categories_nodes":[],"categories_segments":[],
"categories_sizes":[])",
      R"("split_type":[1,0,0],"categories":[1,3],"categories_nodes":[0],"categories_segments":[0],
"categories_sizes":[2])");
  json = Replace(json, "[5E-1,-1E0,2E0]", "[NaN,-1E0,2E0]");
  auto loaded = TreeEnsemble::ParseXgboostJson(json, "cat.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const std::vector<float> b = {0, 1, 2, 3, 40, -1, kNaN, 1.5f};
  std::vector<float> rows;
  for (float v : b) rows.insert(rows.end(), {0, v});
  std::vector<float> margin(b.size());
  (*loaded)->PredictMargin(rows.data(), b.size(), 2, margin.data());
  EXPECT_EQ(margin, (std::vector<float>{-1, 2, -1, 2, -1, -1, -1, 2}));
}

// gblinear: margin = 0.25 + base margin + 0.5 a - 2 b.
constexpr std::string_view kTinyLinear = R"({"learner":{"feature_names":["a","b"],
"gradient_booster":{"model":{"boosted_rounds":1,"weights":[5E-1,-2E0,2.5E-1]},"name":"gblinear"},
"learner_model_param":{"base_score":"5E-1","num_class":"0","num_feature":"2","num_target":"1"},
"objective":{"name":"binary:logistic"}},"version":[1,7,4]})";

TEST(TinyLinear, ScoresAndExplainsAsXgboost) {
  auto loaded = TreeEnsemble::ParseXgboostJson(kTinyLinear, "linear.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const TreeEnsemble& model = **loaded;
  EXPECT_EQ(model.booster(), "gblinear");
  EXPECT_EQ(model.num_trees(), 0u);
  EXPECT_EQ(model.num_groups(), 1u);
  EXPECT_EQ(model.feature_names(), (std::vector<std::string>{"a", "b"}));
  // A missing value adds nothing.
  const std::vector<float> rows = {2, 1, kNaN, 1, 2, kNaN, kNaN, kNaN};
  std::vector<float> margin(4);
  model.PredictMargin(rows.data(), 4, 2, margin.data());
  EXPECT_EQ(margin, (std::vector<float>{-0.75f, -1.75f, 1.25f, 0.25f}));
  std::vector<float> prob(4);
  model.Transform(margin.data(), 4, prob.data());
  EXPECT_FLOAT_EQ(prob[2], 1.0f / (1.0f + std::exp(-1.25f)));

  std::vector<float> phi(3);
  model.Contributions(rows.data(), phi.data());
  EXPECT_EQ(phi, (std::vector<float>{1.0f, -2.0f, 0.25f}));
  model.Contributions(rows.data() + 2, phi.data());
  EXPECT_EQ(phi, (std::vector<float>{0.0f, -2.0f, 0.25f}));
}

TEST(TinyLinear, BaseScoreAndGroups) {
  // Three classes, one feature: weights per feature are one per class, then
  // the three biases; base_score 2 (identity for multi:softprob).
  std::string json = Replace(kTinyLinear, "[5E-1,-2E0,2.5E-1]", "[1E0,2E0,3E0,1E-1,2E-1,3E-1]");
  json = Replace(json, R"("feature_names":["a","b"])", R"("feature_names":["a"])");
  json =
      Replace(json, R"("num_class":"0","num_feature":"2")", R"("num_class":"3","num_feature":"1")");
  json = Replace(json, R"("base_score":"5E-1")", R"("base_score":"2E0")");
  json = Replace(json, "binary:logistic", "multi:softprob");
  auto loaded = TreeEnsemble::ParseXgboostJson(json, "multi.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const TreeEnsemble& model = **loaded;
  ASSERT_EQ(model.num_groups(), 3u);
  EXPECT_EQ(model.base_margin(), 2.0f);
  const float row[] = {4};
  std::vector<float> margin(3);
  model.PredictMargin(row, 1, 1, margin.data());
  EXPECT_EQ(margin,
            (std::vector<float>{0.1f + 2.0f + 4.0f, 0.2f + 2.0f + 8.0f, 0.3f + 2.0f + 12.0f}));
  std::vector<float> phi(6);
  model.Contributions(row, phi.data());
  EXPECT_EQ(phi, (std::vector<float>{4, 0.1f + 2.0f, 8, 0.2f + 2.0f, 12, 0.3f + 2.0f}));
}

struct BadModel {
  const char* what;
  std::string json;
  std::string error;
};

std::vector<BadModel> BadModels() {
  const std::string_view m = kTinyModel;
  std::vector<BadModel> cases = {
      {"truncated", std::string(m.substr(0, 200)),
       "bad.json: not valid JSON (The JSON document has an improper structure: missing or "
       "superfluous commas, braces, missing keys, etc.)"},
      {"empty", "", "bad.json: not valid JSON (Empty: no JSON found)"},
      {"not an object", "[1,2]", "bad.json: expected a JSON object at the top, found an array"},
      {"no learner", R"({"version":[1,7,4]})", "bad.json: missing key \"learner\""},
      {"children of the wrong type",
       Replace(m, R"("left_children":[1,-1,-1])", R"("left_children":"1,-1,-1")"),
       "bad.json: tree 0: left_children: expected an array, found a string"},
      {"a string among children", Replace(m, "[1,-1,-1]", R"([1,"x",-1])"),
       "bad.json: tree 0: left_children[1]: expected a whole number, found a string"},
      {"right child out of range", Replace(m, "[2,-1,-1]", "[999,-1,-1]"),
       "bad.json: tree 0 node 0: right child 999 is out of range (the tree has 3 nodes)"},
      {"negative left child", Replace(m, "[1,-1,-1]", "[-7,-1,-1]"),
       "bad.json: tree 0 node 0: left child -7 is out of range (the tree has 3 nodes)"},
      {"cycle", Replace(Replace(m, "[1,-1,-1]", "[1,0,-1]"), "[2,-1,-1]", "[2,2,-1]"),
       "bad.json: tree 0 node 1: left child 0 is reached twice from the root (a cycle or a "
       "shared node)"},
      {"shared child", Replace(m, "[2,-1,-1]", "[1,-1,-1]"),
       "bad.json: tree 0 node 0: right child 1 is reached twice from the root (a cycle or a "
       "shared node)"},
      {"NaN threshold", Replace(m, "[5E-1,-1E0,2E0]", "[NaN,-1E0,2E0]"),
       "bad.json: tree 0 node 0: threshold (split_conditions) is nan, expected a finite number"},
      {"infinite leaf", Replace(m, "[5E-1,-1E0,2E0]", "[5E-1,-1E0,1E300]"),
       "bad.json: tree 0 node 2: leaf value (split_conditions) is inf, expected a finite number"},
      {"split feature out of range", Replace(m, "[1,0,0]", "[2,0,0]"),
       "bad.json: tree 0 node 0: split feature 2 is out of range (num_feature is 2)"},
      {"huge declared tree", Replace(m, R"("num_nodes":"3")", R"("num_nodes":"100000000")"),
       "bad.json: tree 0: tree_param.num_nodes: expected a whole number from 1 to 67108864, "
       "found 100000000"},
      {"arrays shorter than declared", Replace(m, R"("num_nodes":"3")", R"("num_nodes":"1000")"),
       "bad.json: tree 0: left_children has 3 entries, expected 1000 (num_nodes)"},
      {"missing covers", Replace(m, R"("sum_hessian":[1E1,4E0,6E0],)", ""),
       "bad.json: tree 0: missing key \"sum_hessian\""},
      {"negative cover", Replace(m, "[1E1,4E0,6E0]", "[1E1,-4E0,6E0]"),
       "bad.json: tree 0 node 1: cover (sum_hessian) is -4, expected a finite number >= 0"},
      {"missing objective", Replace(m, R"("objective":{"name":"binary:logistic"})", R"("x":1)"),
       "bad.json: learner: missing key \"objective\""},
      {"gblinear without weights", Replace(m, R"("name":"gbtree")", R"("name":"gblinear")"),
       "bad.json: learner.gradient_booster.model: missing key \"weights\""},
      {"unknown booster", Replace(m, R"("name":"gbtree")", R"("name":"forest")"),
       "bad.json: learner.gradient_booster.name: unknown booster \"forest\" (expected gbtree, "
       "dart or gblinear)"},
      {"unknown objective", Replace(m, "binary:logistic", "survival:cox"),
       "bad.json: learner.objective.name: objective \"survival:cox\" is not supported "
       "(supported: binary:logistic, reg:logistic, binary:logitraw, reg:squarederror, "
       "reg:linear, reg:squaredlogerror, reg:pseudohubererror, reg:absoluteerror, "
       "count:poisson, reg:gamma, reg:tweedie, multi:softprob, multi:softmax, rank:pairwise, "
       "rank:ndcg, rank:map)"},
      {"bad base_score", Replace(m, R"("base_score":"5E-1")", R"("base_score":"half")"),
       "bad.json: learner.learner_model_param.base_score: expected a finite number such as "
       "\"5E-1\", found \"half\""},
      {"base_score outside (0, 1)", Replace(m, R"("base_score":"5E-1")", R"("base_score":"1")"),
       "bad.json: learner.learner_model_param.base_score: expected a probability strictly "
       "between 0 and 1 for binary:logistic, found 1"},
      {"tree_info out of range", Replace(m, R"("tree_info":[0])", R"("tree_info":[1])"),
       "bad.json: learner.gradient_booster.model.tree_info[0]: expected an output group from 0 "
       "to 0"},
      {"tree count disagrees", Replace(m, R"("num_trees":"1")", R"("num_trees":"2")"),
       "bad.json: learner.gradient_booster.model.gbtree_model_param.num_trees: says 2 trees but "
       "the model has 1"},
      {"feature names disagree", Replace(m, R"(["a","b"])", R"(["a"])"),
       "bad.json: learner.feature_names: has 1 names but num_feature is 2"},
      {"num_feature not a number", Replace(m, R"("num_feature":"2"})", R"("num_feature":"two"})"),
       "bad.json: learner.learner_model_param.num_feature: expected a whole number from 0 to "
       "16777216, found \"two\""},
      {"multi-target", Replace(m, R"("size_leaf_vector":"0")", R"("size_leaf_vector":"3")"),
       "bad.json: tree 0: vector-leaf (multi-target) trees are not supported yet"},
      {"categories of a missing node",
       Replace(m, R"("categories_nodes":[],"categories_segments":[],
"categories_sizes":[])",
               R"("categories_nodes":[9],"categories_segments":[0],
"categories_sizes":[0])"),
       "bad.json: tree 0 categories_nodes[0]: node 9 is out of range (the tree has 3 nodes)"},
  };
  const std::string_view l = kTinyLinear;
  const std::vector<BadModel> linear = {
      {"gblinear: too few weights", Replace(l, "[5E-1,-2E0,2.5E-1]", "[5E-1,-2E0]"),
       "bad.json: learner.gradient_booster.model.weights: has 2 entries, expected 3 (num_feature "
       "2 + 1 bias, times 1 output group)"},
      {"gblinear: weights for one class of three",
       Replace(Replace(l, R"("num_class":"0")", R"("num_class":"3")"), "binary:logistic",
               "multi:softmax"),
       "bad.json: learner.gradient_booster.model.weights: has 3 entries, expected 9 (num_feature "
       "2 + 1 bias, times 3 output groups)"},
      {"gblinear: NaN weight", Replace(l, "[5E-1,-2E0,2.5E-1]", "[5E-1,NaN,2.5E-1]"),
       "bad.json: learner.gradient_booster.model.weights[1]: the weight of feature 1 for group 0 "
       "is nan, expected a finite number"},
      {"gblinear: infinite bias", Replace(l, "[5E-1,-2E0,2.5E-1]", "[5E-1,-2E0,1E300]"),
       "bad.json: learner.gradient_booster.model.weights[2]: the bias of group 0 is inf, "
       "expected a finite number"},
      {"gblinear: a string weight", Replace(l, "[5E-1,-2E0,2.5E-1]", R"([5E-1,"x",2.5E-1])"),
       "bad.json: learner.gradient_booster.model.weights[1]: expected a number, found a string"},
      {"gblinear: weights not an array", Replace(l, "[5E-1,-2E0,2.5E-1]", R"({"a":5E-1,"b":-2E0})"),
       "bad.json: learner.gradient_booster.model.weights: expected an array, found an object"},
      {"gblinear: no model",
       Replace(l, R"("model":{"boosted_rounds":1,"weights":[5E-1,-2E0,2.5E-1]},)", ""),
       "bad.json: learner.gradient_booster: missing key \"model\""},
      {"gblinear: no num_feature", Replace(l, R"(,"num_feature":"2")", ""),
       "bad.json: learner.learner_model_param: missing key \"num_feature\""},
      {"gblinear: no base_score", Replace(l, R"("base_score":"5E-1",)", ""),
       "bad.json: learner.learner_model_param: missing key \"base_score\""},
      {"gblinear: unknown objective", Replace(l, "binary:logistic", "survival:aft"),
       "bad.json: learner.objective.name: objective \"survival:aft\" is not supported "
       "(supported: binary:logistic, reg:logistic, binary:logitraw, reg:squarederror, "
       "reg:linear, reg:squaredlogerror, reg:pseudohubererror, reg:absoluteerror, "
       "count:poisson, reg:gamma, reg:tweedie, multi:softprob, multi:softmax, rank:pairwise, "
       "rank:ndcg, rank:map)"},
  };
  cases.insert(cases.end(), linear.begin(), linear.end());
  // A chain 600 levels deep: refused before it can exhaust the stack.
  std::string left = "[", right = "[", zeros = "[", covers = "[";
  const int n = 1201;
  for (int i = 0; i < n; ++i) {
    const bool internal = i % 2 == 0 && i + 2 < n;
    left += (i ? "," : "") + std::to_string(internal ? i + 1 : -1);
    right += (i ? "," : "") + std::to_string(internal ? i + 2 : -1);
    zeros += i ? ",0" : "0";
    covers += i ? ",1" : "1";
  }
  std::string deep =
      Replace(m, R"("num_nodes":"3")", R"("num_nodes":")" + std::to_string(n) + "\"");
  deep = Replace(deep, "[1,-1,-1]", left + "]");
  deep = Replace(deep, "[2,-1,-1]", right + "]");
  deep = Replace(deep, "[1,0,0]", zeros + "]");
  deep = Replace(deep, "[5E-1,-1E0,2E0]", zeros + "]");
  deep = Replace(deep, "[1,0,0]", zeros + "]");
  deep = Replace(deep, "[1E1,4E0,6E0]", covers + "]");
  deep = Replace(deep, "[0,0,0]", zeros + "]");
  cases.push_back(
      {"too deep", deep, "bad.json: tree 0 node 512: the tree is deeper than 256 levels"});
  return cases;
}

TEST(BadModelFiles, EachGivesItsExactError) {
  for (const BadModel& bad : BadModels()) {
    auto loaded = TreeEnsemble::ParseXgboostJson(bad.json, "bad.json");
    ASSERT_FALSE(loaded.ok()) << bad.what;
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidInput) << bad.what;
    EXPECT_EQ(loaded.status().message(), bad.error) << bad.what;
  }
}

TEST(BadModelFiles, EveryTruncationIsAnError) {
  for (size_t n = 0; n < kTinyModel.size(); n += 7) {
    auto loaded = TreeEnsemble::ParseXgboostJson(kTinyModel.substr(0, n), "cut.json");
    EXPECT_FALSE(loaded.ok()) << n;
  }
  for (size_t n = 0; n < kTinyLinear.size(); ++n) {
    auto loaded = TreeEnsemble::ParseXgboostJson(kTinyLinear.substr(0, n), "cut.json");
    EXPECT_FALSE(loaded.ok()) << n;
  }
}

TEST(BadModelFiles, MissingFile) {
  auto loaded = TreeEnsemble::LoadXgboostJson("/nonexistent/model.json");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kIoError);
  EXPECT_EQ(loaded.status().message(), "/nonexistent/model.json: cannot open the model file");
}

}  // namespace
}  // namespace sluice::model
