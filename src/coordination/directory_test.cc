// The team directory on a real node directory and store: entries as STIX
// identities, field checks, and whose entry is whose.
#include "coordination/directory.h"

#include <gtest/gtest.h>

#include <sodium.h>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "node/node.h"
#include "tests/support/temp_dir.h"

namespace kizuna::coordination {
namespace {

namespace json = boost::json;
using test_support::TempDir;

constexpr int64_t kNow = 1796000000000000;  // 2026-11-30
constexpr int64_t kDay = 86400LL * 1000000;

// A node key of the test's own: its public key (base64) and a Signer.
struct Key {
  std::string public_base64;
  std::string secret;
  Key() {
    EXPECT_GE(sodium_init(), 0);
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    public_base64 = Base64Encode(std::string(reinterpret_cast<char*>(pk), sizeof pk));
    secret.assign(reinterpret_cast<char*>(sk), sizeof sk);
  }
  Signer signer() const {
    return [secret = secret](std::string_view bytes) {
      unsigned char signature[crypto_sign_BYTES];
      crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
                           bytes.size(), reinterpret_cast<const unsigned char*>(secret.data()));
      return std::string(reinterpret_cast<char*>(signature), sizeof signature);
    };
  }
};

struct TestNode {
  TempDir dir;
  std::unique_ptr<node::Node> node;
  TestNode() {
    node::InitOptions init;
    init.name = "CERT-A";
    EXPECT_TRUE(node::InitNode(dir.path() + "/a", init).ok());
    auto opened = node::Node::Open(dir.path() + "/a");
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    node = std::move(*opened);
  }
  store::Store& store() { return node->store(); }
  Signer sign() const {
    return [n = node.get()](std::string_view bytes) { return n->Sign(bytes); };
  }
};

DirectoryChange FullChange() {
  DirectoryChange change;
  change.country = "JP";
  change.kind = "national-csirt";
  change.asns = std::vector<uint32_t>{64500, 2500, 64500};
  change.prefixes = std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"};
  change.domains = std::vector<std::string>{"example.jp"};
  change.countries = std::vector<std::string>{"JP"};
  change.contacts =
      std::vector<Contact>{{"primary", "Desk", "desk@cert-a.example", "+81-3-0000-0000", ""},
                           {"emergency", "Duty", "duty@cert-a.example", "", std::string(40, 'A')},
                           {"24x7", "", "", "+81-3-0000-0001", ""}};
  change.time_zone = "Asia/Tokyo";
  change.operating_hours = "Mon-Fri 09:00-18:00";
  change.node_url = "https://cert-a.example:8443";
  return change;
}

TEST(Directory, OurEntryIsAStixIdentityThatRoundTrips) {
  TestNode t;
  auto set = SetOwnEntry(t.store(), t.node->config(), t.node->identity(), t.sign(), FullChange(),
                         stix::Tlp::kGreen, kNow);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->id, t.node->identity().identity_id);
  EXPECT_EQ(set->name, "CERT-A");  // the node's name until set
  EXPECT_EQ(set->asns, (std::vector<uint32_t>{2500, 64500}));
  EXPECT_EQ(set->signing_key, t.node->identity().public_key_base64);
  EXPECT_EQ(set->last_verified_us, kNow);

  const json::object stix_object = EntryToStix(*set, stix::Tlp::kGreen);
  EXPECT_TRUE(stix::ValidateObject(stix_object).ok());
  EXPECT_EQ(stix_object.at("type"), "identity");
  EXPECT_EQ(stix_object.at("created_by_ref"), set->id.c_str());
  auto back = EntryFromStix(stix_object);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  back->own = true;  // as listed, not in the object
  EXPECT_EQ(json::serialize(EntryJson(*back)), json::serialize(EntryJson(*set)));

