// stall_bench: what a flood of heavy requests does to another user's cheap
// request, on a real `kizuna serve` process on loopback (issue 9).
//
// Cases:
//   idle    another user's GET /taxii2/ (discovery), one at a time,
//           --samples times: latency p50, p99, max (steady clock, request
//           sent until the answer is read)
//   flood   the same (at least --samples, for at least --flood-seconds)
//           while --match-threads threads POST /api/v1/match with
//           --observables domain names each (none matches) against
//           --indicators non-indexable indicators (LIKE / MATCHES on
//           domain-name), one connection per thread, as fast as answered,
//           and --bad-auth-threads threads send a real key id with a wrong
//           secret (half on /api/v1/match, half on GET /taxii2/); the
//           flooder's rate limit is off (heavy_requests_per_second = 0 and
//           heavy_in_flight_per_user = 0),
//           the worst case for the worker pool
// Printed: the latencies of both cases, and the flood's answers by status
// (200, 503 busy, 401, other) and errors (timeouts).
//
// The binary run is the one built with the bench, or --kizuna PATH (or
// $KIZUNA_BINARY_OVERRIDE), so that the same bench measures an older build
// (one without [limits] worker_threads: the bench then leaves kizuna.toml
// as it is).
//
//   stall_bench [--kizuna PATH] [--samples 200] [--indicators 1000]
//               [--observables 1000] [--match-threads 4] [--bad-auth-threads 2]
//               [--flood-seconds 10]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/http.h"
#include "tests/e2e/harness.h"

namespace {

using kizuna::e2e::NodeProcess;
using Clock = std::chrono::steady_clock;

struct Args {
  int samples = 200;
  int indicators = 1000;
  int observables = 1000;
  int match_threads = 4;
  int bad_auth_threads = 2;
  double flood_seconds = 10;
};

std::string Indicator(int n, const std::string& pattern) {
  char id[64];
  std::snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012d", n);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
         R"("pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":")" +
         pattern + R"("})";
}

std::string ExpensiveEnvelope(int count) {
  std::string out = R"({"objects":[)";
  for (int i = 0; i < count; ++i) {
    std::string pattern =
        i % 2 ? "[domain-name:value LIKE '%.evil-" + std::to_string(i) + "%.example']"
              : "[domain-name:value MATCHES '^[a-z]+[0-9]*\\\\.bad-" + std::to_string(i) +
                    "\\\\.(example|test)$']";
    out += (i ? "," : "") + Indicator(i + 1, pattern);
  }
  return out + "]}";
}

std::string Observables(int count) {
  std::string out = R"({"observables":[)";
  for (int i = 0; i < count; ++i) {
    out += (i ? "," : "") + std::string("\"host-") + std::to_string(i) + ".quiet.example.org\"";
  }
  return out + "]}";
}

kizuna::http::ClientOptions Patient() {
  kizuna::http::ClientOptions options;
  options.timeout_ms = 60000;
  return options;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t at = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(at, values.size() - 1)];
}

// `samples` GET /taxii2/ as `key`, one at a time (and more until
// `min_seconds` have passed): latencies in ms.
std::vector<double> Probe(NodeProcess& node, const std::string& key, int samples,
                          double min_seconds, int* failed) {
  const auto until = Clock::now() + std::chrono::duration<double>(min_seconds);
  kizuna::http::Client client(Patient());
  kizuna::http::Headers headers;
  headers.Set("Authorization", "Bearer " + key);
  headers.Set("Accept", "application/taxii+json;version=2.1");
  std::vector<double> ms;
  for (int i = 0; i < samples || Clock::now() < until; ++i) {
    auto start = Clock::now();
    auto r = client.Send("GET", node.Url("/taxii2/"), headers);
    double took = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!r.ok() || r->status != 200) {
      ++*failed;
      continue;
    }
    ms.push_back(took);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ms;
}

