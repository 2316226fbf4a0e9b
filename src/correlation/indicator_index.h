// IndicatorIndex: the in-memory index of indicators whose patterns reduce to
// simple observable comparisons ("[ipv4-addr:value = '1.2.3.4']",
// "[domain-name:value = 'evil.com']", "[file:hashes.'SHA-256' = '…']").
// Extracting those comparisons from a pattern is the pattern component's job;
// this index takes the extracted values (IndexEntry) and answers "which live
// indicators does this observable match?" fast enough to run on every line of
// a log or every flow of a sensor.
//
// What is indexed, and how a lookup matches:
//   IPv4/IPv6   exact addresses and CIDR networks; a lookup returns every
//               indicator whose network covers the address (all covering
//               prefixes, most specific first). /0 is allowed.
//   domains     exact; entries with match_subdomains (or written "*.x") also
//               match every subdomain. Parents are only walked while they are
//               not public suffixes (libpsl, ICANN and private sections): a
//               subdomain entry on a public suffix ("co.uk", "github.io") is
//               downgraded to exact at Add, so it can never match a.co.uk.
//               Any TLD is indexed; one the list does not know is a public
//               suffix by its "*" rule ("*.corp" is downgraded,
//               "*.intranet.corp" is not). Entries and lookups are in
//               NormalizeDomain form, so an internationalized name matches
//               in its Unicode and its punycode spelling.
//   URLs        by NormalizeUrl form; e-mail by NormalizeEmail form.
//   hashes      MD5, SHA-1, SHA-256, SHA-512, SHA3-256 as raw bytes (any hex case).
//   others      mac-addr, file name, mutex, registry key, user agent, ASN, ...
//               by NormalizeValue form.
//
// How it is laid out (why it is fast and small): per IPv4 prefix length an
// open-addressing table of (masked network, ref) pairs, 8 bytes a slot, plus
// a 2 MiB table over the top 16 bits with 32 bytes per /16: which prefix
// lengths occur in it, which of its /22s a network of length 16..31
// intersects, and a Bloom filter of its /32 entries. A lookup reads that one
// half cache line and probes only the tables that may hold a cover, so the
// common miss costs one cache hit instead of a DRAM probe per length (the
// bits go stale on removal, a false "maybe" only, and are rebuilt after many
// removals). IPv6 works the same way
// with one table and a list of the lengths present. Domains live in two
// tables (exact-only and subdomain entries) keyed by a hash computed right to
// left, so one pass over a name gives the hash of every parent. Everything
// else lives in one table keyed by (kind, normal form). Variable-length keys
// are stored once in an arena. Per indicator the index keeps a 56-byte record
// (binary UUID, version, valid_until, interned name/labels/producer, TLP,
// confidence, state) and 8 bytes per entry to undo it. Values are indexed,
// never pairs of indicators (DESIGN.md: "Correlation must not explode").
//
// Versions, revocation, expiry: Add with a newer `modified` replaces the
// indicator's entries at once (same ref); an older or equal version is
// refused with kAlreadyExists; a revoked version removes the entries and
// keeps a tombstone so that a late older version cannot bring it back.
// valid_until is checked at lookup time against the Clock, so an indicator
// stops matching the moment it expires; PurgeExpired() reclaims the memory.
//
// Thread-safety: any number of concurrent readers, one writer at a time,
// through a shared mutex that gives a waiting writer priority over new
// readers (so revocations are never starved). A Reader holds the shared lock for its
// lifetime, so a scan takes it once per batch rather than per lookup; keep
// Readers short-lived (a few thousand lookups), writers wait for them. The
// single-call Match* methods on the index take the lock per call. Results are
// refs (dense uint32 handles, stable for an indicator id until it is
// removed); Get(ref) returns the metadata.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/memory.h"
#include "common/status.h"
#include "common/time.h"
#include "correlation/flat_tables.h"
#include "correlation/observable.h"
#include "correlation/snapshot_io.h"
#include "stix/stix.h"

