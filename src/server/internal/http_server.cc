#include "server/internal/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>

namespace sluice::server::internal {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadChunk = 64 * 1024;

void AppendNumber(size_t n, std::string* out) {
  char digits[24];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (len > 0) out->push_back(digits[--len]);
}

// The answer's bytes: status line, fields, body (none for HEAD).
void Serialize(const HttpResponse& r, bool head, bool close, int minor_version,
               std::string* out) {
  out->append("HTTP/1.1 ");
  AppendNumber(static_cast<size_t>(r.status), out);
  out->push_back(' ');
  out->append(HttpReason(r.status));
  out->append("\r\nContent-Type: ");
  out->append(r.content_type);
  out->append("\r\nContent-Length: ");
  AppendNumber(r.body.size(), out);
  out->append("\r\n");
  for (const auto& [name, value] : r.headers) {
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  if (close) {
    out->append("Connection: close\r\n");
  } else if (minor_version == 0) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
  if (!head) out->append(r.body);
}

struct Timer {
  Clock::time_point when;
  uint64_t seq;
  std::function<void()> task;
  bool operator>(const Timer& o) const { return std::tie(when, seq) > std::tie(o.when, o.seq); }
};

}  // namespace

// One event loop: a thread, an epoll set, the connections it accepted.
class EventLoop : public std::enable_shared_from_this<EventLoop> {
 public:
  EventLoop(const HttpServerOptions* options, int listen_fd, std::atomic<size_t>* open,
            const std::vector<EventLoop*>* peers, std::atomic<size_t>* next_peer)
      : options_(options),
        listen_fd_(listen_fd),
        open_(open),
        peers_(peers),
        next_peer_(next_peer) {}
  ~EventLoop();

  Status Init();
  void Run();
  void AskStop(Clock::time_point deadline);
  // From any thread: the answer to the request of `connection`.
  void Post(uint64_t connection, HttpResponse response);
  void AddTimer(Clock::time_point when, std::function<void()> task);
  bool OnThisThread() const;

  std::thread thread;

 private:
  struct Conn {
    uint64_t id = 0;
    int fd = -1;
    std::string in;
    std::string out;
    size_t out_done = 0;
    uint32_t interest = 0;
    bool in_flight = false;   // a request is with the handler
    bool processing = false;  // Process() is on the stack
    bool close_after_write = false;
    bool peer_closed = false;
    bool sent_continue = false;
    Clock::time_point request_start{};  // when the request in flight was read
    Clock::time_point partial_since{};  // when a request started to arrive ({} = none)
    Clock::time_point last_activity{};
    Clock::time_point write_since{};  // when output started waiting ({} = none)
    HttpRequest request;  // reused; while in_flight, the request being answered
  };

  void Accept();
  // A connection accepted by another loop, for this one (any thread).
  void Hand(int fd);
  // Serves connection `fd` from now on (this loop's thread).
  void Adopt(int fd);
  void OnEvent(Conn& c, uint32_t events);
  void Process(Conn& c);
  void Complete(uint64_t connection, HttpResponse response);
  void Refuse(Conn& c, int status, const std::string& message);
  void Flush(Conn& c);
  void SetInterest(Conn& c);
  void Close(Conn& c);
  void Sweep(Clock::time_point now);
  void DrainMailbox();
  void RunTimers(Clock::time_point now);
  int WaitMs(Clock::time_point now) const;
  // The most one connection buffers unread by the handler: a head and a body.
  size_t InputCap() const {
    return options_->limits.max_head_bytes + options_->limits.max_body_bytes + 64;
  }

  const HttpServerOptions* const options_;
  const int listen_fd_;
  std::atomic<size_t>* const open_;
  const std::vector<EventLoop*>* const peers_;  // every loop, this one included
  std::atomic<size_t>* const next_peer_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_id_ = 2;
  std::vector<char> read_buffer_ = std::vector<char>(kReadChunk);

  std::mutex mailbox_mu_;
  std::vector<std::pair<uint64_t, HttpResponse>> mailbox_;
  std::vector<int> handed_;  // connections handed over by other loops
  std::atomic<bool> stopping_{false};
  Clock::time_point stop_deadline_{};
  bool listening_ = true;

