// The web console in Chromium (tests/console/console_test.mjs, driven by
// playwright-core) against two real federated nodes: sign-in and sign-out,
// every page with real data (the telescope's from a sensor's upload), an
// indicator made through the form reaching the partner's node and appearing
// live on the dashboard, a drill started on A acknowledged with the button
// on B and its response time on A's chart, a file imported with its
// progress, a report's preview, an outside organization's user seeing
// nothing AMBER anywhere (live updates too), and a change attempted from
// another origin refused. The screenshots land in the build's
// console-screenshots/.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <string>

#include "common/time.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"
#include "tests/support/sanitizers.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

TEST(ConsoleBrowserE2e, AnalystsPagesAcrossFederatedNodesAndAnOutsiderSeesNoAmber) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  const std::string green_name = "console green botnet c2";
  const std::string amber_name = "console amber insider lead";
  Post(a, {Indicator(21, stix::Tlp::kGreen, ",\"name\":\"" + green_name + "\""),
           Indicator(22, stix::Tlp::kAmber, ",\"name\":\"" + amber_name + "\""),
           R"({"type":"relationship","spec_version":"2.1","id":"relationship--)" + Uuid(23) +
               R"(","created":"2026-11-23T00:00:00.000Z","modified":"2026-11-23T00:00:00.000Z",)"
               R"("relationship_type":"related-to","source_ref":")" +
               IndicatorId(21) + R"(","target_ref":")" + IndicatorId(22) +
               R"(","object_marking_refs":[")" +
               std::string(stix::TlpMarkingId(stix::Tlp::kAmber)) + R"("]})"});
  const std::string outsider = a.AddUser("ISP-X", "abuse");
  const std::string evil_id = IndicatorId(66);

  // A's darknet sensor: three hours of a synthetic capture with an outbreak
  // on 23/tcp after two (the detector's first hour is its baseline).
  TempDir scratch;
  const std::string pcap = scratch.path() + "/darknet.pcap";
  ASSERT_EQ(RunKizuna({"sensor", "synth", "--out", pcap, "--packets", "40000", "--duration",
                       std::to_string(3 * 3600), "--seed", "51", "--outbreak-at",
                       std::to_string(2 * 3600), "--outbreak-sources", "3000"})
                .exit_code,
            0);
  CommandResult sensor = RunKizuna({"telescope", "sensor", "add", a.dir(), "tokyo-1", "--json"});
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  const std::string token(json::parse(sensor.out).at("token").as_string());
  CommandResult upload =
      RunKizuna({"sensor", "upload", "--pcap", pcap, "--node", a.base_url(), "--token", token});
  ASSERT_EQ(upload.exit_code, 0) << upload.out << upload.err;
  // A's directory entry and an alert recipient, for their pages.
  ASSERT_EQ(RunKizuna({"directory", "set", a.dir(), "--country", "JP", "--kind", "national-csirt",
                       "--contact", "role=primary;name=Console Desk;email=desk@cert-a.example",
                       "--time-zone", "Asia/Tokyo", "--hours", "Mon-Fri 09:00-18:00"})
                .exit_code,
            0);
  ASSERT_EQ(
      RunKizuna({"alerts", "recipient", "add", a.dir(), "isp-console", "--asn", "64501", "--prefix",
                 "198.51.100.0/24", "--channel", "feed", "--org", "ISP-B", "--format", "json"})
          .exit_code,
      0);
  // An infected host in its network, reported at once: the alerting page's
  // report and its preview.
  const std::string infected_ip = "198.51.100.77";
  const std::string observations = scratch.path() + "/observations.jsonl";
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::ofstream(observations) << R"({"ip":")" << infected_ip << R"(","timestamp":")"
                              << FormatTimestamp(now_us, 0)
                              << R"(","type":"infected-system","malware":"mirai","port":23})"
                              << "\n";
  CommandResult ingested = RunKizuna({"alerts", "ingest", a.dir(), observations, "--tlp", "green"});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.out << ingested.err;
  CommandResult cut = RunKizuna({"alerts", "run", a.dir(), "--now"});
  ASSERT_EQ(cut.exit_code, 0) << cut.out << cut.err;
  json::value surges = json::parse(a.Get("/api/v1/telescope/surges?since=7d").body);
  ASSERT_FALSE(surges.as_array().empty()) << "the capture's outbreak is a surge";

  json::object config{{"node_url", a.base_url()},
                      {"partner_url", b.base_url()},
                      {"partner_admin_key", b.admin_key()},
                      {"admin_key", a.admin_key()},
                      {"outsider_key", outsider},
                      {"green_id", IndicatorId(21)},
                      {"green_name", green_name},
                      {"amber_id", IndicatorId(22)},
                      {"amber_name", amber_name},
                      {"evil_id", evil_id},
                      {"infected_ip", infected_ip},
                      {"screenshots", KIZUNA_SCREENSHOTS_DIR},
                      {"slowdown", test_support::kSanitizerSlowdown}};
  const std::string config_path = scratch.path() + "/config.json";
  std::ofstream(config_path) << json::serialize(config);

  CommandResult run = RunProgram(
      "node", {std::string(KIZUNA_SOURCE_DIR) + "/tests/console/console_test.mjs", config_path}, "",
      std::chrono::seconds(180 * test_support::kSanitizerSlowdown));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  json::object results = json::parse(run.LastLine()).as_object();
  const std::string created(results.at("created").as_string());

  // The form's indicator went the way every indicator goes: to the partner.
  EXPECT_TRUE(WaitUntil([&] { return Versions(b).contains(created); })) << created;
  EXPECT_EQ(results.at("csrf_status").as_int64(), 403);
  // The drill the console started and B's console acknowledged, as A's
  // command line reports it.
  const std::string drill(results.at("drill").as_string());
  json::object report = JsonOut(RunKizuna({"drill", "report", a.dir(), drill, "--json"}));
  ASSERT_TRUE(report.contains("teams")) << report;
  EXPECT_EQ(report.at("teams").as_array()[0].at("status"), "on-time") << report;
  EXPECT_EQ(report.at("teams").as_array()[0].at("response_seconds"),
            results.at("response_seconds"));
  EXPECT_FALSE(Versions(a).contains(evil_id)) << "the cross-origin change stored nothing";
  // The imported file's objects are stored, and GREEN goes to the partner.
  const std::string imported(results.at("imported").as_string());
  EXPECT_TRUE(Versions(a).contains(imported)) << imported;
  EXPECT_TRUE(WaitUntil([&] { return Versions(b).contains(imported); })) << imported;
}

}  // namespace
}  // namespace kizuna::e2e
