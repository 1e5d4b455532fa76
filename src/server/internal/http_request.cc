#include "server/internal/http_request.h"

#include <cstdint>

namespace sluice::server::internal {

namespace {

bool IsTokenChar(char c) {
  // RFC 9110 5.6.2: tchar.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the comma-separated list `value` holds `token` (case-insensitive).
bool ListHas(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (EqualsNoCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

HttpParse Fail(HttpError* error, int status, std::string message) {
  error->status = status;
  error->message = std::move(message);
  return HttpParse::kError;
}

// Parses the request line. `line` has no CRLF.
bool ParseRequestLine(std::string_view line, HttpRequest* r, HttpError* error) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    Fail(error, 400, "malformed request line: expected 'METHOD TARGET HTTP/1.1'");
    return false;
  }
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    Fail(error, 400, "malformed request line: expected 'METHOD TARGET HTTP/1.1'");
    return false;
  }
  const std::string_view method = line.substr(0, sp1);
  for (char c : method) {
    if (!IsTokenChar(c)) {
      Fail(error, 400, "malformed request line: the method is not a token");
      return false;
    }
  }
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    Fail(error, 400, "malformed request line: the version is not HTTP/x.y");
    return false;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    Fail(error, 505, "HTTP version " + std::string(version.substr(5)) +
                         " is not supported: use HTTP/1.1 (or 1.0)");
    return false;
  }
  r->method.assign(method);
  r->target.assign(target);
  r->minor_version = version[7] - '0';
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      Fail(error, 400, "malformed request target: it holds a control character");
      return false;
    }
  }
  // origin-form "/path?query"; absolute-form "http://host/path?query" (the
  // authority is dropped); "*" (OPTIONS).
  std::string_view rest = target;
  if (rest == "*") {
    r->path = "*";
    r->query.clear();
    return true;
  }
  if (rest.empty() || rest.front() != '/') {
    const size_t scheme_end = rest.find("://");
    if (scheme_end == std::string_view::npos) {
      Fail(error, 400, "malformed request target: expected a path starting with '/'");
      return false;
    }
    rest.remove_prefix(scheme_end + 3);
    const size_t slash = rest.find_first_of("/?");
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    if (rest.front() == '?') {
      // "http://host?q": the path is "/".
      r->query.assign(rest.substr(1));
      r->path = "/";
      return true;
    }
  }
  const size_t q = rest.find('?');
  r->query.assign(q == std::string_view::npos ? std::string_view() : rest.substr(q + 1));
  const size_t hash = r->query.find('#');
  if (hash != std::string::npos) r->query.resize(hash);
  std::string_view path = rest.substr(0, q);
  const size_t path_hash = path.find('#');
  if (path_hash != std::string_view::npos) path = path.substr(0, path_hash);
  if (!PercentDecode(path, false, &r->path)) {
    Fail(error, 400, "malformed request target: a '%' is not followed by two hex digits");
    return false;
  }
  return true;
}

// Decodes a chunked body that starts at data[0]. kComplete: *used bytes
// hold the body and its trailer section.
HttpParse ParseChunked(std::string_view data, const HttpLimits& limits, std::string* body,
                       size_t* used, HttpError* error) {
  body->clear();
  size_t pos = 0;
  for (;;) {
    const size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      if (data.size() - pos > 1024) return Fail(error, 400, "malformed chunk: size line too long");
      return HttpParse::kNeedMore;
    }
    std::string_view line = data.substr(pos, eol - pos);
    const size_t semi = line.find(';');  // chunk extensions are ignored
    std::string_view digits = Trim(line.substr(0, semi));
    if (digits.empty() || digits.size() > 16) {
      return Fail(error, 400, "malformed chunk: expected its size in hex");
    }
    uint64_t size = 0;
    for (char c : digits) {
      const int d = HexDigit(c);
      if (d < 0) return Fail(error, 400, "malformed chunk: expected its size in hex");
      size = size * 16 + static_cast<uint64_t>(d);
    }
    if (size > limits.max_body_bytes || body->size() + size > limits.max_body_bytes) {
      return Fail(error, 413,
                  "the request body is larger than " + std::to_string(limits.max_body_bytes) +
                      " bytes");
    }
    pos = eol + 2;
    if (size == 0) {
      // Trailer fields, then an empty line. They are read and dropped.
      for (;;) {
        const size_t end = data.find("\r\n", pos);
        if (end == std::string_view::npos) {
          if (data.size() - pos > limits.max_head_bytes) {
            return Fail(error, 431, "the chunked body's trailer fields are too large");
          }
          return HttpParse::kNeedMore;
        }
        const bool last = end == pos;
        pos = end + 2;
        if (last) break;
      }
      *used = pos;
      return HttpParse::kComplete;
    }
    if (data.size() - pos < size + 2) return HttpParse::kNeedMore;
    body->append(data.substr(pos, size));
    pos += size;
    if (data.substr(pos, 2) != "\r\n") {
      return Fail(error, 400, "malformed chunk: its data is not followed by CRLF");
    }
    pos += 2;
  }
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

