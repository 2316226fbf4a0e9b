#include "alerts/alerts_db.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>

#include "alerts/event_chunks.h"

namespace kizuna::alerts {

namespace {

// Version 1. New columns or tables go in further steps below, never by
// editing this one: a node's file must open with every later build.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS recipients(
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events(
  rowid INTEGER PRIMARY KEY,
  id INTEGER NOT NULL UNIQUE,
  recipient TEXT NOT NULL,
  received INTEGER NOT NULL,
  day INTEGER NOT NULL,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  protocol TEXT NOT NULL,
  taxonomy TEXT NOT NULL,
  type TEXT NOT NULL,
  identifier TEXT NOT NULL,
  family TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  count INTEGER NOT NULL,
  asn INTEGER NOT NULL,
  as_name TEXT NOT NULL,
  country TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hostname TEXT NOT NULL,
  source TEXT NOT NULL,
  origin TEXT NOT NULL,
  tlp TEXT NOT NULL,
  confidence INTEGER NOT NULL,
  route TEXT NOT NULL,
  geo_version TEXT NOT NULL,
  evidence TEXT NOT NULL,
  report INTEGER
);
CREATE INDEX IF NOT EXISTS events_pending ON events(recipient, received) WHERE report IS NULL;
CREATE INDEX IF NOT EXISTS events_by_report ON events(report) WHERE report > 0;
CREATE TABLE IF NOT EXISTS findings(
  recipient TEXT NOT NULL,
  ip TEXT NOT NULL,
  type TEXT NOT NULL,
  identifier TEXT NOT NULL,
  last_reported INTEGER NOT NULL,
  PRIMARY KEY(recipient, ip, type, identifier)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reports(
  rowid INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  cutoff INTEGER NOT NULL,
  created INTEGER NOT NULL,
  format TEXT NOT NULL,
  channel TEXT NOT NULL,
  tlp TEXT NOT NULL,
  events INTEGER NOT NULL,
  suppressed INTEGER NOT NULL,
  withheld INTEGER NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body_file TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  sent INTEGER NOT NULL DEFAULT 0,
  acknowledged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS reports_by_recipient ON reports(recipient, cutoff);
CREATE INDEX IF NOT EXISTS reports_due ON reports(state, next_attempt);
CREATE TABLE IF NOT EXISTS report_log(
  report INTEGER NOT NULL,
  at INTEGER NOT NULL,
  state TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS report_log_by_report ON report_log(report, at);
)sql";

// Step 3: events kept in chunks (event_chunks.h) instead of a row each; what
// a report covers is a range of arrival times per recipient (a cut), with
// the events it left out listed per chunk; suppression's memory is one blob
// of finding keys per recipient. The step-1 tables "events" and "findings"
// are converted (MigrateEventRows) and dropped.
// The loop across borders: event_state: per event, each state it reached
// after its report went out (a partner node's answers: delivered,
// acknowledged, unrouted; the re-check: remediated, still-infected), once
// each. partner_reports / partner_events: the alert reports partners' nodes
// sent us and which of our events each of their events became. rechecks:
// the reports re-checked. cursors: where the followers are.
constexpr int64_t kSchemaVersion = 4;
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS event_chunks(
  rowid INTEGER PRIMARY KEY,
  recipient TEXT NOT NULL,
  received INTEGER NOT NULL,
  day_min INTEGER NOT NULL,
  day_max INTEGER NOT NULL,
  events INTEGER NOT NULL,
  slots BLOB NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS event_chunks_by_recipient ON event_chunks(recipient, received);
CREATE INDEX IF NOT EXISTS event_chunks_by_day ON event_chunks(day_min, day_max);
CREATE TABLE IF NOT EXISTS cuts(
  recipient TEXT NOT NULL,
  cutoff INTEGER NOT NULL,
  range_from INTEGER NOT NULL,
  included INTEGER NOT NULL,
  suppressed INTEGER NOT NULL,
  withheld INTEGER NOT NULL,
  report INTEGER,
  PRIMARY KEY(recipient, cutoff)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cut_left_out(
  recipient TEXT NOT NULL,
  cutoff INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  slots BLOB NOT NULL,
  PRIMARY KEY(recipient, cutoff, chunk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reported_findings(
  recipient TEXT PRIMARY KEY,
  entries BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS reported_events(
  event_id INTEGER PRIMARY KEY,
  report INTEGER NOT NULL,
  ip TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reported_events_by_report ON reported_events(report);
CREATE TABLE IF NOT EXISTS event_state(
  rowid INTEGER PRIMARY KEY,
  event_id INTEGER NOT NULL,
  state TEXT NOT NULL,
  at INTEGER NOT NULL,
  detail TEXT NOT NULL,
  UNIQUE(event_id, state)
);
CREATE TABLE IF NOT EXISTS partner_reports(
  ref TEXT PRIMARY KEY,
  peer TEXT NOT NULL,
  received INTEGER NOT NULL,
  events INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partner_events(
  ref TEXT PRIMARY KEY,
  peer TEXT NOT NULL,
  remote_event TEXT NOT NULL,
  report_ref TEXT NOT NULL,
  local_event INTEGER NOT NULL,
  received INTEGER NOT NULL,
  tlp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS partner_events_by_local ON partner_events(local_event);
CREATE TABLE IF NOT EXISTS rechecks(
  report INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  remediated INTEGER NOT NULL,
  still_infected INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors(
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
)sql";

// The step-1 events table's columns, as ReadV1EventRow reads them.
const char* const kV1EventColumns =
    "id, recipient, received, ip, port, protocol, taxonomy, type, identifier, family, first_seen, "
    "last_seen, count, asn, as_name, country, prefix, hostname, source, origin, tlp, confidence, "
    "route, geo_version, evidence";

EventRow ReadV1EventRow(const store::sqlite::Statement& s) {
  EventRow e;
  e.id = s.ColumnInt(0);
  e.recipient = s.ColumnText(1);
  e.received_us = s.ColumnInt(2);
  e.ip = s.ColumnText(3);
  e.port = s.ColumnInt(4);
  e.protocol = s.ColumnText(5);
  e.taxonomy = s.ColumnText(6);
  e.type = s.ColumnText(7);
  e.identifier = s.ColumnText(8);
  e.family = s.ColumnText(9);
  e.first_seen_us = s.ColumnInt(10);
  e.last_seen_us = s.ColumnInt(11);
  e.count = s.ColumnInt(12);
  e.asn = s.ColumnInt(13);
  e.as_name = s.ColumnText(14);
  e.country = s.ColumnText(15);
  e.prefix = s.ColumnText(16);
  e.hostname = s.ColumnText(17);
  e.source = s.ColumnText(18);
  e.origin = s.ColumnText(19);
  e.tlp = s.ColumnText(20);
  e.confidence = s.ColumnInt(21);
  e.route = s.ColumnText(22);
  e.geo_version = s.ColumnText(23);
  e.evidence = s.ColumnText(24);
  return e;
}

Result<bool> HasTable(store::sqlite::Connection& c, const char* name) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement has,
      c.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1"));
  has.Bind(1, std::string_view(name));
  KIZUNA_ASSIGN_OR_RETURN(bool row, has.Step());
  return row && has.ColumnInt(0) > 0;
}

// The step-1 layout to the step-3 one. Reports keep their events (each
// report becomes a cut whose range holds them); events not yet reported
// stay pending; events a report left out (suppressed, withheld) were never
// sent and are dropped; the reported findings keep suppressing.
Status MigrateEventRows(store::sqlite::Connection& c) {
  KIZUNA_ASSIGN_OR_RETURN(bool has_events, HasTable(c, "events"));
  if (!has_events) return Status::Ok();
  // The cuts of the reports made so far, per recipient in order.
  std::map<int64_t, std::pair<int64_t, int64_t>> report_range;  // rowid -> [from, cutoff)
  std::map<std::string, int64_t> last_cutoff;
  {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement reports,
        c.Prepare("SELECT rowid, recipient, cutoff, events, suppressed, withheld FROM reports "
                  "ORDER BY recipient, cutoff"));
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, reports.Step());
      if (!row) break;
      const std::string recipient = reports.ColumnText(1);
      const int64_t cutoff = reports.ColumnInt(2);
      auto [it, first] = last_cutoff.try_emplace(recipient, 0);
      const int64_t from = it->second;
      it->second = cutoff;
      report_range[reports.ColumnInt(0)] = {from, cutoff};
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement cut,
          c.Prepare("INSERT OR IGNORE INTO cuts(recipient, cutoff, range_from, included, "
                    "suppressed, withheld, report) VALUES(?1,?2,?3,?4,?5,?6,?7)"));
      cut.Bind(1, recipient)
          .Bind(2, cutoff)
          .Bind(3, from)
          .Bind(4, reports.ColumnInt(3))
          .Bind(5, reports.ColumnInt(4))
          .Bind(6, reports.ColumnInt(5))
          .Bind(7, reports.ColumnInt(0));
      KIZUNA_RETURN_IF_ERROR(cut.Run());
    }
  }
  {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement events,
        c.Prepare(std::string("SELECT ") + kV1EventColumns +
                  ", day, report FROM events WHERE report IS NULL OR report > 0 "
                  "ORDER BY recipient, report, received, rowid"));
    ChunkBuilder chunk;
    std::string chunk_recipient;
    int64_t chunk_received = 0, chunk_report = 0;
    auto flush = [&]() -> Status {
      if (chunk.empty()) return Status::Ok();
      KIZUNA_ASSIGN_OR_RETURN(ChunkBuilder::Blobs blobs, chunk.Finish());
      KIZUNA_ASSIGN_OR_RETURN(int64_t rowid,
                              InsertChunk(c, chunk_recipient, chunk_received, blobs));
      (void)rowid;
      chunk = ChunkBuilder();
      return Status::Ok();
    };
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, events.Step());
      if (!row) break;
      const EventRow e = ReadV1EventRow(events);
      const int64_t day_seconds = events.ColumnInt(25);
      const int64_t report = events.ColumnIsNull(26) ? 0 : events.ColumnInt(26);
      int64_t received = e.received_us;
      if (report > 0) {
        auto range = report_range.find(report);
        if (range == report_range.end()) continue;  // its report is gone
        received = range->second.first;             // inside [from, cutoff)
      } else {
        auto last = last_cutoff.find(e.recipient);
        if (last != last_cutoff.end()) received = std::max(received, last->second);
      }
      if (!chunk.empty() &&
          (e.recipient != chunk_recipient || report != chunk_report ||
           (report == 0 && received != chunk_received) || chunk.size() >= kChunkEvents)) {
        KIZUNA_RETURN_IF_ERROR(flush());
      }
      chunk_recipient = e.recipient;
      chunk_report = report;
      chunk_received = received;
      chunk.Add(e, static_cast<uint16_t>(std::clamp<int64_t>(day_seconds / 86400, 0, 0xFFFF)));
    }
    KIZUNA_RETURN_IF_ERROR(flush());
  }
  {
    std::map<std::string, std::map<uint64_t, int64_t>> findings;
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement read,
        c.Prepare("SELECT recipient, ip, type, identifier, last_reported FROM findings"));
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      int64_t& at = findings[read.ColumnText(0)][FindingKey(read.ColumnText(1), read.ColumnText(2),
                                                            read.ColumnText(3))];
      at = std::max(at, read.ColumnInt(4));
    }
    for (const auto& [recipient, entries] : findings) {
      std::vector<FindingEntry> sorted;
      for (const auto& [key, at] : entries) sorted.push_back(FindingEntry{key, at});
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement write,
          c.Prepare("INSERT OR REPLACE INTO reported_findings(recipient, entries) VALUES(?1,?2)"));
      write.Bind(1, recipient).BindBlob(2, WriteFindings(sorted));
      KIZUNA_RETURN_IF_ERROR(write.Run());
    }
  }
  return c.Exec("DROP TABLE events; DROP TABLE findings;");
}

constexpr const char* kReportColumns =
    "rowid, id, recipient, period_start, cutoff, created, format, channel, tlp, events, "
    "suppressed, withheld, filename, content_type, state, attempts, next_attempt, last_error, "
    "sent, acknowledged, body_file, delivered_to, sender_pid, producer, producer_identity";

}  // namespace

std::string AlertsDb::PathIn(const std::string& node_dir) {
  return (std::filesystem::path(node_dir) / "alerts.db").string();
}

// Most of alerts.db is event chunks, blobs of a megabyte or more: in pages
// of 64 KiB they are written and read in a sixteenth of the system calls
// of SQLite's 4 KiB pages (a file created before keeps its page size).
constexpr int kPageSize = 65536;

Result<std::unique_ptr<AlertsDb>> AlertsDb::Open(const std::string& node_dir) {
  KIZUNA_ASSIGN_OR_RETURN(
      std::unique_ptr<store::sqlite::Connection> connection,
      store::sqlite::Connection::Open(PathIn(node_dir), "NORMAL", /*busy_timeout_ms=*/10000,
                                      /*cache_kib=*/16384, kPageSize));
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(*connection, true));
  // user_version: 0 for a new file or one of steps 1-2, then the last step
  // applied; steps already applied are not run again.
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement version,
                          connection->Prepare("PRAGMA user_version"));
  KIZUNA_ASSIGN_OR_RETURN(bool has_version, version.Step());
  const int64_t applied = has_version ? version.ColumnInt(0) : 0;
  version.Reset();
  if (applied >= kSchemaVersion) {
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
    return std::unique_ptr<AlertsDb>(new AlertsDb(node_dir, std::move(connection)));
  }
  KIZUNA_RETURN_IF_ERROR(connection->Exec(kSchemaV1));
  // Step 2: the addresses that already accepted a report (a retry goes to
  // the others only) and the process sending it (taken up when it is gone).
  // Step 4: who built a report, for the body rendered from its cut when it
  // is delivered or shown (reports.h LoadReportBody) instead of a file
  // written when it is built.
  for (const auto& [column, definition] :
       {std::pair<const char*, const char*>{"delivered_to", "TEXT NOT NULL DEFAULT ''"},
        {"sender_pid", "INTEGER NOT NULL DEFAULT 0"},
        {"producer", "TEXT NOT NULL DEFAULT ''"},
        {"producer_identity", "TEXT NOT NULL DEFAULT ''"}}) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement has,
        connection->Prepare(std::string("SELECT count(*) FROM pragma_table_info('reports') "
                                        "WHERE name = '") +
                            column + "'"));
    KIZUNA_ASSIGN_OR_RETURN(bool row, has.Step());
    const bool present = row && has.ColumnInt(0) > 0;
    has.Reset();
    if (!present) {
      KIZUNA_RETURN_IF_ERROR(connection->Exec(std::string("ALTER TABLE reports ADD COLUMN ") +
                                              column + " " + definition));
    }
  }
  KIZUNA_RETURN_IF_ERROR(connection->Exec(kSchemaV3));
  KIZUNA_RETURN_IF_ERROR(MigrateEventRows(*connection));
  KIZUNA_RETURN_IF_ERROR(
      connection->Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)));
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  return std::unique_ptr<AlertsDb>(new AlertsDb(node_dir, std::move(connection)));
}

