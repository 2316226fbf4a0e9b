// Observations from the store on real `kizuna serve` processes on loopback:
//   TelescopeBotsReachTheRecipientsFeed   a sensor's upload: every address a
//       fingerprint rule matched becomes an event (as many per rule as
//       `kizuna sensor report` counts), in `kizuna alerts status --json` and
//       in the recipient's feed;
//   APartnersInfectedHostBecomesAnEventAtTheReceivingNode   an infected-host
//       observed-data a partner stores is pulled by federation and becomes an
//       event at our node, from that peer, routed to our ISP.
#include <gtest/gtest.h>

#include <chrono>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <string>

#include "common/time.h"
#include "stix/stix.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"
#include "tests/support/eventually.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::Eventually;

json::value Parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

// `kizuna alerts status DIR --json`'s events.total (-1 when it fails).
int64_t EventsTotal(NodeProcess& node) {
  CommandResult r = RunKizuna({"alerts", "status", node.dir(), "--json"});
  if (r.exit_code != 0) return -1;
  json::value v = Parse(r.out);
  if (!v.is_object() || !v.as_object().contains("events")) return -1;
  return v.at("events").at("total").to_number<int64_t>();
}

// The feed's events as the recipient's key sees them.
json::array Feed(NodeProcess& node, const std::string& key) {
  http::Response r = node.Request("GET", "/api/v1/alerts/feed", key);
  EXPECT_EQ(r.status, 200) << r.body;
  json::value v = Parse(r.body);
  return v.is_object() ? v.at("events").as_array() : json::array();
}

