// The node's telescope: every interval its own sensors uploaded and its
// partners shared, held in memory by start time, and the views people ask
// for — busiest ports and sources over a time range, one port's traffic
// over time, totals per class and fingerprint — per sensor, per partner or
// merged.
//
// Merging counts each source once across sensors and partners: while every
// part is an exact set (our own sensors; a partner's sources object where
// its marking let it reach us) the union is exact; as soon as one part is a
// sketch (a partner's summary without addresses), the union is the merged
// sketch's estimate (`exact` false; sensor/sketch.h states the error).
//
// What a reader may see is decided outside (the sharing decision), per
// stored object: Select takes a predicate and uses, per interval, the
// exact sources object when it may be seen, else the summary, else nothing.
//
// Thread-safety: Add/Remove and Select may be called from any thread (a
// shared mutex); the views are functions over what Select returned.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "common/time.h"
#include "sensor/interval.h"
#include "store/store.h"

namespace kizuna::telescope {

// A set of sources inside a StoredInterval: a run of its address pools
// (exact), or a sketch in its sketch pool and the sender's count.
struct PooledSet {
  bool exact = true;
  uint32_t count = 0;
  uint32_t v4_begin = 0, v4_size = 0;
  uint32_t v6_begin = 0, v6_size = 0;
  uint32_t sketch_begin = 0, sketch_size = 0;
};

// One interval as the node keeps it in memory: every set's addresses in one
// pool per interval, so that a minute with hundreds of single-source ports
// costs a few bytes a port, not an allocation per set.
struct StoredInterval {
  std::string sensor;
  int64_t start_s = 0, seconds = 60;
  uint64_t packets = 0;
  int64_t first_us = 0, last_us = 0;
  bool exact = true;  // its sets are addresses (a sources object), not sketches
  PooledSet sources;
  struct Port {
    sensor::PortProto proto;
    uint16_t port;
    uint64_t packets;
    PooledSet sources;
  };
  std::vector<Port> ports;
  std::vector<std::pair<std::string, PooledSet>> classes, fingerprints;
  // The busiest sources, at most kKeptTopSources of those sent.
  static constexpr size_t kKeptTopSources = 25;
  std::vector<sensor::WireInterval::Source> top_sources;
  std::vector<uint32_t> v4;
  std::vector<sensor::Ipv6Address> v6;
  std::string sketches;

  static StoredInterval From(const sensor::WireInterval& wire);
  // The same interval as its summary says it: counts and sketches, no
  // address (what is left when an exact interval's sources object goes).
  StoredInterval Sketched() const;
  // About what it takes in memory.
  uint64_t MemoryBytes() const;
  std::span<const uint32_t> V4(const PooledSet& set) const {
    return {v4.data() + set.v4_begin, set.v4_size};
  }
  std::span<const sensor::Ipv6Address> V6(const PooledSet& set) const {
    return {v6.data() + set.v6_begin, set.v6_size};
  }
  std::string_view Sketch(const PooledSet& set) const {
    return std::string_view(sketches).substr(set.sketch_begin, set.sketch_size);
  }
};

// One interval as a reader sees it.
struct Slice {
  std::string origin;  // "" for this node's own sensors, else the partner (peer name)
  std::string producer;
  std::shared_ptr<const StoredInterval> interval;
  // Whether the reader may see this interval's addresses (its sources
  // object): else only counts and sketches reach it.
  bool addresses = false;
  // The markings of its objects (kNone: unmarked, or not here).
  stix::Tlp summary_tlp = stix::Tlp::kNone, sources_tlp = stix::Tlp::kNone;
};

// How far ahead of the node's clock an interval may start (clocks differ).
inline constexpr int64_t kMostAheadSeconds = 300;

// What the node keeps in memory: a window of time back from the newest
// interval (which the clock bounds: kMostAheadSeconds), and at most so much
// memory for each of our sensors and each partner, so that no partner's
// volume (nor one sensor of ours gone wrong) crowds out the others'. What falls out stays in the
// store (and TAXII); the views cover what is kept.
struct Retention {
  int64_t keep_seconds = 8 * 86400;  // a week and its day before: the surge baseline
  uint64_t origin_bytes = uint64_t{1} << 30;
};

class TelescopeData {
 public:
  // `clock` (not owned; null: no check) dates what is too far ahead: an
  // interval that starts more than kMostAheadSeconds after its clock's now
  // is rejected, so that a wrong clock cannot move "the last 24 hours".
  explicit TelescopeData(const Clock* clock = nullptr, Retention retention = {})
      : clock_(clock), retention_(retention) {}

  // Takes in a stored telescope object (added to a collection; `origin` as
  // the store has it). Objects of other types are ignored; a telescope
  // object that does not parse is counted in rejected() and ignored.
  void Add(const store::StoredObject& object);
  // Forgets a deleted object.
  void Remove(const std::string& id);

  using Visible = std::function<bool(const store::StoredObject&)>;
  struct Filter {
    int64_t since_s = INT64_MIN, until_s = INT64_MAX;  // starts in [since, until)
    std::string sensor;                                // "" every sensor
    std::optional<std::string> origin;                 // unset: every origin
  };
  std::vector<Slice> Select(const Filter& filter, const Visible& visible) const;

