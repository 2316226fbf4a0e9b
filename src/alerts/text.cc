#include "alerts/text.h"

#include <cstring>

#include "alerts/observation.h"
#include "common/json_string.h"

namespace kizuna::alerts {
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

// `text` cut to at most `max` bytes at a UTF-8 character boundary.
std::string_view CutUtf8(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

constexpr std::string_view kTruncated = "\"_truncated\":true";
// Room kept for ",\"_truncated\":true}".
constexpr size_t kReserve = kTruncated.size() + 2;

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

EvidenceWriter::EvidenceWriter(std::string* out) : out_(out) {
  out_->clear();
  out_->push_back('{');
}

std::string EvidenceWriter::EscapedKey(std::string_view key) {
  std::string out;
  AppendJsonString(CutUtf8(key, kMaxKeyBytes), &out);
  out.push_back(':');
  return out;
}

void EvidenceWriter::StartField(std::string_view key) {
  if (!empty_) out_->push_back(',');
  const std::string_view k = CutUtf8(key, kMaxKeyBytes);
  if (k.size() < key.size()) truncated_ = true;
  AppendJsonString(k, out_);
  out_->push_back(':');
}

void EvidenceWriter::EndField(size_t mark) {
  if (out_->size() + kReserve > kMaxEvidenceBytes) {
    out_->resize(mark);
    truncated_ = true;
    return;
  }
  empty_ = false;
}

void EvidenceWriter::AddString(std::string_view key, std::string_view value) {
  const size_t mark = out_->size();
  StartField(key);
  const std::string_view v = CutUtf8(value, kMaxValueBytes);
  if (v.size() < value.size()) truncated_ = true;
  AppendJsonString(v, out_);
  EndField(mark);
}

void EvidenceWriter::AddStringEscapedKey(std::string_view escaped_key, std::string_view value) {
  const size_t mark = out_->size();
  if (!empty_) out_->push_back(',');
  out_->append(escaped_key);
  const std::string_view v = CutUtf8(value, kMaxValueBytes);
  if (v.size() < value.size()) truncated_ = true;
  AppendJsonString(v, out_);
  EndField(mark);
}

void EvidenceWriter::AddRaw(std::string_view key, std::string_view json) {
  if (json.size() > kMaxValueBytes) {
    truncated_ = true;
    return;
  }
  const size_t mark = out_->size();
  StartField(key);
  out_->append(json);
  EndField(mark);
}

void EvidenceWriter::Finish() {
  if (truncated_) {
    if (!empty_) out_->push_back(',');
    out_->append(kTruncated);
  }
  out_->push_back('}');
}

bool SplitCsv(std::string_view record, std::vector<std::string_view>* fields,
              std::string* scratch) {
  fields->clear();
  const char* p = record.data();
  const size_t n = record.size();
  if (std::memchr(p, '"', n) == nullptr) {
    size_t start = 0;
    for (;;) {
      const void* comma = std::memchr(p + start, ',', n - start);
      if (comma == nullptr) {
        fields->emplace_back(p + start, n - start);
        return true;
      }
      const size_t at = static_cast<const char*>(comma) - p;
      fields->emplace_back(p + start, at - start);
      start = at + 1;
    }
  }
  if (scratch->size() < n) scratch->resize(n);
  char* const out = scratch->data();
  size_t w = 0;
  size_t i = 0;
  for (;;) {
    if (i < n && p[i] == '"') {
      const size_t begin = w;
      ++i;
      for (;;) {
        const void* q = std::memchr(p + i, '"', n - i);
        if (q == nullptr) return false;  // unterminated (the record reader reports it first)
        const size_t at = static_cast<const char*>(q) - p;
        std::memcpy(out + w, p + i, at - i);
        w += at - i;
        i = at + 1;
        if (i < n && p[i] == '"') {  // a doubled quote
          out[w++] = '"';
          ++i;
          continue;
        }
        break;
      }
      fields->emplace_back(out + begin, w - begin);
      if (i == n) return true;
      if (p[i] != ',') return false;
      ++i;
    } else {
      const void* comma = std::memchr(p + i, ',', n - i);
      const size_t stop = comma ? static_cast<const char*>(comma) - p : n;
      fields->emplace_back(p + i, stop - i);
      if (stop == n) return true;
      i = stop + 1;
    }
  }
}

std::string PackCsvColumns(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    uint64_t n = name.size();
    while (n >= 0x80) {
      out.push_back(static_cast<char>((n & 0x7F) | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<char>(n));
    out.append(name);
  }
  return out;
}

bool CsvEvidence::SetColumns(std::string_view packed_columns) {
  if (packed_columns == columns_ && !keys_.empty()) return true;
  keys_.clear();
  columns_.clear();
  std::string_view rest = packed_columns;
  while (!rest.empty()) {
    uint64_t n = 0;
    int shift = 0;
    for (;;) {
      if (rest.empty() || shift > 28) return false;
      const auto byte = static_cast<uint8_t>(rest.front());
      rest.remove_prefix(1);
      n |= static_cast<uint64_t>(byte & 0x7F) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (n > rest.size()) return false;
    keys_.push_back(EvidenceWriter::EscapedKey(rest.substr(0, n)));
    rest.remove_prefix(n);
  }
  columns_.assign(packed_columns);
  return true;
}

void CsvEvidence::RenderFields(const std::vector<std::string_view>& fields,
                               std::string* json) const {
  EvidenceWriter evidence(json);
  for (size_t i = 0; i < fields.size() && i < keys_.size(); ++i) {
    if (!Trim(fields[i]).empty()) evidence.AddStringEscapedKey(keys_[i], fields[i]);
  }
  evidence.Finish();
}

bool CsvEvidence::Render(std::string_view packed_columns, std::string_view record,
                         std::string* json) {
  if (!SetColumns(packed_columns)) return false;
  if (!SplitCsv(record, &fields_, &scratch_) || fields_.size() != keys_.size()) return false;
  RenderFields(fields_, json);
  return true;
}

}  // namespace kizuna::alerts
