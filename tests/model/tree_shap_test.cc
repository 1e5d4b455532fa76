// TreeSHAP computed leaf by leaf (with and without the precomputed tables)
// against Algorithm 2's recursion, which runs in XGBoost's order: on the
// reference models and on generated trees that split on the same feature
// several times, have zero-cover nodes, missing values, single leaves, and
// paths too long for the leaf-by-leaf form.

#include "model/internal/tree_shap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "model/internal/forest.h"
#include "model/internal/xgboost_json.h"
#include "model/tree_ensemble.h"
#include "json_list.h"

namespace sluice::model::internal {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rows whose values sit on or just below the model's thresholds, so that
// every split goes both ways, with a tenth of the values missing and small
// integers for categorical features.
std::vector<float> RowsAroundThresholds(const Forest& forest, size_t rows, uint32_t seed) {
  std::vector<std::vector<float>> candidates(forest.num_features);
  for (const FlatNode& node : forest.nodes) {
    if (node.is_leaf()) continue;
    std::vector<float>& values = candidates[node.feature()];
    if (node.feature_and_flags & kCategoricalFlag) {
      for (int c = 0; c < 12; ++c) values.push_back(static_cast<float>(c));
    } else {
      values.push_back(node.value);
      values.push_back(std::nextafter(node.value, -std::numeric_limits<float>::infinity()));
    }
  }
  std::mt19937 rng(seed);
  std::vector<float> x(rows * forest.num_features);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t f = 0; f < forest.num_features; ++f) {
      const std::vector<float>& values = candidates[f];
      float& v = x[r * forest.num_features + f];
      if (values.empty() || rng() % 10 == 0) {
        v = kNaN;
      } else {
        v = values[rng() % values.size()];
      }
    }
  }
  return x;
}

// Largest absolute leaf value of each tree, at least 1: the recursion's
// float rounding grows with it (leaves near 1000 in the regression model).
std::vector<double> LeafScales(const Forest& forest) {
  std::vector<double> scale(forest.trees.size(), 1.0);
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    const size_t end = t + 1 < forest.trees.size() ? static_cast<size_t>(forest.trees[t + 1].root)
                                                   : forest.nodes.size();
    for (size_t i = static_cast<size_t>(forest.trees[t].root); i < end; ++i) {
      const FlatNode& node = forest.nodes[i];
      if (node.is_leaf()) scale[t] = std::max(scale[t], static_cast<double>(std::abs(node.value)));
    }
  }
  return scale;
}

// Compares, tree by tree and row by row, the leaf-by-leaf values under
// `paths` with the recursion's, and checks that each tree's values add up to
// the leaf the row reaches. Returns the largest error relative to the tree's
// largest leaf.
double CompareWithRecursion(const Forest& forest, const ShapPaths& paths,
                            const std::vector<float>& x, double tolerance) {
  const size_t columns = forest.num_features + 1;
  const size_t rows = x.size() / forest.num_features;
  const std::vector<double> scale = LeafScales(forest);
  ShapScratch scratch;
  scratch.Reserve(paths);
  std::vector<PathElement> path(ShapScratchSize(forest.max_depth));
  std::vector<float> got(columns), want(columns);
  double worst = 0;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * forest.num_features;
    for (size_t t = 0; t < forest.trees.size(); ++t) {
      std::fill(got.begin(), got.end(), 0.0f);
      std::fill(want.begin(), want.end(), 0.0f);
      AddTreeContributions(forest, paths, t, row, &scratch, got.data());
      AddTreeContributionsRecursive(forest, forest.trees[t], row, path.data(), want.data());
      double sum = 0;
      for (size_t c = 0; c < columns; ++c) {
        sum += got[c];
        const double e = std::abs(got[c] - want[c]) / scale[t];
        worst = std::max(worst, e);
        if (!(e <= tolerance)) {
          ADD_FAILURE() << "row " << r << " tree " << t << " column " << c << ": " << got[c]
                        << ", recursion " << want[c];
          return worst;
        }
      }
      if (!paths.trees[t].recursive) {
        const float leaf = LeafValue(forest, forest.trees[t], row);
        EXPECT_LE(std::abs(sum - leaf) / scale[t], 1e-5)
            << "row " << r << " tree " << t << ": values add up to " << sum << ", leaf " << leaf;
      }
    }
  }
  return worst;
}

class ReferenceModelTest : public testing::TestWithParam<const char*> {};

