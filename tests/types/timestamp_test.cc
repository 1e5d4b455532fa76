#include "types/timestamp.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

namespace sluice {
namespace {

TEST(ParseIso8601, AcceptsCommonForms) {
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIso8601("1970-01-01"), 0);
  EXPECT_EQ(ParseIso8601("1970-01-01 00:00:01"), 1'000'000'000);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00.5Z"), 500'000'000);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00.000000001Z"), 1);
  EXPECT_EQ(ParseIso8601("1970-01-01T02:00:00+02:00"), 0);
  EXPECT_EQ(ParseIso8601("1969-12-31T22:00:00-0200"), 0);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:30:00Z"), 1709209800LL * 1'000'000'000);
}

TEST(ParseIso8601, RejectsMalformedAndOutOfRange) {
  for (const char* bad : {"", "2024", "2024-13-01", "2023-02-29", "2024-01-01T24:00:00Z",
                          "2024-01-01T10:60:00Z", "2024-01-01T10:00:00.Z", "2024-01-01X",
                          "2024-01-01T10:00:00+25:00", "1500-01-01", "2024-01-01T10:00:00Zjunk",
                          "2024-01-01T10:00:00.1234567890Z", "abcd-ef-gh"}) {
    EXPECT_FALSE(ParseIso8601(bad).has_value()) << bad;
  }
}

// ParseIso8601 takes a fast path for 'YYYY-MM-DDTHH:MM:SS[.f]Z'. The same
// text with ' ' for 'T' (or 'z' for 'Z') means the same instant but only
// the general parser reads it, so the two must always agree.
std::optional<int64_t> ParseGeneral(std::string s) {
  if (s.size() > 10 && s[10] == 'T') s[10] = ' ';
  if (!s.empty() && s.back() == 'Z') s.back() = 'z';
  return ParseIso8601(s);
}

TEST(ParseIso8601, FastPathAgreesWithGeneralParser) {
  // Edge values of each part, in range and just out of it.
  for (int year : {1677, 1678, 1970, 2000, 2023, 2024, 2100, 2261, 2262}) {
    for (int month : {0, 1, 2, 12, 13}) {
      for (int day : {0, 1, 28, 29, 30, 31, 32}) {
        for (const char* time : {"00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60"}) {
          for (const char* frac :
               {"", ".", ".5", ".123", ".000000001", ".999999999", ".1234567890", ".12a", ",5"}) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%s%sZ", year, month, day, time, frac);
            EXPECT_EQ(ParseIso8601(buf), ParseGeneral(buf)) << buf;
          }
        }
      }
    }
  }
  EXPECT_EQ(ParseIso8601("2261-12-31T23:59:59.999999999Z"),
            (DaysFromCivil(2261, 12, 31) * 86'400 + 86'399) * 1'000'000'000 + 999'999'999);
  EXPECT_EQ(ParseIso8601("1678-01-01T00:00:00Z"), DaysFromCivil(1678, 1, 1) * 86'400'000'000'000);

  // Random valid timestamps, and each with one byte changed.
  std::mt19937 rng(42);
  auto pick = [&rng](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  for (int i = 0; i < 20000; ++i) {
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", pick(1678, 2261),
                          pick(1, 12), pick(1, 28), pick(0, 23), pick(0, 59), pick(0, 59));
    std::string s(buf, static_cast<size_t>(n));
    int digits = pick(0, 10);
    if (digits > 0) s += '.';
    for (int k = 0; k < digits; ++k) s += static_cast<char>('0' + pick(0, 9));
    s += 'Z';
    ASSERT_EQ(ParseIso8601(s), ParseGeneral(s)) << s;
    if (digits <= 9) {
      ASSERT_TRUE(ParseIso8601(s).has_value()) << s;
    }
    static constexpr char kBytes[] = "0123456789-:.TZtz +\x80";
    s[static_cast<size_t>(pick(0, static_cast<int>(s.size()) - 1))] =
        kBytes[pick(0, static_cast<int>(sizeof kBytes) - 2)];
    ASSERT_EQ(ParseIso8601(s), ParseGeneral(s)) << s;
  }
}

TEST(ParseEpoch, HandlesUnitsAndFractions) {
  EXPECT_EQ(ParseEpoch("1", TimestampFormat::kEpochSeconds), 1'000'000'000);
  EXPECT_EQ(ParseEpoch("1.25", TimestampFormat::kEpochSeconds), 1'250'000'000);
  EXPECT_EQ(ParseEpoch("-1.5", TimestampFormat::kEpochSeconds), -1'500'000'000);
  EXPECT_EQ(ParseEpoch("1500", TimestampFormat::kEpochMillis), 1'500'000'000);
  EXPECT_FALSE(ParseEpoch("1e3", TimestampFormat::kEpochSeconds).has_value());
  EXPECT_FALSE(ParseEpoch("99999999999999999999", TimestampFormat::kEpochSeconds).has_value());
  EXPECT_FALSE(ParseEpoch("10000000000000", TimestampFormat::kEpochSeconds).has_value());
}

TEST(FormatIso8601, IsCanonicalAndRoundTrips) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIso8601(1'500'000'000), "1970-01-01T00:00:01.500Z");
  EXPECT_EQ(FormatIso8601(1'000), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(FormatIso8601(-1), "1969-12-31T23:59:59.999999999Z");
  for (int64_t ns : {0LL, 1LL, -1LL, 1709209800123456789LL, -5000000000000000000LL}) {
    EXPECT_EQ(ParseIso8601(FormatIso8601(ns)), ns) << ns;
  }
}

TEST(ToCivil, GivesIsoWeekdays) {
  CivilTime c = ToCivil(*ParseIso8601("2024-03-04T05:06:07Z"));  // a Monday
  EXPECT_EQ(c.year, 2024);
  EXPECT_EQ(c.month, 3);
  EXPECT_EQ(c.day, 4);
  EXPECT_EQ(c.hour, 5);
  EXPECT_EQ(c.minute, 6);
  EXPECT_EQ(c.second, 7);
  EXPECT_EQ(c.day_of_week, 1);
  EXPECT_EQ(ToCivil(*ParseIso8601("2024-03-10")).day_of_week, 7);
  EXPECT_EQ(ToCivil(*ParseIso8601("1969-12-31T23:59:59Z")).day_of_week, 3);
}

}  // namespace
}  // namespace sluice
