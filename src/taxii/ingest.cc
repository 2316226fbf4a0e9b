#include "taxii/ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "common/time.h"
#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::taxii {
namespace {

bool VisibleInCollection(store::Store& store, const std::string& collection_id,
                         const std::string& id, const Visibility& visible) {
  store::ObjectQuery query;
  query.ids = {id};
  query.version_all = true;
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
                            CheckNewVersion(store, writer, *info, options.visible));
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
      if (version.empty()) {
        // An SCO: its one version in the collection is the stored one. One
        // the writer may not see is answered as if this request added it.
        if (present && options.visible &&
            !VisibleInCollection(store, collection_id, info.id, options.visible)) {
          present = false;
          version = FormatTimestamp(status.request_timestamp_us, 6);
        } else {
          version = FormatTimestamp(added.date_added_us[i], 6);
        }
      }
      status.successes.push_back({info.id, version, present ? "already present" : ""});
    }
  }
  return status;
}

}  // namespace kizuna::taxii
