// sensor_bench: aggregating a darknet capture, side by side with the tools
// a CSIRT would otherwise reach for, on the same file in the same run.
//
// Cases (each a fresh process, its output to a file, best of --runs), first
// kizuna and tcpdump alternating pinned to one CPU (the target: no slower
// than tcpdump on one core), then with every core:
//   kizuna            kizuna sensor report --pcap FILE --json   (decode, classify,
//                     fingerprint, per-source and per-port aggregation, report)
//   tcpdump -r        tcpdump -r FILE -w /dev/null              (only copies packets)
//   tshark io,stat    tshark -q -n -M 1000000 -r FILE -z io,stat,60  (packets and bytes
//                     per minute; -M resets its state every million packets, or its
//                     memory grows with the file: 1.5 GB for 1,000,000 packets)
// and kizuna again on a capture a quarter the size (the same traffic), so
// that its peak memory on both shows whether memory grows with the file. The capture is made by
// `kizuna sensor synth` (default 30,000,000 packets, about 2.2 GB) unless it
// is already there.
//
// Prints packets per second of each, the ratios, and kizuna's peak memory.
// Usage: sensor_bench [--packets N] [--runs N] [--dir DIR] [--no-tshark] [--kizuna PATH]
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "timed_run.h"

namespace {

using kizuna::bench::Best;
using kizuna::bench::Timing;

// A timed run of `args` with nothing on stdin (pinned to one CPU when
// `pin_cpu` >= 0).
Timing Run(const std::vector<std::string>& args, const std::string& out, const std::string& err,
           int pin_cpu = -1) {
  return kizuna::bench::RunTimed(args, "/dev/null", out, err, 0, pin_cpu);
}

// The first CPU this process may run on: where the one-core cases run.
int FirstCpu() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) return cpu;
  }
  return 0;
}

