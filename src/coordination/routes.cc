// The coordination module's REST handlers for drills and emergencies, and
// the pages of their e-mailed acknowledgement links (module.h).
#include <boost/json.hpp>

#include "bus/bus.h"
#include "common/encoding.h"
#include "common/time.h"
#include "coordination/incidents.h"
#include "coordination/module.h"
#include "sharing/policy.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

// 400 for what the caller got wrong, 404 for what is not there, 500 else.
http::Response ErrorOf(const Status& status) {
  switch (status.code()) {
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
      return http::ErrorResponse(400, "Bad request", status.message());
    case Code::kNotFound:
      return http::ErrorResponse(404, "Not found", status.message());
    default:
      return http::ErrorResponse(500, "Internal error", status.message());
  }
}

// The "to" of a request body: peer names.
Result<std::vector<std::string>> PeersOf(const json::object& body) {
  const json::value* to = body.if_contains("to");
  if (!to || !to->is_array()) return InvalidArgument("to: a list of peers");
  std::vector<std::string> peers;
  for (const json::value& peer : to->get_array()) {
    if (!peer.is_string()) return InvalidArgument("to: peer names");
    peers.emplace_back(peer.get_string());
  }
  return peers;
}

// A request's JSON object body (an empty body is {}), or what it should be.
Result<json::object> BodyObject(const http::Request& request, std::string_view shape) {
  boost::system::error_code ec;
  json::value body = json::parse(request.body.empty() ? "{}" : request.body, ec);
  if (ec || !body.is_object()) return InvalidArgument("a JSON object: " + std::string(shape));
  return std::move(body.get_object());
}

// An optional number of minutes, as microseconds (nullopt when absent).
Result<std::optional<int64_t>> MinutesField(const json::object& body, std::string_view key) {
  const json::value* minutes = body.if_contains(key);
  if (!minutes) return std::optional<int64_t>();
  if (!minutes->is_number()) return InvalidArgument(std::string(key) + ": a number");
  KIZUNA_ASSIGN_OR_RETURN(int64_t us, MinutesToMicros(minutes->to_number<double>(), key));
  return std::optional<int64_t>(us);
}

// A text field: "" when absent; InvalidArgument when not text (or absent
// and `required`).
Result<std::string> TextField(const json::object& body, std::string_view key, bool required) {
  const json::value* v = body.if_contains(key);
  if (!v && !required) return std::string();
  if (!v || !v->is_string()) return InvalidArgument(std::string(key) + ": text");
  return std::string(v->get_string());
}

// The page of an e-mailed link: what it acknowledges and a button (GET),
// or that it is acknowledged (POST, or a link already used).
struct LinkView {
  std::string what;  // "Communication drill drill--… from CERT-A"
  int64_t acknowledged_us = 0;
  bool first = false;
};

http::Response LinkPage(const Result<LinkView>& found, bool press) {
  http::Response response;
  response.headers.Set("Content-Type", "text/html; charset=utf-8");
  // The page must not leak the token onward nor be framed.
  response.headers.Set("Referrer-Policy", "no-referrer");
  response.headers.Set("X-Frame-Options", "DENY");
  response.headers.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'");
  std::string text, form;
  if (!found.ok()) {
    const bool missing = found.status().code() == Code::kNotFound;
    response.status = missing ? 404 : 500;
    text = missing ? "This link is not known here."
                   : "The node could not look up this link; try again.";
  } else if (!press && found->acknowledged_us == 0) {
    response.status = 200;
    text = HtmlEscape(found->what) + ", for your team.";
    form = "<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>";
  } else {
    response.status = 200;
    text = std::string(found->first ? "Acknowledged" : "Already acknowledged") + " at " +
           FormatTimestamp(found->acknowledged_us, 0) + ": " + HtmlEscape(found->what) +
           ". Thank you.";
  }
  response.body =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>kizuna</title>"
      "</head><body><p>" +
      text + "</p>" + form + "</body></html>\n";
  return response;
}

}  // namespace
http::Response CoordinationModule::ListDrills() {
  const int64_t now = SystemClock::Instance().NowMicros();
  auto received = ReceivedDrills(*services_->store);
  if (!received.ok())
    return http::ErrorResponse(500, "Internal error", received.status().message());
  auto sent = SentDrills(*db_, *services_->store, 100);
  if (!sent.ok()) return http::ErrorResponse(500, "Internal error", sent.status().message());
  json::array in, out;
  for (const ReceivedDrill& r : *received) in.push_back(ReceivedJson(r));
  for (const DrillReport& r : *sent) out.push_back(ReportJson(r, now));
  return http::JsonResponse(
      200, json::serialize(json::object{{"received", std::move(in)}, {"sent", std::move(out)}}));
}

