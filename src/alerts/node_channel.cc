#include "alerts/node_channel.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <iterator>
#include <map>
#include <set>

#include "alerts/deliver.h"
#include "alerts/report_format.h"
#include "common/time.h"
#include "common/uuid.h"
#include "sharing/policy.h"
#include "stix/stix.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

// A report holds at most this many objects (two per event and the report):
// what one delivery may put into the store at once.
constexpr size_t kMaxBundleObjects = 2 * 1000000 + 1;
constexpr size_t kAddBatch = 5000;

const Recipient* RecipientNamed(const std::vector<Recipient>& recipients, std::string_view name) {
  for (const Recipient& r : recipients) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// Whether `recipient` is reached through `peer`'s node.
bool ThroughPeer(const Recipient* recipient, const std::string& peer) {
  return recipient != nullptr && recipient->channel == Channel::kNode && recipient->peer == peer;
}

}  // namespace

bool IsEventState(std::string_view state) {
  return state == kEventDelivered || state == kEventAcknowledged || state == kEventUnrouted ||
         state == kEventRemediated || state == kEventStillInfected;
}

Status CheckRecipientPeer(const Recipient& recipient, const node::NodeConfig& config) {
  if (recipient.channel != Channel::kNode) return Status::Ok();
  for (const node::PeerConfig& peer : config.peers) {
    if (peer.name == recipient.peer) return Status::Ok();
  }
  return InvalidArgument("recipient " + recipient.name + ": no [[peer]] named '" + recipient.peer +
                         "' in kizuna.toml (channel node)");
}

Result<store::Collection> EnsureAlertsCollection(store::Store& store, const std::string& home_org) {
  return sharing::EnsureCollection(
      store, sharing::kAlertsAlias, "Alerts",
      "Infected-host alert reports addressed to partners' nodes (each partner reads only what "
      "is addressed to it)",
      home_org);
}

Result<int64_t> StoreReportForPeer(store::Store& store, const std::string& home_org,
                                   const std::string& peer, std::string_view bundle) {
  auto parsed = stix::ParseJson(bundle, 64);
  if (!parsed.ok() || !parsed->is_object()) {
    return InvalidArgument("the report is not a STIX bundle (is the recipient's format stix?)");
  }
  KIZUNA_RETURN_IF_ERROR(stix::ValidateBundleEnvelope(parsed->get_object()));
  const json::value* listed = parsed->get_object().if_contains("objects");
  if (listed == nullptr || listed->get_array().empty()) {
    return InvalidArgument("the report's bundle holds no objects");
  }
  const json::array& objects = listed->get_array();
  if (objects.size() > kMaxBundleObjects) return InvalidArgument("the report is too large");
  KIZUNA_ASSIGN_OR_RETURN(store::Collection collection, EnsureAlertsCollection(store, home_org));
  // Every object validated and addressed before anything is stored.
  std::vector<store::NewObject> out;
  out.reserve(objects.size());
  std::vector<std::string> sco_ids;
  for (const json::value& v : objects) {
    json::object o = v.get_object();
    o[sharing::kAddressedToProperty] = peer;
    auto info = stix::ValidateObject(o);
    if (!info.ok()) return InvalidArgument("the report's bundle: " + info.status().message());
    if (info->tlp == stix::Tlp::kNone || info->tlp == stix::Tlp::kRed) {
      return InvalidArgument("the report's bundle: " + info->id + " is not marked for sending");
    }
    if (stix::IsScoType(info->type)) sco_ids.push_back(info->id);
    out.push_back(store::NewObject{*info, json::serialize(o), ""});
  }
  // An address (an SCO: its id is its value) may already be in the
  // collection for another partner: this one gets its own copy. A copy
  // addressed to this peer already there (a resend) is not stored again.
  std::map<std::string, bool> sco_for_peer;  // id -> a copy addressed to `peer` exists
  for (size_t i = 0; i < sco_ids.size(); i += 500) {
    store::ObjectQuery query;
    query.ids.assign(sco_ids.begin() + i, sco_ids.begin() + std::min(sco_ids.size(), i + 500));
    query.version_all = true;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(collection.id, query));
    for (const store::StoredObject& held : page.objects) {
      bool& mine = sco_for_peer[held.id];
      mine = mine || sharing::AddressedTo(held.json) == peer;
    }
  }
  std::vector<store::NewObject> to_add;
  to_add.reserve(out.size());
  for (store::NewObject& o : out) {
    if (stix::IsScoType(o.info.type)) {
      auto held = sco_for_peer.find(o.info.id);
      if (held != sco_for_peer.end()) {
        if (held->second) continue;
        o.another_copy = true;
      }
    }
    to_add.push_back(std::move(o));
  }
  int64_t added = 0;
  // In store order the report comes last (after every event it names), so
  // a receiver that acts on the report has its events already.
  for (size_t i = 0; i < to_add.size(); i += kAddBatch) {
    std::vector<store::NewObject> batch(
        std::make_move_iterator(to_add.begin() + i),
        std::make_move_iterator(to_add.begin() + std::min(to_add.size(), i + kAddBatch)));
    KIZUNA_ASSIGN_OR_RETURN(store::AddResult result, store.AddObjects(collection.id, batch));
    for (store::AddOutcome outcome : result.outcomes) {
      if (outcome == store::AddOutcome::kAdded) ++added;
    }
  }
  return added;
}

std::function<Status(const ReportRow&, const std::string&, const std::string&)> NodeChannel(
    store::Store* store, std::string home_org, std::function<void()> notify) {
  return [store, home_org = std::move(home_org), notify = std::move(notify)](
             const ReportRow& report, const std::string& peer, const std::string& bundle) {
    auto added = StoreReportForPeer(*store, home_org, peer, bundle);
    if (!added.ok()) {
      return Status(added.status().code(),
                    "report " + report.id + " for peer " + peer + ": " + added.status().message());
    }
    if (notify) notify();
    return Status::Ok();
  };
}

