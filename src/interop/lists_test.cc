// Indicator lists: every refang form, hosts-file and host:port lines,
// comments, CSV headers (plain, commented as abuse.ch writes them, named by
// --column), per-line errors with their numbers, deterministic ids,
// producers and lifetimes.
#include <gtest/gtest.h>

#include <sstream>

#include "common/time.h"
#include "interop/lists.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;

const int64_t kImportedAt = *ParseTimestamp("2026-12-01T00:00:00Z");

struct Read {
  Result<ListSummary> summary = Internal("not read yet");
  std::vector<json::object> objects;
  std::map<std::string, json::object> by_pattern;
};

Read ReadList(const std::string& text, ListOptions options = {}) {
  options.now_us = kImportedAt;
  Read read;
  std::istringstream in(text);
  read.summary = ReadIndicatorList(in, options, [&](json::object&& o) {
    if (o.at("type") == "indicator") read.by_pattern[std::string(o.at("pattern").as_string())] = o;
    read.objects.push_back(std::move(o));
    return Status::Ok();
  });
  return read;
}

std::string ErrorsText(const ListSummary& s) {
  std::string out;
  for (const ListError& e : s.errors) out += std::to_string(e.line) + ": " + e.reason + "\n";
  return out;
}

TEST(Lists, RefangsEveryFormAndDetectsTheKind) {
  const std::string text =
      "# a team's list\n"
      "hxxp://evil[.]example/a\n"
      "hXXps://bad(dot)example/x?y=1\n"
      "198[.]51[.]100[.]7\n"
      "user[@]phish[.]example\n"
      "evil{.}example\n"
      "fxp://files[.]example/f\n"
      "www[dot]bad[dot]example\n"
      "x(at)y(.)example\n"
      "c2{dot}example\n"
      "someone[at]corp.example\n"
      "hxxp[://]z.example/\n"
      "\n"
      "2001:db8::1\n"
      "203.0.113.0/24   # a whole block\n"
      "0.0.0.0 hosts.example\n"
      "D41D8CD98F00B204E9800998ECF8427E\n"
      "192.0.2.44:8080\n"
      "intranet.corp some words about it\n";
  Read r = ReadList(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().message();
  EXPECT_EQ(r.summary->rejected, 0) << ErrorsText(*r.summary);
  EXPECT_EQ(r.summary->format_detected, "text");
  EXPECT_EQ(r.summary->records, 17);
  for (const std::string pattern : {
           "[url:value = 'http://evil.example/a']",
           "[url:value = 'https://bad.example/x?y=1']",
           "[ipv4-addr:value = '198.51.100.7']",
           "[email-addr:value = 'user@phish.example']",
           "[domain-name:value = 'evil.example']",
           "[url:value = 'ftp://files.example/f']",
           "[domain-name:value = 'www.bad.example']",
           "[email-addr:value = 'x@y.example']",
           "[domain-name:value = 'c2.example']",
           "[email-addr:value = 'someone@corp.example']",
           "[url:value = 'http://z.example/']",
           "[ipv6-addr:value = '2001:db8::1']",
           "[ipv4-addr:value = '203.0.113.0/24']",
           "[domain-name:value = 'hosts.example']",
           "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
           "[ipv4-addr:value = '192.0.2.44']",
           "[domain-name:value = 'intranet.corp']",
       }) {
    EXPECT_TRUE(r.by_pattern.contains(pattern)) << pattern;
  }
  EXPECT_EQ(r.summary->accepted, 17);
  const json::object& block = r.by_pattern.at("[ipv4-addr:value = '203.0.113.0/24']");
  EXPECT_EQ(block.at("description"), "a whole block");
  EXPECT_EQ(r.by_pattern.at("[domain-name:value = 'intranet.corp']").at("description"),
            "some words about it");
  EXPECT_EQ(block.at("object_marking_refs").as_array()[0].as_string(),
            stix::TlpMarkingId(stix::Tlp::kAmber));
  EXPECT_EQ(block.at("valid_from"), "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(block.at("valid_until"), "2026-12-31T00:00:00.000Z");  // 30 days by default
  EXPECT_FALSE(block.contains("confidence"));
  EXPECT_FALSE(block.contains("created_by_ref"));
  EXPECT_EQ(r.summary->by_kind.at("url"), 4);
}

TEST(Lists, BadLinesAreReportedWithTheirNumbersAndTheRestGoesIn) {
  const std::string text =
      "evil.example\n"
      "not an indicator at all\n"
      "1.2.3\n"
      "\xff\xfe bad bytes\n" +
      std::string(70 * 1024, 'a') +
      "\n"
      "198.51.100.9\n";
  Read r = ReadList(text);
  ASSERT_TRUE(r.summary.ok());
  EXPECT_EQ(r.summary->accepted, 2);
  EXPECT_EQ(r.summary->rejected, 4);
  EXPECT_EQ(ErrorsText(*r.summary),
            "2: 'not' is not an IP address, network, domain, URL, e-mail address or hash\n"
            "3: '1.2.3' is not an IP address, network, domain, URL, e-mail address or hash\n"
            "4: not UTF-8\n"
            "5: longer than 65536 bytes\n");
}

TEST(Lists, IdsAreDeterministicPerProducerAndTheProducerIsAnIdentity) {
  ListOptions options;
  options.producer = "abuse.example feeds";
  options.confidence = 80;
  options.tlp = stix::Tlp::kGreen;
  options.lifetime_days = 0;
  options.labels = {"botnet"};
  Read first = ReadList("evil.example\n", options);
  Read again = ReadList("evil[.]example\n", options);
  ASSERT_EQ(first.objects.size(), 2u);
  EXPECT_EQ(first.objects[0].at("type"), "identity");
  EXPECT_EQ(first.objects[0].at("name"), "abuse.example feeds");
  EXPECT_EQ(first.objects[0].at("id").as_string(), ProducerIdentityId("abuse.example feeds"));
  const json::object& indicator = first.objects[1];
  EXPECT_EQ(indicator.at("created_by_ref").as_string(), ProducerIdentityId("abuse.example feeds"));
  EXPECT_EQ(indicator.at("confidence"), 80);
  EXPECT_EQ(indicator.at("labels").as_array()[0], "botnet");
  EXPECT_FALSE(indicator.contains("valid_until"));
  EXPECT_EQ(indicator.at("object_marking_refs").as_array()[0].as_string(),
            stix::TlpMarkingId(stix::Tlp::kGreen));
  EXPECT_EQ(again.objects[1].at("id"), indicator.at("id"))
      << "the same value is the same indicator";
  options.producer = "another producer";
  Read other = ReadList("evil.example\n", options);
  EXPECT_NE(other.objects[1].at("id"), indicator.at("id"));
}

TEST(Lists, CsvWithAHeaderTypesTimesTagsConfidenceAndTlp) {
  const std::string text =
      "indicator,type,first_seen,last_seen,tags,confidence,tlp,comment\n"
      "evil.example,domain,2026-11-20 10:00:00,2026-11-30 00:00:00,\"mirai, "
      "loader\",90,tlp:green,seen in JP\n"
      "198.51.100.7,ip-dst,2026-11-21T00:00:00Z,,,,,\n"
      "198.51.100.8,domain,,,,,,\n"
      "evil2.example,domain,yesterday,,,,,\n"
      "evil3.example,domain,,,,101,,\n"
      "evil4.example,domain,,,,,purple,\n"
      "too,few\n"
      "http://x.example/,url,,,,,,\n";
  Read r = ReadList(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().message();
  EXPECT_EQ(r.summary->format_detected, "csv");
  EXPECT_EQ(r.summary->value_column, "indicator");
  EXPECT_EQ(r.summary->accepted, 3);
  EXPECT_EQ(ErrorsText(*r.summary),
            "4: '198.51.100.8' is not of type domain\n"
            "5: first_seen 'yesterday' is not a time\n"
            "6: confidence '101' is not 0 to 100\n"
            "7: unknown TLP 'purple'\n"
            "8: 2 fields where the header has 8\n");
  const json::object& evil = r.by_pattern.at("[domain-name:value = 'evil.example']");
  EXPECT_EQ(evil.at("valid_from"), "2026-11-20T10:00:00.000Z");
  // The lifetime counts from the import (later than last_seen).
  EXPECT_EQ(evil.at("valid_until"), "2026-12-31T00:00:00.000Z");
  EXPECT_EQ(evil.at("confidence"), 90);
  EXPECT_EQ(evil.at("description"), "seen in JP");
  EXPECT_EQ(json::serialize(evil.at("labels")), R"(["mirai","loader"])");
  EXPECT_EQ(evil.at("object_marking_refs").as_array()[0].as_string(),
            stix::TlpMarkingId(stix::Tlp::kGreen));
  EXPECT_TRUE(r.by_pattern.contains("[url:value = 'http://x.example/']"));
}

TEST(Lists, AbuseChStyleCommentedHeaderAndNamedColumns) {
  // URLhaus's CSV: its header is the last comment line.
  const std::string urlhaus =
      "################################################################\n"
      "# abuse.ch URLhaus Database Dump (CSV)                          #\n"
      "################################################################\n"
      "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
      "\"3000001\",\"2026-11-30 12:00:05\",\"http://198.51.100.20:8080/bins/mozi.m\",\"online\","
      "\"2026-11-30 "
      "12:00:05\",\"malware_download\",\"elf,Mozi\",\"https://urlhaus.example/3000001/\",\"lrz\"\n";
  Read r = ReadList(urlhaus);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().message();
  EXPECT_EQ(r.summary->format_detected, "csv");
  EXPECT_EQ(r.summary->value_column, "url");
  EXPECT_EQ(r.summary->rejected, 0) << ErrorsText(*r.summary);
  const json::object& url =
      r.by_pattern.at("[url:value = 'http://198.51.100.20:8080/bins/mozi.m']");
  EXPECT_EQ(url.at("valid_from"), "2026-11-30T12:00:05.000Z");
  EXPECT_EQ(json::serialize(url.at("labels")), R"(["elf","Mozi"])");

  // A team's spreadsheet with its own names, mapped by --column.
  ListOptions options;
  options.columns[ListField::kValue] = "Observable";
  options.columns[ListField::kDescription] = "Notes";
  Read named =
      ReadList("Observable,Notes,indicator\nevil.example,phishing,ignored.example\n", options);
  ASSERT_TRUE(named.summary.ok()) << named.summary.status().message();
  EXPECT_EQ(named.summary->value_column, "observable");
  EXPECT_EQ(named.by_pattern.at("[domain-name:value = 'evil.example']").at("description"),
            "phishing");

  options.columns[ListField::kValue] = "nosuch";
  Read missing = ReadList("Observable,Notes\nevil.example,x\n", options);
  ASSERT_FALSE(missing.summary.ok());
  EXPECT_EQ(missing.summary.status().message(),
            "--column value=nosuch: the header has no such column (observable, notes)");
}

TEST(Lists, HeaderlessCsvTakesTheFirstFieldHoldingAnIndicator) {
  ListOptions options;
  options.format = ListFormat::kCsv;
  Read r = ReadList("2026-11-30,198.51.100.30,443\n2026-11-30,nothing,here\n", options);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().message();
  EXPECT_EQ(r.summary->accepted, 1);
  EXPECT_TRUE(r.by_pattern.contains("[ipv4-addr:value = '198.51.100.30']"));
  EXPECT_EQ(ErrorsText(*r.summary), "2: no field holds an indicator\n");
}

TEST(Lists, PatternsEscapeQuotes) {
  EXPECT_EQ(PatternFor(correlation::ObservableKind::kUrl, "http://x.example/a'b\\c"),
            "[url:value = 'http://x.example/a\\'b\\\\c']");
  EXPECT_EQ(PatternFor(correlation::ObservableKind::kMutex, "m"), "");
}

}  // namespace
}  // namespace kizuna::interop
