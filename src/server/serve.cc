// The HTTP side of `sluice serve`: routes, authentication, limits and
// answers, over the service's own HTTP/1.1 event loops
// (server/internal/http_server.h).

#include "server/serve.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "pipeline/spec.h"
#include "server/decision_loop.h"
#include "server/internal/http_server.h"
#include "server/internal/openapi_document.h"
#include "server/metrics.h"
#include "server/request_parser.h"

namespace sluice::server {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";

struct ListenAddress {
  std::string host;
  int port = 0;
};

Result<ListenAddress> ParseListen(const std::string& text) {
  const size_t colon = text.rfind(':');
  auto bad = [&text](const std::string& why) {
    return InvalidArgument(
        "--listen expects HOST:PORT such as 127.0.0.1:8080 or [::1]:8080, found '" + text +
        "': " + why);
  };
  if (colon == std::string::npos) return bad("no ':PORT'");
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  if (a.host.empty()) return bad("no host (use 0.0.0.0 to listen on every address)");
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return bad("the port must be a number from 0 to 65535");
  }
  a.port = std::stoi(port);
  if (a.port > 65535) return bad("the port must be a number from 0 to 65535");
  return a;
}

Result<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read the token file " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  const size_t begin = token.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return InvalidArgument("the token file " + path + " is empty: write the bearer token in it");
  }
  token = token.substr(begin, token.find_last_not_of(" \t\r\n") - begin + 1);
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return InvalidArgument("the token in " + path +
                             " holds a space or control character; a bearer token is one word");
    }
  }
  return token;
}

// Compares in time that does not depend on where the strings differ.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

using internal::HttpRequest;
using internal::HttpResponder;
using internal::HttpResponse;

HttpResponse Reply(int status, std::string body, const char* type = kJson) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = type;
  return r;
}

HttpResponse ReplyError(int status, std::string_view code, std::string_view message,
                        std::string_view field = {}, int64_t event = -1) {
  HttpResponse r = Reply(status, ErrorJson(status, code, message, field, event) + "\n");
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool IsGet(const HttpRequest& req) {
  return req.method == "GET" || req.method == "HEAD";
}

// A /v1/decide request on its way: parsed, queued, decided, answered. Held
// by the queued PendingDecision's on_done (and, weakly, by its timeout).
struct DecideCall {
  HttpResponder responder;
  std::string body;
  bool scores = false;
  int attempts = 0;
  std::mutex mu;
  std::weak_ptr<PendingDecision> pending;  // the attempt queued now
};

}  // namespace

struct DecisionServer::Impl {
  ServeOptions options;
  ListenAddress address;
  std::string token;  // "" = no authentication
  std::unique_ptr<ServerMetrics> metrics;
  std::unique_ptr<DecisionLoop> loop;
  std::unique_ptr<internal::HttpServer> http;
  std::atomic<bool> shutting_down{false};
  bool shut_down = false;
  Status shutdown_status;
  // Admin requests (reload, snapshot) run on threads of their own, so that
  // the event loops never wait for them.
  std::mutex admin_mu;
  std::vector<std::thread> admin_threads;

  void Route(HttpRequest& req, HttpResponder responder);
  bool Authorized(const HttpRequest& req) const;
  // Checks the bearer token for `req` (admin endpoints always need one);
  // fills in the 401 or 403 answer and returns false when it is missing or
  // wrong.
  bool Admit(const HttpRequest& req, HttpResponse* refusal) const;
  // Takes the request's body.
  void Decide(HttpRequest& req, HttpResponder responder);
  // Parses the call's body for the pipeline served now and queues it;
  // false when it was refused (and answered) instead.
  bool StartDecide(const std::shared_ptr<DecideCall>& call);
  // On the deciding thread: the answer, or another attempt after a reload.
  void Decided(const std::shared_ptr<DecideCall>& call, PendingDecision& pending);
  ReloadReport Reload();
  HttpResponse Ready();
  HttpResponse Snapshot();
  void RunAdmin(std::function<HttpResponse()> task, HttpResponder responder);
  DecideRequestParser& ParserFor(const ServedPipeline& pipeline);
};