TEST_P(ReferenceModelTest, LeafByLeafEqualsRecursion) {
  const std::string name = GetParam();
  auto forest = ParseXgboostForest(
      ReadFile(std::string(SLUICE_SOURCE_DIR) + "/tests/model/data/" + name + ".json"), name);
  ASSERT_TRUE(forest.ok()) << forest.status().message();
  const std::vector<float> x = RowsAroundThresholds(*forest, 200, 7);
  // No tables, the default tables, and tables for every leaf.
  const ShapPaths none = BuildShapPaths(*forest, 0);
  const ShapPaths some = BuildShapPaths(*forest);
  const ShapPaths all = BuildShapPaths(*forest, size_t{1} << 30, 12);
  EXPECT_EQ(none.table_bytes(), 0u);
  EXPECT_GT(all.table_bytes(), 0u);
  for (const ShapLeaf& leaf : all.leaves) EXPECT_NE(leaf.table, kNoTable);
  std::printf("%-16s max scaled error: no tables %.2e, default %.2e, all tables %.2e\n",
              name.c_str(), CompareWithRecursion(*forest, none, x, 1e-5),
              CompareWithRecursion(*forest, some, x, 1e-5),
              CompareWithRecursion(*forest, all, x, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Models, ReferenceModelTest,
                         testing::Values("binary_shallow", "binary_deep", "regression",
                                         "multiclass", "missing", "categorical", "dart",
                                         "poisson"));

// XGBoost JSON for hand-made trees, in XGBoost's own node numbering.
struct TreeSpec {
  std::vector<int> left, right, feature, default_left;
  std::vector<float> condition, cover;

  // Appends a node and returns its index.
  int Add(int feature_index, float value, float node_cover, bool missing_left) {
    left.push_back(-1);
    right.push_back(-1);
    feature.push_back(feature_index);
    condition.push_back(value);
    cover.push_back(node_cover);
    default_left.push_back(missing_left ? 1 : 0);
    return static_cast<int>(left.size()) - 1;
  }
};

using sluice::model::test_util::JsonList;

std::string ModelJson(const std::vector<TreeSpec>& trees, size_t num_features) {
  std::ostringstream out;
  out << R"({"learner":{"feature_names":[],"gradient_booster":{"model":{"gbtree_model_param":)"
      << R"({"num_trees":")" << trees.size() << R"("},"tree_info":)"
      << JsonList(std::vector<int>(trees.size(), 0)) << R"(,"trees":[)";
  for (size_t t = 0; t < trees.size(); ++t) {
    const TreeSpec& tree = trees[t];
    out << (t ? "," : "") << R"({"tree_param":{"num_nodes":")" << tree.left.size()
        << R"(","num_feature":")" << num_features << R"(","size_leaf_vector":"0"},)"
        << R"("left_children":)" << JsonList(tree.left) << R"(,"right_children":)"
        << JsonList(tree.right) << R"(,"split_indices":)" << JsonList(tree.feature)
        << R"(,"split_conditions":)" << JsonList(tree.condition) << R"(,"default_left":)"
        << JsonList(tree.default_left) << R"(,"sum_hessian":)" << JsonList(tree.cover)
        << R"(,"split_type":)" << JsonList(std::vector<int>(tree.left.size(), 0))
        << R"(,"categories":[],"categories_nodes":[],"categories_segments":[],)"
        << R"("categories_sizes":[]})";
  }
  out << R"(]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","num_class":"0",)"
      << R"("num_feature":")" << num_features
      << R"("},"objective":{"name":"reg:squarederror"}},"version":[1,7,4]})";
  return out.str();
}

// A random tree over `num_features` features (few, so paths repeat them),
// with some zero-cover leaves: a child that no training row reached. (Below
// a zero-cover split the tree's expected value is 0/0, NaN, in XGBoost as
// here, so such splits are not made.)
int GrowRandom(TreeSpec* tree, std::mt19937* rng, size_t num_features, int depth, float cover) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  if (depth == 0 || cover == 0 || (*rng)() % 8 == 0)
    return tree->Add(0, unit(*rng) * 2 - 1, cover, false);
  const int feature = static_cast<int>((*rng)() % num_features);
  const int node = tree->Add(feature, std::floor(unit(*rng) * 8) / 4, cover, (*rng)() % 2 == 0);
  const float share = (*rng)() % 10 == 0 ? 0.0f : unit(*rng);
  const int left = GrowRandom(tree, rng, num_features, depth - 1, cover * share);
  const int right = GrowRandom(tree, rng, num_features, depth - 1, cover - cover * share);
  tree->left[static_cast<size_t>(node)] = left;
  tree->right[static_cast<size_t>(node)] = right;
  return node;
}

