#include "sharing/policy.h"

#include <gtest/gtest.h>

#include <sodium.h>

#include <boost/json.hpp>
#include <functional>

#include "common/encoding.h"

namespace kizuna::sharing {
namespace {

using stix::Tlp;
namespace json = boost::json;

store::StoredObject Object(Tlp tlp, std::string origin = "", std::string extra = "") {
  store::StoredObject object;
  object.id = "indicator--00000000-0000-4000-8000-000000000001";
  object.type = "indicator";
  object.tlp = tlp;
  object.origin = std::move(origin);
  object.json = R"({"type":"indicator","id":")" + object.id + "\"" + extra + "}";
  return object;
}

node::NodeConfig Config() {
  node::NodeConfig config;
  config.name = "CERT-A";
  node::PeerConfig b;
  b.name = "cert-b";
  b.org = "CERT-B";
  b.max_tlp = Tlp::kAmber;
  node::PeerConfig c;
  c.name = "cert-c";
  c.org = "cert-c";
  c.max_tlp = Tlp::kGreen;
  c.reshare = true;
  node::PeerConfig d;
  d.name = "cert-d";
  d.org = "cert-d";
  d.max_tlp = Tlp::kAmberStrict;
  d.share = {"default", "exercise"};
  config.peers = {b, c, d};
  config.sharing.groups = {{"asean", {"cert-b", "cert-d"}}};
  return config;
}

store::User UserOf(const std::string& org, store::Role role = store::Role::kMember) {
  store::User user;
  user.name = "u";
  user.org_name = org;
  user.role = role;
  return user;
}

TEST(SharingPolicy, RecipientsByOrganization) {
  SharingPolicy policy(Config());
  EXPECT_EQ(policy.ForUser(UserOf("CERT-A")).kind, Recipient::Kind::kHome);
  Recipient b = policy.ForUser(UserOf("CERT-B"));
  EXPECT_EQ(b.kind, Recipient::Kind::kPeer);
  EXPECT_EQ(b.name, "cert-b");
  EXPECT_EQ(b.groups, std::set<std::string>{"asean"});
  EXPECT_EQ(policy.ForUser(UserOf("CERT-B", store::Role::kAdmin)).kind, Recipient::Kind::kPeer)
      << "a partner's account is a partner even when it is an admin";
  Recipient stranger = policy.ForUser(UserOf("ISP-X"));
  EXPECT_EQ(stranger.kind, Recipient::Kind::kExternal);
  EXPECT_EQ(stranger.max_tlp, Tlp::kGreen);
  EXPECT_EQ(policy.ForPeer("nobody").max_tlp, Tlp::kNone);
}

TEST(SharingPolicy, EveryTlpLevelAgainstEveryPeerLimit) {
  SharingPolicy policy(Config());
  struct Case {
    Tlp object;
    const char* peer;
    bool allowed;
  } cases[] = {
      {Tlp::kClear, "cert-b", true},        {Tlp::kGreen, "cert-b", true},
      {Tlp::kAmber, "cert-b", true},        {Tlp::kAmberStrict, "cert-b", false},
      {Tlp::kRed, "cert-b", false},         {Tlp::kClear, "cert-c", true},
      {Tlp::kGreen, "cert-c", true},        {Tlp::kAmber, "cert-c", false},
      {Tlp::kAmberStrict, "cert-c", false}, {Tlp::kRed, "cert-c", false},
      {Tlp::kAmberStrict, "cert-d", false},  // strict needs a group naming the recipient
      {Tlp::kRed, "cert-d", false},         {Tlp::kNone, "cert-b", true},  // default AMBER
      {Tlp::kNone, "cert-c", false},
  };
  for (const Case& c : cases) {
    std::string why;
    EXPECT_EQ(policy.MayRelease(Object(c.object), policy.ForPeer(c.peer), &why), c.allowed)
        << stix::TlpName(c.object) << " to " << c.peer << ": " << why;
  }
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kRed), policy.ForUser(UserOf("CERT-A"))));
  std::string why;
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kRed), policy.ForUser(UserOf("ISP-X")), &why));
  EXPECT_NE(why.find("RED"), std::string::npos);
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kAmber), policy.ForUser(UserOf("ISP-X"))));
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kGreen), policy.ForUser(UserOf("ISP-X"))));
}

