// CSV (RFC 4180) reader. The tokenizer (CsvScanner) scans one record at a
// time from the ChunkReader's unconsumed bytes; when a record is not
// complete it asks for more bytes and scans the record again from its start
// (the buffer grows geometrically, so a record is rescanned O(log size)
// times at most).

#include <algorithm>
#include <array>
#include <cstring>

#include "io/internal/csv_scanner.h"
#include "io/internal/field_decoder.h"
#include "io/internal/sources.h"
#include "io/internal/text.h"

namespace sluice::io::internal {
namespace {

using FieldSpan = CsvFieldSpan;
using Problem = CsvProblem;
using ScannedRecord = CsvScannedRecord;
using ScanStatus = CsvScanStatus;

static_assert(ChunkReader::kPadding >= CsvScanner::kPadding);

// What to do with each schema field, in schema order.
struct FieldPlan {
  TypeKind kind;
  bool nullable;
  TimestampFormat timestamp_format;
  int column;
  size_t csv_index;
  EnumMatcher matcher;
};

class CsvSource final : public RecordSource {
 public:
  CsvSource(std::unique_ptr<ByteSource> bytes, std::string name, std::vector<SourceField> fields,
            SourceOptions options)
      : reader_(std::move(bytes), options.read_chunk_bytes),
        scanner_(options.delimiter),
        name_(std::move(name)),
        fields_(std::move(fields)),
        options_(std::move(options)) {
    delimiter_ = options_.delimiter;
    only_empty_null_ = options_.null_markers.size() == 1 && options_.null_markers[0].empty();
    scratch_.reserve(256);
  }

  Status ReadHeader();
  Status Fill(Batch& batch, RejectSink& rejects) override;
  bool done() const override { return done_; }
  uint64_t records_read() const override { return records_; }
  Position position() const override {
    return {reader_.bytes_read() - reader_.size(), line_, records_};
  }
  Status Resume(const Position& p) override {
    SLUICE_RETURN_IF_ERROR(reader_.SeekTo(p.offset));
    line_ = p.line;
    records_ = p.records;
    done_ = false;
    return Status::Ok();
  }
  uint64_t bytes_read() const override { return reader_.bytes_read(); }

 private:
  // Scans the next record, reading more bytes as needed. kNeedMore means
  // the record is longer than max_record_bytes.
  // `may_wait`: false to return kNeedMore with idle_ set instead of reading.
  Result<ScanStatus> ScanNext(ScannedRecord* r, bool may_wait = true);
  bool IsNull(std::string_view text) const;
  std::string_view Unescape(const char* content, const FieldSpan& f, StringArena& arena);
  // Decodes the record into a new row; on failure returns the index of the
  // schema field at fault and sets reason_.
  bool Decode(const char* record, const FieldSpan* spans, Batch& batch, size_t row,
              size_t* bad_field);
  void RejectRecord(RejectSink& rejects, uint64_t line, std::string field, std::string reason,
                    std::string_view raw);
  Status SkipToLineEnd();
  std::string ProblemReason(const ScannedRecord& r) const;
  std::string ColumnName(size_t index) const {
    return index < header_.size() ? header_[index] : std::string();
  }

