#include "model/internal/xgboost_json.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "model/internal/json_describe.h"

namespace sluice::model::internal {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// XGBoost 1.x writes non-finite floats as the bare words NaN, Infinity and
// -Infinity (categorical splits store a NaN threshold), which JSON does not
// allow. Outside strings, each becomes null; readers of float arrays take null
// as "not a finite number".
std::string ReplaceNonFiniteLiterals(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out.push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (json.substr(i, 3) == "NaN") {
      out += "null";
      i += 2;
      continue;
    } else if (json.substr(i, 8) == "Infinity") {
      out += "null";
      i += 7;
      continue;
    } else if (json.substr(i, 9) == "-Infinity") {
      out += "null";
      i += 8;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

const char* TypeName(const element& e) {
  return DescribeJsonType(e);
}

// Double to float without undefined behaviour for out-of-range values.
float ToFloat(double d) {
  if (std::isnan(d)) return std::numeric_limits<float>::quiet_NaN();
  if (d > static_cast<double>(std::numeric_limits<float>::max())) {
    return std::numeric_limits<float>::infinity();
  }
  if (d < -static_cast<double>(std::numeric_limits<float>::max())) {
    return -std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(d);
}

std::string FormatFloat(float f) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

struct ObjectiveInfo {
  std::string_view name;
  Objective objective;
};
constexpr ObjectiveInfo kObjectives[] = {
    {"binary:logistic", Objective::kBinaryLogistic},
    {"reg:logistic", Objective::kBinaryLogistic},
    {"binary:logitraw", Objective::kBinaryLogitRaw},
    {"reg:squarederror", Objective::kSquaredError},
    {"reg:linear", Objective::kSquaredError},
    {"reg:squaredlogerror", Objective::kSquaredError},
    {"reg:pseudohubererror", Objective::kSquaredError},
    {"reg:absoluteerror", Objective::kSquaredError},
    {"count:poisson", Objective::kPoisson},
    {"reg:gamma", Objective::kPoisson},
    {"reg:tweedie", Objective::kPoisson},
    {"multi:softprob", Objective::kSoftprob},
    {"multi:softmax", Objective::kSoftmax},
    {"rank:pairwise", Objective::kRank},
    {"rank:ndcg", Objective::kRank},
    {"rank:map", Objective::kRank},
};

// The arrays of one tree, as read from the file (original node numbering).
struct RawTree {
  size_t num_nodes = 0;
  std::vector<int64_t> left, right, split_index, split_type, default_left;
  std::vector<float> split_condition, cover;
  std::vector<int64_t> categories, categories_nodes, categories_segments, categories_sizes;
};

class XgboostReader {
 public:
  explicit XgboostReader(const std::string& name) : name_(name) {}

  Result<Forest> Read(std::string_view json);

 private:
  Status Error(std::string_view where, const std::string& what) const {
    std::string m = name_;
    m += ": ";
    if (!where.empty()) {
      m += where;
      m += ": ";
    }
    m += what;
    return InvalidInput(std::move(m));
  }

  Result<element> Field(const object& obj, std::string_view key, const std::string& where) const {
    element e;
    if (obj.at_key(key).get(e) != simdjson::SUCCESS) {
      return Error(where, "missing key \"" + std::string(key) + "\"");
    }
    return e;
  }
  Result<object> ObjectField(const object& obj, std::string_view key,
                             const std::string& where) const {
    SLUICE_ASSIGN_OR_RETURN(element e, Field(obj, key, where));
    object o;
    if (e.get(o) != simdjson::SUCCESS) {
      return Error(Join(where, key), std::string("expected an object, found ") + TypeName(e));
    }
    return o;
  }
  Result<array> ArrayField(const object& obj, std::string_view key,
                           const std::string& where) const {
    SLUICE_ASSIGN_OR_RETURN(element e, Field(obj, key, where));
    array a;
    if (e.get(a) != simdjson::SUCCESS) {
      return Error(Join(where, key), std::string("expected an array, found ") + TypeName(e));
    }
    return a;
  }
  Result<std::string_view> StringField(const object& obj, std::string_view key,
                                       const std::string& where) const {
    SLUICE_ASSIGN_OR_RETURN(element e, Field(obj, key, where));
    std::string_view s;
    if (e.get(s) != simdjson::SUCCESS) {
      return Error(Join(where, key), std::string("expected a string, found ") + TypeName(e));
    }
    return s;
  }
  // XGBoost stores parameters as strings ("31"); plain numbers are accepted too.
  Result<int64_t> IntegerParam(const object& obj, std::string_view key, const std::string& where,
                               int64_t lo, int64_t hi) const;

  static std::string Join(std::string_view where, std::string_view key) {
    return where.empty() ? std::string(key) : std::string(where) + "." + std::string(key);
  }

  Status ReadIntegers(const object& tree, std::string_view key, const std::string& where,
                      size_t expected, bool optional, std::vector<int64_t>* out) const;
  Status ReadFloats(const object& tree, std::string_view key, const std::string& where,
                    size_t expected, std::vector<float>* out) const;

  Status ReadObjective(const object& learner, Forest* forest) const;
  Status ReadModelParams(const object& learner, Forest* forest) const;
  Status ReadLinearBooster(const object& booster, Forest* forest) const;
  Status ReadTree(const object& tree, size_t index, const std::string& where, Forest* forest,
                  uint32_t group, float weight) const;
  Status CompileTree(const RawTree& raw, const std::string& where, Forest* forest, uint32_t group,
                     float weight) const;

  const std::string& name_;
};

Result<int64_t> XgboostReader::IntegerParam(const object& obj, std::string_view key,
                                            const std::string& where, int64_t lo,
                                            int64_t hi) const {
  SLUICE_ASSIGN_OR_RETURN(element e, Field(obj, key, where));
  int64_t v = 0;
  std::string_view s;
  bool parsed = false;
  if (e.get(s) == simdjson::SUCCESS) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    parsed = ec == std::errc() && ptr == s.data() + s.size();
  } else {
    parsed = e.get(v) == simdjson::SUCCESS;
  }
  if (!parsed || v < lo || v > hi) {
    std::string found = s.data() != nullptr ? "\"" + std::string(s) + "\"" : TypeName(e);
    if (parsed) found = std::to_string(v);
    return Error(Join(where, key), "expected a whole number from " + std::to_string(lo) + " to " +
                                       std::to_string(hi) + ", found " + found);
  }
  return v;
}

Status XgboostReader::ReadIntegers(const object& tree, std::string_view key,
                                   const std::string& where, size_t expected, bool optional,
                                   std::vector<int64_t>* out) const {
  out->clear();
  element e;
  if (tree.at_key(key).get(e) != simdjson::SUCCESS) {
    if (optional) return Status::Ok();
    return Error(where, "missing key \"" + std::string(key) + "\"");
  }
  array a;
  if (e.get(a) != simdjson::SUCCESS) {
    return Error(where, std::string(key) + ": expected an array, found " + TypeName(e));
  }
  const size_t n = a.size();
  if (expected != SIZE_MAX && n != expected) {
    return Error(where, std::string(key) + " has " + std::to_string(n) + " entries, expected " +
                            std::to_string(expected) + " (num_nodes)");
  }
  out->reserve(n);
  for (element v : a) {
    int64_t i = 0;
    bool b = false;
    if (v.get(i) == simdjson::SUCCESS) {
      out->push_back(i);
    } else if (v.get(b) == simdjson::SUCCESS) {
      out->push_back(b ? 1 : 0);
    } else {
      return Error(where, std::string(key) + "[" + std::to_string(out->size()) +
                              "]: expected a whole number, found " + TypeName(v));
    }
  }
  return Status::Ok();
}

Status XgboostReader::ReadFloats(const object& tree, std::string_view key, const std::string& where,
                                 size_t expected, std::vector<float>* out) const {
  out->clear();
  SLUICE_ASSIGN_OR_RETURN(array a, ArrayField(tree, key, where));
  const size_t n = a.size();
  if (n != expected) {
    return Error(where, std::string(key) + " has " + std::to_string(n) + " entries, expected " +
                            std::to_string(expected) + " (num_nodes)");
  }
  out->reserve(n);
  for (element v : a) {
    double d = 0;
    if (v.is_null()) {
      out->push_back(std::numeric_limits<float>::quiet_NaN());
    } else if (v.get(d) == simdjson::SUCCESS) {
      out->push_back(ToFloat(d));
    } else {
      return Error(where, std::string(key) + "[" + std::to_string(out->size()) +
                              "]: expected a number, found " + TypeName(v));
    }
  }
  return Status::Ok();
}

Status XgboostReader::ReadObjective(const object& learner, Forest* forest) const {
  SLUICE_ASSIGN_OR_RETURN(object obj, ObjectField(learner, "objective", "learner"));
  SLUICE_ASSIGN_OR_RETURN(std::string_view name, StringField(obj, "name", "learner.objective"));
  for (const ObjectiveInfo& info : kObjectives) {
    if (info.name == name) {
      forest->objective = info.objective;
      forest->objective_name = std::string(name);
      return Status::Ok();
    }
  }
  std::string known;
  for (const ObjectiveInfo& info : kObjectives) {
    if (!known.empty()) known += ", ";
    known += info.name;
  }
  return Error("learner.objective.name", "objective \"" + std::string(name) +
                                             "\" is not supported (supported: " + known + ")");
}

Status XgboostReader::ReadModelParams(const object& learner, Forest* forest) const {
  const std::string where = "learner.learner_model_param";
  SLUICE_ASSIGN_OR_RETURN(object params, ObjectField(learner, "learner_model_param", "learner"));
  SLUICE_ASSIGN_OR_RETURN(int64_t num_feature,
                          IntegerParam(params, "num_feature", where, 0, kMaxFeatures));
  SLUICE_ASSIGN_OR_RETURN(int64_t num_class,
                          IntegerParam(params, "num_class", where, 0, kMaxGroups));
  element num_target;
  if (params.at_key("num_target").get(num_target) == simdjson::SUCCESS) {
    SLUICE_ASSIGN_OR_RETURN(int64_t targets,
                            IntegerParam(params, "num_target", where, 0, kMaxGroups));
    if (targets > 1) {
      return Error(where + ".num_target", "models with " + std::to_string(targets) +
                                              " targets are not supported yet (only 1)");
    }
  }
  forest->num_features = static_cast<size_t>(num_feature);
  const bool multi =
      forest->objective == Objective::kSoftprob || forest->objective == Objective::kSoftmax;
  if (multi && num_class < 1) {
    return Error(where + ".num_class", forest->objective_name + " needs num_class >= 1, found " +
                                           std::to_string(num_class));
  }
  forest->num_groups = multi ? static_cast<size_t>(num_class) : 1;

  // base_score is in the objective's output space: "5E-1", or "[5E-1]" in 2.x.
  SLUICE_ASSIGN_OR_RETURN(std::string_view text, StringField(params, "base_score", where));
  std::string_view s = text;
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  float base = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), base);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(base)) {
    return Error(where + ".base_score",
                 "expected a finite number such as \"5E-1\", found \"" + std::string(text) + "\"");
  }
  switch (forest->objective) {
    case Objective::kBinaryLogistic:
    case Objective::kBinaryLogitRaw:
      if (!(base > 0.0f && base < 1.0f)) {
        return Error(where + ".base_score", "expected a probability strictly between 0 and 1 for " +
                                                forest->objective_name + ", found " +
                                                std::string(text));
      }
      forest->base_margin = -std::log(1.0f / base - 1.0f);
      break;
    case Objective::kPoisson:
      if (!(base > 0.0f)) {
        return Error(where + ".base_score", "expected a positive number for " +
                                                forest->objective_name + ", found " +
                                                std::string(text));
      }
      forest->base_margin = std::log(base);
      break;
    default:
      forest->base_margin = base;
      break;
  }

