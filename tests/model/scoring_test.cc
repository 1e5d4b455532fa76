// The scoring kernels (scalar, AVX2, AVX-512; complete trees and the general
// walk) against the plainest walk there is, internal::LeafValue added tree by
// tree in model order, bit for bit, on generated models: numerical and
// categorical splits mixed in one model, missing values both ways, trees of
// depth 0 to 9, several output groups, dart weights, 5 to 40 features, and
// row counts that take the single-row and the block paths.

#include "model/internal/scoring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
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

// One tree in XGBoost's JSON arrays.
struct TreeSpec {
  std::vector<int> left, right, feature, default_left, split_type;
  std::vector<float> condition;
  std::vector<int> categories, categories_nodes, categories_segments, categories_sizes;

  int Add(int feature_index, float value, bool missing_left, bool categorical) {
    left.push_back(-1);
    right.push_back(-1);
    feature.push_back(feature_index);
    condition.push_back(value);
    default_left.push_back(missing_left ? 1 : 0);
    split_type.push_back(categorical ? 1 : 0);
    return static_cast<int>(left.size()) - 1;
  }
};

struct ModelSpec {
  size_t num_features = 19;
  size_t num_class = 0;  // 0: binary:logistic; otherwise multi:softprob
  bool dart = false;
  std::vector<TreeSpec> trees;
  std::vector<float> weight_drop;
};

using sluice::model::test_util::JsonList;

std::string ModelJson(const ModelSpec& spec) {
  const size_t groups = spec.num_class == 0 ? 1 : spec.num_class;
  std::vector<int> tree_info;
  for (size_t t = 0; t < spec.trees.size(); ++t) tree_info.push_back(static_cast<int>(t % groups));
  std::ostringstream model;
  model << R"({"gbtree_model_param":{"num_trees":")" << spec.trees.size()
        << R"("},"tree_info":)" << JsonList(tree_info) << R"(,"trees":[)";
  for (size_t t = 0; t < spec.trees.size(); ++t) {
    const TreeSpec& tree = spec.trees[t];
    model << (t ? "," : "") << R"({"tree_param":{"num_nodes":")" << tree.left.size()
          << R"(","num_feature":")" << spec.num_features << R"(","size_leaf_vector":"0"},)"
          << R"("left_children":)" << JsonList(tree.left) << R"(,"right_children":)"
          << JsonList(tree.right) << R"(,"split_indices":)" << JsonList(tree.feature)
          << R"(,"split_conditions":)" << JsonList(tree.condition) << R"(,"default_left":)"
          << JsonList(tree.default_left) << R"(,"sum_hessian":)"
          << JsonList(std::vector<int>(tree.left.size(), 1)) << R"(,"split_type":)"
          << JsonList(tree.split_type) << R"(,"categories":)" << JsonList(tree.categories)
          << R"(,"categories_nodes":)" << JsonList(tree.categories_nodes)
          << R"(,"categories_segments":)" << JsonList(tree.categories_segments)
          << R"(,"categories_sizes":)" << JsonList(tree.categories_sizes) << '}';
  }
  model << "]}";
  std::ostringstream out;
  out << R"({"learner":{"feature_names":[],"gradient_booster":)";
  if (spec.dart) {
    out << R"({"name":"dart","gbtree":{"model":)" << model.str() << R"(},"weight_drop":)"
        << JsonList(spec.weight_drop) << '}';
  } else {
    out << R"({"name":"gbtree","model":)" << model.str() << '}';
  }
  out << R"(,"learner_model_param":{"base_score":"5E-1","num_class":")" << spec.num_class
      << R"(","num_feature":")" << spec.num_features << R"("},"objective":{"name":")"
      << (spec.num_class == 0 ? "binary:logistic" : "multi:softprob")
      << R"("}},"version":[1,7,4]})";
  return out.str();
}

// Thresholds on a grid of quarters, so that generated rows hit them exactly.
float GridValue(std::mt19937* rng) {
  return static_cast<float>(static_cast<int>((*rng)() % 17) - 8) / 4;
}

