// `kizuna alerts ingest|run|status|preview|recipient …`: the alerting
// pipeline from the command line, on the node directory (also while
// `kizuna serve` runs on it: alerts.db is shared through SQLite's locks).
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "alerts/directory_recipients.h"
#include "alerts/module.h"
#include "alerts/node_channel.h"
#include "alerts/pipeline.h"
#include "alerts/reports.h"
#include "alerts/shadowserver.h"
#include "alerts/status.h"
#include "bus/bus.h"
#include "common/memory.h"
#include "common/time.h"
#include "node/node.h"
#include "sharing/policy.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

struct Args {
  std::string dir, name, format = "auto", report_type, source, tlp;
  std::vector<std::string> files;
  // recipient add
  std::vector<int64_t> asns;
  std::vector<std::string> prefixes, countries, domains, emails;
  bool fallback = false, repeat_persisting = false;
  std::string channel = "email", peer, org, report_format, period = "daily",
              recipient_tlp = "amber";
  int suppress_days = 7, recheck_days = 7;
  bool json = false, now = false;
};

struct Opened {
  std::unique_ptr<node::Node> node;
  AlertsConfig config;
  std::unique_ptr<AlertsDb> db;
};

Result<Opened> Open(const std::string& dir) {
  Opened opened;
  KIZUNA_ASSIGN_OR_RETURN(opened.node, node::Node::Open(dir));
  KIZUNA_ASSIGN_OR_RETURN(opened.config, LoadAlertsConfig(opened.node->config(), dir));
  KIZUNA_ASSIGN_OR_RETURN(opened.db, AlertsDb::Open(dir));
  return opened;
}

// Routed as the running node routes: partners' constituencies included.
Status SyncFromDirectory(const Opened& opened) {
  return SyncDirectoryRecipients(*opened.db, opened.node->store(), opened.node->config(),
                                 opened.node->identity(), opened.config.route_by_directory,
                                 SystemClock::Instance().NowMicros())
      .status();
}

int Ingest(const Args& args) {
  KeepFreedMemoryForReuse();  // each batch's buffers are as large as the last's
  auto opened = Open(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  Status synced = SyncFromDirectory(*opened);
  if (!synced.ok()) return ReportFailure(synced);
  auto format = ParseInputFormat(args.format);
  if (!format.ok()) return ReportFailure(format.status());
  stix::Tlp tlp = opened->config.ingest_tlp;
  if (!args.tlp.empty()) {
    auto parsed = stix::ParseTlp(args.tlp);
    if (!parsed.ok()) return ReportFailure(InvalidArgument("--tlp: " + parsed.status().message()));
    tlp = *parsed;
  }
  auto recipients = opened->db->Recipients();
  if (!recipients.ok()) return ReportFailure(recipients.status());
  const RouteTable routes(std::move(*recipients));
  auto geo = geo::GeoDb::Open(args.dir);
  if (!geo.ok()) return ReportFailure(geo.status());
  int failures = 0;
  int64_t total_accepted = 0;
  for (const std::string& file : args.files) {
    std::ifstream input(file, std::ios::binary);
    if (!input) {
      std::fprintf(stderr, "%s: cannot read\n", file.c_str());
      ++failures;
      continue;
    }
    ReadOptions read;
    read.format = *format;
    read.report_type =
        args.report_type.empty()
            ? ShadowserverReportFromFileName(std::filesystem::path(file).filename().string())
            : args.report_type;
    read.source = args.source;
    const int64_t now = SystemClock::Instance().NowMicros();
    read.now_us = now;
    IngestOptions options;
    options.now_us = now;
    options.tlp = tlp;
    auto result = IngestStream(*opened->db, geo->get(), routes, input, read, options);
    if (!result.ok()) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), result.status().message().c_str());
      ++failures;
      continue;
    }
    for (const LineError& e : result->read.errors) {
      std::fprintf(stderr, "%s:%lld: %s\n", file.c_str(), static_cast<long long>(e.line),
                   e.message.c_str());
    }
    if (result->read.rejected > static_cast<int64_t>(result->read.errors.size())) {
      std::fprintf(stderr, "%s: %lld more bad records not shown\n", file.c_str(),
                   static_cast<long long>(result->read.rejected -
                                          static_cast<int64_t>(result->read.errors.size())));
    }
    total_accepted += result->read.accepted;
    if (args.json) {
      json::object out = IngestResultJson(*result);
      out["file"] = file;
      std::printf("%s\n", json::serialize(out).c_str());
    } else {
      std::printf(
          "%s: %s%s, %lld records: %lld accepted, %lld rejected; %lld new events, %lld "
          "repeats folded, %lld unrouted\n",
          file.c_str(), result->read.format_detected.c_str(),
          result->read.report_type.empty() ? "" : (" " + result->read.report_type).c_str(),
          static_cast<long long>(result->read.records),
          static_cast<long long>(result->read.accepted),
          static_cast<long long>(result->read.rejected),
          static_cast<long long>(result->stats.new_events),
          static_cast<long long>(result->stats.merged),
          static_cast<long long>(result->stats.unrouted));
    }
  }
  return failures == 0 ? 0 : 1;
}

