#include "coordination/emergencies.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "common/time.h"
#include "common/uuid.h"
#include "coordination/hours.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

constexpr int64_t kMinute = 60LL * 1000000;
constexpr int64_t kMaxAckUs = 24 * 60 * kMinute;
constexpr size_t kMaxSummaryBytes = 4000;
constexpr std::string_view kEmergencyNamespace = "3e9a5c71-4b2d-4f86-a0c3-5d7e1f2b8a94";

constexpr const char* kNotifying = "notifying";
constexpr const char* kAcknowledged = "acknowledged";
constexpr const char* kUnanswered = "unanswered";

std::string ContactKey(const Contact& c) {
  return c.role + "|" + c.name + "|" + c.email + "|" + c.phone;
}

std::string Describe(const Contact& c) {
  std::string out = c.role;
  if (!c.name.empty()) out += " " + c.name;
  if (!c.email.empty()) out += " <" + c.email + ">";
  if (!c.phone.empty()) out += " " + c.phone;
  return out;
}

// The partners' directory entries by peer name.
Result<std::map<std::string, DirectoryEntry>> EntriesByPeer(const Outbound& out, int64_t now_us) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<DirectoryEntry> entries,
                          ListDirectory(*out.store, out.policy->peers(), *out.identity, now_us,
                                        /*stale_after_days=*/3650));
  std::map<std::string, DirectoryEntry> by_peer;
  for (DirectoryEntry& e : entries) {
    if (!e.own) by_peer.emplace(e.peer, std::move(e));
  }
  return by_peer;
}

struct Row {
  std::string emergency, peer, object_id;
  DirectoryEntry contacts;  // the team's contacts, hours and zone as at the raise
  int64_t ack_us = 0;
  std::string summary;
  int64_t raised_us = 0;
  bool due = true;  // its contact's time ran out
};

// The part of a team's entry the escalation follows, kept when raised so
// the team cannot keep an escalation going (or steer our e-mail) by
// changing its entry meanwhile.
std::string FrozenContacts(const DirectoryEntry* entry) {
  json::array contacts;
  if (entry) {
    for (const Contact& c : entry->contacts) {
      contacts.push_back(
          json::object{{"role", c.role}, {"name", c.name}, {"email", c.email}, {"phone", c.phone}});
    }
  }
  return json::serialize(json::object{{"contacts", std::move(contacts)},
                                      {"time_zone", entry ? entry->time_zone : "UTC"},
                                      {"operating_hours", entry ? entry->operating_hours : ""}});
}

DirectoryEntry ThawContacts(const std::string& text) {
  DirectoryEntry entry;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return entry;
  const json::object& o = v.get_object();
  entry.time_zone = Text(o, "time_zone");
  entry.operating_hours = Text(o, "operating_hours");
  if (const json::value* list = o.if_contains("contacts"); list && list->is_array()) {
    for (const json::value& c : list->get_array()) {
      if (!c.is_object()) continue;
      const json::object& x = c.get_object();
      entry.contacts.push_back(
          Contact{Text(x, "role"), Text(x, "name"), Text(x, "email"), Text(x, "phone"), ""});
    }
  }
  return entry;
}

