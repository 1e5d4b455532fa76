#pragma once
// The decision thread: the one thread that owns the windowed state and runs
// the engine for `sluice serve`.
//
// The HTTP event loops (server/internal/http_server.h) parse and validate
// request bodies into batches of typed events (server/request_parser.h)
// and Enqueue them here; the queue is bounded in events, and a full queue
// refuses the request at once (answered 503 with Retry-After) instead of
// letting latency grow. Whoever decides takes every request queued (up to
// --batch-size events, whole requests, in arrival order), copies their
// events into one batch, runs Engine::Process once, writes the audit
// records, renders each event's answer and calls each request's on_done.
// Requests from many connections are thus decided together, one Process
// call per micro-batch.
//
// Whoever decides: one thread at a time holds the engine (engine_mu_). An
// event loop calls Drive() after each round of ready sockets: when nobody
// decides, it decides the queue itself, on its own thread, so the common
// path has no thread hand-off at all; otherwise the decision thread (or the
// loop deciding now) takes the requests. The decision thread also carries
// out reloads and snapshots, between rounds.
//
// Arrival order is the order of Enqueue calls. Windowed state is updated in
// that order, as `sluice stream` does with lateness 0, so for the same
// events in the same order the answers are those of `sluice run`, byte for
// byte. An event whose event time is older than the newest event time
// already processed cannot be put in its place any more: it is answered 409
// (late) and not processed. Equal times are fine (ties go in arrival order,
// as in batch).
//
// A request whose deadline passes is withdrawn (TryWithdraw) if nobody has
// taken it yet (then nothing of it was processed); once taken it is always
// decided and answered.
//
// The engine is held through a shared ServedPipeline that only the
// deciding thread replaces, between batches; each request records the
// pipeline it was parsed for, and the feature state and audit log are
// reachable only by the thread holding engine_mu_.
//
// Thread safety: Enqueue, Drive, pipeline(), running(), Reload, Snapshot
// and Stop may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "features/feature_state.h"
#include "runtime/audit_log.h"
#include "runtime/engine.h"
#include "server/decision_json.h"
#include "server/durable_state.h"
#include "server/metrics.h"
#include "server/request_parser.h"
#include "sluice/status.h"
#include "types/batch.h"

namespace sluice::server {

// A pipeline being served and what is derived from it once.
struct ServedPipeline {
  // `stamp_time`: events may leave out the event-time field (serve
  // --stamp-time).
  static std::shared_ptr<const ServedPipeline> Make(std::shared_ptr<const runtime::Engine> engine,
                                                    bool stamp_time = false);

  std::shared_ptr<const runtime::Engine> engine;
  uint64_t generation = 0;  // unique in the process: parsers made for it are keyed by it
  std::string info_json;    // GET /v1/pipeline
  DecisionWriter writer;
  std::vector<io::SourceField> input_fields;  // field i in column i
  int time_field = -1;                        // the event-time field's index (= its column), or -1
  int stamp_field = -1;                       // time_field under --stamp-time, else -1

 private:
  explicit ServedPipeline(std::shared_ptr<const runtime::Engine> e, bool stamp_time);
};

// What a reload did (POST /admin/reload, SIGHUP).
struct ReloadOutcome {
  Status status;  // not ok: nothing changed
  std::shared_ptr<const ServedPipeline> pipeline;
  features::FeatureState::Carried carried;  // windowed aggregates kept and reset
};

// One event's answer.
struct EventOutcome {
  // 200 decided, 409 late, 422 rejected by the pipeline, 503 not processed;
  // 0: not processed because the request was parsed for a pipeline replaced
  // since (a reload); the server parses it again and queues it again.
  int status = 0;
  std::string json;  // the decision object, or {"error":{...}}
};

// A request on its way through the decision loop, held by the queue.
class PendingDecision {
 public:
  // Called once the request is decided, on the deciding thread, with the
  // outcomes filled in. It must not block.
  using OnDone = std::function<void(PendingDecision&)>;

  // `events`: rows in the columns of `pipeline`'s input fields; `is_batch`:
  // the request was an array (errors then name the event's index);
  // `scores`: answers add every model output.
  PendingDecision(std::shared_ptr<const ServedPipeline> pipeline, std::unique_ptr<Batch> events,
                  bool is_batch, bool scores, OnDone on_done);

  // Withdraws the request if nobody has taken it yet: then none of its
  // events is processed and on_done is never called. False when taken
  // (on_done comes).
  bool TryWithdraw();
  // One per event, in request order; filled in before on_done.
  const std::vector<EventOutcome>& outcomes() const { return outcomes_; }
  size_t num_events() const { return events_->size(); }
  bool is_batch() const { return is_batch_; }

 private:
  friend class DecisionLoop;
  enum State : int { kQueued, kTaken, kWithdrawn };
  void Finish();

