#pragma once
// `sluice backtest PIPELINE --input HISTORY --labels LABELS --report DIR`:
// runs the pipeline over history exactly as `sluice run` does, evaluates the
// champion and the challenger on every record (whatever the split), joins
// the outcome labels by event id, and writes:
//
//   DIR/decisions.csv   the output of the run (the decision of each record)
//   DIR/metrics.json    per policy: action rates, bad rate per action, the
//                       confusion of actions against labels, reason-code
//                       frequencies, decisions over time; per model: AUC,
//                       Gini, KS and their curves; champion against
//                       challenger: the swap matrix, swap-in and swap-out
//   DIR/report.html     the same as charts, one self-contained page
//
// The schema of metrics.json is in docs/backtest.md.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/batch_job.h"
#include "runtime/engine.h"
#include "sluice/status.h"

namespace sluice::backtest {

struct BacktestOptions {
  runtime::RunOptions run;  // input, formats, batch size, dead letters
  std::string labels;       // CSV with the event id and the outcome
  std::string label_key;    // the labels' id column ("" = the pipeline's id field)
  std::string label_column;  // the outcome column ("" = the only other column)
  // Outcome values that mean bad; empty: 1/true/yes/bad (and any non-zero
  // number) are bad, 0/false/no/good are good, anything else is an error.
  std::vector<std::string> bad_values;
  // Actions that accept (for swap-in and swap-out); empty: the champion's
  // default action.
  std::vector<std::string> accept;
  std::string report_dir;
};

struct BacktestResult {
  uint64_t labels = 0;      // rows of the labels file
  uint64_t labelled = 0;    // decisions with a label
  uint64_t bad = 0;
  uint64_t unlabelled = 0;  // decisions without a label
  std::string metrics_path, report_path, decisions_path;
};

Status RunBacktest(const runtime::Engine& engine, const BacktestOptions& options,
                   runtime::RunSummary* summary, BacktestResult* result);

}  // namespace sluice::backtest
