// What a recipient receives: a report's events written as CSV (the column
// set below, documented in the README, in the manner of Shadowserver's
// reports), JSON, or a STIX 2.1 bundle (for a partner's node).
//
// CSV columns, in order:
//   timestamp (last seen), event_id, ip, port, protocol, hostname, asn,
//   as_name, country, prefix, taxonomy, type, identifier, family, count,
//   first_seen, last_seen, confidence, source
// Times are ISO 8601 UTC ("2026-11-28T09:15:02Z"). Fields are quoted as RFC
// 4180 says; a text field that a spreadsheet would run as a formula (it
// starts with = + - @) is prefixed with a single quote.
//
// Functions only; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "alerts/recipients.h"
#include "common/status.h"
#include "store/sqlite/connection.h"

namespace kizuna::alerts {

// One event as stored (alerts.db, event_chunks.h) and as reported.
struct EventRow {
  int64_t id = 0;
  std::string recipient;
  int64_t received_us = 0;
  std::string ip;
  int64_t port = 0;
  std::string protocol, taxonomy, type, identifier, family;
  int64_t first_seen_us = 0, last_seen_us = 0, count = 0;
  int64_t asn = 0;
  std::string as_name, country, prefix, hostname, source, origin, tlp;
  int64_t confidence = 0;
  std::string route, geo_version, evidence;
};

// An event id as users see it: 16 hex digits.
std::string EventIdHex(int64_t id);
// The inverse of EventIdHex; nullopt unless exactly 16 lower-case hex digits
// of a valid (non-negative) id.
std::optional<int64_t> ParseEventIdHex(std::string_view hex);
// The STIX id of an event's observed-data in a STIX report (stable: the same
// event has the same id in every report and after a resend).
std::string AlertObservedDataId(int64_t event_id);

struct ReportHeader {
  std::string id;  // the report's UUID
  std::string recipient;
  std::string producer;           // the sending node's team name
  std::string producer_identity;  // its STIX identity id (STIX format)
  int64_t period_start_us = 0, cutoff_us = 0, created_us = 0;
  stix::Tlp tlp = stix::Tlp::kAmber;
};

struct ReportBody {
  std::string data;
  std::string filename;      // "kizuna-<recipient>-<date>.csv"
  std::string content_type;  // "text/csv", "application/json", "application/stix+json;version=2.1"
};

std::string CsvHeaderLine();
void AppendCsvLine(const EventRow& event, std::string* out);

// Writes a report to a stream, event by event, so a large one never sits in
// memory whole.
class ReportWriter {
 public:
  ReportWriter(ReportFormat format, ReportHeader header, std::ostream* out);
  void Add(const EventRow& event);
  // Ends the document (JSON array, STIX bundle); returns the events written.
  int64_t Finish();
  std::string filename() const;
  std::string content_type() const;
  // Whether Add writes an event's evidence (the JSON report does).
  bool needs_evidence() const { return format_ == ReportFormat::kJson; }

 private:
  ReportFormat format_;
  ReportHeader header_;
  std::ostream* out_;
  int64_t events_ = 0;
  std::string line_;                       // reused
  std::vector<std::string> observed_ids_;  // STIX: the report's object_refs
};

// The whole report in memory (tests, previews).
ReportBody FormatReport(ReportFormat format, const ReportHeader& header,
                        const std::vector<EventRow>& events);

// The JSON object of one event (the JSON report's "events" and the feed).
std::string EventJson(const EventRow& event);

}  // namespace kizuna::alerts
