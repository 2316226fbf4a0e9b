#include "correlation/observable.h"

#include <gtest/gtest.h>

namespace kizuna::correlation {
namespace {

TEST(NormalizeUrl, Table) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"HTTP://Evil.COM/a", "http://evil.com/a"},
      {"http://evil.com:80/a", "http://evil.com/a"},
      {"https://evil.com:443/a", "https://evil.com/a"},
      {"https://evil.com:8443/a", "https://evil.com:8443/a"},
      {"http://evil.com:0080/", "http://evil.com/"},
      {"ftp://evil.com:21/x", "ftp://evil.com/x"},
      {"http://evil.com", "http://evil.com/"},
      {"http://evil.com./a", "http://evil.com/a"},
      {"http://evil.com/a/./b/../c", "http://evil.com/a/c"},
      {"http://evil.com/a/b/..", "http://evil.com/a/"},
      {"http://evil.com/../../x", "http://evil.com/x"},
      {"http://evil.com/%7Euser/%61bc", "http://evil.com/~user/abc"},
      {"http://evil.com/a%2fb%3f", "http://evil.com/a%2Fb%3F"},
      {"http://evil.com/%2e%2E/x", "http://evil.com/x"},
      {"http://evil.com/a#frag", "http://evil.com/a"},
      {"http://evil.com/a?q=%41&b=Z#f", "http://evil.com/a?q=A&b=Z"},
      {"http://User:Pw@Evil.com/", "http://User:Pw@evil.com/"},
      {"http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"},
      {"evil.com/x", "http://evil.com/x"},
      {"  http://evil.com/x  ", "http://evil.com/x"},
      {"http://evil.com/A/B", "http://evil.com/A/B"},  // paths are case-sensitive
      {"http://evil.com/100%", "http://evil.com/100%"},
  };
  for (const Case& c : cases) {
    auto got = NormalizeUrl(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.out) << c.in;
  }
  EXPECT_FALSE(NormalizeUrl("").ok());
  EXPECT_FALSE(NormalizeUrl("http://evil.com:8x/").ok());
  EXPECT_FALSE(NormalizeUrl("http:///path").ok());
}

TEST(Refang, Table) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"hxxp://evil[.]com/x", "http://evil.com/x"},
      {"hXXps://evil(.)com", "https://evil.com"},
      {"evil[dot]com", "evil.com"},
      {"evil{.}co(dot)uk", "evil.co.uk"},
      {"bad[at]evil[.]com", "bad@evil.com"},
      {"bad(at)evil.com", "bad@evil.com"},
      {"1.2.3[.]4", "1.2.3.4"},
      {"http[:]//x.com", "http://x.com"},
      {"hxxp[://]x.com", "http://x.com"},
      {"fxp://files.evil.com", "ftp://files.evil.com"},
      {"evil\\.com", "evil.com"},
      {"plain", "plain"},
  };
  for (const Case& c : cases) EXPECT_EQ(Refang(c.in), c.out) << c.in;
}

TEST(DetectObservable, Table) {
  struct Case {
    const char* in;
    std::optional<ObservableKind> kind;
    const char* value;
    bool network;
  };
  const Case cases[] = {
      {"1.2.3.4", ObservableKind::kIpv4, "1.2.3.4", false},
      {" 10.0.0.0/8 ", ObservableKind::kIpv4, "10.0.0.0/8", true},
      {"10.1.2.3/8", ObservableKind::kIpv4, "10.0.0.0/8", true},
      {"1.2.3[.]4", ObservableKind::kIpv4, "1.2.3.4", false},
      {"2001:DB8::1", ObservableKind::kIpv6, "2001:db8::1", false},
      {"2001:db8::/32", ObservableKind::kIpv6, "2001:db8::/32", true},
      {"Evil.Example.COM", ObservableKind::kDomain, "evil.example.com", false},
      {"evil[.]co[.]uk", ObservableKind::kDomain, "evil.co.uk", false},
      {"\"evil.com\"", ObservableKind::kDomain, "evil.com", false},
      {"hxxp://evil[.]com:80/a/../b", ObservableKind::kUrl, "http://evil.com/b", false},
      {"Bad[at]Evil[.]com", ObservableKind::kEmail, "bad@evil.com", false},
      {"<bad@evil.com>", ObservableKind::kEmail, "bad@evil.com", false},
      {"D41D8CD98F00B204E9800998ECF8427E", ObservableKind::kMd5, "d41d8cd98f00b204e9800998ecf8427e",
       false},
      {"da39a3ee5e6b4b0d3255bfef95601890afd80709", ObservableKind::kSha1,
       "da39a3ee5e6b4b0d3255bfef95601890afd80709", false},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ObservableKind::kSha256,
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false},
      {"invoice.pdf", std::nullopt, "", false},  // .pdf is no TLD
      {"malware.exe", std::nullopt, "", false},
      {"hello world", std::nullopt, "", false},
      {"localhost", std::nullopt, "", false},
      {"", std::nullopt, "", false},
      {"1.2.3.256", std::nullopt, "", false},
      {"abcdef", std::nullopt, "", false},  // hex, but no digest length
  };
  for (const Case& c : cases) {
    auto got = DetectObservable(c.in);
    if (!c.kind) {
      EXPECT_FALSE(got.has_value()) << c.in << " -> " << (got ? got->value : "");
      continue;
    }
    ASSERT_TRUE(got.has_value()) << c.in;
    EXPECT_EQ(got->kind, *c.kind) << c.in;
    EXPECT_EQ(got->value, c.value) << c.in;
    EXPECT_EQ(got->is_network, c.network) << c.in;
  }
  // The 128-hex-digit case.
  std::string sha512(128, 'a');
  auto got = DetectObservable(sha512);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->kind, ObservableKind::kSha512);
}

