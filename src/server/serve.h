#pragma once
// `sluice serve PIPELINE`: online decisions over HTTP/1.1 and JSON
// (docs/serve.md, docs/openapi.json).
//
//   POST /v1/decide      one event or a batch -> decisions, reasons (and scores)
//   GET  /v1/pipeline    name, version, content hash, fields, models, policies
//   GET  /healthz        the process is up
//   GET  /readyz         the pipeline is loaded and the decision thread runs
//   GET  /metrics        Prometheus text format
//   GET  /openapi.json   the API, as OpenAPI 3.0
//
// HTTP event loops (server/internal/http_server.h: epoll, keep-alive,
// pipelining) read and parse requests and, after each round of ready
// sockets, decide what they queued on their own thread when nobody else is
// deciding; the decision loop owns the engine and the windowed state
// (server/decision_loop.h). Every answer is computed by the same
// Engine::Process as `sluice run`: for the same events in the same order,
// each decision object is byte for byte the line `sluice run` writes.
//
// Safety: binds 127.0.0.1 unless told otherwise; with a token file, every
// endpoint but /healthz and /readyz needs `Authorization: Bearer TOKEN`;
// /admin/ endpoints always need it and are refused without a token file;
// bodies are limited in size, requests in time, the queue in events; an
// overloaded service answers 503 with Retry-After.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/engine.h"
#include "sluice/status.h"

namespace sluice::server {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT ([v6]:PORT); port 0 picks a free port
  std::string token_file;                 // "" = no authentication (admin endpoints refused)
  size_t max_body_bytes = 1u << 20;       // larger bodies: 413
  int64_t timeout_ms = 1000;              // per request, from the moment it has been read
  size_t queue_events = 4096;             // events waiting for the decision thread, at most
  size_t threads = 1;       // HTTP event loops (each accepts, reads, decides and answers)
  size_t batch_size = 256;  // events per Engine::Process, at most
  std::string audit;        // "" = none; else one JSON line per decided event
  // Events may leave out the event-time field: they get the service's clock
  // (never earlier than the newest event time processed).
  bool stamp_time = false;
  // Durability (docs/serve.md): "" = the windowed state lives in memory only.
  std::string state_dir;
  int64_t snapshot_every_s = 60;  // 0: snapshots only on shutdown, reload and request
  bool wal = false;               // write-ahead log: kill -9 loses no answered event
  // The pipeline file, read again by a reload; "" = reloading is refused.
  std::string pipeline_path;
  int64_t decision_delay_ms = 0;  // test hook: the decision thread sleeps before each round
};

// A reload's answer (POST /admin/reload, SIGHUP).
struct ReloadReport {
  int http_status = 200;  // 200 reloaded, 422 invalid pipeline, 409 no pipeline file, 503
  std::string json;       // the answer's body (one line)
  std::string summary;    // one line for the service's log
};

class DecisionServer {
 public:
  // Reads the token, starts the decision thread, binds and starts serving;
  // returns once connections are accepted. Fails with kInvalidArgument for
  // bad options and kIoError when the address cannot be bound or a file
  // cannot be read.
  static Result<std::unique_ptr<DecisionServer>> Start(
      std::shared_ptr<const runtime::Engine> engine, const ServeOptions& options);
  ~DecisionServer();  // Shutdown()
  DecisionServer(const DecisionServer&) = delete;
  DecisionServer& operator=(const DecisionServer&) = delete;

  const std::string& host() const;
  int port() const;  // the bound port (the one picked, for port 0)

  // Reads the pipeline file again and, if it is valid, swaps it in between
  // two batches, keeping the windowed state of every aggregate it still
  // defines the same way. An invalid pipeline changes nothing. Requests
  // already parsed for the old pipeline are parsed again for the new one:
  // none fails because of a reload.
  ReloadReport Reload();

  // Stops accepting connections, lets the requests in flight finish (their
  // events are decided and answered), decides what is still queued, closes
  // the audit log. Idempotent; returns the first audit-log failure.
  Status Shutdown();

 private:
  struct Impl;
  explicit DecisionServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Starts a DecisionServer, says on stderr where it listens, serves until
// SIGINT or SIGTERM, then shuts down cleanly (a second signal kills at
// once). SIGHUP reloads the pipeline (DecisionServer::Reload).
Status Serve(std::shared_ptr<const runtime::Engine> engine, const ServeOptions& options);

}  // namespace sluice::server
