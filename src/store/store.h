// The store: everything a node keeps durably. STIX objects per TAXII
// collection (every version, with the server's date_added), TAXII status
// resources, organizations, users, API keys, per-collection grants, and small
// node metadata. Components other than the daemon's wiring see only this
// interface; backends (sqlite/, later postgres/) implement it.
//
// Thread-safety: every method may be called from any thread concurrently.
// Several processes may open the same store (the CLI while `kizuna serve`
// runs); each sees the others' committed changes.
//
// Durability: when AddObjects returns ok, the objects survive a kill -9.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "stix/stix.h"

namespace kizuna::store {

inline constexpr const char* kStixMediaType = "application/stix+json;version=2.1";

struct Collection {
  std::string id;  // a UUID
  std::string title;
  std::string description;
  std::string alias;  // optional, unique when set
  std::vector<std::string> media_types = {kStixMediaType};
};

// One object version to add: its facts (from stix::ValidateObject) and its
// serialized JSON exactly as it will be served.
struct NewObject {
  stix::ObjectInfo info;
  std::string json;
  // Who produced this version, when not the home team: the partner peer
  // that delivered it (federation: the peer's name), or "org:<name>" for a
  // local user of another organization (store::OrgOrigin). Empty: the home
  // team. Kept with the version; a later delivery of the same version does
  // not change it.
  std::string origin;
  // An SCO (neither modified nor created) the collection already holds is
  // normally kAlreadyPresent; with this set it is stored as one more
  // version (its date_added is its version): the writer may see none of the
  // copies already there, and a copy of its own is what it would have got
  // had they not existed.
  bool another_copy = false;
};

// The origin of what a local user of an organization other than the home
// team writes ("org:<name>"; a peer's name never holds ':').
inline std::string OrgOrigin(std::string_view org_name) { return "org:" + std::string(org_name); }

enum class AddOutcome {
  kAdded,           // a new version was stored
  kAlreadyPresent,  // the same (id, version) was already in the collection: not an error
};

struct AddResult {
  std::vector<AddOutcome> outcomes;    // one per input, same order
  std::vector<int64_t> date_added_us;  // the version's date_added (existing one if present)
};

// One stored version of an object.
struct StoredObject {
  std::string id;
  std::string type;
  std::string spec_version;
  // The TAXII version: modified if present, else created, else date_added.
  int64_t version_us = 0;
  int64_t date_added_us = 0;
  stix::Tlp tlp = stix::Tlp::kNone;
  std::string created_by_ref;
  std::string json;    // empty when ObjectQuery::include_json is false
  std::string origin;  // NewObject::origin; read only with include_origin
  // Whether this is the object's oldest / newest version in its collection
  // (filled by QueryObjects).
  bool is_first = false;
  bool is_last = false;
};

// A TAXII 2.1 object query. Within a field values are ORed; fields are ANDed.
// Results are ordered by date_added ascending.
struct ObjectQuery {
  std::vector<std::string> ids;
  std::vector<std::string> types;
  std::vector<std::string> spec_versions;  // empty: any
  // match[version]: "last" (the default when all three are false and
  // versions is empty), "first", "all" and explicit versions (microseconds).
  bool version_first = false;
  bool version_last = false;
  bool version_all = false;
  std::vector<int64_t> versions;
  std::optional<int64_t> added_after_us;
  // Paging cursor: only versions with date_added strictly greater.
  std::optional<int64_t> after_date_added_us;
  // Newest first (ORDER BY date_added descending), and then the paging
  // cursor is this: only versions with date_added strictly smaller. `more`
  // and `limit` work alike both ways.
  bool newest_first = false;
  std::optional<int64_t> before_date_added_us;
  size_t limit = 0;  // 0: unlimited
  bool include_json = true;
  bool include_origin = false;
};

struct ObjectPage {
  std::vector<StoredObject> objects;
  bool more = false;  // further matching versions exist past the last one returned
};

// One change to the store's objects. Changes share one store-wide sequence
// (an added version's date_added, or a deletion's own number from the same
// clock), so a consumer that remembers the last seq it saw — an index, a
// stream, a peer — resumes without missing or repeating anything, also
// across processes.
struct Change {
  enum class Kind { kAdded, kDeleted };
  int64_t seq = 0;
  Kind kind = Kind::kAdded;
  std::string collection_id;
  // kAdded: the stored version (json included). kDeleted: id, type and
  // version_us of the version that went away.
  StoredObject object;
};

struct ChangeQuery {
  int64_t after_seq = 0;
  std::vector<std::string> types;  // empty: every type
  size_t limit = 1000;
  bool include_origin = false;  // fill StoredObject::origin of added versions
};

struct StatusDetail {
  std::string id;
  std::string version;  // timestamp text
  std::string message;  // failures: why
};

// A TAXII 2.1 status resource.
struct StatusRecord {
  std::string id;                   // a UUID
  std::string status = "complete";  // "pending" | "complete"
  int64_t request_timestamp_us = 0;
  int64_t user_id = 0;  // who made the request; only they and admins may read it
  std::vector<StatusDetail> successes;
  std::vector<StatusDetail> failures;
  std::vector<StatusDetail> pendings;
};

struct Organization {
  int64_t id = 0;
  std::string name;
  std::string identity_id;  // the STIX identity object id of the organization
};

enum class Role { kAdmin, kMember };

struct User {
  int64_t id = 0;
  std::string name;
  int64_t org_id = 0;
  std::string org_name;
  Role role = Role::kMember;
  bool disabled = false;
};

struct ApiKey {
  std::string key_id;  // public part, unique
  int64_t user_id = 0;
  std::string secret_hash;  // auth's tagged hash of the secret part (auth/auth.h)
  int64_t created_us = 0;
  bool revoked = false;
  std::string label;
};

// Per-collection rights of a user or of a whole organization (exactly one of
// user_id / org_id is set). Effective rights are the union.
struct Grant {
  std::string collection_id;
  std::optional<int64_t> user_id;
  std::optional<int64_t> org_id;
  bool can_read = false;
  bool can_write = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- collections
  virtual Result<std::vector<Collection>> ListCollections() = 0;
  virtual Result<Collection> GetCollection(const std::string& id_or_alias) = 0;
  virtual Status CreateCollection(const Collection& collection) = 0;
  virtual Status DeleteCollection(const std::string& id) = 0;

