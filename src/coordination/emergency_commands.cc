// `kizuna emergency raise|list|ack|status`: the emergency escalation of
// emergencies.h from the command line. The running node's `escalations`
// job moves unanswered teams on to their next contact.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "bus/bus.h"
#include "common/time.h"
#include "coordination/emergencies.h"
#include "coordination/module.h"
#include "coordination/outbound.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

struct EmergencyArgs {
  std::string dir, id, summary;
  std::vector<std::string> to;
  double ack_minutes = 15;
  bool json = false;
};

int Raise(const EmergencyArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto ack = MinutesToMicros(args.ack_minutes, "--ack-minutes");
  if (!ack.ok()) return ReportFailure(ack.status());
  EmergencyRequest request{args.to, args.summary, *ack, "cli"};
  auto raised = RaiseEmergency(opened->Out(args.dir), request, SystemClock::Instance().NowMicros());
  if (!raised.ok()) return ReportFailure(raised.status());
  std::printf("%s\n", raised->c_str());  // the last line: the emergency's id
  return 0;
}

int List(const EmergencyArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto received = ReceivedEmergencies(opened->node->store());
  if (!received.ok()) return ReportFailure(received.status());
  auto raised = RaisedEmergencies(*opened->db, opened->node->store(), 100);
  if (!raised.ok()) return ReportFailure(raised.status());
  if (args.json) {
    json::array in, out;
    for (const ReceivedEmergency& e : *received) in.push_back(ReceivedEmergencyJson(e));
    for (const EmergencyStatus& e : *raised) out.push_back(EmergencyJson(e));
    std::printf("%s\n", json::serialize(
                            json::object{{"received", std::move(in)}, {"raised", std::move(out)}})
                            .c_str());
    return 0;
  }
  std::printf("received (%zu):\n", received->size());
  for (const ReceivedEmergency& e : *received) {
    std::printf("  %s from %s, raised %s: %s\n    %s\n", e.emergency.c_str(), e.from.c_str(),
                TimeOrDash(e.raised_us).c_str(),
                e.acknowledged_us ? ("acknowledged " + TimeOrDash(e.acknowledged_us)).c_str()
                                  : "NOT ACKNOWLEDGED (kizuna emergency ack DIR ID)",
                e.summary.c_str());
  }
  std::printf("raised (%zu):\n", raised->size());
  for (const EmergencyStatus& e : *raised) {
    size_t acked = 0;
    for (const EmergencyTeam& t : e.teams) acked += t.acknowledged_us != 0;
    std::printf("  %s raised %s: %zu of %zu teams acknowledged: %s\n", e.id.c_str(),
                TimeOrDash(e.raised_us).c_str(), acked, e.teams.size(), e.summary.c_str());
  }
  return 0;
}

int Ack(const EmergencyArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto acked =
      AcknowledgeEmergency(opened->node->store(), opened->node->config(), opened->node->identity(),
                           *opened->policy, args.id, SystemClock::Instance().NowMicros());
  if (!acked.ok()) return ReportFailure(acked.status());
  bus::NotifyNode(args.dir);
  for (const ReceivedEmergency& e : *acked) {
    std::printf("acknowledged %s from %s at %s\n", e.emergency.c_str(), e.from.c_str(),
                TimeOrDash(e.acknowledged_us).c_str());
  }
  return 0;
}

int Status_(const EmergencyArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto status = GetEmergency(*opened->db, opened->node->store(), args.id);
  if (!status.ok()) return ReportFailure(status.status());
  auto trail = AuditTrail(*opened->db, args.id);
  if (!trail.ok()) return ReportFailure(trail.status());
  if (args.json) {
    json::object out = EmergencyJson(*status);
    out["trail"] = TrailJson(*trail);
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  std::printf("emergency %s raised %s: %s\n", status->id.c_str(),
              TimeOrDash(status->raised_us).c_str(), status->summary.c_str());
  for (const EmergencyTeam& t : status->teams) {
    std::printf("  %-16s %-12s %s\n", t.peer.c_str(), t.state.c_str(),
                t.acknowledged_us
                    ? ("acknowledged " + TimeOrDash(t.acknowledged_us) + " by " + t.channel +
                       (t.acknowledged_by.empty() ? "" : " (" + t.acknowledged_by + ")"))
                          .c_str()
                    : ("next contact " + TimeOrDash(t.next_escalation_us)).c_str());
  }
  std::printf("trail:\n");
  for (const AuditEntry& e : *trail) {
    std::printf("  %s %s: %s\n", TimeOrDash(e.at_us).c_str(), e.event.c_str(), e.detail.c_str());
  }
  return 0;
}

}  // namespace

void AddEmergencyCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<EmergencyArgs>();
  auto* emergency = app.add_subcommand(
      "emergency", "Emergency escalation: reach a human at each partner team, now");
  emergency->require_subcommand(1);
  auto dir = [&args](CLI::App* command) {
    command->add_option("DIR", args->dir, "node directory")->required();
  };
  auto* raise = emergency->add_subcommand(
      "raise",
      "Notify partners' emergency contacts through their nodes and by e-mail; prints "
      "the emergency's id last");
  dir(raise);
  raise->add_option("--to", args->to, "partners ([[peer]] names), comma-separated")
      ->delimiter(',')
      ->required();
  raise->add_option("--summary", args->summary, "what happened")->required();
  raise->add_option("--ack-minutes", args->ack_minutes,
                    "each contact's time to acknowledge before the next is tried (default 15)");
  raise->callback([args, exit_code] { *exit_code = Raise(*args); });
  auto* list = emergency->add_subcommand("list", "Emergencies received from partners, and raised");
  dir(list);
  list->add_flag("--json", args->json, "as JSON");
  list->callback([args, exit_code] { *exit_code = List(*args); });
  auto* ack = emergency->add_subcommand("ack", "Acknowledge an emergency a partner raised");
  dir(ack);
  ack->add_option("ID", args->id, "the emergency (kizuna emergency list)")->required();
  ack->callback([args, exit_code] { *exit_code = Ack(*args); });
  auto* status = emergency->add_subcommand(
      "status", "Each team's escalation: who was notified when, who acknowledged, the trail");
  dir(status);
  status->add_option("ID", args->id, "the emergency")->required();
  status->add_flag("--json", args->json, "as JSON");
  status->callback([args, exit_code] { *exit_code = Status_(*args); });
}

}  // namespace kizuna::coordination
