// The REST API's capabilities as platform modules, wired by the daemon:
//   core      whoami, the node, users, API keys, organizations, collections
//             and grants (paths that predate the platform: /api/v1/users, …)
//   matching  POST /api/v1/match and /api/v1/correlation/stats; keeps the
//             correlation index in step with the change bus on its own thread
// (The peers module, with the federation, is federation/module.h.)
// Each holds references to services the daemon owns and that outlive it.
// Thread-safety: as platform::Module.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "api/api.h"
#include "bus/bus.h"
#include "correlation/correlator.h"
#include "platform/module.h"

namespace kizuna::api {

class CoreModule final : public platform::Module {
 public:
  explicit CoreModule(ApiService& api) : api_(api) {}
  std::string_view name() const override { return "core"; }
  void AddRoutes(platform::RouteTable& routes) override { api_.AddCoreRoutes(routes); }

 private:
  ApiService& api_;
};

class MatchingModule final : public platform::Module {
 public:
  MatchingModule(ApiService& api, correlation::Correlator& correlator, bus::ChangeBus& bus)
      : api_(api), correlator_(correlator), bus_(bus) {}
  ~MatchingModule() override { Stop(); }
  std::string_view name() const override { return "matching"; }
  void AddRoutes(platform::RouteTable& routes) override { api_.AddMatchingRoutes(routes); }
  // Builds the index from the store (every core), then follows the bus.
  Status Start() override;
  void Stop() override;

 private:
  void Follow();

  ApiService& api_;
  correlation::Correlator& correlator_;
  bus::ChangeBus& bus_;
  std::unique_ptr<bus::Subscription> subscription_;
  std::atomic<bool> stopping_{false};
  std::thread follower_;
};

}  // namespace kizuna::api
