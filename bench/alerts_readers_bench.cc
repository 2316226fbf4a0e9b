// The readers of infected-host reports (src/alerts/readers.h) on a generated
// Shadowserver report, one core:
//   scan_telnet   1M rows of GenerateShadowserverCsv, read from a file
//   event4_sinkhole  the same for the sinkhole layout (33 columns)
// Prints records/s and MB/s of each, and the peak resident memory (the
// reader's is constant: one 1 MiB block plus a record).
// Usage: alerts_readers_bench [ROWS]   (default 1000000)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "alerts/generate.h"
#include "alerts/readers.h"

namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 1000000;
  for (const char* report : {"scan_telnet", "event4_sinkhole"}) {
    const std::string path = std::string("/tmp/kizuna-alerts-bench-") + report + ".csv";
    {
      std::ofstream out(path, std::ios::binary);
      kizuna::alerts::GenerateShadowserverCsv(out, report, rows, 42);
    }
    std::ifstream in(path, std::ios::binary);
    in.seekg(0, std::ios::end);
    const double bytes = static_cast<double>(in.tellg());
    in.seekg(0);
    int64_t checksum = 0;
    const double cpu_start = CpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    auto summary = kizuna::alerts::ReadObservations(
        in, {}, [&](kizuna::alerts::Observation&& o) { checksum += o.port + o.evidence.size(); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = CpuSeconds() - cpu_start;
    std::remove(path.c_str());
    if (!summary.ok()) {
      std::fprintf(stderr, "%s: %s\n", report, summary.status().ToString().c_str());
      return 1;
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf(
        "%-16s %lld rows (%lld accepted) %.1f MB in %.3f s (%.3f s CPU): %.2fM records/s "
        "(%.2fM per CPU second), %.0f MB/s, peak RSS %.1f MB (checksum %lld)\n",
        report, static_cast<long long>(summary->records), static_cast<long long>(summary->accepted),
        bytes / 1e6, seconds, cpu, summary->records / seconds / 1e6, summary->records / cpu / 1e6,
        bytes / seconds / 1e6, usage.ru_maxrss / 1024.0, static_cast<long long>(checksum));
  }
  return 0;
}
