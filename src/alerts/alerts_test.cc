// The alerting pipeline below HTTP, on a real alerts.db and real geo data
// loaded from fixture files: routing precedence, enrichment with the dataset
// version, de-duplication into events, one report per recipient per period,
// suppression, the sharing decision on every event, delivery states and
// retries, crash recovery of a report left "sending", acknowledgement, and
// the feed showing a recipient only its own events.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "alerts/alerts_db.h"
#include "alerts/deliver.h"
#include "alerts/pipeline.h"
#include "alerts/recipients.h"
#include "alerts/reports.h"
#include "alerts/status.h"
#include "common/time.h"
#include "geo/geo.h"
#include "sharing/policy.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

namespace kizuna::alerts {
namespace {

namespace json = boost::json;

constexpr int64_t kDay = 86400LL * 1000000;
// 2026-11-27T00:00:00Z
constexpr int64_t kDay0 = 1795737600LL * 1000000;

using test_support::TempDir;

HostAddress Ip(std::string_view text) {
  auto ip = ParseHostAddress(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(HostAddress{});
}

Recipient MakeRecipient(std::string name) {
  Recipient r;
  r.name = std::move(name);
  r.channel = Channel::kFeed;
  r.org = "org-" + r.name;
  return r;
}

Observation Seen(std::string_view ip, int64_t time_us, std::string type = "infected-system",
                 std::string identifier = "mirai") {
  Observation o;
  o.time_us = time_us;
  o.ip = Ip(ip);
  o.port = 23;
  o.protocol = "tcp";
  o.taxonomy = type == "scanner"             ? "information-gathering"
               : type == "vulnerable-system" ? "vulnerable"
                                             : "malicious-code";
  o.type = std::move(type);
  o.identifier = identifier;
  o.family = identifier;
  o.source = "test";
  o.confidence = 80;
  o.evidence = "{\"row\":\"1\"}";
  return o;
}

node::NodeConfig HomeConfig() {
  node::NodeConfig config;
  config.name = "home";
  node::PeerConfig partner;
  partner.name = "partner";
  partner.org = "partner";
  partner.max_tlp = stix::Tlp::kAmber;
  config.peers.push_back(partner);
  return config;
}

TEST(Routing, MostSpecificRuleWins) {
  Recipient wide = MakeRecipient("isp-wide");
  wide.prefixes.push_back(*ParsePrefix("198.51.0.0/16"));
  Recipient narrow = MakeRecipient("isp-narrow");
  narrow.prefixes.push_back(*ParsePrefix("198.51.100.0/24"));
  Recipient by_asn = MakeRecipient("isp-asn");
  by_asn.asns = {64500};
  Recipient by_domain = MakeRecipient("org-domain");
  by_domain.domains = {"example.org"};
  Recipient csirt = MakeRecipient("csirt-jp");
  csirt.countries = {"JP"};
  Recipient fallback = MakeRecipient("fallback");
  fallback.fallback = true;
  Recipient v6 = MakeRecipient("isp-v6");
  v6.prefixes.push_back(*ParsePrefix("2001:db8:1::/48"));
  const RouteTable table({fallback, csirt, by_domain, by_asn, narrow, wide, v6});
  auto name = [&](std::string_view ip, uint32_t asn, std::string_view cc, std::string_view host) {
    const Route route = table.Find(Ip(ip), asn, cc, host);
    return route.recipient < 0 ? std::string("-") : table.recipients()[route.recipient].name;
  };
  EXPECT_EQ(name("198.51.100.7", 64500, "JP", "a.example.org"), "isp-narrow");
  EXPECT_EQ(name("198.51.7.7", 64500, "JP", "a.example.org"), "isp-wide");
  EXPECT_EQ(name("203.0.113.9", 64500, "JP", "host.a.example.org."), "org-domain");
  EXPECT_EQ(name("203.0.113.9", 64500, "JP", "example.org.evil.test"), "isp-asn");
  EXPECT_EQ(name("203.0.113.9", 64501, "JP", ""), "csirt-jp");
  EXPECT_EQ(name("203.0.113.9", 0, "", ""), "fallback");
  EXPECT_EQ(name("2001:db8:1:ffff::1", 0, "", ""), "isp-v6");
  EXPECT_EQ(name("2001:db8:2::1", 0, "", ""), "fallback");
  const Route route = table.Find(Ip("198.51.100.7"), 0, "", "");
  EXPECT_EQ(route.rule_kind, "prefix");

  const RouteTable no_fallback({csirt});
  EXPECT_EQ(no_fallback.Find(Ip("192.0.2.1"), 0, "DE", "").recipient, -1);
}

TEST(Routing, EqualRulesGoToTheFirstByName) {
  Recipient b = MakeRecipient("b");
  b.asns = {64500};
  Recipient a = MakeRecipient("a");
  a.asns = {64500};
  const RouteTable table({b, a});
  EXPECT_EQ(table.recipients()[table.Find(Ip("192.0.2.1"), 64500, "", "").recipient].name, "a");
}

TEST(Recipients, JsonRoundTripAndValidation) {
  Recipient r;
  r.name = "isp-a";
  r.asns = {64500, 64501};
  r.prefixes = {*ParsePrefix("192.0.2.0/24"), *ParsePrefix("2001:db8::/32")};
  r.countries = {"JP"};
  r.domains = {"isp-a.example"};
  r.channel = Channel::kEmail;
  r.emails = {"abuse@isp-a.example"};
  r.format = ReportFormat::kJson;
  r.period_seconds = 3600;
  r.tlp = stix::Tlp::kGreen;
  r.suppress_days = 3;
  r.repeat_persisting = true;
  auto back = RecipientFromJson(RecipientToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(RecipientToJson(*back), RecipientToJson(r));

  EXPECT_FALSE(RecipientFromJson(R"({"name":"x","channel":"email","emails":["a@b"]})").ok())
      << "no rule";
  EXPECT_FALSE(RecipientFromJson(R"({"name":"x","asns":[1],"channel":"email"})").ok())
      << "email without address";
  EXPECT_FALSE(RecipientFromJson(R"({"name":"x","asns":[1],"channel":"feed"})").ok())
      << "feed without org";
  EXPECT_FALSE(
      RecipientFromJson(R"({"name":"x","asns":[1],"channel":"feed","org":"o","tlp":"red"})").ok())
      << "RED never goes out";
  EXPECT_FALSE(RecipientFromJson(R"({"name":"x y","asns":[1],"channel":"feed","org":"o"})").ok());
  EXPECT_FALSE(RecipientFromJson(R"({"name":"x","asns":[1],"channel":"node","peer":"p"})").ok())
      << "a partner's node takes STIX";
  EXPECT_FALSE(
      RecipientFromJson(R"({"name":"x","asns":[1],"channel":"node","format":"stix"})").ok())
      << "channel node without a peer";
  EXPECT_TRUE(
      RecipientFromJson(R"({"name":"x","asns":[1],"channel":"node","peer":"p","format":"stix"})")
          .ok());
  EXPECT_FALSE(
      RecipientFromJson(R"({"name":"x","asns":[1],"channel":"feed","org":"o","recheck_days":-1})")
          .ok());
  EXPECT_FALSE(
      RecipientFromJson(R"({"name":"x","prefixes":["300.1.2.0/24"],"channel":"feed","org":"o"})")
          .ok());
  EXPECT_FALSE(
      RecipientFromJson(R"({"name":"x","asns":[1],"channel":"email","emails":["a@b\r\nBcc: c"]})")
          .ok());
}

class Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    // A small ip-location-db style dataset: AS64500 holds 198.51.100.0/24
    // in JP, AS64501 holds 203.0.113.0/25 in DE, 2001:db8::/32 is AS64502.
    const std::string asn = dir_.path() + "/asn.csv";
    std::ofstream(asn) << "198.51.100.0,198.51.100.255,64500,Example ISP A\n"
                          "203.0.113.0,203.0.113.127,64501,Example ISP B\n"
                          "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64502,V6 Net\n";
    const std::string country = dir_.path() + "/country.csv";
    std::ofstream(country) << "198.51.100.0,198.51.100.255,JP\n203.0.113.0,203.0.113.255,DE\n";
    auto loaded = geo::LoadGeoFiles(dir_.path(), {asn, country});
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    auto geo = geo::GeoDb::Open(dir_.path());
    ASSERT_TRUE(geo.ok()) << geo.status().message();
    geo_ = *geo;
    auto db = AlertsDb::Open(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
  }

  void SetRecipients(std::vector<Recipient> recipients) {
    for (const Recipient& r : recipients) ASSERT_TRUE(db_->PutRecipient(r).ok()) << r.name;
    routes_ = std::make_unique<RouteTable>(std::move(recipients));
  }

  IngestStats Ingest(const std::vector<Observation>& observations, int64_t now,
                     const std::string& origin = "", stix::Tlp tlp = stix::Tlp::kAmber) {
    IngestOptions options;
    options.now_us = now;
    options.origin = origin;
    options.tlp = tlp;
    Ingester ingester(*db_, geo_.get(), *routes_, options);
    for (const Observation& o : observations) EXPECT_TRUE(ingester.Add(o).ok());
    EXPECT_TRUE(ingester.Flush().ok());
    return ingester.stats();
  }

  std::vector<BuiltReport> Build(int64_t now, bool cut_now = false) {
    BuildOptions options;
    options.now_us = now;
    options.cut_now = cut_now;
    options.policy = &policy_;
    options.producer = "home";
    auto built = BuildDueReports(*db_, *routes_, options);
    EXPECT_TRUE(built.ok()) << built.status().message();
    return built.ok() ? *built : std::vector<BuiltReport>{};
  }

  std::string Body(const std::string& id) {
    auto report = db_->Report(id);
    EXPECT_TRUE(report.ok()) << report.status().message();
    if (!report.ok()) return "";
    Status body = LoadReportBody(*db_, &*report);
    EXPECT_TRUE(body.ok()) << body.message();
    return report->body;
  }

  TempDir dir_;
  std::shared_ptr<const geo::GeoDb> geo_;
  std::unique_ptr<AlertsDb> db_;
  std::unique_ptr<RouteTable> routes_;
  sharing::SharingPolicy policy_{HomeConfig()};
};

TEST_F(Pipeline, EnrichesRoutesAndFoldsRepeats) {
  Recipient isp = MakeRecipient("isp-a");
  isp.asns = {64500};
  Recipient csirt = MakeRecipient("cert-de");
  csirt.countries = {"DE"};
  SetRecipients({isp, csirt});
  const IngestStats stats =
      Ingest({Seen("198.51.100.7", kDay0 + 100), Seen("198.51.100.7", kDay0 + 5000),
              Seen("198.51.100.7", kDay0 + kDay + 1), Seen("203.0.113.200", kDay0 + 7),
              Seen("192.0.2.1", kDay0 + 9)},
             kDay0 + 2 * kDay);
  EXPECT_EQ(stats.observations, 5);
  // The repeat on day 0 folded; day 1 is its own event; the unrouted
  // address is kept as an event without a recipient.
  EXPECT_EQ(stats.new_events, 4);
  EXPECT_EQ(stats.merged, 1);
  EXPECT_EQ(stats.unrouted, 1);
  EXPECT_EQ(stats.per_recipient.at("isp-a"), 3);
  EXPECT_EQ(stats.per_recipient.at("cert-de"), 1);
  // The same file again: nothing new, counts grow.
  const IngestStats again = Ingest({Seen("198.51.100.7", kDay0 + 100)}, kDay0 + 2 * kDay);
  EXPECT_EQ(again.new_events, 0);

  const auto built = Build(kDay0 + 3 * kDay);
  ASSERT_EQ(built.size(), 2u);
  const std::string body = Body(built[1].recipient == "isp-a" ? built[1].id : built[0].id);
  EXPECT_NE(body.find("timestamp,event_id,ip,port,protocol,hostname,asn,as_name,country,prefix"),
            std::string::npos);
  // Enriched from the dataset: AS, its name, the country and the prefix.
  EXPECT_NE(body.find(",198.51.100.7,23,tcp,,64500,Example ISP A,JP,198.51.100.0/24,"
                      "malicious-code,infected-system,mirai,mirai,3,"),
            std::string::npos)
      << body;
  auto report = db_->Report(built[1].recipient == "isp-a" ? built[1].id : built[0].id);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->events, 2);
  // The dataset version is recorded with the enrichment.
  auto page = FeedEvents(*db_, policy_, {isp}, {}, 1000);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  for (const EventRow& e : page->events) {
    EXPECT_EQ(e.asn, 64500);
    EXPECT_EQ(e.geo_version, geo_->version());
  }
  EXPECT_NE(geo_->version(), "none");
}

TEST_F(Pipeline, FeedClaimsFillWhatTheDatasetsDoNotKnow) {
  Recipient isp = MakeRecipient("isp-z");
  isp.asns = {65010};
  SetRecipients({isp});
  Observation o = Seen("192.0.2.55", kDay0);
  o.feed_asn = 65010;
  o.feed_country = "NL";
  const IngestStats stats = Ingest({o}, kDay0);
  EXPECT_EQ(stats.per_recipient.at("isp-z"), 1);
  Observation known = Seen("198.51.100.9", kDay0);
  known.feed_asn = 65010;  // the dataset says AS64500: the dataset wins
  EXPECT_EQ(Ingest({known}, kDay0).unrouted, 1);
}

TEST_F(Pipeline, OneReportPerRecipientPerPeriod) {
  Recipient isp = MakeRecipient("isp-a");
  isp.asns = {64500};
  SetRecipients({isp});
  Ingest({Seen("198.51.100.7", kDay0 + 10)}, kDay0 + 10);
  // The day has not ended: nothing is due.
  EXPECT_TRUE(Build(kDay0 + kDay / 2).empty());
  const auto first = Build(kDay0 + kDay + 60);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].events, 1);
  // Running again in the same period builds nothing more.
  EXPECT_TRUE(Build(kDay0 + kDay + 120).empty());
  // A report's id is stable: derived from the recipient and the cut.
  EXPECT_EQ(first[0].id, ReportId("isp-a", kDay0 + kDay));
  // What arrives next goes in the next day's report.
  Ingest({Seen("198.51.100.8", kDay0 + kDay + 200)}, kDay0 + kDay + 200);
  EXPECT_TRUE(Build(kDay0 + kDay + 300).empty());
  const auto second = Build(kDay0 + 2 * kDay + 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].events, 1);
  EXPECT_NE(Body(second[0].id).find("198.51.100.8"), std::string::npos);
  EXPECT_EQ(Body(second[0].id).find("198.51.100.7"), std::string::npos);
  // --now cuts at once.
  Ingest({Seen("198.51.100.9", kDay0 + 2 * kDay + 10)}, kDay0 + 2 * kDay + 10);
  EXPECT_EQ(Build(kDay0 + 2 * kDay + 20, /*cut_now=*/true).size(), 1u);
}

