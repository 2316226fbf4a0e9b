#include "sensor/summary.h"

#include <roaring/roaring.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

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
    // Usually most of the run is there already (a source's usual ports):
    // the new values first (each found by a galloping search from the last
    // one: a few steps when values are close, log n when far), then merged
    // in from the back in place; nothing is copied when there are none.
    static thread_local std::vector<uint32_t> fresh;
    fresh.clear();
    const uint32_t* at = small_.data();
    const uint32_t* const last = small_.data() + small_.size();
    for (size_t i = 0; i < values.size(); ++i) {
      const uint32_t v = values[i];
      if (i != 0 && v == values[i - 1]) continue;
      size_t step = 1;
      while (step <= static_cast<size_t>(last - at) && at[step - 1] < v) step *= 2;
      at = std::lower_bound(at + step / 2, at + std::min(step, static_cast<size_t>(last - at)), v);
      if (at == last || *at != v) fresh.push_back(v);
    }
    if (fresh.empty()) return;
    size_t old_size = small_.size(), out = old_size + fresh.size();
    if (out > small_.capacity()) small_.reserve(out);  // exactly: sets are many, mostly small
    small_.resize(out);
    for (size_t k = fresh.size(); k > 0;) {
      if (old_size > 0 && small_[old_size - 1] > fresh[k - 1]) {
        small_[--out] = small_[--old_size];
      } else {
        small_[--out] = fresh[--k];
      }
    }
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

// Records reserved for a new summary's first batch; it grows to kBatch.
constexpr size_t kFirstRecords = 4096;

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

// Sorts 64-bit keys below 2^bits ascending: LSD radix, 11 or 12 bits a
// pass (the counts stay in L1); std::sort for a few.
void SortKeys(std::vector<uint64_t>& keys, std::vector<uint64_t>& scratch, int bits) {
  if (keys.size() < 2048) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  const int passes = (bits + 11) / 12;
  const int digit = (bits + passes - 1) / passes;
  const uint64_t mask = (uint64_t{1} << digit) - 1;
  std::array<uint32_t, 4097> count;
  scratch.resize(keys.size());
  for (int pass = 0; pass < passes; ++pass) {
    const int shift = pass * digit;
    std::fill(count.begin(), count.begin() + mask + 2, 0);
    for (uint64_t k : keys) ++count[((k >> shift) & mask) + 1];
    for (size_t i = 1; i <= mask + 1; ++i) count[i] += count[i - 1];
    for (uint64_t k : keys) scratch[count[(k >> shift) & mask]++] = k;
    keys.swap(scratch);
  }
}

int BitWidth(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

// A random odd multiplier per process for the flat source table: addresses
// come from whoever sends packets, and a fixed hash would let them pick
// ones that all land on one probe run.
uint64_t TableMultiplier() {
  static const uint64_t multiplier = [] {
    if (sodium_init() < 0) std::abort();
    uint64_t m;
    randombytes_buf(&m, sizeof m);
    return m | 1;
  }();
  return multiplier;
}

}  // namespace

// The IPv4 packets added since the last fold. Add only appends a record,
// in one run (appending to 64 runs at once, one per part, cost the adding
// thread a second on the bench capture). The fold deals the records out to
// 64 parts by a keyed hash of the source, then goes through one part at a
// time, whose sources' state (a flat open-addressing table giving each
// source a dense id, and the counters of its packets in this batch, 80
// bytes a source) is a 64th of the whole: small enough to stay in cache,
// where looking every packet's source up in one table of them all missed
// it twice a packet. What goes into sets waits as (id, value) pairs, sorted
// when the part is done. A source's id, stats pointer and recently seen
// ports outlive the batch (by_source4_ never drops a source and keeps its
// nodes in place).
struct Summary::Batch {
  static constexpr int kPartBits = 6;
  static constexpr int kInlineRules = 4;  // counted here; later rules in SourceStats
  static constexpr int kSeenBits = 4;
  static constexpr size_t kSeenSlots = size_t{1} << kSeenBits;

