#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>

namespace kizuna::store::sqlite {

namespace {

// Enough for every fixed query shape of the store; beyond it, varying SQL
// (e.g. IN lists of many lengths) is prepared per use instead of growing the
// cache without bound.
constexpr size_t kMaxCachedStatements = 256;

}  // namespace

void ConnectionCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void StatementFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Status SqliteError(int code, std::string_view context, std::string_view detail) {
  std::string message = std::string(context) + ": " + std::string(detail);
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(message + " (the store is busy; try again)");
    case SQLITE_CONSTRAINT:
      return AlreadyExists(message);
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return IoError(message);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return IoError(message + " (the store file is damaged or not a kizuna store)");
    case SQLITE_TOOBIG:
      return TooLarge(message);
    default:
      return Internal(message);
  }
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, StmtHandle owned)
    : db_(db), stmt_(stmt), owned_(std::move(owned)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      owned_(std::move(other.owned_)),
      bind_error_(std::move(other.bind_error_)) {}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(rc, "bind", sqlite3_errstr(rc));
  }
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(rc, "bind", sqlite3_errstr(rc));
  }
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(rc, "bind", sqlite3_errstr(rc));
  }
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(rc, "bind", sqlite3_errstr(rc));
  }
  return *this;
}

Statement& Statement::BindOptional(int index, std::string_view text) {
  return text.empty() ? BindNull(index) : Bind(index, text);
}

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, "sqlite", sqlite3_errmsg(db_));
}

Status Statement::Run() {
  while (true) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string_view Statement::ColumnBlob(int column) const {
  const void* bytes = sqlite3_column_blob(stmt_, column);
  if (bytes == nullptr) return {};
  return std::string_view(static_cast<const char*>(bytes),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     const std::string& synchronous,
                                                     int busy_timeout_ms, int cache_kib,
                                                     int new_page_size) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the pool guarantees one thread per connection at a time.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw);  // sqlite3_open_v2 returns a handle even on failure
  if (rc != SQLITE_OK) {
    return SqliteError(rc, "cannot open store " + path,
                       raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  std::unique_ptr<Connection> connection(new Connection(std::move(db)));
  // busy_timeout first: switching to WAL may have to wait for another process.
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  if (synchronous != "OFF" && synchronous != "NORMAL" && synchronous != "FULL" &&
      synchronous != "EXTRA") {
    return InvalidArgument("store option synchronous must be OFF, NORMAL, FULL or EXTRA, not '" +
                           synchronous + "'");
  }
  KIZUNA_RETURN_IF_ERROR(connection->Exec("PRAGMA foreign_keys = ON"));
  if (new_page_size != 0) {
    if (new_page_size < 512 || new_page_size > 65536 || (new_page_size & (new_page_size - 1))) {
      return InvalidArgument("page size must be a power of two from 512 to 65536");
    }
    // Before WAL mode, which fixes it; a no-op on an existing file.
    KIZUNA_RETURN_IF_ERROR(connection->Exec("PRAGMA page_size = " + std::to_string(new_page_size)));
  }
  {
    KIZUNA_ASSIGN_OR_RETURN(Statement wal, connection->Prepare("PRAGMA journal_mode = WAL"));
    KIZUNA_ASSIGN_OR_RETURN(bool row, wal.Step());
    std::string mode = row ? wal.ColumnText(0) : "";
    if (mode != "wal") {
      return IoError("store " + path + ": cannot switch to WAL mode (journal_mode is '" + mode +
                     "')");
    }
  }
  KIZUNA_RETURN_IF_ERROR(connection->Exec("PRAGMA synchronous = " + synchronous));
  // The default 2 MiB page cache rereads index pages from the OS on every
  // batch once a collection reaches tens of thousands of objects.
  KIZUNA_RETURN_IF_ERROR(
      connection->Exec("PRAGMA cache_size = -" + std::to_string(std::max(cache_kib, 512))));
  // A batch of objects with random ids dirties pages all over the id index;
  // checkpointing every 1000 pages (the default) would copy them into the
  // database on nearly every commit. 32 MiB of WAL (8192 pages of 4 KiB)
  // lets a page changed by several commits be copied once.
  KIZUNA_ASSIGN_OR_RETURN(Statement page_size, connection->Prepare("PRAGMA page_size"));
  KIZUNA_ASSIGN_OR_RETURN(bool has_page_size, page_size.Step());
  const int64_t page_bytes = has_page_size ? std::max<int64_t>(page_size.ColumnInt(0), 512) : 4096;
  page_size.Reset();
  KIZUNA_RETURN_IF_ERROR(
      connection->Exec("PRAGMA wal_autocheckpoint = " + std::to_string((32 << 20) / page_bytes)));
  return connection;
}

Status Connection::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string detail = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return SqliteError(rc, "sqlite", detail);
}

Result<Statement> Connection::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return Statement(db_.get(), it->second.get(), nullptr);
  bool cache = statements_.size() < kMaxCachedStatements;
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  StmtHandle stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(rc, "sqlite prepare", sqlite3_errmsg(db_.get()));
  if (!cache) return Statement(db_.get(), raw, std::move(stmt));
  statements_.emplace(sql, std::move(stmt));
  return Statement(db_.get(), raw, nullptr);
}

Status Connection::LastError(std::string_view context) const {
  return SqliteError(sqlite3_extended_errcode(db_.get()), context, sqlite3_errmsg(db_.get()));
}

int64_t Connection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_.get()); }
int64_t Connection::Changes() const { return sqlite3_changes64(db_.get()); }

Result<Transaction> Transaction::Begin(Connection& connection, bool immediate) {
  KIZUNA_RETURN_IF_ERROR(connection.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&connection);
}

Transaction::Transaction(Transaction&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)) {}

Transaction::~Transaction() {
  if (connection_ != nullptr) (void)connection_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Status status = connection_->Exec("COMMIT");
  if (status.ok()) connection_ = nullptr;
  return status;
}

}  // namespace kizuna::store::sqlite
