#include "coordination/hours.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace kizuna::coordination {

namespace {

constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

int DayIndex(std::string_view day) {
  for (int i = 0; i < 7; ++i) {
    if (kDays[i] == day) return i;
  }
  return -1;
}

// "09:00" -> 540; -1 when malformed. 24:00 is the end of the day.
int ClockMinute(std::string_view t) {
  if (t.size() != 5 || t[2] != ':') return -1;
  for (size_t i : {0u, 1u, 3u, 4u}) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return -1;
  }
  const int hours = (t[0] - '0') * 10 + (t[1] - '0');
  const int minutes = (t[3] - '0') * 10 + (t[4] - '0');
  if ((hours < 24 && minutes < 60) || (hours == 24 && minutes == 0)) return hours * 60 + minutes;
  return -1;
}

uint32_t Be32(const std::string& b, size_t at) {
  return (uint32_t{static_cast<unsigned char>(b[at])} << 24) |
         (uint32_t{static_cast<unsigned char>(b[at + 1])} << 16) |
         (uint32_t{static_cast<unsigned char>(b[at + 2])} << 8) |
         uint32_t{static_cast<unsigned char>(b[at + 3])};
}

int64_t Be64(const std::string& b, size_t at) {
  return static_cast<int64_t>((uint64_t{Be32(b, at)} << 32) | Be32(b, at + 4));
}

}  // namespace

std::optional<WeeklyHours> ParseOperatingHours(std::string_view h) {
  const size_t space = h.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view days = h.substr(0, space), times = h.substr(space + 1);
  WeeklyHours out;
  if (days.size() == 7 && days[3] == '-') {
    const int from = DayIndex(days.substr(0, 3)), to = DayIndex(days.substr(4, 3));
    if (from < 0 || to < 0) return std::nullopt;
    for (int d = from;; d = (d + 1) % 7) {
      out.days[d] = true;
      if (d == to) break;
    }
  } else {
    for (size_t at = 0;; at += 4) {
      const int day = DayIndex(days.substr(at, 3));
      if (day < 0) return std::nullopt;
      out.days[day] = true;
      if (at + 3 == days.size()) break;
      if (at + 3 > days.size() || days[at + 3] != ',') return std::nullopt;
    }
  }
  if (times.size() != 11 || times[5] != '-') return std::nullopt;
  out.start_minute = ClockMinute(times.substr(0, 5));
  out.end_minute = ClockMinute(times.substr(6, 5));
  if (out.start_minute < 0 || out.end_minute < 0 || out.start_minute >= out.end_minute) {
    return std::nullopt;
  }
  return out;
}

bool IsTimeZoneName(std::string_view tz) {
  if (tz.empty() || tz.size() > 64 || tz.front() == '/' || tz.back() == '/') return false;
  return std::all_of(tz.begin(), tz.end(),
                     [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' ||
                              c == '-' || c == '+';
                     }) &&
         tz.find("..") == std::string_view::npos;
}

Result<int64_t> UtcOffsetSeconds(std::string_view zone, int64_t at_us,
                                 const std::string& zoneinfo_dir) {
  if (!IsTimeZoneName(zone)) return InvalidArgument("not a time zone name: " + std::string(zone));
  const std::filesystem::path path = std::filesystem::path(zoneinfo_dir) / std::string(zone);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("time zone " + std::string(zone) + " is not in " + zoneinfo_dir);
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto damaged = [&] { return InvalidArgument("time zone file " + path.string() + " is damaged"); };
  // RFC 8536: a v1 header and data block, then (v2+) a header and data
  // block with 64-bit times, which is the one read here.
  auto header = [&](size_t at, size_t counts[6]) {
    if (b.size() < at + 44 || b.compare(at, 4, "TZif") != 0) return false;
    for (int i = 0; i < 6; ++i) counts[i] = Be32(b, at + 20 + 4 * i);
    return true;
  };
  // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  size_t v1[6];
  if (!header(0, v1)) return damaged();
  if (b[4] < '2') return InvalidArgument("time zone file " + path.string() + " is TZif version 1");
  const size_t v1_size = v1[3] * 5 + v1[4] * 6 + v1[5] + v1[2] * 8 + v1[1] + v1[0];
  size_t c[6];
  const size_t h2 = 44 + v1_size;
  if (!header(h2, c)) return damaged();
  const size_t timecnt = c[3], typecnt = c[4];
  const size_t times_at = h2 + 44, indices_at = times_at + timecnt * 8,
               types_at = indices_at + timecnt;
  if (typecnt == 0 || b.size() < types_at + typecnt * 6) return damaged();
  const int64_t at_seconds = at_us >= 0 ? at_us / 1000000 : -((-at_us + 999999) / 1000000);
  // The type in force: that of the last transition at or before the time;
  // before the first transition, the first type (RFC 8536's rule of thumb).
  size_t type = 0;
  for (size_t i = 0; i < timecnt; ++i) {
    if (Be64(b, times_at + 8 * i) > at_seconds) break;
    type = static_cast<unsigned char>(b[indices_at + i]);
  }
  if (type >= typecnt) return damaged();
  return static_cast<int64_t>(static_cast<int32_t>(Be32(b, types_at + 6 * type)));
}

Result<bool> WithinHours(std::string_view hours, std::string_view zone, int64_t at_us,
                         const std::string& zoneinfo_dir) {
  if (hours.empty()) return true;
  std::optional<WeeklyHours> weekly = ParseOperatingHours(hours);
  if (!weekly) return InvalidArgument("operating hours: malformed: " + std::string(hours));
  KIZUNA_ASSIGN_OR_RETURN(int64_t offset, UtcOffsetSeconds(zone, at_us, zoneinfo_dir));
  const int64_t local = at_us / 1000000 + offset;
  const int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  const int minute = static_cast<int>((local - day * 86400) / 60);
  // 1970-01-01 was a Thursday (Monday = 0).
  const int weekday = static_cast<int>(((day % 7) + 7 + 3) % 7);
  return weekly->days[weekday] && minute >= weekly->start_minute && minute < weekly->end_minute;
}

}  // namespace kizuna::coordination
