// `kizuna drill start|list|ack|report|schedule|schedules|unschedule`: the
// drills of drills.h from the command line, on a node directory whether its
// node runs or not (a running node is told through the bus and shares at
// once).
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "bus/bus.h"
#include "common/time.h"
#include "coordination/directory.h"
#include "coordination/drills.h"
#include "coordination/module.h"
#include "coordination/outbound.h"
#include "node/node.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

struct DrillArgs {
  std::string dir, id, message, first;
  std::vector<std::string> to;
  double deadline_minutes = 60, every_days = 0;
  bool json = false, csv = false;
};

int Start(const DrillArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto deadline = MinutesToMicros(args.deadline_minutes, "--deadline-minutes");
  if (!deadline.ok()) return ReportFailure(deadline.status());
  DrillRequest request{args.to, *deadline, args.message, "", "cli"};
  auto drill = StartDrill(opened->Out(args.dir), request, SystemClock::Instance().NowMicros());
  if (!drill.ok()) return ReportFailure(drill.status());
  std::printf("%s\n", drill->c_str());  // the last line: the drill's id
  return 0;
}

int List(const DrillArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto received = ReceivedDrills(opened->node->store());
  if (!received.ok()) return ReportFailure(received.status());
  auto sent = SentDrills(*opened->db, opened->node->store(), 100);
  if (!sent.ok()) return ReportFailure(sent.status());
  const int64_t now = SystemClock::Instance().NowMicros();
  if (args.json) {
    json::array in, out;
    for (const ReceivedDrill& r : *received) in.push_back(ReceivedJson(r));
    for (const DrillReport& r : *sent) out.push_back(ReportJson(r, now));
    std::printf("%s\n",
                json::serialize(json::object{{"received", std::move(in)}, {"sent", std::move(out)}})
                    .c_str());
    return 0;
  }
  std::printf("received (%zu):\n", received->size());
  for (const ReceivedDrill& r : *received) {
    std::printf("  %s from %s, deadline %s: %s\n    %s\n", r.drill.c_str(), r.from.c_str(),
                TimeOrDash(r.deadline_us).c_str(),
                r.acknowledged_us ? ("acknowledged " + TimeOrDash(r.acknowledged_us)).c_str()
                                  : "NOT ACKNOWLEDGED (kizuna drill ack DIR ID)",
                r.message.c_str());
  }
  std::printf("sent (%zu):\n", sent->size());
  for (const DrillReport& r : *sent) {
    size_t acked = 0;
    for (const TeamResult& t : r.teams) acked += t.acknowledged_us != 0;
    std::printf("  %s started %s, deadline %s: %zu of %zu acknowledged\n", r.id.c_str(),
                TimeOrDash(r.started_us).c_str(), TimeOrDash(r.deadline_us).c_str(), acked,
                r.teams.size());
  }
  return 0;
}

int Ack(const DrillArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto acked =
      AcknowledgeDrill(opened->node->store(), opened->node->config(), opened->node->identity(),
                       *opened->policy, args.id, SystemClock::Instance().NowMicros());
  if (!acked.ok()) return ReportFailure(acked.status());
  bus::NotifyNode(args.dir);
  for (const ReceivedDrill& d : *acked) {
    std::printf("acknowledged %s from %s at %s\n", d.drill.c_str(), d.from.c_str(),
                TimeOrDash(d.acknowledged_us).c_str());
  }
  return 0;
}

