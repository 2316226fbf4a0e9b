#include "sensor/summary.h"

#include <roaring/roaring.h>

#include <algorithm>
#include <cstring>

namespace kizuna::sensor {

std::string_view PortProtoName(PortProto proto) {
  switch (proto) {
    case PortProto::kTcp:
      return "tcp";
    case PortProto::kUdp:
      return "udp";
    case PortProto::kIcmp:
      return "icmp";
    case PortProto::kIcmpv6:
      return "icmpv6";
    case PortProto::kOther:
      return "other";
  }
  return "other";
}

size_t Ipv6Hash::operator()(const Ipv6Address& a) const {
  uint64_t hi, lo;
  std::memcpy(&hi, a.data(), 8);
  std::memcpy(&lo, a.data() + 8, 8);
  return static_cast<size_t>((hi ^ (lo * 0x9E3779B97F4A7C15ull)) * 0xC2B2AE3D27D4EB4Full);
}

struct SourceSet::Bitmap {
  Bitmap() : r(roaring_bitmap_create()) {}
  ~Bitmap() { roaring_bitmap_free(r); }
  Bitmap(const Bitmap&) = delete;
  Bitmap& operator=(const Bitmap&) = delete;
  roaring_bitmap_t* r;
};

SourceSet::SourceSet() : v4_(std::make_unique<Bitmap>()) {}
SourceSet::~SourceSet() = default;
SourceSet::SourceSet(SourceSet&&) noexcept = default;
SourceSet& SourceSet::operator=(SourceSet&&) noexcept = default;

void SourceSet::AddV4(uint32_t address) { roaring_bitmap_add(v4_->r, address); }

void SourceSet::Merge(const SourceSet& other) {
  roaring_bitmap_or_inplace(v4_->r, other.v4_->r);
  v6_.insert(other.v6_.begin(), other.v6_.end());
}

uint64_t SourceSet::size() const { return roaring_bitmap_get_cardinality(v4_->r) + v6_.size(); }

bool SourceSet::ContainsV4(uint32_t address) const {
  return roaring_bitmap_contains(v4_->r, address);
}

namespace {

// The key of a packet's destination "port": TCP/UDP port, ICMP type, or the
// protocol number; false when the packet has none (a fragment, a cut header).
bool PortKeyOf(const Packet& p, PortProto* proto, uint16_t* port) {
  if (p.fragment) return false;
  switch (p.protocol) {
    case kProtoTcp:
    case kProtoUdp:
      if (!p.has_transport) return false;
      *proto = p.protocol == kProtoTcp ? PortProto::kTcp : PortProto::kUdp;
      *port = p.dst_port;
      return true;
    case kProtoIcmp:
    case kProtoIcmpv6:
      if (!p.has_transport) return false;
      *proto = p.protocol == kProtoIcmp ? PortProto::kIcmp : PortProto::kIcmpv6;
      *port = p.icmp_type;
      return true;
    default:
      *proto = PortProto::kOther;
      *port = p.protocol;
      return true;
  }
}

uint32_t PortKey(PortProto proto, uint16_t port) {
  return uint32_t{static_cast<uint8_t>(proto)} << 16 | port;
}

}  // namespace

Summary::Summary(const FingerprintSet& fingerprints)
    : fingerprints_(fingerprints),
      classes_(kTrafficClasses),
      fingerprint_sources_(fingerprints.size()) {}
Summary::~Summary() = default;
Summary::Summary(Summary&&) noexcept = default;

SourceStats& Summary::SourceOf(const Packet& p) {
  return p.ip_version == 4 ? by_source4_[p.src4] : by_source6_[p.src6];
}

void Summary::Add(const Packet& p, int64_t ts_us) {
  if (p.ip_version == 0) return;
  if (packets_ == 0 || ts_us < first_us_) first_us_ = ts_us;
  if (packets_ == 0 || ts_us > last_us_) last_us_ = ts_us;
  ++packets_;
  sources_.Add(p);
  const TrafficClass traffic = Classify(p);
  classes_[static_cast<int>(traffic)].Add(p);
  const uint32_t matched = fingerprints_.Match(p);
  for (uint32_t m = matched; m != 0; m &= m - 1) fingerprint_sources_[__builtin_ctz(m)].Add(p);

  PortProto proto;
  uint16_t port;
  const bool has_port = PortKeyOf(p, &proto, &port);
  if (has_port) {
    std::unique_ptr<PortStats>& stats = ports_[PortKey(proto, port)];
    if (!stats) stats = std::make_unique<PortStats>();
    ++stats->packets;
    stats->sources.Add(p);
  }

  SourceStats& source = SourceOf(p);
  if (source.packets == 0 || ts_us < source.first_us) source.first_us = ts_us;
  if (source.packets == 0 || ts_us > source.last_us) source.last_us = ts_us;
  ++source.packets;
  source.fingerprints |= matched;
  if (has_port) source.ports.insert(PortKey(proto, port));
  if (p.ip_version == 4) {
    source.destinations.AddV4(p.dst4);
  } else {
    source.destinations.AddV6(p.dst6);
  }
  if (!p.has_transport) return;
  switch (p.protocol) {
    case kProtoTcp: {
      const uint8_t f = p.tcp_flags & (tcp::kSyn | tcp::kAck | tcp::kRst);
      if (f == tcp::kSyn) {
        ++source.syn;
      } else if (f == (tcp::kSyn | tcp::kAck)) {
        ++source.syn_ack;
      } else if ((f & tcp::kRst) != 0) {
        ++source.rst;
      } else {
        ++source.other_tcp;
      }
      break;
    }
    case kProtoUdp:
      ++source.udp;
      break;
    case kProtoIcmp:
    case kProtoIcmpv6:
      ++source.icmp;
      break;
  }
}

void Summary::Merge(const Summary& other) {
  if (other.packets_ == 0) return;
  if (packets_ == 0 || other.first_us_ < first_us_) first_us_ = other.first_us_;
  if (packets_ == 0 || other.last_us_ > last_us_) last_us_ = other.last_us_;
  packets_ += other.packets_;
  sources_.Merge(other.sources_);
  for (int c = 0; c < kTrafficClasses; ++c) classes_[c].Merge(other.classes_[c]);
  for (size_t r = 0; r < fingerprint_sources_.size() && r < other.fingerprint_sources_.size();
       ++r) {
    fingerprint_sources_[r].Merge(other.fingerprint_sources_[r]);
  }
  for (const auto& [key, stats] : other.ports_) {
    std::unique_ptr<PortStats>& mine = ports_[key];
    if (!mine) mine = std::make_unique<PortStats>();
    mine->packets += stats->packets;
    mine->sources.Merge(stats->sources);
  }
  auto merge_source = [](SourceStats& mine, const SourceStats& theirs) {
    if (mine.packets == 0 || theirs.first_us < mine.first_us) mine.first_us = theirs.first_us;
    if (mine.packets == 0 || theirs.last_us > mine.last_us) mine.last_us = theirs.last_us;
    mine.packets += theirs.packets;
    mine.syn += theirs.syn;
    mine.syn_ack += theirs.syn_ack;
    mine.rst += theirs.rst;
    mine.other_tcp += theirs.other_tcp;
    mine.udp += theirs.udp;
    mine.icmp += theirs.icmp;
    mine.fingerprints |= theirs.fingerprints;
    mine.ports.insert(theirs.ports.begin(), theirs.ports.end());
    mine.destinations.Merge(theirs.destinations);
  };
  for (const auto& [address, stats] : other.by_source4_) merge_source(by_source4_[address], stats);
  for (const auto& [address, stats] : other.by_source6_) merge_source(by_source6_[address], stats);
}

std::vector<Summary::PortEntry> Summary::Ports() const {
  std::vector<PortEntry> out;
  out.reserve(ports_.size());
  for (const auto& [key, stats] : ports_) {
    out.push_back(
        {static_cast<PortProto>(key >> 16), static_cast<uint16_t>(key & 0xFFFF), stats.get()});
  }
  std::sort(out.begin(), out.end(), [](const PortEntry& a, const PortEntry& b) {
    if (a.stats->packets != b.stats->packets) return a.stats->packets > b.stats->packets;
    if (a.proto != b.proto) return a.proto < b.proto;
    return a.port < b.port;
  });
  return out;
}

const PortStats* Summary::Port(PortProto proto, uint16_t port) const {
  auto it = ports_.find(PortKey(proto, port));
  return it == ports_.end() ? nullptr : it->second.get();
}

const SourceStats* Summary::SourceV4(uint32_t address) const {
  auto it = by_source4_.find(address);
  return it == by_source4_.end() ? nullptr : &it->second;
}

}  // namespace kizuna::sensor
