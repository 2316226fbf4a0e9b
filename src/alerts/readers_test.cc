#include "alerts/readers.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "alerts/generate.h"
#include "alerts/shadowserver.h"
#include "alerts/taxonomy.h"
#include "alerts/text.h"

namespace kizuna::alerts {
namespace {

struct Read {
  Result<ReadSummary> summary = Internal("not read");
  std::vector<Observation> observations;
};

Read ReadText(const std::string& text, ReadOptions options = {}) {
  std::istringstream in(text);
  Read r;
  r.summary = ReadObservations(in, options,
                               [&](Observation&& o) { r.observations.push_back(std::move(o)); });
  return r;
}

int64_t Time(std::string_view text) { return *ParseObservationTime(text); }

boost::json::object Evidence(const Observation& o) {
  return boost::json::parse(o.evidence).as_object();
}

// Sample rows from the column sets of Shadowserver's reports (report_schema,
// reports.json) with values like those of IntelMQ's parser test files.
const char kScanTelnet[] =
    "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\","
    "\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"banner\"\n"
    "\"2019-09-04 12:27:34\",\"medium\",\"198.123.245.145\",\"tcp\",5678,\"example.local\","
    "\"telnet-alt\",20255,\"AA\",\"LOCATION\",\"LOCATION\",0,\"ptr\",,\"|MikroTik v6.5|Login:\"\n"
    "\"2019-09-04 12:27:40\",\"high\",\"203.0.113.9\",\"tcp\",23,,\"telnet\",4713,\"JP\","
    "\"TOKYO\",\"TOKYO\",517311,,\"Communications, Service Provider, and Hosting Service\","
    "\"User Access Verification\"\n";

const char kSinkholeHeader[] =
    "\"timestamp\",\"protocol\",\"src_ip\",\"src_port\",\"src_asn\",\"src_geo\",\"src_region\","
    "\"src_city\",\"src_hostname\",\"src_naics\",\"src_sector\",\"device_vendor\","
    "\"device_type\",\"device_model\",\"dst_ip\",\"dst_port\",\"dst_asn\",\"dst_geo\","
    "\"dst_region\",\"dst_city\",\"dst_hostname\",\"dst_naics\",\"dst_sector\","
    "\"public_source\",\"infection\",\"family\",\"tag\",\"application\",\"version\","
    "\"event_id\"";

TEST(Taxonomy, TypesBelongToOneClass) {
  EXPECT_EQ(RsitClasses().size(), 11u);
  EXPECT_EQ(RsitClassOfType("infected-system"), "malicious-code");
  EXPECT_EQ(RsitClassOfType("scanner"), "information-gathering");
  EXPECT_EQ(RsitClassOfType("vulnerable-system"), "vulnerable");
  EXPECT_EQ(RsitClassOfType("blacklist"), "");
  EXPECT_TRUE(IsRsitClass("abusive-content"));
  EXPECT_FALSE(IsRsitClass("malware"));
  std::string t, ty;
  ASSERT_TRUE(ResolveClassification("", "scanner", "", "", &t, &ty).ok());
  EXPECT_EQ(t, "information-gathering");
  ASSERT_TRUE(ResolveClassification("", "", "", "", &t, &ty).ok());
  EXPECT_EQ(t + "/" + ty, "other/undetermined");
  ASSERT_TRUE(ResolveClassification("", "", "malicious-code", "infected-system", &t, &ty).ok());
  EXPECT_EQ(ty, "infected-system");
  EXPECT_FALSE(ResolveClassification("vulnerable", "scanner", "", "", &t, &ty).ok());
  EXPECT_FALSE(ResolveClassification("", "botnet", "", "", &t, &ty).ok());
  EXPECT_FALSE(ResolveClassification("malicious-code", "", "", "", &t, &ty).ok());
  EXPECT_TRUE(ResolveClassification("malicious-code", "", "", "infected-system", &t, &ty).ok());
}

TEST(Shadowserver, TableIsSortedAndRsit) {
  auto reports = ShadowserverReports();
  ASSERT_GT(reports.size(), 150u);
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(reports[i - 1].name, reports[i].name);
    }
    if (!reports[i].taxonomy.empty()) {
      EXPECT_TRUE(CheckClassification(reports[i].taxonomy, reports[i].type).ok())
          << reports[i].name;
    }
  }
  EXPECT_NE(FindShadowserverReport("scan_telnet"), nullptr);
  EXPECT_EQ(FindShadowserverReport("scan_nothing"), nullptr);
}

TEST(Shadowserver, ReportFromFileName) {
  EXPECT_EQ(ShadowserverReportFromFileName("2026-11-28-scan_telnet-jp-asn.csv"), "scan_telnet");
  EXPECT_EQ(ShadowserverReportFromFileName("/tmp/x/2024-07-04-dns_openresolver-123-sample-asn.csv"),
            "dns_openresolver");
  EXPECT_EQ(ShadowserverReportFromFileName("event4_sinkhole.csv"), "event4_sinkhole");
  EXPECT_EQ(ShadowserverReportFromFileName("report.txt"), "");
  EXPECT_EQ(ShadowserverReportFromFileName("2026-11-28-.csv"), "");
}

