#include "interop/module.h"

#include <time.h>

#include <boost/json.hpp>
#include <sstream>

#include "bus/bus.h"
#include "common/encoding.h"
#include "common/time.h"
#include "interop/advisories.h"
#include "interop/export.h"
#include "interop/import.h"
#include "interop/options.h"
#include "node/node.h"
#include "pattern/pattern.h"
#include "sharing/policy.h"
#include "taxii/taxii.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;

constexpr size_t kMaxSeen = 4096;

http::Response BadRequest(const Status& status) {
  return http::ErrorResponse(400, "Bad request", status.message());
}

http::Response Internal(const Status& status) {
  return http::ErrorResponse(500, "Internal error", status.message());
}

// IMF-fixdate ("Tue, 01 Dec 2026 00:00:00 GMT"), what Last-Modified carries.
std::string HttpDate(int64_t micros) {
  const time_t seconds = static_cast<time_t>(micros / 1000000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  char text[64];
  strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

// If-Modified-Since as seconds since the epoch; -1 when absent or not a date.
int64_t ParseHttpDate(std::string_view text) {
  if (text.empty()) return -1;
  struct tm tm {};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return -1;
  return static_cast<int64_t>(timegm(&tm));
}

// Whether an If-None-Match list names `etag` (or is "*").
bool NoneMatchHas(std::string_view header, std::string_view etag) {
  size_t start = 0;
  while (start < header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view tag = header.substr(start, comma - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    start = comma + 1;
  }
  return false;
}

}  // namespace

void InteropModule::AddRoutes(platform::RouteTable& routes) {
  using platform::PathParams;
  routes.Add(
      "GET", "/api/v1/interop/export/{format}",
      [this](const http::Request& r, const store::User& u, const PathParams& p) {
        return Export(r, u, p.Get("format"));
      },
      platform::RouteOptions{.lane = platform::Lane::kWork, .rate_limited = true});
  routes.Add(
      "POST", "/api/v1/interop/import",
      [this](const http::Request& r, const store::User& u, const PathParams&) {
        return Import(r, u);
      },
      platform::RouteOptions{.lane = platform::Lane::kImport});
  // Public advisories: explicitly public, as they are for everyone; each
  // request shows only what the sharing decision gives the public now.
  routes.Add(
      "GET", "/api/v1/interop/advisories",
      [this](const http::Request& r, const store::User&, const PathParams&) {
        return Advisories(r, "");
      },
      platform::RouteOptions{
          .lane = platform::Lane::kWork, .rate_limited = true, .is_public = true});
  routes.Add(
      "GET", "/api/v1/interop/advisories/{id}",
      [this](const http::Request& r, const store::User&, const PathParams& p) {
        return Advisories(r, std::string(p.Get("id")));
      },
      platform::RouteOptions{
          .lane = platform::Lane::kWork, .rate_limited = true, .is_public = true});
  // Choosing what is published: the home team's admins.
  routes.Add("POST", "/api/v1/interop/advisories",
             [this](const http::Request& r, const store::User& u, const PathParams&) {
               return Publish(r, u, "");
             });
  routes.Add("DELETE", "/api/v1/interop/advisories/{id}",
             [this](const http::Request& r, const store::User& u, const PathParams& p) {
               return Publish(r, u, std::string(p.Get("id")));
             });
}

http::Response InteropModule::Advisories(const http::Request& request, const std::string& id) {
  auto policy = services_->policy();
  const std::string& team = services_->node->config().name;
  const std::string base = "/api/v1/interop/advisories";
  const bool feed = id == "feed.atom";
  auto advisories = PublicAdvisories(*services_->store, *policy, feed ? std::string() : id);
  if (!advisories.ok()) return Internal(advisories.status());
  http::Response response;
  response.headers.Set(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
      "frame-ancestors 'none'");
  response.headers.Set("X-Content-Type-Options", "nosniff");
  response.headers.Set("Cache-Control", "public, max-age=60");
  if (feed) {
    std::string site = services_->node->config().server.public_url;
    if (site.empty())
      site = std::string(request.tls ? "https://" : "http://") +
             std::string(request.headers.Get("Host"));
    while (site.ends_with('/')) site.pop_back();
    response.headers.Set("Content-Type", "application/atom+xml; charset=utf-8");
    response.body =
        AdvisoryAtom(team, *advisories, site, base, SystemClock::Instance().NowMicros());
    return response;
  }
  response.headers.Set("Content-Type", "text/html; charset=utf-8");
  if (id.empty()) {
    response.body = AdvisoryIndexHtml(team, *advisories, base);
    return response;
  }
  for (const Advisory& advisory : *advisories) {
    if (advisory.report.id == id) {
      response.body = AdvisoryHtml(team, advisory, base);
      return response;
    }
  }
  // Unpublished, above CLEAR, or no such report: the same answer.
  return http::ErrorResponse(404, "Not found", "no such advisory");
}

http::Response InteropModule::Publish(const http::Request& request, const store::User& user,
                                      const std::string& unpublish_id) {
  if (user.org_name != services_->node->config().name || user.role != store::Role::kAdmin) {
    return http::ErrorResponse(403, "Forbidden", "the home team's admins choose what is published");
  }
  Status status = Status::Ok();
  if (!unpublish_id.empty()) {
    status = UnpublishAdvisory(*services_->store, unpublish_id);
  } else {
    boost::system::error_code ec;
    json::value body = json::parse(request.body, ec);
    if (ec || !body.is_object() || !body.as_object().contains("report") ||
        !body.at("report").is_string()) {
      return http::ErrorResponse(400, "Bad request", "expected {\"report\": \"report--…\"}");
    }
    status = PublishAdvisory(*services_->store, *services_->policy(),
                             std::string(body.at("report").as_string()));
  }
  if (!status.ok()) {
    switch (status.code()) {
      case Code::kNotFound:
        return http::ErrorResponse(404, "Not found", status.message());
      case Code::kInvalidArgument:
      case Code::kFailedPrecondition:
        return http::ErrorResponse(409, "Not published", status.message());
      default:
        return Internal(status);
    }
  }
  auto ids = PublishedAdvisoryIds(*services_->store);
  if (!ids.ok()) return Internal(ids.status());
  json::array published;
  for (const std::string& id : *ids) published.emplace_back(id);
  return http::JsonResponse(200,
                            json::serialize(json::object{{"published", std::move(published)}}));
}

http::Response InteropModule::Export(const http::Request& request, const store::User& user,
                                     std::string_view format_name) {
  auto format = ParseExportFormat(format_name);
  if (!format.ok()) return http::ErrorResponse(404, "Not found", format.status().message());
  const int64_t now = SystemClock::Instance().NowMicros();
  auto request_options = EnforcementOptionsFromQuery(request.query, now);
  if (!request_options.ok()) return BadRequest(request_options.status());
  // What the fetcher may read, as TAXII decides it: the collections it may
  // read and, in each, the versions its sharing decision admits.
  auto collections = services_->store->ListCollections();
  if (!collections.ok()) return Internal(collections.status());
  const sharing::Recipient recipient = services_->policy()->ForUser(user);
  std::vector<ExportSource> sources;
  for (const store::Collection& collection : *collections) {
    if (!request_options->collections.empty() &&
        !request_options->collections.contains(collection.id) &&
        !request_options->collections.contains(collection.alias)) {
      continue;
    }
    auto may_read = services_->may_read(user, collection);
    if (!may_read.ok()) return Internal(may_read.status());
    if (!*may_read) continue;
    taxii::ReadScope scope = services_->read_scope(user, collection);
    if (!scope.may_read_collection) continue;
    ExportSource source{collection.id, scope.admits, {}};
    // What a partner's sensor fetches is audited as this export, apart
    // from its TAXII reads.
    if (recipient.kind == sharing::Recipient::Kind::kPeer && services_->audit_sent) {
      source.on_release = [this, peer = recipient.name,
                           channel = "export/" + std::string(format_name),
                           id = collection.id](const std::vector<store::StoredObject>& v) {
        services_->audit_sent(peer, channel, id, v);
      };
    }
    sources.push_back(std::move(source));
  }
  // A collection named but not readable is as absent as one that does not
  // exist: an empty export, never a different answer.
  request_options->filter.default_tlp = services_->policy()->default_tlp();
  ExportOptions options = request_options->export_options;
  options.source = services_->node->config().name;
  options.generated_us = now;
  auto built =
      BuildEnforcementExport(*services_->store, sources, *format, request_options->filter, options);
  if (!built.ok()) {
    if (built.status().code() == Code::kInvalidArgument) return BadRequest(built.status());
    return Internal(built.status());
  }
  // The body's header line carries its generation time: the ETag is over
  // the values alone, so an unchanged export keeps its tag.
  // Without comment lines and the RPZ SOA (both carry the generation time).
  std::string values;
  {
    std::istringstream lines(built->body);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.starts_with("#") || line.starts_with(";") || line.find(" SOA ") != std::string::npos)
        continue;
      values += line;
      values += '\n';
    }
  }
  const std::string etag = "\"" + HexEncode(Sha256(values)).substr(0, 32) + "\"";
  const std::string key = std::to_string(user.id) + "\n" + request.target;
  int64_t since_us = now;
  {
    std::lock_guard lock(seen_mutex_);
    auto it = seen_.find(key);
    if (it != seen_.end() && it->second.etag == etag) {
      since_us = it->second.since_us;
    } else {
      if (seen_.size() >= kMaxSeen) seen_.clear();
      seen_[key] = Seen{etag, now};
    }
  }
  const std::string last_modified = HttpDate(since_us);
  const std::string_view none_match = request.headers.Get("If-None-Match");
  const int64_t modified_since = ParseHttpDate(request.headers.Get("If-Modified-Since"));
  const bool not_modified = !none_match.empty()
                                ? NoneMatchHas(none_match, etag)
                                : modified_since >= 0 && since_us / 1000000 <= modified_since;
  http::Response response;
  response.status = not_modified ? 304 : 200;
  response.headers.Set("ETag", etag);
  response.headers.Set("Last-Modified", last_modified);
  response.headers.Set("Cache-Control", "private, no-cache");
  response.headers.Set("X-Kizuna-Values", std::to_string(built->values));
  if (!not_modified) {
    response.headers.Set("Content-Type", std::string(ExportContentType(*format)));
    response.body = std::move(built->body);
  }
  return response;
}

