// The embedded SQLite store (WAL mode). The schema is versioned; Open()
// creates or migrates it. See store/store.h for the contract.
//
// Each operation borrows a connection from a small per-store pool, so calls
// from many threads run concurrently (reads in parallel, writes one at a time
// with BEGIN IMMEDIATE). Other processes may open the same file.
#pragma once

#include <memory>
#include <string>

#include "common/time.h"
#include "store/store.h"

namespace kizuna::store {

struct SqliteOptions {
  // PRAGMA synchronous: "FULL" makes every commit survive power loss;
  // "NORMAL" (WAL) survives a process crash (kill -9) but not power loss.
  std::string synchronous = "FULL";
  // How long an operation waits for another process's write lock before it
  // fails with kUnavailable.
  int busy_timeout_ms = 10000;
  // The clock date_added values come from. nullptr: the system clock. Not
  // owned; must outlive the store.
  const Clock* clock = nullptr;
  // Idle connections kept open for reuse (more are opened under load and
  // closed when returned to a full pool).
  int max_idle_connections = 4;
  // SQLite page cache of each connection, in KiB.
  int cache_kib_per_connection = 16384;
};

// Opens (creating if needed) the database file at `path`. Fails with
// kFailedPrecondition when the file's schema is newer than this build.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options = {});

// The schema version this build writes.
int SqliteSchemaVersion();

}  // namespace kizuna::store
