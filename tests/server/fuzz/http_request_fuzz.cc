// libFuzzer target: the HTTP/1.1 request parser of `sluice serve`
// (server/internal/http_request.h), the first code to see a client's
// bytes. Any input must give a request, a wait for more bytes, or a
// refusal with a 4xx/5xx status and a message; never a crash or undefined
// behaviour. And the parser must be consistent as bytes arrive: when the
// whole input makes a request of N bytes, every shorter prefix of it waits
// for more.
//
// Build and run (clang): see README.md in this folder. The normal build
// replays corpus_http/ through the same function (replay_main.cc).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/internal/http_request.h"

using sluice::server::internal::HttpError;
using sluice::server::internal::HttpLimits;
using sluice::server::internal::HttpParse;
using sluice::server::internal::HttpRequest;
using sluice::server::internal::ParseHttpRequest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  HttpLimits limits;
  limits.max_head_bytes = 2048;
  limits.max_body_bytes = 4096;
  HttpRequest request;
  size_t consumed = 0;
  bool head = false;
  HttpError error;
  const HttpParse p = ParseHttpRequest(input, limits, &request, &consumed, &head, &error);
  if (p == HttpParse::kError) {
    if (error.status < 400 || error.status > 599 || error.message.empty()) std::abort();
    return 0;
  }
  if (p == HttpParse::kNeedMore) return 0;
  if (consumed == 0 || consumed > size) std::abort();
  if (request.body.size() > limits.max_body_bytes) std::abort();
  // Touch what was decoded (ASan sees a view into freed memory).
  size_t sum = request.method.size() + request.path.size() + request.query.size();
  for (const auto& [name, value] : request.headers) sum += name.size() + value.size();
  if (request.QueryParam("scores").has_value()) ++sum;
  if (sum == static_cast<size_t>(-1)) std::abort();
  // Prefixes wait for more: a few cut points derived from the input.
  for (size_t cut : {consumed - 1, consumed / 2, consumed / 3, size_t{1}}) {
    if (cut >= consumed) continue;
    HttpRequest r;
    size_t c = 0;
    bool h = false;
    HttpError e;
    if (ParseHttpRequest(input.substr(0, cut), limits, &r, &c, &h, &e) != HttpParse::kNeedMore) {
      std::abort();
    }
  }
  return 0;
}