http::Response CoordinationModule::StartDrillRequest(const http::Request& request,
                                                     const store::User& user) {
  auto body = BodyObject(request, "{\"to\": [peer, …], \"deadline_minutes\": N, \"message\": …}");
  if (!body.ok()) return ErrorOf(body.status());
  DrillRequest drill;
  auto peers = PeersOf(*body);
  if (!peers.ok()) return ErrorOf(peers.status());
  drill.peers = std::move(*peers);
  auto deadline = MinutesField(*body, "deadline_minutes");
  if (!deadline.ok()) return ErrorOf(deadline.status());
  if (*deadline) drill.deadline_us = **deadline;
  auto message = TextField(*body, "message", false);
  if (!message.ok()) return ErrorOf(message.status());
  drill.message = std::move(*message);
  drill.started_by = user.org_name + "/" + user.name;
  auto started = StartDrill(Sender(), drill, SystemClock::Instance().NowMicros());
  if (!started.ok()) return ErrorOf(started.status());
  return http::JsonResponse(201, json::serialize(json::object{{"drill", *started}}));
}

http::Response CoordinationModule::DrillReportResponse(const http::Request& request,
                                                       const std::string& id) {
  auto report = ReportDrill(*db_, *services_->store, id);
  if (!report.ok()) return ErrorOf(report.status());
  const int64_t now = SystemClock::Instance().NowMicros();
  if (request.Query("format") == "csv") {
    http::Response response;
    response.status = 200;
    response.headers.Set("Content-Type", "text/csv; charset=utf-8");
    response.body = ReportCsv(*report, now);
    return response;
  }
  json::object out = ReportJson(*report, now);
  auto trail = AuditTrail(*db_, id);
  if (trail.ok()) out["trail"] = TrailJson(*trail);
  return http::JsonResponse(200, json::serialize(out));
}

http::Response CoordinationModule::AckDrill(const std::string& id) {
  auto acked =
      AcknowledgeDrill(*services_->store, services_->node->config(), services_->node->identity(),
                       *services_->policy(), id, SystemClock::Instance().NowMicros());
  if (!acked.ok()) return ErrorOf(acked.status());
  services_->bus->Notify();
  json::array list;
  for (const ReceivedDrill& d : *acked) list.push_back(ReceivedJson(d));
  return http::JsonResponse(200, json::serialize(json::object{{"acknowledged", std::move(list)}}));
}

http::Response CoordinationModule::DrillLink(const std::string& token, bool press) {
  const int64_t now = SystemClock::Instance().NowMicros();
  auto found = press ? AcknowledgeByToken(*db_, token, now) : LookUpToken(*db_, token);
  if (!found.ok()) return LinkPage(found.status(), press);
  return LinkPage(
      LinkView{"Communication drill " + found->drill + " from " + services_->node->identity().name,
               found->acknowledged_us, found->first},
      press);
}

// ---- emergencies

http::Response CoordinationModule::ListEmergencies() {
  auto received = ReceivedEmergencies(*services_->store);
  if (!received.ok())
    return http::ErrorResponse(500, "Internal error", received.status().message());
  auto raised = RaisedEmergencies(*db_, *services_->store, 100);
  if (!raised.ok()) return http::ErrorResponse(500, "Internal error", raised.status().message());
  json::array in, out;
  for (const ReceivedEmergency& e : *received) in.push_back(ReceivedEmergencyJson(e));
  for (const EmergencyStatus& e : *raised) out.push_back(EmergencyJson(e));
  return http::JsonResponse(
      200, json::serialize(json::object{{"received", std::move(in)}, {"raised", std::move(out)}}));
}

http::Response CoordinationModule::RaiseEmergencyRequest(const http::Request& request,
                                                         const store::User& user) {
  auto body = BodyObject(request, "{\"to\": [peer, …], \"summary\": …, \"ack_minutes\": N}");
  if (!body.ok()) return ErrorOf(body.status());
  EmergencyRequest emergency;
  auto peers = PeersOf(*body);
  if (!peers.ok()) return ErrorOf(peers.status());
  emergency.peers = std::move(*peers);
  auto summary = TextField(*body, "summary", true);
  if (!summary.ok()) return ErrorOf(summary.status());
  emergency.summary = std::move(*summary);
  auto ack = MinutesField(*body, "ack_minutes");
  if (!ack.ok()) return ErrorOf(ack.status());
  if (*ack) emergency.ack_us = **ack;
  emergency.raised_by = user.org_name + "/" + user.name;
  auto raised = RaiseEmergency(Sender(), emergency, SystemClock::Instance().NowMicros());
  if (!raised.ok()) return ErrorOf(raised.status());
  return http::JsonResponse(201, json::serialize(json::object{{"emergency", *raised}}));
}

http::Response CoordinationModule::EmergencyStatusResponse(const std::string& id) {
  auto status = GetEmergency(*db_, *services_->store, id);
  if (!status.ok()) return ErrorOf(status.status());
  json::object out = EmergencyJson(*status);
  auto trail = AuditTrail(*db_, id);
  if (trail.ok()) out["trail"] = TrailJson(*trail);
  return http::JsonResponse(200, json::serialize(out));
}

