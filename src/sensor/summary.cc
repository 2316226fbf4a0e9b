#include "sensor/summary.h"

#include <roaring/roaring.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

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

// Keyed (SipHash, a key per process): the addresses come from whoever sends
// packets, and an unkeyed hash lets them pick a million that collide, making
// every insert walk one chain.
size_t Ipv6Hash::operator()(const Ipv6Address& a) const {
  static const std::array<unsigned char, crypto_shorthash_KEYBYTES> key = [] {
    std::array<unsigned char, crypto_shorthash_KEYBYTES> k;
    if (sodium_init() < 0) std::abort();
    randombytes_buf(k.data(), k.size());
    return k;
  }();
  uint64_t h;
  crypto_shorthash(reinterpret_cast<unsigned char*>(&h), a.data(), a.size(), key.data());
  return static_cast<size_t>(h);
}

struct U32Set::Bitmap {
  Bitmap() : r(roaring_bitmap_create()) {}
  ~Bitmap() { roaring_bitmap_free(r); }
  Bitmap(const Bitmap&) = delete;
  Bitmap& operator=(const Bitmap&) = delete;
  roaring_bitmap_t* r;
};

U32Set::U32Set(size_t small_max) : small_max_(small_max) {}
U32Set::~U32Set() = default;
U32Set::U32Set(U32Set&&) noexcept = default;
U32Set& U32Set::operator=(U32Set&&) noexcept = default;

void U32Set::Promote() {
  bitmap_ = std::make_unique<Bitmap>();
  roaring_bitmap_free(bitmap_->r);
  bitmap_->r = roaring_bitmap_of_ptr(small_.size(), small_.data());
  std::vector<uint32_t>().swap(small_);
}

void U32Set::Add(uint32_t value) {
  if (bitmap_) {
    roaring_bitmap_add(bitmap_->r, value);
    return;
  }
  auto at = std::lower_bound(small_.begin(), small_.end(), value);
  if (at != small_.end() && *at == value) return;
  small_.insert(at, value);
  if (small_.size() > small_max_) Promote();
}

void U32Set::AddSorted(std::span<const uint32_t> values) {
  if (values.empty()) return;
  if (!bitmap_) {
    // A linear merge of two sorted runs (the new one may repeat values).
    if (values.size() == 1) {
      Add(values[0]);
      return;
    }
    static thread_local std::vector<uint32_t> merged;
    merged.clear();
    merged.reserve(small_.size() + values.size());
    std::set_union(small_.begin(), small_.end(), values.begin(), values.end(),
                   std::back_inserter(merged));
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    small_.assign(merged.begin(), merged.end());  // (small_ keeps its capacity: no malloc)
    if (small_.size() > small_max_) Promote();
    return;
  }
  // A short run goes in value by value; a long one costs a union, linear
  // in the set. (CRoaring 0.2's in-place union inserts each new container
  // key into the middle of its key array: quadratic for spread addresses.)
  size_t distinct = 0;
  for (size_t i = 0; i < values.size(); ++i) distinct += i == 0 || values[i] != values[i - 1];
  if (distinct < 32) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (i == 0 || values[i] != values[i - 1]) roaring_bitmap_add(bitmap_->r, values[i]);
    }
    return;
  }
  roaring_bitmap_t* run = roaring_bitmap_of_ptr(values.size(), values.data());
  Union(run);
  roaring_bitmap_free(run);
}

void U32Set::Union(const void* other) {
  roaring_bitmap_t* both =
      roaring_bitmap_or(bitmap_->r, static_cast<const roaring_bitmap_t*>(other));
  roaring_bitmap_free(bitmap_->r);
  bitmap_->r = both;
}

void U32Set::Merge(const U32Set& other) {
  if (!other.bitmap_) {
    AddSorted(other.small_);
    return;
  }
  if (!bitmap_) Promote();
  Union(other.bitmap_->r);
}

uint64_t U32Set::size() const {
  return bitmap_ ? roaring_bitmap_get_cardinality(bitmap_->r) : small_.size();
}

