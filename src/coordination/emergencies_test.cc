// Emergency escalation on real node directories, stores and coordination.db
// (no mail relay: each step is recorded as not e-mailed): the chain by
// operating hours, escalation when a contact's time runs out, a partner's
// acknowledgement through federation stopping it, and a team left
// unanswered.
#include "coordination/emergencies.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/time.h"
#include "node/node.h"
#include "tests/support/temp_dir.h"

namespace kizuna::coordination {
namespace {

namespace json = boost::json;
using test_support::TempDir;

constexpr int64_t kMinute = 60LL * 1000000;

int64_t At(const char* text) { return *ParseTimestamp(text); }

std::unique_ptr<node::Node> MakeNode(const std::string& dir, const std::string& name) {
  node::InitOptions init;
  init.name = name;
  EXPECT_TRUE(node::InitNode(dir, init).ok());
  auto opened = node::Node::Open(dir);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

// CERT-A, with CERT-B as its partner whose signed directory entry it holds.
struct Pair {
  TempDir dir;
  std::unique_ptr<node::Node> a = MakeNode(dir.path() + "/a", "CERT-A");
  std::unique_ptr<node::Node> b = MakeNode(dir.path() + "/b", "CERT-B");
  node::NodeConfig config = a->config();
  std::unique_ptr<CoordinationDb> db;

  explicit Pair(const DirectoryChange& b_entry) {
    node::PeerConfig peer;
    peer.name = "cert-b";
    peer.url = "http://127.0.0.1:9";
    peer.public_key = b->identity().public_key_base64;
    config.peers.push_back(peer);
    const node::Node* signer = b.get();
    auto entry = SetOwnEntry(
        b->store(), b->config(), b->identity(),
        [signer](std::string_view bytes) { return signer->Sign(bytes); }, b_entry,
        stix::Tlp::kGreen, At("2026-11-01T00:00:00Z"));
    EXPECT_TRUE(entry.ok()) << entry.status().ToString();
    // What federation would bring: B's identity, delivered by cert-b.
    auto versions = b->store().ObjectHistory(b->identity().identity_id, 10);
    EXPECT_TRUE(versions.ok());
    for (const store::StoredObject& v : *versions) Receive(v.json, "cert-b");
    auto made = CoordinationDb::Open(dir.path() + "/a");
    EXPECT_TRUE(made.ok());
    db = std::move(*made);
  }
  void Receive(const std::string& object_json, const std::string& origin) {
    json::object object = json::parse(object_json).as_object();
    auto info = stix::ValidateObject(object);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    auto into = a->store().GetCollection("default");
    ASSERT_TRUE(into.ok());
    ASSERT_TRUE(
        a->store().AddObjects(into->id, {store::NewObject{*info, object_json, origin}}).ok());
  }
  Outbound Out() {
    Outbound out;
    out.store = &a->store();
    out.db = db.get();
    out.config = &config;
    out.identity = &a->identity();
    out.policy = std::make_shared<sharing::SharingPolicy>(config);
    out.ack_base_url = "https://cert-a.example";
    return out;
  }
};

DirectoryChange Contacts(const std::string& hours, const std::string& zone) {
  DirectoryChange change;
  change.contacts = std::vector<Contact>{{"primary", "Desk", "desk@cert-b.example", "", ""},
                                         {"emergency", "Duty", "duty@cert-b.example", "", ""},
                                         {"backup", "Deputy", "deputy@cert-b.example", "", ""},
                                         {"24x7", "", "", "+34-900-000-000", ""}};
  change.operating_hours = hours;
  change.time_zone = zone;
  return change;
}

std::vector<std::string> Roles(const EscalationChain& chain) {
  std::vector<std::string> out;
  for (const Contact& c : chain.contacts) out.push_back(c.role);
  return out;
}

TEST(Emergencies, TheChainFollowsTheTeamsHours) {
  DirectoryEntry entry;
  entry.contacts = *Contacts("", "UTC").contacts;
  entry.time_zone = "Europe/Madrid";
  entry.operating_hours = "Mon-Fri 09:00-18:00";
  // Monday 10:30 in Madrid (CET): emergency contacts first, the others in
  // the directory's order, the 24/7 line last.
  EscalationChain in = ChainAt(entry, At("2026-11-30T09:30:00Z"));
  EXPECT_TRUE(in.within_hours);
  EXPECT_EQ(Roles(in), (std::vector<std::string>{"emergency", "primary", "backup", "24x7"}));
  // Monday 20:00 in Madrid, and Saturday: the 24/7 line first.
  EscalationChain evening = ChainAt(entry, At("2026-11-30T19:00:00Z"));
  EXPECT_FALSE(evening.within_hours);
  EXPECT_EQ(Roles(evening), (std::vector<std::string>{"24x7", "emergency", "primary", "backup"}));
  EXPECT_FALSE(ChainAt(entry, At("2026-12-05T10:00:00Z")).within_hours);
  // Always open.
  entry.operating_hours.clear();
  EXPECT_TRUE(ChainAt(entry, At("2026-12-05T03:00:00Z")).within_hours);
  // A zone we cannot read: as outside the hours, and the trail says why.
  entry.operating_hours = "Mon-Fri 09:00-18:00";
  entry.time_zone = "Nowhere/Else";
  EscalationChain unknown = ChainAt(entry, At("2026-11-30T09:30:00Z"));
  EXPECT_FALSE(unknown.within_hours);
  EXPECT_NE(unknown.note.find("Nowhere/Else"), std::string::npos) << unknown.note;
  EXPECT_EQ(Roles(unknown).front(), "24x7");
}

TEST(Emergencies, AnUnansweredContactEscalatesUntilNoneIsLeft) {
  Pair t(Contacts("", "UTC"));
  const int64_t raised = At("2026-11-30T09:30:00Z");
  auto id = RaiseEmergency(t.Out(), EmergencyRequest{{"cert-b"}, "Wiper via VPN", 10 * kMinute, ""},
                           raised);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto status = GetEmergency(*t.db, t.a->store(), *id);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->teams.size(), 1u);
  ASSERT_EQ(status->teams[0].steps.size(), 1u);
  EXPECT_EQ(status->teams[0].steps[0].contact.email, "duty@cert-b.example");
  EXPECT_EQ(status->teams[0].steps[0].mail_state, "not-configured");
  EXPECT_EQ(status->teams[0].next_escalation_us, raised + 10 * kMinute);

  // Not yet: its time has not run out.
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 9 * kMinute), 0);
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 10 * kMinute), 1);
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 11 * kMinute), 0);
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 20 * kMinute), 1);
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 30 * kMinute), 1);  // the 24/7 phone line
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 40 * kMinute), 0);  // nobody left
  status = GetEmergency(*t.db, t.a->store(), *id);
  ASSERT_TRUE(status.ok());
  const EmergencyTeam& team = status->teams[0];
  EXPECT_EQ(team.state, "unanswered");
  ASSERT_EQ(team.steps.size(), 4u);
  EXPECT_EQ(team.steps[1].contact.email, "desk@cert-b.example");
  EXPECT_EQ(team.steps[1].at_us, raised + 10 * kMinute);
  EXPECT_EQ(team.steps[2].contact.email, "deputy@cert-b.example");
  EXPECT_EQ(team.steps[3].contact.phone, "+34-900-000-000");
  EXPECT_EQ(team.steps[3].mail_state, "phone-only");
  EXPECT_EQ(team.steps[3].mail_detail, "call +34-900-000-000");
  auto trail = AuditTrail(*t.db, *id);
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 6u);  // raised, notified, 3 escalated, unanswered
  EXPECT_EQ((*trail)[0].event, "raised");
  EXPECT_EQ((*trail)[1].event, "notified");
  EXPECT_EQ((*trail)[4].event, "escalated");
  EXPECT_EQ((*trail)[5].event, "unanswered");
  EXPECT_EQ((*trail)[5].at_us, raised + 40 * kMinute);
}