  element names;
  if (learner.at_key("feature_names").get(names) == simdjson::SUCCESS) {
    array a;
    if (names.get(a) != simdjson::SUCCESS) {
      return Error("learner.feature_names",
                   std::string("expected an array, found ") + TypeName(names));
    }
    for (element n : a) {
      std::string_view name;
      if (n.get(name) != simdjson::SUCCESS) {
        return Error("learner.feature_names[" + std::to_string(forest->feature_names.size()) + "]",
                     std::string("expected a string, found ") + TypeName(n));
      }
      forest->feature_names.emplace_back(name);
    }
    if (!forest->feature_names.empty() && forest->feature_names.size() != forest->num_features) {
      return Error("learner.feature_names", "has " + std::to_string(forest->feature_names.size()) +
                                                " names but num_feature is " +
                                                std::to_string(forest->num_features));
    }
  }
  forest->feature_names.resize(forest->num_features);
  return Status::Ok();
}

// gblinear: "model": {"weights": [...]} holds num_feature rows of one weight
// per output group, then the bias of each group.
Status XgboostReader::ReadLinearBooster(const object& booster, Forest* forest) const {
  const std::string where = "learner.gradient_booster.model";
  SLUICE_ASSIGN_OR_RETURN(object model, ObjectField(booster, "model", "learner.gradient_booster"));
  SLUICE_ASSIGN_OR_RETURN(array weights, ArrayField(model, "weights", where));
  const size_t groups = forest->num_groups;
  const size_t expected = (forest->num_features + 1) * groups;
  size_t count = 0;  // counted, not size(): simdjson saturates that at 2^24 - 1
  for ([[maybe_unused]] element v : weights) ++count;
  if (count != expected) {
    return Error(where + ".weights",
                 "has " + std::to_string(count) + " entries, expected " + std::to_string(expected) +
                     " (num_feature " + std::to_string(forest->num_features) + " + 1 bias, times " +
                     std::to_string(groups) + " output group" + (groups == 1 ? "" : "s") + ")");
  }
  LinearBooster linear;
  linear.weights.reserve(expected - groups);
  linear.bias.reserve(groups);
  size_t index = 0;
  for (element v : weights) {
    const auto at = [&] { return where + ".weights[" + std::to_string(index) + "]"; };
    double d = 0;
    float w = std::numeric_limits<float>::quiet_NaN();
    if (v.get(d) == simdjson::SUCCESS) {
      w = ToFloat(d);
    } else if (!v.is_null()) {  // null: a NaN or infinity written by XGBoost 1.x
      return Error(at(), std::string("expected a number, found ") + TypeName(v));
    }
    const bool is_weight = index < expected - groups;
    if (!std::isfinite(w)) {
      const std::string what =
          is_weight ? "the weight of feature " + std::to_string(index / groups) + " for group " +
                          std::to_string(index % groups)
                    : "the bias of group " + std::to_string(index - (expected - groups));
      return Error(at(), what + " is " + FormatFloat(w) + ", expected a finite number");
    }
    (is_weight ? linear.weights : linear.bias).push_back(w);
    ++index;
  }
  forest->linear = std::move(linear);
  return Status::Ok();
}

