// The correlation snapshot across real processes: `kizuna match` saves it
// beside the store, later runs start from it and apply only what changed
// (imports, revocations) and answer exactly as a run without it; a damaged
// or foreign snapshot is reported, ignored and replaced. `kizuna serve`
// saves it when it stops and starts from it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/support/eventually.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

const std::string kInput =
    "45.90.1.1\n45.91.7.7\nc2.snapshot-evil.test\nhttp://www.snap.test/gate\n198.18.0.1\n";

class SnapshotE2E : public ::testing::Test {
 protected:
  std::string Snapshot() const { return node_.dir() + "/correlation.snapshot"; }
  void Import(const std::vector<std::string>& objects) {
    WriteFile(tmp_.path() + "/feed.json", Bundle(objects));
    auto r = RunKizuna({"import", node_.dir(), tmp_.path() + "/feed.json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Match() {
    CommandResult r = RunKizuna({"match", node_.dir(), "--all"}, kInput);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  // The same answers computed without any snapshot (moved away and back).
  std::string MatchWithoutSnapshot() {
    const std::string aside = tmp_.path() + "/aside.snapshot";
    std::filesystem::rename(Snapshot(), aside);
    CommandResult r = RunKizuna({"match", node_.dir(), "--all"}, kInput);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::filesystem::rename(aside, Snapshot());
    return r.out;
  }

  NodeProcess node_{"CERT-Snapshot"};
  TempDir tmp_;
};

TEST_F(SnapshotE2E, MatchStartsFromTheSnapshotAndAppliesWhatChanged) {
  Import({PatternIndicator("000000000001", "[ipv4-addr:value ISSUBSET '45.90.0.0/16']"),
          PatternIndicator("000000000002", "[domain-name:value = 'snapshot-evil.test']",
                           R"("x_kizuna_match_subdomains":true)"),
          PatternIndicator("000000000003",
                           "[url:value MATCHES '^http://[a-z]+\\\\.snap\\\\.test/']")});
  ASSERT_FALSE(std::filesystem::exists(Snapshot()));
  CommandResult first = Match();
  ASSERT_TRUE(std::filesystem::exists(Snapshot())) << "the first run saves it";
  EXPECT_NE(first.out.find("indicator 000000000001"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("indicator 000000000002"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("indicator 000000000003"), std::string::npos) << first.out;
  const auto saved_at = std::filesystem::last_write_time(Snapshot());

  CommandResult second = Match();
  EXPECT_EQ(second.out, first.out);
  EXPECT_EQ(second.err.find("snapshot"), std::string::npos) << second.err;
  EXPECT_EQ(std::filesystem::last_write_time(Snapshot()), saved_at)
      << "nothing changed: the snapshot is not written again";

  // Another process changes the store: a new indicator, a revocation.
  Import({PatternIndicator("000000000004", "[ipv4-addr:value = '45.91.7.7']"),
          PatternIndicator("000000000001", "[ipv4-addr:value ISSUBSET '45.90.0.0/16']",
                           R"("revoked":true)", "2024-02-01T00:00:00.000Z")});
  CommandResult third = Match();
  EXPECT_EQ(third.out.find("indicator 000000000001"), std::string::npos) << third.out;
  EXPECT_NE(third.out.find("indicator 000000000004"), std::string::npos) << third.out;
  EXPECT_EQ(third.out, MatchWithoutSnapshot());
  EXPECT_NE(std::filesystem::last_write_time(Snapshot()), saved_at) << "brought up to date";
}

TEST_F(SnapshotE2E, ADamagedOrForeignSnapshotIsReportedAndReplaced) {
  Import({PatternIndicator("000000000011", "[ipv4-addr:value ISSUBSET '45.90.0.0/16']")});
  const std::string expected = Match().out;
  ASSERT_NE(expected.find("indicator 000000000011"), std::string::npos) << expected;

  std::string bytes = ReadFile(Snapshot());
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
  WriteFile(Snapshot(), bytes);
  CommandResult damaged = Match();
  EXPECT_EQ(damaged.out, expected);
  EXPECT_NE(damaged.err.find("damaged"), std::string::npos) << damaged.err;
  EXPECT_NE(damaged.err.find("building the index from the store"), std::string::npos)
      << damaged.err;
  CommandResult after = Match();
  EXPECT_EQ(after.out, expected);
  EXPECT_EQ(after.err.find("snapshot"), std::string::npos) << "replaced: " << after.err;

  // Another node's snapshot (same content, another store).
  NodeProcess other("CERT-Other");
  WriteFile(
      tmp_.path() + "/feed.json",
      Bundle({PatternIndicator("000000000011", "[ipv4-addr:value ISSUBSET '45.90.0.0/16']")}));
  ASSERT_EQ(RunKizuna({"import", other.dir(), tmp_.path() + "/feed.json"}).exit_code, 0);
  ASSERT_EQ(RunKizuna({"match", other.dir()}, "45.90.0.1\n").exit_code, 0);
  std::filesystem::copy_file(other.dir() + "/correlation.snapshot", Snapshot(),
                             std::filesystem::copy_options::overwrite_existing);
  CommandResult foreign = Match();
  EXPECT_EQ(foreign.out, expected);
  EXPECT_NE(foreign.err.find("another store"), std::string::npos) << foreign.err;
}

TEST_F(SnapshotE2E, ServeSavesItWhenItStopsAndStartsFromIt) {
  std::string error;
  ASSERT_TRUE(node_.Start(&error)) << error;
  // Started without one: saved at once, while it runs.
  EXPECT_TRUE(test_support::Eventually([&] { return std::filesystem::exists(Snapshot()); }))
      << node_.ServerLog();
  auto r = node_.Post(
      "/taxii2/root/collections/default/objects/",
      R"({"objects":[)" +
          PatternIndicator("000000000021", "[ipv4-addr:value ISSUBSET '45.90.0.0/16']") + "]}");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(node_.Stop());
  ASSERT_TRUE(std::filesystem::exists(Snapshot()));
  // What the node saved is what the store holds: `kizuna match` uses it
  // without a word and finds the indicator the node took in.
  CommandResult matched = Match();
  EXPECT_NE(matched.out.find("indicator 000000000021"), std::string::npos) << matched.out;
  EXPECT_EQ(matched.err.find("snapshot"), std::string::npos) << matched.err;

  Import({PatternIndicator("000000000022", "[ipv4-addr:value = '45.91.7.7']")});
  ASSERT_TRUE(node_.Start(&error)) << error;
  auto match = [&](const std::string& value) {
    auto response = node_.Request("POST", "/api/v1/match", node_.admin_key(), value + "\n",
                                  {{"Content-Type", "text/plain"}});
    EXPECT_EQ(response.status, 200) << response.body;
    return response.body;
  };
  EXPECT_NE(match("45.90.3.3").find("indicator 000000000021"), std::string::npos);
  EXPECT_NE(match("45.91.7.7").find("indicator 000000000022"), std::string::npos)
      << "stored while the node was down: applied after the snapshot";
  EXPECT_EQ(node_.ServerLog().find("building it from the store"), std::string::npos)
      << node_.ServerLog();
  EXPECT_NE(node_.ServerLog().find("from the snapshot and the changes since"), std::string::npos)
      << node_.ServerLog();
}

// While it runs, a node saves the snapshot every correlation.snapshot_seconds
// that the index changed (here 1 s), not only when it stops.
TEST_F(SnapshotE2E, ServeSavesItWhileItRuns) {
  std::string config = ReadFile(node_.dir() + "/kizuna.toml");
  config.replace(config.find("snapshot_seconds = 300"), 22, "snapshot_seconds = 1");
  WriteFile(node_.dir() + "/kizuna.toml", config);
  std::string error;
  ASSERT_TRUE(node_.Start(&error)) << error;
  ASSERT_TRUE(test_support::Eventually([&] { return std::filesystem::exists(Snapshot()); }));
  const std::string first = ReadFile(Snapshot());
  auto r = node_.Post(
      "/taxii2/root/collections/default/objects/",
      R"({"objects":[)" +
          PatternIndicator("000000000031", "[ipv4-addr:value ISSUBSET '45.92.0.0/16']") + "]}");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(test_support::Eventually([&] { return ReadFile(Snapshot()) != first; }))
      << "not saved again while running";
}

}  // namespace
}  // namespace kizuna::e2e
