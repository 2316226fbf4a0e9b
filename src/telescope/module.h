// The telescope module: darknet sensors' summaries on the node (TSUBAME's
// shared view). Sensors upload per-interval summaries (POST
// /api/v1/telescope/intervals, signed with the sensor account's key); the
// module stores each as two STIX objects in the `telescope` collection
// (objects.h: aggregates and addresses under their own markings, so the
// federation shares them like any other intel), follows the change bus for
// its own and its partners' telescope objects (TelescopeData), answers the
// views under /api/v1/telescope/, and looks for surges every interval
// (surge.h), recording each as a STIX report.
//
// Config ([telescope] in kizuna.toml): collection (alias, "telescope"),
// summary_tlp ("green"), sources_tlp ("amber"), and per sensor
// [[telescope.sensor]] name, summary_tlp, sources_tlp.
//
// Thread-safety: as platform::Module; the handlers run concurrently.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bus/bus.h"
#include "geo/cache.h"
#include "platform/module.h"
#include "platform/services.h"
#include "stix/stix.h"
#include "telescope/series.h"

namespace kizuna::telescope {

struct TelescopeConfig {
  std::string collection = "telescope";
  stix::Tlp summary_tlp = stix::Tlp::kGreen;
  stix::Tlp sources_tlp = stix::Tlp::kAmber;
  struct SensorMarkings {
    stix::Tlp summary_tlp, sources_tlp;
  };
  std::map<std::string, SensorMarkings> sensors;
  // Surge detection: how many of the busiest ports (over the last day) are
  // checked, and the most recent intervals a new surge is looked for in.
  int surge_ports = 200;
  // What is kept in memory for the views (series.h Retention).
  int keep_days = 8;
  int memory_mib_per_origin = 1024;
  Retention retention() const {
    return Retention{int64_t{keep_days} * 86400, uint64_t(memory_mib_per_origin) << 20};
  }
};

// Which stored telescope objects the views take: our own only from the
// telescope collection and only ours (created_by_ref: our identity), a
// partner's (origin: the peer) only when it does not claim to be ours, and
// none written by a local user of another organization. So only a sensor's
// signed upload (or an admin) makes home data, and no one's object stands in
// for another's.
using Admit = std::function<bool(const store::Change&)>;
Admit AdmitTelescopeObjects(const std::string& telescope_collection_id,
                            const std::string& own_identity);

// Reads every telescope object of the store that `admit` takes into `data`;
// *cursor is the change seq it read up to (follow the bus after it).
Status LoadTelescope(store::Store& store, const Admit& admit, TelescopeData* data, int64_t* cursor);

// The home organization's read grant on the telescope collection, given
// when the collection is made (its members read the views and over TAXII).
Status GrantHomeRead(store::Store& store, const std::string& home_org,
                     const std::string& collection_id);

class TelescopeModule final : public platform::Module {
 public:
  explicit TelescopeModule(const platform::NodeServices* services) : services_(services) {}
  ~TelescopeModule() override { Stop(); }
  std::string_view name() const override { return "telescope"; }
  Status Configure(node::ConfigSection& section) override;
  void AddRoutes(platform::RouteTable& routes) override;
  void AddCommands(CLI::App& app, int* exit_code) override;
  std::vector<platform::Job> Jobs() override;
  Status Start() override;
  void Stop() override;

  const TelescopeData& data() const { return data_; }
  const TelescopeConfig& config() const { return config_; }

 private:
  http::Response Upload(const http::Request& request, const store::User& user);
  http::Response Get(const http::Request& request, const store::User& user, const std::string& view,
                     const platform::PathParams& params);
  Status EnsureCollection();
  void Follow();
  Status LookForSurges();

  const platform::NodeServices* services_;
  TelescopeConfig config_;
  TelescopeData data_{&SystemClock::Instance()};
  std::string collection_id_;
  Admit admit_;
  std::unique_ptr<bus::Subscription> subscription_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  std::thread follower_;
  std::unique_ptr<geo::GeoCache> geo_;  // for the breakdown by country and AS
};

}  // namespace kizuna::telescope
