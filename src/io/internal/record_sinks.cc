// CSV and JSON Lines writers. Rows are formatted straight into the output
// buffer: no iostreams and no allocation per row. The CSV writer reserves
// room for a whole row at once and writes each cell with a function chosen
// per column.

#include <algorithm>
#include <charconv>
#include <cstring>

#include "io/internal/output_file.h"
#include "io/internal/sinks.h"
#include "io/internal/text.h"
#include "types/timestamp.h"

namespace sluice::io::internal {

size_t FormatFloat64(double v, char* out) {
  auto r = std::to_chars(out, out + 32, v);
  size_t n = static_cast<size_t>(r.ptr - out);
  for (size_t i = 0; i < n; ++i) {
    // A '.', an exponent, or "nan" / "inf": the text does not read as an integer.
    if (out[i] == '.' || out[i] == 'e' || out[i] == 'n') return n;
  }
  out[n++] = '.';
  out[n++] = '0';
  return n;
}

namespace {

size_t FormatInt64(int64_t v, char* out) {
  return static_cast<size_t>(std::to_chars(out, out + 24, v).ptr - out);
}

// True if `s` holds a byte that makes a CSV field need quotes.
bool NeedsCsvQuotes(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full;
  // High bit of each byte of `w` that equals `c`, exactly (no carries across bytes).
  auto equal_bytes = [](uint64_t w, char c) {
    uint64_t x = w ^ (kOnes * static_cast<uint8_t>(c));
    return ~(((x & kLow7) + kLow7) | x | kLow7);
  };
  const char* p = s.data();
  size_t n = s.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if ((equal_bytes(w, ',') | equal_bytes(w, '"') | equal_bytes(w, '\n') | equal_bytes(w, '\r')) !=
        0) {
      return true;
    }
  }
  for (; i < n; ++i) {
    char c = p[i];
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

// Most bytes PutCsvField writes for a text of `n` bytes.
inline size_t CsvFieldBound(size_t n) {
  return 2 * n + 2;
}

// Writes `s` as one CSV field at `out` and returns the end: as is, or
// quoted when it is empty or holds a delimiter, quote or line end.
char* PutCsvField(std::string_view s, char* out) {
  if (!s.empty() && !NeedsCsvQuotes(s)) {
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
  }
  *out++ = '"';
  for (char c : s) {
    *out++ = c;
    if (c == '"') *out++ = '"';
  }
  *out++ = '"';
  return out;
}

// One output column of a CsvSink, resolved against one batch: how to write
// a row's cell and how many bytes that may take. The writer is chosen once
// per column and batch, so rows pay no switch on the column's kind.
struct CsvCell {
  // Writes the cell of row `row` at `out` and returns the end.
  char* (*write)(const CsvCell& cell, size_t row, char* out);
  // Most bytes write() produces for row `row`; nullptr when max_bytes is
  // a bound for every row.
  size_t (*bound)(const CsvCell& cell, size_t row);
  size_t max_bytes;
  const void* values;
  const uint8_t* valid;
  const Batch* batch;
  const EnumDomain* domain;
  std::string_view separator;  // between reasons
  bool codes;                  // reason codes, else reason texts
};

template <typename T>
const T* Values(const CsvCell& c) {
  return static_cast<const T*>(c.values);
}

char* WriteNothing(const CsvCell&, size_t, char* out) {
  return out;
}

char* WriteBool(const CsvCell& c, size_t row, char* out) {
  if (!c.valid[row]) return out;
  if (Values<uint8_t>(c)[row]) {
    std::memcpy(out, "true", 4);
    return out + 4;
  }
  std::memcpy(out, "false", 5);
  return out + 5;
}

char* WriteInt64(const CsvCell& c, size_t row, char* out) {
  if (!c.valid[row]) return out;
  return out + FormatInt64(Values<int64_t>(c)[row], out);
}

char* WriteFloat64(const CsvCell& c, size_t row, char* out) {
  if (!c.valid[row]) return out;
  return out + FormatFloat64(Values<double>(c)[row], out);
}

char* WriteTimestamp(const CsvCell& c, size_t row, char* out) {
  if (!c.valid[row]) return out;
  return out + FormatIso8601(Values<int64_t>(c)[row], out);
}

char* WriteString(const CsvCell& c, size_t row, char* out) {
  if (!c.valid[row]) return out;
  return PutCsvField(Values<std::string_view>(c)[row], out);
}
size_t StringBound(const CsvCell& c, size_t row) {
  return CsvFieldBound(Values<std::string_view>(c)[row].size());
}

char* WriteEnum(const CsvCell& c, size_t row, char* out) {
  if (!c.valid[row]) return out;
  return PutCsvField(c.domain->Name(Values<int32_t>(c)[row]), out);
}
size_t EnumBound(const CsvCell& c, size_t row) {
  return CsvFieldBound(c.domain->Name(Values<int32_t>(c)[row]).size());
}

// The row's reasons joined by the separator, as one field; nothing when
// that text is empty.
char* WriteReasons(const CsvCell& c, size_t row, char* out) {
  const Batch& b = *c.batch;
  const uint32_t count = b.reason_count()[row];
  if (count == 0) return out;
  const Reason* r = b.reasons().data() + b.reason_begin()[row];
  auto part = [&c, r](uint32_t i) { return c.codes ? r[i].code : r[i].text; };
  size_t length = (count - 1) * c.separator.size();
  bool quote = count > 1 && NeedsCsvQuotes(c.separator);
  for (uint32_t i = 0; i < count; ++i) {
    length += part(i).size();
    quote = quote || NeedsCsvQuotes(part(i));
  }
  if (length == 0) return out;
  auto put = [&out, quote](std::string_view s) {
    if (!quote) {
      out = std::copy(s.begin(), s.end(), out);
      return;
    }
    for (char ch : s) {
      *out++ = ch;
      if (ch == '"') *out++ = '"';
    }
  };
  if (quote) *out++ = '"';
  for (uint32_t i = 0; i < count; ++i) {
    if (i > 0) put(c.separator);
    put(part(i));
  }
  if (quote) *out++ = '"';
  return out;
}
size_t ReasonsBound(const CsvCell& c, size_t row) {
  const Batch& b = *c.batch;
  const uint32_t count = b.reason_count()[row];
  const Reason* r = b.reasons().data() + b.reason_begin()[row];
  size_t n = 0;
  for (uint32_t i = 0; i < count; ++i) n += (c.codes ? r[i].code : r[i].text).size();
  if (count > 0) n += (count - 1) * c.separator.size();
  return CsvFieldBound(n);
}

class CsvSink final : public RecordSink {
 public:
  CsvSink(std::unique_ptr<OutputFile> out, std::vector<OutputColumn> columns, bool header)
      : out_(std::move(out)), columns_(std::move(columns)) {
    for (size_t i = 0; header && i < columns_.size(); ++i) {
      if (i > 0) out_->Put(',');
      const std::string& name = columns_[i].name;
      char* p = out_->Reserve(CsvFieldBound(name.size()));
      out_->Commit(static_cast<size_t>(PutCsvField(name, p) - p));
    }
    if (header) out_->Put('\n');
    cells_.reserve(columns_.size());
  }
  ~CsvSink() override { (void)Close(); }

  Status Write(const Batch& batch) override;
  Status Close() override { return out_->Close(); }
  Status Flush() override { return out_->Flush(); }
  Status Sync() override { return out_->Sync(); }
  uint64_t records_written() const override { return written_; }

 private:
  // Resolves the output columns against `batch` into cells_, and sets
  // fixed_bytes_ to what the cells without a bound function (and the
  // delimiters and the line end) may take per row.
  void ResolveCells(const Batch& batch);

  std::unique_ptr<OutputFile> out_;
  std::vector<OutputColumn> columns_;
  std::vector<CsvCell> cells_;
  std::vector<const CsvCell*> variable_cells_;  // cells with a bound function
  size_t fixed_bytes_ = 0;
  uint64_t written_ = 0;
};

void CsvSink::ResolveCells(const Batch& batch) {
  cells_.clear();
  variable_cells_.clear();
  fixed_bytes_ = columns_.size() + 1;  // delimiters and the line end
  for (const OutputColumn& c : columns_) {
    CsvCell cell{WriteNothing, nullptr, 0, nullptr, nullptr, &batch, nullptr, {}, false};
    if (c.kind != OutputColumn::Kind::kValue) {
      cell.write = WriteReasons;
      cell.bound = ReasonsBound;
      cell.codes = c.kind != OutputColumn::Kind::kReasonTexts;
      cell.separator = c.kind == OutputColumn::Kind::kReasonTexts ? std::string_view(" | ", 3)
                                                                  : std::string_view("|", 1);
    } else {
      const Column& col = batch.column(c.column);
      cell.values = col.data<char>();
      cell.valid = col.valid();
      switch (col.type().kind) {
        case TypeKind::kNull:
          break;
        case TypeKind::kBool:
          cell.write = WriteBool;
          cell.max_bytes = 5;
          break;
        case TypeKind::kInt64:
          cell.write = WriteInt64;
          cell.max_bytes = 24;
          break;
        case TypeKind::kFloat64:
          cell.write = WriteFloat64;
          cell.max_bytes = 34;
          break;
        case TypeKind::kTimestamp:
          cell.write = WriteTimestamp;
          cell.max_bytes = 40;
          break;
        case TypeKind::kString:
          cell.write = WriteString;
          cell.bound = StringBound;
          break;
        case TypeKind::kEnum:
          cell.write = WriteEnum;
          cell.bound = EnumBound;
          cell.domain = col.type().domain.get();
          break;
      }
    }
    fixed_bytes_ += cell.max_bytes;
    cells_.push_back(cell);
  }
  for (const CsvCell& cell : cells_) {
    if (cell.bound != nullptr) variable_cells_.push_back(&cell);
  }
}

Status CsvSink::Write(const Batch& batch) {
  ResolveCells(batch);
  const size_t num_cells = cells_.size();
  const CsvCell* cells = cells_.data();
  for (size_t row = 0; row < batch.size(); ++row) {
    if (batch.row_error(row) != 0) continue;
    size_t bound = fixed_bytes_;
    for (const CsvCell* cell : variable_cells_) bound += cell->bound(*cell, row);
    char* const begin = out_->Reserve(bound);
    char* p = begin;
    for (size_t i = 0; i < num_cells; ++i) {
      if (i > 0) *p++ = ',';
      p = cells[i].write(cells[i], row, p);
    }
    *p++ = '\n';
    out_->Commit(static_cast<size_t>(p - begin));
    ++written_;
  }
  return out_->status();
}

class JsonlSink final : public RecordSink {
 public:
  JsonlSink(std::unique_ptr<OutputFile> out, std::vector<OutputColumn> columns)
      : out_(std::move(out)), columns_(std::move(columns)) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      std::string key = i == 0 ? "{\"" : ",\"";
      AppendJsonEscaped(columns_[i].name, key);
      key += "\":";
      keys_.push_back(std::move(key));
    }
  }
  ~JsonlSink() override { (void)Close(); }

