#include "model/internal/scoring.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "model/internal/scoring_simd.h"

namespace sluice::model::internal {

namespace {

// Nodes of tree t: from its root to the next tree's root (breadth-first
// numbering).
size_t TreeEnd(const Forest& forest, size_t t) {
  return t + 1 < forest.trees.size() ? static_cast<size_t>(forest.trees[t + 1].root)
                                     : forest.nodes.size();
}

void FindCategoricalTrees(const Forest& forest, ScoringForest* scoring) {
  scoring->tree_categorical.assign(forest.trees.size(), 0);
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    for (size_t i = static_cast<size_t>(forest.trees[t].root); i < TreeEnd(forest, t); ++i) {
      if (forest.nodes[i].feature_and_flags & kCategoricalFlag) scoring->tree_categorical[t] = 1;
    }
  }
}

// Step nodes for every node of the forest, when some tree is not a complete
// tree (the walks index them by Forest node).
void BuildSteps(const Forest& forest, ScoringForest* scoring) {
  const std::vector<int32_t>& slot = scoring->complete.slot;
  if (std::find(slot.begin(), slot.end(), -1) == slot.end()) return;
  std::vector<StepNode>& steps = scoring->steps;
  steps.resize(forest.nodes.size());
  for (size_t i = 0; i < forest.nodes.size(); ++i) {
    const FlatNode& node = forest.nodes[i];
    StepNode& step = steps[i];
    if (node.is_leaf()) {
      // NaN: every x, NaN included, gives offset 1, back to this node.
      step.threshold = std::numeric_limits<float>::quiet_NaN();
      step.feature_and_flags = 0;
      step.left = static_cast<int32_t>(i) - 1;
      continue;
    }
    step.threshold = node.value;
    step.feature_and_flags = node.feature();
    if (node.feature_and_flags & kDefaultLeftFlag) step.feature_and_flags |= kStepDefaultLeft;
    if (node.feature_and_flags & kCategoricalFlag) step.feature_and_flags |= kStepCategorical;
    step.left = node.left;
  }
}

// Writes the subtree of Forest node `at` as node j of level `level` of the
// complete tree in slot `slot`, padding below leaves.
void FillComplete(const Forest& forest, const FlatTree& tree, int32_t at, uint32_t level,
                  size_t j, size_t slot, CompleteTrees* complete) {
  const uint32_t depth = complete->depth;
  const FlatNode& node = forest.nodes[static_cast<size_t>(at)];
  if (node.is_leaf()) {
    // Padding: any split will do (feature 0 exists, since some tree
    // splits); every leaf below holds the value.
    for (uint32_t d = level; d < depth; ++d) {
      CompleteNode* first = complete->nodes.data() + complete->stored * ((size_t{1} << d) - 1) +
                            (slot << d) + (j << (d - level));
      std::fill(first, first + (size_t{1} << (d - level)), CompleteNode{0.0f, 0});
    }
    const float value = node.value * tree.weight;
    float* first = complete->leaves.data() + (slot << depth) + (j << (depth - level));
    std::fill(first, first + (size_t{1} << (depth - level)), value);
    return;
  }
  uint32_t flags = node.feature();
  if (node.feature_and_flags & kDefaultLeftFlag) flags |= kCompleteMissingLeft;
  complete->nodes[complete->stored * ((size_t{1} << level) - 1) + (slot << level) + j] =
      CompleteNode{node.value, flags};
  FillComplete(forest, tree, node.left, level + 1, 2 * j, slot, complete);
  FillComplete(forest, tree, node.left + 1, level + 1, 2 * j + 1, slot, complete);
}

void BuildComplete(const Forest& forest, ScoringForest* scoring) {
  CompleteTrees& complete = scoring->complete;
  complete.num_features = forest.num_features;
  complete.slot.assign(forest.trees.size(), -1);
  uint32_t depth = 0;
  size_t stored = 0;
  size_t original_nodes = 0;
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    if (scoring->tree_categorical[t]) continue;
    depth = std::max(depth, forest.trees[t].max_depth);
    original_nodes += TreeEnd(forest, t) - static_cast<size_t>(forest.trees[t].root);
    ++stored;
  }
  if (stored == 0 || depth > kMaxCompleteDepth) return;
  const size_t slots_per_tree = (size_t{2} << depth) - 1;  // nodes and leaves
  if (stored * slots_per_tree > 4 * original_nodes) return;
  complete.depth = depth;
  complete.stored = stored;
  complete.nodes.resize(stored * ((size_t{1} << depth) - 1));
  complete.leaves.resize(stored << depth);
  int32_t slot = 0;
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    if (scoring->tree_categorical[t]) continue;
    FillComplete(forest, forest.trees[t], forest.trees[t].root, 0, 0, static_cast<size_t>(slot),
                 &complete);
    complete.slot[t] = slot++;
  }
  const size_t top_nodes = (size_t{1} << std::min(depth, CompleteTrees::kTopLevels)) - 1;
  complete.top_thresholds.resize(top_nodes * stored);
  complete.top_features.resize(top_nodes * stored);
  for (uint32_t d = 0; d < std::min(depth, CompleteTrees::kTopLevels); ++d) {
    for (size_t j = 0; j < (size_t{1} << d); ++j) {
      const size_t n = (size_t{1} << d) - 1 + j;
      for (size_t s = 0; s < stored; ++s) {
        const CompleteNode& node = complete.level(d)[(s << d) + j];
        complete.top_thresholds[n * stored + s] = node.threshold;
        complete.top_features[n * stored + s] = node.feature_and_flags;
      }
    }
  }
}

