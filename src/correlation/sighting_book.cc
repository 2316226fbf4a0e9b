#include "correlation/sighting_book.h"

#include <algorithm>
#include <boost/json.hpp>
#include <mutex>

#include "common/time.h"
#include "stix/stix.h"

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

int64_t TimeProperty(const json::object& object, std::string_view key) {
  const std::string text = stix::StringProperty(object, key);
  if (text.empty()) return 0;
  auto parsed = ParseTimestamp(text);
  return parsed.ok() ? *parsed : 0;
}

}  // namespace

bool SightingBook::Parse(const store::StoredObject& object, std::string* indicator, Entry* entry) {
  boost::system::error_code ec;
  json::value parsed = json::parse(object.json, ec);
  if (ec || !parsed.is_object()) return false;
  const json::object& o = parsed.get_object();
  *indicator = stix::StringProperty(o, "sighting_of_ref");
  if (indicator->rfind("indicator--", 0) != 0) return false;
  entry->sighting_id = object.id;
  entry->version_us = object.version_us;
  entry->tlp = object.tlp;
  entry->origin = object.origin;
  entry->observer = stix::StringProperty(o, "created_by_ref");
  if (const json::value* refs = o.if_contains("where_sighted_refs"); refs && refs->is_array()) {
    const json::array& list = refs->get_array();
    if (!list.empty() && list[0].is_string()) entry->observer = std::string(list[0].get_string());
  }
  entry->count = 1;
  if (const json::value* count = o.if_contains("count"); count && count->is_int64()) {
    entry->count = std::max<int64_t>(0, count->get_int64());
  } else if (count && count->is_uint64()) {
    entry->count = static_cast<int64_t>(std::min<uint64_t>(count->get_uint64(), 999999999));
  }
  entry->first_seen_us = TimeProperty(o, "first_seen");
  entry->last_seen_us = TimeProperty(o, "last_seen");
  if (entry->first_seen_us == 0) entry->first_seen_us = object.version_us;
  if (entry->last_seen_us == 0) entry->last_seen_us = entry->first_seen_us;
  return true;
}

void SightingBook::Apply(const std::vector<store::Change>& changes) {
  for (const store::Change& change : changes) {
    const store::StoredObject& object = change.object;
    if (object.type == "identity" && change.kind == store::Change::Kind::kAdded) {
      boost::system::error_code ec;
      json::value parsed = json::parse(object.json, ec);
      if (ec || !parsed.is_object()) continue;
      std::string name = stix::StringProperty(parsed.get_object(), "name");
      if (name.empty()) continue;
      std::unique_lock lock(mu_);
      names_[object.id] = std::move(name);
      continue;
    }
    if (object.type != "sighting") continue;
    if (change.kind == store::Change::Kind::kAdded) {
      Add(change.collection_id, object);
    } else {
      Remove(change.collection_id, object);
    }
  }
}

void SightingBook::Add(const std::string& collection_id, const store::StoredObject& object) {
  std::string indicator;
  Entry entry;
  entry.collection_id = collection_id;
  if (!Parse(object, &indicator, &entry)) return;
  std::unique_lock lock(mu_);
  std::vector<Entry>& entries = by_indicator_[indicator];
  for (Entry& held : entries) {
    if (held.sighting_id != entry.sighting_id || held.collection_id != collection_id) continue;
    if (held.version_us < entry.version_us) held = std::move(entry);
    return;
  }
  indicator_of_[object.id] = indicator;
  entries.push_back(std::move(entry));
}

void SightingBook::Remove(const std::string& collection_id, const store::StoredObject& object) {
  {
    std::unique_lock lock(mu_);
    auto known = indicator_of_.find(object.id);
    if (known == indicator_of_.end()) return;
    std::vector<Entry>& entries = by_indicator_[known->second];
    auto held = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) {
      return e.sighting_id == object.id && e.collection_id == collection_id;
    });
    if (held == entries.end() || held->version_us != object.version_us) return;
    entries.erase(held);
  }
  // The newest version that is left (if any) counts now.
  store::ObjectQuery query;
  query.ids = {object.id};
  query.include_origin = true;
  auto page = store_.QueryObjects(collection_id, query);
  if (!page.ok()) return;
  for (const store::StoredObject& left : page->objects) Add(collection_id, left);
}