// Notifies the team's next contact not yet notified (by the chain at
// `now_us` over its contacts as at the raise), or marks the team
// unanswered when none is left. The step is claimed (recorded) before the
// e-mail goes, in one transaction with the check that the team still waits,
// so two processes never notify the same contact. Returns whether a
// contact was notified.
Result<bool> NotifyNext(const Outbound& out, const Row& row, int64_t now_us) {
  const EscalationChain chain = ChainAt(row.contacts, now_us);
  const std::string token = NewLinkToken();
  Contact next;
  int64_t step = 0;
  {
    auto lock = out.db->Lock();
    auto& c = out.db->connection();
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                            store::sqlite::Transaction::Begin(c, true));
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement state,
        c.Prepare("SELECT state FROM emergency_teams WHERE emergency = ?1 AND peer = ?2"));
    state.Bind(1, row.emergency).Bind(2, row.peer);
    KIZUNA_ASSIGN_OR_RETURN(bool has, state.Step());
    if (!has || state.ColumnText(0) != kNotifying) return false;  // answered meanwhile
    state.Reset();
    std::set<std::string> notified;
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement select,
        c.Prepare("SELECT contact_key FROM emergency_steps WHERE emergency = ?1 AND peer = ?2"));
    select.Bind(1, row.emergency).Bind(2, row.peer);
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(bool more, select.Step());
      if (!more) break;
      notified.insert(select.ColumnText(0));
      ++step;
    }
    select.Reset();
    const Contact* chosen = nullptr;
    for (const Contact& contact : chain.contacts) {
      if (!notified.count(ContactKey(contact)) &&
          (!contact.email.empty() || !contact.phone.empty())) {
        chosen = &contact;
        break;
      }
    }
    if (chosen == nullptr) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement update,
          c.Prepare("UPDATE emergency_teams SET state = ?3 WHERE emergency = ?1 AND peer = ?2"));
      update.Bind(1, row.emergency).Bind(2, row.peer).Bind(3, kUnanswered);
      KIZUNA_RETURN_IF_ERROR(update.Run());
      KIZUNA_RETURN_IF_ERROR(Audit(c, now_us, row.emergency, "unanswered",
                                   row.peer + (step == 0 ? ": no contact in the directory; its "
                                                           "node alone was told"
                                                         : ": no contact left to try")));
      KIZUNA_RETURN_IF_ERROR(tx.Commit());
      if (out.progress) out.progress(row.peer + ": no contact to notify");
      return false;
    }
    next = *chosen;
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement insert,
        c.Prepare("INSERT INTO emergency_steps(emergency, peer, step, at, contact_key, role, name, "
                  "email, phone, within_hours, mail_state, mail_detail, token_hash) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, '', ?12)"));
    insert.Bind(1, row.emergency)
        .Bind(2, row.peer)
        .Bind(3, step)
        .Bind(4, now_us)
        .Bind(5, ContactKey(next))
        .Bind(6, next.role)
        .Bind(7, next.name)
        .Bind(8, next.email)
        .Bind(9, next.phone)
        .Bind(10, int64_t{chain.within_hours})
        .Bind(11, next.email.empty() ? "phone-only" : "sending");
    if (next.email.empty()) {
      insert.BindNull(12);
    } else {
      insert.Bind(12, LinkTokenHash(token));
    }
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement update,
        c.Prepare("UPDATE emergency_teams SET next_escalation = ?3 WHERE emergency = ?1 AND "
                  "peer = ?2"));
    update.Bind(1, row.emergency).Bind(2, row.peer).Bind(3, now_us + row.ack_us);
    KIZUNA_RETURN_IF_ERROR(update.Run());
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
  }
  MailOutcome outcome{"phone-only", "call " + next.phone};
  if (!next.email.empty()) {
    const std::string link = out.ack_base_url + std::string(kEmergencyAckPath) + token;
    ContactMail m;
    m.to = next.email;
    m.subject = "EMERGENCY from " + out.identity->name + ": " + TruncateUtf8(row.summary, 120);
    m.text =
        "EMERGENCY from " + out.identity->name + ", raised " + FormatTimestamp(row.raised_us, 0) +
        ":\n\n" + row.summary + "\n\nPlease acknowledge within " +
        std::to_string(row.ack_us / kMinute) + " minutes, opening this link:\n\n  " + link +
        "\n\nor on your kizuna node: kizuna emergency ack DIR " + row.emergency +
        "\n\nUnanswered, the next contact of your team is notified.\nEmergency: " + row.emergency +
        "\nTLP:" + std::string(stix::TlpName(out.tlp)) + "\n";
    m.message_id_name = row.emergency + "/" + row.peer + "/" + std::to_string(step);
    m.header = {"X-Kizuna-Emergency", row.emergency};
    outcome = SendContactMail(out, m, now_us);
  }
  auto lock = out.db->Lock();
  auto& c = out.db->connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement update,
                          c.Prepare("UPDATE emergency_steps SET mail_state = ?4, mail_detail = ?5 "
                                    "WHERE emergency = ?1 AND peer = ?2 AND step = ?3"));
  update.Bind(1, row.emergency)
      .Bind(2, row.peer)
      .Bind(3, step)
      .Bind(4, outcome.state)
      .Bind(5, outcome.detail);
  KIZUNA_RETURN_IF_ERROR(update.Run());
  KIZUNA_RETURN_IF_ERROR(
      Audit(c, now_us, row.emergency, step == 0 ? "notified" : "escalated",
            row.peer + ": " + Describe(next) +
                (chain.within_hours ? ", within its hours" : ", outside its hours") +
                (chain.note.empty() ? "" : " (" + chain.note + ")") + "; " + outcome.state +
                (outcome.detail.empty() ? "" : ": " + outcome.detail)));
  if (out.progress) out.progress(row.peer + ": notified " + Describe(next) + ": " + outcome.state);
  return true;
}

