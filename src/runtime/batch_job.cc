#include "runtime/batch_job.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include "runtime/audit_log.h"
#include "runtime/internal/run_support.h"

namespace sluice::runtime {

using internal::CheckDistinct;
using internal::CpuSeconds;
using internal::DecisionTally;
using internal::JsonString;
using internal::OrderedRejects;
using internal::Thousands;

Status RunBatch(const Engine& engine, const RunOptions& options, RunSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  SLUICE_ASSIGN_OR_RETURN(
      internal::RunFiles files,
      internal::StartRun(engine, options.input, options.output, options.input_format,
                         options.output_format, options.dead_letter, summary));
  const io::Format in_format = files.in_format;
  const io::Format out_format = files.out_format;
  summary->dead_letter = files.dead_letter;

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
  SLUICE_ASSIGN_OR_RETURN(auto sink,
                          io::RecordSink::Open(partial, out_format,
                                               options.reshape ? options.reshape->columns
                                                               : engine.OutputColumns(out_format)));
  std::optional<Batch> reshaped;
  if (options.reshape)
    reshaped.emplace(*options.reshape->layout, std::max<size_t>(options.batch_size, 1));
  std::unique_ptr<AuditLog> audit;
  if (!options.audit.empty()) {
    SLUICE_RETURN_IF_ERROR(CheckDistinct(options.input, options.audit, "the audit file"));
    SLUICE_RETURN_IF_ERROR(CheckDistinct(options.output, options.audit, "the audit file"));
    SLUICE_ASSIGN_OR_RETURN(audit, AuditLog::Open(options.audit, engine, /*append=*/false));
    summary->audit = options.audit;
  }
  summary->started = true;
  auto dead_letters = std::make_unique<io::DeadLetterFile>(summary->dead_letter);
  OrderedRejects rejects(dead_letters.get(), options.max_errors);
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
  Engine::StageTimes stage_times;
  auto process = [&](Batch& b) {
    engine.Process(b, state.get(), &stage_times);
    rejects.FinishBatch(b, engine.errors());
    tally.Add(b);
    if (options.observe) options.observe(b);
    if (audit) {
      status = audit->Write(b);
      if (!status.ok()) return false;
    }
    if (reshaped) {
      reshaped->Clear();
      options.reshape->rows(b, &*reshaped);
      size_t ok_rows = 0;
      for (size_t row = 0; row < b.size(); ++row) ok_rows += b.row_error(row) == 0;
      summary->records_skipped += ok_rows - reshaped->size();
      status = sink->Write(*reshaped);
    } else {
      status = sink->Write(b);
    }
    if (!status.ok()) return false;
    if (!dead_letters->status().ok()) {
      status = dead_letters->status();
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

  bool read_whole = false;
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
    // A regular file is first streamed through on the bet that it is in
    // order already (backfills usually are), holding nothing; at the first
    // record earlier than one before it, everything is started again and
    // the input is read whole (only its fields), then fed in that order.
    read_whole = true;
    if (options.input != "-" && std::filesystem::is_regular_file(options.input)) {
      const int time_column = engine.windows().time_column();
      int64_t latest = INT64_MIN;
      bool in_order = true;
      while (in_order && !source->done()) {
        batch.Clear();
        status = source->Fill(batch, rejects);
        if (!status.ok()) break;
        const int64_t* times = batch.column(time_column).data<int64_t>();
        for (size_t row = 0; row < batch.size() && in_order; ++row) {
          in_order = times[row] >= latest;
          latest = std::max(latest, times[row]);
        }
        if (!in_order) break;
        if (!process(batch)) break;
        show_progress("read");
      }
      read_whole = status.ok() && !in_order;
      if (read_whole) {
        // Start again from nothing: input, output, dead letters, counts, state.
        sink.reset();
        const bool had_rejections = dead_letters->count() > 0;
        dead_letters = std::make_unique<io::DeadLetterFile>(summary->dead_letter);
        if (had_rejections) std::filesystem::remove(summary->dead_letter);
        rejects = OrderedRejects(dead_letters.get(), options.max_errors);
        tally = DecisionTally(engine);
        state = engine.NewFeatureState();
        stage_times = Engine::StageTimes{};
        summary->records_skipped = 0;
        SLUICE_ASSIGN_OR_RETURN(
            sink, io::RecordSink::Open(partial, out_format,
                                       options.reshape ? options.reshape->columns
                                                       : engine.OutputColumns(out_format)));
        SLUICE_ASSIGN_OR_RETURN(
            source, io::RecordSource::Open(options.input, in_format, engine.source_fields(),
                                           engine.source_options()));
      }
    }
  }
  if (read_whole) {
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
      rejects.set_processing_order(true);
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
  summary->features_cpu_seconds = stage_times.features;
  summary->models_cpu_seconds = stage_times.models;
  summary->decisions_cpu_seconds = stage_times.decisions;
  if (options.progress) std::fprintf(stderr, "\r%60s\r", "");
  Status close = sink->Close();
  Status dl_close = dead_letters->Close();
  if (status.ok()) status = close;
  if (status.ok()) status = dl_close;
  if (audit) {
    Status audit_close = audit->Close();
    if (status.ok()) status = audit_close;
  }
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
  std::string out = fmt::format("sluice {}: pipeline {}\n", s.command, s.pipeline);
  double rate = s.seconds > 0 ? static_cast<double>(s.records_read) / s.seconds : 0;
  out += fmt::format("  read      {:>12} records\n", Thousands(s.records_read));
  out += fmt::format("  written   {:>12}\n", Thousands(s.records_written));
  if (s.records_skipped > 0) {
    out += fmt::format("  skipped   {:>12}  (processed, not in the output)\n",
                       Thousands(s.records_skipped));
  }
  out += fmt::format("  rejected  {:>12}", Thousands(s.records_rejected));
  if (s.records_rejected > 0) {
    out += fmt::format("  ({} on input, {} in the pipeline; see {})", s.rejected_on_input,
                       s.rejected_in_pipeline, s.dead_letter);
  }
  out += "\n";
  const bool streamed = s.command == "stream";
  if (streamed) {
    out += fmt::format("  late      {:>12}", Thousands(s.records_late));
    if (s.records_late > 0) out += fmt::format("  (see {})", s.late_output);
    out += "\n";
    if (s.records_held > 0) {
      out += fmt::format("  waiting   {:>12}  (saved in the checkpoint for the next run)\n",
                         Thousands(s.records_held));
    }
    if (s.resumed) out += "  resumed from a checkpoint; counts include the earlier runs\n";
  }
  out += fmt::format("  seconds   {:>12.3f}  (cpu {:.3f})\n", s.seconds, s.cpu_seconds);
  if (show_stats) {
    auto per_cpu = [&](double cpu) {
      return cpu > 0 ? Thousands(static_cast<uint64_t>(static_cast<double>(s.records_read) / cpu))
                     : std::string("-");
    };
    out += fmt::format(
        "  stages    features {:.3f} s cpu ({} records/s), models {:.3f} s, "
        "decisions {:.3f} s\n",
        s.features_cpu_seconds, per_cpu(s.features_cpu_seconds), s.models_cpu_seconds,
        s.decisions_cpu_seconds);
  }
  out += fmt::format("  records/s {:>12}\n", Thousands(static_cast<uint64_t>(rate)));
  if (!s.actions.empty()) {
    out += "  actions:\n";
    for (const auto& [name, n] : s.actions) {
      // Of the decisions taken (`sluice features` decides on more events
      // than it writes).
      uint64_t decided = 0;
      for (const auto& a : s.actions) decided += a.second;
      double pct = decided ? 100.0 * static_cast<double>(n) / static_cast<double>(decided) : 0;
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
  if (s.features && !streamed) {
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
  if (s.records_skipped > 0) out += fmt::format(",\"records_skipped\":{}", s.records_skipped);
  out += ",\"dead_letter\":" +
         (s.dead_letter.empty() ? std::string("null") : JsonString(s.dead_letter));
  out += fmt::format(",\"seconds\":{:.6f},\"cpu_seconds\":{:.6f},\"records_per_second\":{:.1f}",
                     s.seconds, s.cpu_seconds, rate);
  out += fmt::format(
      ",\"stage_cpu_seconds\":{{\"features\":{:.6f},\"models\":{:.6f},\"decisions\":{:.6f}}}",
      s.features_cpu_seconds, s.models_cpu_seconds, s.decisions_cpu_seconds);
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
  if (s.command == "stream") {
    out += fmt::format(",\"records_late\":{},\"records_waiting\":{},\"resumed\":{}", s.records_late,
                       s.records_held, s.resumed ? "true" : "false");
  }
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
