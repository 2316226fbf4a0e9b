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

#include <chrono>
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
  // Loads the index from the node's correlation snapshot and the store's
  // changes since (or builds it from the store, on every core), then
  // follows the bus, saving the snapshot every correlation.snapshot_seconds
  // while it changes and at Stop.
  Status Start() override;
  void Stop() override;

 private:
  void Follow();
  void SaveSnapshotIfChanged();

  const platform::NodeServices* services_;
  std::unique_ptr<bus::Subscription> subscription_;
  std::atomic<bool> stopping_{false};
  std::thread follower_;
  std::string snapshot_path_;
  int64_t saved_cursor_ = -1;  // the cursor of the last snapshot saved or loaded
  std::chrono::seconds snapshot_interval_{300};
};

}  // namespace kizuna::api
