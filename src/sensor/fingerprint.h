// Scanner fingerprints and traffic classes for darknet packets.
//
// Classes (what a packet reaching unused address space is): a scan (a TCP
// SYN, the first packet of a connection someone is trying), backscatter
// (answers to packets that never came from here: SYN-ACKs, RSTs, ICMP errors
// and echo replies, sent by the victims of spoofed floods), a UDP probe, an
// ICMP probe (echo and other requests), or other.
//
// Fingerprints are versioned data (a JSON rule set), so that a partner can
// publish a corrected one: each rule names a scanner and lists equalities
// between header fields, constants and XORs of fields, e.g. Mirai's SYN
// probes carry the destination address as their sequence number:
//   {"name": "mirai", "equal": [["protocol", 6], ["tcp_flags", 2], ["tcp_seq", "dst4"]]}
// A comparison is over the left field's width (ip_id: the low 16 bits of
// the right side). Fields: protocol, ip_version, ip_id, ttl, src4, dst4,
// src_port, dst_port, tcp_flags, tcp_seq, tcp_ack, tcp_window,
// tcp_options_length, icmp_type, icmp_code.
//
// A FingerprintSet is immutable once parsed: thread-safe to share.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sensor/packet.h"

namespace kizuna::sensor {

enum class TrafficClass : uint8_t { kScan, kBackscatter, kUdp, kIcmp, kOther };
inline constexpr int kTrafficClasses = 5;
std::string_view TrafficClassName(TrafficClass c);
TrafficClass Classify(const Packet& packet);

class FingerprintSet {
 public:
  // Parses a rule set ({"version": …, "fingerprints": [rule, …]}); at most 32
  // rules. Every field name and expression is checked here.
  static Result<FingerprintSet> Parse(std::string_view json);
  // The rules kizuna ships (Mirai, ZMap before 4.1, masscan), each checked
  // against the scanner's source code (see fingerprints.json's "source").
  static const FingerprintSet& BuiltIn();
  static std::string_view BuiltInJson();

  const std::string& version() const { return version_; }
  size_t size() const { return rules_.size(); }
  const std::string& name(size_t rule) const { return rules_[rule].name; }
  // A bit per rule that matches `packet` (rule i: bit i).
  uint32_t Match(const Packet& packet) const;

 private:
  // One equality, flattened: field[left] == constant ^ field[terms[0]] ^ ...
  struct Check {
    uint8_t left;
    uint8_t term_count;
    std::array<uint8_t, 8> terms;
    uint32_t constant;
    uint32_t mask;  // the left field's width
  };
  struct Rule {
    std::string name;
    // Its equalities of a narrow field (protocol, ip_version, ip_id, ttl,
    // tcp_flags, icmp_type, icmp_code) with a constant, as one masked
    // compare of the fields packed into 64 bits: most packets fail one
    // (not a SYN, another protocol) and need no more.
    uint64_t want = 0, want_mask = 0;
    uint32_t begin = 0, end = 0;  // its other checks in checks_
  };
  // A check as Match reads it when every check names at most 4 fields
  // an odd number of times (left and terms alike: x ^ x is 0, and the
  // mask distributes over ^): (constant ^ value[f0] ^ ... ^ value[f3]) &
  // mask is 0, unused slots reading a field that is always 0.
  struct FlatCheck {
    std::array<uint8_t, 4> fields;
    uint8_t rule;
    uint32_t constant;
    uint32_t mask;
  };
  struct Prefilter {
    uint64_t want, want_mask;
  };
  void Flatten();
  std::string version_;
  std::vector<Rule> rules_;
  std::vector<Check> checks_;
  // What Match reads, laid out for it: each rule's masked compare, and
  // every check flattened (rule by rule; empty when one does not fit).
  std::vector<Prefilter> prefilter_;
  std::vector<FlatCheck> flat_;
  uint32_t no_checks_ = 0;  // the rules that are their masked compare alone
};

}  // namespace kizuna::sensor
