#include "alerts/partner_intake.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <tuple>
#include <unordered_map>

#include "alerts/node_channel.h"
#include "alerts/pipeline.h"
#include "alerts/report_format.h"
#include "alerts/taxonomy.h"
#include "common/uuid.h"
#include "correlation/sightings.h"
#include "stix/stix.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

// The namespace of our answers' ids (UUIDv5).
constexpr std::string_view kAnswerNamespace = "3c9e4b71-8a2d-5f06-b1e7-54d0a6c2f9e3";
// Most events one partner report may carry.
constexpr size_t kMaxReportEvents = 1000000;
constexpr size_t kMaxText = 256;
constexpr size_t kQueryBatch = 500;

Result<std::string> Text(const json::object& facts, std::string_view key, bool required = false) {
  const json::value* v = facts.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) return InvalidArgument(std::string(key) + " is missing");
    return std::string();
  }
  if (!v->is_string()) return InvalidArgument(std::string(key) + " is not a string");
  if (v->get_string().size() > kMaxText) return InvalidArgument(std::string(key) + " is too long");
  return std::string(v->get_string());
}

Result<int64_t> Integer(const json::object& facts, std::string_view key, int64_t min, int64_t max) {
  const json::value* v = facts.if_contains(key);
  if (v == nullptr || v->is_null()) return min;
  if (!v->is_int64() && !v->is_uint64())
    return InvalidArgument(std::string(key) + ": not an integer");
  const int64_t n = v->is_int64() ? v->get_int64() : static_cast<int64_t>(v->get_uint64());
  if ((v->is_uint64() && v->get_uint64() > static_cast<uint64_t>(max)) || n < min || n > max) {
    return InvalidArgument(std::string(key) + ": out of range");
  }
  return n;
}

json::object Sighting(const IntakeContext& context, const std::string& of, std::string_view state,
                      const std::string& remote_event, int64_t at_us, const std::string& detail,
                      stix::Tlp tlp) {
  const std::string at = FormatTimestamp(at_us, 3);
  json::object s{{"type", "sighting"},
                 {"spec_version", "2.1"},
                 {"id", "sighting--" + Uuid5(kAnswerNamespace, context.identity_id + "\x1f" + of +
                                                                   "\x1f" + std::string(state))},
                 {"created", at},
                 {"modified", at},
                 {"created_by_ref", context.identity_id},
                 {"sighting_of_ref", of},
                 {"where_sighted_refs", json::array{json::string(context.identity_id)}},
                 {"count", 1},
                 {kAlertStateProperty, state},
                 {"description", detail}};
  if (!remote_event.empty()) s[kAlertEventProperty] = remote_event;
  if (tlp != stix::Tlp::kNone) {
    s["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
  }
  return s;
}

Status StoreSightings(const IntakeContext& context, const std::vector<json::object>& sightings) {
  if (sightings.empty()) return Status::Ok();
  KIZUNA_ASSIGN_OR_RETURN(
      store::Collection collection,
      correlation::EnsureSightingsCollection(*context.store, sharing::kSightingsAlias,
                                             context.identity_id, context.identity_name));
  std::vector<store::NewObject> objects;
  for (const json::object& s : sightings) {
    auto info = stix::ValidateObject(s);
    if (!info.ok()) return Internal("an answer does not validate: " + info.status().message());
    objects.push_back(store::NewObject{*info, json::serialize(s), ""});
  }
  return context.store->AddObjects(collection.id, objects).status();
}

}  // namespace

