// No one can stall the node (issue 9), over real `kizuna serve` processes:
// matching (POST /api/v1/match) runs on the server's work lane, so that a
// member flooding matching against ~1,000 non-indexable patterns, and
// others sending wrong API-key secrets, do not keep another user's cheap
// GET /taxii2/ from being answered; imports (TAXII POST) run on a lane of
// their own, so that members who fill the work lane do not keep an import
// waiting or refused; a match request that would cost more than
// limits.max_match_work gets 413; a user past its heavy_requests_per_second
// gets 429 with Retry-After; and `truncated` counts only the matches the
// caller may see. No latency is asserted here (bench/stall_bench.cc
// measures it): only "answered, not timed out".
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/support/eventually.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

const std::string kObjects = "/taxii2/root/collections/default/objects/";
const char* kGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const char* kRed = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

std::string Indicator(int n, const std::string& pattern, const char* tlp = kGreen) {
  char tail[13];
  std::snprintf(tail, sizeof(tail), "%012d", n);
  json::object o{{"type", "indicator"},
                 {"spec_version", "2.1"},
                 {"id", std::string("indicator--00000000-0000-4000-8000-") + tail},
                 {"created", "2024-01-01T00:00:00.000Z"},
                 {"modified", "2024-01-01T00:00:00.000Z"},
                 {"name", "stall " + std::to_string(n)},
                 {"pattern", pattern},
                 {"pattern_type", "stix"},
                 {"valid_from", "2024-01-01T00:00:00Z"},
                 {"object_marking_refs", json::array{tlp}}};
  return json::serialize(o);
}

// Tallies of a flood of match requests.
struct FloodCounts {
  std::atomic<int> matched{0}, busy{0}, unexpected{0};
};

// A thread that POSTs `body` to /api/v1/match as `key` until `stop`:
// 200 counts as matched; 503 (and 429 when `busy_with_429`: the member's
// rate is spent, rarely) as busy; any other status as unexpected.
std::thread MatchFlood(NodeProcess& node, const std::string& key, const std::string& body,
                       int timeout_ms, bool busy_with_429, const std::atomic<bool>& stop,
                       FloodCounts& counts) {
  return std::thread([&node, key, &body, timeout_ms, busy_with_429, &stop, &counts] {
    http::ClientOptions slow;
    slow.timeout_ms = timeout_ms;
    http::Client client(slow);
    http::Headers headers;
    headers.Set("Authorization", "Bearer " + key);
    headers.Set("Content-Type", "application/json");
    while (!stop) {
      auto r = client.Send("POST", node.Url("/api/v1/match"), headers, body);
      if (!r.ok()) continue;
      if (r->status == 200)
        ++counts.matched;
      else if (r->status == 503 || (busy_with_429 && r->status == 429))
        ++counts.busy;
      else
        ++counts.unexpected;
    }
  });
}

// `count` indicators the index cannot hold: LIKE and MATCHES on domain names.
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

// A match request body of `count` domain names (none of which match).
std::string Observables(int count) {
  json::array list;
  for (int i = 0; i < count; ++i) {
    list.emplace_back("host-" + std::to_string(i) + ".quiet.example.org");
  }
  return json::serialize(json::object{{"observables", std::move(list)}});
}

// Replaces `key = old` by `key = value` in the node's kizuna.toml (before Start).
void SetConfig(NodeProcess& node, const std::string& line, const std::string& replacement) {
  std::string path = node.dir() + "/kizuna.toml";
  std::string text = ReadFile(path);
  size_t at = text.find("\n" + line + "\n");
  ASSERT_NE(at, std::string::npos) << line;
  text.replace(at + 1, line.size(), replacement);
  WriteFile(path, text);
}

http::Response Match(NodeProcess& node, const std::string& key, const std::string& body) {
  return node.Request("POST", "/api/v1/match", key, body, {{"Content-Type", "application/json"}});
}

