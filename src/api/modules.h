// The REST API's capabilities as platform modules, wired by the daemon:
//   core      whoami, the node, users, API keys, organizations, collections
//             and grants (paths that predate the platform: /api/v1/users, …)
//   matching  POST /api/v1/match and /api/v1/correlation/stats; keeps the
//             correlation index in step with the change bus on its own thread
// (The peers module, with the federation, is federation/module.h.)
// Each is built from the node's services (platform/services.h); built
// without them (nullptr: the CLI) it is never started.
// Thread-safety: as platform::Module.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "api/api.h"
#include "bus/bus.h"
#include "correlation/correlator.h"
#include "platform/module.h"
#include "platform/services.h"

namespace kizuna::api {

class CoreModule final : public platform::Module {
 public:
  explicit CoreModule(const platform::NodeServices* services) : services_(services) {}
  std::string_view name() const override { return "core"; }
  void AddRoutes(platform::RouteTable& routes) override { services_->api->AddCoreRoutes(routes); }

 private:
  const platform::NodeServices* services_;
};

class MatchingModule final : public platform::Module {
 public:
  explicit MatchingModule(const platform::NodeServices* services) : services_(services) {}
  ~MatchingModule() override { Stop(); }
  std::string_view name() const override { return "matching"; }
  void AddRoutes(platform::RouteTable& routes) override {
    services_->api->AddMatchingRoutes(routes);
  }
  // Builds the index from the store (every core), then follows the bus.
  Status Start() override;
  void Stop() override;

 private:
  void Follow();

  const platform::NodeServices* services_;
  std::unique_ptr<bus::Subscription> subscription_;
  std::atomic<bool> stopping_{false};
  std::thread follower_;
};

}  // namespace kizuna::api
