// Enforcement exports: which indicators give values (revoked, expired, RED,
// TLP ceiling, confidence, producer, age, patterns that are not plain
// equality), deduplication, RPZ's IP triggers and each format's text.
#include <gtest/gtest.h>

#include <sstream>

#include "common/time.h"
#include "interop/enforcement.h"

namespace kizuna::interop {
namespace {

using correlation::ObservableKind;

const int64_t kExportedAt = *ParseTimestamp("2026-12-01T00:00:00Z");

std::string Indicator(const std::string& n, const std::string& pattern,
                      const std::string& extra = "", stix::Tlp tlp = stix::Tlp::kGreen) {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000)" +
         n +
         R"(","created":"2026-11-20T00:00:00.000Z","modified":"2026-11-20T00:00:00.000Z","name":"ind )" +
         n + R"(","pattern_type":"stix","valid_from":"2026-11-20T00:00:00Z","pattern":")" +
         pattern + R"(","object_marking_refs":[")" + std::string(stix::TlpMarkingId(tlp)) + "\"]" +
         extra + "}";
}

ExportFilter Filter() {
  ExportFilter filter;
  filter.now_us = kExportedAt;
  return filter;
}

TEST(Enforcement, OnlyValidReleasedPlainIndicatorsGiveValues) {
  EnforcementSet set(Filter());
  EXPECT_EQ(
      set.Add(Indicator(
          "01", "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'Evil.Example']")),
      2);
  EXPECT_EQ(set.Add(Indicator("02", "[ipv4-addr:value = '198.51.100.8']", R"(,"revoked":true)")),
            0);
  EXPECT_EQ(set.Add(Indicator("03", "[ipv4-addr:value = '198.51.100.9']",
                              R"(,"valid_until":"2026-11-30T00:00:00Z")")),
            0);
  EXPECT_EQ(set.Add(Indicator("04", "[ipv4-addr:value = '198.51.100.10']", "", stix::Tlp::kRed)),
            0);
  EXPECT_EQ(set.Add(Indicator(
                "05", "[ipv4-addr:value = '198.51.100.11' AND ipv4-addr:value = '198.51.100.12']")),
            0);
  EXPECT_EQ(set.Add(Indicator("06", "[file:name = 'a.exe']")), 0);  // no tool takes file names
  EXPECT_EQ(set.Add(Indicator("07", "[ipv4-addr:value = '198.51.100.7']", R"(,"confidence":90)")),
            1);
  EXPECT_EQ(set.Add(R"({"type":"malware","id":"malware--1"})"), 0);
  const auto entries = set.Entries();
  ASSERT_EQ(entries.size(), 2u);  // 198.51.100.7 once: the most confident
  EXPECT_EQ(entries[0].kind, ObservableKind::kIpv4);
  EXPECT_EQ(entries[0].value, "198.51.100.7");
  EXPECT_EQ(entries[0].confidence, 90);
  EXPECT_EQ(entries[0].indicator_id, "indicator--00000000-0000-4000-8000-000000000007");
  EXPECT_EQ(entries[1].kind, ObservableKind::kDomain);
  EXPECT_EQ(entries[1].value, "evil.example");
}

TEST(Enforcement, FiltersByTlpConfidenceProducerAgeAndKind) {
  ExportFilter filter = Filter();
  filter.max_tlp = stix::Tlp::kGreen;
  filter.min_confidence = 60;
  filter.producers = {"identity--00000000-0000-4000-8000-00000000000a"};
  filter.max_age_days = 30;
  filter.kinds = {ObservableKind::kIpv4};
  EnforcementSet set(filter);
  const std::string by = R"(,"created_by_ref":"identity--00000000-0000-4000-8000-00000000000a")";
  EXPECT_EQ(
      set.Add(Indicator("01", "[ipv4-addr:value = '198.51.100.1']", by + R"(,"confidence":70)")),
      1);
  EXPECT_EQ(set.Add(Indicator("02", "[ipv4-addr:value = '198.51.100.2']",
                              by + R"(,"confidence":70)", stix::Tlp::kAmber)),
            0);
  EXPECT_EQ(set.Add(Indicator("03", "[ipv4-addr:value = '198.51.100.3']", by)),
            0);  // 50 by default
  EXPECT_EQ(set.Add(Indicator("04", "[ipv4-addr:value = '198.51.100.4']", R"(,"confidence":70)")),
            0);
  EXPECT_EQ(
      set.Add(Indicator("05", "[domain-name:value = 'x.example']", by + R"(,"confidence":70)")), 0);
  filter.max_age_days = 5;
  EnforcementSet recent(filter);
  EXPECT_EQ(
      recent.Add(Indicator("01", "[ipv4-addr:value = '198.51.100.1']", by + R"(,"confidence":70)")),
      0);
}

TEST(Enforcement, ValuesThatWouldBreakAZoneOrBlockEverythingAreLeftOut) {
  EnforcementSet set(Filter());
  for (const char* value :
       {"*", "x;", "a(b.example", "q\\\"x.example", "$include.example", "com", "co.uk", "*.com"}) {
    EXPECT_EQ(set.Add(Indicator("01", std::string("[domain-name:value = '") + value + "']")), 0)
        << value;
  }
  EXPECT_EQ(
      set.Add(Indicator("02", "[domain-name:value = '" + std::string(64, 'a') + ".example']")), 0);
  EXPECT_EQ(set.Add(Indicator("03", "[ipv4-addr:value = '0.0.0.0/0']")), 0);
  EXPECT_EQ(set.Add(Indicator("04", "[ipv4-addr:value = '10.0.0.0/7']")), 0);
  EXPECT_EQ(set.Add(Indicator("05", "[ipv6-addr:value = '::/0']")), 0);
  EXPECT_EQ(set.Add(Indicator("06", "[ipv6-addr:value = '2001:db8::/31']")), 0);
  EXPECT_EQ(set.Add(Indicator("07", "[ipv4-addr:value = '10.0.0.0/8']")), 1);
  EXPECT_EQ(set.Add(Indicator("08", "[domain-name:value = 'evil_c2.example.co.uk']")), 1);
}

TEST(Enforcement, RpzIpTriggers) {
  EXPECT_EQ(RpzIpTrigger(ObservableKind::kIpv4, "198.51.100.7"), "32.7.100.51.198.rpz-ip");
  EXPECT_EQ(RpzIpTrigger(ObservableKind::kIpv4, "203.0.113.0/24"), "24.0.113.0.203.rpz-ip");
  EXPECT_EQ(RpzIpTrigger(ObservableKind::kIpv6, "2001:db8::1"), "128.1.zz.db8.2001.rpz-ip");
  EXPECT_EQ(RpzIpTrigger(ObservableKind::kIpv6, "2001:db8:0:1::/64"), "64.zz.1.0.db8.2001.rpz-ip");
  EXPECT_EQ(RpzIpTrigger(ObservableKind::kIpv6, "2001:db8:1:0:0:1:0:0/128"),
            "128.0.0.1.zz.1.db8.2001.rpz-ip")
      << "the first of two equal runs is the one compressed";
}

std::string Written(ExportFormat format, const ExportOptions& options = {}) {
  EnforcementSet set(Filter());
  set.Add(Indicator("01", "[ipv4-addr:value = '198.51.100.7']", R"(,"confidence":100)"));
  set.Add(Indicator("02", "[ipv4-addr:value = '203.0.113.0/24']"));
  set.Add(Indicator("03", "[ipv6-addr:value = '2001:db8::1']"));
  set.Add(Indicator("04", "[domain-name:value = 'evil.example']"));
  set.Add(Indicator("05", "[url:value = 'http://bad.example:8080/x;y?q=\\\"1\\\"']"));
  set.Add(Indicator("06",
                    "[file:hashes.'SHA-256' = "
                    "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']"));
  set.Add(Indicator("07", "[email-addr:value = 'a@phish.example']"));
  ExportOptions o = options;
  o.source = "CERT-A";
  o.generated_us = kExportedAt;
  std::ostringstream out;
  auto left_out = WriteEnforcement(format, set.Entries(), o, out);
  EXPECT_TRUE(left_out.ok()) << left_out.status().message();
  return out.str();
}

TEST(Enforcement, SuricataIprepAndBlocklists) {
  EXPECT_EQ(Written(ExportFormat::kSuricataIprep),
            "# kizuna IP reputation (category 1) from CERT-A, 2026-12-01T00:00:00Z, 3 entries\n"
            "198.51.100.7,1,127\n203.0.113.0/24,1,63\n2001:db8::1,1,63\n");
  EXPECT_EQ(Written(ExportFormat::kIpBlocklist),
            "# kizuna IP blocklist from CERT-A, 2026-12-01T00:00:00Z, 3 entries\n"
            "198.51.100.7\n203.0.113.0/24\n2001:db8::1\n");
  EXPECT_EQ(
      Written(ExportFormat::kDomainBlocklist),
      "# kizuna domain blocklist from CERT-A, 2026-12-01T00:00:00Z, 1 entries\nevil.example\n");
}

TEST(Enforcement, SuricataDatasetsHoldOneType) {
  ExportOptions options;
  options.dataset_kind = ObservableKind::kDomain;
  EXPECT_EQ(Written(ExportFormat::kSuricataDataset, options),
            "ZXZpbC5leGFtcGxl\n");  // base64("evil.example")
  options.dataset_kind = ObservableKind::kSha256;
  EXPECT_EQ(Written(ExportFormat::kSuricataDataset, options),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
  std::ostringstream out;
  EnforcementSet set(Filter());
  set.Add(
      Indicator("04", "[domain-name:value = 'evil.example'] OR [url:value = 'http://x.example/']"));
  auto mixed = WriteEnforcement(ExportFormat::kSuricataDataset, set.Entries(), {}, out);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("--type"), std::string::npos);
}

TEST(Enforcement, SuricataRules) {
  const std::string rules = Written(ExportFormat::kSuricataRules);
  EXPECT_NE(rules.find("alert ip any any <> [198.51.100.7] any (msg:\"kizuna ind 01\"; sid:"),
            std::string::npos)
      << rules;
  EXPECT_NE(
      rules.find("alert dns any any -> any any (msg:\"kizuna ind 04 (DNS)\"; dns.query; dotprefix; "
                 "content:\".evil.example\"; nocase; endswith; sid:"),
      std::string::npos)
      << rules;
  EXPECT_NE(rules.find("tls.sni; dotprefix; content:\".evil.example\"; nocase; endswith;"),
            std::string::npos);
  // The URL's reserved characters are hex in the content.
  EXPECT_NE(rules.find("http.host; content:\"bad.example\"; bsize:11; http.uri; "
                       "content:\"/x|3B|y?q=|22|1|22|\"; "
                       "bsize:10;"),
            std::string::npos)
      << rules;
  EXPECT_NE(rules.find("metadata:kizuna_indicator indicator--00000000-0000-4000-8000-000000000001, "
                       "confidence 100;)"),
            std::string::npos);
  // Six rules (one per address, two per name, one per URL), each its own sid.
  std::set<std::string> sids;
  size_t at = 0;
  int count = 0;
  while ((at = rules.find("sid:", at)) != std::string::npos) {
    sids.insert(rules.substr(at, rules.find(';', at) - at));
    ++at;
    ++count;
  }
  EXPECT_EQ(count, 6);
  EXPECT_EQ(sids.size(), 6u);
  EXPECT_EQ(Written(ExportFormat::kSuricataRules), rules) << "sids are stable";
}

TEST(Enforcement, ZeekIntel) {
  EXPECT_EQ(Written(ExportFormat::kZeekIntel),
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
            "198.51.100.7\tIntel::ADDR\tkizuna CERT-A\tind 01\t-\n"
            "203.0.113.0/24\tIntel::SUBNET\tkizuna CERT-A\tind 02\t-\n"
            "2001:db8::1\tIntel::ADDR\tkizuna CERT-A\tind 03\t-\n"
            "evil.example\tIntel::DOMAIN\tkizuna CERT-A\tind 04\t-\n"
            "bad.example:8080/x;y?q=\"1\"\tIntel::URL\tkizuna CERT-A\tind 05\t-\n"
            "a@phish.example\tIntel::EMAIL\tkizuna CERT-A\tind 07\t-\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\tIntel::FILE_"
            "HASH\tkizuna CERT-A\tind "
            "06\t-\n");
}

TEST(Enforcement, RpzZone) {
  EXPECT_EQ(Written(ExportFormat::kRpz),
            "; kizuna response policy zone from CERT-A, 2026-12-01T00:00:00Z, 4 entries\n"
            "$TTL 300\n"
            "@ IN SOA localhost. hostmaster.localhost. ( 1796083200 3600 600 864000 300 )\n"
            "@ IN NS localhost.\n"
            "32.7.100.51.198.rpz-ip CNAME .\n"
            "24.0.113.0.203.rpz-ip CNAME .\n"
            "128.1.zz.db8.2001.rpz-ip CNAME .\n"
            "evil.example CNAME .\n"
            "*.evil.example CNAME .\n");
}

}  // namespace
}  // namespace kizuna::interop
