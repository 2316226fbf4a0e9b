// correlation_bench: the indicator index (src/correlation) against the DESIGN.md
// targets, db_bench style. Cases, in order:
//   build      Add() 1M generated indicators: 600k IPv4 exact, 100k IPv4 CIDR
//              (/16-/28), 200k domains (1 in 4 with subdomain matching),
//              100k SHA-256. Target < 5 s.
//   memory     bytes per indicator, from the index's own count (capacity of
//              every container) and from mallinfo2 before/after. Target <= 150.
//   ipv4       lookups/s on one core, 90% random addresses, 10% known hits
//              (one Reader per 4096 lookups). Target >= 20M/s.
//   domain     lookups/s, 50% random names, 25% exact hits, 25% subdomains of
//              subdomain-matching entries. Target >= 5M/s.
//   sha256     lookups/s from hex text, half hits.
//   cidr-scan  the 100k CIDRs as a grepcidr pattern file and a log of N
//              random IPv4 lines; `grepcidr -f patterns log > /dev/null` (wall
//              time) vs our index reading, parsing and matching the same file.
//              Prints both rates and the ratio; checks both count the same lines.
//
// Usage: correlation_bench [log_lines=10000000] [workdir=/tmp]
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "correlation/indicator_index.h"

using kizuna::correlation::IndexEntry;
using kizuna::correlation::IndicatorIndex;
using kizuna::correlation::IndicatorMeta;
using kizuna::correlation::MatchResult;
using kizuna::correlation::ObservableKind;

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

constexpr int kIpv4Exact = 600'000;
constexpr int kCidr = 100'000;
constexpr int kDomains = 200'000;
constexpr int kHashes = 100'000;

const char* kTlds[] = {"com", "net", "org", "ru", "cn", "info", "co.uk", "com.br", "io", "xyz"};

std::string RandomLabel(std::mt19937_64& rng, int min_len, int max_len) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  int len = min_len + static_cast<int>(rng() % (max_len - min_len + 1));
  std::string s;
  for (int i = 0; i < len; ++i) s.push_back(kChars[rng() % 36]);
  return s;
}

std::string Hex(std::mt19937_64& rng, int bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < bytes; ++i) {
    uint64_t b = rng() & 0xFF;
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

std::string IndicatorId(uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "indicator--%08x-0000-4000-8000-%012llx",
                static_cast<unsigned>(n * 2654435761u), static_cast<unsigned long long>(n));
  return buf;
}

struct Generated {
  std::vector<std::pair<IndicatorMeta, IndexEntry>> indicators;
  std::vector<uint32_t> exact_ips;
  std::vector<std::pair<uint32_t, int>> cidrs;
  std::vector<std::string> domains;  // with a flag: subdomain entries get "+"
  std::vector<std::string> sub_domains;
  std::vector<std::string> hashes;
};

Generated Generate() {
  std::mt19937_64 rng(20240611);
  Generated g;
  g.indicators.reserve(kIpv4Exact + kCidr + kDomains + kHashes);
  // Names, labels and producers repeat in real feeds (one name per feed
  // rule, a handful of producers): 1000 names, 8 label sets, 50 producers.
  auto meta = [&](uint64_t n) {
    IndicatorMeta m;
    m.id = IndicatorId(n);
    m.modified_us = 1'700'000'000'000'000 + static_cast<int64_t>(n);
    m.name = "feed rule " + std::to_string(n % 1000);
    static const std::vector<std::string> kLabels[] = {{"malicious-activity"},
                                                       {"c2"},
                                                       {"phishing"},
                                                       {"botnet", "c2"},
                                                       {"scanner"},
                                                       {"malware"},
                                                       {},
                                                       {"anomalous-activity"}};
    m.labels = kLabels[n % 8];
    m.producer = "identity--00000000-0000-4000-8000-0000000000" + std::to_string(10 + n % 50);
    m.confidence = static_cast<int>(n % 101);
    return m;
  };
  uint64_t n = 0;
  for (int i = 0; i < kIpv4Exact; ++i) {
    uint32_t ip = static_cast<uint32_t>(rng());
    g.exact_ips.push_back(ip);
    g.indicators.push_back(
        {meta(n++), IndexEntry{ObservableKind::kIpv4, kizuna::correlation::FormatIpv4(ip), false}});
  }
  for (int i = 0; i < kCidr; ++i) {
    int len = 16 + static_cast<int>(rng() % 13);
    uint32_t net = static_cast<uint32_t>(rng()) & (~uint32_t{0} << (32 - len));
    g.cidrs.push_back({net, len});
    g.indicators.push_back(
        {meta(n++),
         IndexEntry{ObservableKind::kIpv4,
                    kizuna::correlation::FormatIpv4(net) + "/" + std::to_string(len), false}});
  }
  for (int i = 0; i < kDomains; ++i) {
    std::string d = RandomLabel(rng, 5, 14) + "." + kTlds[rng() % std::size(kTlds)];
    if (rng() % 3 == 0) d = RandomLabel(rng, 2, 8) + "." + d;
    bool sub = i % 4 == 0;
    (sub ? g.sub_domains : g.domains).push_back(d);
    g.indicators.push_back({meta(n++), IndexEntry{ObservableKind::kDomain, d, sub}});
  }
  for (int i = 0; i < kHashes; ++i) {
    std::string h = Hex(rng, 32);
    g.hashes.push_back(h);
    g.indicators.push_back({meta(n++), IndexEntry{ObservableKind::kSha256, h, false}});
  }
  return g;
}

