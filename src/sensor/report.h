// `kizuna sensor report`: a capture analysed with no node — every frame
// decoded, those reaching the darknet counted into one Summary, and the
// result as the JSON object of the CLI contract (DESIGN.md) or a table.
// Functions only; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "correlation/observable.h"
#include "sensor/summary.h"

namespace kizuna::sensor {

// The darknet: the prefixes whose traffic is counted (empty: everything).
struct Darknet {
  std::vector<correlation::Ipv4Prefix> v4;
  std::vector<correlation::Ipv6Prefix> v6;
  // "192.0.2.0/24", "2001:db8::/32", ...; kInvalidArgument names a bad one.
  static Result<Darknet> Parse(const std::vector<std::string>& prefixes);
  bool empty() const { return v4.empty() && v6.empty(); }
  bool Contains(const Packet& packet) const;
};

// A scanner fingerprint rule set from a file (FingerprintSet::Parse's
// JSON: a partner's corrected or extended rules); errors name the file.
Result<FingerprintSet> LoadFingerprints(const std::string& path);

struct CaptureReport {
  // `rules` must outlive the report.
  explicit CaptureReport(const FingerprintSet& rules = FingerprintSet::BuiltIn())
      : summary(rules, /*destinations=*/false) {}
  CaptureReport(CaptureReport&&) noexcept = default;
  // Without each source's destinations (the report does not show them):
  // memory stays with the sources, however long the capture.
  Summary summary;
  uint64_t frames = 0;
  // Frames by DecodeStatus (kOk included); decoded frames still count
  // when their transport header was cut off.
  std::array<uint64_t, 5> decode{};
  uint64_t outside = 0;    // decoded, but to an address outside the darknet
  std::string file_error;  // the capture ended in a damaged record (what was read is counted)
};

// Reads `path` (pcap or pcapng). `progress` (if set) is called now and then
// with bytes read and the file's size (0 when unknown).
// `rules`: the scanner fingerprints (a partner's corrected set, or the
// built-in one); it must outlive the report.
Result<CaptureReport> AnalyzeCapture(
    const std::string& path, const Darknet& darknet,
    const std::function<void(uint64_t done, uint64_t total)>& progress = nullptr,
    const FingerprintSet& rules = FingerprintSet::BuiltIn());

// {"packets", "sources", "ports": [...], "classes": {...}, "fingerprints":
// {...}} as DESIGN.md has it, plus "undecoded" (frames by what stopped
// their decoding), "outside" (packets to addresses outside the darknet),
// "first"/"last" (RFC 3339) and "fingerprint_rules" (the rule set's version).
std::string CaptureReportJson(const CaptureReport& report);
// The same for people: totals, classes, fingerprints and the top `top` ports.
std::string CaptureReportText(const CaptureReport& report, size_t top = 20);

}  // namespace kizuna::sensor
