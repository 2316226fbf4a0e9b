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

#include "platform/route_table.h"

namespace kizuna {
namespace node {
class Node;
}
namespace store {
class Store;
}
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
}
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
  RouteHandler stream;                    // a collection's live stream
  std::function<void()> stop_federation;  // stops the peer workers
};

}  // namespace kizuna::platform
