// The sharing decision on a real node: the default TLP of unmarked objects
// is decided when they are read or sent, on every path (TAXII, the live
// stream, matching), so tightening it protects what is already stored.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "http/sse.h"
#include "stix/stix.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using stix::Tlp;

void SetDefaultTlp(NodeProcess& node, const std::string& level) {
  std::string config = ReadFile(node.dir() + "/kizuna.toml");
  size_t at = config.find("default_tlp = \"");
  ASSERT_NE(at, std::string::npos);
  size_t end = config.find('"', at + 15);
  config.replace(at, end + 1 - at, "default_tlp = \"" + level + "\"");
  WriteFile(node.dir() + "/kizuna.toml", config);
}

// The ids in the first objects event of the collection's live stream, read
// from the beginning with `key`.
std::string StreamedFromStart(NodeProcess& node, const std::string& key) {
  http::Client client;
  http::Headers headers;
  headers.Set("Authorization", "Bearer " + key);
  headers.Set("Last-Event-ID", "0");
  http::SseParser parser;
  std::string objects;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  auto head = client.Stream(
      "GET", node.Url("/api/v1/collections/default/stream"), headers,
      [&](std::string_view bytes) {
        std::vector<http::SseEvent> events;
        EXPECT_TRUE(parser.Feed(bytes, &events).ok());
        for (const http::SseEvent& event : events) {
          if (event.event == "objects") objects += event.data;
        }
        return objects.empty() && std::chrono::steady_clock::now() < deadline;
      },
      20000);
  EXPECT_TRUE(head.ok() && head->status == 200);
  return objects;
}

std::string Match(NodeProcess& node, const std::string& key, const std::string& value) {
  json::object body{{"observables", json::array{json::value(value)}}};
  http::Response r = node.Request("POST", "/api/v1/match", key, json::serialize(body),
                                  {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200) << r.body;
  return r.body;
}

TEST(Sharing, TighteningTheDefaultTlpProtectsUnmarkedObjectsAlreadyStored) {
  NodeProcess a("CERT-A");
  SetDefaultTlp(a, "green");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  // 7 is unmarked (203.0.113.7); 8 is CLEAR, a sentinel that stays visible.
  Post(a, {Indicator(7, Tlp::kNone), Indicator(8, Tlp::kClear)});
  const std::string isp = a.AddUser("ISP-X", "abuse");  // outside organization: up to GREEN
  const std::string one = std::string(kObjects) + IndicatorId(7) + "/";

  // Under default GREEN the outside organization may have it, on every path.
  EXPECT_EQ(a.Request("GET", one, isp).status, 200);
  EXPECT_EQ(Versions(a, isp).count(IndicatorId(7)), 1u);
  EXPECT_NE(StreamedFromStart(a, isp).find(IndicatorId(7)), std::string::npos);
  EXPECT_NE(Match(a, isp, "203.0.113.7").find(IndicatorId(7)), std::string::npos);

  // Tightened to AMBER: the stored, unmarked object is now AMBER to everyone.
  SetDefaultTlp(a, "amber");
  ASSERT_TRUE(WaitUntil([&] { return a.Request("GET", one, isp).status == 404; }, 20s))
      << a.ServerLog();
  EXPECT_EQ(Versions(a, isp).count(IndicatorId(7)), 0u);
  EXPECT_EQ(Versions(a, isp).count(IndicatorId(8)), 1u);
  std::string streamed = StreamedFromStart(a, isp);
  EXPECT_NE(streamed.find(IndicatorId(8)), std::string::npos);
  EXPECT_EQ(streamed.find(IndicatorId(7)), std::string::npos);
  EXPECT_EQ(Match(a, isp, "203.0.113.7").find(IndicatorId(7)), std::string::npos);
  // The home team still has it.
  EXPECT_EQ(a.Get(one).status, 200);
  EXPECT_NE(Match(a, a.admin_key(), "203.0.113.7").find(IndicatorId(7)), std::string::npos);
}

TEST(Sharing, AnExportTakesTheDefaultTlpOfUnmarkedObjects) {
  NodeProcess a("CERT-A");  // default_tlp amber
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  Post(a, {Indicator(7, Tlp::kNone), Indicator(8, Tlp::kGreen)});
  CommandResult green = RunKizuna({"export", a.dir(), "--max-tlp", "green"});
  ASSERT_EQ(green.exit_code, 0) << green.err;
  EXPECT_EQ(green.out.find(IndicatorId(7)), std::string::npos) << "unmarked is AMBER here";
  EXPECT_NE(green.out.find(IndicatorId(8)), std::string::npos);
  CommandResult amber = RunKizuna({"export", a.dir(), "--max-tlp", "amber"});
  ASSERT_EQ(amber.exit_code, 0) << amber.err;
  EXPECT_NE(amber.out.find(IndicatorId(7)), std::string::npos);
}

}  // namespace
}  // namespace kizuna::e2e
