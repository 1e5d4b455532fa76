#include "server/decision_loop.h"

#include <fmt/format.h>

#include "server/pipeline_info.h"
#include "types/timestamp.h"

namespace sluice::server {

namespace {

std::atomic<uint64_t> g_generations{0};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

ServedPipeline::ServedPipeline(std::shared_ptr<const runtime::Engine> e, bool stamp_time)
    : engine(std::move(e)),
      generation(++g_generations),
      writer(*engine),
      input_fields(InputFields(engine->source_fields())),
      time_field(engine->windows().time_column()),
      stamp_field(stamp_time ? time_field : -1) {}

std::shared_ptr<const ServedPipeline> ServedPipeline::Make(
    std::shared_ptr<const runtime::Engine> engine, bool stamp_time) {
  std::shared_ptr<ServedPipeline> p(new ServedPipeline(std::move(engine), stamp_time));
  p->info_json = PipelineInfoJson(*p->engine);
  return p;
}

PendingDecision::PendingDecision(std::shared_ptr<const ServedPipeline> pipeline,
                                 std::unique_ptr<Batch> events, bool is_batch, bool scores,
                                 OnDone on_done)
    : pipeline_(std::move(pipeline)),
      events_(std::move(events)),
      is_batch_(is_batch),
      scores_(scores),
      on_done_(std::move(on_done)) {}

bool PendingDecision::TryWithdraw() {
  int expected = kQueued;
  return state_.compare_exchange_strong(expected, kWithdrawn);
}

void PendingDecision::Finish() {
  // Moved out first: whatever on_done holds is released once it returns.
  OnDone done = std::move(on_done_);
  on_done_ = nullptr;
  if (done) done(*this);
}

DecisionLoop::DecisionLoop(std::shared_ptr<const ServedPipeline> pipeline,
                           DecisionLoopOptions options, ServerMetrics* metrics)
    : options_(std::move(options)), metrics_(metrics), pipeline_(std::move(pipeline)) {}

Result<std::unique_ptr<DecisionLoop>> DecisionLoop::Start(
    std::shared_ptr<const ServedPipeline> pipeline, DecisionLoopOptions options,
    ServerMetrics* metrics) {
  std::unique_ptr<DecisionLoop> loop(
      new DecisionLoop(std::move(pipeline), std::move(options), metrics));
  loop->state_ = loop->pipeline_->engine->NewFeatureState();
  const bool durable = !loop->options_.state_dir.empty();
  uint64_t audit_last = 0;
  if (durable && !loop->options_.audit.empty()) {
    SLUICE_ASSIGN_OR_RETURN(audit_last, RepairAuditTail(loop->options_.audit));
  }
  // A durable service appends to its audit log across restarts.
  SLUICE_RETURN_IF_ERROR(loop->UsePipeline(/*append_audit=*/durable));
  if (durable) SLUICE_RETURN_IF_ERROR(loop->Recover(audit_last));
  loop->running_ = true;
  loop->thread_ = std::thread([l = loop.get()] { l->Run(); });
  return loop;
}

Status DecisionLoop::UsePipeline(bool append_audit) {
  const runtime::Engine& engine = *pipeline_->engine;
  if (!options_.audit.empty()) {
    if (audit_) SLUICE_RETURN_IF_ERROR(audit_->Flush());
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<runtime::AuditLog> audit,
                            runtime::AuditLog::Open(options_.audit, engine, append_audit));
    if (audit_) (void)audit_->Close();  // flushed above; the new log appends after it
    audit_ = std::move(audit);
  }
  time_column_ = engine.has_windows() ? engine.windows().time_column() : -1;
  work_ = std::make_unique<Batch>(engine.layout(), std::max<size_t>(1, options_.batch_size));
  slots_.clear();
  return Status::Ok();
}

Status DecisionLoop::Recover(uint64_t audit_last) {
  const std::string& dir = options_.state_dir;
  ServeSnapshot snap;
  bool found = false;
  SLUICE_RETURN_IF_ERROR(ReadServeSnapshot(dir, &snap, &found));
  std::string said;
  if (found) {
    features::FeatureState::Carried carried;
    if (state_ && !snap.feature_state.empty()) {
      Status s = state_->LoadMatching(snap.feature_state, &carried);
      if (!s.ok()) return InvalidInput(dir + "/snapshot: " + s.message());
    } else if (state_) {
      for (const auto& c : pipeline_->engine->windows().calls()) {
        carried.reset.push_back(c.signature);
      }
    }
    newest_time_ = snap.newest_time;
    accepted_ = snap.accepted;
    said = fmt::format(
        "restored {}/snapshot ({} events decided; {} windowed aggregates kept "
        "their state, {} start empty)",
        dir, snap.accepted, carried.kept.size(), carried.reset.size());
  }
  if (options_.wal) {
    BatchLayout layout;
    for (const auto& f : pipeline_->input_fields) layout.Add({f.name, f.type, std::nullopt});
    std::unique_ptr<Batch> logged;
    std::string note;
    SLUICE_ASSIGN_OR_RETURN(
        wal_, WriteAheadLog::Open(dir, pipeline_->input_fields, layout, &logged, &note));
    if (!note.empty()) std::fprintf(stderr, "sluice serve: %s\n", note.c_str());
    const size_t fields = pipeline_->input_fields.size();
    size_t replayed = 0;
    bool audited_part = true;  // work_ holds events already in the audit log
    for (size_t row = 0; row < logged->size(); ++row) {
      const uint64_t seq = logged->origin(row).record;
      if (seq <= snap.accepted && found) continue;
      const bool audited = seq <= audit_last;
      if (work_->full() || (work_->size() > 0 && audited != audited_part)) {
        ReplayWork(!audited_part);
      }
      audited_part = audited;
      work_->AppendCopy(*logged, row, fields);
      work_->origin(work_->size() - 1).record = seq;
      if (time_column_ >= 0) {
        newest_time_ = std::max(newest_time_, logged->column(time_column_).data<int64_t>()[row]);
      }
      accepted_ = std::max(accepted_, seq);
      ++replayed;
    }
    ReplayWork(!audited_part);
    if (replayed > 0) {
      said += fmt::format("{}decided again the {} events of {}/wal after it",
                          said.empty() ? "" : "; ", replayed, dir);
    }
  }
  accepted_ = std::max(accepted_, audit_last);
  if (!said.empty()) std::fprintf(stderr, "sluice serve: %s\n", said.c_str());
  return TakeSnapshot();
}

void DecisionLoop::ReplayWork(bool audit) {
  if (work_->size() == 0) return;
  pipeline_->engine->Process(*work_, state_.get());
  if (audit && audit_) {
    Status s = audit_->Write(*work_);
    if (!s.ok()) Fail(s, "audit log");
  }
  work_->Clear();
}

Status DecisionLoop::TakeSnapshot() {
  if (options_.state_dir.empty()) return Status::Ok();
  ServeSnapshot snap;
  snap.pipeline_hash = pipeline_->engine->spec().content_hash;
  snap.accepted = accepted_;
  snap.newest_time = newest_time_;
  if (state_) snap.feature_state = state_->Save();
  Status s = WriteServeSnapshot(options_.state_dir, snap);
  if (s.ok() && audit_) s = audit_->Sync();
  if (s.ok() && wal_) s = wal_->Reset(pipeline_->input_fields);
  metrics_->CountSnapshot(s.ok() ? "ok" : "failed");
  if (options_.snapshot_every.count() > 0) {
    next_snapshot_ = std::chrono::steady_clock::now() + options_.snapshot_every;
  }
  return s;
}

Status DecisionLoop::Snapshot() {
  std::lock_guard<std::mutex> serial(reload_serial_);
  std::unique_lock<std::mutex> lock(mu_);
  if (options_.state_dir.empty()) return InvalidArgument("the service has no --state-dir");
  if (stopping_) return Internal("the service is shutting down");
  snapshot_asked_ = true;
  snapshot_done_.reset();
  lock.unlock();
  wake_.notify_one();
  lock.lock();
  reloaded_.wait(lock, [this] { return snapshot_done_.has_value(); });
  Status s = *snapshot_done_;
  snapshot_done_.reset();
  return s;
}

void DecisionLoop::Fail(const Status& s, const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failure_.empty()) failure_ = what + ": " + s.message();
  if (stop_status_.ok()) stop_status_ = s;
  running_ = false;
}