http::Response CoordinationModule::AckEmergency(const std::string& id) {
  auto acked = AcknowledgeEmergency(*services_->store, services_->node->config(),
                                    services_->node->identity(), *services_->policy(), id,
                                    SystemClock::Instance().NowMicros());
  if (!acked.ok()) return ErrorOf(acked.status());
  services_->bus->Notify();
  json::array list;
  for (const ReceivedEmergency& e : *acked) list.push_back(ReceivedEmergencyJson(e));
  return http::JsonResponse(200, json::serialize(json::object{{"acknowledged", std::move(list)}}));
}

http::Response CoordinationModule::EmergencyLinkPage(const std::string& token, bool press) {
  const int64_t now = SystemClock::Instance().NowMicros();
  auto found =
      press ? AcknowledgeEmergencyByToken(*db_, token, now) : LookUpEmergencyToken(*db_, token);
  if (!found.ok()) return LinkPage(found.status(), press);
  return LinkPage(
      LinkView{"Emergency " + found->emergency + " from " + services_->node->identity().name,
               found->acknowledged_us, found->first},
      press);
}

// ---- joint incidents

namespace {

std::string StringField(const json::object& body, std::string_view key) {
  const json::value* v = body.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> StringsField(const json::object& body, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = body.if_contains(key);
  if (v && v->is_array()) {
    for (const json::value& item : v->get_array()) {
      if (item.is_string()) out.emplace_back(item.get_string());
    }
  }
  return out;
}

}  // namespace

http::Response CoordinationModule::Incidents(const http::Request& request, const std::string& id,
                                             const std::string& action) {
  const Outbound out = Sender();
  const int64_t now = SystemClock::Instance().NowMicros();
  json::object body;
  if (request.method == "POST") {
    auto parsed = BodyObject(request, "see the README");
    if (!parsed.ok()) return ErrorOf(parsed.status());
    body = std::move(*parsed);
  }
  if (id.empty() && request.method == "GET") {
    auto incidents = ListIncidents(out);
    if (!incidents.ok()) return ErrorOf(incidents.status());
    json::array list;
    for (const Incident& i : *incidents) list.push_back(IncidentJson(i));
    return http::JsonResponse(200, json::serialize(json::object{{"incidents", std::move(list)}}));
  }
  if (id.empty()) {
    OpenRequest open;
    open.title = StringField(body, "title");
    open.participants = StringsField(body, "participants");
    if (body.contains("severity")) open.severity = StringField(body, "severity");
    if (body.contains("category")) open.category = StringField(body, "category");
    open.impact = StringField(body, "impact");
    open.description = StringField(body, "description");
    open.sectors = StringsField(body, "sectors");
    open.countries = StringsField(body, "countries");
    std::string emergency;
    auto opened = OpenIncident(out, open, now, &emergency);
    if (!opened.ok()) return ErrorOf(opened.status());
    json::object answer{{"incident", *opened}};
    if (!emergency.empty()) answer["emergency"] = emergency;
    return http::JsonResponse(201, json::serialize(answer));
  }
  Result<std::string> made = std::string();
  if (action.empty()) {
    auto incident = LoadIncident(out, id);
    if (!incident.ok()) return ErrorOf(incident.status());
    return http::JsonResponse(200, json::serialize(IncidentJson(*incident)));
  } else if (action == "report") {
    auto incident = LoadIncident(out, id);
    if (!incident.ok()) return ErrorOf(incident.status());
    http::Response response;
    response.status = 200;
    const bool html = request.Query("format") == "html";
    response.headers.Set("Content-Type",
                         html ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8");
    if (html) response.headers.Set("Content-Security-Policy", "default-src 'none'");
    response.body = html ? IncidentHtml(*incident) : IncidentMarkdown(*incident);
    return response;
  } else if (action == "notes") {
    const json::value* assistance = body.if_contains("assistance");
    made = AddIncidentNote(out, id, StringField(body, "text"),
                           assistance && assistance->is_bool() && assistance->get_bool(), now);
  } else if (action == "tasks") {
    int64_t due = 0;
    if (body.contains("due")) {
      auto parsed = ParseTimestamp(StringField(body, "due"));
      if (!parsed.ok()) return http::ErrorResponse(400, "Bad request", "due: a timestamp");
      due = *parsed;
    }
    made =
        AddIncidentTask(out, id, StringField(body, "assign"), StringField(body, "text"), due, now);
  } else if (action == "links") {
    made = LinkToIncident(out, id, StringField(body, "object"), now);
  } else if (action == "close") {
    Status closed = CloseIncident(out, id, now);
    if (!closed.ok()) return ErrorOf(closed);
  }
  if (!made.ok()) return ErrorOf(made.status());
  auto incident = LoadIncident(out, id);
  if (!incident.ok()) return ErrorOf(incident.status());
  return http::JsonResponse(action == "close" ? 200 : 201,
                            json::serialize(IncidentJson(*incident)));
}

}  // namespace kizuna::coordination
