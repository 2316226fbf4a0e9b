// The coordination module (issue 13): cooperation between teams across
// borders. So far the team directory (directory.h): `kizuna directory
// set|show`, GET /api/v1/coordination/directory[/{id}], and the
// `coordination` collection that carries each team's entry to every
// partner. Emergencies, drills and joint incidents are to come here.
//
// Config ([coordination] in kizuna.toml): directory_tlp (the marking of our
// entry, "green"), stale_after_days (an entry not verified for that long is
// flagged stale, 180).
//
// Thread-safety: as platform::Module; the handlers run concurrently and
// only read the store.
#pragma once

#include "platform/module.h"
#include "platform/services.h"
#include "stix/stix.h"

namespace kizuna::coordination {

struct CoordinationConfig {
  stix::Tlp directory_tlp = stix::Tlp::kGreen;
  int stale_after_days = 180;
};

class CoordinationModule final : public platform::Module {
 public:
  explicit CoordinationModule(const platform::NodeServices* services) : services_(services) {}
  std::string_view name() const override { return "coordination"; }
  Status Configure(node::ConfigSection& section) override;
  void AddRoutes(platform::RouteTable& routes) override;
  void AddCommands(CLI::App& app, int* exit_code) override;
  Status Start() override;

  const CoordinationConfig& config() const { return config_; }

 private:
  http::Response Directory(const store::User& user, const std::string& id);

  const platform::NodeServices* services_;
  CoordinationConfig config_;
};

}  // namespace kizuna::coordination