TEST_F(Pipeline, ARecipientAskingForRepeatsHearsOfAPersistingFindingEveryPeriod) {
  Recipient repeats = MakeRecipient("repeats");
  repeats.countries = {"DE"};
  repeats.repeat_persisting = true;
  SetRecipients({repeats});
  for (int day = 0; day < 4; ++day) {
    const int64_t t = kDay0 + day * kDay;
    Ingest({Seen("203.0.113.9", t + 10)}, t + 10);
    const auto built = Build(t + kDay + 1);
    ASSERT_EQ(built.size(), 1u) << "day " << day;
    EXPECT_EQ(built[0].events, 1);
    EXPECT_EQ(built[0].suppressed, 0);
  }
}

TEST_F(Pipeline, SuppressionWindowEnds) {
  Recipient quiet = MakeRecipient("quiet");
  quiet.asns = {64500};
  quiet.suppress_days = 3;
  SetRecipients({quiet});
  std::vector<int> reported_days;
  for (int day = 0; day < 8; ++day) {
    const int64_t t = kDay0 + day * kDay;
    Ingest({Seen("198.51.100.7", t + 10)}, t + 10);
    for (const BuiltReport& b : Build(t + kDay + 1)) {
      if (b.events > 0) reported_days.push_back(day);
    }
  }
  // Reported on day 0; days 1-3 fall in the 3-day window after the cut at
  // the end of day 0; day 4 is reported again, then days 5-7 suppressed.
  EXPECT_EQ(reported_days, (std::vector<int>{0, 4}));
  auto status = StatusJson(*db_);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->at("events").at("suppressed").as_int64(), 6);
  // Day 8: the window after day 4's report is over, and a new finding for
  // the same host is no repeat of the old one.
  Ingest({Seen("198.51.100.7", kDay0 + 8 * kDay + 5),
          Seen("198.51.100.7", kDay0 + 8 * kDay + 5, "scanner", "telnet-scan")},
         kDay0 + 8 * kDay + 5);
  auto built = Build(kDay0 + 9 * kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0].events, 2);
  EXPECT_EQ(built[0].suppressed, 0);
  // Day 9: both were just reported; a third kind of finding is new.
  Ingest({Seen("198.51.100.7", kDay0 + 9 * kDay + 5),
          Seen("198.51.100.7", kDay0 + 9 * kDay + 5, "scanner", "telnet-scan"),
          Seen("198.51.100.7", kDay0 + 9 * kDay + 5, "vulnerable-system", "open-telnet")},
         kDay0 + 9 * kDay + 5);
  built = Build(kDay0 + 10 * kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0].events, 1);
  EXPECT_EQ(built[0].suppressed, 2);
}