TEST(ShadowserverReader, ScanTelnet) {
  Read r = ReadText(kScanTelnet);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->format_detected, "shadowserver");
  EXPECT_EQ(r.summary->report_type, "scan_telnet");
  EXPECT_EQ(r.summary->records, 2);
  EXPECT_EQ(r.summary->accepted, 2);
  ASSERT_EQ(r.observations.size(), 2u);
  const Observation& o = r.observations[0];
  EXPECT_EQ(FormatHostAddress(o.ip), "198.123.245.145");
  EXPECT_EQ(o.time_us, Time("2019-09-04T12:27:34Z"));
  EXPECT_EQ(o.port, 5678);
  EXPECT_EQ(o.protocol, "tcp");
  EXPECT_EQ(o.taxonomy, "vulnerable");
  EXPECT_EQ(o.type, "vulnerable-system");
  EXPECT_EQ(o.identifier, "open-telnet");
  EXPECT_EQ(o.family, "");
  EXPECT_EQ(o.source, "shadowserver/scan_telnet");
  EXPECT_EQ(o.hostname, "example.local");
  EXPECT_EQ(o.feed_asn, 20255u);
  EXPECT_EQ(o.feed_country, "AA");
  auto evidence = Evidence(o);
  EXPECT_EQ(evidence.at("banner").as_string(), "|MikroTik v6.5|Login:");
  EXPECT_EQ(evidence.at("tag").as_string(), "telnet-alt");
  EXPECT_FALSE(evidence.contains("sector"));  // empty fields are left out
  const Observation& p = r.observations[1];
  EXPECT_EQ(p.feed_country, "JP");
  EXPECT_EQ(Evidence(p).at("sector").as_string(),
            "Communications, Service Provider, and Hosting Service");
}

TEST(ShadowserverReader, OtherScanReportsByName) {
  // scan_ssh's header is not telnet's: the report comes from the file name.
  const std::string text =
      "timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,sic,serverid_raw,"
      "serverid_version,serverid_software\n"
      "2022-01-10 02:20:37,18.179.0.1,tcp,22,ec2-18-179-0-1.ap-northeast-1.compute.amazonaws.com,"
      "ssh,16509,JP,TOKYO,TOKYO,454110,,SSH-2.0-OpenSSH_7.4,2.0,OpenSSH_7.4\n";
  Read unnamed = ReadText(text);
  ASSERT_TRUE(unnamed.summary.ok());
  EXPECT_EQ(unnamed.summary->format_detected, "csv");  // only a generic CSV without its name
  ReadOptions options;
  options.report_type = "scan_ssh";
  Read r = ReadText(text, options);
  ASSERT_TRUE(r.summary.ok());
  EXPECT_EQ(r.summary->format_detected, "shadowserver");
  ASSERT_EQ(r.observations.size(), 1u);
  EXPECT_EQ(r.observations[0].identifier, "open-ssh");
  EXPECT_EQ(r.observations[0].taxonomy, "other");
  EXPECT_EQ(r.observations[0].source, "shadowserver/scan_ssh");
  // A file name as the hint; a scan this table does not know.
  options.report_type = "2026-11-28-scan_rdp-jp-asn.csv";
  EXPECT_EQ(ReadText(text, options).observations.at(0).identifier, "open-rdp");
  options.report_type = "scan_brandnew";
  Read unknown = ReadText(text, options);
  ASSERT_EQ(unknown.observations.size(), 1u);
  EXPECT_EQ(unknown.observations[0].type, "vulnerable-system");
  EXPECT_EQ(unknown.observations[0].identifier, "ssh");  // its tag
}

