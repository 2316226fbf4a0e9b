// Building reports: one per recipient per period. When a recipient's period
// has closed (daily by default, on UTC boundaries), the events routed to it
// and received before the boundary that are in no report yet become one
// report, in the recipient's format, queued for delivery.
//
// Before an event goes in:
//   - suppression: a finding (ip, type, identifier) reported to the same
//     recipient within its suppress_days is left out (marked suppressed),
//     unless the recipient asked for repeat_persisting: then a finding still
//     seen is reported every period;
//   - the sharing decision: the event (its source's TLP and origin) must be
//     releasable to the recipient as an affected party
//     (SharingPolicy::ForAffectedParty); a refused one is marked withheld.
// The events of a report whose state is followed one by one — those sent
// to a partner's node (channel node) and those a partner sent us (their
// origin a peer), whose producer hears how they fared — are also listed in
// reported_events (event id -> report); the bulk of a day's reports, sent
// by e-mail or feed, are not.
// A period whose events were all left out gives no report. What a report
// covers is a cut: the recipient's events that arrived in [the previous
// cutoff, this cutoff), less the ones it left out (listed per chunk). The
// report, its cut and the findings are written in one transaction: a crash
// leaves either all of it or none, and the next run builds it again with
// the same id.
//
// Functions only; each takes the database's lock for what it writes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/recipients.h"
#include "alerts/report_format.h"
#include "sharing/policy.h"

namespace kizuna::alerts {

struct BuildOptions {
  int64_t now_us = 0;
  // Cut at now rather than at the last period boundary (an operator's
  // `alerts run --now`): what has arrived goes out without waiting.
  bool cut_now = false;
  std::string only_recipient;                      // "" for all
  const sharing::SharingPolicy* policy = nullptr;  // required
  std::string producer;                            // the node's team name
  std::string producer_identity;                   // its identity id
};

struct BuiltReport {
  std::string id;
  std::string recipient;
  int64_t events = 0, suppressed = 0, withheld = 0;
};

// Builds every report that is due (queued, not delivered).
Result<std::vector<BuiltReport>> BuildDueReports(AlertsDb& db, const RouteTable& routes,
                                                 const BuildOptions& options);

// The report `recipient` would get if it were cut now, without writing
// anything: counts and body.
struct Preview {
  BuiltReport counts;
  ReportBody body;
};
Result<Preview> PreviewReport(AlertsDb& db, const RouteTable& routes, const BuildOptions& options,
                              const std::string& recipient);

// Calls `visit` for each event of the report cut for `recipient` at
// `cutoff`: its cut's range less what it left out. The caller holds the
// database's lock (and a transaction, for one consistent view).
// Without `with_evidence`, the events' evidence is left empty (not read).
Status ForEachEventInReport(store::sqlite::Connection& c, const std::string& recipient,
                            int64_t cutoff, const std::function<Status(const EventRow&)>& visit,
                            bool with_evidence = true);

// Fills report->body: the report rendered from its cut (what it included
// never changes once cut, so every rendering is the same bytes), or, for a
// report built before bodies were rendered on demand, its stored file.
// Takes the database's lock.
Status LoadReportBody(AlertsDb& db, ReportRow* report);

// Calls `visit` for every stored event that arrived at or after
// `since_us` (0: all), whatever its recipient, chunk by chunk. The caller
// holds the database's lock.
Status ForEachEventSince(store::sqlite::Connection& c, int64_t since_us,
                         const std::function<Status(const EventRow&)>& visit);

// Where the bodies of reports built before version 4 of alerts.db are kept:
// DIR/alerts/reports/<id>.report.
std::string ReportsDir(const std::string& node_dir);

// The report id of (recipient, cutoff).
std::string ReportId(std::string_view recipient, int64_t cutoff_us);

}  // namespace kizuna::alerts
