// The running node (`kizuna serve`): wires the concrete store, the
// authenticator and the services into one HTTP handler (Router) and runs the
// HTTP server until SIGINT/SIGTERM. The only place that knows every component.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api/api.h"
#include "auth/auth.h"
#include "auth/sessions.h"
#include "bus/bus.h"
#include "correlation/correlator.h"
#include "correlation/sightings.h"
#include "federation/audit.h"
#include "federation/federation.h"
#include "federation/stream.h"
#include "http/http.h"
#include "node/node.h"
#include "platform/module.h"
#include "platform/services.h"
#include "taxii/taxii.h"

namespace kizuna::daemon {

// The per-identity rate limit on heavy routes ([limits] heavy_*).
platform::PlatformOptions PlatformOptionsFrom(const node::NodeConfig& config);
// The HTTP server's options ([server], [limits]): its worker lanes are
// kWorkLane ([limits] worker_threads, worker_queue) and kImportLane
// (import_threads, import_queue); without `lane_of` (ServerLaneOf of the
// router) and the TLS files.
http::ServerOptions ServerOptionsFrom(const node::NodeConfig& config);
inline constexpr int kWorkLane = 0;
inline constexpr int kImportLane = 1;
// The server lane of a route's platform::Lane: -1 (the I/O thread),
// kWorkLane or kImportLane.
int ServerLane(platform::Lane lane);

// Authenticates every request, then dispatches: /taxii2/ → TAXII 2.1,
// /api/v1/collections/{id}/stream → the live stream, /api/v1/ → REST API.
// Applies the sharing policy to every read, verifies partners' signatures on
// what they write and signs what partners read. Thread-safe.
class Router {
 public:
  explicit Router(node::Node& node, std::shared_ptr<const correlation::WarningLists> warninglists);
  http::Response Handle(const http::Request& request);
  // The lane of the route the request goes to (matching: kWork, a TAXII
  // POST: kImport, the rest kIo): the HTTP server runs Handle there
  // (ServerLane). Cheap, no store work.
  platform::Lane LaneOf(const http::Request& request) const { return platform_.LaneOf(request); }
  // What GET /api/v1/node reports to admins as "work": the running server's
  // lanes (http::Server::Lanes). Set once the server runs; thread-safe.
  void SetWorkLanes(std::function<std::vector<http::LaneStats>()> lanes);
  ~Router();

  // Starts the change bus, then the modules (the correlation index is
  // built from the store before this returns).
  Status Start();
  void Stop();
  // Applies a (re)loaded kizuna.toml: the federation's peers and policy; then
  // GET /api/v1/node reports its digest and a new generation.
  void ApplyConfig(const node::NodeConfig& config);

 private:
  http::Response Dispatch(const http::Request& request, const store::User& user);
  // A request with credentials: its API key, or the web console's session
  // cookie standing for one (auth/sessions.h).
  http::Response Authenticated(const http::Request& request, std::string* who);
  http::Response Stream(const http::Request& request, const store::User& user,
                        const std::string& collection);
  taxii::ReadScope ScopeFor(const store::User& user, const store::Collection& collection);
  // Who a user writes as: the home team, an outside organization or a partner.
  taxii::Writer WriterOf(const store::User& user);
  // Whether a user may read a collection: its grants (admins: all) and, for a
  // partner, the collections shared with it.
  Result<bool> MayRead(const store::User& user, const store::Collection& collection);
  void AuditSent(const std::string& peer, std::string_view channel,
                 const std::string& collection_id, const std::vector<store::StoredObject>& objects);

  node::Node& node_;
  bus::ChangeBus bus_;  // first in, last out: the others subscribe to it
  federation::AuditLog audit_;
  federation::Federation federation_;
  auth::Authenticator authenticator_;
  auth::SessionTable sessions_;  // the web console's sign-ins
  correlation::Correlator correlator_;
  correlation::SightingRecorder sightings_;
  taxii::TaxiiService taxii_;
  api::ApiService api_;
  mutable std::mutex config_mutex_;
  api::ApiService::ConfigState config_state_;
  std::function<std::vector<http::LaneStats>()> work_lanes_;  // guarded by config_mutex_
  platform::NodeServices services_;                           // what the modules are built with
  // The node's capabilities as modules (routes, jobs, start/stop), in order.
  platform::Platform platform_{node_.store(), PlatformOptionsFrom(node_.config())};
};

// The warning lists a node's config names, with the built-in ones.
Result<std::shared_ptr<const correlation::WarningLists>> LoadWarningLists(const node::Node& node);
correlation::CorrelatorOptions CorrelatorOptionsFrom(const node::NodeConfig& config);
// Where a node keeps its correlation snapshot (Correlator::SaveSnapshot).
std::string CorrelationSnapshotPath(const node::Node& node);
correlation::SightingOptions SightingOptionsFrom(const node::NodeConfig& config);

taxii::TaxiiOptions TaxiiOptionsFrom(const node::NodeConfig& config);

// The node's modules, in start order: the one list a capability is added to.
// Built with the running node's services by the Router; with nullptr by the
// CLI, which asks them for their subcommands and to check their sections.
std::vector<std::unique_ptr<platform::Module>> NodeModules(const platform::NodeServices* services);

// Whether each module accepts its section of `config` and every section is
// some module's (platform::ConfigureModules); `source` names the file.
Status CheckModuleConfig(const node::NodeConfig& config, std::string_view source);

// Runs `kizuna serve DIR` until a termination signal. Prints the URL on stdout.
Status Serve(const std::string& dir);

}  // namespace kizuna::daemon
