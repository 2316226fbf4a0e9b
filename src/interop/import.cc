#include "interop/import.h"

#include <map>

#include "common/time.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;

constexpr size_t kBatch = 1000;

class Importer {
 public:
  Importer(const ImportTarget& target, const ListOptions& options)
      : target_(target), options_(options) {}

  Status Add(json::object&& object) {
    batch_.push_back(std::move(object));
    if (batch_.size() >= kBatch) return Flush();
    return Status::Ok();
  }

  Status Flush() {
    if (batch_.empty()) return Status::Ok();
    KIZUNA_RETURN_IF_ERROR(DropFresh());
    if (!batch_.empty()) {
      KIZUNA_ASSIGN_OR_RETURN(store::StatusRecord status,
                              taxii::IngestObjects(*target_.store, target_.collection_id, batch_,
                                                   target_.user_id, target_.ingest));
      // Counted in indicators, as the list's summary is (not the producer's identity).
      for (const auto& s : status.successes) {
        if (s.id.starts_with("indicator--"))
          (s.message.empty() ? summary_.added : summary_.present)++;
      }
      for (const auto& f : status.failures) {
        ++summary_.refused;
        if (summary_.refusals.size() < kMaxListErrors) {
          summary_.refusals.push_back((f.id.empty() ? "(no id)" : f.id) + ": " + f.message);
        }
      }
      if (target_.after_batch) target_.after_batch();
    }
    batch_.clear();
    return Status::Ok();
  }

  ImportSummary& summary() { return summary_; }

 private:
  // Leaves out the indicators the collection holds with more than half
  // their lifetime left: re-importing a list changes nothing until then.
  Status DropFresh() {
    if (options_.lifetime_days <= 0) return Status::Ok();
    store::ObjectQuery query;
    query.version_last = true;
    query.include_origin = true;
    for (const json::value& v : batch_) {
      const json::object& o = v.as_object();
      if (o.at("type") == "indicator") query.ids.emplace_back(o.at("id").as_string());
    }
    if (query.ids.empty()) return Status::Ok();
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage held,
                            target_.store->QueryObjects(target_.collection_id, query));
    const int64_t fresh_until = options_.now_us + options_.lifetime_days * 86400LL * 1000000 / 2;
    std::map<std::string, const json::object*> incoming;
    for (const json::value& v : batch_)
      incoming[std::string(v.as_object().at("id").as_string())] = &v.as_object();
    std::map<std::string, bool> fresh;
    for (const store::StoredObject& object : held.objects) {
      // Only the home team's own version counts, and only one that says
      // what this import says (producer, TLP, confidence): anyone else's
      // copy of the id, or a change of marking, is stored.
      if (!object.origin.empty()) continue;
      boost::system::error_code ec;
      json::value parsed = json::parse(object.json, ec);
      if (ec || !parsed.is_object()) continue;
      const json::object& o = parsed.as_object();
      auto in = incoming.find(object.id);
      if (in == incoming.end()) continue;
      bool same = true;
      for (std::string_view key :
           {"created_by_ref", "object_marking_refs", "confidence", "pattern"}) {
        const json::value* a = o.if_contains(key);
        const json::value* b = in->second->if_contains(key);
        if ((a == nullptr) != (b == nullptr) || (a != nullptr && *a != *b)) same = false;
      }
      if (!same) continue;
      if (o.contains("revoked") && o.at("revoked") == true) continue;
      const json::value* until = o.if_contains("valid_until");
      if (until == nullptr || !until->is_string()) {
        fresh[object.id] = true;
        continue;
      }
      auto t = ParseTimestamp(until->as_string());
      fresh[object.id] = t.ok() && *t > fresh_until;
    }
    json::array kept;
    for (json::value& v : batch_) {
      const json::object& o = v.as_object();
      auto at = fresh.find(std::string(o.at("id").as_string()));
      if (at != fresh.end() && at->second) {
        ++summary_.present;
        continue;
      }
      kept.push_back(std::move(v));
    }
    batch_ = std::move(kept);
    return Status::Ok();
  }

  const ImportTarget& target_;
  const ListOptions& options_;
  json::array batch_;
  ImportSummary summary_;
};

}  // namespace

Result<ImportSummary> ImportIndicatorList(const ImportTarget& target, std::istream& input,
                                          const ListOptions& options) {
  if (target.store == nullptr) return InvalidArgument("no store");
  Importer importer(target, options);
  int64_t objects = 0;
  auto summary = ReadIndicatorList(input, options, [&](json::object&& object) -> Status {
    KIZUNA_RETURN_IF_ERROR(importer.Add(std::move(object)));
    if (target.progress && ++objects % kBatch == 0) target.progress(objects);
    return Status::Ok();
  });
  if (!summary.ok()) return summary.status();
  KIZUNA_RETURN_IF_ERROR(importer.Flush());
  importer.summary().list = std::move(*summary);
  return std::move(importer.summary());
}

}  // namespace kizuna::interop