TEST(StallE2E, FloodOfMatchingAndWrongSecretsLeavesOthersAnswered) {
  NodeProcess node("CERT-Stall");
  // The worst case for the pool: no per-user rate limit.
  SetConfig(node, "heavy_requests_per_second = 5", "heavy_requests_per_second = 0");
  SetConfig(node, "heavy_in_flight_per_user = 1", "heavy_in_flight_per_user = 0");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  auto loaded = node.Post(kObjects, ExpensiveEnvelope(1000));
  ASSERT_EQ(loaded.status, 202) << loaded.body;
  ASSERT_EQ(json::parse(loaded.body).at("success_count").to_number<int>(), 1000) << loaded.body;
  const std::string flooder = node.AddUser("CERT-Stall", "mallory");
  const std::string victim = node.AddUser("partner-org", "carol");
  // A real key id with a wrong secret of the same length.
  const size_t cut = flooder.rfind('_');
  ASSERT_NE(cut, std::string::npos);
  const std::string wrong = flooder.substr(0, cut + 1) + std::string(flooder.size() - cut - 1, 'A');

  // One match costs 250 observables × 1,000 patterns: a quarter of the
  // default limit, enough to keep both workers busy (about a quarter second
  // each in a release build, many seconds under the sanitizers, where a
  // whole-limit match would outlast the flood).
  const std::string body = Observables(250);
  ASSERT_EQ(Match(node, flooder, body).status, 200);

  std::atomic<bool> stop{false};
  FloodCounts counts;
  std::atomic<int> unauthorized{0}, unexpected{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 4; ++t) {
    flood.push_back(MatchFlood(node, flooder, body, 120000, false, stop, counts));
  }
  for (int t = 0; t < 2; ++t) {
    flood.emplace_back([&, t] {
      http::Client client;
      http::Headers headers;
      headers.Set("Authorization", "Bearer " + wrong);
      headers.Set("Content-Type", "application/json");
      while (!stop) {
        // One thread on a heavy route, one on a cheap one.
        auto r = t == 0 ? client.Send("POST", node.Url("/api/v1/match"), headers, body)
                        : client.Send("GET", node.Url("/taxii2/"), headers);
        if (!r.ok()) continue;
        // 401, then 429 once the key id is past its failure limit.
        if (r->status == 401 || r->status == 429)
          ++unauthorized;
        else if (r->status != 503)
          ++unexpected;
      }
    });
  }
  // Let the flood fill the pool, then another user's cheap requests.
  // (If it never does, the probes below run anyway: they are what is asserted.)
  test_support::Eventually([&] { return counts.matched + counts.busy >= 4; },
                           std::chrono::seconds(60));
  http::ClientOptions patient;
  patient.timeout_ms = 20000;
  http::Client probe(patient);
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + victim);
  headers.Set("Accept", "application/taxii+json;version=2.1");
  for (int i = 0; i < 20; ++i) {
    auto r = probe.Send("GET", node.Url("/taxii2/"), headers);
    ASSERT_TRUE(r.ok()) << "GET /taxii2/ during the flood: " << r.status().ToString();
    EXPECT_EQ(r->status, 200) << r->body;
  }
  stop = true;
  for (std::thread& thread : flood) thread.join();
  EXPECT_GT(counts.matched.load(), 0);
  EXPECT_GT(unauthorized.load(), 0);
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(counts.unexpected.load(), 0);
}

// The work lane as GET /api/v1/node reports it to an admin ("work": the
// server's lanes), or null when it is not there.
std::optional<json::object> WorkLane(NodeProcess& node) {
  http::Response r = node.Get("/api/v1/node");
  if (r.status != 200) return std::nullopt;
  json::value info = json::parse(r.body);
  const json::value* lanes = info.as_object().if_contains("work");
  if (!lanes || !lanes->is_array()) return std::nullopt;
  for (const json::value& lane : lanes->as_array()) {
    if (lane.at("name") == "work") return lane.as_object();
  }
  return std::nullopt;
}

