// Closing the loop across borders, on three real federated `kizuna serve`
// processes: CERT-A's report on infected hosts in CERT-B's country goes to
// CERT-B's node through federation as STIX at TLP:AMBER (recipient channel
// node); CERT-B's node takes it in and routes it on to its own ISP, whose
// feed then shows exactly those events; CERT-C, also A's partner, gets none
// of it; and A sees per event what B's node says: delivered, then
// acknowledged when B's ISP acknowledges its report.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "alerts/generate.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"
#include "tests/support/eventually.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::Eventually;

// (ip, port, type, identifier) of an event.
using Finding = std::tuple<std::string, int64_t, std::string, std::string>;

json::value GetJson(NodeProcess& node, const std::string& path, const std::string& key = "") {
  http::Response r = node.Request("GET", path, key.empty() ? node.admin_key() : key);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  return ec ? json::value() : v;
}

int64_t EventsAt(NodeProcess& node) {
  json::value status = GetJson(node, "/api/v1/alerts/status");
  return status.is_object() ? status.at("events").at("total").as_int64() : -1;
}

// Objects of `type` in a node's collection, as its admin sees them.
std::vector<json::object> ObjectsOf(NodeProcess& node, const std::string& collection,
                                    const std::string& type) {
  std::vector<json::object> out;
  json::value page = GetJson(node, "/taxii2/root/collections/" + collection +
                                       "/objects/?match[type]=" + type + "&limit=10000");
  if (!page.is_object() || !page.as_object().contains("objects")) return out;
  for (const json::value& o : page.at("objects").as_array()) out.push_back(o.as_object());
  return out;
}