template <typename F>
double Rate(size_t count, F&& body) {
  auto start = Clock::now();
  body();
  return static_cast<double>(count) / Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  size_t log_lines = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  std::string workdir = argc > 2 ? argv[2] : "/tmp";

  Generated g = Generate();
  size_t total = g.indicators.size();
  std::printf(
      "correlation_bench: %zu indicators (%d IPv4 exact, %d CIDR /16-/28, %d domains, %d "
      "SHA-256)\n",
      total, kIpv4Exact, kCidr, kDomains, kHashes);

  // --- build
  struct mallinfo2 before = mallinfo2();
  IndicatorIndex index;
  auto start = Clock::now();
  index.Reserve(total);
  for (const auto& [meta, entry] : g.indicators) {
    auto r = index.Add(meta, std::span<const IndexEntry>(&entry, 1));
    if (!r.ok()) {
      std::fprintf(stderr, "add failed: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  double build_s = Seconds(start);
  struct mallinfo2 after = mallinfo2();
  auto stats = index.Stats();
  std::printf("build      %.2f s (%.0f indicators/s)   target < 5 s\n", build_s, total / build_s);
  std::printf(
      "memory     %.1f bytes/indicator (index count), %.1f (mallinfo2)   target <= 150\n",
      static_cast<double>(stats.memory_bytes) / total,
      static_cast<double>(after.uordblks + after.hblkhd - before.uordblks - before.hblkhd) / total);

  // --- ipv4
  std::mt19937_64 rng(7);
  constexpr size_t kQueries = 20'000'000;
  std::vector<uint32_t> ips(kQueries);
  for (auto& ip : ips) {
    uint64_t r = rng();
    if (r % 10 != 0) {
      ip = static_cast<uint32_t>(r >> 32);
    } else if (r % 20 == 0) {
      ip = g.exact_ips[(r >> 32) % g.exact_ips.size()];
    } else {
      auto [net, len] = g.cidrs[(r >> 32) % g.cidrs.size()];
      ip = net | (static_cast<uint32_t>(r >> 8) & ~(~uint32_t{0} << (32 - len)));
    }
  }
  MatchResult out;
  out.refs.reserve(128);
  size_t hits = 0;
  double ipv4_rate = Rate(kQueries, [&] {
    for (size_t i = 0; i < kQueries; i += 4096) {
      auto reader = index.Read();
      size_t end = std::min(kQueries, i + 4096);
      for (size_t j = i; j < end; ++j) hits += reader.MatchIpv4(ips[j], &out);
    }
  });
  std::printf("ipv4       %.1f M lookups/s (%.1f%% matched)   target >= 20M/s\n", ipv4_rate / 1e6,
              100.0 * hits / kQueries);
  hits = 0;
  double ipv4_locked = Rate(kQueries / 4, [&] {
    for (size_t j = 0; j < kQueries / 4; ++j) hits += !index.MatchIpv4(ips[j]).refs.empty();
  });
  std::printf("ipv4/call  %.1f M lookups/s (lock and result per call, for comparison)\n",
              ipv4_locked / 1e6);
  std::vector<uint32_t> matched;
  matched.reserve(4096);
  hits = 0;
  double ipv4_batch = Rate(kQueries, [&] {
    for (size_t i = 0; i < kQueries; i += 4096) {
      auto reader = index.Read();
      matched.clear();
      reader.MatchIpv4Batch(
          std::span<const uint32_t>(ips.data() + i, std::min<size_t>(4096, kQueries - i)),
          &matched);
      hits += matched.size();
    }
  });
  std::printf(
      "ipv4/batch %.1f M lookups/s (%.1f%% matched; MatchIpv4Batch, prefetching)   target >= "
      "20M/s\n",
      ipv4_batch / 1e6, 100.0 * hits / kQueries);

  // --- domains
  constexpr size_t kDomainQueries = 4'000'000;
  std::vector<std::string> names;
  names.reserve(kDomainQueries);
  for (size_t i = 0; i < kDomainQueries; ++i) {
    uint64_t r = rng();
    switch (r % 4) {
      case 0:
      case 1:
        names.push_back("www." + RandomLabel(rng, 5, 14) + "." + kTlds[r % std::size(kTlds)]);
        break;
      case 2:
        names.push_back(g.domains[(r >> 8) % g.domains.size()]);
        break;
      default:
        names.push_back("a.b." + g.sub_domains[(r >> 8) % g.sub_domains.size()]);
    }
  }
  hits = 0;
  double domain_rate = Rate(kDomainQueries, [&] {
    for (size_t i = 0; i < kDomainQueries; i += 4096) {
      auto reader = index.Read();
      size_t end = std::min(kDomainQueries, i + 4096);
      for (size_t j = i; j < end; ++j) hits += reader.MatchDomain(names[j], &out);
    }
  });
  std::printf("domain     %.1f M lookups/s (%.1f%% matched)   target >= 5M/s\n", domain_rate / 1e6,
              100.0 * hits / kDomainQueries);

  // --- sha256
  constexpr size_t kHashQueries = 2'000'000;
  std::vector<std::string> hex;
  hex.reserve(kHashQueries);
  for (size_t i = 0; i < kHashQueries; ++i) {
    hex.push_back(i % 2 ? g.hashes[rng() % g.hashes.size()] : Hex(rng, 32));
  }
  hits = 0;
  double hash_rate = Rate(kHashQueries, [&] {
    for (size_t i = 0; i < kHashQueries; i += 4096) {
      auto reader = index.Read();
      size_t end = std::min(kHashQueries, i + 4096);
      for (size_t j = i; j < end; ++j)
        hits += reader.MatchHash(ObservableKind::kSha256, hex[j], &out);
    }
  });
  std::printf("sha256     %.1f M lookups/s (%.1f%% matched)\n", hash_rate / 1e6,
              100.0 * hits / kHashQueries);

  // --- cidr-scan vs grepcidr
  if (log_lines == 0) return 0;
  std::string patterns_path = workdir + "/correlation_bench_cidrs.txt";
  std::string log_path = workdir + "/correlation_bench_log.txt";
  {
    std::ofstream p(patterns_path);
    for (auto [net, len] : g.cidrs) p << kizuna::correlation::FormatIpv4(net) << "/" << len << "\n";
    std::ofstream l(log_path);
    std::string buf;
    for (size_t i = 0; i < log_lines; ++i) {
      uint64_t r = rng();
      uint32_t ip = static_cast<uint32_t>(r >> 32);
      if (r % 10 == 0) {
        auto [net, len] = g.cidrs[(r >> 8) % g.cidrs.size()];
        ip = net | (static_cast<uint32_t>(r) & ~(~uint32_t{0} << (32 - len)));
      }
      buf += kizuna::correlation::FormatIpv4(ip);
      buf += '\n';
      if (buf.size() > (1 << 20)) {
        l << buf;
        buf.clear();
      }
    }
    l << buf;
  }
  // The same 100k networks, nothing else, as grepcidr gets.
  IndicatorIndex cidr_index;
  for (size_t i = 0; i < g.cidrs.size(); ++i) {
    const auto& [meta, entry] = g.indicators[kIpv4Exact + i];
    (void)cidr_index.Add(meta, std::span<const IndexEntry>(&entry, 1));
  }
  if (std::system("command -v grepcidr > /dev/null") != 0) {
    std::printf("cidr-scan  grepcidr not installed (apt-get install grepcidr): skipped\n");
    return 0;
  }
  // Warm the page cache for both.
  std::system(("cat " + log_path + " > /dev/null").c_str());
  start = Clock::now();
  int rc = std::system(("grepcidr -f " + patterns_path + " " + log_path + " > /dev/null").c_str());
  double grep_s = Seconds(start);
  if (rc != 0 && rc != 256) std::fprintf(stderr, "grepcidr exited %d\n", rc);

  size_t our_matches = 0;
  start = Clock::now();
  {
    std::FILE* f = std::fopen(log_path.c_str(), "rb");
    std::vector<char> buf(1 << 20);
    size_t carry = 0;
    MatchResult m;
    m.refs.reserve(128);
    while (true) {
      size_t n = std::fread(buf.data() + carry, 1, buf.size() - carry, f);
      size_t len = carry + n;
      if (len == 0) break;
      size_t line_start = 0;
      auto reader = cidr_index.Read();
      for (size_t i = 0; i < len; ++i) {
        if (buf[i] != '\n') continue;
        auto ip =
            kizuna::correlation::ParseIpv4(std::string_view(&buf[line_start], i - line_start));
        if (ip && reader.MatchIpv4(*ip, &m)) ++our_matches;
        line_start = i + 1;
      }
      carry = len - line_start;
      std::memmove(buf.data(), buf.data() + line_start, carry);
      if (n == 0) break;
    }
    std::fclose(f);
  }
  double ours_s = Seconds(start);
  FILE* c = popen(("grepcidr -c -f " + patterns_path + " " + log_path).c_str(), "r");
  unsigned long long grep_count = 0;
  if (c == nullptr || std::fscanf(c, "%llu", &grep_count) != 1) grep_count = 0;
  if (c) pclose(c);
  std::printf(
      "cidr-scan  %zu lines, %zu networks: grepcidr %.2f s (%.1f M lines/s), index %.2f s "
      "(%.1f M lines/s), ratio %.1fx; matched lines: grepcidr %llu, index %zu%s\n",
      log_lines, g.cidrs.size(), grep_s, log_lines / grep_s / 1e6, ours_s, log_lines / ours_s / 1e6,
      grep_s / ours_s, grep_count, our_matches,
      grep_count == our_matches ? " (same)" : " (DIFFERENT)");
  std::remove(patterns_path.c_str());
  std::remove(log_path.c_str());
  return 0;
}