  // The first fingerprint rules, whose bits a Record carries.
  static constexpr int kRecordRules = 7;
  // 16 bytes: the records are written, dealt out and read again, and the
  // fold's time goes with their size.
  struct Record {
    uint32_t src;
    // The port key (19 bits, all ones when none), the profile (3 bits:
    // which SourceStats counter, 0..5, or 6: none), the TrafficClass (3
    // bits) and the first kRecordRules fingerprint rules matched (7 bits).
    uint32_t packed;
    int64_t ts_us;
  };
  // Records in columns: what every packet has, and what only some
  // summaries need, one entry a record when they do and empty otherwise:
  // the destinations (a summary that keeps them) and the rules past
  // kRecordRules matched (a rule set that has them).
  struct Records {
    std::vector<Record> records;
    std::vector<uint32_t> dsts;
    std::vector<uint32_t> more_rules;  // matched >> kRecordRules
    void clear() {
      records.clear();
      dsts.clear();
      more_rules.clear();
    }
    void swap(Records& other) {
      records.swap(other.records);
      dsts.swap(other.dsts);
      more_rules.swap(other.more_rules);
    }
  };
  struct Hot {
    int64_t first_us = 0, last_us = 0;
    uint32_t packets = 0;  // in this batch
    std::array<uint32_t, 6> profile{};
    uint8_t classes = 0;
    uint8_t rules = 0;      // the inline rules matched in this batch
    uint8_t new_rules = 0;  // fingerprint_packets entries appended in this batch
    std::array<uint32_t, kInlineRules> rule_packets{};
    // Port keys already sent to this source's set (in this batch's pairs
    // or an earlier one's), direct-mapped by a hash of the key: a port seen
    // again costs no pair. (16 slots: a source cycling through a dozen
    // usual ports mostly finds them here; 4 recent ones missed.)
    std::array<uint32_t, kSeenSlots> ports_seen = [] {
      std::array<uint32_t, kSeenSlots> none;
      none.fill(kNoPort);
      return none;
    }();
  };
  struct Part {
    std::vector<uint64_t> slots = std::vector<uint64_t>(16, 0);  // src << 32 | (id + 1)
    int shift = 64 - 4;               // 64 - log2(slots.size()): the hash's bits below the part's
    std::vector<SourceStats*> stats;  // by id, in by_source4_
    std::vector<Hot> hot;             // by id
    std::vector<uint32_t> touched;    // the ids seen in this batch

    uint32_t Id(uint32_t address, uint64_t hash, std::unordered_map<uint32_t, SourceStats>& table) {
      const size_t mask = slots.size() - 1;
      for (size_t i = (hash << kPartBits) >> shift;; i = (i + 1) & mask) {
        const uint64_t slot = slots[i];
        if (static_cast<uint32_t>(slot) == 0) {
          const auto id = static_cast<uint32_t>(stats.size());
          slots[i] = uint64_t{address} << 32 | (id + 1);
          stats.push_back(&table[address]);
          hot.emplace_back();
          if (2 * stats.size() > slots.size()) Grow();
          return id;
        }
        if (slot >> 32 == address) return static_cast<uint32_t>(slot) - 1;
      }
    }
    void Grow() {
      std::vector<uint64_t> old(slots.size() * 2, 0);
      old.swap(slots);
      --shift;
      const size_t mask = slots.size() - 1;
      for (const uint64_t slot : old) {
        if (static_cast<uint32_t>(slot) == 0) continue;
        size_t i = (((slot >> 32) * TableMultiplier()) << kPartBits) >> shift;
        while (slots[i] != 0) i = (i + 1) & mask;
        slots[i] = slot;
      }
    }
  };

