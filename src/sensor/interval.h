// A sensor's unit of upload: what one interval (one minute by default) of
// traffic held, cut from a capture by packet timestamps, in the wire form a
// node accepts (`POST /api/v1/telescope/intervals`, README "Telescope").
//
// Exact at home: every distinct count travels as the set itself (IPv4 as
// delta-coded sorted addresses, IPv6 as text), so the node merges intervals
// and sensors without counting a source twice. The node derives the
// sketches it may share from these sets (sensor/sketch.h).
//
// `part` names what the interval was cut from (a capture file's identity
// and the interval's piece of it): the node keeps one copy per (sensor,
// start, part), so sending the same file again counts nothing twice, while
// two files that each hold half of a minute both count.
//
// Functions and plain values; thread-safe.
#pragma once

#include <array>
#include <boost/json/fwd.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sensor/report.h"
#include "sensor/sketch.h"
#include "sensor/summary.h"

namespace kizuna::sensor {

// A set of sources: the addresses themselves (exact), or, where the
// addresses may not travel, their count and a sketch (sensor/sketch.h) that
// merges with other sketches.
struct WireSources {
  bool exact = true;
  U32Set v4;
  std::vector<Ipv6Address> v6;  // sorted, unique
  uint64_t count = 0;           // !exact: the sender's exact count
  std::string sketch;           // !exact: DistinctSketch::Serialize
  uint64_t size() const { return exact ? v4.size() + v6.size() : count; }
  // The union of two exact sets.
  void Merge(const WireSources& other);
  // This set's sketch (computed from the addresses when exact).
  DistinctSketch Sketch() const;
  // The same set as count and sketch.
  WireSources AsSketch() const;
};

struct WireInterval {
  std::string sensor;
  int64_t start_s = 0;  // seconds since the epoch, a multiple of `seconds`
  int64_t seconds = 60;
  std::string part;
  uint64_t packets = 0;
  int64_t first_us = 0, last_us = 0;
  std::string fingerprint_rules;
  WireSources sources;
  struct Port {
    PortProto proto = PortProto::kTcp;
    uint16_t port = 0;
    uint64_t packets = 0;
    WireSources sources;
  };
  std::vector<Port> ports;  // the busiest, by packets descending
  // Ports beyond WireLimits::max_ports: how many and their packets.
  uint64_t other_ports = 0, other_port_packets = 0;
  std::map<std::string, WireSources> classes;       // TrafficClassName
  std::map<std::string, WireSources> fingerprints;  // rule name
  struct Source {
    std::string address;
    uint64_t packets = 0, ports = 0, destinations = 0;
    int64_t first_us = 0, last_us = 0;
    // syn, syn_ack, rst, other_tcp, udp, icmp
    std::array<uint64_t, 6> profile{};
    std::vector<std::string> fingerprints;
  };
  std::vector<Source> top_sources;  // the busiest, by packets descending
};

struct WireLimits {
  size_t max_ports = 1000;
  size_t max_top_sources = 25;
};

inline constexpr std::array<std::string_view, 6> kProfileNames = {"syn",       "syn_ack", "rst",
                                                                  "other_tcp", "udp",     "icmp"};

// The wire form of what `summary` counted.
WireInterval ToWire(const Summary& summary, const std::string& sensor, int64_t start_s,
                    int64_t seconds, const std::string& part, const WireLimits& limits = {});

// JSON: {"kizuna_telescope_interval": 1, "sensor", "start", "seconds",
// "part", "packets", "first", "last", "fingerprint_rules", "sources",
// "ports": [{"proto", "port", "packets", "sources"}], "other_ports":
// {"ports", "packets"}, "classes", "fingerprints", "top_sources"}; a set is
// {"count": N, "v4": base64, "v6": ["2001:db8::1", …]}.
std::string EncodeWire(const WireInterval& interval);
// The JSON object of EncodeWire, to embed (in a STIX object).
boost::json::object WireObject(const WireInterval& interval);
// The inverse, for input from a sensor or a partner: anything malformed,
// inconsistent (a count that is not its set's size, addresses out of order)
// or past the limits is refused with one line saying what.
// A set may come as {"count", "sketch": base64} instead (exact false);
// `exact_only` refuses that (what a sensor sends is exact).
Result<WireInterval> DecodeWire(std::string_view json, bool exact_only = true);
Result<WireInterval> DecodeWireObject(const boost::json::object& object, bool exact_only);

// A sensor name: 1..64 of [A-Za-z0-9._-].
bool ValidSensorName(std::string_view name);
// Parses an IPv6 address's text form.
std::optional<Ipv6Address> ParseIpv6(std::string_view text);
std::string FormatIpv6(const Ipv6Address& address);

// Reads a capture and hands over one Summary per interval as it completes
// (packets may arrive up to two intervals late and still join theirs; a
// later one starts another piece, `piece` counting up, of that interval).
struct SplitStats {
  uint64_t frames = 0, undecoded = 0, outside = 0, intervals = 0;
  std::string file_error;
};
Status SplitCapture(const std::string& path, const Darknet& darknet, int64_t seconds,
                    const std::function<Status(int64_t start_s, int piece, Summary& summary)>& emit,
                    SplitStats* stats,
                    const std::function<void(uint64_t done, uint64_t total)>& progress = nullptr,
                    const FingerprintSet& rules = FingerprintSet::BuiltIn());

// A capture file's identity for `part`: SHA-256 (hex, 32 characters) over its
// size and its first and last MiB. A finished file keeps it; one still being
// written does not, so upload only finished captures.
Result<std::string> CaptureIdentity(const std::string& path);

}  // namespace kizuna::sensor