// A partner's acknowledgement through federation, recorded (the first
// acknowledgement counts). Needs the lock held.
Status RecordNodeAck(store::sqlite::Connection& c, const std::string& emergency,
                     const std::string& peer, int64_t at_us) {
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement update,
      c.Prepare("UPDATE emergency_teams SET state = ?3, acknowledged = ?4, channel = 'node' "
                "WHERE emergency = ?1 AND peer = ?2 AND acknowledged IS NULL"));
  update.Bind(1, emergency).Bind(2, peer).Bind(3, kAcknowledged).Bind(4, at_us);
  KIZUNA_RETURN_IF_ERROR(update.Run());
  if (c.Changes() == 0) return Status::Ok();
  return Audit(c, at_us, emergency, "acknowledged", peer + " on its node");
}

}  // namespace

EscalationChain ChainAt(const DirectoryEntry& entry, int64_t now_us,
                        const std::string& zoneinfo_dir) {
  EscalationChain chain;
  Result<bool> within = WithinHours(entry.operating_hours, entry.time_zone, now_us, zoneinfo_dir);
  chain.within_hours = within.ok() && *within;
  if (!within.ok()) chain.note = within.status().message();
  std::vector<const Contact*> emergency, others, always;
  for (const Contact& c : entry.contacts) {
    (c.role == "24x7" ? always : c.role == "emergency" ? emergency : others).push_back(&c);
  }
  auto add = [&](const std::vector<const Contact*>& group) {
    for (const Contact* c : group) chain.contacts.push_back(*c);
  };
  if (chain.within_hours) {
    add(emergency);
    add(others);
    add(always);
  } else {
    add(always);
    add(emergency);
    add(others);
  }
  return chain;
}

