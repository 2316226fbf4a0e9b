#include "coordination/drills.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "coordination/directory.h"
#include "coordination/objects.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

constexpr int64_t kSecond = 1000000;
constexpr int64_t kMaxDeadlineUs = 30LL * 86400 * kSecond;
constexpr size_t kMaxMessageBytes = 4000;
// Names the per-team objects of a drill (UUIDv5 of the drill id and peer).
constexpr std::string_view kDrillNamespace = "5b0e7c1a-2f6d-4f0e-9a57-1c3d8e2b4f60";

Status CheckRequest(const sharing::SharingPolicy& policy, const std::vector<std::string>& peers,
                    int64_t deadline_us, const std::string& message) {
  KIZUNA_RETURN_IF_ERROR(CheckPartners(policy, peers));
  if (deadline_us <= 0 || deadline_us > kMaxDeadlineUs) {
    return InvalidArgument("the deadline: more than 0 minutes and at most 30 days");
  }
  return CheckText("the message", message, kMaxMessageBytes);
}

std::string FirstEmail(const DirectoryEntry* entry) {
  if (!entry) return "";
  for (const Contact& c : entry->contacts) {
    if (!c.email.empty()) return c.email;
  }
  return "";
}

struct Team {
  std::string peer, object_id, email, token;
};

Status RecordMail(CoordinationDb& db, const std::string& drill, const std::string& peer,
                  const std::string& state, const std::string& detail, int64_t now_us) {
  auto lock = db.Lock();
  auto& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement update,
                          c.Prepare("UPDATE drill_teams SET mail_state = ?3, mail_detail = ?4 "
                                    "WHERE drill = ?1 AND peer = ?2"));
  update.Bind(1, drill).Bind(2, peer).Bind(3, state).Bind(4, detail);
  KIZUNA_RETURN_IF_ERROR(update.Run());
  return Audit(c, now_us, drill, "e-mail " + state, peer + ": " + detail);
}

// E-mails one team its link; records the outcome.
void MailTeam(const Outbound& sender, const std::string& drill, const Team& team,
              const DrillRequest& request, int64_t now_us) {
  const std::string link = sender.ack_base_url + std::string(kDrillAckPath) + team.token;
  const std::string deadline = FormatTimestamp(now_us + request.deadline_us, 0);
  ContactMail m;
  m.to = team.email;
  m.subject =
      "Communication drill from " + sender.identity->name + ": please acknowledge by " + deadline;
  m.text = (request.message.empty() ? "" : request.message + "\n\n") +
           "This is a communication drill from " + sender.identity->name + ", sent " +
           FormatTimestamp(now_us, 0) + ".\nPlease acknowledge by " + deadline +
           ", opening this link:\n\n  " + link +
           "\n\nor on your kizuna node: kizuna drill ack DIR " + drill + "\n\nDrill: " + drill +
           "\nTLP:" + std::string(stix::TlpName(sender.tlp)) + "\n";
  m.message_id_name = drill + "/mail/" + team.peer;
  m.header = {"X-Kizuna-Drill", drill};
  MailOutcome outcome = SendContactMail(sender, m, now_us);
  Status recorded = RecordMail(*sender.db, drill, team.peer, outcome.state, outcome.detail, now_us);
  (void)recorded;  // the drill stands; the report shows what was recorded
  if (sender.progress)
    sender.progress(team.peer + ": e-mail " + outcome.state + ": " + outcome.detail);
}

}  // namespace