TEST(Emergencies, APartnersAcknowledgementThroughFederationStopsIt) {
  // Outside its hours (Saturday in Tokyo): the 24/7 line first.
  Pair t(Contacts("Mon-Fri 09:00-18:00", "Asia/Tokyo"));
  const int64_t raised = At("2026-12-05T03:00:00Z");
  auto id = RaiseEmergency(t.Out(), EmergencyRequest{{"cert-b"}, "DDoS", 10 * kMinute, ""}, raised);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto status = GetEmergency(*t.db, t.a->store(), *id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->teams[0].steps[0].contact.role, "24x7");
  EXPECT_FALSE(status->teams[0].steps[0].within_hours);
  const std::string object = status->teams[0].object_id;

  // Another partner's acknowledgement of B's copy does not count; B's does.
  auto ack = [&](const std::string& ref, const std::string& uuid) {
    json::object a = NewAddressedObject(kEmergencyAckType, "kizuna-emergency-ack--" + uuid,
                                        t.b->identity(), stix::Tlp::kAmber, "cert-a", raised);
    a["emergency_ref"] = ref;
    a["acknowledged"] = FormatTimestamp(raised, 3);
    return json::serialize(a);
  };
  t.Receive(ack(object, "7b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"), "cert-x");
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 10 * kMinute), 1);  // escalated: not acknowledged
  t.Receive(ack(object, "8b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"), "cert-b");
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 20 * kMinute), 0);
  EXPECT_EQ(*EscalateDue(t.Out(), raised + 60 * kMinute), 0);
  status = GetEmergency(*t.db, t.a->store(), *id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->teams[0].state, "acknowledged");
  EXPECT_EQ(status->teams[0].channel, "node");
  EXPECT_EQ(status->teams[0].steps.size(), 2u);
  json::object as_json = EmergencyJson(*status);
  EXPECT_EQ(as_json.at("teams").at(0).at("channel"), "node");
  EXPECT_EQ(as_json.at("ack_minutes").as_double(), 10.0);
}

