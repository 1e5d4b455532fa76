#include "server/durable_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/binary_io.h"
#include "common/fnv.h"
#include "runtime/checkpoint.h"

namespace sluice::server {

namespace {

constexpr uint32_t kSnapshotMagic = 0x534e5653;  // "SVNS"
constexpr uint32_t kSnapshotVersion = 1;
constexpr std::string_view kWalHeader = "sluice write-ahead log 1\n";
constexpr size_t kMaxRecord = size_t{1} << 30;

std::string Errno() {
  return std::strerror(errno);
}

Status WriteAll(int fd, const std::string& path, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot write " + path + ": " + Errno());
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

void Frame(std::string_view payload, std::string* out) {
  const uint32_t size = static_cast<uint32_t>(payload.size());
  const uint64_t sum = Fnv1a64(payload);
  out->append(reinterpret_cast<const char*>(&size), sizeof size);
  out->append(reinterpret_cast<const char*>(&sum), sizeof sum);
  out->append(payload);
}

std::string Header(const std::vector<io::SourceField>& fields) {
  std::string h(kWalHeader);
  for (const auto& f : fields) h += f.name + " " + TypeName(f.type) + "\n";
  return h;
}

template <typename T>
void PutRaw(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Appends the encoding of row `row` of `batch`, columns [0, n).
void EncodeRow(const Batch& batch, size_t row, size_t n, std::string* out) {
  PutRaw<uint64_t>(out, batch.origin(row).record);
  for (size_t c = 0; c < n; ++c) {
    const Column& col = batch.column(static_cast<int>(c));
    const bool valid = col.is_valid(row);
    PutRaw<uint8_t>(out, valid ? 1 : 0);
    if (!valid) continue;
    switch (col.type().kind) {
      case TypeKind::kString: {
        const std::string_view s = col.data<std::string_view>()[row];
        PutRaw<uint32_t>(out, static_cast<uint32_t>(s.size()));
        out->append(s);
        break;
      }
      case TypeKind::kBool:
        PutRaw<uint8_t>(out, col.data<uint8_t>()[row]);
        break;
      case TypeKind::kEnum:
        PutRaw<int32_t>(out, col.data<int32_t>()[row]);
        break;
      default:
        PutRaw<uint64_t>(out, col.data<uint64_t>()[row]);
        break;
    }
  }
}

// Decodes one event payload into a new row of `batch`; false if malformed.
bool DecodeRow(std::string_view p, size_t n, Batch* batch) {
  size_t at = 0;
  auto take = [&](void* dst, size_t size) {
    if (p.size() - at < size) return false;
    std::memcpy(dst, p.data() + at, size);
    at += size;
    return true;
  };
  uint64_t seq = 0;
  if (!take(&seq, sizeof seq) || seq == 0) return false;
  const size_t row = batch->AppendRow();
  batch->origin(row) = {seq, 0, {}};
  for (size_t c = 0; c < n; ++c) {
    Column& col = batch->column(static_cast<int>(c));
    uint8_t valid = 0;
    if (!take(&valid, 1) || valid > 1) return false;
    col.valid()[row] = valid;
    if (valid == 0) continue;
    switch (col.type().kind) {
      case TypeKind::kString: {
        uint32_t size = 0;
        if (!take(&size, sizeof size) || p.size() - at < size) return false;
        col.data<std::string_view>()[row] = batch->arena().Copy(p.substr(at, size));
        at += size;
        break;
      }
      case TypeKind::kBool: {
        uint8_t b = 0;
        if (!take(&b, 1) || b > 1) return false;
        col.data<uint8_t>()[row] = b;
        break;
      }
      case TypeKind::kEnum: {
        int32_t e = 0;
        if (!take(&e, sizeof e) || e < 0 || !col.type().domain ||
            static_cast<size_t>(e) >= col.type().domain->size()) {
          return false;
        }
        col.data<int32_t>()[row] = e;
        break;
      }
      default: {
        uint64_t w = 0;
        if (!take(&w, sizeof w)) return false;
        col.data<uint64_t>()[row] = w;
        break;
      }
    }
  }
  return at == p.size();
}

}  // namespace

Status WriteServeSnapshot(const std::string& dir, const ServeSnapshot& s) {
  StateWriter w;
  w.Put(kSnapshotMagic);
  w.Put(kSnapshotVersion);
  w.PutString(s.pipeline_hash);
  w.Put(s.accepted);
  w.Put(s.newest_time);
  w.PutString(s.feature_state);
  runtime::AppendChecksum(&w.bytes());
  return runtime::WriteFileAtomically(dir, "snapshot", w.bytes());
}

Status ReadServeSnapshot(const std::string& dir, ServeSnapshot* s, bool* found) {
  const std::string path = dir + "/snapshot";
  const std::string remedy = "move it away to start with empty windows";
  auto corrupt = [&](const std::string& what) {
    return InvalidInput("snapshot " + path + " is " + what + "; " + remedy);
  };
  std::string body;
  SLUICE_RETURN_IF_ERROR(runtime::ReadChecksummedFile(path, "snapshot", remedy, &body, found));
  if (!*found) return Status::Ok();
  *found = false;
  StateReader r(body);
  uint32_t magic = 0, version = 0;
  if (!r.Get(&magic) || magic != kSnapshotMagic) return corrupt("not a sluice serve snapshot");
  if (!r.Get(&version) || version != kSnapshotVersion) {
    return corrupt("of version " + std::to_string(version) + ", which this sluice cannot read");
  }
  if (!r.GetString(&s->pipeline_hash) || !r.Get(&s->accepted) || !r.Get(&s->newest_time) ||
      !r.GetString(&s->feature_state) || !r.at_end()) {
    return corrupt("truncated or corrupt");
  }
  *found = true;
  return Status::Ok();
}

Result<std::unique_ptr<WriteAheadLog>> WriteAheadLog::Open(
    const std::string& dir, const std::vector<io::SourceField>& fields, const BatchLayout& layout,
    std::unique_ptr<Batch>* recovered, std::string* note) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create folder " + dir + ": " + ec.message());
  std::unique_ptr<WriteAheadLog> wal(new WriteAheadLog());
  wal->path_ = dir + "/wal";
  wal->num_fields_ = fields.size();
  wal->fd_ = ::open(wal->path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (wal->fd_ < 0) return IoError("cannot open " + wal->path_ + ": " + Errno());

  // Read the whole log back.
  std::string bytes;
  {
    std::ifstream in(wal->path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  }
  std::vector<std::string_view> payloads;
  size_t at = 0;
  while (bytes.size() - at >= 12) {
    uint32_t size = 0;
    uint64_t sum = 0;
    std::memcpy(&size, bytes.data() + at, 4);
    std::memcpy(&sum, bytes.data() + at + 4, 8);
    if (size > kMaxRecord || bytes.size() - at - 12 < size) break;
    const std::string_view payload(bytes.data() + at + 12, size);
    if (Fnv1a64(payload) != sum) break;
    payloads.push_back(payload);
    at += 12 + size;
  }
  const std::string header = Header(fields);
  if (!payloads.empty() && payloads[0] != header) {
    if (payloads[0].substr(0, kWalHeader.size()) != kWalHeader) {
      return InvalidInput(wal->path_ + " is not a sluice write-ahead log");
    }
    return InvalidInput(wal->path_ + " was written for other input fields than this pipeline's:\n" +
                        std::string(payloads[0].substr(kWalHeader.size())) +
                        "start the pipeline that wrote it to take its events into a snapshot, or "
                        "move it away (its events are then lost)");
  }
  size_t events = payloads.empty() ? 0 : payloads.size() - 1;
  auto batch = std::make_unique<Batch>(layout, std::max<size_t>(1, events));
  for (size_t i = 1; i < payloads.size(); ++i) {
    if (!DecodeRow(payloads[i], fields.size(), batch.get())) {
      return InvalidInput(wal->path_ + ": event record " + std::to_string(i) +
                          " has a valid checksum but cannot be read; move the log away (its "
                          "events are then lost)");
    }
  }
  if (at < bytes.size()) {
    *note = "cut off a torn tail of " + std::to_string(bytes.size() - at) + " bytes from " +
            wal->path_ + " (a write the crash interrupted; it was never answered)";
  }
  if (payloads.empty()) {
    // New, or only a torn header: start it.
    SLUICE_RETURN_IF_ERROR(wal->Reset(fields));
  } else {
    if (::ftruncate(wal->fd_, static_cast<off_t>(at)) != 0) {
      return IoError("cannot truncate " + wal->path_ + ": " + Errno());
    }
    if (::lseek(wal->fd_, static_cast<off_t>(at), SEEK_SET) < 0) {
      return IoError("cannot seek in " + wal->path_ + ": " + Errno());
    }
  }
  *recovered = std::move(batch);
  return wal;
}

WriteAheadLog::~WriteAheadLog() {
  if (fd_ >= 0) ::close(fd_);
}

void WriteAheadLog::Append(const Batch& batch) {
  std::string payload;
  for (size_t row = 0; row < batch.size(); ++row) {
    payload.clear();
    EncodeRow(batch, row, num_fields_, &payload);
    Frame(payload, &buffer_);
  }
}

Status WriteAheadLog::Sync() {
  if (!buffer_.empty()) {
    SLUICE_RETURN_IF_ERROR(WriteAll(fd_, path_, buffer_));
    buffer_.clear();
  }
  if (::fdatasync(fd_) != 0) return IoError("cannot sync " + path_ + ": " + Errno());
  return Status::Ok();
}

Status WriteAheadLog::Reset(const std::vector<io::SourceField>& fields) {
  buffer_.clear();
  num_fields_ = fields.size();
  if (::ftruncate(fd_, 0) != 0) return IoError("cannot truncate " + path_ + ": " + Errno());
  if (::lseek(fd_, 0, SEEK_SET) < 0) return IoError("cannot seek in " + path_ + ": " + Errno());
  std::string framed;
  Frame(Header(fields), &framed);
  SLUICE_RETURN_IF_ERROR(WriteAll(fd_, path_, framed));
  if (::fdatasync(fd_) != 0) return IoError("cannot sync " + path_ + ": " + Errno());
  return Status::Ok();
}

Result<uint64_t> RepairAuditTail(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return uint64_t{0};
    return IoError("cannot open " + path + ": " + Errno());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return IoError("cannot read " + path + ": " + Errno());
  }
  // Read backwards until the last two line ends are found.
  off_t end = st.st_size;
  std::string tail;
  const off_t kChunk = 1 << 16;
  off_t from = end;
  size_t newlines = 0;
  while (from > 0 && newlines < 2) {
    const off_t n = std::min(kChunk, from);
    from -= n;
    std::string chunk(static_cast<size_t>(n), '\0');
    if (::pread(fd, chunk.data(), static_cast<size_t>(n), from) != n) {
      ::close(fd);
      return IoError("cannot read " + path + ": " + Errno());
    }
    tail.insert(0, chunk);
    newlines = 0;
    for (char c : tail) newlines += c == '\n';
  }
  // Cut a torn last line.
  const size_t last_nl = tail.rfind('\n');
  const size_t keep = last_nl == std::string::npos ? 0 : last_nl + 1;
  if (keep < tail.size()) {
    if (::ftruncate(fd, from + static_cast<off_t>(keep)) != 0) {
      ::close(fd);
      return IoError("cannot truncate " + path + ": " + Errno());
    }
  }
  ::close(fd);
  if (keep == 0) return uint64_t{0};
  const std::string_view kept(tail.data(), keep);
  size_t start = 0;
  if (keep >= 2) {
    const size_t p = kept.rfind('\n', keep - 2);
    if (p != std::string_view::npos) start = p + 1;
  }
  const std::string line(kept.substr(start));
  const size_t at = line.find("\"record\":");
  if (at == std::string::npos) {
    return InvalidInput(path + " does not end with an audit record");
  }
  return static_cast<uint64_t>(std::strtoull(line.c_str() + at + 9, nullptr, 10));
}

}  // namespace sluice::server