// A random subtree: leaves above `depth` with probability `early_leaf`,
// categorical splits with probability `categorical`.
int Grow(TreeSpec* tree, std::mt19937* rng, size_t num_features, int depth, double categorical,
         double early_leaf) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (depth == 0 || unit(*rng) < early_leaf) return tree->Add(0, GridValue(rng) * 0.37f, false, false);
  const int feature = static_cast<int>((*rng)() % num_features);
  const bool is_categorical = unit(*rng) < categorical;
  const int node =
      tree->Add(feature, is_categorical ? 0.0f : GridValue(rng), (*rng)() % 2 == 0, is_categorical);
  if (is_categorical) {
    tree->categories_nodes.push_back(node);
    tree->categories_segments.push_back(static_cast<int>(tree->categories.size()));
    int size = 0;
    for (int c = 0; c < 6; ++c) {
      if ((*rng)() % 2 == 0) {
        tree->categories.push_back(c);
        ++size;
      }
    }
    tree->categories_sizes.push_back(size);
  }
  const int left = Grow(tree, rng, num_features, depth - 1, categorical, early_leaf);
  const int right = Grow(tree, rng, num_features, depth - 1, categorical, early_leaf);
  tree->left[static_cast<size_t>(node)] = left;
  tree->right[static_cast<size_t>(node)] = right;
  return node;
}

// XGBoost lists a tree's category sets by node; JSON needs them in node
// order, which Grow's preorder numbering already gives.
TreeSpec RandomTree(std::mt19937* rng, size_t num_features, int depth, double categorical,
                    double early_leaf = 1.0 / 6) {
  TreeSpec tree;
  Grow(&tree, rng, num_features, depth, categorical, early_leaf);
  return tree;
}

// Rows on the threshold grid and between it, a fifth missing, small integer
// categories (some outside every set, some negative).
std::vector<float> RandomRows(size_t rows, size_t stride, std::mt19937* rng) {
  std::vector<float> x(rows * stride);
  for (float& v : x) {
    const uint32_t pick = (*rng)() % 10;
    if (pick < 2) {
      v = kNaN;
    } else if (pick < 5) {
      v = static_cast<float>(static_cast<int>((*rng)() % 9) - 1);
    } else if (pick < 8) {
      v = GridValue(rng);
    } else {
      v = GridValue(rng) + 0.1f;
    }
  }
  return x;
}

// Margins by the plainest walk: each tree's leaf, in model order, in float.
std::vector<float> ReferenceMargins(const Forest& forest, const std::vector<float>& x, size_t rows,
                                    size_t stride) {
  std::vector<float> margin(rows * forest.num_groups, forest.base_margin);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * stride;
    for (const FlatTree& tree : forest.trees) {
      margin[r * forest.num_groups + tree.group] += LeafValue(forest, tree, row) * tree.weight;
    }
  }
  return margin;
}

