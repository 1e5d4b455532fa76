#pragma once
// The service's metrics, kept with prometheus-cpp and rendered in the
// Prometheus text format (version 0.0.4) on GET /metrics. Every name starts
// with `sluice_`; docs/serve.md lists them.
//
// Thread safety: every method may be called from any thread, except
// CountDecision and SetPipeline, which belong to the decision thread.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/engine.h"

namespace sluice::server {

// The request handlers, as the `handler` label names them.
enum class Handler : uint8_t {
  kDecide,
  kPipeline,
  kHealth,
  kReady,
  kMetrics,
  kOpenApi,
  kAdmin,
  kOther,
};
inline constexpr size_t kNumHandlers = 8;
std::string_view HandlerLabel(Handler h);
// The handler a request path belongs to ("/v1/decide" -> kDecide, ...).
Handler HandlerForPath(std::string_view path);

class ServerMetrics {
 public:
  explicit ServerMetrics(const runtime::Engine& engine);

  // The text format, for GET /metrics.
  std::string Render() const;

  // One answered HTTP request (every one, including those httplib refuses itself).
  void CountRequest(Handler handler, int status);
  // Time from the handler's start to its answer.
  void ObserveLatency(Handler handler, double seconds);
  // A decided event, by the index of its action in the action type (-1: no action).
  void CountDecision(int32_t action);
  // A request refused before it reached the decision thread: "invalid_json",
  // "invalid_field", "too_large", ... (the error codes of the answers).
  void CountRejectedInput(std::string_view reason);
  void CountLateEvent() { late_events_->Increment(); }
  void CountPipelineError() { pipeline_errors_->Increment(); }
  // A request answered 503: "queue_full", "timeout" or "shutting_down".
  void CountOverload(std::string_view reason);
  void SetLiveKeys(size_t n) { live_keys_->Set(static_cast<double>(n)); }
  void SetQueuedEvents(size_t n) { queued_events_->Set(static_cast<double>(n)); }
  // One Engine::Process call of the decision thread.
  void ObserveBatch(size_t events, double seconds);
  // A reloaded pipeline: its actions label sluice_decisions_total from now
  // on, and sluice_pipeline_info names it.
  void SetPipeline(const runtime::Engine& engine);
  // A reload asked for: "ok", "invalid" (the new pipeline has errors) or
  // "failed" (it could not be swapped in).
  void CountReload(std::string_view result);
  // Snapshots written ("ok") or failed ("failed").
  void CountSnapshot(std::string_view result);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  // Counters of `requests_` by handler and status, made on first use.
  std::array<std::array<std::atomic<prometheus::Counter*>, 600>, kNumHandlers> request_counters_{};
  std::array<prometheus::Histogram*, kNumHandlers> latency_{};
  prometheus::Family<prometheus::Gauge>* info_;
  prometheus::Gauge* info_gauge_ = nullptr;
  prometheus::Family<prometheus::Counter>* decisions_family_;
  std::vector<prometheus::Counter*> decisions_;  // by action index; last: no action
  prometheus::Family<prometheus::Counter>* reloads_;
  prometheus::Family<prometheus::Counter>* snapshots_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Family<prometheus::Counter>* overload_;
  prometheus::Counter* late_events_;
  prometheus::Counter* pipeline_errors_;
  prometheus::Gauge* live_keys_;
  prometheus::Gauge* queued_events_;
  prometheus::Histogram* batch_events_;
  prometheus::Histogram* batch_seconds_;
};

}  // namespace sluice::server
