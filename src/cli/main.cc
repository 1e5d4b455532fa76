// The sluice command line. It parses arguments, calls the engine and maps
// results to exit codes; it holds no engine logic.
//
// Exit codes: 0 success; 1 the pipeline has errors; 2 bad command line;
// 3 the input or output failed as a whole; 4 stopped by --max-errors.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <tuple>

#include "backtest/backtest.h"
#include "pipeline/spec.h"
#include "runtime/batch_job.h"
#include "runtime/engine.h"
#include "runtime/replay.h"
#include "runtime/stream_job.h"
#include "runtime/training_set.h"
#include "server/serve.h"
#include "types/timestamp.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitPipeline = 1;
constexpr int kExitUsage = 2;
constexpr int kExitIo = 3;
constexpr int kExitMaxErrors = 4;

// Loads and compiles a pipeline, printing diagnostics to stderr.
std::shared_ptr<const sluice::runtime::Engine> LoadEngine(const std::string& path) {
  std::vector<sluice::Diagnostic> diags;
  auto spec = sluice::pipeline::LoadPipelineFile(path, &diags);
  std::shared_ptr<const sluice::runtime::Engine> engine;
  if (spec.ok()) engine = sluice::runtime::Engine::Compile(std::move(spec).value(), &diags);
  if (!diags.empty()) {
    std::stable_sort(diags.begin(), diags.end(), [](const auto& a, const auto& b) {
      return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
    std::fputs(sluice::FormatDiagnostics(diags).c_str(), stderr);
    std::fprintf(stderr, "%zu error%s in %s\n", diags.size(), diags.size() == 1 ? "" : "s",
                 path.c_str());
    return nullptr;
  }
  return engine;
}

int Check(const std::string& path) {
  auto engine = LoadEngine(path);
  if (!engine) return kExitPipeline;
  const auto& spec = engine->spec();
  size_t rules = 0;
  if (engine->decision()) {
    for (const auto& p : engine->decision()->policies()) rules += p.num_rules();
  }
  std::printf("%s: pipeline %s%s%s is valid: %zu fields, %zu features, %zu rule%s\n", path.c_str(),
              spec.name.c_str(), spec.version.empty() ? "" : " version ", spec.version.c_str(),
              spec.fields.size(), spec.features.size(), rules, rules == 1 ? "" : "s");
  return kExitOk;
}

// Prints a failed run's error and maps it to an exit code.
int ExitFor(const sluice::Status& status) {
  if (status.ok()) return kExitOk;
  std::fprintf(stderr, "sluice: %s\n", status.message().c_str());
  switch (status.code()) {
    case sluice::StatusCode::kLimitExceeded:
      return kExitMaxErrors;
    case sluice::StatusCode::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitIo;
  }
}

int Run(const std::string& path, const sluice::runtime::RunOptions& options, bool quiet) {
  auto engine = LoadEngine(path);
  if (!engine) return kExitPipeline;
  sluice::runtime::RunSummary summary;
  sluice::Status status = sluice::runtime::RunBatch(*engine, options, &summary);
  if (!quiet && summary.started) {
    std::fputs(sluice::runtime::FormatSummaryText(summary, options.stats).c_str(), stderr);
  }
  if (!options.summary_file.empty()) {
    std::ofstream out(options.summary_file, std::ios::binary);
    out << sluice::runtime::FormatSummaryJson(summary, status);
    if (!out) {
      std::fprintf(stderr, "sluice: cannot write the summary to %s\n",
                   options.summary_file.c_str());
      return kExitIo;
    }
  }
  return ExitFor(status);
}

std::atomic<bool> g_stop{false};

void OnStopSignal(int) {
  g_stop.store(true);
}

// SIGINT and SIGTERM end a stream cleanly: reading stops (a blocked read is
// interrupted: no SA_RESTART), held events are released, output is flushed
// and the summary printed. A second signal kills as usual.
void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int Stream(const std::string& path, sluice::runtime::StreamOptions options, bool quiet,
           const std::string& summary_file, bool stats) {
  auto engine = LoadEngine(path);
  if (!engine) return kExitPipeline;
  InstallStopHandlers();
  options.stop = &g_stop;
  sluice::runtime::RunSummary summary;
  sluice::Status status = sluice::runtime::RunStream(*engine, options, &summary);
  if (!quiet && summary.started) {
    std::fputs(sluice::runtime::FormatSummaryText(summary, stats).c_str(), stderr);
  }
  if (!summary_file.empty()) {
    std::ofstream out(summary_file, std::ios::binary);
    out << sluice::runtime::FormatSummaryJson(summary, status);
    if (!out) {
      std::fprintf(stderr, "sluice: cannot write the summary to %s\n", summary_file.c_str());
      return kExitIo;
    }
  }
  return ExitFor(status);
}

int Features(const std::string& path, sluice::runtime::TrainingSetOptions options, bool quiet,
             const std::string& from, const std::string& to) {
  for (auto [text, out, flag] :
       {std::tuple{&from, &options.from_ns, "--from"}, std::tuple{&to, &options.to_ns, "--to"}}) {
    if (text->empty()) continue;
    auto ns = sluice::ParseIso8601(*text);
    if (!ns) {
      std::fprintf(stderr,
                   "sluice: %s expects an ISO-8601 time such as 2026-01-01T00:00:00Z, "
                   "found '%s'\n",
                   flag, text->c_str());
      return kExitUsage;
    }
    *out = *ns;
  }
  auto engine = LoadEngine(path);
  if (!engine) return kExitPipeline;
  sluice::runtime::RunSummary summary;
  sluice::runtime::TrainingSetReport report;
  sluice::Status status = sluice::runtime::BuildTrainingSet(*engine, options, &summary, &report);
  if (!quiet && summary.started) {
    std::fputs(sluice::runtime::FormatSummaryText(summary, options.run.stats).c_str(), stderr);
    std::fprintf(stderr,
                 "  training  %llu labelled events written; %llu events without a label, %llu "
                 "outside --from/--to; %llu of %llu labels matched no event\n",
                 static_cast<unsigned long long>(summary.records_written),
                 static_cast<unsigned long long>(report.events_unlabelled),
                 static_cast<unsigned long long>(report.events_out_of_range),
                 static_cast<unsigned long long>(report.labels_unmatched),
                 static_cast<unsigned long long>(report.labels));
  }
  if (!options.run.summary_file.empty()) {
    std::ofstream out(options.run.summary_file, std::ios::binary);
    out << sluice::runtime::FormatSummaryJson(summary, status);
  }
  return ExitFor(status);
}

int Backtest(const std::string& path, sluice::backtest::BacktestOptions options, bool quiet) {
  auto engine = LoadEngine(path);
  if (!engine) return kExitPipeline;
  sluice::runtime::RunSummary summary;
  sluice::backtest::BacktestResult result;
  sluice::Status status = sluice::backtest::RunBacktest(*engine, options, &summary, &result);
  if (!quiet && summary.started) {
    std::fputs(sluice::runtime::FormatSummaryText(summary, false).c_str(), stderr);
  }
  if (status.ok() && !quiet) {
    std::fprintf(stderr,
                 "  backtest  %llu decisions with a label (%llu bad), %llu without; %llu labels\n"
                 "  report    %s\n  metrics   %s\n",
                 static_cast<unsigned long long>(result.labelled),
                 static_cast<unsigned long long>(result.bad),
                 static_cast<unsigned long long>(result.unlabelled),
                 static_cast<unsigned long long>(result.labels), result.report_path.c_str(),
                 result.metrics_path.c_str());
  }
  return ExitFor(status);
}

int Serve(const std::string& path, sluice::server::ServeOptions options) {
  auto engine = LoadEngine(path);
  if (!engine) return kExitPipeline;
  options.pipeline_path = path;
  return ExitFor(sluice::server::Serve(std::move(engine), options));
}

int Replay(const std::string& path, const std::string& audit) {
  auto engine = LoadEngine(path);
  if (!engine) return kExitPipeline;
  sluice::runtime::ReplayReport report;
  sluice::Status status = sluice::runtime::ReplayAudit(*engine, audit, &report);
  if (!status.ok()) return ExitFor(status);
  for (const auto& d : report.differences) {
    std::fprintf(stderr, "record %s differs\n  recorded: %s\n  replayed: %s\n", d.id.c_str(),
                 d.recorded.c_str(), d.replayed.c_str());
  }
  std::fprintf(stderr,
               "replay: %llu audit records, %llu decisions reproduced exactly, %llu differ\n",
               static_cast<unsigned long long>(report.records),
               static_cast<unsigned long long>(report.reproduced),
               static_cast<unsigned long long>(report.differed));
  return report.differed == 0 ? kExitOk : kExitPipeline;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice: typed pipelines of features, models and decisions, in batch and streaming"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");

  std::string pipeline_path;
  auto* check = app.add_subcommand("check", "Type-check a pipeline without reading any data");
  check->add_option("PIPELINE", pipeline_path, "Pipeline file (YAML)")->required();

  sluice::runtime::RunOptions options;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "Run a pipeline over a file of records (batch)");
  run->add_option("PIPELINE", pipeline_path, "Pipeline file (YAML)")->required();
  run->add_option("-i,--input", options.input, "Input file, or - for stdin")->required();
  run->add_option("-o,--output", options.output, "Output file, or - for stdout")->required();
  run->add_option("--input-format", options.input_format, "csv or jsonl (default: extension)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  run->add_option("--output-format", options.output_format, "csv or jsonl (default: extension)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  run->add_option("--dead-letter", options.dead_letter,
                  "Where rejected records go (default: OUTPUT.rejects.jsonl)");
  run->add_option("--max-errors", options.max_errors,
                  "Stop with exit code 4 once more than N records are rejected");
  run->add_option("--summary", options.summary_file, "Also write the run summary as JSON here");
  run->add_option("--audit", options.audit,
                  "Write one JSON audit record per decision here (see docs/audit.md)");
  run->add_option("--batch-size", options.batch_size, "Records per batch (default 1024)")
      ->check(CLI::Range(1, 1 << 20));
  run->add_flag("-q,--quiet", quiet, "No summary and no progress on stderr");
  run->add_flag("--stats", options.stats,
                "Also report the windowed-feature state: live keys, events held, memory per key");

  sluice::runtime::StreamOptions stream_options;
  std::string stream_summary;
  bool stream_stats = false;
  std::string lateness_text;
  auto* stream = app.add_subcommand(
      "stream",
      "Run a pipeline over an unbounded stream of records, writing each result as soon "
      "as the watermark allows");
  stream->add_option("PIPELINE", pipeline_path, "Pipeline file (YAML)")->required();
  stream->add_option("-i,--input", stream_options.input,
                     "- for stdin (default), a file, or tcp://HOST:PORT to listen for one "
                     "connection");
  stream->add_option("-o,--output", stream_options.output,
                     "Output file, or - for stdout (default)");
  stream
      ->add_option("--input-format", stream_options.input_format,
                   "csv or jsonl (default: extension; jsonl for tcp)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  stream
      ->add_option("--output-format", stream_options.output_format,
                   "csv or jsonl (default: extension)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  stream->add_flag("-f,--follow", stream_options.follow,
                   "At the end of the input file, wait for more to be appended");
  stream->add_option("--lateness", lateness_text,
                     "How long to wait for out-of-order events, e.g. 5s (default: the "
                     "pipeline's source.lateness)");
  stream->add_option("--dead-letter", stream_options.dead_letter,
                     "Where rejected records go (default: OUTPUT.rejects.jsonl)");
  stream->add_option("--late-output", stream_options.late_output,
                     "Where late events go (default: the dead-letter file)");
  stream->add_option("--max-errors", stream_options.max_errors,
                     "Stop with exit code 4 once more than N records are rejected");
  stream->add_option("--summary", stream_summary, "Also write the final summary as JSON here");
  stream->add_option("--audit", stream_options.audit,
                     "Write one JSON audit record per decision here (see docs/audit.md)");
  stream
      ->add_option("--batch-size", stream_options.batch_size,
                   "Most records processed at once (default 1024)")
      ->check(CLI::Range(1, 1 << 20));
  stream->add_option("--checkpoint", stream_options.checkpoint_dir,
                     "Folder for crash-safe checkpoints; a restart with the same folder resumes");
  stream
      ->add_option("--checkpoint-every", stream_options.checkpoint_records,
                   "Records between checkpoints (default 100000)")
      ->check(CLI::PositiveNumber);
  stream
      ->add_option("--checkpoint-interval", stream_options.checkpoint_seconds,
                   "Seconds between checkpoints (default 10)")
      ->check(CLI::PositiveNumber);
  stream->add_flag("-q,--quiet", quiet, "No summary on stderr");
  stream->add_flag("--stats", stream_stats, "Also report the windowed-feature state");

  sluice::runtime::TrainingSetOptions training;
  std::string from_text, to_text;
  auto* features =
      app.add_subcommand("features",
                         "Write a training set: each labelled event with its features as they were "
                         "when it was processed, and its label");
  features->add_option("PIPELINE", pipeline_path, "Pipeline file (YAML)")->required();
  features->add_option("-i,--input", training.run.input, "Events file, or - for stdin")->required();
  features->add_option("--labels", training.labels, "Labels: CSV with the event id and labels")
      ->required();
  features->add_option("-o,--output", training.run.output, "Training set file (csv or jsonl)")
      ->required();
  features->add_option("--label-key", training.label_key,
                       "Column of the labels file holding event ids (default: the id field)");
  features->add_option("--from", from_text, "Write only events at or after this time (ISO-8601)");
  features->add_option("--to", to_text, "Write only events before this time (ISO-8601)");
  features->add_option("--input-format", training.run.input_format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  features->add_option("--output-format", training.run.output_format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  features->add_option("--dead-letter", training.run.dead_letter,
                       "Where rejected records go (default: OUTPUT.rejects.jsonl)");
  features->add_option("--summary", training.run.summary_file, "Also write the summary as JSON");
  features->add_option("--batch-size", training.run.batch_size, "Records per batch")
      ->check(CLI::Range(1, 1 << 20));
  features->add_flag("-q,--quiet", quiet, "No summary on stderr");
  features->add_flag("--stats", training.run.stats, "Also report the windowed-feature state");

  sluice::backtest::BacktestOptions backtest_options;
  auto* backtest = app.add_subcommand(
      "backtest",
      "Run the champion and the challenger over labelled history: metrics and an "
      "HTML report");
  backtest->add_option("PIPELINE", pipeline_path, "Pipeline file (YAML)")->required();
  backtest->add_option("-i,--input", backtest_options.run.input, "History: the events")->required();
  backtest->add_option("--labels", backtest_options.labels, "Outcomes: CSV with the event id")
      ->required();
  backtest
      ->add_option("--report", backtest_options.report_dir,
                   "Folder for decisions.csv, metrics.json and report.html")
      ->required();
  backtest->add_option("--label-key", backtest_options.label_key,
                       "Column of the labels file holding event ids (default: the id field)");
  backtest->add_option("--label-column", backtest_options.label_column,
                       "Column of the labels file holding the outcome (default: the only other)");
  backtest->add_option("--bad-value", backtest_options.bad_values,
                       "An outcome value that means bad (repeatable; default 1/true/yes/bad)");
  backtest->add_option("--accept", backtest_options.accept,
                       "An action that accepts, for swap-in/swap-out (repeatable; default: the "
                       "champion's default action)");
  backtest->add_option("--input-format", backtest_options.run.input_format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  backtest->add_option("--batch-size", backtest_options.run.batch_size, "Records per batch")
      ->check(CLI::Range(1, 1 << 20));
  backtest->add_flag("-q,--quiet", quiet, "No summary on stderr");

  sluice::server::ServeOptions serve_options;
  auto* serve = app.add_subcommand(
      "serve",
      "Serve decisions over HTTP/JSON: POST /v1/decide, GET /v1/pipeline, /metrics "
      "(see docs/serve.md)");
  serve->add_option("PIPELINE", pipeline_path, "Pipeline file (YAML)")->required();
  serve->add_option("--listen", serve_options.listen,
                    "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free one)");
  serve->add_option("--token-file", serve_options.token_file,
                    "File holding a bearer token: every endpoint but /healthz and /readyz then "
                    "needs it (admin endpoints are refused without one)");
  serve
      ->add_option("--max-body", serve_options.max_body_bytes,
                   "Largest request body in bytes (default 1048576); larger ones get 413")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  serve
      ->add_option("--timeout-ms", serve_options.timeout_ms,
                   "Longest wait for a decision, per request (default 1000); then 503")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  serve
      ->add_option("--queue", serve_options.queue_events,
                   "Most events waiting for the decision thread (default 4096); when full, 503")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
  serve
      ->add_option("--threads", serve_options.threads,
                   "HTTP event loops: threads that accept, read, decide and answer "
                   "(default 1)")
      ->check(CLI::Range(size_t{1}, size_t{256}));
  serve
      ->add_option("--batch-size", serve_options.batch_size,
                   "Most events decided at once by the decision thread (default 256)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  serve->add_option("--audit", serve_options.audit,
                    "Write one JSON audit record per decided event here (see docs/audit.md)");
  serve->add_option("--state-dir", serve_options.state_dir,
                    "Keep the windowed state in this folder: snapshots, restored on restart "
                    "(see docs/serve.md, Durability)");
  serve
      ->add_option("--snapshot-every", serve_options.snapshot_every_s,
                   "Seconds between snapshots with --state-dir (default 60; 0: only on "
                   "shutdown, reload and POST /admin/snapshot)")
      ->check(CLI::Range(int64_t{0}, int64_t{86400 * 365}));
  serve->add_flag("--wal", serve_options.wal,
                  "With --state-dir: log every decided event to disk before answering, so that "
                  "a crash loses no answered event");
  serve->add_flag("--stamp-time", serve_options.stamp_time,
                  "Events may leave out the event-time field: they get the service's clock "
                  "when they are decided");
  // Test hook, not for users: slows the decision thread down to fill the queue.
  serve->add_option("--test-decision-delay-ms", serve_options.decision_delay_ms)
      ->group("")
      ->check(CLI::Range(int64_t{0}, int64_t{60'000}));

  std::string audit_path;
  auto* replay = app.add_subcommand(
      "replay", "Reproduce decisions from their audit records with the same pipeline version");
  replay->add_option("PIPELINE", pipeline_path, "Pipeline file (YAML)")->required();
  replay->add_option("--audit", audit_path, "Audit file written by --audit")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (check->parsed()) return Check(pipeline_path);
  if (serve->parsed()) return Serve(pipeline_path, serve_options);
  if (replay->parsed()) return Replay(pipeline_path, audit_path);
  if (backtest->parsed()) return Backtest(pipeline_path, backtest_options, quiet);
  if (features->parsed()) {
    training.run.progress = !quiet && isatty(STDERR_FILENO);
    return Features(pipeline_path, training, quiet, from_text, to_text);
  }
  if (stream->parsed()) {
    if (!lateness_text.empty()) {
      auto ns = sluice::expr::ParseDuration(lateness_text);
      if (!ns) {
        std::fprintf(stderr, "sluice: --lateness must be a duration such as 5s, found '%s'\n",
                     lateness_text.c_str());
        return kExitUsage;
      }
      stream_options.lateness_ns = *ns;
    }
    return Stream(pipeline_path, stream_options, quiet, stream_summary, stream_stats);
  }
  if (run->parsed()) {
    options.progress = !quiet && isatty(STDERR_FILENO);
    return Run(pipeline_path, options, quiet);
  }
  return kExitUsage;
}
