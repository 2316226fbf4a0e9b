#include "sensor/report.h"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "common/time.h"
#include "sensor/capture.h"

namespace kizuna::sensor {

namespace json = boost::json;

Result<Darknet> Darknet::Parse(const std::vector<std::string>& prefixes) {
  Darknet darknet;
  for (const std::string& text : prefixes) {
    if (text.find(':') != std::string::npos) {
      auto prefix = correlation::ParseIpv6Prefix(text);
      if (!prefix.ok())
        return InvalidArgument("darknet prefix " + text + ": " + prefix.status().message());
      darknet.v6.push_back(*prefix);
    } else {
      auto prefix = correlation::ParseIpv4Prefix(text);
      if (!prefix.ok())
        return InvalidArgument("darknet prefix " + text + ": " + prefix.status().message());
      darknet.v4.push_back(*prefix);
    }
  }
  return darknet;
}

bool Darknet::Contains(const Packet& p) const {
  if (empty()) return true;
  if (p.ip_version == 4) {
    for (const auto& prefix : v4) {
      const uint32_t mask = prefix.length == 0 ? 0 : ~uint32_t{0} << (32 - prefix.length);
      if ((p.dst4 & mask) == prefix.network) return true;
    }
    return false;
  }
  for (const auto& prefix : v6) {
    int bits = prefix.length;
    bool inside = true;
    for (int i = 0; i < 16 && bits > 0 && inside; ++i, bits -= 8) {
      const uint8_t mask = bits >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - bits));
      inside = (p.dst6[i] & mask) == (prefix.network[i] & mask);
    }
    if (inside) return true;
  }
  return false;
}

Result<FingerprintSet> LoadFingerprints(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("fingerprints: cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > (1 << 20)) return InvalidArgument("fingerprints: " + path + " is over 1 MiB");
  auto rules = FingerprintSet::Parse(text);
  if (!rules.ok())
    return InvalidArgument("fingerprints: " + path + ": " + rules.status().message());
  return rules;
}

Result<CaptureReport> AnalyzeCapture(
    const std::string& path, const Darknet& darknet,
    const std::function<void(uint64_t done, uint64_t total)>& progress,
    const FingerprintSet& rules) {
  KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<CaptureReader> reader, CaptureReader::Open(path));
  CaptureReport report(rules);
  Frame frame;
  Packet packet;
  const LinkType link = reader->link();
  const bool everything = darknet.empty();  // (Contains would say so of every packet)
  while (reader->Next(&frame)) {
    ++report.frames;
    const DecodeStatus status = Decode(link, frame.data, frame.caplen, &packet);
    ++report.decode[static_cast<size_t>(status)];
    // A malformed frame is only counted as such; a cut one still has its
    // source (without a port).
    if (packet.ip_version != 0 && status != DecodeStatus::kMalformed) {
      if (everything || darknet.Contains(packet)) {
        report.summary.Add(packet, frame.ts_us);
      } else {
        ++report.outside;
      }
    }
    if (progress && (report.frames & 0xFFFFF) == 0) {
      // From a pipe the size is unknown: frames so far, then.
      progress(reader->size() != 0 ? reader->position() : report.frames, reader->size());
    }
  }
  if (!reader->status().ok()) report.file_error = reader->status().message();
  if (progress) progress(reader->size() != 0 ? reader->size() : report.frames, reader->size());
  return report;
}