TEST(SharingPolicy, SharingGroupsRestrictAndNameAmberStrictRecipients) {
  SharingPolicy policy(Config());
  const std::string asean = R"(,"x_kizuna_sharing_groups":["asean"])";
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kAmber, "", asean), policy.ForPeer("cert-b")));
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kGreen, "", asean), policy.ForPeer("cert-c")))
      << "cert-c is not in the group";
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kAmberStrict, "", asean), policy.ForPeer("cert-d")));
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kAmberStrict, "", asean), policy.ForPeer("cert-b")))
      << "cert-b's limit is AMBER";
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kGreen, "", asean), policy.ForUser(UserOf("ISP-X"))));
  // A malformed restriction restricts to nobody rather than to everybody.
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kGreen, "", R"(,"x_kizuna_sharing_groups":"asean")"),
                                 policy.ForPeer("cert-b")));
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kGreen, "", R"(,"x_kizuna_sharing_groups":[])"),
                                 policy.ForPeer("cert-b")));
  EXPECT_EQ(SharingGroupsOf(R"({"x_kizuna_sharing_groups":["a","b"]})"),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SharingGroupsOf(R"({"type":"indicator"})").empty());
}

TEST(SharingPolicy, NothingGoesBackAndResharingFollowsTheRuleAndTheMarking) {
  SharingPolicy policy(Config());
  std::string why;
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kGreen, "cert-c"), policy.ForPeer("cert-c"), &why));
  EXPECT_NE(why.find("came from this peer"), std::string::npos);
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kGreen, "cert-c"), policy.ForPeer("cert-b")))
      << "cert-b has no re-share rule";
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kGreen, "cert-b"), policy.ForPeer("cert-c")));
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kClear, "cert-b"), policy.ForPeer("cert-c")));
  Recipient c = policy.ForPeer("cert-c");
  c.max_tlp = Tlp::kAmber;
  EXPECT_FALSE(policy.MayRelease(Object(Tlp::kAmber, "cert-b"), c))
      << "AMBER from a partner is not passed on, whatever the rule";
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kAmber, "cert-b"), policy.ForUser(UserOf("CERT-A"))));
}

TEST(SharingPolicy, PeersReadOnlyTheCollectionsSharedWithThem) {
  SharingPolicy policy(Config());
  store::Collection def{.id = "c1", .title = "t", .description = "", .alias = "default"};
  store::Collection exercise{.id = "c2", .title = "t", .description = "", .alias = "exercise"};
  store::Collection internal{.id = "c3", .title = "t", .description = "", .alias = ""};
  EXPECT_TRUE(policy.MayReadCollection(policy.ForPeer("cert-b"), def));
  EXPECT_FALSE(policy.MayReadCollection(policy.ForPeer("cert-b"), exercise));
  EXPECT_TRUE(policy.MayReadCollection(policy.ForPeer("cert-d"), exercise));
  EXPECT_FALSE(policy.MayReadCollection(policy.ForPeer("cert-d"), internal));
  EXPECT_TRUE(policy.MayReadCollection(policy.ForUser(UserOf("CERT-A")), internal));
}