Result<Observation> ObservationFromAlert(const json::object& o, const std::string& peer,
                                         std::string* remote_event) {
  const std::string id = stix::StringProperty(o, "id");
  auto bad = [&](const std::string& why) -> Result<Observation> {
    return InvalidArgument(id + ": " + why);
  };
  if (stix::StringProperty(o, "type") != "observed-data") return bad("not an observed-data");
  if (stix::StringProperty(o, "x_kizuna_observation") != "infected-host") {
    return bad("not an infected-host observation (x_kizuna_observation)");
  }
  const json::value* facts_value = o.if_contains(kAlertFactsProperty);
  if (facts_value == nullptr || !facts_value->is_object()) return bad("no x_kizuna_alert object");
  const json::object& facts = facts_value->get_object();
  auto checked = [&]() -> Result<Observation> {
    Observation obs;
    KIZUNA_ASSIGN_OR_RETURN(std::string event, Text(facts, "event_id", true));
    const std::optional<int64_t> event_id = ParseEventIdHex(event);
    if (!event_id || AlertObservedDataId(*event_id) != id) {
      return InvalidArgument("event_id '" + event.substr(0, 20) + "' does not match the object id");
    }
    KIZUNA_ASSIGN_OR_RETURN(std::string ip, Text(facts, "ip", true));
    const std::optional<HostAddress> address = ParseHostAddress(ip);
    if (!address) return InvalidArgument("ip '" + ip.substr(0, 40) + "' is not an address");
    obs.ip = *address;
    KIZUNA_ASSIGN_OR_RETURN(std::string last, Text(facts, "last_seen", true));
    auto last_us = ParseTimestamp(last);
    if (!last_us.ok()) return InvalidArgument("last_seen is not a time");
    KIZUNA_ASSIGN_OR_RETURN(std::string first, Text(facts, "first_seen"));
    if (!first.empty()) {
      auto first_us = ParseTimestamp(first);
      if (!first_us.ok() || *first_us > *last_us) {
        return InvalidArgument("first_seen is not a time before last_seen");
      }
      obs.first_seen_us = *first_us;
    }
    obs.time_us = *last_us;
    KIZUNA_ASSIGN_OR_RETURN(int64_t port, Integer(facts, "port", 0, 65535));
    obs.port = static_cast<uint16_t>(port);
    KIZUNA_ASSIGN_OR_RETURN(obs.protocol, Text(facts, "protocol"));
    if (!obs.protocol.empty() && obs.protocol != "tcp" && obs.protocol != "udp" &&
        obs.protocol != "icmp") {
      return InvalidArgument("protocol '" + obs.protocol.substr(0, 20) +
                             "' is not tcp, udp or icmp");
    }
    KIZUNA_ASSIGN_OR_RETURN(obs.taxonomy, Text(facts, "taxonomy", true));
    KIZUNA_ASSIGN_OR_RETURN(obs.type, Text(facts, "type", true));
    KIZUNA_RETURN_IF_ERROR(CheckClassification(obs.taxonomy, obs.type));
    KIZUNA_ASSIGN_OR_RETURN(obs.identifier, Text(facts, "identifier"));
    KIZUNA_ASSIGN_OR_RETURN(obs.family, Text(facts, "family"));
    KIZUNA_ASSIGN_OR_RETURN(obs.hostname, Text(facts, "hostname"));
    KIZUNA_ASSIGN_OR_RETURN(int64_t asn, Integer(facts, "asn", 0, 0xFFFFFFFFLL));
    obs.feed_asn = static_cast<uint32_t>(asn);
    KIZUNA_ASSIGN_OR_RETURN(obs.feed_country, Text(facts, "country"));
    if (!obs.feed_country.empty() &&
        (obs.feed_country.size() != 2 ||
         !std::isupper(static_cast<unsigned char>(obs.feed_country[0])) ||
         !std::isupper(static_cast<unsigned char>(obs.feed_country[1])))) {
      return InvalidArgument("country '" + obs.feed_country.substr(0, 20) + "' is not a code");
    }
    KIZUNA_ASSIGN_OR_RETURN(int64_t confidence, Integer(facts, "confidence", 0, 100));
    obs.confidence = static_cast<int>(confidence);
    KIZUNA_ASSIGN_OR_RETURN(int64_t count, Integer(facts, "count", 1, int64_t{1} << 40));
    obs.count = count;  // the sender's count, not one more sighting
    KIZUNA_ASSIGN_OR_RETURN(std::string source, Text(facts, "source"));
    obs.source = "partner/" + peer;
    // What the partner said of it, for whoever reads our report.
    obs.evidence = json::serialize(json::object{{"partner", peer},
                                                {"partner_event", event},
                                                {"partner_source", source},
                                                {"count", count},
                                                {"first_seen", first},
                                                {"last_seen", last}});
    *remote_event = event;
    return obs;
  };
  auto result = checked();
  if (!result.ok()) return bad(result.status().message());
  return result;
}

