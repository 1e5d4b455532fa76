#include "model/internal/tree_shap.h"

#include <algorithm>
#include <cstdint>
#include <vector>

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

// Contributions of one leaf to its path's unique features, out[0..d): see the
// header. `zero` holds the features' zero fractions, `hot` has bit j set when
// the row follows every split on feature j, `weights` is w_d.
void LeafContributions(const float* zero, uint32_t d, uint64_t hot, double value,
                       const double* weights, float* out) {
  double poly[65];  // coefficients of the product of (z_k + t) over hot k
  poly[0] = 1;
  uint32_t s = 0;
  double scale = value;  // value times the product of the cold features' z_k
  for (uint32_t j = 0; j < d; ++j) {
    const double z = zero[j];
    if ((hot >> j) & 1u) {
      poly[s + 1] = poly[s];
      for (uint32_t k = s; k > 0; --k) poly[k] = poly[k] * z + poly[k - 1];
      poly[0] *= z;
      ++s;
    } else {
      scale *= z;
    }
  }
  float cold = 0;
  if (s < d) {
    double sum = 0;
    for (uint32_t k = 0; k <= s; ++k) sum += weights[k] * poly[k];
    cold = static_cast<float>(-scale * sum);
  }
  for (uint32_t j = 0; j < d; ++j) {
    if (!((hot >> j) & 1u)) {
      out[j] = cold;
      continue;
    }
    // poly / (z_j + t), from the top coefficient down; r stays >= 0.
    const double z = zero[j];
    double r = poly[s];
    double sum = weights[s - 1] * r;
    for (uint32_t k = s - 1; k > 0; --k) {
      r = poly[k] - z * r;
      sum += weights[k - 1] * r;
    }
    out[j] = static_cast<float>(scale * (1.0 - z) * sum);
  }
}

constexpr uint32_t kMaxPatternFeatures = 64;

// Walks one tree depth first at load, keeping the current path's unique
// features, and records every leaf's path and every split's pattern bit.
struct PathRecorder {
  const Forest& forest;
  ShapPaths* paths;
  uint32_t root;
  std::vector<uint32_t> features;
  std::vector<float> zeros;
  bool too_long = false;

  void Visit(uint32_t node_index) {
    const FlatNode& node = forest.nodes[node_index];
    if (node.is_leaf()) {
      if (features.size() > kMaxPatternFeatures) {
        too_long = true;
        return;
      }
      paths->leaves.push_back(
          ShapLeaf{node_index - root, static_cast<uint32_t>(paths->element_feature.size()),
                   static_cast<uint32_t>(features.size()), node.value, kNoTable});
      paths->element_feature.insert(paths->element_feature.end(), features.begin(), features.end());
      paths->element_zero.insert(paths->element_zero.end(), zeros.begin(), zeros.end());
      return;
    }
    const uint32_t feature = node.feature();
    const size_t bit = static_cast<size_t>(std::find(features.begin(), features.end(), feature) -
                                           features.begin());
    const bool repeated = bit < features.size();
    if (!repeated) {
      features.push_back(feature);
      zeros.push_back(1.0f);
    }
    // A bit past 63 only occurs in a tree that keeps the recursion.
    paths->split_bit[node_index] = static_cast<uint8_t>(bit < kMaxPatternFeatures ? bit : 0);
    const float cover = forest.covers[node_index];
    const float incoming = zeros[bit];
    for (uint32_t child = static_cast<uint32_t>(node.left);
         child <= static_cast<uint32_t>(node.left) + 1; ++child) {
      // As the recursion: a zero-cover node splits nothing between its children.
      const float ratio = cover > 0 ? forest.covers[child] / cover : 0.0f;
      zeros[bit] = ratio * incoming;
      Visit(child);
    }
    if (repeated) {
      zeros[bit] = incoming;
    } else {
      features.pop_back();
      zeros.pop_back();
    }
  }
};

}  // namespace