// One table over the recipients every path uses: the object's TLP (unmarked
// = the default), where it came from, the sharing groups it names; and the
// recipient (home, a peer, an outside organization, a sharing group, an
// e-mail recipient, the public, an export file).
TEST(SharingPolicy, TheDecisionForEveryKindOfRecipient) {
  node::NodeConfig config = Config();
  SharingPolicy policy(config);
  const std::string asean = R"(,"x_kizuna_sharing_groups":["asean"])";
  struct Case {
    const char* what;
    Tlp tlp;
    std::string origin;
    std::string extra;
    Recipient recipient;
    bool allowed;
  };
  const Recipient home = policy.ForUser(UserOf("CERT-A"));
  const Recipient b = policy.ForPeer("cert-b");           // AMBER, asean
  const Recipient c = policy.ForPeer("cert-c");           // GREEN, reshare
  const Recipient d = policy.ForPeer("cert-d");           // AMBER+STRICT, asean
  const Recipient isp = policy.ForUser(UserOf("ISP-X"));  // outside: GREEN
  const Recipient group = policy.ForGroup("asean");       // b and d: AMBER
  const Recipient nobody = policy.ForGroup("none-such");
  const Recipient mail_amber = policy.ForEmail("abuse@isp.example", Tlp::kRed);
  const Recipient mail_green = policy.ForEmail("soc@bank.example", Tlp::kGreen);
  const Recipient open = policy.ForPublic();
  const Recipient backup = policy.ForExport(Tlp::kRed);
  const Recipient amber_file = policy.ForExport(Tlp::kAmber);
  const Case cases[] = {
      {"home sees RED", Tlp::kRed, "", "", home, true},
      {"home sees other partners' AMBER", Tlp::kAmber, "cert-b", "", home, true},
      {"peer: AMBER to an AMBER peer", Tlp::kAmber, "", "", b, true},
      {"peer: unmarked counts as the default AMBER", Tlp::kNone, "", "", b, true},
      {"peer: unmarked AMBER above a GREEN peer", Tlp::kNone, "", "", c, false},
      {"peer: RED never leaves", Tlp::kRed, "", "", d, false},
      {"peer: STRICT without a group", Tlp::kAmberStrict, "", "", d, false},
      {"peer: STRICT to a group member", Tlp::kAmberStrict, "", asean, d, true},
      {"peer: group object to a non-member", Tlp::kGreen, "", asean, c, false},
      {"peer: not back to the sender", Tlp::kGreen, "cert-c", "", c, false},
      {"peer: GREEN re-shared to a reshare peer", Tlp::kGreen, "cert-b", "", c, true},
      {"peer: no re-sharing without the rule", Tlp::kGreen, "cert-c", "", b, false},
      {"outside: GREEN", Tlp::kGreen, "", "", isp, true},
      {"outside: AMBER", Tlp::kAmber, "", "", isp, false},
      {"outside: unmarked (AMBER)", Tlp::kNone, "", "", isp, false},
      {"outside: group object", Tlp::kClear, "", asean, isp, false},
      {"group: AMBER to its AMBER members", Tlp::kAmber, "", asean, group, true},
      {"group: STRICT above its lowest member", Tlp::kAmberStrict, "", asean, group, false},
      {"group: not back to a member", Tlp::kGreen, "cert-b", asean, group, false},
      {"group: another group's object", Tlp::kGreen, "", R"(,"x_kizuna_sharing_groups":["g2"])",
       group, false},
      {"group without members gets nothing", Tlp::kClear, "", "", nobody, false},
      {"e-mail: AMBER at most, even if asked for RED", Tlp::kAmber, "", "", mail_amber, true},
      {"e-mail: never STRICT", Tlp::kAmberStrict, "", asean, mail_amber, false},
      {"e-mail: never RED", Tlp::kRed, "", "", mail_amber, false},
      {"e-mail: a GREEN recipient and unmarked AMBER", Tlp::kNone, "", "", mail_green, false},
      {"e-mail: no group objects", Tlp::kGreen, "", asean, mail_amber, false},
      {"public: CLEAR", Tlp::kClear, "", "", open, true},
      {"public: GREEN", Tlp::kGreen, "", "", open, false},
      {"public: a partner's CLEAR is not ours to publish", Tlp::kClear, "cert-b", "", open, false},
      {"export: a backup takes RED", Tlp::kRed, "", "", backup, true},
      {"export: an AMBER file", Tlp::kAmber, "cert-b", "", amber_file, true},
      {"export: STRICT above an AMBER file", Tlp::kAmberStrict, "", "", amber_file, false},
      {"export: unmarked at the default", Tlp::kNone, "", "", amber_file, true},
  };
  for (const Case& c : cases) {
    std::string why;
    EXPECT_EQ(policy.MayRelease(Object(c.tlp, c.origin, c.extra), c.recipient, &why), c.allowed)
        << c.what << (why.empty() ? "" : ": " + why);
  }
  // The default is read when the decision is made: loosened to GREEN, the
  // unmarked object goes where GREEN goes.
  config.sharing.default_tlp = Tlp::kGreen;
  SharingPolicy looser(config);
  EXPECT_TRUE(looser.MayRelease(Object(Tlp::kNone), looser.ForUser(UserOf("ISP-X"))));
  EXPECT_TRUE(looser.MayRelease(Object(Tlp::kNone), looser.ForPeer("cert-c")));
  config.sharing.default_tlp = Tlp::kRed;
  SharingPolicy tightest(config);
  EXPECT_FALSE(tightest.MayRelease(Object(Tlp::kNone), tightest.ForPeer("cert-b")));
  EXPECT_TRUE(tightest.MayRelease(Object(Tlp::kNone), tightest.ForUser(UserOf("CERT-A"))));
}

