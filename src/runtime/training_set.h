#pragma once
// `sluice features`: a training set. The pipeline runs over the events in
// canonical order exactly as in `sluice run` (every event updates windowed
// state, labelled or not), and for each event with a label its features are
// written as they were when that event was processed, joined with the label
// by the event id: point-in-time correct by construction.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/batch_job.h"
#include "runtime/engine.h"
#include "sluice/status.h"

namespace sluice::runtime {

struct TrainingSetOptions {
  RunOptions run;      // input, output, formats, dead letters, batch size
  std::string labels;  // a CSV file with a header
  // The labels file's column that holds event ids ("" = the name of the
  // pipeline's id field).
  std::string label_key;
  // Only events with from <= event time < to are written (all are processed).
  std::optional<int64_t> from_ns, to_ns;
};

struct TrainingSetReport {
  uint64_t labels = 0;             // rows of the labels file
  uint64_t labels_unmatched = 0;   // labels whose event id was not in the input
  uint64_t events_unlabelled = 0;  // events processed without a label
  uint64_t events_out_of_range = 0;
  std::vector<std::string> columns;  // the training set's columns
};

Status BuildTrainingSet(const Engine& engine, const TrainingSetOptions& options,
                        RunSummary* summary, TrainingSetReport* report);

}  // namespace sluice::runtime
