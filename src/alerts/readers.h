// Readers of infected-host reports: Shadowserver CSV reports, generic CSV
// with a header row, and JSON (JSON Lines or one array of objects, flat
// names or IntelMQ event field names), turned into Observations
// (observation.h).
//
// ReadObservations streams its input in 1 MiB blocks: memory stays constant
// in the input's size (a record may be at most kMaxRecordBytes). Bad records
// are counted and reported with their line and a reason, never fatal; only
// an input whose format cannot be told, or whose header names no IP column,
// fails as a whole. Not thread-safe per call (the stream and sink are the
// caller's); distinct calls are independent.
//
// What each format accepts (details in README.md):
//   - CSV: RFC 4180 (quoted fields with commas, doubled quotes and line
//     breaks), LF or CRLF line ends, an optional UTF-8 byte order mark; the
//     first line is the header; every row must have as many fields as it.
//   - Shadowserver: a CSV report whose type comes from
//     ReadOptions::report_type or its header (shadowserver.h); its
//     classification follows Shadowserver's IntelMQ schema.
//   - Times: "YYYY-MM-DD HH:MM:SS" (UTC), ISO 8601 with 'T', an optional
//     fraction and "Z", "+HH:MM" / "-HH:MM" or " UTC"; in JSON also a number
//     of seconds since the epoch.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/observation.h"
#include "common/status.h"

namespace kizuna::alerts {

enum class InputFormat { kAuto, kShadowserver, kCsv, kJson };

// "auto", "shadowserver", "csv", "json".
std::string_view InputFormatName(InputFormat format);
// The inverse (case-insensitive); an error naming the choices otherwise.
Result<InputFormat> ParseInputFormat(std::string_view name);

// Which column (CSV) or key (JSON) holds each field, as candidate names in
// order of preference: the first that a header has (or a JSON object holds,
// non-empty) wins. Names compare exactly. The defaults recognise flat names
// and IntelMQ event field names; set a field's list to override it (an
// empty list: never read that field).
struct CsvMapping {
  std::vector<std::string> ip = {"ip", "source.ip", "src_ip", "source_ip", "ip_address", "addr"};
  std::vector<std::string> time = {"time",        "timestamp",  "time.source",
                                   "time_source", "first_seen", "time.observation"};
  std::vector<std::string> port = {"port", "source.port", "src_port", "source_port"};
  std::vector<std::string> protocol = {"protocol", "protocol.transport", "transport", "proto"};
  std::vector<std::string> taxonomy = {"taxonomy", "classification.taxonomy"};
  std::vector<std::string> type = {"type", "classification.type"};
  std::vector<std::string> identifier = {"identifier", "classification.identifier"};
  std::vector<std::string> family = {"family",         "malware",   "malware.name",
                                     "malware_family", "infection", "tag"};
  std::vector<std::string> hostname = {"hostname",           "source.fqdn",  "fqdn", "domain",
                                       "source.reverse_dns", "src_hostname", "rdns"};
  std::vector<std::string> asn = {"asn", "source.asn", "src_asn"};
  std::vector<std::string> country = {"country", "cc",          "geo", "source.geolocation.cc",
                                      "src_geo", "country_code"};
  std::vector<std::string> confidence = {"confidence", "feed.accuracy"};
  // JSON only: the record's feed (see ReadOptions::source).
  std::vector<std::string> feed = {"feed.name", "feed"};
};

struct ReadOptions {
  InputFormat format = InputFormat::kAuto;
  // The Shadowserver report type when the header cannot tell it
  // ("scan_telnet"; ShadowserverReportFromFileName reads it from a file
  // name). Given, it wins over what the header suggests.
  std::string report_type;
  // The source label of every observation. Default: "shadowserver/<report>"
  // for Shadowserver reports, "csv" for generic CSV, and for JSON the record's
  // feed.name, else "json". With JSON, a record's feed.name is appended to a
  // label given here: "<source>/<feed.name>".
  std::string source;
  CsvMapping mapping;  // generic CSV and JSON
  // For what a record does not say (generic CSV and JSON; a Shadowserver
  // report's classification comes from the report). Must be valid RSIT
  // names (taxonomy.h); a default taxonomy needs a default type.
  std::string default_taxonomy;
  std::string default_type;
  std::string default_identifier;
  int default_confidence = 50;  // 0..100
  // The time of records without one; 0: such records are refused.
  int64_t now_us = 0;
  // CSV: an observation's evidence is the record itself, with the header's
  // columns in evidence_columns (observation.h), not JSON: making JSON of
  // every record cost the ingest more than its geo lookups, and most reports
  // (CSV) never show it.
  bool evidence_as_record = false;
};

// A record longer than this (a CSV line, a JSON line or array element) is
// refused and skipped.
inline constexpr size_t kMaxRecordBytes = 64 * 1024;
// ReadSummary::errors keeps this many.
inline constexpr size_t kMaxReportedErrors = 100;

struct LineError {
  int64_t line = 0;  // 1-based: the record's first line; a JSON array's element index
  std::string message;
};

struct ReadSummary {
  int64_t records = 0;  // data records seen (header and blank lines not counted)
  int64_t accepted = 0;
  int64_t rejected = 0;
  std::vector<LineError> errors;  // the first kMaxReportedErrors
  // "shadowserver", "csv", "json-lines" or "json-array".
  std::string format_detected;
  std::string report_type;  // the Shadowserver report, when one
};

// Streams `input`, calling `sink` once per accepted observation, in input
// order. Bad records (no or bad IP, bad time, bad port, wrong column count, a
// record over kMaxRecordBytes, invalid UTF-8, an unknown RSIT type…) are
// counted in `rejected` and reported with their line number and a reason.
// Errors (nothing sent to the sink): the format cannot be detected, a header
// names no IP column, invalid options, a read error of the stream.
Result<ReadSummary> ReadObservations(std::istream& input, const ReadOptions& options,
                                     const std::function<void(Observation&&)>& sink);

// Parses a record's time as the readers do ("2026-11-28 01:02:03",
// "2026-11-28T01:02:03.5Z", "…+09:00", "… UTC") into UTC microseconds.
Result<int64_t> ParseObservationTime(std::string_view text);

}  // namespace kizuna::alerts