std::vector<SightedBy> SightingBook::Of(const std::string& indicator_id,
                                        const SightingFilter& visible) const {
  std::shared_lock lock(mu_);
  auto found = by_indicator_.find(indicator_id);
  if (found == by_indicator_.end()) return {};
  // A sighting held in several collections counts once (its newest version).
  std::map<std::string, const Entry*> newest;
  for (const Entry& entry : found->second) {
    if (visible) {
      store::StoredObject seen;
      seen.id = entry.sighting_id;
      seen.type = "sighting";
      seen.version_us = entry.version_us;
      seen.tlp = entry.tlp;
      seen.origin = entry.origin;
      if (!visible(entry.collection_id, seen)) continue;
    }
    const Entry*& best = newest[entry.sighting_id];
    if (best == nullptr || best->version_us < entry.version_us) best = &entry;
  }
  std::map<std::string, SightedBy> by_observer;
  for (const auto& [id, entry] : newest) {
    SightedBy& by = by_observer[entry->observer];
    if (by.sightings == 0) {
      by.observer = entry->observer;
      auto name = names_.find(entry->observer);
      if (name != names_.end()) by.name = name->second;
      by.first_seen_us = entry->first_seen_us;
      by.last_seen_us = entry->last_seen_us;
    }
    if (std::find(by.via.begin(), by.via.end(), entry->origin) == by.via.end()) {
      by.via.push_back(entry->origin);
    }
    by.count += entry->count;
    by.first_seen_us = std::min(by.first_seen_us, entry->first_seen_us);
    by.last_seen_us = std::max(by.last_seen_us, entry->last_seen_us);
    ++by.sightings;
  }
  std::vector<SightedBy> out;
  out.reserve(by_observer.size());
  for (auto& [observer, by] : by_observer) out.push_back(std::move(by));
  return out;
}

void SightingBook::SaveTo(internal::SnapshotWriter& out) const {
  std::shared_lock lock(mu_);
  out.U64(by_indicator_.size());
  for (const auto& [indicator, entries] : by_indicator_) {
    out.String(indicator);
    out.U64(entries.size());
    for (const Entry& e : entries) {
      out.String(e.sighting_id);
      out.String(e.collection_id);
      out.I64(e.version_us);
      out.U8(static_cast<uint8_t>(e.tlp));
      out.String(e.origin);
      out.String(e.observer);
      out.I64(e.count);
      out.I64(e.first_seen_us);
      out.I64(e.last_seen_us);
    }
  }
  out.U64(names_.size());
  for (const auto& [identity, name] : names_) {
    out.String(identity);
    out.String(name);
  }
}

void SightingBook::Clear() {
  std::unique_lock lock(mu_);
  by_indicator_.clear();
  indicator_of_.clear();
  names_.clear();
}

bool SightingBook::LoadFrom(internal::SnapshotReader& in) {
  // Each string costs at least its 8-byte length, each entry more than 48.
  std::unordered_map<std::string, std::vector<Entry>> by_indicator;
  std::unordered_map<std::string, std::string> indicator_of;
  std::unordered_map<std::string, std::string> names;
  uint64_t indicators, count;
  if (!in.Count(&indicators, 16)) return false;
  for (uint64_t i = 0; i < indicators; ++i) {
    std::string indicator;
    if (!in.String(&indicator) || !in.Count(&count, 48)) return false;
    std::vector<Entry>& entries = by_indicator[indicator];
    entries.resize(count);
    for (Entry& e : entries) {
      uint8_t tlp;
      if (!in.String(&e.sighting_id) || !in.String(&e.collection_id) || !in.I64(&e.version_us) ||
          !in.U8(&tlp) || tlp > static_cast<uint8_t>(stix::Tlp::kRed) || !in.String(&e.origin) ||
          !in.String(&e.observer) || !in.I64(&e.count) || !in.I64(&e.first_seen_us) ||
          !in.I64(&e.last_seen_us)) {
        return false;
      }
      e.tlp = static_cast<stix::Tlp>(tlp);
      indicator_of[e.sighting_id] = indicator;
    }
  }
  if (!in.Count(&count, 16)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    std::string identity, name;
    if (!in.String(&identity) || !in.String(&name)) return false;
    names[std::move(identity)] = std::move(name);
  }
  std::unique_lock lock(mu_);
  by_indicator_.swap(by_indicator);
  indicator_of_.swap(indicator_of);
  names_.swap(names);
  return true;
}

}  // namespace kizuna::correlation
