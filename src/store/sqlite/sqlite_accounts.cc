#include "store/sqlite/sqlite_store_impl.h"

#include "common/uuid.h"

namespace kizuna::store {
namespace sqlite_internal {

Status SqliteStore::SaveStatus(const StatusRecord& status) {
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

Result<StatusRecord> SqliteStore::GetStatus(const std::string& id) {
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
        Statement details, c.Prepare("SELECT kind, object_id, version, message FROM status_details "
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

Result<Organization> SqliteStore::EnsureOrganization(const std::string& name) {
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

Result<std::vector<Organization>> SqliteStore::ListOrganizations() {
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

Result<User> SqliteStore::CreateUser(const std::string& name, int64_t org_id, Role role) {
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
      return AlreadyExists("user '" + name + "' already exists in organization '" + user.org_name +
                           "'");
    }
    user.id = c.LastInsertRowId();
    return user;
  });
}

Result<User> SqliteStore::GetUser(int64_t id) {
  return Read([&](Connection& c) -> Result<User> {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare(std::string(kSelectUser) + " WHERE u.id = ?"));
    stmt.Bind(1, id);
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFound("no user with id " + std::to_string(id));
    return UserFromRow(stmt);
  });
}

Result<User> SqliteStore::FindUser(const std::string& org_name, const std::string& name) {
  return Read([&](Connection& c) -> Result<User> {
    KIZUNA_ASSIGN_OR_RETURN(
        Statement stmt, c.Prepare(std::string(kSelectUser) + " WHERE o.name = ? AND u.name = ?"));
    stmt.Bind(1, org_name).Bind(2, name);
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFound("no user '" + name + "' in organization '" + org_name + "'");
    return UserFromRow(stmt);
  });
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  return Read([](Connection& c) -> Result<std::vector<User>> {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(std::string(kSelectUser) + " ORDER BY u.id"));
    std::vector<User> users;
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return users;
      users.push_back(UserFromRow(stmt));
    }
  });
}

Status SqliteStore::SetUserDisabled(int64_t id, bool disabled) {
  return Write([&](Connection& c) -> Status {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare("UPDATE users SET disabled = ? WHERE id = ?"));
    stmt.Bind(1, int64_t{disabled}).Bind(2, id);
    KIZUNA_RETURN_IF_ERROR(stmt.Run());
    if (c.Changes() == 0) return NotFound("no user with id " + std::to_string(id));
    return Status::Ok();
  });
}

Status SqliteStore::AddApiKey(const ApiKey& key) {
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

Result<ApiKey> SqliteStore::GetApiKey(const std::string& key_id) {
  return Read([&](Connection& c) -> Result<ApiKey> {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare(std::string(kSelectApiKey) + " WHERE key_id = ?"));
    stmt.Bind(1, key_id);
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFound("no API key '" + key_id + "'");
    return ApiKeyFromRow(stmt);
  });
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys(int64_t user_id) {
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

Status SqliteStore::RevokeApiKey(const std::string& key_id) {
  return Write([&](Connection& c) -> Status {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare("UPDATE api_keys SET revoked = 1 WHERE key_id = ?"));
    stmt.Bind(1, key_id);
    KIZUNA_RETURN_IF_ERROR(stmt.Run());
    if (c.Changes() == 0) return NotFound("no API key '" + key_id + "'");
    return Status::Ok();
  });
}

Result<bool> SqliteStore::ReplaceApiKeyHash(const std::string& key_id, const std::string& old_hash,
                                            const std::string& new_hash) {
  return Write([&](Connection& c) -> Result<bool> {
    KIZUNA_ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare("UPDATE api_keys SET secret_hash = ? WHERE key_id = ? AND secret_hash = ?"));
    stmt.Bind(1, new_hash).Bind(2, key_id).Bind(3, old_hash);
    KIZUNA_RETURN_IF_ERROR(stmt.Run());
    return c.Changes() > 0;
  });
}

Status SqliteStore::SetGrant(const Grant& grant) {
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

Result<std::vector<Grant>> SqliteStore::ListGrants(const std::string& collection_id) {
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

Result<Grant> SqliteStore::RightsOf(const User& user, const std::string& collection_id) {
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

Result<std::optional<std::string>> SqliteStore::GetMeta(const std::string& key) {
  return Read([&](Connection& c) -> Result<std::optional<std::string>> {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT value FROM meta WHERE key = ?"));
    stmt.Bind(1, key);
    KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(stmt.ColumnText(0));
  });
}

Status SqliteStore::SetMeta(const std::string& key, const std::string& value) {
  return Write([&](Connection& c) -> Status {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                      "ON CONFLICT (key) DO UPDATE SET value = ?2"));
    stmt.Bind(1, key).Bind(2, value);
    return stmt.Run();
  });
}

Status SqliteStore::SetMetas(const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return Status::Ok();
  return Write([&](Connection& c) -> Status {
    KIZUNA_ASSIGN_OR_RETURN(Statement stmt,
                            c.Prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                      "ON CONFLICT (key) DO UPDATE SET value = ?2"));
    for (const auto& [key, value] : entries) {
      stmt.Reset();
      stmt.Bind(1, key).Bind(2, value);
      KIZUNA_RETURN_IF_ERROR(stmt.Run());
    }
    return Status::Ok();
  });
}

Result<std::string> SqliteStore::GetOrSetMeta(const std::string& key, const std::string& value) {
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

User SqliteStore::UserFromRow(const Statement& stmt) {
  User user;
  user.id = stmt.ColumnInt(0);
  user.name = stmt.ColumnText(1);
  user.org_id = stmt.ColumnInt(2);
  user.org_name = stmt.ColumnText(3);
  user.role = RoleFromName(stmt.ColumnText(4));
  user.disabled = stmt.ColumnInt(5) != 0;
  return user;
}

ApiKey SqliteStore::ApiKeyFromRow(const Statement& stmt) {
  ApiKey key;
  key.key_id = stmt.ColumnText(0);
  key.user_id = stmt.ColumnInt(1);
  key.secret_hash = stmt.ColumnText(2);
  key.created_us = stmt.ColumnInt(3);
  key.revoked = stmt.ColumnInt(4) != 0;
  key.label = stmt.ColumnText(5);
  return key;
}

Result<std::optional<Organization>> SqliteStore::FindOrganization(Connection& c,
                                                                  const std::string& name) {
  KIZUNA_ASSIGN_OR_RETURN(
      Statement stmt, c.Prepare("SELECT id, name, identity_id FROM organizations WHERE name = ?"));
  stmt.Bind(1, name);
  KIZUNA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<Organization>();
  return std::optional<Organization>(
      Organization{stmt.ColumnInt(0), stmt.ColumnText(1), stmt.ColumnText(2)});
}

}  // namespace sqlite_internal
}  // namespace kizuna::store
