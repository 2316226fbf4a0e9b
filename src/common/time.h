// Timestamps as kizuna handles them: int64 microseconds since the Unix epoch
// (UTC), parsed from and formatted to the STIX/TAXII RFC 3339 form
// "YYYY-MM-DDTHH:MM:SS[.fraction]Z". A Clock seam lets tests fix "now".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kizuna {

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Parses a STIX timestamp: UTC only ("Z"), fraction optional and of any
// length (digits past microseconds are truncated). Rejects anything else with
// a message saying what is wrong.
Result<int64_t> ParseTimestamp(std::string_view text);

// Formats `micros` with `fraction_digits` (0..6) digits after the seconds:
// FormatTimestamp(0, 6) == "1970-01-01T00:00:00.000000Z".
std::string FormatTimestamp(int64_t micros, int fraction_digits = 6);

// The number of digits after the seconds' point in a valid timestamp (0 if none).
int TimestampPrecision(std::string_view text);

// The loose times of reports and indicator lists: "YYYY-MM-DD HH:MM[:SS[.fraction]]"
// with ' ' or 'T', then nothing (UTC), "Z", "UTC", "+HH:MM", "+HHMM" or
// "+HH" (either sign, after an optional space); or a number of seconds since
// the epoch ("1764288000", "1764288000.25"). Years 1970 to 9999. → UTC
// microseconds.
Result<int64_t> ParseTimeText(std::string_view text);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
};

// The wall clock. Thread-safe.
class SystemClock : public Clock {
 public:
  int64_t NowMicros() const override;
  static const SystemClock& Instance();
};

}  // namespace kizuna