TEST(AlertsIntakeE2E, TelescopeBotsReachTheRecipientsFeed) {
  TempDir work;
  const std::string pcap = work.path() + "/hour.pcap";
  // Yesterday 12:00 to 13:00 UTC: recent, as alerting looks at recent
  // observations only ([alerts] observation_max_age_days), and within one
  // UTC day, as an event is one finding of one day (an hour across
  // midnight made two events of a host seen on both sides of it, and this
  // test failed between 01:00 and 02:00 UTC).
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const std::string start = FormatTimestamp((now_s / 86400 * 86400 - 43200) * 1000000, 0);
  CommandResult synth = RunKizuna({"sensor", "synth", "--out", pcap, "--packets", "20000",
                                   "--duration", "3600", "--seed", "11", "--start", start});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  CommandResult report = RunKizuna({"sensor", "report", "--pcap", pcap, "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const json::object fingerprints = Parse(report.out).at("fingerprints").as_object();
  int64_t expected = 0;
  for (const auto& [rule, n] : fingerprints) expected += n.to_number<int64_t>();
  ASSERT_GT(fingerprints.at("mirai").to_number<int64_t>(), 0) << report.out;

  NodeProcess node("CERT-Home");
  // Masscan's sources counted as bots too ([alerts] bot_fingerprints).
  std::ofstream(node.dir() + "/kizuna.toml", std::ios::app)
      << "\n[alerts]\nbot_fingerprints = [\"mirai\", \"masscan\"]\n";
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  CommandResult added = RunKizuna({"alerts", "recipient", "add", node.dir(), "isp-x", "--fallback",
                                   "--channel", "feed", "--org", "ISP-X", "--format", "json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string isp_key = node.AddUser("ISP-X", "abuse-desk");
  CommandResult sensor = RunKizuna({"telescope", "sensor", "add", node.dir(), "tokyo-1", "--json"});
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  const std::string token(Parse(sensor.out).at("token").as_string());
  for (int i = 0; i < 2; ++i) {  // the second upload stores nothing new
    CommandResult up = RunKizuna(
        {"sensor", "upload", "--pcap", pcap, "--node", node.base_url(), "--token", token});
    ASSERT_EQ(up.exit_code, 0) << up.err;
  }
  // One event per (address, rule): the capture is within one day.
  ASSERT_TRUE(Eventually([&] { return EventsTotal(node) >= expected; }, 60s))
      << EventsTotal(node) << " of " << expected << "\n"
      << node.ServerLog();
  CommandResult ran = RunKizuna({"alerts", "run", node.dir(), "--now"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  std::map<std::string, int64_t> per_rule;
  for (const json::value& e : Feed(node, isp_key)) {
    if (e.at("source") != "telescope/tokyo-1") continue;
    ++per_rule[std::string(e.at("identifier").as_string())];
    const bool bot = e.at("identifier") == "mirai" || e.at("identifier") == "masscan";
    EXPECT_EQ(e.at("type"), bot ? "infected-system" : "scanner") << e;
    EXPECT_EQ(e.at("protocol"), "tcp") << e;
  }
  for (const auto& [rule, n] : fingerprints) {
    EXPECT_EQ(per_rule[std::string(rule)], n.to_number<int64_t>()) << rule;
  }
  EXPECT_GT(per_rule["masscan"], 0);
  EXPECT_GT(per_rule["zmap"], 0);  // still a scanner
}

TEST(AlertsIntakeE2E, APartnersInfectedHostBecomesAnEventAtTheReceivingNode) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  for (NodeProcess* node : {&a, &b}) ASSERT_TRUE(node->Start(&error)) << error;
  // B calls A "cert-a".
  Federate(a, "cert-a", b, "csirt-b");
  CommandResult added = RunKizuna({"alerts", "recipient", "add", b.dir(), "isp-b", "--fallback",
                                   "--channel", "feed", "--org", "ISP-B", "--format", "json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string isp_key = b.AddUser("ISP-B", "abuse-desk");

  // A's team stores what it saw: two infected hosts, TLP:GREEN.
  const std::string green(stix::TlpMarkingId(stix::Tlp::kGreen));
  std::vector<std::string> objects;
  json::array refs;
  for (const char* ip : {"198.51.100.7", "198.51.100.8"}) {
    json::object sco{{"type", "ipv4-addr"}, {"spec_version", "2.1"}, {"value", ip}};
    sco["id"] = stix::DeterministicScoId(sco);
    sco["object_marking_refs"] = json::array{json::string(green)};
    refs.push_back(sco.at("id"));
    objects.push_back(json::serialize(sco));
  }
  const std::string time = FormatTimestamp(SystemClock::Instance().NowMicros() - 3600000000LL, 3);
  json::object observed{{"type", "observed-data"},
                        {"spec_version", "2.1"},
                        {"id", "observed-data--" + Uuid(4201)},
                        {"created", time},
                        {"modified", time},
                        {"first_observed", time},
                        {"last_observed", time},
                        {"number_observed", 1},
                        {"object_refs", refs},
                        {"x_kizuna_observation", "infected-host"},
                        {"object_marking_refs", json::array{json::string(green)}}};
  objects.push_back(json::serialize(observed));
  Post(a, objects);

  // B pulls it and takes both hosts in, from cert-a; A does not (its own).
  ASSERT_TRUE(Eventually([&] { return EventsTotal(b) == 2; }, 60s)) << EventsTotal(b) << "\n"
                                                                    << b.ServerLog();
  EXPECT_EQ(EventsTotal(a), 0);
  CommandResult ran = RunKizuna({"alerts", "run", b.dir(), "--now"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  const json::array feed = Feed(b, isp_key);
  ASSERT_EQ(feed.size(), 2u) << json::serialize(feed);
  for (const json::value& e : feed) {
    EXPECT_EQ(e.at("source"), "partner/cert-a") << e;
    EXPECT_EQ(e.at("type"), "infected-system") << e;
    EXPECT_EQ(e.at("evidence").at("object"), observed.at("id")) << e;
  }
  EXPECT_NE(b.ServerLog().find("took in partner observed-data " +
                               std::string(observed.at("id").as_string()) + " from peer cert-a"),
            std::string::npos)
      << b.ServerLog();
}

}  // namespace
}  // namespace kizuna::e2e
