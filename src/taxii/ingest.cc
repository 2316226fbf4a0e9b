#include "taxii/ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <set>

#include "common/time.h"
#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::taxii {
namespace {

// Whether the writer may see the stored version of `info` (a versioned
// object the collection already holds in this version).
bool VisibleInCollection(store::Store& store, const std::string& collection_id,
                         const stix::ObjectInfo& info, const Visibility& visible) {
  store::ObjectQuery query;
  query.ids = {info.id};
  query.versions = {info.modified_us != 0 ? info.modified_us : info.created_us};
  query.include_origin = true;
  auto page = store.QueryObjects(collection_id, query);
  if (!page.ok()) return false;
  return std::any_of(page->objects.begin(), page->objects.end(), visible);
}

// The copies of an SCO (no version of its own: its id is derived from its
// content) that a collection holds, as one writer sees them.
struct ScoCopies {
  bool any = false;
  std::optional<int64_t> visible_date_added;  // of the newest copy the writer may see
};

Result<ScoCopies> CopiesOf(store::Store& store, const std::string& collection_id,
                           const std::string& id, const Visibility& visible) {
  store::ObjectQuery query;
  query.ids = {id};
  query.version_all = true;
  query.include_origin = true;
  KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(collection_id, query));
  ScoCopies copies;
  copies.any = !page.objects.empty();
  for (const store::StoredObject& copy : page.objects) {
    if (visible(copy)) copies.visible_date_added = copy.date_added_us;
  }
  return copies;
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
  // Per valid SCO: the date_added of the newest copy the writer may see.
  std::vector<std::optional<int64_t>> visible_copies;
  stix::ValidationOptions validation;
  validation.max_depth = options.max_json_depth;
  validation.stix_pattern_checker = options.pattern_checker;
  // Most of a large import is new: one read finds what the store holds, so
  // the producer checks ask the store only about those.
  std::vector<std::string> ids;
  ids.reserve(objects.size());
  for (const boost::json::value& object : objects) {
    if (const boost::json::object* o = object.if_object()) {
      std::string id(stix::StringProperty(*o, "id"));
      if (!id.empty()) ids.push_back(std::move(id));
    }
  }
  KIZUNA_ASSIGN_OR_RETURN(const std::set<std::string> held, store.HeldIds(ids));
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
                            CheckNewVersion(store, writer, collection_id, *info, options.visible,
                                            held.contains(info->id)));
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
    store::NewObject& added = valid.emplace_back(
        store::NewObject{std::move(info).value(), std::move(text), writer.origin});
    std::optional<int64_t> visible_copy;
    if (options.visible && version.empty()) {
      // Copies the writer may not see do not exist for it: it gets a copy
      // of its own, as it would have without them.
      KIZUNA_ASSIGN_OR_RETURN(ScoCopies copies,
                              CopiesOf(store, collection_id, added.info.id, options.visible));
      added.another_copy = copies.any && !copies.visible_date_added;
      visible_copy = copies.visible_date_added;
    }
    visible_copies.push_back(visible_copy);
  }
  if (!valid.empty()) {
    KIZUNA_ASSIGN_OR_RETURN(store::AddResult added, store.AddObjects(collection_id, valid));
    for (size_t i = 0; i < valid.size(); ++i) {
      const stix::ObjectInfo& info = valid[i].info;
      std::string version = !info.modified.empty() ? info.modified : info.created;
      bool present = added.outcomes[i] == store::AddOutcome::kAlreadyPresent;
      int64_t date_added = added.date_added_us[i];
      if (present && version.empty() && visible_copies[i]) {
        date_added = *visible_copies[i];
      } else if (present && !version.empty() && options.visible &&
                 !VisibleInCollection(store, collection_id, info, options.visible)) {
        // A version already stored that the writer may not see is answered
        // as if this request added it.
        present = false;
      }
      status.successes.push_back({info.id,
                                  version.empty() ? FormatTimestamp(date_added, 6) : version,
                                  present ? "already present" : ""});
    }
  }
  return status;
}

}  // namespace kizuna::taxii