bool DecisionServer::Impl::Authorized(const HttpRequest& req) const {
  const std::string* header = req.Header("authorization");
  if (header == nullptr) return false;
  constexpr std::string_view kScheme = "bearer ";
  if (header->size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (static_cast<char>(std::tolower(static_cast<unsigned char>((*header)[i]))) != kScheme[i]) {
      return false;
    }
  }
  std::string_view presented(*header);
  presented.remove_prefix(kScheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  return SameSecret(presented, token);
}

bool DecisionServer::Impl::Admit(const HttpRequest& req, HttpResponse* refusal) const {
  const Handler h = HandlerForPath(req.path);
  if (h == Handler::kHealth || h == Handler::kReady) return true;
  if (h == Handler::kAdmin && token.empty()) {
    *refusal = ReplyError(403, "forbidden",
                          "admin endpoints are refused unless the service has a token "
                          "(--token-file)");
    return false;
  }
  if (token.empty() || Authorized(req)) return true;
  *refusal = ReplyError(401, "unauthorized",
                        req.Header("authorization") != nullptr
                            ? "the bearer token is wrong"
                            : "this endpoint needs 'Authorization: Bearer TOKEN' (--token-file)");
  refusal->headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
  return false;
}

DecideRequestParser& DecisionServer::Impl::ParserFor(const ServedPipeline& pipeline) {
  // One parser per thread, made again when the pipeline changes
  // (generations are unique in the process, so parsers of another server
  // in the same process are never reused by mistake).
  thread_local uint64_t generation = 0;
  thread_local std::unique_ptr<DecideRequestParser> parser;
  if (!parser || generation != pipeline.generation) {
    parser = std::make_unique<DecideRequestParser>(pipeline.engine->source_fields(),
                                                   options.queue_events, pipeline.stamp_field);
    generation = pipeline.generation;
  }
  return *parser;
}

void DecisionServer::Impl::Decide(HttpRequest& req, HttpResponder responder) {
  auto call = std::make_shared<DecideCall>();
  call->responder = std::move(responder);
  if (std::optional<std::string> v = req.QueryParam("scores")) {
    if (*v == "true" || *v == "1") {
      call->scores = true;
    } else if (*v != "false" && *v != "0") {
      metrics->CountRejectedInput("invalid_parameter");
      call->responder.Send(
          ReplyError(400, "invalid_parameter",
                     "query parameter 'scores': expected true or false, found '" + *v + "'"));
      return;
    }
  }
  call->body = std::move(req.body);
  // Once queued, another thread may decide and answer it at any moment:
  // only StartDecide's result says whether it was refused instead.
  if (!StartDecide(call)) return;
  // The deadline: a request nobody has taken by then is withdrawn and
  // answered 503; one taken is always decided and answered.
  std::weak_ptr<DecideCall> weak = call;
  internal::HttpServer::RunAt(
      Clock::now() + std::chrono::milliseconds(options.timeout_ms), [this, weak] {
        std::shared_ptr<DecideCall> c = weak.lock();
        if (!c) return;
        std::shared_ptr<PendingDecision> p;
        {
          std::lock_guard<std::mutex> lock(c->mu);
          p = c->pending.lock();
        }
        if (!p || !p->TryWithdraw()) return;
        metrics->CountOverload("timeout");
        c->responder.Send(ReplyError(503, "timeout",
                                     "no decision within " + std::to_string(options.timeout_ms) +
                                         " ms (--timeout-ms); the events were not processed: "
                                         "retry later"));
      });
}

bool DecisionServer::Impl::StartDecide(const std::shared_ptr<DecideCall>& call) {
  std::shared_ptr<const ServedPipeline> pipeline = loop->pipeline();
  DecideRequest parsed;
  if (std::optional<RequestError> error = ParserFor(*pipeline).Parse(call->body, &parsed)) {
    metrics->CountRejectedInput(error->code);
    call->responder.Send(
        ReplyError(error->status, error->code, error->message, error->field, error->event));
    return false;
  }
  auto pending = std::make_shared<PendingDecision>(
      std::move(pipeline), std::move(parsed.events), parsed.is_batch, call->scores,
      [this, call](PendingDecision& done) { Decided(call, done); });
  {
    std::lock_guard<std::mutex> lock(call->mu);
    call->pending = pending;
  }
  switch (loop->Enqueue(std::move(pending))) {
    case DecisionLoop::Admission::kQueued:
      return true;
    case DecisionLoop::Admission::kQueueFull:
      metrics->CountOverload("queue_full");
      call->responder.Send(
          ReplyError(503, "overloaded",
                     "the decision queue is full (" + std::to_string(options.queue_events) +
                         " events, --queue); the events were not processed: retry later"));
      return false;
    case DecisionLoop::Admission::kStopped:
      metrics->CountOverload("shutting_down");
      call->responder.Send(ReplyError(
          503, "shutting_down", "the service is shutting down; the events were not processed"));
      return false;
  }
  return false;
}

void DecisionServer::Impl::Decided(const std::shared_ptr<DecideCall>& call,
                                   PendingDecision& pending) {
  const std::vector<EventOutcome>& outcomes = pending.outcomes();
  if (!outcomes.empty() && outcomes[0].status == 0) {
    // Parsed for a pipeline that a reload replaced before its events were
    // decided: parse it again for the new one.
    if (++call->attempts > 8) {  // reloads faster than requests are decided
      metrics->CountOverload("reloading");
      call->responder.Send(ReplyError(
          503, "reloading",
          "the pipeline was reloaded again and again while the request waited; the events "
          "were not processed: retry later"));
      return;
    }
    StartDecide(call);
    return;
  }
  if (!pending.is_batch()) {
    HttpResponse r = Reply(outcomes[0].status, outcomes[0].json + "\n");
    if (outcomes[0].status == 503) r.headers.emplace_back("Retry-After", "1");
    call->responder.Send(std::move(r));
    return;
  }
  size_t bytes = 16;
  for (const EventOutcome& o : outcomes) bytes += o.json.size() + 1;
  std::string answer;
  answer.reserve(bytes);
  answer += "{\"decisions\":[";
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (i > 0) answer += ',';
    answer += outcomes[i].json;
  }
  answer += "]}\n";
  call->responder.Send(Reply(200, std::move(answer)));
}

