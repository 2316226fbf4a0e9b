// `kizuna incident open|note|task|link|close|show|list|report`: joint
// incidents (incidents.h) from the command line.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "common/time.h"
#include "coordination/incidents.h"
#include "coordination/module.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

struct IncidentArgs {
  std::string dir, id, title, severity = "medium", category = "other", impact, description;
  std::string text, assign, due, object, format = "markdown";
  std::vector<std::string> participants, sectors, countries;
  bool assistance = false, json = false;
};

int64_t Now() { return SystemClock::Instance().NowMicros(); }

template <typename Work>
int WithNode(const IncidentArgs& args, Work work) {
  auto opened = OpenCommandNode(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  return work(*opened, opened->Out(args.dir));
}

int Open(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    OpenRequest request;
    request.title = args.title;
    request.participants = args.participants;
    request.severity = args.severity;
    request.category = args.category;
    request.impact = args.impact;
    request.description = args.description;
    request.sectors = args.sectors;
    request.countries = args.countries;
    std::string emergency;
    auto id = OpenIncident(out, request, Now(), &emergency);
    if (!id.ok()) return ReportFailure(id.status());
    if (!emergency.empty()) std::fprintf(stderr, "emergency raised: %s\n", emergency.c_str());
    std::printf("%s\n", id->c_str());  // the last line: the incident's id
    return 0;
  });
}

int Note(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    auto id = AddIncidentNote(out, args.id, args.text, args.assistance, Now());
    if (!id.ok()) return ReportFailure(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  });
}

int Task(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    int64_t due = 0;
    if (!args.due.empty()) {
      auto parsed = ParseTimestamp(args.due);
      if (!parsed.ok())
        return ReportFailure(InvalidArgument("--due: " + parsed.status().message()));
      due = *parsed;
    }
    auto id = AddIncidentTask(out, args.id, args.assign, args.text, due, Now());
    if (!id.ok()) return ReportFailure(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  });
}

int Link(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    auto id = LinkToIncident(out, args.id, args.object, Now());
    if (!id.ok()) return ReportFailure(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  });
}

int Close(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    Status closed = CloseIncident(out, args.id, Now());
    if (!closed.ok()) return ReportFailure(closed);
    std::printf("closed %s\n", args.id.c_str());
    return 0;
  });
}

int Show(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    auto incident = LoadIncident(out, args.id);
    if (!incident.ok()) return ReportFailure(incident.status());
    // Text or JSON: the Markdown report reads well in a terminal.
    std::fputs(args.json ? (json::serialize(IncidentJson(*incident)) + "\n").c_str()
                         : IncidentMarkdown(*incident).c_str(),
               stdout);
    return 0;
  });
}

int List(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    auto incidents = ListIncidents(out);
    if (!incidents.ok()) return ReportFailure(incidents.status());
    json::array list;
    for (const Incident& i : *incidents) {
      list.push_back(json::object{{"id", i.id},
                                  {"title", i.title},
                                  {"status", i.status},
                                  {"severity", i.severity},
                                  {"owner", i.participants.front().name},
                                  {"opened", FormatTimestamp(i.opened_us, 3)},
                                  {"entries", i.timeline.size()}});
      if (!args.json) {
        std::printf("%s %-6s %-8s %s (owner %s, %zu entries)\n", i.id.c_str(), i.status.c_str(),
                    i.severity.c_str(), i.title.c_str(), i.participants.front().name.c_str(),
                    i.timeline.size());
      }
    }
    if (args.json) {
      std::printf("%s\n", json::serialize(json::object{{"incidents", std::move(list)}}).c_str());
    } else if (incidents->empty()) {
      std::printf("no joint incident (kizuna incident open)\n");
    }
    return 0;
  });
}

int Report(const IncidentArgs& args) {
  return WithNode(args, [&](CommandNode&, const Outbound& out) {
    auto incident = LoadIncident(out, args.id);
    if (!incident.ok()) return ReportFailure(incident.status());
    std::fputs(args.format == "html" ? IncidentHtml(*incident).c_str()
                                     : IncidentMarkdown(*incident).c_str(),
               stdout);
    return 0;
  });
}

}  // namespace

void AddIncidentCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<IncidentArgs>();
  auto* incident =
      app.add_subcommand("incident", "Joint incidents coordinated among chosen partners");
  incident->require_subcommand(1);
  auto dir = [&args](CLI::App* command) {
    command->add_option("DIR", args->dir, "node directory")->required();
  };
  auto id = [&args](CLI::App* command) {
    command->add_option("ID", args->id, "the incident (kizuna incident list)")->required();
  };
  auto* open = incident->add_subcommand(
      "open",
      "Open an incident with partners; prints its id last (high or critical: raises an "
      "emergency to them)");
  dir(open);
  open->add_option("--title", args->title, "what it is")->required();
  open->add_option("--participants", args->participants,
                   "partners ([[peer]] names), comma-separated")
      ->delimiter(',')
      ->required();
  open->add_option("--severity", args->severity, "low, medium (default), high, critical");
  open->add_option("--category", args->category,
                   "a Reference Security Incident Taxonomy class: abusive-content, malicious-code, "
                   "information-gathering, intrusion-attempts, intrusions, availability, "
                   "information-content-security, fraud, vulnerable, other (default), test");
  open->add_option("--impact", args->impact, "its impact");
  open->add_option("--description", args->description, "a description");
  open->add_option("--sector", args->sectors, "an affected sector (repeatable)");
  open->add_option("--country", args->countries, "an affected country (repeatable)");
  open->callback([args, exit_code] { *exit_code = Open(*args); });
  auto* note = incident->add_subcommand("note", "Add an entry to the incident's timeline");
  dir(note);
  id(note);
  note->add_option("--text", args->text, "the entry")->required();
  note->add_flag("--request-assistance", args->assistance, "a request for assistance");
  note->callback([args, exit_code] { *exit_code = Note(*args); });
  auto* task = incident->add_subcommand("task", "Assign a task to a participant");
  dir(task);
  id(task);
  task->add_option("--assign", args->assign, "the participant ([[peer]] name, or our name)")
      ->required();
  task->add_option("--text", args->text, "the task")->required();
  task->add_option("--due", args->due, "when it is due (2026-12-01T12:00:00Z)");
  task->callback([args, exit_code] { *exit_code = Task(*args); });
  auto* link = incident->add_subcommand("link", "Link an indicator, observable or sighting");
  dir(link);
  id(link);
  link->add_option("OBJECT_ID", args->object, "the STIX id")->required();
  link->callback([args, exit_code] { *exit_code = Link(*args); });
  auto* close = incident->add_subcommand("close", "Close the incident (its owner)");
  dir(close);
  id(close);
  close->callback([args, exit_code] { *exit_code = Close(*args); });
  auto* show = incident->add_subcommand("show", "The incident, its timeline and tasks");
  dir(show);
  id(show);
  show->add_flag("--json", args->json, "as JSON");
  show->callback([args, exit_code] { *exit_code = Show(*args); });
  auto* list = incident->add_subcommand("list", "The joint incidents this node holds");
  dir(list);
  list->add_flag("--json", args->json, "as JSON");
  list->callback([args, exit_code] { *exit_code = List(*args); });
  auto* report = incident->add_subcommand("report", "The timeline report");
  dir(report);
  id(report);
  report->add_option("--format", args->format, "markdown (default) or html")
      ->check(CLI::IsMember({"markdown", "html"}));
  report->callback([args, exit_code] { *exit_code = Report(*args); });
}

}  // namespace kizuna::coordination
