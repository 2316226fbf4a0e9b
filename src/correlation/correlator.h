// The Correlator answers "which shared indicators does this observable
// match?" for the node. It keeps an IndicatorIndex in step with the store by
// following the store's change feed (every collection, every process's
// writes: a CLI import is seen like a TAXII POST), so new versions,
// revocations, deletions and valid_until expiry apply at once. Patterns that
// reduce to plain lookups go into the index; the others are evaluated with
// the bounded pattern engine. Matches are filtered by what the caller may
// read: an indicator is shown only with the collections the caller can read.
//
// In a running node a follower of the change bus hands it every change as it
// is stored (Apply); Refresh reads the feed itself (the first load, the CLI).
//
// Thread-safety: every method may be called from any thread. Refresh and
// Apply are serialized; matching runs concurrently with other matches.
#pragma once

#include <boost/json/fwd.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "correlation/indicator_index.h"
#include "correlation/sighting_book.h"
#include "correlation/sightings.h"
#include "correlation/warninglists.h"
#include "pattern/pattern.h"
#include "store/store.h"

namespace kizuna::correlation {

namespace internal {

// The 128 bits of an object id's UUID ("indicator--<uuid>"), the key of the
// correlator's per-indicator table: comparing two words instead of hashing
// and comparing 47-character strings is what keeps building the index from
// a million stored indicators fast.
struct IdKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const IdKey&) const = default;
};
IdKey IdKeyOf(std::string_view id);

