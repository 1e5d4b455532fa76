#include "runtime/audit_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "types/timestamp.h"

namespace sluice::runtime {

Result<std::string> FileHash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path);
  uint64_t h = 1469598103934665603ULL;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ULL;
    }
  }
  return fmt::format("{:016x}", h);
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, const Engine& engine,
                                                 bool append) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->path_ = path;
  log->engine_ = &engine;
  const auto& spec = engine.spec();
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].is_id) log->id_column_ = engine.source_fields()[i].column;
    if (spec.fields[i].is_event_time) log->time_column_ = engine.source_fields()[i].column;
  }
  std::string& h = log->head_;
  h = "\"pipeline\":{\"name\":";
  io::AppendJsonString(spec.name, &h);
  h += ",\"version\":";
  io::AppendJsonString(spec.version, &h);
  h += ",\"hash\":";
  io::AppendJsonString(spec.content_hash, &h);
  h += "},\"models\":[";
  bool first = true;
  for (const auto& m : spec.models) {
    if (!first) h += ',';
    first = false;
    h += "{\"name\":";
    io::AppendJsonString(m.name, &h);
    if (!m.path.empty()) {
      SLUICE_ASSIGN_OR_RETURN(std::string hash, FileHash(m.resolved_path));
      h += ",\"file\":";
      io::AppendJsonString(m.path, &h);
      h += ",\"hash\":";
      io::AppendJsonString(hash, &h);
    }
    h += '}';
  }
  h += ']';
  log->file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (log->file_ == nullptr) {
    return IoError(fmt::format("cannot open audit file {}: {}", path, std::strerror(errno)));
  }
  return log;
}

AuditLog::~AuditLog() { (void)Close(); }

void AuditLog::AppendPolicy(const Batch& batch, size_t row, const decide::Policy& p,
                            std::string_view role) {
  std::string& o = line_;
  o += "{\"name\":";
  io::AppendJsonString(p.name(), &o);
  o += ",\"role\":\"";
  o += role;
  o += '"';
  if (p.has_action()) {
    o += ",\"action\":";
    io::AppendJsonValue(batch.column(p.action_column()), row, &o);
  }
  o += ",\"rule\":";
  io::AppendJsonValue(batch.column(p.rule_column()), row, &o);
  if (p.points_column() >= 0) {
    o += ",\"points\":";
    io::AppendJsonValue(batch.column(p.points_column()), row, &o);
  }
  if (!p.outputs().empty()) {
    o += ",\"outputs\":{";
    for (size_t i = 0; i < p.outputs().size(); ++i) {
      if (i > 0) o += ',';
      io::AppendJsonString(p.outputs()[i].name, &o);
      o += ':';
      io::AppendJsonValue(batch.column(p.outputs()[i].column), row, &o);
    }
    o += '}';
  }
  evaluated_.clear();
  matched_.clear();
  p.Trace(batch, row, &evaluated_, &matched_);
  o += ",\"evaluated\":[";
  for (size_t i = 0; i < evaluated_.size(); ++i) {
    if (i > 0) o += ',';
    io::AppendJsonString(evaluated_[i], &o);
  }
  o += "],\"matched\":[";
  for (size_t i = 0; i < matched_.size(); ++i) {
    if (i > 0) o += ',';
    io::AppendJsonString(matched_[i], &o);
  }
  o += "],\"reasons\":[";
  const ReasonList& l = batch.reason_list(p.reason_list());
  for (uint32_t k = 0; k < l.count[row]; ++k) {
    const Reason& r = l.reasons[l.begin[row] + k];
    if (k > 0) o += ',';
    o += "{\"code\":";
    io::AppendJsonString(r.code, &o);
    o += ",\"text\":";
    io::AppendJsonString(r.text, &o);
    o += '}';
  }
  o += "]}";
}

