#include "types/timestamp.h"

#include <gtest/gtest.h>

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