void Report(const char* name, const std::vector<double>& ms, int failed) {
  std::printf("%-6s GET /taxii2/ (another user): n=%zu p50=%.2f ms p99=%.2f ms max=%.2f ms%s\n",
              name, ms.size(), Percentile(ms, 0.5), Percentile(ms, 0.99),
              ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()),
              failed ? (" failed=" + std::to_string(failed)).c_str() : "");
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    auto value = [&] { return i + 1 < argc ? argv[++i] : (std::exit(2), ""); };
    if (!std::strcmp(argv[i], "--kizuna"))
      setenv("KIZUNA_BINARY_OVERRIDE", value(), 1);
    else if (!std::strcmp(argv[i], "--samples"))
      args.samples = std::atoi(value());
    else if (!std::strcmp(argv[i], "--indicators"))
      args.indicators = std::atoi(value());
    else if (!std::strcmp(argv[i], "--observables"))
      args.observables = std::atoi(value());
    else if (!std::strcmp(argv[i], "--match-threads"))
      args.match_threads = std::atoi(value());
    else if (!std::strcmp(argv[i], "--bad-auth-threads"))
      args.bad_auth_threads = std::atoi(value());
    else if (!std::strcmp(argv[i], "--flood-seconds"))
      args.flood_seconds = std::atof(value());
    else {
      std::fprintf(stderr, "stall_bench: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  std::printf(
      "stall_bench: %s, %d indicators, %d observables per match, %d match threads, "
      "%d wrong-secret threads\n",
      kizuna::e2e::KizunaBinary(), args.indicators, args.observables, args.match_threads,
      args.bad_auth_threads);
  NodeProcess node("CERT-Bench");
  {
    const std::string path = node.dir() + "/kizuna.toml";
    std::string text = kizuna::e2e::ReadFile(path);
    const std::string limit = "\nheavy_requests_per_second = 5\n";
    if (size_t at = text.find(limit); at != std::string::npos) {
      text.replace(at, limit.size(), "\nheavy_requests_per_second = 0\n");
      const std::string cap = "\nheavy_in_flight_per_user = 1\n";
      if (size_t c = text.find(cap); c != std::string::npos) {
        text.replace(c, cap.size(), "\nheavy_in_flight_per_user = 0\n");
      }
      kizuna::e2e::WriteFile(path, text);
    }
  }
  std::string error;
  if (!node.Start(&error)) {
    std::fprintf(stderr, "stall_bench: %s\n", error.c_str());
    return 1;
  }
  auto loaded =
      node.Post("/taxii2/root/collections/default/objects/", ExpensiveEnvelope(args.indicators));
  if (loaded.status != 202) {
    std::fprintf(stderr, "stall_bench: loading failed: %d %s\n", loaded.status,
                 loaded.body.c_str());
    return 1;
  }
  const std::string flooder = node.AddUser("CERT-Bench", "mallory");
  const std::string victim = node.AddUser("partner-org", "carol");
  const std::string wrong = flooder.substr(0, flooder.rfind('_') + 1) +
                            std::string(flooder.size() - flooder.rfind('_') - 1, 'A');
  const std::string body = Observables(args.observables);
  // Warm up: the index is built, one match answered.
  node.Request("POST", "/api/v1/match", flooder, body, {{"Content-Type", "application/json"}});

  int failed = 0;
  Report("idle", Probe(node, victim, args.samples, 0, &failed), failed);

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, int> answers;
  auto count = [&](const std::string& what) {
    std::lock_guard lock(mu);
    ++answers[what];
  };
  std::vector<std::thread> flood;
  auto flooder_thread = [&](const std::string& key, bool heavy) {
    kizuna::http::Client client(Patient());
    kizuna::http::Headers headers;
    headers.Set("Authorization", "Bearer " + key);
    headers.Set("Content-Type", "application/json");
    while (!stop) {
      auto r = heavy ? client.Send("POST", node.Url("/api/v1/match"), headers, body)
                     : client.Send("GET", node.Url("/taxii2/"), headers);
      count(!r.ok() ? "error" : std::to_string(r->status));
    }
  };
  for (int t = 0; t < args.match_threads; ++t) flood.emplace_back(flooder_thread, flooder, true);
  for (int t = 0; t < args.bad_auth_threads; ++t) {
    flood.emplace_back(flooder_thread, wrong, t % 2 == 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the flood is under way
  const auto started = Clock::now();
  failed = 0;
  Report("flood", Probe(node, victim, args.samples, args.flood_seconds, &failed), failed);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  stop = true;
  for (std::thread& thread : flood) thread.join();
  std::printf("flood answers over %.1f s:", seconds);
  for (const auto& [status, n] : answers) std::printf(" %s=%d", status.c_str(), n);
  std::printf("\n");
  node.Stop();
  return 0;
}
