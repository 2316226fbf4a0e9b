// Observations from the store on real stores and alerts.dbs: our
// telescope's intervals (fingerprinted bots and scanners) and surges, and a
// partner's infected-host observed-data and sightings, become events for
// the right recipient; each object is taken once (again, in another
// collection, after a restart); malformed partner objects are refused with
// a reason and change nothing; what came from a partner reaches the
// affected party only as the sharing decision allows (never back to the
// peer, never AMBER+STRICT). Federation itself is played by storing the
// objects with the peer as origin: the real one is in
// tests/e2e/alerts_intake_e2e_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "alerts/alerts_db.h"
#include "alerts/deliver.h"
#include "alerts/node_channel.h"
#include "alerts/observation_intake.h"
#include "alerts/partner_intake.h"
#include "alerts/partner_observations.h"
#include "alerts/pipeline.h"
#include "alerts/reports.h"
#include "alerts/telescope_intake.h"
#include "common/time.h"
#include "common/uuid.h"
#include "node/node.h"
#include "sensor/interval.h"
#include "sharing/policy.h"
#include "stix/stix.h"
#include "telescope/objects.h"

namespace kizuna::alerts {
namespace {

namespace json = boost::json;

constexpr int64_t kDay0 = 1795737600LL * 1000000;  // 2026-11-27T00:00:00Z

class FixedClock : public Clock {
 public:
  int64_t NowMicros() const override { return now; }
  int64_t now = kDay0 + 3600LL * 1000000;
};

uint32_t V4(const char* text) { return ParseHostAddress(text)->v4; }

// One node: its directory, store, telescope collection, alerts.db, policy.
struct TestNode {
  explicit TestNode(const std::string& name, std::vector<std::string> peers) {
    static int n = 0;
    dir = (std::filesystem::temp_directory_path() /
           ("kizuna-alerts-intake-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
              .string();
    std::filesystem::remove_all(dir);
    node::InitOptions init;
    init.name = name;
    EXPECT_TRUE(node::InitNode(dir, init).ok());
    auto opened = node::Node::Open(dir);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    node = std::move(*opened);
    OpenDb();
    config.name = name;
    for (const std::string& p : peers) {
      node::PeerConfig peer;
      peer.name = p;
      peer.org = p;
      config.peers.push_back(peer);
    }
    store::Store* s = &node->store();
    policy = std::make_shared<sharing::SharingPolicy>(
        config, [s](const std::string& id) -> std::optional<store::StoredObject> {
          auto history = s->ObjectHistory(id, 1);
          if (!history.ok() || history->empty()) return std::nullopt;
          return history->front();
        });
    store::Collection telescope;
    telescope.id = NewUuid4();
    telescope.title = "Telescope";
    telescope.alias = "telescope";
    EXPECT_TRUE(s->CreateCollection(telescope).ok());
    store::Collection other;
    other.id = NewUuid4();
    other.title = "Other";
    other.alias = "other";
    EXPECT_TRUE(s->CreateCollection(other).ok());
  }
  ~TestNode() {
    follower.reset();
    db.reset();
    node.reset();
    std::filesystem::remove_all(dir);
  }
  // A new alerts.db handle and follower on the same directory (a restart).
  void OpenDb() {
    follower.reset();
    db.reset();
    auto alerts = AlertsDb::Open(dir);
    ASSERT_TRUE(alerts.ok());
    db = std::move(*alerts);
    ObservationFollower::Options options;
    options.db = db.get();
    options.store = &node->store();
    options.policy = [this] { return policy; };
    options.identity_id = node->identity().identity_id;
    options.clock = &clock;
    options.bot_fingerprints = bot_fingerprints;
    follower = std::make_unique<ObservationFollower>(std::move(options));
  }
  std::string Identity() { return node->identity().identity_id; }

  void SetRecipients(const std::vector<Recipient>& recipients) {
    for (const Recipient& r : recipients) ASSERT_TRUE(db->PutRecipient(r).ok()) << r.name;
  }
  RouteTable Routes() { return RouteTable(*db->Recipients()); }

  // Stores `objects` into collection `alias` as from `origin` ("": ours).
  void Store(const std::string& alias, const std::vector<json::object>& objects,
             const std::string& origin) {
    auto collection = node->store().GetCollection(alias);
    ASSERT_TRUE(collection.ok());
    std::vector<store::NewObject> add;
    for (const json::object& o : objects) {
      auto info = stix::ValidateObject(o);
      ASSERT_TRUE(info.ok()) << info.status().message() << ": " << json::serialize(o);
      add.push_back(store::NewObject{*info, json::serialize(o), origin});
    }
    ASSERT_TRUE(node->store().AddObjects(collection->id, add).ok());
  }

  DeliveryStats Run() {
    RouteTable routes = Routes();
    BuildOptions build;
    build.now_us = clock.now;
    build.cut_now = true;
    build.policy = policy.get();
    build.producer = config.name;
    build.producer_identity = Identity();
    EXPECT_TRUE(BuildDueReports(*db, routes, build).ok());
    DeliveryOptions deliver;
    deliver.now_us = clock.now;
    deliver.policy = policy.get();
    deliver.producer = config.name;
    deliver.to_node = NodeChannel(&node->store(), config.name, nullptr);
    auto stats = DeliverDue(*db, routes, deliver);
    EXPECT_TRUE(stats.ok()) << stats.status().message();
    return stats.ok() ? *stats : DeliveryStats{};
  }

  std::vector<EventRow> Events() {
    auto lock = db->Lock();
    std::vector<EventRow> out;
    EXPECT_TRUE(ForEachEventSince(db->connection(), 0, [&](const EventRow& e) {
                  out.push_back(e);
                  return Status::Ok();
                }).ok());
    return out;
  }
  int64_t SumCounts() {
    int64_t n = 0;
    for (const EventRow& e : Events()) n += e.count;
    return n;
  }
  int64_t Count(const std::string& sql) {
    auto lock = db->Lock();
    auto statement = db->connection().Prepare(sql);
    EXPECT_TRUE(statement.ok()) << sql;
    auto row = statement->Step();
    return row.ok() && *row ? statement->ColumnInt(0) : -1;
  }

  std::string dir;
  std::unique_ptr<node::Node> node;
  std::unique_ptr<AlertsDb> db;
  node::NodeConfig config;
  std::shared_ptr<const sharing::SharingPolicy> policy;
  FixedClock clock;
  std::vector<std::string> bot_fingerprints = {"mirai"};  // [alerts] bot_fingerprints
  std::unique_ptr<ObservationFollower> follower;
};

Recipient FeedRecipient(const std::string& name, const std::string& org, const char* prefix) {
  Recipient r;
  r.name = name;
  r.channel = Channel::kFeed;
  r.org = org;
  r.prefixes = {*ParsePrefix(prefix)};
  return r;
}

Recipient NodeRecipient(const std::string& name, const std::string& peer, const char* prefix) {
  Recipient r;
  r.name = name;
  r.channel = Channel::kNode;
  r.peer = peer;
  r.format = ReportFormat::kStix;
  r.prefixes = {*ParsePrefix(prefix)};
  return r;
}

// One sensor interval: Mirai from .7 and .8 (on 23/tcp .7 only), ZMap from
// 203.0.113.5, and background from 192.0.2.1 that matched no rule.
sensor::WireInterval Interval(const std::string& sensor, int64_t start_s) {
  sensor::WireInterval i;
  i.sensor = sensor;
  i.start_s = start_s;
  i.seconds = 60;
  i.part = "test";
  i.packets = 10;
  i.first_us = start_s * 1000000 + 1;
  i.last_us = start_s * 1000000 + 59000000;
  for (const char* a : {"192.0.2.1", "198.51.100.7", "198.51.100.8", "203.0.113.5"}) {
    i.sources.v4.Add(V4(a));
  }
  sensor::WireInterval::Port telnet;
  telnet.proto = sensor::PortProto::kTcp;
  telnet.port = 23;
  telnet.packets = 6;
  telnet.sources.v4.Add(V4("198.51.100.7"));
  telnet.sources.v4.Add(V4("192.0.2.1"));
  i.ports.push_back(std::move(telnet));
  sensor::WireInterval::Port other;
  other.proto = sensor::PortProto::kTcp;
  other.port = 8080;
  other.packets = 4;
  for (const char* a : {"198.51.100.8", "203.0.113.5"}) other.sources.v4.Add(V4(a));
  i.ports.push_back(std::move(other));
  i.fingerprints["mirai"].v4.Add(V4("198.51.100.7"));
  i.fingerprints["mirai"].v4.Add(V4("198.51.100.8"));
  i.fingerprints["zmap"].v4.Add(V4("203.0.113.5"));
  return i;
}

json::object Marked(json::object o, stix::Tlp tlp) {
  o["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
  return o;
}

json::object Address(const std::string& ip) {
  json::object sco{{"type", ip.find(':') == std::string::npos ? "ipv4-addr" : "ipv6-addr"},
                   {"spec_version", "2.1"},
                   {"value", ip}};
  sco["id"] = stix::DeterministicScoId(sco);
  return sco;
}

json::object ObservedData(const std::string& key, const std::vector<json::object>& addresses,
                          const std::string& by, stix::Tlp tlp) {
  const std::string time = FormatTimestamp(kDay0 + 1800LL * 1000000, 3);
  json::array refs;
  for (const json::object& a : addresses) refs.push_back(a.at("id"));
  json::object o{{"type", "observed-data"},
                 {"spec_version", "2.1"},
                 {"id", "observed-data--" + Uuid5("6f1e0c2a-8b7d-4e3f-9a1b-2c3d4e5f6a7b", key)},
                 {"created", time},
                 {"modified", time},
                 {"created_by_ref", by},
                 {"first_observed", time},
                 {"last_observed", time},
                 {"number_observed", 1},
                 {"object_refs", refs},
                 {"x_kizuna_observation", "infected-host"}};
  return Marked(std::move(o), tlp);
}

const std::string kPartnerIdentity = "identity--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

class AlertsObservationIntake : public ::testing::Test {
 protected:
  // One of B's own sensor intervals starting at `start_s`, stored in its
  // telescope collection (summary and sources).
  telescope::IntervalObjects StoreOwnInterval(int64_t start_s) {
    telescope::IntervalObjects objects = telescope::MakeIntervalObjects(
        Interval("s1", start_s), b_.Identity(), stix::Tlp::kGreen, stix::Tlp::kAmber);
    b_.Store("telescope", {objects.summary, objects.sources}, "");
    return objects;
  }

  TestNode b_{"CERT-B", {"cert-a"}};
};

// Which fingerprint rules are bots is the node's to say ([alerts]
// bot_fingerprints): a rule named there makes its sources infected hosts,
// one no longer named makes them scanners.
TEST_F(AlertsObservationIntake, ConfiguredBotRulesMakeTheirSourcesInfectedHosts) {
  b_.bot_fingerprints = {"zmap"};
  b_.OpenDb();
  StoreOwnInterval(kDay0 / 1000000 + 600);
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  std::vector<EventRow> events = b_.Events();
  ASSERT_EQ(events.size(), 3u);
  for (const EventRow& e : events) {
    if (e.identifier == "zmap") {
      EXPECT_EQ(e.type, "infected-system");
      EXPECT_EQ(e.family, "zmap");
      EXPECT_EQ(e.confidence, 90);
    } else {
      EXPECT_EQ(e.identifier, "mirai");
      EXPECT_EQ(e.type, "scanner");
      EXPECT_EQ(e.family, "");
    }
  }
}

TEST_F(AlertsObservationIntake, TelescopeFingerprintsBecomeEventsForTheirRecipientOnce) {
  b_.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
  const int64_t start = kDay0 / 1000000 + 600;
  const telescope::IntervalObjects objects = StoreOwnInterval(start);
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  std::vector<EventRow> events = b_.Events();
  ASSERT_EQ(events.size(), 3u) << "two Mirai bots, one ZMap scanner; not the unfingerprinted";
  int mirai = 0;
  for (const EventRow& e : events) {
    EXPECT_EQ(e.source, "telescope/s1");
    EXPECT_EQ(e.origin, "");
    EXPECT_EQ(e.tlp, "amber") << "the sources object's marking";
    EXPECT_EQ(e.protocol, "tcp");
    EXPECT_EQ(e.port, 0);
    EXPECT_EQ(e.last_seen_us, start * 1000000 + 59000000);
    json::object evidence = json::parse(e.evidence).as_object();
    EXPECT_EQ(evidence.at("sensor"), "s1");
    if (e.identifier == "mirai") {
      ++mirai;
      EXPECT_EQ(e.recipient, "isp-b");
      EXPECT_EQ(e.taxonomy, "malicious-code");
      EXPECT_EQ(e.type, "infected-system");
      EXPECT_EQ(e.family, "mirai");
      EXPECT_EQ(e.confidence, 90);
      EXPECT_EQ(json::serialize(evidence.at("ports")),
                e.ip == "198.51.100.7" ? R"(["23/tcp"])" : R"(["8080/tcp"])");
    } else {
      EXPECT_EQ(e.identifier, "zmap");
      EXPECT_EQ(e.ip, "203.0.113.5");
      EXPECT_EQ(e.recipient, "") << "no recipient for it";
      EXPECT_EQ(e.taxonomy, "information-gathering");
      EXPECT_EQ(e.type, "scanner");
    }
  }
  EXPECT_EQ(mirai, 2);
  // Again, the same object stored again, and after a restart: nothing twice.
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  b_.Store("telescope", {objects.sources}, "");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  b_.OpenDb();
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.SumCounts(), 3);
  // The same minute a minute later folds into the day's events.
  telescope::IntervalObjects next = telescope::MakeIntervalObjects(
      Interval("s1", start + 60), b_.Identity(), stix::Tlp::kGreen, stix::Tlp::kAmber);
  b_.Store("telescope", {next.sources}, "");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.Events().size(), 3u);
  EXPECT_EQ(b_.SumCounts(), 6);
  // Not ours: another producer's in our telescope collection, ours in
  // another collection, a partner's telescope data.
  const std::string other = "identity--11111111-2222-4333-8444-555555555555";
  telescope::IntervalObjects foreign = telescope::MakeIntervalObjects(
      Interval("s2", start), other, stix::Tlp::kGreen, stix::Tlp::kAmber);
  b_.Store("telescope", {foreign.sources}, "");
  telescope::IntervalObjects elsewhere = telescope::MakeIntervalObjects(
      Interval("s3", start), b_.Identity(), stix::Tlp::kGreen, stix::Tlp::kAmber);
  b_.Store("other", {elsewhere.sources}, "");
  telescope::IntervalObjects partners = telescope::MakeIntervalObjects(
      Interval("s4", start), kPartnerIdentity, stix::Tlp::kGreen, stix::Tlp::kAmber);
  b_.Store("other", {partners.sources}, "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.SumCounts(), 6);
  // A month-old interval (a node turning the follower on over old data):
  // not alerted on.
  telescope::IntervalObjects old = telescope::MakeIntervalObjects(
      Interval("s1", start - 30 * 86400), b_.Identity(), stix::Tlp::kGreen, stix::Tlp::kAmber);
  b_.Store("telescope", {old.sources}, "");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.SumCounts(), 6);
  // The recipient's report holds the telescope's two bots.
  b_.clock.now += 60000000;
  EXPECT_EQ(b_.Run().sent, 1);
  auto reports = b_.db->Reports("isp-b", 10);
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].events, 2);
}

TEST_F(AlertsObservationIntake, ASurgesNewSourcesBecomeScannerEvents) {
  b_.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
  std::vector<json::object> addresses;
  for (const char* ip : {"198.51.100.30", "198.51.100.31", "2001:db8::5"}) {
    addresses.push_back(Marked(Address(ip), stix::Tlp::kAmber));
  }
  json::object observed = ObservedData("surge", addresses, b_.Identity(), stix::Tlp::kAmber);
  observed["x_kizuna_surge"] =
      json::object{{"proto", "tcp"},      {"port", 445},
                   {"metric", "sources"}, {"start", "2026-11-27T00:30:00Z"},
                   {"baseline", 3.5},     {"observed", 120.0}};
  std::vector<json::object> all = addresses;
  all.push_back(observed);
  b_.Store("telescope", all, "");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  std::vector<EventRow> events = b_.Events();
  ASSERT_EQ(events.size(), 3u);
  for (const EventRow& e : events) {
    EXPECT_EQ(e.type, "scanner");
    EXPECT_EQ(e.identifier, "surge-445-tcp");
    EXPECT_EQ(e.source, "telescope/surge");
    EXPECT_EQ(e.origin, "");
    EXPECT_EQ(e.recipient, e.ip == "2001:db8::5" ? "" : "isp-b") << e.ip;
    EXPECT_NE(e.evidence.find("\"metric\":\"sources\""), std::string::npos) << e.evidence;
  }
}

TEST_F(AlertsObservationIntake, APartnersInfectedHostsBecomeEventsFromThePeerOnce) {
  b_.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
  const json::object a7 = Marked(Address("198.51.100.7"), stix::Tlp::kGreen);
  const json::object a8 = Marked(Address("198.51.100.8"), stix::Tlp::kGreen);
  const json::object observed =
      ObservedData("partner-1", {a7, a8}, kPartnerIdentity, stix::Tlp::kGreen);
  b_.Store("default", {a7, a8, observed}, "cert-a");
  // A plain observed-data with a "bot" label, its address embedded.
  json::object labelled = ObservedData("partner-2", {}, kPartnerIdentity, stix::Tlp::kGreen);
  labelled.erase("x_kizuna_observation");
  labelled.erase("object_refs");
  labelled["objects"] =
      json::object{{"0", json::object{{"type", "ipv6-addr"}, {"value", "2001:db8::9"}}}};
  labelled["labels"] = json::array{"bot"};
  // Not an observation: no such claim.
  json::object plain = ObservedData("partner-3", {a7}, kPartnerIdentity, stix::Tlp::kGreen);
  plain.erase("x_kizuna_observation");
  b_.Store("default", {labelled, plain}, "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  std::vector<EventRow> events = b_.Events();
  ASSERT_EQ(events.size(), 3u);
  for (const EventRow& e : events) {
    EXPECT_EQ(e.origin, "cert-a");
    EXPECT_EQ(e.tlp, "green");
    EXPECT_EQ(e.source, "partner/cert-a");
    EXPECT_EQ(e.taxonomy, "malicious-code");
    EXPECT_EQ(e.type, "infected-system");
    EXPECT_EQ(e.recipient, e.ip == "2001:db8::9" ? "" : "isp-b") << e.ip;
    EXPECT_NE(e.evidence.find("\"partner\":\"cert-a\""), std::string::npos) << e.evidence;
  }
  for (const EventRow& e : events) EXPECT_EQ(e.confidence, 50) << "none given";
  // The same object again, through another collection, a later version of
  // it, and after a restart.
  b_.Store("other", {a7, a8, observed}, "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  json::object later = observed;
  later["modified"] = FormatTimestamp(kDay0 + 2400LL * 1000000, 3);
  b_.Store("default", {later}, "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  b_.OpenDb();
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.SumCounts(), 3);
  EXPECT_EQ(b_.Count("SELECT count(*) FROM observation_objects WHERE refused = ''"), 2);
  // A partner's surge: scanners, with its protocol.
  const json::object a40 = Marked(Address("198.51.100.40"), stix::Tlp::kGreen);
  json::object surge = ObservedData("partner-surge", {a40}, kPartnerIdentity, stix::Tlp::kGreen);
  surge["x_kizuna_surge"] = json::object{{"proto", "udp"}, {"port", 5060}};
  b_.Store("default", {a40, surge}, "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  bool found = false;
  for (const EventRow& e : b_.Events()) {
    if (e.ip != "198.51.100.40") continue;
    found = true;
    EXPECT_EQ(e.type, "scanner");
    EXPECT_EQ(e.protocol, "udp");
    EXPECT_EQ(e.identifier, "surge-5060-udp");
    EXPECT_EQ(e.origin, "cert-a");
  }
  EXPECT_TRUE(found);
}

TEST(AlertsObservationClassify, WhatASightingOfAnIndicatorSays) {
  struct Case {
    const char* indicator;
    const char* says;  // "taxonomy/type", or "" for nothing
  } cases[] = {
      {R"({"indicator_types":["compromised"]})", "malicious-code/infected-system"},
      {R"({"indicator_types":["malicious-activity"],"labels":["botnet"]})",
       "malicious-code/infected-system"},
      {R"({"labels":["infected-host"]})", "malicious-code/infected-system"},
      {R"({"labels":["bot"]})", "malicious-code/infected-system"},
      {R"({"labels":["scanner"]})", "information-gathering/scanner"},
      {R"({"labels":["c2"]})", "malicious-code/c2-server"},
      {R"({"labels":["c2-server"]})", "malicious-code/c2-server"},
      {R"({"indicator_types":["malicious-activity"]})", "other/undetermined"},
      {R"({"indicator_types":["benign"],"labels":["bot"]})", ""},
  };
  for (const Case& c : cases) {
    std::optional<Classification> got = ClassifyIndicator(json::parse(c.indicator).as_object());
    EXPECT_EQ(got ? got->taxonomy + "/" + got->type : "", c.says) << c.indicator;
  }
}

TEST_F(AlertsObservationIntake, APartnersSightingOfAnIndicatorNamingAnAddress) {
  b_.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
  const std::string time = FormatTimestamp(kDay0, 3);
  auto indicator = [&](const std::string& key, const std::string& pattern,
                       json::array types) -> json::object {
    return Marked(
        json::object{{"type", "indicator"},
                     {"spec_version", "2.1"},
                     {"id", "indicator--" + Uuid5("6f1e0c2a-8b7d-4e3f-9a1b-2c3d4e5f6a7b", key)},
                     {"created", time},
                     {"modified", time},
                     {"created_by_ref", b_.Identity()},
                     {"name", "bot " + key},
                     {"indicator_types", std::move(types)},
                     {"pattern", pattern},
                     {"pattern_type", "stix"},
                     {"valid_from", time}},
        stix::Tlp::kAmber);
  };
  const json::object bots = indicator(
      "bots", "[ipv4-addr:value = '198.51.100.20'] OR [ipv4-addr:value = '198.51.100.21']",
      json::array{"compromised"});
  const json::object domain =
      indicator("domain", "[domain-name:value = 'bad.example']", json::array{"compromised"});
  const json::object benign =
      indicator("benign", "[ipv4-addr:value = '198.51.100.22']", json::array{"benign"});
  b_.Store("default", {bots, domain, benign}, "");
  auto sighting = [&](const json::object& of, const std::string& key) {
    return Marked(
        json::object{{"type", "sighting"},
                     {"spec_version", "2.1"},
                     {"id", "sighting--" + Uuid5("6f1e0c2a-8b7d-4e3f-9a1b-2c3d4e5f6a7b", key)},
                     {"created", time},
                     {"modified", time},
                     {"created_by_ref", kPartnerIdentity},
                     {"sighting_of_ref", of.at("id")},
                     {"count", 4},
                     {"last_seen", FormatTimestamp(kDay0 + 7200LL * 1000000, 3)}},
        stix::Tlp::kGreen);
  };
  json::object answer = sighting(bots, "answer");
  answer[kAlertStateProperty] = "delivered";
  b_.Store("default",
           {sighting(bots, "s1"), sighting(domain, "s2"), sighting(benign, "s3"), answer},
           "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  std::vector<EventRow> events = b_.Events();
  ASSERT_EQ(events.size(), 2u) << "the two addresses of the bots' indicator, once";
  for (const EventRow& e : events) {
    EXPECT_EQ(e.origin, "cert-a");
    EXPECT_EQ(e.recipient, "isp-b");
    EXPECT_EQ(e.type, "infected-system");
    EXPECT_EQ(e.tlp, "amber") << "the stricter of the sighting's and the indicator's";
    EXPECT_EQ(e.last_seen_us, kDay0 + 7200LL * 1000000);
    EXPECT_NE(e.evidence.find("\"count\":4"), std::string::npos) << e.evidence;
  }
}

// A partner's observation reaches the affected party only as the sharing
// decision allows: up to its TLP, never AMBER+STRICT, never back to the peer.
TEST_F(AlertsObservationIntake, APartnersObservationNeverGoesBackToThePeer) {
  b_.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/25"),
                    NodeRecipient("cert-a", "cert-a", "198.51.100.128/25")});
  const json::object a7 = Marked(Address("198.51.100.7"), stix::Tlp::kGreen);
  const json::object a200 = Marked(Address("198.51.100.200"), stix::Tlp::kGreen);
  const json::object a9 = Marked(Address("198.51.100.9"), stix::Tlp::kAmberStrict);
  const json::object a10 = Marked(Address("198.51.100.10"), stix::Tlp::kRed);
  b_.Store("default",
           {a7, a200, a9, a10, ObservedData("g", {a7, a200}, kPartnerIdentity, stix::Tlp::kGreen),
            ObservedData("s", {a9}, kPartnerIdentity, stix::Tlp::kAmberStrict),
            ObservedData("r", {a10}, kPartnerIdentity, stix::Tlp::kRed)},
           "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  ASSERT_EQ(b_.Events().size(), 4u);
  b_.clock.now += 60000000;
  EXPECT_EQ(b_.Run().sent, 1) << "isp-b's; nothing to cert-a";
  auto reports = b_.db->Reports("isp-b", 10);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].events, 1) << "198.51.100.7";
  EXPECT_EQ((*reports)[0].withheld, 2) << "198.51.100.9 at AMBER+STRICT, .10 at RED";
  EXPECT_TRUE(b_.db->Reports("cert-a", 10)->empty());
  EXPECT_EQ(b_.Count("SELECT coalesce(sum(withheld), 0) FROM cuts"), 3)
      << "and 198.51.100.200: it came from this peer";
}

// Bad partner input: refused with a reason, nothing ingested, never a crash.
TEST_F(AlertsObservationIntake, AMalformedPartnerObjectIsRefusedAndChangesNothing) {
  const json::object a7 = Address("198.51.100.7");
  const json::object net = Address("198.51.100.0/24");
  json::object missing = Address("198.51.100.99");
  struct Case {
    const char* what;
    std::vector<json::object> objects;  // the last is the one asked about
    const char* says;
  };
  json::object no_address = ObservedData("none", {}, kPartnerIdentity, stix::Tlp::kGreen);
  no_address["object_refs"] =
      json::array{json::string("domain-name--00000000-0000-4000-8000-000000000001")};
  const std::string time = FormatTimestamp(kDay0, 3);
  json::object orphan{{"type", "sighting"},
                      {"spec_version", "2.1"},
                      {"id", "sighting--00000000-0000-4000-8000-000000000002"},
                      {"created", time},
                      {"modified", time},
                      {"sighting_of_ref", "indicator--00000000-0000-4000-8000-000000000003"}};
  std::vector<Case> cases = {
      {"an address that is not here",
       {ObservedData("m", {missing}, kPartnerIdentity, stix::Tlp::kGreen)},
       "which is not here"},
      {"a network, not a host",
       {net, ObservedData("n", {net}, kPartnerIdentity, stix::Tlp::kGreen)},
       "is a network"},
      {"no address at all", {no_address}, "names no ipv4-addr or ipv6-addr"},
      {"a sighting of an indicator we do not hold", {orphan}, "is not here"},
  };
  for (const Case& c : cases) {
    TestNode b{"CERT-B", {"cert-a"}};
    b.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
    b.Store("default", c.objects, "cert-a");
    store::ChangeQuery query;
    query.include_origin = true;
    auto changes = b.node->store().ListChanges(query);
    ASSERT_TRUE(changes.ok() && !changes->empty()) << c.what;
    ObservationContext context;
    context.db = b.db.get();
    context.store = &b.node->store();
    context.policy = b.policy.get();
    context.identity_id = b.Identity();
    context.now_us = b.clock.now;
    ASSERT_TRUE(EnsureObservationTables(*b.db).ok());
    auto refused = TakeInPartnerObservation(context, changes->back());
    ASSERT_TRUE(refused.ok()) << c.what << ": " << refused.status().message();
    EXPECT_FALSE(refused->taken) << c.what;
    EXPECT_NE(refused->refused.find(c.says), std::string::npos)
        << c.what << ": " << refused->refused;
    ASSERT_TRUE(b.follower->RunOnce().ok()) << c.what;
    EXPECT_EQ(b.Events().size(), 0u) << c.what;
    EXPECT_EQ(b.Count("SELECT count(*) FROM observation_objects WHERE refused != ''"), 1) << c.what;
  }
  // A refused object is taken when a later version of it is good.
  {
    TestNode b{"CERT-B", {"cert-a"}};
    json::object bad = ObservedData("fixed", {missing}, kPartnerIdentity, stix::Tlp::kGreen);
    b.Store("default", {bad}, "cert-a");
    ASSERT_TRUE(b.follower->RunOnce().ok());
    EXPECT_EQ(b.Events().size(), 0u);
    json::object good = ObservedData("fixed", {a7}, kPartnerIdentity, stix::Tlp::kGreen);
    good["modified"] = FormatTimestamp(kDay0 + 2400LL * 1000000, 3);
    b.Store("default", {a7, good}, "cert-a");
    ASSERT_TRUE(b.follower->RunOnce().ok());
    EXPECT_EQ(b.Events().size(), 1u);
    EXPECT_EQ(b.Count("SELECT count(*) FROM observation_objects WHERE refused = ''"), 1);
  }
  // From a node that is not our peer, and a partner's alert report event
  // (partner_intake's): not taken here.
  TestNode stranger{"CERT-B", {"someone"}};
  stranger.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
  stranger.Store("default", {a7, ObservedData("x", {a7}, kPartnerIdentity, stix::Tlp::kGreen)},
                 "cert-a");
  ASSERT_TRUE(stranger.follower->RunOnce().ok());
  EXPECT_EQ(stranger.Events().size(), 0u);
  json::object alert = ObservedData("alert", {a7}, kPartnerIdentity, stix::Tlp::kGreen);
  alert[kAlertFactsProperty] = json::object{{"ip", "198.51.100.7"}};
  b_.Store("default", {a7, alert}, "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.Events().size(), 0u);
}

}  // namespace
}  // namespace kizuna::alerts
