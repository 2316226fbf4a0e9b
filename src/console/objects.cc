#include "console/objects.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <unordered_set>

#include "common/encoding.h"
#include "common/time.h"
#include "taxii/taxii.h"

namespace kizuna::console {

namespace json = boost::json;

namespace {

constexpr size_t kPage = 1000;

struct Readable {
  store::Collection collection;
  taxii::ReadScope scope;
};

// The collections `user` may read (one of them when `only` names it).
Result<std::vector<Readable>> ReadableCollections(const platform::NodeServices& services,
                                                  const store::User& user,
                                                  const std::string& only = "") {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Collection> collections,
                          services.store->ListCollections());
  std::vector<Readable> readable;
  for (store::Collection& collection : collections) {
    if (!only.empty() && collection.id != only && collection.alias != only) continue;
    KIZUNA_ASSIGN_OR_RETURN(bool may_read, services.may_read(user, collection));
    if (!may_read) continue;
    taxii::ReadScope scope = services.read_scope(user, collection);
    readable.push_back({std::move(collection), std::move(scope)});
  }
  return readable;
}

// Calls `visit` with the newest version of each object `scope` admits in a
// collection, newest first, until it returns false or `*budget` versions
// were read (then *complete is cleared).
Status ForEachNewestVisible(const platform::NodeServices& services, const Readable& readable,
                            store::ObjectQuery query, size_t* budget, bool* complete,
                            const std::function<bool(FoundObject&&)>& visit) {
  query.newest_first = true;
  query.version_all = true;
  query.include_json = true;
  query.include_origin = true;
  std::unordered_set<std::string> seen;
  while (true) {
    if (*budget == 0) {
      *complete = false;
      return Status::Ok();
    }
    query.limit = std::min(kPage, *budget);
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page,
                            services.store->QueryObjects(readable.collection.id, query));
    *budget -= page.objects.size();
    for (store::StoredObject& version : page.objects) {
      // Versions the reader may not see are skipped as if absent: its newest
      // visible version stands for the object.
      if (readable.scope.admits && !readable.scope.admits(version)) continue;
      if (!seen.insert(version.id).second) continue;
      if (!visit(
              FoundObject{std::move(version), readable.collection.id, readable.collection.title})) {
        return Status::Ok();
      }
    }
    if (!page.more) return Status::Ok();
    query.before_date_added_us = page.objects.back().date_added_us;
  }
}

Result<int64_t> TimeParam(std::string_view key, const std::string& value) {
  auto micros = ParseTimestamp(value);
  if (!micros.ok()) {
    return InvalidArgument(std::string(key) + ": an RFC 3339 time such as 2026-11-30T00:00:00Z");
  }
  return *micros;
}

std::string NameOf(const json::object& object) {
  for (std::string_view key : {"name", "value", "pattern", "relationship_type"}) {
    if (const json::value* v = object.if_contains(key); v && v->is_string()) {
      return std::string(v->get_string());
    }
  }
  return "";
}

}  // namespace

std::string ProducerOf(const store::StoredObject& version) {
  return version.origin.empty() ? "home" : version.origin;
}

Result<ObjectFilter> FilterFromQuery(
    const std::vector<std::pair<std::string, std::string>>& query) {
  ObjectFilter filter;
  for (const auto& [key, value] : query) {
    if (value.empty()) continue;
    if (key == "type") {
      filter.types.push_back(value);
    } else if (key == "tlp") {
      auto tlp = stix::ParseTlp(value);
      if (!tlp.ok()) return InvalidArgument("tlp: clear, green, amber, amber+strict or red");
      filter.tlp = *tlp;
    } else if (key == "producer") {
      filter.producer = value;
    } else if (key == "collection") {
      filter.collection = value;
    } else if (key == "added_after") {
      KIZUNA_ASSIGN_OR_RETURN(int64_t us, TimeParam(key, value));
      filter.added_after_us = us;
    } else if (key == "added_before") {
      KIZUNA_ASSIGN_OR_RETURN(int64_t us, TimeParam(key, value));
      filter.added_before_us = us;
    } else if (key == "q") {
      filter.text = AsciiLower(value);
    } else if (key == "limit") {
      size_t limit = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || limit > 100000) return InvalidArgument("limit: 1 to 500");
        limit = limit * 10 + static_cast<size_t>(c - '0');
      }
      if (limit == 0 || limit > 500) return InvalidArgument("limit: 1 to 500");
      filter.limit = limit;
    } else {
      return InvalidArgument("unknown parameter '" + key +
                             "' (type, tlp, producer, collection, added_after, added_before, q, "
                             "limit)");
    }
  }
  return filter;
}