Status AuditLog::Write(const Batch& batch) {
  const Engine& e = *engine_;
  const auto* decision = e.decision();
  const std::string now = FormatIso8601(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  for (size_t row = 0; row < batch.size(); ++row) {
    if (batch.row_error(row) != 0) continue;
    std::string& o = line_;
    o.clear();
    o += "{\"id\":";
    if (id_column_ >= 0) {
      io::AppendJsonValue(batch.column(id_column_), row, &o);
    } else {
      o += std::to_string(batch.origin(row).record);
    }
    o += ",\"record\":";
    o += std::to_string(batch.origin(row).record);
    o += ",\"event_time\":";
    if (time_column_ >= 0) {
      io::AppendJsonValue(batch.column(time_column_), row, &o);
    } else {
      o += "null";
    }
    o += ",\"processed_at\":\"";
    o += now;
    o += "\",";
    o += head_;
    o += ",\"input\":{";
    const auto& fields = e.source_fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) o += ',';
      io::AppendJsonString(fields[i].name, &o);
      o += ':';
      io::AppendJsonValue(batch.column(fields[i].column), row, &o);
    }
    o += "},\"features\":{";
    const auto& features = e.feature_columns();
    for (size_t i = 0; i < features.size(); ++i) {
      if (i > 0) o += ',';
      io::AppendJsonString(features[i].first, &o);
      o += ':';
      io::AppendJsonValue(batch.column(features[i].second), row, &o);
    }
    o += "},\"scores\":{";
    bool first = true;
    for (const auto& m : e.models()) {
      for (int c : m.output_columns()) {
        if (!first) o += ',';
        first = false;
        io::AppendJsonString(e.layout().column(c).name, &o);
        o += ':';
        io::AppendJsonValue(batch.column(c), row, &o);
      }
    }
    o += "},\"policies\":[";
    if (decision != nullptr) {
      const auto& policies = decision->policies();
      for (size_t i = 0; i < policies.size(); ++i) {
        if (i > 0) o += ',';
        const decide::Policy* p = &policies[i];
        AppendPolicy(batch, row, *p,
                     p == decision->champion()     ? "champion"
                     : p == decision->challenger() ? "challenger"
                                                   : "policy");
      }
    }
    o += ']';
    if (decision != nullptr && decision->has_decision()) {
      o += ",\"decision\":{\"action\":";
      io::AppendJsonValue(batch.column(decision->action_column()), row, &o);
      o += ",\"rule\":";
      io::AppendJsonValue(batch.column(decision->rule_column()), row, &o);
      o += ",\"policy\":";
      if (decision->policy_column() >= 0) {
        io::AppendJsonValue(batch.column(decision->policy_column()), row, &o);
      } else {
        io::AppendJsonString(decision->champion()->name(), &o);
      }
      if (!decision->outputs().empty()) {
        o += ",\"outputs\":{";
        for (size_t i = 0; i < decision->outputs().size(); ++i) {
          if (i > 0) o += ',';
          io::AppendJsonString(decision->outputs()[i].name, &o);
          o += ':';
          io::AppendJsonValue(batch.column(decision->outputs()[i].column), row, &o);
        }
        o += '}';
      }
      o += ",\"reasons\":[";
      for (uint32_t k = 0; k < batch.reason_count()[row]; ++k) {
        const Reason& r = batch.reasons()[batch.reason_begin()[row] + k];
        if (k > 0) o += ',';
        o += "{\"code\":";
        io::AppendJsonString(r.code, &o);
        o += ",\"text\":";
        io::AppendJsonString(r.text, &o);
        o += '}';
      }
      o += "]}";
    }
    o += "}\n";
    if (std::fwrite(o.data(), 1, o.size(), file_) != o.size()) {
      return IoError(fmt::format("cannot write audit file {}: {}", path_, std::strerror(errno)));
    }
    ++records_;
  }
  return Status::Ok();
}

Status AuditLog::Flush() {
  if (file_ != nullptr && std::fflush(file_) != 0) {
    return IoError(fmt::format("cannot write audit file {}: {}", path_, std::strerror(errno)));
  }
  return Status::Ok();
}

Status AuditLog::Sync() {
  SLUICE_RETURN_IF_ERROR(Flush());
  if (file_ != nullptr && ::fsync(fileno(file_)) != 0) {
    return IoError(fmt::format("cannot sync audit file {}: {}", path_, std::strerror(errno)));
  }
  return Status::Ok();
}

Status AuditLog::Close() {
  if (file_ == nullptr) return Status::Ok();
  Status s = Flush();
  if (std::fclose(file_) != 0 && s.ok()) {
    s = IoError(fmt::format("cannot close audit file {}: {}", path_, std::strerror(errno)));
  }
  file_ = nullptr;
  return s;
}

}  // namespace sluice::runtime
