// The sharing decision: the one answer, asked on every path by which data
// leaves the node, to "may this stored object version go to this recipient".
// A recipient is this node's own team, a partner node (reading, streaming or
// pushed to), a user of another organization, an operator's export file, or
// the public; later capabilities (e-mail alerts) add theirs here. Rules: TLP
// 2.0/1.0 levels, the recipient's highest TLP, sharing groups, AMBER+STRICT,
// re-sharing of what other partners (or local users of outside
// organizations) produced, never back to the sender, and the
// default TLP for unmarked objects decided when they are read or sent (so a
// tightened default protects what is already stored).
//
// Sightings go to the producer of what was sighted: a partner receives our
// sighting of an indicator only when that partner delivered the
// indicator's first version here (its producer), or, with its peer option
// sightings = "received", when it may receive the indicator from us; never
// a sighting of our own indicators, never to anyone else. The sightings
// collection is readable by every partner for that (its other content, the
// node's identity, follows the usual rules).
//
// Entitlement(recipient) names everything that decides what a recipient may
// receive; when it changes, what was withheld before may now be due, so a
// reader's cursor must start over (rights that grow reach back).
//
// Immutable once built and so thread-safe; the daemon swaps in a new one when
// kizuna.toml changes and callers hold the shared_ptr for a whole request.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node/config.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::sharing {

// The response header (and the live stream's first event) that tells a
// reader its Entitlement: a kizuna partner that sees it change pulls again
// from the beginning, so what a narrower policy withheld is not lost.
inline constexpr const char* kEntitlementHeader = "X-Kizuna-Entitlement";
inline constexpr const char* kEntitlementEvent = "entitlement";

// The alias of the collection that holds the node's sightings.
inline constexpr const char* kSightingsAlias = "sightings";

// The object property that restricts an object to sharing groups.
inline constexpr std::string_view kSharingGroupsProperty = "x_kizuna_sharing_groups";

// The object property that addresses an object to one partner: the name of
// the [[peer]] (as this node calls it) that alone may receive it. An
// addressed object goes to that peer and to the home team, to no one else
// (no other peer, group, outside organization, e-mail, affected party,
// export or the public), and only from the node that addressed it: a copy
// received from a partner is never passed on. A value that is not a string
// addresses no one. Alert reports to a partner's node use it (alerts/).
inline constexpr std::string_view kAddressedToProperty = "x_kizuna_addressed_to";

// The object property that restricts an object to the participants of a
// joint incident (coordination/incidents.h): the Ed25519 public keys
// (base64) of their nodes. Such an object goes to the home team and to a
// peer whose configured public_key is listed, to no one else (no other
// peer, group, outside organization, e-mail, affected party, export or the
// public), whatever the peer's `reshare` and `share` say; up to the
// peer's max_tlp, never RED. Participants pass one another's updates on
// (as MISP's sharing groups do), never back to the peer it came from; a
// copy received from a partner goes on only to participants the incident
// itself (kIncidentProperty, its first version here) lists too, so a
// participant cannot widen an incident through us. Only a joint incident's
// own types (IsIncidentObjectType) may carry the property: anything else
// with it reaches no partner. What is passed on must be an entry (never
// the incident itself, which goes from its owner), signed by one of the
// incident's participants (kSignerProperty, kObjectSignatureProperty:
// Ed25519 over the object without the signature). A value that is not a
// list of strings reaches no one.
inline constexpr std::string_view kParticipantsProperty = "x_kizuna_participants";
// The property naming the incident an object belongs to.
inline constexpr std::string_view kIncidentProperty = "x_kizuna_incident";
// The key (base64) that signed a coordination object, and its signature.
inline constexpr std::string_view kSignerProperty = "x_kizuna_signer";
inline constexpr std::string_view kObjectSignatureProperty = "x_kizuna_signature";
// incident, note, kizuna-task, relationship.
bool IsIncidentObjectType(std::string_view type);

// The alias of the collection that holds alert reports addressed to
// partners: readable by every partner (each sees only what is addressed to
// it), like the sightings collection.
inline constexpr const char* kAlertsAlias = "alerts";

// The alias of the collection of the team directory and the coordination
// objects addressed to partners (coordination/): readable by every partner.
inline constexpr const char* kCoordinationAlias = "coordination";

// Whether every partner reads the collection of this alias (the sightings,
// alerts and coordination collections), whatever its [[peer]] `share` and
// `pull` say: what is in them goes to whom the sharing decision says.
bool EveryPartnerReads(std::string_view alias);

// The collection of `alias`, created when missing with `title` and
// `description` and a read grant for the home organization `home_org`.
// Safe against a concurrent creator.
Result<store::Collection> EnsureCollection(store::Store& store, const std::string& alias,
                                           const std::string& title, const std::string& description,
                                           const std::string& home_org);