// The packets a report counted ("packets": N in its JSON).
unsigned long long ReportedPackets(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  char buffer[256] = {};
  const size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
  std::fclose(f);
  buffer[n] = 0;
  const char* at = std::strstr(buffer, "\"packets\":");
  return at ? std::strtoull(at + 10, nullptr, 10) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long long packets = 30000000;
  size_t runs = 3;
  std::string dir = "/tmp/kizuna-sensor-bench";
  std::string kizuna = KIZUNA_BINARY;
  bool tshark = true;
  for (int i = 1; i < argc; ++i) {
    auto value = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (!std::strcmp(argv[i], "--packets")) {
      packets = std::stoull(value());
    } else if (!std::strcmp(argv[i], "--runs")) {
      runs = std::stoul(value());
    } else if (!std::strcmp(argv[i], "--dir")) {
      dir = value();
    } else if (!std::strcmp(argv[i], "--no-tshark")) {
      tshark = false;
    } else if (!std::strcmp(argv[i], "--kizuna")) {
      kizuna = value();
    } else {
      std::fprintf(stderr,
                   "usage: sensor_bench [--packets N] [--runs N] [--dir DIR] [--no-tshark] "
                   "[--kizuna PATH]\n");
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  const std::string capture = dir + "/darknet-" + std::to_string(packets) + ".pcap";
  const std::string quarter = dir + "/darknet-" + std::to_string(packets / 4) + ".pcap";
  for (const auto& [path, n] : {std::pair{capture, packets}, std::pair{quarter, packets / 4}}) {
    if (std::filesystem::exists(path)) continue;
    std::fprintf(stderr, "writing %llu packets to %s\n", static_cast<unsigned long long>(n),
                 path.c_str());
    Run({kizuna, "sensor", "synth", "--out", path, "--packets", std::to_string(n), "--seed", "1",
         "--duration", "604800", "--progress"},
        "/dev/null", dir + "/synth.err");
  }
  const double bytes = static_cast<double>(std::filesystem::file_size(capture));

  // On one core (the measure: kizuna's folding thread shares the
  // core with its reader), kizuna and tcpdump alternate on the same CPU;
  // then kizuna with every core it may use.
  const int cpu = FirstCpu();
  std::vector<double> kw, kc, kr, qr, tw, tc, sw, sc, sr, k1w, k1c, t1w, t1c;
  for (size_t run = 0; run < runs; ++run) {
    std::fprintf(stderr, "run %zu of %zu\n", run + 1, runs);
    Timing t = Run({kizuna, "sensor", "report", "--pcap", capture, "--json"}, dir + "/report.json",
                   dir + "/report.err", cpu);
    k1w.push_back(t.wall);
    k1c.push_back(t.cpu);
    t = Run({"tcpdump", "-r", capture, "-w", "/dev/null"}, "/dev/null", dir + "/tcpdump.err", cpu);
    t1w.push_back(t.wall);
    t1c.push_back(t.cpu);
    t = Run({kizuna, "sensor", "report", "--pcap", capture, "--json"}, dir + "/report.json",
            dir + "/report.err");
    kw.push_back(t.wall);
    kc.push_back(t.cpu);
    kr.push_back(t.rss_mb);
    t = Run({kizuna, "sensor", "report", "--pcap", quarter, "--json"}, dir + "/quarter.json",
            dir + "/quarter.err");
    qr.push_back(t.rss_mb);
    t = Run({"tcpdump", "-r", capture, "-w", "/dev/null"}, "/dev/null", dir + "/tcpdump.err");
    tw.push_back(t.wall);
    tc.push_back(t.cpu);
    if (tshark && run == 0) {  // minutes a run: once
      t = Run({"tshark", "-q", "-n", "-M", "1000000", "-r", capture, "-z", "io,stat,60"},
              dir + "/tshark.txt", dir + "/tshark.err");
      sw.push_back(t.wall);
      sc.push_back(t.cpu);
      sr.push_back(t.rss_mb);
    }
  }
  const unsigned long long counted = ReportedPackets(dir + "/report.json");
  if (counted != packets) {
    std::fprintf(stderr, "kizuna counted %llu packets, the capture has %llu\n", counted, packets);
    return 1;
  }
  const double n = static_cast<double>(packets);
  const double k = Best(kw), tcp = Best(tw);
  std::printf("sensor_bench: %llu packets (%.2f GB, kizuna sensor synth), best of %zu runs\n",
              packets, bytes / 1e9, runs);
  std::printf("%-22s %8s %8s %12s %10s\n", "case", "wall s", "cpu s", "packets/s", "peak MB");
  const double k1 = Best(k1w), t1 = Best(t1w);
  std::printf("%-22s %8.2f %8.2f %10.2f M %10s\n", "kizuna report, 1 core", k1, Best(k1c),
              n / k1 / 1e6, "-");
  std::printf("%-22s %8.2f %8.2f %10.2f M %10s\n", "tcpdump -r, 1 core", t1, Best(t1c),
              n / t1 / 1e6, "-");
  std::printf("%-22s %8.2f %8.2f %10.2f M %10.0f\n", "kizuna report", k, Best(kc), n / k / 1e6,
              Best(kr));
  std::printf("%-22s %8.2f %8.2f %10.2f M %10s\n", "tcpdump -r", tcp, Best(tc), n / tcp / 1e6, "-");
  if (!sw.empty()) {
    std::printf("%-22s %8.2f %8.2f %10.2f M %10.0f\n", "tshark io,stat", Best(sw), Best(sc),
                n / Best(sw) / 1e6, Best(sr));
  }
  std::printf(
      "ratio kizuna/tcpdump (packets/s) on one core: %.2fx (CPU time, tcpdump's/kizuna's: "
      "%.2fx)\n",
      t1 / k1, Best(t1c) / Best(k1c));
  std::printf("ratio kizuna/tcpdump (packets/s): %.2fx", tcp / k);
  if (!sw.empty()) std::printf(", kizuna/tshark: %.2fx", Best(sw) / k);
  std::printf("\nkizuna peak memory: %.0f MB on this capture, %.0f MB on one a quarter its size\n",
              Best(kr), Best(qr));
  return 0;
}
