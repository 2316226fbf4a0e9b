// Shadowserver's daily network reports as the readers know them: for each
// report (its file-name type, "scan_telnet", "event4_sinkhole", …) the column
// layout and the RSIT classification, following The Shadowserver
// Foundation's published IntelMQ schema (report_schema/intelmq.json, the file
// IntelMQ's Shadowserver parser downloads; 2026-03 revision), plus the
// legacy botnet_drone report as IntelMQ's older parser configuration mapped it.
//
// Pure functions over a constant table; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace kizuna::alerts {

// Where a report keeps the host's columns.
enum class ShadowserverLayout {
  kScan,   // ip, port, protocol, hostname, tag, asn, geo (scan_*, population_*, compromised_*)
  kEvent,  // src_ip, src_port, protocol, src_hostname, src_asn, src_geo (event4_*, event6_*)
  kDrone,  // legacy botnet_drone: ip, port, type (the transport), hostname, asn, geo
};

struct ShadowserverReport {
  std::string_view name;  // the report type in file names: "scan_telnet"
  ShadowserverLayout layout;
  std::string_view taxonomy;           // RSIT class ("" only for scan_exchange: from its tag)
  std::string_view type;               // RSIT type
  std::string_view identifier;         // constant classification.identifier, or ""
  std::string_view identifier_column;  // else the column that holds it ("infection", "tag")
  std::string_view family_column;      // the column malware.name comes from, or ""
  std::string_view transport;          // constant protocol.transport when the report fixes it
};

// Every report known, sorted by name.
std::span<const ShadowserverReport> ShadowserverReports();
// The report of that type, or null.
const ShadowserverReport* FindShadowserverReport(std::string_view name);

// The report type in a Shadowserver file name (any directory part ignored):
// "2026-11-28-scan_telnet-jp-asn.csv" -> "scan_telnet",
// "event4_sinkhole.csv" -> "event4_sinkhole"; "" when the name does not look
// like one ("YYYY-MM-DD-" optional, then the type, then "-…" parts, ".csv").
std::string ShadowserverReportFromFileName(std::string_view file_name);

// The report a header row (its column names) is, when its columns say so
// without a file name: the sinkhole events (src_ip, infection; with
// http_url/http_host: event4_sinkhole_http), the darknet events (src_ip,
// infection, count), the legacy drone report (ip, infection, cc_ip) and the
// telnet scan (ip, port, tag, asn, geo, banner and no other
// service-specific column). Null when it cannot tell.
const ShadowserverReport* DetectShadowserverReport(std::span<const std::string_view> columns);

}  // namespace kizuna::alerts
