#include "telescope/module.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "node/node.h"
#include "sensor/upload.h"
#include "sharing/policy.h"
#include "telescope/breakdown.h"
#include "telescope/objects.h"
#include "telescope/sensors.h"
#include "telescope/surges.h"
#include "telescope/views.h"

namespace kizuna::telescope {

namespace json = boost::json;

namespace {

// Most intervals one upload may carry: a day of minutes.
constexpr size_t kMaxIntervalsPerUpload = 1440;

http::Response Json(int status, const json::value& value) {
  return http::JsonResponse(status, json::serialize(value));
}

}  // namespace

Admit AdmitTelescopeObjects(const std::string& telescope_collection_id,
                            const std::string& own_identity) {
  return [telescope_collection_id, own_identity](const store::Change& change) {
    const store::StoredObject& o = change.object;
    if (change.kind != store::Change::Kind::kAdded) return true;  // forgetting is harmless
    if (o.origin.empty()) {
      return change.collection_id == telescope_collection_id && o.created_by_ref == own_identity;
    }
    if (o.origin.starts_with("org:")) return false;
    return o.created_by_ref != own_identity;
  };
}

Status LoadTelescope(store::Store& store, const Admit& admit, TelescopeData* data,
                     int64_t* cursor) {
  store::ChangeQuery query;
  query.types = {std::string(kSummaryType), std::string(kSourcesType)};
  query.include_origin = true;
  query.limit = 1000;
  query.after_seq = 0;
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Change> changes, store.ListChanges(query));
    if (changes.empty()) break;
    for (const store::Change& change : changes) {
      if (!admit(change)) continue;
      if (change.kind == store::Change::Kind::kAdded) {
        data->Add(change.object);
      } else {
        data->Remove(change.object.id);
      }
    }
    query.after_seq = changes.back().seq;
  }
  // Follow from the store's last change, not the last telescope one: the
  // changes in between are of other types.
  KIZUNA_ASSIGN_OR_RETURN(int64_t last, store.LastChangeSeq());
  *cursor = std::max(last, query.after_seq);
  return Status::Ok();
}

Status TelescopeModule::Configure(node::ConfigSection& section) {
  section.String("collection", &config_.collection);
  section.Tlp("summary_tlp", &config_.summary_tlp, /*allow_red=*/true);
  section.Tlp("sources_tlp", &config_.sources_tlp, /*allow_red=*/true);
  section.Integer("surge_ports", &config_.surge_ports, 1, 65536 * 5);
  section.Integer("keep_days", &config_.keep_days, 1, 366);
  section.Integer("memory_mib_per_origin", &config_.memory_mib_per_origin, 16, 1 << 20);
  for (node::ConfigSection& s : section.Tables("sensor")) {
    std::string name;
    s.String("name", &name);
    if (!sensor::ValidSensorName(name)) s.Fail("name", "1 to 64 of A-Z a-z 0-9 . _ -");
    TelescopeConfig::SensorMarkings markings{config_.summary_tlp, config_.sources_tlp};
    s.Tlp("summary_tlp", &markings.summary_tlp, true);
    s.Tlp("sources_tlp", &markings.sources_tlp, true);
    s.RejectUnknown();
    config_.sensors[name] = markings;
  }
  data_.SetRetention(config_.retention());
  return section.status();
}

Status GrantHomeRead(store::Store& store, const std::string& home_org,
                     const std::string& collection_id) {
  KIZUNA_ASSIGN_OR_RETURN(store::Organization org, store.EnsureOrganization(home_org));
  store::Grant grant;
  grant.collection_id = collection_id;
  grant.org_id = org.id;
  grant.can_read = true;
  return store.SetGrant(grant);
}

