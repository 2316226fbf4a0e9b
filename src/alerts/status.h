// The alerting module's answers, shared by the REST API and the CLI: the
// status overview, a report as JSON, an ingest's summary, and the events a
// recipient's feed shows.
//
// Functions only; each takes the database's lock for its reads.
#pragma once

#include <boost/json/object.hpp>
#include <string>
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

// The events of `recipients`' reports created at or after `since_us`, in
// report order, whole reports at a time up to about `limit` events, each
// passing the sharing decision for its recipient as it stands now.
struct FeedPage {
  std::vector<EventRow> events;
  bool more = false;
  // since_us for the next request: the next page when more, else just
  // past the newest report shown (what is new since).
  int64_t next_since = 0;
};
Result<FeedPage> FeedEvents(AlertsDb& db, const sharing::SharingPolicy& policy,
                            const std::vector<Recipient>& recipients, int64_t since_us,
                            int64_t limit);

// The delivery settings of a node's [alerts] config.
// The report-building settings of a node (its team name and identity).
BuildOptions BuildOptionsFor(const node::Node& node, const sharing::SharingPolicy* policy,
                             int64_t now_us);

struct AlertsConfig;
DeliveryOptions DeliveryOptionsFor(const AlertsConfig& config, const node::Node& node,
                                   const sharing::SharingPolicy* policy, int64_t now_us);

}  // namespace kizuna::alerts
