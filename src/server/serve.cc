// The HTTP side of `sluice serve`: routes, authentication, limits and
// answers, over cpp-httplib's server (a pool of worker threads, one
// connection per thread at a time, HTTP/1.1 keep-alive).

#include "server/serve.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "pipeline/spec.h"
#include "server/decision_loop.h"
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

void Reply(httplib::Response& res, int status, std::string body, const char* type = kJson) {
  res.status = status;
  res.body = std::move(body);
  res.set_header("Content-Type", type);
}

void ReplyError(httplib::Response& res, int status, std::string_view code, std::string_view message,
                std::string_view field = {}, int64_t event = -1) {
  Reply(res, status, ErrorJson(status, code, message, field, event) + "\n");
  if (status == 503) res.set_header("Retry-After", "1");
}

// When the handler of the request running on this thread started (set by
// the pre-routing handler, read by the logger).
thread_local Clock::time_point t_request_start{};

}  // namespace

struct DecisionServer::Impl {
  ServeOptions options;
  ListenAddress address;
  std::string token;  // "" = no authentication
  std::unique_ptr<ServerMetrics> metrics;
  std::unique_ptr<DecisionLoop> loop;
  httplib::Server http;
  std::thread listener;
  std::atomic<bool> shutting_down{false};
  bool shut_down = false;
  Status shutdown_status;

  void InstallRoutes();
  bool Authorized(const httplib::Request& req) const;
  // Checks the bearer token for `req` (admin endpoints always need one);
  // answers 401 or 403 and returns false when it is missing or wrong.
  bool Admit(const httplib::Request& req, httplib::Response& res) const;
  void Decide(const httplib::Request& req, std::string_view body, httplib::Response& res);
  ReloadReport Reload();
  void Ready(httplib::Response& res);
  DecideRequestParser& ParserFor(const ServedPipeline& pipeline);
};

bool DecisionServer::Impl::Authorized(const httplib::Request& req) const {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (static_cast<char>(std::tolower(static_cast<unsigned char>(header[i]))) != kScheme[i]) {
      return false;
    }
  }
  std::string_view presented(header);
  presented.remove_prefix(kScheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  return SameSecret(presented, token);
}

bool DecisionServer::Impl::Admit(const httplib::Request& req, httplib::Response& res) const {
  const Handler h = HandlerForPath(req.path);
  if (h == Handler::kHealth || h == Handler::kReady) return true;
  if (h == Handler::kAdmin && token.empty()) {
    ReplyError(res, 403, "forbidden",
               "admin endpoints are refused unless the service has a token (--token-file)");
    return false;
  }
  if (token.empty() || Authorized(req)) return true;
  ReplyError(res, 401, "unauthorized",
             req.has_header("Authorization")
                 ? "the bearer token is wrong"
                 : "this endpoint needs 'Authorization: Bearer TOKEN' (--token-file)");
  res.set_header("WWW-Authenticate", "Bearer realm=\"sluice\"");
  return false;
}

