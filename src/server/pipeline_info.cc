#include "server/pipeline_info.h"

#include "io/record_io.h"
#include "runtime/audit_log.h"

namespace sluice::server {

namespace {

std::string_view TimestampFormatName(TimestampFormat f) {
  switch (f) {
    case TimestampFormat::kIso8601:
      return "iso8601";
    case TimestampFormat::kEpochSeconds:
      return "epoch_s";
    case TimestampFormat::kEpochMillis:
      return "epoch_ms";
    case TimestampFormat::kEpochMicros:
      return "epoch_us";
    case TimestampFormat::kEpochNanos:
      return "epoch_ns";
  }
  return "iso8601";
}

void AppendKey(std::string_view key, std::string* out) {
  io::AppendJsonString(key, out);
  *out += ':';
}

}  // namespace

std::string PipelineInfoJson(const runtime::Engine& engine) {
  const pipeline::PipelineSpec& spec = engine.spec();
  std::string o = "{";
  AppendKey("name", &o);
  io::AppendJsonString(spec.name, &o);
  o += ',';
  AppendKey("version", &o);
  io::AppendJsonString(spec.version, &o);
  o += ',';
  AppendKey("content_hash", &o);
  io::AppendJsonString(spec.content_hash, &o);
  o += ',';
  AppendKey("file", &o);
  io::AppendJsonString(spec.file, &o);
  o += ',';
  AppendKey("fields", &o);
  o += '[';
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    const pipeline::FieldSpec& f = spec.fields[i];
    if (i > 0) o += ',';
    o += '{';
    AppendKey("name", &o);
    io::AppendJsonString(f.name, &o);
    o += ',';
    AppendKey("type", &o);
    io::AppendJsonString(KindName(f.type.kind), &o);
    if (f.type.kind == TypeKind::kEnum && f.type.domain) {
      o += ',';
      AppendKey("values", &o);
      o += '[';
      const auto& values = f.type.domain->values();
      for (size_t v = 0; v < values.size(); ++v) {
        if (v > 0) o += ',';
        io::AppendJsonString(values[v], &o);
      }
      o += ']';
    }
    if (f.type.kind == TypeKind::kTimestamp) {
      o += ',';
      AppendKey("format", &o);
      io::AppendJsonString(TimestampFormatName(f.timestamp_format), &o);
    }
    o += f.nullable ? ",\"nullable\":true" : ",\"nullable\":false";
    if (f.is_id) o += ",\"id\":true";
    if (f.is_event_time) o += ",\"event_time\":true";
    o += '}';
  }
  o += "],";
  AppendKey("features", &o);
  o += '[';
  for (size_t i = 0; i < engine.feature_columns().size(); ++i) {
    if (i > 0) o += ',';
    io::AppendJsonString(engine.feature_columns()[i].first, &o);
  }
  o += "],";
  AppendKey("models", &o);
  o += '[';
  bool first = true;
  for (const pipeline::ModelSpec& m : spec.models) {
    if (!first) o += ',';
    first = false;
    o += '{';
    AppendKey("name", &o);
    io::AppendJsonString(m.name, &o);
    o += ',';
    AppendKey("format", &o);
    io::AppendJsonString(m.format.name, &o);
    if (!m.path.empty()) {
      o += ',';
      AppendKey("file", &o);
      io::AppendJsonString(m.path, &o);
      o += ',';
      AppendKey("hash", &o);
      Result<std::string> hash = runtime::FileHash(m.resolved_path);
      if (hash.ok()) {
        io::AppendJsonString(*hash, &o);
      } else {
        o += "null";
      }
    }
    o += '}';
  }
  o += "],";
  AppendKey("policies", &o);
  o += '[';
  if (const decide::DecisionStage* stage = engine.decision()) {
    const auto& policies = stage->policies();
    for (size_t i = 0; i < policies.size(); ++i) {
      const decide::Policy* p = &policies[i];
      if (i > 0) o += ',';
      o += '{';
      AppendKey("name", &o);
      io::AppendJsonString(p->name(), &o);
      o += ',';
      AppendKey("role", &o);
      io::AppendJsonString(p == stage->champion()     ? "champion"
                           : p == stage->challenger() ? "challenger"
                                                      : "policy",
                           &o);
      o += ',';
      AppendKey("kind", &o);
      io::AppendJsonString(p->kind() == pipeline::PolicySpec::Kind::kRules   ? "rules"
                           : p->kind() == pipeline::PolicySpec::Kind::kTable ? "table"
                                                                             : "scored",
                           &o);
      if (p->has_action() && p->action_type().domain) {
        o += ',';
        AppendKey("actions", &o);
        o += '[';
        const auto& values = p->action_type().domain->values();
        for (size_t v = 0; v < values.size(); ++v) {
          if (v > 0) o += ',';
          io::AppendJsonString(values[v], &o);
        }
        o += ']';
      }
      o += '}';
    }
  }
  o += "],";
  AppendKey("outputs", &o);
  o += '[';
  const auto outputs = engine.OutputColumns(io::Format::kJsonl);
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (i > 0) o += ',';
    io::AppendJsonString(outputs[i].name, &o);
  }
  o += "],";
  AppendKey("windowed", &o);
  o += engine.has_windows() ? "true" : "false";
  o += '}';
  return o;
}

}  // namespace sluice::server
