#include "sharing/policy.h"

#include <gtest/gtest.h>

namespace kizuna::sharing {
namespace {

using stix::Tlp;

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

}  // namespace
}  // namespace kizuna::sharing
