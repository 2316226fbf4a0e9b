// geo_bench: IP enrichment on the real ip-location-db data (the asn and
// asn-country packages, IPv4 and IPv6: what scripts/start-node.sh loads),
// beside libmaxminddb on an MMDB of the same ranges.
//
// Cases, all on one thread:
//   load              kizuna geo load of the four CSV files (parse, compile,
//                     write DIR/geo/), then GeoDb::Open
//   ipv4 random       GeoDb::LookupV4 of uniformly random IPv4 addresses (ASN,
//                     AS name, prefix and country each)
//   ipv4 routed       the same on addresses inside the ASN ranges
//   ipv6 routed       GeoDb::LookupV6 of addresses inside the IPv6 ASN ranges
//                     (uniformly random IPv6 addresses almost all miss)
//   mmdb (--mmdb)     the ASN layer written as an MMDB by
//                     src/geo/testdata/make_mmdb.pl (MaxMind::DB::Writer; takes
//                     minutes, cached beside the data), then libmaxminddb's
//                     MMDB_lookup_sockaddr on the same addresses, alone and
//                     with MMDB_get_value of the AS number; and kizuna geo load
//                     of that MMDB (the tree walk)
// The target (DESIGN.md, issue 12): >= 5M lookups/s on one core, random IPv4.
// Rates are per second of the benchmark thread's CPU time, best of three.
//
// Usage: geo_bench [--data DIR] [--lookups N] [--mmdb]
//   DIR holds asn/asn-ipv4.csv, asn/asn-ipv6.csv, asn-country/asn-country-ipv4.csv and
//   asn-country/asn-country-ipv6.csv (default: the checkout's npm cache,
//   .cache/geo/node_modules/@ip-location-db). Without them it says so and exits 0.
#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "geo/geo.h"
#include "geo/internal.h"

