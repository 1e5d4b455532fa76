#pragma once
// Maps characters of a YAML scalar back to file positions, so that an error
// inside an expression points at the right line and column even when the
// scalar is quoted or spread over several lines.

#include <memory>
#include <string>
#include <vector>

#include "expr/expr.h"

namespace sluice::pipeline::internal {

// Line starts of a file, for offset -> (line, column).
class LineIndex {
 public:
  explicit LineIndex(const std::string& content);
  // 1-based line and column of byte `pos`.
  std::pair<int, int> Position(size_t pos) const;

 private:
  std::vector<size_t> starts_;
};

class ScalarLocator final : public expr::TextLocator {
 public:
  // `value` is the scalar as parsed; `start` the byte offset of the node in
  // `content` (yaml-cpp's Mark::pos).
  ScalarLocator(std::string file, std::shared_ptr<const std::string> content,
                std::shared_ptr<const LineIndex> lines, const std::string& value, size_t start);
  SourceLocation Locate(size_t offset) const override;

 private:
  std::string file_;
  std::shared_ptr<const LineIndex> lines_;
  std::vector<size_t> positions_;  // file offset of each value byte, plus one past the end
};

}  // namespace sluice::pipeline::internal