Result<int64_t> InsertChunk(store::sqlite::Connection& c, const std::string& recipient,
                            int64_t received_us, const ChunkBuilder::Blobs& blobs) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement insert,
      c.Prepare("INSERT INTO event_chunks(recipient, received, day_min, day_max, events, slots, "
                "data) VALUES(?1,?2,?3,?4,?5,?6,?7)"));
  insert.Bind(1, recipient)
      .Bind(2, received_us)
      .Bind(3, int64_t{blobs.day_min})
      .Bind(4, int64_t{blobs.day_max})
      .Bind(5, blobs.events)
      .BindBlob(6, blobs.slots)
      .BindBlob(7, blobs.data);
  KIZUNA_RETURN_IF_ERROR(insert.Run());
  return c.LastInsertRowId();
}

Result<int64_t> LastCutoff(store::sqlite::Connection& c, const std::string& recipient) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement last,
      c.Prepare("SELECT coalesce(max(cutoff), 0) FROM cuts WHERE recipient = ?1"));
  last.Bind(1, recipient);
  KIZUNA_ASSIGN_OR_RETURN(bool row, last.Step());
  return row ? last.ColumnInt(0) : 0;
}

Status AlertsDb::PutRecipient(const Recipient& recipient) {
  KIZUNA_RETURN_IF_ERROR(ValidateRecipient(recipient));
  auto lock = Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement statement,
      connection_->Prepare("INSERT INTO recipients(name, config) VALUES(?1, ?2) "
                           "ON CONFLICT(name) DO UPDATE SET config = excluded.config"));
  statement.Bind(1, recipient.name).Bind(2, RecipientToJson(recipient));
  return statement.Run();
}

