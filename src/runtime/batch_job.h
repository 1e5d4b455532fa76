#pragma once
// `sluice run`: reads a whole input, processes it batch by batch and writes
// decisions, dead letters and a summary. Every record read is written or
// rejected: records_read == records_written + records_rejected, always.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "sluice/status.h"

namespace sluice::runtime {

struct RunOptions {
  std::string input = "-";
  std::string output = "-";
  std::string input_format;   // "" = from the pipeline, else the extension
  std::string output_format;  // "" = from the extension, else the input's
  std::string dead_letter;    // "" = OUTPUT.rejects.jsonl (or sluice.rejects.jsonl for stdout)
  std::string summary_file;   // "" = none
  std::string audit;          // "" = none; else one JSON line per decision (runtime/audit_log.h)
  int64_t max_errors = -1;    // stop when more records than this are rejected; -1 = no limit
  size_t batch_size = 1024;
  bool progress = false;  // progress lines on stderr
  bool stats = false;     // the summary reports the windowed-feature state
  // Writes something other than the pipeline's output (`sluice features`):
  // each processed batch is turned into a batch of `layout` by `reshape`,
  // which appends the rows to write, and that batch is written with
  // `columns`. Rows not appended count as skipped.
  struct Reshape {
    const BatchLayout* layout = nullptr;
    std::vector<io::OutputColumn> columns;
    std::function<void(const Batch& processed, Batch* out)> rows;
  };
  std::optional<Reshape> reshape;
  // Called with every processed batch, before it is written (backtests).
  std::function<void(const Batch&)> observe;
};

struct RunSummary {
  std::string command = "run";  // run, stream, features
  std::string pipeline;
  std::string input, output, dead_letter, audit;
  uint64_t records_read = 0;
  uint64_t records_written = 0;
  uint64_t records_rejected = 0;
  uint64_t rejected_on_input = 0;     // could not be decoded
  uint64_t rejected_in_pipeline = 0;  // record errors while evaluating
  double seconds = 0;
  double cpu_seconds = 0;
  bool stopped_at_max_errors = false;
  bool started = false;                                   // the input and output were opened
  std::vector<std::pair<std::string, uint64_t>> actions;  // in action order
  std::vector<std::pair<std::string, uint64_t>> reasons;  // most frequent first
  // Windowed pipelines: whether the input had to be sorted by event time,
  // how many records came earlier in time than a record before them, and
  // the feature state at the end.
  bool sorted_input = false;
  // `sluice stream`: events older than the watermark, and where they went.
  uint64_t records_late = 0;
  std::string late_output;
  uint64_t records_held = 0;     // waiting in the reorder buffer, saved in the checkpoint
  bool resumed = false;          // continued from a checkpoint
  uint64_t records_skipped = 0;  // processed but not written (`sluice features`)
  // CPU seconds in each stage of the engine (reading and writing excluded).
  double features_cpu_seconds = 0, models_cpu_seconds = 0, decisions_cpu_seconds = 0;
  uint64_t records_out_of_order = 0;
  std::optional<features::FeatureStats> features;
};

// Runs `engine` over the input. A non-ok result means the run could not
// start or the input/output failed as a whole; `summary` is filled as far
// as the run got either way.
Status RunBatch(const Engine& engine, const RunOptions& options, RunSummary* summary);

// Human-readable summary (stderr) and JSON (--summary).
std::string FormatSummaryText(const RunSummary& s, bool show_stats = false);
std::string FormatSummaryJson(const RunSummary& s, const Status& status);

}  // namespace sluice::runtime
