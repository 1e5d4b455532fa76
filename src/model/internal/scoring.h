#pragma once
// Margins of tree ensembles: the forms of a Forest made for scoring, and the
// walks over them.
//
// Two forms, built once at load:
//
// - Complete trees (the hot path). Every tree without categorical splits is
//   padded to one depth D, the deepest of them, and stored as a complete
//   binary tree: 2^D - 1 split nodes of 8 bytes (threshold, feature,
//   missing-goes-left bit) and 2^D leaves, no child offsets and no leaf
//   tests. A leaf above depth D becomes padding splits whose leaves below all
//   hold its value, so any path through the padding ends at that value. The
//   leaf values are stored already multiplied by the tree's weight (float
//   times float, the product XGBoost computes when it adds the tree).
//   Storage is level-major: level d of every stored tree, tree after tree,
//   then level d + 1. Stored tree s's node j of level d (0 <= j < 2^d) has
//   index i = s * 2^d + j within its level, its children 2i and 2i + 1 within
//   the next, and its leaves are level D (the leaf array). So a walk keeps
//   one number per tree, i = 2i + right, starting at s; and the same level of
//   consecutive trees is contiguous, which the single-row walk reads. The
//   top three levels are also kept node-major (top_thresholds,
//   top_features) for the AVX-512 single-row walk.
//   Padding to one depth costs memory when depths differ; when the padded
//   trees would take more than four times the nodes they replace, or D
//   exceeds kMaxCompleteDepth, no tree is stored this way.
//
// - Step nodes (the general path), parallel to Forest::nodes: one branch-free
//   step next = left + offset; leaves loop to themselves; categorical splits
//   are decided by NextNode. Used for trees that are not complete trees.
//
// Kernels walk complete trees: a block of rows through one tree (rows in
// lockstep; scalar, AVX2 and AVX-512), or one row through several trees
// (trees in lockstep; scalar and AVX-512), chosen at run time. All of them
// give the same leaves, hence bit-equal margins: a row's margin is
// base_margin plus its trees' values added one by one in model order, in
// float, as XGBoost does.
//
// Thread safety: immutable after BuildScoringForest; the functions below may
// run on many threads at once.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/internal/forest.h"

namespace sluice::model::internal {

inline constexpr uint32_t kMaxCompleteDepth = 16;
inline constexpr uint32_t kCompleteMissingLeft = 1u << 31;
inline constexpr uint32_t kCompleteFeatureMask = (1u << 24) - 1;

// A split of a complete tree: right when !(x < threshold), except that a
// missing x goes left when kCompleteMissingLeft is set.
struct CompleteNode {
  float threshold;
  uint32_t feature_and_flags;
};
static_assert(sizeof(CompleteNode) == 8);

struct CompleteTrees {
  uint32_t depth = 0;       // D: every stored tree has 2^D - 1 nodes and 2^D leaves
  size_t num_features = 0;  // of the model; every feature index is below it
  size_t stored = 0;        // trees stored
  std::vector<CompleteNode> nodes;  // level d starts at stored * (2^d - 1)
  std::vector<float> leaves;        // stored tree s: [s << D, (s + 1) << D), times weight
  // Per tree of the Forest: its index among the stored trees (its slot), or
  // -1. Slots follow model order, so consecutive stored trees have
  // consecutive slots.
  std::vector<int32_t> slot;
  // The nodes of the top kTopLevels levels again (heap positions 0..6),
  // thresholds and features apart, node-major: heap position n of slot s at
  // [n * stored + s]. The AVX-512 single-row walk loads these for 16
  // consecutive trees and selects among them instead of gathering (faster
  // for three levels, slower for four: 7 loads and blends per level there).
  static constexpr uint32_t kTopLevels = 3;
  std::vector<float> top_thresholds;
  std::vector<uint32_t> top_features;

  // Level d of all stored trees; node j of slot s is level(d)[(s << d) + j].
  const CompleteNode* level(uint32_t d) const {
    return nodes.data() + stored * ((size_t{1} << d) - 1);
  }
};

// The scoring form of a Forest node (see the top of this file).
inline constexpr uint32_t kStepDefaultLeft = 1u << 31;
inline constexpr uint32_t kStepCategorical = 1u << 30;
inline constexpr uint32_t kStepFeatureMask = (1u << 24) - 1;

struct StepNode {
  float threshold;
  uint32_t feature_and_flags;
  int32_t left;
};
static_assert(sizeof(StepNode) == 12);

enum class Kernel : uint8_t { kScalar, kAvx2, kAvx512 };

// The fastest kernel this processor runs.
Kernel BestKernel();
bool KernelSupported(Kernel kernel);
const char* KernelName(Kernel kernel);

struct ScoringForest {
  CompleteTrees complete;
  // Parallel to Forest::nodes; empty when every tree is a complete tree.
  std::vector<StepNode> steps;
  std::vector<uint8_t> tree_categorical;  // per tree: has a categorical split
};

ScoringForest BuildScoringForest(const Forest& forest);

// Margins of a gbtree or dart forest, as TreeEnsemble::PredictMargin.
// Allocates nothing. REQUIRES: KernelSupported(kernel), stride >=
// forest.num_features, and !forest.linear.
void PredictForestMargin(const Forest& forest, const ScoringForest& scoring, Kernel kernel,
                         const float* x, size_t rows, size_t stride, float* margin);

// How the row-block kernels find the value a node tests.
enum class RowForm : uint8_t {
  // x[r * stride + f]; NaN means missing and is tested at every node.
  kPlain,
  // x[r * stride + f]; the caller promises no NaN among the features.
  kNoMissing,
  // Doubled rows (DoubleRows): feature f twice, at 2f with NaN replaced by
  // +infinity and at 2f + 1 with NaN replaced by -infinity. A node reads
  // 2f + its missing-goes-left bit, so every value it sees goes the right
  // way by `!(x < threshold)` alone (thresholds are finite): no NaN test.
  kDoubled,
};

// Writes `rows` rows of 2 * features floats to `doubled` (see kDoubled).
void DoubleRows(const float* x, size_t rows, size_t stride, size_t features, float* doubled);

// The kernels, exposed for tests.
//
// Adds the value of stored tree `slot` to out[r * out_stride] for rows
// [0, count), row r at x + r * stride in the given form. REQUIRES: stride <
// 2^24.
void AddTreeToRows(Kernel kernel, const CompleteTrees& trees, uint32_t slot, const float* x,
                   size_t count, size_t stride, RowForm form, float* out, size_t out_stride);
// values[k] = the value of stored tree first_slot + k for one row, k < count;
// `missing` false promises that the row's features hold no NaN. REQUIRES:
// count <= kTreesAtOnce.
inline constexpr size_t kTreesAtOnce = 64;
void TreeValuesOfRow(Kernel kernel, const CompleteTrees& trees, uint32_t first_slot, size_t count,
                     const float* row, bool missing, float* values);

}  // namespace sluice::model::internal