  ChunkReader reader_;
  CsvScanner scanner_;
  std::string name_;
  std::vector<SourceField> fields_;
  SourceOptions options_;
  char delimiter_;
  bool only_empty_null_;
  std::vector<std::string> header_;
  std::vector<FieldPlan> plan_;
  std::string scratch_;
  std::string reason_;
  uint64_t records_ = 0;
  uint64_t line_ = 1;  // line where the next record starts
  bool done_ = false;
  bool idle_ = false;  // ScanNext stopped short of reading more input
};

Result<ScanStatus> CsvSource::ScanNext(ScannedRecord* r, bool may_wait) {
  for (;;) {
    ScanStatus s = scanner_.Scan(reader_.data(), reader_.size(), reader_.eof(), r);
    if (s != ScanStatus::kNeedMore) return s;
    if (reader_.size() > options_.max_record_bytes + 1) return ScanStatus::kNeedMore;
    if (!may_wait) {
      idle_ = true;
      return ScanStatus::kNeedMore;
    }
    SLUICE_RETURN_IF_ERROR(reader_.ReadMore());
  }
}

Status CsvSource::SkipToLineEnd() {
  for (;;) {
    const char* d = reader_.data();
    const char* nl = static_cast<const char*>(std::memchr(d, '\n', reader_.size()));
    if (nl != nullptr) {
      reader_.Consume(static_cast<size_t>(nl - d) + 1);
      ++line_;
      return Status::Ok();
    }
    reader_.Consume(reader_.size());
    if (reader_.eof()) return Status::Ok();
    SLUICE_RETURN_IF_ERROR(reader_.ReadMore());
  }
}

std::string CsvSource::ProblemReason(const ScannedRecord& r) const {
  std::string column = ColumnName(r.problem_field);
  std::string where =
      column.empty() ? "column " + std::to_string(r.problem_field + 1) : "field '" + column + "'";
  switch (r.problem) {
    case Problem::kUnterminatedQuote:
      return where + ": unterminated quoted field at end of input";
    case Problem::kAfterClosingQuote:
      return where + ": unexpected character " + Excerpt(std::string_view(&r.problem_char, 1)) +
             " after a closing quote (expected a delimiter or a line end)";
    case Problem::kQuoteInUnquoted:
      return where +
             ": a quote inside an unquoted field (quote the whole field and double inner quotes)";
    case Problem::kNone:
      break;
  }
  return {};
}

Status CsvSource::ReadHeader() {
  while (reader_.size() < 3 && !reader_.eof()) SLUICE_RETURN_IF_ERROR(reader_.ReadMore());
  if (reader_.size() >= 3 && std::memcmp(reader_.data(), "\xEF\xBB\xBF", 3) == 0) {
    reader_.Consume(3);
  }
  ScannedRecord r;
  SLUICE_ASSIGN_OR_RETURN(ScanStatus s, ScanNext(&r));
  if (s == ScanStatus::kEnd)
    return InvalidInput(name_ + ": input is empty: expected a header line");
  std::string where = name_ + ":1: ";
  if (s == ScanStatus::kNeedMore || r.length > options_.max_record_bytes) {
    return InvalidInput(where + "the header line is longer than " +
                        std::to_string(options_.max_record_bytes) + " bytes");
  }
  if (r.problem != Problem::kNone) {
    return InvalidInput(where + "malformed header: " + ProblemReason(r));
  }
  const char* d = reader_.data();
  for (const FieldSpan& f : scanner_.spans()) {
    std::string name(d + f.begin, f.end - f.begin);
    if (f.escaped) {
      std::string unescaped;
      for (size_t k = 0; k < name.size(); ++k) {
        unescaped += name[k];
        if (name[k] == '"') ++k;
      }
      name = std::move(unescaped);
    }
    header_.push_back(std::move(name));
  }
  for (size_t a = 0; a < header_.size(); ++a) {
    for (size_t b = a + 1; b < header_.size(); ++b) {
      if (header_[a] == header_[b]) {
        return InvalidInput(where + "duplicate column '" + header_[a] +
                            "' in the header (columns " + std::to_string(a + 1) + " and " +
                            std::to_string(b + 1) + ")");
      }
    }
  }
  std::vector<std::string> missing;
  for (const SourceField& field : fields_) {
    auto it = std::find(header_.begin(), header_.end(), field.name);
    if (it == header_.end()) {
      missing.push_back(field.name);
      continue;
    }
    FieldPlan p{
        field.type.kind,
        field.nullable,
        field.timestamp_format,
        field.column,
        static_cast<size_t>(it - header_.begin()),
        field.type.kind == TypeKind::kEnum ? EnumMatcher(field.type.domain.get()) : EnumMatcher()};
    plan_.push_back(p);
  }
  if (!missing.empty()) {
    std::string found;
    for (size_t k = 0; k < header_.size() && k < 20; ++k) {
      if (k > 0) found += ", ";
      found += header_[k];
    }
    if (header_.size() > 20) found += ", ...";
    std::string names;
    for (const std::string& m : missing) names += (names.empty() ? "'" : ", '") + m + "'";
    return InvalidInput(where + "the header lacks schema field" +
                        (missing.size() > 1 ? "s " : " ") + names + " (found columns: " + found +
                        ")");
  }
  line_ = 1 + r.newlines;
  reader_.Consume(r.consumed);
  return Status::Ok();
}

bool CsvSource::IsNull(std::string_view text) const {
  if (only_empty_null_) return text.empty();
  for (const std::string& m : options_.null_markers) {
    if (m == text) return true;
  }
  return false;
}

std::string_view CsvSource::Unescape(const char* content, const FieldSpan& f, StringArena& arena) {
  size_t n = f.end - f.begin;
  char* out = arena.Allocate(n);
  size_t o = 0;
  for (size_t k = 0; k < n; ++k) {
    out[o++] = content[k];
    if (content[k] == '"') ++k;  // the second quote of a "" pair
  }
  return {out, o};
}

bool CsvSource::Decode(const char* record, const FieldSpan* spans, Batch& batch, size_t row,
                       size_t* bad_field) {
  StringArena& arena = batch.arena();
  for (size_t k = 0; k < plan_.size(); ++k) {
    const FieldPlan& p = plan_[k];
    const FieldSpan& f = spans[p.csv_index];
    std::string_view text(record + f.begin, f.end - f.begin);
    Column& column = batch.column(p.column);
    if (!f.quoted && IsNull(text)) {
      if (!p.nullable) {
        *bad_field = k;
        reason_ = NullReason(fields_[k]);
        return false;
      }
      column.valid()[row] = 0;
      continue;
    }
    DecodeError e = DecodeError::kOk;
    switch (p.kind) {
      case TypeKind::kString:
      case TypeKind::kEnum: {
        if (!IsAscii(text.data(), text.size()) && !IsValidUtf8(text)) {
          e = DecodeError::kInvalidUtf8;
          break;
        }
        std::string_view value = f.escaped ? Unescape(text.data(), f, arena) : text;
        if (p.kind == TypeKind::kString) {
          column.data<std::string_view>()[row] = value;
        } else {
          int32_t index = p.matcher.Find(value);
          if (index < 0) {
            e = DecodeError::kNotInEnum;
            text = value;
          } else {
            column.data<int32_t>()[row] = index;
          }
        }
        break;
      }
      case TypeKind::kInt64:
        if (f.escaped) text = Unescape(text.data(), f, arena);
        text = TrimSpaces(text);
        e = DecodeInt64(text, &column.data<int64_t>()[row]);
        break;
      case TypeKind::kFloat64:
        if (f.escaped) text = Unescape(text.data(), f, arena);
        text = TrimSpaces(text);
        e = DecodeFloat64(text, &column.data<double>()[row]);
        break;
      case TypeKind::kBool:
        if (f.escaped) text = Unescape(text.data(), f, arena);
        text = TrimSpaces(text);
        e = DecodeBool(text, &column.data<uint8_t>()[row]);
        break;
      case TypeKind::kTimestamp:
        if (f.escaped) text = Unescape(text.data(), f, arena);
        text = TrimSpaces(text);
        e = DecodeTimestamp(text, p.timestamp_format, &column.data<int64_t>()[row]);
        break;
      case TypeKind::kNull:
        break;
    }
    if (e != DecodeError::kOk) {
      *bad_field = k;
      reason_ = Describe(fields_[k], e, text);
      return false;
    }
    column.valid()[row] = 1;
  }
  return true;
}

void CsvSource::RejectRecord(RejectSink& rejects, uint64_t line, std::string field,
                             std::string reason, std::string_view raw) {
  Rejection r;
  r.record = records_;
  r.line = line;
  r.field = std::move(field);
  r.reason = std::move(reason);
  r.raw = raw;
  rejects.Reject(r);
}

Status CsvSource::Fill(Batch& batch, RejectSink& rejects) {
  const size_t max = options_.max_record_bytes;
  const uint64_t records_before = records_;
  while (!done_ && !batch.full() && !rejects.Stop()) {
    ScannedRecord r;
    // Streaming: once something was taken, return rather than wait.
    idle_ = false;
    SLUICE_ASSIGN_OR_RETURN(ScanStatus s,
                            ScanNext(&r, !options_.stream || records_ == records_before));
    if (idle_) break;
    if (s == ScanStatus::kEnd) {
      done_ = true;
      break;
    }
    const char* d = reader_.data();
    const uint64_t line = line_;
    if (s == ScanStatus::kNeedMore || r.length > max) {
      // Too long: reject, then go on after the first line end that follows
      // the record's first max_record_bytes bytes (the same place whatever
      // the chunking).
      ++records_;
      RejectRecord(rejects, line, "",
                   "record is longer than " + std::to_string(max) + " bytes (max_record_bytes)",
                   std::string_view(d, std::min(reader_.size(), max)));
      line_ += static_cast<uint64_t>(std::count(d, d + max, '\n'));
      reader_.Consume(max);
      SLUICE_RETURN_IF_ERROR(SkipToLineEnd());
      continue;
    }
    const std::vector<FieldSpan>& spans = scanner_.spans();
    if (r.length == 0 && spans.size() == 1 && !spans[0].quoted && header_.size() > 1) {
      line_ += r.newlines;  // a blank line: not a record
      reader_.Consume(r.consumed);
      continue;
    }
    ++records_;
    std::string_view raw(d, r.length);
    if (r.problem != Problem::kNone) {
      RejectRecord(rejects, line, ColumnName(r.problem_field), ProblemReason(r), raw);
    } else if (spans.size() != header_.size()) {
      RejectRecord(rejects, line, "",
                   "expected " + std::to_string(header_.size()) + " fields, found " +
                       std::to_string(spans.size()),
                   raw);
    } else {
      std::string_view copy = batch.arena().Copy(raw);
      size_t row = batch.AppendRow();
      size_t bad = 0;
      if (Decode(copy.data(), spans.data(), batch, row, &bad)) {
        Batch::RowOrigin& o = batch.origin(row);
        o.record = records_;
        o.line = line;
        o.raw = copy;
      } else {
        batch.PopRow();
        RejectRecord(rejects, line, fields_[bad].name, std::move(reason_), raw);
      }
    }
    line_ += r.newlines;
    reader_.Consume(r.consumed);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RecordSource>> OpenCsvSource(std::unique_ptr<ByteSource> bytes,
                                                    std::string name,
                                                    std::vector<SourceField> fields,
                                                    SourceOptions options) {
  SLUICE_RETURN_IF_ERROR(ValidateFields(fields));
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    return InvalidArgument("the CSV delimiter cannot be a quote or a line end");
  }
  auto source = std::make_unique<CsvSource>(std::move(bytes), std::move(name), std::move(fields),
                                            std::move(options));
  SLUICE_RETURN_IF_ERROR(source->ReadHeader());
  return std::unique_ptr<RecordSource>(std::move(source));
}

}  // namespace sluice::io::internal