Result<std::string> StartDrill(const Outbound& sender, const DrillRequest& request,
                               int64_t now_us) {
  KIZUNA_RETURN_IF_ERROR(
      CheckRequest(*sender.policy, request.peers, request.deadline_us, request.message));
  const std::string drill = "drill--" + NewUuid4();
  const std::string message =
      request.message.empty()
          ? "Communication drill from " + sender.identity->name + ": please acknowledge."
          : request.message;
  KIZUNA_ASSIGN_OR_RETURN(std::vector<DirectoryEntry> directory,
                          ListDirectory(*sender.store, sender.policy->peers(), *sender.identity,
                                        now_us, /*stale_after_days=*/3650));
  std::map<std::string, const DirectoryEntry*> entry_of;
  for (const DirectoryEntry& e : directory) {
    if (!e.own) entry_of[e.peer] = &e;
  }
  std::vector<Team> teams;
  std::vector<json::object> objects;
  for (const std::string& peer : request.peers) {
    Team team{peer, std::string(kDrillType) + "--" + Uuid5(kDrillNamespace, drill + "/" + peer), "",
              NewLinkToken()};
    auto entry = entry_of.find(peer);
    team.email = FirstEmail(entry == entry_of.end() ? nullptr : entry->second);
    json::object object =
        NewAddressedObject(kDrillType, team.object_id, *sender.identity, sender.tlp, peer, now_us);
    object["name"] = "Communication drill from " + sender.identity->name;
    object["drill"] = drill;
    object["message"] = message;
    object["started"] = FormatTimestamp(now_us, 3);
    object["deadline"] = FormatTimestamp(now_us + request.deadline_us, 3);
    KIZUNA_RETURN_IF_ERROR(CheckMayReceive(*sender.policy, peer, object, sender.tlp));
    objects.push_back(std::move(object));
    teams.push_back(std::move(team));
  }
  {
    // Recorded and stored together: no partner gets a drill we do not track.
    auto lock = sender.db->Lock();
    auto& c = sender.db->connection();
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                            store::sqlite::Transaction::Begin(c, true));
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement insert,
        c.Prepare("INSERT INTO drills(id, started, deadline, message, schedule, started_by) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    insert.Bind(1, drill)
        .Bind(2, now_us)
        .Bind(3, now_us + request.deadline_us)
        .Bind(4, message)
        .Bind(5, request.schedule)
        .Bind(6, request.started_by);
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    std::string names;
    for (const Team& team : teams) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement add,
          c.Prepare("INSERT INTO drill_teams(drill, peer, object_id, email, token_hash) "
                    "VALUES(?1, ?2, ?3, ?4, ?5)"));
      add.Bind(1, drill)
          .Bind(2, team.peer)
          .Bind(3, team.object_id)
          .Bind(4, team.email)
          .Bind(5, LinkTokenHash(team.token));
      KIZUNA_RETURN_IF_ERROR(add.Run());
      names += (names.empty() ? "" : ",") + team.peer;
    }
    KIZUNA_RETURN_IF_ERROR(
        Audit(c, now_us, drill, "started",
              "to " + names + ", deadline " + FormatTimestamp(now_us + request.deadline_us, 0) +
                  (request.started_by.empty() ? "" : ", by " + request.started_by)));
    KIZUNA_RETURN_IF_ERROR(StoreOwn(*sender.store, *sender.config, *sender.identity, objects));
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
  }
  if (sender.notify) sender.notify();
  for (const Team& team : teams) {
    if (sender.progress) sender.progress(team.peer + ": drill stored for its node");
    MailTeam(sender, drill, team, request, now_us);
  }
  return drill;
}

// ---- at the partner

namespace {

ReceivedDrill DrillOf(const Received& r) {
  ReceivedDrill d;
  d.drill = Text(r.object, "drill");
  d.object_id = r.id;
  d.from = r.from;
  d.message = Text(r.object, "message");
  d.started_us = Time(r.object, "started");
  d.deadline_us = Time(r.object, "deadline");
  d.received_us = r.received_us;
  d.acknowledged_us = r.acknowledged_us;
  return d;
}

}  // namespace

Result<std::vector<ReceivedDrill>> ReceivedDrills(store::Store& store) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Received> received,
                          ReceivedOfType(store, kDrillType, kDrillAckType, "drill_ref"));
  std::vector<ReceivedDrill> out;
  for (const Received& r : received) out.push_back(DrillOf(r));
  return out;
}

Result<std::vector<ReceivedDrill>> AcknowledgeDrill(store::Store& store,
                                                    const node::NodeConfig& config,
                                                    const node::NodeIdentity& identity,
                                                    const sharing::SharingPolicy& policy,
                                                    const std::string& drill, int64_t now_us) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Received> received,
                          ReceivedOfType(store, kDrillType, kDrillAckType, "drill_ref"));
  std::vector<ReceivedDrill> acked;
  for (Received& r : received) {
    if (Text(r.object, "drill") != drill && r.id != drill) continue;
    KIZUNA_RETURN_IF_ERROR(Acknowledge(store, config, identity, policy, kDrillAckType, "drill_ref",
                                       json::object{{"drill", Text(r.object, "drill")}}, now_us,
                                       &r));
    acked.push_back(DrillOf(r));
  }
  if (acked.empty()) return NotFound("no partner sent us drill " + drill + " (kizuna drill list)");
  return acked;
}

