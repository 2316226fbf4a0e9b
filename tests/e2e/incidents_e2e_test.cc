// A joint incident across four real nodes: CERT-A opens it with CERT-B and
// CERT-C; B and C add to its timeline at the same moment on their own
// nodes; all three converge on the same timeline in the same order, and
// CERT-D, a partner of A and B that is no participant, never receives any
// of it (even though A lets D re-share).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

json::object Show(NodeProcess& node, const std::string& id) {
  CommandResult r = RunKizuna({"incident", "show", node.dir(), id, "--json"});
  if (r.exit_code != 0) return {};
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  return ec || !v.is_object() ? json::object() : v.as_object();
}

size_t Entries(NodeProcess& node, const std::string& id) {
  json::object shown = Show(node, id);
  return shown.contains("timeline") ? shown.at("timeline").as_array().size() : 0;
}

// Every object of the incident's kinds that `node` holds, in any collection.
size_t IncidentObjectsAt(NodeProcess& node) {
  size_t count = 0;
  auto collections = node.Get("/taxii2/root/collections/");
  EXPECT_EQ(collections.status, 200) << collections.body;
  const json::value listed = json::parse(collections.body);
  for (const json::value& c : listed.at("collections").as_array()) {
    auto objects = node.Get("/taxii2/root/collections/" + std::string(c.at("id").as_string()) +
                            "/objects/?match[type]=incident,note,kizuna-task,relationship");
    if (objects.status != 200) continue;
    json::value page = json::parse(objects.body);
    if (page.as_object().contains("objects")) count += page.at("objects").as_array().size();
  }
  return count;
}