ReloadOutcome DecisionLoop::Reload(std::shared_ptr<const ServedPipeline> next) {
  std::lock_guard<std::mutex> serial(reload_serial_);
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) {
    ReloadOutcome out;
    out.status = Internal("the service is shutting down");
    return out;
  }
  reload_ = std::move(next);
  reload_done_.reset();
  lock.unlock();
  wake_.notify_one();
  lock.lock();
  reloaded_.wait(lock, [this] { return reload_done_.has_value(); });
  ReloadOutcome out = std::move(*reload_done_);
  reload_done_.reset();
  lock.unlock();
  reloaded_.notify_all();
  return out;
}

void DecisionLoop::SwapPipeline() {
  std::shared_ptr<const ServedPipeline> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!reload_ || reload_done_.has_value()) return;
    next = reload_;
  }
  ReloadOutcome out;
  out.pipeline = next;
  std::unique_ptr<features::FeatureState> state = next->engine->NewFeatureState();
  if (state && state_) {
    out.status = state->LoadMatching(state_->Save(), &out.carried);
  } else if (state) {
    for (const auto& c : next->engine->windows().calls()) out.carried.reset.push_back(c.signature);
  }
  if (out.status.ok()) {
    std::shared_ptr<const ServedPipeline> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old = pipeline_;
      pipeline_ = next;
    }
    Status s = UsePipeline(/*append_audit=*/true);
    if (s.ok()) {
      state_ = std::move(state);
      metrics_->SetPipeline(*next->engine);
      // The write-ahead log starts again for the new input fields.
      Status snap = TakeSnapshot();
      if (!snap.ok()) Fail(snap, "snapshot after a reload");
    } else {
      // The new audit log could not be opened: keep serving the old pipeline.
      std::lock_guard<std::mutex> lock(mu_);
      pipeline_ = old;
      out.status = s;
    }
    if (!s.ok()) (void)UsePipeline(/*append_audit=*/true);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    reload_.reset();
    reload_done_ = std::move(out);
  }
  reloaded_.notify_all();
}