// !(x < threshold), except that a missing x goes left when the node says so.
template <bool kMissing>
inline uint32_t GoesRight(float x, CompleteNode node) {
  const auto right = static_cast<uint32_t>(!(x < node.threshold));
  if constexpr (!kMissing) return right;
  const uint32_t missing_left = static_cast<uint32_t>(std::isnan(x)) & (node.feature_and_flags >> 31);
  return right & (missing_left ^ 1u);
}

// The column a node reads: f, or 2f + missing-goes-left in doubled rows
// (a rotation by one moves the flag from bit 31 to bit 0).
template <RowForm kForm>
inline uint32_t Column(uint32_t feature_and_flags) {
  if constexpr (kForm == RowForm::kDoubled) {
    return (feature_and_flags << 1) | (feature_and_flags >> 31);
  } else {
    return feature_and_flags & kCompleteFeatureMask;
  }
}

template <RowForm kForm>
void AddTreeToRowsScalar(const CompleteTrees& trees, uint32_t slot, const float* x, size_t count,
                         size_t stride, float* out, size_t out_stride) {
  const uint32_t depth = trees.depth;
  const float* leaves = trees.leaves.data() + (size_t{slot} << depth);
  constexpr size_t kChunk = 64;
  uint32_t j[kChunk];
  for (size_t begin = 0; begin < count; begin += kChunk) {
    const size_t n = std::min(kChunk, count - begin);
    const float* rows = x + begin * stride;
    std::fill(j, j + n, 0u);
    for (uint32_t d = 0; d < depth; ++d) {
      const CompleteNode* level = trees.level(d) + (size_t{slot} << d);
      for (size_t r = 0; r < n; ++r) {
        const CompleteNode node = level[j[r]];
        const float v = rows[r * stride + Column<kForm>(node.feature_and_flags)];
        j[r] = 2 * j[r] + GoesRight<kForm == RowForm::kPlain>(v, node);
      }
    }
    float* o = out + begin * out_stride;
    for (size_t r = 0; r < n; ++r) o[r * out_stride] += leaves[j[r]];
  }
}