Result<IntakeResult> TakeInPartnerReport(const IntakeContext& context,
                                         const sharing::SharingPolicy& policy,
                                         const store::Change& change) {
  IntakeResult result;
  const store::StoredObject& report = change.object;
  const std::string& peer = report.origin;
  if (change.kind != store::Change::Kind::kAdded || report.type != "report" || peer.empty() ||
      report.json.find(kAlertReportProperty) == std::string::npos ||
      policy.ForPeer(peer).kind != sharing::Recipient::Kind::kPeer) {
    return result;
  }
  AlertsDb& db = *context.db;
  {
    auto lock = db.Lock();
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement seen,
        db.connection().Prepare("SELECT 1 FROM partner_reports WHERE ref = ?1"));
    seen.Bind(1, report.id);
    KIZUNA_ASSIGN_OR_RETURN(bool taken_before, seen.Step());
    if (taken_before) return result;
  }
  auto refuse = [&](const std::string& why) -> Result<IntakeResult> {
    spdlog::warn("alerts: refused alert report {} from peer {}: {}; nothing of it was taken in",
                 report.id, peer, why);
    result.refused = why;
    return result;
  };
  auto parsed = stix::ParseJson(report.json, 16);
  if (!parsed.ok() || !parsed->is_object()) return refuse("not a JSON object");
  const json::object& o = parsed->get_object();
  const json::value* marker = o.if_contains(kAlertReportProperty);
  if (marker == nullptr || !marker->is_object())
    return refuse("x_kizuna_alert_report is not an object");
  const json::value* refs_value = o.if_contains("object_refs");
  if (refs_value == nullptr || !refs_value->is_array()) return refuse("no object_refs");
  const stix::Tlp tlp = policy.EffectiveTlp(report.tlp);
  std::vector<std::string> refs;
  for (const json::value& r : refs_value->get_array()) {
    if (!r.is_string()) return refuse("object_refs holds a non-string");
    if (r.get_string() == report.id) continue;  // an empty report names itself
    if (!r.get_string().starts_with("observed-data--")) {
      return refuse("object_refs names " + std::string(r.get_string()).substr(0, 80) +
                    ", not an observed-data");
    }
    refs.emplace_back(r.get_string());
  }
  if (refs.size() > kMaxReportEvents) return refuse("too many events");
  // Every event read and checked before anything is written.
  std::unordered_map<std::string, store::StoredObject> found;
  for (size_t i = 0; i < refs.size(); i += kQueryBatch) {
    store::ObjectQuery query;
    query.ids.assign(refs.begin() + i, refs.begin() + std::min(refs.size(), i + kQueryBatch));
    query.include_origin = true;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page,
                            context.store->QueryObjects(change.collection_id, query));
    for (store::StoredObject& held : page.objects) found[held.id] = std::move(held);
  }
  struct Taken {
    std::string ref, remote_event;
    Observation observation;
  };
  std::vector<Taken> taken;
  taken.reserve(refs.size());
  for (const std::string& ref : refs) {
    auto held = found.find(ref);
    if (held == found.end()) return refuse(ref + " is not here (refused when it arrived?)");
    if (held->second.origin != peer) return refuse(ref + " did not come from this peer");
    if (policy.EffectiveTlp(held->second.tlp) != tlp) {
      return refuse(ref + " is marked differently from its report");
    }
    auto event = stix::ParseJson(held->second.json, 16);
    if (!event.ok() || !event->is_object()) return refuse(ref + " is not a JSON object");
    Taken t;
    t.ref = ref;
    auto observation = ObservationFromAlert(event->get_object(), peer, &t.remote_event);
    if (!observation.ok()) return refuse(observation.status().message());
    t.observation = std::move(*observation);
    taken.push_back(std::move(t));
  }
  // Routed as our own observations are, with the partner as their origin.
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> recipients, db.Recipients());
  const RouteTable routes(std::move(recipients));
  IngestOptions options;
  options.origin = peer;
  options.tlp = tlp;
  options.now_us = context.now_us;
  Ingester ingester(db, context.geo, routes, options);
  std::vector<std::pair<int64_t, bool>> local;  // our event id, routed
  local.reserve(taken.size());
  for (const Taken& t : taken) {
    KIZUNA_RETURN_IF_ERROR(ingester.Add(t.observation));
    // The event it became: the Ingester's key, by the same routing.
    const Enrichment e = Enrich(context.geo, t.observation);
    const Route route = routes.Find(t.observation.ip, e.asn, e.country, t.observation.hostname);
    const std::string recipient =
        route.recipient >= 0 ? routes.recipients()[route.recipient].name : std::string();
    local.emplace_back(EventId(recipient, peer, tlp, t.observation), route.recipient >= 0);
  }
  KIZUNA_RETURN_IF_ERROR(ingester.Flush());
  {
    auto lock = db.Lock();
    store::sqlite::Connection& c = db.connection();
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                            store::sqlite::Transaction::Begin(c, true));
    for (size_t i = 0; i < taken.size(); ++i) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement insert,
          c.Prepare("INSERT INTO partner_events(ref, peer, remote_event, report_ref, local_event, "
                    "received, tlp) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(ref) DO NOTHING"));
      insert.Bind(1, taken[i].ref)
          .Bind(2, peer)
          .Bind(3, taken[i].remote_event)
          .Bind(4, report.id)
          .Bind(5, local[i].first)
          .Bind(6, context.now_us)
          .Bind(7, stix::TlpName(tlp));
      KIZUNA_RETURN_IF_ERROR(insert.Run());
      if (!local[i].second) {
        ++result.unrouted;
        KIZUNA_ASSIGN_OR_RETURN(
            store::sqlite::Statement state,
            c.Prepare("INSERT INTO event_state(event_id, state, at, detail) VALUES(?1,?2,?3,?4) "
                      "ON CONFLICT(event_id, state) DO NOTHING"));
        state.Bind(1, local[i].first)
            .Bind(2, kEventUnrouted)
            .Bind(3, context.now_us)
            .Bind(4, "no recipient here for this host");
        KIZUNA_RETURN_IF_ERROR(state.Run());
      }
    }
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement insert,
        c.Prepare("INSERT INTO partner_reports(ref, peer, received, events) VALUES(?1,?2,?3,?4) "
                  "ON CONFLICT(ref) DO NOTHING"));
    insert.Bind(1, report.id).Bind(2, peer).Bind(3, context.now_us).Bind(4, int64_t(taken.size()));
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
  }
  result.taken = true;
  result.events = static_cast<int64_t>(taken.size());
  spdlog::info("alerts: took in alert report {} from peer {}: {} events ({} unrouted)", report.id,
               peer, result.events, result.unrouted);
  KIZUNA_RETURN_IF_ERROR(StoreSightings(
      context, {Sighting(context, report.id, kReportReceived, "", context.now_us,
                         "received " + std::to_string(result.events) + " events, " +
                             std::to_string(result.events - result.unrouted) + " routed on",
                         tlp)}));
  return result;
}