TEST_F(Pipeline, EveryEventPassesTheSharingDecision) {
  Recipient green = MakeRecipient("green-isp");
  green.asns = {64500};
  green.tlp = stix::Tlp::kGreen;
  Recipient amber = MakeRecipient("amber-csirt");
  amber.countries = {"DE"};
  SetRecipients({green, amber});
  Ingest({Seen("198.51.100.7", kDay0)}, kDay0, "", stix::Tlp::kAmber);        // above GREEN
  Ingest({Seen("198.51.100.8", kDay0)}, kDay0, "", stix::Tlp::kGreen);        // fine
  Ingest({Seen("203.0.113.1", kDay0)}, kDay0, "", stix::Tlp::kRed);           // never
  Ingest({Seen("203.0.113.2", kDay0)}, kDay0, "partner", stix::Tlp::kAmber);  // a partner's
  const auto built = Build(kDay0 + kDay + 1);
  ASSERT_EQ(built.size(), 2u);
  for (const BuiltReport& b : built) {
    EXPECT_EQ(b.events, 1) << b.recipient;
    EXPECT_EQ(b.withheld, 1) << b.recipient;
    const std::string body = Body(b.id);
    if (b.recipient == "green-isp") {
      EXPECT_NE(body.find("198.51.100.8"), std::string::npos);
      EXPECT_EQ(body.find("198.51.100.7"), std::string::npos);
    } else {
      // The partner's AMBER observation reaches the affected party.
      EXPECT_NE(body.find("203.0.113.2"), std::string::npos);
      EXPECT_EQ(body.find("203.0.113.1"), std::string::npos);
    }
  }
}

