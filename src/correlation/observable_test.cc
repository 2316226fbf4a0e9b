#include "correlation/observable.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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
      {"http://evil.com/A/B", "http://evil.com/A/B"},      // paths are case-sensitive
      {"http://evil.com/100%", "http://evil.com/100%25"},  // a bare '%' starts no escape
      {"http://evil.com/100%25", "http://evil.com/100%25"},
      {"http://evil.com/%%36%31", "http://evil.com/%2561"},  // not "%61", then "a"
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
      {"invoice.pdf", std::nullopt, "", false},  // .pdf is a file extension, no TLD
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

// Plain-text detection of names, a table per class. Each row: the line, the
// kind expected, the value expected.
struct NameCase {
  const char* in;
  ObservableKind kind;
  const char* value;
};

void ExpectDetected(const std::vector<NameCase>& cases) {
  for (const NameCase& c : cases) {
    auto got = DetectObservable(c.in);
    ASSERT_TRUE(got.has_value()) << c.in;
    EXPECT_EQ(got->kind, c.kind) << c.in;
    EXPECT_EQ(got->value, c.value) << c.in;
    EXPECT_FALSE(got->is_network) << c.in;
  }
}

TEST(DetectNames, ReservedNames) {  // RFC 2606, RFC 6761
  ExpectDetected({
      {"www.example", ObservableKind::kDomain, "www.example"},
      {"host.test", ObservableKind::kDomain, "host.test"},
      {"a.b.invalid", ObservableKind::kDomain, "a.b.invalid"},
      {"app.localhost", ObservableKind::kDomain, "app.localhost"},
      {"WWW.Example.COM", ObservableKind::kDomain, "www.example.com"},
  });
}

TEST(DetectNames, PrivateUseNames) {
  ExpectDetected({
      {"intranet.corp", ObservableKind::kDomain, "intranet.corp"},
      {"HOST.Corp.", ObservableKind::kDomain, "host.corp"},
      {"db7.internal", ObservableKind::kDomain, "db7.internal"},
      {"printer.local", ObservableKind::kDomain, "printer.local"},
      {"nas.home.arpa", ObservableKind::kDomain, "nas.home.arpa"},
      {"router.lan", ObservableKind::kDomain, "router.lan"},
      {"fs01.ad.home", ObservableKind::kDomain, "fs01.ad.home"},
      {"_ldap._tcp.dc.corp", ObservableKind::kDomain, "_ldap._tcp.dc.corp"},
  });
}

TEST(DetectNames, TopLevelDomainsTheListDoesNotKnow) {
  // Syntactically valid TLDs that no public suffix list has (yet).
  ExpectDetected({
      {"host.kizunatest", ObservableKind::kDomain, "host.kizunatest"},
      {"c2.evil.kizunatest", ObservableKind::kDomain, "c2.evil.kizunatest"},
      {"x.xn--kizuna-test", ObservableKind::kDomain, "x.xn--kizuna-test"},
      {"a.qz", ObservableKind::kDomain, "a.qz"},
      {"v2.beta", ObservableKind::kDomain, "v2.beta"},  // "v2" may be a host
      {"2.1.rc.kizunatest", ObservableKind::kDomain, "2.1.rc.kizunatest"},
  });
  const std::string longest = "a." + std::string(63, 'q');  // a 63-letter TLD
  auto got = DetectObservable(longest);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, longest);
}

TEST(DetectNames, DelegatedTldsThatLookLikeFileExtensions) {
  // .zip and .mov are delegated: names, as in MISP.
  ExpectDetected({
      {"archive.zip", ObservableKind::kDomain, "archive.zip"},
      {"clip.mov", ObservableKind::kDomain, "clip.mov"},
      {"github.com", ObservableKind::kDomain, "github.com"},
      {"1.2.com", ObservableKind::kDomain, "1.2.com"},  // numbers, but a real TLD
  });
}

