#include "runtime/training_set.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <unordered_map>

#include "runtime/labels.h"
#include "types/timestamp.h"

namespace sluice::runtime {
namespace {

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
  const std::string key = options.label_key.empty() ? id_field->name : options.label_key;
  SLUICE_ASSIGN_OR_RETURN(LabelTable labels, LabelTable::Load(options.labels, key));
  const std::vector<std::string>& header = labels.header();
  const auto key_index = static_cast<int>(labels.key_index());
  report->labels = labels.size();

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
    for (size_t r = 0; r < labels.size(); ++r) {
      const auto& v = labels.value(c, r);
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

  std::vector<uint8_t> matched(labels.size(), 0);
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
      const int64_t label_row = labels.Find(IdText(id, row, &id_scratch));
      if (label_row >= 0) matched[static_cast<size_t>(label_row)] = 1;
      if (time_field != nullptr) {
        const int64_t t = b.column(time_field->column).data<int64_t>()[row];
        if ((opts.from_ns && t < *opts.from_ns) || (opts.to_ns && t >= *opts.to_ns)) {
          ++report->events_out_of_range;
          continue;
        }
      }
      if (label_row < 0) {
        ++report->events_unlabelled;
        continue;
      }
      const size_t to = out->AppendRow();
      for (const auto& [from, col] : copies) CopyCell(b, from, row, out, col, to);
      for (const LabelColumn& l : label_columns) {
        Column& c = out->column(l.column);
        const auto& v = labels.value(l.index, static_cast<size_t>(label_row));
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
