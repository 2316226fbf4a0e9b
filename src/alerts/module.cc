#include "alerts/module.h"

#include "alerts/directory_recipients.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "alerts/node_channel.h"
#include "alerts/observation_intake.h"
#include "alerts/pipeline.h"
#include "alerts/recheck.h"
#include "alerts/reports.h"
#include "alerts/status.h"
#include "bus/bus.h"
#include "common/time.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "telescope/module.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

http::Response Json(int status, const json::value& value) {
  return http::JsonResponse(status, json::serialize(value));
}

http::Response Internal500(const kizuna::Status& status) {
  // The detail (file names, database errors) stays in the node's log.
  spdlog::warn("alerts: {}", status.message());
  return http::ErrorResponse(500, "Internal error",
                             "the alerting module failed; the node's log says why");
}

// The home team: users of the node's own organization. (An outside
// organization's admin is not: alert recipients are outside organizations,
// and one must never see another's networks.)
bool IsHome(const std::string& home_org, const store::User& user) {
  return user.org_name == home_org;
}

bool IsHomeAdmin(const std::string& home_org, const store::User& user) {
  return IsHome(home_org, user) && user.role == store::Role::kAdmin;
}

// At most this many events in one feed answer.
constexpr int64_t kMaxFeedEvents = 10000;

}  // namespace

Result<AlertsConfig> LoadAlertsConfig(const node::NodeConfig& node_config,
                                      const std::string& node_dir) {
  AlertsModule module(nullptr);
  KIZUNA_RETURN_IF_ERROR(platform::ConfigureModule(module, node_config));
  AlertsConfig out = module.config();
  KIZUNA_RETURN_IF_ERROR(mail::LoadMailPassword(node_dir, "alerts", &out.mail));
  return out;
}

kizuna::Status AlertsModule::Configure(node::ConfigSection& section) {
  section.Tlp("ingest_tlp", &config_.ingest_tlp, /*allow_red=*/true);
  mail::ReadMailSettings(section, &config_.mail);
  section.Integer("max_attempts", &config_.max_attempts, 1, 1000);
  section.Integer("retry_minutes", &config_.retry_minutes, 1, 24 * 60);
  section.Bool("from_telescope", &config_.from_telescope);
  section.Bool("from_partners", &config_.from_partners);
  section.Integer("observation_max_age_days", &config_.observation_max_age_days, 0, 3650);
  section.StringList("bot_fingerprints", &config_.bot_fingerprints);
  section.Bool("route_by_directory", &config_.route_by_directory);
  for (const std::string& rule : config_.bot_fingerprints) {
    if (rule.empty() || rule.size() > 64) {
      section.Fail("bot_fingerprints", "a fingerprint rule's name, 1 to 64 characters");
    }
  }
  section.RejectUnknown();
  return section.status();
}

Result<std::string> TelescopeCollection(const node::NodeConfig& node_config) {
  // Read as the telescope module reads its own section.
  telescope::TelescopeModule module(nullptr);
  KIZUNA_RETURN_IF_ERROR(platform::ConfigureModule(module, node_config));
  return module.config().collection;
}

const std::string& AlertsModule::home_org() const { return services_->node->config().name; }

kizuna::Status AlertsModule::Start() {
  const std::string& dir = services_->node->dir();
  KIZUNA_ASSIGN_OR_RETURN(db_, AlertsDb::Open(dir));
  geo_ = std::make_unique<geo::GeoCache>(dir);
  KIZUNA_RETURN_IF_ERROR(mail::LoadMailPassword(dir, "alerts", &config_.mail));
  // There before partners look for it (they discover our collections once
  // and then every poll).
  KIZUNA_RETURN_IF_ERROR(EnsureAlertsCollection(*services_->store, home_org()).status());
  KIZUNA_RETURN_IF_ERROR(SyncDirectory());
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> recipients, db_->Recipients());
  for (const Recipient& r : recipients) {
    kizuna::Status peer = CheckRecipientPeer(r, services_->node->config());
    if (!peer.ok()) spdlog::warn("alerts: {}; its reports are not delivered", peer.message());
  }
  PartnerFollower::Options partners;
  partners.db = db_.get();
  partners.store = services_->store;
  partners.bus = services_->bus;
  partners.geo = geo_.get();
  partners.policy = services_->policy;
  partners.identity_id = services_->node->identity().identity_id;
  partners.identity_name = services_->node->config().name;
  partners_ = std::make_unique<PartnerFollower>(std::move(partners));
  KIZUNA_RETURN_IF_ERROR(partners_->Start());
  if (!config_.from_telescope && !config_.from_partners) return kizuna::Status::Ok();
  ObservationFollower::Options observations;
  observations.db = db_.get();
  observations.store = services_->store;
  observations.bus = services_->bus;
  observations.geo = geo_.get();
  observations.policy = services_->policy;
  observations.identity_id = services_->node->identity().identity_id;
  KIZUNA_ASSIGN_OR_RETURN(observations.telescope_collection,
                          TelescopeCollection(services_->node->config()));
  observations.from_telescope = config_.from_telescope;
  observations.from_partners = config_.from_partners;
  observations.max_age_days = config_.observation_max_age_days;
  observations.bot_fingerprints = config_.bot_fingerprints;
  observations_ = std::make_unique<ObservationFollower>(std::move(observations));
  return observations_->Start();
}

