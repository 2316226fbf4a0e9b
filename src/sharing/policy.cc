#include "sharing/policy.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

#include "common/encoding.h"
#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::sharing {
namespace json = boost::json;

int TlpRank(stix::Tlp tlp) {
  switch (tlp) {
    case stix::Tlp::kNone:
    case stix::Tlp::kClear:
      return 0;
    case stix::Tlp::kGreen:
      return 1;
    case stix::Tlp::kAmber:
      return 2;
    case stix::Tlp::kAmberStrict:
      return 3;
    case stix::Tlp::kRed:
      return 4;
  }
  return 4;
}

std::vector<std::string> SharingGroupsOf(std::string_view object_json) {
  std::vector<std::string> groups;
  // Most objects name no group: skip the parse for them.
  if (object_json.find(kSharingGroupsProperty) == std::string_view::npos) return groups;
  boost::system::error_code ec;
  json::value parsed = json::parse(object_json, ec);
  if (ec || !parsed.is_object()) return groups;
  const json::value* list = parsed.get_object().if_contains(kSharingGroupsProperty);
  if (!list) return groups;
  if (!list->is_array()) {
    // A malformed restriction must still restrict: a group nobody is in.
    groups.push_back("");
    return groups;
  }
  for (const json::value& item : list->get_array()) {
    groups.push_back(item.is_string() ? std::string(item.get_string()) : std::string());
  }
  if (groups.empty()) groups.push_back("");
  return groups;
}

