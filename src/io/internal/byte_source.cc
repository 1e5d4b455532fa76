#include "io/internal/byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sluice::io::internal {
namespace {

class FileByteSource final : public ByteSource {
 public:
  FileByteSource(int fd, std::string path, bool owned, bool follow, const std::atomic<bool>* stop)
      : fd_(fd), path_(std::move(path)), owned_(owned), follow_(follow), stop_(stop) {}
  ~FileByteSource() override {
    if (owned_) ::close(fd_);
  }
  Result<size_t> Read(char* out, size_t n) override {
    for (;;) {
      if (stopped()) return size_t{0};
      ssize_t r = ::read(fd_, out, n);
      if (r > 0) return static_cast<size_t>(r);
      if (r == 0) {
        if (!follow_) return size_t{0};
        // --follow: the writer may append more; poll until stopped.
        ::usleep(50 * 1000);
        continue;
      }
      if (errno == EINTR) continue;
      return IoError("cannot read " + path_ + ": " + std::strerror(errno));
    }
  }

  Status Seek(uint64_t offset) override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      return InvalidArgument(path_ + " is not a regular file: it cannot be resumed at a position");
    }
    if (static_cast<uint64_t>(st.st_size) < offset) {
      return InvalidInput(path_ + " is shorter (" + std::to_string(st.st_size) +
                          " bytes) than the checkpoint's input position (" +
                          std::to_string(offset) + "): it is not the same input");
    }
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
      return IoError("cannot seek in " + path_ + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }

 private:
  bool stopped() const { return stop_ != nullptr && stop_->load(std::memory_order_relaxed); }
  int fd_;
  std::string path_;
  bool owned_;
  bool follow_;
  const std::atomic<bool>* stop_;
};

// "tcp://HOST:PORT": listens, accepts one connection, and reads it to its end.
Result<int> AcceptOne(const std::string& address, const std::atomic<bool>* stop) {
  const std::string rest = address.substr(6);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("expected tcp://HOST:PORT, found " + address);
  }
  const std::string host = rest.substr(0, colon);
  const std::string port = rest.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return InvalidArgument("cannot resolve " + address + ": " + ::gai_strerror(rc));
  }
  int listener = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  int one = 1;
  if (listener >= 0) ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listener < 0 || ::bind(listener, found->ai_addr, found->ai_addrlen) != 0 ||
      ::listen(listener, 1) != 0) {
    const std::string why = std::strerror(errno);
    ::freeaddrinfo(found);
    if (listener >= 0) ::close(listener);
    return IoError("cannot listen on " + address + ": " + why);
  }
  ::freeaddrinfo(found);
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      ::close(listener);
      return fd;
    }
    if (errno == EINTR && !(stop != nullptr && stop->load())) continue;
    const std::string why = errno == EINTR ? "stopped" : std::strerror(errno);
    ::close(listener);
    return IoError("no connection on " + address + ": " + why);
  }
}

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

Result<std::unique_ptr<ByteSource>> OpenFileByteSource(const std::string& path, bool follow,
                                                       const std::atomic<bool>* stop) {
  if (path == "-") {
    return std::unique_ptr<ByteSource>(
        new FileByteSource(STDIN_FILENO, "stdin", false, false, stop));
  }
  if (path.rfind("tcp://", 0) == 0) {
    SLUICE_ASSIGN_OR_RETURN(int fd, AcceptOne(path, stop));
    return std::unique_ptr<ByteSource>(new FileByteSource(fd, path, true, false, stop));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
  return std::unique_ptr<ByteSource>(new FileByteSource(fd, path, true, follow, stop));
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

Status ChunkReader::SeekTo(uint64_t offset) {
  SLUICE_RETURN_IF_ERROR(source_->Seek(offset));
  begin_ = end_ = 0;
  eof_ = false;
  bytes_read_ = offset;
  return Status::Ok();
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