Status XgboostReader::ReadTree(const object& tree, size_t index, const std::string& where,
                               Forest* forest, uint32_t group, float weight) const {
  RawTree raw;
  SLUICE_ASSIGN_OR_RETURN(object param, ObjectField(tree, "tree_param", where));
  SLUICE_ASSIGN_OR_RETURN(int64_t num_nodes,
                          IntegerParam(param, "num_nodes", where + ": tree_param", 1,
                                       static_cast<int64_t>(kMaxNodesPerTree)));
  element leaf_vector;
  if (param.at_key("size_leaf_vector").get(leaf_vector) == simdjson::SUCCESS) {
    SLUICE_ASSIGN_OR_RETURN(int64_t size, IntegerParam(param, "size_leaf_vector",
                                                       where + ": tree_param", 0, INT32_MAX));
    if (size > 1) return Error(where, "vector-leaf (multi-target) trees are not supported yet");
  }
  (void)index;
  const auto n = static_cast<size_t>(num_nodes);
  if (forest->nodes.size() + n > kMaxTotalNodes) {
    return Error(where, "the model has more than " + std::to_string(kMaxTotalNodes) + " nodes");
  }
  raw.num_nodes = n;
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "left_children", where, n, false, &raw.left));
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "right_children", where, n, false, &raw.right));
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "split_indices", where, n, false, &raw.split_index));
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "default_left", where, n, false, &raw.default_left));
  SLUICE_RETURN_IF_ERROR(ReadFloats(tree, "split_conditions", where, n, &raw.split_condition));
  SLUICE_RETURN_IF_ERROR(ReadFloats(tree, "sum_hessian", where, n, &raw.cover));
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "split_type", where, n, true, &raw.split_type));
  bool any_categorical = false;
  for (int64_t t : raw.split_type) any_categorical |= t != 0;
  SLUICE_RETURN_IF_ERROR(
      ReadIntegers(tree, "categories", where, SIZE_MAX, !any_categorical, &raw.categories));
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "categories_nodes", where, SIZE_MAX, !any_categorical,
                                      &raw.categories_nodes));
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "categories_segments", where, SIZE_MAX,
                                      !any_categorical, &raw.categories_segments));
  SLUICE_RETURN_IF_ERROR(ReadIntegers(tree, "categories_sizes", where, SIZE_MAX, !any_categorical,
                                      &raw.categories_sizes));
  return CompileTree(raw, where, forest, group, weight);
}