void AlertsModule::Stop() {
  if (observations_) observations_->Stop();
  if (partners_) partners_->Stop();
}

std::vector<platform::Job> AlertsModule::Jobs() {
  return {{.module = std::string(name()),
           .name = "deliver",
           .period = std::chrono::minutes(1),
           .run = [this] { return RunDeliveries(); },
           .retry_after = std::chrono::minutes(1)},
          {.module = std::string(name()),
           .name = "recheck",
           .period = std::chrono::hours(1),
           .run = [this] { return RunRecheck(); },
           .retry_after = std::chrono::minutes(10)},
          {.module = std::string(name()),
           .name = "directory",
           .period = std::chrono::minutes(5),
           .run = [this] { return SyncDirectory(); },
           .retry_after = std::chrono::minutes(5)}};
}

kizuna::Status AlertsModule::SyncDirectory() {
  // The [[peer]]s in force (kizuna.toml may have changed since the start).
  node::NodeConfig current = services_->node->config();
  current.peers = services_->policy()->peers();
  KIZUNA_ASSIGN_OR_RETURN(
      int changed,
      SyncDirectoryRecipients(*db_, *services_->store, current, services_->node->identity(),
                              config_.route_by_directory, SystemClock::Instance().NowMicros()));
  if (changed > 0) spdlog::info("alerts: {} recipients from the team directory changed", changed);
  return kizuna::Status::Ok();
}

kizuna::Status AlertsModule::RunRecheck() {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> recipients, db_->Recipients());
  const RouteTable routes(std::move(recipients));
  KIZUNA_ASSIGN_OR_RETURN(RecheckStats stats,
                          RecheckReports(*db_, routes, SystemClock::Instance().NowMicros()));
  if (stats.reports > 0) {
    spdlog::info("alerts: {} reports re-checked: {} hosts remediated, {} still infected",
                 stats.reports, stats.remediated, stats.still_infected);
  }
  return kizuna::Status::Ok();
}

kizuna::Status AlertsModule::RunDeliveries() {
  auto policy = services_->policy();
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> recipients, db_->Recipients());
  RouteTable routes(std::move(recipients));
  const int64_t now = SystemClock::Instance().NowMicros();
  const BuildOptions build = BuildOptionsFor(*services_->node, policy.get(), now);
  // A failed build does not hold up the delivery of what is queued.
  auto built = BuildDueReports(*db_, routes, build);
  if (!built.ok()) spdlog::warn("alerts: reports not built: {}", built.status().message());
  for (const BuiltReport& b : built.ok() ? *built : std::vector<BuiltReport>{}) {
    spdlog::info("alerts: report {} for {}: {} events ({} suppressed, {} withheld)", b.id,
                 b.recipient, b.events, b.suppressed, b.withheld);
  }
  DeliveryOptions deliver = DeliveryOptionsFor(config_, *services_->node, policy.get(), now);
  bus::ChangeBus* bus = services_->bus;
  deliver.to_node = NodeChannel(services_->store, home_org(), [bus] { bus->Notify(); });
  KIZUNA_ASSIGN_OR_RETURN(DeliveryStats stats, DeliverDue(*db_, routes, deliver));
  if (stats.sent + stats.retrying + stats.gave_up > 0) {
    spdlog::info("alerts: {} reports sent, {} to retry, {} given up", stats.sent, stats.retrying,
                 stats.gave_up);
  }
  return kizuna::Status::Ok();
}

