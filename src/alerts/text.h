// Small text helpers of the readers (internal to src/alerts): ASCII
// classification, UTF-8 validation, the time formats of reports, and the
// bounded evidence JSON. Pure functions; EvidenceWriter is a value owned by
// one caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/status.h"

namespace kizuna::alerts {

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
inline bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
inline char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "YYYY-MM-DD HH:MM[:SS[.fraction]]" with ' ' or 'T', then nothing (UTC),
// "Z", "UTC", "+HH:MM", "+HHMM" or "+HH" (either sign, after an optional
// space); or a number of seconds since the epoch ("1764288000",
// "1764288000.25"). Years 1970 to 9999.
Result<int64_t> ParseTimeText(std::string_view text);

// Writes a JSON object of at most kMaxEvidenceBytes (observation.h) into
// *out: a value over kMaxValueBytes is cut at a character boundary, a field
// that does not fit any more is left out, and either adds "_truncated": true.
// Strings must be valid UTF-8.
class EvidenceWriter {
 public:
  static constexpr size_t kMaxValueBytes = 512;
  static constexpr size_t kMaxKeyBytes = 128;

  explicit EvidenceWriter(std::string* out);
  void AddString(std::string_view key, std::string_view value);
  // The same with the key as EscapedKey wrote it (for keys used on every
  // record, such as a CSV header's).
  void AddStringEscapedKey(std::string_view escaped_key, std::string_view value);
  // `json` is a JSON value's text (a number, true, an array…): added whole or not at all.
  void AddRaw(std::string_view key, std::string_view json);
  void Finish();

  // `key` (cut to kMaxKeyBytes) as a JSON string followed by ':'.
  static std::string EscapedKey(std::string_view key);

 private:
  void StartField(std::string_view key);
  void EndField(size_t mark);

  std::string* out_;
  bool truncated_ = false;
  bool empty_ = true;
};

}  // namespace kizuna::alerts
