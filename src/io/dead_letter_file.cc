#include <errno.h>
#include <unistd.h>

#include <cstring>

#include "io/internal/text.h"
#include "io/record_io.h"

namespace sluice::io {
namespace {
constexpr size_t kMaxRawBytes = 64u << 10;
constexpr size_t kFlushBytes = 64u << 10;
}  // namespace

DeadLetterFile::DeadLetterFile(std::string path, bool append)
    : path_(std::move(path)), append_(append) {}

Status DeadLetterFile::Sync() {
  SLUICE_RETURN_IF_ERROR(Flush());
  if (file_ != nullptr && file_ != stdout && ::fsync(::fileno(file_)) != 0) {
    status_ = IoError("cannot sync dead-letter file " + path_ + ": " + std::strerror(errno));
  }
  return status_;
}

DeadLetterFile::~DeadLetterFile() {
  (void)Close();
}

void DeadLetterFile::Reject(const Rejection& r) {
  ++count_;
  if (!status_.ok()) return;
  if (file_ == nullptr) {
    file_ = path_ == "-" ? stdout : std::fopen(path_.c_str(), append_ ? "ab" : "wb");
    if (file_ == nullptr) {
      status_ = IoError("cannot create dead-letter file " + path_ + ": " + std::strerror(errno));
      return;
    }
  }
  buffer_ += "{\"record\":";
  buffer_ += std::to_string(r.record);
  buffer_ += ",\"line\":";
  buffer_ += std::to_string(r.line);
  buffer_ += ",\"field\":\"";
  internal::AppendJsonEscaped(r.field, buffer_);
  buffer_ += "\",\"reason\":\"";
  internal::AppendJsonEscaped(r.reason, buffer_);
  buffer_ += "\",\"raw\":\"";
  bool truncated = r.raw.size() > kMaxRawBytes;
  std::string_view raw = truncated ? internal::Utf8Prefix(r.raw, kMaxRawBytes) : r.raw;
  bool valid = internal::AppendJsonEscaped(raw, buffer_);
  buffer_ += '"';
  if (!valid) {
    // The raw bytes are not UTF-8: keep them exactly, in base64.
    raw = truncated ? r.raw.substr(0, kMaxRawBytes) : r.raw;
    buffer_ += ",\"raw_base64\":\"";
    internal::AppendBase64(raw, buffer_);
    buffer_ += '"';
  }
  if (truncated) buffer_ += ",\"raw_truncated\":true";
  buffer_ += "}\n";
  if (buffer_.size() >= kFlushBytes) {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      status_ = IoError("cannot write dead-letter file " + path_ + ": " + std::strerror(errno));
    }
    buffer_.clear();
  }
}

Status DeadLetterFile::Flush() {
  if (file_ == nullptr || !status_.ok()) return status_;
  if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    status_ = IoError("cannot write dead-letter file " + path_ + ": " + std::strerror(errno));
  }
  buffer_.clear();
  if (status_.ok() && std::fflush(file_) != 0) {
    status_ = IoError("cannot write dead-letter file " + path_ + ": " + std::strerror(errno));
  }
  return status_;
}

Status DeadLetterFile::Close() {
  if (file_ == nullptr) return status_;
  if (status_.ok() && !buffer_.empty() &&
      std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    status_ = IoError("cannot write dead-letter file " + path_ + ": " + std::strerror(errno));
  }
  buffer_.clear();
  int rc = file_ == stdout ? std::fflush(file_) : std::fclose(file_);
  if (rc != 0 && status_.ok()) {
    status_ = IoError("cannot write dead-letter file " + path_ + ": " + std::strerror(errno));
  }
  file_ = nullptr;
  return status_;
}

}  // namespace sluice::io