Result<std::string> RaiseEmergency(const Outbound& out, const EmergencyRequest& request,
                                   int64_t now_us) {
  KIZUNA_RETURN_IF_ERROR(CheckPartners(*out.policy, request.peers));
  if (request.summary.empty()) return InvalidArgument("the summary: say what happened");
  KIZUNA_RETURN_IF_ERROR(CheckText("the summary", request.summary, kMaxSummaryBytes));
  if (request.ack_us <= 0 || request.ack_us > kMaxAckUs) {
    return InvalidArgument("the acknowledgement time: more than 0 minutes and at most 24 hours");
  }
  const std::string id = "emergency--" + NewUuid4();
  KIZUNA_ASSIGN_OR_RETURN(auto entries, EntriesByPeer(out, now_us));
  std::vector<json::object> objects;
  std::vector<Row> rows;
  for (const std::string& peer : request.peers) {
    auto entry = entries.find(peer);
    const std::string frozen = FrozenContacts(entry == entries.end() ? nullptr : &entry->second);
    Row row{id,
            peer,
            std::string(kEmergencyType) + "--" + Uuid5(kEmergencyNamespace, id + "/" + peer),
            ThawContacts(frozen),
            request.ack_us,
            request.summary,
            now_us,
            true};
    json::object object =
        NewAddressedObject(kEmergencyType, row.object_id, *out.identity, out.tlp, peer, now_us);
    object["name"] = "Emergency from " + out.identity->name;
    object["emergency"] = id;
    object["summary"] = request.summary;
    object["raised"] = FormatTimestamp(now_us, 3);
    object["ack_minutes"] = static_cast<double>(request.ack_us) / kMinute;
    KIZUNA_RETURN_IF_ERROR(CheckMayReceive(*out.policy, peer, object, out.tlp));
    objects.push_back(std::move(object));
    rows.push_back(std::move(row));
  }
  {
    auto lock = out.db->Lock();
    auto& c = out.db->connection();
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                            store::sqlite::Transaction::Begin(c, true));
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement insert,
        c.Prepare("INSERT INTO emergencies(id, raised, summary, ack_us, raised_by) "
                  "VALUES(?1, ?2, ?3, ?4, ?5)"));
    insert.Bind(1, id)
        .Bind(2, now_us)
        .Bind(3, request.summary)
        .Bind(4, request.ack_us)
        .Bind(5, request.raised_by);
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    std::string names;
    for (const Row& row : rows) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement team,
          c.Prepare("INSERT INTO emergency_teams(emergency, peer, object_id, state, "
                    "next_escalation, contacts) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
      team.Bind(1, id)
          .Bind(2, row.peer)
          .Bind(3, row.object_id)
          .Bind(4, kNotifying)
          .Bind(5, now_us + request.ack_us)
          .Bind(6, FrozenContacts(&row.contacts));
      KIZUNA_RETURN_IF_ERROR(team.Run());
      names += (names.empty() ? "" : ",") + row.peer;
    }
    KIZUNA_RETURN_IF_ERROR(
        Audit(c, now_us, id, "raised",
              "to " + names + ": " + request.summary +
                  (request.raised_by.empty() ? "" : " (by " + request.raised_by + ")")));
    KIZUNA_RETURN_IF_ERROR(StoreOwn(*out.store, *out.config, *out.identity, objects));
    KIZUNA_RETURN_IF_ERROR(tx.Commit());
  }
  if (out.notify) out.notify();
  for (const Row& row : rows) {
    if (out.progress) out.progress(row.peer + ": emergency stored for its node");
  }
  for (const Row& row : rows) KIZUNA_RETURN_IF_ERROR(NotifyNext(out, row, now_us).status());
  return id;
}

Result<bool> EscalationsPending(CoordinationDb& db) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      db.connection().Prepare("SELECT 1 FROM emergency_teams WHERE acknowledged IS NULL AND "
                              "state IN (?1, ?2) LIMIT 1"));
  select.Bind(1, kNotifying).Bind(2, kUnanswered);
  return select.Step();
}

Result<int> EscalateDue(const Outbound& out, int64_t now_us) {
  std::vector<Row> pending;
  {
    auto lock = out.db->Lock();
    // An unanswered team's node may still acknowledge: read it for that.
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement select,
        out.db->connection().Prepare(
            "SELECT t.emergency, t.peer, t.object_id, t.contacts, e.ack_us, e.summary, e.raised, "
            "t.next_escalation, t.state FROM emergency_teams t JOIN emergencies e "
            "ON e.id = t.emergency WHERE t.acknowledged IS NULL AND t.state IN (?1, ?2)"));
    select.Bind(1, kNotifying).Bind(2, kUnanswered);
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(bool has, select.Step());
      if (!has) break;
      pending.push_back(Row{select.ColumnText(0), select.ColumnText(1), select.ColumnText(2),
                            ThawContacts(select.ColumnText(3)), select.ColumnInt(4),
                            select.ColumnText(5), select.ColumnInt(6),
                            select.ColumnInt(7) <= now_us && select.ColumnText(8) == kNotifying});
    }
  }
  if (pending.empty()) return 0;
  KIZUNA_ASSIGN_OR_RETURN(AckReceipts acks,
                          AcknowledgementsReceived(*out.store, kEmergencyAckType, "emergency_ref"));
  int notified = 0;
  for (Row& row : pending) {
    auto ack = acks.find({row.peer, row.object_id});
    if (ack != acks.end()) {
      auto lock = out.db->Lock();
      KIZUNA_RETURN_IF_ERROR(
          RecordNodeAck(out.db->connection(), row.emergency, row.peer, ack->second));
      continue;
    }
    if (!row.due) continue;  // its contact still has time
    KIZUNA_ASSIGN_OR_RETURN(bool sent, NotifyNext(out, row, now_us));
    notified += sent;
  }
  return notified;
}