Status TelescopeModule::EnsureCollection() {
  store::Store& store = *services_->store;
  auto existing = store.GetCollection(config_.collection);
  if (!existing.ok() && existing.status().code() != Code::kNotFound) return existing.status();
  if (!existing.ok()) {
    store::Collection collection;
    collection.id = NewUuid4();
    collection.title = "Telescope";
    collection.description =
        "Darknet sensor summaries: per-port traffic (x-kizuna-telescope-summary), source "
        "addresses (x-kizuna-telescope-sources) and detected surges";
    collection.alias = config_.collection;
    Status created = store.CreateCollection(collection);
    if (!created.ok() && created.code() != Code::kAlreadyExists) return created;
    existing = store.GetCollection(config_.collection);
    if (!existing.ok()) return existing.status();
    KIZUNA_RETURN_IF_ERROR(GrantHomeRead(store, services_->node->config().name, existing->id));
  }
  collection_id_ = existing->id;
  // The extension definition travels with the data, for partners' tools.
  json::object definition = ExtensionDefinition(services_->node->identity().identity_id);
  auto info = stix::ValidateObject(definition);
  if (!info.ok()) return Internal("telescope extension definition: " + info.status().message());
  store::NewObject object{*info, json::serialize(definition), ""};
  return store.AddObjects(collection_id_, {object}).status();
}

Status TelescopeModule::Start() {
  KIZUNA_RETURN_IF_ERROR(EnsureCollection());
  geo_ = std::make_unique<geo::GeoCache>(services_->node->dir());
  int64_t cursor = 0;
  admit_ = AdmitTelescopeObjects(collection_id_, services_->node->identity().identity_id);
  KIZUNA_RETURN_IF_ERROR(LoadTelescope(*services_->store, admit_, &data_, &cursor));
  spdlog::info(
      "telescope: {} intervals loaded ({} MiB in memory, {} older than {} days or past "
      "their origin's memory not kept)",
      data_.intervals(), data_.memory_bytes() >> 20, data_.let_go(), config_.keep_days);
  bus::SubscriptionOptions options;
  options.name = "telescope";
  options.after_seq = cursor;
  options.batch_limit = 1000;
  subscription_ = services_->bus->Subscribe(std::move(options));
  stopping_ = false;
  follower_ = std::thread([this] { Follow(); });
  started_ = true;
  return Status::Ok();
}

void TelescopeModule::Stop() {
  stopping_ = true;
  if (follower_.joinable()) follower_.join();
  subscription_.reset();
}

