// The web console in Chromium (tests/console/console_test.mjs, driven by
// playwright-core) against two real federated nodes: sign-in and sign-out,
// every page with real data, an indicator made through the form reaching the
// partner's node, an outside organization's user seeing nothing AMBER
// anywhere, and a change attempted from another origin refused. The
// screenshots land in the build's console-screenshots/.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <string>

#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

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

  TempDir scratch;
  json::object config{{"node_url", a.base_url()},
                      {"admin_key", a.admin_key()},
                      {"outsider_key", outsider},
                      {"green_id", IndicatorId(21)},
                      {"green_name", green_name},
                      {"amber_id", IndicatorId(22)},
                      {"amber_name", amber_name},
                      {"evil_id", evil_id},
                      {"screenshots", KIZUNA_SCREENSHOTS_DIR}};
  const std::string config_path = scratch.path() + "/config.json";
  std::ofstream(config_path) << json::serialize(config);

  CommandResult run = RunProgram(
      "node", {std::string(KIZUNA_SOURCE_DIR) + "/tests/console/console_test.mjs", config_path}, "",
      std::chrono::seconds(300));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  json::object results = json::parse(run.LastLine()).as_object();
  const std::string created(results.at("created").as_string());

  // The form's indicator went the way every indicator goes: to the partner.
  EXPECT_TRUE(WaitUntil([&] { return Versions(b).contains(created); })) << created;
  EXPECT_EQ(results.at("csrf_status").as_int64(), 403);
  EXPECT_FALSE(Versions(a).contains(evil_id)) << "the cross-origin change stored nothing";
}

}  // namespace
}  // namespace kizuna::e2e
