#include "store/sqlite/migrations.h"

#include <array>
#include <string>

namespace kizuna::store::sqlite {

namespace {

// Version 1: the initial schema.
//
// objects: one row per (collection, object id, version). date_added_us is the
// rowid: it is unique across the store, so the table is clustered in paging
// order and appends at its end. is_first/is_last mark each object's oldest
// and newest version so match[version]=first|last are index lookups (partial
// indexes keep those small). json is the last column so queries that skip it
// never read it.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- The last date_added handed out; never decreases, even when objects are
-- deleted, so a date_added is never reused. Exactly one row.
CREATE TABLE date_added_clock (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  last_us INTEGER NOT NULL
);
INSERT INTO date_added_clock (singleton, last_us) VALUES (1, 0);

CREATE TABLE collections (
  pk INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  alias TEXT UNIQUE,
  media_types TEXT NOT NULL  -- newline-separated
);

CREATE TABLE objects (
  date_added_us INTEGER PRIMARY KEY,
  collection_pk INTEGER NOT NULL REFERENCES collections (pk) ON DELETE CASCADE,
  object_id TEXT NOT NULL,
  version_us INTEGER NOT NULL,
  type TEXT NOT NULL,
  spec_version TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  modified_us INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  tlp INTEGER NOT NULL,
  created_by_ref TEXT NOT NULL,
  is_first INTEGER NOT NULL,
  is_last INTEGER NOT NULL,
  json TEXT NOT NULL
);
CREATE UNIQUE INDEX objects_by_version ON objects (collection_pk, object_id, version_us);
CREATE INDEX objects_by_date ON objects (collection_pk, date_added_us);
CREATE INDEX objects_by_type ON objects (collection_pk, type, date_added_us);
CREATE INDEX objects_last_by_date ON objects (collection_pk, date_added_us) WHERE is_last = 1;
CREATE INDEX objects_last_by_type ON objects (collection_pk, type, date_added_us)
  WHERE is_last = 1;
CREATE INDEX objects_first_by_date ON objects (collection_pk, date_added_us) WHERE is_first = 1;

CREATE TABLE statuses (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  request_timestamp_us INTEGER NOT NULL,
  user_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE status_details (
  status_id TEXT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  kind INTEGER NOT NULL,  -- 0 success, 1 failure, 2 pending
  seq INTEGER NOT NULL,   -- keeps the request's order
  object_id TEXT NOT NULL,
  version TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (status_id, kind, seq)
) WITHOUT ROWID;

CREATE TABLE organizations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  identity_id TEXT NOT NULL UNIQUE
);
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER NOT NULL REFERENCES organizations (id),
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  disabled INTEGER NOT NULL DEFAULT 0,
  UNIQUE (org_id, name)
);
CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  secret_hash TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  label TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX api_keys_by_user ON api_keys (user_id);

-- principal_kind 'user' or 'org'; principal_id the users.id or organizations.id.
CREATE TABLE grants (
  collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'org')),
  principal_id INTEGER NOT NULL,
  can_read INTEGER NOT NULL,
  can_write INTEGER NOT NULL,
  PRIMARY KEY (collection_id, principal_kind, principal_id)
) WITHOUT ROWID;
)sql";

// Version 2: the change feed's deletions. Added versions are the objects
// table itself (its rowid, date_added, is store-wide); each deleted version
// leaves a row here whose seq comes from the same clock, so one increasing
// sequence orders every change. collection_id is text because the collection
// itself may be what was deleted.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE deletions (
  seq INTEGER PRIMARY KEY,
  collection_id TEXT NOT NULL,
  object_id TEXT NOT NULL,
  type TEXT NOT NULL,
  version_us INTEGER NOT NULL
);
)sql";

// Version 3: provenance. Which partner peer delivered a version, for the few
// rows that came from one (a side table keyed by the objects rowid keeps the
// objects rows, and the scans over them, as they were).
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE origins (
  date_added_us INTEGER PRIMARY KEY,
  peer TEXT NOT NULL
);
CREATE TRIGGER origins_follow_objects AFTER DELETE ON objects BEGIN
  DELETE FROM origins WHERE date_added_us = old.date_added_us;
END;
)sql";

// Version 4: an object's versions across collections, for the producer check
// (only the producer of an object adds versions of it, in any collection).
constexpr std::string_view kSchemaV4 = R"sql(
CREATE INDEX objects_by_id ON objects (object_id, date_added_us);
)sql";

constexpr std::array<std::string_view, 4> kMigrations = {kSchemaV1, kSchemaV2, kSchemaV3,
                                                         kSchemaV4};

Result<int64_t> UserVersion(Connection& connection) {
  KIZUNA_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare("PRAGMA user_version"));
  KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal("PRAGMA user_version returned no row");
  return stmt.ColumnInt(0);
}

}  // namespace

std::span<const std::string_view> Migrations() { return kMigrations; }

Status Migrate(Connection& connection) { return MigrateSteps(connection, kMigrations, "store"); }

Status MigrateSteps(Connection& connection, std::span<const std::string_view> steps,
                    std::string_view what) {
  const int64_t latest = static_cast<int64_t>(steps.size());
  // A quick check outside a write transaction, so opening an up-to-date
  // database never waits for a writer.
  KIZUNA_ASSIGN_OR_RETURN(int64_t version, UserVersion(connection));
  if (version == latest) return Status::Ok();
  KIZUNA_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(connection, true));
  // Re-read under the write lock: another process may have migrated meanwhile.
  KIZUNA_ASSIGN_OR_RETURN(version, UserVersion(connection));
  const std::string name(what);
  if (version > latest) {
    return FailedPrecondition("the " + name + "'s schema version is " + std::to_string(version) +
                              " but this kizuna supports at most " + std::to_string(latest) +
                              "; use a newer kizuna with this " + name);
  }
  if (version < 0) {
    return FailedPrecondition("the " + name + "'s schema version " + std::to_string(version) +
                              " is invalid");
  }
  for (int64_t step = version; step < latest; ++step) {
    Status status = connection.Exec(std::string(steps[static_cast<size_t>(step)]));
    if (!status.ok()) {
      return Status(status.code(), "migrating the " + name + " to schema version " +
                                       std::to_string(step + 1) + ": " + status.message());
    }
  }
  KIZUNA_RETURN_IF_ERROR(connection.Exec("PRAGMA user_version = " + std::to_string(latest)));
  return transaction.Commit();
}

}  // namespace kizuna::store::sqlite
