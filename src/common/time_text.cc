// ParseTimeText (common/time.h): the loose time formats of reports and lists.
#include <string_view>

#include "common/time.h"

namespace kizuna {
namespace {

// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// `count` digits at s[at…] as a number, or -1.
int Digits(std::string_view s, size_t at, size_t count) {
  if (at + count > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// A fraction's digits after the point as microseconds (digits past six are
// dropped); *end is past the digits.
int64_t Fraction(std::string_view s, size_t at, size_t* end) {
  int64_t micros = 0;
  int n = 0;
  size_t i = at;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n) {
    if (n < 6) micros = micros * 10 + (s[i] - '0');
  }
  for (; n < 6; ++n) micros *= 10;
  *end = i;
  return micros;
}

constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z

Status BadTime() { return InvalidArgument("not a time"); }

Result<int64_t> EpochSeconds(std::string_view s) {
  int64_t seconds = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] != '.'; ++i) {
    if (s[i] < '0' || s[i] > '9' || i >= 12) return BadTime();
    seconds = seconds * 10 + (s[i] - '0');
  }
  if (i == 0 || seconds > kMaxSeconds) return BadTime();
  int64_t micros = 0;
  if (i < s.size()) {
    size_t end;
    micros = Fraction(s, i + 1, &end);
    if (end != s.size() || end == i + 1) return BadTime();
  }
  return seconds * 1000000 + micros;
}

}  // namespace

Result<int64_t> ParseTimeText(std::string_view s) {
  if (!s.empty() && s[0] >= '0' && s[0] <= '9' && s.find('-') == std::string_view::npos) {
    return EpochSeconds(s);
  }
  if (s.size() < 16) return BadTime();
  const int year = Digits(s, 0, 4);
  const int month = Digits(s, 5, 2);
  const int day = Digits(s, 8, 2);
  const int hour = Digits(s, 11, 2);
  const int minute = Digits(s, 14, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || s[4] != '-' || s[7] != '-' ||
      (s[10] != ' ' && s[10] != 'T' && s[10] != 't') || s[13] != ':' || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || day > DaysInMonth(year, month)) {
    return BadTime();
  }
  size_t i = 16;
  int second = 0;
  int64_t micros = 0;
  if (i < s.size() && s[i] == ':') {
    second = Digits(s, i + 1, 2);
    if (second < 0 || second > 60) return BadTime();
    if (second == 60) second = 59;  // a leap second
    i += 3;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      size_t end;
      micros = Fraction(s, i + 1, &end);
      if (end == i + 1) return BadTime();
      i = end;
    }
  }
  int64_t offset_seconds = 0;
  if (i < s.size() && s[i] == ' ') ++i;
  std::string_view zone = s.substr(i);
  if (zone.empty() || zone == "Z" || zone == "z" || zone == "UTC") {
    // UTC
  } else if (zone[0] == '+' || zone[0] == '-') {
    const int oh = Digits(zone, 1, 2);
    int om = 0;
    if (zone.size() == 6 && zone[3] == ':') {
      om = Digits(zone, 4, 2);
    } else if (zone.size() == 5) {
      om = Digits(zone, 3, 2);
    } else if (zone.size() != 3) {
      return BadTime();
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return BadTime();
    offset_seconds = (oh * 3600 + om * 60) * (zone[0] == '-' ? -1 : 1);
  } else {
    return BadTime();
  }
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  if (seconds < 0) return BadTime();
  return seconds * 1000000 + micros;
}

}  // namespace kizuna
