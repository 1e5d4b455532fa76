#include "types/timestamp.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

bool ParseDigits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// The shape nearly all inputs have, 'YYYY-MM-DDTHH:MM:SSZ' or with 1 to 9
// fraction digits after a '.', parsed without the general parser's
// position checks. Returns false for any other text and for out-of-range
// values; ParseIso8601 then leaves the decision to the general parser, so
// the fast path changes no result.
bool ParseIso8601Utc(std::string_view s, int64_t* out) {
  const size_t n = s.size();
  if (n < 20 || n == 21 || n > 30 || s[n - 1] != 'Z') return false;
  const char* p = s.data();
  if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':') return false;
  auto digit = [p](size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(p[i])) - '0';
  };
  static constexpr uint8_t kDigitAt[14] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
  unsigned d[14];
  bool bad = false;
  for (int k = 0; k < 14; ++k) {
    d[k] = digit(kDigitAt[k]);
    bad |= d[k] > 9;
  }
  if (bad) return false;
  const int64_t year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
  const unsigned month = d[4] * 10 + d[5];
  const unsigned day = d[6] * 10 + d[7];
  const int64_t hour = d[8] * 10 + d[9];
  const int64_t minute = d[10] * 10 + d[11];
  const int64_t second = d[12] * 10 + d[13];
  if (year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 ||
      static_cast<int>(day) > DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  int64_t frac = 0;
  if (n > 20) {
    static constexpr int64_t kScale[10] = {
        1'000'000'000, 100'000'000, 10'000'000, 1'000'000, 100'000, 10'000, 1'000, 100, 10, 1};
    if (p[19] != '.') return false;
    for (size_t i = 20; i + 1 < n; ++i) {
      unsigned c = digit(i);
      if (c > 9) return false;
      frac = frac * 10 + c;
    }
    frac *= kScale[n - 21];
  }
  const int64_t secs =
      DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  return !__builtin_mul_overflow(secs, kNanosPerSecond, out) &&
         !__builtin_add_overflow(*out, frac, out);
}

}  // namespace

// Howard Hinnant's days_from_civil algorithm.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilTime ToCivil(int64_t nanos) {
  int64_t secs = nanos / kNanosPerSecond;
  int64_t frac = nanos % kNanosPerSecond;
  if (frac < 0) {
    frac += kNanosPerSecond;
    secs -= 1;
  }
  int64_t days = secs / kSecondsPerDay;
  int64_t sod = secs % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    days -= 1;
  }
  // civil_from_days
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  CivilTime c;
  c.year = y + (m <= 2);
  c.month = static_cast<int>(m);
  c.day = static_cast<int>(d);
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>((sod % 3600) / 60);
  c.second = static_cast<int>(sod % 60);
  // 1970-01-01 was a Thursday (ISO 4).
  int64_t wd = (days % 7 + 7 + 3) % 7;  // Monday = 0
  c.day_of_week = static_cast<int>(wd) + 1;
  c.nanos = frac;
  return c;
}

