#include "runtime/replay.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/audit_log.h"

namespace sluice::runtime {

namespace {

namespace fs = std::filesystem;

// Skips one JSON value starting at `i` (after whitespace); returns the index
// after it, or npos when the text is not valid there.
size_t SkipValue(std::string_view s, size_t i) {
  auto ws = [&](size_t k) {
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r')) ++k;
    return k;
  };
  i = ws(i);
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') {
    for (size_t k = i + 1; k < s.size(); ++k) {
      if (s[k] == '\\') {
        ++k;
      } else if (s[k] == '"') {
        return k + 1;
      }
    }
    return std::string_view::npos;
  }
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (size_t k = i; k < s.size(); ++k) {
      const char c = s[k];
      if (c == '"') {
        k = SkipValue(s, k);
        if (k == std::string_view::npos) return k;
        --k;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return k + 1;
      }
    }
    return std::string_view::npos;
  }
  size_t k = i;
  while (k < s.size() && s[k] != ',' && s[k] != '}' && s[k] != ']' && s[k] != ' ') ++k;
  return k == i ? std::string_view::npos : k;
}

// The members of an object's raw text without the braces: `{"a":1}` -> `"a":1`.
std::string_view Inner(std::string_view object) {
  if (object.size() < 2 || object.front() != '{' || object.back() != '}') return {};
  return object.substr(1, object.size() - 2);
}

}  // namespace

std::string_view TopLevelJsonValue(std::string_view json, std::string_view key) {
  size_t i = 0;
  while (i < json.size() && json[i] == ' ') ++i;
  if (i >= json.size() || json[i] != '{') return {};
  ++i;
  while (i < json.size()) {
    while (i < json.size() && (json[i] == ' ' || json[i] == ',')) ++i;
    if (i >= json.size() || json[i] == '}') return {};
    const size_t key_end = SkipValue(json, i);
    if (key_end == std::string_view::npos || json[i] != '"') return {};
    const std::string_view k = json.substr(i + 1, key_end - i - 2);
    i = key_end;
    while (i < json.size() && json[i] == ' ') ++i;
    if (i >= json.size() || json[i] != ':') return {};
    ++i;
    while (i < json.size() && json[i] == ' ') ++i;
    const size_t value_end = SkipValue(json, i);
    if (value_end == std::string_view::npos) return {};
    if (k == key) return json.substr(i, value_end - i);
    i = value_end;
  }
  return {};
}

