// kizuna's own REST API under /api/v1/: who am I, the node's identity, and
// the administration of users, API keys, organizations, collections and
// grants (admins only, except a user's own keys). Pure handlers over the
// store, like the TAXII service; the router authenticates first. Thread-safe.
#pragma once

#include "correlation/correlator.h"
#include "correlation/sightings.h"
#include "http/http.h"
#include "node/node.h"
#include "store/store.h"

namespace kizuna::api {

class ApiService {
 public:
  // `correlator` and `sightings` may be null: /api/v1/match then answers 503.
  ApiService(store::Store& store, node::NodeIdentity identity,
             correlation::Correlator* correlator = nullptr,
             correlation::SightingRecorder* sightings = nullptr)
      : store_(store),
        identity_(std::move(identity)),
        correlator_(correlator),
        sightings_(sightings) {}

  // Serves every path under /api/v1/.
  http::Response Handle(const http::Request& request, const store::User& user);

 private:
  http::Response Match(const http::Request& request, const store::User& user);

  store::Store& store_;
  const node::NodeIdentity identity_;
  correlation::Correlator* correlator_;
  correlation::SightingRecorder* sightings_;
};

}  // namespace kizuna::api