  // Before the first Add.
  void SetRetention(Retention retention);
  // The newest interval start held (0 when empty).
  int64_t newest_start() const;
  // The newest start among what `visible` lets a reader see (0: none), so
  // that "the last hour" of a reader is not set by what it cannot see.
  int64_t newest_start(const Visible& visible) const;
  uint64_t intervals() const;
  uint64_t rejected() const;
  // Intervals let go: older than the window, or past their origin's memory.
  uint64_t let_go() const;
  uint64_t memory_bytes() const;

 private:
  struct Entry {
    std::string origin, producer;
    int64_t start_s = 0;
    std::string sensor;
    std::optional<store::StoredObject> summary_meta, sources_meta;  // json dropped
    // The sources object's interval when it came, else the summary's: the
    // exact one answers summary readers too (counts and sketches follow
    // from the addresses).
    std::shared_ptr<const StoredInterval> interval;
    uint64_t bytes = 0;  // counted in its origin's use
  };
  struct OriginUse {
    uint64_t bytes = 0;
    std::set<std::pair<int64_t, std::string>> by_start;  // start, summary id
  };
  using EntryIt = std::map<std::string, Entry>::iterator;
  int64_t HorizonLocked() const;  // the window's first start
  void EraseLocked(EntryIt it);
  void RecountLocked(Entry& entry);
  bool VisibleSlice(const Entry& entry, const Visible& visible, Slice* slice) const;
  mutable std::shared_mutex mu_;
  std::map<std::string, Entry> by_summary_id_;
  std::map<std::string, std::string> summary_of_;         // object id -> summary id
  std::multimap<int64_t, std::string> by_start_;          // start -> summary id
  using BudgetKey = std::pair<std::string, std::string>;  // origin, our sensor
  static BudgetKey BudgetOf(const Entry& entry);
  std::map<BudgetKey, OriginUse> budgets_;
  uint64_t rejected_ = 0, let_go_ = 0, memory_bytes_ = 0;
  const Clock* clock_;
  Retention retention_;
};

// A set of sources being merged from several intervals. The first part is
// only referred to (most unions in a per-minute series have one part: one
// sensor's minute) and copied when a second one comes or its addresses are
// asked for; the union keeps that interval alive.
class SourceUnion {
 public:
  void Add(const std::shared_ptr<const StoredInterval>& interval, const PooledSet& set);
  uint64_t size() const;
  bool exact() const;
  // The union's addresses (exact() only), sorted and unique.
  const std::vector<uint32_t>& v4() const;
  const std::vector<sensor::Ipv6Address>& v6() const;

 private:
  void Fold(const StoredInterval& interval, const PooledSet& set) const;
  void FoldFirst() const;
  void Settle() const;  // every part folded, the addresses sorted and unique
  int parts_ = 0;
  // The parts are folded lazily, from const readers too.
  mutable std::shared_ptr<const StoredInterval> first_;  // set while only referred to
  mutable PooledSet first_set_;
  mutable bool exact_ = true;
  // Appended parts; sorted and unique up to *_unique_ values.
  mutable std::vector<uint32_t> v4_;
  mutable std::vector<sensor::Ipv6Address> v6_;
  mutable size_t v4_unique_ = 0, v6_unique_ = 0;
  mutable std::unique_ptr<sensor::DistinctSketch> sketch_;
};

struct PortTotal {
  sensor::PortProto proto;
  uint16_t port;
  uint64_t packets = 0;
  uint64_t sources = 0;
  bool exact = true;
};
// Every port in `slices`, busiest (packets) first, at most `top`.
std::vector<PortTotal> TopPorts(const std::vector<Slice>& slices, size_t top);
// The same ports' keys (PortKey) only: no sources are merged.
std::vector<uint32_t> BusiestPorts(const std::vector<Slice>& slices, size_t top);

struct PortPoint {
  int64_t start_s;
  uint64_t packets = 0;
  uint64_t sources = 0;
  bool exact = true;
};
// One port's traffic per `step_s` (a multiple of the intervals' length), in
// time order; steps without traffic are left out.
// The same for several ports at once (keys: PortKey), in one pass.
uint32_t PortKey(sensor::PortProto proto, uint16_t port);
std::map<uint32_t, std::vector<PortPoint>> SeriesByPort(const std::vector<Slice>& slices,
                                                        const std::set<uint32_t>& keys,
                                                        int64_t step_s);
std::vector<PortPoint> PortSeries(const std::vector<Slice>& slices, sensor::PortProto proto,
                                  uint16_t port, int64_t step_s);

struct Totals {
  uint64_t packets = 0, intervals = 0;
  uint64_t sources = 0;
  bool exact = true;
  std::map<std::string, uint64_t> classes, fingerprints;  // distinct sources
  int64_t first_us = 0, last_us = 0;
};
Totals Summarize(const std::vector<Slice>& slices);

struct SourceTotal {
  std::string address;
  uint64_t packets = 0;
  uint64_t intervals = 0;  // in how many intervals' top lists it was
  int64_t first_us = 0, last_us = 0;
  std::set<std::string> fingerprints, sensors;
};
// The busiest sources: from each interval's top list (where the reader may
// see addresses; a summary carries none), summed.
std::vector<SourceTotal> TopSources(const std::vector<Slice>& slices, size_t top);

struct SensorInfo {
  std::string origin, sensor;
  uint64_t intervals = 0, packets = 0;
  int64_t first_start_s = 0, last_start_s = 0;
  bool exact = false;  // its addresses are here
};
std::vector<SensorInfo> Sensors(const std::vector<Slice>& slices);

}  // namespace kizuna::telescope
