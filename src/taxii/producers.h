// Producers own their objects. Every stored version has a producer: the home
// team (origin ""), a local user's outside organization ("org:<name>") or
// the partner node that delivered it (the peer's name), and, behind it, the
// identity its created_by_ref names. The version that first made an object
// exist on this node decides who may add versions of it (a revocation is a
// version), and who may delete it:
//   - the home team: objects it produced; a node admin may change anyone's
//     (logged);
//   - a local user of another organization: its organization's objects; the
//     created_by_ref it writes must be its organization's identity (set when
//     an object has none);
//   - a partner: objects it delivered first, or whose producer identity is
//     its own (the producer on its own path), or other partners' objects
//     that name no producer — never an object produced on this node, and
//     never one claiming this node's identities.
// Stateless functions over the store; thread-safe as the store is.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::taxii {

struct Writer {
  enum class Kind { kHome, kOrganization, kPeer };
  Kind kind = Kind::kHome;
  // What it writes is stored with this origin: "" (home), "org:<name>", or
  // the peer's name.
  std::string origin;
  // kOrganization: its identity, the only created_by_ref it may write.
  // kPeer: the partner node's own identity when known, else "".
  std::string identity;
  // kHome: a node admin may add versions of, and delete, anyone's objects.
  bool admin = false;
  // Identities of this node and of its local organizations: a partner's
  // object never claims one.
  std::set<std::string> home_identities;
  // For logs: "org/user" or "peer NAME".
  std::string name;
};

// Whether a reader may see a stored version (the sharing decision); null: all.
using Visibility = std::function<bool(const store::StoredObject&)>;

struct ProducerVerdict {
  enum class Kind {
    kAllow,
    kRefuse,  // a clear error for the writer (why)
    kHidden,  // refused, but the writer may not see the object: answer as
              // for an object that does not exist (accepted, nothing stored)
  };
  Kind kind = Kind::kAllow;
  std::string why;
  // kAllow by a node admin over someone else's object: what to log.
  std::string admin_override;
};

// The identities of this node and of every organization it keeps accounts
// for (Writer::home_identities).
std::set<std::string> HomeIdentities(const std::string& node_identity,
                                     const std::vector<store::Organization>& organizations);

// Whether `writer` may store this version of `info.id` into `collection_id`.
// An SCO (no created/modified: its id is derived from its content) has no
// producer to protect and is always allowed; so is a version the
// collection already holds (storing it changes nothing). `held` false says
// the store holds no version of info.id at all (store::Store::HeldIds, asked
// once for a batch): there is then no producer to ask the store about.
Result<ProducerVerdict> CheckNewVersion(store::Store& store, const Writer& writer,
                                        const std::string& collection_id,
                                        const stix::ObjectInfo& info, const Visibility& visible,
                                        bool held = true);

// Whether `writer` may delete versions of `id` (visible to it: the caller
// answers 404 for what the writer may not see).
Result<ProducerVerdict> CheckDelete(store::Store& store, const Writer& writer,
                                    const std::string& id);

}  // namespace kizuna::taxii