namespace {

Result<std::vector<EmergencyStatus>> ReadEmergencies(CoordinationDb& db, const std::string& id,
                                                     int limit) {
  auto lock = db.Lock();
  auto& c = db.connection();
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      c.Prepare(id.empty() ? "SELECT id, summary, raised, ack_us FROM emergencies "
                             "ORDER BY raised DESC LIMIT ?1"
                           : "SELECT id, summary, raised, ack_us FROM emergencies WHERE id = ?2 "
                             "LIMIT ?1"));
  select.Bind(1, int64_t{limit});
  if (!id.empty()) select.Bind(2, id);
  std::vector<EmergencyStatus> out;
  while (true) {
    KIZUNA_ASSIGN_OR_RETURN(bool has, select.Step());
    if (!has) break;
    out.push_back(EmergencyStatus{
        select.ColumnText(0), select.ColumnText(1), select.ColumnInt(2), select.ColumnInt(3), {}});
  }
  select.Reset();
  for (EmergencyStatus& e : out) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement teams,
        c.Prepare("SELECT peer, object_id, state, next_escalation, acknowledged, channel, "
                  "acknowledged_by FROM emergency_teams WHERE emergency = ?1 ORDER BY rowid"));
    teams.Bind(1, e.id);
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(bool has, teams.Step());
      if (!has) break;
      EmergencyTeam t;
      t.peer = teams.ColumnText(0);
      t.object_id = teams.ColumnText(1);
      t.state = teams.ColumnText(2);
      t.next_escalation_us = teams.ColumnInt(3);
      t.acknowledged_us = teams.ColumnIsNull(4) ? 0 : teams.ColumnInt(4);
      t.channel = teams.ColumnText(5);
      t.acknowledged_by = teams.ColumnText(6);
      e.teams.push_back(std::move(t));
    }
    teams.Reset();
    for (EmergencyTeam& t : e.teams) {
      KIZUNA_ASSIGN_OR_RETURN(
          store::sqlite::Statement steps,
          c.Prepare("SELECT step, at, role, name, email, phone, within_hours, mail_state, "
                    "mail_detail FROM emergency_steps WHERE emergency = ?1 AND peer = ?2 "
                    "ORDER BY step"));
      steps.Bind(1, e.id).Bind(2, t.peer);
      while (true) {
        KIZUNA_ASSIGN_OR_RETURN(bool has, steps.Step());
        if (!has) break;
        EmergencyStep s;
        s.step = static_cast<int>(steps.ColumnInt(0));
        s.at_us = steps.ColumnInt(1);
        s.contact = Contact{steps.ColumnText(2), steps.ColumnText(3), steps.ColumnText(4),
                            steps.ColumnText(5), ""};
        s.within_hours = steps.ColumnInt(6) != 0;
        s.mail_state = steps.ColumnText(7);
        s.mail_detail = steps.ColumnText(8);
        t.steps.push_back(std::move(s));
      }
    }
  }
  return out;
}

