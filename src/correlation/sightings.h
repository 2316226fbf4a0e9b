// Sightings: when a match is to be reported, the node records a STIX
// `sighting` of the indicator (sighting_of_ref, count, first_seen/last_seen,
// where_sighted_refs = this node's identity), one per indicator and period:
// later matches in the same period add a new version with a higher count
// instead of a new object, so a busy indicator does not flood partners.
// Sightings carry the indicator's TLP marking and are stored in their own
// collection, from which federation shares each with the producer of the
// indicator sighted (sharing/policy.h), and where partners' sightings of
// our indicators arrive.
//
// Thread-safety: Record may be called from any thread (one writer at a time
// inside; two processes recording the same sighting at once may lose one
// count, not an object).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::correlation {

struct SightingOptions {
  std::string collection_alias = "sightings";
  int64_t period_seconds = 86400;  // one sighting object per indicator and day
};

struct SightingInput {
  std::string indicator_id;
  stix::Tlp tlp = stix::Tlp::kNone;
  int64_t count = 1;
};

// The collection that holds sightings (by its alias), created when missing
// with the node's identity object in it (the identity its sightings name
// travels with them). Safe against a concurrent creator.
Result<store::Collection> EnsureSightingsCollection(store::Store& store, const std::string& alias,
                                                    const std::string& identity_id,
                                                    const std::string& identity_name);

class SightingRecorder {
 public:
  // `identity_id` is this node's STIX identity ("identity--…"), `identity_name` its name.
  SightingRecorder(store::Store& store, std::string identity_id, std::string identity_name,
                   SightingOptions options = {}, const Clock& clock = SystemClock::Instance());

  // Who saw it: this node's team (the default), or a local user's outside
  // organization, whose sightings are its own (its identity, its origin).
  struct Observer {
    std::string identity_id;
    std::string origin;  // store::NewObject::origin: "" or "org:<name>"
  };

  // Records (or counts up) one sighting per input; returns the sighting ids.
  Result<std::vector<std::string>> Record(const std::vector<SightingInput>& sightings,
                                          const Observer* observer = nullptr);

  // The deterministic id of the sighting of `indicator_id` in the period
  // holding `when_us`, by `observer_identity` (default: this node).
  std::string SightingId(const std::string& indicator_id, int64_t when_us,
                         const std::string& observer_identity = "") const;

 private:
  Result<std::string> EnsureCollection();

  store::Store& store_;
  const std::string identity_id_;
  const std::string identity_name_;
  const SightingOptions options_;
  const Clock& clock_;
  std::mutex mu_;
};

}  // namespace kizuna::correlation
