// Channel node on real stores and alerts.dbs, two nodes in one process:
// node A reports to its partner B's node (the bundle addressed to B alone),
// B takes the report in, routes it on to its own ISP and answers per event,
// A records the answers; a malformed report is refused whole and changes
// nothing; nothing bounces back to the sender; the re-check. Federation
// itself is played by Carry (what the sending policy lets the peer read,
// stored on the other side with the peer as origin): the real one is in
// tests/e2e/alerts_node_e2e_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "alerts/alerts_db.h"
#include "alerts/deliver.h"
#include "alerts/node_channel.h"
#include "alerts/partner_intake.h"
#include "alerts/pipeline.h"
#include "alerts/recheck.h"
#include "alerts/reports.h"
#include "alerts/status.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "stix/stix.h"

namespace kizuna::alerts {
namespace {

namespace json = boost::json;

constexpr int64_t kDay = 86400LL * 1000000;
constexpr int64_t kDay0 = 1795737600LL * 1000000;  // 2026-11-27T00:00:00Z

class FixedClock : public Clock {
 public:
  int64_t NowMicros() const override { return now; }
  int64_t now = kDay0;
};

// One node: its directory (kizuna init), store, alerts.db and policy.
struct TestNode {
  explicit TestNode(const std::string& name, std::vector<std::string> peers) {
    static int n = 0;
    dir = (std::filesystem::temp_directory_path() /
           ("kizuna-alerts-node-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
              .string();
    std::filesystem::remove_all(dir);
    node::InitOptions init;
    init.name = name;
    EXPECT_TRUE(node::InitNode(dir, init).ok());
    auto opened = node::Node::Open(dir);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    node = std::move(*opened);
    auto alerts = AlertsDb::Open(dir);
    EXPECT_TRUE(alerts.ok());
    db = std::move(*alerts);
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
    PartnerFollower::Options options;
    options.db = db.get();
    options.store = s;
    options.policy = [this] { return policy; };
    options.identity_id = node->identity().identity_id;
    options.identity_name = name;
    options.clock = &clock;
    follower = std::make_unique<PartnerFollower>(std::move(options));
  }
  ~TestNode() {
    follower.reset();
    db.reset();
    node.reset();
    std::filesystem::remove_all(dir);
  }

  void SetRecipients(const std::vector<Recipient>& recipients) {
    for (const Recipient& r : recipients) ASSERT_TRUE(db->PutRecipient(r).ok()) << r.name;
  }
  RouteTable Routes() { return RouteTable(*db->Recipients()); }

  void Ingest(const std::vector<Observation>& observations) {
    RouteTable routes = Routes();
    IngestOptions options;
    options.now_us = clock.now;
    Ingester ingester(*db, nullptr, routes, options);
    for (const Observation& o : observations) ASSERT_TRUE(ingester.Add(o).ok());
    ASSERT_TRUE(ingester.Flush().ok());
    clock.now += 1000000;  // a report cut now holds them
  }

  // Builds every due report now and delivers it (channel node: into the store).
  DeliveryStats Run() {
    RouteTable routes = Routes();
    BuildOptions build;
    build.now_us = clock.now;
    build.cut_now = true;
    build.policy = policy.get();
    build.producer = config.name;
    build.producer_identity = node->identity().identity_id;
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

  // The stored events that `keep` accepts (all events when none).
  int64_t CountEvents(const std::function<bool(const EventRow&)>& keep = nullptr,
                      bool sum_counts = false) {
    auto lock = db->Lock();
    int64_t n = 0;
    const Status read = ForEachEventSince(db->connection(), 0, [&](const EventRow& e) {
      if (!keep || keep(e)) n += sum_counts ? e.count : 1;
      return Status::Ok();
    });
    EXPECT_TRUE(read.ok()) << read.message();
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
  std::unique_ptr<PartnerFollower> follower;
};

// Federation in miniature: what `from` lets `peer` read of its collection
// `alias`, stored at `to` (in `into`) with origin `as`. Returns how many.
int Carry(TestNode& from, const std::string& alias, const std::string& peer, TestNode& to,
          const std::string& into, const std::string& as,
          const std::function<void(json::object&)>& tamper = {}) {
  auto collection = from.node->store().GetCollection(alias);
  if (!collection.ok()) return 0;
  if (!from.policy->MayReadCollection(from.policy->ForPeer(peer), *collection)) return 0;
  store::ObjectQuery query;
  query.include_origin = true;
  auto page = from.node->store().QueryObjects(collection->id, query);
  EXPECT_TRUE(page.ok());
  auto target = to.node->store().GetCollection(into);
  EXPECT_TRUE(target.ok());
  std::vector<store::NewObject> objects;
  for (const store::StoredObject& o : page->objects) {
    if (!from.policy->MayRelease(o, from.policy->ForPeer(peer))) continue;
    json::object parsed = json::parse(o.json).as_object();
    if (tamper) tamper(parsed);
    auto info = stix::ValidateObject(parsed);
    if (!info.ok()) continue;  // what federation refuses
    objects.push_back(store::NewObject{*info, json::serialize(parsed), as});
  }
  EXPECT_TRUE(to.node->store().AddObjects(target->id, objects).ok());
  return static_cast<int>(objects.size());
}

Observation Seen(std::string_view ip, int64_t time_us, uint16_t port = 23) {
  Observation o;
  o.time_us = time_us;
  o.ip = *ParseHostAddress(ip);
  o.port = port;
  o.protocol = "tcp";
  o.taxonomy = "malicious-code";
  o.type = "infected-system";
  o.identifier = "mirai";
  o.family = "mirai";
  o.source = "shadowserver/event4_sinkhole";
  o.evidence = "{}";
  return o;
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

Recipient FeedRecipient(const std::string& name, const std::string& org, const char* prefix) {
  Recipient r;
  r.name = name;
  r.channel = Channel::kFeed;
  r.org = org;
  r.prefixes = {*ParsePrefix(prefix)};
  return r;
}

class AlertsNodeChannel : public ::testing::Test {
 protected:
  // A (CERT-A) knows B as "csirt-b" and C as "cert-c"; B knows A as "cert-a".
  TestNode a_{"CERT-A", {"csirt-b", "cert-c"}};
  TestNode b_{"CERT-B", {"cert-a"}};

  void SendAtoB() {
    a_.SetRecipients({NodeRecipient("csirt-b", "csirt-b", "198.51.100.0/24")});
    b_.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/25")});
    // .7 seen twice: one event, counted 2, first seen an hour before.
    a_.Ingest({Seen("198.51.100.7", kDay0 - 3600000000LL), Seen("198.51.100.8", kDay0 - 7000000),
               Seen("198.51.100.200", kDay0 - 5000000), Seen("198.51.100.7", kDay0 - 60000000)});
    const DeliveryStats stats = a_.Run();
    ASSERT_EQ(stats.sent, 1);
  }
};

TEST_F(AlertsNodeChannel, TheReportIsStoredForItsPeerAloneAtItsTlp) {
  SendAtoB();
  auto reports = a_.db->Reports("csirt-b", 10);
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].state, kSent);
  auto collection = a_.node->store().GetCollection(sharing::kAlertsAlias);
  ASSERT_TRUE(collection.ok());
  store::ObjectQuery query;
  query.include_origin = true;
  auto page = a_.node->store().QueryObjects(collection->id, query);
  ASSERT_TRUE(page.ok());
  // Three events: an observed-data and an address each, and the report.
  ASSERT_EQ(page->objects.size(), 7u);
  const auto& policy = *a_.policy;
  for (const store::StoredObject& o : page->objects) {
    EXPECT_EQ(o.tlp, stix::Tlp::kAmber) << o.id;
    EXPECT_EQ(sharing::AddressedTo(o.json), std::optional<std::string>("csirt-b")) << o.id;
    EXPECT_TRUE(policy.MayRelease(o, policy.ForPeer("csirt-b"))) << o.id;
    EXPECT_FALSE(policy.MayRelease(o, policy.ForPeer("cert-c"))) << o.id;
    EXPECT_FALSE(policy.MayRelease(o, policy.ForExport(stix::Tlp::kRed))) << o.id;
    EXPECT_FALSE(policy.MayRelease(o, policy.ForPublic())) << o.id;
  }
  // Federation carries it to B, not to C.
  TestNode c{"CERT-C", {"cert-a"}};
  EXPECT_EQ(Carry(a_, sharing::kAlertsAlias, "cert-c", c, "default", "cert-a"), 0);
  EXPECT_EQ(Carry(a_, sharing::kAlertsAlias, "csirt-b", b_, "default", "cert-a"), 7);
  // A resend (a crash after storing, before "sent") stores nothing new.
  auto body = a_.db->Report((*reports)[0].id);
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(LoadReportBody(*a_.db, &*body).ok());
  EXPECT_EQ(*StoreReportForPeer(a_.node->store(), "CERT-A", "csirt-b", body->body), 0);
  // An address already sent to B, later reported to C: C gets its own copy.
  a_.SetRecipients({NodeRecipient("cert-c", "cert-c", "198.51.100.7/32")});
  a_.Ingest({Seen("198.51.100.7", kDay0 + kDay)});
  ASSERT_EQ(a_.Run().sent, 1);
  EXPECT_EQ(Carry(a_, sharing::kAlertsAlias, "cert-c", c, "default", "cert-a"), 3)
      << "its address, observed-data and report";
  // Not a STIX bundle: refused, nothing stored.
  EXPECT_FALSE(StoreReportForPeer(a_.node->store(), "CERT-A", "csirt-b", "ip\n1.2.3.4\n").ok());
}

TEST_F(AlertsNodeChannel, ThePartnerRoutesItOnAndTheSenderSeesEachEventsState) {
  SendAtoB();
  ASSERT_EQ(Carry(a_, sharing::kAlertsAlias, "csirt-b", b_, "default", "cert-a"), 7);
  b_.clock.now = kDay0 + 60000000;
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  // B: each event an observation of its own, from cert-a, routed to its ISP
  // (two of the three addresses are in isp-b's /25).
  EXPECT_EQ(b_.CountEvents([](const EventRow& e) { return e.origin == "cert-a"; }), 3);
  EXPECT_EQ(
      b_.CountEvents([](const EventRow& e) { return e.recipient == "isp-b" && e.tlp == "amber"; }),
      2);
  EXPECT_EQ(b_.Count("SELECT count(*) FROM partner_events WHERE peer = 'cert-a'"), 3);
  // Taken in once, however often it is seen, each event with the count and
  // times the sender gave it.
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.CountEvents(nullptr, /*sum_counts=*/true), 4);
  EXPECT_EQ(b_.CountEvents([](const EventRow& e) {
    return e.ip == "198.51.100.7" && e.count == 2 && e.first_seen_us == kDay0 - 3600000000LL &&
           e.last_seen_us == kDay0 - 60000000;
  }),
            1);
  // B's ISP gets its report; B answers: received, one unrouted, two delivered.
  b_.clock.now += 60000000;
  EXPECT_EQ(b_.Run().sent, 1);
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  // The answers reach A as sightings of what A produced, and only A.
  auto sightings = b_.node->store().GetCollection(sharing::kSightingsAlias);
  ASSERT_TRUE(sightings.ok());
  store::ObjectQuery query;
  query.types = {"sighting"};
  auto page = b_.node->store().QueryObjects(sightings->id, query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 4u) << "received, unrouted, delivered x2";
  for (const store::StoredObject& s : page->objects) {
    EXPECT_TRUE(b_.policy->MayRelease(s, b_.policy->ForPeer("cert-a"))) << s.json;
  }
  EXPECT_EQ(Carry(b_, sharing::kSightingsAlias, "cert-a", a_, "default", "csirt-b"), 5)
      << "the four answers and B's identity";
  a_.clock.now = b_.clock.now;
  ASSERT_TRUE(a_.follower->RunOnce().ok());
  auto report = *a_.db->Reports("csirt-b", 1);
  EXPECT_EQ(report[0].state, kAcknowledged) << "B's node took the whole report in";
  auto states = EventStatesJson(*a_.db, report[0].rowid);
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(json::serialize(states->at("counts")), R"({"delivered":2,"unrouted":1})");
  // B's ISP acknowledges its report: A hears it per event.
  auto b_report = (*b_.db->Reports("isp-b", 1))[0];
  ASSERT_TRUE(AcknowledgeReport(*b_.db, b_report.id, b_.clock.now, "user x of ISP-B").ok());
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  Carry(b_, sharing::kSightingsAlias, "cert-a", a_, "default", "csirt-b");
  ASSERT_TRUE(a_.follower->RunOnce().ok());
  states = EventStatesJson(*a_.db, report[0].rowid);
  EXPECT_EQ(json::serialize(states->at("counts")), R"({"acknowledged":2,"unrouted":1})");
  const json::array& events = states->at("events").as_array();
  ASSERT_EQ(events.size(), 3u);
  for (const json::value& e : events) {
    const json::object& states_of = e.at("states").as_object();
    if (e.at("state").as_string() == "acknowledged") {
      EXPECT_TRUE(states_of.contains("delivered"));
    }
  }
  auto status = StatusJson(*a_.db);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(json::serialize(status->at("event_states")), R"({"acknowledged":2,"unrouted":1})");
  // B's re-check a week later: the partner hears that its hosts are gone.
  ASSERT_EQ(RecheckReports(*b_.db, b_.Routes(), b_.clock.now + 8 * kDay)->remediated, 2);
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  Carry(b_, sharing::kSightingsAlias, "cert-a", a_, "default", "csirt-b");
  ASSERT_TRUE(a_.follower->RunOnce().ok());
  states = EventStatesJson(*a_.db, report[0].rowid);
  EXPECT_EQ(json::serialize(states->at("counts")), R"({"remediated":2,"unrouted":1})");
  // An answer from the wrong peer, or about an event it was not sent, is ignored.
  store::StoredObject forged;
  forged.type = "sighting";
  forged.origin = "cert-c";
  forged.id = "sighting--00000000-0000-4000-8000-000000000001";
  forged.json = page->objects[0].json;
  EXPECT_FALSE(*ApplyPartnerAnswer(*a_.db, *a_.db->Recipients(), forged, a_.clock.now));
}

TEST_F(AlertsNodeChannel, NothingBouncesBackToTheSender) {
  // B's catch-all goes to A's node: a partner's event routed there is withheld.
  a_.SetRecipients({NodeRecipient("csirt-b", "csirt-b", "198.51.100.0/24")});
  Recipient back = NodeRecipient("cert-a", "cert-a", "0.0.0.0/0");
  back.prefixes.clear();
  back.fallback = true;
  b_.SetRecipients({back});
  a_.Ingest({Seen("198.51.100.7", kDay0 - 1000000)});
  ASSERT_EQ(a_.Run().sent, 1);
  Carry(a_, sharing::kAlertsAlias, "csirt-b", b_, "default", "cert-a");
  ASSERT_TRUE(b_.follower->RunOnce().ok());
  EXPECT_EQ(b_.CountEvents([](const EventRow& e) { return e.recipient == "cert-a"; }), 1);
  b_.clock.now += 60000000;
  EXPECT_EQ(b_.Run().sent, 0);
  EXPECT_EQ(b_.Count("SELECT coalesce(sum(withheld), 0) FROM cuts"), 1)
      << "withheld: it came from this peer";
  EXPECT_EQ(b_.Count("SELECT count(*) FROM reports"), 0);
}

// A partner's malformed report is refused whole: no event, no answer.
TEST_F(AlertsNodeChannel, AMalformedPartnerReportIsRefusedAndChangesNothing) {
  struct Case {
    const char* what;
    const char* says;  // in the refusal (and the log line)
    std::function<void(json::object&)> tamper;
  } cases[] = {
      {"a bad address", "ip '999.1.1.1' is not an address",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert")) o["x_kizuna_alert"].as_object()["ip"] = "999.1.1.1";
       }},
      {"an event id that is not its own", "does not match the object id",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert"))
           o["x_kizuna_alert"].as_object()["event_id"] = "0000000000000001";
       }},
      {"an unknown classification", "mischief",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert")) o["x_kizuna_alert"].as_object()["type"] = "mischief";
       }},
      {"a missing event", "observed-data--00000000-0000-4000-8000-000000000009 is not here",
       [](json::object& o) {
         if (stix::StringProperty(o, "type") == "report") {
           o["object_refs"].as_array().push_back(
               json::string("observed-data--00000000-0000-4000-8000-000000000009"));
         }
       }},
      {"facts that are not an object", "no x_kizuna_alert object",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert")) o["x_kizuna_alert"] = "infected";
       }},
      {"a port out of range", "port: out of range",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert")) o["x_kizuna_alert"].as_object()["port"] = 70000;
       }},
      {"a time that is not one", "last_seen is not a time",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert"))
           o["x_kizuna_alert"].as_object()["last_seen"] = "yesterday";
       }},
      {"over-long text", "identifier is too long",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert"))
           o["x_kizuna_alert"].as_object()["identifier"] = std::string(300, 'x');
       }},
      {"a marking other than the report's", "marked differently",
       [](json::object& o) {
         if (o.contains("x_kizuna_alert")) {
           o["object_marking_refs"] =
               json::array{json::string(stix::TlpMarkingId(stix::Tlp::kGreen))};
         }
       }},
  };
  a_.SetRecipients({NodeRecipient("csirt-b", "csirt-b", "198.51.100.0/24")});
  a_.Ingest({Seen("198.51.100.7", kDay0 - 1000000), Seen("198.51.100.9", kDay0 - 1000000)});
  ASSERT_EQ(a_.Run().sent, 1);
  for (const Case& c : cases) {
    TestNode b{"CERT-B", {"cert-a"}};
    b.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
    bool once = false;
    Carry(a_, sharing::kAlertsAlias, "csirt-b", b, "default", "cert-a", [&](json::object& o) {
      // One event (or the report) spoilt, the rest intact.
      const bool report = stix::StringProperty(o, "type") == "report";
      if (report || (!once && o.contains("x_kizuna_alert"))) {
        if (!report) once = true;
        c.tamper(o);
      }
    });
    // Asked directly: refused, saying why (the node logs the same line).
    store::ChangeQuery reports;
    reports.types = {"report"};
    reports.include_origin = true;
    auto changes = b.node->store().ListChanges(reports);
    ASSERT_TRUE(changes.ok() && !changes->empty()) << c.what;
    IntakeContext context{b.db.get(), &b.node->store(), nullptr, b.node->identity().identity_id,
                          "CERT-B",   b.clock.now};
    auto refused = TakeInPartnerReport(context, *b.policy, changes->back());
    ASSERT_TRUE(refused.ok()) << refused.status().message();
    EXPECT_FALSE(refused->taken) << c.what;
    EXPECT_NE(refused->refused.find(c.says), std::string::npos)
        << c.what << ": " << refused->refused;
    ASSERT_TRUE(b.follower->RunOnce().ok()) << c.what;
    EXPECT_EQ(b.CountEvents(), 0) << c.what;
    EXPECT_EQ(b.Count("SELECT count(*) FROM partner_reports"), 0) << c.what;
    EXPECT_EQ(b.Count("SELECT count(*) FROM partner_events"), 0) << c.what;
    auto sightings = b.node->store().GetCollection(sharing::kSightingsAlias);
    if (sightings.ok()) {
      store::ObjectQuery query;
      query.types = {"sighting"};
      EXPECT_TRUE(b.node->store().QueryObjects(sightings->id, query)->objects.empty()) << c.what;
    }
  }
  // From a node that is not our peer: not even looked at.
  TestNode stranger{"CERT-B", {"someone"}};
  stranger.SetRecipients({FeedRecipient("isp-b", "ISP-B", "198.51.100.0/24")});
  Carry(a_, sharing::kAlertsAlias, "csirt-b", stranger, "default", "cert-a");
  ASSERT_TRUE(stranger.follower->RunOnce().ok());
  EXPECT_EQ(stranger.CountEvents(), 0);
}