DecideRequestParser& DecisionServer::Impl::ParserFor(const ServedPipeline& pipeline) {
  // One parser per worker thread, made again when the pipeline changes
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

void DecisionServer::Impl::Decide(const httplib::Request& req, std::string_view body,
                                  httplib::Response& res) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
  bool scores = false;
  if (req.has_param("scores")) {
    const std::string v = req.get_param_value("scores");
    if (v == "true" || v == "1") {
      scores = true;
    } else if (v != "false" && v != "0") {
      metrics->CountRejectedInput("invalid_parameter");
      ReplyError(res, 400, "invalid_parameter",
                 "query parameter 'scores': expected true or false, found '" + v + "'");
      return;
    }
  }
  std::shared_ptr<PendingDecision> pending;
  bool is_batch = false;
  // A request parsed for a pipeline that a reload replaced before its
  // events were decided comes back undecided: parse it again for the new one.
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<const ServedPipeline> pipeline = loop->pipeline();
    DecideRequest parsed;
    if (std::optional<RequestError> error = ParserFor(*pipeline).Parse(body, &parsed)) {
      metrics->CountRejectedInput(error->code);
      ReplyError(res, error->status, error->code, error->message, error->field, error->event);
      return;
    }
    is_batch = parsed.is_batch;
    pending = std::make_shared<PendingDecision>(std::move(pipeline), std::move(parsed.events),
                                                is_batch, scores);
    switch (loop->Submit(pending)) {
      case DecisionLoop::Admission::kQueued:
        break;
      case DecisionLoop::Admission::kQueueFull:
        metrics->CountOverload("queue_full");
        ReplyError(res, 503, "overloaded",
                   "the decision queue is full (" + std::to_string(options.queue_events) +
                       " events, --queue); the events were not processed: retry later");
        return;
      case DecisionLoop::Admission::kStopped:
        metrics->CountOverload("shutting_down");
        ReplyError(res, 503, "shutting_down",
                   "the service is shutting down; the events were not processed");
        return;
    }
    if (!pending->Wait(deadline)) {
      metrics->CountOverload("timeout");
      ReplyError(res, 503, "timeout",
                 "no decision within " + std::to_string(options.timeout_ms) +
                     " ms (--timeout-ms); the events were not processed: retry later");
      return;
    }
    if (pending->outcomes().empty() || pending->outcomes()[0].status != 0) break;
    if (attempt == 8) {  // reloads faster than requests are decided
      metrics->CountOverload("reloading");
      ReplyError(res, 503, "reloading",
                 "the pipeline was reloaded again and again while the request waited; the "
                 "events were not processed: retry later");
      return;
    }
  }
  const std::vector<EventOutcome>& outcomes = pending->outcomes();
  if (!is_batch) {
    Reply(res, outcomes[0].status, outcomes[0].json + "\n");
    if (outcomes[0].status == 503) res.set_header("Retry-After", "1");
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
  Reply(res, 200, std::move(answer));
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

void DecisionServer::Impl::Ready(httplib::Response& res) {
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
    Reply(res, 503, body + "}\n");
    res.set_header("Retry-After", "1");
    return;
  }
  std::string body = "{\"status\":\"ready\",\"pipeline\":";
  io::AppendJsonString(loop->pipeline()->engine->spec().name, &body);
  Reply(res, 200, body + "}\n");
}

