// correlator_bench: the time a node takes to build its correlation index from
// the store (Correlator::Refresh over every indicator: read the change feed,
// parse each indicator and its pattern, reduce, index), and what a match then
// costs through the Correlator.
//
// Cases:
//   populate  N generated indicators (IPv4, CIDR, domains, SHA-256 in the
//             proportions of correlation_bench) stored in a fresh SQLite store
//             (setup, reported but not a target)
//   build     Correlator::Refresh from an empty index (target < 5 s for 1M)
//   match     MatchText of random IPv4 text through the Correlator (lookups/s)
//
//   correlator_bench [N=1000000] [DIR=/tmp] [keep]
// With "keep" the store is left in DIR/kizuna-correlator-bench and reused by
// the next run with "keep" (to profile the build alone).
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "correlation/correlator.h"
#include "stix/stix.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Pattern(size_t i, std::mt19937_64& rng) {
  char buf[160];
  switch (i % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5: {
      uint32_t a = static_cast<uint32_t>(rng());
      std::snprintf(buf, sizeof buf, "[ipv4-addr:value = '%u.%u.%u.%u']", a >> 24, (a >> 16) & 255,
                    (a >> 8) & 255, a & 255);
      break;
    }
    case 6: {
      uint32_t a = static_cast<uint32_t>(rng());
      int len = 16 + static_cast<int>(rng() % 13);
      a &= len == 0 ? 0 : ~((1u << (32 - len)) - 1);
      std::snprintf(buf, sizeof buf, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%d']", a >> 24,
                    (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
      break;
    }
    case 7:
    case 8:
      std::snprintf(buf, sizeof buf, "[domain-name:value = 'host%zu.evil%llu.com']", i,
                    static_cast<unsigned long long>(rng() % 100000));
      break;
    default: {
      std::string hex;
      for (int k = 0; k < 4; ++k) {
        char part[17];
        std::snprintf(part, sizeof part, "%016llx", static_cast<unsigned long long>(rng()));
        hex += part;
      }
      std::snprintf(buf, sizeof buf, "[file:hashes.'SHA-256' = '%s']", hex.c_str());
    }
  }
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const std::string dir = std::string(argc > 2 ? argv[2] : "/tmp") + "/kizuna-correlator-bench";
  const bool keep = argc > 3 && std::string(argv[3]) == "keep";
  const bool reuse = keep && std::filesystem::exists(dir + "/kizuna.db");
  if (!reuse) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  kizuna::store::SqliteOptions options;
  options.synchronous = "NORMAL";
  auto opened = kizuna::store::OpenSqliteStore(dir + "/kizuna.db", options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().message().c_str());
    return 1;
  }
  kizuna::store::Store& store = **opened;
  kizuna::store::Collection collection;
  collection.id = kizuna::NewUuid4();
  collection.title = "bench";
  (void)store.CreateCollection(collection);

  std::printf("correlator_bench: %zu indicators in a SQLite store\n", n);
  std::mt19937_64 rng(7);
  auto start = Clock::now();
  std::vector<kizuna::store::NewObject> batch;
  for (size_t i = 0; i < (reuse ? 0 : n); ++i) {
    boost::json::object o{{"type", "indicator"},
                          {"spec_version", "2.1"},
                          {"id", "indicator--" + kizuna::NewUuid4()},
                          {"created", "2024-03-01T10:00:00.000Z"},
                          {"modified", "2024-03-01T10:00:00.000Z"},
                          {"name", "indicator " + std::to_string(i % 1000)},
                          {"labels", boost::json::array{"botnet"}},
                          {"confidence", 80},
                          {"pattern", Pattern(i, rng)},
                          {"pattern_type", "stix"},
                          {"valid_from", "2024-03-01T10:00:00Z"}};
    auto info = kizuna::stix::ValidateObject(o);
    if (!info.ok()) {
      std::fprintf(stderr, "generated an invalid indicator: %s\n", info.status().message().c_str());
      return 1;
    }
    batch.push_back({*info, boost::json::serialize(o), ""});
    if (batch.size() == 10000 || i + 1 == n) {
      auto added = store.AddObjects(collection.id, batch);
      if (!added.ok()) {
        std::fprintf(stderr, "%s\n", added.status().message().c_str());
        return 1;
      }
      batch.clear();
      std::fprintf(stderr, "\rpopulate: %zu/%zu", i + 1, n);
    }
  }
  std::fprintf(stderr, "\n");
  std::printf("populate   %.2f s (setup)\n", Seconds(Clock::now() - start));

  kizuna::correlation::Correlator correlator(store, {});
  start = Clock::now();
  kizuna::Status refreshed = correlator.Refresh();
  double build = Seconds(Clock::now() - start);
  if (!refreshed.ok()) {
    std::fprintf(stderr, "%s\n", refreshed.message().c_str());
    return 1;
  }
  auto stats = correlator.GetStats();
  std::printf(
      "build      %.2f s from the store (%.0f indicators/s), %zu indexed, %zu by pattern   "
      "target < 5 s\n",
      build, n / build, stats.indexed, stats.by_pattern);
  std::printf("memory     %.1f bytes/indicator in the index\n",
              static_cast<double>(stats.index.memory_bytes) / std::max<size_t>(1, stats.indexed));

  const size_t lookups = 200000;
  std::vector<std::string> texts;
  for (size_t i = 0; i < lookups; ++i) {
    uint32_t a = static_cast<uint32_t>(rng());
    texts.push_back(std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
                    std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255));
  }
  size_t matched = 0;
  start = Clock::now();
  for (const auto& t : texts) matched += correlator.MatchText(t, nullptr).matches.empty() ? 0 : 1;
  double match = Seconds(Clock::now() - start);
  std::printf(
      "match      %.0f observables/s through Correlator::MatchText (%.1f%% matched; "
      "the store is not re-read per call)\n",
      lookups / match, 100.0 * matched / lookups);
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
