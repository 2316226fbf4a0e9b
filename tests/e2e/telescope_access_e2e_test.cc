// Who sees what of the telescope on one node: per-sensor markings
// ([[telescope.sensor]]) mark that sensor's objects, and a user of another
// organization reads the views only with a read grant on the telescope
// collection, and then only what the sharing decision releases to it (the
// GREEN counts, no address), while the home team sees everything.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>

#include "stix/stix.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

TEST(TelescopeAccess, MarkingsPerSensorAndAnotherOrganizationSeesCountsOnlyWithAGrant) {
  NodeProcess node("CERT-Home");
  WriteFile(node.dir() + "/kizuna.toml",
            ReadFile(node.dir() + "/kizuna.toml") +
                "\n[telescope]\nsources_tlp = \"amber\"\n\n[[telescope.sensor]]\nname = "
                "\"secret-1\"\nsources_tlp = \"red\"\n");
  ASSERT_TRUE(node.Start()) << node.ServerLog();
  TempDir dir;
  const std::string pcap = dir.path() + "/d.pcap";
  ASSERT_EQ(RunKizuna({"sensor", "synth", "--out", pcap, "--packets", "20000", "--duration", "3600",
                       "--outbreak-at", "100000"})
                .exit_code,
            0);
  CommandResult report = RunKizuna({"sensor", "report", "--pcap", pcap, "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const uint64_t packets = json::parse(report.out).at("packets").to_number<uint64_t>();
  for (const std::string sensor : {"open-1", "secret-1"}) {
    CommandResult added = RunKizuna({"telescope", "sensor", "add", node.dir(), sensor, "--json"});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    const std::string token(json::parse(added.out).at("token").as_string());
    // One by --token, the other by --token-file (not seen in `ps`).
    WriteFile(dir.path() + "/" + sensor + ".token", token + "\n");
    CommandResult up = RunKizuna(
        sensor == "open-1" ? std::vector<std::string>{"sensor", "upload", "--pcap", pcap, "--node",
                                                      node.base_url(), "--token", token}
                           : std::vector<std::string>{"sensor", "upload", "--pcap", pcap, "--node",
                                                      node.base_url(), "--token-file",
                                                      dir.path() + "/" + sensor + ".token"});
    ASSERT_EQ(up.exit_code, 0) << up.err;
  }

  // Each sensor's sources objects carry its marking.
  http::Response objects = node.Get(
      "/taxii2/root/collections/telescope/objects/"
      "?limit=1000&match[type]=x-kizuna-telescope-sources");
  ASSERT_EQ(objects.status, 200) << objects.body;
  const json::value envelope = json::parse(objects.body);
  std::map<std::string, std::set<std::string>> markings;
  for (const json::value& o : envelope.at("objects").as_array()) {
    for (const json::value& m : o.at("object_marking_refs").as_array()) {
      markings[std::string(o.at("sensor").as_string())].insert(std::string(m.as_string()));
    }
  }
  EXPECT_EQ(markings["open-1"],
            std::set<std::string>{std::string(stix::TlpMarkingId(stix::Tlp::kAmber))});
  EXPECT_EQ(markings["secret-1"],
            std::set<std::string>{std::string(stix::TlpMarkingId(stix::Tlp::kRed))});

  // The home team: both sensors, with addresses.
  const std::string member = node.AddUser("CERT-Home", "analyst");
  http::Response home = node.Request("GET", "/api/v1/telescope/top", member);
  ASSERT_EQ(home.status, 200) << home.body;
  json::object top = json::parse(home.body).as_object();
  EXPECT_EQ(top.at("packets").to_number<uint64_t>(), 2 * packets);
  EXPECT_FALSE(top.at("top_sources").as_array().empty());

  // Another organization: nothing without a grant, as on TAXII.
  const std::string outsider = node.AddUser("ISP-Other", "abuse-desk");
  EXPECT_EQ(node.Request("GET", "/api/v1/telescope/top", outsider).status, 403);
  CommandResult grant =
      RunKizuna({"collection", "grant", node.dir(), "telescope", "--org", "ISP-Other", "--read"});
  ASSERT_EQ(grant.exit_code, 0) << grant.err;
  http::Response other = node.Request("GET", "/api/v1/telescope/top", outsider);
  ASSERT_EQ(other.status, 200) << other.body;
  top = json::parse(other.body).as_object();
  // Up to GREEN (sharing.external_max_tlp): both sensors' counts, no address.
  EXPECT_EQ(top.at("packets").to_number<uint64_t>(), 2 * packets);
  EXPECT_TRUE(top.at("top_sources").as_array().empty()) << other.body;
  http::Response sensors = node.Request("GET", "/api/v1/telescope/sensors", outsider);
  ASSERT_EQ(sensors.status, 200);
  const json::value sensor_list = json::parse(sensors.body);
  for (const json::value& s : sensor_list.as_array()) {
    EXPECT_EQ(s.at("exact"), false) << sensors.body;
  }
  // Nor over TAXII: the sources objects are AMBER and RED.
  http::Response taxii = node.Request(
      "GET", "/taxii2/root/collections/telescope/objects/?match[type]=x-kizuna-telescope-sources",
      outsider);
  EXPECT_TRUE(taxii.status == 404 ||
              json::parse(taxii.body).as_object().if_contains("objects") == nullptr)
      << taxii.status << " " << taxii.body.substr(0, 300);
}

uint64_t Packets(const std::string& pcap) {
  CommandResult report = RunKizuna({"sensor", "report", "--pcap", pcap, "--json"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  return json::parse(report.out).at("packets").to_number<uint64_t>();
}

uint64_t NodePackets(const NodeProcess& node) {
  CommandResult top = RunKizuna({"telescope", "top", node.dir(), "--json"});
  EXPECT_EQ(top.exit_code, 0) << top.err;
  return json::parse(top.out).at("packets").to_number<uint64_t>();
}

TEST(TelescopeAccess, ASensorRestartedWhileItsNodeIsAwayRemembersItsNameAndSpools) {
  NodeProcess node;
  ASSERT_TRUE(node.Start()) << node.ServerLog();
  node.PinPort();
  CommandResult added = RunKizuna({"telescope", "sensor", "add", node.dir(), "nara-1", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  TempDir dir;
  const std::string watch = dir.path() + "/watch";
  std::filesystem::create_directories(watch);
  // No `sensor =`: the name comes from the node, once.
  WriteFile(dir.path() + "/sensor.toml",
            "node = \"" + node.base_url() + "\"\ntoken = \"" +
                std::string(json::parse(added.out).at("token").as_string()) + "\"\nwatch = \"" +
                watch + "\"\n");
  // A capture is taken once it is finished: quiet for settle_seconds (10
  // by default), here made so by dating it a minute back.
  const auto finish = [&](const std::string& name) {
    std::filesystem::last_write_time(
        watch + "/" + name,
        std::filesystem::file_time_type::clock::now() - std::chrono::minutes(1));
  };
  const auto synth = [&](const std::string& name, const std::string& seed) {
    ASSERT_EQ(RunKizuna({"sensor", "synth", "--out", watch + "/" + name, "--packets", "5000",
                         "--duration", "1800", "--seed", seed, "--outbreak-at", "100000"})
                  .exit_code,
              0);
  };
  synth("a.pcap", "1");
  finish("a.pcap");
  CommandResult first = RunKizuna({"sensor", "run", dir.path() + "/sensor.toml", "--once"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const uint64_t a = Packets(watch + "/a.pcap");
  EXPECT_EQ(NodePackets(node), a);

  ASSERT_TRUE(node.Stop());
  synth("b.pcap1", "2");  // tcpdump -C names its files so
  finish("b.pcap1");
  CommandResult away = RunKizuna({"sensor", "run", dir.path() + "/sensor.toml", "--once"});
  ASSERT_EQ(away.exit_code, 0) << away.err;
  EXPECT_NE(away.err.find("wait for the node"), std::string::npos) << away.err;

  ASSERT_TRUE(node.Start()) << node.ServerLog();
  CommandResult back = RunKizuna({"sensor", "run", dir.path() + "/sensor.toml", "--once"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  const uint64_t b = Packets(watch + "/b.pcap1");
  EXPECT_EQ(NodePackets(node), a + b);

  // A capture still being written (the newest, just modified) waits, even
  // with --once: taken now, its last minutes would never be sent.
  synth("c.pcap2", "3");
  CommandResult growing = RunKizuna({"sensor", "run", dir.path() + "/sensor.toml", "--once"});
  ASSERT_EQ(growing.exit_code, 0) << growing.err;
  EXPECT_EQ(NodePackets(node), a + b);
  finish("c.pcap2");
  CommandResult finished = RunKizuna({"sensor", "run", dir.path() + "/sensor.toml", "--once"});
  ASSERT_EQ(finished.exit_code, 0) << finished.err;
  EXPECT_EQ(NodePackets(node), a + b + Packets(watch + "/c.pcap2"));
}

}  // namespace
}  // namespace kizuna::e2e
