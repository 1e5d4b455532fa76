// JSON Lines reader: one JSON object per line, each decoded on its own by a
// JsonEventDecoder (simdjson's on-demand API over a reused padded copy of
// the line), so that a bad line never affects the next one.

#include <algorithm>
#include <cstring>

#include "io/internal/sources.h"
#include "io/json_event_decoder.h"

namespace sluice::io::internal {
namespace {

class JsonlSource final : public RecordSource {
 public:
  JsonlSource(std::unique_ptr<ByteSource> bytes, std::string name, std::vector<SourceField> fields,
              SourceOptions options)
      : reader_(std::move(bytes), options.read_chunk_bytes),
        name_(std::move(name)),
        fields_(std::move(fields)),
        options_(std::move(options)),
        decoder_(fields_) {}

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
  void RejectRecord(RejectSink& rejects, uint64_t line, int field, std::string reason,
                    std::string_view raw);

  ChunkReader reader_;
  std::string name_;
  std::vector<SourceField> fields_;
  SourceOptions options_;
  JsonEventDecoder decoder_;
  uint64_t records_ = 0;
  uint64_t line_ = 1;
  bool done_ = false;
};

void JsonlSource::RejectRecord(RejectSink& rejects, uint64_t line, int field, std::string reason,
                               std::string_view raw) {
  Rejection r;
  r.record = records_;
  r.line = line;
  if (field >= 0) r.field = fields_[static_cast<size_t>(field)].name;
  r.reason = std::move(reason);
  r.raw = raw;
  rejects.Reject(r);
}

Status JsonlSource::Fill(Batch& batch, RejectSink& rejects) {
  const size_t max = options_.max_record_bytes;
  const uint64_t records_before = records_;
  while (!done_ && !batch.full() && !rejects.Stop()) {
    const char* d = reader_.data();
    size_t n = reader_.size();
    const char* nl = static_cast<const char*>(std::memchr(d, '\n', std::min(n, max + 2)));
    if (nl == nullptr) {
      if (n <= max + 1 && !reader_.eof()) {
        // Streaming: once something was taken, return rather than wait.
        if (options_.stream && records_ != records_before) break;
        SLUICE_RETURN_IF_ERROR(reader_.ReadMore());
        continue;
      }
      if (n == 0) {
        done_ = true;
        break;
      }
    }
    size_t length = nl != nullptr ? static_cast<size_t>(nl - d) : n;
    size_t content = length;
    if (content > 0 && d[content - 1] == '\r') --content;
    const uint64_t line = line_;
    if (content > max || (nl == nullptr && !reader_.eof())) {
      ++records_;
      RejectRecord(rejects, line, -1,
                   "record is longer than " + std::to_string(max) + " bytes (max_record_bytes)",
                   std::string_view(d, std::min(n, max)));
      // Skip to the end of the line.
      for (;;) {
        const char* e = static_cast<const char*>(std::memchr(reader_.data(), '\n', reader_.size()));
        if (e != nullptr) {
          reader_.Consume(static_cast<size_t>(e - reader_.data()) + 1);
          ++line_;
          break;
        }
        reader_.Consume(reader_.size());
        if (reader_.eof()) break;
        SLUICE_RETURN_IF_ERROR(reader_.ReadMore());
      }
      continue;
    }
    if (nl != nullptr) ++line_;
    size_t consumed = nl != nullptr ? length + 1 : length;
    std::string_view raw(d, content);
    if (raw.find_first_not_of(" \t\r") == std::string_view::npos) {
      reader_.Consume(consumed);  // a blank line: not a record
      continue;
    }
    ++records_;
    std::string_view copy = batch.arena().Copy(raw);
    size_t row = batch.AppendRow();
    if (decoder_.Decode(raw, copy, batch, row)) {
      Batch::RowOrigin& o = batch.origin(row);
      o.record = records_;
      o.line = line;
      o.raw = copy;
    } else {
      batch.PopRow();
      RejectRecord(rejects, line, decoder_.failed_field(), decoder_.reason(), raw);
    }
    reader_.Consume(consumed);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RecordSource>> OpenJsonlSource(std::unique_ptr<ByteSource> bytes,
                                                      std::string name,
                                                      std::vector<SourceField> fields,
                                                      SourceOptions options) {
  SLUICE_RETURN_IF_ERROR(ValidateFields(fields));
  return std::unique_ptr<RecordSource>(std::make_unique<JsonlSource>(
      std::move(bytes), std::move(name), std::move(fields), std::move(options)));
}

}  // namespace sluice::io::internal
