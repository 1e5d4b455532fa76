#include "runtime/batch_job.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

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
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
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
      for (uint32_t k = 0; k < c; ++k) {
        // Keyed by the code's address: the views point into the rule set's
        // storage, so this is a pointer hash, not a string hash, per reason.
        const std::string_view code = batch.reasons()[b + k].code;
        auto& slot = reason_counts_[code.data()];
        slot.first = code;
        ++slot.second;
      }
    }
  }
  void Fill(RunSummary* s) const {
    if (!rules_) return;
    s->actions.clear();
    for (size_t a = 0; a < action_counts_.size(); ++a) {
      s->actions.emplace_back(
          std::string(rules_->action_type().domain->Name(static_cast<int32_t>(a))),
          action_counts_[a]);
    }
    std::map<std::string, uint64_t> by_code;
    for (const auto& [ptr, entry] : reason_counts_)
      by_code[std::string(entry.first)] += entry.second;
    s->reasons.assign(by_code.begin(), by_code.end());
    std::sort(s->reasons.begin(), s->reasons.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second : x.first < y.first;
    });
  }

 private:
  const decide::RuleSet* rules_;
  std::vector<uint64_t> action_counts_;
  std::unordered_map<const char*, std::pair<std::string_view, uint64_t>> reason_counts_;
};

// Holds the rejections of the batch being filled so that dead letters come
// out in record order, interleaved with the record errors raised while
// evaluating, whatever the batch size. Rejections of records before the
// batch's first row can go out at once, which bounds what is held.
class OrderedRejects final : public io::RejectSink {
 public:
  OrderedRejects(io::DeadLetterFile* file, int64_t max_errors)
      : file_(file), max_errors_(max_errors) {}

  void Reject(const io::Rejection& r) override {
    ++on_input_;
    held_.push_back({r.record, r.line, r.field, r.reason, std::string(r.raw)});
  }
  // Also ends a fill early when many rejections are held, so that memory
  // stays bounded; the partial batch is processed as usual.
  bool Stop() const override { return max_errors_exceeded() || held_.size() >= kMaxHeld; }
  bool max_errors_exceeded() const {
    return max_errors_ >= 0 && total() > static_cast<uint64_t>(max_errors_);
  }

  // Writes the held rejections and the batch's record errors, in record order.
  void FinishBatch(const Batch& batch, const expr::ErrorTable& errors) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const uint32_t code = batch.row_error(i);
      if (code == 0) continue;
      const Batch::RowOrigin& o = batch.origin(i);
      held_.push_back({o.record, o.line, "", errors.Get(code), std::string(o.raw)});
      ++in_pipeline_;
    }
    Flush();
  }
  uint64_t on_input() const { return on_input_; }
  uint64_t in_pipeline() const { return in_pipeline_; }
  uint64_t total() const { return on_input_ + in_pipeline_; }

 private:
  static constexpr size_t kMaxHeld = 4096;
  struct Held {
    uint64_t record, line;
    std::string field, reason, raw;
  };
  void Flush() {
    std::stable_sort(held_.begin(), held_.end(),
                     [](const Held& a, const Held& b) { return a.record < b.record; });
    for (const Held& h : held_) file_->Reject({h.record, h.line, h.field, h.reason, h.raw});
    held_.clear();
  }

  io::DeadLetterFile* file_;
  int64_t max_errors_;
  std::vector<Held> held_;
  uint64_t on_input_ = 0;
  uint64_t in_pipeline_ = 0;
};

Status CheckDistinct(const std::string& a, const std::string& b, std::string_view what) {
  if (a == "-" || b == "-") return Status::Ok();
  std::error_code ec;
  if (a == b || std::filesystem::equivalent(a, b, ec)) {
    return InvalidArgument(fmt::format("{} {} is the same file as {}", what, b, a));
  }
  return Status::Ok();
}

}  // namespace

