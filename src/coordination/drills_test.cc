// Drills on a real node directory, store and coordination.db: schedules
// (due, repeated, missed periods, removal), whose acknowledgement counts,
// and what a partner lists as received.
#include "coordination/drills.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/time.h"
#include "coordination/objects.h"
#include "node/node.h"
#include "tests/support/temp_dir.h"

namespace kizuna::coordination {
namespace {

namespace json = boost::json;
using test_support::TempDir;

constexpr int64_t kNow = 1796000000000000;  // 2026-11-30
constexpr int64_t kHour = 3600LL * 1000000;
constexpr int64_t kDay = 24 * kHour;

struct TestNode {
  TempDir dir;
  std::unique_ptr<node::Node> node;
  node::NodeConfig config;
  std::unique_ptr<CoordinationDb> db;
  TestNode() {
    node::InitOptions init;
    init.name = "CERT-A";
    EXPECT_TRUE(node::InitNode(dir.path() + "/a", init).ok());
    auto opened = node::Node::Open(dir.path() + "/a");
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    node = std::move(*opened);
    config = node->config();
    for (const char* peer : {"cert-b", "cert-c"}) {
      node::PeerConfig p;
      p.name = peer;
      p.url = "http://127.0.0.1:9";
      config.peers.push_back(p);
    }
    auto made = CoordinationDb::Open(dir.path() + "/a");
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    db = std::move(*made);
  }
  Outbound Sender() {
    Outbound s;
    s.store = &node->store();
    s.db = db.get();
    s.config = &config;
    s.identity = &node->identity();
    s.policy = std::make_shared<sharing::SharingPolicy>(config);
    s.ack_base_url = "https://cert-a.example";
    return s;
  }
  // Stores `object` as delivered by peer `origin` into the default collection.
  void Receive(const json::object& object, const std::string& origin) {
    auto info = stix::ValidateObject(object);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    auto into = node->store().GetCollection("default");
    ASSERT_TRUE(into.ok()) << into.status().ToString();
    auto added = node->store().AddObjects(
        into->id, {store::NewObject{*info, json::serialize(object), origin}});
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }
};

TEST(Drills, ScheduledDrillsStartWhenDueOncePerPeriod) {
  TestNode t;
  DrillSchedule schedule;
  schedule.peers = {"cert-b", "cert-c"};
  schedule.every_us = 7 * kDay;
  schedule.deadline_us = kHour;
  schedule.message = "weekly";
  schedule.next_run_us = kNow + kHour;
  auto policy = sharing::SharingPolicy(t.config);
  auto added = AddSchedule(*t.db, policy, schedule, kNow);
  ASSERT_TRUE(added.ok()) << added.status().ToString();

  auto none = RunDueSchedules(t.Sender(), kNow);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto first = RunDueSchedules(t.Sender(), kNow + kHour);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_TRUE(RunDueSchedules(t.Sender(), kNow + 2 * kHour)->empty());
  auto report = ReportDrill(*t.db, t.node->store(), first->front());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->schedule, added->id);
  EXPECT_EQ(report->message, "weekly");
  EXPECT_EQ(report->deadline_us - report->started_us, kHour);
  ASSERT_EQ(report->teams.size(), 2u);
  EXPECT_EQ(report->teams[0].mail_state, "not-configured");

  // Three periods pass with the node down: one drill, then the next period.
  auto late = RunDueSchedules(t.Sender(), kNow + kHour + 3 * 7 * kDay + kHour);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->size(), 1u);
  auto schedules = Schedules(*t.db);
  ASSERT_TRUE(schedules.ok());
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ(schedules->front().next_run_us, kNow + kHour + 4 * 7 * kDay);
  EXPECT_EQ(schedules->front().peers, (std::vector<std::string>{"cert-b", "cert-c"}));

