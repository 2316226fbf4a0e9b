// The alerting module's own database, DIR/alerts.db (SQLite, WAL): the
// recipients, the events (observations after enrichment, routing and
// de-duplication), the findings already reported (suppression), and the
// reports with their delivery state and log. Kept apart from the object
// store because it is not STIX and is written in bulk (a day's
// Shadowserver files are millions of rows).
//
// Event ids are stable: a 63-bit hash of (recipient, ip, port, protocol,
// taxonomy, type, identifier, day seen), so the same finding ingested twice
// (the same file again, or the same host from two sources) is one event
// whose count grows. (The id has its own unique index; rows are kept in
// arrival order, so a day's million new events append to the table instead
// of landing on random pages of it.) Report ids are UUIDv5 of (recipient, cutoff), so a
// report is built once per recipient and period however often the run is
// repeated or interrupted.
//
// Thread-safety: AlertsDb serializes every use of its connection with a
// mutex (Lock()); callers hold the lock for a whole unit of work. Several
// processes (the node and a CLI command on the same DIR) share the file
// through SQLite's locking. Ownership: AlertsDb owns its connection.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerts/event_chunks.h"
#include "alerts/recipients.h"
#include "common/status.h"
#include "store/sqlite/connection.h"

namespace kizuna::alerts {

// Report states. A report is queued when built, "sending" while a channel
// has it (persisted before the attempt, so a crash is seen on restart),
// then sent, or failed (retried with backoff: back to queued with a later
// next_attempt) or given up after the attempts allowed; acknowledged when
// the recipient says it has it.
inline constexpr std::string_view kQueued = "queued";
inline constexpr std::string_view kSending = "sending";
inline constexpr std::string_view kSent = "sent";
inline constexpr std::string_view kFailed = "failed";
inline constexpr std::string_view kGaveUp = "gave-up";
inline constexpr std::string_view kAcknowledged = "acknowledged";

// events.report values besides a report's rowid.
inline constexpr int64_t kReportSuppressed = -1;  // reported recently: not again
inline constexpr int64_t kReportWithheld = -2;    // the sharing decision refused it

struct ReportRow {
  int64_t rowid = 0;
  std::string id;  // UUID
  std::string recipient;
  int64_t period_start_us = 0;
  int64_t cutoff_us = 0;  // the report holds the events received before this
  int64_t created_us = 0;
  std::string format, channel, tlp;
  int64_t events = 0, suppressed = 0, withheld = 0;
  std::string filename, content_type;
  std::string state;
  int64_t attempts = 0;
  int64_t next_attempt_us = 0;
  std::string last_error;
  int64_t sent_us = 0, acknowledged_us = 0;
  // Reports built before bodies were rendered on demand keep theirs in
  // DIR/alerts/reports/<body_file>; "" for the others (LoadReportBody).
  std::string body_file;
  std::string delivered_to;  // e-mail: the addresses that accepted it, comma-separated
  int64_t sender_pid = 0;    // "sending": the process that claimed it (same host)
  std::string producer, producer_identity;  // the node's, when it was built
  std::string body;                         // only when loaded (LoadReportBody)
};

struct LogEntry {
  int64_t at_us = 0;
  std::string state, detail;
};

// Writes a built chunk of events into event_chunks (event_chunks.h): the
// events of `recipient` ("" for the unrouted) that arrived at
// `received_us`. Returns its rowid. The caller holds the lock and a write
// transaction.
Result<int64_t> InsertChunk(store::sqlite::Connection& c, const std::string& recipient,
                            int64_t received_us, const ChunkBuilder::Blobs& chunk);
// The cutoff of `recipient`'s last cut (0: none): its events that arrived
// before it are in a report (or were left out of one); later ones pend.
Result<int64_t> LastCutoff(store::sqlite::Connection& c, const std::string& recipient);

class AlertsDb {
 public:
  // Opens (creating) DIR/alerts.db and brings its schema up to date.
  static Result<std::unique_ptr<AlertsDb>> Open(const std::string& node_dir);
  static std::string PathIn(const std::string& node_dir);

  const std::string& node_dir() const { return node_dir_; }
  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mutex_); }
  // The connection; use it only while holding Lock().
  store::sqlite::Connection& connection() { return *connection_; }

  // Recipients (each call takes the lock).
  Status PutRecipient(const Recipient& recipient);  // adds or replaces
  Status RemoveRecipient(const std::string& name);  // kNotFound when absent
  Result<std::vector<Recipient>> Recipients();

  // Reports (each call takes the lock).
  Result<std::vector<ReportRow>> Reports(const std::string& recipient, int limit);
  Result<ReportRow> Report(const std::string& id);
  // Reports to deliver now, oldest first: queued and due, or "sending"
  // whose lease ran out or whose sender process is gone.
  Result<std::vector<ReportRow>> DueReports(int64_t now_us, int limit);
  Result<std::vector<LogEntry>> ReportLog(const std::string& id);
  // Appends to a report's log (needs the lock held by the caller).
  Status AppendLog(int64_t report_rowid, int64_t at_us, std::string_view state,
                   std::string_view detail);

 private:
  AlertsDb(std::string node_dir, std::unique_ptr<store::sqlite::Connection> connection)
      : node_dir_(std::move(node_dir)), connection_(std::move(connection)) {}
  Result<std::vector<ReportRow>> ReadReports(const std::string& where, const std::string& arg,
                                             int limit,
                                             const std::string& order = "cutoff DESC, rowid DESC");

  const std::string node_dir_;
  std::mutex mutex_;
  std::unique_ptr<store::sqlite::Connection> connection_;  // GUARDED_BY(mutex_)
};

}  // namespace kizuna::alerts
