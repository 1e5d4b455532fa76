#include "model/internal/tree_shap.h"

#include <algorithm>

namespace sluice::model::internal {
namespace {

// Extends the path by a feature that a fraction `zero` of the training data
// (by cover) and a fraction `one` of the explained row follow.
void ExtendPath(PathElement* path, unsigned depth, float zero, float one, int32_t feature) {
  path[depth].feature = feature;
  path[depth].zero_fraction = zero;
  path[depth].one_fraction = one;
  path[depth].weight = depth == 0 ? 1.0f : 0.0f;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    path[i + 1].weight +=
        one * path[i].weight * static_cast<float>(i + 1) / static_cast<float>(depth + 1);
    path[i].weight = zero * path[i].weight * static_cast<float>(depth - static_cast<unsigned>(i)) /
                     static_cast<float>(depth + 1);
  }
}

// Undoes ExtendPath for the element at `index`.
void UnwindPath(PathElement* path, unsigned depth, unsigned index) {
  const float one = path[index].one_fraction;
  const float zero = path[index].zero_fraction;
  float next_one_portion = path[depth].weight;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    if (one != 0) {
      const float tmp = path[i].weight;
      path[i].weight =
          next_one_portion * static_cast<float>(depth + 1) / (static_cast<float>(i + 1) * one);
      next_one_portion = tmp - path[i].weight * zero *
                                   static_cast<float>(depth - static_cast<unsigned>(i)) /
                                   static_cast<float>(depth + 1);
    } else {
      path[i].weight = (path[i].weight * static_cast<float>(depth + 1)) /
                       (zero * static_cast<float>(depth - static_cast<unsigned>(i)));
    }
  }
  for (unsigned i = index; i < depth; ++i) {
    path[i].feature = path[i + 1].feature;
    path[i].zero_fraction = path[i + 1].zero_fraction;
    path[i].one_fraction = path[i + 1].one_fraction;
  }
}

// The total permutation weight if the element at `index` were unwound.
float UnwoundPathSum(const PathElement* path, unsigned depth, unsigned index) {
  const float one = path[index].one_fraction;
  const float zero = path[index].zero_fraction;
  float next_one_portion = path[depth].weight;
  float total = 0;
  for (int i = static_cast<int>(depth) - 1; i >= 0; --i) {
    const float share =
        static_cast<float>(depth - static_cast<unsigned>(i)) / static_cast<float>(depth + 1);
    if (one != 0) {
      const float tmp =
          next_one_portion * static_cast<float>(depth + 1) / (static_cast<float>(i + 1) * one);
      total += tmp;
      next_one_portion = path[i].weight - tmp * zero * share;
    } else if (zero != 0) {
      total += (path[i].weight / zero) / share;
    }
  }
  return total;
}

struct ShapWalk {
  const Forest& forest;
  const float* row;
  float* phi;

  void Visit(int32_t node_index, unsigned depth, PathElement* parent_path, float zero, float one,
             int32_t parent_feature) const {
    const FlatNode& node = forest.nodes[static_cast<size_t>(node_index)];
    PathElement* path = parent_path + depth + 1;
    std::copy(parent_path, parent_path + depth + 1, path);
    ExtendPath(path, depth, zero, one, parent_feature);

    if (node.is_leaf()) {
      for (unsigned i = 1; i <= depth; ++i) {
        const float w = UnwoundPathSum(path, depth, i);
        const PathElement& el = path[i];
        phi[el.feature] += w * (el.one_fraction - el.zero_fraction) * node.value;
      }
      return;
    }
    const int32_t hot = NextNode(forest, node, row);
    const int32_t cold = hot == node.left ? node.left + 1 : node.left;
    const float cover = forest.covers[static_cast<size_t>(node_index)];
    // A zero-cover node (never seen in training) splits nothing between its
    // children; XGBoost would divide by zero here.
    const float hot_zero = cover > 0 ? forest.covers[static_cast<size_t>(hot)] / cover : 0.0f;
    const float cold_zero = cover > 0 ? forest.covers[static_cast<size_t>(cold)] / cover : 0.0f;
    float incoming_zero = 1;
    float incoming_one = 1;

    // A feature already on the path is unwound and redone at this node.
    const auto feature = static_cast<int32_t>(node.feature());
    unsigned index = 0;
    for (; index <= depth; ++index) {
      if (path[index].feature == feature) break;
    }
    if (index != depth + 1) {
      incoming_zero = path[index].zero_fraction;
      incoming_one = path[index].one_fraction;
      UnwindPath(path, depth, index);
      depth -= 1;
    }
    Visit(hot, depth + 1, path, hot_zero * incoming_zero, incoming_one, feature);
    Visit(cold, depth + 1, path, cold_zero * incoming_zero, 0, feature);
  }
};

}  // namespace

void AddTreeContributions(const Forest& forest, const FlatTree& tree, const float* row,
                          PathElement* path, float* phi) {
  phi[forest.num_features] += tree.mean_value;
  if (forest.nodes[static_cast<size_t>(tree.root)].is_leaf()) return;
  ShapWalk{forest, row, phi}.Visit(tree.root, 0, path, 1, 1, -1);
}

}  // namespace sluice::model::internal