  const uint64_t multiplier = TableMultiplier();
  static constexpr size_t kParts = size_t{1} << kPartBits;
  std::array<Part, kParts> parts;
  // The records: filled by Add in one run (a single stream of writes),
  // folded (on the background thread while `worker` runs; nothing else
  // touches the tables then), which first deals them out by part.
  Records filling, folding;
  std::array<Records, kParts> by_part;
  size_t packets = 0;  // IPv4 packets in `filling`
  std::thread worker;
  std::exception_ptr error;            // what the background fold threw
  std::vector<uint64_t> ports;         // id << 19 | port key, for the part being folded
  std::vector<uint64_t> destinations;  // id << 32 | destination, likewise
  std::vector<uint64_t> scratch;
  std::vector<uint32_t> values;
  // Allocated at the first fold: a summary of one minute may never fold a
  // full batch, and there is one a minute.
  std::vector<uint32_t> port_counts;
  std::vector<uint32_t> port_keys;  // the keys counted in this batch

  // A part's records into its sources' state, then its pairs into their sets.
  void FoldPart(Part& part, Records& records, std::unordered_map<uint32_t, SourceStats>& by_source4,
                bool destinations);
  // Every part of `folding`; port counts left in port_counts for Collect.
  void FoldAll(std::unordered_map<uint32_t, SourceStats>& by_source4, bool destinations) {
    if (port_counts.empty()) port_counts.assign(size_t{kPortProtos} << 16, 0);
    const Record* const records = folding.records.data();
    const uint32_t* const dsts = folding.dsts.empty() ? nullptr : folding.dsts.data();
    const uint32_t* const more = folding.more_rules.empty() ? nullptr : folding.more_rules.data();
    for (size_t k = 0, n = folding.records.size(); k < n; ++k) {
      Records& part = by_part[(records[k].src * multiplier) >> (64 - kPartBits)];
      part.records.push_back(records[k]);
      if (dsts != nullptr) part.dsts.push_back(dsts[k]);
      if (more != nullptr) part.more_rules.push_back(more[k]);
    }
    folding.clear();
    for (size_t i = 0; i < kParts; ++i) FoldPart(parts[i], by_part[i], by_source4, destinations);
  }
  void Join() noexcept {
    if (worker.joinable()) worker.join();
  }
};

Summary::BatchPtr::BatchPtr(BatchPtr&& other) noexcept {
  if (other) other->Join();
  reset(other.release());
}

Summary::BatchPtr::~BatchPtr() {
  if (*this) get()->Join();
}

Summary::Summary(const FingerprintSet& fingerprints, bool destinations)
    : fingerprints_(fingerprints), destinations_(destinations) {}
Summary::~Summary() {
  if (batch_) batch_->Join();  // (before the tables it folds into go)
}
Summary::Summary(Summary&&) noexcept = default;

