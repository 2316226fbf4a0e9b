// Small text helpers of the readers (internal to src/alerts): ASCII
// classification, UTF-8 validation, the time formats of reports, and the
// bounded evidence JSON. Pure functions; EvidenceWriter is a value owned by
// one caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/csv.h"
#include "common/encoding.h"
#include "common/status.h"
#include "common/time.h"

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

// The time formats of reports (common/time.h).
using ::kizuna::ParseTimeText;

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

using ::kizuna::SplitCsv;  // common/csv.h

// A CSV header's column names packed in one string (each as a varint size
// and its bytes): what an event keeps beside a record kept as its evidence
// (ReadOptions::evidence_as_record), once a chunk.
std::string PackCsvColumns(const std::vector<std::string>& names);

// The evidence of a CSV record as JSON (Observation::evidence): its
// non-blank fields by column name, written by EvidenceWriter. The reader
// and the unpacking of stored records both write it here, so a record kept
// raw shows the same JSON as one made JSON when read. Keeps the escaped keys
// of the last columns it was given; one caller at a time.
class CsvEvidence {
 public:
  // False when `packed_columns` is not what PackCsvColumns writes.
  bool SetColumns(std::string_view packed_columns);
  // `fields` split from a record of the columns set.
  void RenderFields(const std::vector<std::string_view>& fields, std::string* json) const;
  // False when the columns are damaged or the record is not one of them
  // (bad quoting, another number of fields).
  bool Render(std::string_view packed_columns, std::string_view record, std::string* json);

 private:
  std::string columns_;
  std::vector<std::string> keys_;  // escaped, with the ':'
  std::vector<std::string_view> fields_;
  std::string scratch_;
};

}  // namespace kizuna::alerts
