#pragma once
// Helpers for the record I/O tests: a fixed schema, reading from memory
// with a chosen chunk size, and rows printed as text.

#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "io/internal/byte_source.h"
#include "io/internal/sources.h"
#include "io/record_io.h"
#include "types/batch.h"
#include "types/timestamp.h"

namespace sluice::io::testing {

inline Type ChannelType() {
  static const Type t =
      Type::Enum(std::make_shared<EnumDomain>(std::vector<std::string>{"pos", "ecom", "atm"}));
  return t;
}

// id int64, amount float64, name string, ok bool, channel enum, ts
// timestamp, note string (the one nullable field).
inline std::vector<SourceField> TestFields() {
  std::vector<SourceField> f = {
      {"id", Type::Int64()},          {"amount", Type::Float64()}, {"name", Type::String()},
      {"ok", Type::Bool()},           {"channel", ChannelType()},  {"ts", Type::Timestamp()},
      {"note", Type::String(), true},
  };
  for (size_t i = 0; i < f.size(); ++i) f[i].column = static_cast<int>(i);
  return f;
}

inline BatchLayout LayoutFor(const std::vector<SourceField>& fields) {
  BatchLayout layout;
  for (const SourceField& f : fields) layout.Add({f.name, f.type, std::nullopt});
  return layout;
}

struct StoredRejection {
  uint64_t record;
  uint64_t line;
  std::string field;
  std::string reason;
  std::string raw;
};

class CollectRejects final : public RejectSink {
 public:
  void Reject(const Rejection& r) override {
    all.push_back({r.record, r.line, r.field, r.reason, std::string(r.raw)});
  }
  std::vector<StoredRejection> all;
};

inline std::string ValueText(const Column& c, size_t row) {
  if (!c.is_valid(row)) return "null";
  switch (c.type().kind) {
    case TypeKind::kBool:
      return c.data<uint8_t>()[row] ? "true" : "false";
    case TypeKind::kInt64:
      return std::to_string(c.data<int64_t>()[row]);
    case TypeKind::kFloat64: {
      char buf[40];
      auto r = std::to_chars(buf, buf + 40, c.data<double>()[row]);
      return std::string(buf, r.ptr);
    }
    case TypeKind::kString:
      return "'" + std::string(c.data<std::string_view>()[row]) + "'";
    case TypeKind::kEnum:
      return std::string(c.type().domain->Name(c.data<int32_t>()[row]));
    case TypeKind::kTimestamp:
      return FormatIso8601(c.data<int64_t>()[row]);
    case TypeKind::kNull:
      return "null";
  }
  return "?";
}

struct ReadResult {
  Status open;
  std::vector<std::string> rows;          // "v1,v2,...", one per accepted record
  std::vector<Batch::RowOrigin> origins;  // raw copied out below
  std::vector<std::string> raws;
  std::vector<StoredRejection> rejects;
  uint64_t records_read = 0;
};

inline ReadResult ReadAll(Format format, std::string input, size_t chunk = 1 << 20,
                          SourceOptions options = {},
                          std::vector<SourceField> fields = TestFields(), size_t batch_rows = 3) {
  ReadResult out;
  options.read_chunk_bytes = chunk;
  BatchLayout layout = LayoutFor(fields);
  auto bytes = internal::MemoryByteSource(std::move(input));
  auto source = format == Format::kCsv
                    ? internal::OpenCsvSource(std::move(bytes), "INPUT", fields, options)
                    : internal::OpenJsonlSource(std::move(bytes), "INPUT", fields, options);
  if (!source.ok()) {
    out.open = source.status();
    return out;
  }
  Batch batch(layout, batch_rows);
  CollectRejects rejects;
  while (!(*source)->done()) {
    batch.Clear();
    Status st = (*source)->Fill(batch, rejects);
    if (!st.ok()) {
      out.open = st;
      break;
    }
    for (size_t row = 0; row < batch.size(); ++row) {
      std::string line;
      for (size_t c = 0; c < batch.num_columns(); ++c) {
        if (c > 0) line += ",";
        line += ValueText(batch.column(static_cast<int>(c)), row);
      }
      out.rows.push_back(line);
      out.origins.push_back(batch.origin(row));
      out.raws.emplace_back(batch.origin(row).raw);
    }
  }
  out.rejects = std::move(rejects.all);
  out.records_read = (*source)->records_read();
  return out;
}

}  // namespace sluice::io::testing
