// The sharing policy: the one decision, made at every boundary, of whether a
// stored object version may go to a given recipient — a partner node reading
// or streaming from us, a partner we push to, a user of another organization.
// TLP 2.0/1.0 levels, per-peer highest TLP, sharing groups, AMBER+STRICT,
// re-sharing of what other partners sent, and never back to the sender.
// Immutable once built; the daemon swaps in a new one when kizuna.toml changes.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node/config.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::federation {

// The object property that restricts an object to sharing groups.
inline constexpr std::string_view kSharingGroupsProperty = "x_kizuna_sharing_groups";

struct Recipient {
  enum class Kind {
    kHome,      // this node's own team (and admins): everything
    kPeer,      // a configured partner node
    kExternal,  // a user of another organization that is not a peer
  };
  Kind kind = Kind::kExternal;
  std::string name;  // the peer's name (kPeer) or the organization's
  stix::Tlp max_tlp = stix::Tlp::kGreen;
  bool reshare = false;
  std::set<std::string> groups;       // sharing groups it belongs to
  std::set<std::string> collections;  // kPeer: our collections it may read (ids or aliases)
};

class SharingPolicy {
 public:
  explicit SharingPolicy(const node::NodeConfig& config);

  // The recipient a user of this node stands for, by its organization.
  Recipient ForUser(const store::User& user) const;
  // The recipient for a configured peer; kExternal with nothing when unknown.
  Recipient ForPeer(const std::string& peer_name) const;
  // The peer whose users belong to `org_name`, or nullptr.
  const node::PeerConfig* PeerOfOrg(const std::string& org_name) const;

  // Whether `recipient` may read a collection at all.
  bool MayReadCollection(const Recipient& recipient, const store::Collection& collection) const;

  // Whether `object` may go to `recipient`. Needs the object's json (for its
  // sharing groups) and origin. On refusal, *why says which rule refused.
  bool MayRelease(const store::StoredObject& object, const Recipient& recipient,
                  std::string* why = nullptr) const;

  stix::Tlp default_tlp() const { return default_tlp_; }

 private:
  std::string home_org_;
  stix::Tlp default_tlp_;
  stix::Tlp external_max_tlp_;
  std::vector<node::PeerConfig> peers_;
  std::vector<node::SharingGroup> groups_;
};

// The sharing groups an object names (its x_kizuna_sharing_groups).
std::vector<std::string> SharingGroupsOf(std::string_view object_json);

// TLP levels in order of restriction (CLEAR < GREEN < AMBER < AMBER+STRICT < RED).
int TlpRank(stix::Tlp tlp);

}  // namespace kizuna::federation