  ASSERT_TRUE(RemoveSchedule(*t.db, added->id).ok());
  EXPECT_EQ(RemoveSchedule(*t.db, added->id).code(), Code::kNotFound);
  EXPECT_TRUE(RunDueSchedules(t.Sender(), kNow + 100 * 7 * kDay)->empty());
  auto sent = SentDrills(*t.db, t.node->store(), 10);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->size(), 2u);
}

TEST(Drills, BadRequestsAndSchedulesAreRefusedAndStartNothing) {
  TestNode t;
  auto policy = sharing::SharingPolicy(t.config);
  DrillSchedule hourly{"", {"cert-b"}, kHour / 2, kHour, "", 0, 0};
  EXPECT_EQ(AddSchedule(*t.db, policy, hourly, kNow).status().code(), Code::kInvalidArgument);
  for (const DrillRequest& bad :
       {DrillRequest{{}, kHour, "", "", ""}, DrillRequest{{"cert-x"}, kHour, "", "", ""},
        DrillRequest{{"cert-b", "cert-b"}, kHour, "", "", ""},
        DrillRequest{{"cert-b"}, 0, "", "", ""}, DrillRequest{{"cert-b"}, 31 * kDay, "", "", ""},
        DrillRequest{{"cert-b"}, kHour, std::string(4001, 'x'), "", ""},
        DrillRequest{{"cert-b"}, kHour, "\xff\xfe", "", ""}}) {
    auto started = StartDrill(t.Sender(), bad, kNow);
    EXPECT_EQ(started.status().code(), Code::kInvalidArgument);
  }
  EXPECT_TRUE(SentDrills(*t.db, t.node->store(), 10)->empty());
  auto objects = FindObjects(t.node->store(), kDrillType);
  ASSERT_TRUE(objects.ok());
  EXPECT_TRUE(objects->empty());
  EXPECT_EQ(LookUpToken(*t.db, "short").status().code(), Code::kNotFound);
  EXPECT_EQ(AcknowledgeByToken(*t.db, std::string(43, 'A'), kNow).status().code(), Code::kNotFound);
}

TEST(Drills, OnlyTheDrilledPartnersOwnAcknowledgementCounts) {
  TestNode t;
  auto drill = StartDrill(t.Sender(), DrillRequest{{"cert-b", "cert-c"}, kHour, "", "", ""}, kNow);
  ASSERT_TRUE(drill.ok()) << drill.status().ToString();
  auto objects = FindObjects(t.node->store(), kDrillType);
  ASSERT_TRUE(objects.ok());
  ASSERT_EQ(objects->size(), 2u);
  std::string b_object, c_object;
  for (const Found& f : *objects) {
    EXPECT_EQ(Text(f.object, "drill"), *drill);
    EXPECT_EQ(f.tlp, stix::Tlp::kAmber);
    (Text(f.object, std::string(sharing::kAddressedToProperty)) == "cert-b" ? b_object : c_object) =
        Text(f.object, "id");
  }
  ASSERT_FALSE(b_object.empty());
  ASSERT_FALSE(c_object.empty());
  // Our own drills are not "received".
  EXPECT_TRUE(ReceivedDrills(t.node->store())->empty());

  auto ack = [&](const std::string& id, const std::string& object) {
    json::object a = NewAddressedObject(
        kDrillAckType, id,
        node::NodeIdentity{"identity--" + std::string("6f1c0f5e-1b1e-4c55-8a7e-1f2d3c4b5a69"), "X",
                           ""},
        stix::Tlp::kAmber, "cert-a", kNow);
    a["drill_ref"] = object;
    a["drill"] = *drill;
    a["acknowledged"] = FormatTimestamp(kNow, 3);
    return a;
  };
  // C acknowledging B's copy, and B acknowledging C's: neither counts.
  t.Receive(ack("kizuna-drill-ack--0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", b_object), "cert-c");
  t.Receive(ack("kizuna-drill-ack--1b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", c_object), "cert-b");
  // A local user's copy of an acknowledgement is no partner's.
  t.Receive(ack("kizuna-drill-ack--2b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", b_object), "org:isp-x");
  auto report = ReportDrill(*t.db, t.node->store(), *drill);
  ASSERT_TRUE(report.ok());
  for (const TeamResult& team : report->teams) EXPECT_EQ(team.acknowledged_us, 0) << team.peer;

  // B acknowledging its own copy counts, at the time we stored it.
  const int64_t before = SystemClock::Instance().NowMicros();
  t.Receive(ack("kizuna-drill-ack--3b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", b_object), "cert-b");
  report = ReportDrill(*t.db, t.node->store(), *drill);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->teams[0].peer, "cert-b");
  EXPECT_GE(report->teams[0].acknowledged_us, before);
  EXPECT_EQ(report->teams[0].channel, "node");
  EXPECT_EQ(report->teams[1].acknowledged_us, 0);
  json::object as_json = ReportJson(*report, kNow + 2 * kHour);
  EXPECT_EQ(as_json.at("teams").at(0).at("status"), "late");  // stored long after the deadline
  EXPECT_EQ(as_json.at("teams").at(1).at("status"), "no-answer");
  EXPECT_EQ(ReportJson(*report, kNow).at("teams").at(1).at("status"), "waiting");
}