DecisionLoop::~DecisionLoop() {
  (void)Stop();
}

std::shared_ptr<const ServedPipeline> DecisionLoop::pipeline() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pipeline_;
}

std::string DecisionLoop::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

DecisionLoop::Admission DecisionLoop::Enqueue(std::shared_ptr<PendingDecision> request) {
  const size_t n = request->num_events();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return Admission::kStopped;
  if (queued_events_ + n > options_.queue_events) return Admission::kQueueFull;
  queued_events_ += n;
  queue_.push_back(std::move(request));
  metrics_->SetQueuedEvents(queued_events_);
  return Admission::kQueued;
}

void DecisionLoop::Drive(size_t max_rounds) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) return;
  }
  // The decision thread's wait checks the queue under mu_, so a request
  // queued while another thread decides is never left behind: that thread
  // takes it in its next round, or the decision thread wakes to it.
  if (options_.delay.count() == 0 && engine_mu_.try_lock()) {
    std::vector<std::shared_ptr<PendingDecision>> round;
    for (size_t i = 0; i < max_rounds && DecideRound(round); ++i) {
    }
    engine_mu_.unlock();
    bool more = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      more = !queue_.empty();
    }
    if (more) wake_.notify_one();
  } else {
    wake_.notify_one();
  }
}

Status DecisionLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  running_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (reload_ && !reload_done_.has_value()) {
      reload_done_ = ReloadOutcome{Internal("the service is shutting down"), reload_, {}};
    }
    if (snapshot_asked_ && !snapshot_done_.has_value()) {
      snapshot_asked_ = false;
      snapshot_done_ = Internal("the service is shutting down");
    }
  }
  reloaded_.notify_all();
  std::lock_guard<std::mutex> engine(engine_mu_);
  if (audit_) {
    Status s = audit_->Close();
    audit_.reset();
    if (stop_status_.ok()) stop_status_ = s;
  }
  return stop_status_;
}

