// Federation as a platform module, "peers": the REST API of the [[peer]]
// entries (/api/v1/peers, from api::ApiService), the live stream of a
// collection (/api/v1/collections/{id}/stream; the daemon supplies its
// handler, which needs the node's sharing and audit wiring), the `kizuna
// peer …` subcommands, and stopping the peer workers with the node.
// Built without services (nullptr, empty functions) it only registers its
// commands, as the CLI does. Thread-safety: as platform::Module.
#pragma once

#include <functional>

#include "api/api.h"
#include "federation/peer_commands.h"
#include "platform/module.h"

namespace kizuna::federation {

class PeersModule final : public platform::Module {
 public:
  PeersModule(api::ApiService* api = nullptr, platform::RouteHandler stream = nullptr,
              std::function<void()> stop_federation = nullptr)
      : api_(api), stream_(std::move(stream)), stop_federation_(std::move(stop_federation)) {}
  std::string_view name() const override { return "peers"; }
  void AddRoutes(platform::RouteTable& routes) override {
    if (api_) api_->AddPeerRoutes(routes);
    if (stream_) routes.Add("GET", "/api/v1/collections/{id}/stream", stream_);
  }
  void AddCommands(CLI::App& app, int* exit_code) override { AddPeerCommands(app, exit_code); }
  void Stop() override {
    if (stop_federation_) stop_federation_();
  }

 private:
  api::ApiService* api_;
  platform::RouteHandler stream_;
  std::function<void()> stop_federation_;
};

}  // namespace kizuna::federation