// The entitlement changes whenever what a recipient may receive could
// change, and only then.
TEST(SharingPolicy, TheEntitlementNamesEverythingThatDecides) {
  node::NodeConfig config = Config();
  const std::string before =
      SharingPolicy(config).Entitlement(SharingPolicy(config).ForPeer("cert-c"));
  EXPECT_EQ(before, SharingPolicy(config).Entitlement(SharingPolicy(config).ForPeer("cert-c")))
      << "stable";
  EXPECT_EQ(before.size(), 16u);
  auto entitlement_of_c_after = [&](const std::function<void(node::NodeConfig&)>& change) {
    node::NodeConfig changed = Config();
    change(changed);
    SharingPolicy policy(changed);
    return policy.Entitlement(policy.ForPeer("cert-c"));
  };
  EXPECT_NE(before,
            entitlement_of_c_after([](node::NodeConfig& c) { c.peers[1].max_tlp = Tlp::kAmber; }));
  EXPECT_NE(before,
            entitlement_of_c_after([](node::NodeConfig& c) { c.peers[1].reshare = false; }));
  EXPECT_NE(before, entitlement_of_c_after(
                        [](node::NodeConfig& c) { c.peers[1].share.push_back("more"); }));
  EXPECT_NE(before, entitlement_of_c_after([](node::NodeConfig& c) {
              c.sharing.groups[0].members.push_back("cert-c");
            }));
  EXPECT_NE(before, entitlement_of_c_after(
                        [](node::NodeConfig& c) { c.sharing.default_tlp = Tlp::kGreen; }));
  // Another peer's settings do not concern cert-c.
  EXPECT_EQ(before,
            entitlement_of_c_after([](node::NodeConfig& c) { c.peers[0].max_tlp = Tlp::kGreen; }));
  // Not a peer yet, then a peer: a different entitlement.
  SharingPolicy policy(config);
  EXPECT_NE(policy.Entitlement(policy.ForUser(UserOf("cert-x"))),
            policy.Entitlement(policy.ForPeer("cert-c")));
}

