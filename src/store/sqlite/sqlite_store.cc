#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <climits>
#include <exception>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/uuid.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"

namespace kizuna::store {

namespace {

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

const char* RoleName(Role role) { return role == Role::kAdmin ? "admin" : "member"; }
Role RoleFromName(std::string_view name) { return name == "admin" ? Role::kAdmin : Role::kMember; }

std::string JoinLines(const std::vector<std::string>& values) {
  std::string joined;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) joined += '\n';
    joined += values[i];
  }
  return joined;
}

std::vector<std::string> SplitLines(const std::string& text) {
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
void AppendInFilter(std::string& sql, std::string_view column, size_t count) {
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
void AppendVersionFilter(std::string& sql, const ObjectQuery& query) {
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

  Result<std::vector<Collection>> ListCollections() override {
    return Read([](Connection& c) -> Result<std::vector<Collection>> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare("SELECT id, title, description, alias, media_types FROM collections "
                    "ORDER BY pk"));
      std::vector<Collection> collections;
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return collections;
        collections.push_back(CollectionFromRow(stmt));
      }
    });
  }

  Result<Collection> GetCollection(const std::string& id_or_alias) override {
    return Read([&](Connection& c) -> Result<Collection> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare("SELECT id, title, description, alias, media_types FROM collections "
                    "WHERE id = ?1 OR alias = ?1 ORDER BY id = ?1 DESC LIMIT 1"));
      stmt.Bind(1, id_or_alias);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return NotFound("no collection '" + id_or_alias + "'");
      return CollectionFromRow(stmt);
    });
  }

  Status CreateCollection(const Collection& collection) override {
    if (collection.id.empty()) return InvalidArgument("a collection needs an id");
    return Write([&](Connection& c) -> Status {
      {
        // Ids and aliases share one namespace for GetCollection(id_or_alias).
        KIZUNA_ASSIGN_OR_RETURN(
            Statement taken,
            c.Prepare("SELECT id FROM collections WHERE id IN (?1, ?2) OR alias IN (?1, ?2)"));
        taken.Bind(1, collection.id).BindOptional(2, collection.alias);
        KIZUNA_ASSIGN_OR_RETURN(bool row, taken.Step());
        if (row) {
          return AlreadyExists("collection id or alias already in use by collection " +
                               taken.ColumnText(0));
        }
      }
      KIZUNA_ASSIGN_OR_RETURN(
          Statement insert,
          c.Prepare("INSERT INTO collections (id, title, description, alias, media_types) "
                    "VALUES (?, ?, ?, ?, ?)"));
      insert.Bind(1, collection.id)
          .Bind(2, collection.title)
          .Bind(3, collection.description)
          .BindOptional(4, collection.alias)
          .Bind(5, JoinLines(collection.media_types));
      return insert.Run();
    });
  }

  Status DeleteCollection(const std::string& id) override {
    return Write([&](Connection& c) -> Status {
      {
        auto pk = CollectionPk(c, id);
        if (pk.ok()) {
          KIZUNA_RETURN_IF_ERROR(RecordDeletions(c, "collection_pk = ?", *pk, nullptr, nullptr));
        }
      }
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("DELETE FROM collections WHERE id = ?"));
      stmt.Bind(1, id);
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
      if (c.Changes() == 0) return NotFound("no collection '" + id + "'");
      return Status::Ok();
    });
  }

  // ---- objects

  Result<AddResult> AddObjects(const std::string& collection_id,
                               const std::vector<NewObject>& objects) override {
    for (const NewObject& object : objects) {
      if (object.info.id.empty() || object.info.type.empty()) {
        return InvalidArgument("an object to store needs an id and a type");
      }
    }
    return Write([&](Connection& c) -> Result<AddResult> {
      KIZUNA_ASSIGN_OR_RETURN(int64_t collection_pk, CollectionPk(c, collection_id));
      KIZUNA_ASSIGN_OR_RETURN(int64_t last_date_added, LastDateAdded(c));
      // Read the clock under the write lock: no other writer of any process
      // can hand out a date_added between this and our commit.
      int64_t next_date_added = std::max(clock_->NowMicros(), last_date_added + 1);
      AddResult result;
      result.outcomes.reserve(objects.size());
      result.date_added_us.reserve(objects.size());
      for (const NewObject& object : objects) {
        KIZUNA_ASSIGN_OR_RETURN(StoredVersions stored,
                                ProbeVersions(c, collection_pk, object.info));
        if (stored.existing_date_added.has_value() &&
            !(object.another_copy && VersionOf(object.info) == 0)) {
          result.outcomes.push_back(AddOutcome::kAlreadyPresent);
          result.date_added_us.push_back(*stored.existing_date_added);
          continue;
        }
        const int64_t date_added = next_date_added++;
        KIZUNA_RETURN_IF_ERROR(InsertVersion(c, collection_pk, object, stored, date_added));
        result.outcomes.push_back(AddOutcome::kAdded);
        result.date_added_us.push_back(date_added);
      }
      if (next_date_added - 1 != last_date_added) {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                                c.Prepare("UPDATE date_added_clock SET last_us = ?"));
        stmt.Bind(1, next_date_added - 1);
        KIZUNA_RETURN_IF_ERROR(stmt.Run());
      }
      return result;
    });
  }

  Result<ObjectPage> QueryObjects(const std::string& collection_id,
                                  const ObjectQuery& query) override {
    const size_t filter_values =
        query.ids.size() + query.types.size() + query.spec_versions.size() + query.versions.size();
    if (filter_values > kMaxFilterValues) {
      return InvalidArgument("a query may filter on at most " + std::to_string(kMaxFilterValues) +
                             " values, not " + std::to_string(filter_values));
    }
    return Read([&](Connection& c) -> Result<ObjectPage> {
      KIZUNA_ASSIGN_OR_RETURN(int64_t collection_pk, CollectionPk(c, collection_id));
      std::string sql =
          "SELECT date_added_us, object_id, type, spec_version, version_us, tlp, created_by_ref, "
          "is_first, is_last";
      sql += query.include_origin ? kOriginColumn : ", ''";
      if (query.include_json) sql += ", json";
      sql += " FROM objects";
      // Without statistics the planner prefers walking the date_added index
      // (no sort needed) even for a handful of ids in a huge collection.
      if (!query.ids.empty()) sql += " INDEXED BY objects_by_version";
      sql += " WHERE collection_pk = ? AND date_added_us > ?";
      AppendInFilter(sql, "object_id", query.ids.size());
      AppendInFilter(sql, "type", query.types.size());
      AppendInFilter(sql, "spec_version", query.spec_versions.size());
      AppendVersionFilter(sql, query);
      sql += " ORDER BY date_added_us LIMIT ?";
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));

      int64_t lower_bound = INT64_MIN;
      if (query.added_after_us) lower_bound = std::max(lower_bound, *query.added_after_us);
      if (query.after_date_added_us) {
        lower_bound = std::max(lower_bound, *query.after_date_added_us);
      }
      // One row past the limit tells whether there are more.
      const int64_t fetch = query.limit == 0 ? -1 : static_cast<int64_t>(query.limit) + 1;
      Binder(stmt)
          .Int(collection_pk)
          .Int(lower_bound)
          .Texts(query.ids)
          .Texts(query.types)
          .Texts(query.spec_versions)
          .Ints(query.version_all ? std::vector<int64_t>{} : query.versions)
          .Int(fetch);

      ObjectPage page;
      if (query.limit != 0) page.objects.reserve(std::min<size_t>(query.limit, 10000));
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        if (query.limit != 0 && page.objects.size() == query.limit) {
          page.more = true;
          break;
        }
        StoredObject& object = page.objects.emplace_back();
        object.date_added_us = stmt.ColumnInt(0);
        object.id = stmt.ColumnText(1);
        object.type = stmt.ColumnText(2);
        object.spec_version = stmt.ColumnText(3);
        object.version_us = stmt.ColumnInt(4);
        object.tlp = static_cast<stix::Tlp>(stmt.ColumnInt(5));
        object.created_by_ref = stmt.ColumnText(6);
        object.is_first = stmt.ColumnInt(7) != 0;
        object.is_last = stmt.ColumnInt(8) != 0;
        if (query.include_origin) object.origin = stmt.ColumnText(9);
        if (query.include_json) object.json = stmt.ColumnText(10);
      }
      return page;
    });
  }

  Result<std::vector<StoredObject>> ObjectHistory(const std::string& id, size_t limit) override {
    return Read([&](Connection& c) -> Result<std::vector<StoredObject>> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare(std::string("SELECT date_added_us, object_id, type, spec_version, version_us, "
                                "tlp, created_by_ref") +
                    kOriginColumn +
                    ", json FROM objects INDEXED BY objects_by_id WHERE object_id = ? "
                    "ORDER BY date_added_us LIMIT ?"));
      stmt.Bind(1, id).Bind(2, static_cast<int64_t>(limit));
      std::vector<StoredObject> versions;
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        StoredObject& object = versions.emplace_back();
        object.date_added_us = stmt.ColumnInt(0);
        object.id = stmt.ColumnText(1);
        object.type = stmt.ColumnText(2);
        object.spec_version = stmt.ColumnText(3);
        object.version_us = stmt.ColumnInt(4);
        object.tlp = static_cast<stix::Tlp>(stmt.ColumnInt(5));
        object.created_by_ref = stmt.ColumnText(6);
        object.origin = stmt.ColumnText(7);
        object.json = stmt.ColumnText(8);
      }
      return versions;
    });
  }

  Result<int64_t> DeleteObject(const std::string& collection_id, const std::string& id,
                               const ObjectQuery& query) override {
    return Write([&](Connection& c) -> Result<int64_t> {
      KIZUNA_ASSIGN_OR_RETURN(int64_t collection_pk, CollectionPk(c, collection_id));
      std::string where = "collection_pk = ? AND object_id = ?";
      AppendInFilter(where, "spec_version", query.spec_versions.size());
      AppendVersionFilter(where, query);
      KIZUNA_RETURN_IF_ERROR(RecordDeletions(c, where, collection_pk, &id, &query));
      std::string sql = "DELETE FROM objects WHERE " + where;
      int64_t deleted = 0;
      {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
        Binder(stmt)
            .Int(collection_pk)
            .Text(id)
            .Texts(query.spec_versions)
            .Ints(query.version_all ? std::vector<int64_t>{} : query.versions);
        KIZUNA_RETURN_IF_ERROR(stmt.Run());
        deleted = c.Changes();
      }
      if (deleted == 0) return deleted;
      // Only the extremes can change when versions go away: a remaining
      // version that was not first/last before cannot be now unless it is
      // the new minimum/maximum.
      for (const char* fix :
           {"UPDATE objects SET is_first = 1 WHERE collection_pk = ?1 AND object_id = ?2 "
            "AND is_first = 0 AND version_us = (SELECT min(version_us) FROM objects "
            "WHERE collection_pk = ?1 AND object_id = ?2)",
            "UPDATE objects SET is_last = 1 WHERE collection_pk = ?1 AND object_id = ?2 "
            "AND is_last = 0 AND version_us = (SELECT max(version_us) FROM objects "
            "WHERE collection_pk = ?1 AND object_id = ?2)"}) {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(fix));
        stmt.Bind(1, collection_pk).Bind(2, id);
        KIZUNA_RETURN_IF_ERROR(stmt.Run());
      }
      return deleted;
    });
  }

  Result<int64_t> LastChangeSeq() override {
    return Read([](Connection& c) -> Result<int64_t> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt, c.Prepare("SELECT max(coalesce((SELECT max(date_added_us) FROM objects), "
                                    "0), coalesce((SELECT max(seq) FROM deletions), 0))"));
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      return row ? stmt.ColumnInt(0) : 0;
    });
  }

  Result<std::vector<Change>> ListChanges(const ChangeQuery& query) override {
    if (query.types.size() > kMaxFilterValues) {
      return InvalidArgument("a change query may filter on at most " +
                             std::to_string(kMaxFilterValues) + " types");
    }
    const int64_t limit = query.limit == 0 ? -1 : static_cast<int64_t>(query.limit);
    return Read([&](Connection& c) -> Result<std::vector<Change>> {
      std::vector<Change> changes;
      if (limit > 0) changes.reserve(std::min<int64_t>(limit, 100000));
      // Collections are few: resolve their ids once, not with a join per row.
      std::unordered_map<int64_t, std::string> collection_ids;
      {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT pk, id FROM collections"));
        while (true) {
          KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          collection_ids[stmt.ColumnInt(0)] = stmt.ColumnText(1);
        }
      }
      {
        std::string sql =
            "SELECT date_added_us, collection_pk, object_id, type, spec_version, version_us, "
            "tlp, created_by_ref, json";
        sql += query.include_origin ? kOriginColumn : ", ''";
        sql += " FROM objects WHERE date_added_us > ?";
        AppendInFilter(sql, "type", query.types.size());
        sql += " ORDER BY date_added_us LIMIT ?";
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
        Binder(stmt).Int(query.after_seq).Texts(query.types).Int(limit);
        while (true) {
          KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          Change& change = changes.emplace_back();
          change.seq = stmt.ColumnInt(0);
          change.kind = Change::Kind::kAdded;
          change.collection_id = collection_ids[stmt.ColumnInt(1)];
          change.object.date_added_us = change.seq;
          change.object.id = stmt.ColumnText(2);
          change.object.type = stmt.ColumnText(3);
          change.object.spec_version = stmt.ColumnText(4);
          change.object.version_us = stmt.ColumnInt(5);
          change.object.tlp = static_cast<stix::Tlp>(stmt.ColumnInt(6));
          change.object.created_by_ref = stmt.ColumnText(7);
          change.object.json = stmt.ColumnText(8);
          if (query.include_origin) change.object.origin = stmt.ColumnText(9);
        }
      }
      const size_t added = changes.size();
      {
        std::string sql =
            "SELECT seq, collection_id, object_id, type, version_us FROM deletions WHERE seq > ?";
        AppendInFilter(sql, "type", query.types.size());
        sql += " ORDER BY seq LIMIT ?";
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
        Binder(stmt).Int(query.after_seq).Texts(query.types).Int(limit);
        while (true) {
          KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          Change& change = changes.emplace_back();
          change.seq = stmt.ColumnInt(0);
          change.kind = Change::Kind::kDeleted;
          change.collection_id = stmt.ColumnText(1);
          change.object.id = stmt.ColumnText(2);
          change.object.type = stmt.ColumnText(3);
          change.object.version_us = stmt.ColumnInt(4);
        }
      }
      // Objects come in seq order, then deletions in seq order: only a
      // batch with both needs sorting.
      if (changes.size() > added) {
        std::sort(changes.begin(), changes.end(),
                  [](const Change& a, const Change& b) { return a.seq < b.seq; });
      }
      if (limit > 0 && changes.size() > static_cast<size_t>(limit)) changes.resize(limit);
      return changes;
    });
  }

  Result<int64_t> CountObjects(const std::string& collection_id) override {
    return Read([&](Connection& c) -> Result<int64_t> {
      KIZUNA_ASSIGN_OR_RETURN(int64_t collection_pk, CollectionPk(c, collection_id));
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                              c.Prepare("SELECT count(*) FROM objects WHERE collection_pk = ?"));
      stmt.Bind(1, collection_pk);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      return row ? stmt.ColumnInt(0) : 0;
    });
  }

  // ---- TAXII status resources

  Status SaveStatus(const StatusRecord& status) override {
    if (status.id.empty()) return InvalidArgument("a status needs an id");
    return Write([&](Connection& c) -> Status {
      {
        KIZUNA_ASSIGN_OR_RETURN(
            Statement stmt,
            c.Prepare("INSERT INTO statuses (id, status, request_timestamp_us, user_id) "
                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET "
                      "status = ?2, request_timestamp_us = ?3, user_id = ?4"));
        stmt.Bind(1, status.id)
            .Bind(2, status.status)
            .Bind(3, status.request_timestamp_us)
            .Bind(4, status.user_id);
        KIZUNA_RETURN_IF_ERROR(stmt.Run());
      }
      {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                                c.Prepare("DELETE FROM status_details WHERE status_id = ?"));
        stmt.Bind(1, status.id);
        KIZUNA_RETURN_IF_ERROR(stmt.Run());
      }
      KIZUNA_ASSIGN_OR_RETURN(
          Statement insert,
          c.Prepare("INSERT INTO status_details (status_id, kind, seq, object_id, version, "
                    "message) VALUES (?, ?, ?, ?, ?, ?)"));
      const std::vector<StatusDetail>* lists[] = {&status.successes, &status.failures,
                                                  &status.pendings};
      for (int kind = 0; kind < 3; ++kind) {
        int64_t seq = 0;
        for (const StatusDetail& detail : *lists[kind]) {
          insert.Bind(1, status.id)
              .Bind(2, int64_t{kind})
              .Bind(3, seq++)
              .Bind(4, detail.id)
              .Bind(5, detail.version)
              .Bind(6, detail.message);
          KIZUNA_RETURN_IF_ERROR(insert.Run());
          insert.Reset();
        }
      }
      return Status::Ok();
    });
  }

  Result<StatusRecord> GetStatus(const std::string& id) override {
    return Read([&](Connection& c) -> Result<StatusRecord> {
      // One snapshot for the record and its details.
      KIZUNA_ASSIGN_OR_RETURN(Transaction snapshot, Transaction::Begin(c, false));
      StatusRecord record;
      {
        KIZUNA_ASSIGN_OR_RETURN(
            Statement stmt,
            c.Prepare("SELECT status, request_timestamp_us, user_id FROM statuses WHERE id = ?"));
        stmt.Bind(1, id);
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return NotFound("no status '" + id + "'");
        record.id = id;
        record.status = stmt.ColumnText(0);
        record.request_timestamp_us = stmt.ColumnInt(1);
        record.user_id = stmt.ColumnInt(2);
      }
      KIZUNA_ASSIGN_OR_RETURN(
          Statement details,
          c.Prepare("SELECT kind, object_id, version, message FROM status_details "
                    "WHERE status_id = ? ORDER BY kind, seq"));
      details.Bind(1, id);
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, details.Step());
        if (!row) break;
        StatusDetail detail{details.ColumnText(1), details.ColumnText(2), details.ColumnText(3)};
        switch (details.ColumnInt(0)) {
          case 0:
            record.successes.push_back(std::move(detail));
            break;
          case 1:
            record.failures.push_back(std::move(detail));
            break;
          default:
            record.pendings.push_back(std::move(detail));
            break;
        }
      }
      return record;
    });
  }

  // ---- identity and access

  Result<Organization> EnsureOrganization(const std::string& name) override {
    if (name.empty()) return InvalidArgument("an organization needs a name");
    // Most calls find an existing organization: try without the write lock.
    KIZUNA_ASSIGN_OR_RETURN(std::optional<Organization> existing,
                            Read([&](Connection& c) { return FindOrganization(c, name); }));
    if (existing.has_value()) return *std::move(existing);
    return Write([&](Connection& c) -> Result<Organization> {
      KIZUNA_ASSIGN_OR_RETURN(std::optional<Organization> found, FindOrganization(c, name));
      if (found.has_value()) return *std::move(found);
      Organization organization;
      organization.name = name;
      organization.identity_id = "identity--" + NewUuid4();
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt, c.Prepare("INSERT INTO organizations (name, identity_id) VALUES (?, ?)"));
      stmt.Bind(1, name).Bind(2, organization.identity_id);
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
      organization.id = c.LastInsertRowId();
      return organization;
    });
  }

  Result<std::vector<Organization>> ListOrganizations() override {
    return Read([](Connection& c) -> Result<std::vector<Organization>> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt, c.Prepare("SELECT id, name, identity_id FROM organizations ORDER BY id"));
      std::vector<Organization> organizations;
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return organizations;
        organizations.push_back({stmt.ColumnInt(0), stmt.ColumnText(1), stmt.ColumnText(2)});
      }
    });
  }

  Result<User> CreateUser(const std::string& name, int64_t org_id, Role role) override {
    if (name.empty()) return InvalidArgument("a user needs a name");
    return Write([&](Connection& c) -> Result<User> {
      User user;
      user.name = name;
      user.org_id = org_id;
      user.role = role;
      {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                                c.Prepare("SELECT name FROM organizations WHERE id = ?"));
        stmt.Bind(1, org_id);
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return NotFound("no organization with id " + std::to_string(org_id));
        user.org_name = stmt.ColumnText(0);
      }
      KIZUNA_ASSIGN_OR_RETURN(Statement insert,
                              c.Prepare("INSERT INTO users (org_id, name, role) VALUES (?, ?, ?) "
                                        "ON CONFLICT (org_id, name) DO NOTHING"));
      insert.Bind(1, org_id).Bind(2, name).Bind(3, RoleName(role));
      KIZUNA_RETURN_IF_ERROR(insert.Run());
      if (c.Changes() == 0) {
        return AlreadyExists("user '" + name + "' already exists in organization '" +
                             user.org_name + "'");
      }
      user.id = c.LastInsertRowId();
      return user;
    });
  }

  Result<User> GetUser(int64_t id) override {
    return Read([&](Connection& c) -> Result<User> {
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                              c.Prepare(std::string(kSelectUser) + " WHERE u.id = ?"));
      stmt.Bind(1, id);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return NotFound("no user with id " + std::to_string(id));
      return UserFromRow(stmt);
    });
  }

  Result<User> FindUser(const std::string& org_name, const std::string& name) override {
    return Read([&](Connection& c) -> Result<User> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt, c.Prepare(std::string(kSelectUser) + " WHERE o.name = ? AND u.name = ?"));
      stmt.Bind(1, org_name).Bind(2, name);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return NotFound("no user '" + name + "' in organization '" + org_name + "'");
      return UserFromRow(stmt);
    });
  }

  Result<std::vector<User>> ListUsers() override {
    return Read([](Connection& c) -> Result<std::vector<User>> {
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                              c.Prepare(std::string(kSelectUser) + " ORDER BY u.id"));
      std::vector<User> users;
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return users;
        users.push_back(UserFromRow(stmt));
      }
    });
  }

  Status SetUserDisabled(int64_t id, bool disabled) override {
    return Write([&](Connection& c) -> Status {
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                              c.Prepare("UPDATE users SET disabled = ? WHERE id = ?"));
      stmt.Bind(1, int64_t{disabled}).Bind(2, id);
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
      if (c.Changes() == 0) return NotFound("no user with id " + std::to_string(id));
      return Status::Ok();
    });
  }

  Status AddApiKey(const ApiKey& key) override {
    if (key.key_id.empty()) return InvalidArgument("an API key needs a key id");
    return Write([&](Connection& c) -> Status {
      {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT 1 FROM users WHERE id = ?"));
        stmt.Bind(1, key.user_id);
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return NotFound("no user with id " + std::to_string(key.user_id));
      }
      KIZUNA_ASSIGN_OR_RETURN(
          Statement insert,
          c.Prepare("INSERT INTO api_keys (key_id, user_id, secret_hash, created_us, revoked, "
                    "label) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key_id) DO NOTHING"));
      insert.Bind(1, key.key_id)
          .Bind(2, key.user_id)
          .Bind(3, key.secret_hash)
          .Bind(4, key.created_us)
          .Bind(5, int64_t{key.revoked})
          .Bind(6, key.label);
      KIZUNA_RETURN_IF_ERROR(insert.Run());
      if (c.Changes() == 0) return AlreadyExists("API key '" + key.key_id + "' already exists");
      return Status::Ok();
    });
  }

  Result<ApiKey> GetApiKey(const std::string& key_id) override {
    return Read([&](Connection& c) -> Result<ApiKey> {
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                              c.Prepare(std::string(kSelectApiKey) + " WHERE key_id = ?"));
      stmt.Bind(1, key_id);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return NotFound("no API key '" + key_id + "'");
      return ApiKeyFromRow(stmt);
    });
  }

  Result<std::vector<ApiKey>> ListApiKeys(int64_t user_id) override {
    return Read([&](Connection& c) -> Result<std::vector<ApiKey>> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare(std::string(kSelectApiKey) + " WHERE user_id = ? ORDER BY created_us, key_id"));
      stmt.Bind(1, user_id);
      std::vector<ApiKey> keys;
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return keys;
        keys.push_back(ApiKeyFromRow(stmt));
      }
    });
  }

  Status RevokeApiKey(const std::string& key_id) override {
    return Write([&](Connection& c) -> Status {
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                              c.Prepare("UPDATE api_keys SET revoked = 1 WHERE key_id = ?"));
      stmt.Bind(1, key_id);
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
      if (c.Changes() == 0) return NotFound("no API key '" + key_id + "'");
      return Status::Ok();
    });
  }

  Result<bool> ReplaceApiKeyHash(const std::string& key_id, const std::string& old_hash,
                                 const std::string& new_hash) override {
    return Write([&](Connection& c) -> Result<bool> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare("UPDATE api_keys SET secret_hash = ? WHERE key_id = ? AND secret_hash = ?"));
      stmt.Bind(1, new_hash).Bind(2, key_id).Bind(3, old_hash);
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
      return c.Changes() > 0;
    });
  }

  Status SetGrant(const Grant& grant) override {
    if (grant.user_id.has_value() == grant.org_id.has_value()) {
      return InvalidArgument("a grant is for exactly one of a user or an organization");
    }
    const bool for_user = grant.user_id.has_value();
    const int64_t principal_id = for_user ? *grant.user_id : *grant.org_id;
    return Write([&](Connection& c) -> Status {
      KIZUNA_RETURN_IF_ERROR(CollectionPk(c, grant.collection_id).status());
      {
        KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                                c.Prepare(for_user ? "SELECT 1 FROM users WHERE id = ?"
                                                   : "SELECT 1 FROM organizations WHERE id = ?"));
        stmt.Bind(1, principal_id);
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
          return NotFound(std::string(for_user ? "no user" : "no organization") + " with id " +
                          std::to_string(principal_id));
        }
      }
      // A grant of nothing is no grant: remove the row instead of keeping it.
      const bool grants_nothing = !grant.can_read && !grant.can_write;
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare(grants_nothing
                        ? "DELETE FROM grants WHERE collection_id = ?1 AND principal_kind = ?2 "
                          "AND principal_id = ?3"
                        : "INSERT INTO grants (collection_id, principal_kind, principal_id, "
                          "can_read, can_write) VALUES (?1, ?2, ?3, ?4, ?5) "
                          "ON CONFLICT (collection_id, principal_kind, principal_id) "
                          "DO UPDATE SET can_read = ?4, can_write = ?5"));
      stmt.Bind(1, grant.collection_id).Bind(2, for_user ? "user" : "org").Bind(3, principal_id);
      if (!grants_nothing) {
        stmt.Bind(4, int64_t{grant.can_read}).Bind(5, int64_t{grant.can_write});
      }
      return stmt.Run();
    });
  }

  Result<std::vector<Grant>> ListGrants(const std::string& collection_id) override {
    return Read([&](Connection& c) -> Result<std::vector<Grant>> {
      KIZUNA_RETURN_IF_ERROR(CollectionPk(c, collection_id).status());
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare("SELECT principal_kind, principal_id, can_read, can_write FROM grants "
                    "WHERE collection_id = ? ORDER BY principal_kind DESC, principal_id"));
      stmt.Bind(1, collection_id);
      std::vector<Grant> grants;
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return grants;
        Grant& grant = grants.emplace_back();
        grant.collection_id = collection_id;
        if (stmt.ColumnText(0) == "user") {
          grant.user_id = stmt.ColumnInt(1);
        } else {
          grant.org_id = stmt.ColumnInt(1);
        }
        grant.can_read = stmt.ColumnInt(2) != 0;
        grant.can_write = stmt.ColumnInt(3) != 0;
      }
    });
  }

  Result<Grant> RightsOf(const User& user, const std::string& collection_id) override {
    return Read([&](Connection& c) -> Result<Grant> {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare("SELECT coalesce(max(can_read), 0), coalesce(max(can_write), 0) FROM grants "
                    "WHERE collection_id = ?1 AND ((principal_kind = 'user' AND principal_id = ?2) "
                    "OR (principal_kind = 'org' AND principal_id = ?3))"));
      stmt.Bind(1, collection_id).Bind(2, user.id).Bind(3, user.org_id);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      Grant rights;
      rights.collection_id = collection_id;
      rights.user_id = user.id;
      rights.can_read = row && stmt.ColumnInt(0) != 0;
      rights.can_write = row && stmt.ColumnInt(1) != 0;
      return rights;
    });
  }

  // ---- node metadata

  Result<std::optional<std::string>> GetMeta(const std::string& key) override {
    return Read([&](Connection& c) -> Result<std::optional<std::string>> {
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT value FROM meta WHERE key = ?"));
      stmt.Bind(1, key);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return std::optional<std::string>();
      return std::optional<std::string>(stmt.ColumnText(0));
    });
  }

  Status SetMeta(const std::string& key, const std::string& value) override {
    return Write([&](Connection& c) -> Status {
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                              c.Prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                        "ON CONFLICT (key) DO UPDATE SET value = ?2"));
      stmt.Bind(1, key).Bind(2, value);
      return stmt.Run();
    });
  }

  Result<std::string> GetOrSetMeta(const std::string& key, const std::string& value) override {
    return Write([&](Connection& c) -> Result<std::string> {
      {
        KIZUNA_ASSIGN_OR_RETURN(
            Statement insert,
            c.Prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"));
        insert.Bind(1, key).Bind(2, value);
        KIZUNA_RETURN_IF_ERROR(insert.Run());
      }
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT value FROM meta WHERE key = ?"));
      stmt.Bind(1, key);
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return Internal("meta key '" + key + "' vanished");
      return stmt.ColumnText(0);
    });
  }

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

  static Collection CollectionFromRow(const Statement& stmt) {
    Collection collection;
    collection.id = stmt.ColumnText(0);
    collection.title = stmt.ColumnText(1);
    collection.description = stmt.ColumnText(2);
    collection.alias = stmt.ColumnText(3);
    collection.media_types = SplitLines(stmt.ColumnText(4));
    return collection;
  }

  static User UserFromRow(const Statement& stmt) {
    User user;
    user.id = stmt.ColumnInt(0);
    user.name = stmt.ColumnText(1);
    user.org_id = stmt.ColumnInt(2);
    user.org_name = stmt.ColumnText(3);
    user.role = RoleFromName(stmt.ColumnText(4));
    user.disabled = stmt.ColumnInt(5) != 0;
    return user;
  }

  static ApiKey ApiKeyFromRow(const Statement& stmt) {
    ApiKey key;
    key.key_id = stmt.ColumnText(0);
    key.user_id = stmt.ColumnInt(1);
    key.secret_hash = stmt.ColumnText(2);
    key.created_us = stmt.ColumnInt(3);
    key.revoked = stmt.ColumnInt(4) != 0;
    key.label = stmt.ColumnText(5);
    return key;
  }

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
                                const std::string* object_id, const ObjectQuery* query) {
    int64_t recorded = 0;
    {
      KIZUNA_ASSIGN_OR_RETURN(
          Statement stmt,
          c.Prepare("INSERT INTO deletions (seq, collection_id, object_id, type, version_us) "
                    "SELECT (SELECT last_us FROM date_added_clock) + "
                    "ROW_NUMBER() OVER (ORDER BY date_added_us), "
                    "(SELECT id FROM collections WHERE pk = objects.collection_pk), "
                    "object_id, type, version_us FROM objects WHERE " +
                    where));
      Binder binder(stmt);
      binder.Int(collection_pk);
      if (object_id) binder.Text(*object_id);
      if (query) {
        binder.Texts(query->spec_versions)
            .Ints(query->version_all ? std::vector<int64_t>{} : query->versions);
      }
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
      recorded = c.Changes();
    }
    if (recorded == 0) return Status::Ok();
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare("UPDATE date_added_clock SET last_us = last_us + ?"));
    stmt.Bind(1, recorded);
    return stmt.Run();
  }

  static Result<int64_t> LastDateAdded(Connection& c) {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT last_us FROM date_added_clock"));
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Internal("the store's date_added_clock row is missing");
    return stmt.ColumnInt(0);
  }

  static Result<std::optional<Organization>> FindOrganization(Connection& c,
                                                              const std::string& name) {
    KIZUNA_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare("SELECT id, name, identity_id FROM organizations WHERE name = ?"));
    stmt.Bind(1, name);
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<Organization>();
    return std::optional<Organization>(
        Organization{stmt.ColumnInt(0), stmt.ColumnText(1), stmt.ColumnText(2)});
  }

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
                                              const stix::ObjectInfo& info) {
    KIZUNA_ASSIGN_OR_RETURN(
        Statement stmt, c.Prepare("SELECT min(version_us), max(version_us), "
                                  "max(CASE WHEN version_us = ?3 OR ?3 = 0 THEN date_added_us END) "
                                  "FROM objects WHERE collection_pk = ?1 AND object_id = ?2"));
    stmt.Bind(1, collection_pk).Bind(2, info.id).Bind(3, VersionOf(info));
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    StoredVersions stored;
    if (!row || stmt.ColumnIsNull(0)) return stored;
    stored.oldest = stmt.ColumnInt(0);
    stored.newest = stmt.ColumnInt(1);
    if (!stmt.ColumnIsNull(2)) stored.existing_date_added = stmt.ColumnInt(2);
    return stored;
  }

  // modified, else created; 0 when the object has neither.
  static int64_t VersionOf(const stix::ObjectInfo& info) {
    if (info.modified_us != 0) return info.modified_us;
    return info.created_us;
  }

  // Inserts a new version and moves the is_first/is_last flags to it when it
  // is the object's oldest/newest.
  static Status InsertVersion(Connection& c, int64_t collection_pk, const NewObject& object,
                              const StoredVersions& stored, int64_t date_added) {
    const stix::ObjectInfo& info = object.info;
    int64_t version = VersionOf(info);
    if (version == 0) version = date_added;
    bool is_first = true;
    bool is_last = true;
    if (stored.oldest.has_value()) {
      is_first = version < *stored.oldest;
      is_last = version > *stored.newest;
      if (is_first) {
        KIZUNA_RETURN_IF_ERROR(ClearFlag(c, "is_first", collection_pk, info.id, *stored.oldest));
      }
      if (is_last) {
        KIZUNA_RETURN_IF_ERROR(ClearFlag(c, "is_last", collection_pk, info.id, *stored.newest));
      }
    }
    KIZUNA_ASSIGN_OR_RETURN(
        Statement insert,
        c.Prepare("INSERT INTO objects (date_added_us, collection_pk, object_id, version_us, type, "
                  "spec_version, created_us, modified_us, revoked, tlp, created_by_ref, is_first, "
                  "is_last, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    insert.Bind(1, date_added)
        .Bind(2, collection_pk)
        .Bind(3, info.id)
        .Bind(4, version)
        .Bind(5, info.type)
        .Bind(6, info.spec_version)
        .Bind(7, info.created_us)
        .Bind(8, info.modified_us)
        .Bind(9, int64_t{info.revoked})
        .Bind(10, static_cast<int64_t>(info.tlp))
        .Bind(11, info.created_by_ref)
        .Bind(12, int64_t{is_first})
        .Bind(13, int64_t{is_last})
        .Bind(14, object.json);
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    if (object.origin.empty()) return Status::Ok();
    KIZUNA_ASSIGN_OR_RETURN(Statement origin,
                            c.Prepare("INSERT INTO origins (date_added_us, peer) VALUES (?, ?)"));
    origin.Bind(1, date_added).Bind(2, object.origin);
    return origin.Run();
  }

  static Status ClearFlag(Connection& c, std::string_view flag, int64_t collection_pk,
                          const std::string& id, int64_t version) {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare("UPDATE objects SET " + std::string(flag) +
                                      " = 0 WHERE collection_pk = ? AND object_id = ? "
                                      "AND version_us = ?"));
    stmt.Bind(1, collection_pk).Bind(2, id).Bind(3, version);
    return stmt.Run();
  }

  const Clock* const clock_;
  ConnectionPool pool_;
  std::mutex write_mutex_;  // held for the whole of each write transaction
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(path, options);
  Status status = store->Initialize();
  if (!status.ok()) {
    return Status(status.code(), "store " + path + ": " + status.message());
  }
  return std::unique_ptr<Store>(std::move(store));
}

int SqliteSchemaVersion() { return static_cast<int>(sqlite::Migrations().size()); }

}  // namespace kizuna::store
