#include "correlation/indicator_index.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <mutex>

#include "common/encoding.h"
#include "correlation/indicator_index_internal.h"

namespace kizuna::correlation {

using internal::HashBytes;
using internal::kEmptyRef;
using internal::Mix64;

namespace {

using internal::State;
using internal::Table;
using internal::V4Block;
constexpr uint32_t kShortBit = V4Block::kShortBit;
constexpr uint64_t kDomainSeed = 0xcbf29ce484222325ull;
constexpr uint64_t kV6Seed = 0x6a09e667f3bcc908ull;

uint32_t V4Mask(int len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

// Domain hashes run right to left, so the running value after each label
// is the hash of that parent: one pass over "a.b.evil.com" yields the hashes
// of "com", "evil.com", "b.evil.com" and the whole name.
inline uint64_t DomainStep(uint64_t h, char c) {
  return (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
}
uint64_t DomainHash(std::string_view d) {
  uint64_t h = kDomainSeed;
  for (size_t i = d.size(); i-- > 0;) h = DomainStep(h, d[i]);
  return Mix64(h);
}
uint64_t ValueHash(uint8_t kind, std::string_view bytes) {
  return HashBytes(bytes, 0x9E3779B97F4A7C15ull * (kind + 1));
}
uint64_t V6Hash(uint8_t length, std::string_view bytes) {
  return HashBytes(bytes, kV6Seed + length);
}

void MaskV6(Ipv6Bytes& a, int length) {
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(length - i * 8, 0, 8);
    a[i] &= static_cast<uint8_t>(bits == 0 ? 0 : 0xFF << (8 - bits));
  }
}

std::optional<std::array<uint8_t, 16>> ParseIndicatorId(std::string_view id) {
  constexpr std::string_view kPrefix = "indicator--";
  if (!id.starts_with(kPrefix) || id.size() != kPrefix.size() + 36) return std::nullopt;
  std::string_view u = id.substr(kPrefix.size());
  std::array<uint8_t, 16> out{};
  int n = 0;
  for (size_t i = 0; i < u.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (u[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = HexDigitValue(u[i]), lo = HexDigitValue(u[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[n++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string FormatIndicatorId(const std::array<uint8_t, 16>& u) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "indicator--";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[u[i] >> 4]);
    s.push_back(kHex[u[i] & 15]);
  }
  return s;
}

// FormatIndicatorId into a fixed buffer (IndicatorView's, no allocation).
void FormatIndicatorIdTo(const std::array<uint8_t, 16>& u,
                         std::array<char, IndicatorView::kIdLength>* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr std::string_view kPrefix = "indicator--";
  char* d = std::copy(kPrefix.begin(), kPrefix.end(), out->data());
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *d++ = '-';
    *d++ = kHex[u[i] >> 4];
    *d++ = kHex[u[i] & 15];
  }
}

uint64_t UuidHash(const std::array<uint8_t, 16>& u) {
  uint64_t a, b;
  std::memcpy(&a, u.data(), 8);
  std::memcpy(&b, u.data() + 8, 8);
  return Mix64(a ^ Mix64(b));
}

}  // namespace

// An entry after normalization, ready to insert (built outside the lock).
struct IndicatorIndex::Normalized {
  Table table;
  uint8_t length = 0;
  uint8_t tag = 0;
  uint32_t network = 0;
  std::string bytes;
  uint64_t hash = 0;
};

IndicatorIndex::IndicatorIndex(const Clock& clock, IndexOptions options)
    : clock_(clock), options_(options), interner_(std::make_unique<Interner>()) {}

IndicatorIndex::~IndicatorIndex() = default;

void IndicatorIndex::Reserve(size_t indicators) {
  std::unique_lock lock(mu_);
  records_.reserve(indicators);
  ref_flags_.reserve(indicators);
  entry_log_.reserve(indicators);
  if (id_slots_.size() < internal::CapacityFor(indicators)) {
    std::vector<uint32_t> old;
    old.swap(id_slots_);
    id_slots_.assign(internal::CapacityFor(indicators), kEmptyRef);
    id_count_ = 0;
    for (uint32_t ref : old) {
      if (ref != kEmptyRef) IdInsert(ref);
    }
  }
}

// --- id map ----------------------------------------------------------------

uint32_t IndicatorIndex::IdFind(const std::array<uint8_t, 16>& uuid) const {
  if (id_slots_.empty()) return kEmptyRef;
  size_t mask = id_slots_.size() - 1;
  for (size_t i = UuidHash(uuid) & mask; id_slots_[i] != kEmptyRef; i = (i + 1) & mask) {
    if (records_[id_slots_[i]].uuid == uuid) return id_slots_[i];
  }
  return kEmptyRef;
}

void IndicatorIndex::IdInsert(uint32_t ref) {
  if (id_slots_.empty() || (id_count_ + 1) * 4 > id_slots_.size() * 3) {
    std::vector<uint32_t> old;
    old.swap(id_slots_);
    id_slots_.assign(old.empty() ? 16 : old.size() * 2, kEmptyRef);
    id_count_ = 0;
    for (uint32_t r : old) {
      if (r != kEmptyRef) IdInsert(r);
    }
  }
  size_t mask = id_slots_.size() - 1;
  size_t i = UuidHash(records_[ref].uuid) & mask;
  while (id_slots_[i] != kEmptyRef) i = (i + 1) & mask;
  id_slots_[i] = ref;
  ++id_count_;
}

void IndicatorIndex::IdErase(uint32_t ref) {
  size_t mask = id_slots_.size() - 1;
  size_t hole = UuidHash(records_[ref].uuid) & mask;
  while (id_slots_[hole] != ref) hole = (hole + 1) & mask;
  for (size_t j = hole;;) {
    j = (j + 1) & mask;
    if (id_slots_[j] == kEmptyRef) break;
    size_t home = UuidHash(records_[id_slots_[j]].uuid) & mask;
    bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      id_slots_[hole] = id_slots_[j];
      hole = j;
    }
  }
  id_slots_[hole] = kEmptyRef;
  --id_count_;
}

// --- writes ----------------------------------------------------------------

Result<uint32_t> IndicatorIndex::Add(const IndicatorMeta& meta,
                                     std::span<const IndexEntry> entries) {
  auto uuid = ParseIndicatorId(meta.id);
  if (!uuid) return InvalidArgument("not an indicator id: '" + meta.id + "'");
  size_t max_entries = std::min<size_t>(options_.max_entries_per_indicator, 0xFFFF);
  if (entries.size() > max_entries) {
    return TooLarge(meta.id + ": " + std::to_string(entries.size()) +
                    " entries, the index takes at most " + std::to_string(max_entries));
  }
  // Normalize before taking the lock: parsing and the public-suffix check
  // are the slow part of an Add and need no shared state.
  std::vector<Normalized> normalized;
  size_t downgrades = 0;
  if (!meta.revoked) {
    normalized.reserve(entries.size());
    for (const IndexEntry& e : entries) {
      Normalized n;
      auto fail = [&](const Status& s) {
        return Status(s.code(), meta.id + ": " + std::string(ObservableKindName(e.kind)) +
                                    " entry: " + s.message());
      };
      switch (e.kind) {
        case ObservableKind::kIpv4: {
          auto p = ParseIpv4Prefix(e.value);
          if (!p.ok()) return fail(p.status());
          n.table = Table::kV4;
          n.network = p->network;
          n.length = p->length;
          break;
        }
        case ObservableKind::kIpv6: {
          auto p = ParseIpv6Prefix(e.value);
          if (!p.ok()) return fail(p.status());
          n.table = Table::kV6;
          n.length = n.tag = p->length;
          n.bytes.assign(reinterpret_cast<const char*>(p->network.data()), 16);
          n.hash = V6Hash(n.tag, n.bytes);
          break;
        }
        case ObservableKind::kDomain: {
          auto d = NormalizeDomain(e.value);
          if (!d.ok()) return fail(d.status());
          bool sub = e.match_subdomains;
          if (d->starts_with("*.")) {
            d->erase(0, 2);
            sub = true;
          }
          // Subdomain matching on a public suffix would flag a whole
          // registry's worth of domains: keep only the exact match.
          if (sub && IsPublicSuffix(*d)) {
            sub = false;
            ++downgrades;
          }
          n.table = sub ? Table::kDomainSub : Table::kDomainExact;
          n.bytes = std::move(*d);
          n.hash = DomainHash(n.bytes);
          break;
        }
        default: {
          auto v = NormalizeValue(e.kind, e.value);
          if (!v.ok()) return fail(v.status());
          if (v->size() > internal::StringMultimap::kMaxLength) {
            return TooLarge(meta.id + ": value longer than 65535 bytes");
          }
          n.table = Table::kValue;
          n.tag = static_cast<uint8_t>(e.kind);
          n.bytes = std::move(*v);
          n.hash = ValueHash(n.tag, n.bytes);
        }
      }
      normalized.push_back(std::move(n));
    }
  }

  std::unique_lock lock(mu_);
  uint32_t ref = IdFind(*uuid);
  if (ref != kEmptyRef) {
    Record& old = records_[ref];
    if (old.state == State::kRevoked) {
      return AlreadyExists(meta.id + " was revoked");
    }
    if (meta.modified_us <= old.modified_us) {
      return AlreadyExists(meta.id + ": this version or a newer one is indexed");
    }
    UnindexEntries(ref);
    --live_records_;
  } else {
    if (!free_records_.empty()) {
      ref = free_records_.back();
      free_records_.pop_back();
    } else {
      if (records_.size() >= kEmptyRef - 1) return TooLarge("index full");
      ref = static_cast<uint32_t>(records_.size());
      records_.emplace_back();
      ref_flags_.push_back(0);
    }
    records_[ref].uuid = *uuid;
    records_[ref].entries_begin = 0;
    records_[ref].entries_count = 0;
    IdInsert(ref);
  }
  Record& r = records_[ref];
  r.modified_us = meta.modified_us;
  r.valid_until_us = meta.valid_until_us;
  r.name = interner_->Intern(meta.name);
  std::string labels;
  for (size_t i = 0; i < meta.labels.size(); ++i) {
    if (i > 0) labels.push_back('\x1f');
    labels += meta.labels[i];
  }
  r.labels = interner_->Intern(labels);
  r.producer = interner_->Intern(meta.producer);
  r.tlp = static_cast<uint8_t>(meta.tlp);
  r.confidence = static_cast<int8_t>(std::clamp(meta.confidence, -1, 100));
  ref_flags_[ref] = meta.revoked ? 0 : (1 | (meta.valid_until_us != kNoExpiry ? 2 : 0));
  if (meta.revoked) {
    r.state = State::kRevoked;
    ++tombstones_;
  } else {
    r.state = State::kLive;
    ++live_records_;
    suffix_downgrades_ += downgrades;
    IndexEntries(ref, normalized);
  }
  MaybeCompact();
  return ref;
}

void IndicatorIndex::IndexEntries(uint32_t ref, const std::vector<Normalized>& entries) {
  Record& r = records_[ref];
  r.entries_begin = static_cast<uint32_t>(entry_log_.size());
  r.entries_count = static_cast<uint16_t>(entries.size());
  for (const Normalized& n : entries) {
    EntryRef e{n.table, n.length, 0};
    switch (n.table) {
      case Table::kV4:
        v4_[n.length].Insert(n.network, ref);
        e.key = n.network;
        MarkV4(n.network, n.length);
        break;
      case Table::kV6:
        e.key = v6_.Insert(n.hash, n.tag, n.bytes, ref);
        if (v6_length_count_[n.length]++ == 0) {
          v6_lengths_.push_back(n.length);
          std::sort(v6_lengths_.rbegin(), v6_lengths_.rend());
        }
        break;
      case Table::kDomainExact:
        e.key = domain_exact_.Insert(n.hash, 0, n.bytes, ref);
        break;
      case Table::kDomainSub:
        e.key = domain_sub_.Insert(n.hash, 0, n.bytes, ref);
        break;
      case Table::kValue:
        e.key = values_.Insert(n.hash, n.tag, n.bytes, ref);
        break;
    }
    entry_log_.push_back(e);
    ++entries_;
  }
}

void IndicatorIndex::MarkV4(uint32_t network, int length) {
  if (length >= 16) {
    v4_blocks_[network >> 16].Mark(network, length);
    return;
  }
  v4_short_lengths_ |= 1u << length;
  uint32_t first = network >> 16;
  uint32_t count = 1u << (16 - length);
  for (uint32_t b = first; b < first + count; ++b) v4_blocks_[b].lengths |= kShortBit;
}

void IndicatorIndex::UnindexEntries(uint32_t ref) {
  Record& r = records_[ref];
  for (uint32_t i = r.entries_begin; i < r.entries_begin + r.entries_count; ++i) {
    const EntryRef& e = entry_log_[i];
    switch (e.table) {
      case Table::kV4:
        v4_[e.length].Erase(e.key, ref);
        ++v4_removed_since_rebuild_;
        break;
      case Table::kV6: {
        uint8_t len = v6_.TagAt(e.key);
        v6_.Erase(V6Hash(len, v6_.BytesAt(e.key)), e.key, ref);
        if (--v6_length_count_[len] == 0) std::erase(v6_lengths_, len);
        break;
      }
      case Table::kDomainExact:
        domain_exact_.Erase(DomainHash(domain_exact_.BytesAt(e.key)), e.key, ref);
        break;
      case Table::kDomainSub:
        domain_sub_.Erase(DomainHash(domain_sub_.BytesAt(e.key)), e.key, ref);
        break;
      case Table::kValue:
        values_.Erase(ValueHash(values_.TagAt(e.key), values_.BytesAt(e.key)), e.key, ref);
        break;
    }
    --entries_;
  }
  entry_log_garbage_ += r.entries_count;
  r.entries_count = 0;
}

void IndicatorIndex::FreeRecord(uint32_t ref) {
  records_[ref].state = State::kFree;
  ref_flags_[ref] = 0;
  records_[ref].entries_count = 0;
  free_records_.push_back(ref);
}

Status IndicatorIndex::Remove(std::string_view id) {
  auto uuid = ParseIndicatorId(id);
  if (!uuid) return InvalidArgument("not an indicator id: '" + std::string(id) + "'");
  std::unique_lock lock(mu_);
  uint32_t ref = IdFind(*uuid);
  if (ref == kEmptyRef) return NotFound(std::string(id));
  if (records_[ref].state == State::kRevoked) {
    --tombstones_;
  } else {
    UnindexEntries(ref);
    --live_records_;
  }
  IdErase(ref);
  FreeRecord(ref);
  MaybeCompact();
  return Status::Ok();
}

size_t IndicatorIndex::PurgeExpired() {
  int64_t now = clock_.NowMicros();
  std::unique_lock lock(mu_);
  size_t purged = 0;
  for (uint32_t ref = 0; ref < records_.size(); ++ref) {
    Record& r = records_[ref];
    if (r.state != State::kLive || r.valid_until_us > now) continue;
    UnindexEntries(ref);
    --live_records_;
    IdErase(ref);
    FreeRecord(ref);
    ++purged;
  }
  MaybeCompact();
  return purged;
}

// Removal leaves garbage (entry log slices, arena bytes, stale bits in the
// /16 table); each kind is reclaimed once it is half of its structure, so the
// cost is amortized over the removals that made it.
void IndicatorIndex::MaybeCompact() {
  if (entry_log_garbage_ > 4096 && entry_log_garbage_ * 2 > entry_log_.size()) {
    std::vector<EntryRef> fresh;
    fresh.reserve(entry_log_.size() - entry_log_garbage_);
    for (Record& r : records_) {
      if (r.state != State::kLive) continue;
      uint32_t begin = static_cast<uint32_t>(fresh.size());
      fresh.insert(fresh.end(), entry_log_.begin() + r.entries_begin,
                   entry_log_.begin() + r.entries_begin + r.entries_count);
      r.entries_begin = begin;
    }
    entry_log_.swap(fresh);
    entry_log_garbage_ = 0;
  }
  auto compact = [&](internal::StringMultimap& t, Table which) {
    if (t.ArenaGarbage() < 65536 || t.ArenaGarbage() * 2 < t.ArenaSize()) return;
    auto moved = t.CompactArena();
    for (const Record& r : records_) {
      if (r.state != State::kLive) continue;
      for (uint32_t i = r.entries_begin; i < r.entries_begin + r.entries_count; ++i) {
        if (entry_log_[i].table == which) entry_log_[i].key = moved.at(entry_log_[i].key);
      }
    }
  };
  compact(v6_, Table::kV6);
  compact(domain_exact_, Table::kDomainExact);
  compact(domain_sub_, Table::kDomainSub);
  compact(values_, Table::kValue);
  size_t v4_entries = 0;
  for (const auto& t : v4_) v4_entries += t.size();
  if (v4_removed_since_rebuild_ > 1024 && v4_removed_since_rebuild_ > v4_entries) {
    std::fill(v4_blocks_.begin(), v4_blocks_.end(), V4Block{});
    v4_short_lengths_ = 0;
    for (int len = 0; len <= 32; ++len) {
      v4_[len].ForEachSlot([&](uint32_t network, uint32_t) { MarkV4(network, len); });
    }
    v4_removed_since_rebuild_ = 0;
  }
}

// --- reads -----------------------------------------------------------------

std::optional<IndicatorMeta> IndicatorIndex::Get(uint32_t ref) const {
  std::shared_lock lock(mu_);
  if (ref >= records_.size() || records_[ref].state == State::kFree) return std::nullopt;
  const Record& r = records_[ref];
  IndicatorMeta m;
  m.id = FormatIndicatorId(r.uuid);
  m.modified_us = r.modified_us;
  m.name = interner_->Lookup(r.name);
  const std::string& labels = interner_->Lookup(r.labels);
  for (size_t start = 0; !labels.empty();) {
    size_t sep = labels.find('\x1f', start);
    m.labels.push_back(labels.substr(start, sep - start));
    if (sep == std::string::npos) break;
    start = sep + 1;
  }
  m.tlp = static_cast<stix::Tlp>(r.tlp);
  m.producer = interner_->Lookup(r.producer);
  m.confidence = r.confidence;
  m.valid_until_us = r.valid_until_us;
  m.revoked = r.state == State::kRevoked;
  return m;
}

bool IndicatorIndex::Reader::View(uint32_t ref, IndicatorView* out) const {
  const auto& records = index_.records_;
  if (ref >= records.size() || records[ref].state == State::kFree) return false;
  const Record& r = records[ref];
  out->uuid = r.uuid;
  FormatIndicatorIdTo(r.uuid, &out->id_text);
  out->modified_us = r.modified_us;
  out->name = index_.interner_->Lookup(r.name);
  out->joined_labels = index_.interner_->Lookup(r.labels);
  out->tlp = static_cast<stix::Tlp>(r.tlp);
  out->producer = index_.interner_->Lookup(r.producer);
  out->confidence = r.confidence;
  out->valid_until_us = r.valid_until_us;
  out->revoked = r.state == State::kRevoked;
  return true;
}

void IndicatorIndex::Reader::PrefetchView(uint32_t ref) const {
  const auto& records = index_.records_;
  if (ref >= records.size()) return;
  // A record may straddle two cache lines.
  const char* at = reinterpret_cast<const char*>(&records[ref]);
  __builtin_prefetch(at);
  __builtin_prefetch(at + sizeof(Record) - 1);
}

bool IndicatorIndex::Reader::UuidOf(uint32_t ref, std::array<uint8_t, 16>* uuid) const {
  const auto& records = index_.records_;
  if (ref >= records.size() || records[ref].state == State::kFree) return false;
  *uuid = records[ref].uuid;
  return true;
}

std::optional<uint32_t> IndicatorIndex::FindRef(std::string_view id) const {
  auto uuid = ParseIndicatorId(id);
  if (!uuid) return std::nullopt;
  std::shared_lock lock(mu_);
  uint32_t ref = IdFind(*uuid);
  if (ref == kEmptyRef) return std::nullopt;
  return ref;
}

uint64_t IndicatorIndex::LayoutFingerprint() {
  // Tiny tables filled the way the index fills them: their bytes change
  // with any change to a hash, a probe sequence or a slot layout.
  internal::SnapshotWriter probe;
  internal::U32Multimap v4;
  internal::StringMultimap strings;
  for (uint32_t i = 0; i < 40; ++i) {
    v4.Insert(i * 0x01010101u, i);
    std::string name = std::to_string(i);  // (not "n" + …: a GCC 12 -Wrestrict false alarm)
    name.append(".example");
    strings.Insert(DomainHash(name), 0, name, i);
    strings.Insert(ValueHash(static_cast<uint8_t>(i), name), static_cast<uint8_t>(i), name, i);
    strings.Insert(V6Hash(static_cast<uint8_t>(i), name), static_cast<uint8_t>(i), name, i);
  }
  v4.Save(probe);
  strings.Save(probe);
  std::array<uint8_t, 16> uuid{};
  uuid[3] = 7;
  probe.U64(UuidHash(uuid));
  probe.U64(sizeof(Record) * 1000000 + sizeof(EntryRef) * 1000 + sizeof(V4Block));
  return internal::Checksum64(probe.bytes());
}

IndexStats IndicatorIndex::Stats() const {
  std::shared_lock lock(mu_);
  IndexStats s;
  s.indicators = live_records_;
  s.tombstones = tombstones_;
  s.entries = entries_;
  s.suffix_downgrades = suffix_downgrades_;
  size_t bytes = sizeof(*this) + records_.capacity() * sizeof(Record) +
                 free_records_.capacity() * sizeof(uint32_t) +
                 id_slots_.capacity() * sizeof(uint32_t) +
                 entry_log_.capacity() * sizeof(EntryRef) + v4_blocks_.size() * sizeof(V4Block) +
                 v6_.MemoryBytes() + v6_lengths_.capacity() + domain_exact_.MemoryBytes() +
                 domain_sub_.MemoryBytes() + values_.MemoryBytes() + interner_->MemoryBytes();
  for (const auto& t : v4_) bytes += t.MemoryBytes();
  s.memory_bytes = bytes;
  return s;
}

IndicatorIndex::Reader::Reader(const IndicatorIndex& index) : index_(index), lock_(index.mu_) {}

bool IndicatorIndex::Reader::Emit(uint32_t ref, MatchResult* out) const {
  uint8_t flags = index_.ref_flags_[ref];
  if ((flags & 1) == 0) return true;
  if (flags & 2) {
    if (now_ == std::numeric_limits<int64_t>::min()) now_ = index_.clock_.NowMicros();
    if (index_.records_[ref].valid_until_us <= now_) return true;
  }
  const size_t held = out->refs.size();
  if (held >= MatchResult::kLinearDedup) return EmitMany(ref, out);
  for (uint32_t seen : out->refs) {
    if (seen == ref) return true;
  }
  // The limit is looked at only for a ref that matched (CapOf: the lookup's
  // or the index's), so a lookup that finds nothing pays nothing for it.
  if (held >= CapOf(*out)) {
    out->truncated = true;
    return false;
  }
  out->refs.push_back(ref);
  return true;
}

bool IndicatorIndex::Reader::EmitMany(uint32_t ref, MatchResult* out) const {
  // Many refs (a lookup with a high limit): a linear scan per ref would make
  // the lookup quadratic in the indicators on one value.
  auto mark = [out](uint32_t r) {
    out->seen_bits_[r >> 6] |= uint64_t{1} << (r & 63);
    out->seen_marked_.push_back(r);
  };
  if (!out->seen_valid_) {
    // Every bit still set is an earlier lookup's: whole words may go.
    for (uint32_t r : out->seen_marked_) out->seen_bits_[r >> 6] = 0;
    out->seen_marked_.clear();
    const size_t words = (index_.records_.size() + 63) / 64;
    if (out->seen_bits_.size() < words) out->seen_bits_.resize(words, 0);
    for (uint32_t r : out->refs) mark(r);
    out->seen_valid_ = true;
  }
  if (out->seen_bits_[ref >> 6] & (uint64_t{1} << (ref & 63))) return true;
  if (out->refs.size() >= CapOf(*out)) {
    out->truncated = true;
    return false;
  }
  out->refs.push_back(ref);
  mark(ref);
  return true;
}

bool IndicatorIndex::Reader::MatchIpv4(uint32_t address, MatchResult* out) const {
  return MatchIpv4Network(address, 32, out);
}

bool IndicatorIndex::Reader::MatchIpv4Network(uint32_t address, int length,
                                              MatchResult* out) const {
  out->Clear();
  length = std::clamp(length, 0, 32);
  const V4Block& block = index_.v4_blocks_[address >> 16];
  auto emit = [&](uint32_t ref) { return Emit(ref, out); };
  bool exact = length == 32 && (block.lengths & (1u << 16)) != 0 && block.MaybeExact(address);
  uint32_t lengths = block.MaybeCovering(address);
  if (length < 32) lengths &= length >= 16 ? (1u << (length - 15)) - 1 : 0;
  // Start every probe's cache miss now so that they overlap.
  for (uint32_t l = lengths; l != 0; l &= l - 1) {
    int len = 16 + std::countr_zero(l);
    __builtin_prefetch(index_.v4_[len].ProbeAddress(address & V4Mask(len)));
  }
  // Most specific first: /32, then 31..16 present in this /16 (and whose
  // /22 a network intersects), then the shorter ones.
  if (exact) {
    index_.v4_[32].ForEach(address, emit);
    if (out->truncated) return true;
  }
  while (lengths != 0) {
    int bit = 31 - std::countl_zero(lengths);
    lengths &= ~(1u << bit);
    int len = 16 + bit;
    index_.v4_[len].ForEach(address & V4Mask(len), emit);
    if (out->truncated) return true;
  }
  if (block.lengths & kShortBit) {
    uint32_t shorts = index_.v4_short_lengths_;
    if (length < 16) shorts &= (1u << (length + 1)) - 1;
    while (shorts != 0) {
      int len = 31 - std::countl_zero(shorts);
      shorts &= ~(1u << len);
      index_.v4_[len].ForEach(address & V4Mask(len), emit);
      if (out->truncated) return true;
    }
  }
  return !out->refs.empty();
}

void IndicatorIndex::Reader::PrefetchIpv4(uint32_t address) const {
  const V4Block& block = index_.v4_blocks_[address >> 16];
  if ((block.lengths & (1u << 16)) != 0 && block.MaybeExact(address)) {
    __builtin_prefetch(index_.v4_[32].ProbeAddress(address));
  }
  uint32_t lengths = block.MaybeCovering(address);
  while (lengths != 0) {
    int bit = std::countr_zero(lengths);
    lengths &= lengths - 1;
    int len = 16 + bit;
    __builtin_prefetch(index_.v4_[len].ProbeAddress(address & V4Mask(len)));
  }
}

void IndicatorIndex::Reader::MatchIpv4Batch(std::span<const uint32_t> addresses,
                                            std::vector<uint32_t>* matched) const {
  ForEachIpv4Match(addresses,
                   [&](uint32_t position, const MatchResult&) { matched->push_back(position); });
}

bool IndicatorIndex::Reader::MatchIpv6(const Ipv6Bytes& address, MatchResult* out) const {
  return MatchIpv6Network(address, 128, out);
}

bool IndicatorIndex::Reader::MatchIpv6Network(const Ipv6Bytes& address, int length,
                                              MatchResult* out) const {
  out->Clear();
  auto emit = [&](uint32_t ref) { return Emit(ref, out); };
  for (uint8_t len : index_.v6_lengths_) {
    if (len > length) continue;
    Ipv6Bytes masked = address;
    MaskV6(masked, len);
    std::string_view bytes(reinterpret_cast<const char*>(masked.data()), 16);
    index_.v6_.ForEach(V6Hash(len, bytes), len, bytes, emit);
    if (out->truncated) return true;
  }
  return !out->refs.empty();
}

bool IndicatorIndex::Reader::MatchDomain(std::string_view domain, MatchResult* out) const {
  out->Clear();
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 253) return false;
  char buf[256];
  size_t n = domain.size();
  for (size_t i = 0; i < n; ++i) {
    char c = domain[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      // An internationalized name as written ("bücher.example"): entries
      // are held in the ASCII form, so look that up (the slow path).
      auto ascii = NormalizeDomain(domain);
      return ascii.ok() && !ascii->starts_with("*.") && MatchDomain(*ascii, out);
    }
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  // One right-to-left pass: the hash of each suffix that starts a label.
  uint64_t hashes[128];
  uint8_t starts[128];
  int labels = 0;
  uint64_t h = kDomainSeed;
  for (size_t i = n; i-- > 0;) {
    h = DomainStep(h, buf[i]);
    if (i == 0 || buf[i - 1] == '.') {
      if (labels == 128) return false;
      hashes[labels] = h;
      starts[labels] = static_cast<uint8_t>(i);
      ++labels;
    }
  }
  auto emit = [&](uint32_t ref) { return Emit(ref, out); };
  std::string_view full(buf, n);
  uint64_t full_hash = Mix64(hashes[labels - 1]);
  // Start every probe's cache miss now so that they overlap.
  __builtin_prefetch(index_.domain_exact_.ProbeAddress(full_hash));
  __builtin_prefetch(index_.domain_sub_.ProbeAddress(full_hash));
  for (int k = labels - 2; k >= 1; --k) {
    hashes[k] = Mix64(hashes[k]);
    __builtin_prefetch(index_.domain_sub_.ProbeAddress(hashes[k]));
  }
  index_.domain_exact_.ForEach(full_hash, 0, full, emit);
  if (out->truncated) return true;
  index_.domain_sub_.ForEach(full_hash, 0, full, emit);
  // Parents, nearest first, never the last label alone (a TLD is always a
  // public suffix, and subdomain entries on public suffixes were refused).
  for (int k = labels - 2; k >= 1 && !out->truncated; --k) {
    std::string_view parent(buf + starts[k], n - starts[k]);
    index_.domain_sub_.ForEach(hashes[k], 0, parent, emit);
  }
  return !out->refs.empty();
}

bool IndicatorIndex::Reader::MatchValue(ObservableKind kind, std::string_view normal,
                                        MatchResult* out) const {
  out->Clear();
  uint8_t tag = static_cast<uint8_t>(kind);
  index_.values_.ForEach(ValueHash(tag, normal), tag, normal,
                         [&](uint32_t ref) { return Emit(ref, out); });
  return !out->refs.empty();
}

bool IndicatorIndex::Reader::MatchHash(ObservableKind algorithm, std::string_view hex,
                                       MatchResult* out) const {
  out->Clear();
  int len = DigestLength(algorithm);
  if (len == 0 || hex.size() != static_cast<size_t>(len) * 2) return false;
  char digest[64];
  for (int i = 0; i < len; ++i) {
    int v = 0;
    for (int j = 0; j < 2; ++j) {
      char c = hex[2 * i + j];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    digest[i] = static_cast<char>(v);
  }
  return MatchValue(algorithm, std::string_view(digest, static_cast<size_t>(len)), out);
}

bool IndicatorIndex::Reader::MatchUrl(std::string_view url, MatchResult* out) const {
  auto normal = NormalizeUrl(url);
  if (!normal.ok()) {
    out->Clear();
    return false;
  }
  return MatchValue(ObservableKind::kUrl, *normal, out);
}

bool IndicatorIndex::Reader::MatchEmail(std::string_view email, MatchResult* out) const {
  auto normal = NormalizeEmail(email);
  if (!normal.ok()) {
    out->Clear();
    return false;
  }
  return MatchValue(ObservableKind::kEmail, *normal, out);
}

bool IndicatorIndex::Reader::Match(ObservableKind kind, std::string_view value,
                                   MatchResult* out) const {
  switch (kind) {
    case ObservableKind::kIpv4: {
      auto p = ParseIpv4Prefix(value);
      if (!p.ok()) break;
      return MatchIpv4Network(p->network, p->length, out);
    }
    case ObservableKind::kIpv6: {
      auto p = ParseIpv6Prefix(value);
      if (!p.ok()) break;
      return MatchIpv6Network(p->network, p->length, out);
    }
    case ObservableKind::kDomain:
      return MatchDomain(value, out);
    case ObservableKind::kMd5:
    case ObservableKind::kSha1:
    case ObservableKind::kSha256:
    case ObservableKind::kSha512:
    case ObservableKind::kSha3_256:
      return MatchHash(kind, value, out);
    default: {
      auto normal = NormalizeValue(kind, value);
      if (!normal.ok()) break;
      return MatchValue(kind, *normal, out);
    }
  }
  out->Clear();
  return false;
}

MatchResult IndicatorIndex::MatchIpv4(uint32_t address) const {
  MatchResult r;
  Read().MatchIpv4(address, &r);
  return r;
}
MatchResult IndicatorIndex::MatchIpv6(const Ipv6Bytes& address) const {
  MatchResult r;
  Read().MatchIpv6(address, &r);
  return r;
}
MatchResult IndicatorIndex::MatchDomain(std::string_view domain) const {
  MatchResult r;
  Read().MatchDomain(domain, &r);
  return r;
}
MatchResult IndicatorIndex::MatchUrl(std::string_view url) const {
  MatchResult r;
  Read().MatchUrl(url, &r);
  return r;
}
MatchResult IndicatorIndex::MatchHash(ObservableKind algorithm, std::string_view hex) const {
  MatchResult r;
  Read().MatchHash(algorithm, hex, &r);
  return r;
}
MatchResult IndicatorIndex::MatchEmail(std::string_view email) const {
  MatchResult r;
  Read().MatchEmail(email, &r);
  return r;
}
MatchResult IndicatorIndex::Match(ObservableKind kind, std::string_view value) const {
  MatchResult r;
  Read().Match(kind, value, &r);
  return r;
}

}  // namespace kizuna::correlation