std::optional<int64_t> ParseIso8601(std::string_view s) {
  if (int64_t fast; ParseIso8601Utc(s, &fast)) return fast;
  int64_t year, month, day;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!ParseDigits(s, 0, 4, &year) || !ParseDigits(s, 5, 2, &month) ||
      !ParseDigits(s, 8, 2, &day)) {
    return std::nullopt;
  }
  if (year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month)) {
    return std::nullopt;
  }
  int64_t hour = 0, minute = 0, second = 0, frac = 0, offset_seconds = 0;
  size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!ParseDigits(s, pos, 2, &hour) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
        !ParseDigits(s, pos + 3, 2, &minute)) {
      return std::nullopt;
    }
    pos += 5;
    if (pos < s.size() && s[pos] == ':') {
      if (!ParseDigits(s, pos + 1, 2, &second)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 9) frac = frac * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0 || digits > 9) return std::nullopt;
        for (size_t i = digits; i < 9; ++i) frac *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    if (pos < s.size()) {
      char z = s[pos];
      if (z == 'Z' || z == 'z') {
        ++pos;
      } else if (z == '+' || z == '-') {
        int64_t oh, om;
        if (!ParseDigits(s, pos + 1, 2, &oh)) return std::nullopt;
        size_t p = pos + 3;
        if (p < s.size() && s[p] == ':') ++p;
        if (!ParseDigits(s, p, 2, &om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset_seconds = (oh * 3600 + om * 60) * (z == '+' ? 1 : -1);
        pos = p + 2;
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs = days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_seconds;
  // The year range keeps this inside int64 nanoseconds except at the edges.
  int64_t out;
  if (__builtin_mul_overflow(secs, kNanosPerSecond, &out) ||
      __builtin_add_overflow(out, frac, &out)) {
    return std::nullopt;
  }
  return out;
}

namespace {
int64_t UnitNanos(TimestampFormat unit) {
  switch (unit) {
    case TimestampFormat::kEpochSeconds: return kNanosPerSecond;
    case TimestampFormat::kEpochMillis: return 1'000'000;
    case TimestampFormat::kEpochMicros: return 1'000;
    default: return 1;
  }
}
}  // namespace

std::optional<int64_t> EpochToNanos(int64_t value, TimestampFormat unit) {
  int64_t out;
  if (__builtin_mul_overflow(value, UnitNanos(unit), &out)) return std::nullopt;
  return out;
}

std::optional<int64_t> EpochToNanos(double value, TimestampFormat unit) {
  if (!std::isfinite(value)) return std::nullopt;
  double ns = value * static_cast<double>(UnitNanos(unit));
  if (!(ns > -9.2e18 && ns < 9.2e18)) return std::nullopt;
  return static_cast<int64_t>(std::llround(ns));
}

std::optional<int64_t> ParseEpoch(std::string_view s, TimestampFormat unit) {
  if (s.empty()) return std::nullopt;
  const char* b = s.data();
  const char* e = b + s.size();
  int64_t whole = 0;
  auto [p, ec] = std::from_chars(b, e, whole);
  if (ec != std::errc() || p == b) return std::nullopt;
  if (p == e) return EpochToNanos(whole, unit);
  if (*p != '.') return std::nullopt;
  // A fraction: parse the digits exactly rather than through a double.
  const char* f = p + 1;
  if (f == e) return std::nullopt;
  int64_t unit_ns = UnitNanos(unit);
  int64_t frac_ns = 0;
  int64_t scale = unit_ns;
  for (const char* q = f; q < e; ++q) {
    if (*q < '0' || *q > '9') return std::nullopt;
    scale /= 10;
    frac_ns += (*q - '0') * scale;
  }
  auto base = EpochToNanos(whole, unit);
  if (!base) return std::nullopt;
  int64_t out;
  bool negative = s[0] == '-';
  if (__builtin_add_overflow(*base, negative ? -frac_ns : frac_ns, &out)) return std::nullopt;
  return out;
}

size_t FormatIso8601(int64_t nanos, char* out) {
  CivilTime c = ToCivil(nanos);
  char* p = out;
  auto put2 = [&p](int v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  int64_t y = c.year;
  *p++ = static_cast<char>('0' + (y / 1000) % 10);
  *p++ = static_cast<char>('0' + (y / 100) % 10);
  *p++ = static_cast<char>('0' + (y / 10) % 10);
  *p++ = static_cast<char>('0' + y % 10);
  *p++ = '-';
  put2(c.month);
  *p++ = '-';
  put2(c.day);
  *p++ = 'T';
  put2(c.hour);
  *p++ = ':';
  put2(c.minute);
  *p++ = ':';
  put2(c.second);
  if (c.nanos != 0) {
    int digits = 9;
    int64_t f = c.nanos;
    if (f % 1'000'000 == 0) {
      digits = 3;
      f /= 1'000'000;
    } else if (f % 1'000 == 0) {
      digits = 6;
      f /= 1'000;
    }
    *p++ = '.';
    for (int i = digits - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    p += digits;
  }
  *p++ = 'Z';
  return static_cast<size_t>(p - out);
}

std::string FormatIso8601(int64_t nanos) {
  char buf[40];
  size_t n = FormatIso8601(nanos, buf);
  return std::string(buf, n);
}

}  // namespace sluice
