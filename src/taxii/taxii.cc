#include "taxii/taxii.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "stix/stix.h"
#include "taxii/query.h"
#include "taxii/visible_versions.h"

namespace kizuna::taxii {
namespace {

namespace json = boost::json;
using http::ErrorResponse;
using http::Response;

constexpr std::string_view kTaxiiType = "application/taxii+json";
constexpr std::string_view kStixType = "application/stix+json";

struct MediaRange {
  std::string type;     // lower-case "application/taxii+json"
  std::string version;  // "" when absent
};

MediaRange ParseMediaRange(std::string_view text) {
  MediaRange range;
  auto parts = Split(text, ';');
  range.type = AsciiLower(Trim(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view param = Trim(parts[i]);
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (AsciiLower(Trim(param.substr(0, eq))) == "version") {
      std::string_view value = Trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      range.version = std::string(value);
    }
  }
  return range;
}

Response JsonResponse(int status, std::string body, const std::string& media_type) {
  Response response;
  response.status = status;
  response.headers.Set("Content-Type", media_type);
  response.body = std::move(body);
  return response;
}

// The query parameters shared by the object-listing endpoints (query.h),
// into `query`. Returns a 400 response on bad input.
std::optional<Response> ParseFilters(const http::Request& request, const TaxiiOptions& options,
                                     bool allow_id_and_type, store::ObjectQuery* query) {
  auto error = ParseQuery(request.query, options.default_page_size, options.max_page_size,
                          allow_id_and_type, query, options.next_token_key);
  if (!error) return std::nullopt;
  return ErrorResponse(400, error->title, error->description);
}

void AddDateAddedHeaders(Response& response, const std::vector<store::StoredObject>& objects) {
  if (objects.empty()) return;
  response.headers.Set("X-TAXII-Date-Added-First", TaxiiTimestamp(objects.front().date_added_us));
  response.headers.Set("X-TAXII-Date-Added-Last", TaxiiTimestamp(objects.back().date_added_us));
}

// The answer for an object the reader has no version of, or may see none of:
// the same bytes either way.
Response ObjectNotFound(const std::string& object_id, const store::Collection& collection) {
  return ErrorResponse(404, "Object not found",
                       "no object '" + object_id + "' in collection " + collection.id);
}

Response StoreError(const Status& status) {
  switch (status.code()) {
    case Code::kNotFound:
      return ErrorResponse(404, "Not found", status.message());
    case Code::kInvalidArgument:
      return ErrorResponse(400, "Bad request", status.message());
    case Code::kUnavailable:
      return ErrorResponse(503, "Service unavailable", status.message());
    default:
      return ErrorResponse(500, "Internal error", "the store failed: " + status.message());
  }
}

json::object CollectionJson(const store::Collection& collection, const store::Grant& rights) {
  json::object out;
  out["id"] = collection.id;
  out["title"] = collection.title;
  if (!collection.description.empty()) out["description"] = collection.description;
  if (!collection.alias.empty()) out["alias"] = collection.alias;
  out["can_read"] = rights.can_read;
  out["can_write"] = rights.can_write;
  json::array media;
  for (const auto& m : collection.media_types) media.emplace_back(m);
  out["media_types"] = std::move(media);
  return out;
}

}  // namespace

std::string TaxiiTimestamp(int64_t micros) {
  return FormatTimestamp(micros, micros % 1000 == 0 ? 3 : 6);
}

std::optional<std::string> NegotiateAccept(std::string_view accept) {
  if (Trim(accept).empty()) return std::string(kTaxiiMediaType);
  std::optional<std::string> stix;
  for (auto part : Split(accept, ',')) {
    MediaRange range = ParseMediaRange(part);
    bool version_ok = range.version.empty() || range.version == "2.1";
    if (range.type == kTaxiiType && version_ok) return std::string(kTaxiiMediaType);
    if (range.type == "*/*" || range.type == "application/*") return std::string(kTaxiiMediaType);
    if (range.type == kStixType && version_ok) stix = "application/stix+json;version=2.1";
  }
  return stix;
}

bool IsAcceptableContentType(std::string_view content_type) {
  MediaRange range = ParseMediaRange(content_type);
  bool version_ok = range.version.empty() || range.version == "2.1";
  return version_ok && (range.type == kTaxiiType || range.type == kStixType);
}

std::string StatusToJson(const store::StatusRecord& status) {
  auto details = [](const std::vector<store::StatusDetail>& list) {
    json::array out;
    for (const auto& d : list) {
      json::object o;
      o["id"] = d.id;
      o["version"] = d.version;
      if (!d.message.empty()) o["message"] = d.message;
      out.emplace_back(std::move(o));
    }
    return out;
  };
  json::object out;
  out["id"] = status.id;
  out["status"] = status.status;
  out["request_timestamp"] = TaxiiTimestamp(status.request_timestamp_us);
  out["total_count"] = status.successes.size() + status.failures.size() + status.pendings.size();
  out["success_count"] = status.successes.size();
  out["successes"] = details(status.successes);
  out["failure_count"] = status.failures.size();
  out["failures"] = details(status.failures);
  out["pending_count"] = status.pendings.size();
  out["pendings"] = details(status.pendings);
  return json::serialize(out);
}

TaxiiService::TaxiiService(store::Store& store, TaxiiOptions options)
    : store_(store), options_(std::move(options)) {}

http::Response TaxiiService::Handle(const http::Request& request, const store::User& user) {
  // Every TAXII URL ends in '/'.
  const std::string& path = request.path;
  if (path.empty() || path.back() != '/') {
    return ErrorResponse(404, "Not found", "TAXII URLs end in '/'");
  }
  std::vector<std::string> segments;
  for (auto part : Split(std::string_view(path).substr(1, path.size() - 2), '/')) {
    segments.emplace_back(part);
  }
  // segments[0] == "taxii2"
  auto media_type = NegotiateAccept(request.headers.Get("Accept"));
  if (!media_type) {
    return ErrorResponse(406, "Not acceptable",
                         "this server answers application/taxii+json;version=2.1");
  }
  const bool is_get = request.method == "GET";
  auto method_not_allowed = [&]() {
    Response r =
        ErrorResponse(405, "Method not allowed", "the method is not allowed on this endpoint");
    return r;
  };
  if (segments.size() == 1) {
    if (!is_get) return method_not_allowed();
    Response r = Discovery(request);
    r.headers.Set("Content-Type", *media_type);
    return r;
  }
  if (segments[1] != options_.api_root) {
    return ErrorResponse(404, "Not found", "no API root at /taxii2/" + segments[1] + "/");
  }
  if (segments.size() == 2) {
    if (!is_get) return method_not_allowed();
    Response r = ApiRoot();
    r.headers.Set("Content-Type", *media_type);
    return r;
  }
  if (segments[2] == "status" && segments.size() == 4) {
    if (!is_get) return method_not_allowed();
    return GetStatus(user, segments[3], *media_type);
  }
  if (segments[2] != "collections") return ErrorResponse(404, "Not found", "no such endpoint");
  if (segments.size() == 3) {
    if (!is_get) return method_not_allowed();
    return Collections(user, *media_type);
  }
  auto collection_not_found = [&] {
    return ErrorResponse(404, "Collection not found", "no collection '" + segments[3] + "'");
  };
  auto collection = store_.GetCollection(segments[3]);
  if (!collection.ok()) {
    if (collection.status().code() == Code::kNotFound) return collection_not_found();
    return StoreError(collection.status());
  }
  auto granted = RightsOf(user, collection->id);
  if (!granted.ok()) return StoreError(granted.status());
  store::Grant rights = *granted;
  const ReadScope scope = ScopeOf(user, *collection);
  if (scope.partner_may_read) rights.can_read = true;
  if (!scope.may_read_collection) rights.can_read = false;
  if (scope.partner_may_write) rights.can_write = true;
  if (!rights.can_read && !rights.can_write) {
    // A collection the user has no access to is answered like a missing one.
    return collection_not_found();
  }
  if (segments.size() == 4) {
    if (!is_get) return method_not_allowed();
    return JsonResponse(200, json::serialize(CollectionJson(*collection, rights)), *media_type);
  }
  auto need_read = [&]() -> std::optional<Response> {
    if (!rights.can_read)
      return ErrorResponse(403, "Forbidden", "you may not read this collection");
    return std::nullopt;
  };
  if (segments[4] == "manifest" && segments.size() == 5) {
    if (!is_get) return method_not_allowed();
    if (auto denied = need_read()) return *denied;
    return Manifest(request, *collection, *media_type, scope);
  }
  if (segments[4] != "objects") return ErrorResponse(404, "Not found", "no such endpoint");
  if (segments.size() == 5) {
    if (is_get) {
      if (auto denied = need_read()) return *denied;
      return GetObjects(request, *collection, nullptr, *media_type, scope);
    }
    if (request.method == "POST") {
      if (!rights.can_write)
        return ErrorResponse(403, "Forbidden", "you may not write to this collection");
      Response r = AddObjects(request, user, *collection, scope);
      if (r.status == 202) r.headers.Set("Content-Type", std::string(kTaxiiMediaType));
      return r;
    }
    return method_not_allowed();
  }
  const std::string& object_id = segments[5];
  if (segments.size() == 6) {
    if (is_get) {
      if (auto denied = need_read()) return *denied;
      return GetObjects(request, *collection, &object_id, *media_type, scope);
    }
    if (request.method == "DELETE") {
      if (!rights.can_read || !rights.can_write) {
        return ErrorResponse(403, "Forbidden", "deleting needs read and write access");
      }
      return DeleteObject(request, user, *collection, object_id, scope);
    }
    return method_not_allowed();
  }
  if (segments.size() == 7 && segments[6] == "versions") {
    if (!is_get) return method_not_allowed();
    if (auto denied = need_read()) return *denied;
    return Versions(request, *collection, object_id, *media_type, scope);
  }
  return ErrorResponse(404, "Not found", "no such endpoint");
}

http::Response TaxiiService::Discovery(const http::Request& request) {
  std::string base = options_.public_url;
  if (base.empty()) {
    std::string host(request.headers.Get("Host"));
    if (host.empty()) host = "127.0.0.1";
    base = std::string(request.tls ? "https" : "http") + "://" + host;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string root = base + "/taxii2/" + options_.api_root + "/";
  json::object out;
  out["title"] = options_.title;
  if (!options_.description.empty()) out["description"] = options_.description;
  if (!options_.contact.empty()) out["contact"] = options_.contact;
  out["default"] = root;
  out["api_roots"] = json::array{json::value(root)};
  return JsonResponse(200, json::serialize(out), kTaxiiMediaType);
}

http::Response TaxiiService::ApiRoot() {
  json::object out;
  out["title"] = options_.title;
  if (!options_.description.empty()) out["description"] = options_.description;
  out["versions"] = json::array{json::value(kTaxiiMediaType)};
  out["max_content_length"] = options_.max_body_bytes;
  return JsonResponse(200, json::serialize(out), kTaxiiMediaType);
}

http::Response TaxiiService::Collections(const store::User& user, const std::string& media_type) {
  auto collections = store_.ListCollections();
  if (!collections.ok()) return StoreError(collections.status());
  json::array list;
  for (const auto& c : *collections) {
    auto rights = RightsOf(user, c.id);
    if (!rights.ok()) return StoreError(rights.status());
    const ReadScope scope = ScopeOf(user, c);
    if (scope.partner_may_read) rights->can_read = true;
    if (!scope.may_read_collection) rights->can_read = false;
    if (scope.partner_may_write) rights->can_write = true;
    if (rights->can_read || rights->can_write) list.emplace_back(CollectionJson(c, *rights));
  }
  if (list.empty()) return JsonResponse(200, "{}", media_type);
  json::object out;
  out["collections"] = std::move(list);
  return JsonResponse(200, json::serialize(out), media_type);
}

ReadScope TaxiiService::ScopeOf(const store::User& user,
                                const store::Collection& collection) const {
  if (!options_.read_policy) return {};
  return options_.read_policy(user, collection);
}

Result<store::Grant> TaxiiService::RightsOf(const store::User& user,
                                            const std::string& collection_id) {
  if (user.role == store::Role::kAdmin) {
    store::Grant all;
    all.collection_id = collection_id;
    all.can_read = all.can_write = true;
    return all;
  }
  return store_.RightsOf(user, collection_id);
}

Result<TaxiiService::VisiblePage> TaxiiService::ReadVisible(const std::string& collection_id,
                                                            store::ObjectQuery query,
                                                            const ReadScope& scope) {
  VisiblePage out;
  auto finish = [&] {
    if (out.more && !out.objects.empty()) out.next_after_us = out.objects.back().date_added_us;
    return out;
  };
  if (!scope.admits) {
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store_.QueryObjects(collection_id, query));
    out.objects = std::move(page.objects);
    out.more = page.more;
    return finish();
  }
  const bool want_json = query.include_json;
  const size_t want = query.limit;  // 0: all
  // match[version] first/last choose among the versions this reader may
  // see (taxii/visible_versions.h): read them all, select after deciding.
  const store::ObjectQuery selection = query;
  const bool by_extremes = SelectsByExtremes(query);
  if (by_extremes) {
    query.version_all = true;
    query.version_first = query.version_last = false;
    query.versions.clear();
  }
  // The sharing decision needs each version's json (sharing groups) and
  // origin; read in batches, whatever the page size, so that many hidden
  // versions cost few queries.
  query.include_json = query.include_origin = true;
  query.limit = want == 0 ? 0 : std::max<size_t>(want + 1, 1000);
  size_t scanned = 0;
  std::vector<bool> admitted;
  while (true) {
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store_.QueryObjects(collection_id, query));
    admitted.assign(page.objects.size(), false);
    for (size_t i = 0; i < page.objects.size(); ++i) admitted[i] = scope.admits(page.objects[i]);
    std::unordered_map<std::string, VersionBounds> bounds;
    if (by_extremes) {
      KIZUNA_ASSIGN_OR_RETURN(
          bounds, VisibleBounds(store_, collection_id, page.objects, admitted, scope.admits));
    }
    for (size_t i = 0; i < page.objects.size(); ++i) {
      store::StoredObject& object = page.objects[i];
      ++scanned;
      const bool shown =
          admitted[i] &&
          (!by_extremes || SelectsVersion(selection, object.version_us, bounds[object.id]));
      if (!shown) {
        if (scanned >= kMaxScannedPerPage) {
          // Enough work for one request: the reader goes on from here.
          out.more = true;
          out.next_after_us = object.date_added_us;
          return out;
        }
        continue;
      }
      if (want != 0 && out.objects.size() == want) {
        out.more = true;
        return finish();
      }
      if (!want_json) object.json.clear();
      out.objects.push_back(std::move(object));
    }
    if (!page.more || page.objects.empty()) return finish();
    query.after_date_added_us = page.objects.back().date_added_us;
  }
}

http::Response TaxiiService::GetObjects(const http::Request& request,
                                        const store::Collection& collection,
                                        const std::string* object_id, const std::string& media_type,
                                        const ReadScope& scope) {
  store::ObjectQuery query;
  if (auto error = ParseFilters(request, options_, object_id == nullptr, &query)) return *error;
  if (object_id) {
    query.ids = {*object_id};
    // 404 when the collection holds no version of this object the reader
    // may see.
    store::ObjectQuery any;
    any.ids = {*object_id};
    any.version_all = true;
    any.include_json = false;
    any.limit = 1;
    auto exists = ReadVisible(collection.id, any, scope);
    if (!exists.ok()) return StoreError(exists.status());
    if (exists->objects.empty()) return ObjectNotFound(*object_id, collection);
  }
  auto page = ReadVisible(collection.id, query, scope);
  if (!page.ok()) return StoreError(page.status());
  Response response;
  response.headers.Set("Content-Type", media_type);
  if (page->objects.empty() && !page->more) {
    response.body = "{}";
    return response;
  }
  size_t total = 64;
  for (const auto& o : page->objects) total += o.json.size() + 1;
  std::string& body = response.body;
  body.reserve(total);
  body += "{\"more\":";
  body += page->more ? "true" : "false";
  if (page->more) {
    body += ",\"next\":\"" + EncodeNext(page->next_after_us, options_.next_token_key) + "\"";
  }
  body += ",\"objects\":[";
  for (size_t i = 0; i < page->objects.size(); ++i) {
    if (i) body += ',';
    body += page->objects[i].json;
  }
  body += "]}";
  AddDateAddedHeaders(response, page->objects);
  if (scope.on_release) scope.on_release(collection, page->objects);
  return response;
}

Writer TaxiiService::WriterOf(const store::User& user) const {
  if (options_.writer_of) return options_.writer_of(user);
  Writer writer;
  writer.admin = user.role == store::Role::kAdmin;
  writer.name = user.org_name + "/" + user.name;
  return writer;
}

http::Response TaxiiService::AddObjects(const http::Request& request, const store::User& user,
                                        const store::Collection& collection,
                                        const ReadScope& scope) {
  if (!IsAcceptableContentType(request.headers.Get("Content-Type"))) {
    return ErrorResponse(415, "Unsupported media type",
                         "send Content-Type: application/taxii+json;version=2.1");
  }
  if (request.body.size() > options_.max_body_bytes) {
    return ErrorResponse(413, "Request too large",
                         "the body exceeds max_content_length of " +
                             std::to_string(options_.max_body_bytes) + " bytes");
  }
  auto parsed = stix::ParseJson(request.body, options_.ingest.max_json_depth);
  if (!parsed.ok()) return ErrorResponse(400, "Invalid JSON", parsed.status().message());
  const json::object* envelope = parsed->if_object();
  if (!envelope)
    return ErrorResponse(422, "Not an envelope",
                         "the body must be a JSON object with an 'objects' list");
  auto it = envelope->find("objects");
  if (it == envelope->end() || !it->value().is_array()) {
    return ErrorResponse(422, "Not an envelope", "the body must have an 'objects' list");
  }
  const json::array& objects = it->value().get_array();
  if (objects.size() > options_.ingest.max_objects_per_request) {
    return ErrorResponse(413, "Too many objects",
                         std::to_string(objects.size()) + " objects in one request; the limit is " +
                             std::to_string(options_.ingest.max_objects_per_request));
  }
  IngestOptions ingest = options_.ingest;
  ingest.writer = WriterOf(user);
  ingest.visible = scope.admits;
  auto status = IngestObjects(store_, collection.id, objects, user.id, ingest);
  if (!status.ok()) return StoreError(status.status());
  Status saved = store_.SaveStatus(*status);
  if (!saved.ok()) return StoreError(saved);
  return JsonResponse(202, StatusToJson(*status), kTaxiiMediaType);
}

http::Response TaxiiService::DeleteObject(const http::Request& request, const store::User& user,
                                          const store::Collection& collection,
                                          const std::string& object_id, const ReadScope& scope) {
  store::ObjectQuery query;
  if (auto error = ParseFilters(request, options_, false, &query)) return *error;
  // Only versions the reader may see are judged, selected and deleted: a
  // withheld version is neither deleted nor revealed, and match[version]
  // first/last mean the oldest/newest visible one (visible_versions.h).
  store::ObjectQuery all;
  all.ids = {object_id};
  all.version_all = true;
  all.include_origin = all.include_json = static_cast<bool>(scope.admits);
  auto versions = store_.QueryObjects(collection.id, all);
  if (!versions.ok()) return StoreError(versions.status());
  std::vector<store::StoredObject> visible;
  for (store::StoredObject& version : versions->objects) {
    if (!scope.admits || scope.admits(version)) visible.push_back(std::move(version));
  }
  if (visible.empty()) return ObjectNotFound(object_id, collection);
  VersionBounds bounds;
  for (const store::StoredObject& version : visible) bounds.Add(version.version_us);
  store::ObjectQuery chosen;  // the selected versions, by value
  for (const store::StoredObject& version : visible) {
    const bool spec_ok = query.spec_versions.empty() ||
                         std::find(query.spec_versions.begin(), query.spec_versions.end(),
                                   version.spec_version) != query.spec_versions.end();
    if (spec_ok && SelectsVersion(query, version.version_us, bounds)) {
      chosen.versions.push_back(version.version_us);
    }
  }
  if (chosen.versions.empty()) return ObjectNotFound(object_id, collection);
  const Writer writer = WriterOf(user);
  auto verdict = CheckDelete(store_, writer, object_id);
  if (!verdict.ok()) return StoreError(verdict.status());
  if (verdict->kind != ProducerVerdict::Kind::kAllow) {
    return ErrorResponse(403, "Forbidden", verdict->why);
  }
  if (!verdict->admin_override.empty()) {
    spdlog::warn("admin {} deletes {} from collection {}, {}", writer.name, object_id,
                 collection.id, verdict->admin_override);
  }
  // Without match[version] the specification's default filter (last) applies,
  // as for every other endpoint: one DELETE removes the latest version.
  auto deleted = store_.DeleteObject(collection.id, object_id, chosen);
  if (!deleted.ok()) return StoreError(deleted.status());
  if (*deleted == 0) return ObjectNotFound(object_id, collection);
  Response response;
  response.status = 200;
  return response;
}

http::Response TaxiiService::Versions(const http::Request& request,
                                      const store::Collection& collection,
                                      const std::string& object_id, const std::string& media_type,
                                      const ReadScope& scope) {
  store::ObjectQuery query;
  if (auto error = ParseFilters(request, options_, false, &query)) return *error;
  for (const auto& [key, value] : request.query) {
    if (key == "match[version]") {
      return ErrorResponse(400, "Unsupported filter", "match[version] is not allowed on versions");
    }
  }
  query.ids = {object_id};
  query.version_all = true;
  query.include_json = false;
  auto page = ReadVisible(collection.id, query, scope);
  if (!page.ok()) return StoreError(page.status());
  if (page->objects.empty() && !page->more && !query.added_after_us && !query.after_date_added_us) {
    return ObjectNotFound(object_id, collection);
  }
  if (page->objects.empty() && !page->more) return JsonResponse(200, "{}", media_type);
  json::object out;
  out["more"] = page->more;
  if (page->more) {
    out["next"] = EncodeNext(page->next_after_us, options_.next_token_key);
  }
  json::array versions;
  for (const auto& o : page->objects) versions.emplace_back(TaxiiTimestamp(o.version_us));
  out["versions"] = std::move(versions);
  Response response = JsonResponse(200, json::serialize(out), media_type);
  AddDateAddedHeaders(response, page->objects);
  return response;
}

http::Response TaxiiService::Manifest(const http::Request& request,
                                      const store::Collection& collection,
                                      const std::string& media_type, const ReadScope& scope) {
  store::ObjectQuery query;
  if (auto error = ParseFilters(request, options_, true, &query)) return *error;
  query.include_json = false;
  auto page = ReadVisible(collection.id, query, scope);
  if (!page.ok()) return StoreError(page.status());
  if (page->objects.empty() && !page->more) return JsonResponse(200, "{}", media_type);
  json::object out;
  out["more"] = page->more;
  if (page->more) {
    out["next"] = EncodeNext(page->next_after_us, options_.next_token_key);
  }
  json::array list;
  for (const auto& o : page->objects) {
    json::object entry;
    entry["id"] = o.id;
    entry["date_added"] = TaxiiTimestamp(o.date_added_us);
    entry["version"] = TaxiiTimestamp(o.version_us);
    entry["media_type"] = std::string("application/stix+json;version=") + o.spec_version;
    list.emplace_back(std::move(entry));
  }
  out["objects"] = std::move(list);
  Response response = JsonResponse(200, json::serialize(out), media_type);
  AddDateAddedHeaders(response, page->objects);
  return response;
}

http::Response TaxiiService::GetStatus(const store::User& user, const std::string& status_id,
                                       const std::string& media_type) {
  auto status = store_.GetStatus(status_id);
  if (!status.ok()) {
    if (status.status().code() == Code::kNotFound) {
      return ErrorResponse(404, "Status not found", "no status '" + status_id + "'");
    }
    return StoreError(status.status());
  }
  if (status->user_id != user.id && user.role != store::Role::kAdmin) {
    return ErrorResponse(404, "Status not found", "no status '" + status_id + "'");
  }
  return JsonResponse(200, StatusToJson(*status), media_type);
}

}  // namespace kizuna::taxii
