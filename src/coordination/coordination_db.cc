#include "coordination/coordination_db.h"

#include <filesystem>

#include "store/sqlite/migrations.h"

namespace kizuna::coordination {

namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS drills(
  id TEXT PRIMARY KEY,
  started INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  message TEXT NOT NULL,
  schedule TEXT NOT NULL DEFAULT '',
  started_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS drill_teams(
  drill TEXT NOT NULL REFERENCES drills(id),
  peer TEXT NOT NULL,
  object_id TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL UNIQUE,
  mail_state TEXT NOT NULL DEFAULT '',
  mail_detail TEXT NOT NULL DEFAULT '',
  email_ack INTEGER,
  PRIMARY KEY(drill, peer)
);
CREATE TABLE IF NOT EXISTS drill_schedules(
  id TEXT PRIMARY KEY,
  peers TEXT NOT NULL,
  every_us INTEGER NOT NULL,
  deadline_us INTEGER NOT NULL,
  message TEXT NOT NULL,
  next_run INTEGER NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  subject TEXT NOT NULL,
  event TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_subject ON audit(subject, seq);
)sql";

// Step 2: emergencies, each team's escalation and every contact notified.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS emergencies(
  id TEXT PRIMARY KEY,
  raised INTEGER NOT NULL,
  summary TEXT NOT NULL,
  ack_us INTEGER NOT NULL,
  raised_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS emergency_teams(
  emergency TEXT NOT NULL REFERENCES emergencies(id),
  peer TEXT NOT NULL,
  object_id TEXT NOT NULL,
  state TEXT NOT NULL,
  next_escalation INTEGER NOT NULL,
  acknowledged INTEGER,
  channel TEXT NOT NULL DEFAULT '',
  acknowledged_by TEXT NOT NULL DEFAULT '',
  contacts TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY(emergency, peer)
);
CREATE INDEX IF NOT EXISTS emergency_teams_due ON emergency_teams(state, next_escalation);
CREATE TABLE IF NOT EXISTS emergency_steps(
  emergency TEXT NOT NULL,
  peer TEXT NOT NULL,
  step INTEGER NOT NULL,
  at INTEGER NOT NULL,
  contact_key TEXT NOT NULL,
  role TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone TEXT NOT NULL,
  within_hours INTEGER NOT NULL,
  mail_state TEXT NOT NULL,
  mail_detail TEXT NOT NULL,
  token_hash TEXT UNIQUE,
  PRIMARY KEY(emergency, peer, step)
);
)sql";

}  // namespace

Result<std::unique_ptr<CoordinationDb>> CoordinationDb::Open(const std::string& node_dir) {
  const std::string path = (std::filesystem::path(node_dir) / "coordination.db").string();
  KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<store::sqlite::Connection> connection,
                          store::sqlite::Connection::Open(path, "NORMAL", /*busy_timeout_ms=*/10000,
                                                          /*cache_kib=*/2048));
  // Step 1: drills, their teams and schedules, the audit trail; step 2:
  // emergencies.
  static constexpr std::string_view kSteps[] = {kSchemaV1, kSchemaV2};
  KIZUNA_RETURN_IF_ERROR(store::sqlite::MigrateSteps(*connection, kSteps, "coordination database"));
  return std::unique_ptr<CoordinationDb>(new CoordinationDb(std::move(connection)));
}

Status Audit(store::sqlite::Connection& c, int64_t at_us, std::string_view subject,
             std::string_view event, std::string_view detail) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement insert,
      c.Prepare("INSERT INTO audit(at, subject, event, detail) VALUES(?1, ?2, ?3, ?4)"));
  insert.Bind(1, at_us).Bind(2, subject).Bind(3, event).Bind(4, detail);
  return insert.Run();
}

Result<std::vector<AuditEntry>> AuditTrail(CoordinationDb& db, const std::string& subject) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      db.connection().Prepare(
          "SELECT at, event, detail FROM audit WHERE subject = ?1 ORDER BY seq"));
  select.Bind(1, subject);
  std::vector<AuditEntry> out;
  while (true) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.push_back(
        AuditEntry{select.ColumnInt(0), subject, select.ColumnText(1), select.ColumnText(2)});
  }
  select.Reset();
  return out;
}

}  // namespace kizuna::coordination
