#include "runtime/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/binary_io.h"
#include "common/fnv.h"

namespace sluice::runtime {
namespace {

constexpr uint32_t kMagic = 0x4b434c53;  // "SLCK"
constexpr uint32_t kVersion = 2;

void PutCounts(StateWriter& w, const std::vector<std::pair<std::string, uint64_t>>& v) {
  w.Put<uint64_t>(v.size());
  for (const auto& [name, n] : v) {
    w.PutString(name);
    w.Put(n);
  }
}

bool GetCounts(StateReader& r, std::vector<std::pair<std::string, uint64_t>>* v) {
  uint64_t n = 0;
  if (!r.Get(&n) || n > (1u << 24)) return false;
  v->resize(n);
  for (auto& [name, count] : *v) {
    if (!r.GetString(&name) || !r.Get(&count)) return false;
  }
  return true;
}

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("cannot sync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Status WriteCheckpoint(const std::string& dir, const Checkpoint& c) {
  StateWriter w;
  w.Put(kMagic);
  w.Put(kVersion);
  w.PutString(c.pipeline_hash);
  w.PutString(c.input);
  w.Put(c.position.offset);
  w.Put(c.position.line);
  w.Put(c.position.records);
  w.Put(c.output_bytes);
  w.Put(c.dead_letter_bytes);
  w.Put(c.late_bytes);
  w.Put(c.audit_bytes);
  w.Put(c.records_written);
  w.Put(c.rejected_on_input);
  w.Put(c.rejected_in_pipeline);
  w.Put(c.records_late);
  PutCounts(w, c.actions);
  PutCounts(w, c.reasons);
  w.Put(c.max_time);
  w.Put(c.next_arrival);
  w.Put<uint64_t>(c.held.size());
  for (const HeldRecord& h : c.held) {
    w.Put(h.kind);
    w.Put(h.key_time);
    w.Put(h.arrival);
    w.Put(h.record);
    w.Put(h.line);
    w.PutString(h.field);
    w.PutString(h.reason);
    w.PutString(h.raw);
    w.PutVector(h.valid);
    w.PutVector(h.words);
    w.Put<uint64_t>(h.strings.size());
    for (const auto& s : h.strings) w.PutString(s);
  }
  w.PutString(c.feature_state);
  w.Put(c.sequence);
  AppendChecksum(&w.bytes());

  return WriteFileAtomically(dir, "checkpoint", w.bytes());
}

Status WriteFileAtomically(const std::string& dir, const std::string& name,
                           const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create folder " + dir + ": " + ec.message());
  const std::string tmp = dir + "/" + name + ".tmp";
  const std::string final_path = dir + "/" + name;
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot write " + tmp + ": " + std::strerror(errno));
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        return IoError("cannot write " + tmp + ": " + why);
      }
      done += static_cast<size_t>(n);
    }
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return IoError("cannot sync " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return IoError("cannot rename " + tmp + " to " + final_path + ": " + std::strerror(errno));
  }
  return SyncPath(dir, O_RDONLY | O_DIRECTORY);
}

void AppendChecksum(std::string* bytes) {
  const uint64_t sum = Fnv1a64(*bytes);
  bytes->append(reinterpret_cast<const char*>(&sum), sizeof sum);
}

Status ReadChecksummedFile(const std::string& path, const std::string& kind,
                           const std::string& remedy, std::string* body, bool* found) {
  *found = false;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return Status::Ok();
    return IoError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  *body = ss.str();
  auto bad = [&](const std::string& what) {
    return InvalidInput(kind + " " + path + " is " + what + "; " + remedy);
  };
  if (body->size() < 16) return bad("truncated");
  uint64_t sum = 0;
  std::memcpy(&sum, body->data() + body->size() - 8, 8);
  body->resize(body->size() - 8);
  if (Fnv1a64(*body) != sum) return bad("corrupt (checksum mismatch)");
  *found = true;
  return Status::Ok();
}

Status ReadCheckpoint(const std::string& dir, Checkpoint* c, bool* found) {
  const std::string path = dir + "/checkpoint";
  auto corrupt = [&](const std::string& what) {
    return InvalidInput("checkpoint " + path + " is " + what +
                        "; remove the folder to start the stream from the beginning");
  };
  std::string body;
  SLUICE_RETURN_IF_ERROR(ReadChecksummedFile(
      path, "checkpoint", "remove the folder to start the stream from the beginning", &body,
      found));
  if (!*found) return Status::Ok();
  *found = false;
  StateReader r(body);
  uint32_t magic = 0, version = 0;
  if (!r.Get(&magic) || magic != kMagic) return corrupt("not a sluice checkpoint");
  if (!r.Get(&version) || version != kVersion) {
    return corrupt("of version " + std::to_string(version) + ", which this sluice cannot read");
  }
  bool ok = r.GetString(&c->pipeline_hash) && r.GetString(&c->input) &&
            r.Get(&c->position.offset) && r.Get(&c->position.line) && r.Get(&c->position.records) &&
            r.Get(&c->output_bytes) && r.Get(&c->dead_letter_bytes) && r.Get(&c->late_bytes) &&
            r.Get(&c->audit_bytes) && r.Get(&c->records_written) && r.Get(&c->rejected_on_input) &&
            r.Get(&c->rejected_in_pipeline) && r.Get(&c->records_late) &&
            GetCounts(r, &c->actions) && GetCounts(r, &c->reasons) && r.Get(&c->max_time) &&
            r.Get(&c->next_arrival);
  uint64_t held = 0;
  ok = ok && r.Get(&held) && held <= body.size();
  for (uint64_t i = 0; ok && i < held; ++i) {
    HeldRecord h;
    uint64_t n = 0;
    ok = r.Get(&h.kind) && h.kind <= 2 && r.Get(&h.key_time) && r.Get(&h.arrival) &&
         r.Get(&h.record) && r.Get(&h.line) && r.GetString(&h.field) && r.GetString(&h.reason) &&
         r.GetString(&h.raw) && r.GetVector(&h.valid) && r.GetVector(&h.words) && r.Get(&n) &&
         n <= body.size();
    for (uint64_t k = 0; ok && k < n; ++k) {
      h.strings.emplace_back();
      ok = r.GetString(&h.strings.back());
    }
    c->held.push_back(std::move(h));
  }
  ok = ok && r.GetString(&c->feature_state) && r.Get(&c->sequence) && r.at_end();
  if (!ok) return corrupt("truncated or corrupt");
  *found = true;
  return Status::Ok();
}

}  // namespace sluice::runtime