TEST_F(Pipeline, FormatsAreValidDocuments) {
  Recipient json_r = MakeRecipient("json-r");
  json_r.asns = {64500};
  json_r.format = ReportFormat::kJson;
  Recipient stix_r = MakeRecipient("stix-r");
  stix_r.countries = {"DE"};
  stix_r.format = ReportFormat::kStix;
  SetRecipients({json_r, stix_r});
  Observation tricky = Seen("198.51.100.7", kDay0);
  tricky.hostname = "=cmd|' /C calc'!A0,\"x\"";
  Ingest({tricky, Seen("203.0.113.5", kDay0), Seen("203.0.113.6", kDay0)}, kDay0);
  for (const BuiltReport& b : Build(kDay0 + kDay + 1)) {
    boost::system::error_code ec;
    json::value doc = json::parse(Body(b.id), ec);
    ASSERT_FALSE(ec) << b.recipient << ": " << Body(b.id);
    if (b.recipient == "json-r") {
      EXPECT_EQ(doc.at("events").as_array().size(), 1u);
      EXPECT_EQ(doc.at("events").at(0).at("asn").as_int64(), 64500);
      EXPECT_EQ(doc.at("events").at(0).at("evidence").at("row"), "1");
    } else {
      const json::array& objects = doc.at("objects").as_array();
      EXPECT_EQ(objects.size(), 5u);  // 2 addresses, 2 observed-data, the report
      EXPECT_EQ(objects.back().at("type"), "report");
      EXPECT_EQ(objects.back().at("object_refs").as_array().size(), 2u);
    }
  }
  // CSV: a formula is defused and quoting keeps the columns.
  Recipient csv_r = MakeRecipient("csv-r");
  csv_r.asns = {64500};
  SetRecipients({csv_r});
  Ingest({tricky}, kDay0 + 2 * kDay);
  const auto built = Build(kDay0 + 3 * kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_NE(Body(built[0].id).find(",\"'=cmd|' /C calc'!A0,\"\"x\"\"\","), std::string::npos)
      << Body(built[0].id);
}

TEST_F(Pipeline, DeliveryStatesRetriesAndCrashRecovery) {
  Recipient feed = MakeRecipient("feed-r");
  feed.asns = {64500};
  Recipient mail = MakeRecipient("mail-r");
  mail.countries = {"DE"};
  mail.channel = Channel::kEmail;
  mail.emails = {"abuse@isp-b.example"};
  SetRecipients({feed, mail});
  Ingest({Seen("198.51.100.7", kDay0), Seen("203.0.113.5", kDay0)}, kDay0);
  ASSERT_EQ(Build(kDay0 + kDay + 1).size(), 2u);
  DeliveryOptions options;
  options.now_us = kDay0 + kDay + 2;
  options.policy = &policy_;
  options.producer = "home";
  options.max_attempts = 3;
  options.retry_after_us = 60LL * 1000000;
  // Nothing listens at the mail server's address: the e-mail is retried
  // later; the feed's report is available at once.
  options.mail.configured = true;
  options.mail.smtp.url = "smtp://127.0.0.1:1";
  options.mail.smtp.timeout_seconds = 5;
  options.mail.from = "kizuna <alerts@home.example>";
  auto first = DeliverDue(*db_, *routes_, options);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->sent, 1);
  EXPECT_EQ(first->retrying, 1);
  auto mail_report = db_->Reports("mail-r", 1);
  ASSERT_TRUE(mail_report.ok());
  ASSERT_EQ(mail_report->size(), 1u);
  EXPECT_EQ((*mail_report)[0].state, kQueued);
  EXPECT_EQ((*mail_report)[0].attempts, 1);
  EXPECT_EQ((*mail_report)[0].next_attempt_us, options.now_us + 60LL * 1000000);
  EXPECT_NE((*mail_report)[0].last_error.find("failed: "), std::string::npos)
      << (*mail_report)[0].last_error;
  // Not due again before its time.
  options.now_us += 30LL * 1000000;
  EXPECT_EQ(DeliverDue(*db_, *routes_, options)->retrying, 0);
  // Backoff doubles; the third failure gives up.
  options.now_us += 31LL * 1000000;
  EXPECT_EQ(DeliverDue(*db_, *routes_, options)->retrying, 1);
  options.now_us += 121LL * 1000000;
  EXPECT_EQ(DeliverDue(*db_, *routes_, options)->gave_up, 1);
  auto log = db_->ReportLog((*mail_report)[0].id);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->back().state, kGaveUp);

  // A report left "sending" by a crash is taken up again.
  auto feed_report = db_->Reports("feed-r", 1);
  ASSERT_TRUE(feed_report.ok());
  EXPECT_EQ((*feed_report)[0].state, kSent);
  {
    auto lock = db_->Lock();
    ASSERT_TRUE(db_->connection()
                    .Exec("UPDATE reports SET state = 'sending' WHERE recipient = 'feed-r'")
                    .ok());
  }
  auto recovered = DeliverDue(*db_, *routes_, options);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->sent, 1);

  // Acknowledged once, and the first time is kept.
  ASSERT_TRUE(AcknowledgeReport(*db_, (*feed_report)[0].id, options.now_us, "user x").ok());
  ASSERT_TRUE(AcknowledgeReport(*db_, (*feed_report)[0].id, options.now_us + 5, "user y").ok());
  auto acked = db_->Report((*feed_report)[0].id);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->state, kAcknowledged);
  EXPECT_EQ(acked->acknowledged_us, options.now_us);
}

