// The SightingBook answers "who has sighted this indicator, how often, when":
// every sighting the node holds (its own, its organizations', and partners'
// sightings of its indicators that federation brought in), summed per
// observer. It follows the store's changes like the correlation index
// (Apply; the Correlator hands it the sighting and identity changes), and
// keeps the newest version of each sighting, so a sighting counted up in new
// versions is counted once. Identity objects give observers their names.
//
// Thread-safety: every method may be called from any thread; Apply is
// serialized by the caller (the Correlator), reads run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "correlation/snapshot_io.h"
#include "store/store.h"

namespace kizuna::correlation {

// One observer's sightings of one indicator.
struct SightedBy {
  std::string observer;  // its identity ("identity--…")
  std::string name;      // the identity's name, when the node holds it
  int64_t count = 0;     // summed over its sighting objects (their newest versions)
  int64_t first_seen_us = 0;
  int64_t last_seen_us = 0;
  size_t sightings = 0;  // sighting objects
  // Who delivered them: "" (recorded on this node), a partner's name, or
  // "org:<name>". A partner that reports another observer's sightings says
  // so only by this: the observer's identity alone is a claim.
  std::vector<std::string> via;
};

// Whether the caller may learn of one stored sighting (collection id, the
// sighting as stored: id, type, TLP, origin; json empty).
using SightingFilter =
    std::function<bool(const std::string& collection_id, const store::StoredObject& sighting)>;

class SightingBook {
 public:
  explicit SightingBook(store::Store& store) : store_(store) {}

  // Applies sighting and identity changes (others are ignored), in order.
  void Apply(const std::vector<store::Change>& changes);

  // The observers of `indicator_id`, by identity, from the sightings the
  // caller may see (null filter: all).
  std::vector<SightedBy> Of(const std::string& indicator_id,
                            const SightingFilter& visible = nullptr) const;
  // True when Of answers nothing for any indicator (no sighting held): lets
  // a caller skip asking for each of many matches.
  bool empty() const {
    std::shared_lock lock(mu_);
    return by_indicator_.empty();
  }

  // Snapshots (Correlator::SaveSnapshot): everything the book holds, and
  // back. LoadFrom replaces the book only when the bytes are complete
  // (false otherwise, the book unchanged).
  void SaveTo(internal::SnapshotWriter& out) const;
  bool LoadFrom(internal::SnapshotReader& in);
  void Clear();

 private:
  // The newest version of one sighting object in one collection.
  struct Entry {
    std::string sighting_id;
    std::string collection_id;
    int64_t version_us = 0;
    stix::Tlp tlp = stix::Tlp::kNone;
    std::string origin;
    std::string observer;
    int64_t count = 0;
    int64_t first_seen_us = 0;
    int64_t last_seen_us = 0;
  };
  void Add(const std::string& collection_id, const store::StoredObject& object);
  void Remove(const std::string& collection_id, const store::StoredObject& object);
  // What a sighting version says; false when it is not a usable sighting.
  static bool Parse(const store::StoredObject& object, std::string* indicator, Entry* entry);

  store::Store& store_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::vector<Entry>> by_indicator_;  // guarded by mu_
  std::unordered_map<std::string, std::string> indicator_of_;  // sighting id -> indicator; mu_
  std::unordered_map<std::string, std::string> names_;         // identity id -> name; mu_
};

}  // namespace kizuna::correlation
