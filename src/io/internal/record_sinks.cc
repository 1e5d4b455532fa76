// CSV and JSON Lines writers. Rows are formatted straight into the output
// buffer: no iostreams and no allocation per row.

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
  if (std::memchr(out, '.', n) == nullptr && std::memchr(out, 'e', n) == nullptr &&
      std::memchr(out, 'n', n) == nullptr) {
    out[n++] = '.';
    out[n++] = '0';
  }
  return n;
}

namespace {

size_t FormatInt64(int64_t v, char* out) {
  return static_cast<size_t>(std::to_chars(out, out + 24, v).ptr - out);
}

class CsvSink final : public RecordSink {
 public:
  CsvSink(std::unique_ptr<OutputFile> out, std::vector<OutputColumn> columns)
      : out_(std::move(out)), columns_(std::move(columns)) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) out_->Put(',');
      WriteField(columns_[i].name);
    }
    out_->Put('\n');
  }
  ~CsvSink() override { (void)Close(); }

  Status Write(const Batch& batch) override;
  Status Close() override { return out_->Close(); }
  uint64_t records_written() const override { return written_; }

 private:
  void WriteField(std::string_view s) {
    bool quote = s.empty();
    for (char c : s) {
      if (c == ',' || c == '"' || c == '\n' || c == '\r') {
        quote = true;
        break;
      }
    }
    if (!quote) {
      out_->Append(s);
      return;
    }
    char* p = out_->Reserve(2 * s.size() + 2);
    char* o = p;
    *o++ = '"';
    for (char c : s) {
      *o++ = c;
      if (c == '"') *o++ = '"';
    }
    *o++ = '"';
    out_->Commit(static_cast<size_t>(o - p));
  }
  void WriteReasons(const Batch& batch, size_t row, bool codes, std::string_view separator) {
    scratch_.clear();
    const Reason* r = batch.reasons().data() + batch.reason_begin()[row];
    for (uint32_t i = 0; i < batch.reason_count()[row]; ++i) {
      if (i > 0) scratch_ += separator;
      scratch_ += codes ? r[i].code : r[i].text;
    }
    if (!scratch_.empty()) WriteField(scratch_);
  }

  std::unique_ptr<OutputFile> out_;
  std::vector<OutputColumn> columns_;
  std::string scratch_;
  uint64_t written_ = 0;
};

Status CsvSink::Write(const Batch& batch) {
  for (size_t row = 0; row < batch.size(); ++row) {
    if (batch.row_error(row) != 0) continue;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) out_->Put(',');
      const OutputColumn& c = columns_[i];
      if (c.kind != OutputColumn::Kind::kValue) {
        WriteReasons(batch, row, c.kind != OutputColumn::Kind::kReasonTexts,
                     c.kind == OutputColumn::Kind::kReasonTexts ? std::string_view(" | ", 3)
                                                                 : std::string_view("|", 1));
        continue;
      }
      const Column& col = batch.column(c.column);
      if (!col.is_valid(row)) continue;
      switch (col.type().kind) {
        case TypeKind::kNull:
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
        case TypeKind::kTimestamp:
          out_->Commit(FormatIso8601(col.data<int64_t>()[row], out_->Reserve(40)));
          break;
        case TypeKind::kString:
          WriteField(col.data<std::string_view>()[row]);
          break;
        case TypeKind::kEnum:
          WriteField(col.type().domain->Name(col.data<int32_t>()[row]));
          break;
      }
    }
    out_->Put('\n');
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

Result<std::unique_ptr<RecordSink>> OpenSink(const std::string& path, Format format,
                                             std::vector<OutputColumn> columns) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> out, OutputFile::Open(path));
  if (format == Format::kCsv) {
    return std::unique_ptr<RecordSink>(new CsvSink(std::move(out), std::move(columns)));
  }
  return std::unique_ptr<RecordSink>(new JsonlSink(std::move(out), std::move(columns)));
}

}  // namespace sluice::io::internal
