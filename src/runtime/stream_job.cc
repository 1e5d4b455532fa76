#include "runtime/stream_job.h"

#include <chrono>
#include <filesystem>

#include "runtime/audit_log.h"
#include "runtime/checkpoint.h"
#include "runtime/internal/run_support.h"
#include "runtime/reorder_buffer.h"
#include "types/timestamp.h"

namespace sluice::runtime {

using internal::CheckDistinct;
using internal::CpuSeconds;
using internal::DecisionTally;
using internal::OrderedRejects;

namespace {

namespace fs = std::filesystem;

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(n);
}

// Cuts `path` back to `bytes` (-1: the file must not exist).
Status TruncateTo(const std::string& path, int64_t bytes, std::string_view what) {
  std::error_code ec;
  const int64_t now = FileBytes(path);
  if (bytes < 0) {
    if (now >= 0) fs::remove(path, ec);
    return Status::Ok();
  }
  if (now < bytes) {
    return InvalidInput(fmt::format(
        "{} {} is shorter ({} bytes) than when the checkpoint was written ({} bytes): it was "
        "changed; remove the checkpoint folder to start over",
        what, path, now < 0 ? 0 : now, bytes));
  }
  fs::resize_file(path, static_cast<uintmax_t>(bytes), ec);
  if (ec) return IoError(fmt::format("cannot truncate {}: {}", path, ec.message()));
  return Status::Ok();
}

// Collects the rejections of one read, to be queued with its rows.
class NoticeCollector final : public io::RejectSink {
 public:
  explicit NoticeCollector(const OrderedRejects* limits) : limits_(limits) {}
  void Reject(const io::Rejection& r) override {
    notices.push_back(
        {Notice::Kind::kRejected, r.record, r.line, r.field, r.reason, std::string(r.raw)});
  }
  bool Stop() const override { return notices.size() >= 4096 || limits_->max_errors_exceeded(); }
  std::vector<Notice> notices;

 private:
  const OrderedRejects* limits_;
};

HeldRecord SaveRow(const Batch& b, size_t row) {
  HeldRecord h;
  h.record = b.origin(row).record;
  h.line = b.origin(row).line;
  h.raw = std::string(b.origin(row).raw);
  for (size_t c = 0; c < b.num_columns(); ++c) {
    const Column& col = b.column(static_cast<int>(c));
    h.valid.push_back(col.valid()[row]);
    uint64_t word = 0;
    std::string text;
    switch (col.type().kind) {
      case TypeKind::kString:
        text = std::string(col.data<std::string_view>()[row]);
        break;
      case TypeKind::kBool:
        word = col.data<uint8_t>()[row];
        break;
      case TypeKind::kEnum:
        word = static_cast<uint64_t>(col.data<int32_t>()[row]);
        break;
      default:
        word = col.data<uint64_t>()[row];
        break;
    }
    h.words.push_back(word);
    h.strings.push_back(std::move(text));
  }
  return h;
}

Status LoadRow(const HeldRecord& h, Batch& b) {
  if (h.valid.size() != b.num_columns() || h.words.size() != b.num_columns() ||
      h.strings.size() != b.num_columns()) {
    return InvalidInput("checkpoint holds an event with the wrong number of fields");
  }
  const size_t row = b.AppendRow();
  b.origin(row) = {h.record, h.line, b.arena().Copy(h.raw)};
  for (size_t c = 0; c < b.num_columns(); ++c) {
    Column& col = b.column(static_cast<int>(c));
    col.valid()[row] = h.valid[c] != 0 ? 1 : 0;
    switch (col.type().kind) {
      case TypeKind::kString:
        col.data<std::string_view>()[row] = b.arena().Copy(h.strings[c]);
        break;
      case TypeKind::kBool:
        col.data<uint8_t>()[row] = h.words[c] != 0 ? 1 : 0;
        break;
      case TypeKind::kEnum: {
        const auto index = static_cast<int32_t>(h.words[c]);
        if (index < 0 || static_cast<size_t>(index) >= col.type().domain->size()) {
          return InvalidInput("checkpoint holds an event with an unknown enum value");
        }
        col.data<int32_t>()[row] = index;
        break;
      }
      default:
        col.data<uint64_t>()[row] = h.words[c];
        break;
    }
  }
  return Status::Ok();
}

}  // namespace

