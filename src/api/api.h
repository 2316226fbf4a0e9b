// kizuna's own REST API under /api/v1/: who am I, the node's identity, and
// the administration of users, API keys, organizations, collections,
// grants and federation peers (admins only, except a user's own keys). Pure handlers over the
// store, like the TAXII service; the router authenticates first. Thread-safe.
#pragma once

#include <functional>

#include "api/peers.h"
#include "correlation/correlator.h"
#include "correlation/sightings.h"
#include "http/http.h"
#include "node/node.h"
#include "store/store.h"

namespace kizuna::api {

class ApiService {
 public:
  // `correlator` and `sightings` may be null: /api/v1/match then answers 503.
  // Without `peers.config_path`, /api/v1/peers answers 503.
  ApiService(store::Store& store, node::NodeIdentity identity,
             correlation::Correlator* correlator = nullptr,
             correlation::SightingRecorder* sightings = nullptr, PeerAdmin peers = {})
      : store_(store),
        identity_(std::move(identity)),
        correlator_(correlator),
        sightings_(sightings),
        peers_(std::move(peers)) {}

  // Serves every path under /api/v1/.
  http::Response Handle(const http::Request& request, const store::User& user);

  // The sharing policy for match answers: for a user, which stored indicator
  // versions (in which collection) it may learn about (empty function: all
  // it can read). Without one, collection grants alone decide.
  using ReleaseFilter = std::function<std::function<bool(
      const std::string& collection_id, const store::StoredObject&)>(const store::User&)>;
  void SetReleaseFilter(ReleaseFilter filter) { release_filter_ = std::move(filter); }

 private:
  http::Response Match(const http::Request& request, const store::User& user);
  // /api/v1/peers and /api/v1/peers/{name} (seg: "peers", …); admins only.
  http::Response Peers(const http::Request& request, const std::vector<std::string>& seg);

  store::Store& store_;
  const node::NodeIdentity identity_;
  correlation::Correlator* correlator_;
  correlation::SightingRecorder* sightings_;
  const PeerAdmin peers_;
  ReleaseFilter release_filter_;
};

}  // namespace kizuna::api