  // A later change keeps what it does not name and is a newer version.
  DirectoryChange hours;
  hours.operating_hours = "Mon,Wed,Fri 08:30-17:00";
  auto again = SetOwnEntry(t.store(), t.node->config(), t.node->identity(), t.sign(), hours,
                           stix::Tlp::kGreen, kNow);  // the same millisecond
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GT(again->modified_us, set->modified_us);
  auto own = OwnEntry(t.store(), t.node->identity());
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->operating_hours, "Mon,Wed,Fri 08:30-17:00");
  EXPECT_EQ(own->contacts.size(), 3u);
  EXPECT_EQ(own->contacts[1].pgp_fingerprint, std::string(40, 'A'));
  EXPECT_EQ(own->country, "JP");
  auto listed = ListDirectory(t.store(), t.node->config().peers, t.node->identity(), kNow, 180);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(listed->front().own);
  EXPECT_EQ(listed->front().operating_hours, "Mon,Wed,Fri 08:30-17:00");
}

TEST(Directory, BadFieldsAreRefusedAndChangeNothing) {
  TestNode t;
  ASSERT_TRUE(SetOwnEntry(t.store(), t.node->config(), t.node->identity(), t.sign(), FullChange(),
                          stix::Tlp::kGreen, kNow)
                  .ok());
  const std::string before = json::serialize(EntryJson(*OwnEntry(t.store(), t.node->identity())));
  std::vector<std::pair<std::string, DirectoryChange>> bad(9);
  bad[0].second.country = "jp";
  bad[1].second.kind = "hacker";
  bad[2].second.prefixes = std::vector<std::string>{"192.0.2.0/33"};
  bad[3].second.contacts = std::vector<Contact>{{"boss", "", "a@b.example", "", ""}};
  bad[4].second.contacts = std::vector<Contact>{{"primary", "Nobody", "", "", ""}};
  bad[5].second.operating_hours = "Mon-Fri 18:00-09:00";
  bad[6].second.time_zone = "../../etc/passwd";
  bad[7].second.domains = std::vector<std::string>{"Example.JP"};
  bad[8].second.contacts = std::vector<Contact>{{"primary", "", "a@b.example", "", "XYZ"}};
  const char* named[] = {"country",         "kind",      "prefix", "contact role", "contact",
                         "operating hours", "time zone", "domain", "contact pgp"};
  for (size_t i = 0; i < bad.size(); ++i) {
    auto set = SetOwnEntry(t.store(), t.node->config(), t.node->identity(), t.sign(), bad[i].second,
                           stix::Tlp::kGreen, kNow + kDay);
    EXPECT_FALSE(set.ok()) << "change " << i;
    EXPECT_EQ(set.status().code(), Code::kInvalidArgument) << "change " << i;
    EXPECT_EQ(set.status().message().rfind(named[i], 0), 0u) << set.status().message();
  }
  EXPECT_EQ(json::serialize(EntryJson(*OwnEntry(t.store(), t.node->identity()))), before);
  EXPECT_FALSE(ParseContact("role=primary;mail=x@y.example").ok());
  auto parsed = ParseContact("role=24x7;phone=+81-3;name=Night desk");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->role, "24x7");
  EXPECT_EQ(parsed->name, "Night desk");
}

// Stores `entry` as received from `origin` ("" = written here), signed by
// `key` (null: unsigned).
void Store(TestNode& t, const DirectoryEntry& entry, const std::string& origin, const Key* key) {
  const json::object o = EntryToStix(entry, stix::Tlp::kGreen, key ? key->signer() : Signer());
  auto info = stix::ValidateObject(o);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto collection = t.store().GetCollection("default");
  ASSERT_TRUE(collection.ok());
  ASSERT_TRUE(t.store()
                  .AddObjects(collection->id, {store::NewObject{*info, json::serialize(o), origin}})
                  .ok());
}