std::string Field(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

TEST(AlertsNodeE2E, AReportCrossesToThePartnersNodeAndItsIspAndStateComesBack) {
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C");
  std::string error;
  for (NodeProcess* node : {&a, &b, &c}) ASSERT_TRUE(node->Start(&error)) << error;
  // A calls B's node "csirt-b" and C's "cert-c"; both call A "cert-a".
  Federate(a, "cert-a", b, "csirt-b");
  Federate(a, "cert-a", c, "cert-c");

  // A: the hosts of this report are in B's country: to B's node. A peer
  // that is not in kizuna.toml is refused.
  CommandResult added = RunKizuna({"alerts", "recipient", "add", a.dir(), "csirt-b", "--fallback",
                                   "--channel", "node", "--peer", "nobody"});
  EXPECT_NE(added.exit_code, 0);
  EXPECT_NE(added.err.find("no [[peer]] named nobody"), std::string::npos) << added.err;
  http::Response put = a.Post("/api/v1/alerts/recipients",
                              R"({"name":"x","fallback":true,"channel":"node","peer":"nobody",)"
                              R"("format":"stix"})");
  EXPECT_EQ(put.status, 400) << put.body;
  EXPECT_NE(put.body.find("no [[peer]] named 'nobody'"), std::string::npos) << put.body;
  added = RunKizuna({"alerts", "recipient", "add", a.dir(), "csirt-b", "--fallback", "--channel",
                     "node", "--peer", "csirt-b"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_NE(added.out.find("\"format\":\"stix\""), std::string::npos) << added.out;
  // B: its ISP pulls a feed.
  added = RunKizuna({"alerts", "recipient", "add", b.dir(), "isp-b", "--fallback", "--channel",
                     "feed", "--org", "ISP-B", "--format", "json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string isp_key = b.AddUser("ISP-B", "abuse-desk");

  TempDir scratch;
  const std::string file = scratch.path() + "/2026-11-28-event4_sinkhole-b.csv";
  {
    std::ostringstream csv;
    alerts::GenerateShadowserverCsv(csv, "event4_sinkhole", 40, 7);
    WriteFile(file, csv.str());
  }
  CommandResult ran = RunKizuna({"alerts", "ingest", a.dir(), file});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  ran = RunKizuna({"alerts", "run", a.dir(), "--now"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_NE(ran.out.find("1 sent, 0 to retry, 0 given up"), std::string::npos) << ran.out;
  const size_t at = ran.out.find("report ");
  ASSERT_NE(at, std::string::npos) << ran.out;
  const std::string report_id = ran.out.substr(at + 7, 36);

  // What A sent: the report's STIX bundle, one observed-data per event.
  json::value sent = GetJson(a, "/api/v1/alerts/reports/" + report_id + "?body=true");
  ASSERT_TRUE(sent.is_object());
  EXPECT_EQ(sent.at("channel"), "node");
  EXPECT_EQ(sent.at("tlp"), "amber");
  std::set<Finding> findings;
  const json::value bundle = json::parse(sent.at("body").as_string());
  for (const json::value& o : bundle.at("objects").as_array()) {
    if (o.at("type") != "observed-data") continue;
    const json::object& e = o.at("x_kizuna_alert").as_object();
    findings.emplace(Field(e, "ip"), e.at("port").as_int64(), Field(e, "type"),
                     Field(e, "identifier"));
  }
  const int64_t events = sent.at("events").as_int64();
  ASSERT_GT(events, 10);
  ASSERT_EQ(static_cast<int64_t>(findings.size()), events);

  // B's node receives it through federation and takes every event in.
  ASSERT_TRUE(Eventually([&] { return EventsAt(b) == events; }, 30s))
      << EventsAt(b) << " of " << events << "\n"
      << b.ServerLog();
  // Stored at B as A's, at TLP:AMBER, addressed to B by A.
  const std::vector<json::object> at_b = ObjectsOf(b, "default", "observed-data");
  ASSERT_EQ(static_cast<int64_t>(at_b.size()), events);
  for (const json::object& o : at_b) {
    EXPECT_EQ(Field(o, "x_kizuna_addressed_to"), "csirt-b");
    EXPECT_EQ(o.at("object_marking_refs").as_array().at(0).as_string(),
              stix::TlpMarkingId(stix::Tlp::kAmber));
  }

  // C, A's partner too, gets none of it: A shares something with C after
  // the report, and once C has that, C has synced past the report.
  Post(a, {Indicator(70, stix::Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil([&] { return Has(c, 70); }, 30s)) << c.ServerLog();
  for (const char* collection : {"default", "alerts"}) {
    EXPECT_TRUE(ObjectsOf(c, collection, "observed-data").empty()) << collection;
    EXPECT_TRUE(ObjectsOf(c, collection, "report").empty()) << collection;
    EXPECT_TRUE(ObjectsOf(c, collection, "ipv4-addr").empty()) << collection;
  }
  EXPECT_EQ(EventsAt(c), 0);
  EXPECT_EQ(CountOf(AuditLog(a), "observed-data--") > 0, true);

  // B's node answers that it took the report in: A's report is acknowledged.
  ASSERT_TRUE(Eventually(
      [&] {
        return GetJson(a, "/api/v1/alerts/reports/" + report_id).at("state") == "acknowledged";
      },
      30s))
      << a.ServerLog() << b.ServerLog();

  // B routes it on: its ISP's report (feed) holds exactly A's events.
  ran = RunKizuna({"alerts", "run", b.dir(), "--now"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_NE(ran.out.find("1 sent"), std::string::npos) << ran.out;
  json::value feed = GetJson(b, "/api/v1/alerts/feed", isp_key);
  std::set<Finding> fed;
  for (const json::value& e : feed.at("events").as_array()) {
    const json::object& o = e.as_object();
    fed.emplace(Field(o, "ip"), o.at("port").as_int64(), Field(o, "type"), Field(o, "identifier"));
    EXPECT_EQ(Field(o, "source"), "partner/cert-a");
  }
  EXPECT_EQ(fed, findings);
  EXPECT_EQ(static_cast<int64_t>(feed.at("events").as_array().size()), events);

  // Per event at A: delivered (B's ISP has it), then acknowledged.
  auto count_at_a = [&](const char* state) -> int64_t {
    json::value r = GetJson(a, "/api/v1/alerts/reports/" + report_id);
    const json::value* n = r.at("event_states").at("counts").as_object().if_contains(state);
    return n ? n->as_int64() : 0;
  };
  ASSERT_TRUE(Eventually([&] { return count_at_a("delivered") == events; }, 30s))
      << count_at_a("delivered") << "\n"
      << b.ServerLog();
  json::value isp_reports = GetJson(b, "/api/v1/alerts/reports", isp_key);
  ASSERT_EQ(isp_reports.at("reports").as_array().size(), 1u);
  const std::string isp_report(isp_reports.at("reports").at(0).at("id").as_string());
  http::Response acked =
      b.Request("POST", "/api/v1/alerts/reports/" + isp_report + "/ack", isp_key);
  ASSERT_EQ(acked.status, 200) << acked.body;
  ASSERT_TRUE(Eventually([&] { return count_at_a("acknowledged") == events; }, 30s))
      << count_at_a("acknowledged");
  // The same in `alerts status --json`.
  ran = RunKizuna({"alerts", "status", a.dir(), "--json"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(json::parse(ran.out).at("event_states").at("acknowledged").as_int64(), events);
  // One event in the report's answer: what it went through, and when.
  json::value report = GetJson(a, "/api/v1/alerts/reports/" + report_id);
  const json::object& first = report.at("event_states").at("events").at(0).as_object();
  EXPECT_EQ(first.at("state"), "acknowledged");
  EXPECT_TRUE(first.at("states").as_object().contains("delivered"));
  EXPECT_NE(Field(first, "detail").find("peer csirt-b"), std::string::npos) << first;
  // Nothing went back from B to A as a report of B's.
  EXPECT_EQ(EventsAt(a), events);
}

}  // namespace
}  // namespace kizuna::e2e
