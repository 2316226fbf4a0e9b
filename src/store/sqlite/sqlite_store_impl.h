// SqliteStore, internal to store/sqlite/: the Store on one SQLite file
// (sqlite_store.h is the public face: OpenSqliteStore). Split by job:
// sqlite_store.cc (collections, objects, the change feed, the factory) and
// sqlite_accounts.cc (status resources, organizations, users, API keys,
// grants, node metadata). Thread-safety: as store::Store; reads borrow a
// pooled connection, writes take write_mutex_ and a BEGIN IMMEDIATE
// transaction (Read / Write below).
#pragma once

#include <algorithm>
#include <climits>
#include <exception>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::store {
namespace sqlite_internal {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// Hands out connections, one thread at a time each. Idle connections are kept
// for reuse up to a limit; under more concurrency extra ones are opened.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, SqliteOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}

  // A borrowed connection; goes back to the pool when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (connection_ != nullptr) pool_->Return(std::move(connection_));
    }
    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  Result<Lease> Borrow() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(connection));
      }
    }
    KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                            Connection::Open(path_, options_.synchronous, options_.busy_timeout_ms,
                                             options_.cache_kib_per_connection));
    return Lease(this, std::move(connection));
  }

 private:
  void Return(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    if (static_cast<int>(idle_.size()) < std::max(1, options_.max_idle_connections)) {
      idle_.push_back(std::move(connection));
    }
  }

  const std::string path_;
  const SqliteOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
};

inline const char* RoleName(Role role) { return role == Role::kAdmin ? "admin" : "member"; }
inline Role RoleFromName(std::string_view name) {
  return name == "admin" ? Role::kAdmin : Role::kMember;
}

inline std::string JoinLines(const std::vector<std::string>& values) {
  std::string joined;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) joined += '\n';
    joined += values[i];
  }
  return joined;
}

inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> values;
  if (text.empty()) return values;
  size_t start = 0;
  while (true) {
    size_t end = text.find('\n', start);
    values.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return values;
    start = end + 1;
  }
}

// Appends " AND column = ?" or " AND column IN (?, ?, ...)"; nothing for an
// empty list (no filter).
inline void AppendInFilter(std::string& sql, std::string_view column, size_t count) {
  if (count == 0) return;
  sql += " AND ";
  sql += column;
  if (count == 1) {
    sql += " = ?";
    return;
  }
  sql += " IN (?";
  for (size_t i = 1; i < count; ++i) sql += ", ?";
  sql += ')';
}

// Appends the match[version] condition (ORed selectors); "last" when no
// selector is set. Single selectors stay plain AND terms so the planner can
// use the partial is_last / is_first indexes.
inline void AppendVersionFilter(std::string& sql, const ObjectQuery& query) {
  if (query.version_all) return;
  const bool none_set = !query.version_first && !query.version_last && query.versions.empty();
  std::vector<std::string> terms;
  if (query.version_first) terms.push_back("is_first = 1");
  if (query.version_last || none_set) terms.push_back("is_last = 1");
  if (!query.versions.empty()) {
    std::string in;
    AppendInFilter(in, "version_us", query.versions.size());
    terms.push_back(in.substr(5));  // drop the leading " AND "
  }
  sql += " AND ";
  if (terms.size() == 1) {
    sql += terms[0];
    return;
  }
  sql += '(';
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i > 0) sql += " OR ";
    sql += terms[i];
  }
  sql += ')';
}

// Binds values in the order AppendInFilter/AppendVersionFilter wrote them.
class Binder {
 public:
  explicit Binder(Statement& stmt) : stmt_(stmt) {}
  Binder& Int(int64_t value) {
    stmt_.Bind(next_++, value);
    return *this;
  }
  Binder& Text(std::string_view value) {
    stmt_.Bind(next_++, value);
    return *this;
  }
  Binder& Texts(const std::vector<std::string>& values) {
    for (const std::string& value : values) Text(value);
    return *this;
  }
  Binder& Ints(const std::vector<int64_t>& values) {
    for (int64_t value : values) Int(value);
    return *this;
  }

 private:
  Statement& stmt_;
  int next_ = 1;
};

