#include "daemon/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "pattern/pattern.h"

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
  options.ingest.default_tlp = config.sharing.default_tlp;
  options.ingest.pattern_checker = &pattern::CheckStixPattern;
  return options;
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
  return options;
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

Router::Router(node::Node& node, std::shared_ptr<const correlation::WarningLists> warninglists)
    : node_(node),
      authenticator_(node.store()),
      correlator_(node.store(), CorrelatorOptionsFrom(node.config()), std::move(warninglists)),
      sightings_(node.store(), node.identity().identity_id, node.identity().name,
                 SightingOptionsFrom(node.config())),
      taxii_(node.store(), TaxiiOptionsFrom(node.config())),
      api_(node.store(), node.identity(), &correlator_, &sightings_) {}

http::Response Router::Handle(const http::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  http::Response response;
  std::string who = "-";
  const bool is_taxii = request.path.rfind("/taxii2/", 0) == 0 || request.path == "/taxii2";
  const bool is_api = request.path.rfind("/api/v1/", 0) == 0;
  if (!is_taxii && !is_api) {
    response = http::ErrorResponse(404, "Not found",
                                   "no such endpoint: " + request.path +
                                       " (TAXII 2.1 is at /taxii2/, the REST API at /api/v1/)");
  } else {
    auto user = authenticator_.Authenticate(request.headers.Get("Authorization"));
    if (!user.ok()) {
      if (user.status().code() == Code::kUnauthenticated) {
        response = http::ErrorResponse(401, "Unauthorized", user.status().message());
        response.headers.Set("WWW-Authenticate", "Basic realm=\"kizuna\"");
      } else {
        response = http::ErrorResponse(500, "Internal error",
                                       "authentication failed: " + user.status().message());
      }
    } else {
      who = user->org_name + "/" + user->name;
      response = is_taxii ? taxii_.Handle(request, *user) : api_.Handle(request, *user);
    }
  }
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  spdlog::debug("{} {} {} {} {}us", request.method, request.path, response.status, who, micros);
  return response;
}

Status Serve(const std::string& dir) {
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
  // Build the correlation index before serving, so the first match is fast.
  if (Status loaded = router.correlator().Refresh(); !loaded.ok()) {
    spdlog::warn("correlation index: {}", loaded.message());
  }
  auto stats = router.correlator().GetStats();
  spdlog::info("correlation: {} indicators indexed, {} evaluated by pattern", stats.indexed,
               stats.by_pattern);
  http::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.threads = config.server.threads;
  options.max_body_bytes = config.limits.max_body_bytes;
  options.read_timeout_seconds = config.server.read_timeout_seconds;
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
  std::printf(
      "kizuna node '%s' serving at %s://%s:%u/\n  TAXII 2.1: /taxii2/   REST API: /api/v1/\n",
      config.name.c_str(), tls ? "https" : "http", host.c_str(), server->port());
  std::fflush(stdout);
  spdlog::info("serving {} on {}:{}", config.name, host, server->port());
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("signal {} received, stopping", received);
  server->Stop();
  return Status::Ok();
}

}  // namespace kizuna::daemon