// Our sighting goes to the producer of what was sighted, and only there;
// with sightings = "received" also to a partner that may receive the
// indicator; the sightings collection is open to partners for that.
TEST(SharingPolicy, SightingsGoToTheProducerOfWhatWasSighted) {
  const std::string from_b = "indicator--00000000-0000-4000-8000-0000000000b1";
  const std::string ours = "indicator--00000000-0000-4000-8000-0000000000a1";
  const std::string red_of_b = "indicator--00000000-0000-4000-8000-0000000000b2";
  auto first_version_of = [&](const std::string& id) -> std::optional<store::StoredObject> {
    if (id == from_b) return Object(Tlp::kGreen, "cert-b");
    if (id == ours) return Object(Tlp::kGreen);
    if (id == red_of_b) return Object(Tlp::kAmber, "cert-b");
    return std::nullopt;
  };
  auto sighting = [](const std::string& of, Tlp tlp) {
    store::StoredObject object;
    object.id = "sighting--00000000-0000-4000-8000-000000000001";
    object.type = "sighting";
    object.tlp = tlp;
    object.json = R"({"type":"sighting","sighting_of_ref":")" + of + "\"}";
    return object;
  };
  node::NodeConfig config = Config();
  SharingPolicy policy(config, first_version_of);
  const Recipient b = policy.ForPeer("cert-b"), c = policy.ForPeer("cert-c");
  std::string why;
  EXPECT_TRUE(policy.MayRelease(sighting(from_b, Tlp::kGreen), b, &why)) << why;
  EXPECT_FALSE(policy.MayRelease(sighting(from_b, Tlp::kGreen), c, &why));
  EXPECT_EQ(why, "a sighting goes only to the producer of what was sighted");
  EXPECT_FALSE(policy.MayRelease(sighting(ours, Tlp::kGreen), b)) << "ours stay home";
  EXPECT_FALSE(policy.MayRelease(sighting(red_of_b, Tlp::kRed), b)) << "RED never leaves";
  EXPECT_FALSE(policy.MayRelease(sighting("indicator--unknown", Tlp::kGreen), b));
  EXPECT_TRUE(policy.MayRelease(sighting(ours, Tlp::kGreen), policy.ForUser(UserOf("CERT-A"))));
  EXPECT_FALSE(SharingPolicy(config).MayRelease(sighting(from_b, Tlp::kGreen), b))
      << "without a lookup no sighting leaves";
  store::Collection sightings{
      .id = "s", .title = "Sightings", .description = "", .alias = kSightingsAlias};
  EXPECT_TRUE(policy.MayReadCollection(c, sightings));

  // "received": c (reshare, up to GREEN) gets sightings of what it may receive.
  config.peers[1].sightings = node::SightingShare::kReceived;
  SharingPolicy received(config, first_version_of);
  const Recipient c2 = received.ForPeer("cert-c");
  EXPECT_NE(received.Entitlement(c2), policy.Entitlement(c));
  EXPECT_TRUE(received.MayRelease(sighting(ours, Tlp::kGreen), c2, &why)) << why;
  EXPECT_TRUE(received.MayRelease(sighting(from_b, Tlp::kGreen), c2, &why)) << why;
  EXPECT_FALSE(received.MayRelease(sighting(red_of_b, Tlp::kGreen), c2))
      << "c may not receive b's AMBER indicator, so not its sighting either";
}

// Alert reports to a partner's node (alerts/node_channel.h): an object
// addressed to one peer reaches that peer alone, on every path.
TEST(SharingPolicy, AddressedObjectsReachOnlyTheirAddressee) {
  SharingPolicy policy(Config());
  const std::string to_b = R"(,"x_kizuna_addressed_to":"cert-b")";
  const store::StoredObject ours = Object(Tlp::kAmber, "", to_b);
  std::string why;
  EXPECT_TRUE(policy.MayRelease(ours, policy.ForPeer("cert-b"), &why)) << why;
  EXPECT_TRUE(policy.MayRelease(ours, policy.ForUser(UserOf("CERT-A"))))
      << "the home team sees what it addressed";
  struct Case {
    const char* who;
    Recipient recipient;
  } refused[] = {
      {"another peer (in the same group)", policy.ForPeer("cert-d")},
      {"another peer that reshares", policy.ForPeer("cert-c")},
      {"an unknown peer", policy.ForPeer("nobody")},
      {"the addressee's group", policy.ForGroup("asean")},
      {"an outside organization", policy.ForUser(UserOf("ISP-X"))},
      {"an outside organization's admin", policy.ForUser(UserOf("ISP-X", store::Role::kAdmin))},
      {"an export, even with RED", policy.ForExport(Tlp::kRed)},
      {"the public", policy.ForPublic()},
      {"e-mail", policy.ForEmail("a@b.example", Tlp::kAmber)},
      {"an affected party (by feed)", policy.ForAffectedParty("isp", Tlp::kAmber)},
      {"an affected party through another peer",
       policy.ForAffectedParty("isp", Tlp::kAmber, "cert-d")},
  };
  for (const Case& c : refused) {
    if (c.recipient.kind == Recipient::Kind::kHome) continue;  // an outside admin is home
    why.clear();
    EXPECT_FALSE(policy.MayRelease(ours, c.recipient, &why)) << c.who;
    if (c.recipient.max_tlp == Tlp::kNone) continue;  // refused before: not a known recipient
    EXPECT_NE(why.find("addressed to"), std::string::npos) << c.who << ": " << why;
  }
  // The other rules still apply to the addressee: its highest TLP.
  const store::StoredObject amber_to_c =
      Object(Tlp::kAmber, "", R"(,"x_kizuna_addressed_to":"cert-c")");
  EXPECT_FALSE(policy.MayRelease(amber_to_c, policy.ForPeer("cert-c")));
  EXPECT_TRUE(policy.MayRelease(Object(Tlp::kGreen, "", R"(,"x_kizuna_addressed_to":"cert-c")"),
                                policy.ForPeer("cert-c")));
  // A copy received from a partner goes nowhere, not even to a peer of
  // ours that happens to bear the addressee's name.
  const store::StoredObject received = Object(Tlp::kGreen, "cert-d", to_b);
  EXPECT_FALSE(policy.MayRelease(received, policy.ForPeer("cert-b")));
  EXPECT_TRUE(policy.MayRelease(received, policy.ForUser(UserOf("CERT-A"))));
  // A malformed address reaches no one.
  for (const char* bad : {R"(,"x_kizuna_addressed_to":7)", R"(,"x_kizuna_addressed_to":"")",
                          R"(,"x_kizuna_addressed_to":["cert-b"])"}) {
    EXPECT_FALSE(policy.MayRelease(Object(Tlp::kGreen, "", bad), policy.ForPeer("cert-b"))) << bad;
  }
  // Only a value that mentions the property: not addressed.
  EXPECT_TRUE(
      policy.MayRelease(Object(Tlp::kGreen, "", R"(,"description":"x_kizuna_addressed_to")"),
                        policy.ForPeer("cert-c")));
  EXPECT_EQ(AddressedTo(ours.json), std::optional<std::string>("cert-b"));
  EXPECT_EQ(AddressedTo(Object(Tlp::kGreen).json), std::nullopt);
  // Every partner may read the alerts collection (each sees its own).
  store::Collection alerts;
  alerts.id = "c-alerts";
  alerts.alias = kAlertsAlias;
  EXPECT_TRUE(policy.MayReadCollection(policy.ForPeer("cert-c"), alerts));
}