  Status Write(const Batch& batch) override;
  Status Close() override { return out_->Close(); }
  Status Flush() override { return out_->Flush(); }
  Status Sync() override { return out_->Sync(); }
  uint64_t records_written() const override { return written_; }

 private:
  void WriteString(std::string_view s) {
    char* p = out_->Reserve(JsonEscapedBound(s.size()) + 2);
    p[0] = '"';
    size_t n = EscapeJsonInto(s, p + 1);
    p[n + 1] = '"';
    out_->Commit(n + 2);
  }

  std::unique_ptr<OutputFile> out_;
  std::vector<OutputColumn> columns_;
  std::vector<std::string> keys_;
  uint64_t written_ = 0;
};

Status JsonlSink::Write(const Batch& batch) {
  for (size_t row = 0; row < batch.size(); ++row) {
    if (batch.row_error(row) != 0) continue;
    for (size_t i = 0; i < columns_.size(); ++i) {
      out_->Append(keys_[i]);
      const OutputColumn& c = columns_[i];
      if (c.kind != OutputColumn::Kind::kValue) {
        const Reason* r = batch.reasons().data() + batch.reason_begin()[row];
        out_->Put('[');
        for (uint32_t k = 0; k < batch.reason_count()[row]; ++k) {
          if (k > 0) out_->Put(',');
          if (c.kind == OutputColumn::Kind::kReasons) {
            out_->Append("{\"code\":");
            WriteString(r[k].code);
            out_->Append(",\"text\":");
            WriteString(r[k].text);
            out_->Put('}');
          } else {
            WriteString(c.kind == OutputColumn::Kind::kReasonCodes ? r[k].code : r[k].text);
          }
        }
        out_->Put(']');
        continue;
      }
      const Column& col = batch.column(c.column);
      if (!col.is_valid(row)) {
        out_->Append("null");
        continue;
      }
      switch (col.type().kind) {
        case TypeKind::kNull:
          out_->Append("null");
          break;
        case TypeKind::kBool:
          out_->Append(col.data<uint8_t>()[row] ? std::string_view("true", 4)
                                                : std::string_view("false", 5));
          break;
        case TypeKind::kInt64:
          out_->Commit(FormatInt64(col.data<int64_t>()[row], out_->Reserve(24)));
          break;
        case TypeKind::kFloat64:
          out_->Commit(FormatFloat64(col.data<double>()[row], out_->Reserve(34)));
          break;
        case TypeKind::kTimestamp: {
          char* p = out_->Reserve(42);
          p[0] = '"';
          size_t n = FormatIso8601(col.data<int64_t>()[row], p + 1);
          p[n + 1] = '"';
          out_->Commit(n + 2);
          break;
        }
        case TypeKind::kString:
          WriteString(col.data<std::string_view>()[row]);
          break;
        case TypeKind::kEnum:
          WriteString(col.type().domain->Name(col.data<int32_t>()[row]));
          break;
      }
    }
    if (columns_.empty()) out_->Put('{');
    out_->Append("}\n");
    ++written_;
  }
  return out_->status();
}

}  // namespace

}  // namespace sluice::io::internal