  std::deque<Timer> fifo_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t timer_seq_ = 0;
  Clock::time_point next_sweep_{};
};

namespace {
thread_local EventLoop* t_loop = nullptr;  // the loop this thread runs
}  // namespace

bool EventLoop::OnThisThread() const {
  return t_loop == this;
}

EventLoop::~EventLoop() {
  for (auto& [id, c] : conns_) {
    if (c->fd >= 0) ::close(c->fd);
  }
  for (int fd : handed_) ::close(fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status EventLoop::Init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return IoError(std::string("epoll_create1: ") + std::strerror(errno));
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return IoError(std::string("eventfd: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return IoError(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = kListenId;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
    return IoError(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  return Status::Ok();
}

void EventLoop::AskStop(Clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    stop_deadline_ = deadline;
  }
  stopping_ = true;
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void EventLoop::Post(uint64_t connection, HttpResponse response) {
  if (OnThisThread()) {
    Complete(connection, std::move(response));
    return;
  }
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    first = mailbox_.empty() && handed_.empty();
    mailbox_.emplace_back(connection, std::move(response));
  }
  if (first) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

void EventLoop::AddTimer(Clock::time_point when, std::function<void()> task) {
  // Timers mostly come in time order (one timeout for every request): a
  // queue takes those; the heap the others.
  if (fifo_.empty() || when >= fifo_.back().when) {
    fifo_.push_back(Timer{when, timer_seq_++, std::move(task)});
  } else {
    timers_.push(Timer{when, timer_seq_++, std::move(task)});
  }
}

int EventLoop::WaitMs(Clock::time_point now) const {
  Clock::time_point until = next_sweep_;
  if (!timers_.empty()) until = std::min(until, timers_.top().when);
  if (!fifo_.empty()) until = std::min(until, fifo_.front().when);
  if (until <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 1000));
}

void EventLoop::Run() {
  t_loop = this;
  std::vector<epoll_event> events(256);
  next_sweep_ = Clock::now() + std::chrono::seconds(1);
  for (;;) {
    if (stopping_.load()) {
      if (listening_) {
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        listening_ = false;
      }
      // Close what has nothing left to answer; the others close once answered.
      std::vector<Conn*> idle;
      for (auto& [id, c] : conns_) {
        c->close_after_write = true;
        if (!c->in_flight && c->out_done == c->out.size()) idle.push_back(c.get());
      }
      for (Conn* c : idle) Close(*c);
      Clock::time_point deadline;
      {
        std::lock_guard<std::mutex> lock(mailbox_mu_);
        deadline = stop_deadline_;
      }
      if (conns_.empty() || Clock::now() >= deadline) break;
    }
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                             stopping_.load() ? 10 : WaitMs(Clock::now()));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        Accept();
      } else if (id == kWakeId) {
        uint64_t count = 0;
        (void)!::read(wake_fd_, &count, sizeof count);
        DrainMailbox();
      } else {
        auto it = conns_.find(id);
        if (it != conns_.end()) OnEvent(*it->second, events[i].events);
      }
    }
    if (options_->after_events) options_->after_events();
    const Clock::time_point now = Clock::now();
    RunTimers(now);
    if (now >= next_sweep_) {
      Sweep(now);
      next_sweep_ = now + std::chrono::seconds(1);
    }
  }
  // Whatever is left: answers that did not come in time.
  while (!conns_.empty()) Close(*conns_.begin()->second);
  t_loop = nullptr;
}

void EventLoop::Accept() {
  for (int i = 0; i < 64; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of descriptors: try again on the next event
    }
    if (open_->load() >= options_->max_connections) {
      std::string out;
      Serialize(options_->error_response(
                    503, "too many open connections (" +
                             std::to_string(options_->max_connections) + "); retry later"),
                false, true, 1, &out);
      (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(fd);
      if (options_->on_answer) options_->on_answer("", 503, 0.0);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    open_->fetch_add(1);
    // Connections go round the loops, whichever accepted them.
    EventLoop* target = this;
    if (peers_->size() > 1) target = (*peers_)[next_peer_->fetch_add(1) % peers_->size()];
    if (target == this) {
      Adopt(fd);
    } else {
      target->Hand(fd);
    }
  }
}

void EventLoop::Hand(int fd) {
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    first = mailbox_.empty() && handed_.empty();
    handed_.push_back(fd);
  }
  if (first) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

void EventLoop::Adopt(int fd) {
  if (stopping_.load()) {
    ::close(fd);
    open_->fetch_sub(1);
    return;
  }
  auto c = std::make_unique<Conn>();
  c->id = next_id_++;
  c->fd = fd;
  c->last_activity = Clock::now();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = c->id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    open_->fetch_sub(1);
    return;
  }
  c->interest = ev.events;
  conns_.emplace(c->id, std::move(c));
}

void EventLoop::OnEvent(Conn& c, uint32_t events) {
  const uint64_t id = c.id;
  if (events & (EPOLLERR | EPOLLHUP)) {
    if (!(events & EPOLLIN) || c.in_flight) {
      Close(c);
      return;
    }
  }
  if (events & EPOLLOUT) {
    Flush(c);
    if (conns_.find(id) == conns_.end()) return;
  }
  // Reading goes on while a request is with the handler (pipelined bytes
  // wait in `in`), so the common path needs no epoll_ctl per request.
  if ((events & (EPOLLIN | EPOLLRDHUP)) && !c.peer_closed && c.in.size() <= InputCap()) {
    for (;;) {
      const ssize_t n = ::read(c.fd, read_buffer_.data(), read_buffer_.size());
      if (n > 0) {
        c.in.append(read_buffer_.data(), static_cast<size_t>(n));
        c.last_activity = Clock::now();
        if (static_cast<size_t>(n) < read_buffer_.size()) break;
        if (c.in.size() > InputCap()) break;
        continue;
      }
      if (n == 0) {
        c.peer_closed = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Close(c);
      return;
    }
    Process(c);  // flushes, and closes a finished connection
    if (conns_.find(id) == conns_.end()) return;
    SetInterest(c);
  }
}

void EventLoop::Process(Conn& c) {
  if (c.processing) return;
  c.processing = true;
  const uint64_t id = c.id;
  while (!c.in_flight && !c.close_after_write && !c.in.empty()) {
    size_t consumed = 0;
    bool head_complete = false;
    HttpError error;
    const HttpParse p =
        ParseHttpRequest(c.in, options_->limits, &c.request, &consumed, &head_complete, &error);
    if (p == HttpParse::kNeedMore) {
      if (c.partial_since == Clock::time_point{}) c.partial_since = Clock::now();
      if (head_complete && c.request.expect_continue && !c.sent_continue) {
        c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
        c.sent_continue = true;
      }
      break;
    }
    if (p == HttpParse::kError) {
      Refuse(c, error.status, error.message);
      break;
    }
    c.in.erase(0, consumed);
    c.sent_continue = false;
    c.partial_since = c.in.empty() ? Clock::time_point{} : Clock::now();
    c.in_flight = true;
    c.request_start = c.last_activity;
    options_->handler(c.request, HttpResponder(shared_from_this(), id));
    if (conns_.find(id) == conns_.end()) return;  // closed meanwhile
  }
  c.processing = false;
  Flush(c);
}

void EventLoop::Refuse(Conn& c, int status, const std::string& message) {
  Serialize(options_->error_response(status, message), false, true, c.request.minor_version,
            &c.out);
  c.close_after_write = true;
  c.in.clear();
  if (options_->on_answer) options_->on_answer("", status, 0.0);
}

void EventLoop::Complete(uint64_t connection, HttpResponse response) {
  auto it = conns_.find(connection);
  if (it == conns_.end()) return;  // the client went away
  Conn& c = *it->second;
  if (!c.in_flight) return;
  c.in_flight = false;
  // `request` is the one in flight: nothing is parsed while it is.
  const HttpRequest& r = c.request;
  const bool close = !r.keep_alive || stopping_.load() || c.close_after_write;
  if (close) c.close_after_write = true;
  Serialize(response, r.method == "HEAD", close, r.minor_version, &c.out);
  if (options_->on_answer) {
    options_->on_answer(r.path, response.status,
                        std::chrono::duration<double>(Clock::now() - c.request_start).count());
  }
  if (c.processing) return;  // Process() goes on with the next request
  Process(c);                // pipelined requests, then Flush
  if (conns_.find(connection) != conns_.end()) SetInterest(c);
}

void EventLoop::Flush(Conn& c) {
  while (c.out_done < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_done += static_cast<size_t>(n);
      c.write_since = Clock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (c.write_since == Clock::time_point{}) c.write_since = Clock::now();
      SetInterest(c);
      return;
    }
    Close(c);
    return;
  }
  c.out.clear();
  c.out_done = 0;
  c.write_since = {};
  // Nothing in flight and nothing to write: closed when asked, or when the
  // client has finished sending (what is left in `in` is no whole request).
  if (!c.in_flight && (c.close_after_write || c.peer_closed)) {
    Close(c);
    return;
  }
  SetInterest(c);
}

void EventLoop::SetInterest(Conn& c) {
  uint32_t want = 0;
  if (c.out_done < c.out.size()) want |= EPOLLOUT;
  if (!c.peer_closed && !c.close_after_write && c.in.size() <= InputCap()) {
    want |= EPOLLIN | EPOLLRDHUP;
  }
  if (want == c.interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) == 0) c.interest = want;
}