void DecisionServer::Impl::InstallRoutes() {
  using httplib::Request;
  using httplib::Response;
  using HandlerResponse = httplib::Server::HandlerResponse;

  // Latency is measured from here (the request's headers are read) to the
  // logger (the answer is written).
  http.set_pre_routing_handler([](const Request&, Response&) {
    t_request_start = Clock::now();
    return HandlerResponse::Unhandled;
  });

  http.Get("/healthz",
           [](const Request&, Response& res) { Reply(res, 200, "{\"status\":\"ok\"}\n"); });
  http.Get("/readyz", [this](const Request&, Response& res) { Ready(res); });
  // The others check the token first. Checking it in the handler, after
  // httplib has read the body (at most --max-body bytes), keeps the
  // connection usable: refusing before would leave the body unread.
  auto guarded = [this](httplib::Server::Handler handler) {
    return [this, handler = std::move(handler)](const Request& req, Response& res) {
      if (Admit(req, res)) handler(req, res);
    };
  };
  http.Get("/v1/pipeline", guarded([this](const Request&, Response& res) {
             Reply(res, 200, loop->pipeline()->info_json + "\n");
           }));
  // The body is taken through a content reader: httplib's plain handlers
  // parse a body sent as application/x-www-form-urlencoded (curl -d's
  // default) as a form and refuse it above 8 KiB; events are JSON whatever
  // the Content-Type says. The body limit (--max-body) still applies.
  http.Post("/v1/decide",
            [this](const Request& req, Response& res, const httplib::ContentReader& reader) {
              std::string body;
              const bool read = reader([&body](const char* data, size_t n) {
                body.append(data, n);
                return true;
              });
              if (!read) {
                // Too large (413, set by httplib) or unreadable: the error
                // handler writes the answer.
                if (res.status < 400) res.status = 400;
                return;
              }
              if (Admit(req, res)) Decide(req, body, res);
            });
  http.Get("/metrics", guarded([this](const Request&, Response& res) {
             Reply(res, 200, metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
           }));
  http.Get("/openapi.json", guarded([](const Request&, Response& res) {
             Reply(res, 200, std::string(internal::OpenApiDocument()));
           }));
  http.Post("/admin/reload", guarded([this](const Request&, Response& res) {
              ReloadReport r = Reload();
              std::fprintf(stderr, "sluice serve: POST /admin/reload: %s\n", r.summary.c_str());
              Reply(res, r.http_status, r.json + "\n");
              if (r.http_status == 503) res.set_header("Retry-After", "1");
            }));
  http.Post("/admin/snapshot", guarded([this](const Request&, Response& res) {
              if (options.state_dir.empty()) {
                ReplyError(res, 409, "no_state_dir",
                           "the service keeps its state in memory only (no --state-dir)");
                return;
              }
              const auto start = Clock::now();
              Status s = loop->Snapshot();
              if (!s.ok()) {
                ReplyError(res, 500, "snapshot_failed", s.message());
                return;
              }
              std::string body = "{\"status\":\"written\",\"path\":";
              io::AppendJsonString(options.state_dir + "/snapshot", &body);
              body += ",\"seconds\":" +
                      std::to_string(std::chrono::duration<double>(Clock::now() - start).count());
              Reply(res, 200, body + "}\n");
            }));
  auto no_admin_endpoint = guarded([](const Request& req, Response& res) {
    ReplyError(res, 404, "not_found",
               "no admin endpoint " + req.method + " " + req.path +
                   " (there are POST /admin/reload and POST /admin/snapshot)");
  });
  for (const char* pattern : {"/admin", "/admin/.*"}) {
    http.Get(pattern, no_admin_endpoint);
    http.Post(pattern, no_admin_endpoint);
    http.Put(pattern, no_admin_endpoint);
    http.Delete(pattern, no_admin_endpoint);
  }

  // A known path with another method: 405 with the methods it takes.
  struct Route {
    const char* path;
    const char* allow;
  };
  for (const Route& route : {Route{"/healthz", "GET, HEAD"}, Route{"/readyz", "GET, HEAD"},
                             Route{"/v1/pipeline", "GET, HEAD"}, Route{"/v1/decide", "POST"},
                             Route{"/metrics", "GET, HEAD"}, Route{"/openapi.json", "GET, HEAD"}}) {
    const bool health =
        std::strcmp(route.path, "/healthz") == 0 || std::strcmp(route.path, "/readyz") == 0;
    auto refuse = [route](const Request& req, Response& res) {
      ReplyError(
          res, 405, "method_not_allowed",
          std::string(req.method) + " is not allowed on " + route.path + "; use " + route.allow);
      res.set_header("Allow", route.allow);
    };
    const httplib::Server::Handler not_allowed =
        health ? httplib::Server::Handler(refuse) : guarded(refuse);
    const bool is_post = std::strcmp(route.allow, "POST") == 0;
    if (is_post) {
      http.Get(route.path, not_allowed);
    } else {
      http.Post(route.path, not_allowed);
    }
    http.Put(route.path, not_allowed);
    http.Patch(route.path, not_allowed);
    http.Delete(route.path, not_allowed);
    http.Options(route.path, not_allowed);
  }

  // Errors httplib answers itself (no route, body too large, bad request
  // line) get a JSON body too; answers that have one are left alone.
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
        if (!res.body.empty()) return HandlerResponse::Unhandled;
        switch (res.status) {
          case 404:
            if (!Admit(req, res)) break;  // with a token, unknown paths are not told apart
            ReplyError(res, 404, "not_found",
                       "no endpoint " + req.method + " " + req.path + " (see /openapi.json)");
            break;
          case 413:
            metrics->CountRejectedInput("too_large");
            ReplyError(res, 413, "too_large",
                       "the request body is larger than " + std::to_string(options.max_body_bytes) +
                           " bytes (--max-body)");
            break;
          default:
            ReplyError(
                res, res.status, "bad_request",
                "the request could not be read (HTTP status " + std::to_string(res.status) + ")");
            break;
        }
        return HandlerResponse::Handled;
      }));
  http.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    ReplyError(res, 500, "internal", "internal error");
  });
  http.set_logger([this](const Request& req, const Response& res) {
    const Handler h = HandlerForPath(req.path);
    metrics->CountRequest(h, res.status);
    if (t_request_start != Clock::time_point{}) {
      metrics->ObserveLatency(
          h, std::chrono::duration<double>(Clock::now() - t_request_start).count());
      t_request_start = Clock::time_point{};
    }
  });
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

  httplib::Server& http = impl->http;
  const size_t threads = options.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_keep_alive_max_count(1u << 20);
  http.set_keep_alive_timeout(5);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(options.max_body_bytes);
  impl->InstallRoutes();

  ListenAddress& a = impl->address;
  if (a.port == 0) {
    a.port = http.bind_to_any_port(a.host);
    if (a.port <= 0) {
      return IoError("cannot listen on " + a.host + " (any port): " + std::strerror(errno));
    }
  } else if (!http.bind_to_port(a.host, a.port)) {
    return IoError("cannot listen on " + options.listen + ": " + std::strerror(errno) +
                   " (is another process using the port?)");
  }
  Impl* raw = impl.get();
  impl->listener = std::thread([raw] { raw->http.listen_after_bind(); });
  // stop() does nothing before the accept loop has started: wait for it.
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
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
  // No new connections; the workers finish the requests in flight (whose
  // events the still running decision thread decides) and end.
  s.http.stop();
  if (s.listener.joinable()) s.listener.join();
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