  // ---- objects
  // Adds versions in one transaction; date_added values are strictly
  // increasing across the whole store (so within each collection too) and
  // never reused, even across restarts. Idempotent per (collection, id, version).
  // An object with neither modified nor created (an SCO) has one version per
  // collection: adding it again is kAlreadyPresent (unless
  // NewObject::another_copy). The object methods below
  // fail with kNotFound when the collection does not exist.
  virtual Result<AddResult> AddObjects(const std::string& collection_id,
                                       const std::vector<NewObject>& objects) = 0;
  virtual Result<ObjectPage> QueryObjects(const std::string& collection_id,
                                          const ObjectQuery& query) = 0;
  // Deletes the versions of one object selected by query.versions/version_*
  // and spec_versions (ids/types are ignored). As in queries, no version
  // selector means the last version; set version_all to delete every version.
  // Returns how many were deleted (0 when nothing matched).
  virtual Result<int64_t> DeleteObject(const std::string& collection_id, const std::string& id,
                                       const ObjectQuery& query) = 0;
  // Versions of one object in every collection (json and origin included),
  // oldest date_added first, at most `limit`: the first one made
  // the object exist on this node and names its producer.
  virtual Result<std::vector<StoredObject>> ObjectHistory(const std::string& id, size_t limit) = 0;
  // Which of `ids` have any stored version, in any collection: one read for
  // a batch where ObjectHistory would be one per object. (This default asks
  // ObjectHistory; a store may answer at once.)
  virtual Result<std::set<std::string>> HeldIds(const std::vector<std::string>& ids) {
    std::set<std::string> held;
    for (const std::string& id : ids) {
      KIZUNA_ASSIGN_OR_RETURN(std::vector<StoredObject> history, ObjectHistory(id, 1));
      if (!history.empty()) held.insert(id);
    }
    return held;
  }
  // The number of stored versions (rows), all objects and versions included.
  virtual Result<int64_t> CountObjects(const std::string& collection_id) = 0;
  // Changes (added and deleted versions, every collection) after
  // query.after_seq, in sequence order, at most query.limit.
  virtual Result<std::vector<Change>> ListChanges(const ChangeQuery& query) = 0;
  // The sequence number of the newest change (0 for an empty store): where a
  // follower that wants only what comes next starts.
  virtual Result<int64_t> LastChangeSeq() = 0;

  // ---- TAXII status resources
  virtual Status SaveStatus(const StatusRecord& status) = 0;
  virtual Result<StatusRecord> GetStatus(const std::string& id) = 0;

  // ---- identity and access
  virtual Result<Organization> EnsureOrganization(const std::string& name) = 0;
  virtual Result<std::vector<Organization>> ListOrganizations() = 0;
  virtual Result<User> CreateUser(const std::string& name, int64_t org_id, Role role) = 0;
  virtual Result<User> GetUser(int64_t id) = 0;
  virtual Result<User> FindUser(const std::string& org_name, const std::string& name) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;
  virtual Status SetUserDisabled(int64_t id, bool disabled) = 0;
  virtual Status AddApiKey(const ApiKey& key) = 0;
  virtual Result<ApiKey> GetApiKey(const std::string& key_id) = 0;
  virtual Result<std::vector<ApiKey>> ListApiKeys(int64_t user_id) = 0;
  virtual Status RevokeApiKey(const std::string& key_id) = 0;
  // Replaces a key's secret_hash with `new_hash` only if it is still
  // `old_hash` (an upgrade of its hash format; a concurrent change wins).
  // Returns whether it replaced it.
  virtual Result<bool> ReplaceApiKeyHash(const std::string& key_id, const std::string& old_hash,
                                         const std::string& new_hash) = 0;
  // Replaces the grant for (collection, principal); a grant of neither read
  // nor write removes it. kNotFound for an unknown collection or principal.
  virtual Status SetGrant(const Grant& grant) = 0;
  virtual Result<std::vector<Grant>> ListGrants(const std::string& collection_id) = 0;
  // Effective rights of a user (its own grants OR its organization's). Grants
  // only: callers check User::disabled and Role themselves. A collection that
  // does not exist has no grants (no error).
  virtual Result<Grant> RightsOf(const User& user, const std::string& collection_id) = 0;

  // ---- node metadata (small key/value strings)
  virtual Result<std::optional<std::string>> GetMeta(const std::string& key) = 0;
  virtual Status SetMeta(const std::string& key, const std::string& value) = 0;
  // Several at once, in one transaction where the store can (this default
  // sets them one by one).
  virtual Status SetMetas(const std::vector<std::pair<std::string, std::string>>& entries) {
    for (const auto& [key, value] : entries) KIZUNA_RETURN_IF_ERROR(SetMeta(key, value));
    return Status::Ok();
  }
  // Sets `key` to `value` unless it has a value already, atomically (also
  // across processes); returns the value it has afterwards.
  virtual Result<std::string> GetOrSetMeta(const std::string& key, const std::string& value) = 0;
};

}  // namespace kizuna::store
