// `kizuna geo load DIR FILE…`, `geo lookup DIR IP…`, `geo status DIR`: IP
// enrichment data from the command line, on a node directory (also while
// `kizuna serve` runs on it: a load replaces whole layer files).
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>

#include "geo/geo.h"
#include "geo/module.h"

namespace kizuna::geo {

namespace json = boost::json;

namespace {

struct Args {
  std::string dir;
  std::vector<std::string> items;  // files or addresses
  bool json = false;
};

Status CheckNodeDir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/kizuna.toml", ec)) {
    return NotFound(dir + " is not a kizuna node directory (create one with kizuna init " + dir +
                    ")");
  }
  return Status::Ok();
}

int Load(const Args& args) {
  if (Status s = CheckNodeDir(args.dir); !s.ok()) return ReportFailure(s);
  GeoLoadOptions options;
  options.message = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  auto loaded = LoadGeoFiles(args.dir, args.items, options);
  if (!loaded.ok()) return ReportFailure(loaded.status());
  return 0;
}

int Lookup(const Args& args) {
  if (Status s = CheckNodeDir(args.dir); !s.ok()) return ReportFailure(s);
  auto db = GeoDb::Open(args.dir);
  if (!db.ok()) return ReportFailure(db.status());
  int code = 0;
  std::string out;
  for (const std::string& ip : args.items) {
    auto answer = (*db)->Lookup(ip);
    if (!answer) {
      std::fflush(stdout);
      std::fprintf(stderr, "kizuna: not an IPv4 or IPv6 address: %s\n", ip.c_str());
      code = 1;
      continue;
    }
    std::printf("%s\n", GeoAnswerJson(ip, *answer).c_str());
  }
  return code;
}

int StatusCommand(const Args& args) {
  if (Status s = CheckNodeDir(args.dir); !s.ok()) return ReportFailure(s);
  auto db = GeoDb::Open(args.dir);
  if (!db.ok()) return ReportFailure(db.status());
  const std::vector<GeoLayerInfo> layers = (*db)->layers();
  if (args.json) {
    json::array list;
    for (const GeoLayerInfo& l : layers) {
      list.push_back(json::object{{"layer", l.name},
                                  {"ipv4_ranges", l.ipv4_ranges},
                                  {"ipv6_ranges", l.ipv6_ranges},
                                  {"version", l.version}});
    }
    std::printf("%s\n", json::serialize(json::object{{"layers", std::move(list)},
                                                     {"version", (*db)->version()}})
                            .c_str());
    return 0;
  }
  if (layers.empty()) {
    std::printf("no geo data loaded (kizuna geo load %s FILE…)\n", args.dir.c_str());
    return 0;
  }
  for (const GeoLayerInfo& l : layers) {
    std::printf("%-8s %9llu IPv4 %9llu IPv6 ranges  %s\n", l.name.c_str(),
                static_cast<unsigned long long>(l.ipv4_ranges),
                static_cast<unsigned long long>(l.ipv6_ranges), l.version.c_str());
  }
  return 0;
}

}  // namespace

void GeoModule::AddCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<Args>();
  auto* geo = app.add_subcommand("geo", "IP enrichment data: IP -> ASN, prefix, country");
  geo->require_subcommand(1);

  auto* load = geo->add_subcommand(
      "load",
      "Load IP->ASN / IP->country files: ip-location-db CSV (asn, asn-country), iptoasn TSV, "
      "MMDB (format found from the content); replaces the layer(s) they provide");
  load->add_option("DIR", args->dir, "node directory")->required();
  load->add_option("FILE", args->items, "dataset files")->required();
  load->callback([args, exit_code] { *exit_code = Load(*args); });

  auto* lookup = geo->add_subcommand(
      "lookup",
      "Print one JSON line per address: {\"ip\",\"asn\",\"as_name\",\"country\",\"prefix\"} "
      "(null where unknown)");
  lookup->add_option("DIR", args->dir, "node directory")->required();
  lookup->add_option("IP", args->items, "IPv4 or IPv6 addresses")->required();
  lookup->callback([args, exit_code] { *exit_code = Lookup(*args); });

  auto* status = geo->add_subcommand("status", "Loaded layers, their ranges and versions");
  status->add_option("DIR", args->dir, "node directory")->required();
  status->add_flag("--json", args->json, "print JSON");
  status->callback([args, exit_code] { *exit_code = StatusCommand(*args); });
}

}  // namespace kizuna::geo