void EventLoop::Close(Conn& c) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  open_->fetch_sub(1);
  conns_.erase(c.id);  // destroys c
}

void EventLoop::Sweep(Clock::time_point now) {
  std::vector<Conn*> expired;
  std::vector<Conn*> too_slow;
  for (auto& [id, c] : conns_) {
    if (c->in_flight) continue;
    if (c->out_done < c->out.size()) {
      if (c->write_since != Clock::time_point{} && now - c->write_since > options_->write_timeout) {
        expired.push_back(c.get());
      }
      continue;
    }
    if (c->partial_since != Clock::time_point{} && !c->in.empty()) {
      if (now - c->partial_since > options_->read_timeout) too_slow.push_back(c.get());
      continue;
    }
    if (now - c->last_activity > options_->idle_timeout) expired.push_back(c.get());
  }
  // Acted on after the walk: closing a connection erases it from conns_.
  for (Conn* c : too_slow) {
    Refuse(*c, 408,
           "the request did not arrive within " + std::to_string(options_->read_timeout.count()) +
               " ms");
    Flush(*c);  // closes it
  }
  for (Conn* c : expired) Close(*c);
}

void EventLoop::DrainMailbox() {
  std::vector<std::pair<uint64_t, HttpResponse>> items;
  std::vector<int> handed;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    items.swap(mailbox_);
    handed.swap(handed_);
  }
  for (int fd : handed) Adopt(fd);
  for (auto& [id, response] : items) Complete(id, std::move(response));
}

