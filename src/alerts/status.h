// The alerting module's answers, shared by the REST API and the CLI: the
// status overview, a report as JSON, an ingest's summary, and the events a
// recipient's feed shows.
//
// Functions only; each takes the database's lock for its reads.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/deliver.h"
#include "alerts/pipeline.h"
#include "alerts/report_format.h"
#include "alerts/reports.h"
#include "node/node.h"
#include "sharing/policy.h"

namespace kizuna::alerts {

// {"events": {"total", "pending", "reported", "suppressed", "withheld",
//  "unrouted"}, "recipients": [{"name", "channel", "pending", "reports",
//  "last_report", "last_state"}], "reports": {"<state>": N, …},
//  "event_states": {"<state>": N, …} (each event's latest, node_channel.h),
//  "recent": [report…]}
Result<boost::json::object> StatusJson(AlertsDb& db);

// {"id", "recipient", "period_start", "cutoff", "created", "format",
//  "channel", "tlp", "events", "suppressed", "withheld", "state", "attempts",
//  "next_attempt", "last_error", "sent", "acknowledged", "filename"}
boost::json::object ReportJson(const ReportRow& report);

// {"records", "accepted", "rejected", "errors": [{"line", "message"}],
//  "format", "report_type", "new_events", "merged", "unrouted",
//  "per_recipient": {name: N}}
boost::json::object IngestResultJson(const IngestResult& result);

// Where a feed page starts: the reports created at or after `since_us`;
// when `report` is set (a rowid), that report, created at since_us, is
// resumed past its first `skip` events in the order they are kept (those
// withheld from the recipient count too), and the reports created at the
// same time before it are done.
struct FeedPosition {
  int64_t since_us = 0;
  int64_t report = 0;
  int64_t skip = 0;
};
// "TIME" at a report's start, "TIME~REPORT~SKIP" inside one: the feed's
// `since` and `next`.
std::string FormatFeedPosition(const FeedPosition& position);
Result<FeedPosition> ParseFeedPosition(std::string_view text);

// The events of `recipients`' reports from `from`: reports in the order they
// were cut, each report's events in the order kept, at most `limit` (a page
// may end inside a report: memory is the page's, not the report's), each
// passing the sharing decision for its recipient as it stands now.
struct FeedPage {
  std::vector<EventRow> events;
  bool more = false;
  // Where the next request starts: the next page when more, else just past
  // the newest report shown (what is new since).
  FeedPosition next;
};
Result<FeedPage> FeedEvents(AlertsDb& db, const sharing::SharingPolicy& policy,
                            const std::vector<Recipient>& recipients, const FeedPosition& from,
                            int64_t limit);

// The delivery settings of a node's [alerts] config.
// The report-building settings of a node (its team name and identity).
BuildOptions BuildOptionsFor(const node::Node& node, const sharing::SharingPolicy* policy,
                             int64_t now_us);

struct AlertsConfig;
DeliveryOptions DeliveryOptionsFor(const AlertsConfig& config, const node::Node& node,
                                   const sharing::SharingPolicy* policy, int64_t now_us);

}  // namespace kizuna::alerts