Result<int64_t> AnswerPartners(const IntakeContext& context) {
  AlertsDb& db = *context.db;
  // Our reports sent or acknowledged since the last pass: the partners'
  // events in them reached that state.
  KIZUNA_ASSIGN_OR_RETURN(int64_t log_cursor, GetCursor(db, "answers:report_log"));
  {
    auto lock = db.Lock();
    store::sqlite::Connection& c = db.connection();
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                            store::sqlite::Transaction::Begin(c, true));
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement log,
        c.Prepare(
            "SELECT l.rowid, l.report, l.state, l.at, r.recipient FROM report_log l JOIN "
            "reports r ON r.rowid = l.report WHERE l.rowid > ?1 ORDER BY l.rowid LIMIT 1000"));
    log.Bind(1, log_cursor);
    std::vector<std::tuple<int64_t, std::string, int64_t, std::string>> done;
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, log.Step());
      if (!row) break;
      log_cursor = log.ColumnInt(0);
      const std::string state = log.ColumnText(2);
      if (state == kSent || state == kAcknowledged) {
        done.emplace_back(log.ColumnInt(1), state, log.ColumnInt(3), log.ColumnText(4));
      }
    }
    log.Reset();
    for (const auto& [report, state, at, recipient] : done) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement mark,
          c.Prepare("INSERT INTO event_state(event_id, state, at, detail) SELECT DISTINCT "
                    "p.local_event, ?2, ?3, ?4 FROM partner_events p JOIN reported_events e ON "
                    "e.event_id = p.local_event WHERE e.report = ?1 "
                    "ON CONFLICT(event_id, state) DO NOTHING"));
      const bool sent = state == kSent;
      mark.Bind(1, report)
          .Bind(2, sent ? kEventDelivered : kEventAcknowledged)
          .Bind(3, at)
          .Bind(4, sent ? "reported to " + recipient : "acknowledged by " + recipient);
      KIZUNA_RETURN_IF_ERROR(mark.Run());
    }
    KIZUNA_RETURN_IF_ERROR(SetCursor(c, "answers:report_log", log_cursor));
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
  }
  // Every new state of an event that came from a partner: a sighting to it.
  int64_t written = 0;
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(int64_t state_cursor, GetCursor(db, "answers:event_state"));
    std::vector<json::object> sightings;
    int64_t last = state_cursor;
    {
      auto lock = db.Lock();
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement states,
          db.connection().Prepare(
              "SELECT s.rowid, s.state, s.at, s.detail, p.ref, p.remote_event, p.tlp FROM "
              "event_state s LEFT JOIN partner_events p ON p.local_event = s.event_id WHERE "
              "s.rowid > ?1 ORDER BY s.rowid LIMIT 2000"));
      states.Bind(1, state_cursor);
      for (;;) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, states.Step());
        if (!row) break;
        last = states.ColumnInt(0);
        if (states.ColumnIsNull(4)) continue;  // not a partner's event
        auto tlp = stix::ParseTlp(states.ColumnText(6));
        sightings.push_back(Sighting(context, states.ColumnText(4), states.ColumnText(1),
                                     states.ColumnText(5), states.ColumnInt(2),
                                     states.ColumnText(3), tlp.ok() ? *tlp : stix::Tlp::kAmber));
      }
    }
    if (last == state_cursor) break;
    // Stored before the cursor moves: a crash in between repeats answers
    // (the same ids: stored once), never loses one.
    KIZUNA_RETURN_IF_ERROR(StoreSightings(context, sightings));
    KIZUNA_RETURN_IF_ERROR(SetCursor(db, "answers:event_state", last));
    written += static_cast<int64_t>(sightings.size());
  }
  return written;
}

