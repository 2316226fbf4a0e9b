#include "taxii/ingest.h"

#include <boost/json.hpp>

#include "common/time.h"
#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::taxii {

Result<store::StatusRecord> IngestObjects(store::Store& store, const std::string& collection_id,
                                          const boost::json::array& objects, int64_t user_id,
                                          const IngestOptions& options) {
  store::StatusRecord status;
  status.id = NewUuid4();
  status.request_timestamp_us = SystemClock::Instance().NowMicros();
  status.user_id = user_id;
  status.status = "complete";

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
    store::NewObject entry{std::move(info).value(), boost::json::serialize(*object),
                           options.origin};
    // An unmarked object is stored unmarked: sharing.default_tlp applies
    // when it is read or sent, so tightening the default protects it too.
    valid.push_back(std::move(entry));
  }
  if (!valid.empty()) {
    KIZUNA_ASSIGN_OR_RETURN(store::AddResult added, store.AddObjects(collection_id, valid));
    for (size_t i = 0; i < valid.size(); ++i) {
      const stix::ObjectInfo& info = valid[i].info;
      std::string version = !info.modified.empty() ? info.modified : info.created;
      if (version.empty()) version = FormatTimestamp(added.date_added_us[i], 6);
      status.successes.push_back(
          {info.id, version,
           added.outcomes[i] == store::AddOutcome::kAlreadyPresent ? "already present" : ""});
    }
  }
  return status;
}

}  // namespace kizuna::taxii
