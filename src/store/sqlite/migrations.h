// The sqlite store's schema, as an ordered list of migrations. Step i (0-based)
// takes a database from schema version i to i + 1; PRAGMA user_version holds
// the version a database is at. Never edit a released step: append a new one.
#pragma once

#include <span>
#include <string_view>

#include "common/status.h"
#include "store/sqlite/connection.h"

namespace kizuna::store::sqlite {

// The migration steps, oldest first. Their count is the current schema version.
std::span<const std::string_view> Migrations();

// Brings the database to the current schema in one IMMEDIATE transaction
// (so concurrent openers migrate once). Refuses, with FailedPrecondition, a
// database whose schema is newer than this build knows.
Status Migrate(Connection& connection);

// The same for another database's own steps (a module's, e.g.
// coordination.db): step i takes it from user_version i to i + 1; `what`
// names it in errors ("the coordination database").
Status MigrateSteps(Connection& connection, std::span<const std::string_view> steps,
                    std::string_view what);

}  // namespace kizuna::store::sqlite