Status RunBatch(const Engine& engine, const RunOptions& options, RunSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  summary->pipeline = engine.spec().name;
  summary->input = options.input;
  summary->output = options.output;

  std::string in_flag =
      options.input_format.empty() ? engine.spec().input_format : options.input_format;
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
  // Writing over the input (or the dead letters over either) would destroy
  // data before it is read.
  SLUICE_RETURN_IF_ERROR(CheckDistinct(options.input, options.output, "the output"));
  SLUICE_RETURN_IF_ERROR(
      CheckDistinct(options.input, summary->dead_letter, "the dead-letter file"));
  SLUICE_RETURN_IF_ERROR(
      CheckDistinct(options.output, summary->dead_letter, "the dead-letter file"));
  // The output is written under a temporary name and renamed when the run
  // ends, so that a file at OUTPUT is always a finished run's output.
  const bool to_file = options.output != "-";
  const std::string partial = to_file ? options.output + ".partial" : options.output;
  SLUICE_ASSIGN_OR_RETURN(
      auto sink, io::RecordSink::Open(partial, out_format, engine.OutputColumns(out_format)));
  summary->started = true;
  io::DeadLetterFile dead_letters(summary->dead_letter);
  OrderedRejects rejects(&dead_letters, options.max_errors);
  DecisionTally tally(engine);

  Batch batch(engine.layout(), std::max<size_t>(options.batch_size, 1));
  std::unique_ptr<features::FeatureState> state = engine.NewFeatureState();
  Status status;
  auto last_progress = start;
  auto show_progress = [&](std::string_view what) {
    if (!options.progress) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_progress > std::chrono::milliseconds(500)) {
      last_progress = now;
      double secs = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr, "\rsluice: %s records %.*s (%.0f records/s)   ",
                   Thousands(source->records_read()).c_str(), static_cast<int>(what.size()),
                   what.data(), static_cast<double>(source->records_read()) / std::max(secs, 1e-9));
      std::fflush(stderr);
    }
  };
  // Runs one batch through the pipeline and writes it; false to stop.
  auto process = [&](Batch& b) {
    engine.Process(b, state.get());
    rejects.FinishBatch(b, engine.errors());
    tally.Add(b);
    status = sink->Write(b);
    if (!status.ok()) return false;
    if (!dead_letters.status().ok()) {
      status = dead_letters.status();
      return false;
    }
    if (rejects.max_errors_exceeded()) {
      summary->records_rejected = rejects.total();
      summary->stopped_at_max_errors = true;
      status = LimitExceeded(
          fmt::format("stopped: {} records rejected, more than --max-errors {} (see {})",
                      summary->records_rejected, options.max_errors, summary->dead_letter));
      return false;
    }
    return true;
  };

  if (!engine.has_windows()) {
    // Rows are independent: stream the input through.
    while (!source->done()) {
      batch.Clear();
      status = source->Fill(batch, rejects);
      if (!status.ok()) break;
      if (!process(batch)) break;
      show_progress("read");
    }
  } else {
    // Windowed features need canonical order: (event time, input order).
    // The input is read whole (only its fields), then fed in that order.
    BatchLayout input_layout;
    for (const auto& f : engine.source_fields()) input_layout.Add({f.name, f.type, std::nullopt});
    const int time_column = engine.windows().time_column();
    std::vector<std::unique_ptr<Batch>> stored;
    struct Key {
      int64_t time;
      uint32_t batch, row;
    };
    std::vector<Key> order;
    bool sorted = true;
    int64_t latest = INT64_MIN;
    try {
      while (!source->done()) {
        stored.push_back(std::make_unique<Batch>(input_layout, 8192));
        Batch& b = *stored.back();
        status = source->Fill(b, rejects);
        if (!status.ok()) break;
        rejects.FinishBatch(b, engine.errors());  // writes the input's rejections
        const int64_t* times = b.column(time_column).data<int64_t>();
        for (size_t row = 0; row < b.size(); ++row) {
          if (times[row] < latest) {
            sorted = false;
            ++summary->records_out_of_order;
          }
          latest = std::max(latest, times[row]);
          order.push_back(
              {times[row], static_cast<uint32_t>(stored.size() - 1), static_cast<uint32_t>(row)});
        }
        show_progress("read");
        if (rejects.max_errors_exceeded()) break;
      }
    } catch (const std::bad_alloc&) {
      status = IoError(fmt::format(
          "out of memory after reading {} records: sluice run holds the input in memory to "
          "order it by event time; split the input by time or give it more memory",
          source->records_read()));
    }
    if (status.ok()) {
      summary->sorted_input = !sorted;
      if (!sorted) {
        std::stable_sort(order.begin(), order.end(),
                         [](const Key& a, const Key& b) { return a.time < b.time; });
      }
      const size_t fields = engine.source_fields().size();
      batch.Clear();
      for (const Key& k : order) {
        batch.AppendCopy(*stored[k.batch], k.row, fields);
        if (batch.full()) {
          if (!process(batch)) break;
          batch.Clear();
          show_progress("processed");
        }
      }
      if (status.ok() && batch.size() > 0) process(batch);
      if (status.ok() && rejects.max_errors_exceeded() && !summary->stopped_at_max_errors) {
        summary->stopped_at_max_errors = true;
        status = LimitExceeded(
            fmt::format("stopped: {} records rejected, more than --max-errors {} (see {})",
                        rejects.total(), options.max_errors, summary->dead_letter));
      }
    }
  }
  if (state) summary->features = state->Stats();
  if (options.progress) std::fprintf(stderr, "\r%60s\r", "");
  Status close = sink->Close();
  Status dl_close = dead_letters.Close();
  if (status.ok()) status = close;
  if (status.ok()) status = dl_close;
  if (to_file) {
    // Stopped by --max-errors, the output still holds every record written.
    if (status.ok() || status.code() == StatusCode::kLimitExceeded) {
      std::error_code ec;
      std::filesystem::rename(partial, options.output, ec);
      if (ec && status.ok()) {
        status = IoError(
            fmt::format("cannot rename {} to {}: {}", partial, options.output, ec.message()));
      }
    } else {
      std::error_code ec;
      std::filesystem::remove(partial, ec);
    }
  }

  summary->records_read = source->records_read();
  summary->records_written = sink->records_written();
  summary->rejected_on_input = rejects.on_input();
  summary->rejected_in_pipeline = rejects.in_pipeline();
  summary->records_rejected = rejects.total();
  summary->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary->cpu_seconds = CpuSeconds() - cpu_start;
  tally.Fill(summary);
  if (summary->records_rejected == 0) summary->dead_letter.clear();
  return status;
}