// ---- at the origin

namespace {

Result<std::vector<DrillReport>> ReadDrills(CoordinationDb& db, const std::string& id, int limit) {
  auto lock = db.Lock();
  auto& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      c.Prepare(id.empty() ? "SELECT id, started, deadline, message, schedule FROM drills "
                             "ORDER BY started DESC LIMIT ?1"
                           : "SELECT id, started, deadline, message, schedule FROM drills "
                             "WHERE id = ?2 LIMIT ?1"));
  select.Bind(1, int64_t{limit});
  if (!id.empty()) select.Bind(2, id);
  std::vector<DrillReport> out;
  while (true) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    DrillReport r;
    r.id = select.ColumnText(0);
    r.started_us = select.ColumnInt(1);
    r.deadline_us = select.ColumnInt(2);
    r.message = select.ColumnText(3);
    r.schedule = select.ColumnText(4);
    out.push_back(std::move(r));
  }
  select.Reset();
  for (DrillReport& r : out) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement teams,
        c.Prepare("SELECT peer, object_id, email, mail_state, mail_detail, email_ack "
                  "FROM drill_teams WHERE drill = ?1 ORDER BY rowid"));
    teams.Bind(1, r.id);
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, teams.Step());
      if (!row) break;
      TeamResult t;
      t.peer = teams.ColumnText(0);
      t.channel = teams.ColumnText(1);  // the object id, until resolved below
      t.email = teams.ColumnText(2);
      t.mail_state = teams.ColumnText(3);
      t.mail_detail = teams.ColumnText(4);
      if (!teams.ColumnIsNull(5)) t.acknowledged_us = teams.ColumnInt(5);
      r.teams.push_back(std::move(t));
    }
  }
  return out;
}

// Resolves each team's first acknowledgement: by e-mail (recorded) or by
// node (an ack from that very peer naming the object sent to it, at the
// time we stored it).
Status Resolve(store::Store& store, std::vector<DrillReport>& reports) {
  KIZUNA_ASSIGN_OR_RETURN(AckReceipts by_node,
                          AcknowledgementsReceived(store, kDrillAckType, "drill_ref"));
  for (DrillReport& r : reports) {
    for (TeamResult& t : r.teams) {
      const std::string object_id = std::move(t.channel);
      t.channel.clear();
      if (t.acknowledged_us != 0) t.channel = "email";
      auto node = by_node.find({t.peer, object_id});
      if (node != by_node.end() && (t.acknowledged_us == 0 || node->second < t.acknowledged_us)) {
        t.acknowledged_us = node->second;
        t.channel = "node";
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<DrillReport> ReportDrill(CoordinationDb& db, store::Store& store, const std::string& id) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<DrillReport> reports, ReadDrills(db, id, 1));
  if (reports.empty()) return NotFound("no drill " + id + " was started here");
  KIZUNA_RETURN_IF_ERROR(Resolve(store, reports));
  return std::move(reports.front());
}

Result<std::vector<DrillReport>> SentDrills(CoordinationDb& db, store::Store& store, int limit) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<DrillReport> reports, ReadDrills(db, "", limit));
  KIZUNA_RETURN_IF_ERROR(Resolve(store, reports));
  return reports;
}

namespace {

std::string StatusOf(const DrillReport& report, const TeamResult& team, int64_t now_us) {
  if (team.acknowledged_us != 0) {
    return team.acknowledged_us <= report.deadline_us ? "on-time" : "late";
  }
  return now_us <= report.deadline_us ? "waiting" : "no-answer";
}

}  // namespace

