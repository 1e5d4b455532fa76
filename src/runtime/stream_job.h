#pragma once
// `sluice stream`: reads an unbounded input (stdin, a file being appended
// to, a TCP connection), puts events in canonical order through a reorder
// buffer (the pipeline's lateness), and writes each result as soon as the
// watermark lets its event through. It runs the same Engine::Process as
// `sluice run`, so for the same events (none late) the output is the same,
// byte for byte.
//
// Every record read is written, rejected or late:
// records_read == records_written + records_rejected + records_late.

#include <atomic>
#include <cstdint>
#include <string>

#include "runtime/batch_job.h"
#include "runtime/engine.h"
#include "sluice/status.h"

namespace sluice::runtime {

struct StreamOptions {
  std::string input = "-";  // "-", a file, or tcp://HOST:PORT
  std::string output = "-";
  std::string input_format;
  std::string audit;  // "" = none; else one JSON line per decision
  std::string output_format;
  std::string dead_letter;   // "" = OUTPUT.rejects.jsonl (sluice.rejects.jsonl for stdout)
  std::string late_output;   // "" = the dead-letter file
  bool follow = false;       // a file: wait for appended data at its end
  int64_t lateness_ns = -1;  // -1 = the pipeline's source.lateness
  size_t batch_size = 1024;
  int64_t max_errors = -1;
  bool progress = false;
  // Set by SIGINT/SIGTERM: stop reading, release what is held, finish.
  // With checkpoints, held events are saved in a last checkpoint instead.
  const std::atomic<bool>* stop = nullptr;
  // Checkpoints (see runtime/checkpoint.h): a folder, and how often.
  std::string checkpoint_dir;
  uint64_t checkpoint_records = 100000;
  double checkpoint_seconds = 10.0;
};

Status RunStream(const Engine& engine, const StreamOptions& options, RunSummary* summary);

}  // namespace sluice::runtime
