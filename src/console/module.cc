#include "console/module.h"

#include <boost/json.hpp>

#include "auth/auth.h"
#include "auth/sessions.h"
#include "common/encoding.h"
#include "common/time.h"
#include "console/assets.h"
#include "console/objects.h"
#include "federation/audit.h"
#include "node/node.h"
#include "sharing/policy.h"

namespace kizuna::console {

namespace json = boost::json;

namespace {

std::string_view ContentTypeOf(std::string_view name) {
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

http::Response JsonOf(int status, const json::value& value) {
  return http::JsonResponse(status, json::serialize(value));
}

http::Response ErrorOf(const Status& status) {
  switch (status.code()) {
    case Code::kInvalidArgument:
      return http::ErrorResponse(400, "Bad request", status.message());
    case Code::kNotFound:
      return http::ErrorResponse(404, "Not found", status.message());
    default:
      return http::ErrorResponse(500, "Internal error", status.message());
  }
}

// `producer`: who supplied the version (a partner's name) only for the home
// team; TAXII shows no one else where an object came from.
json::object FoundJson(const FoundObject& found, bool home) {
  json::object out;
  const store::StoredObject& v = found.version;
  out["id"] = v.id;
  out["type"] = v.type;
  out["version"] = FormatTimestamp(v.version_us, 3);
  out["date_added"] = FormatTimestamp(v.date_added_us, 3);
  out["tlp"] = v.tlp == stix::Tlp::kNone ? "" : std::string(stix::TlpName(v.tlp));
  out["producer"] = home ? json::value(ProducerOf(v)) : json::value(nullptr);
  out["created_by_ref"] = v.created_by_ref;
  out["collection"] = found.collection_id;
  out["collection_title"] = found.collection_title;
  boost::system::error_code ec;
  json::value object = json::parse(v.json, ec);
  out["object"] = ec ? json::value(nullptr) : std::move(object);
  return out;
}

json::array PairsJson(const std::vector<std::pair<std::string, int64_t>>& pairs) {
  json::array out;
  for (const auto& [name, count] : pairs) out.push_back(json::array{json::value(name), count});
  return out;
}

}  // namespace

bool ConsoleModule::BrowserUsesTls(const http::Request& request) const {
  return auth::BrowserUsesTls(request.tls, services_->node->config().server.public_url);
}

bool ConsoleModule::IsHome(const store::User& user) const {
  return services_->policy()->ForUser(user).kind == sharing::Recipient::Kind::kHome;
}

void SetConsoleSecurityHeaders(http::Response& response) {
  response.headers.Set("Content-Security-Policy",
                       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                       "data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
                       "form-action 'self'; frame-ancestors 'none'");
  response.headers.Set("X-Content-Type-Options", "nosniff");
  response.headers.Set("X-Frame-Options", "DENY");
  response.headers.Set("Referrer-Policy", "no-referrer");
}

ConsoleModule::ConsoleModule(const platform::NodeServices* services) : services_(services) {
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    assets_[std::string(asset.name)] =
        Asset{std::string(ContentTypeOf(asset.name)), asset.bytes,
              "\"" + HexEncode(Sha256(asset.bytes)).substr(0, 16) + "\""};
  }
  // The page names each asset by its content hash, so a browser may keep an
  // asset for a year and still never run an old script with a new page.
  if (auto index = assets_.find("index.html"); index != assets_.end()) {
    page_ = std::string(index->second.bytes);
    for (const auto& [name, asset] : assets_) {
      const std::string placeholder = "{{" + name + "}}";
      const std::string url =
          "/console/assets/" + name + "?v=" + asset.etag.substr(1, asset.etag.size() - 2);
      for (size_t at = page_.find(placeholder); at != std::string::npos;
           at = page_.find(placeholder, at + url.size())) {
        page_.replace(at, placeholder.size(), url);
      }
    }
  }
}

Status ConsoleModule::Configure(node::ConfigSection& section) {
  section.Integer("session_idle_minutes", &session_idle_minutes_, 1, 1440);
  section.Integer("session_hours", &session_hours_, 1, 168);
  return section.status();
}

Status ConsoleModule::Start() {
  auth::SessionLimits limits;
  limits.idle_us = int64_t{session_idle_minutes_} * 60'000'000;
  limits.lifetime_us = int64_t{session_hours_} * 3'600'000'000;
  services_->sessions->SetLimits(limits);
  return Status::Ok();
}

void ConsoleModule::AddRoutes(platform::RouteTable& routes) {
  const platform::RouteOptions is_public{.is_public = true};
  routes.Add(
      "GET", "/",
      [this](const http::Request&, const store::User&, const platform::PathParams&) {
        return Page();
      },
      is_public);
  routes.Add(
      "GET", "/console/assets/{name}",
      [this](const http::Request& request, const store::User&, const platform::PathParams& p) {
        return AssetResponse(request, p.Get("name"));
      },
      is_public);
  // Public because it is how one gets credentials; it takes an API key and
  // checks it with the same failure limits as every other request.
  routes.Add(
      "POST", "/api/v1/console/session",
      [this](const http::Request& request, const store::User&, const platform::PathParams&) {
        return SignIn(request);
      },
      is_public);
  routes.Add("GET", "/api/v1/console/session",
             [this](const http::Request& request, const store::User& user,
                    const platform::PathParams&) { return SessionInfo(request, user); });
  routes.Add("DELETE", "/api/v1/console/session",
             [this](const http::Request& request, const store::User&, const platform::PathParams&) {
               return SignOut(request);
             });
  routes.Add("GET", "/api/v1/console/objects",
             [this](const http::Request& request, const store::User& user,
                    const platform::PathParams&) { return Objects(request, user); },
             {.lane = platform::Lane::kWork, .rate_limited = true});
  routes.Add("GET", "/api/v1/console/objects/{id}",
             [this](const http::Request&, const store::User& user, const platform::PathParams& p) {
               return Object(user, p.Get("id"));
             },
             {.lane = platform::Lane::kWork, .rate_limited = true});
  routes.Add("GET", "/api/v1/console/audit",
             [this](const http::Request& request, const store::User& user,
                    const platform::PathParams&) { return Audit(request, user); });
  routes.Add("GET", "/api/v1/console/summary",
             [this](const http::Request&, const store::User& user, const platform::PathParams&) {
               return Summary(user);
             },
             {.lane = platform::Lane::kWork, .rate_limited = true});
}

http::Response ConsoleModule::Page() const {
  http::Response response;
  if (page_.empty()) return http::ErrorResponse(500, "Internal error", "the console is not built");
  response.body = page_;
  response.headers.Set("Content-Type", "text/html; charset=utf-8");
  response.headers.Set("Cache-Control", "no-cache");
  SetConsoleSecurityHeaders(response);
  return response;
}

http::Response ConsoleModule::AssetResponse(const http::Request& request,
                                            const std::string& name) const {
  auto it = assets_.find(name);
  if (it == assets_.end() || name == "index.html") {
    return http::ErrorResponse(404, "Not found", "no such console asset");
  }
  const Asset& asset = it->second;
  http::Response response;
  response.headers.Set("ETag", asset.etag);
  response.headers.Set("Cache-Control", "public, max-age=31536000, immutable");
  SetConsoleSecurityHeaders(response);
  if (request.headers.Get("If-None-Match") == asset.etag) {
    response.status = 304;
    return response;
  }
  response.headers.Set("Content-Type", asset.content_type);
  response.body = std::string(asset.bytes);
  return response;
}

http::Response ConsoleModule::SignIn(const http::Request& request) {
  // A page of another origin must not sign the browser in to an account of
  // its choosing (login CSRF).
  const std::string_view origin = request.headers.Get("Origin");
  if (!origin.empty() && !auth::IsOwnOrigin(origin, request.headers.Get("Host"), request.tls,
                                            services_->node->config().server.public_url)) {
    return http::ErrorResponse(403, "Forbidden", "sign in from the node's own page");
  }
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  const json::value* key =
      !ec && body.is_object() ? body.get_object().if_contains("api_key") : nullptr;
  if (!key || !key->is_string() || key->get_string().empty()) {
    return http::ErrorResponse(400, "Bad request", "a JSON object with \"api_key\"");
  }
  const std::string api_key(key->get_string());
  auth::AuthOutcome outcome =
      services_->authenticator->AuthenticateRequest("Bearer " + api_key, request.remote_address);
  if (outcome.limited) {
    http::Response response =
        http::ErrorResponse(429, "Too many requests", auth::kTooManyFailuresMessage);
    response.headers.Set("Retry-After", std::to_string(outcome.retry_after_seconds));
    return response;
  }
  if (!outcome.user.ok()) {
    if (outcome.user.status().code() == Code::kUnauthenticated) {
      return http::ErrorResponse(401, "Unauthorized", outcome.user.status().message());
    }
    return http::ErrorResponse(500, "Internal error", "authentication failed");
  }
  // A partner node's account is a machine's credential for TAXII and the
  // stream, where what it reads is audited: it has no console.
  if (services_->policy()->ForUser(*outcome.user).kind == sharing::Recipient::Kind::kPeer) {
    return http::ErrorResponse(403, "Forbidden", "a partner node's account cannot sign in");
  }
  // The browser's earlier session, if any, ends: one cookie, one session.
  services_->sessions->Close(
      auth::SessionIdFromCookies(request.headers.Get("Cookie"), BrowserUsesTls(request)));
  const auth::OpenedSession opened = services_->sessions->Open(api_key, outcome.user->id);
  json::object out;
  out["user"] = {{"name", outcome.user->name},
                 {"organization", outcome.user->org_name},
                 {"role", std::string(node::RoleName(outcome.user->role))}};
  out["csrf_token"] = opened.csrf_token;
  http::Response response = JsonOf(200, out);
  response.headers.Set("Set-Cookie",
                       auth::SessionCookie(opened.session_id, BrowserUsesTls(request)));
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

http::Response ConsoleModule::SessionInfo(const http::Request& request, const store::User& user) {
  // The token only of the session that authenticated this request.
  const std::optional<auth::Session> session =
      services_->sessions->Use(request.headers.Get(auth::kSessionAuthHeader));
  const std::shared_ptr<const sharing::SharingPolicy> policy = services_->policy();
  json::object out;
  out["user"] = {{"name", user.name},
                 {"organization", user.org_name},
                 {"role", std::string(node::RoleName(user.role))},
                 {"home_team", policy->ForUser(user).kind == sharing::Recipient::Kind::kHome}};
  out["csrf_token"] = session ? json::value(session->csrf_token) : json::value(nullptr);
  http::Response response = JsonOf(200, out);
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

http::Response ConsoleModule::SignOut(const http::Request& request) {
  services_->sessions->Close(request.headers.Get(auth::kSessionAuthHeader));
  http::Response response;
  response.status = 204;
  response.headers.Set("Set-Cookie", auth::ExpiredSessionCookie(BrowserUsesTls(request)));
  return response;
}

http::Response ConsoleModule::Objects(const http::Request& request, const store::User& user) {
  Result<ObjectFilter> filter = FilterFromQuery(request.query);
  if (!filter.ok()) return ErrorOf(filter.status());
  Result<SearchResult> result = SearchObjects(*services_, user, *filter);
  if (!result.ok()) return ErrorOf(result.status());
  json::object out;
  json::array objects;
  for (const FoundObject& found : result->objects)
    objects.push_back(FoundJson(found, IsHome(user)));
  out["objects"] = std::move(objects);
  out["complete"] = result->complete;
  return JsonOf(200, out);
}

http::Response ConsoleModule::Object(const store::User& user, const std::string& id) {
  Result<ObjectPage> page = ObjectDetail(*services_, user, id);
  if (!page.ok()) return ErrorOf(page.status());
  json::object out;
  json::array versions;
  for (const FoundObject& found : page->versions)
    versions.push_back(FoundJson(found, IsHome(user)));
  out["id"] = id;
  out["versions"] = std::move(versions);
  json::array nodes, edges;
  for (const ObjectLinks::Node& node : page->links.nodes) {
    nodes.push_back({{"id", node.id}, {"type", node.type}, {"name", node.name}});
  }
  for (const ObjectLinks::Edge& edge : page->links.edges) {
    edges.push_back({{"source", edge.source},
                     {"target", edge.target},
                     {"label", edge.label},
                     {"via", edge.via}});
  }
  out["graph"] = {{"nodes", std::move(nodes)}, {"edges", std::move(edges)}};
  return JsonOf(200, out);
}

http::Response ConsoleModule::Audit(const http::Request& request, const store::User& user) {
  if (user.role != store::Role::kAdmin || !IsHome(user)) {
    return http::ErrorResponse(403, "Forbidden", "the audit log is the home team's admins'");
  }
  size_t last = 100;
  if (request.HasQuery("last")) {
    const std::string text(request.Query("last"));
    char* end = nullptr;
    const unsigned long n = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n == 0 || n > 10000) {
      return http::ErrorResponse(400, "Bad request", "last: 1 to 10000");
    }
    last = n;
  }
  // One direction: what came in is not buried under what went out.
  const std::string direction(request.Query("direction"));
  if (!direction.empty() && direction != "sent" && direction != "received") {
    return http::ErrorResponse(400, "Bad request", "direction: sent or received");
  }
  constexpr size_t kDirectionWindow = 20000;  // the newest lines searched for one direction
  auto lines =
      federation::ReadAuditLog(services_->node->dir() + "/audit.log", request.Query("peer"),
                               direction.empty() ? last : std::max(last, kDirectionWindow));
  if (!lines.ok()) return ErrorOf(lines.status());
  json::array entries;
  for (auto it = lines->rbegin(); it != lines->rend() && entries.size() < last; ++it) {
    boost::system::error_code ec;
    json::value line = json::parse(*it, ec);
    if (ec || !line.is_object()) continue;
    if (!direction.empty() && line.as_object().if_contains("direction") != nullptr &&
        line.at("direction") != direction.c_str()) {
      continue;
    }
    entries.push_back(std::move(line));
  }
  return JsonOf(200, json::object{{"entries", std::move(entries)}});
}

http::Response ConsoleModule::Summary(const store::User& user) {
  Result<RecentCounts> counts =
      CountRecent(*services_, user, SystemClock::Instance().NowMicros(), 7);
  if (!counts.ok()) return ErrorOf(counts.status());
  json::object out;
  out["since"] = FormatTimestamp(counts->since_us, 3);
  out["total"] = counts->total;
  out["complete"] = counts->complete;
  out["by_producer"] =
      IsHome(user) ? json::value(PairsJson(counts->by_producer)) : json::value(nullptr);
  out["by_tlp"] = PairsJson(counts->by_tlp);
  out["by_type"] = PairsJson(counts->by_type);
  return JsonOf(200, out);
}

}  // namespace kizuna::console
