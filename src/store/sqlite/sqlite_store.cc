#include "store/sqlite/sqlite_store_impl.h"

#include "common/uuid.h"
#include "store/sqlite/migrations.h"

namespace kizuna::store {
namespace sqlite_internal {

Result<std::vector<Collection>> SqliteStore::ListCollections() {
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

Result<Collection> SqliteStore::GetCollection(const std::string& id_or_alias) {
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

Status SqliteStore::CreateCollection(const Collection& collection) {
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

Status SqliteStore::DeleteCollection(const std::string& id) {
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

Result<AddResult> SqliteStore::AddObjects(const std::string& collection_id,
                                          const std::vector<NewObject>& objects) {
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
      KIZUNA_ASSIGN_OR_RETURN(StoredVersions stored, ProbeVersions(c, collection_pk, object.info));
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
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("UPDATE date_added_clock SET last_us = ?"));
      stmt.Bind(1, next_date_added - 1);
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
    }
    return result;
  });
}

Result<ObjectPage> SqliteStore::QueryObjects(const std::string& collection_id,
                                             const ObjectQuery& query) {
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
    sql += " WHERE collection_pk = ? AND date_added_us > ? AND date_added_us < ?";
    AppendInFilter(sql, "object_id", query.ids.size());
    AppendInFilter(sql, "type", query.types.size());
    AppendInFilter(sql, "spec_version", query.spec_versions.size());
    AppendVersionFilter(sql, query);
    sql += query.newest_first ? " ORDER BY date_added_us DESC LIMIT ?"
                              : " ORDER BY date_added_us LIMIT ?";
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
        .Int(query.before_date_added_us.value_or(INT64_MAX))
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

Result<std::set<std::string>> SqliteStore::HeldIds(const std::vector<std::string>& ids) {
  return Read([&](Connection& c) -> Result<std::set<std::string>> {
    std::set<std::string> held;
    constexpr size_t kChunk = 500;
    for (size_t start = 0; start < ids.size(); start += kChunk) {
      const std::vector<std::string> chunk(ids.begin() + start,
                                           ids.begin() + std::min(ids.size(), start + kChunk));
      std::string sql = "SELECT DISTINCT object_id FROM objects INDEXED BY objects_by_id WHERE 1";
      AppendInFilter(sql, "object_id", chunk.size());
      KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
      Binder(stmt).Texts(chunk);
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        held.insert(stmt.ColumnText(0));
      }
    }
    return held;
  });
}

Result<std::vector<StoredObject>> SqliteStore::ObjectHistory(const std::string& id, size_t limit) {
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

Result<int64_t> SqliteStore::DeleteObject(const std::string& collection_id, const std::string& id,
                                          const ObjectQuery& query) {
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

Result<int64_t> SqliteStore::LastChangeSeq() {
  return Read([](Connection& c) -> Result<int64_t> {
    KIZUNA_ASSIGN_OR_RETURN(
        Statement stmt, c.Prepare("SELECT max(coalesce((SELECT max(date_added_us) FROM objects), "
                                  "0), coalesce((SELECT max(seq) FROM deletions), 0))"));
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.ColumnInt(0) : 0;
  });
}

Result<std::vector<Change>> SqliteStore::ListChanges(const ChangeQuery& query) {
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

Result<int64_t> SqliteStore::CountObjects(const std::string& collection_id) {
  return Read([&](Connection& c) -> Result<int64_t> {
    KIZUNA_ASSIGN_OR_RETURN(int64_t collection_pk, CollectionPk(c, collection_id));
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare("SELECT count(*) FROM objects WHERE collection_pk = ?"));
    stmt.Bind(1, collection_pk);
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.ColumnInt(0) : 0;
  });
}

Collection SqliteStore::CollectionFromRow(const Statement& stmt) {
  Collection collection;
  collection.id = stmt.ColumnText(0);
  collection.title = stmt.ColumnText(1);
  collection.description = stmt.ColumnText(2);
  collection.alias = stmt.ColumnText(3);
  collection.media_types = SplitLines(stmt.ColumnText(4));
  return collection;
}

Status SqliteStore::RecordDeletions(Connection& c, const std::string& where, int64_t collection_pk,
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

Result<SqliteStore::StoredVersions> SqliteStore::ProbeVersions(Connection& c, int64_t collection_pk,
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

Status SqliteStore::InsertVersion(Connection& c, int64_t collection_pk, const NewObject& object,
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

Status SqliteStore::ClearFlag(Connection& c, std::string_view flag, int64_t collection_pk,
                              const std::string& id, int64_t version) {
  KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                          c.Prepare("UPDATE objects SET " + std::string(flag) +
                                    " = 0 WHERE collection_pk = ? AND object_id = ? "
                                    "AND version_us = ?"));
  stmt.Bind(1, collection_pk).Bind(2, id).Bind(3, version);
  return stmt.Run();
}

}  // namespace sqlite_internal

using sqlite_internal::SqliteStore;

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