TEST(Emergencies, BadRequestsRaiseNothing) {
  Pair t(Contacts("", "UTC"));
  for (const EmergencyRequest& bad :
       {EmergencyRequest{{}, "x", kMinute, ""}, EmergencyRequest{{"cert-x"}, "x", kMinute, ""},
        EmergencyRequest{{"cert-b"}, "", kMinute, ""},
        EmergencyRequest{{"cert-b"}, std::string(4001, 'x'), kMinute, ""},
        EmergencyRequest{{"cert-b"}, "x", 0, ""},
        EmergencyRequest{{"cert-b"}, "x", 25 * 60 * kMinute, ""}}) {
    EXPECT_EQ(RaiseEmergency(t.Out(), bad, At("2026-11-30T00:00:00Z")).status().code(),
              Code::kInvalidArgument);
  }
  EXPECT_TRUE(RaisedEmergencies(*t.db, t.a->store(), 10)->empty());
  EXPECT_EQ(LookUpEmergencyToken(*t.db, std::string(43, 'A')).status().code(), Code::kNotFound);
  EXPECT_EQ(GetEmergency(*t.db, t.a->store(), "emergency--nope").status().code(), Code::kNotFound);
}

TEST(Emergencies, TheChainIsTheOneAtTheRaiseAndALateNodeAnswerStillCounts) {
  Pair t(Contacts("", "UTC"));
  const int64_t raised = At("2026-11-30T09:30:00Z");
  auto id = RaiseEmergency(t.Out(), EmergencyRequest{{"cert-b"}, "x", 10 * kMinute, ""}, raised);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // B rewrites its entry meanwhile: the escalation keeps the contacts it
  // was raised with (a partner cannot steer it or keep it going).
  DirectoryChange other;
  other.contacts = std::vector<Contact>{{"emergency", "New", "new@cert-b.example", "", ""}};
  const node::Node* signer = t.b.get();
  ASSERT_TRUE(SetOwnEntry(
                  t.b->store(), t.b->config(), t.b->identity(),
                  [signer](std::string_view bytes) { return signer->Sign(bytes); }, other,
                  stix::Tlp::kGreen, At("2026-11-30T09:31:00Z"))
                  .ok());
  auto versions = t.b->store().ObjectHistory(t.b->identity().identity_id, 10);
  ASSERT_TRUE(versions.ok());
  t.Receive(versions->back().json, "cert-b");
  for (int minutes = 10; minutes <= 60; minutes += 10) {
    ASSERT_TRUE(EscalateDue(t.Out(), raised + minutes * kMinute).ok());
  }
  auto status = GetEmergency(*t.db, t.a->store(), *id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->teams[0].state, "unanswered");
  ASSERT_EQ(status->teams[0].steps.size(), 4u);
  for (const EmergencyStep& step : status->teams[0].steps) {
    EXPECT_NE(step.contact.email, "new@cert-b.example");
  }
  // Its node's acknowledgement after that still counts.
  json::object ack = NewAddressedObject(
      kEmergencyAckType, "kizuna-emergency-ack--9b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8",
      t.b->identity(), stix::Tlp::kAmber, "cert-a", raised);
  ack["emergency_ref"] = status->teams[0].object_id;
  ack["acknowledged"] = FormatTimestamp(raised, 3);
  t.Receive(json::serialize(ack), "cert-b");
  ASSERT_TRUE(EscalateDue(t.Out(), raised + 70 * kMinute).ok());
  status = GetEmergency(*t.db, t.a->store(), *id);
  EXPECT_EQ(status->teams[0].state, "acknowledged");
  EXPECT_EQ(status->teams[0].channel, "node");
}

TEST(Emergencies, SubjectsAreCutBetweenCharacters) {
  const std::string japanese = "\xe7\xb7\x8a\xe6\x80\xa5";  // two 3-byte characters
  EXPECT_EQ(TruncateUtf8(japanese, 4), "\xe7\xb7\x8a");
  EXPECT_EQ(TruncateUtf8(japanese, 3), "\xe7\xb7\x8a");
  EXPECT_EQ(TruncateUtf8(japanese, 2), "");
  EXPECT_EQ(TruncateUtf8(japanese, 6), japanese);
  EXPECT_EQ(TruncateUtf8("abc", 2), "ab");
}

}  // namespace
}  // namespace kizuna::coordination