  std::shared_ptr<const ServedPipeline> pipeline_;
  std::unique_ptr<Batch> events_;
  bool is_batch_;
  bool scores_;
  OnDone on_done_;
  std::atomic<int> state_{kQueued};
  std::vector<EventOutcome> outcomes_;
};

struct DecisionLoopOptions {
  size_t queue_events = 4096;  // events waiting, at most
  size_t batch_size = 256;     // events per Engine::Process, at most
  std::string audit;           // "" = none; else one JSON line per decided event
  // Durability (server/durable_state.h): "" = state in memory only.
  std::string state_dir;
  std::chrono::seconds snapshot_every{60};  // 0: only on shutdown, reload and request
  bool wal = false;                         // log every decided event before answering
  // Test hook: the decision thread sleeps this long before it takes each
  // round of requests (to fill the queue on purpose).
  std::chrono::milliseconds delay{0};
};

class DecisionLoop {
 public:
  // Makes the feature state, opens the audit log and starts the thread.
  static Result<std::unique_ptr<DecisionLoop>> Start(std::shared_ptr<const ServedPipeline> pipeline,
                                                     DecisionLoopOptions options,
                                                     ServerMetrics* metrics);
  ~DecisionLoop();

  enum class Admission { kQueued, kQueueFull, kStopped };
  // Queues a request; nobody decides it before the next Drive() (or the
  // decision thread's next round).
  Admission Enqueue(std::shared_ptr<PendingDecision> request);
  // Decides what is queued now, on this thread, when nobody else is
  // deciding (up to `max_rounds` rounds); otherwise, and for what is left,
  // wakes the decision thread.
  void Drive(size_t max_rounds = 64);

  // The pipeline new requests should be parsed for.
  std::shared_ptr<const ServedPipeline> pipeline() const;
  // Swaps `next` in between two rounds of requests, keeping the windowed
  // state of the aggregates it defines as the served pipeline does
  // (FeatureState::LoadMatching); waits until that is done. Requests parsed
  // for the old pipeline and not yet decided come back with status 0.
  ReloadOutcome Reload(std::shared_ptr<const ServedPipeline> next);

  // Writes a snapshot now (POST /admin/snapshot), between two rounds.
  // REQUIRES: options.state_dir set.
  Status Snapshot();

  // True from Start until Stop, while the audit log works.
  bool running() const { return running_.load(); }
  // The first audit-log failure ("" while none).
  std::string failure() const;

  // Refuses new requests, decides every request already queued, closes the
  // audit log and joins the thread. Idempotent.
  Status Stop();

 private:
  DecisionLoop(std::shared_ptr<const ServedPipeline> pipeline, DecisionLoopOptions options,
               ServerMetrics* metrics);
  void Run();
  // Takes the next round of requests from the queue and decides it; false
  // when the queue is empty. REQUIRES: engine_mu_ held.
  bool DecideRound(std::vector<std::shared_ptr<PendingDecision>>& round);
  // Decides the requests of one round, in order.
  void Decide(const std::vector<std::shared_ptr<PendingDecision>>& round);
  // Runs the engine over work_ and fills in the answers of its rows.
  void ProcessWork();
  // On the decision thread: carries out the reload asked for, if any.
  void SwapPipeline();
  // Makes work_ and the audit log for pipeline_ (the state is made by the caller).
  Status UsePipeline(bool append_audit);
  // Loads the snapshot and decides the logged events again (Start).
  Status Recover(uint64_t audit_last);
  // Runs the engine over work_ for recovery, with audit records or not.
  void ReplayWork(bool audit);
  // Writes a snapshot and empties the write-ahead log.
  Status TakeSnapshot();
  // Records a failure of the audit or write-ahead log: not ready any more.
  void Fail(const Status& s, const std::string& what);

  const DecisionLoopOptions options_;
  ServerMetrics* const metrics_;

  // Queue, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<PendingDecision>> queue_;
  size_t queued_events_ = 0;
  bool stopping_ = false;
  std::shared_ptr<const ServedPipeline> pipeline_;  // written by the decision thread only
  std::string failure_;
  Status stop_status_;
  // A reload asked for and not yet carried out, and its outcome.
  std::shared_ptr<const ServedPipeline> reload_;
  std::optional<ReloadOutcome> reload_done_;
  std::condition_variable reloaded_;
  std::mutex reload_serial_;  // one Reload or Snapshot at a time
  bool snapshot_asked_ = false;
  std::optional<Status> snapshot_done_;

  // Held by the thread that decides: the decision thread, or an event loop
  // that found nobody deciding (Drive). Guards everything below.
  std::mutex engine_mu_;
  std::unique_ptr<features::FeatureState> state_;
  std::unique_ptr<runtime::AuditLog> audit_;
  std::unique_ptr<WriteAheadLog> wal_;
  std::chrono::steady_clock::time_point next_snapshot_;
  std::unique_ptr<Batch> work_;
  struct Slot {
    PendingDecision* request;
    size_t event;
  };
  std::vector<Slot> slots_;  // per row of work_
  int time_column_ = -1;     // in the input columns; -1 without windows
  int64_t newest_time_ = INT64_MIN;
  uint64_t accepted_ = 0;  // events processed, numbering audit records

  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace sluice::server