// K trees of one row in lockstep, unrolled so that the K node indices stay
// in registers: K independent load chains per level.
template <bool kMissing, size_t... k>
void TreeValuesOfRowUnrolled(const CompleteTrees& trees, uint32_t first_slot, const float* row,
                             float* values, std::index_sequence<k...>) {
  // i[k]: tree first_slot + k's node index within the current level.
  size_t i[sizeof...(k)] = {(first_slot + k)...};
  for (uint32_t d = 0; d < trees.depth; ++d) {
    const CompleteNode* level = trees.level(d);
    ((i[k] = 2 * i[k] + GoesRight<kMissing>(
                            row[level[i[k]].feature_and_flags & kCompleteFeatureMask], level[i[k]])),
     ...);
  }
  ((values[k] = trees.leaves[i[k]]), ...);
}

constexpr size_t kScalarTreesAtOnce = 12;

template <bool kMissing, size_t... n>
constexpr auto MakeScalarTable(std::index_sequence<n...>) {
  using Walk = void (*)(const CompleteTrees&, uint32_t, const float*, float*);
  return std::array<Walk, sizeof...(n)>{
      [](const CompleteTrees& trees, uint32_t first_slot, const float* row, float* values) {
        TreeValuesOfRowUnrolled<kMissing>(trees, first_slot, row, values,
                                          std::make_index_sequence<n + 1>());
      }...};
}

template <bool kMissing>
void TreeValuesOfRowScalar(const CompleteTrees& trees, uint32_t first_slot, size_t count,
                           const float* row, float* values) {
  // walk[n - 1] walks n trees.
  static constexpr auto walk =
      MakeScalarTable<kMissing>(std::make_index_sequence<kScalarTreesAtOnce>());
  for (size_t first = 0; first < count; first += kScalarTreesAtOnce) {
    const size_t n = std::min(kScalarTreesAtOnce, count - first);
    walk[n - 1](trees, first_slot + static_cast<uint32_t>(first), row, values + first);
  }
}

// One step of the general walk from node `at`; a leaf stays where it is.
template <bool kCategorical>
inline int32_t Step(const Forest& forest, const StepNode* steps, int32_t at, const float* row) {
  const StepNode& step = steps[at];
  if constexpr (kCategorical) {
    if (step.feature_and_flags & kStepCategorical) {
      return NextNode(forest, forest.nodes[static_cast<size_t>(at)], row);
    }
  }
  const float x = row[step.feature_and_flags & kStepFeatureMask];
  // !(x < threshold) is 1 for NaN; a missing value going left clears it.
  const auto right = static_cast<int32_t>(!(x < step.threshold));
  const auto missing_left =
      static_cast<int32_t>(std::isnan(x)) & static_cast<int32_t>(step.feature_and_flags >> 31);
  return step.left + (right & (missing_left ^ 1));
}

// Walks one tree for rows [0, count) of a block, all rows one level at a
// time; leaves the final node in at[].
template <bool kCategorical>
void WalkRows(const Forest& forest, const StepNode* steps, const FlatTree& tree, const float* x,
              size_t count, size_t stride, int32_t* at) {
  std::fill(at, at + count, tree.root);
  for (uint32_t level = 0; level < tree.max_depth; ++level) {
    for (size_t r = 0; r < count; ++r) {
      at[r] = Step<kCategorical>(forest, steps, at[r], x + r * stride);
    }
  }
}

// Walks trees [first, first + count) for one row, all trees one level at a
// time; leaves the final nodes in at[].
template <bool kCategorical>
void WalkTrees(const Forest& forest, const StepNode* steps, size_t first, size_t count,
               const float* row, int32_t* at) {
  uint32_t depth = 0;
  for (size_t k = 0; k < count; ++k) {
    at[k] = forest.trees[first + k].root;
    depth = std::max(depth, forest.trees[first + k].max_depth);
  }
  for (uint32_t level = 0; level < depth; ++level) {
    for (size_t k = 0; k < count; ++k) at[k] = Step<kCategorical>(forest, steps, at[k], row);
  }
}

bool AnyMissing(const float* x, size_t rows, size_t stride, size_t features) {
  bool missing = false;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * stride;
    for (size_t f = 0; f < features; ++f) missing |= std::isnan(row[f]);
  }
  return missing;
}

}  // namespace