// Several members, each within heavy_in_flight_per_user (1), fill the work
// lane (one worker busy, its queue of two full, more refused with 503);
// meanwhile another member's TAXII POST runs on the import lane: 202, and
// the object is there. (With one pool for both, as before lanes, that POST
// met the full queue and got 503.)
TEST(StallE2E, MatchingThatFillsTheWorkLaneDoesNotHoldUpImports) {
  NodeProcess node("CERT-Stall");
  SetConfig(node, "worker_threads = 2", "worker_threads = 1");
  SetConfig(node, "worker_queue = 32", "worker_queue = 2");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  auto loaded = node.Post(kObjects, ExpensiveEnvelope(1000));
  ASSERT_EQ(loaded.status, 202) << loaded.body;
  std::vector<std::string> members;
  for (int i = 0; i < 4; ++i) {
    members.push_back(node.AddUser("CERT-Stall", "member-" + std::to_string(i)));
  }
  const std::string importer = node.AddUser("CERT-Stall", "importer");
  // A quarter of max_match_work each, as in the flood above: long enough
  // to keep the one worker busy, short enough under the sanitizers.
  const std::string body = Observables(250);

  std::atomic<bool> stop{false};
  FloodCounts counts;
  std::vector<std::thread> flood;
  for (const std::string& key : members) {
    flood.push_back(MatchFlood(node, key, body, 300000, true, stop, counts));
  }
  auto join = [&] {
    stop = true;
    for (std::thread& thread : flood) thread.join();
  };
  auto count = [](const json::object& lane, const char* key) {
    return lane.at(key).to_number<int64_t>();
  };
  // Wait until the node says the work lane is full: one running, two queued.
  const bool full = test_support::Eventually(
      [&] {
        auto lane = WorkLane(node);
        return lane && count(*lane, "threads") == 1 && count(*lane, "queue") == 2 &&
               count(*lane, "running") == 1 && count(*lane, "queued") == 2;
      },
      std::chrono::seconds(120));
  if (!full) join();
  ASSERT_TRUE(full) << "the work lane never filled; it reports: "
                    << (WorkLane(node) ? json::serialize(*WorkLane(node)) : "nothing");

  const std::string id = "indicator--00000000-0000-4000-8000-000000000777";
  auto imported =
      node.Request("POST", kObjects, importer,
                   R"({"objects":[)" + Indicator(777, "[ipv4-addr:value = '203.0.113.77']") + "]}");
  // The work lane is still busy once the import is answered: it did not
  // wait for matching to drain.
  auto lane_after = WorkLane(node);
  join();
  ASSERT_EQ(imported.status, 202) << imported.body;
  EXPECT_EQ(json::parse(imported.body).at("success_count"), 1) << imported.body;
  auto read = node.Request("GET", kObjects + id + "/", importer);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_NE(read.body.find(id), std::string::npos) << read.body;
  ASSERT_TRUE(lane_after);
  EXPECT_GE(count(*lane_after, "running") + count(*lane_after, "queued"), 1)
      << json::serialize(*lane_after);
  EXPECT_EQ(counts.unexpected.load(), 0);
  // The lanes are for admins: a member's GET /api/v1/node does not show them.
  auto member_view = node.Request("GET", "/api/v1/node", importer);
  ASSERT_EQ(member_view.status, 200);
  EXPECT_FALSE(json::parse(member_view.body).as_object().contains("work")) << member_view.body;
}