ShapPaths BuildShapPaths(const Forest& forest, size_t table_budget_bytes,
                         uint32_t max_table_features) {
  ShapPaths paths;
  paths.split_bit.assign(forest.nodes.size(), 0);
  paths.trees.reserve(forest.trees.size());
  for (size_t t = 0; t < forest.trees.size(); ++t) {
    const FlatTree& tree = forest.trees[t];
    const auto root = static_cast<uint32_t>(tree.root);
    const uint32_t end = t + 1 < forest.trees.size()
                             ? static_cast<uint32_t>(forest.trees[t + 1].root)
                             : static_cast<uint32_t>(forest.nodes.size());
    ShapTree shap_tree{static_cast<uint32_t>(paths.leaves.size()), 0, end - root, false};
    const size_t elements_before = paths.element_feature.size();
    // Element offsets are 32-bit; a tree that might not fit keeps the
    // recursion (a leaf's path has at most min(depth, 64) elements).
    const uint64_t most_elements =
        uint64_t{shap_tree.num_nodes} * std::min<uint64_t>(tree.max_depth, kMaxPatternFeatures);
    const bool fits = elements_before + most_elements <= UINT32_MAX;
    PathRecorder recorder{forest, &paths, root, {}, {}};
    if (fits && !forest.nodes[root].is_leaf()) recorder.Visit(root);
    if (!fits || recorder.too_long) {
      paths.leaves.resize(shap_tree.leaf_begin);
      paths.element_feature.resize(elements_before);
      paths.element_zero.resize(elements_before);
      shap_tree.recursive = true;
      paths.max_depth = std::max(paths.max_depth, tree.max_depth);
    }
    shap_tree.leaf_end = static_cast<uint32_t>(paths.leaves.size());
    paths.max_tree_nodes = std::max(paths.max_tree_nodes, shap_tree.num_nodes);
    paths.trees.push_back(shap_tree);
  }

  paths.weights.resize(kMaxPatternFeatures * (kMaxPatternFeatures + 1) / 2);
  for (uint32_t d = 1; d <= kMaxPatternFeatures; ++d) {
    double choose = 1;  // C(d - 1, k)
    for (uint32_t k = 0; k < d; ++k) {
      if (k > 0) choose = choose * static_cast<double>(d - k) / static_cast<double>(k);
      paths.weights[d * (d - 1) / 2 + k] = 1.0 / (static_cast<double>(d) * choose);
    }
  }

  // Tables, tree by tree in model order while the budget lasts, for trees
  // whose leaves all qualify: a deep tree's few short paths are cheap to
  // compute anyway, and their tables would only take cache from the rest.
  // Offsets first, so that the table is allocated once.
  const size_t budget = table_budget_bytes / sizeof(float);
  max_table_features = std::min(max_table_features, uint32_t{20});
  size_t table_size = 0;
  for (const ShapTree& tree : paths.trees) {
    if (tree.recursive) continue;
    size_t entries = 0;
    bool qualifies = true;
    for (uint32_t l = tree.leaf_begin; l < tree.leaf_end && qualifies; ++l) {
      const uint32_t d = paths.leaves[l].size;
      qualifies = d <= max_table_features;
      entries += (size_t{1} << std::min(d, uint32_t{20})) * d;
    }
    if (!qualifies || table_size + entries > budget) continue;
    for (uint32_t l = tree.leaf_begin; l < tree.leaf_end; ++l) {
      ShapLeaf& leaf = paths.leaves[l];
      leaf.table = table_size;
      table_size += (size_t{1} << leaf.size) * leaf.size;
    }
  }
  paths.table.resize(table_size);
  for (const ShapLeaf& leaf : paths.leaves) {
    if (leaf.table == kNoTable) continue;
    const double* weights = paths.weights.data() + leaf.size * (leaf.size - 1) / 2;
    for (uint64_t pattern = 0; pattern < (uint64_t{1} << leaf.size); ++pattern) {
      LeafContributions(paths.element_zero.data() + leaf.first, leaf.size, pattern, leaf.value,
                        weights, paths.table.data() + leaf.table + pattern * leaf.size);
    }
  }
  paths.leaves.shrink_to_fit();
  paths.element_feature.shrink_to_fit();
  paths.element_zero.shrink_to_fit();
  return paths;
}

void ShapScratch::Reserve(const ShapPaths& paths) {
  pattern.resize(std::max<size_t>(pattern.size(), paths.max_tree_nodes));
  leaf_out.resize(std::max<size_t>(leaf_out.size(), kMaxPatternFeatures));
  path.resize(std::max(path.size(), ShapScratchSize(paths.max_depth)));
}

void AddTreeContributions(const Forest& forest, const ShapPaths& paths, size_t tree_index,
                          const float* row, ShapScratch* scratch, float* phi) {
  const FlatTree& tree = forest.trees[tree_index];
  phi[forest.num_features] += tree.mean_value;
  if (forest.nodes[static_cast<size_t>(tree.root)].is_leaf()) return;
  const ShapTree& shap_tree = paths.trees[tree_index];
  if (shap_tree.recursive) {
    ShapWalk{forest, row, phi}.Visit(tree.root, 0, scratch->path.data(), 1, 1, -1);
    return;
  }

  // Patterns of all nodes, parents before children (breadth-first order).
  const auto root = static_cast<size_t>(tree.root);
  const FlatNode* nodes = forest.nodes.data() + root;
  const uint8_t* split_bit = paths.split_bit.data() + root;
  uint64_t* pattern = scratch->pattern.data();
  pattern[0] = ~uint64_t{0};
  for (uint32_t i = 0; i < shap_tree.num_nodes; ++i) {
    const FlatNode& node = nodes[i];
    if (node.is_leaf()) continue;
    const bool hot_left = NextNode(forest, node, row) == node.left;
    const uint64_t hot = pattern[i];
    const uint64_t cold = hot & ~(uint64_t{1} << split_bit[i]);
    const size_t left = static_cast<size_t>(node.left) - root;
    pattern[left] = hot_left ? hot : cold;
    pattern[left + 1] = hot_left ? cold : hot;
  }

  float* out = scratch->leaf_out.data();
  for (uint32_t l = shap_tree.leaf_begin; l < shap_tree.leaf_end; ++l) {
    const ShapLeaf& leaf = paths.leaves[l];
    const uint32_t d = leaf.size;
    const uint64_t mask = d == 64 ? ~uint64_t{0} : (uint64_t{1} << d) - 1;
    const uint64_t hot = pattern[leaf.node] & mask;
    const uint32_t* features = paths.element_feature.data() + leaf.first;
    const float* values;
    if (leaf.table != kNoTable) {
      values = paths.table.data() + leaf.table + hot * d;
    } else {
      LeafContributions(paths.element_zero.data() + leaf.first, d, hot, leaf.value,
                        paths.weights.data() + d * (d - 1) / 2, out);
      values = out;
    }
    for (uint32_t j = 0; j < d; ++j) phi[features[j]] += values[j];
  }
}

void AddTreeContributionsRecursive(const Forest& forest, const FlatTree& tree, const float* row,
                                   PathElement* path, float* phi) {
  phi[forest.num_features] += tree.mean_value;
  if (forest.nodes[static_cast<size_t>(tree.root)].is_leaf()) return;
  ShapWalk{forest, row, phi}.Visit(tree.root, 0, path, 1, 1, -1);
}

}  // namespace sluice::model::internal
