// What a darknet sensor saw over a span of time: packets and distinct
// sources per (protocol, destination port), per source (packets, distinct
// destination ports and addresses, first and last seen, TCP-flag profile),
// per traffic class and per scanner fingerprint.
//
// Distinct counts are exact and merge: IPv4 sets are CRoaring bitmaps, IPv6
// sources hash sets, so the union of two summaries (two intervals, two
// sensors) counts a source seen by both once. Memory grows with the distinct
// sources and ports seen, not with the packets.
//
// Why it is fast: Add classifies and fingerprints an IPv4 packet and
// appends a 16-byte record to the batch (and its destination, when they
// are kept, in a column of its own). Every 2^20 IPv4 packets the batch
// is folded in: dealt out by a keyed hash of the source into 64 parts, each
// folded with its own flat table of sources (a dense id each) and per-batch
// counters, a 64th of all sources, so that they stay in cache; what goes
// into sets (a port the source was not just seen on, a destination) waits
// as an (id, value) pair, sorted (radix) so that each source's sets get
// their new members as a sorted run (merged linearly) instead of one random
// insert per packet. Only per-source state is kept while counting: the
// sets of sources (all, per class, per fingerprint, per port) follow from
// it and are worked out when first asked for. The accessors fold the
// pending batch in first.
//
// A full batch is folded in on a background thread of the summary's own
// while the next one fills (Add never waits unless the one before is still
// being folded; the accessors, Merge, a move and the destructor wait for
// it). Batches are folded in the order they filled: the result is the same
// as on one thread.
//
// Not thread-safe (even the const accessors change the pending batch): one
// summary per thread, merged afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
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

// An exact set of 32-bit values: a sorted vector while small (4 bytes a
// value, no allocation per value; spread addresses would cost CRoaring a
// container each), a CRoaring bitmap once past `small_max` values (sooner
// for values packed together, such as one source's destinations in the
// darknet, which CRoaring keeps in a few dense containers).
class U32Set {
 public:
  static constexpr size_t kSmallMax = size_t{1} << 20;
  static constexpr size_t kDenseSmallMax = 1024;
  explicit U32Set(size_t small_max = kSmallMax);
  ~U32Set();
  U32Set(U32Set&&) noexcept;
  U32Set& operator=(U32Set&&) noexcept;

  void Add(uint32_t value);
  // Adds values sorted ascending (duplicates allowed).
  void AddSorted(std::span<const uint32_t> values);
  void Merge(const U32Set& other);
  uint64_t size() const;
  bool Contains(uint32_t value) const;
  // Calls f(value) for every value, ascending.
  void ForEach(const std::function<void(uint32_t)>& f) const;

 private:
  struct Bitmap;                  // CRoaring's, kept out of this header
  void Union(const void* other);  // a roaring_bitmap_t, into bitmap_
  void Promote();                 // small_ into a bitmap
  size_t small_max_;
  std::vector<uint32_t> small_;  // sorted, unique; while bitmap_ is null
  std::unique_ptr<Bitmap> bitmap_;
};

// A set of source addresses, exact for both families.
class SourceSet {
 public:
  explicit SourceSet(size_t small_max = U32Set::kSmallMax) : v4_(small_max) {}
  void AddV4(uint32_t address) { v4_.Add(address); }
  void AddV4Sorted(std::span<const uint32_t> addresses) { v4_.AddSorted(addresses); }
  void AddV6(const Ipv6Address& address) { v6_.insert(address); }
  void Merge(const SourceSet& other);
  uint64_t size() const { return v4_.size() + v6_.size(); }
  bool ContainsV4(uint32_t address) const { return v4_.Contains(address); }
  const U32Set& v4() const { return v4_; }
  // The IPv6 members, in no particular order.
  const std::unordered_set<Ipv6Address, Ipv6Hash>& v6() const { return v6_; }

 private:
  U32Set v4_;
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
  // Packets that matched each fingerprint rule, for the rules that matched
  // any (rule, packets).
  std::vector<std::pair<uint8_t, uint64_t>> fingerprint_packets;
  // The rules that describe this source (a bit each): those matched by at
  // least half its packets. A rule on a 16-bit field matches one packet in
  // 65,536 by chance; a heavy source's chance matches do not make it a
  // scanner, a scanner's probes all match.
  uint32_t fingerprints() const;
  void CountFingerprint(size_t rule, uint64_t packets);
  uint8_t classes = 0;                   // a bit per TrafficClass seen from it
  U32Set ports{U32Set::kDenseSmallMax};  // (PortProto << 16) | port
  SourceSet destinations{U32Set::kDenseSmallMax};
};

class Summary {
 public:
  // `destinations`: whether each source's distinct destination addresses
  // are kept (SourceStats::destinations). They are the one part that grows
  // with the length of a capture rather than with its sources (every
  // source may reach every darknet address): an interval's summary keeps
  // them, a report over a whole file that does not show them need not.
  explicit Summary(const FingerprintSet& fingerprints = FingerprintSet::BuiltIn(),
                   bool destinations = true);
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
  const SourceSet& sources() const;
  const SourceSet& class_sources(TrafficClass c) const;
  const SourceSet& fingerprint_sources(size_t rule) const;
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
  // Every source's state (IPv4, then IPv6), in no particular order.
  void ForEachSource(
      const std::function<void(uint32_t v4, const SourceStats&)>& on_v4,
      const std::function<void(const Ipv6Address& v6, const SourceStats&)>& on_v6) const;

 private:
  static constexpr uint32_t kNoPort = 0xFFFFFFFF;
  static constexpr size_t kBatch = 1 << 20;  // IPv4 packets folded in at a time
  // The IPv4 packets not yet folded in, and the fold's tables (summary.cc).
  struct Batch;
  // Owns the batch. A full batch is folded in on a background thread while
  // the next one fills; moving this waits for that fold first, so that a
  // Summary may be moved at any time.
  struct BatchPtr : std::unique_ptr<Batch> {
    BatchPtr() = default;
    BatchPtr(BatchPtr&& other) noexcept;
    ~BatchPtr();
  };

  // The sets of sources, worked out from the per-source state.
  struct Derived {
    SourceSet sources;
    std::vector<SourceSet> classes;
    std::vector<SourceSet> fingerprints;
    std::unordered_map<uint32_t, std::unique_ptr<PortStats>> ports;  // by port key
  };

  void AddV6(const Packet& packet, int64_t ts_us, TrafficClass traffic, uint32_t matched,
             uint32_t port_key, int profile);
  void Fold() const;  // the pending batch into the tables
  void FoldSorted();
  void StartFold();  // the full batch, on a background thread
  void Collect();    // waits for the background fold; its port counts in
  const Derived& derived() const;

  const FingerprintSet& fingerprints_;
  const bool destinations_;
  uint64_t packets_ = 0;
  int64_t first_us_ = 0, last_us_ = 0;
  // Everything below is only current after Fold(); batch_ holds the rest.
  BatchPtr batch_;
  std::unordered_map<uint32_t, uint64_t> port_packets_;  // by port key
  std::unordered_map<uint32_t, SourceStats> by_source4_;
  std::unordered_map<Ipv6Address, SourceStats, Ipv6Hash> by_source6_;
  mutable std::unique_ptr<Derived> derived_;  // null when the counts have changed since
};

}  // namespace kizuna::sensor
