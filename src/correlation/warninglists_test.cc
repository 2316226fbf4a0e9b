#include "correlation/warninglists.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kizuna::correlation {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(WarningLists, BuiltinsFlagPrivateDocumentationResolversAndExampleDomains) {
  WarningLists lists;
  lists.AddBuiltins();
  EXPECT_THAT(lists.Check(ObservableKind::kIpv4, "10.20.30.40"),
              ElementsAre(::testing::HasSubstr("RFC 1918")));
  EXPECT_THAT(lists.Check(ObservableKind::kIpv4, "198.51.100.7"),
              ElementsAre(::testing::HasSubstr("Documentation")));
  EXPECT_THAT(lists.Check(ObservableKind::kIpv4, "8.8.8.8"), ElementsAre("Public DNS resolvers"));
  EXPECT_THAT(lists.Check(ObservableKind::kIpv6, "2001:db8::1"),
              ElementsAre(::testing::HasSubstr("Documentation")));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "www.example.com"),
              ElementsAre(::testing::HasSubstr("RFC 2606")));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "login.microsoft.com"),
              ElementsAre("Most visited domains"));
  EXPECT_THAT(lists.Check(ObservableKind::kIpv4, "45.33.32.156"), IsEmpty());
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "evil-microsoft.com"), IsEmpty());
}

TEST(WarningLists, BuiltinsFlagReservedAndPrivateUseNamesUnderTheirTld) {
  WarningLists lists;
  lists.AddBuiltins();
  for (const char* reserved : {"www.example", "host.test", "a.b.invalid", "app.localhost",
                               "HOST.TEST.", "test", "bücher.example"}) {
    EXPECT_THAT(lists.Check(ObservableKind::kDomain, reserved),
                ElementsAre(::testing::HasSubstr("RFC 2606")))
        << reserved;
  }
  for (const char* private_use : {"printer.local", "db.internal", "nas.home.arpa", "intranet.corp",
                                  "Router.LAN", "xn--bcher-kva.corp", "bücher.corp"}) {
    EXPECT_THAT(lists.Check(ObservableKind::kDomain, private_use),
                ElementsAre(::testing::HasSubstr("Private-use")))
        << private_use;
  }
  for (const char* other : {"evil.com", "corp.evil.com", "test.evil.com", "localhost.evil.net",
                            "host.kizunatest", "arpa", "example.evil"}) {
    EXPECT_THAT(lists.Check(ObservableKind::kDomain, other), IsEmpty()) << other;
  }
}

TEST(WarningLists, HostnameEntriesOnPublicSuffixesCoverEveryNameUnderThem) {
  WarningLists lists;
  ASSERT_TRUE(lists
                  .LoadMispJson(R"({"name":"suffixes","type":"hostname",
                                    "list":["lan",".co.uk","Shop.kizunatest."]})",
                                "a")
                  .ok());
  ASSERT_TRUE(
      lists.LoadMispJson(R"({"name":"more","type":"hostname","list":["lan","x.lan"]})", "b").ok());
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "a.b.lan"), ElementsAre("suffixes", "more"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "y.x.lan"), ElementsAre("more", "suffixes"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "evil.co.uk"), ElementsAre("suffixes"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "a.shop.kizunatest"), ElementsAre("suffixes"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "other.kizunatest"), IsEmpty());
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "lan.com"), IsEmpty());
  EXPECT_THAT(lists.Check(ObservableKind::kIpv4, "1.2.3.4"), IsEmpty());
}

TEST(WarningLists, LoadsEveryMispListType) {
  WarningLists lists;
  ASSERT_TRUE(
      lists
          .LoadMispJson(
              R"({"name":"cidrs","type":"cidr","list":["45.33.0.0/16","2001:db8:1::/48","garbage"]})",
              "a")
          .ok());
  ASSERT_TRUE(
      lists.LoadMispJson(R"({"name":"hosts","type":"hostname","list":[".cdn.example.net"]})", "b")
          .ok());
  ASSERT_TRUE(
      lists
          .LoadMispJson(
              R"({"name":"strings","type":"string","list":["1.2.3.4","bad.example.org"]})", "c")
          .ok());
  ASSERT_TRUE(
      lists.LoadMispJson(R"({"name":"subs","type":"substring","list":["amazonaws"]})", "d").ok());
  ASSERT_TRUE(
      lists
          .LoadMispJson(
              R"({"name":"regexes","type":"regex","list":["^update[0-9]+\\.", "(unclosed"]})", "e")
          .ok());
  EXPECT_EQ(lists.list_count(), 3u);  // index-backed lists; text lists are counted apart
  EXPECT_THAT(lists.Check(ObservableKind::kIpv4, "45.33.32.156"), ElementsAre("cidrs"));
  EXPECT_THAT(lists.Check(ObservableKind::kIpv6, "2001:db8:1::5"), ElementsAre("cidrs"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "a.cdn.example.net"), ElementsAre("hosts"));
  EXPECT_THAT(lists.Check(ObservableKind::kIpv4, "1.2.3.4"), ElementsAre("strings"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "bad.example.org"), ElementsAre("strings"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "s3.amazonaws.com"), ElementsAre("subs"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "update12.vendor.com"), ElementsAre("regexes"));
  EXPECT_THAT(lists.Check(ObservableKind::kDomain, "vendor.com"), IsEmpty());
}

TEST(WarningLists, RejectsFilesThatAreNotWarningLists) {
  WarningLists lists;
  EXPECT_FALSE(lists.LoadMispJson("[1,2]", "x").ok());
  EXPECT_FALSE(lists.LoadMispJson(R"({"name":"n"})", "x").ok());
  EXPECT_FALSE(lists.LoadMispJson(R"({"name":"n","type":"weird","list":[]})", "x").ok());
  EXPECT_FALSE(lists.LoadMispJson("{broken", "x").ok());
  auto missing = lists.LoadMispFile("/nonexistent/list.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("/nonexistent/list.json"), std::string::npos);
}

}  // namespace
}  // namespace kizuna::correlation
