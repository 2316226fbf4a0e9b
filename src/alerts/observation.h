// What the alerting module is fed: one observation of an infected, abusive or
// vulnerable host (a row of a Shadowserver report, a line of a partner's
// CSV, an IntelMQ event), as the readers (readers.h) produce it and
// enrichment, routing and reports consume it.
//
// Value types; not thread-safe (like any value), cheap to move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "correlation/observable.h"

namespace kizuna::alerts {

// An IPv4 or IPv6 host address. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) are read as the IPv4 address they carry.
struct HostAddress {
  bool is_v6 = false;
  uint32_t v4 = 0;              // host order; 0 when is_v6
  correlation::Ipv6Bytes v6{};  // network order; zeros when !is_v6

  static HostAddress V4(uint32_t address) {
    HostAddress a;
    a.v4 = address;
    return a;
  }
  static HostAddress V6(const correlation::Ipv6Bytes& address) {
    HostAddress a;
    a.is_v6 = true;
    a.v6 = address;
    return a;
  }

  friend bool operator==(const HostAddress& a, const HostAddress& b) {
    return a.is_v6 == b.is_v6 && a.v4 == b.v4 && a.v6 == b.v6;
  }
  // IPv4 before IPv6, then by address.
  friend bool operator<(const HostAddress& a, const HostAddress& b) {
    if (a.is_v6 != b.is_v6) return !a.is_v6;
    return a.is_v6 ? a.v6 < b.v6 : a.v4 < b.v4;
  }
};

// "192.0.2.1", "2001:db8::1" (also "::ffff:192.0.2.1", read as IPv4).
// nullopt for anything else: prefixes, ports, zone ids, brackets, spaces.
std::optional<HostAddress> ParseHostAddress(std::string_view text);
// Dotted quad, or the RFC 5952 form of an IPv6 address.
std::string FormatHostAddress(const HostAddress& address);

struct HostAddressHash {
  size_t operator()(const HostAddress& a) const noexcept;
};

// One infected / abusive host seen once.
struct Observation {
  int64_t time_us = 0;  // when seen, UTC microseconds since the epoch
  // A finding someone else already counted (a partner's event): how often
  // and since when it was seen up to time_us. Defaults: once, at time_us.
  int64_t count = 1;
  int64_t first_seen_us = 0;  // 0, or a time before time_us
  HostAddress ip;
  uint16_t port = 0;     // the host's port; 0: none
  std::string protocol;  // "tcp", "udp", "icmp" or ""
  // RSIT class and type (taxonomy.h): "malicious-code" / "infected-system",
  // "information-gathering" / "scanner", "vulnerable" / "vulnerable-system", …
  std::string taxonomy;
  std::string type;
  // Finer name, IntelMQ's classification.identifier: "mirai", "open-telnet", …
  std::string identifier;
  std::string family;        // malware family when known ("mirai"), else ""
  std::string source;        // where it came from: "shadowserver/scan_telnet", "csv", …
  int confidence = 50;       // 0..100
  std::string hostname;      // a name the record gives the host (FQDN or reverse DNS)
  uint32_t feed_asn = 0;     // what the record claims (a hint; enrichment decides)
  std::string feed_country;  // ISO 3166 alpha-2, upper case, as the record claims; or ""
  // Compact JSON object of the original record's non-empty fields (column
  // name -> value as a string for CSV; the flattened key -> JSON value for
  // JSON), at most kMaxEvidenceBytes; fields that do not fit are left out or
  // cut (at a character boundary) and "_truncated": true added. Always valid
  // JSON.
  std::string evidence;
  // Set when the reader was asked for the evidence as the record
  // (ReadOptions::evidence_as_record): `evidence` is then the CSV record (at
  // most kMaxEvidenceBytes) and these its header's columns (PackCsvColumns,
  // text.h), from which CsvEvidence makes the JSON above.
  std::shared_ptr<const std::string> evidence_columns;
};

inline constexpr size_t kMaxEvidenceBytes = 2048;

}  // namespace kizuna::alerts

template <>
struct std::hash<kizuna::alerts::HostAddress> : kizuna::alerts::HostAddressHash {};
