// Thin RAII layer over the SQLite C API for the sqlite store: one Connection
// owns a sqlite3 handle and a cache of its prepared statements; a Statement
// is a borrowed, bound, steppable prepared statement.
//
// Thread-safety: a Connection (and its statements) is used by one thread at a
// time; the store hands connections out from a pool. Internal to store/sqlite;
// sqlite3.h stays in the .cc files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kizuna::store::sqlite {

struct ConnectionCloser {
  void operator()(sqlite3* db) const;
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const;
};
using DbHandle = std::unique_ptr<sqlite3, ConnectionCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// A prepared statement borrowed from a Connection. Reset and unbound when it
// goes out of scope, so the cached statement is ready for its next use and
// releases its read snapshot promptly.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, StmtHandle owned);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameter indexes start at 1, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindNull(int index);
  // Binds text, or NULL when the text is empty.
  Statement& BindOptional(int index, std::string_view text);
  // Binds bytes as a BLOB (copied).
  Statement& BindBlob(int index, std::string_view bytes);

  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  // Makes the statement ready to be bound and run again.
  void Reset();

  // Column indexes start at 0.
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  bool ColumnIsNull(int column) const;
  // A BLOB (or text) column's bytes, valid until the next Step or Reset.
  std::string_view ColumnBlob(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  StmtHandle owned_;   // set when the statement is not cached
  Status bind_error_;  // the first failed Bind, reported by Step
};

class Connection {
 public:
  // Opens (creating if needed) the database file. Sets busy_timeout,
  // foreign_keys=ON, journal_mode=WAL, the given synchronous level and a
  // page cache of `cache_kib` KiB. `new_page_size` (a power of two, 512 to
  // 65536; 0 for SQLite's 4096) is the page size of a file created now; an
  // existing file keeps its own.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const std::string& synchronous,
                                                  int busy_timeout_ms, int cache_kib,
                                                  int new_page_size = 0);

  // Runs one or more SQL statements without results.
  Status Exec(const std::string& sql);
  // The prepared statement for `sql`, cached per connection. Statements whose
  // SQL varies a lot (long IN lists) are prepared fresh once the cache is full.
  Result<Statement> Prepare(const std::string& sql);

  // Status for the connection's last error, e.g. "database is locked".
  Status LastError(std::string_view context) const;
  int64_t LastInsertRowId() const;
  int64_t Changes() const;
  sqlite3* raw() const { return db_.get(); }

 private:
  explicit Connection(DbHandle db) : db_(std::move(db)) {}

  // Statements must be finalized before the handle closes: declared after db_.
  DbHandle db_;
  std::unordered_map<std::string, StmtHandle> statements_;
};

// Maps an SQLite result code to kizuna's Status codes.
Status SqliteError(int code, std::string_view context, std::string_view detail);

// Runs BEGIN IMMEDIATE / BEGIN on construction and ROLLBACK on destruction
// unless Commit() succeeded, so an early return never leaves a transaction open.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& connection, bool immediate);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}
  Connection* connection_;  // null once committed or rolled back
};

}  // namespace kizuna::store::sqlite
