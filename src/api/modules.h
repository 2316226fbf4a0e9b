// The REST API's capabilities as platform modules, wired by the daemon:
//   core      whoami, the node, users, API keys, organizations, collections
//             and grants (paths that predate the platform: /api/v1/users, …)
//   matching  POST /api/v1/match and /api/v1/correlation/stats; keeps the
//             correlation index in step with the change bus on its own thread
//   peers     /api/v1/peers and the live stream of a collection
//             (/api/v1/collections/{id}/stream), whose handler the daemon
//             supplies (it needs the node's sharing and audit wiring)
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

class PeersModule final : public platform::Module {
 public:
  using StreamHandler = platform::RouteHandler;
  // `stop_federation` stops the peer workers (the daemon owns them).
  PeersModule(ApiService& api, StreamHandler stream, std::function<void()> stop_federation)
      : api_(api), stream_(std::move(stream)), stop_federation_(std::move(stop_federation)) {}
  std::string_view name() const override { return "peers"; }
  void AddRoutes(platform::RouteTable& routes) override;
  void Stop() override {
    if (stop_federation_) stop_federation_();
  }

 private:
  ApiService& api_;
  StreamHandler stream_;
  std::function<void()> stop_federation_;
};

}  // namespace kizuna::api