// Acknowledgements that came through federation and the job has not
// recorded yet, shown as the job will record them.
Status ResolveNodeAcks(store::Store& store, std::vector<EmergencyStatus>& list) {
  KIZUNA_ASSIGN_OR_RETURN(AckReceipts acks,
                          AcknowledgementsReceived(store, kEmergencyAckType, "emergency_ref"));
  for (EmergencyStatus& e : list) {
    for (EmergencyTeam& t : e.teams) {
      auto ack = acks.find({t.peer, t.object_id});
      if (ack == acks.end() || t.acknowledged_us != 0) continue;
      t.acknowledged_us = ack->second;
      t.channel = "node";
      t.state = kAcknowledged;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<EmergencyStatus> GetEmergency(CoordinationDb& db, store::Store& store,
                                     const std::string& id) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<EmergencyStatus> list, ReadEmergencies(db, id, 1));
  if (list.empty()) return NotFound("no emergency " + id + " was raised here");
  KIZUNA_RETURN_IF_ERROR(ResolveNodeAcks(store, list));
  return std::move(list.front());
}

Result<std::vector<EmergencyStatus>> RaisedEmergencies(CoordinationDb& db, store::Store& store,
                                                       int limit) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<EmergencyStatus> list, ReadEmergencies(db, "", limit));
  KIZUNA_RETURN_IF_ERROR(ResolveNodeAcks(store, list));
  return list;
}

json::object EmergencyJson(const EmergencyStatus& e) {
  json::array teams;
  for (const EmergencyTeam& t : e.teams) {
    json::array steps;
    for (const EmergencyStep& s : t.steps) {
      steps.push_back(json::object{{"at", FormatTimestamp(s.at_us, 3)},
                                   {"role", s.contact.role},
                                   {"name", s.contact.name},
                                   {"email", s.contact.email},
                                   {"phone", s.contact.phone},
                                   {"within_hours", s.within_hours},
                                   {"mail", s.mail_state},
                                   {"detail", s.mail_detail}});
    }
    json::object team{{"team", t.peer}, {"state", t.state}};
    team["acknowledged"] =
        t.acknowledged_us ? json::value(FormatTimestamp(t.acknowledged_us, 3)) : json::value();
    team["channel"] = t.channel.empty() ? json::value() : json::value(t.channel);
    team["by"] = t.acknowledged_by.empty() ? json::value() : json::value(t.acknowledged_by);
    if (t.state == kNotifying) {
      team["next_escalation"] = FormatTimestamp(t.next_escalation_us, 3);
    }
    team["steps"] = std::move(steps);
    teams.push_back(std::move(team));
  }
  return json::object{{"emergency", e.id},
                      {"summary", e.summary},
                      {"raised", FormatTimestamp(e.raised_us, 3)},
                      {"ack_minutes", static_cast<double>(e.ack_us) / kMinute},
                      {"teams", std::move(teams)}};
}

namespace {

Result<EmergencyLink> FindEmergencyToken(store::sqlite::Connection& c, std::string_view token) {
  if (!IsLinkToken(token)) return NotFound("no such emergency link");
  KIZUNA_ASSIGN_OR_RETURN(
      store::sqlite::Statement select,
      c.Prepare("SELECT s.emergency, s.peer, s.role, s.name, s.email, t.acknowledged "
                "FROM emergency_steps s JOIN emergency_teams t "
                "ON t.emergency = s.emergency AND t.peer = s.peer WHERE s.token_hash = ?1"));
  select.Bind(1, LinkTokenHash(token));
  KIZUNA_ASSIGN_OR_RETURN(bool has, select.Step());
  if (!has) return NotFound("no such emergency link");
  EmergencyLink out;
  out.emergency = select.ColumnText(0);
  out.peer = select.ColumnText(1);
  out.contact =
      Describe(Contact{select.ColumnText(2), select.ColumnText(3), select.ColumnText(4), "", ""});
  out.acknowledged_us = select.ColumnIsNull(5) ? 0 : select.ColumnInt(5);
  select.Reset();
  return out;
}

}  // namespace

Result<EmergencyLink> LookUpEmergencyToken(CoordinationDb& db, std::string_view token) {
  auto lock = db.Lock();
  return FindEmergencyToken(db.connection(), token);
}