void AlertsModule::AddRoutes(platform::RouteTable& routes) {
  using platform::PathParams;
  routes.Add(
      "POST", "/api/v1/alerts/observations",
      [this](const http::Request& r, const store::User& u, const PathParams&) {
        return PostObservations(r, u);
      },
      platform::RouteOptions{.lane = platform::Lane::kImport});
  routes.Add("GET", "/api/v1/alerts/feed",
             [this](const http::Request& r, const store::User& u, const PathParams&) {
               return Feed(r, u);
             });
  routes.Add("GET", "/api/v1/alerts/status",
             [this](const http::Request& r, const store::User& u, const PathParams&) {
               return GetStatus(r, u);
             });
  routes.Add("GET", "/api/v1/alerts/reports",
             [this](const http::Request& r, const store::User& u, const PathParams&) {
               return Reports(r, u);
             });
  routes.Add("GET", "/api/v1/alerts/reports/{id}",
             [this](const http::Request& r, const store::User& u, const PathParams& p) {
               return Report(r, u, std::string(p.Get("id")));
             });
  routes.Add("POST", "/api/v1/alerts/reports/{id}/ack",
             [this](const http::Request& r, const store::User& u, const PathParams& p) {
               return Acknowledge(r, u, std::string(p.Get("id")));
             });
  routes.Add("GET", "/api/v1/alerts/recipients",
             [this](const http::Request& r, const store::User& u, const PathParams&) {
               return Recipients(r, u);
             });
  routes.Add("POST", "/api/v1/alerts/recipients",
             [this](const http::Request& r, const store::User& u, const PathParams&) {
               return PutRecipient(r, u);
             });
  routes.Add("DELETE", "/api/v1/alerts/recipients/{name}",
             [this](const http::Request& r, const store::User& u, const PathParams& p) {
               return DeleteRecipient(r, u, std::string(p.Get("name")));
             });
}

http::Response AlertsModule::PostObservations(const http::Request& request,
                                              const store::User& user) {
  auto policy = services_->policy();
  if (!IsHome(home_org(), user)) {
    return http::ErrorResponse(403, "Forbidden", "only the home team feeds observations");
  }
  ReadOptions read;
  std::string_view format = request.Query("format");
  if (!format.empty()) {
    auto parsed = ParseInputFormat(format);
    if (!parsed.ok()) return http::ErrorResponse(400, "Bad request", parsed.status().message());
    read.format = *parsed;
  } else if (request.headers.Get("Content-Type").find("json") != std::string_view::npos) {
    read.format = InputFormat::kJson;
  }
  read.report_type = std::string(request.Query("report_type"));
  read.source = request.Query("source").empty() ? "api/" + user.org_name + "/" + user.name
                                                : std::string(request.Query("source"));
  const int64_t now = SystemClock::Instance().NowMicros();
  read.now_us = now;
  IngestOptions ingest;
  ingest.now_us = now;
  ingest.tlp = config_.ingest_tlp;
  if (!request.Query("tlp").empty()) {
    auto tlp = stix::ParseTlp(request.Query("tlp"));
    if (!tlp.ok()) return http::ErrorResponse(400, "Bad request", "tlp: " + tlp.status().message());
    ingest.tlp = *tlp;
  }
  auto recipients = db_->Recipients();
  if (!recipients.ok()) return Internal500(recipients.status());
  RouteTable routes(std::move(*recipients));
  std::istringstream input(request.body);
  auto geo = geo_->Get();
  auto result = IngestStream(*db_, geo.get(), routes, input, read, ingest);
  if (!result.ok()) {
    if (result.status().code() == Code::kInvalidArgument) {
      return http::ErrorResponse(400, "Bad observations", result.status().message());
    }
    return Internal500(result.status());
  }
  return Json(200, IngestResultJson(*result));
}

