// The running node (`kizuna serve`): wires the concrete store, the
// authenticator and the services into one HTTP handler (Router) and runs the
// HTTP server until SIGINT/SIGTERM. The only place that knows every component.
#pragma once

#include <memory>

#include "api/api.h"
#include "auth/auth.h"
#include "correlation/correlator.h"
#include "correlation/sightings.h"
#include "http/http.h"
#include "node/node.h"
#include "taxii/taxii.h"

namespace kizuna::daemon {

// Authenticates every request, then dispatches: /taxii2/ → TAXII 2.1,
// /api/v1/ → REST API. Thread-safe.
class Router {
 public:
  explicit Router(node::Node& node, std::shared_ptr<const correlation::WarningLists> warninglists);
  http::Response Handle(const http::Request& request);
  correlation::Correlator& correlator() { return correlator_; }

 private:
  node::Node& node_;
  auth::Authenticator authenticator_;
  correlation::Correlator correlator_;
  correlation::SightingRecorder sightings_;
  taxii::TaxiiService taxii_;
  api::ApiService api_;
};

// The warning lists a node's config names, with the built-in ones.
Result<std::shared_ptr<const correlation::WarningLists>> LoadWarningLists(const node::Node& node);
correlation::CorrelatorOptions CorrelatorOptionsFrom(const node::NodeConfig& config);
correlation::SightingOptions SightingOptionsFrom(const node::NodeConfig& config);

taxii::TaxiiOptions TaxiiOptionsFrom(const node::NodeConfig& config);

// Runs `kizuna serve DIR` until a termination signal. Prints the URL on stdout.
Status Serve(const std::string& dir);

}  // namespace kizuna::daemon
