#pragma once
// Reading records into batches and writing batches out: CSV (RFC 4180) and
// JSON Lines. See docs/input-formats.md for what is accepted and for every
// rejection reason.
//
// A RecordSource decodes records straight into the source-field columns of
// a Batch (field i of the schema goes to column `fields[i].column`). A
// record that cannot be decoded is not appended; it goes to the RejectSink
// with its record number, line, field and reason, and reading goes on.
// Every record read is either appended or rejected: nothing is dropped.
//
// Thread safety: sources and sinks belong to one thread.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"
#include "types/batch.h"
#include "types/timestamp.h"
#include "types/type.h"

namespace sluice::io {

enum class Format { kCsv, kJsonl };

// "csv", "jsonl" (also "json", "ndjson") from a flag, else from the path's
// extension (.csv, .jsonl, .ndjson, .json); "-" without a flag is an error.
Result<Format> ResolveFormat(std::string_view path, std::string_view flag);

struct SourceField {
  std::string name;
  Type type;
  bool nullable = false;
  TimestampFormat timestamp_format = TimestampFormat::kIso8601;  // for timestamps
  int column = -1;                                               // batch column
};

struct SourceOptions {
  std::vector<std::string> null_markers = {""};  // unquoted CSV texts read as null
  char delimiter = ',';
  size_t max_record_bytes = 8u << 20;  // longer records are rejected
  // Bytes asked of read(2) at a time. Tests use tiny values so that records
  // span chunk boundaries; the default suits files and pipes.
  size_t read_chunk_bytes = 1u << 20;
  // Streaming (`sluice stream`): Fill returns as soon as it has taken every
  // complete record already received, instead of waiting for a full batch.
  bool stream = false;
  // At the end of a regular file, wait for more bytes to be appended
  // (`--follow`) instead of ending.
  bool follow = false;
  // When set (by a SIGINT/SIGTERM handler), waiting for input ends and the
  // input is treated as ended.
  const std::atomic<bool>* stop = nullptr;
};

struct Rejection {
  uint64_t record = 0;  // 1-based record number (0: not a record, e.g. the header)
  uint64_t line = 0;    // 1-based line where the record starts
  std::string field;    // the field at fault, or "" for the whole record
  std::string reason;
  std::string_view raw;  // the record's raw text
};

class RejectSink {
 public:
  virtual ~RejectSink() = default;
  virtual void Reject(const Rejection& r) = 0;
  // True when the consumer wants RecordSource::Fill to return now (for
  // example once --max-errors is passed); checked after each record.
  virtual bool Stop() const { return false; }
};

class RecordSource {
 public:
  virtual ~RecordSource() = default;

  // Opens `path`: "-" is stdin, "tcp://HOST:PORT" listens there and reads
  // the first connection to arrive. Fails (kIoError / kInvalidInput) if the file
  // cannot be opened or, for CSV, its header is missing, has duplicate
  // names or lacks a schema field.
  static Result<std::unique_ptr<RecordSource>> Open(const std::string& path, Format format,
                                                    std::vector<SourceField> fields,
                                                    SourceOptions options);

  // Reads records until `batch` is full or the input ends. Decoded records
  // are appended to `batch` (with their Batch::origin); rejected ones go to
  // `rejects`. Returns a non-ok Status only for failures of the input as a
  // whole (read error).
  virtual Status Fill(Batch& batch, RejectSink& rejects) = 0;
  virtual bool done() const = 0;
  virtual uint64_t records_read() const = 0;  // appended + rejected so far
  virtual uint64_t bytes_read() const = 0;

  // Where reading stands: the byte offset of the first byte not yet taken,
  // the line there, and the records taken so far (checkpoints).
  struct Position {
    uint64_t offset = 0;
    uint64_t line = 1;
    uint64_t records = 0;
  };
  virtual Position position() const = 0;
  // Continues reading from `p` (a position() of an earlier run over the same
  // file; the CSV header has been read again). Regular files only.
  virtual Status Resume(const Position& p) = 0;
};

// What an output column holds.
struct OutputColumn {
  enum class Kind { kValue, kReasonCodes, kReasonTexts, kReasons };
  std::string name;
  Kind kind = Kind::kValue;
  int column = -1;  // batch column for kValue
};

// Appends row `row` of `c` as JSON Lines outputs write it: null, true, 12,
// 1.5 (shortest text that reads back as the same double), "text", enums by
// name, timestamps as ISO 8601 strings.
void AppendJsonValue(const Column& c, size_t row, std::string* out);
// Appends `s` as a JSON string, quotes included.
void AppendJsonString(std::string_view s, std::string* out);

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Opens `path` ("-" is stdout) and, for CSV, writes the header.
  // With `append`, writes after the file's current end and, for CSV, no
  // header (resuming from a checkpoint).
  static Result<std::unique_ptr<RecordSink>> Open(const std::string& path, Format format,
                                                  std::vector<OutputColumn> columns,
                                                  bool append = false);
  // Writes every row of `batch` whose row_error is 0.
  virtual Status Write(const Batch& batch) = 0;
  // Flushes; after Close() nothing more is written.
  virtual Status Close() = 0;
  // Hands everything written so far to the operating system (streaming
  // writes each batch's results as soon as they are known).
  virtual Status Flush() = 0;
  // Flush() and fsync(2), so that what was written survives a crash.
  virtual Status Sync() = 0;
  virtual uint64_t records_written() const = 0;
};

// Writes rejections as JSON Lines to a file created on the first rejection.
class DeadLetterFile final : public RejectSink {
 public:
  // With `append`, rejections go after the file's current end.
  explicit DeadLetterFile(std::string path, bool append = false);
  ~DeadLetterFile() override;
  void Reject(const Rejection& r) override;
  Status Close();
  Status Flush();
  Status Sync();  // Flush() and fsync(2)
  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }
  // The first write error, if any (a rejection that could not be written).
  const Status& status() const { return status_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t count_ = 0;
  Status status_;
  std::string buffer_;
  bool append_ = false;
};

}  // namespace sluice::io