int RecipientAdd(const Args& args) {
  Recipient r;
  r.name = args.name;
  for (int64_t a : args.asns) {
    if (a <= 0 || a > 0xFFFFFFFFLL) return ReportFailure(InvalidArgument("--asn: an AS number"));
    r.asns.push_back(static_cast<uint32_t>(a));
  }
  for (const std::string& p : args.prefixes) {
    auto prefix = ParsePrefix(p);
    if (!prefix.ok())
      return ReportFailure(InvalidArgument("--prefix: " + prefix.status().message()));
    r.prefixes.push_back(*prefix);
  }
  for (std::string c : args.countries) {
    for (char& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    r.countries.push_back(c);
  }
  for (std::string d : args.domains) {
    for (char& ch : d) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.domains.push_back(d);
  }
  r.fallback = args.fallback;
  auto channel = ParseChannel(args.channel);
  if (!channel) return ReportFailure(InvalidArgument("--channel: email, node or feed"));
  r.channel = *channel;
  r.emails = args.emails;
  r.peer = args.peer;
  r.org = args.org;
  // A partner's node takes STIX; the others CSV unless asked.
  auto format = ParseReportFormat(!args.report_format.empty()   ? args.report_format
                                  : r.channel == Channel::kNode ? "stix"
                                                                : "csv");
  if (!format) return ReportFailure(InvalidArgument("--format: csv, json or stix"));
  r.format = *format;
  if (args.period == "hourly") {
    r.period_seconds = 3600;
  } else if (args.period == "daily") {
    r.period_seconds = 86400;
  } else if (args.period == "weekly") {
    r.period_seconds = 604800;
  } else {
    return ReportFailure(InvalidArgument("--period: hourly, daily or weekly"));
  }
  auto tlp = stix::ParseTlp(args.recipient_tlp);
  if (!tlp.ok()) return ReportFailure(InvalidArgument("--tlp: " + tlp.status().message()));
  r.tlp = *tlp;
  r.suppress_days = args.suppress_days;
  r.repeat_persisting = args.repeat_persisting;
  r.recheck_days = args.recheck_days;
  if (IsDirectoryRecipient(r.name)) {
    return ReportFailure(InvalidArgument(std::string(kDirectoryRecipientReserved)));
  }
  auto opened = Open(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  if (r.channel == Channel::kNode) {
    bool known = false;
    for (const node::PeerConfig& p : opened->node->config().peers)
      known = known || p.name == r.peer;
    if (!known) return ReportFailure(InvalidArgument("--peer: no [[peer]] named " + r.peer));
  }
  Status put = opened->db->PutRecipient(r);
  if (!put.ok()) return ReportFailure(put);
  std::printf("%s\n", RecipientToJson(r).c_str());
  return 0;
}

int RecipientList(const Args& args) {
  auto opened = Open(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto recipients = opened->db->Recipients();
  if (!recipients.ok()) return ReportFailure(recipients.status());
  if (args.json) {
    json::array out;
    for (const Recipient& r : *recipients) out.push_back(json::parse(RecipientToJson(r)));
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  for (const Recipient& r : *recipients) {
    std::string rules;
    for (uint32_t a : r.asns) rules += " AS" + std::to_string(a);
    for (const Prefix& p : r.prefixes) rules += " " + FormatPrefix(p);
    for (const std::string& d : r.domains) rules += " ." + d;
    for (const std::string& c : r.countries) rules += " country:" + c;
    if (r.fallback) rules += " fallback";
    std::string to = r.channel == Channel::kEmail  ? r.emails.empty() ? "" : r.emails.front()
                      : r.channel == Channel::kNode ? "peer " + r.peer
                                                   : "feed of " + r.org;
    std::printf("%-20s %-5s %-4s %-28s%s\n", r.name.c_str(),
                std::string(ChannelName(r.channel)).c_str(),
                std::string(ReportFormatName(r.format)).c_str(), to.c_str(), rules.c_str());
  }
  return 0;
}

int RecipientRemove(const Args& args) {
  if (IsDirectoryRecipient(args.name)) {
    return ReportFailure(InvalidArgument(std::string(kDirectoryRecipientReserved)));
  }
  auto opened = Open(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  Status removed = opened->db->RemoveRecipient(args.name);
  if (!removed.ok()) return ReportFailure(removed);
  std::printf("recipient %s removed\n", args.name.c_str());
  return 0;
}

// What `run` and `preview` work with: the node, its recipients' routes and
// the sharing decision as its kizuna.toml says.
struct Pipeline {
  Opened opened;
  std::unique_ptr<RouteTable> routes;
  std::unique_ptr<sharing::SharingPolicy> policy;
};

Result<Pipeline> OpenPipeline(const std::string& dir) {
  Pipeline p;
  KIZUNA_ASSIGN_OR_RETURN(p.opened, Open(dir));
  KIZUNA_RETURN_IF_ERROR(SyncFromDirectory(p.opened));
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Recipient> recipients, p.opened.db->Recipients());
  p.routes = std::make_unique<RouteTable>(std::move(recipients));
  p.policy = std::make_unique<sharing::SharingPolicy>(p.opened.node->config());
  return p;
}

int Run(const Args& args) {
  auto pipeline = OpenPipeline(args.dir);
  if (!pipeline.ok()) return ReportFailure(pipeline.status());
  Opened* opened = &pipeline->opened;
  const RouteTable& routes = *pipeline->routes;
  const sharing::SharingPolicy& policy = *pipeline->policy;
  const int64_t now = SystemClock::Instance().NowMicros();
  BuildOptions build = BuildOptionsFor(*opened->node, &policy, now);
  build.cut_now = args.now;
  auto built = BuildDueReports(*opened->db, routes, build);
  if (!built.ok()) return ReportFailure(built.status());
  for (const BuiltReport& b : *built) {
    std::printf("report %s for %s: %lld events (%lld suppressed, %lld withheld)\n", b.id.c_str(),
                b.recipient.c_str(), static_cast<long long>(b.events),
                static_cast<long long>(b.suppressed), static_cast<long long>(b.withheld));
  }
  DeliveryOptions deliver = DeliveryOptionsFor(opened->config, *opened->node, &policy, now);
  // Channel node: into the node's store; the running node's federation
  // carries it (woken through DIR/bus.sock).
  deliver.to_node = NodeChannel(&opened->node->store(), opened->node->config().name,
                                [dir = args.dir] { bus::NotifyNode(dir); });
  auto delivered = DeliverDue(*opened->db, routes, deliver);
  if (!delivered.ok()) return ReportFailure(delivered.status());
  std::printf("%d sent, %d to retry, %d given up\n", delivered->sent, delivered->retrying,
              delivered->gave_up);
  return 0;
}

int ShowStatus(const Args& args) {
  auto opened = Open(args.dir);
  if (!opened.ok()) return ReportFailure(opened.status());
  auto status = StatusJson(*opened->db);
  if (!status.ok()) return ReportFailure(status.status());
  if (args.json) {
    std::printf("%s\n", json::serialize(*status).c_str());
    return 0;
  }
  const json::object& events = status->at("events").as_object();
  std::printf(
      "events: %lld (%lld pending, %lld reported, %lld suppressed, %lld withheld, %lld "
      "unrouted)\n",
      static_cast<long long>(events.at("total").as_int64()),
      static_cast<long long>(events.at("pending").as_int64()),
      static_cast<long long>(events.at("reported").as_int64()),
      static_cast<long long>(events.at("suppressed").as_int64()),
      static_cast<long long>(events.at("withheld").as_int64()),
      static_cast<long long>(events.at("unrouted").as_int64()));
  for (const json::value& v : status->at("recipients").as_array()) {
    const json::object& r = v.as_object();
    std::printf(
        "  %-20s %-5s pending %-8lld reports %-5lld last %s\n",
        std::string(r.at("name").as_string()).c_str(),
        std::string(r.at("channel").as_string()).c_str(),
        static_cast<long long>(r.at("pending").as_int64()),
        static_cast<long long>(r.at("reports").as_int64()),
        r.at("last_state").is_null() ? "-" : std::string(r.at("last_state").as_string()).c_str());
  }
  for (const json::value& v : status->at("recent").as_array()) {
    const json::object& r = v.as_object();
    std::printf("report %s %-16s %-12s %6lld events %s\n",
                std::string(r.at("id").as_string()).c_str(),
                std::string(r.at("recipient").as_string()).c_str(),
                std::string(r.at("state").as_string()).c_str(),
                static_cast<long long>(r.at("events").as_int64()),
                std::string(r.at("last_error").as_string()).c_str());
  }
  return 0;
}

int ShowPreview(const Args& args) {
  auto pipeline = OpenPipeline(args.dir);
  if (!pipeline.ok()) return ReportFailure(pipeline.status());
  Opened* opened = &pipeline->opened;
  const RouteTable& routes = *pipeline->routes;
  const BuildOptions build =
      BuildOptionsFor(*opened->node, pipeline->policy.get(), SystemClock::Instance().NowMicros());
  auto preview = PreviewReport(*opened->db, routes, build, args.name);
  if (!preview.ok()) return ReportFailure(preview.status());
  std::fprintf(stderr, "%s: %lld events would be reported (%lld suppressed, %lld withheld) as %s\n",
               args.name.c_str(), static_cast<long long>(preview->counts.events),
               static_cast<long long>(preview->counts.suppressed),
               static_cast<long long>(preview->counts.withheld), preview->body.filename.c_str());
  std::fwrite(preview->body.data.data(), 1, preview->body.data.size(), stdout);
  return 0;
}

}  // namespace

void AlertsModule::AddCommands(CLI::App& app, int* exit_code) {
  auto* alerts = app.add_subcommand(
      "alerts", "Infected-host alerting: observations in, reports to ISPs and CSIRTs out");
  alerts->require_subcommand(1);

  auto args = std::make_shared<Args>();
  auto* ingest = alerts->add_subcommand(
      "ingest", "Feed observations from files (Shadowserver CSV, CSV, JSON; format detected)");
  ingest->add_option("DIR", args->dir, "Node directory")->required();
  ingest->add_option("FILE", args->files, "Files to read")->required();
  ingest->add_option("--format", args->format, "auto, shadowserver, csv or json");
  ingest->add_option("--report-type", args->report_type,
                     "Shadowserver report type (e.g. scan_telnet) when the file name lacks it");
  ingest->add_option("--source", args->source, "Source label of these observations");
  ingest->add_option("--tlp", args->tlp, "TLP of these observations (default [alerts] ingest_tlp)");
  ingest->add_flag("--json", args->json, "One JSON summary line per file");
  ingest->callback([args, exit_code] { *exit_code = Ingest(*args); });

  auto* recipient = alerts->add_subcommand("recipient", "Who receives reports");
  recipient->require_subcommand(1);
  auto* add = recipient->add_subcommand(
      "add", "Add or replace a recipient: its rules (most specific wins) and preferences");
  add->add_option("DIR", args->dir, "Node directory")->required();
  add->add_option("NAME", args->name, "Recipient name")->required();
  add->add_option("--asn", args->asns, "AS number it is responsible for (repeatable)");
  add->add_option("--prefix", args->prefixes, "Network prefix, IPv4 or IPv6 (repeatable)");
  add->add_option("--country", args->countries, "Country code, for a national CSIRT (repeatable)");
  add->add_option("--domain", args->domains, "Domain of an organisation's hosts (repeatable)");
  add->add_flag("--fallback", args->fallback, "Receives what no other rule routes");
  add->add_option("--channel", args->channel, "email (default), node or feed");
  add->add_option("--email", args->emails, "Address reports are sent to (repeatable)");
  add->add_option("--peer", args->peer, "The [[peer]] reports go to (channel node)");
  add->add_option("--org", args->org,
                  "The node organization whose users pull the feed and acknowledge reports");
  add->add_option("--format", args->report_format,
                  "csv (default), json or stix (the default and only choice for channel node)");
  add->add_option("--period", args->period, "hourly, daily (default) or weekly");
  add->add_option("--tlp", args->recipient_tlp,
                  "The reports' TLP: clear, green or amber (default)");
  add->add_option("--suppress-days", args->suppress_days,
                  "Days a reported finding is not reported again (default 7)");
  add->add_flag("--repeat-persisting", args->repeat_persisting,
                "Report a finding every period it is still seen");
  add->add_option("--recheck-days", args->recheck_days,
                  "Days after a report is sent that its hosts are checked again (default 7, "
                  "0: never)");
  add->callback([args, exit_code] { *exit_code = RecipientAdd(*args); });
  auto* list = recipient->add_subcommand("list", "The recipients");
  list->add_option("DIR", args->dir, "Node directory")->required();
  list->add_flag("--json", args->json, "As JSON");
  list->callback([args, exit_code] { *exit_code = RecipientList(*args); });
  auto* remove = recipient->add_subcommand("remove", "Remove a recipient");
  remove->add_option("DIR", args->dir, "Node directory")->required();
  remove->add_option("NAME", args->name, "Recipient name")->required();
  remove->callback([args, exit_code] { *exit_code = RecipientRemove(*args); });

  auto* run = alerts->add_subcommand("run", "Build the reports that are due and deliver them");
  run->add_option("DIR", args->dir, "Node directory")->required();
  run->add_flag("--now", args->now, "Cut reports now instead of at the period's end");
  run->callback([args, exit_code] { *exit_code = Run(*args); });

  auto* status =
      alerts->add_subcommand("status", "Events, recipients and reports with their state");
  status->add_option("DIR", args->dir, "Node directory")->required();
  status->add_flag("--json", args->json, "As JSON");
  status->callback([args, exit_code] { *exit_code = ShowStatus(*args); });

  auto* preview = alerts->add_subcommand(
      "preview", "The report a recipient would get if it were cut now (nothing is changed)");
  preview->add_option("DIR", args->dir, "Node directory")->required();
  preview->add_option("RECIPIENT", args->name, "Recipient name")->required();
  preview->callback([args, exit_code] { *exit_code = ShowPreview(*args); });
}

}  // namespace kizuna::alerts
