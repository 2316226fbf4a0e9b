// The coordination module's own database, DIR/coordination.db (SQLite,
// WAL): what a node keeps about the drills it started (each team's object,
// contact, e-mail outcome and e-mailed acknowledgement, the token of its
// acknowledgement link, kept as a hash), its scheduled drills, and the
// audit trail of what happened when. The objects partners exchange are
// STIX in the store; this is the sender's bookkeeping, which no partner
// sees.
//
// Thread-safety: CoordinationDb serializes its connection with a mutex
// (Lock()); callers hold it for a whole unit of work. The node and a CLI
// command on the same DIR share the file through SQLite's locking.
// Ownership: it owns its connection.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/sqlite/connection.h"

namespace kizuna::coordination {

class CoordinationDb {
 public:
  // Opens (creating) DIR/coordination.db and brings its schema up to date.
  static Result<std::unique_ptr<CoordinationDb>> Open(const std::string& node_dir);

  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mutex_); }
  // Use only while holding Lock().
  store::sqlite::Connection& connection() { return *connection_; }

 private:
  explicit CoordinationDb(std::unique_ptr<store::sqlite::Connection> connection)
      : connection_(std::move(connection)) {}
  std::mutex mutex_;
  std::unique_ptr<store::sqlite::Connection> connection_;  // GUARDED_BY(mutex_)
};

// One line of the audit trail: `subject` is the drill, emergency or
// incident id, `event` what happened ("sent", "e-mailed", "acknowledged",
// "escalated", …), `detail` to whom or why.
struct AuditEntry {
  int64_t at_us = 0;
  std::string subject, event, detail;
};

// Appends to the trail (the caller holds the lock).
Status Audit(store::sqlite::Connection& c, int64_t at_us, std::string_view subject,
             std::string_view event, std::string_view detail);
// The trail of one subject, in order (takes the lock).
Result<std::vector<AuditEntry>> AuditTrail(CoordinationDb& db, const std::string& subject);

}  // namespace kizuna::coordination
