// `kizuna telescope sensor add|list`, `telescope top|series|surges DIR`:
// the telescope from the command line, on the node directory (also while
// `kizuna serve` runs on it). The views are the REST API's (views.h), for
// the operator: everything the node holds.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "node/node.h"
#include "telescope/breakdown.h"
#include "telescope/module.h"
#include "telescope/sensors.h"
#include "telescope/surges.h"
#include "telescope/views.h"

namespace kizuna::telescope {

namespace json = boost::json;

namespace {

struct Args {
  std::string dir, name, since, until, sensor, origin, proto, port;
  size_t top = 20;
  int64_t step = 60;
  bool json = false;
};

struct Loaded {
  std::unique_ptr<node::Node> node;
  TelescopeConfig config;
  // With the clock, as the node: an interval dated far ahead would move
  // the window (and empty the views) here too.
  TelescopeData data{&SystemClock::Instance()};
  TelescopeData::Filter filter;
};

Result<std::unique_ptr<Loaded>> Load(const Args& args) {
  auto loaded = std::make_unique<Loaded>();
  KIZUNA_ASSIGN_OR_RETURN(loaded->node, node::Node::Open(args.dir));
  // The node's [telescope] section, read as the running module reads it.
  TelescopeModule module(nullptr);
  KIZUNA_RETURN_IF_ERROR(platform::ConfigureModule(module, loaded->node->config()));
  loaded->config = module.config();
  loaded->data.SetRetention(loaded->config.retention());
  int64_t cursor = 0;
  auto collection = loaded->node->store().GetCollection(loaded->config.collection);
  const Admit admit = AdmitTelescopeObjects(collection.ok() ? collection->id : "",
                                            loaded->node->identity().identity_id);
  KIZUNA_RETURN_IF_ERROR(LoadTelescope(loaded->node->store(), admit, &loaded->data, &cursor));
  KIZUNA_RETURN_IF_ERROR(
      ParseRange(args.since, args.until, loaded->data.newest_start(), &loaded->filter));
  loaded->filter.sensor = args.sensor;
  if (!args.origin.empty()) loaded->filter.origin = args.origin == "home" ? "" : args.origin;
  return loaded;
}

const TelescopeData::Visible kEverything = [](const store::StoredObject&) { return true; };

int SensorAdd(const Args& args) {
  auto node = node::Node::Open(args.dir);
  if (!node.ok()) return ReportFailure(node.status());
  auto added = AddSensorAccount((*node)->store(), (*node)->config().name, args.name);
  if (!added.ok()) return ReportFailure(added.status());
  if (args.json) {
    std::printf("%s\n", json::serialize(
                            json::object{{"sensor", added->account.name}, {"token", added->token}})
                            .c_str());
  } else {
    std::printf(
        "sensor %s added; its token (shown once; it also derives the key that signs its "
        "uploads):\n%s\n",
        added->account.name.c_str(), added->token.c_str());
  }
  return 0;
}

int SensorList(const Args& args) {
  auto loaded = Load(args);
  if (!loaded.ok()) return ReportFailure(loaded.status());
  auto accounts = ListSensorAccounts((*loaded)->node->store());
  if (!accounts.ok()) return ReportFailure(accounts.status());
  json::array data = SensorsJson((*loaded)->data.Select((*loaded)->filter, kEverything));
  json::array out;
  for (const SensorAccount& a : *accounts) {
    json::object row{{"origin", "home"}, {"sensor", a.name}, {"account", true}, {"intervals", 0}};
    for (const json::value& d : data) {
      const json::object& o = d.as_object();
      if (o.at("origin") == "home" && o.at("sensor").as_string() == a.name) {
        row = o;
        row["account"] = true;
      }
    }
    out.push_back(std::move(row));
  }
  for (const json::value& d : data) {
    const json::object& o = d.as_object();
    bool listed = false;
    for (const json::value& r : out) {
      listed = listed || (r.as_object().at("origin") == o.at("origin") &&
                          r.as_object().at("sensor") == o.at("sensor"));
    }
    if (!listed) {
      json::object row = o;
      row["account"] = false;
      out.push_back(std::move(row));
    }
  }
  if (args.json) {
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  for (const json::value& v : out) {
    const json::object& o = v.as_object();
    std::printf("%-12s %-24s %8llu intervals\n", std::string(o.at("origin").as_string()).c_str(),
                std::string(o.at("sensor").as_string()).c_str(),
                static_cast<unsigned long long>(o.at("intervals").to_number<uint64_t>()));
  }
  return 0;
}

int Top(const Args& args) {
  auto loaded = Load(args);
  if (!loaded.ok()) return ReportFailure(loaded.status());
  json::object top = TopJson((*loaded)->data.Select((*loaded)->filter, kEverything), args.top);
  std::printf("%s", args.json ? (json::serialize(top) + "\n").c_str() : TopText(top).c_str());
  return 0;
}

int ShowBreakdown(const Args& args) {
  std::optional<uint32_t> key;
  if (!args.port.empty() || !args.proto.empty()) {
    auto port = ParsePort(args.proto.empty() ? "tcp" : args.proto, args.port);
    if (!port.ok()) return ReportFailure(port.status());
    key = PortKey(port->first, port->second);
  }
  auto loaded = Load(args);
  if (!loaded.ok()) return ReportFailure(loaded.status());
  auto geo = geo::GeoDb::Open(args.dir);
  if (!geo.ok()) return ReportFailure(geo.status());
  const telescope::Breakdown b = SourcesBreakdown(
      (*loaded)->data.Select((*loaded)->filter, kEverything), **geo, key, args.top);
  if (args.json) {
    std::printf("%s\n", json::serialize(BreakdownJson(b)).c_str());
    return 0;
  }
  std::printf(
      "%llu sources (%llu without a country, %llu without an AS; %llu intervals gave "
      "counts only)\n",
      static_cast<unsigned long long>(b.sources), static_cast<unsigned long long>(b.unplaced),
      static_cast<unsigned long long>(b.unrouted), static_cast<unsigned long long>(b.counted_only));
  for (const BreakdownRow& r : b.countries) {
    std::printf("  %-4s %10llu\n", r.key.c_str(), static_cast<unsigned long long>(r.sources));
  }
  for (const BreakdownRow& r : b.asns) {
    std::printf("  %-10s %10llu  %s\n", r.key.c_str(), static_cast<unsigned long long>(r.sources),
                r.name.c_str());
  }
  return 0;
}

int Series(const Args& args) {
  auto port = ParsePort(args.proto, args.port);
  if (!port.ok()) return ReportFailure(port.status());
  if (args.step < 60 || args.step > 86400 || 86400 % args.step != 0) {
    return ReportFailure(InvalidArgument("--step: seconds dividing 86400, at least 60"));
  }
  auto loaded = Load(args);
  if (!loaded.ok()) return ReportFailure(loaded.status());
  auto points = PortSeries((*loaded)->data.Select((*loaded)->filter, kEverything), port->first,
                           port->second, args.step);
  if (args.json) {
    std::printf("%s\n", json::serialize(SeriesJson(points)).c_str());
    return 0;
  }
  for (const PortPoint& p : points) {
    std::printf("%s %10llu packets %8llu sources%s\n",
                FormatTimestamp(p.start_s * 1000000, 0).c_str(),
                static_cast<unsigned long long>(p.packets),
                static_cast<unsigned long long>(p.sources), p.exact ? "" : " ~");
  }
  return 0;
}

int Surges(const Args& args) {
  auto loaded = Load(args);
  if (!loaded.ok()) return ReportFailure(loaded.status());
  auto surges =
      FindSurges((*loaded)->data, (*loaded)->filter, kEverything, (*loaded)->config.surge_ports);
  if (args.json) {
    std::printf("%s\n", json::serialize(SurgesJson(surges)).c_str());
    return 0;
  }
  if (surges.empty()) std::printf("no surge\n");
  for (const FoundSurge& f : surges) {
    std::printf(
        "%s %u/%s %s: %.0f against a baseline of %.1f (peak %.0f, until %s%s), first "
        "seen by %s\n",
        FormatTimestamp(f.surge.start_s * 1000000, 0).c_str(), f.port,
        std::string(sensor::PortProtoName(f.proto)).c_str(), f.surge.metric.c_str(),
        f.surge.observed, f.surge.baseline, f.surge.peak,
        FormatTimestamp(f.surge.end_s * 1000000, 0).c_str(), f.surge.running ? ", running" : "",
        f.first_seen_by.empty() ? "several at once" : f.first_seen_by.c_str());
  }
  return 0;
}

void RangeOptions(CLI::App* cmd, Args* args) {
  cmd->add_option("--since", args->since,
                  "from: RFC 3339, or a duration back from the newest data (90m, 24h, 7d)");
  cmd->add_option("--until", args->until, "to (exclusive), the same forms");
  cmd->add_option("--sensor", args->sensor, "one sensor only");
  cmd->add_option("--origin", args->origin, "one origin only: home, or a partner's name");
  cmd->add_flag("--json", args->json, "print JSON");
}

}  // namespace

void TelescopeModule::AddCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<Args>();
  auto* telescope =
      app.add_subcommand("telescope", "Darknet traffic from our sensors and our partners'");
  telescope->require_subcommand(1);

