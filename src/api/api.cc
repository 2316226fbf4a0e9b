#include "api/api.h"

#include <boost/json.hpp>
#include <cassert>
#include <charconv>
#include <map>
#include <optional>

#include "auth/auth.h"
#include "common/uuid.h"
#include "correlation/result_json.h"
#include "correlation/stream_matcher.h"
#include "stix/stix.h"

namespace kizuna::api {
namespace {

namespace json = boost::json;
using http::ErrorResponse;
using http::Response;

// How many STIX objects an observed_data value holds (a bundle's objects, an
// array's items, or one object): what its matching work is counted by.
size_t StixObjectCount(const json::value& value) {
  if (const auto* array = value.if_array()) return array->size();
  if (const auto* object = value.if_object()) {
    auto it = object->find("objects");
    if (it != object->end() && it->value().is_array()) return it->value().get_array().size();
  }
  return 1;
}

Response Json(int status, const json::value& value) {
  Response response;
  response.status = status;
  response.headers.Set("Content-Type", "application/json");
  response.body = json::serialize(value);
  return response;
}

Response FromStatus(const Status& status) {
  switch (status.code()) {
    case Code::kInvalidArgument:
      return ErrorResponse(400, "Bad request", status.message());
    case Code::kNotFound:
      return ErrorResponse(404, "Not found", status.message());
    case Code::kAlreadyExists:
      return ErrorResponse(409, "Conflict", status.message());
    case Code::kPermissionDenied:
      return ErrorResponse(403, "Forbidden", status.message());
    default:
      return ErrorResponse(500, "Internal error", status.message());
  }
}

json::object UserJson(const store::User& user) {
  json::object out;
  out["id"] = user.id;
  out["name"] = user.name;
  out["organization"] = user.org_name;
  out["organization_id"] = user.org_id;
  out["role"] = std::string(node::RoleName(user.role));
  out["disabled"] = user.disabled;
  return out;
}

std::optional<int64_t> ParseId(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

// Reads a JSON object body; a 400 response when it is not one.
std::optional<Response> ParseBody(const http::Request& request, json::object* out) {
  auto parsed = stix::ParseJson(request.body, 32);
  if (!parsed.ok()) return ErrorResponse(400, "Invalid JSON", parsed.status().message());
  if (!parsed->is_object())
    return ErrorResponse(400, "Invalid body", "the body must be a JSON object");
  *out = std::move(parsed->get_object());
  return std::nullopt;
}

std::optional<bool> BoolOf(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_bool()) return std::nullopt;
  return it->value().get_bool();
}

bool IsAdmin(const store::User& user) { return user.role == store::Role::kAdmin; }

Response Forbidden() { return ErrorResponse(403, "Forbidden", "this needs the admin role"); }

Response PeersUnavailable() {
  return ErrorResponse(503, "Unavailable", "this server does not administer federation peers");
}

}  // namespace

ApiService::ApiService(store::Store& store, node::NodeIdentity identity,
                       correlation::Correlator* correlator,
                       correlation::SightingRecorder* sightings, PeerAdmin peers)
    : store_(store),
      identity_(std::move(identity)),
      correlator_(correlator),
      sightings_(sightings),
      peers_(std::move(peers)) {
  AddRoutes(routes_);
  assert(routes_.status().ok() && "ApiService registers each route once");
}

http::Response ApiService::Handle(const http::Request& request, const store::User& user) {
  return routes_.Dispatch(request, user);
}

void ApiService::AddRoutes(platform::RouteTable& routes) {
  AddCoreRoutes(routes);
  AddMatchingRoutes(routes);
  AddPeerRoutes(routes);
}

void ApiService::AddMatchingRoutes(platform::RouteTable& routes) {
  using platform::PathParams;
  using Request = http::Request;
  using User = store::User;
  // On the server's work lane (apart from the I/O threads and from imports)
  // and rate-limited per user.
  routes.Add("POST", "/api/v1/match",
             [this](const Request& request, const User& user, const PathParams&) {
               return Match(request, user);
             },
             {.lane = platform::Lane::kWork, .rate_limited = true});
  routes.Add("GET", "/api/v1/indicators/{id}/sightings",
             [this](const Request&, const User& user, const PathParams& params) {
               return IndicatorSightings(user, params.Get("id"));
             });
  routes.Add("GET", "/api/v1/correlation/stats",
             [this](const Request&, const User& user, const PathParams&) {
               if (!IsAdmin(user)) return Forbidden();
               if (!correlator_) {
                 return ErrorResponse(503, "Unavailable", "correlation is not running");
               }
               auto stats = correlator_->GetStats();
               return Json(200, json::object{{"indexed", stats.indexed},
                                             {"by_pattern", stats.by_pattern},
                                             {"unsupported_pattern_types", stats.unsupported},
                                             {"index_entries", stats.index.entries},
                                             {"index_memory_bytes", stats.index.memory_bytes},
                                             {"change_cursor", stats.cursor}});
             });
}

void ApiService::AddPeerRoutes(platform::RouteTable& routes) {
  using platform::PathParams;
  using Request = http::Request;
  using User = store::User;
  // ---- federation peers (kizuna.toml); admins only
  routes.Add("GET", "/api/v1/peers", [this](const Request&, const User& user, const PathParams&) {
    if (!IsAdmin(user)) return Forbidden();
    if (peers_.config_path.empty()) return PeersUnavailable();
    auto config = node::LoadConfig(peers_.config_path);
    if (!config.ok()) {
      return ErrorResponse(500, "Configuration unreadable",
                           "kizuna.toml does not load: " + config.status().message());
    }
    std::map<std::string, std::string> statuses;
    if (peers_.statuses) statuses = peers_.statuses();
    json::array list;
    for (const node::PeerConfig& peer : config->peers) {
      auto it = statuses.find(peer.name);
      list.emplace_back(json::parse(PeerJson(peer, it == statuses.end() ? "" : it->second)));
    }
    return Json(200, json::object{{"peers", std::move(list)}});
  });
  routes.Add("POST", "/api/v1/peers",
             [this](const Request& request, const User& user, const PathParams&) {
               if (!IsAdmin(user)) return Forbidden();
               if (peers_.config_path.empty()) return PeersUnavailable();
               auto peer = PeerFromJson(request.body);
               if (!peer.ok()) return ErrorResponse(400, "Invalid peer", peer.status().message());
               Status added = AddPeer(peers_.config_path, *peer, &store_);
               if (!added.ok()) {
                 if (added.code() == Code::kInvalidArgument) {
                   return ErrorResponse(400, "Invalid peer", added.message());
                 }
                 return FromStatus(added);
               }
               // The running node follows kizuna.toml and starts the peer within a second.
               return Json(201, json::parse(PeerJson(*peer, "")));
             });
  routes.Add("DELETE", "/api/v1/peers/{name}",
             [this](const Request&, const User& user, const PathParams& params) {
               if (!IsAdmin(user)) return Forbidden();
               if (peers_.config_path.empty()) return PeersUnavailable();
               const std::string& name = params.Get("name");
               Status removed = node::RemovePeerFromConfigFile(peers_.config_path, name);
               if (!removed.ok()) {
                 if (removed.code() == Code::kNotFound) {
                   return ErrorResponse(404, "Not found", "no peer named '" + name + "'");
                 }
                 return FromStatus(removed);
               }
               return Json(200, json::object{{"name", name}, {"removed", true}});
             });
}

void ApiService::AddCoreRoutes(platform::RouteTable& routes) {
  using platform::PathParams;
  using Request = http::Request;
  using User = store::User;

  routes.Add("GET", "/api/v1/whoami", [](const Request&, const User& user, const PathParams&) {
    return Json(200, UserJson(user));
  });
  routes.Add("GET", "/api/v1/node", [this](const Request&, const User& user, const PathParams&) {
    json::value info = json::parse(node::IdentityJson(identity_));
    if (config_state_) {
      ConfigState state = config_state_();
      info.as_object()["config"] =
          json::object{{"generation", state.generation}, {"digest", state.digest}};
    }
    // Admins only: how busy the node is is not every member's business.
    std::vector<http::LaneStats> work;
    if (work_lanes_ && IsAdmin(user)) work = work_lanes_();
    if (!work.empty()) {
      json::array lanes;
      for (const http::LaneStats& lane : work) {
        lanes.emplace_back(json::object{{"name", lane.name},
                                        {"threads", lane.threads},
                                        {"queue", lane.queue},
                                        {"queued", lane.queued},
                                        {"running", lane.running}});
      }
      info.as_object()["work"] = std::move(lanes);
    }
    return Json(200, info);
  });

  // ---- users and their API keys
  routes.Add("GET", "/api/v1/users", [this](const Request&, const User& user, const PathParams&) {
    if (!IsAdmin(user)) return Forbidden();
    auto users = store_.ListUsers();
    if (!users.ok()) return FromStatus(users.status());
    json::array list;
    for (const auto& u : *users) list.emplace_back(UserJson(u));
    return Json(200, json::object{{"users", std::move(list)}});
  });
  routes.Add(
      "POST", "/api/v1/users", [this](const Request& request, const User& user, const PathParams&) {
        if (!IsAdmin(user)) return Forbidden();
        json::object body;
        if (auto error = ParseBody(request, &body)) return *error;
        std::string role_text = stix::StringProperty(body, "role");
        auto role = node::ParseRole(role_text.empty() ? "member" : role_text);
        if (!role.ok()) return FromStatus(role.status());
        auto created = node::AddUser(store_, stix::StringProperty(body, "organization"),
                                     stix::StringProperty(body, "name"), *role, identity_.name);
        if (!created.ok()) return FromStatus(created.status());
        json::object out = UserJson(created->user);
        out["api_key"] = created->api_key;
        return Json(201, out);
      });
  // The user named by {id}, when the caller is an admin or that user; the
  // error response otherwise.
  auto target_user = [this](const User& user, const PathParams& params,
                            store::User* target) -> std::optional<Response> {
    const std::string& text = params.Get("id");
    auto id = ParseId(text);
    if (!id) return ErrorResponse(404, "Not found", "no such user");
    if (!IsAdmin(user) && *id != user.id) return Forbidden();
    auto found = store_.GetUser(*id);
    if (!found.ok()) return FromStatus(found.status());
    *target = std::move(*found);
    return std::nullopt;
  };
  routes.Add("GET", "/api/v1/users/{id}",
             [target_user](const Request&, const User& user, const PathParams& params) {
               store::User target;
               if (auto error = target_user(user, params, &target)) return *error;
               return Json(200, UserJson(target));
             });
  routes.Add("GET", "/api/v1/users/{id}/keys",
             [this, target_user](const Request&, const User& user, const PathParams& params) {
               store::User target;
               if (auto error = target_user(user, params, &target)) return *error;
               auto keys = store_.ListApiKeys(target.id);
               if (!keys.ok()) return FromStatus(keys.status());
               json::array list;
               for (const auto& k : *keys) {
                 list.emplace_back(json::object{{"key_id", k.key_id},
                                                {"label", k.label},
                                                {"revoked", k.revoked},
                                                {"created_us", k.created_us}});
               }
               return Json(200, json::object{{"keys", std::move(list)}});
             });
  routes.Add("POST", "/api/v1/users/{id}/keys",
             [this, target_user](const Request&, const User& user, const PathParams& params) {
               store::User target;
               if (auto error = target_user(user, params, &target)) return *error;
               auto issued = auth::IssueApiKey(store_, target.id, "created through the API");
               if (!issued.ok()) return FromStatus(issued.status());
               return Json(201, json::object{{"key_id", issued->record.key_id},
                                             {"api_key", issued->token}});
             });
  for (const bool disable : {true, false}) {
    routes.Add(
        "POST", disable ? "/api/v1/users/{id}/disable" : "/api/v1/users/{id}/enable",
        [this, target_user, disable](const Request&, const User& user, const PathParams& params) {
          store::User target;
          if (auto error = target_user(user, params, &target)) return *error;
          if (!IsAdmin(user)) return Forbidden();
          Status st = store_.SetUserDisabled(target.id, disable);
          if (!st.ok()) return FromStatus(st);
          auto updated = store_.GetUser(target.id);
          if (!updated.ok()) return FromStatus(updated.status());
          return Json(200, UserJson(*updated));
        });
  }
  // A key the caller may not manage answers exactly like a missing one (the
  // same 404 and body), so key ids cannot be probed; the id is not echoed.
  routes.Add("DELETE", "/api/v1/keys/{key_id}",
             [this](const Request&, const User& user, const PathParams& params) {
               const std::string& key_id = params.Get("key_id");
               const Response missing = ErrorResponse(404, "Not found", "no such API key");
               auto key = store_.GetApiKey(key_id);
               if (!key.ok()) {
                 return key.status().code() == Code::kNotFound ? missing : FromStatus(key.status());
               }
               if (!IsAdmin(user) && key->user_id != user.id) return missing;
               Status st = store_.RevokeApiKey(key->key_id);
               if (st.code() == Code::kNotFound) return missing;
               if (!st.ok()) return FromStatus(st);
               return Json(200, json::object{{"key_id", key->key_id}, {"revoked", true}});
             });

  routes.Add("GET", "/api/v1/organizations",
             [this](const Request&, const User& user, const PathParams&) {
               if (!IsAdmin(user)) return Forbidden();
               auto orgs = store_.ListOrganizations();
               if (!orgs.ok()) return FromStatus(orgs.status());
               json::array list;
               for (const auto& o : *orgs) {
                 list.emplace_back(
                     json::object{{"id", o.id}, {"name", o.name}, {"identity", o.identity_id}});
               }
               return Json(200, json::object{{"organizations", std::move(list)}});
             });

  // ---- collections and their grants; admins only
  routes.Add("GET", "/api/v1/collections",
             [this](const Request&, const User& user, const PathParams&) {
               if (!IsAdmin(user)) return Forbidden();
               auto collections = store_.ListCollections();
               if (!collections.ok()) return FromStatus(collections.status());
               json::array list;
               for (const auto& c : *collections) {
                 auto count = store_.CountObjects(c.id);
                 list.emplace_back(json::object{{"id", c.id},
                                                {"title", c.title},
                                                {"description", c.description},
                                                {"alias", c.alias},
                                                {"objects", count.ok() ? *count : 0}});
               }
               return Json(200, json::object{{"collections", std::move(list)}});
             });
  routes.Add("POST", "/api/v1/collections",
             [this](const Request& request, const User& user, const PathParams&) {
               if (!IsAdmin(user)) return Forbidden();
               json::object body;
               if (auto error = ParseBody(request, &body)) return *error;
               store::Collection collection;
               collection.id = NewUuid4();
               collection.title = stix::StringProperty(body, "title");
               collection.description = stix::StringProperty(body, "description");
               collection.alias = stix::StringProperty(body, "alias");
               if (collection.title.empty())
                 return ErrorResponse(400, "Bad request", "a collection needs a title");
               Status st = store_.CreateCollection(collection);
               if (!st.ok()) return FromStatus(st);
               return Json(201, json::object{{"id", collection.id},
                                             {"title", collection.title},
                                             {"alias", collection.alias}});
             });
  routes.Add("DELETE", "/api/v1/collections/{id}",
             [this](const Request&, const User& user, const PathParams& params) {
               if (!IsAdmin(user)) return Forbidden();
               auto collection = store_.GetCollection(params.Get("id"));
               if (!collection.ok()) return FromStatus(collection.status());
               Status st = store_.DeleteCollection(collection->id);
               if (!st.ok()) return FromStatus(st);
               return Json(200, json::object{{"id", collection->id}, {"deleted", true}});
             });
  routes.Add("GET", "/api/v1/collections/{id}/grants",
             [this](const Request&, const User& user, const PathParams& params) {
               if (!IsAdmin(user)) return Forbidden();
               auto collection = store_.GetCollection(params.Get("id"));
               if (!collection.ok()) return FromStatus(collection.status());
               auto grants = store_.ListGrants(collection->id);
               if (!grants.ok()) return FromStatus(grants.status());
               json::array list;
               for (const auto& g : *grants) {
                 json::object o{{"can_read", g.can_read}, {"can_write", g.can_write}};
                 if (g.user_id) o["user_id"] = *g.user_id;
                 if (g.org_id) o["organization_id"] = *g.org_id;
                 list.emplace_back(std::move(o));
               }
               return Json(200, json::object{{"grants", std::move(list)}});
             });
  auto set_grant = [this](const Request& request, const User& user, const PathParams& params) {
    if (!IsAdmin(user)) return Forbidden();
    auto collection = store_.GetCollection(params.Get("id"));
    if (!collection.ok()) return FromStatus(collection.status());
    json::object body;
    if (auto error = ParseBody(request, &body)) return *error;
    store::Grant grant;
    grant.collection_id = collection->id;
    if (auto it = body.find("user_id"); it != body.end() && it->value().is_int64()) {
      grant.user_id = it->value().get_int64();
    } else if (std::string org = stix::StringProperty(body, "organization"); !org.empty()) {
      auto organization = store_.EnsureOrganization(org);
      if (!organization.ok()) return FromStatus(organization.status());
      grant.org_id = organization->id;
    } else {
      return ErrorResponse(400, "Bad request", "a grant needs user_id or organization");
    }
    grant.can_read = BoolOf(body, "can_read").value_or(false);
    grant.can_write = BoolOf(body, "can_write").value_or(false);
    Status st = store_.SetGrant(grant);
    if (!st.ok()) return FromStatus(st);
    return Json(200, json::object{{"collection", collection->id},
                                  {"can_read", grant.can_read},
                                  {"can_write", grant.can_write}});
  };
  routes.Add("PUT", "/api/v1/collections/{id}/grants", set_grant);
  routes.Add("POST", "/api/v1/collections/{id}/grants", set_grant);
}

correlation::CollectionFilter ApiService::ReadableBy(const store::User& user,
                                                     std::map<std::string, bool>& rights) const {
  return [this, &user, &rights](const std::string& collection_id) {
    if (user.role == store::Role::kAdmin) return true;
    auto it = rights.find(collection_id);
    if (it != rights.end()) return it->second;
    auto grant = store_.RightsOf(user, collection_id);
    bool can = grant.ok() && grant->can_read;
    rights[collection_id] = can;
    return can;
  };
}

correlation::SightingFilter ApiService::SightingsVisibleTo(
    const store::User& user, const correlation::CollectionFilter& readable) const {
  auto admits = release_filter_ ? release_filter_(user) : nullptr;
  return [readable, admits](const std::string& collection_id, const store::StoredObject& sighting) {
    return readable(collection_id) && (!admits || admits(collection_id, sighting));
  };
}

http::Response ApiService::IndicatorSightings(const store::User& user,
                                              const std::string& indicator_id) {
  if (!correlator_) return ErrorResponse(503, "Unavailable", "correlation is not running");
  std::map<std::string, bool> rights;
  correlation::CollectionFilter readable = ReadableBy(user, rights);
  auto admits = release_filter_ ? release_filter_(user) : nullptr;
  // Only an indicator the caller may see: any other answers as a missing one.
  auto collections = store_.ListCollections();
  if (!collections.ok()) return FromStatus(collections.status());
  bool seen = false;
  for (const store::Collection& collection : *collections) {
    if (seen || !readable(collection.id)) continue;
    store::ObjectQuery query;
    query.ids = {indicator_id};
    query.version_all = true;
    query.include_origin = true;
    auto page = store_.QueryObjects(collection.id, query);
    if (!page.ok()) continue;
    for (const store::StoredObject& object : page->objects) {
      seen = seen || (object.type == "indicator" && (!admits || admits(collection.id, object)));
    }
  }
  if (!seen) return ErrorResponse(404, "Not found", "no indicator " + indicator_id);
  return Json(200,
              json::object{{"indicator", indicator_id},
                           {"sighted_by", correlation::SightedByToJson(correlator_->SightedByOf(
                                              indicator_id, SightingsVisibleTo(user, readable)))}});
}

http::Response ApiService::Match(const http::Request& request, const store::User& user) {
  if (!correlator_) return ErrorResponse(503, "Unavailable", "correlation is not running");
  // Everything stored before this request (by any process) is matched
  // against: the index follows the change bus, and normally has it already;
  // without a follower (or when it lags) the request catches the index up.
  auto newest = store_.LastChangeSeq();
  if (!newest.ok() || !correlator_->WaitUntilApplied(*newest, std::chrono::seconds(2))) {
    if (Status refreshed = correlator_->Refresh(); !refreshed.ok()) {
      return ErrorResponse(503, "Unavailable",
                           "the correlation index cannot read the store: " + refreshed.message());
    }
  }
  // At most this many observables a request (text lines, or items of
  // "observables"), and never more work than limits.max_match_work.
  constexpr size_t kMaxObservables = 100000;
  // What this user may read, decided once per collection per request.
  std::map<std::string, bool> rights;
  correlation::CollectionFilter readable = ReadableBy(user, rights);
  // Indicators above what this user may receive (TLP, sharing groups) are
  // not disclosed by a match either, nor counted in `truncated`: the
  // correlator skips them before it counts max_results.
  correlation::MatchFilter visible;
  std::map<std::pair<std::string, int64_t>, bool> decided;
  if (auto admits = release_filter_ ? release_filter_(user) : nullptr) {
    visible = [this, &decided, admits](const correlation::IndicatorMatch& match) {
      auto key = std::make_pair(match.indicator.id, match.indicator.modified_us);
      auto it = decided.find(key);
      if (it != decided.end()) return it->second;
      bool allowed = false;
      for (const std::string& collection : match.collections) {
        store::ObjectQuery query;
        query.ids = {match.indicator.id};
        query.version_all = true;
        query.include_origin = true;
        auto page = store_.QueryObjects(collection, query);
        if (!page.ok()) continue;
        for (const store::StoredObject& object : page->objects) {
          if (object.version_us == match.indicator.modified_us && admits(collection, object)) {
            allowed = true;
          }
        }
        if (allowed) break;
      }
      decided[key] = allowed;
      return allowed;
    };
  }
  // The work a request may cost is bounded before any is done: every
  // observable is evaluated against every pattern the index cannot hold.
  auto too_much_work = [&](size_t observables) -> std::optional<http::Response> {
    const uint64_t work = static_cast<uint64_t>(observables) * correlator_->pattern_count();
    if (work <= max_match_work_) return std::nullopt;
    return ErrorResponse(413, "Too much matching work",
                         "matching " + std::to_string(observables) +
                             " observables against this node's patterns that the index cannot "
                             "hold (LIKE, MATCHES, …) would cost more than the " +
                             std::to_string(max_match_work_) +
                             " pattern evaluations (observables × patterns) a request may "
                             "(limits.max_match_work); send fewer observables per request");
  };
  bool record_sightings = request.Query("sighting") == "true";
  const correlation::SightingFilter sightings_visible = SightingsVisibleTo(user, readable);
  // The answer is written by hand (result_json.h), not built as a DOM: a
  // request may carry 100,000 observables.
  std::string results_json;
  correlation::SightingTally tally;
  std::string_view content_type = request.headers.Get("Content-Type");
  if (content_type.rfind("text/plain", 0) == 0) {
    // One observable a line, through the stream matcher (kizuna match's fast path).
    const size_t lines = correlation::StreamMatcher::CountInputs(request.body);
    if (lines > kMaxObservables) {
      return ErrorResponse(413, "Too many observables",
                           "at most " + std::to_string(kMaxObservables) + " per request");
    }
    if (auto refused = too_much_work(lines)) return *refused;
    correlation::StreamOptions options;
    options.all = true;
    options.json_lines = false;
    options.tally = record_sightings;
    auto matcher = correlation::StreamMatcher::Create(*correlator_, options, readable, visible,
                                                      sightings_visible);
    if (!matcher.ok()) return FromStatus(matcher.status());
    (*matcher)->MatchBuffer(request.body, &results_json, ",");
    if (!results_json.empty()) results_json.pop_back();  // the last ","
    tally = (*matcher)->tally();
  } else {
    std::vector<correlation::ObservableResult> results;
    json::object body;
    if (auto error = ParseBody(request, &body)) return *error;
    if (auto flag = BoolOf(body, "sighting")) record_sightings = *flag;
    auto list = body.find("observables");
    auto observed = body.find("observed_data");
    if (list == body.end() && observed == body.end()) {
      return ErrorResponse(400, "Bad request",
                           "send {\"observables\": [...]} or {\"observed_data\": ...}, or "
                           "text/plain lines");
    }
    size_t count = 0;
    if (list != body.end()) {
      if (!list->value().is_array()) {
        return ErrorResponse(400, "Bad request", "'observables' must be a list");
      }
      count = list->value().get_array().size();
      if (count > kMaxObservables) {
        return ErrorResponse(413, "Too many observables",
                             "at most " + std::to_string(kMaxObservables) + " per request");
      }
    }
    if (observed != body.end()) count += StixObjectCount(observed->value());
    if (auto refused = too_much_work(count)) return *refused;
    if (list != body.end()) {
      for (const auto& item : list->value().get_array()) {
        if (item.is_string()) {
          results.push_back(correlator_->MatchText(item.get_string(), readable, {}, visible));
        } else if (const auto* o = item.if_object()) {
          results.push_back(correlator_->MatchText(stix::StringProperty(*o, "value"), readable,
                                                   stix::StringProperty(*o, "type"), visible));
        } else {
          correlation::ObservableResult bad;
          bad.error = "an observable is a string or {\"type\", \"value\"}";
          results.push_back(std::move(bad));
        }
      }
    }
    if (observed != body.end()) {
      auto matched = correlator_->MatchObservedData(observed->value(), readable, visible);
      if (!matched.ok()) return ErrorResponse(400, "Bad observed-data", matched.status().message());
      for (auto& r : *matched) results.push_back(std::move(r));
    }
    for (correlation::ObservableResult& result : results) {
      correlator_->AddSightedBy(result, sightings_visible);
      if (!results_json.empty()) results_json.push_back(',');
      correlation::AppendResultJson(result, &results_json);
      tally.Count(result);
    }
  }
  std::string out_json = "{\"results\":[";
  out_json += results_json;
  out_json += ']';
  if (record_sightings && !tally.empty()) {
    if (!sightings_) return ErrorResponse(503, "Unavailable", "sightings are not recorded here");
    // A sighting is the observing organization's: the home team's, or an
    // outside organization's own (never passed off as the home team's).
    std::optional<correlation::SightingRecorder::Observer> observer;
    if (user.org_name != identity_.name && !IsAdmin(user)) {
      auto organizations = store_.ListOrganizations();
      if (!organizations.ok()) return FromStatus(organizations.status());
      observer.emplace();
      observer->origin = store::OrgOrigin(user.org_name);
      for (const store::Organization& organization : *organizations) {
        if (organization.id == user.org_id) observer->identity_id = organization.identity_id;
      }
      if (observer->identity_id.empty()) {
        return ErrorResponse(500, "Internal error", "the organization has no identity");
      }
    }
    auto ids = sightings_->Record(tally.Inputs(), observer ? &*observer : nullptr);
    if (!ids.ok()) return FromStatus(ids.status());
    out_json += ",\"sightings\":[";
    for (size_t i = 0; i < ids->size(); ++i) {
      if (i) out_json += ',';
      AppendJsonString((*ids)[i], &out_json);
    }
    out_json += ']';
  }
  out_json += '}';
  http::Response response;
  response.status = 200;
  response.headers.Set("Content-Type", "application/json");
  response.body = std::move(out_json);
  return response;
}

}  // namespace kizuna::api
