#pragma once
// Typed decoding of one field's text, shared by the CSV and JSONL readers.
// The Decode* functions are the hot path: they return a DecodeError code and
// build no message; Describe() turns a failure into the documented reason
// (only for records that are rejected).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "io/record_io.h"

namespace sluice::io::internal {

enum class DecodeError : uint8_t {
  kOk,
  kSyntax,       // not a value of the type
  kOutOfRange,   // int64 / float64 / timestamp out of range
  kNotFinite,    // NaN or infinity text for float64
  kNotInEnum,    // a string that is not one of the enum's values
  kInvalidUtf8,  // string or enum bytes that are not UTF-8
};

// Strips ASCII spaces and tabs at both ends.
inline std::string_view TrimSpaces(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

DecodeError DecodeInt64(std::string_view text, int64_t* out);
DecodeError DecodeFloat64(std::string_view text, double* out);
DecodeError DecodeBool(std::string_view text, uint8_t* out);
DecodeError DecodeTimestamp(std::string_view text, TimestampFormat format, int64_t* out);

// Enum lookup tuned for small domains (no hashing below 16 values).
class EnumMatcher {
 public:
  EnumMatcher() = default;
  explicit EnumMatcher(const EnumDomain* domain) : domain_(domain) {}
  int32_t Find(std::string_view v) const {
    const auto& values = domain_->values();
    if (values.size() > 16) return domain_->Find(v);
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i].size() == v.size() && std::memcmp(values[i].data(), v.data(), v.size()) == 0) {
        return static_cast<int32_t>(i);
      }
    }
    return -1;
  }

 private:
  const EnumDomain* domain_ = nullptr;
};

// "expected int64" / "expected an ISO-8601 timestamp" / ...: what a field
// of this type and format expects, for messages.
std::string Expected(const SourceField& field);

// The reason for a failed text decode, e.g.
// `field 'amount': expected a finite float64, found "NaN"`.
std::string Describe(const SourceField& field, DecodeError error, std::string_view text);

// `field 'x' is required but is null`
std::string NullReason(const SourceField& field);

}  // namespace sluice::io::internal