TEST(IncidentsE2e, ConcurrentUpdatesConvergeOnEveryParticipantAndNoOneElseGetsAny) {
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C"), d("CERT-D");
  std::string error;
  for (NodeProcess* node : {&a, &b, &c, &d}) ASSERT_TRUE(node->Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  Federate(a, "cert-a", c, "cert-c");
  Federate(b, "cert-b", c, "cert-c");
  Federate(a, "cert-a", d, "cert-d", [](node::PeerConfig& p) { p.reshare = true; });
  Federate(b, "cert-b", d, "cert-d", [](node::PeerConfig& p) { p.reshare = true; });
  for (NodeProcess* node : {&a, &b, &c, &d}) ASSERT_TRUE(node->WaitForConfig());

  // Bad requests open nothing.
  EXPECT_NE(RunKizuna({"incident", "open", a.dir(), "--title", "x", "--participants", "cert-x"})
                .exit_code,
            0);
  CommandResult bad_category = RunKizuna({"incident", "open", a.dir(), "--title", "x",
                                          "--participants", "cert-b", "--category", "hacking"});
  EXPECT_NE(bad_category.exit_code, 0);
  EXPECT_NE(bad_category.err.find("category"), std::string::npos) << bad_category.err;

  CommandResult opened =
      RunKizuna({"incident", "open", a.dir(), "--title", "Ransomware at a shared MSP <ops>",
                 "--participants", "cert-b,cert-c", "--category", "malicious-code", "--sector",
                 "health", "--country", "JP", "--impact", "Hospitals' records unavailable"});
  ASSERT_EQ(opened.exit_code, 0) << opened.err;
  const std::string id = opened.LastLine();
  ASSERT_EQ(id.rfind("incident--", 0), 0u) << opened.out;
  for (NodeProcess* node : {&b, &c}) {
    ASSERT_TRUE(WaitUntil([&] { return Entries(*node, id) == 1; }, 30s)) << node->ServerLog();
  }
  json::object at_b = Show(b, id);
  EXPECT_EQ(at_b.at("owner"), "CERT-A");
  EXPECT_EQ(at_b.at("participants"), (json::array{"CERT-A", "cert-b", "cert-c"}));
  EXPECT_EQ(at_b.at("status"), "open");

  // B and C write at the same moment, each on its own node; A assigns a task.
  CommandResult note_b, note_c, task_a;
  std::thread writer_b([&] {
    note_b = RunKizuna({"incident", "note", b.dir(), id, "--text", "12 hosts encrypted at B"});
  });
  std::thread writer_c([&] {
    note_c = RunKizuna({"incident", "note", c.dir(), id, "--text", "C2 at 203.0.113.7 | port 443",
                        "--request-assistance"});
  });
  task_a = RunKizuna({"incident", "task", a.dir(), id, "--assign", "cert-b", "--text",
                      "Share the sample", "--due", "2026-12-01T12:00:00Z"});
  writer_b.join();
  writer_c.join();
  ASSERT_EQ(note_b.exit_code, 0) << note_b.err;
  ASSERT_EQ(note_c.exit_code, 0) << note_c.err;
  ASSERT_EQ(task_a.exit_code, 0) << task_a.err;
  ASSERT_EQ(RunKizuna({"incident", "link", b.dir(), id,
                       "indicator--1d3e5f7a-9b2c-4d6e-8f1a-3b5c7d9e1f2a"})
                .exit_code,
            0);

  for (NodeProcess* node : {&a, &b, &c}) {
    ASSERT_TRUE(WaitUntil([&] { return Entries(*node, id) == 5; }, 30s))
        << node->dir() << ": " << json::serialize(Show(*node, id)) << a.ServerLog() << b.ServerLog()
        << c.ServerLog();
  }
  json::object at_a = Show(a, id);
  at_b = Show(b, id);
  json::object at_c = Show(c, id);
  EXPECT_EQ(at_a.at("timeline"), at_b.at("timeline"));
  EXPECT_EQ(at_a.at("timeline"), at_c.at("timeline"));
  EXPECT_EQ(at_a.at("tasks"), at_c.at("tasks"));
  EXPECT_EQ(at_a.at("links"), at_b.at("links"));
  std::string timeline = json::serialize(at_a.at("timeline"));
  EXPECT_NE(timeline.find("12 hosts encrypted at B"), std::string::npos) << timeline;
  EXPECT_NE(timeline.find("assistance requested: C2 at 203.0.113.7"), std::string::npos);
  const json::object& task = at_c.at("tasks").at(0).as_object();
  EXPECT_EQ(task.at("assignee"), "cert-b");
  EXPECT_EQ(task.at("by"), "CERT-A");
  EXPECT_EQ(task.at("due"), "2026-12-01T12:00:00.000Z");
  // Each entry is its author's.
  for (const json::value& e : at_a.at("timeline").as_array()) {
    if (e.at("kind") == "note") {
      EXPECT_EQ(e.at("by"), "cert-b");
    }
    if (e.at("kind") == "assistance-request") {
      EXPECT_EQ(e.at("by"), "cert-c");
    }
  }

  // Only the owner closes it; then every participant shows it closed.
  CommandResult closed_by_b = RunKizuna({"incident", "close", b.dir(), id});
  EXPECT_NE(closed_by_b.exit_code, 0);
  EXPECT_NE(closed_by_b.err.find("owner"), std::string::npos) << closed_by_b.err;
  ASSERT_EQ(RunKizuna({"incident", "close", a.dir(), id}).exit_code, 0);
  for (NodeProcess* node : {&b, &c}) {
    ASSERT_TRUE(WaitUntil([&] { return Show(*node, id).at("status") == "closed"; }, 30s));
  }
  EXPECT_EQ(Show(c, id).at("timeline"), Show(a, id).at("timeline"));
  EXPECT_EQ(Show(a, id).at("timeline").as_array().back().at("kind"), "closed");

  // The report, in Markdown and HTML (escaped).
  CommandResult markdown = RunKizuna({"incident", "report", c.dir(), id});
  ASSERT_EQ(markdown.exit_code, 0) << markdown.err;
  EXPECT_NE(markdown.out.find("| Time (UTC) | By | Entry |"), std::string::npos) << markdown.out;
  EXPECT_NE(markdown.out.find("203.0.113.7 \\| port 443"), std::string::npos) << markdown.out;
  CommandResult html = RunKizuna({"incident", "report", c.dir(), id, "--format", "html"});
  ASSERT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(html.out.find("Ransomware at a shared MSP &lt;ops&gt;"), std::string::npos);
  EXPECT_EQ(html.out.find("<ops>"), std::string::npos);

  // The REST API answers the same to the home team, nothing to others.
  auto rest = b.Get("/api/v1/coordination/incidents/" + id);
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(json::parse(rest.body).at("timeline"), Show(b, id).at("timeline"));
  const std::string outsider = a.AddUser("isp-x", "reader");
  EXPECT_EQ(a.Request("GET", "/api/v1/coordination/incidents/" + id, outsider).status, 403);

  // D, no participant, got nothing: not from A, not from B, not relayed.
  // What A and B share with D after all of it has reached D first.
  Post(a, {Indicator(901, stix::Tlp::kGreen)});
  Post(b, {Indicator(902, stix::Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil(
      [&] {
        return d.Get(std::string(kObjects) + IndicatorId(901) + "/").status == 200 &&
               d.Get(std::string(kObjects) + IndicatorId(902) + "/").status == 200;
      },
      30s))
      << d.ServerLog();
  EXPECT_EQ(IncidentObjectsAt(d), 0u);
  CommandResult listed = RunKizuna({"incident", "list", d.dir(), "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(json::parse(listed.out).at("incidents").as_array().size(), 0u);
  EXPECT_NE(RunKizuna({"incident", "show", d.dir(), id}).exit_code, 0);
  // While the participants hold every object of it.
  EXPECT_EQ(IncidentObjectsAt(c), IncidentObjectsAt(a));
}

TEST(IncidentsE2e, ACriticalIncidentRaisesAnEmergencyToItsParticipants) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  for (NodeProcess* node : {&a, &b}) ASSERT_TRUE(node->Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  ASSERT_TRUE(a.WaitForConfig());
  const std::string member = a.AddUser("CERT-A", "duty");
  auto opened = a.Request("POST", "/api/v1/coordination/incidents", member,
                          R"({"title": "Wiper in the national grid", "participants": ["cert-b"],
                              "severity": "critical", "category": "availability"})");
  ASSERT_EQ(opened.status, 201) << opened.body;
  json::object answer = json::parse(opened.body).as_object();
  const std::string emergency(answer.at("emergency").as_string());
  ASSERT_TRUE(WaitUntil(
      [&] {
        CommandResult r = RunKizuna({"emergency", "list", b.dir(), "--json"});
        return r.exit_code == 0 && r.out.find(emergency) != std::string::npos;
      },
      30s))
      << b.ServerLog();
  CommandResult status = RunKizuna({"emergency", "status", a.dir(), emergency, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("Wiper in the national grid"), std::string::npos) << status.out;
  // A note through B's REST API reaches A.
  const std::string id(answer.at("incident").as_string());
  auto note = b.Post("/api/v1/coordination/incidents/" + id + "/notes",
                     R"({"text": "Isolated our substations"})");
  ASSERT_EQ(note.status, 201) << note.body;
  ASSERT_TRUE(WaitUntil([&] { return Entries(a, id) == 2; }, 30s)) << a.ServerLog();
  EXPECT_EQ(b.Post("/api/v1/coordination/incidents/" + id + "/close", "").status, 400);
}

}  // namespace
}  // namespace kizuna::e2e