TEST(ShadowserverReader, Event4Sinkhole) {
  const std::string text =
      std::string(kSinkholeHeader) +
      "\n\"2021-03-04 00:00:00\",\"tcp\",\"190.113.1.2\",17409,12252,\"PE\","
      "\"METROPOLITANA DE LIMA\",\"LIMA\",,,,,,,\"178.162.1.2\",4455,28753,\"DE\",\"HESSEN\","
      "\"FRANKFURT AM MAIN\",,518210,\"Communications, Service Provider, and Hosting Service\","
      ",\"mirai\",\"mirai\",,,,\n"
      "\"2021-03-04 00:00:00\",\"tcp\",\"35.205.9.10\",44696,15169,\"BE\",\"BRUXELLES-CAPITALE\","
      "\"BRUSSELS\",\"x.x.205.35.bc.googleusercontent.com\",519130,\"Communications, Service "
      "Provider, and Hosting Service\",,,,\"148.81.9.10\",80,1887,\"PL\",\"MAZOWIECKIE\","
      "\"WARSAW\",,,,,\"virut\",\"virut\",,,,\n";
  Read r = ReadText(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->report_type, "event4_sinkhole");
  ASSERT_EQ(r.observations.size(), 2u);
  const Observation& o = r.observations[0];
  EXPECT_EQ(FormatHostAddress(o.ip), "190.113.1.2");
  EXPECT_EQ(o.port, 17409);
  EXPECT_EQ(o.taxonomy, "malicious-code");
  EXPECT_EQ(o.type, "infected-system");
  EXPECT_EQ(o.identifier, "mirai");
  EXPECT_EQ(o.family, "mirai");
  EXPECT_EQ(o.feed_asn, 12252u);
  EXPECT_EQ(o.feed_country, "PE");
  EXPECT_EQ(Evidence(o).at("dst_ip").as_string(), "178.162.1.2");
  EXPECT_EQ(r.observations[1].hostname, "x.x.205.35.bc.googleusercontent.com");
  EXPECT_EQ(r.observations[1].family, "virut");
}

TEST(ShadowserverReader, Event4SinkholeHttp) {
  const std::string text =
      std::string(kSinkholeHeader) +
      ",\"http_url\",\"http_host\",\"http_agent\",\"forwarded_by\",\"ssl_cipher\","
      "\"http_referer\"\n"
      "\"2021-03-04 00:00:00\",\"tcp\",\"103.196.1.2\",60902,134707,\"PH\",\"NUEVA ECIJA\","
      "\"DEL PILAR\",,,,,,,\"184.105.1.2\",80,6939,\"US\",\"CALIFORNIA\",\"FREMONT\",,518210,"
      "\"Communications, Service Provider, and Hosting Service\",,\"andromeda\","
      "\"avalanche-andromeda\",,,,,\"GET /gate.php HTTP/1.1\",\"differentia.ru\","
      "\"Mozilla/4.0 (compatible; MSIE 8.0)\",,,\n"
      "\"2022-03-02 09:14:19\",\"tcp\",\"2001:448a:1082:4d9b:7491:bf9e:3d5f:a634\",49431,7713,"
      "\"ID\",\"JAKARTA RAYA\",\"JAKARTA\",,,,,,,\"2001:470:1:332::fe\",80,6939,\"US\","
      "\"CALIFORNIA\",\"FREMONT\",,518210,\"Communications, Service Provider, and Hosting "
      "Service\",,\"boaxxe\",\"boaxxe\",\"3ve\",,,,\"GET /QKMSvF2hl11j HTTP/1.1\",\"devps.net\","
      "\"Mozilla/4.0\",,,\n";
  Read r = ReadText(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->report_type, "event4_sinkhole_http");
  ASSERT_EQ(r.observations.size(), 2u);
  EXPECT_EQ(r.observations[0].identifier, "andromeda");
  EXPECT_EQ(r.observations[0].family, "andromeda");
  EXPECT_EQ(r.observations[0].port, 60902);
  EXPECT_EQ(r.observations[0].hostname, "");  // http_host is the sinkhole's name, not the host's
  EXPECT_EQ(Evidence(r.observations[0]).at("http_host").as_string(), "differentia.ru");
  const Observation& v6 = r.observations[1];
  ASSERT_TRUE(v6.ip.is_v6);
  EXPECT_EQ(FormatHostAddress(v6.ip), "2001:448a:1082:4d9b:7491:bf9e:3d5f:a634");
  EXPECT_EQ(v6.identifier, "boaxxe");
}

TEST(ShadowserverReader, HoneypotDarknetAndScanEvents) {
  const std::string text =
      std::string(kSinkholeHeader) +
      ",\"count\"\n"
      "\"2021-03-07 00:00:00\",\"tcp\",\"61.3.1.2\",4717,9829,\"IN\",\"KERALA\",\"CHENGANNUR\",,"
      "518210,,,,,,23,,,,,,,,,\"mirai\",,\"mirai\",,,,3\n"
      "\"2021-03-07 00:00:00\",\"tcp\",\"45.225.5.6\",59777,266915,\"BR\",\"BAHIA\","
      "\"VITORIA DA CONQUISTA\",\"static-45-225-x-x.example.net\",,,,,,,23,,,,,,,,,,,"
      "\"telnet-scan\",,,,1\n";
  Read r = ReadText(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->report_type, "event4_honeypot_darknet");
  ASSERT_EQ(r.observations.size(), 2u);
  // Shadowserver's schema classifies darknet events other/other, the tag as identifier.
  EXPECT_EQ(r.observations[0].taxonomy, "other");
  EXPECT_EQ(r.observations[0].type, "other");
  EXPECT_EQ(r.observations[0].identifier, "mirai");
  EXPECT_EQ(r.observations[0].family, "mirai");
  EXPECT_EQ(r.observations[1].identifier, "telnet-scan");
  EXPECT_EQ(r.observations[1].family, "");

  // The honeypot scan events are scanners.
  ReadOptions options;
  options.report_type = "event4_honeypot_http_scan";
  const std::string scan = std::string(kSinkholeHeader) +
                           ",\"pattern\",\"http_url\"\n"
                           "\"2024-05-01 10:00:00\",\"tcp\",\"61.3.1.2\",4717,9829,\"IN\",,,,,"
                           ",,,,,80,,,,,,,,,,,,,,,\"/cgi-bin/luci\",\"/cgi-bin/luci\"\n";
  Read s = ReadText(scan, options);
  ASSERT_TRUE(s.summary.ok()) << s.summary.status().ToString();
  ASSERT_EQ(s.observations.size(), 1u);
  EXPECT_EQ(s.observations[0].taxonomy, "information-gathering");
  EXPECT_EQ(s.observations[0].type, "scanner");
  EXPECT_EQ(s.observations[0].identifier, "honeypot-http-scan");
}