namespace {

namespace fs = std::filesystem;
using kizuna::geo::GeoAnswer;
using kizuna::geo::GeoDb;
using kizuna::geo::internal::U128;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double ThreadCpuSeconds() {
  timespec t;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Best of three runs of `body` over `n` items, in items per second of this
// thread's CPU time (one core; what else runs on the machine does not count).
template <typename F>
double Rate(size_t n, F body) {
  double best = 0;
  for (int run = 0; run < 3; ++run) {
    const double start = ThreadCpuSeconds();
    body();
    best = std::max(best, static_cast<double>(n) / (ThreadCpuSeconds() - start));
  }
  return best;
}

struct Sink {
  uint64_t hits = 0, countries = 0, bytes = 0;
};

void Consume(const GeoAnswer& a, Sink* sink) {
  sink->hits += a.asn != 0;
  sink->countries += !a.country.empty();
  sink->bytes += a.as_name.size() + (a.prefix ? a.prefix->length : 0);
}

kizuna::correlation::Ipv6Bytes ToBytes(U128 v) {
  kizuna::correlation::Ipv6Bytes b;
  for (int i = 15; i >= 0; --i) {
    b[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = std::string(KIZUNA_SOURCE_DIR) + "/.cache/geo/node_modules/@ip-location-db";
  size_t lookups = 10'000'000;
  bool mmdb = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--data" && i + 1 < argc) {
      data = argv[++i];
    } else if (arg == "--lookups" && i + 1 < argc) {
      lookups = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--mmdb") {
      mmdb = true;
    } else {
      std::fprintf(stderr, "usage: geo_bench [--data DIR] [--lookups N] [--mmdb]\n");
      return 2;
    }
  }
  const std::vector<std::string> files = {data + "/asn/asn-ipv4.csv", data + "/asn/asn-ipv6.csv",
                                          data + "/asn-country/asn-country-ipv4.csv",
                                          data + "/asn-country/asn-country-ipv6.csv"};
  for (const std::string& f : files) {
    if (!fs::exists(f)) {
      std::printf(
          "geo_bench: skipped: %s is absent (scripts/start-node.sh installs the data, or pass "
          "--data DIR)\n",
          f.c_str());
      return 0;
    }
  }
  char pattern[] = "/tmp/kizuna-geo-bench.XXXXXX";
  const std::string dir = ::mkdtemp(pattern);

  // --- load
  auto start = Clock::now();
  auto loaded = kizuna::geo::LoadGeoFiles(dir, files);
  if (!loaded.ok()) {
    std::fprintf(stderr, "geo_bench: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  const double load_s = Seconds(start);
  start = Clock::now();
  auto opened = GeoDb::Open(dir);  // maps the joined file the load wrote
  if (!opened.ok()) return 1;
  const double open_s = Seconds(start);
  const bool mapped = (*opened)->mapped();
  // Without it: the layers read and joined (as before there was one).
  std::filesystem::remove(dir + "/geo/joined.kgeo");
  start = Clock::now();
  auto joined_here = GeoDb::Open(dir);
  if (!joined_here.ok()) return 1;
  const double join_s = Seconds(start);
  joined_here->reset();
  const std::shared_ptr<const GeoDb> db = *opened;
  std::printf("data: %s\n", data.c_str());
  for (const auto& layer : db->layers()) {
    std::printf("layer %-8s %8llu IPv4 %8llu IPv6 ranges\n", layer.name.c_str(),
                static_cast<unsigned long long>(layer.ipv4_ranges),
                static_cast<unsigned long long>(layer.ipv6_ranges));
  }
  std::printf(
      "load (4 CSV files, %llu ranges): %.2f s; open: %.3f s (%s), %.3f s reading and joining "
      "the layers (and writing the joined file)\n",
      static_cast<unsigned long long>(loaded->ranges), load_s, open_s,
      mapped ? "the joined file mapped" : "NOT mapped", join_s);

  // --- addresses
  std::mt19937_64 random(42);
  std::vector<uint32_t> v4_random(lookups), v4_routed(lookups);
  std::vector<kizuna::correlation::Ipv6Bytes> v6_routed(lookups);
  for (uint32_t& a : v4_random) a = static_cast<uint32_t>(random());
  auto asn_layer = kizuna::geo::internal::Layer::Parse(
      *kizuna::geo::internal::ReadWholeFile(dir + "/geo/asn.kgeo"), "asn.kgeo");
  if (!asn_layer.ok()) return 1;
  const auto& s4 = asn_layer->v4.segments;
  const auto& s6 = asn_layer->v6.segments;
  for (uint32_t& a : v4_routed) {
    const auto& s = s4[random() % s4.size()];
    a = s.first + static_cast<uint32_t>(random() % (uint64_t{s.last - s.first} + 1));
  }
  for (auto& a : v6_routed) {
    const auto& s = s6[random() % s6.size()];
    const U128 span = s.last - s.first;
    const U128 offset = ((U128(random()) << 64) | random()) % (span == ~U128(0) ? span : span + 1);
    a = ToBytes(s.first + offset);
  }

  // --- lookups
  Sink sink;
  const double v4_rate = Rate(lookups, [&] {
    for (uint32_t a : v4_random) Consume(db->LookupV4(a), &sink);
  });
  std::vector<kizuna::geo::GeoAnswer> answers(kizuna::geo::kLookupBatch);
  const double v4_batch_rate = Rate(lookups, [&] {
    for (size_t i = 0; i < v4_random.size(); i += answers.size()) {
      const size_t n = std::min(answers.size(), v4_random.size() - i);
      db->LookupV4Batch(v4_random.data() + i, n, answers.data());
      for (size_t k = 0; k < n; ++k) Consume(answers[k], &sink);
    }
  });
  const double v4_routed_rate = Rate(lookups, [&] {
    for (uint32_t a : v4_routed) Consume(db->LookupV4(a), &sink);
  });
  const double v6_rate = Rate(lookups, [&] {
    for (const auto& a : v6_routed) Consume(db->LookupV6(a), &sink);
  });
  Sink once;
  for (size_t i = 0; i < std::min<size_t>(lookups, 1'000'000); ++i) {
    Consume(db->LookupV4(v4_random[i]), &once);
  }
  std::printf("ipv4 random: %6.2f M lookups/s (%.0f%% with an AS, %.0f%% with a country)\n",
              v4_rate / 1e6, 100.0 * once.hits / std::min<size_t>(lookups, 1'000'000),
              100.0 * once.countries / std::min<size_t>(lookups, 1'000'000));
  std::printf("ipv4 random in batches of %zu (LookupV4Batch): %6.2f M lookups/s\n", answers.size(),
              v4_batch_rate / 1e6);
  std::printf("ipv4 routed: %6.2f M lookups/s\n", v4_routed_rate / 1e6);
  std::printf("ipv6 routed: %6.2f M lookups/s\n", v6_rate / 1e6);
  std::printf("target >= 5 M/s random IPv4 on one core: %s one at a time, %s in batches\n",
              v4_rate >= 5e6 ? "met" : "NOT met", v4_batch_rate >= 5e6 ? "met" : "NOT met");

  if (!mmdb) {
    std::printf("mmdb comparison: skipped (--mmdb builds one with MaxMind::DB::Writer)\n");
  } else {
    // The ASN layer as an MMDB, cached beside the data (the writer is slow).
    const std::string mmdb_path = dir + "/asn.mmdb";
    const std::string cached = data + "/kizuna-geo-bench-asn.mmdb";
    if (!fs::exists(cached)) {
      const std::string ranges = dir + "/ranges.txt";
      {
        std::ofstream out(ranges);
        char first[INET6_ADDRSTRLEN], last[INET6_ADDRSTRLEN];
        for (const auto& s : s4) {
          const uint32_t f = htonl(s.first), l = htonl(s.last);
          ::inet_ntop(AF_INET, &f, first, sizeof first);
          ::inet_ntop(AF_INET, &l, last, sizeof last);
          const auto& r = asn_layer->records[s.record];
          out << first << '\t' << last << '\t' << r.asn << '\t' << asn_layer->Text(r) << "\t\n";
        }
        for (const auto& s : s6) {
          // The writer aliases Teredo (2001::/32) and 6to4 (2002::/16) to
          // IPv4 and refuses ranges there.
          const uint32_t top = static_cast<uint32_t>(s.first >> 96);
          if (top == 0x20010000u || (top >> 16) == 0x2002) continue;
          const auto f = ToBytes(s.first), l = ToBytes(s.last);
          ::inet_ntop(AF_INET6, f.data(), first, sizeof first);
          ::inet_ntop(AF_INET6, l.data(), last, sizeof last);
          const auto& r = asn_layer->records[s.record];
          out << first << '\t' << last << '\t' << r.asn << '\t' << asn_layer->Text(r) << "\t\n";
        }
      }
      start = Clock::now();
      const std::string command = "/usr/bin/perl " + std::string(KIZUNA_SOURCE_DIR) +
                                  "/src/geo/testdata/make_mmdb.pl '" + cached +
                                  "' 6 kizuna-bench-ASN < '" + ranges + "'";
      if (std::system(command.c_str()) != 0) {
        std::fprintf(stderr, "geo_bench: %s failed\n", command.c_str());
        return 1;
      }
      std::printf("mmdb written by MaxMind::DB::Writer in %.0f s (cached: %s)\n", Seconds(start),
                  cached.c_str());
    }
    fs::copy_file(cached, mmdb_path, fs::copy_options::overwrite_existing);
    MMDB_s handle;
    if (MMDB_open(mmdb_path.c_str(), MMDB_MODE_MMAP, &handle) != MMDB_SUCCESS) return 1;
    std::vector<sockaddr_in> in4(lookups);
    for (size_t i = 0; i < lookups; ++i) {
      in4[i] = {};
      in4[i].sin_family = AF_INET;
      in4[i].sin_addr.s_addr = htonl(v4_random[i]);
    }
    std::vector<sockaddr_in6> in6(lookups);
    for (size_t i = 0; i < lookups; ++i) {
      in6[i] = {};
      in6[i].sin6_family = AF_INET6;
      std::memcpy(&in6[i].sin6_addr, v6_routed[i].data(), 16);
    }
    uint64_t found = 0;
    auto lookup = [&](const sockaddr* address, bool value) {
      int error = 0;
      MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&handle, address, &error);
      if (error != MMDB_SUCCESS || !result.found_entry) return;
      if (!value) {
        ++found;
        return;
      }
      MMDB_entry_data_s entry;
      if (MMDB_get_value(&result.entry, &entry, "autonomous_system_number", nullptr) ==
              MMDB_SUCCESS &&
          entry.has_data) {
        found += entry.uint32;
      }
    };
    const double m4 = Rate(lookups, [&] {
      for (const auto& a : in4) lookup(reinterpret_cast<const sockaddr*>(&a), false);
    });
    const double m4v = Rate(lookups, [&] {
      for (const auto& a : in4) lookup(reinterpret_cast<const sockaddr*>(&a), true);
    });
    const double m6v = Rate(lookups, [&] {
      for (const auto& a : in6) lookup(reinterpret_cast<const sockaddr*>(&a), true);
    });
    MMDB_close(&handle);
    std::printf(
        "libmaxminddb ipv4 random, MMDB_lookup_sockaddr:          %6.2f M/s (kizuna %.1fx)\n",
        m4 / 1e6, v4_rate / m4);
    std::printf(
        "libmaxminddb ipv4 random, + MMDB_get_value(asn):         %6.2f M/s (kizuna %.1fx)\n",
        m4v / 1e6, v4_rate / m4v);
    std::printf(
        "libmaxminddb ipv6 routed, + MMDB_get_value(asn):         %6.2f M/s (kizuna %.1fx)\n",
        m6v / 1e6, v6_rate / m6v);
    start = Clock::now();
    auto from_mmdb = kizuna::geo::LoadGeoFiles(dir, {mmdb_path});
    if (!from_mmdb.ok()) return 1;
    std::printf("load of that MMDB (tree walk, %llu ranges): %.2f s\n",
                static_cast<unsigned long long>(from_mmdb->ranges), Seconds(start));
    if (found == 0) std::printf(" ");
  }
  if (sink.bytes == 42) std::printf(" ");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