struct Recipient {
  enum class Kind {
    kHome,      // this node's own team (and admins): everything
    kPeer,      // a configured partner node
    kExternal,  // a user of another organization that is not a peer
    kGroup,     // every member of a sharing group at once (a message to the group)
    kEmail,     // a person reached by e-mail (alerting): at most AMBER
    // The owner of the network an alert is about (its ISP, network owner or
    // national CSIRT, by e-mail, feed or node): at most AMBER; what partners
    // observed reaches it up to AMBER, since TLP:AMBER is for telling the
    // affected party on a need-to-know basis.
    kAffectedParty,
    kExport,  // an operator's export file: the TLP ceiling alone (max_tlp)
    kPublic,  // anyone (published advisories, open feeds): TLP:CLEAR only
  };
  Kind kind = Kind::kExternal;
  std::string name;  // the peer's name (kPeer) or the organization's
  stix::Tlp max_tlp = stix::Tlp::kGreen;
  bool reshare = false;
  std::set<std::string> groups;       // sharing groups it belongs to
  std::set<std::string> collections;  // kPeer: our collections it may read (ids or aliases)
  std::set<std::string> members;      // kGroup: its member peers (never sent back to them)
  // kPeer: our sightings of every indicator it may receive, not only of its own.
  bool sightings_of_received = false;
  std::string public_key;  // kPeer: its node's key (base64), as configured
};

// The first version this node stored of an object (its producer's origin,
// json and TLP), or nullopt when it holds none: what the decision on a
// sighting needs of the indicator sighted.
using FirstVersionLookup =
    std::function<std::optional<store::StoredObject>(const std::string& object_id)>;

class SharingPolicy {
 public:
  // Without `first_version_of` no sighting goes to any partner.
  explicit SharingPolicy(const node::NodeConfig& config, FirstVersionLookup first_version_of = {});

  // The recipient a user of this node stands for, by its organization.
  Recipient ForUser(const store::User& user) const;
  // The recipient for a configured peer; kExternal with nothing when unknown.
  Recipient ForPeer(const std::string& peer_name) const;
  // All members of a sharing group at once: what each of them may receive
  // (the lowest highest-TLP of its members, re-sharing only if all may),
  // never what one of them sent. A group without members receives nothing.
  Recipient ForGroup(const std::string& group) const;
  // A person reached by e-mail: up to `max_tlp`, never above AMBER (AMBER+
  // STRICT and RED do not go by e-mail), nothing restricted to sharing groups.
  Recipient ForEmail(const std::string& address, stix::Tlp max_tlp) const;
  // The affected party of an alert (alerting's recipients): up to
  // `max_tlp`, never above AMBER; `peer` names the [[peer]] it is reached
  // through ("" for e-mail or a feed), never given back what it sent.
  Recipient ForAffectedParty(const std::string& name, stix::Tlp max_tlp,
                             const std::string& peer = "") const;
  // An export file the operator writes: up to `max_tlp`, RED only if asked.
  Recipient ForExport(stix::Tlp max_tlp) const;
  // The public.
  Recipient ForPublic() const;
  // The peer whose users belong to `org_name`, or nullptr.
  const node::PeerConfig* PeerOfOrg(const std::string& org_name) const;
  // The [[peer]]s in force.
  const std::vector<node::PeerConfig>& peers() const { return peers_; }

  // Whether `recipient` may read a collection at all.
  bool MayReadCollection(const Recipient& recipient, const store::Collection& collection) const;

  // Whether `object` may go to `recipient`. Needs the object's json (for its
  // sharing groups) and origin. On refusal, *why says which rule refused.
  bool MayRelease(const store::StoredObject& object, const Recipient& recipient,
                  std::string* why = nullptr) const;

  // The TLP an object is treated as: its marking, or the default when it has none.
  stix::Tlp EffectiveTlp(stix::Tlp marked) const {
    return marked == stix::Tlp::kNone ? default_tlp_ : marked;
  }
  stix::Tlp default_tlp() const { return default_tlp_; }

  // A short stable token for everything that decides what `recipient` may
  // receive (its kind, highest TLP, collections, groups, reshare, and the
  // default TLP). Equal tokens: the same objects are released.
  std::string Entitlement(const Recipient& recipient) const;

 private:
  // Whether a joint incident's object may go to `recipient` (see
  // kParticipantsProperty).
  bool ParticipantMayReceive(const store::StoredObject& object, const Recipient& recipient,
                             const std::vector<std::string>& keys, std::string* why) const;
  // Whether our sighting is due to `recipient` (see the top of this file).
  bool SightingDue(const store::StoredObject& sighting, const Recipient& recipient) const;

  std::string home_org_;
  stix::Tlp default_tlp_;
  stix::Tlp external_max_tlp_;
  std::vector<node::PeerConfig> peers_;
  std::vector<node::SharingGroup> groups_;
  FirstVersionLookup first_version_of_;
};

// The sharing groups an object names (its x_kizuna_sharing_groups).
std::vector<std::string> SharingGroupsOf(std::string_view object_json);

// The participant keys an object is restricted to (its
// x_kizuna_participants): nullopt when it is not restricted; an empty list
// when the property is there but malformed (it then reaches no one).
std::optional<std::vector<std::string>> ParticipantsOf(std::string_view object_json);

// Whom an object is addressed to (its x_kizuna_addressed_to): nullopt when
// it is not addressed; "" when the property is there but not a non-empty
// string (it then reaches no one).
std::optional<std::string> AddressedTo(std::string_view object_json);

// TLP levels in order of restriction (CLEAR < GREEN < AMBER < AMBER+STRICT < RED).
int TlpRank(stix::Tlp tlp);

}  // namespace kizuna::sharing