TEST_F(Pipeline, TheFeedShowsARecipientOnlyItsOwnEvents) {
  Recipient a = MakeRecipient("isp-a");
  a.asns = {64500};
  Recipient b = MakeRecipient("isp-b");
  b.asns = {64501};
  SetRecipients({a, b});
  Ingest({Seen("198.51.100.7", kDay0), Seen("203.0.113.5", kDay0), Seen("198.51.100.9", kDay0)},
         kDay0);
  ASSERT_EQ(Build(kDay0 + kDay + 1).size(), 2u);
  auto page = FeedEvents(*db_, policy_, {a}, {}, 1000);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  for (const EventRow& e : page->events) EXPECT_EQ(e.recipient, "isp-a");
  auto other = FeedEvents(*db_, policy_, {b}, {}, 1000);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->events.size(), 1u);
  EXPECT_EQ(other->events[0].ip, "203.0.113.5");
}

TEST_F(Pipeline, PreviewChangesNothing) {
  Recipient a = MakeRecipient("isp-a");
  a.asns = {64500};
  SetRecipients({a});
  Ingest({Seen("198.51.100.7", kDay0)}, kDay0);
  BuildOptions options;
  options.now_us = kDay0 + 10;
  options.policy = &policy_;
  auto preview = PreviewReport(*db_, *routes_, options, "isp-a");
  ASSERT_TRUE(preview.ok()) << preview.status().message();
  EXPECT_EQ(preview->counts.events, 1);
  EXPECT_NE(preview->body.data.find("198.51.100.7"), std::string::npos);
  auto status = StatusJson(*db_);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->at("events").at("pending").as_int64(), 1);
  EXPECT_EQ(Build(kDay0 + kDay + 1).size(), 1u);
  EXPECT_FALSE(PreviewReport(*db_, *routes_, options, "nobody").ok());
}

}  // namespace
}  // namespace kizuna::alerts

