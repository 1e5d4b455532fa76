#pragma once
// What `sluice serve --state-dir DIR` keeps on disk so that a restart goes
// on with the windowed state of the last run (docs/serve.md, "Durability"):
//
//   DIR/snapshot  the whole feature state, the events decided so far and
//                 the newest event time, written atomically (periodically,
//                 on POST /admin/snapshot, after a reload and on shutdown);
//   DIR/wal       with --wal: every event decided since the snapshot, synced
//                 to disk before its answer is sent. A restart loads the
//                 snapshot and decides the logged events again, so kill -9
//                 loses no answered event.
//
// WAL format: records of [u32 payload length][u64 FNV-1a of the payload]
// [payload]. The first payload is a header naming the input fields and
// their types; each later one is an event: its sequence number (the audit
// record number) and its input values. A torn or corrupt tail (a crash in
// the middle of a write) is cut off when the log is opened.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/record_io.h"
#include "sluice/status.h"
#include "types/batch.h"

namespace sluice::server {

struct ServeSnapshot {
  std::string pipeline_hash;        // of the pipeline that wrote it (for messages)
  uint64_t accepted = 0;            // events decided up to the snapshot
  int64_t newest_time = INT64_MIN;  // the newest event time processed
  std::string feature_state;        // features::FeatureState::Save(), or "" without windows
};

Status WriteServeSnapshot(const std::string& dir, const ServeSnapshot& s);
// Reads dir/snapshot; *found is false when there is none.
Status ReadServeSnapshot(const std::string& dir, ServeSnapshot* s, bool* found);

class WriteAheadLog {
 public:
  // Opens dir/wal for `fields` (field i in column i of `layout`), creating
  // it if needed. The events it holds come back in *recovered (rows of
  // `layout`, origin.record = sequence number); a torn tail is cut off and
  // said in *note. A log written for other input fields is refused.
  static Result<std::unique_ptr<WriteAheadLog>> Open(const std::string& dir,
                                                     const std::vector<io::SourceField>& fields,
                                                     const BatchLayout& layout,
                                                     std::unique_ptr<Batch>* recovered,
                                                     std::string* note);
  ~WriteAheadLog();
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  // Buffers the input values (columns [0, fields)) of every row of `batch`,
  // numbered by origin.record.
  void Append(const Batch& batch);
  // Writes what is buffered and waits until it is on disk (fdatasync).
  Status Sync();
  // Empties the log (its events are in a snapshot now) and starts it again
  // for `fields`.
  Status Reset(const std::vector<io::SourceField>& fields);

 private:
  WriteAheadLog() = default;
  std::string path_;
  int fd_ = -1;
  size_t num_fields_ = 0;
  std::string buffer_;
};

// For an audit log that a restarted service appends to: cuts off a torn
// last line and returns the record number of the last whole one (0 if the
// file is missing or empty).
Result<uint64_t> RepairAuditTail(const std::string& path);

}  // namespace sluice::server