// An open-addressing map from IdKey to V (linear probing, backward-shift
// deletion). Values live in a vector: a reference stays valid until the
// next insertion of a new key. Not thread-safe.
template <typename V>
class IdTable {
 public:
  V* Find(const IdKey& key) {
    if (slots_.empty()) return nullptr;
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      if (slots_[i].value == 0) return nullptr;
      if (slots_[i].key == key) return &values_[slots_[i].value - 1];
    }
  }
  const V* Find(const IdKey& key) const { return const_cast<IdTable*>(this)->Find(key); }
  // For batches: start the cache misses of Find(key), first its slot, then
  // (once that has arrived) its value, so that those of many keys overlap.
  void PrefetchSlot(const IdKey& key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Home(key)]);
  }
  void PrefetchValue(const IdKey& key) const {
    if (const V* found = Find(key)) {
      // A value may straddle two cache lines (values_ is not line-aligned).
      __builtin_prefetch(found);
      __builtin_prefetch(reinterpret_cast<const char*>(found) + sizeof(V) - 1);
    }
  }
  V& operator[](const IdKey& key) {
    if (V* found = Find(key)) return *found;
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    uint32_t value;
    if (!free_.empty()) {
      value = free_.back();
      free_.pop_back();
      values_[value - 1] = V{};
    } else {
      values_.emplace_back();
      value = static_cast<uint32_t>(values_.size());
    }
    size_t i = Home(key);
    while (slots_[i].value != 0) i = (i + 1) & mask_;
    slots_[i] = {key, value};
    ++size_;
    return values_[value - 1];
  }
  void Erase(const IdKey& key) {
    if (slots_.empty()) return;
    size_t i = Home(key);
    while (slots_[i].value != 0 && !(slots_[i].key == key)) i = (i + 1) & mask_;
    if (slots_[i].value == 0) return;
    values_[slots_[i].value - 1] = V{};
    free_.push_back(slots_[i].value);
    --size_;
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j].value != 0; j = (j + 1) & mask_) {
      size_t home = Home(slots_[j].key);
      bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
  }
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  // Room for `n` keys in at least `capacity` slots without growing.
  // (Inserting keys in another table's slot order, as a snapshot load
  // does, into a table that still grows would pile them into a few long
  // runs; into one of the same capacity it is a sequential pass.)
  void Reserve(size_t n, size_t capacity = 0) {
    size_t wanted = 1024;
    while ((n + 1) * 4 > wanted * 3 || wanted < capacity) wanted *= 2;
    if (wanted > slots_.size()) Rehash(wanted);
    values_.reserve(n);
  }
  // Calls f(key, value) for every live entry.
  template <typename F>
  void ForEachEntry(F&& f) const {
    for (const Slot& slot : slots_) {
      if (slot.value != 0) f(slot.key, values_[slot.value - 1]);
    }
  }
  // Calls f(value) for every live value.
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& slot : slots_) {
      if (slot.value != 0) f(values_[slot.value - 1]);
    }
  }

 private:
  struct Slot {
    IdKey key;
    uint32_t value = 0;  // index into values_ plus one; 0: empty
  };
  size_t Home(const IdKey& key) const {
    return static_cast<size_t>(((key.hi ^ key.lo) * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Grow() { Rehash(slots_.empty() ? 1024 : slots_.size() * 2); }
  void Rehash(size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
    for (const Slot& slot : old) {
      if (slot.value == 0) continue;
      size_t i = Home(slot.key);
      while (slots_[i].value != 0) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::vector<V> values_;
  std::vector<uint32_t> free_;
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace internal

struct CorrelatorOptions {
  // Most indicators reported per observable (the rest is counted as truncated).
  size_t max_results = 100;
  // Observables whose value is on a warning list get no matches (only the flag).
  bool exclude_warninglisted = false;
  // Bounds for patterns evaluated one by one (those the index cannot hold).
  pattern::EvalLimits eval_limits;
};

// An indicator that matched, as the caller may see it.
struct IndicatorMatch {
  IndicatorMeta indicator;               // id, name, labels, TLP, producer, confidence, …
  std::vector<std::string> collections;  // where the caller can read it
  bool by_pattern = false;               // found by evaluating the pattern, not by the index
  // Who sighted it (Correlator::AddSightedBy fills it): every observer's
  // sightings the caller may see.
  std::vector<SightedBy> sighted_by;
};

struct ObservableResult {
  std::string type;   // the STIX SCO type: "ipv4-addr", "domain-name", "file", …
  std::string value;  // as understood (refanged, normal form)
  std::vector<IndicatorMatch> matches;
  bool truncated = false;
  std::vector<std::string> warnings;  // warning lists holding the value
  std::string error;                  // the input was not understood (then nothing else is set)
};

// Decides whether the caller may read a collection.
using CollectionFilter = std::function<bool(const std::string& collection_id)>;
// Decides whether the caller may learn of a match (the sharing policy: TLP,
// sharing groups), beyond the collections it can read. A match it may not
// see is skipped before max_results is counted, so `truncated` says only
// that more *visible* indicators matched, and hidden ones never crowd out
// visible ones. (A lookup first asks the index for at most 100 ×
// max_results + 1 candidates per value; when those hold fewer than
// max_results visible ones it asks again for all of them, so a value that
// many hidden indicators share costs that second, uncapped lookup.)
using MatchFilter = std::function<bool(const IndicatorMatch&)>;

class Correlator {
 public:
  Correlator(store::Store& store, CorrelatorOptions options,
             std::shared_ptr<const WarningLists> warninglists = nullptr,
             const Clock& clock = SystemClock::Instance());
  ~Correlator();

  // Applies every change since the last call; the first call loads all
  // indicators. Cheap when nothing changed (one indexed query). Matching does
  // not refresh by itself: callers refresh once per request or batch, so
  // that what was stored before the request is what it is matched against.
  Status Refresh();

  // Applies changes in sequence order as a follower of the change bus hands
  // them over (every type: others only move the cursor). Changes at or before
  // the cursor are skipped, so Refresh and a follower may both run.
  Status Apply(const std::vector<store::Change>& changes);
  // The last change applied.
  int64_t cursor() const;

  // Snapshots: everything the correlator holds (the index, what it tracks
  // per indicator, the patterns it evaluates, the sighting book, the cursor)
  // in one file beside the store, so that a process matches within
  // milliseconds of starting instead of rebuilding the index from the store
  // (`kizuna match`; `kizuna serve` at startup). A snapshot belongs to one
  // store (its "store_id" meta value), one build and one set of options;
  // after loading one, Refresh applies only the changes made since it was
  // saved, so it may be any age.
  //
  // SaveSnapshot writes `path` atomically (a temporary file renamed over
  // it, mode 0600) while matching goes on; Refresh and Apply wait for it.
  Status SaveSnapshot(const std::string& path);
  // On a correlator that has applied nothing yet. kNotFound: no file;
  // kFailedPrecondition: another store's, build's or options', or ahead of
  // the store (restored from a backup: the change it ends at is not the
  // store's); kInvalidArgument: damaged (the checksum or the structure).
  // Any error leaves the correlator empty, ready for a full Refresh.
  Status LoadSnapshot(const std::string& path);
  // The snapshot's file name in a node's directory.
  static constexpr std::string_view kSnapshotFile = "correlation.snapshot";
  // Waits until every change up to `seq` is applied; false after `timeout`.
  bool WaitUntilApplied(int64_t seq, std::chrono::milliseconds timeout) const;

  // One observable as text ("198.51.100.7", "hxxp://evil[.]com/x", a hash),
  // its kind detected; or with `stix_type` given ("ipv4-addr", "domain-name",
  // "url", "email-addr", "file" (for hashes: then `value` is the hex digest),
  // "mac-addr", …), taken as that type.
  ObservableResult MatchText(std::string_view text, const CollectionFilter& readable,
                             std::string_view stix_type = {}, const MatchFilter& visible = nullptr);

  // MatchText of an IPv4 address written as a canonical dotted quad
  // ("192.0.2.1": four octets 0..255 without leading zeros), without
  // detecting its kind first: for scans (see ProbeIpv4).
  ObservableResult MatchIpv4(std::string_view dotted_quad, const CollectionFilter& readable,
                             const MatchFilter& visible = nullptr);

  // Every SCO of STIX observed-data (or of a bundle/array holding
  // observed-data and SCOs) looked up in the index, plus the patterns the
  // index cannot hold evaluated against the observations.
  Result<std::vector<ObservableResult>> MatchObservedData(const boost::json::value& stix,
                                                          const CollectionFilter& readable,
                                                          const MatchFilter& visible = nullptr);

  // For scans of many IPv4 addresses (`kizuna match` over a log): the index
  // and the warning lists looked up for a whole batch under one read lock
  // each, with prefetching. For each address the index matches or a warning
  // list holds, appends one probe (in address order) with the index's
  // candidates and the lists holding it (refs into `refs`). What this
  // promises, while pattern_count() is 0 and nothing is applied in between:
  // MatchText of an unprobed address (its canonical dotted quad) is
  // {ipv4-addr, value, no match, no warning}; the answer for a probed one
  // depends on its candidates, its lists and the filters only, never on the
  // address itself (so it can be reused for every address that has the
  // same), unless `text_listed` or `truncated` (then Lookup looks again
  // without the index's cap).
  struct Ipv4Probe {
    uint32_t position = 0;     // into `addresses`
    bool text_listed = false;  // on a substring/regex warning list: ask MatchText
    bool truncated = false;    // the index's own cap (MatchResult::truncated)
    uint32_t refs_begin = 0;   // the candidates: (*refs)[refs_begin, refs_end)
    uint32_t refs_end = 0;
    uint32_t lists_begin = 0;  // the warning lists: (*refs)[lists_begin, lists_end)
    uint32_t lists_end = 0;
  };
  void ProbeIpv4(std::span<const uint32_t> addresses, std::vector<Ipv4Probe>* probes,
                 std::vector<uint32_t>* refs) const;
  // MatchIpv4 of a probed address that is on no warning list and whose
  // candidates were not cut off, while pattern_count() is 0: its candidates
  // kept as Lookup keeps them (readable, visible, max_results), without
  // looking the address up again.
  ObservableResult MatchIpv4Candidates(std::string_view dotted_quad,
                                       std::span<const uint32_t> candidates,
                                       const CollectionFilter& readable,
                                       const MatchFilter& visible = nullptr) const;

  // What MatchIpv4 of a probed address (not `text_listed`, not
  // `truncated`; without a `visible` filter) followed by
  // AddSightedBy(sightings_visible) and AppendResultJson writes, byte for
  // byte, appended to *out, from the probe's candidates and warning lists
  // (`lists`, refs from ProbeIpv4): for the stream matcher's first answer
  // to a set of candidates. Cheaper: each match is written straight from
  // the index under one read lock (no IndicatorMeta copied, no collection
  // ids built), and sightings are asked for only when the node holds any.
  // Returns the number of matches; appends to *matched (when given) each
  // match's indicator id and TLP (count 0). `readable` and
  // `sightings_visible` are called with the correlator's and the index's
  // read locks held.
  size_t AppendIpv4CandidatesJson(std::string_view dotted_quad,
                                  std::span<const uint32_t> candidates,
                                  std::span<const uint32_t> lists, const CollectionFilter& readable,
                                  const SightingFilter& sightings_visible, std::string* out,
                                  std::vector<SightingInput>* matched = nullptr) const;

  // Starts the cache misses AppendIpv4CandidatesJson takes for these
  // candidates (the index's records, the correlator's entries), stage by
  // stage over all of them, so that they overlap instead of queueing: for a
  // batch of first answers, some time before they are written.
  void PrefetchCandidates(std::span<const uint32_t> candidates) const;

  // Fills every match's sighted_by from the sightings the caller may see.
  void AddSightedBy(ObservableResult& result, const SightingFilter& visible) const;
  // Who has sighted an indicator (sightings the caller may see).
  std::vector<SightedBy> SightedByOf(const std::string& indicator_id,
                                     const SightingFilter& visible) const {
    return sighting_book_.Of(indicator_id, visible);
  }

  // How many indicators are evaluated by pattern (those the index cannot
  // hold): what one observable costs beyond an index lookup. Cheap.
  size_t pattern_count() const;

  struct Stats {
    size_t indexed = 0;      // indicators in the index
    size_t by_pattern = 0;   // indicators evaluated by pattern
    size_t unsupported = 0;  // indicators of other pattern types (snort, yara, …)
    int64_t cursor = 0;      // last change applied
    IndexStats index;
  };
  Stats GetStats() const;

 private:
  struct Tracked;
  struct PatternIndicator;
  uint32_t CollectionNumber(const std::string& collection_id);
  Status Reindex(const std::string& id);
  // What one stored indicator version becomes, worked out without touching
  // the correlator's state, so that a batch is prepared on several threads.
  struct Prepared {
    enum class Kind { kRevoked, kUnsupported, kIndex, kPattern, kError };
    Kind kind = Kind::kError;
    IndicatorMeta meta;
    std::vector<IndexEntry> entries;          // kIndex
    std::optional<pattern::Pattern> pattern;  // kPattern
    std::string pattern_text;
    Status error;  // kError
  };
  static Prepared Prepare(const std::string& id, std::string_view json, stix::Tlp tlp);
  Status Place(Tracked& tracked, const std::string& id, Prepared&& prepared);
  Status Apply(const store::Change& change, Prepared* prepared);
  // Prepares (on every core) and places a batch of indicator changes; moves the cursor.
  void ApplyBatch(const std::vector<store::Change>& changes);
  void Forget(const std::string& id);
  // A snapshot's tracking table section, whose collection numbers are below
  // `collections` (nullopt: damaged).
  static std::optional<internal::IdTable<Tracked>> LoadTracked(std::string_view bytes,
                                                               uint64_t collections);
  std::vector<std::string> Readable(const std::string& id, const CollectionFilter& readable) const;
  // Index lookup (and, with_patterns, the pattern indicators evaluated against
  // an observation holding just this value).
  ObservableResult Lookup(ObservableKind kind, std::string value, const CollectionFilter& readable,
                          const MatchFilter& visible, bool with_patterns);
  // The refs of an index lookup the caller may see, as matches, up to
  // max_results (then `truncated`). Call with mu_ held.
  void AddIndexMatches(const MatchResult& found, const CollectionFilter& readable,
                       const MatchFilter& visible, ObservableResult* result) const;
  void AddPatternMatches(const std::vector<pattern::Observation>& observations,
                         const CollectionFilter& readable, const MatchFilter& visible,
                         ObservableResult* result);

  store::Store& store_;
  const CorrelatorOptions options_;
  std::shared_ptr<const WarningLists> warninglists_;
  const Clock& clock_;
  IndicatorIndex index_;
  SightingBook sighting_book_;  // thread-safe itself; fed under refresh_mu_

  std::mutex refresh_mu_;                        // one Refresh or Apply at a time
  mutable std::condition_variable_any applied_;  // cursor_ moved (with mu_)
  mutable std::shared_mutex mu_;                 // guards everything below
  int64_t cursor_ = 0;
  internal::IdTable<Tracked> tracked_;                                 // by indicator id
  std::map<std::string, std::unique_ptr<PatternIndicator>> patterns_;  // by indicator id
  size_t unsupported_ = 0;
  std::vector<std::string> collections_;  // collection ids by number
  std::unordered_map<std::string, uint32_t> collection_numbers_;
};

// The STIX SCO type an observable kind is found in ("ipv4-addr", "file", …).
std::string_view StixTypeOf(ObservableKind kind);

// How often each indicator matched across results: what a caller hands to
// SightingRecorder::Record when the matches are to be reported as sightings.
class SightingTally {
 public:
  void Count(const ObservableResult& result);
  // Adds `input.count` to the indicator's count (merging tallies kept apart).
  void Add(const SightingInput& input);
  bool empty() const { return seen_.empty(); }
  std::vector<SightingInput> Inputs() const;

 private:
  std::map<std::string, SightingInput> seen_;  // by indicator id, in id order
};

// Who sighted an indicator, as JSON: [{identity, name, count, sightings,
// first_seen, last_seen}].
boost::json::array SightedByToJson(const std::vector<SightedBy>& sighted_by);

// The observable result as JSON (the match API's and `kizuna match`'s output).
boost::json::object ResultToJson(const ObservableResult& result);

}  // namespace kizuna::correlation