json::object ReportJson(const DrillReport& report, int64_t now_us) {
  json::array teams;
  for (const TeamResult& t : report.teams) {
    json::object team{{"team", t.peer}};
    if (t.acknowledged_us != 0) {
      team["acknowledged"] = FormatTimestamp(t.acknowledged_us, 3);
      team["response_seconds"] = (t.acknowledged_us - report.started_us) / kSecond;
      team["channel"] = t.channel;
    } else {
      team["acknowledged"] = nullptr;
      team["response_seconds"] = nullptr;
      team["channel"] = nullptr;
    }
    team["status"] = StatusOf(report, t, now_us);
    team["email"] =
        json::object{{"to", t.email}, {"state", t.mail_state}, {"detail", t.mail_detail}};
    teams.push_back(std::move(team));
  }
  json::object out{{"drill", report.id},
                   {"started", FormatTimestamp(report.started_us, 3)},
                   {"deadline", FormatTimestamp(report.deadline_us, 3)},
                   {"message", report.message},
                   {"teams", std::move(teams)}};
  if (!report.schedule.empty()) out["schedule"] = report.schedule;
  return out;
}

std::string ReportCsv(const DrillReport& report, int64_t now_us) {
  // Peer names are letters, digits, '-', '_' and '.': nothing to quote.
  std::string out = "team,acknowledged,response_seconds,channel,status\r\n";
  for (const TeamResult& t : report.teams) {
    out += t.peer + ",";
    if (t.acknowledged_us != 0) {
      out += FormatTimestamp(t.acknowledged_us, 3) + "," +
             std::to_string((t.acknowledged_us - report.started_us) / kSecond) + "," + t.channel;
    } else {
      out += ",,";
    }
    out += "," + StatusOf(report, t, now_us) + "\r\n";
  }
  return out;
}

namespace {

Result<TokenAck> FindToken(store::sqlite::Connection& c, std::string_view token) {
  // A token is 43 characters of base64url; anything else names no drill.
  if (!IsLinkToken(token)) return NotFound("no such drill link");
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      c.Prepare("SELECT drill, peer, email_ack FROM drill_teams WHERE token_hash = ?1"));
  select.Bind(1, LinkTokenHash(token));
  KIZUNA_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return NotFound("no such drill link");
  TokenAck out{select.ColumnText(0), select.ColumnText(1),
               select.ColumnIsNull(2) ? 0 : select.ColumnInt(2), false};
  select.Reset();
  return out;
}

}  // namespace

Result<TokenAck> LookUpToken(CoordinationDb& db, std::string_view token) {
  auto lock = db.Lock();
  return FindToken(db.connection(), token);
}

Result<TokenAck> AcknowledgeByToken(CoordinationDb& db, std::string_view token, int64_t now_us) {
  auto lock = db.Lock();
  auto& c = db.connection();
  {
    // Looked up first without a write lock: a wrong or used link (anyone
    // may press it) costs a read.
    KIZUNA_ASSIGN_OR_RETURN(TokenAck seen, FindToken(c, token));
    if (seen.acknowledged_us != 0) return seen;
  }
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  KIZUNA_ASSIGN_OR_RETURN(TokenAck found, FindToken(c, token));
  if (found.acknowledged_us == 0) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement update,
        c.Prepare("UPDATE drill_teams SET email_ack = ?3 WHERE drill = ?1 AND peer = ?2"));
    update.Bind(1, found.drill).Bind(2, found.peer).Bind(3, now_us);
    KIZUNA_RETURN_IF_ERROR(update.Run());
    KIZUNA_RETURN_IF_ERROR(
        Audit(c, now_us, found.drill, "acknowledged", found.peer + " by e-mail"));
    found.acknowledged_us = now_us;
    found.first = true;
  }
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  return found;
}

json::object ReceivedJson(const ReceivedDrill& r) {
  return json::object{
      {"drill", r.drill},
      {"object", r.object_id},
      {"from", r.from},
      {"message", r.message},
      {"started", FormatTimestamp(r.started_us, 3)},
      {"deadline", FormatTimestamp(r.deadline_us, 3)},
      {"received", FormatTimestamp(r.received_us, 3)},
      {"acknowledged",
       r.acknowledged_us ? json::value(FormatTimestamp(r.acknowledged_us, 3)) : json::value()}};
}

json::array TrailJson(const std::vector<AuditEntry>& trail) {
  json::array out;
  for (const AuditEntry& e : trail) {
    out.push_back(json::object{
        {"at", FormatTimestamp(e.at_us, 3)}, {"event", e.event}, {"detail", e.detail}});
  }
  return out;
}

// ---- schedules

