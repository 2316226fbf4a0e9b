// The coordination objects partners exchange (drills, acknowledgements,
// emergencies): STIX 2.1 SDOs of types this node defines through one
// extension-definition (kObjectsExtensionId, extension_type new-sdo),
// each addressed to one partner (sharing::kAddressedToProperty) and stored
// in the coordination collection, which every partner reads: the sharing
// decision lets it go to that partner alone, and a copy a partner received
// is never passed on. So an object a partner holds with origin P came from
// P itself.
//
// Functions only; thread-safe as the store is.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "node/config.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::coordination {

inline constexpr std::string_view kObjectsExtensionId =
    "extension-definition--0f4b3f7c-8a7e-5c55-9d53-3c1c2f1d7a42";

boost::json::object ObjectsExtensionDefinition(const std::string& producer_identity);
// The joint incident's property extension (incidents.h).
boost::json::object IncidentExtensionDefinition(const std::string& producer_identity);

// A new object of `type` with id `id`, by our identity, created and
// modified `now_us`, marked `tlp`, addressed to `peer`.
boost::json::object NewAddressedObject(std::string_view type, const std::string& id,
                                       const node::NodeIdentity& identity, stix::Tlp tlp,
                                       const std::string& peer, int64_t now_us);

// Validates and stores our `objects` in the coordination collection (made
// when missing) in one batch; nothing is stored when one is invalid.
Status StoreOwn(store::Store& store, const node::NodeConfig& config,
                const node::NodeIdentity& identity,
                const std::vector<boost::json::object>& objects);

// A stored version of a coordination object, parsed.
struct Found {
  boost::json::object object;
  std::string origin;  // "" ours, else the peer that delivered it
  int64_t date_added_us = 0;
  stix::Tlp tlp = stix::Tlp::kNone;
};

// Every stored version of objects of `type`, in any collection (a
// partner's land in its peer's `into` collection), oldest first.
Result<std::vector<Found>> FindObjects(store::Store& store, std::string_view type);

// ---- acknowledgements: an object a partner addressed to us is
// acknowledged with an object of `ack_type` naming it in `ref_property`,
// addressed back to that partner.

// An object a partner sent us (its first version) and our acknowledgement.
struct Received {
  boost::json::object object;
  std::string id, from;  // from: the peer that sent it
  int64_t received_us = 0;
  int64_t acknowledged_us = 0;       // 0: not acknowledged
  stix::Tlp tlp = stix::Tlp::kNone;  // its marking (our acknowledgement's too)
};
// The objects of `type` partners sent us, newest first.
Result<std::vector<Received>> ReceivedOfType(store::Store& store, std::string_view type,
                                             std::string_view ack_type,
                                             std::string_view ref_property);
// Stores our acknowledgement of `received` (with `fields` added, marked
// as the object was; refused when `policy` would not let it go back), once: its id is derived from
// the object's. Sets received->acknowledged_us.
Status Acknowledge(store::Store& store, const node::NodeConfig& config,
                   const node::NodeIdentity& identity, const sharing::SharingPolicy& policy,
                   std::string_view ack_type, std::string_view ref_property,
                   const boost::json::object& fields, int64_t now_us, Received* received);
// At the sender: when each partner's acknowledgement of an object we sent
// arrived here, by (peer, object id): the first time we stored one from
// that very peer naming that object.
using AckReceipts = std::map<std::pair<std::string, std::string>, int64_t>;
Result<AckReceipts> AcknowledgementsReceived(store::Store& store, std::string_view ack_type,
                                             std::string_view ref_property);

// The string property `name` of `object` ("" when absent or not a string).
std::string Text(const boost::json::object& object, std::string_view name);
// The timestamp property `name` (0 when absent or malformed).
int64_t Time(const boost::json::object& object, std::string_view name);

}  // namespace kizuna::coordination
