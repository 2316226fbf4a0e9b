// Rights that grow reach back, across real nodes. Partners configure each
// other one side at a time and widen each other's rights later; whatever a
// narrower policy withheld must arrive once the policy allows it, exactly
// once. In every test the reader is configured first, so its cursor has
// already moved past what was withheld when the rights widen.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <regex>
#include <string>

#include "node/config.h"
#include "stix/stix.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using stix::Tlp;

// Rewrites `peer`'s entry in `node`'s kizuna.toml (as `kizuna peer remove`
// then `kizuna peer add` would), keeping its token and key.
void ChangePeer(NodeProcess& node, const std::string& peer,
                const std::function<void(node::PeerConfig&)>& change) {
  auto config = node::LoadConfig(node.dir() + "/kizuna.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  node::PeerConfig entry;
  bool found = false;
  for (const node::PeerConfig& p : config->peers) {
    if (p.name == peer) entry = p, found = true;
  }
  ASSERT_TRUE(found) << peer;
  change(entry);
  ASSERT_TRUE(node::RemovePeerFromConfigFile(node.dir() + "/kizuna.toml", peer).ok());
  AddPeer(node, entry);
}

// Waits until `reader` holds `n` and has pulled from its partner past it:
// what was posted with `n` in one request has been decided on.
void AwaitSentinel(NodeProcess& reader, int n, NodeProcess& producer) {
  ASSERT_TRUE(WaitUntil([&] { return Has(reader, n); }, 30s))
      << producer.ServerLog() << reader.ServerLog();
}

// Each test: a (the producer) and b (the reader), b configured first.
class RightsReachBack : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(a_.Start(&error)) << error;
    ASSERT_TRUE(b_.Start(&error)) << error;
  }

  // b adds a as its peer; a only creates b's account (no [[peer]] yet).
  void ConfigureReader() {
    b_key_at_a_ = a_.AddUser("cert-b", "node");
    AddPeer(b_, PeerEntry("cert-a", a_.base_url(), b_key_at_a_, PublicKeyOf(a_)));
  }
  // a adds b as its peer (tuned), and creates a's account at b.
  void ConfigureProducer(const std::function<void(node::PeerConfig&)>& tune = {}) {
    node::PeerConfig entry =
        PeerEntry("cert-b", b_.base_url(), b_.AddUser("cert-a", "node"), PublicKeyOf(b_));
    if (tune) tune(entry);
    AddPeer(a_, entry);
  }

  NodeProcess a_{"CERT-A"}, b_{"CERT-B"};
  std::string b_key_at_a_;
};