void Summary::Add(const Packet& p, int64_t ts_us) {
  if (p.ip_version == 0) return;
  derived_.reset();
  if (packets_ == 0 || ts_us < first_us_) first_us_ = ts_us;
  if (packets_ == 0 || ts_us > last_us_) last_us_ = ts_us;
  ++packets_;
  const uint32_t matched = fingerprints_.Match(p);
  TrafficClass traffic;
  uint32_t port_key;
  int profile;
  if (p.protocol == kProtoTcp && p.has_transport && !p.fragment && !p.cut) {
    // Most of a darknet's packets: Classify, PortKeyOf and ProfileOf in one.
    const uint8_t f = p.tcp_flags & (tcp::kSyn | tcp::kAck | tcp::kRst);
    if ((f & tcp::kRst) != 0) {
      traffic = TrafficClass::kBackscatter;
      profile = 2;
    } else if (f == tcp::kSyn) {
      traffic = TrafficClass::kScan;
      profile = 0;
    } else if (f == (tcp::kSyn | tcp::kAck)) {
      traffic = TrafficClass::kBackscatter;
      profile = 1;
    } else {
      traffic = TrafficClass::kOther;
      profile = 3;
    }
    port_key = PortKey(PortProto::kTcp, p.dst_port);
  } else {
    traffic = Classify(p);
    PortProto proto;
    uint16_t port;
    port_key = PortKeyOf(p, &proto, &port) ? PortKey(proto, port) : kNoPort;
    profile = ProfileOf(p);
  }
  if (p.ip_version != 4) {
    AddV6(p, ts_us, traffic, matched, port_key, profile);
    return;
  }
  if (!batch_) batch_.reset(new Batch());
  Batch& b = *batch_;
  constexpr uint32_t kRecordRuleMask = (uint32_t{1} << Batch::kRecordRules) - 1;
  const uint32_t packed = (port_key & 0x7FFFF) | static_cast<uint32_t>(profile) << 19 |
                          static_cast<uint32_t>(traffic) << 22 |
                          (matched & kRecordRuleMask) << (32 - Batch::kRecordRules);
  // Grown as needed: many summaries (one a minute) stay small.
  if (b.filling.records.capacity() == 0) b.filling.records.reserve(kFirstRecords);
  b.filling.records.push_back({p.src4, packed, ts_us});
  if (destinations_) b.filling.dsts.push_back(p.dst4);
  if (fingerprints_.size() > Batch::kRecordRules) {
    b.filling.more_rules.push_back(matched >> Batch::kRecordRules);
  }
  if (++b.packets == kBatch) StartFold();
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

void Summary::Collect() {
  if (!batch_) return;
  Batch& b = *batch_;
  b.Join();
  for (const uint32_t key : b.port_keys) {
    port_packets_[key] += b.port_counts[key];
    b.port_counts[key] = 0;
  }
  b.port_keys.clear();
  if (b.error) std::rethrow_exception(std::exchange(b.error, nullptr));
}

// Batches are folded in the order they filled: the previous one's fold is
// waited for before the next one starts.
void Summary::StartFold() {
  Collect();
  Batch& b = *batch_;
  b.filling.swap(b.folding);
  b.packets = 0;
  b.worker = std::thread([&b, by_source4 = &by_source4_, destinations = destinations_] {
    try {
      b.FoldAll(*by_source4, destinations);
    } catch (...) {
      b.error = std::current_exception();
    }
  });
}

void Summary::FoldSorted() {
  if (!batch_) return;
  Collect();
  Batch& b = *batch_;
  if (b.packets == 0) return;
  b.filling.swap(b.folding);
  b.packets = 0;
  b.FoldAll(by_source4_, destinations_);
  Collect();
}

void Summary::Batch::FoldPart(Part& part, Records& records,
                              std::unordered_map<uint32_t, SourceStats>& by_source4_,
                              bool destinations_) {
  if (records.records.empty()) return;
  Batch& b = *this;
  // The part's tables into cache in one sweep (the other parts' folds
  // pushed them out) rather than a miss at each source's first record.
  auto sweep = [](const void* data, size_t bytes) {
    for (size_t at = 0; at < bytes; at += 64) {
      __builtin_prefetch(static_cast<const char*>(data) + at);
    }
  };
  sweep(part.slots.data(), part.slots.size() * sizeof(uint64_t));
  sweep(part.hot.data(), part.hot.size() * sizeof(Hot));
  const Record* const record = records.records.data();
  const uint32_t* const dsts = records.dsts.data();
  const uint32_t* const more = records.more_rules.empty() ? nullptr : records.more_rules.data();
  for (size_t k = 0, n = records.records.size(); k < n; ++k) {
    const Record& r = record[k];
    const uint32_t id = part.Id(r.src, r.src * b.multiplier, by_source4_);
    Hot& h = part.hot[id];
    if (h.packets++ == 0) {
      part.touched.push_back(id);
      h.first_us = h.last_us = r.ts_us;
    } else {
      h.first_us = std::min(h.first_us, r.ts_us);
      h.last_us = std::max(h.last_us, r.ts_us);
    }
    const uint32_t profile = r.packed >> 19 & 7;
    if (profile < 6) ++h.profile[profile];
    h.classes |= static_cast<uint8_t>(1u << (r.packed >> 22 & 7));
    const uint32_t fingerprints =
        r.packed >> (32 - kRecordRules) | (more != nullptr ? more[k] << kRecordRules : 0);
    if (fingerprints != 0) {
      for (uint32_t m = fingerprints; m != 0; m &= m - 1) {
        const int rule = __builtin_ctz(m);
        if (rule < kInlineRules) {
          h.rules |= static_cast<uint8_t>(1u << rule);
          ++h.rule_packets[rule];
        } else {
          SourceStats& source = *part.stats[id];
          const size_t before = source.fingerprint_packets.size();
          source.CountFingerprint(rule, 1);
          h.new_rules += static_cast<uint8_t>(source.fingerprint_packets.size() - before);
        }
      }
    }
    const uint32_t port_key = r.packed & 0x7FFFF;
    if (port_key != 0x7FFFF) {
      if (b.port_counts[port_key]++ == 0) b.port_keys.push_back(port_key);
      uint32_t& seen = h.ports_seen[(port_key * 0x9E3779B1u) >> (32 - kSeenBits)];
      if (seen != port_key) {
        seen = port_key;
        b.ports.push_back(uint64_t{id} << 19 | port_key);
      }
    }
    if (destinations_) b.destinations.push_back(uint64_t{id} << 32 | dsts[k]);
  }
  records.clear();
  // The counters: the same sums, minima and maxima whatever the order.
  for (const uint32_t id : part.touched) {
    Hot& h = part.hot[id];
    SourceStats& source = *part.stats[id];
    Widen(source, h.first_us, h.last_us, source.packets == 0);
    source.packets += h.packets;
    for (int profile = 0; profile < 6; ++profile) {
      if (h.profile[profile] != 0) CountProfile(source, profile, h.profile[profile]);
    }
    source.classes |= h.classes;
    for (uint32_t m = h.rules; m != 0; m &= m - 1) {
      const int rule = __builtin_ctz(m);
      const size_t before = source.fingerprint_packets.size();
      source.CountFingerprint(rule, h.rule_packets[rule]);
      h.new_rules += static_cast<uint8_t>(source.fingerprint_packets.size() - before);
    }
    // Rules first matched in a batch are listed ascending (as the fold
    // always listed them).
    if (h.new_rules > 1) {
      auto& list = source.fingerprint_packets;
      std::sort(list.end() - h.new_rules, list.end());
    }
    const std::array<uint32_t, kSeenSlots> seen = h.ports_seen;
    h = Hot{};
    h.ports_seen = seen;
  }
  part.touched.clear();
  // The pairs, by source and value: each source's new members as one
  // sorted run (AddSorted drops repeats).
  const int id_bits = BitWidth(part.stats.size());
  auto each_run = [&](std::vector<uint64_t>& pairs, int value_bits, auto add) {
    SortKeys(pairs, b.scratch, value_bits + id_bits);
    const uint64_t value_mask = (uint64_t{1} << value_bits) - 1;
    for (size_t begin = 0; begin < pairs.size();) {
      const uint64_t id = pairs[begin] >> value_bits;
      size_t end = begin;
      b.values.clear();
      for (; end < pairs.size() && pairs[end] >> value_bits == id; ++end) {
        const auto v = static_cast<uint32_t>(pairs[end] & value_mask);
        if (b.values.empty() || b.values.back() != v) b.values.push_back(v);
      }
      add(*part.stats[id], b.values);
      begin = end;
    }
    pairs.clear();
  };
  each_run(b.ports, 19, [](SourceStats& s, std::vector<uint32_t>& v) { s.ports.AddSorted(v); });
  each_run(b.destinations, 32,
           [](SourceStats& s, std::vector<uint32_t>& v) { s.destinations.AddV4Sorted(v); });
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
  auto port_at = [&](uint32_t key) -> PortStats& {
    std::unique_ptr<PortStats>& stats = d->ports[key];
    if (!stats) stats = std::make_unique<PortStats>();
    return *stats;
  };
  // IPv4: the sources in address order, so that each set gets its
  // addresses ascending (one linear insert each); the sources of each port
  // grouped by port key, stably (a sort of the pairs, or a counting sort).
  std::vector<std::pair<uint32_t, const SourceStats*>> order;
  order.reserve(by_source4_.size());
  for (const auto& [address, stats] : by_source4_) order.emplace_back(address, &stats);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<uint32_t> all;
  all.reserve(order.size());
  std::vector<std::vector<uint32_t>> classes(kTrafficClasses), matched(fingerprints_.size());
  constexpr uint32_t kKeys = uint32_t{kPortProtos} << 16;  // PortKey's
  // (port key, source) pairs, the sources ascending within each key once
  // grouped (they are visited in address order and the grouping is stable).
  // Kept only while there are few; a busy interval is grouped by a
  // counting sort instead (below), without them.
  const size_t few = kKeys / 4;
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  bool busy = false;
  for (const auto& [address, stats] : order) {
    all.push_back(address);
    for (uint32_t c = stats->classes; c != 0; c &= c - 1) {
      classes[__builtin_ctz(c)].push_back(address);
    }
    for (uint32_t m = stats->fingerprints() & rule_mask; m != 0; m &= m - 1) {
      matched[__builtin_ctz(m)].push_back(address);
    }
    if (busy) continue;
    stats->ports.ForEach(
        [&, address = address](uint32_t key) { pairs.emplace_back(key, address); });
    if (pairs.size() >= few) {
      busy = true;
      std::vector<std::pair<uint32_t, uint32_t>>().swap(pairs);
    }
  }
  d->sources.AddV4Sorted(all);
  for (int c = 0; c < kTrafficClasses; ++c) d->classes[c].AddV4Sorted(classes[c]);
  for (size_t r = 0; r < matched.size(); ++r) d->fingerprints[r].AddV4Sorted(matched[r]);
  std::vector<uint32_t> run;
  auto add_runs = [&](std::span<const std::pair<uint32_t, uint32_t>> grouped) {
    for (size_t begin = 0; begin < grouped.size();) {
      size_t end = begin;
      run.clear();
      while (end < grouped.size() && grouped[end].first == grouped[begin].first) {
        run.push_back(grouped[end++].second);
      }
      port_at(grouped[begin].first).sources.AddV4Sorted(run);
      begin = end;
    }
  };
  if (!busy) {
    // A quiet interval (most minutes of a small darknet): sorting its few
    // pairs costs less than the counting sort's tables over every key,
    // which were most of the time of a week of sparse minutes.
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    add_runs(pairs);
  } else {
    // A busy one: a counting sort on the port key (counted, then placed).
    std::vector<uint32_t> start(kKeys + 1, 0);
    std::vector<std::pair<uint32_t, uint32_t>> odd;  // keys past kKeys
    for (const auto& [address, stats] : order) {
      stats->ports.ForEach([&, address = address](uint32_t key) {
        if (key < kKeys) {
          ++start[key + 1];
        } else {
          odd.emplace_back(key, address);
        }
      });
    }
    for (uint32_t key = 0; key < kKeys; ++key) start[key + 1] += start[key];
    std::vector<uint32_t> by_port(start[kKeys]);
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for (const auto& [address, stats] : order) {
      stats->ports.ForEach([&, address = address](uint32_t key) {
        if (key < kKeys) by_port[next[key]++] = address;
      });
    }
    for (uint32_t key = 0; key < kKeys; ++key) {
      if (start[key + 1] == start[key]) continue;
      port_at(key).sources.AddV4Sorted(
          std::span<const uint32_t>(by_port.data() + start[key], start[key + 1] - start[key]));
    }
    std::stable_sort(odd.begin(), odd.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    add_runs(odd);
  }
  for (const auto& [address, stats] : by_source6_) {
    d->sources.AddV6(address);
    for (uint32_t c = stats.classes; c != 0; c &= c - 1) {
      d->classes[__builtin_ctz(c)].AddV6(address);
    }
    for (uint32_t m = stats.fingerprints() & rule_mask; m != 0; m &= m - 1) {
      d->fingerprints[__builtin_ctz(m)].AddV6(address);
    }
    // (Copied: clang 14 lambdas cannot capture a structured binding.)
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