namespace kizuna::alerts {
namespace {

TEST_F(Pipeline, MarkingsAndOriginsAreNeverFoldedTogetherAndAReportedEventNeverChanges) {
  Recipient isp = MakeRecipient("isp-a");
  isp.asns = {64500};
  SetRecipients({isp});
  // The same finding, same day, under RED first and then CLEAR: two events.
  EXPECT_EQ(Ingest({Seen("198.51.100.7", kDay0 + 5)}, kDay0 + 5, "", stix::Tlp::kRed).new_events,
            1);
  EXPECT_EQ(Ingest({Seen("198.51.100.7", kDay0 + 6)}, kDay0 + 6, "", stix::Tlp::kClear).new_events,
            1);
  EXPECT_EQ(
      Ingest({Seen("198.51.100.7", kDay0 + 7)}, kDay0 + 7, "partner", stix::Tlp::kClear).new_events,
      1);
  const auto built = Build(kDay0 + kDay + 1);
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0].events, 2);  // the CLEAR ones, ours and the partner's
  EXPECT_EQ(built[0].withheld, 1);
  const std::string before = Body(built[0].id);
  // The same finding again, still on day 0, after it was reported: the
  // report's event does not change (and the feed shows what was sent).
  Ingest({Seen("198.51.100.7", kDay0 + 500)}, kDay0 + kDay + 2, "", stix::Tlp::kClear);
  auto page = FeedEvents(*db_, policy_, {isp}, {}, 1000);
  ASSERT_TRUE(page.ok());
  for (const EventRow& e : page->events) EXPECT_EQ(e.count, 1) << e.origin;
}

