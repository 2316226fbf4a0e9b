// Communication drills (issue 13; the APCERT drill is the model): does each
// partner's contact point still answer, and how fast?
//
// The origin starts a drill for chosen partners (StartDrill): for each, a
// kizuna-drill object (objects.h) addressed to that partner goes into the
// coordination collection, which federation carries to the partner's node,
// and an e-mail goes to the partner's first contact with an e-mail address
// in our directory (directory.h), with a link to acknowledge. The link
// carries a random token (only its SHA-256 is kept) and leads to this node's
// public route; opening it shows a page whose button acknowledges (a
// mail scanner that fetches links does not acknowledge).
//
// At the partner, the drill shows among those received (ReceivedDrills),
// and acknowledging it (AcknowledgeDrill: `kizuna drill ack`, the REST API)
// stores a kizuna-drill-ack addressed to the origin, which federation
// carries back. The origin counts an acknowledgement by node only from the
// partner the drill went to (its origin is that peer, and it names the
// object sent to that peer), received at the time the origin stored it;
// by e-mail, when the link's button is pressed at the origin. The report
// (ReportDrill) gives each team its first acknowledgement, the channel, and
// the response time from the origin's send to that receipt; after the
// deadline, a team without one has not answered.
//
// Drills repeat on a schedule (AddSchedule): the module's job starts the
// due ones (RunDueSchedules).
//
// Functions only; the database calls take its lock. Thread-safe as the
// store and CoordinationDb are.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "coordination/coordination_db.h"
#include "coordination/outbound.h"
#include "mail/settings.h"
#include "node/config.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::coordination {

inline constexpr std::string_view kDrillType = "kizuna-drill";
inline constexpr std::string_view kDrillAckType = "kizuna-drill-ack";
// The public route of the e-mailed link (token appended).
inline constexpr std::string_view kDrillAckPath = "/api/v1/coordination/drills/ack/";

struct DrillRequest {
  std::vector<std::string> peers;             // [[peer]] names
  int64_t deadline_us = 60 * 60 * 1000000LL;  // after the start
  std::string message;
  std::string schedule;    // the schedule that started it ("" by hand)
  std::string started_by;  // who ("org/user", "schedule")
};

// Starts a drill (see the top) and returns its id ("drill--<uuid>").
// Refuses, storing and sending nothing, an unknown or repeated peer, no
// peer, a deadline not in (0, 30 days], a message over 4000 bytes or not
// UTF-8, and a partner the sharing decision would not give the drill to.
// An e-mail that fails is recorded (the report shows it); the drill stands.
Result<std::string> StartDrill(const Outbound& sender, const DrillRequest& request, int64_t now_us);

// ---- at the partner

struct ReceivedDrill {
  std::string drill, object_id, from;  // from: the peer that sent it
  std::string message;
  int64_t started_us = 0, deadline_us = 0, received_us = 0;
  int64_t acknowledged_us = 0;  // our acknowledgement (0: none yet)
};
// The drills partners sent us, newest first.
Result<std::vector<ReceivedDrill>> ReceivedDrills(store::Store& store);
// Acknowledges a received drill (by drill id or object id): stores our
// kizuna-drill-ack addressed to its sender; every copy of that id (should
// another partner send one under the same id, each sender is answered).
// Once: a repeat returns the drill as first acknowledged. NotFound when no
// partner sent us that drill.
Result<std::vector<ReceivedDrill>> AcknowledgeDrill(store::Store& store,
                                                    const node::NodeConfig& config,
                                                    const node::NodeIdentity& identity,
                                                    const sharing::SharingPolicy& policy,
                                                    const std::string& drill, int64_t now_us);

// ---- at the origin

struct TeamResult {
  std::string peer;
  int64_t acknowledged_us = 0;  // 0: not yet
  std::string channel;          // "node" or "email"
  std::string email;            // where it was e-mailed ("" none)
  std::string mail_state;       // sent, failed, withheld, no-contact, not-configured
  std::string mail_detail;
};
struct DrillReport {
  std::string id, message, schedule;
  int64_t started_us = 0, deadline_us = 0;
  std::vector<TeamResult> teams;  // in the order given at the start
};
Result<DrillReport> ReportDrill(CoordinationDb& db, store::Store& store, const std::string& id);
// The drills we started, newest first (at most `limit`).
Result<std::vector<DrillReport>> SentDrills(CoordinationDb& db, store::Store& store, int limit);

// {"drill", "started", "deadline", "message", "teams": [{"team", "acknowledged",
// "response_seconds", "channel", "status", "email"}]}; status: on-time,
// late, no-answer, or waiting (before the deadline).
boost::json::object ReportJson(const DrillReport& report, int64_t now_us);
// team,acknowledged,response_seconds,channel,status (RFC 4180).
std::string ReportCsv(const DrillReport& report, int64_t now_us);

// An e-mailed link's token pressed: records the team's acknowledgement by
// e-mail (the first counts). NotFound for a token no drill gave.
struct TokenAck {
  std::string drill, peer;
  int64_t acknowledged_us = 0;
  bool first = false;  // this press was the acknowledgement
};
Result<TokenAck> AcknowledgeByToken(CoordinationDb& db, std::string_view token, int64_t now_us);
// What a token is for, without acknowledging (the page before the button).
Result<TokenAck> LookUpToken(CoordinationDb& db, std::string_view token);

// {"drill", "object", "from", "message", "started", "deadline", "received",
// "acknowledged" (null: not yet)}.
boost::json::object ReceivedJson(const ReceivedDrill& drill);
// [{"at", "event", "detail"}…]
boost::json::array TrailJson(const std::vector<AuditEntry>& trail);

// ---- schedules

struct DrillSchedule {
  std::string id;  // "schedule--<uuid>"
  std::vector<std::string> peers;
  int64_t every_us = 0, deadline_us = 0;
  std::string message;
  int64_t next_run_us = 0, created_us = 0;
};
// Adds a schedule (first drill at `first_run_us`); checked as StartDrill
// checks a request, and `every` at least an hour.
Result<DrillSchedule> AddSchedule(CoordinationDb& db, const sharing::SharingPolicy& policy,
                                  DrillSchedule schedule, int64_t now_us);
Result<std::vector<DrillSchedule>> Schedules(CoordinationDb& db);
Status RemoveSchedule(CoordinationDb& db, const std::string& id);  // NotFound
// Whether a schedule is due at `now_us` (cheap: the drills job asks it
// before building what sending needs).
Result<bool> SchedulesDue(CoordinationDb& db, int64_t now_us);
// Starts a drill for every schedule due at `now_us`, then moves it on by
// its period (a period missed while the node was down is not run twice).
// Returns the drills started.
Result<std::vector<std::string>> RunDueSchedules(const Outbound& sender, int64_t now_us);

}  // namespace kizuna::coordination