ReloadReport DecisionServer::Impl::Reload() {
  ReloadReport report;
  auto answer = [&report](int status, std::string_view code, const std::string& message) {
    report.http_status = status;
    report.json = ErrorJson(status, code, message);
    report.summary = message;
    return report;
  };
  if (options.pipeline_path.empty()) {
    metrics->CountReload("failed");
    return answer(409, "no_pipeline_file", "the service was not started from a pipeline file");
  }
  std::vector<Diagnostic> diags;
  auto spec = pipeline::LoadPipelineFile(options.pipeline_path, &diags);
  std::shared_ptr<const runtime::Engine> engine;
  if (spec.ok()) engine = runtime::Engine::Compile(std::move(spec).value(), &diags);
  if (!diags.empty() || !engine) {
    metrics->CountReload("invalid");
    std::stable_sort(diags.begin(), diags.end(), [](const auto& a, const auto& b) {
      return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
    const std::string message = options.pipeline_path + " has " + std::to_string(diags.size()) +
                                " error" + (diags.size() == 1 ? "" : "s") +
                                "; the pipeline being served is unchanged";
    std::string body = "{\"error\":{\"status\":422,\"code\":\"invalid_pipeline\",\"message\":";
    io::AppendJsonString(message, &body);
    body += ",\"diagnostics\":[";
    for (size_t i = 0; i < diags.size(); ++i) {
      if (i > 0) body += ',';
      body += "{\"file\":";
      io::AppendJsonString(diags[i].where.file, &body);
      body += ",\"line\":" + std::to_string(diags[i].where.line) +
              ",\"column\":" + std::to_string(diags[i].where.column) + ",\"message\":";
      io::AppendJsonString(diags[i].message, &body);
      body += '}';
    }
    body += "]}}";
    report.http_status = 422;
    report.json = std::move(body);
    report.summary = message + ":\n" + FormatDiagnostics(diags);
    return report;
  }
  const std::shared_ptr<const ServedPipeline> before = loop->pipeline();
  ReloadOutcome out = loop->Reload(ServedPipeline::Make(std::move(engine), options.stamp_time));
  if (!out.status.ok()) {
    metrics->CountReload("failed");
    return answer(503, "reload_failed",
                  "the pipeline could not be swapped in (" + out.status.message() +
                      "); the pipeline being served is unchanged");
  }
  metrics->CountReload("ok");
  auto describe = [](const runtime::Engine& e, std::string* o) {
    *o += "{\"name\":";
    io::AppendJsonString(e.spec().name, o);
    *o += ",\"version\":";
    io::AppendJsonString(e.spec().version, o);
    *o += ",\"content_hash\":";
    io::AppendJsonString(e.spec().content_hash, o);
    *o += '}';
  };
  auto list = [](const std::vector<std::string>& items, std::string* o) {
    *o += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) *o += ',';
      io::AppendJsonString(items[i], o);
    }
    *o += ']';
  };
  std::string body = "{\"status\":\"reloaded\",\"pipeline\":";
  describe(*out.pipeline->engine, &body);
  body += ",\"previous\":";
  describe(*before->engine, &body);
  body += ",\"windowed_kept\":";
  list(out.carried.kept, &body);
  body += ",\"windowed_reset\":";
  list(out.carried.reset, &body);
  body += '}';
  report.json = std::move(body);
  const auto& spec_now = out.pipeline->engine->spec();
  report.summary = "reloaded pipeline " + spec_now.name +
                   (spec_now.version.empty() ? "" : " version " + spec_now.version) + " (" +
                   spec_now.content_hash + "): " + std::to_string(out.carried.kept.size()) +
                   " windowed aggregates kept their state, " +
                   std::to_string(out.carried.reset.size()) + " start empty";
  return report;
}

