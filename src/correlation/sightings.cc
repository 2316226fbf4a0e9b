#include "correlation/sightings.h"

#include <boost/json.hpp>

#include "common/uuid.h"

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

// Namespace of kizuna's deterministic sighting ids (a fixed random UUID).
constexpr std::string_view kSightingNamespace = "6c1b3f0e-52a4-4d5e-9f0c-8a3b2e7d41c9";

std::string Ms(int64_t micros) { return FormatTimestamp(micros - micros % 1000, 3); }

}  // namespace

SightingRecorder::SightingRecorder(store::Store& store, std::string identity_id,
                                   std::string identity_name, SightingOptions options,
                                   const Clock& clock)
    : store_(store),
      identity_id_(std::move(identity_id)),
      identity_name_(std::move(identity_name)),
      options_(std::move(options)),
      clock_(clock) {}

std::string SightingRecorder::SightingId(const std::string& indicator_id, int64_t when_us,
                                         const std::string& observer_identity) const {
  const int64_t period = options_.period_seconds * 1000000;
  const int64_t start = when_us - when_us % period;
  const std::string& who = observer_identity.empty() ? identity_id_ : observer_identity;
  return "sighting--" +
         Uuid5(kSightingNamespace, indicator_id + "|" + who + "|" + std::to_string(start));
}

Result<store::Collection> EnsureSightingsCollection(store::Store& store, const std::string& alias,
                                                    const std::string& identity_id,
                                                    const std::string& identity_name) {
  auto existing = store.GetCollection(alias);
  if (existing.ok()) return existing;
  if (existing.status().code() != Code::kNotFound) return existing.status();
  store::Collection collection;
  collection.id = NewUuid4();
  collection.title = "Sightings";
  collection.description = "Sightings of shared indicators recorded by " + identity_name;
  collection.alias = alias;
  Status created = store.CreateCollection(collection);
  if (!created.ok() && created.code() != Code::kAlreadyExists) return created;
  KIZUNA_ASSIGN_OR_RETURN(store::Collection made, store.GetCollection(alias));
  // The identity the sightings point at travels with them.
  json::object identity{{"type", "identity"},
                        {"spec_version", "2.1"},
                        {"id", identity_id},
                        {"created", "2020-01-01T00:00:00.000Z"},
                        {"modified", "2020-01-01T00:00:00.000Z"},
                        {"name", identity_name},
                        {"identity_class", "organization"}};
  auto info = stix::ValidateObject(identity);
  if (info.ok()) {
    store::NewObject object{*info, json::serialize(identity), ""};
    object.info.tlp = stix::Tlp::kClear;
    KIZUNA_RETURN_IF_ERROR(store.AddObjects(made.id, {object}).status());
  }
  return made;
}

Result<std::string> SightingRecorder::EnsureCollection() {
  KIZUNA_ASSIGN_OR_RETURN(
      store::Collection collection,
      EnsureSightingsCollection(store_, options_.collection_alias, identity_id_, identity_name_));
  return collection.id;
}

Result<std::vector<std::string>> SightingRecorder::Record(
    const std::vector<SightingInput>& sightings, const Observer* observer) {
  const std::string& who = observer ? observer->identity_id : identity_id_;
  const std::string origin = observer ? observer->origin : "";
  std::lock_guard lock(mu_);
  KIZUNA_ASSIGN_OR_RETURN(std::string collection_id, EnsureCollection());
  const int64_t now = clock_.NowMicros();
  std::vector<store::NewObject> objects;
  std::vector<std::string> ids;
  for (const auto& input : sightings) {
    const std::string id = SightingId(input.indicator_id, now, who);
    ids.push_back(id);
    int64_t count = input.count;
    int64_t first_seen = now;
    int64_t created = now;
    int64_t modified = now;
    store::ObjectQuery query;
    query.ids = {id};
    query.limit = 1;
    auto page = store_.QueryObjects(collection_id, query);
    if (page.ok() && !page->objects.empty()) {
      auto previous = stix::ParseJson(page->objects.front().json);
      if (previous.ok() && previous->is_object()) {
        const auto& p = previous->get_object();
        if (auto it = p.find("count"); it != p.end() && it->value().is_int64()) {
          count += it->value().get_int64();
        }
        auto time_of = [&](const char* key, int64_t fallback) {
          auto it = p.find(key);
          if (it == p.end() || !it->value().is_string()) return fallback;
          auto t = ParseTimestamp(it->value().get_string());
          return t.ok() ? *t : fallback;
        };
        first_seen = time_of("first_seen", now);
        created = time_of("created", now);
        // A new version needs a later modified, at STIX's millisecond precision.
        modified = std::max(now, time_of("modified", now) + 1000);
      }
    }
    count = std::min<int64_t>(count, 999999999);
    json::object sighting{{"type", "sighting"},
                          {"spec_version", "2.1"},
                          {"id", id},
                          {"created", Ms(created)},
                          {"modified", Ms(modified)},
                          {"created_by_ref", who},
                          {"sighting_of_ref", input.indicator_id},
                          {"count", count},
                          {"first_seen", Ms(first_seen)},
                          {"last_seen", Ms(std::max(now, first_seen))},
                          {"where_sighted_refs", json::array{json::value(who)}}};
    if (input.tlp != stix::Tlp::kNone) {
      sighting["object_marking_refs"] = json::array{json::value(stix::TlpMarkingId(input.tlp))};
    }
    KIZUNA_ASSIGN_OR_RETURN(stix::ObjectInfo info, stix::ValidateObject(sighting));
    info.tlp = input.tlp;
    objects.push_back({std::move(info), json::serialize(sighting), origin});
  }
  if (!objects.empty()) KIZUNA_RETURN_IF_ERROR(store_.AddObjects(collection_id, objects).status());
  return ids;
}

}  // namespace kizuna::correlation
