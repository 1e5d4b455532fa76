#include "io/internal/byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sluice::io::internal {
namespace {

class FileByteSource final : public ByteSource {
 public:
  FileByteSource(int fd, std::string path, bool owned)
      : fd_(fd), path_(std::move(path)), owned_(owned) {}
  ~FileByteSource() override {
    if (owned_) ::close(fd_);
  }
  Result<size_t> Read(char* out, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, out, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      return IoError("cannot read " + path_ + ": " + std::strerror(errno));
    }
  }

 private:
  int fd_;
  std::string path_;
  bool owned_;
};

class InMemoryByteSource final : public ByteSource {
 public:
  explicit InMemoryByteSource(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(char* out, size_t n) override {
    size_t k = std::min(n, bytes_.size() - pos_);
    std::memcpy(out, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileByteSource(const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<ByteSource>(new FileByteSource(STDIN_FILENO, "stdin", false));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
  return std::unique_ptr<ByteSource>(new FileByteSource(fd, path, true));
}

std::unique_ptr<ByteSource> MemoryByteSource(std::string bytes) {
  return std::make_unique<InMemoryByteSource>(std::move(bytes));
}

ChunkReader::ChunkReader(std::unique_ptr<ByteSource> source, size_t chunk_bytes)
    : source_(std::move(source)),
      capacity_(2 * std::max<size_t>(chunk_bytes, 1)),
      chunk_bytes_(std::max<size_t>(chunk_bytes, 1)) {
  buffer_.reset(new char[capacity_ + kPadding]());
}

Status ChunkReader::ReadMore() {
  if (eof_) return Status::Ok();
  size_t pending = end_ - begin_;
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, pending);
    begin_ = 0;
    end_ = pending;
  }
  if (pending > capacity_ / 2 || capacity_ - pending < chunk_bytes_ / 2) {
    size_t capacity = std::max(capacity_ * 2, pending + chunk_bytes_);
    std::unique_ptr<char[]> bigger(new char[capacity + kPadding]());
    std::memcpy(bigger.get(), buffer_.get(), pending);
    buffer_ = std::move(bigger);
    capacity_ = capacity;
  }
  // A record longer than a chunk is scanned again after each read: read at
  // least as many bytes as are pending, so that the rescans stay O(log n).
  size_t target = std::min(std::max<size_t>(pending, 1), capacity_ - end_);
  size_t added = 0;
  while (added < target) {
    size_t want = std::min(chunk_bytes_, capacity_ - end_);
    SLUICE_ASSIGN_OR_RETURN(size_t n, source_->Read(buffer_.get() + end_, want));
    if (n == 0) {
      eof_ = true;
      break;
    }
    end_ += n;
    added += n;
    bytes_read_ += n;
  }
  std::memset(buffer_.get() + end_, 0, kPadding);
  return Status::Ok();
}

}  // namespace sluice::io::internal