namespace kizuna::correlation {

namespace internal {
// A shared mutex that lets a waiting writer in before new readers. glibc's
// rwlock (behind std::shared_mutex) prefers readers, so a steady stream of
// overlapping Readers would starve Add/Remove forever — and revocations must
// apply at once. Readers arriving while a writer waits block until it is done.
class WriterPriorityMutex {
 public:
  void lock() {
    waiting_writers_.fetch_add(1, std::memory_order_acq_rel);
    mu_.lock();
  }
  void unlock() {
    mu_.unlock();
    waiting_writers_.fetch_sub(1, std::memory_order_acq_rel);
    waiting_writers_.notify_all();
  }
  void lock_shared() {
    for (int w; (w = waiting_writers_.load(std::memory_order_acquire)) != 0;) {
      waiting_writers_.wait(w, std::memory_order_acquire);
    }
    mu_.lock_shared();
  }
  void unlock_shared() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
  std::atomic<int> waiting_writers_{0};
};
}  // namespace internal

inline constexpr int64_t kNoExpiry = std::numeric_limits<int64_t>::max();

// One simple comparison extracted from an indicator's pattern.
struct IndexEntry {
  ObservableKind kind = ObservableKind::kIpv4;
  // As in the pattern; the index normalizes it (NormalizeValue). For
  // addresses a "/len" suffix makes it a CIDR network.
  std::string value;
  // Domains only: also match every subdomain (down to, never past, the
  // registrable domain). A value written "*.evil.com" sets it too.
  bool match_subdomains = false;
};

// What the index keeps of an indicator (and Get returns).
struct IndicatorMeta {
  std::string id;           // "indicator--<uuid>"
  int64_t modified_us = 0;  // the version
  std::string name;
  std::vector<std::string> labels;
  stix::Tlp tlp = stix::Tlp::kNone;
  std::string producer;  // created_by_ref
  int confidence = -1;   // 0..100; -1 when absent
  int64_t valid_until_us = kNoExpiry;
  bool revoked = false;
};

// What Get returns, as views into the index (no copies): for writing a match
// out while a Reader is held (Reader::View). The strings stay valid as long
// as that Reader.
struct IndicatorView {
  static constexpr size_t kIdLength = 47;  // "indicator--" and a UUID
  std::array<uint8_t, 16> uuid{};
  std::array<char, kIdLength> id_text{};  // Get's id: the UUID in lower case
  int64_t modified_us = 0;
  std::string_view name;
  // The labels as the index keeps them: joined by '\x1f' (ForEachLabel
  // splits them as Get does).
  std::string_view joined_labels;
  stix::Tlp tlp = stix::Tlp::kNone;
  std::string_view producer;
  int confidence = -1;
  int64_t valid_until_us = kNoExpiry;
  bool revoked = false;

  std::string_view id() const { return {id_text.data(), id_text.size()}; }
  // Calls f(std::string_view) for each label, in order.
  template <typename F>
  void ForEachLabel(F&& f) const {
    if (joined_labels.empty()) return;
    for (size_t start = 0;;) {
      const size_t sep = joined_labels.find('\x1f', start);
      f(joined_labels.substr(start, sep == std::string_view::npos ? sep : sep - start));
      if (sep == std::string_view::npos) return;
      start = sep + 1;
    }
  }
};

struct IndexOptions {
  // At most this many refs per lookup (unless the lookup's MatchResult::limit
  // says otherwise); MatchResult::truncated says more matched.
  size_t max_results = 100;
  // At most this many entries per indicator (Add fails with kTooLarge beyond).
  size_t max_entries_per_indicator = 10000;
};

// A lookup's answer. Reuse one across lookups: Match* clears it (all but
// `limit`) and keeps its capacity, so steady-state lookups do not allocate
// (past 32 refs a lookup marks them in a bitmap of the index's refs, sized
// on first use and when the index has grown).
class MatchResult {
 public:
  // A `limit` that collects every matching indicator.
  static constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

  // The most refs a lookup collects: 0 (the default) is the index's
  // IndexOptions::max_results, kNoLimit all of them (a caller that filters
  // the refs afterwards and must not miss any). Set it before the lookup;
  // Clear() keeps it.
  size_t limit = 0;
  std::vector<uint32_t> refs;  // distinct refs; IPs: most specific prefix first
  bool truncated = false;      // more indicators matched than the limit

  void Clear() {
    refs.clear();
    truncated = false;
    seen_valid_ = false;  // a store: every lookup starts here, most find nothing
  }

 private:
  friend class IndicatorIndex;
  // Past this many refs a lookup stops comparing each new ref with every
  // one it holds and marks them in `seen_bits_` instead (linear beats
  // anything for the few refs of a usual hit; a lookup without a limit may
  // collect many thousands).
  static constexpr size_t kLinearDedup = 32;
  // One bit per ref of the index. Valid for this lookup only when
  // seen_valid_; the bits set are those in `seen_marked_` (cleared by the
  // next lookup that needs the bitmap, so a lookup costs its own refs, not
  // the index's size).
  std::vector<uint64_t> seen_bits_;
  std::vector<uint32_t> seen_marked_;
  bool seen_valid_ = false;
};

struct IndexStats {
  size_t indicators = 0;         // live (not removed, not revoked; expired ones count until purged)
  size_t tombstones = 0;         // revoked ids remembered
  size_t entries = 0;            // indexed values
  size_t memory_bytes = 0;       // capacity of every container the index owns
  size_t suffix_downgrades = 0;  // subdomain entries on a public suffix, indexed as exact
};

class IndicatorIndex {
 public:
  // `clock` must outlive the index.
  explicit IndicatorIndex(const Clock& clock = SystemClock::Instance(), IndexOptions options = {});
  ~IndicatorIndex();
  IndicatorIndex(const IndicatorIndex&) = delete;
  IndicatorIndex& operator=(const IndicatorIndex&) = delete;

