// Recipients from the team directory: a partner's signed constituency
// routes to its node; configured recipients keep their rules; alerts.db
// follows the directory (added, changed, removed).
#include "alerts/directory_recipients.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/time.h"
#include "node/node.h"
#include "tests/support/temp_dir.h"

namespace kizuna::alerts {
namespace {

using test_support::TempDir;

coordination::DirectoryEntry Entry(const std::string& peer) {
  coordination::DirectoryEntry e;
  e.peer = peer;
  e.name = "CERT-" + peer;
  e.asns = {64500, 64501};
  e.prefixes = {"198.51.100.0/24"};
  e.countries = {"ES"};
  e.domains = {"example.es"};
  return e;
}

node::NodeConfig WithPeers(std::initializer_list<const char*> names) {
  node::NodeConfig config;
  config.name = "CERT-A";
  for (const char* name : names) {
    node::PeerConfig p;
    p.name = name;
    config.peers.push_back(p);
  }
  return config;
}

TEST(DirectoryRecipients, APartnersConstituencyRoutesToItsNodeUnlessConfiguredElsewhere) {
  Recipient isp;
  isp.name = "isp-a";
  isp.asns = {64501};
  isp.countries = {"ES"};
  isp.emails = {"abuse@isp-a.example"};
  coordination::DirectoryEntry own = Entry("");
  own.own = true;
  auto recipients =
      DirectoryRecipients({Entry("cert-b"), own, Entry("cert-gone")}, {isp}, WithPeers({"cert-b"}));
  ASSERT_EQ(recipients.size(), 1u);  // not ours, not a peer no longer configured
  const Recipient& r = recipients[0];
  EXPECT_EQ(r.name, "directory.cert-b");
  EXPECT_EQ(r.channel, Channel::kNode);
  EXPECT_EQ(r.format, ReportFormat::kStix);
  EXPECT_EQ(r.peer, "cert-b");
  EXPECT_EQ(r.tlp, stix::Tlp::kAmber);
  EXPECT_EQ(r.asns, (std::vector<uint32_t>{64500}));  // 64501 stays isp-a's
  EXPECT_TRUE(r.countries.empty());                   // ES stays isp-a's
  ASSERT_EQ(r.prefixes.size(), 1u);
  EXPECT_EQ(FormatPrefix(r.prefixes[0]), "198.51.100.0/24");
  EXPECT_EQ(r.domains, (std::vector<std::string>{"example.es"}));

  // Routing: the partner's prefix and ASN go to its node; the configured
  // ASN and country to the configured recipient.
  std::vector<Recipient> all = recipients;
  all.push_back(isp);
  RouteTable routes(all);
  auto ip = [](const char* text) { return *ParseHostAddress(text); };
  EXPECT_EQ(routes.recipients()[routes.Find(ip("198.51.100.7"), 0, "", "").recipient].name,
            "directory.cert-b");
  EXPECT_EQ(routes.recipients()[routes.Find(ip("203.0.113.9"), 64500, "", "").recipient].name,
            "directory.cert-b");
  EXPECT_EQ(routes.recipients()[routes.Find(ip("203.0.113.9"), 64501, "ES", "").recipient].name,
            "isp-a");

  // A partner whose whole constituency is configured elsewhere: none.
  coordination::DirectoryEntry covered;
  covered.peer = "cert-b";
  covered.asns = {64501};
  EXPECT_TRUE(DirectoryRecipients({covered}, {isp}, WithPeers({"cert-b"})).empty());
}

TEST(DirectoryRecipients, AlertsDbFollowsTheDirectory) {
  TempDir dir;
  node::InitOptions init;
  init.name = "CERT-A";
  ASSERT_TRUE(node::InitNode(dir.path() + "/a", init).ok());
  init.name = "CERT-B";
  ASSERT_TRUE(node::InitNode(dir.path() + "/b", init).ok());
  auto a = node::Node::Open(dir.path() + "/a");
  auto b = node::Node::Open(dir.path() + "/b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto db = AlertsDb::Open(dir.path() + "/a");
  ASSERT_TRUE(db.ok());
  node::NodeConfig config = (*a)->config();
  node::PeerConfig peer;
  peer.name = "cert-b";
  peer.public_key = (*b)->identity().public_key_base64;
  config.peers.push_back(peer);
  const int64_t now = SystemClock::Instance().NowMicros();
  auto sync = [&](bool enabled) {
    auto changed =
        SyncDirectoryRecipients(**db, (*a)->store(), config, (*a)->identity(), enabled, now);
    EXPECT_TRUE(changed.ok()) << changed.status().ToString();
    return changed.ok() ? *changed : -1;
  };
  EXPECT_EQ(sync(true), 0);  // no entry yet

  // B's entry, signed by B, as federation brings it.
  auto publish = [&](std::vector<uint32_t> asns) {
    coordination::DirectoryChange change;
    change.asns = std::move(asns);
    const node::Node* signer = b->get();
    auto entry =
        coordination::SetOwnEntry((*b)->store(), (*b)->config(), (*b)->identity(),
                                  [signer](std::string_view bytes) { return signer->Sign(bytes); },
                                  change, stix::Tlp::kGreen, now);
    ASSERT_TRUE(entry.ok()) << entry.status().ToString();
    auto latest = (*b)->store().ObjectHistory((*b)->identity().identity_id, 100);
    ASSERT_TRUE(latest.ok());
    auto into = (*a)->store().GetCollection("default");
    ASSERT_TRUE(into.ok());
    for (const store::StoredObject& v : *latest) {
      auto parsed = boost::json::parse(v.json).as_object();
      auto info = stix::ValidateObject(parsed);
      ASSERT_TRUE(info.ok());
      ASSERT_TRUE(
          (*a)->store().AddObjects(into->id, {store::NewObject{*info, v.json, "cert-b"}}).ok());
    }
  };
  publish({64500});
  EXPECT_EQ(sync(true), 1);
  auto recipients = (*db)->Recipients();
  ASSERT_TRUE(recipients.ok());
  ASSERT_EQ(recipients->size(), 1u);
  EXPECT_EQ(recipients->front().asns, (std::vector<uint32_t>{64500}));
  EXPECT_EQ(sync(true), 0);  // nothing changed
  publish({64500, 64510});
  EXPECT_EQ(sync(true), 1);
  EXPECT_EQ((*db)->Recipients()->front().asns, (std::vector<uint32_t>{64500, 64510}));
  // Turned off: gone; a configured recipient is never touched.
  Recipient isp;
  isp.name = "isp-a";
  isp.asns = {64999};
  isp.emails = {"abuse@isp-a.example"};
  ASSERT_TRUE((*db)->PutRecipient(isp).ok());
  EXPECT_EQ(sync(false), 1);
  recipients = (*db)->Recipients();
  ASSERT_EQ(recipients->size(), 1u);
  EXPECT_EQ(recipients->front().name, "isp-a");
  // The peer removed from the config: its recipient goes too.
  EXPECT_EQ(sync(true), 1);
  config.peers.clear();
  EXPECT_EQ(sync(true), 1);
  EXPECT_EQ((*db)->Recipients()->size(), 1u);
}

}  // namespace
}  // namespace kizuna::alerts