HttpResponse DecisionServer::Impl::Ready() {
  std::string reason;
  if (shutting_down.load()) {
    reason = "shutting down";
  } else if (!loop->running()) {
    reason = loop->failure();
    if (reason.empty()) reason = "the decision thread is not running";
  }
  if (!reason.empty()) {
    std::string body = "{\"status\":\"not_ready\",\"reason\":";
    io::AppendJsonString(reason, &body);
    HttpResponse r = Reply(503, body + "}\n");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  std::string body = "{\"status\":\"ready\",\"pipeline\":";
  io::AppendJsonString(loop->pipeline()->engine->spec().name, &body);
  return Reply(200, body + "}\n");
}

HttpResponse DecisionServer::Impl::Snapshot() {
  if (options.state_dir.empty()) {
    return ReplyError(409, "no_state_dir",
                      "the service keeps its state in memory only (no --state-dir)");
  }
  const auto start = Clock::now();
  Status s = loop->Snapshot();
  if (!s.ok()) return ReplyError(500, "snapshot_failed", s.message());
  std::string body = "{\"status\":\"written\",\"path\":";
  io::AppendJsonString(options.state_dir + "/snapshot", &body);
  body += ",\"seconds\":" +
          std::to_string(std::chrono::duration<double>(Clock::now() - start).count());
  return Reply(200, body + "}\n");
}

void DecisionServer::Impl::RunAdmin(std::function<HttpResponse()> task, HttpResponder responder) {
  std::lock_guard<std::mutex> lock(admin_mu);
  admin_threads.emplace_back(
      [task = std::move(task), responder = std::move(responder)]() mutable {
        responder.Send(task());
      });
}

void DecisionServer::Impl::Route(HttpRequest& req, HttpResponder responder) {
  const std::string& path = req.path;
  const Handler h = HandlerForPath(path);
  // The methods each endpoint takes; another method is answered 405.
  const char* allow = nullptr;
  if (path == "/healthz" || path == "/readyz" || path == "/v1/pipeline" || path == "/metrics" ||
      path == "/openapi.json") {
    allow = "GET, HEAD";
  } else if (path == "/v1/decide" || path == "/admin/reload" || path == "/admin/snapshot") {
    allow = "POST";
  }
  // Every endpoint but health checks the token first (the body has been
  // read, so the connection stays usable).
  HttpResponse refusal;
  if (!Admit(req, &refusal)) {
    responder.Send(std::move(refusal));
    return;
  }
  if (allow == nullptr) {
    if (h == Handler::kAdmin) {
      responder.Send(ReplyError(404, "not_found",
                                "no admin endpoint " + req.method + " " + path +
                                    " (there are POST /admin/reload and POST /admin/snapshot)"));
    } else {
      responder.Send(ReplyError(404, "not_found",
                                "no endpoint " + req.method + " " + path + " (see /openapi.json)"));
    }
    return;
  }
  const bool post = std::strcmp(allow, "POST") == 0;
  if (post ? req.method != "POST" : !IsGet(req)) {
    HttpResponse r =
        ReplyError(405, "method_not_allowed",
                   req.method + " is not allowed on " + path + "; use " + allow);
    r.headers.emplace_back("Allow", allow);
    responder.Send(std::move(r));
    return;
  }
  switch (h) {
    case Handler::kDecide:
      Decide(req, std::move(responder));
      return;
    case Handler::kHealth:
      responder.Send(Reply(200, "{\"status\":\"ok\"}\n"));
      return;
    case Handler::kReady:
      responder.Send(Ready());
      return;
    case Handler::kPipeline:
      responder.Send(Reply(200, loop->pipeline()->info_json + "\n"));
      return;
    case Handler::kMetrics:
      responder.Send(Reply(200, metrics->Render(), "text/plain; version=0.0.4; charset=utf-8"));
      return;
    case Handler::kOpenApi:
      responder.Send(Reply(200, std::string(internal::OpenApiDocument())));
      return;
    case Handler::kAdmin:
      if (path == "/admin/reload") {
        RunAdmin(
            [this] {
              ReloadReport r = Reload();
              std::fprintf(stderr, "sluice serve: POST /admin/reload: %s\n", r.summary.c_str());
              HttpResponse res = Reply(r.http_status, r.json + "\n");
              if (r.http_status == 503) res.headers.emplace_back("Retry-After", "1");
              return res;
            },
            std::move(responder));
      } else {
        RunAdmin([this] { return Snapshot(); }, std::move(responder));
      }
      return;
    case Handler::kOther:
      break;
  }
  responder.Send(ReplyError(404, "not_found", "no endpoint " + req.method + " " + path));
}

DecisionServer::DecisionServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DecisionServer::~DecisionServer() {
  (void)Shutdown();
}

const std::string& DecisionServer::host() const {
  return impl_->address.host;
}

int DecisionServer::port() const {
  return impl_->address.port;
}

Result<std::unique_ptr<DecisionServer>> DecisionServer::Start(
    std::shared_ptr<const runtime::Engine> engine, const ServeOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  SLUICE_ASSIGN_OR_RETURN(impl->address, ParseListen(options.listen));
  if (!options.token_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(impl->token, ReadToken(options.token_file));
  }
  if (options.max_body_bytes == 0) return InvalidArgument("--max-body must be at least 1 byte");
  if (options.timeout_ms <= 0) return InvalidArgument("--timeout-ms must be at least 1");
  if (options.queue_events == 0) return InvalidArgument("--queue must be at least 1 event");
  if (options.threads == 0) return InvalidArgument("--threads must be at least 1");
  if (options.batch_size == 0) return InvalidArgument("--batch-size must be at least 1");
  if (options.wal && options.state_dir.empty()) {
    return InvalidArgument("--wal needs --state-dir: the log goes into that folder");
  }
  if (options.snapshot_every_s < 0) return InvalidArgument("--snapshot-every must be >= 0");

  impl->metrics = std::make_unique<ServerMetrics>(*engine);
  DecisionLoopOptions loop_options;
  loop_options.queue_events = options.queue_events;
  loop_options.batch_size = options.batch_size;
  loop_options.audit = options.audit;
  loop_options.state_dir = options.state_dir;
  loop_options.snapshot_every = std::chrono::seconds(options.snapshot_every_s);
  loop_options.wal = options.wal;
  loop_options.delay = std::chrono::milliseconds(options.decision_delay_ms);
  SLUICE_ASSIGN_OR_RETURN(
      impl->loop, DecisionLoop::Start(ServedPipeline::Make(std::move(engine), options.stamp_time),
                                      loop_options, impl->metrics.get()));

  internal::HttpServerOptions http;
  http.host = impl->address.host;
  http.port = impl->address.port;
  http.threads = options.threads;
  http.limits.max_body_bytes = options.max_body_bytes;
  Impl* raw = impl.get();
  http.handler = [raw](HttpRequest& req, HttpResponder responder) {
    raw->Route(req, std::move(responder));
  };
  http.error_response = [raw](int status, const std::string& message) {
    if (status == 413) {
      raw->metrics->CountRejectedInput("too_large");
      return ReplyError(413, "too_large",
                        "the request body is larger than " +
                            std::to_string(raw->options.max_body_bytes) + " bytes (--max-body)");
    }
    if (status == 503) raw->metrics->CountOverload("connections");
    return ReplyError(status,
                      status == 503   ? "overloaded"
                      : status == 408 ? "timeout"
                                      : "bad_request",
                      message);
  };
  http.on_answer = [raw](const std::string& path, int status, double seconds) {
    const Handler h = HandlerForPath(path);
    raw->metrics->CountRequest(h, status);
    if (!path.empty()) raw->metrics->ObserveLatency(h, seconds);
  };
  // After each round of ready sockets: decide what the round queued, on
  // the loop's own thread when nobody else is deciding.
  http.after_events = [raw] { raw->loop->Drive(); };
  auto started = internal::HttpServer::Start(std::move(http));
  if (!started.ok()) {
    (void)impl->loop->Stop();
    return started.status();
  }
  impl->http = std::move(started).value();
  impl->address.port = impl->http->port();
  return std::unique_ptr<DecisionServer>(new DecisionServer(std::move(impl)));
}

ReloadReport DecisionServer::Reload() {
  return impl_->Reload();
}

Status DecisionServer::Shutdown() {
  Impl& s = *impl_;
  if (s.shut_down) return s.shutdown_status;
  s.shut_down = true;
  s.shutting_down = true;
  // No new connections; the requests in flight are answered (their events
  // decided by the still running decision thread), then the loops end.
  s.http->Stop();
  {
    std::lock_guard<std::mutex> lock(s.admin_mu);
    for (std::thread& t : s.admin_threads) t.join();
    s.admin_threads.clear();
  }
  s.shutdown_status = s.loop->Stop();
  return s.shutdown_status;
}

Status Serve(std::shared_ptr<const runtime::Engine> engine, const ServeOptions& options) {
  // The signals are taken by sigwait below: block them before any thread
  // starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the service

  const std::string name = engine->spec().name;
  const std::string version = engine->spec().version;
  const std::string hash = engine->spec().content_hash;
  auto started = DecisionServer::Start(std::move(engine), options);
  if (!started.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return started.status();
  }
  std::unique_ptr<DecisionServer> server = std::move(started).value();
  const bool v6 = server->host().find(':') != std::string::npos;
  std::fprintf(stderr, "sluice serve: pipeline %s%s%s (%s) listening on http://%s%s%s:%d\n",
               name.c_str(), version.empty() ? "" : " version ", version.c_str(), hash.c_str(),
               v6 ? "[" : "", server->host().c_str(), v6 ? "]" : "", server->port());
  std::fflush(stderr);

  int sig = 0;
  for (;;) {
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) break;
    const ReloadReport r = server->Reload();
    std::fprintf(stderr, "sluice serve: SIGHUP: %s\n", r.summary.c_str());
    std::fflush(stderr);
  }
  // A second SIGINT or SIGTERM ends the process at once.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  std::fprintf(stderr, "sluice serve: %s: finishing the requests in flight\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  Status status = server->Shutdown();
  std::fprintf(stderr, "sluice serve: stopped\n");
  return status;
}

}  // namespace sluice::server