Status XgboostReader::CompileTree(const RawTree& raw, const std::string& where, Forest* forest,
                                  uint32_t group, float weight) const {
  const size_t n = raw.num_nodes;
  const std::string nodes_text = "(the tree has " + std::to_string(n) + " nodes)";

  // Category sets per node, in the original numbering.
  std::vector<int32_t> set_of(n, -1);
  const size_t num_sets = raw.categories_nodes.size();
  if (raw.categories_segments.size() != num_sets || raw.categories_sizes.size() != num_sets) {
    return Error(where, "categories_nodes, categories_segments and categories_sizes have " +
                            std::to_string(num_sets) + ", " +
                            std::to_string(raw.categories_segments.size()) + " and " +
                            std::to_string(raw.categories_sizes.size()) +
                            " entries; they must agree");
  }
  for (size_t k = 0; k < num_sets; ++k) {
    const int64_t node = raw.categories_nodes[k];
    const int64_t begin = raw.categories_segments[k];
    const int64_t size = raw.categories_sizes[k];
    const std::string at = where + " categories_nodes[" + std::to_string(k) + "]";
    if (node < 0 || static_cast<size_t>(node) >= n) {
      return Error(at, "node " + std::to_string(node) + " is out of range " + nodes_text);
    }
    if (raw.split_type.empty() || raw.split_type[static_cast<size_t>(node)] == 0) {
      return Error(at, "node " + std::to_string(node) + " has categories but a numerical split");
    }
    if (set_of[static_cast<size_t>(node)] != -1) {
      return Error(at, "node " + std::to_string(node) + " has two category sets");
    }
    if (begin < 0 || size < 0 ||
        static_cast<uint64_t>(begin) + static_cast<uint64_t>(size) > raw.categories.size()) {
      return Error(at, "segment [" + std::to_string(begin) + ", +" + std::to_string(size) +
                           ") is outside categories (" + std::to_string(raw.categories.size()) +
                           " entries)");
    }
    uint32_t words = 0;
    for (int64_t i = begin; i < begin + size; ++i) {
      const int64_t c = raw.categories[static_cast<size_t>(i)];
      if (c < 0 || c >= (int64_t{1} << 24)) {
        return Error(at, "category " + std::to_string(c) + " is outside 0 to 16777215");
      }
      words = std::max(words, static_cast<uint32_t>(c / 32 + 1));
    }
    CategorySet set{static_cast<uint32_t>(forest->category_words.size()), words};
    forest->category_words.resize(forest->category_words.size() + words, 0);
    for (int64_t i = begin; i < begin + size; ++i) {
      const auto c = static_cast<uint32_t>(raw.categories[static_cast<size_t>(i)]);
      forest->category_words[set.offset + c / 32] |= 1u << (c % 32);
    }
    set_of[static_cast<size_t>(node)] = static_cast<int32_t>(forest->category_sets.size());
    forest->category_sets.push_back(set);
  }

  // Breadth-first walk from the root: checks every link, finds cycles and
  // shared nodes (a node reached twice), and gives children adjacent slots.
  // Unreachable nodes (XGBoost's deleted nodes) are dropped.
  const auto base = static_cast<int32_t>(forest->nodes.size());
  std::vector<int32_t> new_index(n, -1);
  std::vector<uint32_t> depth(n, 0);
  std::deque<size_t> queue{0};
  new_index[0] = 0;
  int32_t next = 1;
  uint32_t max_depth = 0;
  std::vector<size_t> order;  // original ids in new order
  while (!queue.empty()) {
    const size_t id = queue.front();
    queue.pop_front();
    order.push_back(id);
    const std::string at = where + " node " + std::to_string(id);
    max_depth = std::max(max_depth, depth[id]);
    const float cover = raw.cover[id];
    if (!std::isfinite(cover) || cover < 0.0f) {
      return Error(
          at, "cover (sum_hessian) is " + FormatFloat(cover) + ", expected a finite number >= 0");
    }
    if (raw.left[id] == -1) {
      if (!std::isfinite(raw.split_condition[id])) {
        return Error(at, "leaf value (split_conditions) is " +
                             FormatFloat(raw.split_condition[id]) + ", expected a finite number");
      }
      continue;
    }
    for (int side = 0; side < 2; ++side) {
      const int64_t child = side == 0 ? raw.left[id] : raw.right[id];
      const char* which = side == 0 ? "left" : "right";
      if (child < 0 || static_cast<uint64_t>(child) >= n) {
        return Error(at, std::string(which) + " child " + std::to_string(child) +
                             " is out of range " + nodes_text);
      }
      const auto c = static_cast<size_t>(child);
      if (new_index[c] != -1) {
        return Error(at, std::string(which) + " child " + std::to_string(child) +
                             " is reached twice from the root (a cycle or a shared node)");
      }
      new_index[c] = next++;
      depth[c] = depth[id] + 1;
      if (depth[c] > kMaxTreeDepth) {
        return Error(at, "the tree is deeper than " + std::to_string(kMaxTreeDepth) + " levels");
      }
      queue.push_back(c);
    }
    const int64_t feature = raw.split_index[id];
    if (feature < 0 || static_cast<uint64_t>(feature) >= forest->num_features) {
      return Error(at, "split feature " + std::to_string(feature) +
                           " is out of range (num_feature is " +
                           std::to_string(forest->num_features) + ")");
    }
    const int64_t split_type = raw.split_type.empty() ? 0 : raw.split_type[id];
    if (split_type != 0 && split_type != 1) {
      return Error(at, "split_type " + std::to_string(split_type) +
                           " is not 0 (numerical) or 1 (categorical)");
    }
    if (split_type == 0 && !std::isfinite(raw.split_condition[id])) {
      return Error(at, "threshold (split_conditions) is " + FormatFloat(raw.split_condition[id]) +
                           ", expected a finite number");
    }
    if (raw.default_left[id] != 0 && raw.default_left[id] != 1) {
      return Error(at,
                   "default_left is " + std::to_string(raw.default_left[id]) + ", expected 0 or 1");
    }
  }

  forest->nodes.resize(static_cast<size_t>(base) + order.size());
  forest->covers.resize(forest->nodes.size());
  for (size_t id : order) {
    const auto k = static_cast<size_t>(base + new_index[id]);
    FlatNode& node = forest->nodes[k];
    forest->covers[k] = raw.cover[id];
    if (raw.left[id] == -1) {
      node.value = raw.split_condition[id];
      node.feature_and_flags = kLeafFlag;
      node.left = -1;
      continue;
    }
    node.feature_and_flags = static_cast<uint32_t>(raw.split_index[id]);
    if (raw.default_left[id] != 0) node.feature_and_flags |= kDefaultLeftFlag;
    node.left = base + new_index[static_cast<size_t>(raw.left[id])];
    if (!raw.split_type.empty() && raw.split_type[id] == 1) {
      node.feature_and_flags |= kCategoricalFlag;
      if (set_of[id] == -1) {  // no categories listed: nothing goes right
        set_of[id] = static_cast<int32_t>(forest->category_sets.size());
        forest->category_sets.push_back(
            CategorySet{static_cast<uint32_t>(forest->category_words.size()), 0});
      }
      node.category_set = static_cast<uint32_t>(set_of[id]);
    } else {
      node.value = raw.split_condition[id];
    }
  }

  // Expected value of the tree, computed bottom-up in float as XGBoost does
  // (children always have larger indices than their parent here).
  std::vector<float> mean(order.size());
  for (size_t i = order.size(); i-- > 0;) {
    const FlatNode& node = forest->nodes[static_cast<size_t>(base) + i];
    if (node.is_leaf()) {
      mean[i] = node.value;
      continue;
    }
    const auto l = static_cast<size_t>(node.left - base);
    const float* cover = forest->covers.data() + base;
    float m = mean[l] * cover[l];
    m += mean[l + 1] * cover[l + 1];
    m /= cover[i];
    mean[i] = m;
  }
  forest->trees.push_back(FlatTree{base, group, weight, mean[0], max_depth});
  forest->max_depth = std::max(forest->max_depth, max_depth);
  return Status::Ok();
}

