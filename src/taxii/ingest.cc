#include "taxii/ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "common/time.h"
#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::taxii {
namespace {

// Whether the writer may see the stored version of `info` (an SCO: its one
// version in the collection).
bool VisibleInCollection(store::Store& store, const std::string& collection_id,
                         const stix::ObjectInfo& info, const Visibility& visible) {
  store::ObjectQuery query;
  query.ids = {info.id};
  const int64_t version = info.modified_us != 0 ? info.modified_us : info.created_us;
  if (version != 0) {
    query.versions = {version};
  } else {
    query.version_all = true;
  }
  query.include_origin = true;
  auto page = store.QueryObjects(collection_id, query);
  if (!page.ok()) return false;
  return std::any_of(page->objects.begin(), page->objects.end(), visible);
}

}  // namespace

Result<store::StatusRecord> IngestObjects(store::Store& store, const std::string& collection_id,
                                          const boost::json::array& objects, int64_t user_id,
                                          const IngestOptions& options) {
  store::StatusRecord status;
  status.id = NewUuid4();
  status.request_timestamp_us = SystemClock::Instance().NowMicros();
  status.user_id = user_id;
  status.status = "complete";

  const Writer& writer = options.writer;
  std::vector<store::NewObject> valid;
  valid.reserve(objects.size());
  stix::ValidationOptions validation;
  validation.max_depth = options.max_json_depth;
  validation.stix_pattern_checker = options.pattern_checker;
  for (size_t i = 0; i < objects.size(); ++i) {
    const boost::json::object* object = objects[i].if_object();
    if (!object) {
      status.failures.push_back(
          {"", "", "objects[" + std::to_string(i) + "] is not a JSON object"});
      continue;
    }
    auto info = stix::ValidateObject(*object, validation);
    if (!info.ok()) {
      std::string version = stix::StringProperty(*object, "modified");
      if (version.empty()) version = stix::StringProperty(*object, "created");
      status.failures.push_back(
          {stix::StringProperty(*object, "id"), version, info.status().message()});
      continue;
    }
    if (writer.kind != Writer::Kind::kHome && info->type == "sighting") {
      // Nobody outside reports what the home team (or another of the
      // node's organizations) saw.
      std::string claimed;
      if (const auto* refs = object->if_contains("where_sighted_refs"); refs && refs->is_array()) {
        for (const auto& ref : refs->get_array()) {
          if (!ref.is_string()) continue;
          const std::string who(ref.get_string());
          if (writer.home_identities.count(who) &&
              (writer.kind == Writer::Kind::kPeer || who != writer.identity)) {
            claimed = who;
          }
        }
      }
      if (!claimed.empty()) {
        // (A sighting the node already holds comes back under the producer
        // rules below: the node's own, echoed by a partner, is no claim.)
        KIZUNA_ASSIGN_OR_RETURN(std::vector<store::StoredObject> known,
                                store.ObjectHistory(info->id, 1));
        if (!known.empty()) claimed.clear();
      }
      if (!claimed.empty()) {
        status.failures.push_back({info->id, info->modified,
                                   "where_sighted_refs names " + claimed +
                                       ", an identity of the receiving node; report your own"});
        continue;
      }
    }
    std::string text;
    if (writer.kind == Writer::Kind::kOrganization && info->created_by_ref.empty() &&
        !info->created.empty()) {
      // What an outside organization writes stays its own, also for the
      // partners that receive it later.
      boost::json::object owned = *object;
      owned["created_by_ref"] = writer.identity;
      info->created_by_ref = writer.identity;
      text = boost::json::serialize(owned);
    } else {
      text = boost::json::serialize(*object);
    }
    const std::string version = !info->modified.empty() ? info->modified : info->created;
    KIZUNA_ASSIGN_OR_RETURN(ProducerVerdict verdict,
                            CheckNewVersion(store, writer, collection_id, *info, options.visible));
    if (verdict.kind == ProducerVerdict::Kind::kRefuse) {
      status.failures.push_back({info->id, version, verdict.why});
      continue;
    }
    if (verdict.kind == ProducerVerdict::Kind::kHidden) {
      // As if it had been stored: the writer learns nothing of an object it
      // may not see.
      spdlog::warn("{} wrote a version of {}, which it may not see: not stored ({})", writer.name,
                   info->id, verdict.why);
      status.successes.push_back(
          {info->id,
           version.empty() ? FormatTimestamp(SystemClock::Instance().NowMicros(), 6) : version,
           ""});
      continue;
    }
    if (!verdict.admin_override.empty()) {
      spdlog::warn("admin {} adds a version of {}, {}", writer.name, info->id,
                   verdict.admin_override);
    }
    // An unmarked object is stored unmarked: sharing.default_tlp applies
    // when it is read or sent, so tightening the default protects it too.
    valid.push_back({std::move(info).value(), std::move(text), writer.origin});
  }
  if (!valid.empty()) {
    KIZUNA_ASSIGN_OR_RETURN(store::AddResult added, store.AddObjects(collection_id, valid));
    for (size_t i = 0; i < valid.size(); ++i) {
      const stix::ObjectInfo& info = valid[i].info;
      std::string version = !info.modified.empty() ? info.modified : info.created;
      bool present = added.outcomes[i] == store::AddOutcome::kAlreadyPresent;
      // A version already stored that the writer may not see is answered as
      // if this request added it.
      const bool hidden = present && options.visible &&
                          !VisibleInCollection(store, collection_id, info, options.visible);
      if (hidden) present = false;
      if (version.empty()) {
        version = FormatTimestamp(hidden ? status.request_timestamp_us : added.date_added_us[i], 6);
      }
      status.successes.push_back({info.id, version, present ? "already present" : ""});
    }
  }
  return status;
}

}  // namespace kizuna::taxii
