// The alerting module: infected hosts to the responsible ISP, network owner
// or national CSIRT, every period, nothing lost (issue 12; the models are
// Shadowserver's network reports, CERT.at's IntelMQ and CERT Polska's n6).
//
// Observations come in from files (`kizuna alerts ingest`) and the REST API
// (POST /api/v1/alerts/observations); pipeline.h enriches, routes and folds
// them into events in DIR/alerts.db; the `deliver` job (every minute) builds
// the reports that are due (reports.h) and delivers them (deliver.h);
// recipients pull theirs at GET /api/v1/alerts/feed. Our telescope's
// findings and partners' observations come in from the store
// (observation_intake.h). Reports for a
// partner's node go out through federation (node_channel.h); partners'
// reports to us come in and are answered (partner_intake.h); the `recheck`
// job (hourly) looks at reported hosts again (recheck.h).
//
// Config ([alerts] in kizuna.toml), every key optional:
//   ingest_tlp        TLP of observations from files and the API ("amber")
//   smtp_url, smtp_from, smtp_username, smtp_password_file, smtp_starttls,
//   smtp_allow_plain_remote, smtp_ca_file, pgp_key, gnupg_home: e-mail
//                     (mail/settings.h); no e-mail without smtp_url
//   max_attempts (10), retry_minutes (5)   delivery retries, doubling
//   from_telescope (true)   our telescope's fingerprinted bots and scanners and
//                     surges' new sources become observations (telescope_intake.h)
//   from_partners (true)    partners' infected-host observed-data and sightings of
//                     indicators naming addresses become observations, with the
//                     peer as origin (partner_observations.h)
//   observation_max_age_days (7)   older telescope or partner observations
//                     are not alerted on (0: any age)
//   route_by_directory (true)   partners' directory constituencies route
//                     to their nodes (directory_recipients.h)
//   bot_fingerprints (["mirai"])   the telescope's fingerprint rules whose
//                     sources are infected hosts (bots); the other rules'
//                     are scanners
//
// Thread-safety: as platform::Module; route handlers and the job run
// concurrently and share the database (its lock) and the geo cache (a
// mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/deliver.h"
#include "alerts/observation_intake.h"
#include "alerts/partner_intake.h"
#include "alerts/telescope_intake.h"
#include "geo/cache.h"
#include "geo/geo.h"
#include "platform/module.h"
#include "platform/services.h"

namespace kizuna::alerts {

struct AlertsConfig {
  stix::Tlp ingest_tlp = stix::Tlp::kAmber;
  MailSettings mail;
  int max_attempts = 10;
  int retry_minutes = 5;
  bool from_telescope = true;
  bool from_partners = true;
  int observation_max_age_days = 7;
  std::vector<std::string> bot_fingerprints = {std::string(kBotFingerprints[0])};
  bool route_by_directory = true;
};

class AlertsModule final : public platform::Module {
 public:
  explicit AlertsModule(const platform::NodeServices* services) : services_(services) {}
  std::string_view name() const override { return "alerts"; }
  Status Configure(node::ConfigSection& section) override;
  void AddRoutes(platform::RouteTable& routes) override;
  void AddCommands(CLI::App& app, int* exit_code) override;
  std::vector<platform::Job> Jobs() override;
  Status Start() override;
  void Stop() override;

  const AlertsConfig& config() const { return config_; }

 private:
  http::Response PostObservations(const http::Request& request, const store::User& user);
  http::Response Feed(const http::Request& request, const store::User& user);
  http::Response GetStatus(const http::Request& request, const store::User& user);
  http::Response Reports(const http::Request& request, const store::User& user);
  http::Response Report(const http::Request& request, const store::User& user,
                        const std::string& id);
  http::Response Acknowledge(const http::Request& request, const store::User& user,
                             const std::string& id);
  http::Response Recipients(const http::Request& request, const store::User& user);
  http::Response PutRecipient(const http::Request& request, const store::User& user);
  http::Response DeleteRecipient(const http::Request& request, const store::User& user,
                                 const std::string& name);
  kizuna::Status RunDeliveries();
  kizuna::Status RunRecheck();
  kizuna::Status SyncDirectory();
  const std::string& home_org() const;

  const platform::NodeServices* services_;
  AlertsConfig config_;
  std::unique_ptr<AlertsDb> db_;
  std::unique_ptr<geo::GeoCache> geo_;
  // Partners' alert reports in, our answers out (channel node); declared
  // last: stopped before the rest goes.
  std::unique_ptr<PartnerFollower> partners_;
  // Our telescope's findings and partners' observations in; stopped first.
  std::unique_ptr<ObservationFollower> observations_;
};

// The telescope's collection ([telescope] collection, "telescope" by default).
Result<std::string> TelescopeCollection(const node::NodeConfig& config);

// Reads [alerts] (also for the CLI, which has no running node): the mail
// settings with the password read from its file.
Result<AlertsConfig> LoadAlertsConfig(const node::NodeConfig& config, const std::string& node_dir);

}  // namespace kizuna::alerts