Status ReplayAudit(const Engine& engine, const std::string& audit_path, ReplayReport* report) {
  const pipeline::PipelineSpec& spec = engine.spec();
  std::ifstream in(audit_path, std::ios::binary);
  if (!in) return IoError("cannot open audit file " + audit_path);

  // The same pipeline, with every feature read as a field: the recorded
  // values stand in for what the features computed.
  pipeline::PipelineSpec replay_spec = spec;
  replay_spec.features.clear();
  replay_spec.lateness_ns = 0;
  for (const auto& [name, column] : engine.feature_columns()) {
    pipeline::FieldSpec f;
    f.name = name;
    f.type = engine.layout().column(column).type;
    f.nullable = true;
    replay_spec.fields.push_back(std::move(f));
  }
  replay_spec.output_fields_given = false;
  std::vector<Diagnostic> diags;
  auto replay_engine = Engine::Compile(replay_spec, &diags);
  if (!replay_engine) {
    return Internal("the pipeline cannot be compiled for replay: " + FormatDiagnostics(diags));
  }

  // Model files as they are now.
  std::vector<std::pair<std::string, std::string>> model_hashes;
  for (const auto& m : spec.models) {
    if (m.path.empty()) continue;
    SLUICE_ASSIGN_OR_RETURN(std::string h, FileHash(m.resolved_path));
    model_hashes.emplace_back(m.name, h);
  }

  // The records' inputs, as JSON Lines the replay pipeline reads.
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path() / fmt::format("sluice-replay-{}", ::getpid());
  fs::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{dir};
  const std::string inputs_path = (dir / "inputs.jsonl").string();
  std::vector<std::string> recorded;  // from "scores" on
  std::vector<std::string> ids;
  {
    std::ofstream inputs(inputs_path, std::ios::binary);
    std::string line;
    uint64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      const std::string_view pipe = TopLevelJsonValue(line, "pipeline");
      const std::string_view input = TopLevelJsonValue(line, "input");
      const std::string_view features = TopLevelJsonValue(line, "features");
      const size_t scores_at = line.find(",\"scores\":");
      if (pipe.empty() || input.empty() || features.empty() || scores_at == std::string::npos) {
        return InvalidInput(
            fmt::format("{} line {}: not an audit record of sluice (expected the keys pipeline, "
                        "input, features and scores)",
                        audit_path, n));
      }
      const std::string_view hash = TopLevelJsonValue(pipe, "hash");
      if (hash != "\"" + spec.content_hash + "\"") {
        return InvalidInput(fmt::format(
            "{} line {}: the decision was made by the pipeline with content hash {}; {} has {}. "
            "Replay it with that version of the pipeline",
            audit_path, n, hash, spec.file, spec.content_hash));
      }
      const std::string_view models = TopLevelJsonValue(line, "models");
      for (const auto& [name, h] : model_hashes) {
        const std::string want = fmt::format("\"name\":\"{}\",", name);
        const size_t at = models.find(want);
        const std::string expect = fmt::format("\"hash\":\"{}\"", h);
        if (at == std::string_view::npos ||
            models.substr(at, models.find('}', at) - at).find(expect) == std::string_view::npos) {
          return InvalidInput(fmt::format(
              "{} line {}: model '{}' has changed since the decision (its file's hash is now "
              "{}); replay it with the model file the record names",
              audit_path, n, name, h));
        }
      }
      std::string flat = "{";
      flat += Inner(input);
      if (!Inner(features).empty()) {
        flat += ',';
        flat += Inner(features);
      }
      flat += "}\n";
      inputs << flat;
      recorded.emplace_back(line.substr(scores_at));
      ids.emplace_back(TopLevelJsonValue(line, "id"));
    }
    if (!inputs) return IoError("cannot write " + inputs_path);
  }
  report->records = recorded.size();

  // Decide them again, writing audit records in the same format.
  const std::string replayed_path = (dir / "replayed.jsonl").string();
  {
    SLUICE_ASSIGN_OR_RETURN(auto source, io::RecordSource::Open(inputs_path, io::Format::kJsonl,
                                                                replay_engine->source_fields(),
                                                                replay_engine->source_options()));
    SLUICE_ASSIGN_OR_RETURN(auto log, AuditLog::Open(replayed_path, *replay_engine, false));
    struct FirstReject final : io::RejectSink {
      void Reject(const io::Rejection& r) override {
        if (first.empty()) first = fmt::format("record {}: {}", r.record, r.reason);
      }
      std::string first;
    } rejects;
    Batch batch(replay_engine->layout(), 256);
    while (!source->done()) {
      batch.Clear();
      SLUICE_RETURN_IF_ERROR(source->Fill(batch, rejects));
      if (!rejects.first.empty()) {
        return InvalidInput(fmt::format("{}: an audit record's values cannot be read: {}",
                                        audit_path, rejects.first));
      }
      replay_engine->Process(batch, nullptr);
      SLUICE_RETURN_IF_ERROR(log->Write(batch));
    }
    SLUICE_RETURN_IF_ERROR(log->Close());
  }

  // Compare, record by record ("record" is the line of inputs.jsonl).
  std::ifstream replayed(replayed_path, std::ios::binary);
  std::string line;
  size_t next = 0;
  auto differ = [&](size_t i, std::string got) {
    ++report->differed;
    if (report->differences.size() < 10) {
      report->differences.push_back({ids[i], recorded[i], std::move(got)});
    }
  };
  while (std::getline(replayed, line)) {
    const std::string_view rec = TopLevelJsonValue(line, "record");
    const size_t index = static_cast<size_t>(std::stoull(std::string(rec))) - 1;
    for (; next < index; ++next) differ(next, "(rejected: a record error)");
    const size_t scores_at = line.find(",\"scores\":");
    std::string got = line.substr(scores_at);
    if (got == recorded[index]) {
      ++report->reproduced;
    } else {
      differ(index, std::move(got));
    }
    next = index + 1;
  }
  for (; next < recorded.size(); ++next) differ(next, "(rejected: a record error)");
  return Status::Ok();
}

}  // namespace sluice::runtime