Kernel BestKernel() {
  if (KernelSupported(Kernel::kAvx512)) return Kernel::kAvx512;
  if (KernelSupported(Kernel::kAvx2)) return Kernel::kAvx2;
  return Kernel::kScalar;
}

bool KernelSupported(Kernel kernel) {
  switch (kernel) {
    case Kernel::kScalar:
      return true;
    case Kernel::kAvx2:
      return SimdKernelsBuilt() && __builtin_cpu_supports("avx2");
    case Kernel::kAvx512:
      return SimdKernelsBuilt() && __builtin_cpu_supports("avx512f");
  }
  return false;
}

const char* KernelName(Kernel kernel) {
  switch (kernel) {
    case Kernel::kScalar:
      return "scalar";
    case Kernel::kAvx2:
      return "avx2";
    case Kernel::kAvx512:
      return "avx512";
  }
  return "?";
}

ScoringForest BuildScoringForest(const Forest& forest) {
  ScoringForest scoring;
  FindCategoricalTrees(forest, &scoring);
  BuildComplete(forest, &scoring);
  BuildSteps(forest, &scoring);
  return scoring;
}

void DoubleRows(const float* x, size_t rows, size_t stride, size_t features, float* doubled) {
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * stride;
    float* out = doubled + r * 2 * features;
    for (size_t f = 0; f < features; ++f) {
      const bool missing = std::isnan(row[f]);
      out[2 * f] = missing ? kInfinity : row[f];
      out[2 * f + 1] = missing ? -kInfinity : row[f];
    }
  }
}

void AddTreeToRows(Kernel kernel, const CompleteTrees& trees, uint32_t slot, const float* x,
                   size_t count, size_t stride, RowForm form, float* out, size_t out_stride) {
  switch (kernel) {
    case Kernel::kAvx512:
      AddTreeToRowsAvx512(trees, slot, x, count, stride, form, out, out_stride);
      return;
    case Kernel::kAvx2:
      AddTreeToRowsAvx2(trees, slot, x, count, stride, form, out, out_stride);
      return;
    case Kernel::kScalar:
      break;
  }
  switch (form) {
    case RowForm::kPlain:
      return AddTreeToRowsScalar<RowForm::kPlain>(trees, slot, x, count, stride, out, out_stride);
    case RowForm::kNoMissing:
      return AddTreeToRowsScalar<RowForm::kNoMissing>(trees, slot, x, count, stride, out,
                                                      out_stride);
    case RowForm::kDoubled:
      return AddTreeToRowsScalar<RowForm::kDoubled>(trees, slot, x, count, stride, out,
                                                    out_stride);
  }
}

void TreeValuesOfRow(Kernel kernel, const CompleteTrees& trees, uint32_t first_slot, size_t count,
                     const float* row, bool missing, float* values) {
  switch (kernel) {
    case Kernel::kAvx512:
      TreeValuesOfRowAvx512(trees, first_slot, count, row, missing, values);
      return;
    case Kernel::kAvx2:  // see scoring_simd.h
    case Kernel::kScalar:
      break;
  }
  if (missing) {
    TreeValuesOfRowScalar<true>(trees, first_slot, count, row, values);
  } else {
    TreeValuesOfRowScalar<false>(trees, first_slot, count, row, values);
  }
}