int Report(const DrillArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto report = ReportDrill(*opened->db, opened->node->store(), args.id);
  if (!report.ok()) return ReportFailure(report.status());
  const int64_t now = SystemClock::Instance().NowMicros();
  if (args.csv) {
    std::fputs(ReportCsv(*report, now).c_str(), stdout);
    return 0;
  }
  json::object out = ReportJson(*report, now);
  if (args.json) {
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  std::printf("drill %s: started %s, deadline %s\n", report->id.c_str(),
              TimeOrDash(report->started_us).c_str(), TimeOrDash(report->deadline_us).c_str());
  for (const json::value& team : out["teams"].get_array()) {
    const json::object& t = team.get_object();
    std::printf("  %-16s %-10s %s\n", json::value_to<std::string>(t.at("team")).c_str(),
                json::value_to<std::string>(t.at("status")).c_str(),
                t.at("acknowledged").is_null()
                    ? "-"
                    : (json::value_to<std::string>(t.at("acknowledged")) + " by " +
                       json::value_to<std::string>(t.at("channel")) + " after " +
                       std::to_string(t.at("response_seconds").as_int64()) + " s")
                          .c_str());
  }
  auto trail = AuditTrail(*opened->db, args.id);
  if (trail.ok()) {
    std::printf("trail:\n");
    for (const AuditEntry& e : *trail) {
      std::printf("  %s %s: %s\n", TimeOrDash(e.at_us).c_str(), e.event.c_str(), e.detail.c_str());
    }
  }
  return 0;
}

int Schedule(const DrillArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  const int64_t now = SystemClock::Instance().NowMicros();
  DrillSchedule schedule;
  schedule.peers = args.to;
  auto every = MinutesToMicros(args.every_days * 1440, "--every-days");
  if (!every.ok()) return ReportFailure(every.status());
  auto deadline = MinutesToMicros(args.deadline_minutes, "--deadline-minutes");
  if (!deadline.ok()) return ReportFailure(deadline.status());
  schedule.every_us = *every;
  schedule.deadline_us = *deadline;
  schedule.message = args.message;
  if (!args.first.empty()) {
    auto first = ParseTimestamp(args.first);
    if (!first.ok()) return ReportFailure(InvalidArgument("--first: " + first.status().message()));
    schedule.next_run_us = *first;
  }
  auto added = AddSchedule(*opened->db, *opened->policy, schedule, now);
  if (!added.ok()) return ReportFailure(added.status());
  std::fprintf(stderr, "first drill %s, then every %g days (the running node starts them)\n",
               TimeOrDash(added->next_run_us).c_str(), args.every_days);
  std::printf("%s\n", added->id.c_str());
  return 0;
}

int ListSchedules(const DrillArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto schedules = Schedules(*opened->db);
  if (!schedules.ok()) return ReportFailure(schedules.status());
  json::array out;
  for (const DrillSchedule& s : *schedules) {
    json::array peers;
    for (const std::string& p : s.peers) peers.push_back(json::string(p));
    out.push_back(json::object{{"id", s.id},
                               {"to", std::move(peers)},
                               {"every_days", static_cast<double>(s.every_us) / 86400e6},
                               {"deadline_minutes", static_cast<double>(s.deadline_us) / 60e6},
                               {"message", s.message},
                               {"next", TimeOrDash(s.next_run_us)}});
    if (!args.json) {
      std::string to;
      for (const std::string& p : s.peers) to += (to.empty() ? "" : ",") + p;
      std::printf("%s to %s every %g days, next %s\n", s.id.c_str(), to.c_str(),
                  static_cast<double>(s.every_us) / 86400e6, TimeOrDash(s.next_run_us).c_str());
    }
  }
  if (args.json) {
    std::printf("%s\n", json::serialize(json::object{{"schedules", std::move(out)}}).c_str());
  } else if (schedules->empty()) {
    std::printf("no drill scheduled (kizuna drill schedule)\n");
  }
  return 0;
}

int Unschedule(const DrillArgs& args) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  Status removed = RemoveSchedule(*opened->db, args.id);
  if (!removed.ok()) return ReportFailure(removed);
  std::printf("removed %s\n", args.id.c_str());
  return 0;
}

}  // namespace

void AddDrillCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<DrillArgs>();
  auto* drill = app.add_subcommand(
      "drill", "Communication drills: do partners' contact points answer, and how fast");
  drill->require_subcommand(1);
  auto dir = [&args](CLI::App* command) {
    command->add_option("DIR", args->dir, "node directory")->required();
  };
  auto request = [&args](CLI::App* command, bool required_to) {
    auto* to = command->add_option("--to", args->to, "partners ([[peer]] names), comma-separated")
                   ->delimiter(',');
    if (required_to) to->required();
    command->add_option("--deadline-minutes", args->deadline_minutes,
                        "time to acknowledge (default 60)");
    command->add_option("--message", args->message, "the drill's message");
  };
  auto* start = drill->add_subcommand(
      "start", "Send a drill to partners' nodes and contacts; prints its id last");
  dir(start);
  request(start, true);
  start->callback([args, exit_code] { *exit_code = Start(*args); });
  auto* list = drill->add_subcommand("list", "Drills received from partners, and those sent");
  dir(list);
  list->add_flag("--json", args->json, "as JSON");
  list->callback([args, exit_code] { *exit_code = List(*args); });
  auto* ack = drill->add_subcommand("ack", "Acknowledge a drill a partner sent");
  dir(ack);
  ack->add_option("DRILL_ID", args->id, "the drill (kizuna drill list)")->required();
  ack->callback([args, exit_code] { *exit_code = Ack(*args); });
  auto* report = drill->add_subcommand("report", "Who acknowledged a drill we sent, and when");
  dir(report);
  report->add_option("DRILL_ID", args->id, "the drill")->required();
  auto* as_json = report->add_flag("--json", args->json, "as JSON");
  report->add_flag("--csv", args->csv, "as CSV")->excludes(as_json);
  report->callback([args, exit_code] { *exit_code = Report(*args); });
  auto* schedule = drill->add_subcommand(
      "schedule", "Repeat a drill on a schedule (the running node starts each); prints its id");
  dir(schedule);
  request(schedule, true);
  schedule->add_option("--every-days", args->every_days, "days between drills")->required();
  schedule->add_option("--first", args->first, "the first drill's time (default now)");
  schedule->callback([args, exit_code] { *exit_code = Schedule(*args); });
  auto* schedules = drill->add_subcommand("schedules", "The scheduled drills");
  dir(schedules);
  schedules->add_flag("--json", args->json, "as JSON");
  schedules->callback([args, exit_code] { *exit_code = ListSchedules(*args); });
  auto* unschedule = drill->add_subcommand("unschedule", "Stop a scheduled drill");
  dir(unschedule);
  unschedule->add_option("SCHEDULE_ID", args->id, "the schedule")->required();
  unschedule->callback([args, exit_code] { *exit_code = Unschedule(*args); });
}

}  // namespace kizuna::coordination