http::Response AlertsModule::Feed(const http::Request& request, const store::User& user) {
  auto policy = services_->policy();
  auto recipients = db_->Recipients();
  if (!recipients.ok()) return Internal500(recipients.status());
  // The recipients this key stands for: those whose org is the caller's.
  // The home team may name any with ?recipient=.
  std::vector<Recipient> mine;
  const std::string wanted(request.Query("recipient"));
  for (Recipient& r : *recipients) {
    const bool allowed = r.org == user.org_name || IsHome(home_org(), user);
    if (!allowed) continue;
    if (!wanted.empty() ? r.name == wanted : r.org == user.org_name) mine.push_back(std::move(r));
  }
  if (mine.empty()) {
    return http::ErrorResponse(404, "No feed",
                               "no alert recipient belongs to organization " + user.org_name);
  }
  FeedPosition since;
  if (!request.Query("since").empty()) {
    auto parsed = ParseFeedPosition(request.Query("since"));
    if (!parsed.ok()) {
      return http::ErrorResponse(400, "Bad request", "since: " + parsed.status().message());
    }
    since = *parsed;
  }
  const bool csv = request.Query("format") == "csv";
  if (!request.Query("format").empty() && !csv && request.Query("format") != "json") {
    return http::ErrorResponse(400, "Bad request", "format: json or csv");
  }
  int64_t limit = kMaxFeedEvents;
  if (const std::string_view text = request.Query("limit"); !text.empty()) {
    limit = 0;
    for (char ch : text) {
      if (ch < '0' || ch > '9' || limit > kMaxFeedEvents) {
        limit = 0;
        break;
      }
      limit = limit * 10 + (ch - '0');
    }
    if (limit < 1 || limit > kMaxFeedEvents) {
      return http::ErrorResponse(400, "Bad request",
                                 "limit: 1 to " + std::to_string(kMaxFeedEvents) + " events");
    }
  }
  auto events = FeedEvents(*db_, *policy, mine, since, limit);
  if (!events.ok()) return Internal500(events.status());
  http::Response response;
  response.status = 200;
  // Where the next request starts (?since=): the next page, or just past
  // the newest report shown. A CSV body has no room for it: headers.
  const std::string next = FormatFeedPosition(events->next);
  response.headers.Set("X-Kizuna-Next", next);
  response.headers.Set("X-Kizuna-More", events->more ? "true" : "false");
  if (csv) {
    response.headers.Set("Content-Type", "text/csv; charset=utf-8");
    response.body = CsvHeaderLine();
    for (const EventRow& e : events->events) AppendCsvLine(e, &response.body);
  } else {
    response.headers.Set("Content-Type", "application/json");
    std::string body = "{\"recipients\":[";
    for (size_t i = 0; i < mine.size(); ++i) {
      body += (i ? "," : "") + json::serialize(json::value(mine[i].name));
    }
    body += "],\"more\":" + std::string(events->more ? "true" : "false");
    body += ",\"next\":" + json::serialize(json::value(next));
    body += ",\"events\":[";
    for (size_t i = 0; i < events->events.size(); ++i) {
      if (i) body += ',';
      body += EventJson(events->events[i]);
    }
    body += "]}";
    response.body = std::move(body);
  }
  return response;
}

http::Response AlertsModule::GetStatus(const http::Request&, const store::User& user) {
  if (!IsHome(home_org(), user)) {
    return http::ErrorResponse(403, "Forbidden", "the alerting status is the home team's");
  }
  auto status = StatusJson(*db_);
  if (!status.ok()) return Internal500(status.status());
  return Json(200, *status);
}

http::Response AlertsModule::Reports(const http::Request& request, const store::User& user) {
  auto policy = services_->policy();
  auto recipients = db_->Recipients();
  if (!recipients.ok()) return Internal500(recipients.status());
  const bool home = IsHome(home_org(), user);
  const std::string wanted(request.Query("recipient"));
  json::array out;
  for (const Recipient& r : *recipients) {
    if (!home && r.org != user.org_name) continue;
    if (!wanted.empty() && r.name != wanted) continue;
    auto reports = db_->Reports(r.name, 200);
    if (!reports.ok()) return Internal500(reports.status());
    for (const ReportRow& row : *reports) out.push_back(ReportJson(row));
  }
  return Json(200, json::object{{"reports", std::move(out)}});
}

http::Response AlertsModule::Report(const http::Request& request, const store::User& user,
                                    const std::string& id) {
  auto policy = services_->policy();
  const bool home = IsHome(home_org(), user);
  auto not_found = [] { return http::ErrorResponse(404, "Not found", "no such report"); };
  // Whose report it is is decided before anything else is read: another
  // recipient's report behaves exactly as one that does not exist.
  auto report = db_->Report(id);
  if (!report.ok()) {
    if (report.status().code() == Code::kNotFound) return not_found();
    return Internal500(report.status());
  }
  const Recipient* owner = nullptr;
  auto recipients = db_->Recipients();
  if (!recipients.ok()) return Internal500(recipients.status());
  for (const Recipient& r : *recipients) {
    if (r.name == report->recipient) owner = &r;
  }
  if (!home && (owner == nullptr || owner->org.empty() || owner->org != user.org_name)) {
    return not_found();
  }
  json::object out = ReportJson(*report);
  if (home) {
    auto log = db_->ReportLog(id);
    if (!log.ok()) return Internal500(log.status());
    json::array entries;
    for (const LogEntry& e : *log) {
      entries.push_back(json::object{
          {"at", FormatTimestamp(e.at_us, 6)}, {"state", e.state}, {"detail", e.detail}});
    }
    out["log"] = std::move(entries);
    // Per event: what the partner's node, or the re-check, said of it.
    auto states = EventStatesJson(*db_, report->rowid);
    if (!states.ok()) return Internal500(states.status());
    out["event_states"] = std::move(*states);
  } else {
    // What was left out of it is the home team's to know.
    out.erase("suppressed");
    out.erase("withheld");
    out.erase("last_error");
  }
  if (request.Query("body") == "true") {
    // The decision again, as it stands now, for the recipient the report is for.
    if (owner == nullptr) return not_found();
    if (!home && !MayReach(*policy, report->tlp, "", AffectedParty(*policy, *owner))) {
      return not_found();
    }
    ReportRow with_body = *report;
    if (Status body = LoadReportBody(*db_, &with_body); !body.ok()) return Internal500(body);
    out["body"] = with_body.body;
  }
  return Json(200, out);
}