Result<SearchResult> SearchObjects(const platform::NodeServices& services, const store::User& user,
                                   const ObjectFilter& filter) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Readable> readable,
                          ReadableCollections(services, user, filter.collection));
  store::ObjectQuery query;
  query.types = filter.types;
  query.added_after_us = filter.added_after_us;
  query.before_date_added_us = filter.added_before_us;
  SearchResult result;
  size_t budget = kMaxScannedVersions;
  for (const Readable& collection : readable) {
    size_t found = 0;
    const size_t before = budget;
    KIZUNA_RETURN_IF_ERROR(ForEachNewestVisible(
        services, collection, query, &budget, &result.complete, [&](FoundObject&& object) {
          const store::StoredObject& v = object.version;
          if (filter.tlp && v.tlp != *filter.tlp) return true;
          if (!filter.producer.empty() && ProducerOf(v) != filter.producer) return true;
          if (!filter.text.empty() && AsciiLower(v.json).find(filter.text) == std::string::npos) {
            return true;
          }
          result.objects.push_back(std::move(object));
          return ++found < filter.limit;
        }));
    result.scanned += before - budget;
  }
  std::stable_sort(result.objects.begin(), result.objects.end(),
                   [](const FoundObject& a, const FoundObject& b) {
                     return a.version.date_added_us > b.version.date_added_us;
                   });
  if (result.objects.size() > filter.limit) result.objects.resize(filter.limit);
  return result;
}

