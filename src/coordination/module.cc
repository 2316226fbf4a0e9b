#include "coordination/module.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <cstdio>

#include "bus/bus.h"
#include "common/time.h"
#include "coordination/directory.h"
#include "node/node.h"
#include "sharing/policy.h"

namespace kizuna::coordination {

namespace json = boost::json;

Status CoordinationModule::Configure(node::ConfigSection& section) {
  section.Tlp("directory_tlp", &config_.directory_tlp, /*allow_red=*/false);
  section.Integer("stale_after_days", &config_.stale_after_days, 1, 3650);
  // Drills go to partners' nodes and contacts: never RED.
  section.Tlp("tlp", &config_.tlp, /*allow_red=*/false);
  section.Integer("escalation_check_seconds", &config_.escalation_check_seconds, 1, 3600);
  mail::ReadMailSettings(section, &config_.mail);
  return section.status();
}

Result<CoordinationConfig> LoadCoordinationConfig(const node::Node& node) {
  CoordinationModule module(nullptr);
  KIZUNA_RETURN_IF_ERROR(platform::ConfigureModule(module, node.config()));
  CoordinationConfig config = module.config();
  KIZUNA_RETURN_IF_ERROR(mail::LoadMailPassword(node.dir(), "coordination", &config.mail));
  return config;
}

Result<CommandNode> OpenCommandNode(const std::string& dir) {
  CommandNode opened;
  KIZUNA_ASSIGN_OR_RETURN(opened.node, node::Node::Open(dir));
  KIZUNA_ASSIGN_OR_RETURN(opened.config, LoadCoordinationConfig(*opened.node));
  KIZUNA_ASSIGN_OR_RETURN(opened.db, CoordinationDb::Open(dir));
  opened.policy = std::make_shared<sharing::SharingPolicy>(opened.node->config());
  return opened;
}

Outbound CommandNode::Out(const std::string& dir) const {
  Outbound out;
  out.store = &node->store();
  out.db = db.get();
  out.config = &node->config();
  out.identity = &node->identity();
  out.policy = policy;
  out.mail = config.mail;
  auto own = OwnEntry(node->store(), node->identity());
  out.ack_base_url = AckBaseUrl(node->config(), own.ok() ? own->node_url : "");
  out.tlp = config.tlp;
  out.sign = [n = node.get()](std::string_view bytes) { return n->Sign(bytes); };
  out.notify = [dir] { bus::NotifyNode(dir); };
  out.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  return out;
}

Status CoordinationModule::Start() {
  KIZUNA_RETURN_IF_ERROR(
      mail::LoadMailPassword(services_->node->dir(), "coordination", &config_.mail));
  KIZUNA_ASSIGN_OR_RETURN(db_, CoordinationDb::Open(services_->node->dir()));
  // Made at start, so that partners find the collection on their first sync
  // (with the definitions of what it carries, also on a node made before).
  KIZUNA_ASSIGN_OR_RETURN(store::Collection collection,
                          EnsureCoordinationCollection(*services_->store, services_->node->config(),
                                                       services_->node->identity()));
  return PublishDefinitions(*services_->store, collection, services_->node->identity());
}

std::vector<platform::Job> CoordinationModule::Jobs() {
  platform::Job drills;
  drills.name = "drills";
  drills.period = std::chrono::minutes(1);
  drills.run = [this]() -> Status {
    if (!db_) return Status::Ok();
    const int64_t now = SystemClock::Instance().NowMicros();
    // Sender() reads our directory entry: only when there is work.
    KIZUNA_ASSIGN_OR_RETURN(bool due, SchedulesDue(*db_, now));
    if (!due) return Status::Ok();
    auto started = RunDueSchedules(Sender(), now);
    if (!started.ok()) return started.status();
    for (const std::string& drill : *started) spdlog::info("coordination: scheduled {}", drill);
    return Status::Ok();
  };
  platform::Job escalations;
  escalations.name = "escalations";
  escalations.period = std::chrono::seconds(config_.escalation_check_seconds);
  escalations.retry_after = std::chrono::seconds(config_.escalation_check_seconds);
  escalations.run = [this]() -> Status {
    if (!db_) return Status::Ok();
    KIZUNA_ASSIGN_OR_RETURN(bool pending, EscalationsPending(*db_));
    if (!pending) return Status::Ok();
    return EscalateDue(Sender(), SystemClock::Instance().NowMicros()).status();
  };
  return {std::move(drills), std::move(escalations)};
}

Outbound CoordinationModule::Sender() const {
  Outbound sender;
  sender.store = services_->store;
  sender.db = db_.get();
  sender.config = &services_->node->config();
  sender.identity = &services_->node->identity();
  sender.policy = services_->policy();
  sender.mail = config_.mail;
  auto own = OwnEntry(*services_->store, services_->node->identity());
  sender.ack_base_url = AckBaseUrl(services_->node->config(), own.ok() ? own->node_url : "");
  sender.tlp = config_.tlp;
  sender.sign = [n = services_->node](std::string_view bytes) { return n->Sign(bytes); };
  sender.notify = [bus = services_->bus] { bus->Notify(); };
  return sender;
}

bool CoordinationModule::IsHomeTeam(const store::User& user) const {
  return services_->policy()->ForUser(user).kind == sharing::Recipient::Kind::kHome;
}

void CoordinationModule::AddRoutes(platform::RouteTable& routes) {
  routes.Add("GET", "/api/v1/coordination/directory",
             [this](const http::Request&, const store::User& u, const platform::PathParams&) {
               return Directory(u, "");
             });
  routes.Add("GET", "/api/v1/coordination/directory/{id}",
             [this](const http::Request&, const store::User& u, const platform::PathParams& p) {
               return Directory(u, p.Get("id"));
             });
  // Drills: the home team's business; a partner's node answers through
  // federation, a partner's contact through the e-mailed link.
  auto home = [this](auto handler) {
    return [this, handler](const http::Request& r, const store::User& u,
                           const platform::PathParams& p) {
      if (!IsHomeTeam(u)) {
        return http::ErrorResponse(403, "Forbidden", "drills are the home team's");
      }
      return handler(r, u, p);
    };
  };
  routes.Add("GET", "/api/v1/coordination/drills",
             home([this](const http::Request&, const store::User&, const platform::PathParams&) {
               return ListDrills();
             }));
  // Sending e-mail waits on the relay: not on an I/O thread.
  routes.Add("POST", "/api/v1/coordination/drills",
             home([this](const http::Request& r, const store::User& u,
                         const platform::PathParams&) { return StartDrillRequest(r, u); }),
             {.lane = platform::Lane::kWork});
  routes.Add(
      "GET", "/api/v1/coordination/drills/{id}",
      home([this](const http::Request& r, const store::User&, const platform::PathParams& p) {
        return DrillReportResponse(r, p.Get("id"));
      }));
  routes.Add("POST", "/api/v1/coordination/drills/{id}/ack",
             home([this](const http::Request&, const store::User&, const platform::PathParams& p) {
               return AckDrill(p.Get("id"));
             }));
  // Public: the e-mailed link, whose random token is the credential (a
  // partner's contact has no account here). GET shows what it acknowledges
  // and a button; only the POST acknowledges.
  routes.Add("GET", "/api/v1/coordination/drills/ack/{token}",
             [this](const http::Request&, const store::User&, const platform::PathParams& p) {
               return DrillLink(p.Get("token"), false);
             },
             {.is_public = true});
  routes.Add("POST", "/api/v1/coordination/drills/ack/{token}",
             [this](const http::Request&, const store::User&, const platform::PathParams& p) {
               return DrillLink(p.Get("token"), true);
             },
             {.is_public = true});
  // Emergencies, alike.
  routes.Add("GET", "/api/v1/coordination/emergencies",
             home([this](const http::Request&, const store::User&, const platform::PathParams&) {
               return ListEmergencies();
             }));
  routes.Add("POST", "/api/v1/coordination/emergencies",
             home([this](const http::Request& r, const store::User& u,
                         const platform::PathParams&) { return RaiseEmergencyRequest(r, u); }),
             {.lane = platform::Lane::kWork});
  routes.Add("GET", "/api/v1/coordination/emergencies/{id}",
             home([this](const http::Request&, const store::User&, const platform::PathParams& p) {
               return EmergencyStatusResponse(p.Get("id"));
             }));
  routes.Add("POST", "/api/v1/coordination/emergencies/{id}/ack",
             home([this](const http::Request&, const store::User&, const platform::PathParams& p) {
               return AckEmergency(p.Get("id"));
             }));
  // Joint incidents.
  auto incidents = [this, home](const char* action) {
    return home(
        [this, action](const http::Request& r, const store::User&, const platform::PathParams& p) {
          return Incidents(r, p.Get("id"), action);
        });
  };
  routes.Add("GET", "/api/v1/coordination/incidents", incidents(""));
  routes.Add("POST", "/api/v1/coordination/incidents", incidents(""),
             {.lane = platform::Lane::kWork});
  routes.Add("GET", "/api/v1/coordination/incidents/{id}", incidents(""));
  routes.Add("GET", "/api/v1/coordination/incidents/{id}/report", incidents("report"));
  for (const char* action : {"notes", "tasks", "links", "close"}) {
    routes.Add("POST", std::string("/api/v1/coordination/incidents/{id}/") + action,
               incidents(action));
  }
  routes.Add("GET", "/api/v1/coordination/emergencies/ack/{token}",
             [this](const http::Request&, const store::User&, const platform::PathParams& p) {
               return EmergencyLinkPage(p.Get("token"), false);
             },
             {.is_public = true});
  routes.Add("POST", "/api/v1/coordination/emergencies/ack/{token}",
             [this](const http::Request&, const store::User&, const platform::PathParams& p) {
               return EmergencyLinkPage(p.Get("token"), true);
             },
             {.is_public = true});
}

http::Response CoordinationModule::Directory(const store::User& user, const std::string& id) {
  std::shared_ptr<const sharing::SharingPolicy> policy = services_->policy();
  const sharing::Recipient recipient = policy->ForUser(user);
  if (recipient.kind == sharing::Recipient::Kind::kPeer) {
    return http::ErrorResponse(403, "Forbidden", "partners read the coordination collection");
  }
  // As on TAXII: a read grant on the coordination collection (the home
  // organization has one from the start), then what the policy releases.
  if (user.role != store::Role::kAdmin) {
    auto collection = services_->store->GetCollection(kCoordinationAlias);
    auto rights = collection.ok() ? services_->store->RightsOf(user, collection->id)
                                  : Result<store::Grant>(collection.status());
    if (!rights.ok() || !rights->can_read) {
      return http::ErrorResponse(403, "Forbidden", "no read grant on the coordination collection");
    }
  }
  auto entries = ListDirectory(*services_->store, policy->peers(), services_->node->identity(),
                               SystemClock::Instance().NowMicros(), config_.stale_after_days);
  if (!entries.ok()) return http::ErrorResponse(500, "Internal error", entries.status().message());
  // The entries as the sharing decision releases their STIX objects.
  if (!id.empty()) {
    auto one = EntryWithId(*entries, id);
    if (!one.ok()) {
      const bool missing = one.status().code() == Code::kNotFound;
      return http::ErrorResponse(missing ? 404 : 409, missing ? "Not found" : "Conflict",
                                 one.status().message());
    }
  }
  json::array out;
  for (const DirectoryEntry& e : *entries) {
    if (!id.empty() && e.id != id) continue;
    if (recipient.kind != sharing::Recipient::Kind::kHome) {
      store::StoredObject object;
      object.id = e.id;
      object.type = "identity";
      object.tlp = e.tlp;
      object.origin = e.peer;
      object.created_by_ref = e.id;
      object.json = json::serialize(EntryToStix(e, object.tlp));
      if (!policy->MayRelease(object, recipient)) continue;
    }
    out.push_back(EntryJson(e));
  }
  if (!id.empty()) {
    if (out.empty()) return http::ErrorResponse(404, "Not found", "no such team in the directory");
    return http::JsonResponse(200, json::serialize(out.front()));
  }
  return http::JsonResponse(200, json::serialize(json::object{{"teams", std::move(out)}}));
}

void CoordinationModule::AddCommands(CLI::App& app, int* exit_code) {
  AddDirectoryCommands(app, exit_code);
  AddDrillCommands(app, exit_code);
  AddEmergencyCommands(app, exit_code);
  AddIncidentCommands(app, exit_code);
}

}  // namespace kizuna::coordination