TEST(ShadowserverReader, BotnetDrone) {
  const std::string text =
      "\"timestamp\",\"ip\",\"port\",\"asn\",\"geo\",\"region\",\"city\",\"hostname\",\"type\","
      "\"infection\",\"url\",\"agent\",\"cc_ip\",\"cc_port\",\"cc_asn\",\"cc_geo\",\"cc_dns\","
      "\"count\",\"proxy\",\"application\",\"p0f_genre\",\"p0f_detail\",\"machine_name\",\"id\","
      "\"naics\",\"sic\",\"cc_naics\",\"cc_sic\",\"sector\",\"cc_sector\",\"ssl_cipher\","
      "\"family\",\"tag\",\"public_source\"\n"
      "\"2011-04-23 00:00:05\",\"210.23.139.130\",3218,0,\"AU\",\"VICTORIA\",\"MELBOURNE\",,"
      "\"tcp\",\"dorkbot\",,,\"74.208.164.166\",80,8560,\"US\",,1,,,\"Windows\","
      "\"2000 SP4, XP SP1+\",,,541690,874899,0,0,,,,\"dorkbot\",\"sinkhole\","
      "\"AnubisNetworks\"\n";
  Read r = ReadText(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->report_type, "botnet_drone");
  ASSERT_EQ(r.observations.size(), 1u);
  const Observation& o = r.observations[0];
  EXPECT_EQ(o.taxonomy, "malicious-code");
  EXPECT_EQ(o.type, "infected-system");
  EXPECT_EQ(o.family, "dorkbot");
  EXPECT_EQ(o.identifier, "dorkbot");
  EXPECT_EQ(o.protocol, "tcp");  // the drone report's "type" column
  EXPECT_EQ(o.port, 3218);
  EXPECT_EQ(o.feed_asn, 0u);
}

TEST(Detection, Formats) {
  EXPECT_EQ(ReadText(kScanTelnet).summary->format_detected, "shadowserver");
  EXPECT_EQ(ReadText("ip,time\n192.0.2.1,2026-11-28 01:00:00\n").summary->format_detected, "csv");
  EXPECT_EQ(ReadText("{\"ip\": \"192.0.2.1\", \"time\": \"2026-11-28T01:00:00Z\"}\n")
                .summary->format_detected,
            "json-lines");
  EXPECT_EQ(ReadText("\n [{\"ip\": \"192.0.2.1\", \"time\": \"2026-11-28T01:00:00Z\"}]")
                .summary->format_detected,
            "json-array");
  Read none = ReadText("hello world\nthis is text\n");
  ASSERT_FALSE(none.summary.ok());
  EXPECT_NE(none.summary.status().message().find("cannot detect"), std::string::npos);
  EXPECT_FALSE(ReadText("").summary.ok());
  ReadOptions csv;
  csv.format = InputFormat::kCsv;
  Read no_ip = ReadText("host,time\nexample.com,2026-11-28 01:00:00\n", csv);
  ASSERT_FALSE(no_ip.summary.ok());
  EXPECT_NE(no_ip.summary.status().message().find("no IP column"), std::string::npos);
  EXPECT_TRUE(no_ip.observations.empty());
  // Forced formats.
  EXPECT_EQ(ReadText(kScanTelnet, csv).summary->format_detected, "csv");
  ReadOptions ss;
  ss.format = InputFormat::kShadowserver;
  EXPECT_FALSE(ReadText("ip,time\n192.0.2.1,2026-11-28 01:00:00\n", ss).summary.ok());
  EXPECT_EQ(*ParseInputFormat("JSON"), InputFormat::kJson);
  EXPECT_FALSE(ParseInputFormat("xml").ok());
}