Result<EmergencyLink> AcknowledgeEmergencyByToken(CoordinationDb& db, std::string_view token,
                                                  int64_t now_us) {
  auto lock = db.Lock();
  auto& c = db.connection();
  {
    // Looked up first without a write lock: a wrong or used link (anyone
    // may press it) costs a read.
    KIZUNA_ASSIGN_OR_RETURN(EmergencyLink seen, FindEmergencyToken(c, token));
    if (seen.acknowledged_us != 0) return seen;
  }
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  KIZUNA_ASSIGN_OR_RETURN(EmergencyLink link, FindEmergencyToken(c, token));
  if (link.acknowledged_us == 0) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement update,
        c.Prepare("UPDATE emergency_teams SET state = ?3, acknowledged = ?4, channel = 'email', "
                  "acknowledged_by = ?5 WHERE emergency = ?1 AND peer = ?2"));
    update.Bind(1, link.emergency)
        .Bind(2, link.peer)
        .Bind(3, kAcknowledged)
        .Bind(4, now_us)
        .Bind(5, link.contact);
    KIZUNA_RETURN_IF_ERROR(update.Run());
    KIZUNA_RETURN_IF_ERROR(Audit(c, now_us, link.emergency, "acknowledged",
                                 link.peer + " by e-mail: " + link.contact));
    link.acknowledged_us = now_us;
    link.first = true;
  }
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  return link;
}

// ---- at the partner

namespace {

ReceivedEmergency EmergencyOf(const Received& r) {
  ReceivedEmergency e;
  e.emergency = Text(r.object, "emergency");
  e.object_id = r.id;
  e.from = r.from;
  e.summary = Text(r.object, "summary");
  e.raised_us = Time(r.object, "raised");
  e.received_us = r.received_us;
  e.acknowledged_us = r.acknowledged_us;
  return e;
}

}  // namespace

Result<std::vector<ReceivedEmergency>> ReceivedEmergencies(store::Store& store) {
  KIZUNA_ASSIGN_OR_RETURN(
      std::vector<Received> received,
      ReceivedOfType(store, kEmergencyType, kEmergencyAckType, "emergency_ref"));
  std::vector<ReceivedEmergency> out;
  for (const Received& r : received) out.push_back(EmergencyOf(r));
  return out;
}

Result<std::vector<ReceivedEmergency>> AcknowledgeEmergency(store::Store& store,
                                                            const node::NodeConfig& config,
                                                            const node::NodeIdentity& identity,
                                                            const sharing::SharingPolicy& policy,
                                                            const std::string& id, int64_t now_us) {
  KIZUNA_ASSIGN_OR_RETURN(
      std::vector<Received> received,
      ReceivedOfType(store, kEmergencyType, kEmergencyAckType, "emergency_ref"));
  std::vector<ReceivedEmergency> acked;
  for (Received& r : received) {
    if (Text(r.object, "emergency") != id && r.id != id) continue;
    KIZUNA_RETURN_IF_ERROR(
        Acknowledge(store, config, identity, policy, kEmergencyAckType, "emergency_ref",
                    json::object{{"emergency", Text(r.object, "emergency")}}, now_us, &r));
    acked.push_back(EmergencyOf(r));
  }
  if (acked.empty()) {
    return NotFound("no partner sent us emergency " + id + " (kizuna emergency list)");
  }
  return acked;
}

json::object ReceivedEmergencyJson(const ReceivedEmergency& e) {
  return json::object{
      {"emergency", e.emergency},
      {"object", e.object_id},
      {"from", e.from},
      {"summary", e.summary},
      {"raised", FormatTimestamp(e.raised_us, 3)},
      {"received", FormatTimestamp(e.received_us, 3)},
      {"acknowledged",
       e.acknowledged_us ? json::value(FormatTimestamp(e.acknowledged_us, 3)) : json::value()}};
}

}  // namespace kizuna::coordination