TEST_F(AlertsNodeChannel, TheRecheckTellsRemediatedFromStillInfected) {
  Recipient isp = FeedRecipient("isp-a", "ISP-A", "198.51.100.0/24");
  isp.recheck_days = 7;
  a_.SetRecipients({isp});
  a_.Ingest({Seen("198.51.100.7", kDay0 - 1000000), Seen("198.51.100.8", kDay0 - 1000000)});
  ASSERT_EQ(a_.Run().sent, 1);
  auto report = (*a_.db->Reports("isp-a", 1))[0];
  // Three days later .7 is seen again (another day: a new event).
  a_.clock.now = kDay0 + 3 * kDay;
  a_.Ingest({Seen("198.51.100.7", kDay0 + 3 * kDay - 1000000)});
  // Not due before its seven days.
  EXPECT_EQ(RecheckReports(*a_.db, a_.Routes(), kDay0 + 6 * kDay)->reports, 0);
  auto stats = RecheckReports(*a_.db, a_.Routes(), kDay0 + 8 * kDay);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->reports, 1);
  EXPECT_EQ(stats->remediated, 1);
  EXPECT_EQ(stats->still_infected, 1);
  EXPECT_EQ(RecheckReports(*a_.db, a_.Routes(), kDay0 + 9 * kDay)->reports, 0) << "once";
  auto log = a_.db->ReportLog(report.id);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->back().state, "rechecked");
  EXPECT_EQ(log->back().detail, "1 remediated, 1 still infected");
  auto states = EventStatesJson(*a_.db, report.rowid);
  EXPECT_EQ(json::serialize(states->at("counts")), R"({"remediated":1,"still-infected":1})");
  for (const json::value& e : states->at("events").as_array()) {
    EXPECT_EQ(e.at("state").as_string(),
              e.at("ip").as_string() == "198.51.100.7" ? "still-infected" : "remediated");
  }
}

}  // namespace
}  // namespace kizuna::alerts