  auto* sensor = telescope->add_subcommand("sensor", "Sensor accounts");
  sensor->require_subcommand(1);
  auto* add = sensor->add_subcommand(
      "add", "Add a sensor: prints the token it uploads with (kizuna sensor upload --token)");
  add->add_option("DIR", args->dir, "node directory")->required();
  add->add_option("NAME", args->name, "the sensor's name (A-Z a-z 0-9 . _ -)")->required();
  add->add_flag("--json", args->json, "print {\"sensor\", \"token\"}");
  add->callback([args, exit_code] { *exit_code = SensorAdd(*args); });
  auto* list = sensor->add_subcommand("list", "Sensors: accounts here and data from partners");
  list->add_option("DIR", args->dir, "node directory")->required();
  list->add_flag("--json", args->json, "print JSON");
  list->callback([args, exit_code] { *exit_code = SensorList(*args); });

  auto* top = telescope->add_subcommand(
      "top", "Totals, busiest ports and sources over a time range, merged over every sensor");
  top->add_option("DIR", args->dir, "node directory")->required();
  RangeOptions(top, args.get());
  top->add_option("--top", args->top, "how many ports and sources")->capture_default_str();
  top->callback([args, exit_code] { *exit_code = Top(*args); });
  auto* breakdown = telescope->add_subcommand(
      "breakdown", "Distinct sources by country and by AS (the node's geo data: kizuna geo load)");
  breakdown->add_option("DIR", args->dir, "node directory")->required();
  RangeOptions(breakdown, args.get());
  breakdown->add_option("--proto", args->proto, "one port only: its protocol (tcp, udp, …)");
  breakdown->add_option("--port", args->port, "one port only: its number");
  breakdown->add_option("--top", args->top, "how many countries and ASes")->capture_default_str();
  breakdown->callback([args, exit_code] { *exit_code = ShowBreakdown(*args); });

  auto* series = telescope->add_subcommand("series", "One port's traffic over time");
  series->add_option("DIR", args->dir, "node directory")->required();
  series->add_option("PROTO", args->proto, "tcp, udp, icmp, icmpv6")->required();
  series->add_option("PORT", args->port, "the port (ICMP: the type)")->required();
  RangeOptions(series, args.get());
  series->add_option("--step", args->step, "seconds per point")->capture_default_str();
  series->callback([args, exit_code] { *exit_code = Series(*args); });

  auto* surges = telescope->add_subcommand(
      "surges", "Detected surges (outbreaks) on the busiest ports, and who saw each first");
  surges->add_option("DIR", args->dir, "node directory")->required();
  RangeOptions(surges, args.get());
  surges->callback([args, exit_code] { *exit_code = Surges(*args); });
}

}  // namespace kizuna::telescope
