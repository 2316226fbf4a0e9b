// `kizuna sensor synth` and `kizuna sensor report` as a user runs them (the
// CLI contract of DESIGN.md): the report's JSON has the contract's shape and
// counts exactly what the generator says it wrote, the table is for people,
// and a file that is no capture is a clear error with exit status 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

class SensorCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kizuna-sensor-e2e-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(SensorCli, TheJsonReportIsTheContractAndCountsWhatWasWritten) {
  CommandResult synth =
      RunKizuna({"sensor", "synth", "--out", Path("d.pcapng"), "--pcapng", "--packets", "50000",
                 "--seed", "4", "--truth", Path("truth.json")});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  EXPECT_NE(synth.err.find("wrote 50000 packets"), std::string::npos) << synth.err;
  CommandResult report = RunKizuna({"sensor", "report", "--pcap", Path("d.pcapng"), "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const json::value got = json::parse(report.out);
  const json::value truth = json::parse(ReadFile(Path("truth.json")));
  // The contract: packets, sources, ports (proto, port, packets, sources;
  // by packets descending), classes and fingerprints counting sources.
  EXPECT_EQ(got.at("packets"), 50000);
  EXPECT_EQ(got.at("packets"), truth.at("packets"));
  EXPECT_EQ(got.at("sources"), truth.at("sources"));
  EXPECT_EQ(got.at("classes"), truth.at("classes"));
  EXPECT_EQ(got.at("fingerprints"), truth.at("fingerprints"));
  const json::array& ports = got.at("ports").as_array();
  ASSERT_FALSE(ports.empty());
  EXPECT_EQ(ports.size(), truth.at("ports").as_array().size());
  int64_t previous = INT64_MAX;
  for (const json::value& p : ports) {
    const int64_t packets = p.at("packets").to_number<int64_t>();
    EXPECT_LE(packets, previous);
    previous = packets;
    EXPECT_TRUE(p.at("proto").is_string());
    EXPECT_TRUE(p.at("port").is_int64());
    EXPECT_LE(p.at("sources").to_number<int64_t>(), packets);
  }
  EXPECT_EQ(ports.front().at("proto"), "tcp");
  EXPECT_EQ(ports.front().at("port"), 23);  // the botnets' port leads
  for (const char* c : {"scan", "backscatter", "udp", "icmp"}) {
    EXPECT_GT(got.at("classes").at(c).to_number<int64_t>(), 0) << c;
  }
  for (const char* f : {"mirai", "zmap", "masscan"}) {
    EXPECT_GT(got.at("fingerprints").at(f).to_number<int64_t>(), 0) << f;
  }
}

TEST_F(SensorCli, TheTableIsForPeopleAndTheDarknetFilters) {
  ASSERT_EQ(RunKizuna({"sensor", "synth", "--out", Path("d.pcap"), "--packets", "20000", "--link",
                       "sll2", "--darknet", "203.0.113.0/24"})
                .exit_code,
            0);
  CommandResult table = RunKizuna({"sensor", "report", "--pcap", Path("d.pcap"), "--top", "5"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("20000 packets from"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("sources by class: scan"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("sources by fingerprint: mirai"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("tcp       23"), std::string::npos) << table.out;
  // Only the darknet's traffic: IPv4 to 203.0.113.0/24; the IPv6 is outside.
  CommandResult filtered = RunKizuna(
      {"sensor", "report", "--pcap", Path("d.pcap"), "--json", "--darknet", "203.0.113.0/24"});
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  const json::value doc = json::parse(filtered.out);
  EXPECT_GT(doc.at("outside").to_number<int64_t>(), 0);
  EXPECT_EQ(doc.at("packets").to_number<int64_t>() + doc.at("outside").to_number<int64_t>(), 20000);
}

TEST_F(SensorCli, ProgressGoesToStderrAndTheJsonStaysWhole) {
  ASSERT_EQ(
      RunKizuna({"sensor", "synth", "--out", Path("d.pcap"), "--packets", "3000", "--progress"})
          .exit_code,
      0);
  CommandResult r =
      RunKizuna({"sensor", "report", "--pcap", Path("d.pcap"), "--json", "--progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("read 100%"), std::string::npos) << r.err;
  EXPECT_EQ(json::parse(r.out).at("packets"), 3000) << r.out;
  // From a pipe (no size known): frames so far.
  CommandResult piped = RunKizuna({"sensor", "report", "--pcap", "-", "--json", "--progress"},
                                  ReadFile(Path("d.pcap")));
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_NE(piped.err.find("read 3000 frames"), std::string::npos) << piped.err;
  EXPECT_EQ(json::parse(piped.out).at("packets"), 3000) << piped.out;
  // What synth refuses.
  EXPECT_EQ(RunKizuna({"sensor", "synth", "--out", Path("v.pcap"), "--vlan", "5000"}).exit_code, 2);
  EXPECT_EQ(RunKizuna({"sensor", "synth", "--out", Path("v.pcap"), "--vlan", "7", "--link", "raw"})
                .exit_code,
            2);
  EXPECT_EQ(
      RunKizuna({"sensor", "synth", "--out", Path("v.pcap"), "--start", "1960-01-01T00:00:00Z"})
          .exit_code,
      2);
}

TEST_F(SensorCli, AFileThatIsNoCaptureIsAClearError) {
  std::ofstream(Path("notes.txt")) << "not a capture\n";
  CommandResult r = RunKizuna({"sensor", "report", "--pcap", Path("notes.txt"), "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("pcap"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  CommandResult missing = RunKizuna({"sensor", "report", "--pcap", Path("nope.pcap")});
  EXPECT_NE(missing.exit_code, 0);
  CommandResult bad =
      RunKizuna({"sensor", "report", "--pcap", Path("nope.pcap"), "--darknet", "300.1.2.0/24"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("300.1.2.0/24"), std::string::npos) << bad.err;
}

// A partner's published rule set replaces the built-in one: its rules'
// names and version are what the report counts by.
TEST_F(SensorCli, APublishedFingerprintRuleSetIsUsedInsteadOfTheBuiltInOne) {
  ASSERT_EQ(RunKizuna({"sensor", "synth", "--out", Path("d.pcap"), "--packets", "20000", "--seed",
                       "5", "--truth", Path("truth.json")})
                .exit_code,
            0);
  WriteFile(Path("rules.json"), R"({"version": "cert-b-fixes-2", "fingerprints": [
    {"name": "zmap-up-to-4-0", "equal": [["ip_version", 4], ["ip_id", 54321]]},
    {"name": "mirai-telnet", "equal": [["ip_version", 4], ["protocol", 6], ["tcp_flags", 2],
                                       ["tcp_seq", "dst4"], ["dst_port", 23]]}]})");
  CommandResult report = RunKizuna({"sensor", "report", "--pcap", Path("d.pcap"), "--json",
                                    "--fingerprints", Path("rules.json")});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const json::value got = json::parse(report.out);
  const json::value truth = json::parse(ReadFile(Path("truth.json")));
  EXPECT_EQ(got.at("fingerprint_rules"), "cert-b-fixes-2");
  const json::object& fingerprints = got.at("fingerprints").as_object();
  EXPECT_EQ(fingerprints.size(), 2u);
  EXPECT_EQ(fingerprints.at("zmap-up-to-4-0"), truth.at("fingerprints").at("zmap"));
  // Only the bots probing 23/tcp: fewer than every Mirai bot, but some.
  EXPECT_GT(fingerprints.at("mirai-telnet").to_number<int64_t>(), 0);
  EXPECT_LT(fingerprints.at("mirai-telnet").to_number<int64_t>(),
            truth.at("fingerprints").at("mirai").to_number<int64_t>());

  WriteFile(Path("bad.json"),
            R"({"version": "x", "fingerprints": [{"name": "y", "equal": [["nope", 1]]}]})");
  CommandResult bad =
      RunKizuna({"sensor", "report", "--pcap", Path("d.pcap"), "--fingerprints", Path("bad.json")});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("fingerprints: " + Path("bad.json")), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace kizuna::e2e
