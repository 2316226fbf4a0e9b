// Synthetic Shadowserver reports for tests and benchmarks: realistic rows
// (public IPv4 and some IPv6 addresses, a share of them repeated, ports,
// tags, ASNs, countries, banners with commas and quotes) under the header of
// the report type asked for.
//
// Deterministic: the same report type, count and seed give the same bytes
// on every platform. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>

namespace kizuna::alerts {

// Writes a header line and `count` rows of `report_type`: "scan_telnet" and
// other scan_* / scan6_* reports (the scan columns with a banner),
// "event4_sinkhole", "event4_sinkhole_http", "event4_honeypot_darknet" and
// "botnet_drone" (their own columns); any other type gets scan columns.
// Lines end in "\n"; timestamps start at 2026-11-28 00:00:00 UTC and rise.
void GenerateShadowserverCsv(std::ostream& out, std::string_view report_type, int64_t count,
                             uint64_t seed);

}  // namespace kizuna::alerts