http::Response AlertsModule::Acknowledge(const http::Request&, const store::User& user,
                                         const std::string& id) {
  auto policy = services_->policy();
  auto report = db_->Report(id);
  auto not_found = [] { return http::ErrorResponse(404, "Not found", "no such report"); };
  if (!report.ok()) {
    if (report.status().code() == Code::kNotFound) return not_found();
    return Internal500(report.status());
  }
  auto recipients = db_->Recipients();
  if (!recipients.ok()) return Internal500(recipients.status());
  bool own = false;
  for (const Recipient& r : *recipients) {
    own = own || (r.name == report->recipient && !r.org.empty() && r.org == user.org_name);
  }
  if (!own && !IsHomeAdmin(home_org(), user)) return not_found();
  if (report->state != kSent && report->state != kAcknowledged) {
    return http::ErrorResponse(
        409, "Not sent yet", "report " + id + " is " + report->state + "; nothing to acknowledge");
  }
  kizuna::Status acked = AcknowledgeReport(*db_, id, SystemClock::Instance().NowMicros(),
                                           "user " + user.name + " of " + user.org_name);
  if (!acked.ok()) return Internal500(acked);
  auto updated = db_->Report(id);
  if (!updated.ok()) return Internal500(updated.status());
  return Json(200, ReportJson(*updated));
}

http::Response AlertsModule::Recipients(const http::Request&, const store::User& user) {
  if (!IsHome(home_org(), user)) {
    return http::ErrorResponse(403, "Forbidden", "recipients are the home team's");
  }
  auto recipients = db_->Recipients();
  if (!recipients.ok()) return Internal500(recipients.status());
  json::array out;
  for (const Recipient& r : *recipients) out.push_back(json::parse(RecipientToJson(r)));
  return Json(200, json::object{{"recipients", std::move(out)}});
}

http::Response AlertsModule::PutRecipient(const http::Request& request, const store::User& user) {
  if (!IsHomeAdmin(home_org(), user)) {
    return http::ErrorResponse(403, "Forbidden", "only the home team's admins set recipients");
  }
  auto recipient = RecipientFromJson(request.body);
  if (!recipient.ok())
    return http::ErrorResponse(400, "Bad recipient", recipient.status().message());
  if (IsDirectoryRecipient(recipient->name)) {
    return http::ErrorResponse(400, "Bad recipient", kDirectoryRecipientReserved);
  }
  kizuna::Status peer = CheckRecipientPeer(*recipient, services_->node->config());
  if (!peer.ok()) return http::ErrorResponse(400, "Bad recipient", peer.message());
  kizuna::Status put = db_->PutRecipient(*recipient);
  if (!put.ok()) return Internal500(put);
  return Json(200, json::parse(RecipientToJson(*recipient)));
}

http::Response AlertsModule::DeleteRecipient(const http::Request&, const store::User& user,
                                             const std::string& name) {
  if (!IsHomeAdmin(home_org(), user)) {
    return http::ErrorResponse(403, "Forbidden", "only the home team's admins remove recipients");
  }
  if (IsDirectoryRecipient(name)) {
    return http::ErrorResponse(400, "Bad request", kDirectoryRecipientReserved);
  }
  kizuna::Status removed = db_->RemoveRecipient(name);
  if (removed.code() == Code::kNotFound) return http::ErrorResponse(404, "Not found", name);
  if (!removed.ok()) return Internal500(removed);
  return Json(200, json::object{{"removed", name}});
}

}  // namespace kizuna::alerts
