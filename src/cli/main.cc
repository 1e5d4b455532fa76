// The sluice command line. It parses arguments, calls the engine and maps
// results to exit codes; it holds no engine logic.
//
// Exit codes: 0 success; 1 the pipeline has errors; 2 bad command line;
// 3 the input or output failed as a whole; 4 stopped by --max-errors.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "pipeline/spec.h"
#include "runtime/batch_job.h"
#include "runtime/engine.h"

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
  const size_t rules = engine->rules() ? engine->rules()->num_rules() : 0;
  std::printf("%s: pipeline %s%s%s is valid: %zu fields, %zu features, %zu rule%s\n", path.c_str(),
              spec.name.c_str(), spec.version.empty() ? "" : " version ", spec.version.c_str(),
              spec.fields.size(), spec.features.size(), rules, rules == 1 ? "" : "s");
  return kExitOk;
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
  if (!status.ok()) {
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
  return kExitOk;
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
  run->add_option("--batch-size", options.batch_size, "Records per batch (default 1024)")
      ->check(CLI::Range(1, 1 << 20));
  run->add_flag("-q,--quiet", quiet, "No summary and no progress on stderr");
  run->add_flag("--stats", options.stats,
                "Also report the windowed-feature state: live keys, events held, memory per key");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (check->parsed()) return Check(pipeline_path);
  if (run->parsed()) {
    options.progress = !quiet && isatty(STDERR_FILENO);
    return Run(pipeline_path, options, quiet);
  }
  return kExitUsage;
}
