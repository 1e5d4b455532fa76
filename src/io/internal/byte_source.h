#pragma once
// Where input bytes come from, kept apart from the parsers so that the same
// parser can read a file, stdin, a socket or a file being appended to.
// A ChunkReader sits between a ByteSource and a parser: it keeps the bytes
// not yet consumed in one reused buffer and reads more in large chunks.

#include <atomic>
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
  // Continues reading at byte `offset` (regular files only).
  virtual Status Seek(uint64_t offset) {
    (void)offset;
    return InvalidArgument("this input cannot be resumed at a position (it is not a file)");
  }
};

// A file descriptor read with read(2); "-" is stdin (not closed).
// "tcp://HOST:PORT" listens on HOST:PORT and reads the first connection.
// With `follow`, the end of a regular file is not the end of the input: the
// source waits for more bytes until `stop` is set. A read interrupted by a
// signal while `stop` is set ends the input.
Result<std::unique_ptr<ByteSource>> OpenFileByteSource(const std::string& path, bool follow = false,
                                                       const std::atomic<bool>* stop = nullptr);
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
  // Drops what is buffered and continues at byte `offset` of the input.
  Status SeekTo(uint64_t offset);
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