bool DecisionLoop::DecideRound(std::vector<std::shared_ptr<PendingDecision>>& round) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t events = 0;
    while (!queue_.empty() &&
           (round.empty() || events + queue_.front()->num_events() <= options_.batch_size)) {
      events += queue_.front()->num_events();
      round.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_events_ -= events;
    metrics_->SetQueuedEvents(queued_events_);
  }
  if (round.empty()) return false;
  Decide(round);
  round.clear();
  return true;
}

void DecisionLoop::Run() {
  std::vector<std::shared_ptr<PendingDecision>> round;
  const bool periodic = !options_.state_dir.empty() && options_.snapshot_every.count() > 0;
  for (;;) {
    bool reload = false, snapshot = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto pred = [this] {
        return !queue_.empty() || stopping_ || (reload_ && !reload_done_.has_value()) ||
               snapshot_asked_;
      };
      if (periodic) {
        wake_.wait_until(lock, next_snapshot_, pred);
      } else {
        wake_.wait(lock, pred);
      }
      reload = reload_ && !reload_done_.has_value();
      snapshot =
          snapshot_asked_ || (periodic && std::chrono::steady_clock::now() >= next_snapshot_);
      if (queue_.empty() && !reload && !snapshot && stopping_) break;  // all decided
    }
    std::lock_guard<std::mutex> engine(engine_mu_);
    if (reload) {
      SwapPipeline();
      continue;
    }
    if (snapshot) {
      Status s = TakeSnapshot();
      if (!s.ok()) std::fprintf(stderr, "sluice serve: snapshot: %s\n", s.message().c_str());
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (snapshot_asked_) {
          snapshot_asked_ = false;
          snapshot_done_ = s;
        }
      }
      reloaded_.notify_all();
      continue;
    }
    // Everything queued (an event loop may have decided it meanwhile).
    for (;;) {
      if (options_.delay.count() > 0) std::this_thread::sleep_for(options_.delay);
      if (!DecideRound(round)) break;
    }
  }
  std::lock_guard<std::mutex> engine(engine_mu_);
  if (!options_.state_dir.empty()) {
    Status s = TakeSnapshot();
    if (!s.ok()) Fail(s, "snapshot");
  }
}