TEST(DetectNames, InternationalizedNamesHaveOneForm) {
  // Unicode in any case, with ideographic or fullwidth full stops, and the
  // punycode form: all detected as the same A-label name.
  struct Case {
    std::vector<std::string> spellings;
    const char* ascii;
  };
  const Case cases[] = {
      {{"bücher.example", "BÜCHER.Example.", "bücher。example", "ｂücher．example",
        "xn--bcher-kva.example", "XN--BCHER-KVA.EXAMPLE"},
       "xn--bcher-kva.example"},
      {{"münchen.kizunatest", "xn--mnchen-3ya.kizunatest"}, "xn--mnchen-3ya.kizunatest"},
      {{"пример.испытание", "xn--e1afmkfd.xn--80akhbyknj4f"}, "xn--e1afmkfd.xn--80akhbyknj4f"},
      {{"例え.テスト", "xn--r8jz45g.xn--zckzah"}, "xn--r8jz45g.xn--zckzah"},
      {{"straße.de", "xn--strae-oqa.de"}, "xn--strae-oqa.de"},  // IDNA2008: ß stays
      {{"españa.corp", "xn--espaa-rta.corp"}, "xn--espaa-rta.corp"},
  };
  for (const Case& c : cases) {
    for (const std::string& spelling : c.spellings) {
      auto got = DetectObservable(spelling);
      ASSERT_TRUE(got.has_value()) << spelling;
      EXPECT_EQ(got->kind, ObservableKind::kDomain) << spelling;
      EXPECT_EQ(got->value, c.ascii) << spelling;
      auto normal = NormalizeDomain(spelling);
      ASSERT_TRUE(normal.ok()) << spelling << ": " << normal.status().ToString();
      EXPECT_EQ(*normal, c.ascii) << spelling;
    }
  }
  // Emoji are not IDNA2008, but names with them are registered (under .ws,
  // for one): the transitional (UTS #46) form, as browsers resolve them.
  auto emoji = DetectObservable("\xF0\x9F\x98\x80.ws");
  ASSERT_TRUE(emoji.has_value());
  EXPECT_EQ(emoji->value, "xn--e28h.ws");
}

TEST(DetectNames, EmailAddressesUnderAnyTld) {
  ExpectDetected({
      {"alice@intranet.corp", ObservableKind::kEmail, "alice@intranet.corp"},
      {"Bob@Host.TEST.", ObservableKind::kEmail, "bob@host.test"},
      {"carol@bücher.example", ObservableKind::kEmail, "carol@xn--bcher-kva.example"},
      {"carol@xn--bcher-kva.example", ObservableKind::kEmail, "carol@xn--bcher-kva.example"},
      {"dave[at]db[.]internal", ObservableKind::kEmail, "dave@db.internal"},
      {"<eve@mail.kizunatest>", ObservableKind::kEmail, "eve@mail.kizunatest"},
      {"root@nas.home.arpa", ObservableKind::kEmail, "root@nas.home.arpa"},
  });
}

TEST(DetectNames, RefangedForms) {
  ExpectDetected({
      {"intranet[.]corp", ObservableKind::kDomain, "intranet.corp"},
      {"db(dot)internal", ObservableKind::kDomain, "db.internal"},
      {"c2{.}evil\\.kizunatest", ObservableKind::kDomain, "c2.evil.kizunatest"},
      {"hxxp://intranet[.]corp/login", ObservableKind::kUrl, "http://intranet.corp/login"},
      {"hxxps://bücher[.]example/a", ObservableKind::kUrl, "https://xn--bcher-kva.example/a"},
      {"bücher[.]example", ObservableKind::kDomain, "xn--bcher-kva.example"},
      {"admin[at]host[.]test", ObservableKind::kEmail, "admin@host.test"},
      {"10.0.0[.]1", ObservableKind::kIpv4, "10.0.0.1"},
  });
}