void U32Set::ForEach(const std::function<void(uint32_t)>& f) const {
  if (!bitmap_) {
    for (uint32_t v : small_) f(v);
    return;
  }
  roaring_iterate(
      bitmap_->r,
      [](uint32_t value, void* fn) {
        (*static_cast<const std::function<void(uint32_t)>*>(fn))(value);
        return true;
      },
      const_cast<std::function<void(uint32_t)>*>(&f));
}

bool U32Set::Contains(uint32_t value) const {
  if (bitmap_) return roaring_bitmap_contains(bitmap_->r, value);
  return std::binary_search(small_.begin(), small_.end(), value);
}

uint32_t SourceStats::fingerprints() const {
  uint32_t bits = 0;
  for (const auto& [rule, n] : fingerprint_packets) {
    if (2 * n >= packets) bits |= uint32_t{1} << rule;
  }
  return bits;
}

void SourceStats::CountFingerprint(size_t rule, uint64_t n) {
  for (auto& [r, count] : fingerprint_packets) {
    if (r == rule) {
      count += n;
      return;
    }
  }
  fingerprint_packets.emplace_back(static_cast<uint8_t>(rule), n);
}

void SourceSet::Merge(const SourceSet& other) {
  v4_.Merge(other.v4_);
  v6_.insert(other.v6_.begin(), other.v6_.end());
}

