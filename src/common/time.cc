#include "common/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace kizuna {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

Result<int64_t> ParseTimestamp(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS = 19 chars, then optional .fraction, then Z
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || s[10] != 'T' || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return InvalidArgument("timestamp '" + std::string(s.substr(0, 64)) +
                           "' is not of the form YYYY-MM-DDTHH:MM:SS[.s]Z");
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) {
        micros += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == start)
      return InvalidArgument("timestamp '" + std::string(s) + "' has an empty fraction");
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') {
    return InvalidArgument("timestamp '" + std::string(s.substr(0, 64)) +
                           "' must be UTC and end in 'Z'");
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0) || hour > 23 || minute > 59 ||
      second > 60) {
    return InvalidArgument("timestamp '" + std::string(s) + "' is not a valid date and time");
  }
  if (second == 60) second = 59;  // leap second: keep ordering, clamp
  int64_t days = DaysFromCivil(year, month, day);
  return ((days * 86400 + hour * 3600 + minute * 60 + second) * 1000000) + micros;
}

std::string FormatTimestamp(int64_t micros, int fraction_digits) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  // civil_from_days
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[64];
  int n = 0;
  if (y >= 0 && y <= 9999) {
    // By hand: snprintf was most of the cost of writing a large report.
    auto two = [&](unsigned v, int at) {
      buf[at] = static_cast<char>('0' + v / 10);
      buf[at + 1] = static_cast<char>('0' + v % 10);
    };
    const auto year = static_cast<unsigned>(y);
    two(year / 100, 0);
    two(year % 100, 2);
    buf[4] = '-';
    two(m, 5);
    buf[7] = '-';
    two(d, 8);
    buf[10] = 'T';
    two(static_cast<unsigned>(rem / 3600), 11);
    buf[13] = ':';
    two(static_cast<unsigned>((rem / 60) % 60), 14);
    buf[16] = ':';
    two(static_cast<unsigned>(rem % 60), 17);
    n = 19;
  } else {
    n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                      static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                      static_cast<long long>((rem / 60) % 60), static_cast<long long>(rem % 60));
  }
  std::string out(buf, n);
  if (fraction_digits > 0) {
    if (fraction_digits > 6) fraction_digits = 6;
    char f[8];
    std::snprintf(f, sizeof f, "%06lld", static_cast<long long>(frac));
    out += '.';
    out.append(f, fraction_digits);
  }
  out += 'Z';
  return out;
}

int TimestampPrecision(std::string_view text) {
  if (text.size() < 21 || text[19] != '.') return 0;
  return static_cast<int>(text.size() - 21);
}

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace kizuna
