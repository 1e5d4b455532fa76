#include "io/internal/text.h"

#include <cstring>

namespace sluice::io::internal {
namespace {

// Length of the well-formed UTF-8 sequence at p[0..n), or 0 if malformed.
size_t Utf8SequenceLength(const uint8_t* p, size_t n) {
  uint8_t c = p[0];
  if (c < 0x80) return 1;
  auto cont = [&](size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

size_t EscapeJsonInto(std::string_view s, char* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size();
  char* o = out;
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      *o++ = static_cast<char>(c);
      ++i;
    } else if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      std::memcpy(o, "\\u00", 4);
      o[4] = kHex[c >> 4];
      o[5] = kHex[c & 15];
      o += 6;
      ++i;
    } else {
      size_t len = Utf8SequenceLength(p + i, n - i);
      if (len == 0) {
        std::memcpy(o, "\xEF\xBF\xBD", 3);  // U+FFFD
        o += 3;
        ++i;
      } else {
        std::memcpy(o, p + i, len);
        o += len;
        i += len;
      }
    }
  }
  return static_cast<size_t>(o - out);
}

bool AppendJsonEscaped(std::string_view s, std::string& out) {
  size_t old = out.size();
  out.resize(old + JsonEscapedBound(s.size()));
  size_t n = EscapeJsonInto(s, out.data() + old);
  out.resize(old + n);
  return IsValidUtf8(s);
}

void AppendBase64(std::string_view s, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
}

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  // Step back over continuation bytes so that no sequence is cut.
  size_t back = 0;
  while (n > 0 && back < 3 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) {
    --n;
    ++back;
  }
  return s.substr(0, n);
}

std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "\"";
  if (s.size() <= kMax) {
    out += s;
  } else {
    out += Utf8Prefix(s, kMax);
    out += "...";
  }
  out += '"';
  return out;
}

}  // namespace sluice::io::internal
