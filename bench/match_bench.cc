// match_bench: `kizuna match` over a log, end to end, side by side with
// Debian's grepcidr on the same log and the same networks (issue 10).
//
// Setup (not timed; reused with --keep): a node (`kizuna init`) whose store
// holds N indicators, each one CIDR network /16-/28 written
// "[ipv4-addr:value ISSUBSET 'a.b.c.d/len']" (names, labels, confidence,
// TLP:GREEN like a feed's), imported with `kizuna import`; the same networks
// as a grepcidr pattern file; a log of L random IPv4 addresses, one a line,
// a tenth of them inside a network (as correlation_bench's cidr-scan).
//
// Cases, each a fresh process with the log on stdin and stdout to a file
// (the page cache warm), alternated, the best of --runs:
//   grepcidr          grepcidr -f networks < log > out      (matching lines out)
//   kizuna cold       kizuna match DIR < log > out          (JSON lines of matches out;
//                     with no correlation snapshot: process start, opening
//                     the store, building the index from the whole store,
//                     matching, output, saving the snapshot: everything)
//   kizuna            the same as it runs from then on: the index loaded
//                     from the snapshot the last run saved, plus the
//                     store's changes since (none here)
//   kizuna 1 thread   the same with --threads 1
//   startup           grepcidr and kizuna (and kizuna cold) with an empty
//                     log: what a run costs before its first line
// Printed: wall and CPU seconds, lines/s end to end and after startup, the
// ratios kizuna/grepcidr, the matching lines of both (they must agree),
// kizuna's peak memory, and the CPU time per line after startup (steadier
// than wall time on a shared machine).
//
//   match_bench [--indicators 100000] [--lines 1000000] [--runs 3]
//               [--dir /tmp/kizuna-match-bench] [--keep] [--kizuna PATH]
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "timed_run.h"

namespace {

using kizuna::bench::Best;
using kizuna::bench::Timing;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A timed run of `args` (bench::RunTimed; grepcidr exits 1 when nothing matched).
Timing Run(const std::vector<std::string>& args, const std::string& in, const std::string& out,
           const std::string& err) {
  // The last run's output goes before the clock starts: dropping 87 MB of
  // page cache is not part of matching (nor of grepcidr's 4 MB).
  std::filesystem::remove(out);
  // Earlier runs' output is written back to disk first, so that no run is
  // held up writing back another's (10,000,000 lines write 870 MB a run).
  sync();
  return kizuna::bench::RunTimed(args, in, out, err, /*max_exit_status=*/1);
}

size_t CountLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  size_t n = 0;
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    n += static_cast<size_t>(std::count(buf.data(), buf.data() + in.gcount(), '\n'));
  }
  return n;
}

std::string Ip(uint32_t a) {
  char text[16];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                a & 255);
  return text;
}

