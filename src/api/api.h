// kizuna's own REST API under /api/v1/: who am I, the node's identity, and
// the administration of users, API keys, organizations, collections and
// grants (admins only, except a user's own keys). Pure handlers over the
// store, like the TAXII service; the router authenticates first. Thread-safe.
#pragma once

#include "http/http.h"
#include "node/node.h"
#include "store/store.h"

namespace kizuna::api {

class ApiService {
 public:
  ApiService(store::Store& store, node::NodeIdentity identity)
      : store_(store), identity_(std::move(identity)) {}

  // Serves every path under /api/v1/.
  http::Response Handle(const http::Request& request, const store::User& user);

 private:
  store::Store& store_;
  const node::NodeIdentity identity_;
};

}  // namespace kizuna::api