TEST(Drills, APartnersDrillIsListedAndAcknowledgedOnce) {
  TestNode t;
  json::object drill = NewAddressedObject(
      kDrillType, "kizuna-drill--4b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8",
      node::NodeIdentity{"identity--5b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", "CERT-B", ""},
      stix::Tlp::kAmber, "cert-a", kNow);
  drill["drill"] = "drill--6b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8";
  drill["message"] = "hello";
  drill["started"] = FormatTimestamp(kNow, 3);
  drill["deadline"] = FormatTimestamp(kNow + kHour, 3);
  t.Receive(drill, "cert-b");
  auto received = ReceivedDrills(t.node->store());
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ(received->front().from, "cert-b");
  EXPECT_EQ(received->front().deadline_us, kNow + kHour);
  EXPECT_EQ(AcknowledgeDrill(t.node->store(), t.config, t.node->identity(),
                             sharing::SharingPolicy(t.config), "drill--nope", kNow)
                .status()
                .code(),
            Code::kNotFound);
  auto acked = AcknowledgeDrill(t.node->store(), t.config, t.node->identity(),
                                sharing::SharingPolicy(t.config),
                                "drill--6b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", kNow + 60000000);
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  ASSERT_EQ(acked->size(), 1u);
  EXPECT_EQ(acked->front().acknowledged_us, kNow + 60000000);
  auto again = AcknowledgeDrill(
      t.node->store(), t.config, t.node->identity(), sharing::SharingPolicy(t.config),
      "kizuna-drill--4b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", kNow + 120000000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->front().acknowledged_us, kNow + 60000000);
  auto acks = FindObjects(t.node->store(), kDrillAckType);
  ASSERT_TRUE(acks.ok());
  ASSERT_EQ(acks->size(), 1u);
  // Another partner sending a drill under the same ids takes nothing from
  // cert-b: it is another drill, and acknowledging the id answers both.
  drill["modified"] = FormatTimestamp(kNow + 1000, 3);
  t.Receive(drill, "cert-c");
  received = ReceivedDrills(t.node->store());
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 2u);
  auto both = AcknowledgeDrill(t.node->store(), t.config, t.node->identity(),
                               sharing::SharingPolicy(t.config),
                               "drill--6b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8", kNow + 180000000);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->size(), 2u);
  acks = FindObjects(t.node->store(), kDrillAckType);
  ASSERT_EQ(acks->size(), 2u);
  EXPECT_EQ(Text(acks->front().object, std::string(sharing::kAddressedToProperty)), "cert-b");
  EXPECT_EQ(Text(acks->back().object, std::string(sharing::kAddressedToProperty)), "cert-c");
  EXPECT_EQ(Text(acks->front().object, "drill_ref"),
            "kizuna-drill--4b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8");
}

}  // namespace
}  // namespace kizuna::coordination