TEST(ParseIpv4, StrictDottedQuad) {
  EXPECT_EQ(ParseIpv4("0.0.0.0"), 0u);
  EXPECT_EQ(ParseIpv4("255.255.255.255"), 0xFFFFFFFFu);
  EXPECT_EQ(ParseIpv4("1.2.3.4"), 0x01020304u);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", "a.b.c.d", "1..2.3", "1234.1.1.1",
                          "256.0.0.0", "1.2.3.-4"}) {
    EXPECT_FALSE(ParseIpv4(bad)) << bad;
  }
}

TEST(ParsePrefix, EdgeCases) {
  auto p = ParseIpv4Prefix("0.0.0.0/0");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->length, 0);
  EXPECT_EQ(p->network, 0u);
  p = ParseIpv4Prefix("200.1.2.3/0");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->network, 0u);
  EXPECT_FALSE(ParseIpv4Prefix("1.2.3.4/33").ok());
  EXPECT_FALSE(ParseIpv4Prefix("1.2.3.4/").ok());
  EXPECT_FALSE(ParseIpv4Prefix("1.2.3.4/a").ok());
  auto q = ParseIpv6Prefix("2001:db8:ffff::1/33");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->length, 33);
  EXPECT_EQ(q->network[4], 0x80);
  EXPECT_EQ(q->network[5], 0);
  EXPECT_FALSE(ParseIpv6Prefix("::/129").ok());
}

TEST(NormalizeValue, Table) {
  struct Case {
    ObservableKind kind;
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {ObservableKind::kMacAddr, "AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"},
      {ObservableKind::kMacAddr, "aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"},
      {ObservableKind::kWindowsRegistryKey, "HKLM\\Software\\Run\\",
       "hkey_local_machine\\software\\run"},
      {ObservableKind::kAsn, "AS64500", "64500"},
      {ObservableKind::kAsn, "0064500", "64500"},
      {ObservableKind::kMutex, "Global\\MyMutex", "Global\\MyMutex"},
      {ObservableKind::kIpv4, "10.1.2.3/8", "10.0.0.0/8"},
      {ObservableKind::kIpv6, "2001:DB8::1/128", "2001:db8::1"},
      {ObservableKind::kEmail, "Bad@Evil.COM", "bad@evil.com"},
  };
  for (const Case& c : cases) {
    auto got = NormalizeValue(c.kind, c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.out) << c.in;
  }
  EXPECT_FALSE(NormalizeValue(ObservableKind::kMacAddr, "aa:bb").ok());
  EXPECT_FALSE(NormalizeValue(ObservableKind::kAsn, "AS99999999999").ok());
  EXPECT_FALSE(NormalizeValue(ObservableKind::kSha256, "abc").ok());
}

TEST(KindForStixPath, Table) {
  EXPECT_EQ(KindForStixPath("ipv4-addr:value"), ObservableKind::kIpv4);
  EXPECT_EQ(KindForStixPath("file:hashes.'SHA-256'"), ObservableKind::kSha256);
  EXPECT_EQ(KindForStixPath("file:hashes.MD5"), ObservableKind::kMd5);
  EXPECT_EQ(KindForStixPath("domain-name:value"), ObservableKind::kDomain);
  EXPECT_EQ(KindForStixPath("network-traffic:dst_port"), std::nullopt);
}

TEST(PublicSuffix, IcannAndPrivate) {
  EXPECT_TRUE(IsPublicSuffix("co.uk"));
  EXPECT_TRUE(IsPublicSuffix("com"));
  EXPECT_TRUE(IsPublicSuffix("github.io"));  // private section
  EXPECT_TRUE(IsPublicSuffix("localdomain"));
  EXPECT_FALSE(IsPublicSuffix("example.co.uk"));
  EXPECT_FALSE(IsPublicSuffix("evil.github.io"));
  EXPECT_EQ(RegistrableDomain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(RegistrableDomain("x.evil.github.io"), "evil.github.io");
  EXPECT_EQ(RegistrableDomain("co.uk"), "");
}

}  // namespace
}  // namespace kizuna::correlation
