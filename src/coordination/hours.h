// Operating hours and time zones (issue 13): whether a partner team is at
// its desk now, by its directory entry's `operating_hours` ("Mon-Fri
// 09:00-18:00", "Mon,Wed,Fri 08:30-17:00"; "" = always) in its `time_zone`
// (an IANA name). Emergency escalation goes straight to the 24/7 line
// outside them.
//
// Time zones are read from the system's compiled tz database
// (/usr/share/zoneinfo, Debian's tzdata, TZif version 2 or later): the
// offset in force at an instant is that of the last transition before it
// (the files hold transitions up to 2037).
//
// Functions only; thread-safe (no cache, no global state: not TZ/localtime).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kizuna::coordination {

struct WeeklyHours {
  std::array<bool, 7> days{};  // Monday first
  int start_minute = 0;        // of the day, local time
  int end_minute = 0;          // exclusive; 24:00 = 1440
};

// "Mon-Fri 09:00-18:00" (a range of days, also across the week's end:
// "Sun-Thu") or "Mon,Wed,Fri 08:30-17:00"; nullopt when malformed.
std::optional<WeeklyHours> ParseOperatingHours(std::string_view text);

// An IANA-looking name ("Asia/Tokyo", "UTC", "Etc/GMT+9"): letters,
// digits, '/', '_', '-', '+', no "..", not starting or ending in '/'.
bool IsTimeZoneName(std::string_view zone);

// The zone's offset from UTC at `at_us` (seconds east of Greenwich).
// NotFound when the zone is not in `zoneinfo_dir`; InvalidArgument when its
// file is not TZif or is damaged.
Result<int64_t> UtcOffsetSeconds(std::string_view zone, int64_t at_us,
                                 const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

// Whether `hours` ("" = always) covers the local time `at_us` in `zone`.
// An unknown zone or malformed hours is an error (the caller decides).
Result<bool> WithinHours(std::string_view hours, std::string_view zone, int64_t at_us,
                         const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

}  // namespace kizuna::coordination
