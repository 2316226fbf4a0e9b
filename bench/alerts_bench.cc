// alerts_bench: 1M infected-host observations through the whole alerting
// pipeline, end to end, as an operator runs it, each command pinned to one
// CPU (DESIGN.md: "1M infected-host observations -> reports: < 5 s, memory
// < 2x input"):
//   ingest  `kizuna alerts ingest DIR FILE`: a generated 1M-row Shadowserver
//           scan_telnet report read, each row enriched (IP -> ASN, AS name,
//           prefix, country from the real ip-location-db data when
//           scripts/start-node.sh installed it), routed (20 national CSIRTs
//           by country, 200 ISPs by prefix, a fallback) and de-duplicated
//           into events in alerts.db;
//   report  `kizuna alerts run DIR --now`: every recipient's report cut
//           (suppression and the sharing decision per event), recorded and
//           delivered (to the feed: a report's body is rendered only when
//           it is sent or shown).
// Prints the seconds and peak memory of each, the total against the 5 s
// target, and the peak against twice the input file's size; and, apart,
// what rendering every report's CSV body costs (`alerts preview` of each
// recipient before the run: what an e-mail delivery would add).
// Usage: alerts_bench [--rows N] [--geo DIR] [--keep]
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "alerts/generate.h"
#include "bench/timed_run.h"

namespace fs = std::filesystem;
using kizuna::bench::RunTimed;
using kizuna::bench::Timing;

namespace {

void Must(const std::vector<std::string>& args, const std::string& dir) {
  RunTimed(args, "/dev/null", dir + "/setup.out", dir + "/setup.err");
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 1000000;
  std::string geo = std::string(KIZUNA_SOURCE_DIR) + "/.cache/geo/node_modules/@ip-location-db";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) {
      rows = std::atoll(argv[++i]);
    } else if (arg == "--geo" && i + 1 < argc) {
      geo = argv[++i];
    } else if (arg == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: alerts_bench [--rows N] [--geo DIR] [--keep]\n");
      return 2;
    }
  }
  char pattern[] = "/tmp/kizuna-alerts-bench.XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const std::string node = dir + "/node";
  const std::string report = dir + "/2026-11-28-scan_telnet-world-asn.csv";
  const std::string kizuna = KIZUNA_BINARY;
  {
    std::ofstream out(report, std::ios::binary);
    kizuna::alerts::GenerateShadowserverCsv(out, "scan_telnet", rows, 7);
  }
  const double input_mb = static_cast<double>(fs::file_size(report)) / (1024.0 * 1024.0);
  Must({kizuna, "init", node, "--name", "CERT-Bench"}, dir);
  const std::vector<std::string> geo_files = {geo + "/asn/asn-ipv4.csv", geo + "/asn/asn-ipv6.csv",
                                              geo + "/asn-country/asn-country-ipv4.csv",
                                              geo + "/asn-country/asn-country-ipv6.csv"};
  bool have_geo = true;
  for (const std::string& f : geo_files) have_geo = have_geo && fs::exists(f);
  if (have_geo) {
    std::vector<std::string> load = {kizuna, "geo", "load", node};
    load.insert(load.end(), geo_files.begin(), geo_files.end());
    Must(load, dir);
  }
  // 20 national CSIRTs by country, 200 ISPs by prefix, a fallback.
  const char* countries[] = {"JP", "US", "CN", "DE", "FR", "GB", "KR", "BR", "IN", "RU",
                             "ES", "IT", "NL", "SG", "AU", "CA", "VN", "TH", "ID", "MY"};
  for (const char* c : countries) {
    Must({kizuna, "alerts", "recipient", "add", node, std::string("csirt-") + c, "--country", c,
          "--channel", "feed", "--org", std::string("CSIRT-") + c},
         dir);
  }
  std::vector<std::string> isps = {kizuna, "alerts",    "recipient", "add",   node,
                                   "isps", "--channel", "feed",      "--org", "ISPS"};
  for (int i = 0; i < 200; ++i) {
    isps.push_back("--prefix");
    isps.push_back(std::to_string(11 + i % 200) + "." + std::to_string(i % 256) + ".0.0/16");
  }
  Must(isps, dir);
  Must({kizuna, "alerts", "recipient", "add", node, "rest", "--fallback", "--channel", "feed",
        "--org", "REST"},
       dir);

  const int cpu = 0;
  const Timing ingest = RunTimed({kizuna, "alerts", "ingest", node, report}, "/dev/null",
                                 dir + "/ingest.out", dir + "/ingest.err", 0, cpu);
  // Not part of the target: every recipient's CSV body rendered, as an
  // e-mail delivery renders it when it sends (a feed's reports never are).
  std::vector<std::string> recipients = {"isps", "rest"};
  for (const char* c : countries) recipients.push_back(std::string("csirt-") + c);
  Timing rendered;
  for (const std::string& r : recipients) {
    const Timing one = RunTimed({kizuna, "alerts", "preview", node, r}, "/dev/null", "/dev/null",
                                dir + "/preview.err", 0, cpu);
    rendered.wall += one.wall;
    rendered.cpu += one.cpu;
    rendered.rss_mb = std::max(rendered.rss_mb, one.rss_mb);
  }
  const Timing built = RunTimed({kizuna, "alerts", "run", node, "--now"}, "/dev/null",
                                dir + "/run.out", dir + "/run.err", 0, cpu);
  const double total = ingest.wall + built.wall;
  const double peak = std::max(ingest.rss_mb, built.rss_mb);
  std::printf("alerts_bench: %lld observations, %.1f MB of Shadowserver CSV, geo data: %s\n",
              static_cast<long long>(rows), input_mb,
              have_geo ? "ip-location-db asn + asn-country" : "none (the report's own asn/geo)");
  std::printf("  %s\n", Tail(dir + "/ingest.out").c_str());
  std::printf("  ingest (read, enrich, route, de-duplicate): %.2f s (%.2f s CPU), peak %.0f MB\n",
              ingest.wall, ingest.cpu, ingest.rss_mb);
  std::printf("  reports (%s): %.2f s (%.2f s CPU), peak %.0f MB\n", Tail(dir + "/run.out").c_str(),
              built.wall, built.cpu, built.rss_mb);
  std::printf("  total %.2f s on one core (target < 5 s: %s); %.0f observations/s\n", total,
              total < 5 ? "met" : "NOT met", rows / total);
  std::printf("  peak memory %.0f MB = %.2fx the input (target < 2x: %s)\n", peak, peak / input_mb,
              peak < 2 * input_mb ? "met" : "NOT met");
  std::printf(
      "  besides: the %zu reports' CSV bodies rendered (alerts preview, as an e-mail delivery "
      "renders them): %.2f s (%.2f s CPU), peak %.0f MB\n",
      recipients.size(), rendered.wall, rendered.cpu, rendered.rss_mb);
  if (!keep) fs::remove_all(dir);
  return 0;
}
