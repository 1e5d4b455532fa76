#pragma once
// The HTTP/1.1 server of `sluice serve`: event loops over epoll, each a
// thread that accepts connections, reads and parses requests
// (http_request.h), hands each complete request to the handler and writes
// the answers. No thread per connection and no hand-off on the common path:
// a handler may answer at once, or later from any thread (HttpResponder),
// and a loop calls `after_events` once per round of ready sockets, which
// `sluice serve` uses to decide every request the round brought, together,
// on the loop's own thread.
//
// Per connection: keep-alive (HTTP/1.1 by default, HTTP/1.0 when asked),
// pipelined requests answered in order, one at a time; "Expect:
// 100-continue" answered; HEAD answered without the body. Limits: request
// head and body size (answered 431 / 413 and closed), a read timeout for a
// request that has started to arrive (408 and closed), an idle timeout for
// keep-alive connections, a write timeout, and a cap on open connections
// (beyond it, 503 and closed).
//
// Thread safety: Start and Stop from one thread; HttpResponder::Send from
// any thread; RunAt only on a loop thread (inside a handler or hook).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/internal/http_request.h"
#include "sluice/status.h"

namespace sluice::server::internal {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // more fields
};

class EventLoop;

// The right to answer one request; move-only. Send exactly once, from any
// thread. One never sent answers 500 when it is destroyed.
class HttpResponder {
 public:
  HttpResponder() = default;
  HttpResponder(HttpResponder&&) noexcept;
  HttpResponder& operator=(HttpResponder&&) noexcept;
  HttpResponder(const HttpResponder&) = delete;
  HttpResponder& operator=(const HttpResponder&) = delete;
  ~HttpResponder();

  void Send(HttpResponse response);
  explicit operator bool() const { return loop_ != nullptr; }

 private:
  friend class EventLoop;
  HttpResponder(std::shared_ptr<EventLoop> loop, uint64_t connection)
      : loop_(std::move(loop)), connection_(connection) {}
  std::shared_ptr<EventLoop> loop_;
  uint64_t connection_ = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;         // 0: any free port
  size_t threads = 1;   // event loops
  HttpLimits limits;
  std::chrono::milliseconds read_timeout{5000};   // a started request must arrive within it
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive connections with nothing to do
  std::chrono::milliseconds write_timeout{5000};  // an answer must leave within it
  size_t max_connections = 10000;
  // A request; answer through the responder, now or later.
  std::function<void(HttpRequest& request, HttpResponder responder)> handler;
  // The answer to a request refused before the handler (400, 408, 413,
  // 431, 501, 503, 505), given the status and what was wrong.
  std::function<HttpResponse(int status, const std::string& message)> error_response;
  // Every answer written: the request's path ("" when it could not be
  // read), the status, seconds from the request's arrival to its answer.
  std::function<void(const std::string& path, int status, double seconds)> on_answer;
  // Called by each loop after it has handled a round of ready sockets.
  std::function<void()> after_events;
};

class HttpServer {
 public:
  // Binds (IPv4 or IPv6 host), listens and starts the loops.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options);
  ~HttpServer();  // Stop()

  int port() const { return port_; }
  // Stops accepting, lets every request already read be answered (up to
  // `grace`), closes the connections and joins the loops. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

  // On a loop thread: runs `task` on this loop at `when` (or soon after).
  static void RunAt(std::chrono::steady_clock::time_point when, std::function<void()> task);

 private:
  HttpServer() = default;
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<std::shared_ptr<EventLoop>> loops_;
  bool stopped_ = false;
};

}  // namespace sluice::server::internal
