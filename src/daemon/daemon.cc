#include "daemon/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "alerts/module.h"
#include "api/modules.h"
#include "common/encoding.h"
#include "common/time.h"
#include "console/module.h"
#include "coordination/module.h"
#include "federation/boundary.h"
#include "federation/module.h"
#include "federation/signing.h"
#include "geo/module.h"
#include "interop/misp_peer.h"
#include "interop/module.h"
#include "pattern/pattern.h"
#include "taxii/module.h"
#include "telescope/module.h"

namespace kizuna::daemon {

taxii::TaxiiOptions TaxiiOptionsFrom(const node::NodeConfig& config) {
  taxii::TaxiiOptions options;
  options.api_root = config.taxii.api_root;
  options.title = config.taxii.title;
  options.description = config.taxii.description;
  options.contact = config.taxii.contact;
  options.public_url = config.server.public_url;
  options.max_body_bytes = config.limits.max_body_bytes;
  options.max_page_size = config.limits.max_page_size;
  options.default_page_size = config.limits.default_page_size;
  options.ingest.max_objects_per_request = config.limits.max_objects_per_request;
  options.ingest.max_json_depth = config.limits.max_json_depth;
  options.ingest.pattern_checker = &pattern::CheckStixPattern;
  return options;
}

platform::PlatformOptions PlatformOptionsFrom(const node::NodeConfig& config) {
  platform::PlatformOptions options;
  options.heavy_rate_limit.rate_per_second = config.limits.heavy_requests_per_second;
  options.heavy_rate_limit.burst = config.limits.heavy_burst;
  options.heavy_in_flight_per_user = config.limits.heavy_in_flight_per_user;
  return options;
}

http::ServerOptions ServerOptionsFrom(const node::NodeConfig& config) {
  http::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.threads = config.server.threads;
  options.max_body_bytes = config.limits.max_body_bytes;
  options.read_timeout_seconds = config.server.read_timeout_seconds;
  options.lanes.resize(2);
  options.lanes[kWorkLane] = {.name = "work",
                              .threads = config.limits.worker_threads,
                              .queue = static_cast<size_t>(config.limits.worker_queue)};
  options.lanes[kImportLane] = {.name = "import",
                                .threads = config.limits.import_threads,
                                .queue = static_cast<size_t>(config.limits.import_queue)};
  return options;
}

int ServerLane(platform::Lane lane) {
  switch (lane) {
    case platform::Lane::kWork:
      return kWorkLane;
    case platform::Lane::kImport:
      return kImportLane;
    case platform::Lane::kIo:
      break;
  }
  return -1;
}

correlation::CorrelatorOptions CorrelatorOptionsFrom(const node::NodeConfig& config) {
  correlation::CorrelatorOptions options;
  options.max_results = config.correlation.max_results;
  options.exclude_warninglisted = config.correlation.exclude_warninglisted;
  return options;
}

correlation::SightingOptions SightingOptionsFrom(const node::NodeConfig& config) {
  correlation::SightingOptions options;
  options.period_seconds = config.correlation.sighting_period_seconds;
  options.collection_alias = sharing::kSightingsAlias;
  return options;
}

std::string CorrelationSnapshotPath(const node::Node& node) {
  return node.dir() + "/" + std::string(correlation::Correlator::kSnapshotFile);
}

Result<std::shared_ptr<const correlation::WarningLists>> LoadWarningLists(const node::Node& node) {
  auto lists = std::make_shared<correlation::WarningLists>();
  lists->AddBuiltins();
  for (const auto& file : node.config().correlation.warninglists) {
    Status loaded = lists->LoadMispFile(node.Resolve(file));
    if (!loaded.ok()) return InvalidArgument("correlation.warninglists: " + loaded.message());
  }
  return std::shared_ptr<const correlation::WarningLists>(std::move(lists));
}

namespace {

federation::FederationContext ContextFor(node::Node& node, federation::AuditLog& audit,
                                         bus::ChangeBus& bus) {
  federation::FederationContext context;
  context.node = &node;
  context.audit = &audit;
  context.bus = &bus;
  context.ingest = TaxiiOptionsFrom(node.config()).ingest;
  context.misp_peer = &interop::MakeMispPeer;
  return context;
}

}  // namespace

Router::Router(node::Node& node, std::shared_ptr<const correlation::WarningLists> warninglists)
    : node_(node),
      bus_(node.store(),
           [&] {
             bus::BusOptions options;
             options.wake_socket = bus::WakeSocketPath(node.dir());
             return options;
           }()),
      audit_(node.dir() + "/audit.log"),
      federation_(ContextFor(node, audit_, bus_)),
      authenticator_(node.store(),
                     [&] {
                       auth::FailureLimits limits;
                       const node::LimitsConfig& config = node.config().limits;
                       limits.per_address = config.auth_failures_per_address;
                       limits.per_key_id = config.auth_failures_per_key_id;
                       limits.window_us = int64_t{config.auth_failure_window_seconds} * 1'000'000;
                       return limits;
                     }()),
      correlator_(node.store(), CorrelatorOptionsFrom(node.config()), std::move(warninglists)),
      sightings_(node.store(), node.identity().identity_id, node.identity().name,
                 SightingOptionsFrom(node.config())),
      taxii_(node.store(),
             [this] {
               taxii::TaxiiOptions options = TaxiiOptionsFrom(node_.config());
               options.read_policy = [this](const store::User& user,
                                            const store::Collection& collection) {
                 return ScopeFor(user, collection);
               };
               options.writer_of = [this](const store::User& user) { return WriterOf(user); };
               options.next_token_key = node_.DeriveKey("taxii next token");
               return options;
             }()),
      api_(node.store(), node.identity(), &correlator_, &sightings_,
           api::PeerAdmin{node.dir() + "/kizuna.toml", [this] {
                            std::map<std::string, std::string> statuses;
                            for (const federation::PeerStatus& status : federation_.Statuses()) {
                              statuses[status.name] = federation::PeerStatusToJson(status);
                            }
                            return statuses;
                          }}) {
  services_.node = &node_;
  services_.store = &node_.store();
  services_.bus = &bus_;
  services_.policy = [this] { return federation_.policy(); };
  services_.api = &api_;
  services_.taxii = &taxii_;
  services_.correlator = &correlator_;
  services_.may_read = [this](const store::User& user, const store::Collection& collection) {
    return MayRead(user, collection);
  };
  services_.read_scope = [this](const store::User& user, const store::Collection& collection) {
    return ScopeFor(user, collection);
  };
  services_.authenticator = &authenticator_;
  services_.sessions = &sessions_;
  services_.stream = [this](const http::Request& request, const store::User& user,
                            const platform::PathParams& params) {
    return Stream(request, user, params.Get("id"));
  };
  services_.stop_federation = [this] { federation_.Stop(); };
  services_.audit_sent = [this](const std::string& peer, std::string_view channel,
                                const std::string& collection_id,
                                const std::vector<store::StoredObject>& objects) {
    AuditSent(peer, channel, collection_id, objects);
  };
  for (auto& module : NodeModules(&services_)) platform_.Add(std::move(module));
  api_.SetMaxMatchWork(node.config().limits.max_match_work);
  api_.SetConfigState([this] {
    std::lock_guard lock(config_mutex_);
    return config_state_;
  });
  api_.SetWorkLanes([this] {
    std::function<std::vector<http::LaneStats>()> lanes;
    {
      std::lock_guard lock(config_mutex_);
      lanes = work_lanes_;
    }
    return lanes ? lanes() : std::vector<http::LaneStats>{};
  });
  api_.SetReleaseFilter([this](const store::User& user)
                            -> std::function<bool(const std::string&, const store::StoredObject&)> {
    std::shared_ptr<const sharing::SharingPolicy> policy = federation_.policy();
    sharing::Recipient recipient = policy->ForUser(user);
    if (recipient.kind == sharing::Recipient::Kind::kHome) return nullptr;
    return [this, policy, recipient](const std::string& collection_id,
                                     const store::StoredObject& object) {
      // A peer learns only of what is in the collections shared with it.
      if (recipient.kind == sharing::Recipient::Kind::kPeer) {
        auto collection = node_.store().GetCollection(collection_id);
        if (!collection.ok() || !policy->MayReadCollection(recipient, *collection)) return false;
      }
      return policy->MayRelease(object, recipient);
    };
  });
}

Router::~Router() { Stop(); }

void Router::ApplyConfig(const node::NodeConfig& config) {
  federation_.Reload(config);
  std::lock_guard lock(config_mutex_);
  ++config_state_.generation;
  config_state_.digest = config.digest;
}

void Router::SetWorkLanes(std::function<std::vector<http::LaneStats>()> lanes) {
  std::lock_guard lock(config_mutex_);
  work_lanes_ = std::move(lanes);
}

Status Router::Start() {
  KIZUNA_RETURN_IF_ERROR(platform_.Configure(node_.config(), node_.dir() + "/kizuna.toml"));
  // Partners find the sightings collection from the start: what they
  // produced and we sighted reaches them through it.
  KIZUNA_RETURN_IF_ERROR(
      correlation::EnsureSightingsCollection(node_.store(), sharing::kSightingsAlias,
                                             node_.identity().identity_id, node_.identity().name)
          .status());
  KIZUNA_RETURN_IF_ERROR(bus_.Start());
  return platform_.Start();
}

void Router::Stop() {
  platform_.Stop();
  bus_.Stop();
}

taxii::Writer Router::WriterOf(const store::User& user) {
  std::shared_ptr<const sharing::SharingPolicy> policy = federation_.policy();
  const sharing::Recipient recipient = policy->ForUser(user);
  taxii::Writer writer;
  writer.name = user.org_name + "/" + user.name;
  writer.admin = user.role == store::Role::kAdmin;
  // One read of the organizations: the node's identities, and the writer's own.
  auto organizations = node_.store().ListOrganizations();
  if (organizations.ok()) {
    writer.home_identities = taxii::HomeIdentities(node_.identity().identity_id, *organizations);
  }
  switch (recipient.kind) {
    case sharing::Recipient::Kind::kHome:
      writer.kind = taxii::Writer::Kind::kHome;
      break;
    case sharing::Recipient::Kind::kPeer:
      writer.kind = taxii::Writer::Kind::kPeer;
      writer.origin = recipient.name;
      writer.identity = federation_.PeerIdentity(recipient.name);
      break;
    default:
      writer.kind = taxii::Writer::Kind::kOrganization;
      writer.origin = store::OrgOrigin(user.org_name);
      if (organizations.ok()) {
        for (const store::Organization& organization : *organizations) {
          if (organization.id == user.org_id) writer.identity = organization.identity_id;
        }
      }
      break;
  }
  return writer;
}

taxii::ReadScope Router::ScopeFor(const store::User& user, const store::Collection& collection) {
  std::shared_ptr<const sharing::SharingPolicy> policy = federation_.policy();
  sharing::Recipient recipient = policy->ForUser(user);
  taxii::ReadScope scope;
  scope.may_read_collection = policy->MayReadCollection(recipient, collection);
  if (recipient.kind == sharing::Recipient::Kind::kHome) return scope;
  scope.admits = [policy, recipient](const store::StoredObject& object) {
    return policy->MayRelease(object, recipient);
  };
  if (recipient.kind == sharing::Recipient::Kind::kPeer) {
    const node::PeerConfig* peer = policy->PeerOfOrg(user.org_name);
    scope.partner_may_write =
        peer && (peer->into == collection.id ||
                 (!collection.alias.empty() && peer->into == collection.alias));
    // Every partner reads our sightings, alerts and coordination
    // collections (what is in them goes to whom the sharing decision says).
    scope.partner_may_read = peer && sharing::EveryPartnerReads(collection.alias);
    scope.on_release = [this, name = recipient.name](
                           const store::Collection& c,
                           const std::vector<store::StoredObject>& objects) {
      AuditSent(name, "read", c.id, objects);
    };
  }
  return scope;
}

void Router::AuditSent(const std::string& peer, std::string_view channel,
                       const std::string& collection_id,
                       const std::vector<store::StoredObject>& objects) {
  std::vector<federation::AuditEntry> entries;
  entries.reserve(objects.size());
  for (const store::StoredObject& o : objects) {
    entries.push_back({o.id, taxii::TaxiiTimestamp(o.version_us), "sent"});
  }
  audit_.Record("sent", peer, channel, collection_id, entries);
}

Result<bool> Router::MayRead(const store::User& user, const store::Collection& collection) {
  const taxii::ReadScope scope = ScopeFor(user, collection);
  bool granted = user.role == store::Role::kAdmin || scope.partner_may_read;
  if (!granted) {
    KIZUNA_ASSIGN_OR_RETURN(store::Grant rights, node_.store().RightsOf(user, collection.id));
    granted = rights.can_read;
  }
  return granted && scope.may_read_collection;
}

http::Response Router::Stream(const http::Request& request, const store::User& user,
                              const std::string& collection_name) {
  if (request.method != "GET") {
    return http::ErrorResponse(405, "Method not allowed", "the live stream is read with GET");
  }
  // A collection the user may not read is answered like a missing one.
  auto not_found = [&] {
    return http::ErrorResponse(404, "Collection not found",
                               "no collection '" + collection_name + "'");
  };
  auto collection = node_.store().GetCollection(collection_name);
  if (!collection.ok()) return not_found();
  auto may_read = MayRead(user, *collection);
  if (!may_read.ok())
    return http::ErrorResponse(500, "Internal error", may_read.status().message());
  if (!*may_read) return not_found();
  federation::StreamOptions options;
  options.collection_id = collection->id;
  std::string_view last_id = request.headers.Get("Last-Event-ID");
  if (last_id.empty()) last_id = request.Query("last_event_id");
  if (!last_id.empty()) {
    int64_t after = 0;
    auto [ptr, ec] = std::from_chars(last_id.data(), last_id.data() + last_id.size(), after);
    if (ec != std::errc() || ptr != last_id.data() + last_id.size() || after < 0) {
      return http::ErrorResponse(400, "Invalid Last-Event-ID",
                                 "Last-Event-ID is the id of the last event received (a number)");
    }
    options.after_seq = after;
  } else {
    // A new subscriber starts with what arrives from now on: sequence
    // numbers are the store's microsecond clock, which only moves forward.
    options.after_seq = SystemClock::Instance().NowMicros();
  }
  // A stream lives long: it follows the policy as kizuna.toml changes, not
  // the one in force when it opened.
  struct CurrentRecipient {
    std::shared_ptr<const sharing::SharingPolicy> policy;
    sharing::Recipient recipient;
  };
  auto current = std::make_shared<CurrentRecipient>();
  options.admits = [this, user, current](const store::StoredObject& object) {
    std::shared_ptr<const sharing::SharingPolicy> policy = federation_.policy();
    if (policy != current->policy) {
      current->recipient = policy->ForUser(user);
      current->policy = std::move(policy);
    }
    return current->policy->MayRelease(object, current->recipient);
  };
  const std::shared_ptr<const sharing::SharingPolicy> policy = federation_.policy();
  const sharing::Recipient recipient = policy->ForUser(user);
  if (recipient.kind == sharing::Recipient::Kind::kPeer) {
    options.on_release = [this, name = recipient.name,
                          id = collection->id](const std::vector<store::StoredObject>& objects) {
      AuditSent(name, "stream", id, objects);
    };
  }
  // The stream goes on while its reader's rights stay as they were when it
  // opened: when they change the stream ends, and a kizuna partner (told the
  // entitlement in the first event) pulls again from the beginning.
  options.entitlement = policy->Entitlement(recipient);
  options.still_allowed = [this, authorization = std::string(request.headers.Get("Authorization")),
                           session = std::string(request.headers.Get(auth::kSessionAuthHeader)),
                           collection = *collection, opened = options.entitlement] {
    // A console's stream ends with its session (sign-out, expiry).
    if (!session.empty() && !sessions_.IsLive(session)) return false;
    auto current = authenticator_.Authenticate(authorization);
    if (!current.ok()) return false;
    auto may_read = MayRead(*current, collection);
    if (!may_read.ok() || !*may_read) return false;
    std::shared_ptr<const sharing::SharingPolicy> now = federation_.policy();
    return now->Entitlement(now->ForUser(*current)) == opened;
  };
  options.sign = [this](std::string_view data) { return Base64Encode(node_.Sign(data)); };
  options.bus = &bus_;
  return federation::StreamResponse(std::move(options));
}

http::Response Router::Dispatch(const http::Request& request, const store::User& user) {
  const bool is_taxii = request.path.rfind("/taxii2/", 0) == 0 || request.path == "/taxii2";
  // Held for the whole request: peer_config points into it, and kizuna.toml
  // may be reloaded meanwhile.
  const std::shared_ptr<const sharing::SharingPolicy> policy = federation_.policy();
  const node::PeerConfig* peer_config = policy->PeerOfOrg(user.org_name);
  const std::string peer = peer_config ? peer_config->name : "";
  const sharing::Recipient recipient = policy->ForUser(user);
  if (auto refusal =
          federation::CheckInbound(request, is_taxii, recipient, peer_config, user.org_name)) {
    if (!refusal->audit_channel.empty()) {
      spdlog::warn("peer {}: refused a request: {}", peer, refusal->description);
      audit_.Record("received", peer, refusal->audit_channel, request.path,
                    {{"", "", refusal->audit_outcome}});
    }
    return http::ErrorResponse(refusal->status, refusal->title, refusal->description);
  }
  http::Response response = platform_.Dispatch(request, user);
  if (is_taxii && request.method == "POST" && response.status == 202) bus_.Notify();
  if (is_taxii && request.method == "DELETE" && response.status == 200) bus_.Notify();
  if (is_taxii && response.status == 200 && recipient.kind != sharing::Recipient::Kind::kHome) {
    response.headers.Set(sharing::kEntitlementHeader, policy->Entitlement(recipient));
  }
  if (federation::MustSign(request, response, peer_config)) {
    response.headers.Set(federation::kSignatureHeader, Base64Encode(node_.Sign(response.body)));
  }
  return response;
}

http::Response Router::Authenticated(const http::Request& request, std::string* who) {
  const std::string_view authorization = request.headers.Get("Authorization");
  // A change a browser makes from a page of another origin is refused,
  // however it authenticates (a session's cookie, or a key the browser
  // keeps for Basic authentication and sends by itself). Non-browser
  // clients send no Origin.
  const std::string_view origin = request.headers.Get("Origin");
  const std::string& public_url = node_.config().server.public_url;
  if (!auth::IsSafeMethod(request.method) && !origin.empty() &&
      !auth::IsOwnOrigin(origin, request.headers.Get("Host"), request.tls, public_url)) {
    spdlog::info("request from {}: 403: {} {} from another origin", request.remote_address,
                 request.method, request.path);
    return http::ErrorResponse(403, "Forbidden", "a change from a page of another origin");
  }
  const bool is_public = platform_.IsPublic(request);
  auth::AuthOutcome outcome;
  std::optional<http::Request> with_key;  // a session's request, with the key it stands for
  // A public route (an e-mailed link's page) is served without the session:
  // its form carries no CSRF token.
  const std::string session_id =
      authorization.empty() && !is_public
          ? auth::SessionIdFromCookies(request.headers.Get("Cookie"),
                                       auth::BrowserUsesTls(request.tls, public_url))
          : "";
  if (std::optional<auth::Session> session = sessions_.Use(session_id)) {
    if (!auth::CheckCsrf(request.method, *session, request.headers.Get(auth::kCsrfHeader),
                         request.headers.Get("Origin"), request.headers.Get("Host"), request.tls,
                         public_url)) {
      spdlog::info("console session from {}: 403: CSRF check failed on {} {}",
                   request.remote_address, request.method, request.path);
      return http::ErrorResponse(403, "Forbidden",
                                 "a change made with the console's session needs its CSRF token "
                                 "and the node's own origin");
    }
    with_key = request;
    with_key->headers.Set("Authorization", "Bearer " + session->api_key);
    with_key->headers.Set(std::string(auth::kSessionAuthHeader), session_id);
    // The key was verified at sign-in: the limits that slow a guesser down
    // do not apply, but revocation and disabling do (Authenticate).
    outcome.user = authenticator_.Authenticate(with_key->headers.Get("Authorization"));
    if (!outcome.user.ok()) sessions_.Close(session_id);
  } else if (!authorization.empty() || !is_public) {
    outcome = authenticator_.AuthenticateRequest(authorization, request.remote_address);
  } else {
    // An explicitly public route (RouteOptions::is_public): its handler
    // checks a secret of its own, or serves nothing secret (the console's
    // page and sign-in); the anonymous user has no organization.
    *who = "public";
    return platform_.Dispatch(request, store::User{});
  }
  if (outcome.user.ok()) {
    *who = outcome.user->org_name + "/" + outcome.user->name;
    if (with_key) return Dispatch(*with_key, *outcome.user);
    if (request.headers.Has(auth::kSessionAuthHeader)) {
      // The marker is the daemon's own: a client's is dropped.
      http::Request cleaned = request;
      cleaned.headers.Set(std::string(auth::kSessionAuthHeader), "");
      return Dispatch(cleaned, *outcome.user);
    }
    return Dispatch(request, *outcome.user);
  }
  if (outcome.limited) {
    // No detail: which limit (address or key id) is not the client's business.
    spdlog::debug("auth from {}: 429: {}", request.remote_address, outcome.log_reason);
    http::Response response =
        http::ErrorResponse(429, "Too many requests", auth::kTooManyFailuresMessage);
    response.headers.Set("Retry-After", std::to_string(outcome.retry_after_seconds));
    return response;
  }
  if (outcome.user.status().code() == Code::kUnauthenticated) {
    if (!outcome.log_reason.empty() && outcome.log_reason != "no credentials") {
      spdlog::info("auth from {}: 401: {}", request.remote_address, outcome.log_reason);
    }
    http::Response response =
        http::ErrorResponse(401, "Unauthorized", outcome.user.status().message());
    // Not to a browser (the console's header, a stale session's cookie, or
    // the Sec-Fetch-* headers every current browser sends): it would ask
    // for a password in a dialog of its own, and then send that key by
    // itself with requests other sites make.
    if (!with_key && !request.headers.Has(auth::kConsoleHeader) && session_id.empty() &&
        !request.headers.Has("Sec-Fetch-Mode")) {
      response.headers.Set("WWW-Authenticate", "Basic realm=\"kizuna\"");
    }
    return response;
  }
  spdlog::error("auth from {}: {}", request.remote_address, outcome.user.status().ToString());
  return http::ErrorResponse(500, "Internal error", "authentication failed");
}

http::Response Router::Handle(const http::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  http::Response response;
  std::string who = "-";
  const bool is_taxii = request.path.rfind("/taxii2/", 0) == 0 || request.path == "/taxii2";
  const bool is_api = request.path.rfind("/api/v1/", 0) == 0;
  if (is_taxii || is_api) {
    response = Authenticated(request, &who);
  } else if (platform_.IsPublic(request)) {
    // The web console's page and assets (src/console): nothing in them is
    // data; what they show comes from the API, with its authentication.
    who = "public";
    response = platform_.Dispatch(request, store::User{});
  } else {
    // The path is not echoed: error bodies never carry request bytes.
    response = http::ErrorResponse(
        404, "Not found", "no such endpoint (TAXII 2.1 is at /taxii2/, the REST API at /api/v1/)");
  }
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  spdlog::debug("{} {} {} {} {}us", request.method, request.path, response.status, who, micros);
  return response;
}

std::vector<std::unique_ptr<platform::Module>> NodeModules(const platform::NodeServices* services) {
  // The node's capabilities, in start order: a new one adds its line here.
  std::vector<std::unique_ptr<platform::Module>> modules;
  modules.push_back(std::make_unique<api::CoreModule>(services));
  modules.push_back(std::make_unique<taxii::TaxiiModule>(services));
  modules.push_back(std::make_unique<api::MatchingModule>(services));
  modules.push_back(std::make_unique<federation::PeersModule>(services));
  modules.push_back(std::make_unique<telescope::TelescopeModule>(services));
  modules.push_back(std::make_unique<geo::GeoModule>(services));
  modules.push_back(std::make_unique<alerts::AlertsModule>(services));
  modules.push_back(std::make_unique<coordination::CoordinationModule>(services));
  modules.push_back(std::make_unique<interop::InteropModule>(services));
  modules.push_back(std::make_unique<console::ConsoleModule>(services));
  return modules;
}

Status CheckModuleConfig(const node::NodeConfig& config, std::string_view source) {
  return platform::ConfigureModules(NodeModules(nullptr), config, source);
}

Status Serve(const std::string& dir) {
  // A change made while the node starts (a `kizuna peer add` right after the
  // URL is printed) is not missed: the watcher below compares the file's
  // content with the digest of the text the node loaded.
  KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> node, node::Node::Open(dir));
  const node::NodeConfig& config = node->config();
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  const bool tls = !config.server.tls_cert.empty();
  if (!tls && !node::IsLoopbackHost(config.server.host) && !config.server.allow_plain_http) {
    return FailedPrecondition("server.listen " + config.server.host +
                              " is not loopback: configure tls_cert/tls_key, or set "
                              "server.allow_plain_http = true");
  }
  KIZUNA_ASSIGN_OR_RETURN(auto warninglists, LoadWarningLists(*node));
  Router router(*node, warninglists);
  // The correlation index is built before serving, so the first match is fast.
  KIZUNA_RETURN_IF_ERROR(router.Start());
  http::ServerOptions options = ServerOptionsFrom(config);
  // Matching and imports run on the server's worker lanes, each its own pool.
  options.lane_of = [&router](const http::Request& r) { return ServerLane(router.LaneOf(r)); };
  if (tls) {
    options.tls_cert_file = node->Resolve(config.server.tls_cert);
    options.tls_key_file = node->Resolve(config.server.tls_key);
  }