// Joint incidents (coordination/incidents.h): an incident's objects,
// restricted to the participants' keys, reach those participants alone,
// relayed among them only when signed by a participant and only as far as
// the incident itself lists them.
TEST(SharingPolicy, AJointIncidentsObjectsReachItsParticipantsAlone) {
  ASSERT_GE(sodium_init(), 0);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  const std::string key_b = Base64Encode(std::string(reinterpret_cast<char*>(pk), sizeof pk));
  node::NodeConfig config = Config();
  config.peers[0].public_key = key_b;
  config.peers[1].public_key = "KEY-C";  // cert-c reshares, up to GREEN
  config.peers[2].public_key = "KEY-D";
  const std::string incident = "incident--00000000-0000-4000-8000-0000000000f1";
  const std::string all = R"(["KEY-A",")" + key_b + R"(","KEY-C"])";
  // The incident as it first came here: A, B and C take part.
  auto first_version_of = [&](const std::string& id) -> std::optional<store::StoredObject> {
    if (id != incident) return std::nullopt;
    store::StoredObject o = Object(Tlp::kAmber, "cert-b");
    o.type = "incident";
    o.json = R"({"x_kizuna_participants":)" + all + "}";
    return o;
  };
  SharingPolicy policy(config, first_version_of);
  // A note of the incident; signed by B when `sign`.
  auto part = [&](Tlp tlp, std::string origin, const std::string& keys, bool sign = false,
                  std::string type = "note") {
    store::StoredObject o = Object(tlp, std::move(origin));
    o.type = type;
    json::object body{{"type", type}, {"id", o.id}};
    body["x_kizuna_participants"] = json::parse(keys);
    body["x_kizuna_incident"] = incident;
    if (sign) {
      body["x_kizuna_signer"] = key_b;
      const std::string bytes = json::serialize(body);
      unsigned char signature[crypto_sign_BYTES];
      crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
                           bytes.size(), sk);
      body["x_kizuna_signature"] =
          Base64Encode(std::string(reinterpret_cast<char*>(signature), sizeof signature));
    }
    o.json = json::serialize(body);
    return o;
  };
  const store::StoredObject ours = part(Tlp::kGreen, "", all);
  std::string why;
  EXPECT_TRUE(policy.MayRelease(ours, policy.ForPeer("cert-b"), &why)) << why;
  EXPECT_TRUE(policy.MayRelease(ours, policy.ForPeer("cert-c"), &why)) << why;
  EXPECT_TRUE(policy.MayRelease(ours, policy.ForUser(UserOf("CERT-A"))));
  for (const Recipient& other : {policy.ForPeer("cert-d"), policy.ForGroup("asean"),
                                 policy.ForUser(UserOf("ISP-X")), policy.ForExport(Tlp::kRed),
                                 policy.ForPublic(), policy.ForEmail("a@b.example", Tlp::kAmber),
                                 policy.ForAffectedParty("isp", Tlp::kAmber, "cert-b")}) {
    EXPECT_FALSE(policy.MayRelease(ours, other)) << other.name;
  }
  // AMBER to C (GREEN at most) and RED to anyone: no.
  EXPECT_FALSE(policy.MayRelease(part(Tlp::kAmber, "", all), policy.ForPeer("cert-c")));
  EXPECT_FALSE(policy.MayRelease(part(Tlp::kRed, "", all), policy.ForPeer("cert-b")));
  // Another type carrying the property (an acknowledgement, an indicator)
  // reaches no partner: the rule is for an incident's objects.
  EXPECT_FALSE(policy.MayRelease(part(Tlp::kGreen, "", all, false, "kizuna-drill-ack"),
                                 policy.ForPeer("cert-b"), &why));
  EXPECT_EQ(why, "only a joint incident's objects go to its participants");
  EXPECT_FALSE(policy.MayRelease(part(Tlp::kGreen, "cert-b", all, true, "indicator"),
                                 policy.ForPeer("cert-c")));
  // B's signed note, relayed to C (though B's AMBER would never be
  // re-shared otherwise), never back to B.
  const store::StoredObject from_b = part(Tlp::kAmber, "cert-b", all, true);
  config.peers[1].max_tlp = Tlp::kAmber;
  SharingPolicy amber_c(config, first_version_of);
  EXPECT_TRUE(amber_c.MayRelease(from_b, amber_c.ForPeer("cert-c"), &why)) << why;
  EXPECT_FALSE(amber_c.MayRelease(from_b, amber_c.ForPeer("cert-b")));
  // Unsigned, or altered after signing: not passed on.
  EXPECT_FALSE(
      amber_c.MayRelease(part(Tlp::kAmber, "cert-b", all), amber_c.ForPeer("cert-c"), &why));
  EXPECT_EQ(why, "not signed by a participant of its incident");
  store::StoredObject altered = from_b;
  altered.json.insert(altered.json.find("\"x_kizuna_signer\""), R"("content":"forged",)");
  EXPECT_FALSE(amber_c.MayRelease(altered, amber_c.ForPeer("cert-c"), &why));
  EXPECT_EQ(why, "its signature does not hold");
  // The incident itself goes from its owner alone.
  EXPECT_FALSE(amber_c.MayRelease(part(Tlp::kAmber, "cert-b", all, true, "incident"),
                                  amber_c.ForPeer("cert-c")));
  // B cannot widen the incident through us: its note naming D's key does
  // not go to D, whom the incident does not list.
  const std::string widened_keys = R"(["KEY-A",")" + key_b + R"(","KEY-C","KEY-D"])";
  EXPECT_FALSE(amber_c.MayRelease(part(Tlp::kGreen, "cert-b", widened_keys, true),
                                  amber_c.ForPeer("cert-d"), &why));
  EXPECT_EQ(why, "not a participant of its incident");
  // Without the incident here, nothing received is passed on.
  EXPECT_FALSE(SharingPolicy(config).MayRelease(from_b, amber_c.ForPeer("cert-c")));
  // A malformed list reaches no partner.
  for (const char* bad : {R"("KEY-C")", R"([7])", R"({"k":"KEY-C"})"}) {
    EXPECT_FALSE(policy.MayRelease(part(Tlp::kGreen, "", bad), policy.ForPeer("cert-c"))) << bad;
  }
  // A peer without a configured key is no participant.
  config.peers[1].public_key.clear();
  SharingPolicy keyless(config, first_version_of);
  EXPECT_FALSE(
      keyless.MayRelease(part(Tlp::kGreen, "", R"(["KEY-A",""])"), keyless.ForPeer("cert-c")));
}

}  // namespace
}  // namespace kizuna::sharing
