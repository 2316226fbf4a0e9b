// Operating hours in a partner's time zone, read from the system's tz
// database (Debian's tzdata): fixed offsets, daylight saving time, days
// across the week's end, unknown and damaged zones.
#include "coordination/hours.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/time.h"
#include "tests/support/temp_dir.h"

namespace kizuna::coordination {
namespace {

int64_t At(const char* text) {
  auto parsed = ParseTimestamp(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : 0;
}

TEST(Hours, OperatingHoursParse) {
  auto weekdays = ParseOperatingHours("Mon-Fri 09:00-18:00");
  ASSERT_TRUE(weekdays);
  EXPECT_EQ(weekdays->days, (std::array<bool, 7>{true, true, true, true, true, false, false}));
  EXPECT_EQ(weekdays->start_minute, 540);
  EXPECT_EQ(weekdays->end_minute, 1080);
  auto some = ParseOperatingHours("Mon,Wed,Fri 08:30-24:00");
  ASSERT_TRUE(some);
  EXPECT_EQ(some->days, (std::array<bool, 7>{true, false, true, false, true, false, false}));
  EXPECT_EQ(some->end_minute, 1440);
  auto wrapping = ParseOperatingHours("Sun-Thu 08:00-16:00");  // a Gulf week
  ASSERT_TRUE(wrapping);
  EXPECT_EQ(wrapping->days, (std::array<bool, 7>{true, true, true, true, false, false, true}));
  for (const char* bad : {"", "Mon-Fri", "Mon-Fri 9:00-18:00", "Mon-Fri 18:00-09:00",
                          "Mon-Fre 09:00-18:00", "Mon,,Fri 09:00-18:00", "Mon, 09:00-18:00",
                          "Mon-Fri 09:00-24:01", "Mon-Fri 09:00_18:00", "Mon,Tue, 09:00-10:00"}) {
    EXPECT_FALSE(ParseOperatingHours(bad)) << bad;
  }
}

TEST(Hours, OffsetsComeFromTheTzDatabase) {
  EXPECT_EQ(*UtcOffsetSeconds("Asia/Tokyo", At("2026-11-30T01:00:00Z")), 9 * 3600);
  EXPECT_EQ(*UtcOffsetSeconds("UTC", At("2026-11-30T01:00:00Z")), 0);
  // Madrid: CET in winter, CEST from the last Sunday of March 01:00 UTC.
  EXPECT_EQ(*UtcOffsetSeconds("Europe/Madrid", At("2026-12-01T07:30:00Z")), 3600);
  EXPECT_EQ(*UtcOffsetSeconds("Europe/Madrid", At("2026-07-01T07:30:00Z")), 7200);
  EXPECT_EQ(*UtcOffsetSeconds("Europe/Madrid", At("2026-03-29T00:59:59Z")), 3600);
  EXPECT_EQ(*UtcOffsetSeconds("Europe/Madrid", At("2026-03-29T01:00:00Z")), 7200);
  EXPECT_EQ(*UtcOffsetSeconds("America/New_York", At("2026-11-30T12:00:00Z")), -5 * 3600);
  EXPECT_EQ(UtcOffsetSeconds("Mars/Olympus_Mons", 0).status().code(), Code::kNotFound);
  EXPECT_EQ(UtcOffsetSeconds("../etc/passwd", 0).status().code(), Code::kInvalidArgument);
}

TEST(Hours, WithinHoursInThePartnersZone) {
  // Monday 2026-11-30: 10:00 in Tokyo is within a weekday desk, 19:00 is not.
  EXPECT_TRUE(*WithinHours("Mon-Fri 09:00-18:00", "Asia/Tokyo", At("2026-11-30T01:00:00Z")));
  EXPECT_FALSE(*WithinHours("Mon-Fri 09:00-18:00", "Asia/Tokyo", At("2026-11-30T10:00:00Z")));
  // Sunday 23:30 UTC is Monday 08:30 in Tokyo: before the desk opens.
  EXPECT_FALSE(*WithinHours("Mon-Fri 09:00-18:00", "Asia/Tokyo", At("2026-11-29T23:30:00Z")));
  // Saturday in Tokyo.
  EXPECT_FALSE(*WithinHours("Mon-Fri 09:00-18:00", "Asia/Tokyo", At("2026-12-05T03:00:00Z")));
  // 07:30 UTC is 08:30 in Madrid's winter, 09:30 in its summer.
  EXPECT_FALSE(*WithinHours("Mon-Fri 09:00-18:00", "Europe/Madrid", At("2026-12-01T07:30:00Z")));
  EXPECT_TRUE(*WithinHours("Mon-Fri 09:00-18:00", "Europe/Madrid", At("2026-07-01T07:30:00Z")));
  // No hours: always.
  EXPECT_TRUE(*WithinHours("", "Asia/Tokyo", At("2026-12-05T03:00:00Z")));
  EXPECT_FALSE(WithinHours("Mon-Fri", "Asia/Tokyo", 0).ok());
  EXPECT_FALSE(WithinHours("Mon-Fri 09:00-18:00", "Nowhere/Else", 0).ok());
}

TEST(Hours, ADamagedZoneFileIsAnError) {
  test_support::TempDir dir;
  std::ofstream(dir.path() + "/Short") << "TZif2";
  std::ofstream(dir.path() + "/Text") << "not a zone file at all, just some words in it......";
  for (const char* zone : {"Short", "Text"}) {
    EXPECT_EQ(UtcOffsetSeconds(zone, 0, dir.path()).status().code(), Code::kInvalidArgument)
        << zone;
  }
  // A real file cut short.
  std::ifstream in("/usr/share/zoneinfo/Europe/Madrid", std::ios::binary);
  std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(whole.size(), 200u);
  std::ofstream(dir.path() + "/Cut", std::ios::binary) << whole.substr(0, whole.size() / 2 + 100);
  EXPECT_EQ(UtcOffsetSeconds("Cut", At("2026-07-01T00:00:00Z"), dir.path()).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace kizuna::coordination