TEST(Csv, Rfc4180QuotingBomAndCrlf) {
  const std::string text =
      "\xEF\xBB\xBFip,time,family,note\r\n"
      "192.0.2.1,2026-11-28 01:00:00,mirai,\"a, b\"\r\n"
      "192.0.2.2,2026-11-28 01:00:01,Mozi,\"say \"\"hi\"\"\"\r\n"
      "192.0.2.3,2026-11-28 01:00:02,,\"two\r\nlines\"\r\n"
      "192.0.2.4,2026-11-28 01:00:03,,last\r\n";
  Read r = ReadText(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->format_detected, "csv");
  ASSERT_EQ(r.observations.size(), 4u) << r.summary->errors.size();
  EXPECT_EQ(Evidence(r.observations[0]).at("note").as_string(), "a, b");
  EXPECT_EQ(r.observations[1].family, "mozi");
  EXPECT_EQ(Evidence(r.observations[1]).at("note").as_string(), "say \"hi\"");
  EXPECT_EQ(Evidence(r.observations[2]).at("note").as_string(), "two\r\nlines");
  EXPECT_EQ(r.observations[0].source, "csv");
  EXPECT_EQ(r.observations[0].taxonomy, "other");
  EXPECT_EQ(r.observations[0].type, "undetermined");
  EXPECT_EQ(r.observations[0].identifier, "mirai");
}

TEST(Csv, BadLinesWithLineNumbersAndReasons) {
  const std::string text =
      "ip,time,port,type\n"                            // 1
      "192.0.2.1,2026-11-28 01:00:00,23,scanner\n"     // 2 ok
      "999.0.2.1,2026-11-28 01:00:00,23,scanner\n"     // 3 bad IP
      "192.0.2.3,2026-13-28 01:00:00,23,scanner\n"     // 4 bad time
      "192.0.2.4,2026-11-28 01:00:00\n"                // 5 short row
      "192.0.2.5,2026-11-28 01:00:00,70000,scanner\n"  // 6 bad port
      "\n"                                             // 7 blank: not a record
      "192.0.2.8,2026-11-28 01:00:00,23,botnet\n"      // 8 unknown type
      "192.0.2.9,2026-11-28 01:00:00,23,\"a\n"         // 9-10 quoted line break
      "b\"\n"
      "192.0.2.11,,23,scanner\n"  // 11 no time
      "," +
      std::string(70000, 'x') +
      "\n"                                        // 12 over-long
      "192.0.2.13,2026-11-28 01:00:00,23,\xff\n"  // 13 invalid UTF-8
      "0.0.0.0,2026-11-28 01:00:00,23,scanner\n"  // 14 not a host
      "192.0.2.15,2026-11-28T01:00:00Z,,\n";      // 15 ok
  Read r = ReadText(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->records, 12);
  EXPECT_EQ(r.summary->accepted, 2);
  EXPECT_EQ(r.summary->rejected, 10);
  std::vector<std::pair<int64_t, std::string>> expected = {
      {3, "bad IP address '999.0.2.1'"},
      {4, "bad time '2026-13-28 01:00:00'"},
      {5, "expected 4 fields, found 2"},
      {6, "bad port '70000'"},
      {8, "'botnet' is not an RSIT incident type"},
      {9, "'a\nb' is not an RSIT incident type"},
      {11, "no time"},
      {12, "line longer than 65536 bytes"},
      {13, "invalid UTF-8"},
      {14, "not a host address: '0.0.0.0'"},
  };
  ASSERT_EQ(r.summary->errors.size(), 10u);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.summary->errors[i].line, expected[i].first) << i;
    EXPECT_EQ(r.summary->errors[i].message, expected[i].second) << i;
  }
  ASSERT_EQ(r.observations.size(), 2u);
  EXPECT_EQ(r.observations[0].type, "scanner");
  EXPECT_EQ(r.observations[0].taxonomy, "information-gathering");
  EXPECT_EQ(FormatHostAddress(r.observations[1].ip), "192.0.2.15");
  // With a time for records without one, line 11 goes through.
  ReadOptions options;
  options.now_us = Time("2026-11-29 00:00:00");
  Read with_now = ReadText(text, options);
  EXPECT_EQ(with_now.summary->accepted, 3);
}

TEST(Csv, MappingAndDefaults) {
  ReadOptions options;
  options.mapping.ip = {"addr"};
  options.mapping.time = {"seen"};
  options.default_taxonomy = "malicious-code";
  options.default_type = "infected-system";
  options.default_identifier = "botnet";
  options.default_confidence = 80;
  options.source = "file/partner.csv";
  Read r = ReadText("addr,seen,ip\n2001:db8::1,2026-11-28 00:00:00+09:00,192.0.2.1\n", options);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  ASSERT_EQ(r.observations.size(), 1u);
  const Observation& o = r.observations[0];
  EXPECT_TRUE(o.ip.is_v6);
  EXPECT_EQ(FormatHostAddress(o.ip), "2001:db8::1");
  EXPECT_EQ(o.time_us, Time("2026-11-27T15:00:00Z"));
  EXPECT_EQ(o.taxonomy, "malicious-code");
  EXPECT_EQ(o.identifier, "botnet");
  EXPECT_EQ(o.confidence, 80);
  EXPECT_EQ(o.source, "file/partner.csv");
  options.default_type = "scanner";  // not of malicious-code
  EXPECT_FALSE(ReadText("addr\n192.0.2.1\n", options).summary.ok());
}

