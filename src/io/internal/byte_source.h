#pragma once
// Where input bytes come from, kept apart from the parsers so that the same
// parser can read a file, stdin, a socket or a file being appended to.
// A ChunkReader sits between a ByteSource and a parser: it keeps the bytes
// not yet consumed in one reused buffer and reads more in large chunks.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sluice/status.h"

namespace sluice::io::internal {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `out`; returns 0 at the end of the input.
  virtual Result<size_t> Read(char* out, size_t n) = 0;
};

// A file descriptor read with read(2); "-" is stdin (not closed).
Result<std::unique_ptr<ByteSource>> OpenFileByteSource(const std::string& path);
// Bytes held in memory (tests, and sources that already have the bytes).
std::unique_ptr<ByteSource> MemoryByteSource(std::string bytes);

class ChunkReader {
 public:
  // Bytes past the end of the data that are always readable (and zero), so
  // that scanners may look one word ahead.
  static constexpr size_t kPadding = 64;

  ChunkReader(std::unique_ptr<ByteSource> source, size_t chunk_bytes);

  // The bytes read but not consumed yet. Invalidated by ReadMore().
  const char* data() const { return buffer_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  void Consume(size_t n) { begin_ += n; }

  // Reads at least one more byte unless the input has ended (then sets
  // eof()). Keeps the unconsumed bytes, moving them to the buffer's start
  // and growing the buffer when they fill more than half of it.
  Status ReadMore();
  bool eof() const { return eof_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  std::unique_ptr<ByteSource> source_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t chunk_bytes_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t bytes_read_ = 0;
};

}  // namespace sluice::io::internal