std::optional<std::string> HttpRequest::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    std::string key;
    if (PercentDecode(pair.substr(0, eq), true, &key) && key == name) {
      std::string value;
      if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value)) {
        value.assign(pair.substr(eq + 1));  // undecodable: as sent
      }
      return value;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexDigit(in[i + 1]);
      const int lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

HttpParse ParseHttpRequest(std::string_view data, const HttpLimits& limits, HttpRequest* request,
                           size_t* consumed, bool* head_complete, HttpError* error) {
  *head_complete = false;
  size_t start = 0;
  while (data.size() - start >= 2 && data[start] == '\r' && data[start + 1] == '\n') start += 2;
  if (start > 512) return Fail(error, 400, "too many empty lines before the request");
  const std::string_view rest = data.substr(start);
  const size_t head_end = rest.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (rest.size() > limits.max_head_bytes) {
      return Fail(error, 431,
                  "the request line and header fields are larger than " +
                      std::to_string(limits.max_head_bytes) + " bytes");
    }
    // A NUL can be in no request: stop waiting for the rest.
    for (char c : rest) {
      if (c == '\0') return Fail(error, 400, "malformed request: a NUL byte in the header");
    }
    return HttpParse::kNeedMore;
  }
  if (head_end + 4 > limits.max_head_bytes) {
    return Fail(error, 431,
                "the request line and header fields are larger than " +
                    std::to_string(limits.max_head_bytes) + " bytes");
  }
  HttpRequest& r = *request;
  r.headers.clear();
  r.body.clear();
  const std::string_view head = rest.substr(0, head_end);
  const size_t line_end = head.find("\r\n");
  if (!ParseRequestLine(head.substr(0, line_end), &r, error)) return HttpParse::kError;

  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool has_transfer_encoding = false;
  bool close = false;
  bool keep_alive_asked = false;
  r.expect_continue = false;
  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') {
      return Fail(error, 400, "malformed header: a field folded over several lines");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Fail(error, 400, "malformed header field: expected 'Name: value'");
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) {
        return Fail(error, 400, "malformed header field name '" + std::string(name) + "'");
      }
    }
    const std::string_view value = Trim(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 0x7f) {
        return Fail(error, 400,
                    "malformed header field '" + std::string(name) +
                        "': its value holds a control character");
      }
    }
    if (r.headers.size() >= limits.max_headers) {
      return Fail(error, 431,
                  "more than " + std::to_string(limits.max_headers) + " header fields");
    }
    std::string lower(name);
    for (char& c : lower) c = Lower(c);
    if (lower == "content-length") {
      if (value.empty() || value.size() > 19 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        if (!value.empty() && value.size() > 19 &&
            value.find_first_not_of("0123456789") == std::string_view::npos) {
          return Fail(error, 413,
                      "the request body is larger than " +
                          std::to_string(limits.max_body_bytes) + " bytes");
        }
        return Fail(error, 400, "malformed Content-Length '" + std::string(value) + "'");
      }
      const uint64_t n = std::stoull(std::string(value));
      if (content_length && *content_length != n) {
        return Fail(error, 400, "two different Content-Length fields");
      }
      content_length = n;
    } else if (lower == "transfer-encoding") {
      has_transfer_encoding = true;
      // Only "chunked", alone: compression codings are not taken.
      std::string_view v = value;
      bool only_chunked = true;
      bool saw = false;
      while (!v.empty()) {
        const size_t comma = v.find(',');
        const std::string_view coding = Trim(v.substr(0, comma));
        if (!coding.empty()) {
          if (EqualsNoCase(coding, "chunked") && !saw) {
            saw = true;
          } else {
            only_chunked = false;
          }
        }
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
      if (!only_chunked || !saw || chunked) {
        return Fail(error, 501,
                    "Transfer-Encoding '" + std::string(value) +
                        "' is not supported: send the body with Content-Length or chunked");
      }
      chunked = true;
    } else if (lower == "connection") {
      if (ListHas(value, "close")) close = true;
      if (ListHas(value, "keep-alive")) keep_alive_asked = true;
    } else if (lower == "expect") {
      if (EqualsNoCase(value, "100-continue")) r.expect_continue = true;
    }
    r.headers.emplace_back(std::move(lower), std::string(value));
  }
  if (has_transfer_encoding && content_length) {
    return Fail(error, 400, "both Content-Length and Transfer-Encoding: send one of them");
  }
  r.keep_alive = !close && (r.minor_version == 1 || keep_alive_asked);
  if (content_length && *content_length > limits.max_body_bytes) {
    return Fail(error, 413,
                "the request body is larger than " + std::to_string(limits.max_body_bytes) +
                    " bytes");
  }
  *head_complete = true;
  const size_t body_start = start + head_end + 4;
  const std::string_view body = data.substr(body_start);
  if (chunked) {
    size_t used = 0;
    const HttpParse p = ParseChunked(body, limits, &r.body, &used, error);
    if (p != HttpParse::kComplete) return p;
    *consumed = body_start + used;
    return HttpParse::kComplete;
  }
  const uint64_t n = content_length.value_or(0);
  if (body.size() < n) return HttpParse::kNeedMore;
  r.body.assign(body.substr(0, n));
  *consumed = body_start + n;
  return HttpParse::kComplete;
}

std::string_view HttpReason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

}  // namespace sluice::server::internal
