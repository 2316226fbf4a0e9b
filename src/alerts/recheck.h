// The re-check: a recipient's recheck_days after one of its reports was
// sent, each event in it is looked at again: has this node seen the same
// host with the same finding (ip and type) since — from any source it is
// fed: files, its users, its telescope, partners' nodes? If so the event
// becomes "still-infected" (with when it was last seen), else "remediated"
// (event_state, node_channel.h). A report is re-checked once. When the
// event came from a partner's node, the partner hears the result
// (partner_intake.h).
//
// Functions only; each takes the database's lock for its work. Cost: one
// pass over the events seen after the oldest report due, per run.
#pragma once

#include <cstdint>

#include "alerts/alerts_db.h"
#include "alerts/recipients.h"

namespace kizuna::alerts {

struct RecheckStats {
  int64_t reports = 0;
  int64_t remediated = 0;
  int64_t still_infected = 0;
};

// Re-checks the reports that are due at `now_us` (at most `limit` a call).
Result<RecheckStats> RecheckReports(AlertsDb& db, const RouteTable& routes, int64_t now_us,
                                    int limit = 100);

}  // namespace kizuna::alerts