TEST_F(Pipeline, AReportAnotherDelivererIsSendingIsLeftToIt) {
  Recipient feed = MakeRecipient("feed-r");
  feed.asns = {64500};
  SetRecipients({feed});
  Ingest({Seen("198.51.100.7", kDay0)}, kDay0);
  ASSERT_EQ(Build(kDay0 + kDay + 1).size(), 1u);
  const int64_t now = kDay0 + kDay + 2;
  {
    // Another process claimed it a moment ago (its lease runs 10 minutes).
    auto lock = db_->Lock();
    ASSERT_TRUE(db_->connection()
                    .Exec("UPDATE reports SET state = 'sending', attempts = 1, next_attempt = " +
                          std::to_string(now + 600LL * 1000000))
                    .ok());
  }
  DeliveryOptions options;
  options.now_us = now;
  options.policy = &policy_;
  auto first = DeliverDue(*db_, *routes_, options);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->sent, 0);
  // Its lease over (it died), the report is taken up.
  options.now_us = now + 601LL * 1000000;
  auto later = DeliverDue(*db_, *routes_, options);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->sent, 1);
}

TEST_F(Pipeline, WithoutMailConfiguredAReportWaitsWithoutUsingItsAttempts) {
  Recipient mail = MakeRecipient("mail-r");
  mail.asns = {64500};
  mail.channel = Channel::kEmail;
  mail.emails = {"abuse@isp-a.example"};
  SetRecipients({mail});
  Ingest({Seen("198.51.100.7", kDay0)}, kDay0);
  ASSERT_EQ(Build(kDay0 + kDay + 1).size(), 1u);
  DeliveryOptions options;
  options.policy = &policy_;
  options.max_attempts = 2;
  for (int i = 0; i < 5; ++i) {
    options.now_us = kDay0 + kDay + 2 + i * 3600LL * 1000000;
    ASSERT_TRUE(DeliverDue(*db_, *routes_, options).ok());
  }
  auto reports = db_->Reports("mail-r", 1);
  ASSERT_TRUE(reports.ok());
  EXPECT_EQ((*reports)[0].state, kQueued);
  EXPECT_EQ((*reports)[0].attempts, 0);
  EXPECT_NE((*reports)[0].last_error.find("not configured"), std::string::npos);
}