TEST_F(RightsReachBack, APartnerConfiguredAfterUsSaysSoAndThenSendsEverything) {
  ConfigureReader();
  Post(a_, {Indicator(1, Tlp::kGreen), Indicator(2, Tlp::kAmber), Indicator(3, Tlp::kNone)});
  // a does not serve b as an outside organization: it says b is not its
  // partner yet, and b waits instead of moving its cursor.
  ASSERT_TRUE(WaitUntil([&] { return PeerState(b_, "cert-a") == "waiting"; }, 30s))
      << b_.ServerLog();
  EXPECT_NE(StatusOf(b_, "cert-a").at("last_error").as_string().find("not configured"),
            std::string::npos);
  EXPECT_TRUE(Versions(b_).empty());
  http::Response refused =
      a_.Request("GET", kObjects, b_key_at_a_, "", {{"X-Kizuna-Federation", "1"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Not a partner yet"), std::string::npos) << refused.body;

  ConfigureProducer();  // max_tlp amber (the default)
  ASSERT_TRUE(WaitUntil([&] { return Has(b_, 1) && Has(b_, 2) && Has(b_, 3); }, 30s))
      << a_.ServerLog() << b_.ServerLog();
  for (const auto& [id, count] : Versions(b_)) EXPECT_EQ(count, 1) << id;
}

TEST_F(RightsReachBack, RaisingAPartnersTlpSendsWhatWasWithheld) {
  ConfigureReader();
  ConfigureProducer([](node::PeerConfig& p) { p.max_tlp = Tlp::kGreen; });
  Post(a_, {Indicator(11, Tlp::kAmber), Indicator(12, Tlp::kNone), Indicator(13, Tlp::kRed),
            Indicator(10, Tlp::kGreen)});
  AwaitSentinel(b_, 10, a_);
  // Withheld, and b's cursor is past them (it streams from a now).
  ASSERT_TRUE(WaitUntil([&] { return PeerState(b_, "cert-a") == "streaming"; }, 30s));
  EXPECT_FALSE(Has(b_, 11));
  EXPECT_FALSE(Has(b_, 12));

  ChangePeer(a_, "cert-b", [](node::PeerConfig& p) { p.max_tlp = Tlp::kAmber; });
  ASSERT_TRUE(WaitUntil([&] { return Has(b_, 11) && Has(b_, 12); }, 30s))
      << a_.ServerLog() << b_.ServerLog();
  EXPECT_FALSE(Has(b_, 13)) << "RED never leaves";
  auto versions = Versions(b_);
  EXPECT_EQ(versions.size(), 3u);
  for (const auto& [id, count] : versions) EXPECT_EQ(count, 1) << id;
  // Still live after the re-pull: a new object arrives.
  Post(a_, {Indicator(14, Tlp::kAmber)});
  EXPECT_TRUE(WaitUntil([&] { return Has(b_, 14); }, 30s)) << b_.ServerLog();
}

TEST_F(RightsReachBack, SharingAnotherCollectionLaterSendsItsPast) {
  ASSERT_EQ(
      RunKizuna({"collection", "add", a_.dir(), "--title", "incidents", "--alias", "incidents"})
          .exit_code,
      0);
  ConfigureReader();
  ASSERT_EQ(RunKizuna({"collection", "grant", a_.dir(), "incidents", "--org", "cert-b", "--read"})
                .exit_code,
            0);
  ConfigureProducer();  // shares "default" only
  ASSERT_EQ(
      a_.Post("/taxii2/root/collections/incidents/objects/", Envelope({Indicator(21, Tlp::kGreen)}))
          .status,
      202);
  Post(a_, {Indicator(20, Tlp::kGreen)});
  AwaitSentinel(b_, 20, a_);
  ASSERT_TRUE(WaitUntil([&] { return PeerState(b_, "cert-a") == "streaming"; }, 30s));
  EXPECT_FALSE(Has(b_, 21));

  ChangePeer(a_, "cert-b", [](node::PeerConfig& p) { p.share = {"default", "incidents"}; });
  ASSERT_TRUE(WaitUntil([&] { return Has(b_, 21); }, 30s)) << a_.ServerLog() << b_.ServerLog();
  for (const auto& [id, count] : Versions(b_)) EXPECT_EQ(count, 1) << id;
}

TEST_F(RightsReachBack, JoiningASharingGroupLaterSendsWhatTheGroupHad) {
  ConfigureReader();
  ConfigureProducer([](node::PeerConfig& p) { p.max_tlp = Tlp::kAmberStrict; });
  const std::string asean = ",\"x_kizuna_sharing_groups\":[\"asean\"]";
  Post(a_, {Indicator(31, Tlp::kAmberStrict, asean), Indicator(32, Tlp::kGreen, asean),
            Indicator(30, Tlp::kGreen)});
  AwaitSentinel(b_, 30, a_);
  ASSERT_TRUE(WaitUntil([&] { return PeerState(b_, "cert-a") == "streaming"; }, 30s));
  EXPECT_FALSE(Has(b_, 31));
  EXPECT_FALSE(Has(b_, 32));

  WriteFile(a_.dir() + "/kizuna.toml",
            ReadFile(a_.dir() + "/kizuna.toml") +
                "\n[[sharing.group]]\nname = \"asean\"\nmembers = [\"cert-b\"]\n");
  ASSERT_TRUE(WaitUntil([&] { return Has(b_, 31) && Has(b_, 32); }, 30s))
      << a_.ServerLog() << b_.ServerLog();
  for (const auto& [id, count] : Versions(b_)) EXPECT_EQ(count, 1) << id;
}

TEST_F(RightsReachBack, TurningOnReshareSendsWhatOtherPartnersHadSent) {
  // c's GREEN indicator reaches a; b may not have it until a turns on reshare.
  NodeProcess c("CERT-C");
  std::string error;
  ASSERT_TRUE(c.Start(&error)) << error;
  Federate(a_, "cert-a", c, "cert-c");
  Post(c, {Indicator(41, Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil([&] { return Has(a_, 41); }, 30s)) << a_.ServerLog() << c.ServerLog();

  ConfigureReader();
  ConfigureProducer();  // reshare = false
  Post(a_, {Indicator(40, Tlp::kGreen)});
  AwaitSentinel(b_, 40, a_);
  ASSERT_TRUE(WaitUntil([&] { return PeerState(b_, "cert-a") == "streaming"; }, 30s));
  EXPECT_FALSE(Has(b_, 41));

  ChangePeer(a_, "cert-b", [](node::PeerConfig& p) { p.reshare = true; });
  ASSERT_TRUE(WaitUntil([&] { return Has(b_, 41); }, 30s)) << a_.ServerLog() << b_.ServerLog();
  for (const auto& [id, count] : Versions(b_)) EXPECT_EQ(count, 1) << id;
}

// A plain TAXII partner we push to (here: a kizuna node that a pushes to, as
// to any TAXII server) gets what a withheld before its TLP was raised.
TEST_F(RightsReachBack, RaisingThePushedPartnersTlpPushesWhatWasWithheld) {
  // b accepts a's pushes (a's account at b may write); a pushes, b does not pull.
  std::string a_key_at_b = b_.AddUser("cert-a", "node");
  AddPeer(b_, PeerEntry("cert-a", "http://127.0.0.1:9", "kz_0000000000000000_x", PublicKeyOf(a_)));
  node::PeerConfig entry = PeerEntry("cert-b", b_.base_url(), a_key_at_b, PublicKeyOf(b_));
  entry.push = node::PushMode::kAlways;
  entry.stream = false;
  entry.pull = {"none-such"};
  entry.max_tlp = Tlp::kGreen;
  AddPeer(a_, entry);
  Post(a_, {Indicator(51, Tlp::kAmber), Indicator(50, Tlp::kGreen)});
  AwaitSentinel(b_, 50, a_);
  EXPECT_FALSE(Has(b_, 51));

  ChangePeer(a_, "cert-b", [](node::PeerConfig& p) { p.max_tlp = Tlp::kAmber; });
  ASSERT_TRUE(WaitUntil([&] { return Has(b_, 51); }, 30s)) << a_.ServerLog() << b_.ServerLog();
  for (const auto& [id, count] : Versions(b_)) EXPECT_EQ(count, 1) << id;
}

TEST_F(RightsReachBack, LooseningTheDefaultTlpSendsUnmarkedObjectsWithheldBefore) {
  ConfigureReader();
  ConfigureProducer([](node::PeerConfig& p) { p.max_tlp = Tlp::kGreen; });
  Post(a_, {Indicator(61, Tlp::kNone), Indicator(60, Tlp::kGreen)});  // 61: default AMBER
  AwaitSentinel(b_, 60, a_);
  ASSERT_TRUE(WaitUntil([&] { return PeerState(b_, "cert-a") == "streaming"; }, 30s));
  EXPECT_FALSE(Has(b_, 61));

  std::string config = ReadFile(a_.dir() + "/kizuna.toml");
  size_t at = config.find("default_tlp = \"amber\"");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, std::string("default_tlp = \"amber\"").size(), "default_tlp = \"green\"");
  WriteFile(a_.dir() + "/kizuna.toml", config);
  ASSERT_TRUE(WaitUntil([&] { return Has(b_, 61); }, 30s)) << a_.ServerLog() << b_.ServerLog();
  for (const auto& [id, count] : Versions(b_)) EXPECT_EQ(count, 1) << id;
}

}  // namespace
}  // namespace kizuna::e2e
