// Partners' observations in: what a peer sends us through federation that
// says a host is infected or abusive becomes an alert observation with the
// peer as its origin and the object's TLP (pipeline.h IngestOptions), routed
// to our recipients like our own; the sharing decision on delivery
// (recipients.h MayReach, SharingPolicy::ForAffectedParty) then lets it
// reach the affected party at most up to its TLP (never AMBER+STRICT or RED)
// and never back to the peer it came from.
//
// Taken in (ObservationFollower, observation_intake.h), from a configured
// peer only (origin: the peer; a local organization's objects are not):
//   - an observed-data that says so: x_kizuna_observation "infected-host"
//     (as report_format.cc and the telescope's surges write it), or a label
//     "infected-host" or "bot"; its addresses are the ipv4-addr / ipv6-addr
//     objects it names (object_refs, read from the same collection, or the
//     deprecated embedded `objects`); one observation per address, at
//     last_observed. malicious-code / infected-system, or
//     information-gathering / scanner when it is a telescope surge's
//     (x_kizuna_surge, whose protocol it takes);
//   - a sighting of an indicator whose pattern names host addresses (only
//     ORed `ipv4-addr:value = '…'` / `ipv6-addr:value = '…'` comparisons,
//     pattern.h ReduceToSimpleComparisons): one observation per address, at
//     last_seen (else first_seen, else created), classified from the
//     indicator (ClassifyIndicator), marked with the stricter of the
//     sighting's and the indicator's TLP.
// Not taken (not refused either): observed-data of a kizuna alert report
// (x_kizuna_alert: partner_intake.h's), anything addressed to a partner
// (x_kizuna_addressed_to), our alert answers (x_kizuna_alert_state),
// sightings of anything but an indicator, indicators that name no host
// address or are "benign".
// Refused with a reason (a log line, nothing ingested): an observed-data
// that says infected-host but names no address, names one that is not here,
// a network instead of a host, an address that does not parse, or more than
// kMaxObservedAddresses; a sighting of an indicator we do not hold.
//
// Functions only; thread-safe as the store and the database are.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alerts/observation_intake.h"

namespace kizuna::alerts {

inline constexpr size_t kMaxObservedAddresses = 100000;

// The host addresses an observed-data names (see the top), read from
// `collection_id`; *tlp becomes the stricter of itself and every address
// object's marking. kInvalidArgument for what is refused.
Result<std::vector<HostAddress>> AddressesOfObservedData(store::Store& store,
                                                         const sharing::SharingPolicy& policy,
                                                         const std::string& collection_id,
                                                         const boost::json::object& observed_data,
                                                         stix::Tlp* tlp);

// RSIT class and type of what a sighting of `indicator` says of the
// addresses its pattern names: indicator_types "compromised" or a label
// "infected-host", "bot" or "botnet": malicious-code / infected-system;
// label "scanner": information-gathering / scanner; label "c2" or
// "c2-server": malicious-code / c2-server; else other / undetermined.
// nullopt for a "benign" indicator.
struct Classification {
  std::string taxonomy, type;
};
std::optional<Classification> ClassifyIndicator(const boost::json::object& indicator);

// A partner's stored observed-data or sighting (see the top): what it says,
// nullopt when it is not an observation for us, kInvalidArgument when it is
// refused.
Result<std::optional<Extracted>> ExtractPartnerObservation(const ObservationContext& context,
                                                           const store::Change& change);

// Takes a partner's stored object in (TakeIn with the above).
Result<TakeResult> TakeInPartnerObservation(const ObservationContext& context,
                                            const store::Change& change);

}  // namespace kizuna::alerts
