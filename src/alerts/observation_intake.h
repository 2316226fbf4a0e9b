// Observations the node already holds as STIX become alert observations:
// what our telescope found (telescope_intake.h: fingerprinted bots and
// scanners in our sensors' intervals, the new sources of a surge) and what
// partners sent us through federation (partner_observations.h: observed-data
// of infected hosts, sightings of indicators that name an address). Alert
// reports addressed to us are not taken here: partner_intake.h takes them.
//
// ObservationFollower follows the change bus for both (like
// PartnerFollower), keeps its cursor in alerts.db (cursors,
// "observations:store") and records every object it took or refused in
// the table observation_objects (ref = the object's STIX id): an object is
// taken once, whichever version, collection or restart brings it again; a
// refused one is taken when a later version of it is good. An object's
// observations are written (pipeline.h Ingester) before it is recorded and
// before the cursor moves: a crash in between counts that one object
// again, never loses it.
//
// The table is created here (CREATE TABLE IF NOT EXISTS at first use), not
// in alerts_db.cc's schema steps, so an alerts.db already at the last step
// gets it too.
//
// Thread-safety: the functions take the database's lock for what they
// read and write; a follower's Start/Stop are called from one thread, and
// RunOnce must not run while it is started.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/observation.h"
#include "alerts/store_follower.h"
#include "bus/bus.h"
#include "common/time.h"
#include "geo/cache.h"
#include "sharing/policy.h"
#include "store/store.h"

namespace kizuna::alerts {

// What an object says, ready to ingest.
struct Extracted {
  std::string origin;  // "" (ours) or the peer
  stix::Tlp tlp = stix::Tlp::kAmber;
  std::vector<Observation> observations;
};

// What the intake functions see of the node.
struct ObservationContext {
  AlertsDb* db = nullptr;
  store::Store* store = nullptr;
  const geo::GeoDb* geo = nullptr;  // may be null
  const sharing::SharingPolicy* policy = nullptr;
  std::string identity_id;              // our STIX identity
  std::string telescope_collection_id;  // "" when the node has no telescope collection
  int64_t now_us = 0;
  // Observations older than this are not alerted on (a node that turns the
  // follower on, or upgrades, does not alert on months of old telescope
  // data); 0: any age.
  int64_t max_age_us = 0;
  // The telescope's fingerprint rules whose sources are bots (infected
  // hosts); the other rules' are scanners (telescope_intake.h).
  std::vector<std::string> bot_fingerprints = {"mirai"};
};

struct TakeResult {
  bool taken = false;        // ingested now
  std::string refused;       // why it was refused ("" when taken or not ours)
  int64_t observations = 0;  // ingested
  int64_t unrouted = 0;      // of them, with no recipient here
};

// Creates observation_objects when missing.
Status EnsureObservationTables(AlertsDb& db);

// Takes `change` in with `extract`: nothing when it was taken before;
// extract's nullopt: not an observation (nothing, not refused); its
// kInvalidArgument: refused (one log line naming `what`, the object and its
// origin; recorded; nothing ingested); any other error is returned (try
// again later). `kind` is recorded ("telescope", "partner-observed-data", …).
Result<TakeResult> TakeIn(const ObservationContext& context, const store::Change& change,
                          std::string_view kind,
                          const std::function<Result<std::optional<Extracted>>()>& extract);

// The store's latest version of a collection by id or alias, or "" when none.
std::string CollectionIdOf(store::Store& store, const std::string& id_or_alias);

class ObservationFollower {
 public:
  struct Options {
    AlertsDb* db = nullptr;
    store::Store* store = nullptr;
    bus::ChangeBus* bus = nullptr;  // null: RunOnce only
    geo::GeoCache* geo = nullptr;   // may be null
    std::function<std::shared_ptr<const sharing::SharingPolicy>()> policy;
    std::string identity_id;
    std::string telescope_collection = "telescope";  // alias or id ([telescope] collection)
    bool from_telescope = true;
    bool from_partners = true;
    int max_age_days = 7;                                   // ObservationContext::max_age_us
    std::vector<std::string> bot_fingerprints = {"mirai"};  // ObservationContext's
    const Clock* clock = &SystemClock::Instance();
  };
  explicit ObservationFollower(Options options);
  ~ObservationFollower() { Stop(); }

  // Catches up on the store from its cursor, then follows the bus on its
  // own thread.
  Status Start();
  void Stop();
  // Processes what the store has past the cursor (tests, and the CLI).
  Status RunOnce();

 private:
  Status Apply(const std::vector<store::Change>& changes);

  const Options options_;
  std::string telescope_collection_id_;  // resolved when first there
  StoreFollower follower_;
};

}  // namespace kizuna::alerts
