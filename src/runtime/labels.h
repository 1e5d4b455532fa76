#pragma once
// A labels file: a CSV with a header, one row per event, keyed by the event
// id. Used by `sluice features` (training sets) and `sluice backtest`.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/status.h"
#include "types/batch.h"

namespace sluice::runtime {

class LabelTable {
 public:
  // Reads `path`; `key` names the column of event ids. Every column is text.
  static Result<LabelTable> Load(const std::string& path, const std::string& key);

  const std::vector<std::string>& header() const { return header_; }
  size_t key_index() const { return key_index_; }
  size_t size() const { return values_.empty() ? 0 : values_[0].size(); }
  // The row of event `id`, or -1.
  int64_t Find(std::string_view id) const {
    auto it = row_of_id_.find(id);
    return it == row_of_id_.end() ? -1 : static_cast<int64_t>(it->second);
  }
  // Column `c` of row `row`; nullopt when empty.
  const std::optional<std::string>& value(size_t c, size_t row) const { return values_[c][row]; }

 private:
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::string path_;
  std::vector<std::string> header_;
  size_t key_index_ = 0;
  std::unordered_map<std::string, uint32_t, IdHash, std::equal_to<>> row_of_id_;
  std::vector<std::vector<std::optional<std::string>>> values_;  // per column, per row
};

// The id of row `row` as text (ids are strings or int64 in schemas): a view
// of the string, or the number written into `scratch`.
std::string_view IdText(const Column& c, size_t row, std::string* scratch);

}  // namespace sluice::runtime
