// interop_bench: how fast `kizuna import` takes a large MISP feed and a
// large indicator list, and how fast `kizuna export` writes what enforces
// them, end to end (the commands a team runs, on the SQLite store, each a
// child process timed as the kernel accounts it).
//
//   import-feed    a MISP feed directory of --events events (--attributes
//                  attributes each: ip-dst, domain, url, md5, sha256, text),
//                  into a fresh node (events/s, attributes/s, objects/s)
//   feed-again     the same feed imported again: nothing changed, nothing read
//   import-list    a text list of --lines lines (addresses, domains, URLs,
//                  a tenth defanged) into a fresh node (lines/s)
//   export-*       that node's indicators as ip-blocklist, domain-blocklist,
//                  suricata-rules, zeek-intel, rpz and a misp-feed (indicators/s)
//
//   interop_bench [--events 10000] [--attributes 10] [--lines 1000000] [--dir D]
// No peer figures: MISP's own feed import needs a MISP instance (PHP,
// MySQL), which Debian 12 does not package.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "timed_run.h"

namespace {

namespace fs = std::filesystem;
using kizuna::bench::RunTimed;
using kizuna::bench::Timing;

std::string Uuid(int64_t a, int64_t b) {
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  return text;
}

std::string Ip(int64_t n) {
  return std::to_string(1 + n % 223) + "." + std::to_string((n >> 8) & 255) + "." +
         std::to_string((n >> 16) & 255) + "." + std::to_string(n & 255);
}

std::string Hex(int64_t n, int digits) {
  std::string out;
  uint64_t x = static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ull + 1;
  while (static_cast<int>(out.size()) < digits) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    char part[17];
    std::snprintf(part, sizeof part, "%016llx", static_cast<unsigned long long>(x));
    out += part;
  }
  return out.substr(0, digits);
}

std::string Attribute(int64_t event, int i, int64_t n) {
  static const char* kTypes[] = {"ip-dst", "domain", "url", "md5", "sha256", "text"};
  const std::string type = kTypes[i % 6];
  std::string value;
  if (type == "ip-dst") value = Ip(n);
  if (type == "domain") value = "c2-" + std::to_string(n) + ".bench.example";
  if (type == "url") value = "http://dl-" + std::to_string(n) + ".bench.example/x.bin";
  if (type == "md5") value = Hex(n, 32);
  if (type == "sha256") value = Hex(n, 64);
  if (type == "text") value = "campaign note " + std::to_string(n);
  return R"({"uuid":")" + Uuid(event, 0x100000 + i) + R"(","type":")" + type +
         R"(","category":"Network activity","value":")" + value + R"(","to_ids":)" +
         (type == "text" ? "false" : "true") +
         R"(,"distribution":"5","timestamp":"1796000000","comment":""})";
}

// A MISP feed directory: manifest.json and one <uuid>.json per event.
void WriteFeed(const std::string& dir, int events, int attributes) {
  fs::create_directories(dir);
  std::ofstream manifest(dir + "/manifest.json");
  manifest << "{";
  int64_t n = 0;
  for (int e = 0; e < events; ++e) {
    const std::string uuid = Uuid(e + 1, 1);
    std::ofstream out(dir + "/" + uuid + ".json");
    out << R"({"Event":{"uuid":")" << uuid << R"(","info":"bench event )" << e
        << R"(","date":"2026-11-30","timestamp":"1796000000","published":true,)"
        << R"("publish_timestamp":"1796000000","distribution":"3","analysis":"2",)"
        << R"("threat_level_id":"2","Orgc":{"name":"CIRCL","uuid":"55f6ea5e-2c60-40e5-964f-47a8950d210f"},)"
        << R"("Tag":[{"name":"tlp:green"}],"Attribute":[)";
    for (int i = 0; i < attributes; ++i) out << (i ? "," : "") << Attribute(e + 1, i, ++n);
    out << "]}}";
    manifest << (e ? "," : "") << '"' << uuid << R"(":{"info":"bench event )" << e
             << R"(","timestamp":1796000000})";
  }
  manifest << "}";
}

// A plain-text indicator list, a tenth of it defanged.
void WriteList(const std::string& path, int64_t lines) {
  std::ofstream out(path);
  out << "# bench list\n";
  for (int64_t n = 1; n < lines; ++n) {
    const bool defanged = n % 10 == 0;
    switch (n % 3) {
      case 0:
        out << (defanged ? "1[.]" + Ip(n).substr(Ip(n).find('.') + 1) : Ip(n)) << '\n';
        break;
      case 1:
        out << "host-" << n << (defanged ? "[.]bench[.]example" : ".bench.example") << '\n';
        break;
      default:
        out << (defanged ? "hxxp://" : "http://") << "dl-" << n << ".bench.example/p/" << n << '\n';
    }
  }
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int Arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

std::string ArgText(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return argv[i + 1];
  }
  return fallback;
}

void Print(const char* name, const Timing& t, double units, const char* unit) {
  std::printf("%-24s %10.0f %-12s in %7.2f s wall, %7.2f s cpu, peak %7.1f MB: %10.0f %s/s\n", name,
              units, unit, t.wall, t.cpu, t.rss_mb, units / t.wall, unit);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int events = Arg(argc, argv, "--events", 10000);
  const int attributes = Arg(argc, argv, "--attributes", 10);
  const int lines = Arg(argc, argv, "--lines", 1000000);
  const std::string base = ArgText(argc, argv, "--dir", "");
  std::string work = base;
  if (work.empty()) {
    char pattern[] = "/tmp/interop-bench-XXXXXX";
    work = mkdtemp(pattern);
  }
  const std::string kizuna = KIZUNA_BINARY;
  const std::string log = work + "/out.log", err = work + "/err.log";
  std::printf("interop_bench: %d events x %d attributes, %d list lines, in %s\n", events,
              attributes, lines, work.c_str());
  std::fflush(stdout);

  WriteFeed(work + "/feed", events, attributes);
  RunTimed({kizuna, "init", work + "/feed-node", "--name", "BENCH"}, "/dev/null", log, err);
  Timing feed = RunTimed({kizuna, "import", work + "/feed-node", work + "/feed", "--quiet"},
                         "/dev/null", log, err);
  std::printf("  %s", ReadText(log).c_str());
  Print("import-feed (events)", feed, events, "events");
  Print("import-feed (attributes)", feed, static_cast<double>(events) * attributes, "attributes");
  Timing again = RunTimed({kizuna, "import", work + "/feed-node", work + "/feed", "--quiet"},
                          "/dev/null", log, err);
  Print("feed-again (unchanged)", again, events, "events");

  WriteList(work + "/list.txt", lines);
  RunTimed({kizuna, "init", work + "/list-node", "--name", "BENCH"}, "/dev/null", log, err);
  Timing list = RunTimed(
      {kizuna, "import", work + "/list-node", work + "/list.txt", "--quiet", "--tlp", "green"},
      "/dev/null", log, err);
  std::printf("  %s", ReadText(log).c_str());
  Print("import-list", list, lines, "lines");

  for (const char* format :
       {"ip-blocklist", "domain-blocklist", "suricata-rules", "zeek-intel", "rpz", "misp-feed"}) {
    const std::string out = work + "/export-" + format;
    Timing t = RunTimed({kizuna, "export", work + "/list-node", "--format", format, "-o", out},
                        "/dev/null", log, err);
    Print((std::string("export-") + format).c_str(), t, lines - 1, "indicators");
  }
  if (base.empty()) fs::remove_all(work);
  return 0;
}