std::optional<std::string> AddressedTo(std::string_view object_json) {
  // Most objects are addressed to no one: skip the parse for them.
  if (object_json.find(kAddressedToProperty) == std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  json::value parsed = json::parse(object_json, ec);
  // Unparseable but naming the property: restricted to no one.
  if (ec || !parsed.is_object()) return std::string();
  const json::value* to = parsed.get_object().if_contains(kAddressedToProperty);
  if (!to) return std::nullopt;  // only a value mentioned it
  return to->is_string() ? std::string(to->get_string()) : std::string();
}

bool IsIncidentObjectType(std::string_view type) {
  return type == "incident" || type == "note" || type == "kizuna-task" || type == "relationship";
}

std::optional<std::vector<std::string>> ParticipantsOf(std::string_view object_json) {
  if (object_json.find(kParticipantsProperty) == std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  json::value parsed = json::parse(object_json, ec);
  if (ec || !parsed.is_object()) return std::vector<std::string>();
  const json::value* keys = parsed.get_object().if_contains(kParticipantsProperty);
  if (!keys) return std::nullopt;
  std::vector<std::string> out;
  if (!keys->is_array()) return out;
  for (const json::value& key : keys->get_array()) {
    if (!key.is_string()) return std::vector<std::string>();
    out.emplace_back(key.get_string());
  }
  return out;
}

SharingPolicy::SharingPolicy(const node::NodeConfig& config, FirstVersionLookup first_version_of)
    : home_org_(config.name),
      default_tlp_(config.sharing.default_tlp),
      external_max_tlp_(config.sharing.external_max_tlp),
      peers_(config.peers),
      groups_(config.sharing.groups),
      first_version_of_(std::move(first_version_of)) {}

const node::PeerConfig* SharingPolicy::PeerOfOrg(const std::string& org_name) const {
  for (const node::PeerConfig& peer : peers_) {
    if (peer.org == org_name) return &peer;
  }
  return nullptr;
}

Recipient SharingPolicy::ForUser(const store::User& user) const {
  if (user.org_name == home_org_) {
    Recipient home;
    home.kind = Recipient::Kind::kHome;
    home.name = user.org_name;
    home.max_tlp = stix::Tlp::kRed;
    return home;
  }
  // A peer's account is a partner node even if someone made it an admin:
  // the boundary is the organization, not the role.
  if (const node::PeerConfig* peer = PeerOfOrg(user.org_name)) return ForPeer(peer->name);
  Recipient external;
  external.kind =
      user.role == store::Role::kAdmin ? Recipient::Kind::kHome : Recipient::Kind::kExternal;
  external.name = user.org_name;
  external.max_tlp = external.kind == Recipient::Kind::kHome ? stix::Tlp::kRed : external_max_tlp_;
  return external;
}

Recipient SharingPolicy::ForGroup(const std::string& group) const {
  Recipient recipient;
  recipient.kind = Recipient::Kind::kGroup;
  recipient.name = group;
  recipient.max_tlp = stix::Tlp::kNone;  // no members: nothing
  bool first = true;
  for (const node::SharingGroup& g : groups_) {
    if (g.name != group) continue;
    for (const std::string& member : g.members) {
      Recipient peer = ForPeer(member);
      if (peer.kind != Recipient::Kind::kPeer) continue;
      recipient.members.insert(member);
      if (first || TlpRank(peer.max_tlp) < TlpRank(recipient.max_tlp)) {
        recipient.max_tlp = peer.max_tlp;
      }
      recipient.reshare = first ? peer.reshare : recipient.reshare && peer.reshare;
      first = false;
    }
  }
  if (!recipient.members.empty()) recipient.groups.insert(group);
  return recipient;
}

Recipient SharingPolicy::ForEmail(const std::string& address, stix::Tlp max_tlp) const {
  Recipient recipient;
  recipient.kind = Recipient::Kind::kEmail;
  recipient.name = address;
  recipient.max_tlp = TlpRank(max_tlp) > TlpRank(stix::Tlp::kAmber) ? stix::Tlp::kAmber : max_tlp;
  return recipient;
}

Recipient SharingPolicy::ForAffectedParty(const std::string& name, stix::Tlp max_tlp,
                                          const std::string& peer) const {
  Recipient recipient;
  recipient.kind = Recipient::Kind::kAffectedParty;
  recipient.name = peer.empty() ? name : peer;
  recipient.max_tlp = TlpRank(max_tlp) > TlpRank(stix::Tlp::kAmber) ? stix::Tlp::kAmber : max_tlp;
  if (!peer.empty()) {
    // Reached through a partner's node: never above what that peer may receive.
    const Recipient partner = ForPeer(peer);
    if (partner.kind != Recipient::Kind::kPeer) {
      recipient.max_tlp = stix::Tlp::kNone;
    } else if (TlpRank(partner.max_tlp) < TlpRank(recipient.max_tlp)) {
      recipient.max_tlp = partner.max_tlp;
    }
  }
  return recipient;
}

Recipient SharingPolicy::ForExport(stix::Tlp max_tlp) const {
  Recipient recipient;
  recipient.kind = Recipient::Kind::kExport;
  recipient.name = "export";
  recipient.max_tlp = max_tlp;
  return recipient;
}

Recipient SharingPolicy::ForPublic() const {
  Recipient recipient;
  recipient.kind = Recipient::Kind::kPublic;
  recipient.name = "public";
  recipient.max_tlp = stix::Tlp::kClear;
  return recipient;
}

std::string SharingPolicy::Entitlement(const Recipient& recipient) const {
  std::string facts = std::to_string(static_cast<int>(recipient.kind));
  facts += '|';
  facts += stix::TlpName(recipient.max_tlp);
  facts += recipient.reshare ? "|reshare|" : "|-|";
  facts += stix::TlpName(default_tlp_);
  if (recipient.sightings_of_received) facts += "|sightings:received";
  for (const std::string& c : recipient.collections) facts += "|c:" + c;
  for (const std::string& g : recipient.groups) facts += "|g:" + g;
  for (const std::string& m : recipient.members) facts += "|m:" + m;
  if (!recipient.public_key.empty()) facts += "|k:" + recipient.public_key;
  return Fnv1aHex(facts);
}

Recipient SharingPolicy::ForPeer(const std::string& peer_name) const {
  Recipient recipient;
  recipient.name = peer_name;
  recipient.max_tlp = stix::Tlp::kNone;  // an unknown peer gets nothing
  for (const node::PeerConfig& peer : peers_) {
    if (peer.name != peer_name) continue;
    recipient.kind = Recipient::Kind::kPeer;
    recipient.max_tlp = peer.max_tlp;
    recipient.reshare = peer.reshare;
    recipient.sightings_of_received = peer.sightings == node::SightingShare::kReceived;
    recipient.public_key = peer.public_key;
    recipient.collections.insert(peer.share.begin(), peer.share.end());
    for (const node::SharingGroup& group : groups_) {
      if (std::find(group.members.begin(), group.members.end(), peer.name) != group.members.end()) {
        recipient.groups.insert(group.name);
      }
    }
  }
  return recipient;
}

bool EveryPartnerReads(std::string_view alias) {
  return alias == kSightingsAlias || alias == kAlertsAlias || alias == kCoordinationAlias;
}

Result<store::Collection> EnsureCollection(store::Store& store, const std::string& alias,
                                           const std::string& title, const std::string& description,
                                           const std::string& home_org) {
  auto existing = store.GetCollection(alias);
  if (existing.ok()) return existing;
  if (existing.status().code() != Code::kNotFound) return existing.status();
  store::Collection collection;
  collection.id = NewUuid4();
  collection.title = title;
  collection.description = description;
  collection.alias = alias;
  Status created = store.CreateCollection(collection);
  if (!created.ok() && created.code() != Code::kAlreadyExists) return created;
  KIZUNA_ASSIGN_OR_RETURN(store::Collection made, store.GetCollection(alias));
  KIZUNA_ASSIGN_OR_RETURN(store::Organization org, store.EnsureOrganization(home_org));
  store::Grant grant;
  grant.collection_id = made.id;
  grant.org_id = org.id;
  grant.can_read = true;
  KIZUNA_RETURN_IF_ERROR(store.SetGrant(grant));
  return made;
}

bool SharingPolicy::MayReadCollection(const Recipient& recipient,
                                      const store::Collection& collection) const {
  if (recipient.kind != Recipient::Kind::kPeer) return true;
  if (EveryPartnerReads(collection.alias)) return true;
  return recipient.collections.count(collection.id) > 0 ||
         (!collection.alias.empty() && recipient.collections.count(collection.alias) > 0);
}

bool SharingPolicy::MayRelease(const store::StoredObject& object, const Recipient& recipient,
                               std::string* why) const {
  auto refuse = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (recipient.kind == Recipient::Kind::kHome) return true;
  if (recipient.max_tlp == stix::Tlp::kNone) return refuse("not a known recipient");
  // An outside organization reads back what it wrote here.
  if (recipient.kind == Recipient::Kind::kExternal &&
      object.origin == store::OrgOrigin(recipient.name)) {
    return true;
  }
  // Addressed to one partner: that partner alone, and only from the node
  // that addressed it (the other rules below still apply to it).
  if (std::optional<std::string> to = AddressedTo(object.json)) {
    if (recipient.kind != Recipient::Kind::kPeer || to->empty() || *to != recipient.name) {
      return refuse("addressed to partner '" + *to + "' alone");
    }
    if (!object.origin.empty()) return refuse("addressed to a partner by another node");
  }
  if (std::optional<std::vector<std::string>> keys = ParticipantsOf(object.json)) {
    return ParticipantMayReceive(object, recipient, *keys, why);
  }
  const stix::Tlp tlp = EffectiveTlp(object.tlp);
  if (recipient.kind == Recipient::Kind::kExport) {
    // The operator's own file: a TLP ceiling, RED included when asked for.
    if (TlpRank(tlp) > TlpRank(recipient.max_tlp)) {
      return refuse("TLP:" + std::string(stix::TlpName(tlp)) +
                    " is above the export's TLP:" + std::string(stix::TlpName(recipient.max_tlp)));
    }
    return true;
  }
  if (tlp == stix::Tlp::kRed) return refuse("TLP:RED never leaves the node");
  if (TlpRank(tlp) > TlpRank(recipient.max_tlp)) {
    return refuse("TLP:" + std::string(stix::TlpName(tlp)) +
                  " is above the recipient's TLP:" + std::string(stix::TlpName(recipient.max_tlp)));
  }
  if (object.type == "sighting" &&
      (recipient.kind == Recipient::Kind::kPeer || recipient.kind == Recipient::Kind::kGroup) &&
      !SightingDue(object, recipient)) {
    return refuse("a sighting goes only to the producer of what was sighted");
  }
  // What another producer made (a partner's, or a local outside
  // organization's) is passed on only as re-sharing allows, never as ours;
  // an affected party is told what concerns it up to AMBER (checked above).
  if (!object.origin.empty() && recipient.kind == Recipient::Kind::kAffectedParty) {
    if (object.origin == recipient.name) return refuse("it came from this peer");
  } else if (!object.origin.empty()) {
    if (object.origin == recipient.name || recipient.members.count(object.origin)) {
      return refuse("it came from this peer");
    }
    if (!recipient.reshare) return refuse("received from another peer; no re-sharing to this one");
    if (TlpRank(tlp) > TlpRank(stix::Tlp::kGreen)) {
      return refuse("received from another peer; only CLEAR and GREEN are passed on");
    }
  }
  std::vector<std::string> groups = SharingGroupsOf(object.json);
  if (!groups.empty()) {
    bool member = false;
    for (const std::string& group : groups) member = member || recipient.groups.count(group) > 0;
    if (!member) return refuse("restricted to sharing groups the recipient is not in");
  } else if (tlp == stix::Tlp::kAmberStrict) {
    return refuse("TLP:AMBER+STRICT goes only to organizations a sharing group names");
  }
  return true;
}

bool SharingPolicy::ParticipantMayReceive(const store::StoredObject& object,
                                          const Recipient& recipient,
                                          const std::vector<std::string>& keys,
                                          std::string* why) const {
  auto refuse = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  auto listed = [](const std::vector<std::string>& list, const std::string& key) {
    return !key.empty() && std::find(list.begin(), list.end(), key) != list.end();
  };
  if (recipient.kind != Recipient::Kind::kPeer || !listed(keys, recipient.public_key)) {
    return refuse("a joint incident's: its participants alone");
  }
  if (!IsIncidentObjectType(object.type)) {
    return refuse("only a joint incident's objects go to its participants");
  }
  if (object.origin == recipient.name) return refuse("it came from this peer");
  const stix::Tlp tlp = EffectiveTlp(object.tlp);
  if (tlp == stix::Tlp::kRed) return refuse("TLP:RED never leaves the node");
  if (TlpRank(tlp) > TlpRank(recipient.max_tlp)) {
    return refuse("TLP:" + std::string(stix::TlpName(tlp)) +
                  " is above the recipient's TLP:" + std::string(stix::TlpName(recipient.max_tlp)));
  }
  if (object.origin.empty()) return true;
  // Passed on: an entry signed by a participant, only to whom the incident
  // itself (as it first came here) lists.
  boost::system::error_code ec;
  json::value parsed = json::parse(object.json, ec);
  if (ec || !parsed.is_object()) return refuse("unreadable");
  json::object& entry = parsed.get_object();
  const json::value* incident = entry.if_contains(kIncidentProperty);
  if (!incident || !incident->is_string()) return refuse("names no incident");
  const std::string incident_id(incident->get_string());
  if (incident_id == object.id || object.type == "incident") {
    return refuse("an incident goes from its owner alone");
  }
  std::optional<store::StoredObject> first =
      first_version_of_ ? first_version_of_(incident_id) : std::nullopt;
  if (!first || first->type != "incident") return refuse("its incident is not here");
  std::optional<std::vector<std::string>> incident_keys = ParticipantsOf(first->json);
  if (!incident_keys || !listed(*incident_keys, recipient.public_key)) {
    return refuse("not a participant of its incident");
  }
  const json::value* signer = entry.if_contains(kSignerProperty);
  const json::value* signature = entry.if_contains(kObjectSignatureProperty);
  if (!signer || !signer->is_string() || !signature || !signature->is_string() ||
      !listed(*incident_keys, std::string(signer->get_string()))) {
    return refuse("not signed by a participant of its incident");
  }
  const std::string signature_text(signature->get_string());
  entry.erase(kObjectSignatureProperty);
  if (!VerifyEd25519(signer->get_string(), json::serialize(entry), signature_text)) {
    return refuse("its signature does not hold");
  }
  return true;
}

bool SharingPolicy::SightingDue(const store::StoredObject& sighting,
                                const Recipient& recipient) const {
  if (!first_version_of_ || recipient.kind != Recipient::Kind::kPeer) return false;
  boost::system::error_code ec;
  json::value parsed = json::parse(sighting.json, ec);
  if (ec || !parsed.is_object()) return false;
  const std::string sighted = stix::StringProperty(parsed.get_object(), "sighting_of_ref");
  if (sighted.empty()) return false;
  std::optional<store::StoredObject> first = first_version_of_(sighted);
  if (!first) return false;
  if (first->origin == recipient.name) return true;
  return recipient.sightings_of_received && MayRelease(*first, recipient);
}

}  // namespace kizuna::sharing
