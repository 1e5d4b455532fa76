#include "runtime/labels.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <fstream>

#include "io/record_io.h"
#include "types/timestamp.h"

namespace sluice::runtime {

namespace {

// The header of a CSV file: names split on commas, quotes removed.
Result<std::vector<std::string>> ReadHeader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open labels file " + path);
  std::string line;
  if (!std::getline(in, line)) return InvalidInput("labels file " + path + " is empty");
  if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> names(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        names.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      names.emplace_back();
    } else {
      names.back() += c;
    }
  }
  return names;
}

}  // namespace

// The id of row `row` as text (ids are strings or int64 in schemas): a view
// of the string, or the number written into `scratch`.
std::string_view IdText(const Column& c, size_t row, std::string* scratch) {
  if (c.type().kind == TypeKind::kString) return c.data<std::string_view>()[row];
  if (c.type().kind == TypeKind::kTimestamp) {
    *scratch = FormatIso8601(c.data<int64_t>()[row]);
    return *scratch;
  }
  char buf[24];
  const int64_t v =
      c.type().kind == TypeKind::kInt64 ? c.data<int64_t>()[row] : c.data<int32_t>()[row];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  scratch->assign(buf, end);
  return *scratch;
}


Result<LabelTable> LabelTable::Load(const std::string& path, const std::string& key) {
  LabelTable t;
  t.path_ = path;
  SLUICE_ASSIGN_OR_RETURN(t.header_, ReadHeader(path));
  const std::vector<std::string>& header = t.header_;
  int key_index = -1;
  std::vector<io::SourceField> label_fields;
  BatchLayout label_layout;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == key) key_index = static_cast<int>(i);
    const int col = label_layout.Add({header[i], Type::String(), std::nullopt});
    label_fields.push_back({header[i], Type::String(), true, TimestampFormat::kIso8601, col});
  }
  if (key_index < 0) {
    return InvalidInput(fmt::format(
        "labels file {} has no column '{}' holding the event ids (its columns: {}); name it "
        "with --label-key",
        path, key, fmt::join(header, ", ")));
  }
  if (header.size() < 2) {
    return InvalidInput("labels file " + path + " has no label column besides '" + key + "'");
  }
  t.key_index_ = static_cast<size_t>(key_index);
  SLUICE_ASSIGN_OR_RETURN(
      auto label_source,
      io::RecordSource::Open(path, io::Format::kCsv, label_fields, io::SourceOptions{}));
  struct LabelRejects final : io::RejectSink {
    void Reject(const io::Rejection& r) override {
      if (first.empty()) first = fmt::format("line {}: {}", r.line, r.reason);
    }
    std::string first;
  } label_rejects;
  t.values_.resize(header.size());
  Batch lb(label_layout, 4096);
  while (!label_source->done()) {
    lb.Clear();
    SLUICE_RETURN_IF_ERROR(label_source->Fill(lb, label_rejects));
    if (!label_rejects.first.empty()) {
      return InvalidInput("labels file " + path + ": " + label_rejects.first);
    }
    for (size_t row = 0; row < lb.size(); ++row) {
      const Column& k = lb.column(key_index);
      if (!k.is_valid(row)) {
        return InvalidInput(fmt::format("labels file {} line {}: the event id is empty", path,
                                        lb.origin(row).line));
      }
      std::string id(k.data<std::string_view>()[row]);
      const auto index = static_cast<uint32_t>(t.values_[0].size());
      if (!t.row_of_id_.emplace(id, index).second) {
        return InvalidInput(fmt::format("labels file {} line {}: event id '{}' has a label already",
                                        path, lb.origin(row).line, id));
      }
      for (size_t c = 0; c < header.size(); ++c) {
        const Column& col = lb.column(static_cast<int>(c));
        t.values_[c].push_back(col.is_valid(row)
                                   ? std::optional<std::string>(col.data<std::string_view>()[row])
                                   : std::nullopt);
      }
    }
  }
  return t;
}

}  // namespace sluice::runtime
