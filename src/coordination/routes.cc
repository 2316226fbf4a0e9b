// The coordination module's REST handlers for drills and emergencies, and
// the pages of their e-mailed acknowledgement links (module.h).
#include <boost/json.hpp>

#include "bus/bus.h"
#include "common/time.h"
#include "coordination/module.h"
#include "sharing/policy.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

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
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec || !body.is_object()) {
    return http::ErrorResponse(400, "Bad request",
                               "a JSON object: {\"to\": [peer, …], "
                               "\"deadline_minutes\": N, \"message\": …}");
  }
  DrillRequest drill;
  auto peers = PeersOf(body.get_object());
  if (!peers.ok()) return http::ErrorResponse(400, "Bad request", peers.status().message());
  drill.peers = std::move(*peers);
  if (const json::value* minutes = body.get_object().if_contains("deadline_minutes")) {
    if (!minutes->is_number()) {
      return http::ErrorResponse(400, "Bad request", "deadline_minutes: a number");
    }
    drill.deadline_us = static_cast<int64_t>(minutes->to_number<double>() * 60e6);
  }
  if (const json::value* message = body.get_object().if_contains("message")) {
    if (!message->is_string()) return http::ErrorResponse(400, "Bad request", "message: text");
    drill.message = std::string(message->get_string());
  }
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
                       id, SystemClock::Instance().NowMicros());
  if (!acked.ok()) return ErrorOf(acked.status());
  services_->bus->Notify();
  return http::JsonResponse(200, json::serialize(ReceivedJson(*acked)));
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
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec || !body.is_object()) {
    return http::ErrorResponse(400, "Bad request",
                               "a JSON object: {\"to\": [peer, …], "
                               "\"summary\": …, \"ack_minutes\": N}");
  }
  EmergencyRequest emergency;
  auto peers = PeersOf(body.get_object());
  if (!peers.ok()) return http::ErrorResponse(400, "Bad request", peers.status().message());
  emergency.peers = std::move(*peers);
  const json::value* summary = body.get_object().if_contains("summary");
  if (!summary || !summary->is_string()) {
    return http::ErrorResponse(400, "Bad request", "summary: what happened, as text");
  }
  emergency.summary = std::string(summary->get_string());
  if (const json::value* minutes = body.get_object().if_contains("ack_minutes")) {
    if (!minutes->is_number())
      return http::ErrorResponse(400, "Bad request", "ack_minutes: a number");
    emergency.ack_us = static_cast<int64_t>(minutes->to_number<double>() * 60e6);
  }
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
  auto acked =
      AcknowledgeEmergency(*services_->store, services_->node->config(),
                           services_->node->identity(), id, SystemClock::Instance().NowMicros());
  if (!acked.ok()) return ErrorOf(acked.status());
  services_->bus->Notify();
  return http::JsonResponse(200, json::serialize(ReceivedEmergencyJson(*acked)));
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

}  // namespace kizuna::coordination