Result<ObjectPage> ObjectDetail(const platform::NodeServices& services, const store::User& user,
                                const std::string& id) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Readable> readable, ReadableCollections(services, user));
  ObjectPage page;
  for (const Readable& collection : readable) {
    store::ObjectQuery query;
    query.ids = {id};
    query.version_all = true;
    query.include_origin = true;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage versions,
                            services.store->QueryObjects(collection.collection.id, query));
    for (store::StoredObject& version : versions.objects) {
      if (collection.scope.admits && !collection.scope.admits(version)) continue;
      page.versions.push_back(
          {std::move(version), collection.collection.id, collection.collection.title});
    }
  }
  if (page.versions.empty()) return NotFound("no object " + id);
  std::stable_sort(page.versions.begin(), page.versions.end(),
                   [](const FoundObject& a, const FoundObject& b) {
                     return a.version.date_added_us < b.version.date_added_us;
                   });

  // Links: what the newest version refers to, and the relationships and
  // sightings (that the user may see) that name the object.
  ObjectLinks& links = page.links;
  std::map<std::string, ObjectLinks::Node> nodes;
  auto node_of = [&](const std::string& ref) -> ObjectLinks::Node& {
    ObjectLinks::Node& node = nodes[ref];
    node.id = ref;
    node.type = ref.substr(0, ref.find("--"));
    return node;
  };
  boost::system::error_code ec;
  json::value newest = json::parse(page.versions.back().version.json, ec);
  if (!ec && newest.is_object()) {
    node_of(id).name = NameOf(newest.get_object());
    for (const auto& [key, value] : newest.get_object()) {
      const std::string_view k = key;
      if (k == "id" || k == "object_marking_refs") continue;
      if (k.ends_with("_ref") && value.is_string()) {
        std::string ref(value.get_string());
        node_of(ref);
        links.edges.push_back({id, ref, std::string(k), ""});
      } else if (k.ends_with("_refs") && value.is_array()) {
        for (const json::value& item : value.get_array()) {
          if (!item.is_string()) continue;
          std::string ref(item.get_string());
          node_of(ref);
          links.edges.push_back({id, ref, std::string(k), ""});
        }
      }
    }
  }
  store::ObjectQuery query;
  query.types = {"relationship", "sighting"};
  size_t budget = kMaxScannedVersions;
  bool complete = true;
  for (const Readable& collection : readable) {
    KIZUNA_RETURN_IF_ERROR(ForEachNewestVisible(
        services, collection, query, &budget, &complete, [&](FoundObject&& found) {
          json::value link = json::parse(found.version.json, ec);
          if (ec || !link.is_object()) return true;
          const json::object& o = link.get_object();
          auto text = [&](std::string_view key) {
            const json::value* v = o.if_contains(key);
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
          };
          if (found.version.type == "relationship") {
            const std::string source = text("source_ref"), target = text("target_ref");
            if (source != id && target != id) return true;
            node_of(source);
            node_of(target);
            links.edges.push_back({source, target, text("relationship_type"), found.version.id});
          } else if (text("sighting_of_ref") == id) {
            node_of(found.version.id).name = "sighting";
            links.edges.push_back({found.version.id, id, "sighting-of", found.version.id});
          }
          return true;
        }));
  }
  // A linked object's name only when the user may see it.
  for (const Readable& collection : readable) {
    std::vector<std::string> unnamed;
    for (const auto& [ref, node] : nodes) {
      if (node.name.empty() && ref != id) unnamed.push_back(ref);
    }
    for (size_t i = 0; i < unnamed.size(); i += 100) {
      store::ObjectQuery named;
      // With the origin: the sharing decision reads it (a partner's object
      // is not another's to see).
      named.include_origin = true;
      named.ids.assign(
          unnamed.begin() + static_cast<std::ptrdiff_t>(i),
          unnamed.begin() + static_cast<std::ptrdiff_t>(std::min(i + 100, unnamed.size())));
      KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage versions,
                              services.store->QueryObjects(collection.collection.id, named));
      for (const store::StoredObject& version : versions.objects) {
        if (collection.scope.admits && !collection.scope.admits(version)) continue;
        json::value object = json::parse(version.json, ec);
        if (ec || !object.is_object()) continue;
        std::string name = NameOf(object.get_object());
        nodes[version.id].name = name.empty() ? version.type : name;
      }
    }
  }
  for (auto& [ref, node] : nodes) links.nodes.push_back(std::move(node));
  return page;
}

Result<RecentCounts> CountRecent(const platform::NodeServices& services, const store::User& user,
                                 int64_t now_us, int days) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Readable> readable, ReadableCollections(services, user));
  RecentCounts counts;
  counts.since_us = now_us - int64_t{days} * 86'400'000'000;
  std::map<std::string, int64_t> by_producer, by_tlp, by_type;
  store::ObjectQuery query;
  query.added_after_us = counts.since_us;
  size_t budget = kMaxScannedVersions;
  for (const Readable& collection : readable) {
    KIZUNA_RETURN_IF_ERROR(ForEachNewestVisible(
        services, collection, query, &budget, &counts.complete, [&](FoundObject&& found) {
          ++by_producer[ProducerOf(found.version)];
          ++by_tlp[found.version.tlp == stix::Tlp::kNone
                       ? "none"
                       : std::string(stix::TlpName(found.version.tlp))];
          ++by_type[found.version.type];
          ++counts.total;
          return true;
        }));
  }
  auto sorted = [](const std::map<std::string, int64_t>& map) {
    std::vector<std::pair<std::string, int64_t>> list(map.begin(), map.end());
    std::stable_sort(list.begin(), list.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    return list;
  };
  counts.by_producer = sorted(by_producer);
  counts.by_tlp = sorted(by_tlp);
  counts.by_type = sorted(by_type);
  return counts;
}

}  // namespace kizuna::console