Status AlertsDb::RemoveRecipient(const std::string& name) {
  auto lock = Lock();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement statement,
                          connection_->Prepare("DELETE FROM recipients WHERE name = ?1"));
  statement.Bind(1, name);
  KIZUNA_RETURN_IF_ERROR(statement.Run());
  if (connection_->Changes() == 0) return NotFound("no recipient named " + name);
  return Status::Ok();
}

Result<std::vector<Recipient>> AlertsDb::Recipients() {
  auto lock = Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement statement,
      connection_->Prepare("SELECT name, config FROM recipients ORDER BY name"));
  std::vector<Recipient> out;
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    auto recipient = RecipientFromJson(statement.ColumnText(1));
    if (!recipient.ok()) {
      return Internal("alerts.db: recipient " + statement.ColumnText(0) +
                      " is unreadable: " + recipient.status().message());
    }
    out.push_back(std::move(*recipient));
  }
  return out;
}

Result<std::vector<ReportRow>> AlertsDb::ReadReports(const std::string& where,
                                                     const std::string& arg, int limit,
                                                     const std::string& order) {
  std::string sql = std::string("SELECT ") + kReportColumns + " FROM reports" +
                    (where.empty() ? "" : " WHERE " + where) + " ORDER BY " + order + " LIMIT ?2";
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement statement, connection_->Prepare(sql));
  if (!where.empty()) statement.Bind(1, arg);
  statement.Bind(2, int64_t{limit});
  std::vector<ReportRow> out;
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    ReportRow r;
    r.rowid = statement.ColumnInt(0);
    r.id = statement.ColumnText(1);
    r.recipient = statement.ColumnText(2);
    r.period_start_us = statement.ColumnInt(3);
    r.cutoff_us = statement.ColumnInt(4);
    r.created_us = statement.ColumnInt(5);
    r.format = statement.ColumnText(6);
    r.channel = statement.ColumnText(7);
    r.tlp = statement.ColumnText(8);
    r.events = statement.ColumnInt(9);
    r.suppressed = statement.ColumnInt(10);
    r.withheld = statement.ColumnInt(11);
    r.filename = statement.ColumnText(12);
    r.content_type = statement.ColumnText(13);
    r.state = statement.ColumnText(14);
    r.attempts = statement.ColumnInt(15);
    r.next_attempt_us = statement.ColumnInt(16);
    r.last_error = statement.ColumnText(17);
    r.sent_us = statement.ColumnInt(18);
    r.acknowledged_us = statement.ColumnInt(19);
    r.body_file = statement.ColumnText(20);
    r.delivered_to = statement.ColumnText(21);
    r.sender_pid = statement.ColumnInt(22);
    r.producer = statement.ColumnText(23);
    r.producer_identity = statement.ColumnText(24);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<ReportRow>> AlertsDb::DueReports(int64_t now_us, int limit) {
  auto lock = Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      std::vector<ReportRow> listed,
      ReadReports("(state = 'queued' AND next_attempt <= CAST(?1 AS INTEGER)) OR state = 'sending'",
                  std::to_string(now_us), limit, "rowid"));
  std::vector<ReportRow> due;
  for (ReportRow& r : listed) {
    // A report another process is sending is left to it until its lease
    // ends, or at once when that process is gone (killed, crashed).
    const bool sender_gone = r.sender_pid > 0 && r.sender_pid != ::getpid() &&
                             ::kill(static_cast<pid_t>(r.sender_pid), 0) != 0 && errno == ESRCH;
    if (r.state == kQueued || r.next_attempt_us <= now_us || sender_gone) {
      due.push_back(std::move(r));
    }
  }
  return due;
}

