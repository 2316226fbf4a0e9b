// How a sensor's upload meets a real node's limits: batches cut by size, a
// batch too large for the node sent again in halves until the parts fit,
// a single minute too large set aside (not retried forever, not blocking
// the next), and the token never sent over plain HTTP off the machine.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>

#include "sensor/interval.h"
#include "sensor/upload.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string AddSensor(NodeProcess& node, const std::string& name) {
  CommandResult added = RunKizuna({"telescope", "sensor", "add", node.dir(), name, "--json"});
  EXPECT_EQ(added.exit_code, 0) << added.err;
  return std::string(json::parse(added.out).at("token").as_string());
}

uint64_t NodePackets(NodeProcess& node) {
  CommandResult top = RunKizuna({"telescope", "top", node.dir(), "--json"});
  EXPECT_EQ(top.exit_code, 0) << top.err;
  return json::parse(top.out).at("packets").to_number<uint64_t>();
}

uint64_t ReportPackets(const std::string& pcap) {
  CommandResult r = RunKizuna({"sensor", "report", "--pcap", pcap, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out).at("packets").to_number<uint64_t>();
}

// A capture of background traffic only (no outbreak), written by synth.
void Synth(const std::string& path, int packets, int duration_s, int seed = 1) {
  ASSERT_EQ(RunKizuna({"sensor", "synth", "--out", path, "--packets", std::to_string(packets),
                       "--duration", std::to_string(duration_s), "--seed", std::to_string(seed),
                       "--outbreak-at", "100000"})
                .exit_code,
            0);
}

size_t FilesEndingIn(const std::string& dir, const std::string& suffix) {
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    n += entry.path().filename().string().ends_with(suffix);
  }
  return n;
}

TEST(SensorUpload, BatchesAreCutBySizeAndOneTheNodeFindsTooLargeIsSetAside) {
  NodeProcess node;
  // The node takes bodies of at most 256 KiB.
  std::string config = ReadFile(node.dir() + "/kizuna.toml");
  const std::string limit = "max_body_bytes = 67108864";
  ASSERT_NE(config.find(limit), std::string::npos);
  config.replace(config.find(limit), limit.size(), "max_body_bytes = 262144");
  WriteFile(node.dir() + "/kizuna.toml", config);
  ASSERT_TRUE(node.Start()) << node.ServerLog();
  const std::string token = AddSensor(node, "kobe-1");
  TempDir dir;
  const std::string pcap = dir.path() + "/a.pcap";
  Synth(pcap, 60000, 3600);
  const std::string spool = dir.path() + "/spool";

  // Cut at 64 KiB: many batches, every one taken, the totals exact.
  sensor::UploadOptions options;
  options.node_url = node.base_url();
  options.token = token;
  options.spool_dir = spool;
  options.batch_intervals = 100000;  // cut by size only
  options.batch_bytes = 64 << 10;
  {
    sensor::Uploader uploader(options);
    ASSERT_TRUE(uploader.Resolve().ok());
    auto sent = sensor::UploadCapture(pcap, {}, 60, uploader);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    EXPECT_GE(sent->intervals, 60u);
    EXPECT_GT(uploader.stats().batches, 3u);
    EXPECT_EQ(uploader.stats().refused, 0u);
    EXPECT_EQ(uploader.spooled(), 0u);
  }
  const uint64_t packets = ReportPackets(pcap);
  EXPECT_EQ(NodePackets(node), packets);

  // One batch far past what the node takes (cut at 64 MiB: the whole
  // capture): the node answers 413 and closes mid-body; the sensor cuts it
  // to the size the node takes, and everything arrives. It learns that
  // size: a few posts are refused, not one per part per halving.
  const std::string large = dir.path() + "/b.pcap";
  Synth(large, 150000, 12 * 3600, 9);  // 720 small minutes, ~11 MB
  options.batch_bytes = 64 << 20;
  {
    sensor::Uploader uploader(options);
    ASSERT_TRUE(uploader.Resolve().ok());
    auto sent = sensor::UploadCapture(large, {}, 60, uploader);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    EXPECT_GT(uploader.stats().batches, 8u);  // parts of at most 256 KiB
    EXPECT_GE(uploader.stats().too_large, 1u);
    EXPECT_LE(uploader.stats().too_large, 12u);
    EXPECT_EQ(uploader.stats().refused, 0u);
    EXPECT_EQ(uploader.spooled(), 0u);
  }
  const uint64_t both = packets + ReportPackets(large);
  EXPECT_EQ(NodePackets(node), both);

  // A single minute larger than the node takes is set aside as *.refused
  // and the sensor goes on (nothing left to block the spool); without a
  // spool the upload fails and says why.
  const std::string minute = dir.path() + "/c.pcap";
  Synth(minute, 300000, 50, 10);
  {
    sensor::Uploader uploader(options);
    ASSERT_TRUE(uploader.Resolve().ok());
    auto sent = sensor::UploadCapture(minute, {}, 60, uploader);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    EXPECT_EQ(sent->intervals, 1u);
    EXPECT_EQ(uploader.stats().batches, 0u);
    EXPECT_EQ(uploader.stats().refused, 1u);
    EXPECT_EQ(uploader.spooled(), 0u);
  }
  EXPECT_EQ(FilesEndingIn(spool, ".refused"), 1u);
  EXPECT_EQ(NodePackets(node), both);
  options.spool_dir.clear();
  sensor::Uploader direct(options);
  ASSERT_TRUE(direct.Resolve().ok());
  auto failed = sensor::UploadCapture(minute, {}, 60, direct);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("413"), std::string::npos) << failed.status().message();
}

TEST(SensorUpload, PlainHttpOnlyToThisMachine) {
  NodeProcess node;
  ASSERT_TRUE(node.Start()) << node.ServerLog();
  const std::string token = AddSensor(node, "nara-2");
  TempDir dir;
  const std::string pcap = dir.path() + "/a.pcap";
  Synth(pcap, 3000, 600);
  // Off the machine, plain http:// is refused before anything is sent (the
  // address is TEST-NET: nothing answers there anyway).
  for (const char* url : {"http://192.0.2.10:8443", "http://node.example:8443", "ftp://192.0.2.10",
                          "192.0.2.10:8443"}) {
    CommandResult r =
        RunKizuna({"sensor", "upload", "--pcap", pcap, "--node", url, "--token", token});
    EXPECT_NE(r.exit_code, 0) << url;
    EXPECT_NE(r.err.find("https://"), std::string::npos) << url << ": " << r.err;
  }
  // On this machine it is allowed: by address and as localhost.
  std::string local = node.base_url();
  local.replace(local.find("127.0.0.1"), 9, "localhost");
  for (const std::string& url : {node.base_url(), local}) {
    CommandResult r =
        RunKizuna({"sensor", "upload", "--pcap", pcap, "--node", url, "--token", token});
    EXPECT_EQ(r.exit_code, 0) << url << ": " << r.err;
  }
  EXPECT_EQ(NodePackets(node), ReportPackets(pcap));
}

}  // namespace
}  // namespace kizuna::e2e