// Each filter value is one SQL parameter; SQLite allows 32766 per statement.
constexpr size_t kMaxFilterValues = 10000;
// The provenance column of a query over objects (schema v3).
constexpr const char* kOriginColumn =
    ", coalesce((SELECT peer FROM origins WHERE origins.date_added_us = objects.date_added_us), "
    "'')";

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const SqliteOptions& options)
      : clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()),
        pool_(path, options) {}

  Status Initialize() {
    return Read([](Connection& connection) { return sqlite::Migrate(connection); });
  }

  // ---- collections

  Result<std::vector<Collection>> ListCollections() override;

  Result<Collection> GetCollection(const std::string& id_or_alias) override;

  Status CreateCollection(const Collection& collection) override;

  Status DeleteCollection(const std::string& id) override;

  // ---- objects

  Result<AddResult> AddObjects(const std::string& collection_id,
                               const std::vector<NewObject>& objects) override;

  Result<ObjectPage> QueryObjects(const std::string& collection_id,
                                  const ObjectQuery& query) override;

  Result<std::vector<StoredObject>> ObjectHistory(const std::string& id, size_t limit) override;
  Result<std::set<std::string>> HeldIds(const std::vector<std::string>& ids) override;

  Result<int64_t> DeleteObject(const std::string& collection_id, const std::string& id,
                               const ObjectQuery& query) override;

  Result<int64_t> LastChangeSeq() override;

  Result<std::vector<Change>> ListChanges(const ChangeQuery& query) override;

  Result<int64_t> CountObjects(const std::string& collection_id) override;

  // ---- TAXII status resources

  Status SaveStatus(const StatusRecord& status) override;

  Result<StatusRecord> GetStatus(const std::string& id) override;

  // ---- identity and access

  Result<Organization> EnsureOrganization(const std::string& name) override;

  Result<std::vector<Organization>> ListOrganizations() override;

  Result<User> CreateUser(const std::string& name, int64_t org_id, Role role) override;

  Result<User> GetUser(int64_t id) override;

  Result<User> FindUser(const std::string& org_name, const std::string& name) override;

  Result<std::vector<User>> ListUsers() override;

  Status SetUserDisabled(int64_t id, bool disabled) override;

  Status AddApiKey(const ApiKey& key) override;

  Result<ApiKey> GetApiKey(const std::string& key_id) override;

  Result<std::vector<ApiKey>> ListApiKeys(int64_t user_id) override;

  Status RevokeApiKey(const std::string& key_id) override;

  Result<bool> ReplaceApiKeyHash(const std::string& key_id, const std::string& old_hash,
                                 const std::string& new_hash) override;

  Status SetGrant(const Grant& grant) override;

  Result<std::vector<Grant>> ListGrants(const std::string& collection_id) override;

  Result<Grant> RightsOf(const User& user, const std::string& collection_id) override;

  // ---- node metadata

  Result<std::optional<std::string>> GetMeta(const std::string& key) override;

  Status SetMeta(const std::string& key, const std::string& value) override;
  Status SetMetas(const std::vector<std::pair<std::string, std::string>>& entries) override;

  Result<std::string> GetOrSetMeta(const std::string& key, const std::string& value) override;

 private:
  static constexpr std::string_view kSelectUser =
      "SELECT u.id, u.name, u.org_id, o.name, u.role, u.disabled FROM users u "
      "JOIN organizations o ON o.id = u.org_id";
  static constexpr std::string_view kSelectApiKey =
      "SELECT key_id, user_id, secret_hash, created_us, revoked, label FROM api_keys";

  // Runs `operation` on a borrowed connection. Exceptions (allocation
  // failure) become a Status here so none escapes the Store interface.
  template <typename Operation>
  auto Read(Operation&& operation) -> decltype(operation(std::declval<Connection&>())) {
    try {
      KIZUNA_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Borrow());
      return operation(*lease);
    } catch (const std::exception& e) {
      return Internal(std::string("store: ") + e.what());
    }
  }

  // Runs `operation` in a BEGIN IMMEDIATE transaction and commits it when it
  // succeeds. The in-process mutex lines up this process's writers without
  // SQLite's sleep-and-retry; the IMMEDIATE lock orders us with other processes.
  template <typename Operation>
  auto Write(Operation&& operation) -> decltype(operation(std::declval<Connection&>())) {
    try {
      std::lock_guard lock(write_mutex_);
      KIZUNA_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Borrow());
      KIZUNA_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*lease, true));
      auto result = operation(*lease);
      if (!result.ok()) return result;  // the transaction rolls back
      KIZUNA_RETURN_IF_ERROR(transaction.Commit());
      return result;
    } catch (const std::exception& e) {
      return Internal(std::string("store: ") + e.what());
    }
  }

  static Collection CollectionFromRow(const Statement& stmt);

  static User UserFromRow(const Statement& stmt);

  static ApiKey ApiKeyFromRow(const Statement& stmt);

  static Result<int64_t> CollectionPk(Connection& c, const std::string& collection_id) {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT pk FROM collections WHERE id = ?"));
    stmt.Bind(1, collection_id);
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFound("no collection '" + collection_id + "'");
    return stmt.ColumnInt(0);
  }

  // Appends a deletions row for every version `where` selects (the caller
  // deletes them next, in the same transaction), numbered from the
  // date_added clock so the change feed has one order. Binds the collection
  // pk, then (when given) the object id and the query's spec_version and
  // version filters, matching how `where` was built.
  static Status RecordDeletions(Connection& c, const std::string& where, int64_t collection_pk,
                                const std::string* object_id, const ObjectQuery* query);

  static Result<int64_t> LastDateAdded(Connection& c) {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT last_us FROM date_added_clock"));
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Internal("the store's date_added_clock row is missing");
    return stmt.ColumnInt(0);
  }

  static Result<std::optional<Organization>> FindOrganization(Connection& c,
                                                              const std::string& name);

  // What is stored of one object id, from a single probe of objects_by_version.
  struct StoredVersions {
    std::optional<int64_t> oldest;  // unset: no version stored
    std::optional<int64_t> newest;
    // The date_added of the version being added, when it is already stored.
    std::optional<int64_t> existing_date_added;
  };

  // An object without created/modified (an SCO) has no version of its own:
  // any stored version of its id counts as the same one.
  static Result<StoredVersions> ProbeVersions(Connection& c, int64_t collection_pk,
                                              const stix::ObjectInfo& info);

  // modified, else created; 0 when the object has neither.
  static int64_t VersionOf(const stix::ObjectInfo& info) {
    if (info.modified_us != 0) return info.modified_us;
    return info.created_us;
  }

  // Inserts a new version and moves the is_first/is_last flags to it when it
  // is the object's oldest/newest.
  static Status InsertVersion(Connection& c, int64_t collection_pk, const NewObject& object,
                              const StoredVersions& stored, int64_t date_added);

  static Status ClearFlag(Connection& c, std::string_view flag, int64_t collection_pk,
                          const std::string& id, int64_t version);

  const Clock* const clock_;
  ConnectionPool pool_;
  std::mutex write_mutex_;  // held for the whole of each write transaction
};

}  // namespace sqlite_internal
}  // namespace kizuna::store