TEST(Json, IntelMqEventsAsJsonLines) {
  const std::string text =
      R"({"feed.name": "Sinkhole-Events IPv4", "time.source": "2026-11-28T01:02:03+00:00", )"
      R"("source.ip": "192.0.2.7", "source.port": 4455, "protocol.transport": "tcp", )"
      R"("classification.taxonomy": "malicious-code", "classification.type": "infected-system", )"
      R"("classification.identifier": "mirai", "malware.name": "mirai", "source.asn": 64496, )"
      R"("source.geolocation.cc": "at", "source.fqdn": "host.example.net", "feed.accuracy": 90.0, )"
      R"("extra.tag": null})"
      "\n\n"
      R"({"source": {"ip": "2001:db8::7"}, "time": 1795824000, "type": "scanner"})"
      "\n"
      R"({"ip": "192.0.2.8", "time": "2026-11-28 00:00:00", "port": "http"})"
      "\n"
      R"({"ip": 3221225992, "time": "2026-11-28 00:00:00"})"
      "\n"
      R"({"ip": "192.0.2.9", "time": "2026-11-28 00:00:00", "classification.type": "worm"})"
      "\n"
      "{\"ip\": \"192.0.2.10\", \"time\": \"2026-11-28\n"
      "[1, 2]\n";
  Read r = ReadText(text);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->format_detected, "json-lines");
  EXPECT_EQ(r.summary->records, 7);
  ASSERT_EQ(r.observations.size(), 2u);
  const Observation& o = r.observations[0];
  EXPECT_EQ(FormatHostAddress(o.ip), "192.0.2.7");
  EXPECT_EQ(o.time_us, Time("2026-11-28T01:02:03Z"));
  EXPECT_EQ(o.port, 4455);
  EXPECT_EQ(o.protocol, "tcp");
  EXPECT_EQ(o.taxonomy, "malicious-code");
  EXPECT_EQ(o.type, "infected-system");
  EXPECT_EQ(o.identifier, "mirai");
  EXPECT_EQ(o.family, "mirai");
  EXPECT_EQ(o.feed_asn, 64496u);
  EXPECT_EQ(o.feed_country, "AT");
  EXPECT_EQ(o.hostname, "host.example.net");
  EXPECT_EQ(o.confidence, 90);
  EXPECT_EQ(o.source, "Sinkhole-Events IPv4");
  auto evidence = Evidence(o);
  EXPECT_EQ(evidence.at("source.port").as_int64(), 4455);
  EXPECT_FALSE(evidence.contains("extra.tag"));
  const Observation& p = r.observations[1];
  EXPECT_EQ(FormatHostAddress(p.ip), "2001:db8::7");
  EXPECT_EQ(p.time_us, Time("2026-11-28T00:00:00Z"));
  EXPECT_EQ(p.taxonomy, "information-gathering");
  EXPECT_EQ(p.source, "json");
  ASSERT_EQ(r.summary->errors.size(), 5u);
  EXPECT_EQ(r.summary->errors[0].line, 4);
  EXPECT_EQ(r.summary->errors[0].message, "bad port 'http'");
  EXPECT_EQ(r.summary->errors[1].line, 5);
  EXPECT_EQ(r.summary->errors[1].message, "field 'ip' (IP address) is not a string");
  EXPECT_EQ(r.summary->errors[2].line, 6);
  EXPECT_EQ(r.summary->errors[3].line, 7);
  EXPECT_EQ(r.summary->errors[3].message.rfind("invalid JSON", 0), 0u);
  EXPECT_EQ(r.summary->errors[4].line, 8);
  EXPECT_EQ(r.summary->errors[4].message, "not a JSON object");
}

