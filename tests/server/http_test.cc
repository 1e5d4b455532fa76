// The HTTP/1.1 layer of `sluice serve`: the request parser on well-formed,
// split and malformed input, and the event-loop server over real sockets
// (keep-alive, pipelining, HTTP/1.0, 100-continue, chunked bodies, HEAD,
// answers from other threads, limits and timeouts).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/internal/http_request.h"
#include "server/internal/http_server.h"

namespace sluice::server::internal {
namespace {

HttpParse Parse(std::string_view data, HttpRequest* r, size_t* consumed, HttpError* error,
                HttpLimits limits = {}) {
  bool head = false;
  return ParseHttpRequest(data, limits, r, consumed, &head, error);
}

TEST(HttpParser, ParsesARequestWithABody) {
  const std::string req =
      "POST /v1/decide?scores=true&x=a%20b+c HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
      "X-Thing:  spaced  \r\n\r\nbodyEXTRA";
  HttpRequest r;
  size_t consumed = 0;
  HttpError e;
  ASSERT_EQ(Parse(req, &r, &consumed, &e), HttpParse::kComplete) << e.message;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/decide");
  EXPECT_EQ(r.body, "body");
  EXPECT_EQ(consumed, req.size() - 5);
  EXPECT_EQ(*r.QueryParam("scores"), "true");
  EXPECT_EQ(*r.QueryParam("x"), "a b c");
  EXPECT_FALSE(r.QueryParam("y").has_value());
  ASSERT_NE(r.Header("x-thing"), nullptr);
  EXPECT_EQ(*r.Header("x-thing"), "spaced");
  EXPECT_TRUE(r.keep_alive);
}

TEST(HttpParser, EveryPrefixNeedsMoreAndTheWholeCompletes) {
  const std::string req =
      "POST /a%2Fb HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n"
      "A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t n = 0; n < req.size(); ++n) {
    HttpRequest r;
    size_t consumed = 0;
    HttpError e;
    EXPECT_EQ(Parse(req.substr(0, n), &r, &consumed, &e), HttpParse::kNeedMore) << n;
  }
  HttpRequest r;
  size_t consumed = 0;
  HttpError e;
  ASSERT_EQ(Parse(req, &r, &consumed, &e), HttpParse::kComplete) << e.message;
  EXPECT_EQ(r.body, "abc0123456789");
  EXPECT_EQ(r.path, "/a/b");
  EXPECT_EQ(consumed, req.size());
}

TEST(HttpParser, KeepAliveFollowsTheVersionAndConnection) {
  struct Case {
    const char* text;
    bool keep_alive;
  } cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"\r\n\r\nGET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    HttpRequest r;
    size_t consumed = 0;
    HttpError e;
    ASSERT_EQ(Parse(c.text, &r, &consumed, &e), HttpParse::kComplete) << c.text << e.message;
    EXPECT_EQ(r.keep_alive, c.keep_alive) << c.text;
  }
}