void Check(int rc, const std::string& what) {
  if (rc != 0) {
    std::fprintf(stderr, "%s failed (%d)\n", what.c_str(), rc);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  size_t indicators = 100000, lines = 1000000, runs = 3;
  std::string dir = "/tmp/kizuna-match-bench";
  bool keep = false;
  std::string kizuna = KIZUNA_BINARY;
  for (int i = 1; i < argc; ++i) {
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (!std::strcmp(argv[i], "--indicators")) {
      indicators = std::stoul(next());
    } else if (!std::strcmp(argv[i], "--lines")) {
      lines = std::stoul(next());
    } else if (!std::strcmp(argv[i], "--runs")) {
      runs = std::max<size_t>(1, std::stoul(next()));
    } else if (!std::strcmp(argv[i], "--dir")) {
      dir = next();
    } else if (!std::strcmp(argv[i], "--keep")) {
      keep = true;
    } else if (!std::strcmp(argv[i], "--kizuna")) {
      kizuna = next();
    } else {
      std::fprintf(stderr,
                   "usage: match_bench [--indicators N] [--lines N] [--runs N] [--dir DIR] "
                   "[--keep] [--kizuna PATH]\n");
      return 2;
    }
  }
  if (std::system("command -v grepcidr > /dev/null") != 0) {
    std::fprintf(stderr, "match_bench needs grepcidr (apt-get install grepcidr)\n");
    return 1;
  }
  const std::string grepcidr = "/usr/bin/grepcidr";
  const std::string node = dir + "/node";
  const std::string networks = dir + "/networks.txt";
  const std::string log = dir + "/log.txt";
  const std::string empty = dir + "/empty.txt";
  const std::string stamp =
      dir + "/setup-" + std::to_string(indicators) + "-" + std::to_string(lines);

  // --- setup
  const bool reuse = keep && std::filesystem::exists(stamp);
  if (!reuse) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::mt19937_64 rng(20261130);
    std::vector<std::pair<uint32_t, int>> nets;
    {
      std::ofstream bundle(dir + "/feed.json");
      std::ofstream patterns(networks);
      bundle
          << R"({"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000010","objects":[)";
      for (size_t n = 0; n < indicators; ++n) {
        const int len = 16 + static_cast<int>(rng() % 13);
        const uint32_t net = static_cast<uint32_t>(rng()) & (~uint32_t{0} << (32 - len));
        nets.push_back({net, len});
        const std::string cidr = Ip(net) + "/" + std::to_string(len);
        patterns << cidr << "\n";
        char id[64];
        std::snprintf(id, sizeof id, "indicator--%08x-0000-4000-8000-%012zx",
                      static_cast<unsigned>(n * 2654435761u), n);
        static const char* kLabels[] = {R"(["malicious-activity"])", R"(["c2"])",
                                        R"(["botnet","c2"])", R"(["scanner"])"};
        bundle
            << (n ? "," : "") << R"({"type":"indicator","spec_version":"2.1","id":")" << id
            << R"(","created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z",)"
            << R"("name":"feed rule )" << n % 1000 << R"(","labels":)" << kLabels[n % 4]
            << R"(,"confidence":)" << n % 101 << R"(,"pattern":"[ipv4-addr:value ISSUBSET ')"
            << cidr << R"(']","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z",)"
            << R"("object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]})";
      }
      bundle << "]}\n";
    }
    {
      std::ofstream out(log, std::ios::binary);
      std::string buf;
      for (size_t i = 0; i < lines; ++i) {
        const uint64_t r = rng();
        uint32_t ip = static_cast<uint32_t>(r >> 32);
        if (r % 10 == 0) {
          auto [net, len] = nets[(r >> 8) % nets.size()];
          ip = net | (static_cast<uint32_t>(r) & ~(~uint32_t{0} << (32 - len)));
        }
        buf += Ip(ip);
        buf += '\n';
        if (buf.size() > (1 << 20)) {
          out << buf;
          buf.clear();
        }
      }
      out << buf;
    }
    std::ofstream(empty).close();
    std::fprintf(stderr, "match_bench: setting up %s (kizuna init, import %zu indicators)\n",
                 dir.c_str(), indicators);
    Check(
        std::system(
            (kizuna + " init " + node + " --name CERT-Bench > " + dir + "/init.log 2>&1").c_str()),
        "kizuna init");
    Check(std::system((kizuna + " import --quiet " + node + " " + dir + "/feed.json > " + dir +
                       "/import.log 2>&1")
                          .c_str()),
          "kizuna import");
    std::filesystem::remove(dir + "/feed.json");
    std::ofstream(stamp).close();
  }
  Check(std::system(("cat " + log + " > /dev/null").c_str()), "reading the log");

  // --- runs
  const std::vector<std::string> grep_args = {grepcidr, "-f", networks};
  const std::vector<std::string> kizuna_args = {kizuna, "match", node};
  std::vector<std::string> kizuna1_args = kizuna_args;
  kizuna1_args.insert(kizuna1_args.end(), {"--threads", "1"});
  std::vector<double> gw, gc, kw, kc, k1w, k1c, gsw, ksw, gsc, ksc, krss, ksrss, cw, cc, csw;
  const std::string snapshot = node + "/correlation.snapshot";
  const std::string out_grep = dir + "/out-grepcidr.txt", out_kizuna = dir + "/out-kizuna.jsonl";
  const std::string err = dir + "/stderr.txt";
  for (size_t run = 0; run < runs; ++run) {
    Timing t = Run(grep_args, log, out_grep, err);
    gw.push_back(t.wall);
    gc.push_back(t.cpu);
    std::filesystem::remove(snapshot);
    t = Run(kizuna_args, empty, dir + "/out-empty.txt", dir + "/stderr-empty.txt");
    csw.push_back(t.wall);
    std::filesystem::remove(snapshot);
    t = Run(kizuna_args, log, dir + "/out-kizuna-cold.jsonl", dir + "/stderr-cold.txt");
    cw.push_back(t.wall);
    cc.push_back(t.cpu);
    t = Run(kizuna_args, log, out_kizuna, err);
    kw.push_back(t.wall);
    kc.push_back(t.cpu);
    krss.push_back(t.rss_mb);
    t = Run(kizuna1_args, log, dir + "/out-kizuna-1.jsonl", dir + "/stderr-1.txt");
    k1w.push_back(t.wall);
    k1c.push_back(t.cpu);
    t = Run(grep_args, empty, dir + "/out-empty.txt", dir + "/stderr-empty.txt");
    gsw.push_back(t.wall);
    gsc.push_back(t.cpu);
    t = Run(kizuna_args, empty, dir + "/out-empty.txt", dir + "/stderr-empty.txt");
    ksw.push_back(t.wall);
    ksc.push_back(t.cpu);
    ksrss.push_back(t.rss_mb);
  }
  const size_t grep_lines = CountLines(out_grep);
  const size_t kizuna_lines = CountLines(out_kizuna);
  const size_t kizuna1_lines = CountLines(dir + "/out-kizuna-1.jsonl");
  const size_t cold_lines = CountLines(dir + "/out-kizuna-cold.jsonl");

  const double g = Best(gw), k = Best(kw), k1 = Best(k1w);
  const double gs = Best(gsw), ks = Best(ksw);
  const double c = Best(cw), cs = Best(csw);
  auto rate = [&](double seconds) { return seconds > 0 ? lines / seconds / 1e6 : 0.0; };
  std::printf(
      "match_bench: %zu CIDR indicators (/16-/28) in the store, %zu IPv4 lines (10%% inside a "
      "network), best of %zu runs\n",
      indicators, lines, runs);
  std::printf("%-18s %8s %8s %14s %10s %16s\n", "case", "wall s", "cpu s", "end to end",
              "startup s", "after startup");
  std::printf("%-18s %8.3f %8.3f %9.2f M/s %10.3f %11.2f M/s\n", "grepcidr", g, Best(gc), rate(g),
              gs, rate(g - gs));
  std::printf("%-18s %8.3f %8.3f %9.2f M/s %10.3f %11.2f M/s\n", "kizuna cold", c, Best(cc),
              rate(c), cs, rate(c - cs));
  std::printf("%-18s %8.3f %8.3f %9.2f M/s %10.3f %11.2f M/s\n", "kizuna", k, Best(kc), rate(k), ks,
              rate(k - ks));
  std::printf("%-18s %8.3f %8.3f %9.2f M/s %10.3f %11.2f M/s\n", "kizuna 1 thread", k1, Best(k1c),
              rate(k1), ks, rate(k1 - ks));
  std::printf(
      "ratio kizuna/grepcidr (lines/s): end to end %.2fx, after startup %.2fx (1 thread: "
      "%.2fx, %.2fx)\n",
      g / k, (g - gs) / (k - ks), g / k1, (g - gs) / (k1 - ks));
  std::printf("ratio kizuna cold/grepcidr (lines/s): end to end %.2fx\n", g / c);
  std::printf(
      "matched lines: grepcidr %zu, kizuna %zu, kizuna 1 thread %zu, kizuna cold %zu%s\n",
      grep_lines, kizuna_lines, kizuna1_lines, cold_lines,
      grep_lines == kizuna_lines && kizuna_lines == kizuna1_lines && kizuna_lines == cold_lines
          ? " (same)"
          : " (DIFFERENT)");
  std::printf("output: grepcidr %.1f MB, kizuna %.1f MB of JSON lines\n",
              std::filesystem::file_size(out_grep) / 1e6,
              std::filesystem::file_size(out_kizuna) / 1e6);
  std::printf("kizuna peak memory: %.0f MB (empty input: %.0f MB)\n", Best(krss), Best(ksrss));
  // CPU time is less disturbed than wall time by other work on the machine.
  const double gcpu = Best(gc) - Best(gsc), kcpu = Best(kc) - Best(ksc);
  std::printf(
      "cpu after startup: grepcidr %.0f ns/line, kizuna %.0f ns/line (all threads), "
      "ratio %.2fx\n",
      gcpu / lines * 1e9, kcpu / lines * 1e9, gcpu / kcpu);
  const bool same_output = ReadAll(out_kizuna) == ReadAll(dir + "/out-kizuna-cold.jsonl") &&
                           ReadAll(out_kizuna) == ReadAll(dir + "/out-kizuna-1.jsonl");
  std::printf("kizuna output with and without the snapshot, 1 or 2 threads: %s\n",
              same_output ? "byte for byte the same" : "DIFFERENT");
  if (!keep) std::filesystem::remove_all(dir);
  return grep_lines == kizuna_lines && same_output ? 0 : 1;
}