void PredictForestMargin(const Forest& forest, const ScoringForest& scoring, Kernel kernel,
                         const float* x, size_t rows, size_t stride, float* margin) {
  const CompleteTrees& complete = scoring.complete;
  const StepNode* steps = scoring.steps.data();
  const uint8_t* tree_categorical = scoring.tree_categorical.data();
  const int32_t* slot = complete.slot.data();
  const size_t groups = forest.num_groups;
  const size_t num_trees = forest.trees.size();
  const FlatNode* nodes = forest.nodes.data();
  // Each tree runs over a block of rows before the next tree, so the tree's
  // nodes stay in cache, and the block's rows go down the tree together, a
  // level at a time, so their node loads overlap. Per row, trees are still
  // added in model order, in float, as XGBoost does.
  constexpr size_t kBlockRows = 128;
  // Below this many rows a block is walked row by row, several trees at once.
  constexpr size_t kMinLockstepRows = 8;
  // Blocks are copied as doubled rows (no missing-value test in the walks)
  // into this much stack, in fewer rows a block for wide models; models too
  // wide for kMinLockstepRows doubled rows are walked on the caller's rows.
  constexpr size_t kDoubledFloats = 8192;  // 32 KiB
  const size_t features = forest.num_features;
  const size_t doubled_rows =
      features == 0 ? kBlockRows : std::min(kBlockRows, kDoubledFloats / (2 * features));
  const bool use_doubled = doubled_rows >= kMinLockstepRows && !complete.nodes.empty();
  const size_t block_rows = use_doubled ? doubled_rows : kBlockRows;
  float doubled[kDoubledFloats];
  int32_t at[kBlockRows];
  float values[kTreesAtOnce];
  for (size_t begin = 0; begin < rows; begin += block_rows) {
    const size_t end = std::min(rows, begin + block_rows);
    const size_t count = end - begin;
    std::fill(margin + begin * groups, margin + end * groups, forest.base_margin);
    if (count >= kMinLockstepRows) {
      const float* block = x + begin * stride;
      const float* walked = block;
      size_t walked_stride = stride;
      RowForm form = RowForm::kDoubled;
      if (use_doubled) {
        DoubleRows(block, count, stride, features, doubled);
        walked = doubled;
        walked_stride = 2 * features;
      } else {
        form = AnyMissing(block, count, stride, features) ? RowForm::kPlain : RowForm::kNoMissing;
      }
      // The SIMD kernels index a block's rows with 32-bit offsets.
      const Kernel rows_kernel = walked_stride < (size_t{1} << 24) ? kernel : Kernel::kScalar;
      for (size_t t = 0; t < num_trees; ++t) {
        const FlatTree& tree = forest.trees[t];
        float* out = margin + begin * groups + tree.group;
        if (slot[t] >= 0) {
          AddTreeToRows(rows_kernel, complete, static_cast<uint32_t>(slot[t]), walked, count,
                        walked_stride, form, out, groups);
          continue;
        }
        if (tree_categorical[t]) {
          WalkRows<true>(forest, steps, tree, block, count, stride, at);
        } else {
          WalkRows<false>(forest, steps, tree, block, count, stride, at);
        }
        for (size_t r = 0; r < count; ++r) out[r * groups] += nodes[at[r]].value * tree.weight;
      }
      continue;
    }
    for (size_t r = begin; r < end; ++r) {
      const float* row = x + r * stride;
      float* out = margin + r * groups;
      const bool missing = AnyMissing(row, 1, stride, forest.num_features);
      for (size_t first = 0; first < num_trees; first += kTreesAtOnce) {
        const size_t n = std::min(kTreesAtOnce, num_trees - first);
        // Slots run in model order, so n trees are all stored when the first
        // and last are, n - 1 slots apart.
        if (slot[first] >= 0 && slot[first + n - 1] - slot[first] == static_cast<int32_t>(n - 1)) {
          TreeValuesOfRow(kernel, complete, static_cast<uint32_t>(slot[first]), n, row, missing,
                          values);
        } else {
          bool categorical = false;
          for (size_t k = 0; k < n; ++k) categorical |= tree_categorical[first + k] != 0;
          if (categorical) {
            WalkTrees<true>(forest, steps, first, n, row, at);
          } else {
            WalkTrees<false>(forest, steps, first, n, row, at);
          }
          for (size_t k = 0; k < n; ++k) values[k] = nodes[at[k]].value * forest.trees[first + k].weight;
        }
        // Added one tree after the other, in model order.
        if (groups == 1) {
          float sum = out[0];
          for (size_t k = 0; k < n; ++k) sum += values[k];
          out[0] = sum;
        } else {
          for (size_t k = 0; k < n; ++k) out[forest.trees[first + k].group] += values[k];
        }
      }
    }
  }
}

}  // namespace sluice::model::internal