void TelescopeModule::Follow() {
  while (!stopping_.load()) {
    auto changes = subscription_->Next(std::chrono::milliseconds(200));
    if (!changes.ok()) {
      spdlog::warn("telescope: {}", changes.status().message());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    for (const store::Change& change : *changes) {
      if (!IsTelescopeType(change.object.type) || !admit_(change)) continue;
      if (change.kind == store::Change::Kind::kAdded) {
        data_.Add(change.object);
      } else {
        data_.Remove(change.object.id);
      }
    }
  }
}

http::Response TelescopeModule::Upload(const http::Request& request, const store::User& user) {
  store::Store& store = *services_->store;
  auto account = FindSensorByUser(store, user.id);
  if (!account.ok()) {
    if (account.status().code() == Code::kNotFound) {
      return http::ErrorResponse(403, "Forbidden", "only a sensor account uploads intervals");
    }
    return http::ErrorResponse(500, "Internal error", "sensor accounts unreadable");
  }
  // The body is signed with the key derived from the sensor's token; the
  // node holds only its public half.
  const std::optional<std::string> signature =
      Base64Decode(request.headers.Get(sensor::kSensorSignatureHeader));
  if (!signature || signature->size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(
          reinterpret_cast<const unsigned char*>(signature->data()),
          reinterpret_cast<const unsigned char*>(request.body.data()), request.body.size(),
          reinterpret_cast<const unsigned char*>(account->public_key.data())) != 0) {
    return http::ErrorResponse(401, "Bad signature",
                               std::string("send the body's Ed25519 signature in ") +
                                   std::string(sensor::kSensorSignatureHeader));
  }
  json::error_code ec;
  json::parse_options parse_options;
  parse_options.max_depth = 10;
  json::value root = json::parse(request.body, ec, {}, parse_options);
  const json::array* intervals = nullptr;
  if (!ec && root.is_object()) {
    if (const json::value* v = root.get_object().if_contains("intervals"); v && v->is_array()) {
      intervals = &v->get_array();
    }
  }
  if (intervals == nullptr) {
    return http::ErrorResponse(400, "Bad request", "expected {\"intervals\": [...]}");
  }
  if (intervals->size() > kMaxIntervalsPerUpload) {
    return http::ErrorResponse(413, "Too many intervals",
                               "at most " + std::to_string(kMaxIntervalsPerUpload));
  }
  auto markings = config_.sensors.find(account->name);
  const stix::Tlp summary_tlp =
      markings != config_.sensors.end() ? markings->second.summary_tlp : config_.summary_tlp;
  const stix::Tlp sources_tlp =
      markings != config_.sensors.end() ? markings->second.sources_tlp : config_.sources_tlp;
  const std::string& producer = services_->node->identity().identity_id;
  std::vector<store::NewObject> objects;
  for (size_t i = 0; i < intervals->size(); ++i) {
    const json::value& v = (*intervals)[i];
    Result<sensor::WireInterval> interval =
        v.is_object() ? sensor::DecodeWireObject(v.get_object(), /*exact_only=*/true)
                      : Result<sensor::WireInterval>(InvalidArgument("interval: not an object"));
    if (!interval.ok()) {
      return http::ErrorResponse(
          400, "Bad interval",
          "intervals[" + std::to_string(i) + "]: " + interval.status().message());
    }
    if (interval->start_s > SystemClock::Instance().NowMicros() / 1000000 + kMostAheadSeconds) {
      return http::ErrorResponse(400, "Bad interval",
                                 "intervals[" + std::to_string(i) +
                                     "]: starts in the future (is the sensor's clock right?)");
    }
    if (interval->sensor != account->name) {
      return http::ErrorResponse(403, "Forbidden",
                                 "intervals[" + std::to_string(i) + "]: sensor '" +
                                     interval->sensor + "' is not this account's ('" +
                                     account->name + "')");
    }
    IntervalObjects made = MakeIntervalObjects(*interval, producer, summary_tlp, sources_tlp);
    for (json::object* o : {&made.summary, &made.sources}) {
      auto info = stix::ValidateObject(*o);
      if (!info.ok()) {
        return http::ErrorResponse(
            400, "Bad interval",
            "intervals[" + std::to_string(i) + "]: " + info.status().message());
      }
      objects.push_back({*info, json::serialize(*o), ""});
    }
  }
  auto added = store.AddObjects(collection_id_, objects);
  if (!added.ok()) return http::ErrorResponse(500, "Internal error", added.status().message());
  uint64_t stored = 0;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (added->outcomes[i] != store::AddOutcome::kAdded) continue;
    ++stored;
    // In the views before the answer (the bus brings the same again, which
    // changes nothing): a sensor, or a person, that reads after its upload
    // sees it.
    const stix::ObjectInfo& info = objects[i].info;
    store::StoredObject taken;
    taken.id = info.id;
    taken.type = info.type;
    taken.spec_version = info.spec_version;
    taken.version_us = info.modified_us;
    taken.tlp = info.tlp;
    taken.created_by_ref = info.created_by_ref;
    taken.json = objects[i].json;
    data_.Add(taken);
  }
  if (stored != 0) services_->bus->Notify();
  // Durable before the answer: the sensor forgets what it sent only now.
  return Json(200, json::object{{"intervals", intervals->size()},
                                {"objects_stored", stored},
                                {"objects_already_present", objects.size() - stored}});
}