Status RunStream(const Engine& engine, const StreamOptions& options, RunSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  summary->command = "stream";
  SLUICE_ASSIGN_OR_RETURN(
      internal::RunFiles files,
      internal::StartRun(engine, options.input, options.output, options.input_format,
                         options.output_format, options.dead_letter, summary));
  const io::Format in_format = files.in_format;
  const io::Format out_format = files.out_format;
  summary->dead_letter = files.dead_letter;
  const bool tcp = options.input.rfind("tcp://", 0) == 0;
  if (!tcp) SLUICE_RETURN_IF_ERROR(CheckDistinct(options.input, options.output, "the output"));
  SLUICE_RETURN_IF_ERROR(
      CheckDistinct(options.output, summary->dead_letter, "the dead-letter file"));

  // Checkpoints need an input that can be read again from a position and
  // outputs that can be cut back to one.
  const bool checkpointing = !options.checkpoint_dir.empty();
  Checkpoint resume;
  bool resuming = false;
  if (checkpointing) {
    if (options.input == "-" || tcp || options.output == "-" || summary->dead_letter == "-" ||
        options.late_output == "-") {
      return InvalidArgument(
          "--checkpoint needs a file input and file outputs (not stdin, stdout or a socket): "
          "after a crash the input is read again from the checkpoint's position");
    }
    SLUICE_RETURN_IF_ERROR(ReadCheckpoint(options.checkpoint_dir, &resume, &resuming));
    if (resuming) {
      if (resume.pipeline_hash != engine.spec().content_hash) {
        return InvalidInput(fmt::format(
            "checkpoint {} was written by another version of the pipeline (content hash {}, "
            "this file has {}); remove the folder to start over",
            options.checkpoint_dir, resume.pipeline_hash, engine.spec().content_hash));
      }
      if (resume.input != options.input) {
        return InvalidInput(fmt::format(
            "checkpoint {} belongs to input {}, not {}; remove the folder to start over",
            options.checkpoint_dir, resume.input, options.input));
      }
      SLUICE_RETURN_IF_ERROR(TruncateTo(options.output, resume.output_bytes, "output"));
      SLUICE_RETURN_IF_ERROR(
          TruncateTo(summary->dead_letter, resume.dead_letter_bytes, "dead-letter file"));
      if (!options.late_output.empty()) {
        SLUICE_RETURN_IF_ERROR(TruncateTo(options.late_output, resume.late_bytes, "late output"));
      }
      if (!options.audit.empty()) {
        SLUICE_RETURN_IF_ERROR(TruncateTo(options.audit, resume.audit_bytes, "audit file"));
      }
    }
  }
  std::unique_ptr<AuditLog> audit;
  if (!options.audit.empty()) {
    if (options.audit == "-") return InvalidArgument("--audit needs a file, not stdout");
    if (!tcp) SLUICE_RETURN_IF_ERROR(CheckDistinct(options.input, options.audit, "the audit file"));
    SLUICE_RETURN_IF_ERROR(CheckDistinct(options.output, options.audit, "the audit file"));
    SLUICE_ASSIGN_OR_RETURN(audit, AuditLog::Open(options.audit, engine, /*append=*/resuming));
    summary->audit = options.audit;
  }

  io::SourceOptions source_options = engine.source_options();
  source_options.stream = true;
  source_options.follow = options.follow;
  source_options.stop = options.stop;
  SLUICE_ASSIGN_OR_RETURN(
      auto sink, io::RecordSink::Open(options.output, out_format, engine.OutputColumns(out_format),
                                      /*append=*/resuming));
  SLUICE_RETURN_IF_ERROR(sink->Flush());  // the CSV header, for readers waiting on it
  SLUICE_ASSIGN_OR_RETURN(
      auto source,
      io::RecordSource::Open(options.input, in_format, engine.source_fields(), source_options));
  if (resuming) SLUICE_RETURN_IF_ERROR(source->Resume(resume.position));
  summary->started = true;
  io::DeadLetterFile dead_letters(summary->dead_letter, /*append=*/resuming);
  std::unique_ptr<io::DeadLetterFile> late_file;
  if (!options.late_output.empty()) {
    late_file = std::make_unique<io::DeadLetterFile>(options.late_output, resuming);
  }
  io::DeadLetterFile& late_sink = late_file ? *late_file : dead_letters;
  OrderedRejects rejects(&dead_letters, options.max_errors);
  DecisionTally tally(engine);
  std::unique_ptr<features::FeatureState> state = engine.NewFeatureState();

  BatchLayout input_layout;
  for (const auto& f : engine.source_fields()) input_layout.Add({f.name, f.type, std::nullopt});
  const size_t batch_size = std::max<size_t>(options.batch_size, 1);
  Batch in(input_layout, batch_size);
  Batch work(engine.layout(), batch_size);
  const int64_t lateness =
      options.lateness_ns >= 0 ? options.lateness_ns : engine.spec().lateness_ns;
  // Without windowed features every event is independent: no reordering,
  // as in `sluice run`.
  const std::string lateness_text = options.lateness_ns >= 0
                                        ? std::to_string(options.lateness_ns / 1'000'000) + "ms"
                                        : engine.spec().lateness_text;
  std::optional<ReorderBuffer> reorder;
  if (engine.has_windows()) {
    const int time_column = engine.windows().time_column();
    reorder.emplace(
        input_layout, time_column, lateness,
        [&lateness_text](int64_t t, int64_t watermark) {
          return "late: event time " + FormatIso8601(t) + " is before the watermark " +
                 FormatIso8601(watermark) + " (latest event time minus lateness " + lateness_text +
                 ")";
        },
        engine.source_fields()[static_cast<size_t>(time_column)].name);
    rejects.set_processing_order(true);
  }

  uint64_t written_before = 0;  // by the runs this one continues
  uint64_t sequence = 0;
  if (resuming) {
    written_before = resume.records_written;
    summary->records_late = resume.records_late;
    rejects.AddBase(resume.rejected_on_input, resume.rejected_in_pipeline);
    tally.AddBase(resume.actions, resume.reasons);
    sequence = resume.sequence;
    if (state) SLUICE_RETURN_IF_ERROR(state->Load(resume.feature_state));
    if (reorder) {
      Batch held(input_layout, 1);
      for (HeldRecord& h : resume.held) {
        if (h.kind != 0) {
          reorder->AddHeldNotice(
              {h.kind == 2 ? Notice::Kind::kLate : Notice::Kind::kRejected, h.record, h.line,
               std::move(h.field), std::move(h.reason), std::move(h.raw)},
              h.key_time, h.arrival);
          continue;
        }
        held.Clear();
        SLUICE_RETURN_IF_ERROR(LoadRow(h, held));
        reorder->AddHeldRow(held, 0, h.key_time, h.arrival);
      }
      reorder->Restore(resume.max_time, resume.next_arrival);
    } else if (!resume.held.empty()) {
      return InvalidInput("checkpoint holds waiting events but the pipeline has no windows");
    }
  }

  Status status;
  auto notice = [&](const Notice& n) {
    if (n.kind == Notice::Kind::kLate) {
      ++summary->records_late;
      late_sink.Reject(n.view());
    } else {
      rejects.WriteNow(n.view(), /*on_input=*/true);
    }
  };
  Engine::StageTimes stage_times;
  auto process = [&](Batch& b) {
    engine.Process(b, state.get(), &stage_times);
    rejects.FinishBatch(b, engine.errors());
    tally.Add(b);
    if (audit) {
      status = audit->Write(b);
      if (!status.ok()) return false;
    }
    status = sink->Write(b);
    if (!status.ok()) return false;
    if (rejects.max_errors_exceeded()) {
      summary->stopped_at_max_errors = true;
      status = LimitExceeded(
          fmt::format("stopped: {} records rejected, more than --max-errors {} (see {})",
                      rejects.total(), options.max_errors, summary->dead_letter));
      return false;
    }
    return true;
  };
  auto write_checkpoint = [&]() -> Status {
    SLUICE_RETURN_IF_ERROR(sink->Sync());
    SLUICE_RETURN_IF_ERROR(dead_letters.Sync());
    if (late_file) SLUICE_RETURN_IF_ERROR(late_file->Sync());
    if (audit) SLUICE_RETURN_IF_ERROR(audit->Sync());
    Checkpoint c;
    c.pipeline_hash = engine.spec().content_hash;
    c.input = options.input;
    c.position = source->position();
    c.output_bytes = FileBytes(options.output);
    c.dead_letter_bytes = FileBytes(summary->dead_letter);
    c.late_bytes = late_file ? FileBytes(options.late_output) : -1;
    c.audit_bytes = audit ? FileBytes(options.audit) : -1;
    c.records_written = written_before + sink->records_written();
    c.rejected_on_input = rejects.on_input();
    c.rejected_in_pipeline = rejects.in_pipeline();
    c.records_late = summary->records_late;
    RunSummary counts;
    tally.Fill(&counts);
    c.actions = counts.actions;
    c.reasons = counts.reasons;
    if (reorder) {
      c.max_time = reorder->max_time();
      c.next_arrival = reorder->next_arrival();
      reorder->ForEachHeld(
          [&](int64_t key_time, uint64_t arrival, const Batch* rows, size_t row, const Notice* n) {
            HeldRecord h;
            if (rows != nullptr) {
              h = SaveRow(*rows, row);
            } else {
              h.kind = n->kind == Notice::Kind::kLate ? 2 : 1;
              h.record = n->record;
              h.line = n->line;
              h.field = n->field;
              h.reason = n->reason;
              h.raw = n->raw;
            }
            h.key_time = key_time;
            h.arrival = arrival;
            c.held.push_back(std::move(h));
          });
    }
    if (state) c.feature_state = state->Save();
    c.sequence = ++sequence;
    return WriteCheckpoint(options.checkpoint_dir, c);
  };

  bool running = true;
  uint64_t records_at_checkpoint = source->records_read();
  auto checkpoint_time = std::chrono::steady_clock::now();
  NoticeCollector collected(&rejects);
  while (running) {
    in.Clear();
    if (reorder) {
      status = source->Fill(in, collected);
    } else {
      status = source->Fill(in, rejects);
      rejects.FinishBatch(in, engine.errors());  // the input's rejections, in record order
    }
    if (!status.ok()) break;
    const bool ended = source->done();
    // Stopped by a signal with checkpoints on: keep held events for the
    // next run instead of releasing them early.
    const bool stopped = options.stop != nullptr && options.stop->load();
    const bool drain = ended && !(checkpointing && stopped);
    if (reorder) {
      reorder->Add(in, std::move(collected.notices));
      collected.notices.clear();
      bool more = true;
      while (more && running) {
        work.Clear();
        more = reorder->Release(work, drain, notice);
        if (work.size() > 0) running = process(work);
      }
    } else {
      work.Clear();
      for (size_t row = 0; row < in.size(); ++row) work.AppendCopy(in, row, input_layout.size());
      if (work.size() > 0) running = process(work);
    }
    if (!running) break;
    // Results are written as soon as they are known.
    status = sink->Flush();
    if (status.ok()) status = dead_letters.Flush();
    if (status.ok() && late_file) status = late_file->Flush();
    if (status.ok() && audit) status = audit->Flush();
    if (!status.ok()) break;
    if (checkpointing) {
      const auto now = std::chrono::steady_clock::now();
      if (ended || source->records_read() - records_at_checkpoint >= options.checkpoint_records ||
          std::chrono::duration<double>(now - checkpoint_time).count() >=
              options.checkpoint_seconds) {
        status = write_checkpoint();
        if (!status.ok()) break;
        records_at_checkpoint = source->records_read();
        checkpoint_time = now;
      }
    }
    if (ended) break;
  }
  Status close = sink->Close();
  Status dl_close = dead_letters.Close();
  Status late_close = late_file ? late_file->Close() : Status::Ok();
  Status audit_close = audit ? audit->Close() : Status::Ok();
  if (status.ok()) status = audit_close;
  if (status.ok()) status = close;
  if (status.ok()) status = dl_close;
  if (status.ok()) status = late_close;

  summary->records_read = source->records_read();
  summary->records_written = written_before + sink->records_written();
  summary->rejected_on_input = rejects.on_input();
  summary->rejected_in_pipeline = rejects.in_pipeline();
  summary->records_rejected = rejects.total();
  summary->records_held = reorder ? reorder->held() : 0;
  summary->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary->cpu_seconds = CpuSeconds() - cpu_start;
  summary->late_output = late_file ? options.late_output : summary->dead_letter;
  summary->resumed = resuming;
  tally.Fill(summary);
  if (state) summary->features = state->Stats();
  summary->features_cpu_seconds = stage_times.features;
  summary->models_cpu_seconds = stage_times.models;
  summary->decisions_cpu_seconds = stage_times.decisions;
  if (summary->records_rejected == 0 && summary->records_late == 0) summary->dead_letter.clear();
  return status;
}

}  // namespace sluice::runtime