namespace sluice::io {

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  internal::AppendJsonEscaped(s, *out);
  out->push_back('"');
}

void AppendJsonValue(const Column& c, size_t row, std::string* out) {
  if (!c.is_valid(row)) {
    out->append("null");
    return;
  }
  char buf[48];
  switch (c.type().kind) {
    case TypeKind::kNull:
      out->append("null");
      break;
    case TypeKind::kBool:
      out->append(c.data<uint8_t>()[row] ? "true" : "false");
      break;
    case TypeKind::kInt64:
      out->append(buf, internal::FormatInt64(c.data<int64_t>()[row], buf));
      break;
    case TypeKind::kFloat64:
      out->append(buf, internal::FormatFloat64(c.data<double>()[row], buf));
      break;
    case TypeKind::kTimestamp:
      out->push_back('"');
      out->append(buf, FormatIso8601(c.data<int64_t>()[row], buf));
      out->push_back('"');
      break;
    case TypeKind::kString:
      AppendJsonString(c.data<std::string_view>()[row], out);
      break;
    case TypeKind::kEnum:
      AppendJsonString(c.type().domain->Name(c.data<int32_t>()[row]), out);
      break;
  }
}

}  // namespace sluice::io

namespace sluice::io::internal {

Result<std::unique_ptr<RecordSink>> OpenSink(const std::string& path, Format format,
                                             std::vector<OutputColumn> columns, bool append) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> out, OutputFile::Open(path, append));
  if (format == Format::kCsv) {
    return std::unique_ptr<RecordSink>(new CsvSink(std::move(out), std::move(columns), !append));
  }
  return std::unique_ptr<RecordSink>(new JsonlSink(std::move(out), std::move(columns)));
}

}  // namespace sluice::io::internal
