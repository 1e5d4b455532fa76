#pragma once
// The compiled form of an XGBoost model. For gbtree and dart, every tree
// flattened into one node array, renumbered breadth first so that a node's two
// children sit side by side (right = left + 1); for gblinear, no trees and a
// LinearBooster. Built once by the loader, then read-only.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/tree_ensemble.h"

namespace sluice::model::internal {

inline constexpr uint32_t kLeafFlag = 1u << 31;
inline constexpr uint32_t kDefaultLeftFlag = 1u << 30;
inline constexpr uint32_t kCategoricalFlag = 1u << 29;
inline constexpr uint32_t kFeatureMask = (1u << 24) - 1;

// Twelve bytes. For a numerical split `value` is the threshold (x < value goes
// left); for a categorical split `category_set` indexes Forest::category_sets;
// for a leaf `value` is the leaf's output.
struct FlatNode {
  union {
    float value;
    uint32_t category_set;
  };
  uint32_t feature_and_flags;
  int32_t left;  // absolute index into Forest::nodes; the right child is left + 1

  bool is_leaf() const { return (feature_and_flags & kLeafFlag) != 0; }
  uint32_t feature() const { return feature_and_flags & kFeatureMask; }
};
static_assert(sizeof(FlatNode) == 12);

// A set of categories as a bitset: words [offset, offset + words) of
// Forest::category_words; category c is bit c % 32 of word c / 32.
struct CategorySet {
  uint32_t offset;
  uint32_t words;
};

struct FlatTree {
  int32_t root;        // absolute index of the root in Forest::nodes
  uint32_t group;      // output group (class) the tree adds to
  float weight;        // 1 for gbtree, weight_drop for dart
  float mean_value;    // cover-weighted mean of the leaves: the tree's expected value
  uint32_t max_depth;  // edges on the longest root-to-leaf path
};

// A gblinear booster, laid out as XGBoost stores it: group g's margin is
// base_margin + bias[g] + the sum over features f of x[f] * weights[f *
// num_groups + g], where a missing x[f] adds nothing.
struct LinearBooster {
  std::vector<float> weights;  // num_features x num_groups, feature-major
  std::vector<float> bias;     // num_groups
};

struct Forest {
  // gblinear: set, and there are no trees or nodes.
  std::optional<LinearBooster> linear;
  std::vector<FlatNode> nodes;
  std::vector<float> covers;  // sum_hessian per node, parallel to `nodes`
  std::vector<uint32_t> category_words;
  std::vector<CategorySet> category_sets;
  std::vector<FlatTree> trees;
  std::vector<std::string> feature_names;
  std::string booster;  // "gbtree", "dart" or "gblinear"
  std::string objective_name;
  Objective objective = Objective::kSquaredError;
  size_t num_features = 0;
  size_t num_groups = 1;
  float base_margin = 0.0f;
  uint32_t max_depth = 0;
};

// Follows XGBoost: a missing value takes the default branch; a category in the
// node's set goes right and any other value (including negative, too large
// or unseen categories) goes left; a number goes left when x < threshold.
inline int32_t NextNode(const Forest& forest, const FlatNode& node, const float* row) {
  const float x = row[node.feature()];
  if (std::isnan(x)) return node.left + ((node.feature_and_flags & kDefaultLeftFlag) ? 0 : 1);
  if (node.feature_and_flags & kCategoricalFlag) {
    if (!(x >= 0.0f && x < 16777216.0f)) return node.left;
    const auto category = static_cast<uint32_t>(x);
    const CategorySet& set = forest.category_sets[node.category_set];
    if (category / 32 >= set.words) return node.left;
    const uint32_t word = forest.category_words[set.offset + category / 32];
    return node.left + static_cast<int32_t>((word >> (category % 32)) & 1u);
  }
  return node.left + (x < node.value ? 0 : 1);
}

inline float LeafValue(const Forest& forest, const FlatTree& tree, const float* row) {
  const FlatNode* nodes = forest.nodes.data();
  int32_t at = tree.root;
  while (!nodes[at].is_leaf()) at = NextNode(forest, nodes[at], row);
  return nodes[at].value;
}

}  // namespace sluice::model::internal
