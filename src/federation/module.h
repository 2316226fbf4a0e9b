// Federation as a platform module, "peers": the REST API of the [[peer]]
// entries (/api/v1/peers, from api::ApiService), the live stream of a
// collection (/api/v1/collections/{id}/stream; the daemon supplies its
// handler, which needs the node's sharing and audit wiring), the `kizuna
// peer …` subcommands, and stopping the peer workers with the node.
// Thread-safety: as platform::Module.
#pragma once

#include <functional>

#include "api/api.h"
#include "federation/peer_commands.h"
#include "platform/module.h"
#include "platform/services.h"

namespace kizuna::federation {

class PeersModule final : public platform::Module {
 public:
  explicit PeersModule(const platform::NodeServices* services) : services_(services) {}
  std::string_view name() const override { return "peers"; }
  void AddRoutes(platform::RouteTable& routes) override {
    services_->api->AddPeerRoutes(routes);
    routes.Add("GET", "/api/v1/collections/{id}/stream", services_->stream);
  }
  void AddCommands(CLI::App& app, int* exit_code) override { AddPeerCommands(app, exit_code); }
  void Stop() override {
    if (services_ && services_->stop_federation) services_->stop_federation();
  }

 private:
  const platform::NodeServices* services_;
};

}  // namespace kizuna::federation
