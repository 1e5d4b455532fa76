#include "io/record_io.h"

#include <algorithm>

#include "io/internal/byte_source.h"
#include "io/internal/sinks.h"
#include "io/internal/sources.h"

namespace sluice::io {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<Format> ResolveFormat(std::string_view path, std::string_view flag) {
  if (!flag.empty()) {
    std::string f = Lower(flag);
    if (f == "csv") return Format::kCsv;
    if (f == "jsonl" || f == "json" || f == "ndjson") return Format::kJsonl;
    return InvalidArgument("unknown format '" + std::string(flag) +
                           "': expected csv or jsonl (also json, ndjson)");
  }
  if (path == "-") {
    return InvalidArgument(
        "cannot tell the format of stdin/stdout ('-'): give the format (csv or jsonl)");
  }
  std::string p = Lower(path);
  if (EndsWith(p, ".csv")) return Format::kCsv;
  if (EndsWith(p, ".jsonl") || EndsWith(p, ".ndjson") || EndsWith(p, ".json")) {
    return Format::kJsonl;
  }
  return InvalidArgument("cannot tell the format of '" + std::string(path) +
                         "' from its extension (.csv, .jsonl, .ndjson or .json): give the format "
                         "(csv or jsonl)");
}

Result<std::unique_ptr<RecordSource>> RecordSource::Open(const std::string& path, Format format,
                                                         std::vector<SourceField> fields,
                                                         SourceOptions options) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<internal::ByteSource> bytes,
                          internal::OpenFileByteSource(path, options.follow, options.stop));
  std::string name = path == "-" ? "stdin" : path;
  if (format == Format::kCsv) {
    return internal::OpenCsvSource(std::move(bytes), std::move(name), std::move(fields),
                                   std::move(options));
  }
  return internal::OpenJsonlSource(std::move(bytes), std::move(name), std::move(fields),
                                   std::move(options));
}

Result<std::unique_ptr<RecordSink>> RecordSink::Open(const std::string& path, Format format,
                                                     std::vector<OutputColumn> columns,
                                                     bool append) {
  return internal::OpenSink(path, format, std::move(columns), append);
}

namespace internal {

Status ValidateFields(const std::vector<SourceField>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const SourceField& f = fields[i];
    if (f.column < 0) {
      return InvalidArgument("source field '" + f.name + "' has no batch column");
    }
    if (f.type.kind == TypeKind::kEnum && f.type.domain == nullptr) {
      return InvalidArgument("source field '" + f.name + "' is an enum without values");
    }
    if (f.type.kind == TypeKind::kNull) {
      return InvalidArgument("source field '" + f.name + "' has no type");
    }
    for (size_t j = 0; j < i; ++j) {
      if (fields[j].name == f.name) {
        return InvalidArgument("source field '" + f.name + "' is declared twice");
      }
    }
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace sluice::io
