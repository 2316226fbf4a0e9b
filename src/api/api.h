// kizuna's own REST API under /api/v1/: who am I, the node's identity, and
// the administration of users, API keys, organizations, collections,
// grants and federation peers (admins only, except a user's own keys). Pure handlers over the
// store, like the TAXII service; the router authenticates first. The
// endpoints are routes on a platform::RouteTable (AddRoutes), so the daemon
// can serve them from the node's one table beside the modules' routes.
// Thread-safe once constructed (and SetReleaseFilter called).
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "api/peers.h"
#include "correlation/correlator.h"
#include "correlation/sightings.h"
#include "http/http.h"
#include "node/node.h"
#include "platform/route_table.h"
#include "store/store.h"

namespace kizuna::api {

class ApiService {
 public:
  // `correlator` and `sightings` may be null: /api/v1/match then answers 503.
  // Without `peers.config_path`, /api/v1/peers answers 503. `store`,
  // `correlator` and `sightings` are not owned and must outlive the service.
  ApiService(store::Store& store, node::NodeIdentity identity,
             correlation::Correlator* correlator = nullptr,
             correlation::SightingRecorder* sightings = nullptr, PeerAdmin peers = {});
  // The routes refer to this object: it stays where it was built.
  ApiService(const ApiService&) = delete;
  ApiService& operator=(const ApiService&) = delete;

  // Serves every path under /api/v1/ that this service knows, through its
  // own route table (AddRoutes): 404 for an unknown path, 405 (with
  // `Allow`) for a known path with another method.
  http::Response Handle(const http::Request& request, const store::User& user);

  // Registers this service's endpoints on `routes` (a node's platform table):
  //   GET  /api/v1/whoami, /api/v1/node, /api/v1/correlation/stats (admin)
  //   POST /api/v1/match; GET /api/v1/indicators/{id}/sightings
  //   GET, POST /api/v1/users (admin); GET /api/v1/users/{id};
  //   GET, POST /api/v1/users/{id}/keys; POST /api/v1/users/{id}/disable|enable
  //   DELETE /api/v1/keys/{key_id}; GET /api/v1/organizations (admin)
  //   GET, POST /api/v1/peers; DELETE /api/v1/peers/{name} (admin)
  //   GET, POST /api/v1/collections; DELETE /api/v1/collections/{id};
  //   GET, PUT, POST /api/v1/collections/{id}/grants (admin)
  // The handlers refer to this service, which must outlive `routes`' use.
  void AddRoutes(platform::RouteTable& routes);
  // The same, by capability: the core API (whoami, node, users, keys,
  // organizations, collections, grants), matching (match, correlation
  // stats) and federation peers.
  void AddCoreRoutes(platform::RouteTable& routes);
  void AddMatchingRoutes(platform::RouteTable& routes);
  void AddPeerRoutes(platform::RouteTable& routes);

  // The sharing policy for match answers: for a user, which stored indicator
  // versions (in which collection) it may learn about (empty function: all
  // it can read). Without one, collection grants alone decide. Set it before
  // the service serves requests.
  using ReleaseFilter = std::function<std::function<bool(
      const std::string& collection_id, const store::StoredObject&)>(const store::User&)>;
  void SetReleaseFilter(ReleaseFilter filter) { release_filter_ = std::move(filter); }

  // The configuration the running node applies: how many times it loaded
  // kizuna.toml, and the digest of the text it loaded last (node::ConfigDigest).
  // Shown by GET /api/v1/node as "config": {"generation", "digest"}, so that
  // whoever edits kizuna.toml can wait for the node to apply it.
  struct ConfigState {
    uint64_t generation = 0;
    std::string digest;
  };
  void SetConfigState(std::function<ConfigState()> state) { config_state_ = std::move(state); }

  // The HTTP server's worker lanes as they are now (http::Server::Lanes).
  // Shown to admins by GET /api/v1/node as "work": [{"name", "threads",
  // "queue", "queued", "running"}, …], so that an operator sees whether
  // matching or imports are waiting or refused. The function must be
  // thread-safe; set it before the service serves.
  void SetWorkLanes(std::function<std::vector<http::LaneStats>()> lanes) {
    work_lanes_ = std::move(lanes);
  }

  // The most pattern evaluations (observables × the patterns the index
  // cannot hold) one POST /api/v1/match may cost; a request that would cost
  // more is refused with 413 before any matching. Default 1,000,000 (the
  // node's [limits] max_match_work). Set it before the service serves.
  void SetMaxMatchWork(uint64_t work) { max_match_work_ = work; }

 private:
  http::Response Match(const http::Request& request, const store::User& user);
  // GET /api/v1/indicators/{id}/sightings: who sighted it, as the caller may see.
  http::Response IndicatorSightings(const store::User& user, const std::string& indicator_id);
  // The collections `user` may read (decisions cached in `rights`, which
  // must outlive the filter).
  correlation::CollectionFilter ReadableBy(const store::User& user,
                                           std::map<std::string, bool>& rights) const;
  // The sightings `user` may learn of: in collections it reads, and
  // released to it by the sharing policy.
  correlation::SightingFilter SightingsVisibleTo(
      const store::User& user, const correlation::CollectionFilter& readable) const;

  store::Store& store_;
  const node::NodeIdentity identity_;
  correlation::Correlator* correlator_;
  correlation::SightingRecorder* sightings_;
  const PeerAdmin peers_;
  ReleaseFilter release_filter_;
  std::function<ConfigState()> config_state_;
  std::function<std::vector<http::LaneStats>()> work_lanes_;
  uint64_t max_match_work_ = 1000000;
  platform::RouteTable routes_;  // what Handle serves; built by the constructor
};

}  // namespace kizuna::api