  // Sizes the tables for about `indicators` indicators (bulk loads).
  void Reserve(size_t indicators);

  // Adds or replaces an indicator. Every entry is normalized first; one bad
  // entry fails the whole call (kInvalidArgument, naming the value) and
  // leaves the index unchanged. kAlreadyExists when this version or a newer
  // one is already indexed (or the id was revoked). Returns the ref.
  Result<uint32_t> Add(const IndicatorMeta& meta, std::span<const IndexEntry> entries);
  // Removes an indicator and its entries (kNotFound when absent). Unlike a
  // revoked version, no tombstone is kept: a later Add may bring it back.
  Status Remove(std::string_view id);
  // Drops indicators whose valid_until has passed (they already stopped
  // matching); returns how many.
  size_t PurgeExpired();

  std::optional<IndicatorMeta> Get(uint32_t ref) const;
  std::optional<uint32_t> FindRef(std::string_view id) const;
  IndexStats Stats() const;

  // Snapshots (Correlator::SaveSnapshot): the whole index as bytes, and
  // back. LoadFrom replaces the index's content only when the bytes hold a
  // complete, consistent index (every ref, offset and count inside its
  // table); otherwise it returns kInvalidArgument and leaves the index as it was.
  void SaveTo(internal::SnapshotWriter& out) const;
  Status LoadFrom(internal::SnapshotReader& in);
  // Empties the index (as constructed).
  void Clear();
  // Changes whenever this build would lay out or hash the saved tables
  // differently: part of what a snapshot must match to be loaded.
  static uint64_t LayoutFingerprint();

  // Lookups under one shared lock. Each returns true when anything matched
  // and fills `out` (cleared first). Expired and revoked indicators never
  // appear.
  class Reader {
   public:
    bool MatchIpv4(uint32_t address, MatchResult* out) const;
    // Indicators whose network covers all of address/length (length <= 32).
    bool MatchIpv4Network(uint32_t address, int length, MatchResult* out) const;
    // For scans: appends to `matched` the positions in `addresses` that match
    // at least one live indicator (call MatchIpv4 on those for the refs).
    // Prefetches the table slots a few addresses ahead, so the cache misses
    // of consecutive lookups overlap instead of queueing.
    void MatchIpv4Batch(std::span<const uint32_t> addresses, std::vector<uint32_t>* matched) const;
    // MatchIpv4Batch that keeps the answers: calls f(position, const
    // MatchResult&) for each address that matches, in order (so that a
    // caller wanting the refs does not look those addresses up again).
    template <typename F>
    void ForEachIpv4Match(std::span<const uint32_t> addresses, F&& f) const;
    bool MatchIpv6(const Ipv6Bytes& address, MatchResult* out) const;
    bool MatchIpv6Network(const Ipv6Bytes& address, int length, MatchResult* out) const;
    bool MatchDomain(std::string_view domain, MatchResult* out) const;
    bool MatchUrl(std::string_view url, MatchResult* out) const;
    bool MatchHash(ObservableKind algorithm, std::string_view hex, MatchResult* out) const;
    bool MatchEmail(std::string_view email, MatchResult* out) const;
    // Any kind; addresses may carry "/len" (then: networks covering it all).
    bool Match(ObservableKind kind, std::string_view value, MatchResult* out) const;

    // Get(ref) without copying: false when `ref` holds no indicator.
    bool View(uint32_t ref, IndicatorView* out) const;
    // For batches: starts the cache miss View(ref) takes on the indicator's
    // record, so that those of many refs overlap.
    void PrefetchView(uint32_t ref) const;
    // View(ref)'s uuid alone (no interned string is read).
    bool UuidOf(uint32_t ref, std::array<uint8_t, 16>* uuid) const;

   private:
    friend class IndicatorIndex;
    explicit Reader(const IndicatorIndex& index);
    bool Emit(uint32_t ref, MatchResult* out) const;
    bool EmitMany(uint32_t ref, MatchResult* out) const;  // Emit past kLinearDedup refs
    // The most refs `out` may hold: its limit, or the index's max_results.
    size_t CapOf(const MatchResult& out) const {
      return out.limit != 0 ? out.limit : index_.options_.max_results;
    }
    void PrefetchIpv4(uint32_t address) const;
    bool MatchValue(ObservableKind kind, std::string_view normal, MatchResult* out) const;