TEST(StallE2E, MatchWorkOverTheLimitIs413NamingTheLimit) {
  NodeProcess node("CERT-Stall");
  SetConfig(node, "max_match_work = 1000000", "max_match_work = 1000");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  ASSERT_EQ(node.Post(kObjects, ExpensiveEnvelope(10)).status, 202);
  // 100 observables × 10 patterns is the limit; one more is over it.
  auto within = Match(node, node.admin_key(), Observables(100));
  EXPECT_EQ(within.status, 200) << within.body;
  auto over = Match(node, node.admin_key(), Observables(101));
  EXPECT_EQ(over.status, 413) << over.body;
  EXPECT_NE(over.body.find("max_match_work"), std::string::npos) << over.body;
  EXPECT_NE(over.body.find("1000 pattern evaluations"), std::string::npos) << over.body;
  // The same for text/plain lines.
  std::string lines;
  for (int i = 0; i < 101; ++i) lines += "host-" + std::to_string(i) + ".example.org\n";
  auto text = node.Request("POST", "/api/v1/match", node.admin_key(), lines,
                           {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 413) << text.body;
}

// One member cannot hold both workers: its second concurrent match is 429
// while its first runs; another member's match runs on the other worker.
TEST(StallE2E, OneUsersConcurrentMatchesAreCapped) {
  NodeProcess node("CERT-Stall");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  auto loaded = node.Post(kObjects, ExpensiveEnvelope(1000));
  ASSERT_EQ(loaded.status, 202) << loaded.body;
  const std::string alice = node.AddUser("CERT-Stall", "alice");
  const std::string bob = node.AddUser("CERT-Stall", "bob");
  const std::string body = Observables(1000);
  std::atomic<int> answered{0}, capped{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      http::ClientOptions slow;
      slow.timeout_ms = 300000;
      http::Client client(slow);
      http::Headers headers;
      headers.Set("Authorization", "Bearer " + alice);
      headers.Set("Content-Type", "application/json");
      auto r = client.Send("POST", node.Url("/api/v1/match"), headers, body);
      if (!r.ok()) return;
      if (r->status == 200) ++answered;
      if (r->status == 429 && r->body.find("heavy_in_flight_per_user") != std::string::npos) {
        ++capped;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_GE(answered.load(), 1);
  EXPECT_GE(capped.load(), 1) << "three at once from one account, one may run";
  EXPECT_EQ(Match(node, bob, Observables(1)).status, 200);
}

TEST(StallE2E, AUserPastItsRateGets429WithRetryAfterOthersDoNot) {
  NodeProcess node("CERT-Stall");
  SetConfig(node, "heavy_requests_per_second = 5", "heavy_requests_per_second = 1");
  SetConfig(node, "heavy_burst = 20", "heavy_burst = 3");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  const std::string alice = node.AddUser("CERT-Stall", "alice");
  const std::string bob = node.AddUser("CERT-Stall", "bob");
  const std::string body = Observables(1);
  int ok = 0;
  http::Response refused;
  for (int i = 0; i < 10 && refused.status != 429; ++i) {
    http::Response r = Match(node, alice, body);
    if (r.status == 200)
      ++ok;
    else
      refused = r;
  }
  EXPECT_GE(ok, 3);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_FALSE(refused.headers.Get("Retry-After").empty());
  EXPECT_NE(refused.body.find("heavy_requests_per_second"), std::string::npos) << refused.body;
  // Another user has a bucket of its own; cheap routes are not limited.
  EXPECT_EQ(Match(node, bob, body).status, 200);
  EXPECT_EQ(node.Request("GET", "/taxii2/", alice).status, 200);
}

TEST(StallE2E, TruncatedCountsOnlyWhatTheCallerMaySee) {
  NodeProcess node("CERT-Stall");
  SetConfig(node, "max_results = 100", "max_results = 1");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  // Two indicators on one value: RED (never leaves the home team), GREEN.
  std::string envelope = R"({"objects":[)" +
                         Indicator(901, "[ipv4-addr:value = '198.51.100.9']", kRed) + "," +
                         Indicator(902, "[ipv4-addr:value = '198.51.100.9']", kGreen) + "]}";
  ASSERT_EQ(node.Post(kObjects, envelope).status, 202);
  const std::string outsider = node.AddUser("outside-org", "eve");
  auto seen = Match(node, outsider, R"({"observables":["198.51.100.9"]})");
  ASSERT_EQ(seen.status, 200) << seen.body;
  const json::object result = json::parse(seen.body).at("results").at(0).as_object();
  ASSERT_EQ(result.at("matches").as_array().size(), 1u) << seen.body;
  EXPECT_EQ(result.at("matches").at(0).at("indicator"),
            "indicator--00000000-0000-4000-8000-000000000902");
  EXPECT_FALSE(result.contains("truncated")) << "the hidden RED match must not show: " << seen.body;
  // The home team sees both, so its answer is truncated at one.
  auto home = Match(node, node.admin_key(), R"({"observables":["198.51.100.9"]})");
  ASSERT_EQ(home.status, 200);
  EXPECT_TRUE(json::parse(home.body).at("results").at(0).as_object().contains("truncated"))
      << home.body;
}

}  // namespace
}  // namespace kizuna::e2e
