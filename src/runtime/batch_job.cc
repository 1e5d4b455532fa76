#include "runtime/batch_job.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include <fmt/format.h>

namespace sluice::runtime {
namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v);
  std::string out;
  int n = static_cast<int>(s.size());
  for (int i = 0; i < n; ++i) {
    out += s[static_cast<size_t>(i)];
    if ((n - i - 1) % 3 == 0 && i != n - 1) out += ',';
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Counts actions and reasons of the rows that are written.
class DecisionTally {
 public:
  explicit DecisionTally(const Engine& engine) : rules_(engine.rules()) {
    if (rules_) action_counts_.assign(rules_->action_type().domain->size(), 0);
  }
  void Add(const Batch& batch) {
    if (!rules_) return;
    const int32_t* action = batch.column(rules_->action_column()).data<int32_t>();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch.row_error(i) != 0) continue;
      ++action_counts_[static_cast<size_t>(action[i])];
      const uint32_t b = batch.reason_begin()[i], c = batch.reason_count()[i];
      for (uint32_t k = 0; k < c; ++k) ++reason_counts_[batch.reasons()[b + k].code];
    }
  }
  void Fill(RunSummary* s) const {
    if (!rules_) return;
    s->actions.clear();
    for (size_t a = 0; a < action_counts_.size(); ++a) {
      s->actions.emplace_back(std::string(rules_->action_type().domain->Name(static_cast<int32_t>(a))),
                              action_counts_[a]);
    }
    s->reasons.assign(reason_counts_.begin(), reason_counts_.end());
    std::sort(s->reasons.begin(), s->reasons.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second : x.first < y.first;
    });
  }

 private:
  const decide::RuleSet* rules_;
  std::vector<uint64_t> action_counts_;
  std::unordered_map<std::string, uint64_t> reason_counts_;
};

class CountingRejects final : public io::RejectSink {
 public:
  explicit CountingRejects(io::DeadLetterFile* file) : file_(file) {}
  void Reject(const io::Rejection& r) override {
    ++count_;
    file_->Reject(r);
  }
  uint64_t count() const { return count_; }

 private:
  io::DeadLetterFile* file_;
  uint64_t count_ = 0;
};

}  // namespace

Status RunBatch(const Engine& engine, const RunOptions& options, RunSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  summary->pipeline = engine.spec().name;
  summary->input = options.input;
  summary->output = options.output;

  std::string in_flag = options.input_format.empty() ? engine.spec().input_format
                                                     : options.input_format;
  SLUICE_ASSIGN_OR_RETURN(io::Format in_format, io::ResolveFormat(options.input, in_flag));
  std::string out_flag = options.output_format;
  if (out_flag.empty() && options.output == "-") {
    out_flag = in_format == io::Format::kCsv ? "csv" : "jsonl";
  }
  SLUICE_ASSIGN_OR_RETURN(io::Format out_format, io::ResolveFormat(options.output, out_flag));

  summary->dead_letter = options.dead_letter;
  if (summary->dead_letter.empty()) {
    summary->dead_letter =
        options.output == "-" ? "sluice.rejects.jsonl" : options.output + ".rejects.jsonl";
  }

  SLUICE_ASSIGN_OR_RETURN(auto source,
                          io::RecordSource::Open(options.input, in_format, engine.source_fields(),
                                                 engine.source_options()));
  SLUICE_ASSIGN_OR_RETURN(auto sink, io::RecordSink::Open(options.output, out_format,
                                                          engine.OutputColumns(out_format)));
  io::DeadLetterFile dead_letters(summary->dead_letter);
  CountingRejects input_rejects(&dead_letters);
  DecisionTally tally(engine);

  Batch batch(engine.layout(), std::max<size_t>(options.batch_size, 1));
  Status status;
  auto last_progress = start;
  while (!source->done()) {
    batch.Clear();
    status = source->Fill(batch, input_rejects);
    if (!status.ok()) break;
    engine.Process(batch);
    if (batch.any_row_error()) {
      for (size_t i = 0; i < batch.size(); ++i) {
        uint32_t code = batch.row_error(i);
        if (code == 0) continue;
        const Batch::RowOrigin& o = batch.origin(i);
        dead_letters.Reject({o.record, o.line, "", engine.errors().Get(code), o.raw});
        ++summary->rejected_in_pipeline;
      }
    }
    tally.Add(batch);
    status = sink->Write(batch);
    if (!status.ok()) break;
    if (!dead_letters.status().ok()) {
      status = dead_letters.status();
      break;
    }
    summary->rejected_on_input = input_rejects.count();
    summary->records_rejected = summary->rejected_on_input + summary->rejected_in_pipeline;
    if (options.max_errors >= 0 &&
        summary->records_rejected > static_cast<uint64_t>(options.max_errors)) {
      summary->stopped_at_max_errors = true;
      status = LimitExceeded(fmt::format(
          "stopped: {} records rejected, more than --max-errors {} (see {})",
          summary->records_rejected, options.max_errors, summary->dead_letter));
      break;
    }
    if (options.progress) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_progress > std::chrono::milliseconds(500)) {
        last_progress = now;
        double secs = std::chrono::duration<double>(now - start).count();
        std::fprintf(stderr, "\rsluice: %s records read (%.0f records/s)   ",
                     Thousands(source->records_read()).c_str(),
                     static_cast<double>(source->records_read()) / std::max(secs, 1e-9));
        std::fflush(stderr);
      }
    }
  }
  if (options.progress) std::fprintf(stderr, "\r%60s\r", "");
  Status close = sink->Close();
  Status dl_close = dead_letters.Close();
  if (status.ok()) status = close;
  if (status.ok()) status = dl_close;

  summary->records_read = source->records_read();
  summary->records_written = sink->records_written();
  summary->rejected_on_input = input_rejects.count();
  summary->records_rejected = summary->rejected_on_input + summary->rejected_in_pipeline;
  summary->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary->cpu_seconds = CpuSeconds() - cpu_start;
  tally.Fill(summary);
  if (summary->records_rejected == 0) summary->dead_letter.clear();
  return status;
}

