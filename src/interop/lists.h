// Indicator lists in: plain-text lists (one value per line, hosts-file
// lines, comments) and CSV lists with a header (abuse.ch's, a team's
// spreadsheet), each value refanged ("hxxp", "[.]", "(dot)", "[@]"…), its
// kind detected (correlation::DetectObservable) and turned into a STIX 2.1
// indicator with a default TLP, confidence, producer and a valid_until from
// a lifetime. Bad lines are reported with their number and reason and
// skipped, never fatal.
//
// Pure functions over a stream; thread-safe. The caller owns the stream and
// decides what to do with the objects (interop/import.h stores them).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "correlation/observable.h"
#include "stix/stix.h"

namespace kizuna::interop {

enum class ListFormat { kAuto, kText, kCsv };
// "auto", "text", "csv".
Result<ListFormat> ParseListFormat(std::string_view name);
std::string_view ListFormatName(ListFormat format);

// The fields a CSV list's columns can fill. A column named by --column
// FIELD=NAME wins; otherwise the first header column among the field's usual
// names (ListColumnNames).
enum class ListField {
  kValue,
  kType,
  kName,
  kDescription,
  kFirstSeen,
  kLastSeen,
  kTags,
  kConfidence,
  kTlp
};
inline constexpr int kListFieldCount = 9;
// "value", "type", "name", "description", "first_seen", "last_seen", "tags", "confidence", "tlp".
std::string_view ListFieldName(ListField field);
Result<ListField> ParseListField(std::string_view name);
// The header names recognised for a field, in order of preference.
const std::vector<std::string>& ListColumnNames(ListField field);

struct ListOptions {
  ListFormat format = ListFormat::kAuto;
  // FIELD -> header column name (case-insensitive), from --column.
  std::map<ListField, std::string> columns;
  // The marking of every indicator without a tlp column value.
  stix::Tlp tlp = stix::Tlp::kAmber;
  // 0..100; -1: none unless a confidence column says.
  int confidence = -1;
  // The producer's name: an identity (organization) made for it, named by
  // every indicator's created_by_ref. Empty: none (the importing team).
  std::string producer;
  // valid_until = (last seen, or the import time if later) + lifetime; 0: none.
  int lifetime_days = 30;
  // indicator_types of every indicator.
  std::string indicator_type = "malicious-activity";
  // Labels added to every indicator (besides a tags column's).
  std::vector<std::string> labels;
  // The import time (microseconds): created, modified and, without a
  // first_seen column, valid_from.
  int64_t now_us = 0;
};

inline constexpr size_t kMaxListLineBytes = 64 * 1024;
inline constexpr size_t kMaxListErrors = 100;

struct ListError {
  int64_t line = 0;  // 1-based
  std::string reason;
};

struct ListSummary {
  int64_t lines = 0;     // every line read
  int64_t records = 0;   // data lines (not blank, comment or header)
  int64_t accepted = 0;  // indicators made
  int64_t rejected = 0;
  std::map<std::string, int64_t> by_kind;  // "ipv4" -> accepted indicators
  std::vector<ListError> errors;           // the first kMaxListErrors
  std::string format_detected;             // "text" or "csv"
  std::string value_column;                // CSV: the column read as the value
};

// Reads a list from `input`, calling `sink` with each STIX object made, in
// input order: first the producer's identity (when options.producer is
// set), then one indicator per accepted line. Indicator ids are
// deterministic (producer, kind, value), so the same value listed again is
// the same indicator. Errors: a bad option, a CSV header with no value
// column, a read error; a sink's error stops the read and is returned.
Result<ListSummary> ReadIndicatorList(std::istream& input, const ListOptions& options,
                                      const std::function<Status(boost::json::object&&)>& sink);

// The STIX pattern of one value of a kind lists hold ("[ipv4-addr:value =
// '198.51.100.7']", "[file:hashes.'SHA-256' = '…']"); empty for a kind
// without one. `value` in DetectObservable's normal form.
std::string PatternFor(correlation::ObservableKind kind, std::string_view value);

// The deterministic identity id of a producer's name.
std::string ProducerIdentityId(std::string_view producer);

}  // namespace kizuna::interop