TEST(Json, ArrayElementsCountedByIndex) {
  ReadOptions options;
  options.source = "partner";
  const std::string text =
      "[\n"
      R"( {"ip": "192.0.2.1", "time": "2026-11-28T00:00:00Z", "feed.name": "bots"},)"
      "\n"
      R"( {"ip": "not-an-ip", "time": "2026-11-28T00:00:00Z"},)"
      "\n"
      R"( {"ip": "192.0.2.3", "time": "2026-11-28T00:00:00Z", "note": "a ] and a , inside"},)"
      R"( "text", {"ip": "192.0.2.5", "time": "2026-11-28T00:00:00Z", "x": {"y": [1, {"z": 2}]}})"
      "\n]\n";
  Read r = ReadText(text, options);
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  EXPECT_EQ(r.summary->format_detected, "json-array");
  EXPECT_EQ(r.summary->records, 5);
  ASSERT_EQ(r.observations.size(), 3u);
  EXPECT_EQ(r.observations[0].source, "partner/bots");
  EXPECT_EQ(r.observations[1].source, "partner");
  EXPECT_EQ(Evidence(r.observations[1]).at("note").as_string(), "a ] and a , inside");
  EXPECT_EQ(Evidence(r.observations[2]).at("x.y").as_array().size(), 2u);
  ASSERT_EQ(r.summary->errors.size(), 2u);
  EXPECT_EQ(r.summary->errors[0].line, 2);
  EXPECT_EQ(r.summary->errors[0].message, "bad IP address 'not-an-ip'");
  EXPECT_EQ(r.summary->errors[1].line, 4);
  EXPECT_EQ(r.summary->errors[1].message, "not a JSON object");

  EXPECT_EQ(ReadText("[]").summary->records, 0);
  Read cut = ReadText(R"([{"ip": "192.0.2.1", "time": "2026-11-28T00:00:00Z"}, {"ip": )");
  ASSERT_TRUE(cut.summary.ok());
  EXPECT_EQ(cut.summary->accepted, 1);
  EXPECT_EQ(cut.summary->rejected, 1);
  Read trailing = ReadText(R"([{"ip": "192.0.2.1", "time": "2026-11-28T00:00:00Z"}] x)");
  EXPECT_EQ(trailing.summary->accepted, 1);
  EXPECT_EQ(trailing.summary->rejected, 1);
  // An element over the record limit is skipped, the next one read.
  Read big = ReadText("[{\"ip\": \"192.0.2.1\", \"pad\": \"" + std::string(70000, 'x') +
                      "\"}, {\"ip\": \"192.0.2.2\", \"time\": \"2026-11-28T00:00:00Z\"}]");
  ASSERT_TRUE(big.summary.ok());
  EXPECT_EQ(big.summary->accepted, 1);
  ASSERT_EQ(big.summary->errors.size(), 1u);
  EXPECT_EQ(big.summary->errors[0].line, 1);
}

TEST(Evidence, ValidAndBounded) {
  std::string header = "ip,time";
  std::string row = "192.0.2.1,2026-11-28 00:00:00";
  for (int i = 0; i < 40; ++i) {
    header += ",c" + std::to_string(i);
    // Multi-byte characters, quotes and control characters, 300 bytes a field.
    row += ",\"";
    for (int k = 0; k < 60; ++k) row += "\xE6\x97\xA5\"\"\t";
    row += "\"";
  }
  Read r = ReadText(header + "\n" + row + "\n");
  ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
  ASSERT_EQ(r.observations.size(), 1u);
  const std::string& e = r.observations[0].evidence;
  EXPECT_LE(e.size(), kMaxEvidenceBytes);
  auto object = boost::json::parse(e).as_object();
  EXPECT_TRUE(object.at("_truncated").as_bool());
  EXPECT_EQ(object.at("ip").as_string(), "192.0.2.1");
  // A single long value is cut at a character boundary.
  std::string out;
  EvidenceWriter w(&out);
  w.AddString("k", std::string(EvidenceWriter::kMaxValueBytes - 1, 'a') + "\xE6\x97\xA5");
  w.Finish();
  auto cut = boost::json::parse(out).as_object();
  EXPECT_EQ(cut.at("k").as_string().size(), EvidenceWriter::kMaxValueBytes - 1);
  EXPECT_TRUE(cut.at("_truncated").as_bool());
}

// Read with evidence_as_record, a CSV record's evidence is the record and
// its columns, and CsvEvidence makes of them exactly the JSON the reader
// makes otherwise: quoting, blank fields, a BOM and CRLF, the five
// Shadowserver reports, and a record too long to keep raw.
TEST(Evidence, ARecordKeptRawRendersAsTheReadersJson) {
  std::vector<std::string> inputs = {
      kScanTelnet,
      "\xEF\xBB\xBFip,time,family,\"no te\"\r\n"
      "192.0.2.1,2026-11-28 01:00:00,mirai,\"a, b\"\r\n"
      "192.0.2.2,2026-11-28 01:00:01,Mozi,\"say \"\"hi\"\"\"\r\n"
      "192.0.2.3,2026-11-28 01:00:02, ,\"two\r\nlines\"\r\n",
      "ip,time,big\n192.0.2.1,2026-11-28 00:00:00," + std::string(3000, 'x') + "\n"};
  for (const char* report : {"scan_telnet", "event4_sinkhole", "event4_sinkhole_http",
                             "event4_honeypot_darknet", "botnet_drone"}) {
    std::stringstream csv;
    GenerateShadowserverCsv(csv, report, 300, 3);
    inputs.push_back(csv.str());
  }
  int raw = 0;
  for (const std::string& input : inputs) {
    ReadOptions as_record;
    as_record.evidence_as_record = true;
    Read json = ReadText(input);
    Read records = ReadText(input, as_record);
    ASSERT_TRUE(json.summary.ok() && records.summary.ok());
    ASSERT_EQ(json.observations.size(), records.observations.size());
    ASSERT_FALSE(json.observations.empty());
    CsvEvidence render;
    for (size_t i = 0; i < json.observations.size(); ++i) {
      const Observation& o = records.observations[i];
      EXPECT_EQ(json.observations[i].evidence_columns, nullptr);
      if (o.evidence_columns == nullptr) {  // too long to keep raw: JSON as ever
        EXPECT_GT(input.size(), kMaxEvidenceBytes);
        EXPECT_EQ(o.evidence, json.observations[i].evidence);
        continue;
      }
      ++raw;
      std::string rendered;
      ASSERT_TRUE(render.Render(*o.evidence_columns, o.evidence, &rendered)) << o.evidence;
      EXPECT_EQ(rendered, json.observations[i].evidence);
    }
  }
  EXPECT_GT(raw, 1500);
}

