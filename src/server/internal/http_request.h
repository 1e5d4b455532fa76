#pragma once
// HTTP/1.1 requests as `sluice serve` reads them (RFC 9112): the request
// line, the header fields and the body, framed by Content-Length or by the
// chunked transfer coding. A pure function over the bytes received so far,
// so that the event loop (http_server.h) can call it again as more arrive,
// and so that it can be fuzzed alone (tests/server/fuzz).
//
// What is refused, with the status the answer carries:
//   400  a malformed request line, header field or chunk; a field folded
//        over lines; Content-Length and Transfer-Encoding together;
//        conflicting or non-numeric Content-Length; a bad percent escape
//   413  a body over the limit (declared or, when chunked, received)
//   431  a request line and header fields over the limit, or too many fields
//   501  a transfer coding other than chunked
//   505  an HTTP version other than 1.0 and 1.1
// After any of these the connection is closed: where the next request
// starts is no longer known.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server::internal {

struct HttpLimits {
  size_t max_head_bytes = 16 * 1024;  // request line and header fields
  size_t max_headers = 100;
  size_t max_body_bytes = 1u << 20;
};

struct HttpRequest {
  std::string method;  // as sent (methods are case-sensitive)
  std::string target;  // as sent
  std::string path;    // the target's path, percent-decoded
  std::string query;   // after '?', as sent ("" when none)
  int minor_version = 1;  // HTTP/1.<minor>
  // Field names in lower case, values without surrounding white space, in
  // the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded (chunks joined)
  bool keep_alive = true;       // the connection may carry another request after this one
  bool expect_continue = false;  // "Expect: 100-continue"

  // The first field named `lower_name` (lower case), or null.
  const std::string* Header(std::string_view lower_name) const;
  // The value of query parameter `name` (percent- and '+'-decoded), or
  // nullopt when it is absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct HttpError {
  int status = 400;
  std::string message;
};

enum class HttpParse {
  kNeedMore,  // the request is not complete yet
  kComplete,  // *request holds it; *consumed bytes of the input made it
  kError,     // *error says why; answer it and close the connection
};

// Parses the request at the start of `data`. On kNeedMore, `*head_complete`
// tells whether the request line and fields are all there (a client that
// sent "Expect: 100-continue" is then told to go on) and *request holds
// them. Leading empty lines are skipped (RFC 9112, 2.2).
HttpParse ParseHttpRequest(std::string_view data, const HttpLimits& limits, HttpRequest* request,
                           size_t* consumed, bool* head_complete, HttpError* error);

// The reason phrase of a status code ("OK", "Not Found", ...).
std::string_view HttpReason(int status);

// Decodes %XX escapes (and, when `plus_is_space`, '+'); false on a bad escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace sluice::server::internal
