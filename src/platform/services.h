// What a running node offers its modules: the node (identity, config,
// signing), its store, its change bus and the one sharing decision, plus the
// services of the capabilities that predate the platform. The daemon owns
// every service and outlives the modules; a module keeps the pointer it was
// built with. A module built with nullptr instead (the CLI, which runs no
// node) is only asked for its commands and to check its config section.
// Thread-safety: the struct is immutable once built; each service documents
// its own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/route_table.h"

namespace kizuna {
namespace node {
class Node;
}
namespace store {
class Store;
struct StoredObject;
}  // namespace store
namespace bus {
class ChangeBus;
}
namespace sharing {
class SharingPolicy;
}
namespace api {
class ApiService;
}
namespace taxii {
class TaxiiService;
struct ReadScope;
}  // namespace taxii
namespace auth {
class Authenticator;
class SessionTable;
}  // namespace auth
namespace correlation {
class Correlator;
}
}  // namespace kizuna

namespace kizuna::platform {

struct NodeServices {
  node::Node* node = nullptr;
  store::Store* store = nullptr;
  bus::ChangeBus* bus = nullptr;
  // The sharing decision in force (it changes when kizuna.toml does): every
  // path that hands data to anyone outside the home team asks it.
  std::function<std::shared_ptr<const sharing::SharingPolicy>()> policy;

  // The capabilities that predate the platform.
  api::ApiService* api = nullptr;
  taxii::TaxiiService* taxii = nullptr;
  correlation::Correlator* correlator = nullptr;
  // What a user may read of a collection: whether at all (grants, and for a
  // partner the collections shared with it) and which versions (the sharing
  // decision at the TAXII boundary). Every reader of objects outside TAXII
  // (the web console) asks these two, so it never shows more than TAXII.
  std::function<Result<bool>(const store::User&, const store::Collection&)> may_read;
  std::function<taxii::ReadScope(const store::User&, const store::Collection&)> read_scope;
  // API keys (with the failure limits) and the web console's sessions.
  auth::Authenticator* authenticator = nullptr;
  auth::SessionTable* sessions = nullptr;
  // Records in the federation audit log what left for a partner
  // (`peer`), by `channel` ("read", "stream", "export/rpz", …).
  std::function<void(const std::string& peer, std::string_view channel,
                     const std::string& collection_id, const std::vector<store::StoredObject>&)>
      audit_sent;
  RouteHandler stream;                    // a collection's live stream
  std::function<void()> stop_federation;  // stops the peer workers
};

}  // namespace kizuna::platform