namespace {

std::string JoinPeers(const std::vector<std::string>& peers) {
  std::string out;
  for (const std::string& p : peers) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::vector<std::string> SplitPeers(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<DrillSchedule> AddSchedule(CoordinationDb& db, const sharing::SharingPolicy& policy,
                                  DrillSchedule schedule, int64_t now_us) {
  KIZUNA_RETURN_IF_ERROR(
      CheckRequest(policy, schedule.peers, schedule.deadline_us, schedule.message));
  if (schedule.every_us < 3600 * kSecond) {
    return InvalidArgument("a schedule: at least an hour between drills (--every-days)");
  }
  schedule.id = "schedule--" + NewUuid4();
  schedule.created_us = now_us;
  if (schedule.next_run_us == 0) schedule.next_run_us = now_us;
  auto lock = db.Lock();
  auto& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement insert,
      c.Prepare("INSERT INTO drill_schedules(id, peers, every_us, deadline_us, message, "
                "next_run, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  insert.Bind(1, schedule.id)
      .Bind(2, JoinPeers(schedule.peers))
      .Bind(3, schedule.every_us)
      .Bind(4, schedule.deadline_us)
      .Bind(5, schedule.message)
      .Bind(6, schedule.next_run_us)
      .Bind(7, now_us);
  KIZUNA_RETURN_IF_ERROR(insert.Run());
  KIZUNA_RETURN_IF_ERROR(Audit(
      c, now_us, schedule.id, "scheduled",
      "to " + JoinPeers(schedule.peers) + ", first " + FormatTimestamp(schedule.next_run_us, 0)));
  return schedule;
}

Result<std::vector<DrillSchedule>> Schedules(CoordinationDb& db) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      db.connection().Prepare("SELECT id, peers, every_us, deadline_us, message, next_run, "
                              "created FROM drill_schedules ORDER BY created"));
  std::vector<DrillSchedule> out;
  while (true) {
    KIZUNA_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.push_back(DrillSchedule{select.ColumnText(0), SplitPeers(select.ColumnText(1)),
                                select.ColumnInt(2), select.ColumnInt(3), select.ColumnText(4),
                                select.ColumnInt(5), select.ColumnInt(6)});
  }
  select.Reset();
  return out;
}

Status RemoveSchedule(CoordinationDb& db, const std::string& id) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement remove,
                          db.connection().Prepare("DELETE FROM drill_schedules WHERE id = ?1"));
  remove.Bind(1, id);
  KIZUNA_RETURN_IF_ERROR(remove.Run());
  if (db.connection().Changes() == 0) return NotFound("no drill schedule " + id);
  return Status::Ok();
}

Result<bool> SchedulesDue(CoordinationDb& db, int64_t now_us) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      db.connection().Prepare("SELECT 1 FROM drill_schedules WHERE next_run <= ?1 LIMIT 1"));
  select.Bind(1, now_us);
  return select.Step();
}

Result<std::vector<std::string>> RunDueSchedules(const Outbound& sender, int64_t now_us) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<DrillSchedule> schedules, Schedules(*sender.db));
  std::vector<std::string> started;
  for (const DrillSchedule& s : schedules) {
    if (s.next_run_us > now_us) continue;
    // Moved on first: a drill that cannot start (a peer removed since) is
    // not retried every minute; the audit trail says why.
    int64_t next = s.next_run_us;
    while (next <= now_us) next += s.every_us;
    {
      auto lock = sender.db->Lock();
      KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement update,
                              sender.db->connection().Prepare(
                                  "UPDATE drill_schedules SET next_run = ?2 WHERE id = ?1"));
      update.Bind(1, s.id).Bind(2, next);
      KIZUNA_RETURN_IF_ERROR(update.Run());
    }
    DrillRequest request{s.peers, s.deadline_us, s.message, s.id, "schedule"};
    Result<std::string> drill = StartDrill(sender, request, now_us);
    auto lock = sender.db->Lock();
    KIZUNA_RETURN_IF_ERROR(Audit(sender.db->connection(), now_us, s.id,
                                 drill.ok() ? "started" : "failed",
                                 drill.ok() ? *drill : drill.status().message()));
    if (drill.ok()) started.push_back(*drill);
  }
  return started;
}

}  // namespace kizuna::coordination