  // Block the termination signals before the server's threads start, so that
  // only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  KIZUNA_ASSIGN_OR_RETURN(
      std::unique_ptr<http::Server> server,
      http::Server::Start(options, [&router](const http::Request& r) { return router.Handle(r); }));
  std::string host = config.server.host.find(':') != std::string::npos
                         ? "[" + config.server.host + "]"
                         : config.server.host;
  router.SetWorkLanes([server = server.get()] { return server->Lanes(); });
  std::printf(
      "kizuna node '%s' serving at %s://%s:%u/\n  TAXII 2.1: /taxii2/   REST API: /api/v1/\n",
      config.name.c_str(), tls ? "https" : "http", host.c_str(), server->port());
  std::fflush(stdout);
  spdlog::info("serving {} on {}:{}", config.name, host, server->port());

  // Federation: start the peers, and follow kizuna.toml so that `kizuna peer
  // add/remove` (or an edit) applies without a restart.
  router.ApplyConfig(config);
  std::atomic<bool> stopping{false};
  std::thread config_watcher([&] {
    const std::string path = node->dir() + "/kizuna.toml";
    // By content, not modification time: two writes within one timestamp
    // tick (a remove then an add) must not leave the second unapplied.
    std::string applied = config.digest, refused;
    while (!stopping.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;
      std::stringstream text;
      text << in.rdbuf();
      const std::string digest = node::ConfigDigest(text.str());
      if (digest == applied || digest == refused) continue;
      auto reloaded = node::ParseConfig(text.str(), path);
      if (reloaded.ok()) {
        if (Status checked = CheckModuleConfig(*reloaded, path); !checked.ok()) {
          reloaded = checked;
        }
      }
      if (!reloaded.ok()) {
        refused = digest;  // said once, not every 250 ms
        spdlog::error("kizuna.toml changed but does not load, keeping the running config: {}",
                      reloaded.status().message());
        continue;
      }
      reloaded->digest = applied = digest;
      if (reloaded->sections != config.sections) {
        spdlog::warn("kizuna.toml: a module's section changed; it applies when the node restarts");
      }
      spdlog::info("kizuna.toml changed: {} peer(s) configured", reloaded->peers.size());
      router.ApplyConfig(*reloaded);
    }
  });
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("signal {} received, stopping", received);
  stopping = true;
  config_watcher.join();
  server->Stop();
  router.SetWorkLanes(nullptr);  // the server goes before the router
  router.Stop();
  return Status::Ok();
}

}  // namespace kizuna::daemon
