// Channel node, the sender's side: a report for a partner's kizuna node (a
// national CSIRT abroad) goes through federation as STIX, and what that node
// answers comes back as per-event state.
//
// Sending: the report's STIX bundle (report_format.h: an observed-data per
// event, its address, and a report) is stored in the node's `alerts`
// collection (sharing::kAlertsAlias), each object marked with the report's
// TLP (the recipient's, at most AMBER) and addressed to the recipient's peer
// (sharing::kAddressedToProperty): the one sharing decision lets it go to
// that peer alone — every partner may read the collection, each sees only
// what is addressed to it; no other peer, outside organization, export or
// the public gets it. Federation then carries it (the partner's pull or live
// stream). The report is "sent" once stored.
//
// Answers: the partner's node answers with STIX sightings
// (x_kizuna_alert_state) that federation brings back like every sighting of
// our objects (to the producer, sharing/policy.h): of the report
// ("received": its node took the whole report in, which acknowledges the
// report) and of each event's observed-data ("delivered": routed on and in a
// report sent to its recipient, "acknowledged": that recipient acknowledged
// it, "unrouted": it has no recipient for the host, "remediated" /
// "still-infected": its re-check). ApplyPartnerAnswer records each in
// event_state, only for an event or report that went to that very peer.
//
// Functions only; each takes the database's lock for what it writes.
// Thread-safe as the store and AlertsDb are.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/recipients.h"
#include "node/config.h"
#include "store/store.h"

namespace kizuna::alerts {

// Per-event states (event_state.state).
inline constexpr std::string_view kEventDelivered = "delivered";
inline constexpr std::string_view kEventAcknowledged = "acknowledged";
inline constexpr std::string_view kEventUnrouted = "unrouted";
inline constexpr std::string_view kEventRemediated = "remediated";
inline constexpr std::string_view kEventStillInfected = "still-infected";
// A partner's answer about a whole report: its node took it in.
inline constexpr std::string_view kReportReceived = "received";

// The sighting property that carries a state, and the one that names the
// event (its EventIdHex) a sighting of an observed-data is about.
inline constexpr std::string_view kAlertStateProperty = "x_kizuna_alert_state";
inline constexpr std::string_view kAlertEventProperty = "x_kizuna_alert_event";

bool IsEventState(std::string_view state);

// A channel-node recipient's peer must be one of the node's [[peer]]s.
Status CheckRecipientPeer(const Recipient& recipient, const node::NodeConfig& config);

// The alerts collection (by its alias), created when missing (the home
// organization `home_org` may read it). Safe against a concurrent creator.
Result<store::Collection> EnsureAlertsCollection(store::Store& store, const std::string& home_org);

// Stores a STIX report bundle for `peer` (see the top): every object
// addressed to it and validated; a resend stores nothing new. Returns how
// many object versions were new. An invalid bundle is an error and stores
// nothing.
Result<int64_t> StoreReportForPeer(store::Store& store, const std::string& home_org,
                                   const std::string& peer, std::string_view bundle);

// DeliveryOptions::to_node for a process with `store`: stores the report
// and then calls `notify` (the bus: Notify() in the node, NotifyNode(dir)
// from the CLI).
std::function<Status(const ReportRow&, const std::string&, const std::string&)> NodeChannel(
    store::Store* store, std::string home_org, std::function<void()> notify);

// Records that `event_id` reached `state` (the first time counts; a repeat
// changes nothing). Takes the lock.
Status RecordEventState(AlertsDb& db, int64_t event_id, std::string_view state, int64_t at_us,
                        const std::string& detail);

// A sighting `object` stored from peer `origin`: when it is a partner's
// answer (x_kizuna_alert_state) about a report or an event we sent that
// peer, records it (a report "received": acknowledged; an event: its
// state). Anything else — not an answer, another peer's event, a bad state,
// an event id that does not match the observed-data — is ignored, with a
// log line when it claimed to be an answer. True when something was
// recorded.
Result<bool> ApplyPartnerAnswer(AlertsDb& db, const std::vector<Recipient>& recipients,
                                const store::StoredObject& object, int64_t now_us);

// Per-event states for the status and report answers:
// {"<state>": N, …} over all events (report_rowid 0) or one report's, and
// for one report also "events": [{"event_id", "ip", "state", "at",
// "detail", "states": {"<state>": time}}] (at most `limit` events, those
// with a state).
Result<boost::json::object> EventStatesJson(AlertsDb& db, int64_t report_rowid, int limit = 1000);

}  // namespace kizuna::alerts
