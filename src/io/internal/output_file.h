#pragma once
// A buffered output file: about 1 MiB of buffer, written with fwrite.
// The first write error sticks: later writes are dropped and every call
// returns it.

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice::io::internal {

class OutputFile {
 public:
  static constexpr size_t kBufferBytes = 1u << 20;

  // "-" is stdout (flushed, not closed, by Close()).
  // With `append`, writes after the file's current end.
  static Result<std::unique_ptr<OutputFile>> Open(const std::string& path, bool append = false);
  // Flush() and fsync(2): the bytes written so far survive a crash.
  Status Sync();
  ~OutputFile();

  // Returns room for `n` bytes (flushing first when the buffer is too full);
  // call Commit() with the bytes actually written.
  char* Reserve(size_t n) {
    if (capacity_ - size_ < n) MakeRoom(n);
    return buffer_.get() + size_;
  }
  void Commit(size_t n) { size_ += n; }
  void Put(char c) { *Reserve(1) = c, ++size_; }
  void Append(std::string_view s);

  Status Flush();
  Status Close();
  const Status& status() const { return status_; }
  const std::string& path() const { return path_; }

 private:
  OutputFile(std::FILE* file, std::string path, bool owned);
  void MakeRoom(size_t n);
  void WriteOut(const char* data, size_t n);

  std::FILE* file_;
  std::string path_;
  bool owned_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = kBufferBytes;
  size_t size_ = 0;
  Status status_;
};

}  // namespace sluice::io::internal
