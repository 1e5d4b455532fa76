#pragma once
// Byte-level text helpers shared by the readers, the writers and the
// dead-letter file: UTF-8 checks, JSON string escaping, base64, and the
// "found" excerpts quoted in rejection reasons.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::io::internal {

// True if every byte is below 0x80 (fast path before a full UTF-8 check).
inline bool IsAscii(const char* p, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= static_cast<uint8_t>(p[i]);
  return (acc & 0x8080808080808080ull) == 0;
}

// Well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Appends `s` to `out` as the inside of a JSON string: '"' and '\' escaped,
// control characters as \u00XX, and each byte that is not part of a
// well-formed UTF-8 sequence replaced by U+FFFD. Returns false if any byte
// was replaced.
bool AppendJsonEscaped(std::string_view s, std::string& out);

// Bytes needed by EscapeJsonInto in the worst case (U+FFFD is 3 bytes, \u00XX 6).
inline size_t JsonEscapedBound(size_t n) {
  return n * 6;
}
// As AppendJsonEscaped, into a buffer of at least JsonEscapedBound(s.size())
// bytes; returns the number of bytes written.
size_t EscapeJsonInto(std::string_view s, char* out);

// Standard base64 with padding.
void AppendBase64(std::string_view s, std::string& out);

// The longest prefix of `s` that is at most `max_bytes` long and does not
// cut a UTF-8 sequence in two.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// `"text"` for messages, cut to about 40 bytes with "..." when longer.
std::string Excerpt(std::string_view s);

}  // namespace sluice::io::internal
