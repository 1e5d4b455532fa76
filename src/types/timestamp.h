#pragma once
// Timestamps: int64 nanoseconds since the Unix epoch, UTC.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

enum class TimestampFormat : uint8_t {
  kIso8601,  // 2024-03-01T12:30:00Z, 2024-03-01T12:30:00.123+02:00, 2024-03-01 12:30:00, 2024-03-01
  kEpochSeconds,  // 1709296200 or 1709296200.25
  kEpochMillis,   // 1709296200250
  kEpochMicros,
  kEpochNanos,
};

// Parses ISO-8601 / RFC 3339. Accepts 'T' or ' ' between date and time,
// 1-9 fractional digits, and 'Z', '+hh:mm', '-hh:mm', '+hhmm' or no zone (UTC).
// A date alone means midnight UTC. Returns nullopt on any malformed or
// out-of-range text (month 13, Feb 30, hour 24, year outside 1678..2261).
std::optional<int64_t> ParseIso8601(std::string_view text);

// Parses an epoch number in the given unit (integer; seconds may have a fraction).
std::optional<int64_t> ParseEpoch(std::string_view text, TimestampFormat unit);
// Converts an epoch number from JSON. nullopt if out of range or not finite.
std::optional<int64_t> EpochToNanos(double value, TimestampFormat unit);
std::optional<int64_t> EpochToNanos(int64_t value, TimestampFormat unit);

// Canonical output: "2024-03-01T12:30:00Z", with ".123", ".123456" or
// ".123456789" when the sub-second part needs it. Writes at most 32 bytes to
// `out` and returns the length.
size_t FormatIso8601(int64_t nanos, char* out);
std::string FormatIso8601(int64_t nanos);

// Civil-calendar parts of a UTC timestamp.
struct CivilTime {
  int64_t year;
  int month;        // 1..12
  int day;          // 1..31
  int hour;         // 0..23
  int minute;       // 0..59
  int second;       // 0..59
  int day_of_week;  // ISO: Monday = 1 .. Sunday = 7
  int64_t nanos;    // 0..999999999
};
CivilTime ToCivil(int64_t nanos);

// Days since 1970-01-01 of a proleptic Gregorian date (no range check).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace sluice