    const IndicatorIndex& index_;
    std::shared_lock<internal::WriterPriorityMutex> lock_;
    mutable int64_t now_ = std::numeric_limits<int64_t>::min();  // read on first hit
  };
  Reader Read() const { return Reader(*this); }

  // One-shot forms of the Reader's lookups (lock per call).
  MatchResult MatchIpv4(uint32_t address) const;
  MatchResult MatchIpv6(const Ipv6Bytes& address) const;
  MatchResult MatchDomain(std::string_view domain) const;
  MatchResult MatchUrl(std::string_view url) const;
  MatchResult MatchHash(ObservableKind algorithm, std::string_view hex) const;
  MatchResult MatchEmail(std::string_view email) const;
  MatchResult Match(ObservableKind kind, std::string_view value) const;

 private:
  struct Record;
  struct EntryRef;
  struct Normalized;
  class Interner;

  // All below: call with mu_ held exclusively.
  void IndexEntries(uint32_t ref, const std::vector<Normalized>& entries);
  void UnindexEntries(uint32_t ref);
  void FreeRecord(uint32_t ref);
  uint32_t IdFind(const std::array<uint8_t, 16>& uuid) const;
  void IdInsert(uint32_t ref);
  void IdErase(uint32_t ref);
  void MaybeCompact();
  void MarkV4(uint32_t network, int length);  // sets the bits of v4_blocks_
  // Takes every table of `other` (a loaded or fresh index); takes mu_.
  void TakeFrom(IndicatorIndex& other);

  const Clock& clock_;
  const IndexOptions options_;
  std::unique_ptr<Interner> interner_;  // names, label sets, producers

  mutable internal::WriterPriorityMutex mu_;
  std::vector<Record> records_;
  // Per ref: bit 0 live, bit 1 has a valid_until. 1 byte beside the 56-byte
  // record so that a hit usually costs no cache miss into records_.
  std::vector<uint8_t> ref_flags_;
  std::vector<uint32_t> free_records_;
  std::vector<uint32_t> id_slots_;  // open addressing: ref, keyed by the record's UUID
  size_t id_count_ = 0;
  std::vector<EntryRef> entry_log_;  // each record's entries, for removal
  size_t entry_log_garbage_ = 0;

  std::array<internal::U32Multimap, 33> v4_;  // by prefix length
  // 65536, by the top 16 bits; zero pages until marked (a small index, like
  // the warning lists', touches a few of its 2 MiB).
  ZeroedArray<internal::V4Block> v4_blocks_{65536};
  uint32_t v4_short_lengths_ = 0;  // bit len for len < 16
  size_t v4_removed_since_rebuild_ = 0;
  internal::StringMultimap v6_;  // tag = prefix length, bytes = masked network
  std::array<uint32_t, 129> v6_length_count_{};
  std::vector<uint8_t> v6_lengths_;  // lengths present, longest first
  internal::StringMultimap domain_exact_;
  internal::StringMultimap domain_sub_;
  internal::StringMultimap values_;  // tag = ObservableKind
  size_t live_records_ = 0;
  size_t tombstones_ = 0;
  size_t entries_ = 0;
  size_t suffix_downgrades_ = 0;
};

template <typename F>
void IndicatorIndex::Reader::ForEachIpv4Match(std::span<const uint32_t> addresses, F&& f) const {
  // Two stages: the /16 block 16 addresses ahead, the table slots it points
  // to 8 ahead (by then the block is usually in cache).
  constexpr size_t kAhead = 8;
  constexpr size_t kBlockAhead = 16;
  MatchResult out;
  out.refs.reserve(16);
  for (size_t i = 0; i < std::min(kBlockAhead, addresses.size()); ++i) {
    __builtin_prefetch(&index_.v4_blocks_[addresses[i] >> 16]);
  }
  for (size_t i = 0; i < std::min(kAhead, addresses.size()); ++i) PrefetchIpv4(addresses[i]);
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (i + kBlockAhead < addresses.size()) {
      __builtin_prefetch(&index_.v4_blocks_[addresses[i + kBlockAhead] >> 16]);
    }
    if (i + kAhead < addresses.size()) PrefetchIpv4(addresses[i + kAhead]);
    if (MatchIpv4(addresses[i], &out)) f(static_cast<uint32_t>(i), std::as_const(out));
  }
}

}  // namespace kizuna::correlation
