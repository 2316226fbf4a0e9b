// `kizuna sensor synth`: realistic darknet captures for tests, demos and
// benchmarks, written fast (hundreds of millions of packets).
//
// The traffic, packet by packet (shares of the packets):
//   background SYN scans over many ports (23, 22, 80, 443, 445, 3389, ...)
//     from a pool of sources, at a rate with a daily cycle;
//   DDoS backscatter: SYN-ACKs, RSTs and ICMP unreachables from a few
//     victims' service ports;
//   UDP probes (53, 123, 161, 1900, 5060, ...) and ICMP echo requests;
//   research scans: ZMap (IP id 54321) and masscan (IP id = dst ^ dport ^ seq);
//   Mirai-style bots probing 23/tcp and 2323/tcp (sequence number = the
//     destination address), a few before the outbreak and, from
//     `outbreak_at`, thousands of new ones;
//   a little IPv6 (SYN scans and ICMPv6 echo to the darknet's /48).
// Traffic that is not a given scanner never carries its fingerprint by
// chance, so the truth below is exactly what the rules should find.
//
// Deterministic for a seed. Functions only; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>

#include "common/status.h"
#include "sensor/packet.h"

namespace kizuna::sensor {

struct SynthOptions {
  uint64_t packets = 1'000'000;
  int64_t start_us = 1795392000LL * 1000000;  // 2026-11-23T00:00:00Z
  int64_t duration_s = 86400;                 // spread over this much time
  uint32_t darknet = 0xC6120000;              // 198.18.0.0
  int darknet_length = 16;                    // the darknet's IPv4 prefix length
  uint32_t seed = 1;
  int64_t outbreak_at_s = -1;  // seconds after start; -1: two thirds of the way
  uint32_t outbreak_sources = 5000;
  double outbreak_share = 0.25;  // of the packets once the outbreak has begun
  double ipv6_share = 0.01;
  LinkType link = LinkType::kEthernet;  // kEthernet, kRaw, kLinuxSll, kLinuxSll2, kNull
  int vlan = -1;                        // Ethernet: one 802.1Q tag with this id
  bool pcapng = false;
};

// What the generator put in, counted independently of the analyser: distinct
// sources per class, fingerprint and port, in the CaptureReportJson shape.
struct SynthTruth {
  struct Sources {
    std::unordered_set<uint32_t> v4;
    std::set<Ipv6Address> v6;
    void Add(const Packet& p);
    uint64_t size() const { return v4.size() + v6.size(); }
  };
  struct PortTruth {
    uint64_t packets = 0;
    Sources sources;
  };
  uint64_t packets = 0;
  Sources sources;
  std::map<std::string, Sources> classes;                       // scan, backscatter, udp, icmp
  std::map<std::string, Sources> fingerprints;                  // mirai, zmap, masscan
  std::map<std::pair<std::string, uint16_t>, PortTruth> ports;  // ("tcp", 23) -> ...
  int64_t outbreak_start_us = 0;                                // the first outbreak packet's time
  std::string Json() const;  // {"packets", "sources", "classes", "fingerprints", "ports"}
};

// Writes the capture to `path`; fills `truth` if given (costs memory per
// distinct source). `progress` (if set) gets packets written so far.
Status WriteSynth(const SynthOptions& options, const std::string& path, SynthTruth* truth,
                  const std::function<void(uint64_t done, uint64_t total)>& progress = nullptr);

}  // namespace kizuna::sensor