std::string FormatSummaryText(const RunSummary& s, bool show_stats) {
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
      double pct = s.records_written
                       ? 100.0 * static_cast<double>(n) / static_cast<double>(s.records_written)
                       : 0;
      out += fmt::format("    {:<16} {:>12}  {:5.1f}%\n", name, Thousands(n), pct);
    }
  }
  if (!s.reasons.empty()) {
    out += "  top reasons:\n";
    size_t width = 16;
    for (const auto& r : s.reasons) width = std::max(width, r.first.size());
    for (size_t i = 0; i < s.reasons.size() && i < 10; ++i) {
      out += fmt::format("    {:<{}} {:>12}\n", s.reasons[i].first, width,
                         Thousands(s.reasons[i].second));
    }
  }
  if (s.features) {
    out += s.sorted_input
               ? fmt::format(
                     "  order     sorted by event time ({} record{} came after a later "
                     "one)\n",
                     Thousands(s.records_out_of_order), s.records_out_of_order == 1 ? "" : "s")
               : std::string("  order     already in event-time order\n");
  }
  if (s.features && show_stats) {
    const features::FeatureStats& f = *s.features;
    out += fmt::format("  state     {} live keys, {} events in windows, {} keys evicted\n",
                       Thousands(f.live_keys), Thousands(f.events_held), Thousands(f.evicted_keys));
    out += fmt::format(
        "            {:.1f} MiB ({:.1f} MiB window contents), {:.0f} bytes per key "
        "beyond window contents\n",
        static_cast<double>(f.state_bytes) / (1 << 20),
        static_cast<double>(f.window_bytes) / (1 << 20), f.bytes_per_key());
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
  out += ",\"dead_letter\":" +
         (s.dead_letter.empty() ? std::string("null") : JsonString(s.dead_letter));
  out += fmt::format(",\"seconds\":{:.6f},\"cpu_seconds\":{:.6f},\"records_per_second\":{:.1f}",
                     s.seconds, s.cpu_seconds, rate);
  out += ",\"actions\":{";
  for (size_t i = 0; i < s.actions.size(); ++i) {
    out +=
        (i ? "," : "") + JsonString(s.actions[i].first) + ":" + std::to_string(s.actions[i].second);
  }
  out += "},\"reasons\":{";
  for (size_t i = 0; i < s.reasons.size(); ++i) {
    out +=
        (i ? "," : "") + JsonString(s.reasons[i].first) + ":" + std::to_string(s.reasons[i].second);
  }
  out += "}";
  if (s.features) {
    const features::FeatureStats& f = *s.features;
    out += fmt::format(",\"sorted_input\":{},\"records_out_of_order\":{}",
                       s.sorted_input ? "true" : "false", s.records_out_of_order);
    out += fmt::format(
        ",\"state\":{{\"live_keys\":{},\"events_held\":{},\"evicted_keys\":{},"
        "\"state_bytes\":{},\"window_bytes\":{},\"bytes_per_key\":{:.1f}}}",
        f.live_keys, f.events_held, f.evicted_keys, f.state_bytes, f.window_bytes,
        f.bytes_per_key());
  }
  out += ",\"status\":" + JsonString(status.ok()               ? "ok"
                                     : s.stopped_at_max_errors ? "max_errors_exceeded"
                                                               : "failed");
  if (!status.ok()) out += ",\"error\":" + JsonString(status.message());
  out += "}\n";
  return out;
}

}  // namespace sluice::runtime
