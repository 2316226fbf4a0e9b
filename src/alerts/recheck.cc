#include "alerts/recheck.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <unordered_map>

#include "alerts/node_channel.h"
#include "alerts/reports.h"
#include "common/time.h"

namespace kizuna::alerts {

namespace {

struct Due {
  int64_t rowid = 0;
  int64_t sent_us = 0;
  std::string recipient;
  int64_t cutoff_us = 0;
};

struct Checked {
  int64_t event_id = 0;
  size_t report = 0;  // index into the due reports
  int64_t last_seen_us = 0;
  int64_t seen_again_us = 0;  // 0: not seen again
  std::string ip;
};

std::string Key(const std::string& ip, const std::string& type) { return ip + '\x1f' + type; }

}  // namespace

Result<RecheckStats> RecheckReports(AlertsDb& db, const RouteTable& routes, int64_t now_us,
                                    int limit) {
  RecheckStats stats;
  auto lock = db.Lock();
  store::sqlite::Connection& c = db.connection();
  std::vector<Due> due;
  for (const Recipient& r : routes.recipients()) {
    if (r.recheck_days <= 0) continue;
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement list,
        c.Prepare("SELECT rowid, sent, cutoff FROM reports p WHERE recipient = ?1 AND sent > 0 AND "
                  "sent <= ?2 AND NOT EXISTS (SELECT 1 FROM rechecks k WHERE k.report = p.rowid) "
                  "ORDER BY rowid LIMIT ?3"));
    list.Bind(1, r.name)
        .Bind(2, now_us - int64_t{r.recheck_days} * kMicrosPerDay)
        .Bind(3, int64_t{limit});
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, list.Step());
      if (!row) break;
      if (static_cast<int>(due.size()) < limit)
        due.push_back({list.ColumnInt(0), list.ColumnInt(1), r.name, list.ColumnInt(2)});
    }
  }
  if (due.empty()) return stats;
  // The events of the reports due, by (ip, type).
  std::vector<Checked> checked;
  std::unordered_map<std::string, std::vector<size_t>> by_key;
  int64_t oldest_seen = INT64_MAX;
  int64_t earliest_cut = INT64_MAX;
  for (size_t i = 0; i < due.size(); ++i) {
    earliest_cut = std::min(earliest_cut, due[i].cutoff_us);
    KIZUNA_RETURN_IF_ERROR(ForEachEventInReport(
        c, due[i].recipient, due[i].cutoff_us, [&](const EventRow& e) -> Status {
          by_key[Key(e.ip, e.type)].push_back(checked.size());
          checked.push_back({e.id, i, e.last_seen_us, 0, e.ip});
          oldest_seen = std::min(oldest_seen, e.last_seen_us);
          return Status::Ok();
        }));
  }
  // Seen again: a later observation of the same host and finding, in any
  // event (whatever its recipient, source or origin) that arrived after the
  // first of these reports was cut (what arrived before was seen before).
  if (!checked.empty()) {
    KIZUNA_RETURN_IF_ERROR(ForEachEventSince(c, earliest_cut, [&](const EventRow& later) {
      if (later.last_seen_us <= oldest_seen) return Status::Ok();
      auto it = by_key.find(Key(later.ip, later.type));
      if (it == by_key.end()) return Status::Ok();
      for (size_t index : it->second) {
        Checked& e = checked[index];
        if (later.id != e.event_id && later.last_seen_us > e.last_seen_us) {
          e.seen_again_us = std::max(e.seen_again_us, later.last_seen_us);
        }
      }
      return Status::Ok();
    }));
  }
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  std::vector<std::pair<int64_t, int64_t>> counts(due.size());  // remediated, still
  for (const Checked& e : checked) {
    const bool still = e.seen_again_us != 0;
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement insert,
        c.Prepare("INSERT INTO event_state(event_id, state, at, detail) VALUES(?1,?2,?3,?4) "
                  "ON CONFLICT(event_id, state) DO NOTHING"));
    insert.Bind(1, e.event_id)
        .Bind(2, still ? kEventStillInfected : kEventRemediated)
        .Bind(3, now_us)
        .Bind(4, still ? "seen again at " + FormatTimestamp(e.seen_again_us, 0)
                       : "not seen since " + FormatTimestamp(e.last_seen_us, 0));
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    // Its state is now followed: listed with its report (reports.h).
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement follow,
        c.Prepare("INSERT OR IGNORE INTO reported_events(event_id, report, ip) VALUES(?1,?2,?3)"));
    follow.Bind(1, e.event_id).Bind(2, due[e.report].rowid).Bind(3, e.ip);
    KIZUNA_RETURN_IF_ERROR(follow.Run());
    (still ? counts[e.report].second : counts[e.report].first) += 1;
    (still ? stats.still_infected : stats.remediated) += 1;
  }
  for (size_t i = 0; i < due.size(); ++i) {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement insert,
        c.Prepare("INSERT INTO rechecks(report, at, remediated, still_infected) "
                  "VALUES(?1,?2,?3,?4) ON CONFLICT(report) DO NOTHING"));
    insert.Bind(1, due[i].rowid).Bind(2, now_us).Bind(3, counts[i].first).Bind(4, counts[i].second);
    KIZUNA_RETURN_IF_ERROR(insert.Run());
    KIZUNA_RETURN_IF_ERROR(db.AppendLog(due[i].rowid, now_us, "rechecked",
                                        std::to_string(counts[i].first) + " remediated, " +
                                            std::to_string(counts[i].second) + " still infected"));
  }
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  stats.reports = static_cast<int64_t>(due.size());
  return stats;
}

}  // namespace kizuna::alerts