TEST(DetectNames, WhatIsClearlyNotANameStaysUnrecognised) {
  const std::string long_label(64, 'a');
  const std::string too_long = std::string(250, 'a') + ".corp";
  const std::vector<std::string> near_misses = {
      // file names: an extension that is no delegated TLD
      "invoice.pdf.exe", "report.docx", "setup.msi", "readme.txt", "photo.jpeg", "archive.rar",
      "payload.dll", "macro.xlsm", "Invoice.PDF.EXE", "résumé.pdf", "main.go",
      // version strings and numbers
      "1.2.3", "v2.0.1", "1.0.alpha", "2.1.rc", "3.14", "12345", "1.2.3.256", "10.0.0.1.5",
      "0.9.1-beta",
      // not a TLD: digits, one letter, hyphens, empty
      "host.c0rp", "host.c", "host.corp-", "host.-corp", "host.xn--", "host.xn---", "host.",
      ".corp", "a..corp", "corp", "localhost", "bücher",
      // not a label
      long_label + ".corp", too_long, "a b.corp", "a/b.corp", "a*b.corp", "*.evil.corp", "a@b@",
      "@host.corp", "bad@invoice.pdf", "x@1.2.3", "x@corp",
      // invalid UTF-8; characters UTS #46 maps to separators or spaces
      "\xFF\xFE.corp",
      "a\xE2\x92\x88"
      "b.corp",
      "a\xC2\xA0"
      "b.corp",
      "\xE2\x84\x80.corp"};
  for (const std::string& line : near_misses) {
    auto got = DetectObservable(line);
    EXPECT_FALSE(got.has_value()) << line << " -> " << (got ? got->value : "");
  }
}