TEST_F(Pipeline, EachAddressGetsAReportOnceWhateverTheOthersAnswer) {
  // A real SMTP server: the first message it is given gets 451, and it
  // refuses refused@ (550). One transaction per address: a@ is deferred,
  // b@ takes it, refused@ never will.
  test_support::SmtpSinkOptions sink_options;
  sink_options.fail_first = 1;
  sink_options.refuse = {"refused@isp-a.example"};
  std::string error;
  auto sink = test_support::SmtpSink::Start(dir_.path() + "/mail", sink_options, &error);
  ASSERT_NE(sink, nullptr) << error;
  Recipient mail = MakeRecipient("mail-r");
  mail.asns = {64500};
  mail.channel = Channel::kEmail;
  mail.emails = {"a@isp-a.example", "b@isp-a.example", "refused@isp-a.example"};
  SetRecipients({mail});
  Ingest({Seen("198.51.100.7", kDay0)}, kDay0);
  ASSERT_EQ(Build(kDay0 + kDay + 1).size(), 1u);
  DeliveryOptions options;
  options.policy = &policy_;
  options.producer = "home";
  options.mail.configured = true;
  options.mail.smtp.url = sink->url();
  options.mail.from = "kizuna <alerts@home.example>";
  options.retry_after_us = 60LL * 1000000;
  options.now_us = kDay0 + kDay + 2;
  auto first = DeliverDue(*db_, *routes_, options);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->retrying, 1);
  auto report = db_->Reports("mail-r", 1);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ((*report)[0].delivered_to, "b@isp-a.example");
  options.now_us += 61LL * 1000000;
  auto second = DeliverDue(*db_, *routes_, options);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->sent, 1);
  report = db_->Reports("mail-r", 1);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ((*report)[0].state, kSent);
  auto log = db_->ReportLog((*report)[0].id);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->back().detail.find("refused for refused@isp-a.example"), std::string::npos)
      << log->back().detail;
  std::multiset<std::string> to;
  for (const auto& m : sink->Messages()) {
    for (const std::string& r : m.rcpt_to) to.insert(r);
  }
  EXPECT_EQ(to, (std::multiset<std::string>{"a@isp-a.example", "b@isp-a.example"}));
}

}  // namespace
}  // namespace kizuna::alerts