bool BitEqual(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

std::vector<Kernel> SupportedKernels() {
  std::vector<Kernel> kernels;
  for (Kernel k : {Kernel::kScalar, Kernel::kAvx2, Kernel::kAvx512}) {
    if (KernelSupported(k)) kernels.push_back(k);
  }
  return kernels;
}

// Scores `rows` random rows with every kernel and row count split (1 row,
// 7 rows, blocks and a tail) and compares with the reference bit for bit.
// With `complete`, also checks that every numerical tree is a complete tree.
void ExpectAllKernelsMatch(const ModelSpec& spec, size_t rows, uint32_t seed,
                           const std::string& what, bool complete = true) {
  auto parsed = ParseXgboostForest(ModelJson(spec), what);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const Forest& forest = *parsed;
  const ScoringForest scoring = BuildScoringForest(forest);
  for (size_t t = 0; t < forest.trees.size() && complete; ++t) {
    EXPECT_EQ(scoring.complete.slot[t] >= 0, scoring.tree_categorical[t] == 0)
        << what << ": tree " << t;
  }
  // The general form is built only for trees that need it.
  const bool all_complete = std::find(scoring.complete.slot.begin(), scoring.complete.slot.end(),
                                      -1) == scoring.complete.slot.end();
  EXPECT_EQ(scoring.steps.empty(), all_complete) << what;
  std::mt19937 rng(seed);
  const size_t stride = spec.num_features + 3;
  const std::vector<float> x = RandomRows(rows, stride, &rng);
  const std::vector<float> want = ReferenceMargins(forest, x, rows, stride);
  const size_t groups = forest.num_groups;
  for (Kernel kernel : SupportedKernels()) {
    for (size_t piece : {size_t{1}, size_t{7}, rows}) {
      std::vector<float> got(rows * groups, -1.0f);
      for (size_t begin = 0; begin < rows; begin += piece) {
        const size_t n = std::min(piece, rows - begin);
        PredictForestMargin(forest, scoring, kernel, x.data() + begin * stride, n, stride,
                            got.data() + begin * groups);
      }
      for (size_t i = 0; i < got.size(); ++i) {
        if (!BitEqual(got[i], want[i])) {
          ADD_FAILURE() << what << ": kernel " << KernelName(kernel) << ", " << piece
                        << " rows a call: row " << i / groups << " group " << i % groups
                        << " margin " << got[i] << ", reference " << want[i];
          break;
        }
      }
    }
  }
}

TEST(ScoringKernels, NumericalTreesOfEveryDepth) {
  std::mt19937 rng(1);
  for (int depth : {0, 1, 2, 3, 4, 5, 6, 7, 9}) {
    for (size_t features : {size_t{5}, size_t{19}, size_t{40}}) {
      ModelSpec spec;
      spec.num_features = features;
      for (int t = 0; t < 37; ++t) {
        spec.trees.push_back(RandomTree(&rng, features, depth, 0.0, 0.03));
      }
      ExpectAllKernelsMatch(spec, 300, static_cast<uint32_t>(depth * 100 + features),
                            "depth " + std::to_string(depth) + ", " + std::to_string(features) +
                                " features");
    }
  }
}

TEST(ScoringKernels, CategoricalTreesAmongNumericalOnes) {
  std::mt19937 rng(2);
  ModelSpec spec;
  spec.num_features = 11;
  for (int t = 0; t < 70; ++t) {
    // Runs of numerical trees between categorical ones, so that some groups
    // of trees of the single-row walk are all complete trees and some not.
    const double categorical = (t / 5) % 3 == 1 ? 0.5 : 0.0;
    spec.trees.push_back(RandomTree(&rng, spec.num_features, 4 + t % 3, categorical, 0.05));
  }
  ExpectAllKernelsMatch(spec, 260, 3, "mixed categorical");

  auto parsed = ParseXgboostForest(ModelJson(spec), "mixed");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ScoringForest scoring = BuildScoringForest(*parsed);
  size_t stored = 0;
  for (int32_t slot : scoring.complete.slot) stored += slot >= 0;
  EXPECT_GT(stored, 0u);
  EXPECT_LT(stored, parsed->trees.size());
}

TEST(ScoringKernels, GroupsAndDartWeights) {
  std::mt19937 rng(4);
  ModelSpec spec;
  spec.num_features = 19;
  spec.num_class = 3;
  spec.dart = true;
  for (int t = 0; t < 45; ++t) {
    spec.trees.push_back(RandomTree(&rng, spec.num_features, 6, t % 9 == 4 ? 0.3 : 0.0, 0.05));
    spec.weight_drop.push_back(0.3f + static_cast<float>(t % 7) * 0.11f);
  }
  ExpectAllKernelsMatch(spec, 200, 5, "dart, 3 classes");
}

// A long chain would take 2^12 padded nodes for 25: kept in the general form.
TEST(ScoringKernels, PaddingLimitKeepsSparseDeepTreesGeneral) {
  ModelSpec spec;
  spec.num_features = 13;
  TreeSpec chain;
  int parent = -1;
  for (int k = 0; k < 12; ++k) {
    const int node = chain.Add(k, 0.5f, k % 2 == 0, false);
    if (parent >= 0) chain.right[static_cast<size_t>(parent)] = node;
    chain.left[static_cast<size_t>(node)] = chain.Add(0, static_cast<float>(k) - 5, false, false);
    parent = node;
  }
  chain.right[static_cast<size_t>(parent)] = chain.Add(0, 9, false, false);
  spec.trees.push_back(chain);
  std::mt19937 rng(6);
  for (int t = 0; t < 3; ++t) spec.trees.push_back(RandomTree(&rng, spec.num_features, 3, 0.0));
  auto parsed = ParseXgboostForest(ModelJson(spec), "chain");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ScoringForest scoring = BuildScoringForest(*parsed);
  EXPECT_TRUE(scoring.complete.nodes.empty());
  for (int32_t slot : scoring.complete.slot) EXPECT_EQ(slot, -1);
  ExpectAllKernelsMatch(spec, 100, 7, "chain", false);
}

// The kernels directly, on each row form: plain rows with the missing-value
// test, doubled rows without it, and (when no value is missing) plain rows
// without it, all give the same values.
TEST(ScoringKernels, RowFormsAgree) {
  std::mt19937 rng(8);
  ModelSpec spec;
  spec.num_features = 19;
  for (int t = 0; t < 20; ++t) {
    spec.trees.push_back(RandomTree(&rng, spec.num_features, 8, 0.0, 0.02));
  }
  auto parsed = ParseXgboostForest(ModelJson(spec), "row forms");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const ScoringForest scoring = BuildScoringForest(*parsed);
  const CompleteTrees& trees = scoring.complete;
  ASSERT_EQ(trees.depth, 8u);
  const size_t rows = 77;
  const size_t features = spec.num_features;
  const std::vector<float> with_missing = RandomRows(rows, features, &rng);
  std::vector<float> complete_rows = with_missing;
  for (float& v : complete_rows) {
    if (std::isnan(v)) v = 0.25f;
  }
  for (const std::vector<float>* x : std::vector<const std::vector<float>*>{&with_missing, &complete_rows}) {
    std::vector<float> doubled(rows * 2 * features);
    DoubleRows(x->data(), rows, features, features, doubled.data());
    for (Kernel kernel : SupportedKernels()) {
      for (uint32_t slot = 0; slot < 20; ++slot) {
        std::vector<float> plain(rows, 1.0f), twice(rows, 1.0f);
        AddTreeToRows(kernel, trees, slot, x->data(), rows, features, RowForm::kPlain,
                      plain.data(), 1);
        AddTreeToRows(kernel, trees, slot, doubled.data(), rows, 2 * features, RowForm::kDoubled,
                      twice.data(), 1);
        EXPECT_EQ(plain, twice) << KernelName(kernel) << " tree " << slot;
        if (x == &complete_rows) {
          std::vector<float> unchecked(rows, 1.0f);
          AddTreeToRows(kernel, trees, slot, x->data(), rows, features, RowForm::kNoMissing,
                        unchecked.data(), 1);
          EXPECT_EQ(plain, unchecked) << KernelName(kernel) << " tree " << slot;
        }
      }
    }
  }
  for (Kernel kernel : SupportedKernels()) {
    float with[20], without[20];
    TreeValuesOfRow(kernel, trees, 0, 20, complete_rows.data(), true, with);
    TreeValuesOfRow(kernel, trees, 0, 20, complete_rows.data(), false, without);
    for (int k = 0; k < 20; ++k) EXPECT_EQ(with[k], without[k]) << KernelName(kernel) << " " << k;
  }
}

// Models too wide for doubled rows on the stack walk the caller's rows with
// the missing-value test.
TEST(ScoringKernels, WideModelsWalkPlainRows) {
  std::mt19937 rng(10);
  ModelSpec spec;
  spec.num_features = 700;
  for (int t = 0; t < 12; ++t) spec.trees.push_back(RandomTree(&rng, spec.num_features, 6, 0.0, 0.05));
  ExpectAllKernelsMatch(spec, 150, 11, "700 features");
}

TEST(ScoringKernels, TheBestKernelIsSupported) {
  EXPECT_TRUE(KernelSupported(BestKernel()));
  EXPECT_TRUE(KernelSupported(Kernel::kScalar));
  std::printf("best kernel here: %s\n", KernelName(BestKernel()));
}

// SLUICE_MODEL_KERNEL picks the kernel at load when the processor runs it;
// an unknown name or an unsupported kernel leaves the fastest.
TEST(ScoringKernels, TheEnvironmentPicksTheKernelAtLoad) {
  std::mt19937 rng(9);
  ModelSpec spec;
  for (int t = 0; t < 30; ++t) spec.trees.push_back(RandomTree(&rng, spec.num_features, 5, 0.0, 0.05));
  const std::string json = ModelJson(spec);
  const std::vector<float> x = RandomRows(50, spec.num_features, &rng);
  const char* before = std::getenv("SLUICE_MODEL_KERNEL");
  const std::string saved = before ? before : "";
  std::vector<float> first;
  for (const char* name : {"", "scalar", "avx2", "avx512", "sse9"}) {
    setenv("SLUICE_MODEL_KERNEL", name, 1);
    auto loaded = TreeEnsemble::ParseXgboostJson(json, "env");
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    std::string want = KernelName(BestKernel());
    for (Kernel k : SupportedKernels()) {
      if (std::string(name) == KernelName(k)) want = name;
    }
    EXPECT_EQ((*loaded)->scoring_kernel(), want) << "SLUICE_MODEL_KERNEL=" << name;
    std::vector<float> margin(50);
    (*loaded)->PredictMargin(x.data(), 50, spec.num_features, margin.data());
    if (first.empty()) first = margin;
    EXPECT_EQ(margin, first) << "SLUICE_MODEL_KERNEL=" << name;
  }
  if (before) {
    setenv("SLUICE_MODEL_KERNEL", saved.c_str(), 1);
  } else {
    unsetenv("SLUICE_MODEL_KERNEL");
  }
}

}  // namespace
}  // namespace sluice::model::internal
