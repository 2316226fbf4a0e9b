// Channel node, the receiver's side: alert reports that partners' nodes
// addressed to us (node_channel.h on their side) become our own
// observations, routed on to our recipients (our ISPs), and we answer each
// event's fate back to the sender.
//
// Intake: federation stores a partner's report bundle like any object it
// receives (origin: the peer). The report object comes after the events it
// names, so the report is the trigger: TakeInPartnerReport reads each
// observed-data it names from the store, checks all of them (each must be
// the same peer's, carry a well-formed x_kizuna_alert with an event id that
// matches its STIX id, and the report's TLP), and only then ingests them as
// observations with origin = the peer and the report's TLP (pipeline.h), so
// our RouteTable routes them on. A malformed report is refused whole, with
// a log line saying what is wrong, and changes nothing. A report already
// taken in is not taken again. Each of our events that a partner's event
// became is kept (partner_events), and the sharing decision keeps it from
// going back to the peer it came from (an affected party reached through
// that peer is refused: "it came from this peer"), so nothing bounces.
//
// Answers: STIX sightings of the partner's objects, in our sightings
// collection, which federation sends to the producer of what was sighted
// (sharing/policy.h): of the report, "received" at intake; of an event's
// observed-data, each state our event reached — "unrouted" at intake,
// "delivered" when a report holding it was sent to our recipient,
// "acknowledged" when that report was acknowledged, "remediated" /
// "still-infected" from our re-check (recheck.h). Ids are derived from
// (our identity, what was sighted, state): an answer is given once.
//
// PartnerFollower runs both in the node: it follows the change bus for
// partners' reports and for partners' answers to our own reports
// (node_channel.h, ApplyPartnerAnswer), and answers what is due about once
// a second. Its cursors are kept in alerts.db.
//
// Thread-safety: the functions take the database's lock for what they
// write; a PartnerFollower's Start/Stop are called from one thread, and
// RunOnce must not run while it is started.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "alerts/alerts_db.h"
#include "alerts/observation.h"
#include "alerts/store_follower.h"
#include "bus/bus.h"
#include "common/time.h"
#include "geo/cache.h"
#include "sharing/policy.h"
#include "store/store.h"

namespace kizuna::alerts {

// The marker properties of kizuna's STIX alert reports (report_format.cc).
inline constexpr std::string_view kAlertReportProperty = "x_kizuna_alert_report";
inline constexpr std::string_view kAlertFactsProperty = "x_kizuna_alert";

// One observed-data of a partner's report as an observation: its facts
// checked (address, times, port, classification, sizes, the event id
// against the STIX id). *remote_event gets the partner's event id.
Result<Observation> ObservationFromAlert(const boost::json::object& observed_data,
                                         const std::string& peer, std::string* remote_event);

struct IntakeContext {
  AlertsDb* db = nullptr;
  store::Store* store = nullptr;
  const geo::GeoDb* geo = nullptr;  // may be null
  std::string identity_id;          // our STIX identity (answers name it)
  std::string identity_name;
  int64_t now_us = 0;
};

struct IntakeResult {
  bool taken = false;    // ingested now
  std::string refused;   // why it was refused ("" when taken or not ours to take)
  int64_t events = 0;    // observations ingested
  int64_t unrouted = 0;  // of them, with no recipient here
};

// A stored `report` from peer `peer` (its origin, a configured peer): takes
// it in when it is a kizuna alert report (see the top). Not an alert report,
// or one taken in before: nothing, not refused.
Result<IntakeResult> TakeInPartnerReport(const IntakeContext& context,
                                         const sharing::SharingPolicy& policy,
                                         const store::Change& change);

// Writes the answers that are due (see the top) into our sightings
// collection; returns how many sightings were written.
Result<int64_t> AnswerPartners(const IntakeContext& context);

class PartnerFollower {
 public:
  struct Options {
    AlertsDb* db = nullptr;
    store::Store* store = nullptr;
    bus::ChangeBus* bus = nullptr;  // null: RunOnce only
    geo::GeoCache* geo = nullptr;   // may be null
    std::function<std::shared_ptr<const sharing::SharingPolicy>()> policy;
    std::string identity_id, identity_name;
    const Clock* clock = &SystemClock::Instance();
  };
  explicit PartnerFollower(Options options);
  ~PartnerFollower() { Stop(); }

  // Catches up on the store from its cursor, then follows the bus on its
  // own thread.
  Status Start();
  void Stop();
  // Processes what the store has past the cursor and answers (tests, and
  // the CLI).
  Status RunOnce();

 private:
  Status Apply(const std::vector<store::Change>& changes);
  Status Answer();

  const Options options_;
  StoreFollower follower_;
  int64_t last_answer_us_ = 0;  // the follower's thread only
};

}  // namespace kizuna::alerts