Result<std::vector<ReportRow>> AlertsDb::Reports(const std::string& recipient, int limit) {
  auto lock = Lock();
  return ReadReports(recipient.empty() ? "" : "recipient = ?1", recipient, limit);
}

Result<ReportRow> AlertsDb::Report(const std::string& id) {
  auto lock = Lock();
  KIZUNA_ASSIGN_OR_RETURN(std::vector<ReportRow> rows, ReadReports("id = ?1", id, 1));
  if (rows.empty()) return NotFound("no report " + id);
  return std::move(rows.front());
}

Result<std::vector<LogEntry>> AlertsDb::ReportLog(const std::string& id) {
  auto lock = Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement statement,
      connection_->Prepare("SELECT l.at, l.state, l.detail FROM report_log l JOIN reports r ON "
                           "r.rowid = l.report WHERE r.id = ?1 ORDER BY l.at, l.rowid"));
  statement.Bind(1, id);
  std::vector<LogEntry> out;
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    out.push_back(
        LogEntry{statement.ColumnInt(0), statement.ColumnText(1), statement.ColumnText(2)});
  }
  return out;
}

Status AlertsDb::AppendLog(int64_t report_rowid, int64_t at_us, std::string_view state,
                           std::string_view detail) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement statement,
      connection_->Prepare(
          "INSERT INTO report_log(report, at, state, detail) VALUES(?1,?2,?3,?4)"));
  statement.Bind(1, report_rowid).Bind(2, at_us).Bind(3, state).Bind(4, detail);
  return statement.Run();
}

}  // namespace kizuna::alerts