std::string FormatSummaryText(const RunSummary& s) {
  std::string out = fmt::format("sluice run: pipeline {}\n", s.pipeline);
  double rate = s.seconds > 0 ? static_cast<double>(s.records_read) / s.seconds : 0;
  out += fmt::format("  read      {:>12} records\n", Thousands(s.records_read));
  out += fmt::format("  written   {:>12}\n", Thousands(s.records_written));
  out += fmt::format("  rejected  {:>12}", Thousands(s.records_rejected));
  if (s.records_rejected > 0) {
    out += fmt::format("  ({} on input, {} in the pipeline; see {})", s.rejected_on_input,
                       s.rejected_in_pipeline, s.dead_letter);
  }
  out += "\n";
  out += fmt::format("  seconds   {:>12.3f}  (cpu {:.3f})\n", s.seconds, s.cpu_seconds);
  out += fmt::format("  records/s {:>12}\n", Thousands(static_cast<uint64_t>(rate)));
  if (!s.actions.empty()) {
    out += "  actions:\n";
    for (const auto& [name, n] : s.actions) {
      double pct = s.records_written ? 100.0 * static_cast<double>(n) /
                                           static_cast<double>(s.records_written)
                                     : 0;
      out += fmt::format("    {:<16} {:>12}  {:5.1f}%\n", name, Thousands(n), pct);
    }
  }
  if (!s.reasons.empty()) {
    out += "  top reasons:\n";
    for (size_t i = 0; i < s.reasons.size() && i < 10; ++i) {
      out += fmt::format("    {:<28} {:>12}\n", s.reasons[i].first, Thousands(s.reasons[i].second));
    }
  }
  if (s.stopped_at_max_errors) out += "  stopped early: more rejections than --max-errors\n";
  return out;
}

std::string FormatSummaryJson(const RunSummary& s, const Status& status) {
  double rate = s.seconds > 0 ? static_cast<double>(s.records_read) / s.seconds : 0;
  std::string out = "{";
  out += "\"pipeline\":" + JsonString(s.pipeline);
  out += ",\"input\":" + JsonString(s.input);
  out += ",\"output\":" + JsonString(s.output);
  out += fmt::format(",\"records_read\":{},\"records_written\":{},\"records_rejected\":{}",
                     s.records_read, s.records_written, s.records_rejected);
  out += fmt::format(",\"rejected_on_input\":{},\"rejected_in_pipeline\":{}", s.rejected_on_input,
                     s.rejected_in_pipeline);
  out += ",\"dead_letter\":" + (s.dead_letter.empty() ? std::string("null") : JsonString(s.dead_letter));
  out += fmt::format(",\"seconds\":{:.6f},\"cpu_seconds\":{:.6f},\"records_per_second\":{:.1f}",
                     s.seconds, s.cpu_seconds, rate);
  out += ",\"actions\":{";
  for (size_t i = 0; i < s.actions.size(); ++i) {
    out += (i ? "," : "") + JsonString(s.actions[i].first) + ":" + std::to_string(s.actions[i].second);
  }
  out += "},\"reasons\":{";
  for (size_t i = 0; i < s.reasons.size(); ++i) {
    out += (i ? "," : "") + JsonString(s.reasons[i].first) + ":" + std::to_string(s.reasons[i].second);
  }
  out += "}";
  out += ",\"status\":" + JsonString(status.ok() ? "ok"
                                     : s.stopped_at_max_errors ? "max_errors_exceeded"
                                                               : "failed");
  if (!status.ok()) out += ",\"error\":" + JsonString(status.message());
  out += "}\n";
  return out;
}

}  // namespace sluice::runtime