TEST(Addresses, ParseFormatCompare) {
  auto v4 = ParseHostAddress("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->is_v6);
  EXPECT_EQ(v4->v4, 0xC0000201u);
  auto mapped = ParseHostAddress("::ffff:192.0.2.1");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *v4);
  auto v6 = ParseHostAddress("2001:DB8:0:0:0:0:0:1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(FormatHostAddress(*v6), "2001:db8::1");
  EXPECT_TRUE(*v4 < *v6);
  EXPECT_FALSE(ParseHostAddress("192.0.2.0/24"));
  EXPECT_FALSE(ParseHostAddress("[2001:db8::1]"));
  EXPECT_FALSE(ParseHostAddress(" 192.0.2.1"));
  EXPECT_EQ(std::hash<HostAddress>()(*v4), std::hash<HostAddress>()(*mapped));
  EXPECT_NE(std::hash<HostAddress>()(*v4), std::hash<HostAddress>()(*v6));
}

TEST(Times, Formats) {
  const int64_t t = Time("2026-11-28T01:02:03Z");
  EXPECT_EQ(t, 1795827723000000);
  EXPECT_EQ(Time("2026-11-28 01:02:03"), t);
  EXPECT_EQ(Time("2026-11-28 01:02:03 UTC"), t);
  EXPECT_EQ(Time("2026-11-28T10:02:03+09:00"), t);
  EXPECT_EQ(Time("2026-11-27T20:02:03-0500"), t);
  EXPECT_EQ(Time("2026-11-28T01:02:03.250Z"), t + 250000);
  EXPECT_EQ(Time("1795827723"), t);
  EXPECT_EQ(Time("1795827723.5"), t + 500000);
  for (const char* bad :
       {"", "2026-11-28", "2026-02-30 00:00:00", "2026-11-28 24:00:00", "2026-11-28 01:02:03 CET",
        "1969-12-31 23:59:59", "yesterday", "2026-11-28T01:02:03+25:00", "12345678901234"}) {
    EXPECT_FALSE(ParseObservationTime(bad).ok()) << bad;
  }
}

TEST(Generator, ReadsBackWhole) {
  for (const char* report : {"scan_telnet", "event4_sinkhole", "event4_sinkhole_http",
                             "event4_honeypot_darknet", "botnet_drone"}) {
    std::stringstream csv;
    GenerateShadowserverCsv(csv, report, 5000, 7);
    std::stringstream again;
    GenerateShadowserverCsv(again, report, 5000, 7);
    EXPECT_EQ(csv.str(), again.str());
    std::istringstream in(csv.str());
    int64_t v6 = 0;
    std::unordered_map<HostAddress, int> seen;
    auto summary = ReadObservations(in, {}, [&](Observation&& o) {
      v6 += o.ip.is_v6;
      ++seen[o.ip];
    });
    ASSERT_TRUE(summary.ok()) << report << ": " << summary.status().ToString();
    EXPECT_EQ(summary->report_type, report);
    EXPECT_EQ(summary->records, 5000) << report;
    EXPECT_EQ(summary->accepted, 5000)
        << report << ": " << (summary->errors.empty() ? "" : summary->errors[0].message);
    EXPECT_GT(v6, 100) << report;
    EXPECT_LT(seen.size(), 4700u) << report;  // some hosts repeat
  }
}

TEST(Generator, MillionRowsStreamedInConstantMemory) {
  // The reader's buffer does not grow with the input: one pass over a
  // generated stream, observations dropped as they come.
  std::stringstream csv;
  GenerateShadowserverCsv(csv, "scan_telnet", 200000, 1);
  int64_t count = 0;
  auto summary = ReadObservations(csv, {}, [&](Observation&&) { ++count; });
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(count, 200000);
}

}  // namespace
}  // namespace kizuna::alerts