Status RecordEventState(AlertsDb& db, int64_t event_id, std::string_view state, int64_t at_us,
                        const std::string& detail) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement insert,
      db.connection().Prepare("INSERT INTO event_state(event_id, state, at, detail) "
                              "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(event_id, state) DO NOTHING"));
  insert.Bind(1, event_id).Bind(2, state).Bind(3, at_us).Bind(4, detail);
  return insert.Run();
}

Result<bool> ApplyPartnerAnswer(AlertsDb& db, const std::vector<Recipient>& recipients,
                                const store::StoredObject& object, int64_t now_us) {
  if (object.type != "sighting" || object.origin.empty() ||
      object.json.find(kAlertStateProperty) == std::string::npos) {
    return false;
  }
  const std::string& peer = object.origin;
  auto parsed = stix::ParseJson(object.json, 16);
  if (!parsed.ok() || !parsed->is_object()) return false;
  const json::object& o = parsed->get_object();
  const std::string state = stix::StringProperty(o, kAlertStateProperty);
  const std::string of = stix::StringProperty(o, "sighting_of_ref");
  std::string detail = stix::StringProperty(o, "description");
  if (detail.size() > 500) detail.resize(500);
  auto ignore = [&](const std::string& why) -> Result<bool> {
    spdlog::warn("alerts: answer {} from peer {} ignored: {}", object.id, peer, why);
    return false;
  };
  const std::string by = "peer " + peer + (detail.empty() ? "" : ": " + detail);
  if (of.starts_with("report--")) {
    if (state != kReportReceived) return ignore("a report's answer is 'received'");
    auto report = db.Report(of.substr(8));
    if (!report.ok()) {
      if (report.status().code() == Code::kNotFound) return ignore("no report " + of);
      return report.status();
    }
    if (!ThroughPeer(RecipientNamed(recipients, report->recipient), peer)) {
      return ignore("report " + of + " did not go to this peer");
    }
    KIZUNA_RETURN_IF_ERROR(AcknowledgeReport(db, report->id, now_us, by + " (its node)"));
    return true;
  }
  if (!of.starts_with("observed-data--")) return false;
  if (!IsEventState(state)) return ignore("unknown state '" + state.substr(0, 40) + "'");
  const std::optional<int64_t> event =
      ParseEventIdHex(stix::StringProperty(o, kAlertEventProperty));
  if (!event || AlertObservedDataId(*event) != of) {
    return ignore("its event id does not name " + of);
  }
  std::string recipient;
  {
    auto lock = db.Lock();
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement find,
        db.connection().Prepare("SELECT r.recipient FROM reported_events e JOIN reports r ON "
                                "r.rowid = e.report WHERE e.event_id = ?1"));
    find.Bind(1, *event);
    KIZUNA_ASSIGN_OR_RETURN(bool row, find.Step());
    if (row) recipient = find.ColumnText(0);
  }
  if (!ThroughPeer(RecipientNamed(recipients, recipient), peer)) {
    return ignore("event " + EventIdHex(*event) + " was not reported to this peer");
  }
  const auto when = ParseTimestamp(stix::StringProperty(o, "modified"));
  KIZUNA_RETURN_IF_ERROR(
      RecordEventState(db, *event, state, when.ok() && *when <= now_us ? *when : now_us, by));
  return true;
}

Result<json::object> EventStatesJson(AlertsDb& db, int64_t report_rowid, int limit) {
  json::object counts;
  json::array events;
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  // The latest state of each event that has one.
  const std::string latest =
      "SELECT s.event_id, s.state, s.at, s.detail FROM event_state s WHERE s.rowid = "
      "(SELECT max(t.rowid) FROM event_state t WHERE t.event_id = s.event_id)";
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement count,
      c.Prepare(
          report_rowid == 0
              ? "SELECT state, count(*) FROM (" + latest + ") GROUP BY state"
              : "SELECT l.state, count(*) FROM (" + latest +
                    ") l JOIN reported_events e ON e.event_id = l.event_id WHERE e.report = ?1 "
                    "GROUP BY l.state"));
  if (report_rowid != 0) count.Bind(1, report_rowid);
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, count.Step());
    if (!row) break;
    counts[count.ColumnText(0)] = count.ColumnInt(1);
  }
  json::object out{{"counts", std::move(counts)}};
  if (report_rowid == 0) return out;
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement list,
      c.Prepare("SELECT e.event_id, e.ip, s.state, s.at, s.detail FROM reported_events e JOIN "
                "event_state s ON s.event_id = e.event_id WHERE e.report = ?1 "
                "ORDER BY e.event_id, s.rowid"));
  list.Bind(1, report_rowid);
  int64_t last_id = 0;
  bool first = true;
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) break;
    const int64_t id = list.ColumnInt(0);
    if (first || id != last_id) {
      if (static_cast<int>(events.size()) >= limit) {
        out["truncated"] = true;
        break;
      }
      events.push_back(json::object{
          {"event_id", EventIdHex(id)}, {"ip", list.ColumnText(1)}, {"states", json::object{}}});
      first = false;
      last_id = id;
    }
    json::object& e = events.back().as_object();
    const std::string at = FormatTimestamp(list.ColumnInt(3), 0);
    e["state"] = list.ColumnText(2);
    e["at"] = at;
    e["detail"] = list.ColumnText(4);
    e["states"].as_object()[list.ColumnText(2)] = at;
  }
  out["events"] = std::move(events);
  return out;
}

}  // namespace kizuna::alerts
