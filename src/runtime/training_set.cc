#include "runtime/training_set.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <unordered_map>

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

bool ParsesAsInt(std::string_view s) {
  int64_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParsesAsFloat(std::string_view s) {
  double v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(v);
}

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

// Looks labels up by a string_view of the id, without making a string.
struct IdHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

void CopyCell(const Batch& src, int from, size_t row, Batch* out, int to, size_t out_row) {
  const Column& a = src.column(from);
  Column& b = out->column(to);
  b.valid()[out_row] = a.valid()[row];
  switch (a.type().kind) {
    case TypeKind::kString:
      b.data<std::string_view>()[out_row] =
          a.valid()[row] ? out->arena().Copy(a.data<std::string_view>()[row]) : "";
      break;
    case TypeKind::kBool:
      b.data<uint8_t>()[out_row] = a.data<uint8_t>()[row];
      break;
    case TypeKind::kEnum:
      b.data<int32_t>()[out_row] = a.data<int32_t>()[row];
      break;
    default:
      b.data<int64_t>()[out_row] = a.data<int64_t>()[row];
      break;
  }
}

}  // namespace

Status BuildTrainingSet(const Engine& engine, const TrainingSetOptions& options,
                        RunSummary* summary, TrainingSetReport* report) {
  const pipeline::PipelineSpec& spec = engine.spec();
  const io::SourceField* id_field = nullptr;
  const io::SourceField* time_field = nullptr;
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].is_id) id_field = &engine.source_fields()[i];
    if (spec.fields[i].is_event_time) time_field = &engine.source_fields()[i];
  }
  if (id_field == nullptr) {
    return InvalidArgument(
        "the pipeline's schema has no id field ('id: true') to join the labels on");
  }

  // Labels: every column as text, keyed by event id.
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> header, ReadHeader(options.labels));
  const std::string key = options.label_key.empty() ? id_field->name : options.label_key;
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
        options.labels, key, fmt::join(header, ", ")));
  }
  if (header.size() < 2) {
    return InvalidInput("labels file " + options.labels + " has no label column besides '" + key +
                        "'");
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto label_source,
      io::RecordSource::Open(options.labels, io::Format::kCsv, label_fields, io::SourceOptions{}));
  struct LabelRejects final : io::RejectSink {
    void Reject(const io::Rejection& r) override {
      if (first.empty()) first = fmt::format("line {}: {}", r.line, r.reason);
    }
    std::string first;
  } label_rejects;
  std::unordered_map<std::string, uint32_t, IdHash, std::equal_to<>> row_of_id;
  std::vector<std::vector<std::optional<std::string>>> values(header.size());
  Batch lb(label_layout, 4096);
  while (!label_source->done()) {
    lb.Clear();
    SLUICE_RETURN_IF_ERROR(label_source->Fill(lb, label_rejects));
    if (!label_rejects.first.empty()) {
      return InvalidInput("labels file " + options.labels + ": " + label_rejects.first);
    }
    for (size_t row = 0; row < lb.size(); ++row) {
      const Column& k = lb.column(key_index);
      if (!k.is_valid(row)) {
        return InvalidInput(fmt::format("labels file {} line {}: the event id is empty",
                                        options.labels, lb.origin(row).line));
      }
      std::string id(k.data<std::string_view>()[row]);
      const auto index = static_cast<uint32_t>(values[0].size());
      if (!row_of_id.emplace(id, index).second) {
        return InvalidInput(fmt::format("labels file {} line {}: event id '{}' has a label already",
                                        options.labels, lb.origin(row).line, id));
      }
      for (size_t c = 0; c < header.size(); ++c) {
        const Column& col = lb.column(static_cast<int>(c));
        values[c].push_back(col.is_valid(row)
                                ? std::optional<std::string>(col.data<std::string_view>()[row])
                                : std::nullopt);
      }
    }
  }
  report->labels = row_of_id.size();

  // The training set: id, event time, every feature, then the labels, typed
  // int64 or float64 when every value of a label column is one.
  BatchLayout layout;
  std::vector<io::OutputColumn> columns;
  std::vector<std::pair<int, int>> copies;  // engine column -> training column
  std::vector<std::string> names;
  auto add = [&](const std::string& name, const Type& type) {
    const int col = layout.Add({name, type, std::nullopt});
    columns.push_back({name, io::OutputColumn::Kind::kValue, col});
    names.push_back(name);
    return col;
  };
  copies.emplace_back(id_field->column, add(id_field->name, id_field->type));
  if (time_field != nullptr) {
    copies.emplace_back(time_field->column, add(time_field->name, time_field->type));
  }
  for (const auto& f : spec.features) {
    for (int c = 0; c < static_cast<int>(engine.layout().size()); ++c) {
      if (engine.layout().column(c).name == f.name) {
        copies.emplace_back(c, add(f.name, engine.layout().column(c).type));
        break;
      }
    }
  }
  struct LabelColumn {
    size_t index;  // in the labels file
    int column;
    TypeKind kind;
  };
  std::vector<LabelColumn> label_columns;
  for (size_t c = 0; c < header.size(); ++c) {
    if (static_cast<int>(c) == key_index) continue;
    bool ints = true, floats = true;
    for (const auto& v : values[c]) {
      if (!v) continue;
      ints = ints && ParsesAsInt(*v);
      floats = floats && ParsesAsFloat(*v);
    }
    const Type type = ints ? Type::Int64() : floats ? Type::Float64() : Type::String();
    std::string name = header[c];
    if (std::find(names.begin(), names.end(), name) != names.end()) name = "label_" + name;
    label_columns.push_back({c, add(name, type), type.kind});
  }
  report->columns = names;

  std::vector<uint8_t> matched(row_of_id.size(), 0);
  TrainingSetOptions opts = options;
  RunOptions run = options.run;
  RunOptions::Reshape reshape;
  reshape.layout = &layout;
  reshape.columns = columns;
  std::string id_scratch;
  reshape.rows = [&](const Batch& b, Batch* out) {
    const Column& id = b.column(id_field->column);
    for (size_t row = 0; row < b.size(); ++row) {
      if (b.row_error(row) != 0) continue;
      auto it = row_of_id.find(IdText(id, row, &id_scratch));
      if (it != row_of_id.end()) matched[it->second] = 1;
      if (time_field != nullptr) {
        const int64_t t = b.column(time_field->column).data<int64_t>()[row];
        if ((opts.from_ns && t < *opts.from_ns) || (opts.to_ns && t >= *opts.to_ns)) {
          ++report->events_out_of_range;
          continue;
        }
      }
      if (it == row_of_id.end()) {
        ++report->events_unlabelled;
        continue;
      }
      const size_t to = out->AppendRow();
      for (const auto& [from, col] : copies) CopyCell(b, from, row, out, col, to);
      for (const LabelColumn& l : label_columns) {
        Column& c = out->column(l.column);
        const auto& v = values[l.index][it->second];
        c.valid()[to] = v.has_value();
        if (!v) continue;
        if (l.kind == TypeKind::kInt64) {
          std::from_chars(v->data(), v->data() + v->size(), c.data<int64_t>()[to]);
        } else if (l.kind == TypeKind::kFloat64) {
          std::from_chars(v->data(), v->data() + v->size(), c.data<double>()[to]);
        } else {
          c.data<std::string_view>()[to] = out->arena().Copy(*v);
        }
      }
    }
  };
  run.reshape = std::move(reshape);
  summary->command = "features";
  Status status = RunBatch(engine, run, summary);
  for (uint8_t m : matched) report->labels_unmatched += m == 0;
  return status;
}

}  // namespace sluice::runtime
