#include "server/metrics.h"

#include <prometheus/text_serializer.h>

namespace sluice::server {

namespace {

constexpr std::string_view kHandlerLabels[kNumHandlers] = {
    "decide", "pipeline", "healthz", "readyz", "metrics", "openapi", "admin", "other"};

// Request latency: 25 us to 2.5 s; the service aims at well under 1 ms.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5};

}  // namespace

std::string_view HandlerLabel(Handler h) {
  return kHandlerLabels[static_cast<size_t>(h)];
}

Handler HandlerForPath(std::string_view path) {
  if (path == "/v1/decide") return Handler::kDecide;
  if (path == "/v1/pipeline") return Handler::kPipeline;
  if (path == "/healthz") return Handler::kHealth;
  if (path == "/readyz") return Handler::kReady;
  if (path == "/metrics") return Handler::kMetrics;
  if (path == "/openapi.json") return Handler::kOpenApi;
  if (path.rfind("/admin/", 0) == 0 || path == "/admin") return Handler::kAdmin;
  return Handler::kOther;
}

ServerMetrics::ServerMetrics(const runtime::Engine& engine)
    : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  info_ = &BuildGauge()
               .Name("sluice_pipeline_info")
               .Help("The pipeline being served (always 1)")
               .Register(*registry_);
  requests_ = &BuildCounter()
                   .Name("sluice_http_requests_total")
                   .Help("HTTP requests answered, by handler and status code")
                   .Register(*registry_);
  auto& latency = BuildHistogram()
                      .Name("sluice_http_request_duration_seconds")
                      .Help("Time from the start of a request's handler to its answer")
                      .Register(*registry_);
  for (size_t h = 0; h < kNumHandlers; ++h) {
    latency_[h] = &latency.Add({{"handler", std::string(kHandlerLabels[h])}}, kLatencyBuckets);
  }
  decisions_family_ = &BuildCounter()
                           .Name("sluice_decisions_total")
                           .Help("Events decided, by the decision's action")
                           .Register(*registry_);
  reloads_ = &BuildCounter()
                  .Name("sluice_reloads_total")
                  .Help("Pipeline reloads asked for, by result (ok, invalid, failed)")
                  .Register(*registry_);
  snapshots_ = &BuildCounter()
                    .Name("sluice_snapshots_total")
                    .Help("Snapshots of the windowed state, by result (ok, failed)")
                    .Register(*registry_);
  SetPipeline(engine);
  rejected_ = &BuildCounter()
                   .Name("sluice_rejected_inputs_total")
                   .Help("Requests refused before any of their events was processed, by reason")
                   .Register(*registry_);
  overload_ = &BuildCounter()
                   .Name("sluice_overload_total")
                   .Help("Requests answered 503 (not processed), by reason")
                   .Register(*registry_);
  for (const char* reason : {"queue_full", "timeout", "shutting_down"})
    overload_->Add({{"reason", reason}});
  for (const char* reason : {"invalid_json", "invalid_field", "too_large"})
    rejected_->Add({{"reason", reason}});
  late_events_ = &BuildCounter()
                      .Name("sluice_late_events_total")
                      .Help("Events refused because they are older than an event already processed")
                      .Register(*registry_)
                      .Add({});
  pipeline_errors_ =
      &BuildCounter()
           .Name("sluice_pipeline_errors_total")
           .Help("Events the pipeline rejected while evaluating them (e.g. integer overflow)")
           .Register(*registry_)
           .Add({});
  live_keys_ = &BuildGauge()
                    .Name("sluice_live_keys")
                    .Help("Keys with windowed state, over every `by` clause")
                    .Register(*registry_)
                    .Add({});
  queued_events_ = &BuildGauge()
                        .Name("sluice_queued_events")
                        .Help("Events waiting to be decided")
                        .Register(*registry_)
                        .Add({});
  batch_events_ = &BuildHistogram()
                       .Name("sluice_decision_batch_events")
                       .Help("Events per batch decided at once")
                       .Register(*registry_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                        256, 512, 1024});
  batch_seconds_ =
      &BuildHistogram()
           .Name("sluice_decision_batch_seconds")
           .Help("Time spent deciding one batch (engine, audit, answers)")
           .Register(*registry_)
           .Add({}, kLatencyBuckets);
}

std::string ServerMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void ServerMetrics::CountRequest(Handler handler, int status) {
  if (status < 0 || status >= 600) status = 599;
  auto& slot = request_counters_[static_cast<size_t>(handler)][static_cast<size_t>(status)];
  prometheus::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    // Family::Add returns the same counter for the same labels, so two
    // threads racing here store the same pointer.
    c = &requests_->Add(
        {{"handler", std::string(HandlerLabel(handler))}, {"code", std::to_string(status)}});
    slot.store(c, std::memory_order_release);
  }
  c->Increment();
}

void ServerMetrics::ObserveLatency(Handler handler, double seconds) {
  latency_[static_cast<size_t>(handler)]->Observe(seconds);
}

void ServerMetrics::CountDecision(int32_t action) {
  const size_t none = decisions_.size() - 1;
  const size_t i =
      action >= 0 && static_cast<size_t>(action) < none ? static_cast<size_t>(action) : none;
  decisions_[i]->Increment();
}

void ServerMetrics::SetPipeline(const runtime::Engine& engine) {
  const auto& spec = engine.spec();
  if (info_gauge_ != nullptr) info_->Remove(info_gauge_);
  info_gauge_ = &info_->Add(
      {{"pipeline", spec.name}, {"version", spec.version}, {"content_hash", spec.content_hash}});
  info_gauge_->Set(1);
  decisions_.clear();
  const decide::DecisionStage* stage = engine.decision();
  if (stage != nullptr && stage->has_decision()) {
    const auto& domain = *stage->action_type().domain;
    for (size_t a = 0; a < domain.size(); ++a) {
      decisions_.push_back(
          &decisions_family_->Add({{"action", std::string(domain.Name(static_cast<int32_t>(a)))}}));
    }
  }
  decisions_.push_back(&decisions_family_->Add({{"action", "none"}}));
}

void ServerMetrics::CountReload(std::string_view result) {
  reloads_->Add({{"result", std::string(result)}}).Increment();
}

void ServerMetrics::CountSnapshot(std::string_view result) {
  snapshots_->Add({{"result", std::string(result)}}).Increment();
}

void ServerMetrics::CountRejectedInput(std::string_view reason) {
  rejected_->Add({{"reason", std::string(reason)}}).Increment();
}

void ServerMetrics::CountOverload(std::string_view reason) {
  overload_->Add({{"reason", std::string(reason)}}).Increment();
}

void ServerMetrics::ObserveBatch(size_t events, double seconds) {
  batch_events_->Observe(static_cast<double>(events));
  batch_seconds_->Observe(seconds);
}

}  // namespace sluice::server
