#pragma once
// Exact path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2), computed
// in float with the same operation order as XGBoost's pred_contribs.

#include "model/internal/forest.h"

namespace sluice::model::internal {

// One entry of the path of unique features from the root to a node.
struct PathElement {
  int32_t feature;  // -1 for the root's placeholder
  float zero_fraction;
  float one_fraction;
  float weight;  // permutation weight
};

// Number of PathElements that TreeShap needs for a tree of depth `max_depth`.
inline size_t ShapScratchSize(uint32_t max_depth) {
  const size_t d = static_cast<size_t>(max_depth) + 2;
  return d * (d + 1) / 2;
}

// Adds the tree's per-feature contributions for `row` to phi[0..num_features)
// and its expected value to phi[num_features].
// REQUIRES: `path` has ShapScratchSize(tree.max_depth) elements.
void AddTreeContributions(const Forest& forest, const FlatTree& tree, const float* row,
                          PathElement* path, float* phi);

}  // namespace sluice::model::internal
