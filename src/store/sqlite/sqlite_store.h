// The embedded SQLite store (WAL mode). The schema is versioned; Open()
// creates or migrates it. See store/store.h for the contract.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace kizuna::store {

struct SqliteOptions {
  // PRAGMA synchronous: "FULL" makes every commit survive power loss;
  // "NORMAL" (WAL) survives a process crash (kill -9) but not power loss.
  std::string synchronous = "FULL";
  int busy_timeout_ms = 10000;
};

// Opens (creating if needed) the database file at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options = {});

// The schema version this build writes.
int SqliteSchemaVersion();

}  // namespace kizuna::store
