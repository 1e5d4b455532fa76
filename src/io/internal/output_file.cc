#include "io/internal/output_file.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sluice::io::internal {

Result<std::unique_ptr<OutputFile>> OutputFile::Open(const std::string& path, bool append) {
  if (path == "-") return std::unique_ptr<OutputFile>(new OutputFile(stdout, "stdout", false));
  std::FILE* f = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (f == nullptr) return IoError("cannot create " + path + ": " + std::strerror(errno));
  return std::unique_ptr<OutputFile>(new OutputFile(f, path, true));
}

OutputFile::OutputFile(std::FILE* file, std::string path, bool owned)
    : file_(file), path_(std::move(path)), owned_(owned), buffer_(new char[kBufferBytes]) {}

OutputFile::~OutputFile() {
  (void)Close();
}

void OutputFile::WriteOut(const char* data, size_t n) {
  if (!status_.ok() || n == 0 || file_ == nullptr) return;
  if (std::fwrite(data, 1, n, file_) != n) {
    status_ = IoError("cannot write " + path_ + ": " + std::strerror(errno));
  }
}

void OutputFile::MakeRoom(size_t n) {
  WriteOut(buffer_.get(), size_);
  size_ = 0;
  if (capacity_ < n) {
    capacity_ = std::max(n, 2 * capacity_);
    buffer_.reset(new char[capacity_]);
  }
}

void OutputFile::Append(std::string_view s) {
  if (capacity_ - size_ >= s.size()) {
    std::memcpy(buffer_.get() + size_, s.data(), s.size());
    size_ += s.size();
    return;
  }
  WriteOut(buffer_.get(), size_);
  size_ = 0;
  if (s.size() >= capacity_) {
    WriteOut(s.data(), s.size());
  } else {
    std::memcpy(buffer_.get(), s.data(), s.size());
    size_ = s.size();
  }
}

Status OutputFile::Flush() {
  WriteOut(buffer_.get(), size_);
  size_ = 0;
  if (status_.ok() && file_ != nullptr && std::fflush(file_) != 0) {
    status_ = IoError("cannot write " + path_ + ": " + std::strerror(errno));
  }
  return status_;
}

Status OutputFile::Sync() {
  SLUICE_RETURN_IF_ERROR(Flush());
  if (file_ != nullptr && owned_ && ::fsync(::fileno(file_)) != 0) {
    status_ = IoError("cannot sync " + path_ + ": " + std::strerror(errno));
  }
  return status_;
}

Status OutputFile::Close() {
  if (file_ == nullptr) return status_;
  (void)Flush();
  if (owned_ && std::fclose(file_) != 0 && status_.ok()) {
    status_ = IoError("cannot write " + path_ + ": " + std::strerror(errno));
  }
  file_ = nullptr;
  return status_;
}

}  // namespace sluice::io::internal