Result<Forest> XgboostReader::Read(std::string_view json) {
  const std::string cleaned = ReplaceNonFiniteLiterals(json);
  simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(cleaned).get(root); error != simdjson::SUCCESS) {
    return Error("", std::string("not valid JSON (") + simdjson::error_message(error) + ")");
  }
  object top;
  if (root.get(top) != simdjson::SUCCESS) {
    return Error("", std::string("expected a JSON object at the top, found ") + TypeName(root));
  }
  Forest forest;
  SLUICE_ASSIGN_OR_RETURN(object learner, ObjectField(top, "learner", ""));
  SLUICE_ASSIGN_OR_RETURN(object booster, ObjectField(learner, "gradient_booster", "learner"));
  SLUICE_ASSIGN_OR_RETURN(std::string_view booster_name,
                          StringField(booster, "name", "learner.gradient_booster"));
  object model_parent = booster;
  std::string model_where = "learner.gradient_booster";
  std::vector<float> weight_drop;
  if (booster_name == "dart") {
    SLUICE_ASSIGN_OR_RETURN(model_parent,
                            ObjectField(booster, "gbtree", "learner.gradient_booster"));
    model_where += ".gbtree";
    SLUICE_ASSIGN_OR_RETURN(array weights,
                            ArrayField(booster, "weight_drop", "learner.gradient_booster"));
    for (element w : weights) {
      double d = 0;
      if (w.get(d) != simdjson::SUCCESS || !std::isfinite(ToFloat(d))) {
        return Error(
            "learner.gradient_booster.weight_drop[" + std::to_string(weight_drop.size()) + "]",
            std::string("expected a finite number, found ") + TypeName(w));
      }
      weight_drop.push_back(ToFloat(d));
    }
  } else if (booster_name != "gbtree" && booster_name != "gblinear") {
    return Error("learner.gradient_booster.name", "unknown booster \"" + std::string(booster_name) +
                                                      "\" (expected gbtree, dart or gblinear)");
  }
  forest.booster = std::string(booster_name);
  SLUICE_RETURN_IF_ERROR(ReadObjective(learner, &forest));
  SLUICE_RETURN_IF_ERROR(ReadModelParams(learner, &forest));
  if (booster_name == "gblinear") {
    SLUICE_RETURN_IF_ERROR(ReadLinearBooster(booster, &forest));
    return forest;
  }

  SLUICE_ASSIGN_OR_RETURN(object model, ObjectField(model_parent, "model", model_where));
  model_where += ".model";
  SLUICE_ASSIGN_OR_RETURN(array trees, ArrayField(model, "trees", model_where));
  SLUICE_ASSIGN_OR_RETURN(array tree_info, ArrayField(model, "tree_info", model_where));
  const size_t num_trees = trees.size();
  if (tree_info.size() != num_trees) {
    return Error(model_where, "tree_info has " + std::to_string(tree_info.size()) +
                                  " entries but there are " + std::to_string(num_trees) + " trees");
  }
  if (booster_name == "dart" && weight_drop.size() != num_trees) {
    return Error("learner.gradient_booster.weight_drop",
                 "has " + std::to_string(weight_drop.size()) + " entries but there are " +
                     std::to_string(num_trees) + " trees");
  }
  element declared;
  if (object param; model.at_key("gbtree_model_param").get(param) == simdjson::SUCCESS &&
                    param.at_key("num_trees").get(declared) == simdjson::SUCCESS) {
    SLUICE_ASSIGN_OR_RETURN(
        int64_t count,
        IntegerParam(param, "num_trees", model_where + ".gbtree_model_param", 0, INT32_MAX));
    if (static_cast<size_t>(count) != num_trees) {
      return Error(model_where + ".gbtree_model_param.num_trees", "says " + std::to_string(count) +
                                                                      " trees but the model has " +
                                                                      std::to_string(num_trees));
    }
  }
  std::vector<int64_t> groups;
  for (element g : tree_info) {
    int64_t group = 0;
    if (g.get(group) != simdjson::SUCCESS || group < 0 ||
        static_cast<size_t>(group) >= forest.num_groups) {
      return Error(model_where + ".tree_info[" + std::to_string(groups.size()) + "]",
                   "expected an output group from 0 to " + std::to_string(forest.num_groups - 1));
    }
    groups.push_back(group);
  }
  size_t index = 0;
  for (element t : trees) {
    const std::string where = "tree " + std::to_string(index);
    object tree;
    if (t.get(tree) != simdjson::SUCCESS) {
      return Error(where, std::string("expected an object, found ") + TypeName(t));
    }
    const float weight = weight_drop.empty() ? 1.0f : weight_drop[index];
    SLUICE_RETURN_IF_ERROR(
        ReadTree(tree, index, where, &forest, static_cast<uint32_t>(groups[index]), weight));
    ++index;
  }
  return forest;
}

}  // namespace

Result<Forest> ParseXgboostForest(std::string_view json, const std::string& name) {
  return XgboostReader(name).Read(json);
}

}  // namespace sluice::model::internal