void DecisionLoop::Decide(const std::vector<std::shared_ptr<PendingDecision>>& round) {
  const auto start = std::chrono::steady_clock::now();
  const ServedPipeline& pipeline = *pipeline_;
  std::vector<PendingDecision*> taken;
  size_t processed = 0;
  for (const auto& r : round) {
    int expected = PendingDecision::kQueued;
    if (!r->state_.compare_exchange_strong(expected, PendingDecision::kTaken))
      continue;  // withdrawn
    taken.push_back(r.get());
    const size_t n = r->events_->size();
    r->outcomes_.resize(n);
    if (r->pipeline_.get() != &pipeline) {
      // Parsed for a pipeline replaced since (a reload): the server parses
      // it again for the new one.
      for (EventOutcome& o : r->outcomes_) o = {0, {}};
      continue;
    }
    if (pipeline.stamp_field >= 0) {
      Column& c = r->events_->column(pipeline.stamp_field);
      int64_t* t = c.data<int64_t>();
      uint8_t* valid = c.valid();
      const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      for (size_t e = 0; e < n; ++e) {
        if (valid[e] == 0) {
          t[e] = std::max(now, newest_time_);
          valid[e] = 1;
        }
      }
    }
    const int64_t* times =
        time_column_ >= 0 ? r->events_->column(time_column_).data<int64_t>() : nullptr;
    for (size_t e = 0; e < n; ++e) {
      if (times != nullptr) {
        const int64_t t = times[e];
        if (t < newest_time_) {
          const std::string& field = pipeline.input_fields[static_cast<size_t>(time_column_)].name;
          r->outcomes_[e] = {
              409, ErrorJson(409, "late_event",
                             fmt::format("late: event time {} is before {}, the newest event time "
                                         "already processed; windowed state moves in event-time "
                                         "order, so an older event cannot be decided any more",
                                         FormatIso8601(t), FormatIso8601(newest_time_)),
                             field, r->is_batch_ ? static_cast<int64_t>(e) : -1)};
          metrics_->CountLateEvent();
          continue;
        }
        newest_time_ = t;
      }
      if (work_->full()) ProcessWork();
      work_->AppendCopy(*r->events_, e, pipeline.input_fields.size());
      const size_t row = work_->size() - 1;
      work_->origin(row).record = ++accepted_;
      slots_.push_back({r.get(), e});
      ++processed;
    }
  }
  ProcessWork();
  if (wal_ && processed > 0) {
    // Answers are sent only once their events are on disk.
    Status s = wal_->Sync();
    if (s.ok() && audit_) s = audit_->Sync();
    if (!s.ok()) {
      Fail(s, "write-ahead log");
      for (PendingDecision* r : taken) {
        for (EventOutcome& o : r->outcomes_) {
          if (o.status != 200) continue;
          o = {500, ErrorJson(500, "not_durable",
                              "the write-ahead log could not be written (" + s.message() +
                                  "); the event was decided but may be lost by a crash")};
        }
      }
    }
  }
  if (state_) metrics_->SetLiveKeys(state_->live_keys());
  metrics_->ObserveBatch(processed, Seconds(start));
  for (PendingDecision* r : taken) r->Finish();
}

void DecisionLoop::ProcessWork() {
  if (work_->size() == 0) return;
  const ServedPipeline& pipeline = *pipeline_;
  const runtime::Engine& engine = *pipeline.engine;
  engine.Process(*work_, state_.get());
  if (wal_) wal_->Append(*work_);
  if (audit_) {
    Status s = audit_->Write(*work_);
    if (s.ok() && !wal_) s = audit_->Flush();  // with a log: synced before answering
    // Decisions are still answered; the service stops being ready so that
    // a load balancer takes it out, and says why.
    if (!s.ok()) Fail(s, "audit log");
  }
  const decide::DecisionStage* stage = engine.decision();
  const bool decides = stage != nullptr && stage->has_decision();
  for (size_t row = 0; row < work_->size(); ++row) {
    const Slot& slot = slots_[row];
    EventOutcome& o = slot.request->outcomes_[slot.event];
    const uint32_t error = work_->row_error(row);
    if (error != 0) {
      o = {422, ErrorJson(422, "pipeline_error", engine.errors().Get(error), {},
                          slot.request->is_batch_ ? static_cast<int64_t>(slot.event) : -1)};
      metrics_->CountPipelineError();
      continue;
    }
    o.status = 200;
    o.json.clear();
    pipeline.writer.Append(*work_, row, slot.request->scores_, &o.json);
    int32_t action = -1;
    if (decides) {
      const Column& c = work_->column(stage->action_column());
      if (c.is_valid(row)) action = c.data<int32_t>()[row];
    }
    metrics_->CountDecision(action);
  }
  work_->Clear();
  slots_.clear();
}

}  // namespace sluice::server
