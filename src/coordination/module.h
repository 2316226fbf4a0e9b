// The coordination module (issue 13): cooperation between teams across
// borders. The team directory (directory.h): `kizuna directory set|show`,
// GET /api/v1/coordination/directory[/{id}], and the `coordination`
// collection that carries each team's entry to every partner.
// Communication drills (drills.h): `kizuna drill start|list|ack|report|
// schedule|schedules|unschedule`, /api/v1/coordination/drills…, the public
// acknowledgement link, and the `drills` job (every minute) that starts
// scheduled drills. Emergency escalation (emergencies.h): `kizuna emergency
// raise|list|ack|status`, /api/v1/coordination/emergencies…, its public
// link, and the `escalations` job. Joint incidents (incidents.h): `kizuna
// incident open|note|task|link|close|show|list|report`,
// /api/v1/coordination/incidents….
//
// Config ([coordination] in kizuna.toml), every key optional:
//   directory_tlp (green)    the marking of our directory entry
//   stale_after_days (180)   an entry not verified for that long is stale
//   tlp (amber)              the marking of drills, emergencies, acknowledgements
//   escalation_check_seconds (30)   how often unanswered emergencies escalate
//   smtp_url, smtp_from, …   e-mail to partners' contacts (mail/settings.h)
//
// Thread-safety: as platform::Module; the handlers and the job run
// concurrently and share the store and coordination.db (its lock).
#pragma once

#include <memory>

#include "coordination/coordination_db.h"
#include "coordination/drills.h"
#include "coordination/emergencies.h"
#include "mail/settings.h"
#include "node/node.h"
#include "platform/module.h"
#include "platform/services.h"
#include "stix/stix.h"

namespace kizuna::coordination {

struct CoordinationConfig {
  stix::Tlp directory_tlp = stix::Tlp::kGreen;
  int stale_after_days = 180;
  stix::Tlp tlp = stix::Tlp::kAmber;
  mail::MailSettings mail;
  int escalation_check_seconds = 30;
};

// The [coordination] section of a node that is not running (the CLI), with
// the SMTP password read.
Result<CoordinationConfig> LoadCoordinationConfig(const node::Node& node);

class CoordinationModule final : public platform::Module {
 public:
  explicit CoordinationModule(const platform::NodeServices* services) : services_(services) {}
  std::string_view name() const override { return "coordination"; }
  Status Configure(node::ConfigSection& section) override;
  void AddRoutes(platform::RouteTable& routes) override;
  void AddCommands(CLI::App& app, int* exit_code) override;
  std::vector<platform::Job> Jobs() override;
  Status Start() override;

  const CoordinationConfig& config() const { return config_; }

 private:
  http::Response Directory(const store::User& user, const std::string& id);
  // Drills: the home team's (anyone else gets 403), and the public link.
  bool IsHomeTeam(const store::User& user) const;
  Outbound Sender() const;
  http::Response ListDrills();
  http::Response StartDrillRequest(const http::Request& request, const store::User& user);
  http::Response DrillReportResponse(const http::Request& request, const std::string& id);
  http::Response AckDrill(const std::string& id);
  http::Response DrillLink(const std::string& token, bool press);
  http::Response ListEmergencies();
  http::Response RaiseEmergencyRequest(const http::Request& request, const store::User& user);
  http::Response EmergencyStatusResponse(const std::string& id);
  http::Response AckEmergency(const std::string& id);
  http::Response EmergencyLinkPage(const std::string& token, bool press);
  // GET/POST /incidents, GET /incidents/{id}[/report], POST
  // /incidents/{id}/{notes,tasks,links,close}.
  http::Response Incidents(const http::Request& request, const std::string& id,
                           const std::string& action);

  const platform::NodeServices* services_;
  CoordinationConfig config_;
  std::unique_ptr<CoordinationDb> db_;
};

// What a CLI command needs of a node directory whose node may not run: the
// node, its [coordination] settings, coordination.db, the sharing decision.
struct CommandNode {
  std::unique_ptr<node::Node> node;
  CoordinationConfig config;
  std::unique_ptr<CoordinationDb> db;
  std::shared_ptr<const sharing::SharingPolicy> policy;
  // Sending from the command: progress on stderr, the running node told
  // through the bus of `dir`.
  Outbound Out(const std::string& dir) const;
};
Result<CommandNode> OpenCommandNode(const std::string& dir);

// `kizuna directory …`, `kizuna drill …`, `kizuna emergency …`, `kizuna
// incident …` (directory_commands.cc, drill_commands.cc,
// emergency_commands.cc, incident_commands.cc).
void AddDirectoryCommands(CLI::App& app, int* exit_code);
void AddDrillCommands(CLI::App& app, int* exit_code);
void AddEmergencyCommands(CLI::App& app, int* exit_code);
void AddIncidentCommands(CLI::App& app, int* exit_code);

}  // namespace kizuna::coordination