namespace {

// The key of a packet's destination "port": TCP/UDP port, ICMP type, or the
// protocol number; false when the packet has none (a fragment, a cut header).
bool PortKeyOf(const Packet& p, PortProto* proto, uint16_t* port) {
  if (p.fragment || p.cut) return false;
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

// The SourceStats counter a packet adds to (the TCP-flag profile), 6: none.
int ProfileOf(const Packet& p) {
  if (!p.has_transport) return 6;
  switch (p.protocol) {
    case kProtoTcp: {
      const uint8_t f = p.tcp_flags & (tcp::kSyn | tcp::kAck | tcp::kRst);
      if (f == tcp::kSyn) return 0;
      if (f == (tcp::kSyn | tcp::kAck)) return 1;
      if ((f & tcp::kRst) != 0) return 2;
      return 3;
    }
    case kProtoUdp:
      return 4;
    case kProtoIcmp:
    case kProtoIcmpv6:
      return 5;
    default:
      return 6;
  }
}

void CountProfile(SourceStats& s, int profile, uint64_t n) {
  switch (profile) {
    case 0:
      s.syn += n;
      break;
    case 1:
      s.syn_ack += n;
      break;
    case 2:
      s.rst += n;
      break;
    case 3:
      s.other_tcp += n;
      break;
    case 4:
      s.udp += n;
      break;
    case 5:
      s.icmp += n;
      break;
  }
}

void Widen(SourceStats& s, int64_t first_us, int64_t last_us, bool fresh) {
  if (fresh || first_us < s.first_us) s.first_us = first_us;
  if (fresh || last_us > s.last_us) s.last_us = last_us;
}

// Stable LSD radix sort of `items` by a 32-bit key, 16 bits a pass (two
// passes; one when every key is below 2^16). `scratch` is reused.
// Below kSmallSort items a comparison sort is cheaper than the passes'
// fixed cost (a one-minute interval's summary holds a few hundred).
constexpr size_t kSmallSort = 4096;

template <typename T, typename Key>
void RadixSort(std::vector<T>& items, std::vector<T>& scratch, Key key, bool high_pass) {
  if (items.size() < kSmallSort) {
    std::stable_sort(items.begin(), items.end(),
                     [&](const T& a, const T& b) { return key(a) < key(b); });
    return;
  }
  std::vector<uint32_t> count(65536 + 1);
  scratch.resize(items.size());
  for (int pass = 0; pass < (high_pass ? 2 : 1); ++pass) {
    const int shift = pass * 16;
    std::fill(count.begin(), count.end(), 0);
    for (const T& item : items) ++count[((key(item) >> shift) & 0xFFFF) + 1];
    for (size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
    for (const T& item : items) scratch[count[(key(item) >> shift) & 0xFFFF]++] = item;
    items.swap(scratch);
  }
}

}  // namespace

Summary::Summary(const FingerprintSet& fingerprints, bool destinations)
    : fingerprints_(fingerprints), destinations_(destinations) {}
Summary::~Summary() = default;
Summary::Summary(Summary&&) noexcept = default;

void Summary::Add(const Packet& p, int64_t ts_us) {
  if (p.ip_version == 0) return;
  derived_.reset();
  if (packets_ == 0 || ts_us < first_us_) first_us_ = ts_us;
  if (packets_ == 0 || ts_us > last_us_) last_us_ = ts_us;
  ++packets_;
  const TrafficClass traffic = Classify(p);
  const uint32_t matched = fingerprints_.Match(p);
  PortProto proto;
  uint16_t port;
  const uint32_t port_key = PortKeyOf(p, &proto, &port) ? PortKey(proto, port) : kNoPort;
  const int profile = ProfileOf(p);
  if (p.ip_version != 4) {
    AddV6(p, ts_us, traffic, matched, port_key, profile);
    return;
  }
  // Grown as needed: many summaries (one a minute) stay small.
  if (pending_.capacity() == 0) pending_.reserve(kSmallSort);
  const uint32_t packed = (port_key & 0x7FFFF) | static_cast<uint32_t>(profile) << 19 |
                          static_cast<uint32_t>(traffic) << 22;
  pending_.push_back({p.src4, p.dst4, packed, matched, ts_us});
  if (pending_.size() == kBatch) FoldSorted();
}

// IPv6 traffic to a darknet is rare: counted straight away.
void Summary::AddV6(const Packet& p, int64_t ts_us, TrafficClass traffic, uint32_t matched,
                    uint32_t port_key, int profile) {
  if (port_key != kNoPort) ++port_packets_[port_key];
  SourceStats& source = by_source6_[p.src6];
  Widen(source, ts_us, ts_us, source.packets == 0);
  ++source.packets;
  for (uint32_t m = matched; m != 0; m &= m - 1) source.CountFingerprint(__builtin_ctz(m), 1);
  source.classes |= static_cast<uint8_t>(1u << static_cast<int>(traffic));
  CountProfile(source, profile, 1);
  if (port_key != kNoPort) source.ports.Add(port_key);
  if (destinations_) source.destinations.AddV6(p.dst6);
}

void Summary::Fold() const { const_cast<Summary*>(this)->FoldSorted(); }

void Summary::FoldSorted() {
  if (pending_.empty()) return;
  std::vector<Record>& batch = pending_;
  // By source, and by destination within a source (stable passes, the
  // last key first), so that each source's destinations come sorted.
  if (destinations_)
    RadixSort(
        batch, scratch_, [](const Record& r) { return r.dst; }, true);
  RadixSort(
      batch, scratch_, [](const Record& r) { return r.src; }, true);

  // Packets per port: counted in a flat table for a big batch, then added.
  const bool small = batch.size() < kSmallSort;
  static thread_local std::vector<uint32_t> port_counts;
  if (!small) port_counts.assign(size_t{kPortProtos} << 16, 0);
  // Per source: one table lookup for its run of the batch.
  std::vector<uint32_t> values;
  for (size_t begin = 0; begin < batch.size();) {
    const uint32_t src = batch[begin].src;
    size_t end = begin + 1;
    while (end < batch.size() && batch[end].src == src) ++end;
    SourceStats& source = by_source4_[src];
    const bool fresh = source.packets == 0;
    int64_t first = batch[begin].ts_us, last = first;
    uint32_t classes = 0, matched = 0;
    std::array<uint64_t, 32> rule_packets{};
    values.clear();
    for (size_t i = begin; i < end; ++i) {
      const Record& r = batch[i];
      first = std::min(first, r.ts_us);
      last = std::max(last, r.ts_us);
      classes |= 1u << r.traffic();
      if (r.fingerprints != 0) {
        matched |= r.fingerprints;
        for (uint32_t m = r.fingerprints; m != 0; m &= m - 1) ++rule_packets[__builtin_ctz(m)];
      }
      CountProfile(source, r.profile(), 1);
      if (destinations_) values.push_back(r.dst);
    }
    Widen(source, first, last, fresh);
    source.packets += end - begin;
    for (uint32_t m = matched; m != 0; m &= m - 1) {
      const int rule = __builtin_ctz(m);
      source.CountFingerprint(rule, rule_packets[rule]);
      rule_packets[rule] = 0;
    }
    source.classes |= static_cast<uint8_t>(classes);
    if (destinations_) source.destinations.AddV4Sorted(values);
    values.clear();
    for (size_t i = begin; i < end; ++i) {
      const uint32_t key = batch[i].port_key();
      if (key == kNoPort) continue;
      if (small) {
        ++port_packets_[key];
      } else {
        ++port_counts[key];
      }
      values.push_back(key);
    }
    // A source's ports in a batch are usually few: insertion sort then.
    if (values.size() > 32) std::sort(values.begin(), values.end());
    for (size_t i = 1; i < values.size() && values.size() <= 32; ++i) {
      const uint32_t v = values[i];
      size_t j = i;
      for (; j > 0 && values[j - 1] > v; --j) values[j] = values[j - 1];
      values[j] = v;
    }
    source.ports.AddSorted(values);
    begin = end;
  }
  for (uint32_t key = 0; !small && key < port_counts.size(); ++key) {
    if (port_counts[key] != 0) port_packets_[key] += port_counts[key];
  }
  pending_.clear();
}

void Summary::Merge(const Summary& other) {
  other.Fold();
  FoldSorted();
  if (other.packets_ == 0) return;
  derived_.reset();
  if (packets_ == 0 || other.first_us_ < first_us_) first_us_ = other.first_us_;
  if (packets_ == 0 || other.last_us_ > last_us_) last_us_ = other.last_us_;
  packets_ += other.packets_;
  for (const auto& [key, packets] : other.port_packets_) port_packets_[key] += packets;
  auto merge_source = [](SourceStats& mine, const SourceStats& theirs) {
    Widen(mine, theirs.first_us, theirs.last_us, mine.packets == 0);
    mine.packets += theirs.packets;
    mine.syn += theirs.syn;
    mine.syn_ack += theirs.syn_ack;
    mine.rst += theirs.rst;
    mine.other_tcp += theirs.other_tcp;
    mine.udp += theirs.udp;
    mine.icmp += theirs.icmp;
    for (const auto& [rule, n] : theirs.fingerprint_packets) mine.CountFingerprint(rule, n);
    mine.classes |= theirs.classes;
    mine.ports.Merge(theirs.ports);
    mine.destinations.Merge(theirs.destinations);
  };
  for (const auto& [address, stats] : other.by_source4_) merge_source(by_source4_[address], stats);
  for (const auto& [address, stats] : other.by_source6_) merge_source(by_source6_[address], stats);
}

const Summary::Derived& Summary::derived() const {
  Fold();
  if (derived_) return *derived_;
  auto d = std::make_unique<Derived>();
  d->classes.resize(kTrafficClasses);
  // (Bits past this summary's rules, from merging another's, are dropped.)
  const uint32_t rule_mask =
      fingerprints_.size() >= 32 ? ~uint32_t{0} : (uint32_t{1} << fingerprints_.size()) - 1;
  d->fingerprints.resize(fingerprints_.size());
  // IPv4: sorted addresses for each set, then one linear insert each.
  std::vector<uint32_t> all;
  all.reserve(by_source4_.size());
  std::vector<std::vector<uint32_t>> classes(kTrafficClasses), matched(fingerprints_.size());
  struct PortSource {
    uint32_t port_key, address;
  };
  std::vector<PortSource> port_sources, scratch;
  for (const auto& [address, stats] : by_source4_) {
    all.push_back(address);
    for (uint32_t c = stats.classes; c != 0; c &= c - 1)
      classes[__builtin_ctz(c)].push_back(address);
    for (uint32_t m = stats.fingerprints() & rule_mask; m != 0; m &= m - 1) {
      matched[__builtin_ctz(m)].push_back(address);
    }
    // (Copied: clang 14 lambdas cannot capture a structured binding.)
    const uint32_t source = address;
    stats.ports.ForEach([&](uint32_t key) { port_sources.push_back({key, source}); });
  }
  // By port, sources ascending within each (two stable radix sorts).
  RadixSort(
      port_sources, scratch, [](const PortSource& p) { return p.address; }, true);
  RadixSort(
      port_sources, scratch, [](const PortSource& p) { return p.port_key; }, true);
  auto add_sorted = [](SourceSet& set, std::vector<uint32_t>& addresses) {
    std::sort(addresses.begin(), addresses.end());
    set.AddV4Sorted(addresses);
  };
  add_sorted(d->sources, all);
  for (int c = 0; c < kTrafficClasses; ++c) add_sorted(d->classes[c], classes[c]);
  for (size_t r = 0; r < matched.size(); ++r) add_sorted(d->fingerprints[r], matched[r]);
  auto port_at = [&](uint32_t key) -> PortStats& {
    std::unique_ptr<PortStats>& stats = d->ports[key];
    if (!stats) stats = std::make_unique<PortStats>();
    return *stats;
  };
  std::vector<uint32_t> run;
  for (size_t begin = 0; begin < port_sources.size();) {
    size_t end = begin;
    run.clear();
    while (end < port_sources.size() &&
           port_sources[end].port_key == port_sources[begin].port_key) {
      run.push_back(port_sources[end++].address);
    }
    port_at(port_sources[begin].port_key).sources.AddV4Sorted(run);
    begin = end;
  }
  for (const auto& [address, stats] : by_source6_) {
    d->sources.AddV6(address);
    for (uint32_t c = stats.classes; c != 0; c &= c - 1) {
      d->classes[__builtin_ctz(c)].AddV6(address);
    }
    for (uint32_t m = stats.fingerprints() & rule_mask; m != 0; m &= m - 1) {
      d->fingerprints[__builtin_ctz(m)].AddV6(address);
    }
    const Ipv6Address& source = address;
    stats.ports.ForEach([&](uint32_t key) { port_at(key).sources.AddV6(source); });
  }
  for (const auto& [key, packets] : port_packets_) port_at(key).packets = packets;
  derived_ = std::move(d);
  return *derived_;
}

const SourceSet& Summary::sources() const { return derived().sources; }

const SourceSet& Summary::class_sources(TrafficClass c) const {
  return derived().classes[static_cast<int>(c)];
}

const SourceSet& Summary::fingerprint_sources(size_t rule) const {
  static const SourceSet kNone;
  const Derived& d = derived();
  return rule < d.fingerprints.size() ? d.fingerprints[rule] : kNone;
}

std::vector<Summary::PortEntry> Summary::Ports() const {
  const Derived& d = derived();
  std::vector<PortEntry> out;
  out.reserve(d.ports.size());
  for (const auto& [key, stats] : d.ports) {
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
  const Derived& d = derived();
  auto it = d.ports.find(PortKey(proto, port));
  return it == d.ports.end() ? nullptr : it->second.get();
}

const SourceStats* Summary::SourceV4(uint32_t address) const {
  Fold();
  auto it = by_source4_.find(address);
  return it == by_source4_.end() ? nullptr : &it->second;
}

void Summary::ForEachSource(
    const std::function<void(uint32_t v4, const SourceStats&)>& on_v4,
    const std::function<void(const Ipv6Address& v6, const SourceStats&)>& on_v6) const {
  Fold();
  for (const auto& [address, stats] : by_source4_) on_v4(address, stats);
  for (const auto& [address, stats] : by_source6_) on_v6(address, stats);
}

}  // namespace kizuna::sensor