TEST(HttpParser, MalformedRequestsGetTheirStatus) {
  struct Case {
    std::string text;
    int status;
  } cases[] = {
      {"GET\r\n\r\n", 400},
      {"GET /\r\n\r\n", 400},
      {"GET / HTTP/1.1 x\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.2\r\n\r\n", 505},
      {"GET / HTTQ/1.1\r\n\r\n", 400},
      {"GET nopath HTTP/1.1\r\n\r\n", 400},
      {"GET /%zz HTTP/1.1\r\n\r\n", 400},
      {"GET /%4 HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       501},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n", 413},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", 400},
      {"GET / HTTP/1.1\r\nA: " + std::string(20000, 'x') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nA: " + std::string(20000, 'x'), 431},
      {std::string("GET /\0 HTTP/1.1", 15), 400},
  };
  for (const Case& c : cases) {
    HttpRequest r;
    size_t consumed = 0;
    HttpError e;
    ASSERT_EQ(Parse(c.text, &r, &consumed, &e), HttpParse::kError) << c.text.substr(0, 80);
    EXPECT_EQ(e.status, c.status) << c.text.substr(0, 80) << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(HttpParser, ChunkedBodiesCountAgainstTheLimit) {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  std::string req = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 6; ++i) req += "2\r\nab\r\n";
  HttpRequest r;
  size_t consumed = 0;
  HttpError e;
  ASSERT_EQ(Parse(req, &r, &consumed, &e, limits), HttpParse::kError);
  EXPECT_EQ(e.status, 413);
}

TEST(HttpParser, TooManyHeaderFields) {
  std::string req = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) req += "A" + std::to_string(i) + ": v\r\n";
  req += "\r\n";
  HttpRequest r;
  size_t consumed = 0;
  HttpError e;
  ASSERT_EQ(Parse(req, &r, &consumed, &e), HttpParse::kError);
  EXPECT_EQ(e.status, 431);
}

TEST(HttpParser, AbsoluteFormAndExpect) {
  HttpRequest r;
  size_t consumed = 0;
  HttpError e;
  bool head = false;
  const std::string req =
      "POST http://example.com:8080/v1/decide?scores=1 HTTP/1.1\r\nExpect: 100-continue\r\n"
      "Content-Length: 5\r\n\r\n";
  ASSERT_EQ(ParseHttpRequest(req, {}, &r, &consumed, &head, &e), HttpParse::kNeedMore);
  EXPECT_TRUE(head);
  EXPECT_TRUE(r.expect_continue);
  EXPECT_EQ(r.path, "/v1/decide");
  EXPECT_EQ(*r.QueryParam("scores"), "1");
}

// ---------------------------------------------------------------------------
// The server over sockets.

class Socket {
 public:
  explicit Socket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Socket() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  // Reads until `count` answers are complete (by Content-Length), the peer
  // closes, or 5 s pass. `head_only`: answers to HEAD carry no body.
  std::string ReadAnswers(size_t count, bool head_only = false) {
    std::string got;
    char buf[65536];
    for (;;) {
      if (Complete(got, count, head_only)) return got;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  // Everything until the peer closes (or 5 s).
  std::string ReadToClose() {
    std::string got;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  // What one read gives.
  std::string ReadSome() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  bool PeerClosed() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0;
  }

 private:
  static bool Complete(const std::string& s, size_t count, bool head_only) {
    size_t pos = 0;
    for (size_t i = 0; i < count; ++i) {
      const size_t end = s.find("\r\n\r\n", pos);
      if (end == std::string::npos) return false;
      const std::string head = s.substr(pos, end - pos);
      if (head.rfind("HTTP/1.1 100 ", 0) == 0) {
        pos = end + 4;
        --i;
        continue;
      }
      const size_t cl = head.find("Content-Length: ");
      const size_t len = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
      pos = end + 4 + (head_only ? 0 : len);
      if (s.size() < pos) return false;
    }
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
};

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

struct TestServer {
  explicit TestServer(HttpServerOptions o = {}) {
    if (!o.handler) {
      o.handler = [this](HttpRequest& req, HttpResponder responder) {
        ++handled;
        {
          std::lock_guard<std::mutex> lock(mu);
          loop_threads.insert(std::this_thread::get_id());
        }
        HttpResponse r;
        r.content_type = "text/plain";
        if (req.path == "/later") {
          // Answered from another thread, a little later.
          std::thread([responder = std::move(responder)]() mutable {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            HttpResponse later;
            later.body = "later";
            responder.Send(std::move(later));
          }).detach();
          return;
        }
        if (req.path == "/never") return;  // the responder answers 500 when dropped
        r.body = req.method + " " + req.path + " " + req.body;
        responder.Send(std::move(r));
      };
    }
    o.error_response = [](int status, const std::string& message) {
      HttpResponse r;
      r.status = status;
      r.body = "refused: " + message;
      return r;
    };
    o.on_answer = [this](const std::string&, int, double) { ++answers; };
    auto s = HttpServer::Start(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().message();
    server = std::move(s).value();
  }
  std::unique_ptr<HttpServer> server;
  std::mutex mu;
  std::set<std::thread::id> loop_threads;  // the loops that ran the handler
  std::atomic<int> handled{0};
  std::atomic<int> answers{0};
};

TEST(HttpServer, KeepAlivePipeliningAndOrder) {
  TestServer t;
  Socket s(t.server->port());
  ASSERT_TRUE(s.connected());
  // Three requests in one write, the middle one answered late from another
  // thread: the answers come in request order.
  s.Send(
      "POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"
      "GET /later HTTP/1.1\r\n\r\n"
      "GET /c HTTP/1.1\r\n\r\n");
  const std::string got = s.ReadAnswers(3);
  const size_t a = got.find("POST /a x");
  const size_t b = got.find("later");
  const size_t c = got.find("GET /c ");
  ASSERT_NE(a, std::string::npos) << got;
  ASSERT_NE(b, std::string::npos) << got;
  ASSERT_NE(c, std::string::npos) << got;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(Count(got, "HTTP/1.1 200 OK"), 3u);
  EXPECT_EQ(Count(got, "Connection: close"), 0u);
  // The connection is still usable.
  s.Send("GET /d HTTP/1.1\r\n\r\n");
  EXPECT_NE(s.ReadAnswers(1).find("GET /d "), std::string::npos);
}

TEST(HttpServer, ByteByByteRequests) {
  TestServer t;
  Socket s(t.server->port());
  const std::string req = "POST /slow HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  for (char ch : req) {
    s.Send(std::string(1, ch));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_NE(s.ReadAnswers(1).find("POST /slow abc"), std::string::npos);
}

TEST(HttpServer, Http10ClosesUnlessKeepAlive) {
  TestServer t;
  {
    Socket s(t.server->port());
    s.Send("GET /x HTTP/1.0\r\n\r\n");
    const std::string got = s.ReadToClose();
    EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
    EXPECT_NE(got.find("GET /x "), std::string::npos);
  }
  {
    Socket s(t.server->port());
    s.Send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const std::string got = s.ReadAnswers(1);
    EXPECT_NE(got.find("Connection: keep-alive"), std::string::npos) << got;
    s.Send("GET /y HTTP/1.0\r\n\r\n");
    EXPECT_NE(s.ReadToClose().find("GET /y "), std::string::npos);
  }
}

TEST(HttpServer, ExpectContinueChunkedAndHead) {
  TestServer t;
  Socket s(t.server->port());
  s.Send("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  // The client waits for "100 Continue" before it sends the body.
  std::string got = s.ReadSome();
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  Socket probe(t.server->port());  // meanwhile the server serves others
  probe.Send("GET /p HTTP/1.1\r\n\r\n");
  EXPECT_NE(probe.ReadAnswers(1).find("GET /p "), std::string::npos);
  s.Send("hello");
  got = s.ReadAnswers(1);
  EXPECT_NE(got.find("POST /e hello"), std::string::npos) << got;

  s.Send("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n");
  EXPECT_NE(s.ReadAnswers(1).find("POST /c abc"), std::string::npos);

  s.Send("HEAD /h HTTP/1.1\r\n\r\n");
  got = s.ReadAnswers(1, /*head_only=*/true);
  EXPECT_NE(got.find("Content-Length: 8"), std::string::npos) << got;  // "HEAD /h "
  EXPECT_EQ(got.find("HEAD /h"), std::string::npos) << got;
}

TEST(HttpServer, MalformedRequestsAreAnsweredAndClosed) {
  TestServer t;
  const std::pair<std::string, int> cases[] = {
      {"NOT HTTP\r\n\r\n", 400},
      {"GET / HTTP/3.0\r\n\r\n", 505},
      {"POST / HTTP/1.1\r\nContent-Length: 5000000\r\n\r\n", 413},
      {"GET / HTTP/1.1\r\nX: " + std::string(40000, 'y') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n", 501},
  };
  for (const auto& [text, status] : cases) {
    Socket s(t.server->port());
    s.Send(text);
    const std::string got = s.ReadToClose();
    EXPECT_EQ(got.rfind("HTTP/1.1 " + std::to_string(status), 0), 0u) << got.substr(0, 200);
    EXPECT_NE(got.find("Connection: close"), std::string::npos);
    EXPECT_NE(got.find("refused: "), std::string::npos);
  }
  EXPECT_EQ(t.handled.load(), 0);
}

TEST(HttpServer, AnUnansweredRequestGets500) {
  TestServer t;
  Socket s(t.server->port());
  s.Send("GET /never HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
  const std::string got = s.ReadAnswers(2);
  EXPECT_EQ(got.rfind("HTTP/1.1 500", 0), 0u) << got;
  EXPECT_NE(got.find("GET /after "), std::string::npos) << got;
}

TEST(HttpServer, ReadAndIdleTimeouts) {
  HttpServerOptions o;
  o.read_timeout = std::chrono::milliseconds(300);
  o.idle_timeout = std::chrono::milliseconds(300);
  TestServer t(std::move(o));
  Socket partial(t.server->port());
  partial.Send("GET /x HTTP/1.1\r\nHost:");
  const std::string got = partial.ReadToClose();
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
  Socket idle(t.server->port());
  idle.Send("GET /x HTTP/1.1\r\n\r\n");
  EXPECT_NE(idle.ReadAnswers(1).find("GET /x"), std::string::npos);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.PeerClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(HttpServer, ConnectionCapAnswers503) {
  HttpServerOptions o;
  o.max_connections = 2;
  o.threads = 1;
  TestServer t(std::move(o));
  Socket a(t.server->port()), b(t.server->port());
  a.Send("GET /a HTTP/1.1\r\n\r\n");
  b.Send("GET /b HTTP/1.1\r\n\r\n");
  ASSERT_NE(a.ReadAnswers(1).find("GET /a"), std::string::npos);
  ASSERT_NE(b.ReadAnswers(1).find("GET /b"), std::string::npos);
  Socket c(t.server->port());
  EXPECT_EQ(c.ReadToClose().rfind("HTTP/1.1 503", 0), 0u);
}

TEST(HttpServer, HalfClosedClientsGetTheirAnswer) {
  TestServer t;
  Socket s(t.server->port());
  s.Send("GET /later HTTP/1.1\r\n\r\n");
  s.ShutdownWrite();
  EXPECT_NE(s.ReadToClose().find("later"), std::string::npos);
}

TEST(HttpServer, PipelinedRequestsBeforeAHalfCloseAreAllAnswered) {
  TestServer t;
  Socket s(t.server->port());
  s.Send("GET /later HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\nGET /partial HTT");
  s.ShutdownWrite();
  const std::string got = s.ReadToClose();
  EXPECT_EQ(Count(got, "HTTP/1.1 200 OK"), 2u) << got;
  EXPECT_LT(got.find("later"), got.find("GET /second")) << got;
  EXPECT_EQ(got.find("partial"), std::string::npos) << got;
}

TEST(HttpServer, AClientFarAheadIsReadInBoundedSteps) {
  HttpServerOptions o;
  o.limits.max_body_bytes = 1000;
  TestServer t(std::move(o));
  Socket s(t.server->port());
  // One slow request, then 400 KiB of pipelined requests: the server holds
  // at most about a head and a body of them at a time, and answers all.
  std::string many;
  for (int i = 0; i < 4000; ++i) {
    many += "POST /p HTTP/1.1\r\nContent-Length: 50\r\n\r\n" + std::string(50, 'x');
  }
  s.Send("GET /later HTTP/1.1\r\n\r\n");
  std::thread writer([&] { s.Send(many); });
  const std::string got = s.ReadAnswers(4001);
  writer.join();
  EXPECT_EQ(Count(got, "HTTP/1.1 200 OK"), 4001u);
}

TEST(HttpServer, StopAnswersWhatIsInFlight) {
  TestServer t;
  Socket s(t.server->port());
  s.Send("GET /later HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  t.server->Stop();
  const std::string got = s.ReadToClose();
  EXPECT_NE(got.find("later"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
}

TEST(HttpServer, ManyClientsAtOnce) {
  HttpServerOptions o;
  o.threads = 2;
  TestServer t(std::move(o));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      Socket s(t.server->port());
      for (int i = 0; i < 200; ++i) {
        const std::string body = std::to_string(c) + ":" + std::to_string(i);
        s.Send("POST /m HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
               body);
        if (s.ReadAnswers(1).find("POST /m " + body) != std::string::npos) ++ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 1600);
  // The connections went round both loops.
  EXPECT_EQ(t.loop_threads.size(), 2u);
}

TEST(HttpServer, BindErrorsAreClear) {
  TestServer t;
  HttpServerOptions o;
  o.port = t.server->port();
  o.handler = [](HttpRequest&, HttpResponder) {};
  o.error_response = [](int, const std::string&) { return HttpResponse{}; };
  auto again = HttpServer::Start(std::move(o));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("another process"), std::string::npos)
      << again.status().message();
  HttpServerOptions bad;
  bad.host = "no-such-host.invalid";
  bad.handler = [](HttpRequest&, HttpResponder) {};
  bad.error_response = [](int, const std::string&) { return HttpResponse{}; };
  EXPECT_FALSE(HttpServer::Start(std::move(bad)).ok());
}

}  // namespace
}  // namespace sluice::server::internal
