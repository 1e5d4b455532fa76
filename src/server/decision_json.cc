#include "server/decision_json.h"

namespace sluice::server {

DecisionWriter::DecisionWriter(const runtime::Engine& engine)
    : columns_(engine.OutputColumns(io::Format::kJsonl)) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    std::string key = i == 0 ? "{" : ",";
    io::AppendJsonString(columns_[i].name, &key);
    key += ':';
    keys_.push_back(std::move(key));
  }
  for (const auto& m : engine.models()) {
    for (int c : m.output_columns()) {
      std::string key;
      io::AppendJsonString(engine.layout().column(c).name, &key);
      key += ':';
      scores_.emplace_back(std::move(key), c);
    }
  }
}

void DecisionWriter::Append(const Batch& batch, size_t row, bool scores, std::string* out) const {
  using Kind = io::OutputColumn::Kind;
  for (size_t i = 0; i < columns_.size(); ++i) {
    *out += keys_[i];
    const io::OutputColumn& c = columns_[i];
    if (c.kind == Kind::kValue) {
      io::AppendJsonValue(batch.column(c.column), row, out);
      continue;
    }
    const Reason* r = batch.reasons().data() + batch.reason_begin()[row];
    *out += '[';
    for (uint32_t k = 0; k < batch.reason_count()[row]; ++k) {
      if (k > 0) *out += ',';
      if (c.kind == Kind::kReasons) {
        *out += "{\"code\":";
        io::AppendJsonString(r[k].code, out);
        *out += ",\"text\":";
        io::AppendJsonString(r[k].text, out);
        *out += '}';
      } else {
        io::AppendJsonString(c.kind == Kind::kReasonCodes ? r[k].code : r[k].text, out);
      }
    }
    *out += ']';
  }
  if (columns_.empty()) *out += '{';
  if (scores) {
    *out += columns_.empty() ? "\"scores\":{" : ",\"scores\":{";
    for (size_t i = 0; i < scores_.size(); ++i) {
      if (i > 0) *out += ',';
      *out += scores_[i].first;
      io::AppendJsonValue(batch.column(scores_[i].second), row, out);
    }
    *out += '}';
  }
  *out += '}';
}

std::string ErrorJson(int status, std::string_view code, std::string_view message,
                      std::string_view field, int64_t event) {
  std::string out = "{\"error\":{\"status\":" + std::to_string(status) + ",\"code\":";
  io::AppendJsonString(code, &out);
  out += ",\"message\":";
  io::AppendJsonString(message, &out);
  if (!field.empty()) {
    out += ",\"field\":";
    io::AppendJsonString(field, &out);
  }
  if (event >= 0) out += ",\"event\":" + std::to_string(event);
  out += "}}";
  return out;
}

}  // namespace sluice::server
