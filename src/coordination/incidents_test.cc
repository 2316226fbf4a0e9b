// Joint incidents on real node directories and stores (federation played
// by copying objects with their origin): whose entries count, who changes
// the incident, the same order everywhere, and the reports.
#include "coordination/incidents.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "coordination/objects.h"
#include "node/node.h"
#include "tests/support/temp_dir.h"

namespace kizuna::coordination {
namespace {

namespace json = boost::json;
using test_support::TempDir;

int64_t At(const char* text) { return *ParseTimestamp(text); }

struct Team {
  std::unique_ptr<node::Node> node;
  node::NodeConfig config;
  std::unique_ptr<CoordinationDb> db;
  Team(const std::string& dir, const std::string& name) {
    node::InitOptions init;
    init.name = name;
    EXPECT_TRUE(node::InitNode(dir, init).ok());
    auto opened = node::Node::Open(dir);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    node = std::move(opened).value();
    config = node->config();
    auto made = CoordinationDb::Open(dir);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    db = std::move(made).value();
  }
  void Peer(const std::string& name, const Team& other) {
    node::PeerConfig p;
    p.name = name;
    p.url = "http://127.0.0.1:9";
    p.public_key = other.node->identity().public_key_base64;
    config.peers.push_back(p);
  }
  Outbound Out() {
    Outbound out;
    out.store = &node->store();
    out.db = db.get();
    out.config = &config;
    out.identity = &node->identity();
    out.policy = std::make_shared<sharing::SharingPolicy>(config);
    out.ack_base_url = "https://example";
    out.sign = [n = node.get()](std::string_view bytes) { return n->Sign(bytes); };
    return out;
  }
  void Receive(const json::object& object, const std::string& origin) {
    auto info = stix::ValidateObject(object);
    ASSERT_TRUE(info.ok()) << info.status().ToString() << json::serialize(object);
    auto into = node->store().GetCollection("default");
    ASSERT_TRUE(into.ok());
    ASSERT_TRUE(
        node->store()
            .AddObjects(into->id, {store::NewObject{*info, json::serialize(object), origin}})
            .ok());
  }
  // What federation would carry from `from`: its own incident objects.
  void ReceiveAllOf(Team& from, const std::string& origin) {
    for (const char* type : {"incident", "note", "kizuna-task", "relationship"}) {
      auto found = FindObjects(from.node->store(), type);
      ASSERT_TRUE(found.ok());
      for (const Found& f : *found) {
        if (f.origin.empty()) Receive(f.object, origin);
      }
    }
  }
};

struct Three {
  TempDir dir;
  Team a{dir.path() + "/a", "CERT-A"}, b{dir.path() + "/b", "CERT-B"}, x{dir.path() + "/x", "X"};
  Three() {
    a.Peer("cert-b", b);
    a.Peer("cert-x", x);
    b.Peer("cert-a", a);
    b.Peer("cert-x", x);
  }
};

TEST(Incidents, OnlyParticipantsEntriesCountAndOnlyTheOwnerChangesIt) {
  Three t;
  OpenRequest open;
  open.title = "Ransomware | MSP";
  open.participants = {"cert-b"};
  open.category = "malicious-code";
  auto id = OpenIncident(t.a.Out(), open, At("2026-11-30T10:00:00Z"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  t.b.ReceiveAllOf(t.a, "cert-a");
  auto at_b = LoadIncident(t.b.Out(), *id);
  ASSERT_TRUE(at_b.ok()) << at_b.status().ToString();
  EXPECT_FALSE(at_b->own);
  EXPECT_EQ(at_b->participants.size(), 2u);
  EXPECT_EQ(at_b->participants[0].name, "CERT-A");
  // X is nobody's participant: it holds nothing it may show.
  t.x.ReceiveAllOf(t.a, "cert-a");
  EXPECT_EQ(LoadIncident(t.x.Out(), *id).status().code(), Code::kNotFound);

  // B's note reaches A and counts; a tampered copy, X's note and an
  // unsigned one do not.
  auto note = AddIncidentNote(t.b.Out(), *id, "12 hosts", false, At("2026-11-30T10:05:00Z"));
  ASSERT_TRUE(AddIncidentNote(t.b.Out(), *id, "see [here](http://evil.example) ![x](y) `z`", false,
                              At("2026-11-30T10:05:30Z"))
                  .ok());
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  t.a.ReceiveAllOf(t.b, "cert-b");
  auto found = FindObjects(t.b.node->store(), "note");
  ASSERT_TRUE(found.ok());
  json::object tampered = found->front().object;
  tampered["id"] = "note--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  tampered["content"] = "forged";
  t.a.Receive(tampered, "cert-b");
  json::object unsigned_note = tampered;
  unsigned_note["id"] = "note--1a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  unsigned_note.erase("x_kizuna_signature");
  t.a.Receive(unsigned_note, "cert-b");
  // X writes a note signed with its own key, naming itself.
  json::object by_x = tampered;
  by_x["id"] = "note--2a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  by_x.erase("x_kizuna_signature");
  by_x["x_kizuna_signer"] = t.x.node->identity().public_key_base64;
  by_x["x_kizuna_signature"] = Base64Encode(t.x.node->Sign(json::serialize(by_x)));
  t.a.Receive(by_x, "cert-x");
  // B tries to close A's incident with a version of its own.
  auto versions = FindObjects(t.b.node->store(), "incident");
  ASSERT_TRUE(versions.ok());
  json::object closed = versions->front().object;
  closed["modified"] = "2026-11-30T11:00:00.000Z";
  closed["extensions"].as_object()[kIncidentExtensionId].as_object()["status"] = "closed";
  closed.erase("x_kizuna_signature");
  closed["x_kizuna_signer"] = t.b.node->identity().public_key_base64;
  closed["x_kizuna_signature"] = Base64Encode(t.b.node->Sign(json::serialize(closed)));
  t.a.Receive(closed, "cert-b");
  EXPECT_EQ(CloseIncident(t.b.Out(), *id, At("2026-11-30T11:00:00Z")).code(),
            Code::kFailedPrecondition);

  auto at_a = LoadIncident(t.a.Out(), *id);
  ASSERT_TRUE(at_a.ok()) << at_a.status().ToString();
  EXPECT_TRUE(at_a->own);
  EXPECT_EQ(at_a->status, "open");
  ASSERT_EQ(at_a->timeline.size(), 3u);
  EXPECT_EQ(at_a->timeline[1].text, "12 hosts");
  EXPECT_EQ(at_a->timeline[1].by, "cert-b");

  // A task for a non-participant is refused; for B it counts.
  EXPECT_EQ(
      AddIncidentTask(t.a.Out(), *id, "cert-x", "x", 0, At("2026-11-30T10:06:00Z")).status().code(),
      Code::kInvalidArgument);
  ASSERT_TRUE(AddIncidentTask(t.a.Out(), *id, "cert-b", "Share the sample",
                              At("2026-12-01T12:00:00Z"), At("2026-11-30T10:06:00Z"))
                  .ok());
  EXPECT_EQ(LinkToIncident(t.a.Out(), *id, "not-an-id", At("2026-11-30T10:07:00Z")).status().code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(CloseIncident(t.a.Out(), *id, At("2026-11-30T12:00:00Z")).ok());
  t.b.ReceiveAllOf(t.a, "cert-a");
  at_a = LoadIncident(t.a.Out(), *id);
  at_b = LoadIncident(t.b.Out(), *id);
  ASSERT_TRUE(at_a.ok() && at_b.ok());
  EXPECT_EQ(at_b->status, "closed");
  EXPECT_EQ(json::serialize(IncidentJson(*at_a)), json::serialize(IncidentJson(*at_b)));
  ASSERT_EQ(at_b->timeline.size(), 5u);  // opened, two notes, task, closed
  EXPECT_EQ(at_b->timeline[3].kind, "task");
  EXPECT_EQ(at_b->timeline[4].kind, "closed");

  const std::string md = IncidentMarkdown(*at_b);
  EXPECT_NE(md.find("# Ransomware \\| MSP"), std::string::npos) << md;
  // A participant's text is never markup: no link, image or code.
  EXPECT_NE(md.find("see \\[here\\]\\(http://evil.example\\) \\!\\[x\\]\\(y\\) \\`z\\`"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 2026-11-30T10:05:00Z | cert-b | 12 hosts |"), std::string::npos) << md;
  EXPECT_NE(md.find("- **cert-b**, due 2026-12-01T12:00:00Z: Share the sample (from CERT-A)"),
            std::string::npos)
      << md;
}

TEST(Incidents, BadRequestsOpenNothing) {
  Three t;
  const int64_t now = At("2026-11-30T10:00:00Z");
  auto open = [&](std::string title, std::vector<std::string> peers,
                  std::string severity = "medium", std::string category = "other") {
    OpenRequest r;
    r.title = std::move(title);
    r.participants = std::move(peers);
    r.severity = std::move(severity);
    r.category = std::move(category);
    return OpenIncident(t.a.Out(), r, now).status().code();
  };
  EXPECT_EQ(open("", {"cert-b"}), Code::kInvalidArgument);
  EXPECT_EQ(open("t", {}), Code::kInvalidArgument);
  EXPECT_EQ(open("t", {"cert-z"}), Code::kInvalidArgument);
  EXPECT_EQ(open("t", {"cert-b"}, "urgent"), Code::kInvalidArgument);
  EXPECT_EQ(open("t", {"cert-b"}, "low", "hacking"), Code::kInvalidArgument);
  t.a.config.peers[0].public_key.clear();
  EXPECT_EQ(open("t", {"cert-b"}), Code::kFailedPrecondition);
  EXPECT_TRUE(ListIncidents(t.a.Out())->empty());
  EXPECT_EQ(AddIncidentNote(t.a.Out(), "incident--nope", "x", false, now).status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace kizuna::coordination