Status PartnerFollower::Apply(const std::vector<store::Change>& changes) {
  std::shared_ptr<const sharing::SharingPolicy> policy = options_.policy();
  std::shared_ptr<const geo::GeoDb> geo = options_.geo ? options_.geo->Get() : nullptr;
  IntakeContext context{options_.db,          options_.store,         geo.get(),
                        options_.identity_id, options_.identity_name, options_.clock->NowMicros()};
  std::vector<Recipient> recipients;
  bool have_recipients = false;
  for (const store::Change& change : changes) {
    if (change.kind != store::Change::Kind::kAdded || change.object.origin.empty()) continue;
    if (change.object.type == "report") {
      KIZUNA_RETURN_IF_ERROR(TakeInPartnerReport(context, *policy, change).status());
    } else if (change.object.type == "sighting") {
      if (!have_recipients) {
        KIZUNA_ASSIGN_OR_RETURN(recipients, options_.db->Recipients());
        have_recipients = true;
      }
      KIZUNA_RETURN_IF_ERROR(
          ApplyPartnerAnswer(*options_.db, recipients, change.object, context.now_us).status());
    }
  }
  return Status::Ok();
}

Status PartnerFollower::Answer() {
  IntakeContext context{options_.db,          options_.store,         nullptr,
                        options_.identity_id, options_.identity_name, options_.clock->NowMicros()};
  KIZUNA_ASSIGN_OR_RETURN(int64_t written, AnswerPartners(context));
  if (written > 0 && options_.bus) options_.bus->Notify();
  return Status::Ok();
}

PartnerFollower::PartnerFollower(Options options)
    : options_(std::move(options)),
      follower_(StoreFollower::Options{
          .db = options_.db,
          .store = options_.store,
          .bus = options_.bus,
          .cursor = "intake:store",
          .name = "alerts partners",
          .types = {"report", "sighting"},
          .limit = static_cast<int>(kQueryBatch),
          .apply = [this](const std::vector<store::Change>& changes) { return Apply(changes); },
          // Answers: at once after what came in, else about once a second
          // (our reports go out from the job or the CLI).
          .after = [this](bool had_changes) -> Status {
            const int64_t now = options_.clock->NowMicros();
            if (!had_changes && now - last_answer_us_ <= 1000000) return Status::Ok();
            last_answer_us_ = now;
            return Answer();
          }}) {}

Status PartnerFollower::RunOnce() {
  KIZUNA_RETURN_IF_ERROR(follower_.CatchUp());
  return Answer();
}

Status PartnerFollower::Start() {
  KIZUNA_RETURN_IF_ERROR(RunOnce());
  return follower_.Start();
}

void PartnerFollower::Stop() { follower_.Stop(); }

}  // namespace kizuna::alerts
