#pragma once
// Reads the JSON written by XGBoost's Booster.save_model("x.json") (1.x and
// 2.x; gbtree, dart and gblinear boosters) into a validated Forest.

#include <string>
#include <string_view>

#include "model/internal/forest.h"
#include "sluice/status.h"

namespace sluice::model::internal {

// Limits that keep a hostile file from exhausting memory or the stack.
inline constexpr size_t kMaxNodesPerTree = size_t{1} << 26;
inline constexpr size_t kMaxTotalNodes = size_t{1} << 28;
inline constexpr size_t kMaxFeatures = size_t{1} << 24;
inline constexpr size_t kMaxGroups = size_t{1} << 16;
inline constexpr uint32_t kMaxTreeDepth = 256;

// `name` prefixes every error message (usually the file's path).
Result<Forest> ParseXgboostForest(std::string_view json, const std::string& name);

}  // namespace sluice::model::internal