std::string CaptureReportJson(const CaptureReport& report) {
  const Summary& s = report.summary;
  json::object out;
  out["packets"] = s.packets();
  out["sources"] = s.sources().size();
  json::array ports;
  for (const Summary::PortEntry& entry : s.Ports()) {
    ports.push_back(json::object{{"proto", PortProtoName(entry.proto)},
                                 {"port", entry.port},
                                 {"packets", entry.stats->packets},
                                 {"sources", entry.stats->sources.size()}});
  }
  out["ports"] = std::move(ports);
  json::object classes;
  for (TrafficClass c :
       {TrafficClass::kScan, TrafficClass::kBackscatter, TrafficClass::kUdp, TrafficClass::kIcmp}) {
    classes[TrafficClassName(c)] = s.class_sources(c).size();
  }
  out["classes"] = std::move(classes);
  json::object fingerprints;
  for (size_t r = 0; r < s.fingerprints().size(); ++r) {
    fingerprints[s.fingerprints().name(r)] = s.fingerprint_sources(r).size();
  }
  out["fingerprints"] = std::move(fingerprints);
  out["fingerprint_rules"] = s.fingerprints().version();
  json::object undecoded;
  for (DecodeStatus status : {DecodeStatus::kTruncated, DecodeStatus::kMalformed,
                              DecodeStatus::kUnsupportedLink, DecodeStatus::kNotIp}) {
    undecoded[DecodeStatusName(status)] = report.decode[static_cast<size_t>(status)];
  }
  out["frames"] = report.frames;
  out["undecoded"] = std::move(undecoded);
  out["outside"] = report.outside;
  if (s.packets() != 0) {
    out["first"] = FormatTimestamp(s.first_us());
    out["last"] = FormatTimestamp(s.last_us());
  }
  if (!report.file_error.empty()) out["file_error"] = report.file_error;
  return json::serialize(out);
}

std::string CaptureReportText(const CaptureReport& report, size_t top) {
  const Summary& s = report.summary;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%llu packets from %llu sources",
                static_cast<unsigned long long>(s.packets()),
                static_cast<unsigned long long>(s.sources().size()));
  out += line;
  if (s.packets() != 0) {
    out += ", " + FormatTimestamp(s.first_us(), 0) + " to " + FormatTimestamp(s.last_us(), 0);
  }
  out += "\n";
  const uint64_t undecoded = report.frames - report.decode[0];
  if (undecoded != 0 || report.outside != 0) {
    std::snprintf(line, sizeof line,
                  "%llu frames: %llu not fully decoded (truncated %llu, malformed %llu, "
                  "not IP %llu, unsupported link %llu), %llu outside the darknet\n",
                  static_cast<unsigned long long>(report.frames),
                  static_cast<unsigned long long>(undecoded),
                  static_cast<unsigned long long>(report.decode[1]),
                  static_cast<unsigned long long>(report.decode[2]),
                  static_cast<unsigned long long>(report.decode[4]),
                  static_cast<unsigned long long>(report.decode[3]),
                  static_cast<unsigned long long>(report.outside));
    out += line;
  }
  out += "sources by class:";
  for (TrafficClass c :
       {TrafficClass::kScan, TrafficClass::kBackscatter, TrafficClass::kUdp, TrafficClass::kIcmp}) {
    std::snprintf(line, sizeof line, " %s %llu", std::string(TrafficClassName(c)).c_str(),
                  static_cast<unsigned long long>(s.class_sources(c).size()));
    out += line;
  }
  out += "\nsources by fingerprint:";
  for (size_t r = 0; r < s.fingerprints().size(); ++r) {
    std::snprintf(line, sizeof line, " %s %llu", s.fingerprints().name(r).c_str(),
                  static_cast<unsigned long long>(s.fingerprint_sources(r).size()));
    out += line;
  }
  out += "\n\nproto   port      packets    sources\n";
  size_t shown = 0;
  for (const Summary::PortEntry& entry : s.Ports()) {
    if (shown++ == top) break;
    std::snprintf(line, sizeof line, "%-6s %5u %12llu %10llu\n",
                  std::string(PortProtoName(entry.proto)).c_str(), entry.port,
                  static_cast<unsigned long long>(entry.stats->packets),
                  static_cast<unsigned long long>(entry.stats->sources.size()));
    out += line;
  }
  if (!report.file_error.empty()) out += "warning: " + report.file_error + "\n";
  return out;
}

}  // namespace kizuna::sensor