http::Response TelescopeModule::Get(const http::Request& request, const store::User& user,
                                    const std::string& view, const platform::PathParams& params) {
  if (FindSensorByUser(*services_->store, user.id).ok()) {
    return http::ErrorResponse(403, "Forbidden", "a sensor account only uploads");
  }
  // One policy for the whole request; what a reader may not see does not
  // exist for it.
  std::shared_ptr<const sharing::SharingPolicy> policy = services_->policy();
  const sharing::Recipient recipient = policy->ForUser(user);
  if (recipient.kind == sharing::Recipient::Kind::kPeer) {
    // A partner node reads what we share with it over TAXII (the telescope
    // collection, when its [[peer]] shares it), filtered there.
    return http::ErrorResponse(403, "Forbidden", "partners read the telescope collection");
  }
  // As on TAXII: a read grant on the telescope collection (the home
  // organization has one from the start); another organization's user then
  // sees our own sensors' objects only (partners' arrive in collections of
  // their own), as far as the policy releases them.
  const bool home = recipient.kind == sharing::Recipient::Kind::kHome;
  if (user.role != store::Role::kAdmin) {
    auto rights = services_->store->RightsOf(user, collection_id_);
    if (!rights.ok() || !rights->can_read) {
      return http::ErrorResponse(403, "Forbidden", "no read grant on the telescope collection");
    }
  }
  const TelescopeData::Visible visible = [&](const store::StoredObject& object) {
    return (home || object.origin.empty()) && policy->MayRelease(object, recipient);
  };
  TelescopeData::Filter filter;
  Status range = ParseRange(request.Query("since"), request.Query("until"),
                            data_.newest_start(visible), &filter);
  if (!range.ok()) return http::ErrorResponse(400, "Bad request", range.message());
  filter.sensor = std::string(request.Query("sensor"));
  if (request.HasQuery("origin")) {
    const std::string origin(request.Query("origin"));
    filter.origin = origin == "home" ? "" : origin;
  }
  size_t top = 20;
  if (request.HasQuery("top")) {
    const std::string text(request.Query("top"));
    char* end = nullptr;
    const unsigned long n = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n == 0 || n > 10000) {
      return http::ErrorResponse(400, "Bad request", "top: 1 to 10000");
    }
    top = n;
  }
  if (view == "top") return Json(200, TopJson(data_.Select(filter, visible), top));
  if (view == "sensors") return Json(200, SensorsJson(data_.Select(filter, visible)));
  if (view == "series") {
    auto port = ParsePort(params.Get("proto"), params.Get("port"));
    if (!port.ok()) return http::ErrorResponse(400, "Bad request", port.status().message());
    int64_t step = 60;
    if (request.HasQuery("step")) {
      const std::string text(request.Query("step"));
      char* end = nullptr;
      step = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || step < 60 || step > 86400 || 86400 % step != 0) {
        return http::ErrorResponse(400, "Bad request", "step: seconds dividing 86400, >= 60");
      }
    }
    return Json(200, SeriesJson(PortSeries(data_.Select(filter, visible), port->first, port->second,
                                           step)));
  }
  if (view == "surges") {
    auto surges = FindSurges(data_, filter, visible, config_.surge_ports);
    return Json(200, SurgesJson(surges));
  }
  if (view == "breakdown") {
    std::optional<uint32_t> key;
    if (request.HasQuery("port") || request.HasQuery("proto")) {
      auto port = ParsePort(request.Query("proto"), request.Query("port"));
      if (!port.ok()) return http::ErrorResponse(400, "Bad request", port.status().message());
      key = PortKey(port->first, port->second);
    }
    auto geo = geo_->Get();
    return Json(200,
                BreakdownJson(SourcesBreakdown(data_.Select(filter, visible), *geo, key, top)));
  }
  return http::ErrorResponse(404, "Not found");
}

void TelescopeModule::AddRoutes(platform::RouteTable& routes) {
  routes.Add(
      "POST", "/api/v1/telescope/intervals",
      [this](const http::Request& r, const store::User& u, const platform::PathParams&) {
        return Upload(r, u);
      },
      platform::RouteOptions{.lane = platform::Lane::kImport});
  for (const char* view : {"top", "sensors", "surges", "breakdown"}) {
    routes.Add(
        "GET", std::string("/api/v1/telescope/") + view,
        [this, view = std::string(view)](const http::Request& r, const store::User& u,
                                         const platform::PathParams& p) {
          return Get(r, u, view, p);
        },
        platform::RouteOptions{.lane = platform::Lane::kWork});
  }
  routes.Add(
      "GET", "/api/v1/telescope/ports/{proto}/{port}",
      [this](const http::Request& r, const store::User& u, const platform::PathParams& p) {
        return Get(r, u, "series", p);
      },
      platform::RouteOptions{.lane = platform::Lane::kWork});
}

std::vector<platform::Job> TelescopeModule::Jobs() {
  platform::Job job;
  job.name = "surges";
  job.period = std::chrono::minutes(1);
  job.run = [this] { return LookForSurges(); };
  return {job};
}

Status TelescopeModule::LookForSurges() {
  if (!started_) return Status::Ok();
  return RecordSurges(*services_->store, *services_->node, data_, collection_id_, config_,
                      services_->bus);
}

}  // namespace kizuna::telescope