// A chain: node k splits feature k; its left child is a leaf, its right
// child the next split, down to `length` splits.
TreeSpec Chain(int length) {
  TreeSpec tree;
  int parent = -1;
  float cover = 1000;
  for (int k = 0; k < length; ++k) {
    const int node = tree.Add(k, 0.5f, cover, k % 2 == 0);
    if (parent >= 0) tree.right[static_cast<size_t>(parent)] = node;
    const int leaf = tree.Add(0, static_cast<float>(k % 5) - 2, cover * 0.25f, false);
    tree.left[static_cast<size_t>(node)] = leaf;
    cover *= 0.75f;
    parent = node;
  }
  tree.right[static_cast<size_t>(parent)] = tree.Add(0, 3, cover, false);
  return tree;
}

TEST(GeneratedTrees, RepeatedFeaturesZeroCoversAndSingleLeaves) {
  std::mt19937 rng(11);
  std::vector<TreeSpec> trees;
  for (int t = 0; t < 40; ++t) {
    TreeSpec tree;
    GrowRandom(&tree, &rng, t % 2 == 0 ? 3 : 9, t % 8 + 1, 100);
    trees.push_back(tree);
  }
  TreeSpec single;
  single.Add(0, 0.75f, 10, false);
  trees.push_back(single);
  auto forest = ParseXgboostForest(ModelJson(trees, 9), "generated.json");
  ASSERT_TRUE(forest.ok()) << forest.status().message();

  size_t single_leaves = 0;
  for (size_t t = 0; t < forest->trees.size(); ++t) {
    if (forest->nodes[static_cast<size_t>(forest->trees[t].root)].is_leaf()) ++single_leaves;
  }
  ASSERT_GE(single_leaves, 1u);
  const ShapPaths paths = BuildShapPaths(*forest, 0);
  // Paths shorter than their depth: the same feature split on twice.
  size_t shorter = 0;
  for (const ShapLeaf& leaf : paths.leaves) shorter += leaf.size < forest->max_depth ? 1 : 0;
  EXPECT_GT(shorter, 0u);

  const std::vector<float> x = RowsAroundThresholds(*forest, 300, 3);
  CompareWithRecursion(*forest, paths, x, 1e-5);
  CompareWithRecursion(*forest, BuildShapPaths(*forest), x, 1e-5);
  CompareWithRecursion(*forest, BuildShapPaths(*forest, size_t{1} << 30, 9), x, 1e-5);
}

TEST(GeneratedTrees, LongPathsAndTheRecursionFallback) {
  // 64 unique features on a path still fit a pattern; 66 do not.
  auto forest = ParseXgboostForest(ModelJson({Chain(64), Chain(66), Chain(6)}, 66), "chain.json");
  ASSERT_TRUE(forest.ok()) << forest.status().message();
  const ShapPaths paths = BuildShapPaths(*forest);
  ASSERT_EQ(paths.trees.size(), 3u);
  EXPECT_FALSE(paths.trees[0].recursive);
  EXPECT_TRUE(paths.trees[1].recursive);
  EXPECT_FALSE(paths.trees[2].recursive);
  EXPECT_EQ(paths.max_depth, 66u);
  // The recursion's float rounding over 64 levels reaches 1e-4 here; the
  // leaf-by-leaf values (in double) add up to the leaf within 1e-5.
  const std::vector<float> x = RowsAroundThresholds(*forest, 100, 5);
  CompareWithRecursion(*forest, paths, x, 1e-3);
}

TEST(ShapTables, StayWithinTheBudget) {
  auto forest = ParseXgboostForest(
      ReadFile(std::string(SLUICE_SOURCE_DIR) + "/tests/model/data/binary_deep.json"), "deep");
  ASSERT_TRUE(forest.ok()) << forest.status().message();
  const ShapPaths unbounded = BuildShapPaths(*forest, size_t{1} << 30);
  ASSERT_GT(unbounded.table_bytes(), 100000u);
  const ShapPaths bounded = BuildShapPaths(*forest, 100000);
  EXPECT_GT(bounded.table_bytes(), 0u);
  EXPECT_LE(bounded.table_bytes(), 100000u);
  size_t with_table = 0;
  for (const ShapLeaf& leaf : bounded.leaves) with_table += leaf.table != kNoTable ? 1 : 0;
  EXPECT_GT(with_table, 0u);
  EXPECT_LT(with_table, bounded.leaves.size());

  auto model = TreeEnsemble::LoadXgboostJson(std::string(SLUICE_SOURCE_DIR) +
                                             "/tests/model/data/binary_deep.json");
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->contribution_table_bytes(), BuildShapPaths(*forest).table_bytes());
  EXPECT_LE((*model)->contribution_table_bytes(), kDefaultShapTableBudget);
}

}  // namespace
}  // namespace sluice::model::internal