TEST(Directory, OnlyATeamsOwnNodeVouchesForItsEntry) {
  TestNode t;
  const Key key_b, key_c, key_d;
  node::NodeConfig config = t.node->config();
  node::PeerConfig b, c;
  b.name = "cert-b";
  b.public_key = key_b.public_base64;
  c.name = "cert-c";
  c.public_key = key_c.public_base64;
  config.peers = {b, c};

  DirectoryEntry entry_b;
  entry_b.id = "identity--00000000-0000-4000-8000-00000000000b";
  entry_b.name = "CERT-B";
  entry_b.country = "ES";
  entry_b.signing_key = key_b.public_base64;
  entry_b.contacts = {{"primary", "", "desk@cert-b.example", "", ""}};
  entry_b.modified_us = kNow - 2 * kDay;
  entry_b.last_verified_us = kNow - 2 * kDay;

  // C forges B's entry before B's arrives (a newer version, another desk):
  // naming B's key but unsigned or signed by C, and naming its own key.
  DirectoryEntry forged = entry_b;
  forged.contacts = {{"primary", "", "desk@cert-c.example", "", ""}};
  forged.modified_us = kNow - kDay;
  Store(t, forged, "cert-c", nullptr);
  forged.modified_us += 1000;
  Store(t, forged, "cert-c", &key_c);
  // B's own entry, relayed by C (origin C) and then delivered by B.
  Store(t, entry_b, "cert-c", &key_b);
  Store(t, entry_b, "cert-b", &key_b);
  // A local user's version; B claiming to be us; an unknown key.
  forged.modified_us += 1000;
  Store(t, forged, "", nullptr);
  DirectoryEntry claims_ours = entry_b;
  claims_ours.id = t.node->identity().identity_id;
  claims_ours.name = "Not CERT-A";
  Store(t, claims_ours, "cert-b", &key_b);
  DirectoryEntry stranger = entry_b;
  stranger.id = "identity--00000000-0000-4000-8000-00000000000d";
  stranger.signing_key = key_d.public_base64;
  Store(t, stranger, "cert-b", &key_d);

  auto listed = ListDirectory(t.store(), config.peers, t.node->identity(), kNow, 180);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u) << listed->size();
  EXPECT_EQ(listed->front().name, "CERT-B");
  EXPECT_EQ(listed->front().peer, "cert-b");
  ASSERT_EQ(listed->front().contacts.size(), 1u);
  EXPECT_EQ(listed->front().contacts[0].email, "desk@cert-b.example");
  EXPECT_FALSE(listed->front().stale);
  EXPECT_FALSE(OwnEntry(t.store(), t.node->identity()).ok());

  // C signing an entry under B's id with its own key fills C's line only,
  // and C speaks for that id alone from then on.
  forged.modified_us += 1000;
  forged.signing_key = key_c.public_base64;
  forged.name = "CERT-B (really C)";
  Store(t, forged, "cert-c", &key_c);
  DirectoryEntry entry_c = forged;
  entry_c.id = "identity--00000000-0000-4000-8000-00000000000c";
  entry_c.name = "CERT-C";
  entry_c.modified_us += 1000;
  Store(t, entry_c, "cert-c", &key_c);
  listed = ListDirectory(t.store(), config.peers, t.node->identity(), kNow, 180);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(listed->at(0).peer, "cert-b");
  EXPECT_EQ(listed->at(0).contacts[0].email, "desk@cert-b.example");
  EXPECT_EQ(listed->at(1).peer, "cert-c");
  EXPECT_EQ(listed->at(1).name, "CERT-B (really C)");
  // Asked for B's id, the directory has no single answer; C's own id is
  // not C's to have any more.
  EXPECT_EQ(EntryWithId(*listed, entry_b.id).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(EntryWithId(*listed, entry_c.id).status().code(), Code::kNotFound);

  // B's own newer version replaces it; unverified for long, it is stale.
  DirectoryEntry newer = entry_b;
  newer.contacts = {{"primary", "", "new-desk@cert-b.example", "", ""}};
  newer.modified_us = kNow - kDay / 2;
  newer.last_verified_us = kNow - 200 * kDay;
  Store(t, newer, "cert-c", &key_b);  // relayed: still B's
  listed = ListDirectory(t.store(), config.peers, t.node->identity(), kNow, 180);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->at(0).contacts[0].email, "new-desk@cert-b.example");
  EXPECT_TRUE(listed->at(0).stale);
  listed = ListDirectory(t.store(), config.peers, t.node->identity(), kNow, 365);
  ASSERT_TRUE(listed.ok());
  EXPECT_FALSE(listed->at(0).stale);
  auto b_only = EntryWithId({listed->at(0)}, entry_b.id);
  ASSERT_TRUE(b_only.ok());
  EXPECT_EQ(b_only->peer, "cert-b");
}

}  // namespace
}  // namespace kizuna::coordination
