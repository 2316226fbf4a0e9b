// What the web console shows of the store's objects: a search across every
// collection a user may read, an object's page (its versions, where it is,
// what it is linked to) and the dashboard's counts. Each collection is read
// only if services.may_read allows it, and each version only if
// services.read_scope admits it: the same decisions as TAXII, so the console
// never shows a user an object, a version or a link that TAXII would not
// give it, and an object it may not see looks like one that does not exist.
//
// Every read is bounded (kMaxScannedVersions per request): a search of a very
// large store answers from the newest versions and says it stopped early.
// Thread-safety: stateless functions over thread-safe services.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "platform/services.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::console {

inline constexpr size_t kMaxScannedVersions = 50'000;

struct ObjectFilter {
  std::vector<std::string> types;
  std::optional<stix::Tlp> tlp;
  // Who produced it: "home" (this team), a partner peer's name, or
  // "org:NAME" (a local user of another organization).
  std::string producer;
  std::string collection;  // id or alias; empty: every readable collection
  std::optional<int64_t> added_after_us;
  std::optional<int64_t> added_before_us;
  std::string text;  // case-insensitive, anywhere in the object's JSON
  size_t limit = 50;
};

// One object as a list shows it: its newest version the user may see.
struct FoundObject {
  store::StoredObject version;  // with json and origin
  std::string collection_id;
  std::string collection_title;
};

struct SearchResult {
  std::vector<FoundObject> objects;  // newest first (date_added)
  // Stored versions read, visible or not: for the node's own use, never
  // shown (it would count what the user may not see).
  size_t scanned = 0;
  bool complete = true;  // false: stopped at the scan limit
};

// The producer label of a version's origin ("" is the home team).
std::string ProducerOf(const store::StoredObject& version);

// Parses GET /api/v1/console/objects' query; InvalidArgument names the bad one.
Result<ObjectFilter> FilterFromQuery(const std::vector<std::pair<std::string, std::string>>& query);

Result<SearchResult> SearchObjects(const platform::NodeServices& services, const store::User& user,
                                   const ObjectFilter& filter);

// An object's page: every version the user may see, in each collection, and
// its links (relationships and sightings that name it, the refs it makes).
struct ObjectLinks {
  struct Node {
    std::string id;
    std::string type;
    std::string name;  // "" when the user may not see it (only its id is known)
  };
  struct Edge {
    std::string source;
    std::string target;
    std::string label;  // relationship_type, "sighting-of", or the ref's property
    std::string via;    // the relationship or sighting object's id; "" for a ref
  };
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

struct ObjectPage {
  std::vector<FoundObject> versions;  // oldest first
  ObjectLinks links;
};

// NotFound when the user may see no version of `id`.
Result<ObjectPage> ObjectDetail(const platform::NodeServices& services, const store::User& user,
                                const std::string& id);

// The dashboard's counts: objects added in the last `days`, by producer and by TLP.
struct RecentCounts {
  int64_t since_us = 0;
  std::vector<std::pair<std::string, int64_t>> by_producer;
  std::vector<std::pair<std::string, int64_t>> by_tlp;
  std::vector<std::pair<std::string, int64_t>> by_type;
  int64_t total = 0;
  bool complete = true;
};
Result<RecentCounts> CountRecent(const platform::NodeServices& services, const store::User& user,
                                 int64_t now_us, int days);

}  // namespace kizuna::console
