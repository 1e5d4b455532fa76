#pragma once
// Exact path-dependent TreeSHAP (Lundberg et al. 2018), the values of
// XGBoost's pred_contribs, computed leaf by leaf instead of by recursion.
//
// For one leaf, take the unique features split on along its path, d of them;
// feature j has a zero fraction z_j (the product of the cover ratios of the
// path's splits on j: the share of training data that follows them) and, for
// the explained row, a one fraction o_j, 1 when the row follows every split on
// j along the path and 0 otherwise. The set S of features with o_j = 1 is the
// leaf's pattern for the row. The leaf adds to feature j
//
//   value * (o_j - z_j) * sum over T subset of S \ {j} of
//       |T|! (d - 1 - |T|)! / d! * product of z_k over k not in T, k != j,
//
// which is what Algorithm 2's extend / unwind computes. With
// P(t) = product over k in S of (z_k + t), and Z the product of z_k over k not
// in S: every j outside S gets -value * Z * sum_k w(k) [t^k] P, the same for
// all of them, and j in S gets value * (1 - z_j) * Z * sum_k w(k) [t^k] P/(z_j + t),
// where w(k) = k! (d - 1 - k)! / d!. A leaf costs O(d + s^2) for s = |S|
// (about d/2 on average), against O(d^2) for the recursion, and nothing is
// copied per node.
//
// The row's patterns come from one pass over the tree's nodes: a node's
// pattern is its parent's with, on the cold side, the bit of the parent's
// split feature cleared. Which bit a feature has is fixed per path at load
// (its rank among the path's unique features by first appearance), so it is
// stored per split node.
//
// Leaves with few unique features can instead look up their d values in a
// table computed at load for all 2^d patterns (Fast TreeSHAP v2, Yang 2021):
// 2^d * d floats per leaf. Tables are made for the trees whose leaves all
// have at most kMaxTableFeatures unique features, in model order, until a
// byte budget is spent. Trees with a path of more than 64 unique features
// (only possible with more than 64 features and very deep trees), and trees
// past 2^32 path entries in all, keep the recursion.
//
// Arithmetic is in double per leaf, then added in float; the results equal
// XGBoost's float computation to about 1e-6, not bit for bit.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/internal/forest.h"

namespace sluice::model::internal {

// Trees with a leaf of more unique features than this get no tables.
inline constexpr uint32_t kMaxTableFeatures = 6;
// The default bound on all of a model's tables together.
inline constexpr size_t kDefaultShapTableBudget = size_t{16} << 20;

struct ShapLeaf {
  uint32_t node;   // the leaf's offset from its tree's root
  uint32_t first;  // its path: ShapPaths::element_* [first, first + size)
  uint32_t size;   // unique features on the path
  float value;     // leaf output
  uint64_t table;  // offset of its 2^size * size floats in ShapPaths::table, or kNoTable
};
inline constexpr uint64_t kNoTable = ~uint64_t{0};

struct ShapTree {
  uint32_t leaf_begin;  // ShapPaths::leaves [leaf_begin, leaf_end)
  uint32_t leaf_end;
  uint32_t num_nodes;
  bool recursive;  // too long a path, or too many in all: use the recursion
};

// What BuildShapPaths precomputes for a forest; read-only afterwards.
struct ShapPaths {
  std::vector<uint8_t> split_bit;  // parallel to Forest::nodes; pattern bit of a split's feature
  std::vector<ShapTree> trees;     // parallel to Forest::trees
  std::vector<ShapLeaf> leaves;
  std::vector<uint32_t> element_feature;
  std::vector<float> element_zero;
  std::vector<float> table;
  std::vector<double> weights;  // w_d(k) at d * (d - 1) / 2 + k, for d = 1..64
  uint32_t max_tree_nodes = 0;
  uint32_t max_depth = 0;  // of the recursive trees, for their scratch

  size_t table_bytes() const { return table.size() * sizeof(float); }
};

// REQUIRES: forest is a tree booster (no `linear`).
ShapPaths BuildShapPaths(const Forest& forest, size_t table_budget_bytes = kDefaultShapTableBudget,
                         uint32_t max_table_features = kMaxTableFeatures);

// One entry of the path of unique features from the root to a node, for the
// recursion (Algorithm 2 as XGBoost runs it).
struct PathElement {
  int32_t feature;  // -1 for the root's placeholder
  float zero_fraction;
  float one_fraction;
  float weight;  // permutation weight
};

// Number of PathElements that the recursion needs for a tree of depth `max_depth`.
inline size_t ShapScratchSize(uint32_t max_depth) {
  const size_t d = static_cast<size_t>(max_depth) + 2;
  return d * (d + 1) / 2;
}

// Per-thread working memory of AddTreeContributions; sized by Reserve.
struct ShapScratch {
  std::vector<uint64_t> pattern;
  std::vector<float> leaf_out;
  std::vector<PathElement> path;

  void Reserve(const ShapPaths& paths);
};

// Adds tree `tree_index`'s per-feature contributions for `row` to
// phi[0..num_features) and its expected value to phi[num_features].
// REQUIRES: scratch->Reserve(paths) was called.
void AddTreeContributions(const Forest& forest, const ShapPaths& paths, size_t tree_index,
                          const float* row, ShapScratch* scratch, float* phi);

// The same by Algorithm 2's recursion, in float, in XGBoost's order of
// operations. REQUIRES: `path` has ShapScratchSize(tree.max_depth) elements.
void AddTreeContributionsRecursive(const Forest& forest, const FlatTree& tree, const float* row,
                                   PathElement* path, float* phi);

}  // namespace sluice::model::internal