TEST(NormalizeDomain, TypedValuesAreNeverRefusedForTheirTld) {
  // A typed domain-name or an indicator's value: any TLD, even one plain
  // text would not take for a name.
  for (const char* d : {"host.corp", "x.kizunatest", "a.123", "report.docx", "1.2.3", "localhost",
                        "printer.local", "a.b.c.d.e.f.g", "x.y-", "_dmarc.example"}) {
    auto got = NormalizeDomain(d);
    ASSERT_TRUE(got.ok()) << d << ": " << got.status().ToString();
    EXPECT_EQ(*got, d);
    EXPECT_TRUE(NormalizeValue(ObservableKind::kDomain, d).ok()) << d;
  }
  EXPECT_EQ(*NormalizeDomain("*.Bücher.example"), "*.xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeEmail("A@Bücher.Example."), "a@xn--bcher-kva.example");
  const std::string too_long(254, 'a');
  for (std::string_view bad : {"", ".", "a..", "a..b", ".a", "a b", "a\tb", "a/b", "a:b", "a@b",
                               "<a.b>", "a\x01.b", "\xFF.corp", "a\xE2\x84\x80.corp"}) {
    EXPECT_FALSE(NormalizeDomain(bad).ok()) << bad;
  }
  EXPECT_FALSE(NormalizeDomain(too_long).ok());
}

// Every NormalizeValue result is its own normal form. The corpus: the
// inputs of the tests above and values that took two passes before.
TEST(NormalizeValue, IsIdempotent) {
  const std::vector<std::pair<ObservableKind, std::string>> corpus = {
      {ObservableKind::kDomain, "a.."},
      {ObservableKind::kDomain, "a.\r"},
      {ObservableKind::kDomain, "Evil.COM."},
      {ObservableKind::kDomain, "*.Bücher.example"},
      {ObservableKind::kDomain, "bücher。example。"},
      {ObservableKind::kDomain, "xn--bcher-kva.example"},
      {ObservableKind::kDomain, "HOST.Corp."},
      {ObservableKind::kDomain, "\xF0\x9F\x98\x80.com"},
      {ObservableKind::kEmail, "a@b.."},
      {ObservableKind::kEmail, "Bad@Evil.COM."},
      {ObservableKind::kEmail, "x@Bücher.example"},
      {ObservableKind::kEmail, "\"a b\"@c"},
      {ObservableKind::kUrl, "http://x:80:/"},
      {ObservableKind::kUrl, "http://x../a"},
      {ObservableKind::kUrl, "http://x%2e%2e/a"},
      {ObservableKind::kUrl, "http://x/a #frag"},
      {ObservableKind::kUrl, "http://x/a?q= #frag"},
      {ObservableKind::kUrl, "http://x/%%36%31?%%36%31"},
      {ObservableKind::kUrl, "mon%%6aiin/on%%63Exampl%"},  // found by observable_fuzzer
      {ObservableKind::kUrl,
       "mon%~\xA5"
       "6aiin:%34j"},  // found by observable_fuzzer
      {ObservableKind::kUrl, "urn:%34x"},
      {ObservableKind::kUrl, std::string("http://b\xC3\xBC\0evil.example/", 24)},
      {ObservableKind::kUrl, "http://Bücher.example:80/%7e/./a/../b"},
      {ObservableKind::kUrl,
       "http://a\xEF\xBC\x9A"
       "80/"},  // fullwidth colon
      {ObservableKind::kUrl, "HTTP://User:Pw@Evil.com:0080/a/b/..?q=%41#f"},
      {ObservableKind::kUrl, "evil.com/x"},
      {ObservableKind::kUrl, "mailto:A%41@b"},
      {ObservableKind::kUrl, "http://[2001:DB8::1]:80/x"},
      {ObservableKind::kWindowsRegistryKey, "HKLM\\Software\\Run\\ \\"},
      {ObservableKind::kWindowsRegistryKey, "hkcu\\x\\\\\t"},
      {ObservableKind::kWindowsRegistryKey, "HKLM\\"},
      {ObservableKind::kIpv4, "10.1.2.3/8"},
      {ObservableKind::kIpv6, "2001:DB8::1/128"},
      {ObservableKind::kMacAddr, "AA-BB-CC-DD-EE-FF"},
      {ObservableKind::kAsn, "AS0064500"},
      {ObservableKind::kMutex, " Global\\M "},
      {ObservableKind::kSsdeep, " 3:AB:CD "},
      {ObservableKind::kX509Serial, " 0A:1B "},
  };
  std::vector<std::pair<ObservableKind, std::string>> all = corpus;
  // Everything the detection tests feed in, as the kind it is detected as.
  for (const char* line :
       {"Evil.Example.COM", "evil[.]co[.]uk", "hxxp://evil[.]com:80/a/../b", "Bad[at]Evil[.]com",
        "intranet.corp", "HOST.Corp.", "bücher。example", "ｂücher．example",
        "carol@bücher.example", "hxxps://bücher[.]example/a", "2001:DB8::1", "10.1.2.3/8"}) {
    auto detected = DetectObservable(line);
    ASSERT_TRUE(detected.has_value()) << line;
    all.emplace_back(detected->kind, line);
    all.emplace_back(detected->kind, detected->value);
  }
  size_t normalized = 0;
  for (const auto& [kind, value] : all) {
    auto once = NormalizeValue(kind, value);
    if (!once.ok()) continue;
    ++normalized;
    auto twice = NormalizeValue(kind, *once);
    ASSERT_TRUE(twice.ok()) << value << " -> " << *once << ": " << twice.status().ToString();
    EXPECT_EQ(*twice, *once) << ObservableKindName(kind) << " '" << value << "'";
  }
  EXPECT_GT(normalized, all.size() * 3 / 4);
  // What the fixes refuse rather than settle in two passes.
  EXPECT_FALSE(NormalizeValue(ObservableKind::kDomain, "a..").ok());
  EXPECT_FALSE(NormalizeValue(ObservableKind::kEmail, "a@b..").ok());
  EXPECT_FALSE(NormalizeValue(ObservableKind::kUrl, "http://x:80:/").ok());
  EXPECT_EQ(*NormalizeValue(ObservableKind::kUrl, "http://x../a"), "http://x/a");
  EXPECT_EQ(*NormalizeValue(ObservableKind::kUrl, "http://x/a #frag"), "http://x/a");
  EXPECT_EQ(*NormalizeValue(ObservableKind::kWindowsRegistryKey, "HKLM\\Run\\ \\"),
            "hkey_local_machine\\run");
  // A host IDNA cannot convert is kept whole, never cut at a NUL.
  const std::string nul_host("http://b\xC3\xBC\0evil.example/", 24);
  EXPECT_EQ(*NormalizeValue(ObservableKind::kUrl, nul_host), nul_host);
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
