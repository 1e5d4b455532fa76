#include "pipeline/internal/yaml_locator.h"

#include <algorithm>

namespace sluice::pipeline::internal {

LineIndex::LineIndex(const std::string& content) {
  starts_.push_back(0);
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\n') starts_.push_back(i + 1);
  }
}

std::pair<int, int> LineIndex::Position(size_t pos) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), pos);
  size_t line = static_cast<size_t>(it - starts_.begin());  // 1-based
  return {static_cast<int>(line), static_cast<int>(pos - starts_[line - 1]) + 1};
}

ScalarLocator::ScalarLocator(std::string file, std::shared_ptr<const std::string> content,
                             std::shared_ptr<const LineIndex> lines, const std::string& value,
                             size_t start)
    : file_(std::move(file)), lines_(std::move(lines)) {
  const std::string& src = *content;
  size_t p = std::min(start, src.size());
  // Block scalars start on the line after their indicator.
  if (p < src.size() && (src[p] == '|' || src[p] == '>')) {
    while (p < src.size() && src[p] != '\n') ++p;
  }
  positions_.reserve(value.size() + 1);
  size_t last = p;
  for (char c : value) {
    size_t q = p;
    // Skip what the YAML scanner removed: quotes, escapes, indentation and
    // folded line breaks. Give up (keep the last known place) if the
    // character is not found nearby.
    while (q < src.size() && q - p < 256 && src[q] != c && !(c == ' ' && src[q] == '\n')) ++q;
    if (q < src.size() && q - p < 256) {
      positions_.push_back(q);
      last = q;
      p = q + 1;
    } else {
      positions_.push_back(last);
    }
  }
  positions_.push_back(positions_.empty() ? p : positions_.back() + 1);
}

SourceLocation ScalarLocator::Locate(size_t offset) const {
  size_t pos = positions_[std::min(offset, positions_.size() - 1)];
  auto [line, column] = lines_->Position(pos);
  return {file_, line, column};
}

}  // namespace sluice::pipeline::internal
