#include "common/time.h"

#include <gtest/gtest.h>

namespace kizuna {
namespace {

TEST(Timestamp, RoundTripsMicroseconds) {
  auto t = ParseTimestamp("2016-04-06T20:03:48.123456Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatTimestamp(*t), "2016-04-06T20:03:48.123456Z");
  EXPECT_EQ(FormatTimestamp(*t, 3), "2016-04-06T20:03:48.123Z");
  EXPECT_EQ(FormatTimestamp(*t, 0), "2016-04-06T20:03:48Z");
}

TEST(Timestamp, EveryYearFormatsWithFourDigitsAndBeyond) {
  EXPECT_EQ(FormatTimestamp(0, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("0009-03-01T09:05:07Z"), 0), "0009-03-01T09:05:07Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("9999-12-31T23:59:59Z"), 0), "9999-12-31T23:59:59Z");
  // Past year 9999 (snprintf's path): still the same form.
  EXPECT_EQ(FormatTimestamp(253402300800LL * 1000000, 0), "10000-01-01T00:00:00Z");
}

TEST(Timestamp, EpochAndFractionsOfAnyLength) {
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:00.123456789Z"), 123456);
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(Timestamp, RejectsMalformed) {
  for (const char* bad :
       {"", "2016-04-06", "2016-04-06T20:03:48", "2016-04-06T20:03:48+01:00",
        "2016-13-06T20:03:48Z", "2015-02-29T00:00:00Z", "2016-04-06T24:00:00Z",
        "2016-04-06T20:03:48.Z", "2016-04-06 20:03:48Z", "2016-04-06T20:03:48Zx"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseTimestamp("2016-02-29T00:00:00Z").ok());
}

TEST(Timestamp, Precision) {
  EXPECT_EQ(TimestampPrecision("2016-04-06T20:03:48Z"), 0);
  EXPECT_EQ(TimestampPrecision("2016-04-06T20:03:48.123Z"), 3);
}

}  // namespace
}  // namespace kizuna