http::Response InteropModule::Import(const http::Request& request, const store::User& user) {
  const std::string& home = services_->node->config().name;
  // Lists come in as the home team's (their producer is named inside);
  // another organization posts STIX through TAXII, as its own.
  if (user.org_name != home) {
    return http::ErrorResponse(403, "Forbidden", "only the home team imports lists");
  }
  const int64_t now = SystemClock::Instance().NowMicros();
  auto list_options = ListOptionsFromQuery(request.query, now);
  if (!list_options.ok()) return BadRequest(list_options.status());
  const std::string collection_name = request.Query("collection").empty()
                                          ? std::string(node::kDefaultCollectionAlias)
                                          : std::string(request.Query("collection"));
  auto collection = services_->store->GetCollection(collection_name);
  if (!collection.ok()) {
    return http::ErrorResponse(404, "Not found", "no collection '" + collection_name + "'");
  }
  if (user.role != store::Role::kAdmin) {
    auto rights = services_->store->RightsOf(user, collection->id);
    if (!rights.ok() || !rights->can_write) {
      return http::ErrorResponse(403, "Forbidden", "you may not write to this collection");
    }
  }
  ImportTarget target;
  target.store = services_->store;
  target.collection_id = collection->id;
  target.user_id = user.id;
  target.ingest = IngestOptionsFor(services_->node->config());
  target.ingest.writer.admin = user.role == store::Role::kAdmin;
  target.ingest.writer.name = user.org_name + "/" + user.name;
  bus::ChangeBus* bus = services_->bus;
  target.after_batch = [bus] {
    if (bus != nullptr) bus->Notify();
  };
  std::istringstream input(request.body);
  auto summary = ImportIndicatorList(target, input, *list_options);
  if (!summary.ok()) {
    if (summary.status().code() == Code::kInvalidArgument) return BadRequest(summary.status());
    return Internal(summary.status());
  }
  return http::JsonResponse(200, json::serialize(ImportSummaryJson(*summary)));
}

}  // namespace kizuna::interop
