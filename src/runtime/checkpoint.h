#pragma once
// Checkpoints of `sluice stream --checkpoint DIR`: everything needed to
// carry on after a crash as if nothing had happened.
//
// A checkpoint holds the input position (after the last record taken), the
// length of every output file at that moment (each synced to disk first),
// the run's counters, the events waiting in the reorder buffer and the
// feature state. It is written to DIR/checkpoint.tmp, synced, and renamed
// over DIR/checkpoint, so DIR/checkpoint is always one whole checkpoint.
// Resuming truncates the outputs to the recorded lengths (dropping what was
// written after the checkpoint) and reads the input again from the recorded
// position: the final output is byte for byte that of an uninterrupted run.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/record_io.h"
#include "sluice/status.h"

namespace sluice::runtime {

// An item waiting in the reorder buffer: an event (its fields) or a notice
// (a rejection or late event, with its field and reason), with its key.
struct HeldRecord {
  uint8_t kind = 0;  // 0 event, 1 rejected on input, 2 late
  int64_t key_time = 0;
  uint64_t arrival = 0;
  uint64_t record = 0, line = 0;
  std::string field, reason;  // notices
  std::string raw;
  std::vector<uint8_t> valid;        // per source field
  std::vector<uint64_t> words;       // per source field: numbers, bool, enum index
  std::vector<std::string> strings;  // per source field: string values
};

struct Checkpoint {
  std::string pipeline_hash;
  std::string input;
  io::RecordSource::Position position;
  // Output lengths in bytes; -1: the file had not been created.
  int64_t output_bytes = 0;
  int64_t dead_letter_bytes = -1;
  int64_t late_bytes = -1;
  int64_t audit_bytes = -1;
  // Counters of the run so far.
  uint64_t records_written = 0;
  uint64_t rejected_on_input = 0;
  uint64_t rejected_in_pipeline = 0;
  uint64_t records_late = 0;
  std::vector<std::pair<std::string, uint64_t>> actions;
  std::vector<std::pair<std::string, uint64_t>> reasons;
  // Reorder buffer.
  int64_t max_time = INT64_MIN;
  uint64_t next_arrival = 0;
  std::vector<HeldRecord> held;
  std::string feature_state;  // features::FeatureState::Save()
  uint64_t sequence = 0;      // checkpoints written by this and earlier runs
};

// Writes `bytes` to dir/name through dir/name.tmp: written, synced, renamed
// over dir/name and the folder synced, so that dir/name is always whole
// (creating dir if needed).
Status WriteFileAtomically(const std::string& dir, const std::string& name,
                           const std::string& bytes);

// Appends the FNV-1a 64 checksum of `bytes` to it (for ReadChecksummedFile).
void AppendChecksum(std::string* bytes);
// Reads `path`, written as a body followed by its checksum, into *body; sets
// *found to false when there is no such file. A short file or a checksum
// mismatch fails with "KIND PATH is truncated|corrupt ...; REMEDY".
Status ReadChecksummedFile(const std::string& path, const std::string& kind,
                           const std::string& remedy, std::string* body, bool* found);

// Writes `c` to dir/checkpoint atomically (creating dir if needed).
Status WriteCheckpoint(const std::string& dir, const Checkpoint& c);
// Reads dir/checkpoint; returns false in *found when there is none.
Status ReadCheckpoint(const std::string& dir, Checkpoint* c, bool* found);

}  // namespace sluice::runtime