void EventLoop::RunTimers(Clock::time_point now) {
  while (!fifo_.empty() && fifo_.front().when <= now) {
    std::function<void()> task = std::move(fifo_.front().task);
    fifo_.pop_front();
    task();
  }
  while (!timers_.empty() && timers_.top().when <= now) {
    std::function<void()> task = std::move(const_cast<Timer&>(timers_.top()).task);
    timers_.pop();
    task();
  }
}

// --------------------------------------------------------------------------

HttpResponder::HttpResponder(HttpResponder&& o) noexcept
    : loop_(std::move(o.loop_)), connection_(o.connection_) {
  o.loop_.reset();
}

HttpResponder& HttpResponder::operator=(HttpResponder&& o) noexcept {
  if (this != &o) {
    if (loop_) Send(HttpResponse{500, "application/json", "{}\n", {}});
    loop_ = std::move(o.loop_);
    connection_ = o.connection_;
    o.loop_.reset();
  }
  return *this;
}

HttpResponder::~HttpResponder() {
  if (loop_) {
    Send(HttpResponse{500, "application/json",
                      "{\"error\":{\"status\":500,\"code\":\"internal\",\"message\":\"the request "
                      "was not answered\"}}\n",
                      {}});
  }
}

void HttpResponder::Send(HttpResponse response) {
  if (!loop_) return;
  std::shared_ptr<EventLoop> loop = std::move(loop_);
  loop_.reset();
  loop->Post(connection_, std::move(response));
}

// --------------------------------------------------------------------------

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options) {
  if (options.threads == 0) return InvalidArgument("at least one HTTP thread is needed");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  const int gai = getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) {
    return IoError("cannot listen on " + options.host + ": " + gai_strerror(gai));
  }
  int fd = -1;
  int last_errno = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) break;
    last_errno = errno;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return IoError("cannot listen on " + options.host + ":" + port + ": " +
                   std::strerror(last_errno) +
                   (last_errno == EADDRINUSE ? " (is another process using the port?)" : ""));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->listen_fd_ = fd;
  server->port_ = bound.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  auto shared_options = std::make_shared<HttpServerOptions>(std::move(options));
  auto open = std::make_shared<std::atomic<size_t>>(0);
  auto peers = std::make_shared<std::vector<EventLoop*>>();
  auto next_peer = std::make_shared<std::atomic<size_t>>(0);
  for (size_t i = 0; i < shared_options->threads; ++i) {
    // The loops keep what they share alive through the deleter.
    std::shared_ptr<EventLoop> loop(
        new EventLoop(shared_options.get(), fd, open.get(), peers.get(), next_peer.get()),
        [shared_options, open, peers, next_peer](EventLoop* l) { delete l; });
    Status s = loop->Init();
    if (!s.ok()) {
      server->Stop();
      return s;
    }
    server->loops_.push_back(loop);
  }
  for (auto& loop : server->loops_) peers->push_back(loop.get());
  for (auto& loop : server->loops_) {
    EventLoop* l = loop.get();
    loop->thread = std::thread([l] { l->Run(); });
  }
  return server;
}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (stopped_) return;
  stopped_ = true;
  const Clock::time_point deadline = Clock::now() + grace;
  for (auto& loop : loops_) loop->AskStop(deadline);
  for (auto& loop : loops_) {
    if (loop->thread.joinable()) loop->thread.join();
  }
  // Responders still held elsewhere keep their loop alive; answers they
  // send now go nowhere.
  loops_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void HttpServer::RunAt(std::chrono::steady_clock::time_point when, std::function<void()> task) {
  if (t_loop != nullptr) t_loop->AddTimer(when, std::move(task));
}

}  // namespace sluice::server::internal
