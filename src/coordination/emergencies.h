// Emergency escalation (issue 13): when a serious incident strikes, reach a
// human at each partner team, now, and keep trying until one answers.
//
// RaiseEmergency sends each chosen partner a kizuna-emergency object
// (objects.h, addressed to it alone) through federation, and e-mails the
// first contact of its escalation chain (EscalationChain: within the team's
// operating hours in its time zone, its emergency contacts first, then its
// other contacts in the directory's order, the 24/7 line last; outside
// them, the 24/7 line first) with a link to acknowledge. Each contact has
// `ack` time to answer; EscalateDue (the module's `escalations` job) moves
// an unanswered team on to its next contact, choosing again by the hours
// at that moment, until one acknowledges or none is left ("unanswered"). A
// contact with a phone and no e-mail is a step too: the trail tells the
// operator to call it.
//
// A team acknowledges on its node (AcknowledgeEmergency: a
// kizuna-emergency-ack back through federation, channel "node") or with
// the link in its e-mail (channel "email", naming the contact); either
// stops the escalation. Everything goes into the audit trail with times.
//
// Functions only; the database calls take its lock.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "coordination/directory.h"
#include "coordination/objects.h"
#include "coordination/outbound.h"

namespace kizuna::coordination {

inline constexpr std::string_view kEmergencyType = "kizuna-emergency";
inline constexpr std::string_view kEmergencyAckType = "kizuna-emergency-ack";
inline constexpr std::string_view kEmergencyAckPath = "/api/v1/coordination/emergencies/ack/";

// The order a team's contacts are tried in at `now_us` (see the top). A
// time zone or hours we cannot read count as outside the hours (the 24/7
// line first): `note` says why.
struct EscalationChain {
  std::vector<Contact> contacts;
  bool within_hours = false;
  std::string note;
};
EscalationChain ChainAt(const DirectoryEntry& entry, int64_t now_us,
                        const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

struct EmergencyRequest {
  std::vector<std::string> peers;
  std::string summary;
  int64_t ack_us = 15 * 60 * 1000000LL;  // each contact's time to answer
  std::string raised_by;
};

// Raises an emergency (see the top); returns its id ("emergency--<uuid>").
// Refuses, sending nothing, an unknown or repeated peer, no peer, an empty
// summary or one over 4000 bytes or not UTF-8, an acknowledgement time not
// in (0, 24 hours], and a partner the sharing decision would not give it to.
Result<std::string> RaiseEmergency(const Outbound& outbound, const EmergencyRequest& request,
                                   int64_t now_us);

// Whether any team still waits for an answer (cheap: the escalations job
// asks it before building what sending needs).
Result<bool> EscalationsPending(CoordinationDb& db);
// Moves every unanswered team whose contact's time ran out on to its next
// contact (and records acknowledgements that came through federation).
// Returns how many contacts were notified.
Result<int> EscalateDue(const Outbound& outbound, int64_t now_us);

struct EmergencyStep {
  int step = 0;
  int64_t at_us = 0;
  Contact contact;
  bool within_hours = false;
  std::string mail_state, mail_detail;
};
struct EmergencyTeam {
  std::string peer, object_id;
  std::string state;  // notifying, acknowledged, unanswered
  int64_t next_escalation_us = 0;
  int64_t acknowledged_us = 0;
  std::string channel;          // node, email
  std::string acknowledged_by;  // the contact, for e-mail
  std::vector<EmergencyStep> steps;
};
struct EmergencyStatus {
  std::string id, summary;
  int64_t raised_us = 0, ack_us = 0;
  std::vector<EmergencyTeam> teams;
};
// NotFound when we raised no such emergency. A partner's acknowledgement
// that came through federation shows at once (the job records it).
Result<EmergencyStatus> GetEmergency(CoordinationDb& db, store::Store& store,
                                     const std::string& id);
Result<std::vector<EmergencyStatus>> RaisedEmergencies(CoordinationDb& db, store::Store& store,
                                                       int limit);
// {"emergency", "summary", "raised", "ack_minutes", "teams": [{"team",
// "state", "acknowledged", "channel", "by", "steps": [{"at", "role",
// "name", "email", "phone", "within_hours", "mail"}]}]}
boost::json::object EmergencyJson(const EmergencyStatus& status);

// The e-mailed link pressed: the team acknowledged, by that contact.
struct EmergencyLink {
  std::string emergency, peer, contact;
  int64_t acknowledged_us = 0;
  bool first = false;
};
Result<EmergencyLink> LookUpEmergencyToken(CoordinationDb& db, std::string_view token);
Result<EmergencyLink> AcknowledgeEmergencyByToken(CoordinationDb& db, std::string_view token,
                                                  int64_t now_us);

// ---- at the partner
struct ReceivedEmergency {
  std::string emergency, object_id, from, summary;
  int64_t raised_us = 0, received_us = 0, acknowledged_us = 0;
};
Result<std::vector<ReceivedEmergency>> ReceivedEmergencies(store::Store& store);
// By emergency id or object id, every sender's copy; once. NotFound when
// no partner sent it.
Result<std::vector<ReceivedEmergency>> AcknowledgeEmergency(store::Store& store,
                                                            const node::NodeConfig& config,
                                                            const node::NodeIdentity& identity,
                                                            const sharing::SharingPolicy& policy,
                                                            const std::string& id, int64_t now_us);
boost::json::object ReceivedEmergencyJson(const ReceivedEmergency& emergency);

}  // namespace kizuna::coordination
