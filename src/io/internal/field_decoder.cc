#include "io/internal/field_decoder.h"

#include <charconv>
#include <cmath>

#include "io/internal/text.h"
#include "types/timestamp.h"

namespace sluice::io::internal {

DecodeError DecodeInt64(std::string_view text, int64_t* out) {
  const char* p = text.data();
  const char* e = p + text.size();
  bool negative = false;
  if (p < e && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  if (p == e) return DecodeError::kSyntax;
  uint64_t v = 0;
  if (e - p <= 18) {  // at most 18 digits cannot overflow
    for (; p < e; ++p) {
      unsigned d = static_cast<unsigned char>(*p) - '0';
      if (d > 9) return DecodeError::kSyntax;
      v = v * 10 + d;
    }
    *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return DecodeError::kOk;
  }
  bool overflow = false;
  for (; p < e; ++p) {
    unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d > 9) return DecodeError::kSyntax;
    if (v > (UINT64_MAX - d) / 10) overflow = true;
    v = v * 10 + d;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (overflow || v > kMaxPositive + (negative ? 1 : 0)) return DecodeError::kOutOfRange;
  *out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return DecodeError::kOk;
}

namespace {

// Plain decimals with at most 15 significant digits and no exponent: the
// digits and the power of ten are exact doubles, so one division is
// correctly rounded (Clinger's fast path). Returns false to fall back.
bool FastDecimal(const char* p, const char* e, double* out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  bool negative = false;
  if (p < e && *p == '-') {
    negative = true;
    ++p;
  }
  uint64_t m = 0;
  int digits = 0;
  int frac = 0;
  bool dot = false;
  const char* start = p;
  for (; p < e; ++p) {
    unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d <= 9) {
      m = m * 10 + d;
      ++digits;
      frac += dot;
    } else if (*p == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15 || (dot && (p - start == 1 || start[0] == '.' || e[-1] == '.'))) {
    return false;
  }
  double v = static_cast<double>(m) / kPow10[frac];
  *out = negative ? -v : v;
  return true;
}

}  // namespace

DecodeError DecodeFloat64(std::string_view text, double* out) {
  const char* p = text.data();
  const char* e = p + text.size();
  if (FastDecimal(p, e, out)) return DecodeError::kOk;
  if (p < e && *p == '+') {
    ++p;
    if (p < e && *p == '-') return DecodeError::kSyntax;
  }
  if (p == e) return DecodeError::kSyntax;
  double v;
  auto [end, ec] = std::from_chars(p, e, v, std::chars_format::general);
  if (end != e) return DecodeError::kSyntax;
  if (ec == std::errc::result_out_of_range) return DecodeError::kOutOfRange;
  if (ec != std::errc()) return DecodeError::kSyntax;
  if (!std::isfinite(v)) return DecodeError::kNotFinite;
  *out = v;
  return DecodeError::kOk;
}

DecodeError DecodeBool(std::string_view text, uint8_t* out) {
  auto lower = [](char c) { return static_cast<char>(c | 0x20); };
  switch (text.size()) {
    case 1:
      if (text[0] == '1' || text[0] == '0') {
        *out = text[0] == '1';
        return DecodeError::kOk;
      }
      break;
    case 4:
      if (lower(text[0]) == 't' && lower(text[1]) == 'r' && lower(text[2]) == 'u' &&
          lower(text[3]) == 'e') {
        *out = 1;
        return DecodeError::kOk;
      }
      break;
    case 5:
      if (lower(text[0]) == 'f' && lower(text[1]) == 'a' && lower(text[2]) == 'l' &&
          lower(text[3]) == 's' && lower(text[4]) == 'e') {
        *out = 0;
        return DecodeError::kOk;
      }
      break;
    default:
      break;
  }
  return DecodeError::kSyntax;
}

DecodeError DecodeTimestamp(std::string_view text, TimestampFormat format, int64_t* out) {
  std::optional<int64_t> v =
      format == TimestampFormat::kIso8601 ? ParseIso8601(text) : ParseEpoch(text, format);
  if (!v) return DecodeError::kSyntax;
  *out = *v;
  return DecodeError::kOk;
}

std::string Expected(const SourceField& field) {
  switch (field.type.kind) {
    case TypeKind::kBool:
      return "expected bool (true, false, 1 or 0)";
    case TypeKind::kTimestamp:
      switch (field.timestamp_format) {
        case TimestampFormat::kIso8601:
          return "expected an ISO-8601 timestamp";
        case TimestampFormat::kEpochSeconds:
          return "expected a timestamp in epoch seconds";
        case TimestampFormat::kEpochMillis:
          return "expected a timestamp in epoch milliseconds";
        case TimestampFormat::kEpochMicros:
          return "expected a timestamp in epoch microseconds";
        case TimestampFormat::kEpochNanos:
          return "expected a timestamp in epoch nanoseconds";
      }
      return "expected a timestamp";
    default: {
      std::string out = "expected ";
      out += KindName(field.type.kind);
      return out;
    }
  }
}

std::string Describe(const SourceField& field, DecodeError error, std::string_view text) {
  std::string out = "field '";
  out += field.name;
  out += "': ";
  switch (error) {
    case DecodeError::kOk:
      break;
    case DecodeError::kSyntax:
      out += Expected(field);
      out += ", found ";
      out += Excerpt(text);
      break;
    case DecodeError::kOutOfRange:
      if (field.type.kind == TypeKind::kInt64) {
        out += "expected int64 (-9223372036854775808 to 9223372036854775807), found ";
      } else if (field.type.kind == TypeKind::kFloat64) {
        out += "expected float64 within +-1.8e308, found ";
      } else {
        out += Expected(field);
        out += " (years 1678 to 2261), found ";
      }
      out += Excerpt(text);
      break;
    case DecodeError::kNotFinite:
      out += "expected a finite float64, found ";
      out += Excerpt(text);
      break;
    case DecodeError::kNotInEnum: {
      out += '\'';
      out += Utf8Prefix(text, 40);
      if (text.size() > 40) out += "...";
      out += "' is not one of ";
      const auto& values = field.type.domain->values();
      for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ", ";
        out += values[i];
      }
      break;
    }
    case DecodeError::kInvalidUtf8:
      out += "invalid UTF-8 in ";
      out += KindName(field.type.kind);
      out += " value";
      break;
  }
  return out;
}

std::string NullReason(const SourceField& field) {
  std::string out = "field '";
  out += field.name;
  out += "' is required but is null";
  return out;
}

}  // namespace sluice::io::internal
