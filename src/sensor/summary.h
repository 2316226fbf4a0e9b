// What a darknet sensor saw over a span of time: packets and distinct
// sources per (protocol, destination port), per source (packets, distinct
// destination ports and addresses, first and last seen, TCP-flag profile),
// per traffic class and per scanner fingerprint.
//
// Distinct counts are exact and merge: IPv4 sources are CRoaring bitmaps,
// IPv6 sources hash sets, so the union of two summaries (two intervals, two
// sensors) counts a source seen by both once. Memory grows with the distinct
// sources and ports seen, not with the packets.
//
// Not thread-safe: one summary per thread, merged afterwards.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sensor/fingerprint.h"
#include "sensor/packet.h"

namespace kizuna::sensor {

// The transport a port belongs to. ICMP and ICMPv6 entries are keyed by the
// ICMP type; other protocols by their protocol number.
enum class PortProto : uint8_t { kTcp, kUdp, kIcmp, kIcmpv6, kOther };
inline constexpr int kPortProtos = 5;
std::string_view PortProtoName(PortProto proto);

struct Ipv6Hash {
  size_t operator()(const Ipv6Address& a) const;
};

// A set of source addresses, exact for both families.
class SourceSet {
 public:
  SourceSet();
  ~SourceSet();
  SourceSet(SourceSet&&) noexcept;
  SourceSet& operator=(SourceSet&&) noexcept;

  void AddV4(uint32_t address);
  void AddV6(const Ipv6Address& address) { v6_.insert(address); }
  void Add(const Packet& packet) {
    if (packet.ip_version == 4) {
      AddV4(packet.src4);
    } else {
      AddV6(packet.src6);
    }
  }
  void Merge(const SourceSet& other);
  uint64_t size() const;
  bool ContainsV4(uint32_t address) const;
  bool ContainsV6(const Ipv6Address& address) const { return v6_.contains(address); }

 private:
  struct Bitmap;  // CRoaring's, kept out of this header
  std::unique_ptr<Bitmap> v4_;
  std::unordered_set<Ipv6Address, Ipv6Hash> v6_;
};

struct PortStats {
  uint64_t packets = 0;
  SourceSet sources;
};

struct SourceStats {
  uint64_t packets = 0;
  int64_t first_us = 0, last_us = 0;
  // TCP-flag profile: SYN, SYN-ACK, RST, other TCP; then UDP, ICMP.
  uint64_t syn = 0, syn_ack = 0, rst = 0, other_tcp = 0, udp = 0, icmp = 0;
  uint32_t fingerprints = 0;           // a bit per FingerprintSet rule seen from it
  std::unordered_set<uint32_t> ports;  // (PortProto << 16) | port
  SourceSet destinations;
};

class Summary {
 public:
  explicit Summary(const FingerprintSet& fingerprints = FingerprintSet::BuiltIn());
  ~Summary();
  Summary(Summary&&) noexcept;

  // Counts one decoded packet seen at `ts_us` (microseconds since the epoch).
  // A packet without an IP header is not counted here (see DecodeStatus).
  void Add(const Packet& packet, int64_t ts_us);
  // Adds everything `other` counted (same fingerprint rules).
  void Merge(const Summary& other);

  uint64_t packets() const { return packets_; }
  int64_t first_us() const { return first_us_; }
  int64_t last_us() const { return last_us_; }
  const SourceSet& sources() const { return sources_; }
  const SourceSet& class_sources(TrafficClass c) const { return classes_[static_cast<int>(c)]; }
  const SourceSet& fingerprint_sources(size_t rule) const { return fingerprint_sources_[rule]; }
  const FingerprintSet& fingerprints() const { return fingerprints_; }

  struct PortEntry {
    PortProto proto;
    uint16_t port;
    const PortStats* stats;
  };
  // Every (protocol, port) seen, by packets descending (then protocol, port).
  std::vector<PortEntry> Ports() const;
  const PortStats* Port(PortProto proto, uint16_t port) const;
  const SourceStats* SourceV4(uint32_t address) const;
  size_t source_entries() const { return by_source4_.size() + by_source6_.size(); }

 private:
  SourceStats& SourceOf(const Packet& packet);

  const FingerprintSet& fingerprints_;
  uint64_t packets_ = 0;
  int64_t first_us_ = 0, last_us_ = 0;
  SourceSet sources_;
  std::vector<SourceSet> classes_;
  std::vector<SourceSet> fingerprint_sources_;
  std::unordered_map<uint32_t, std::unique_ptr<PortStats>> ports_;  // (PortProto << 16) | port
  std::unordered_map<uint32_t, SourceStats> by_source4_;
  std::unordered_map<Ipv6Address, SourceStats, Ipv6Hash> by_source6_;
};

}  // namespace kizuna::sensor
