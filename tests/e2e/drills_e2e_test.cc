// A communication drill across real nodes and a real SMTP server: CERT-A
// drills three partners with a deadline. CERT-B acknowledges on its node in
// time; CERT-C's contact opens the e-mailed link after the deadline (late);
// CERT-D never answers. The report says so, with response times measured
// from A's send to A's receipt of each acknowledgement.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "common/time.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"
#include "tests/support/smtp_sink.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using test_support::SmtpSink;

int64_t Now() { return SystemClock::Instance().NowMicros(); }

json::object Report(NodeProcess& node, const std::string& drill) {
  return JsonOut(RunKizuna({"drill", "report", node.dir(), drill, "--json"}));
}

json::object TeamOf(const json::object& report, const std::string& team) {
  if (!report.contains("teams")) return {};
  for (const json::value& t : report.at("teams").as_array()) {
    if (t.at("team") == team.c_str()) return t.as_object();
  }
  return {};
}

TEST(DrillsE2e, OneTeamAnswersInTimeOneLateByMailOneNever) {
  TempDir scratch;
  std::string error;
  auto sink = SmtpSink::Start(scratch.path() + "/mail", {}, &error);
  ASSERT_NE(sink, nullptr) << error;
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C");
  std::ofstream(a.dir() + "/kizuna.toml", std::ios::app)
      << "\n[coordination]\nsmtp_url = \"" << sink->url()
      << "\"\nsmtp_from = \"kizuna CERT-A <drills@cert-a.example>\"\n";
  for (NodeProcess* node : {&a, &b, &c}) ASSERT_TRUE(node->Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  Federate(a, "cert-a", c, "cert-c");
  // CERT-D is a partner whose node is down for the whole drill.
  AddPeer(a, PeerEntry("cert-d", "http://127.0.0.1:9", "unused", ""));
  ASSERT_TRUE(a.WaitForConfig());

  // The link in the e-mail leads to A's node as its directory entry says.
  ASSERT_EQ(RunKizuna({"directory", "set", a.dir(), "--node-url", a.base_url()}).exit_code, 0);
  ASSERT_EQ(RunKizuna({"directory", "set", b.dir(), "--contact",
                       "role=primary;name=Desk;email=desk@cert-b.example"})
                .exit_code,
            0);
  // C's first contact has no e-mail: the drill goes to the first that has.
  ASSERT_EQ(RunKizuna({"directory", "set", c.dir(), "--contact", "role=24x7;phone=+34-900-000-000",
                       "--contact", "role=primary;email=desk@cert-c.example"})
                .exit_code,
            0);
  ASSERT_TRUE(WaitUntil([&] { return DirectoryTeams(a) == 3; }, 30s)) << a.ServerLog();

  // A request naming a team that is not a partner starts nothing.
  CommandResult bad =
      RunKizuna({"drill", "start", a.dir(), "--to", "cert-b,cert-x", "--deadline-minutes", "1"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("cert-x"), std::string::npos) << bad.err;
  EXPECT_TRUE(
      JsonOut(RunKizuna({"drill", "list", a.dir(), "--json"})).at("sent").as_array().empty());

  const int64_t before_start = Now();
  CommandResult started =
      RunKizuna({"drill", "start", a.dir(), "--to", "cert-b,cert-c", "--to", "cert-d",
                 "--deadline-minutes", "0.25", "--message", "Q4 communication drill"});
  const int64_t after_start = Now();
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string drill = started.LastLine();
  ASSERT_EQ(drill.rfind("drill--", 0), 0u) << started.out;
  EXPECT_NE(started.err.find("cert-d: e-mail no-contact"), std::string::npos) << started.err;

  // Two e-mails: B's and C's desks, each with its own link.
  ASSERT_TRUE(sink->WaitForMessages(2));
  std::string c_link;
  for (const auto& mail : sink->Messages()) {
    ASSERT_EQ(mail.rcpt_to.size(), 1u);
    const std::string text = mail.message.Decoded();
    EXPECT_NE(text.find("Q4 communication drill"), std::string::npos) << text;
    EXPECT_NE(text.find(drill), std::string::npos) << text;
    EXPECT_EQ(mail.message.Header("X-Kizuna-Drill"), drill);
    const size_t at = text.find(a.base_url() + "/api/v1/coordination/drills/ack/");
    ASSERT_NE(at, std::string::npos) << text;
    const std::string link = text.substr(at, text.find_first_of(" \r\n", at) - at);
    if (mail.rcpt_to[0] == "desk@cert-c.example") c_link = link;
  }
  ASSERT_FALSE(c_link.empty());

  // B receives the drill on its node and acknowledges it there, in time.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto listed = JsonOut(RunKizuna({"drill", "list", b.dir(), "--json"}));
        return listed.contains("received") && listed.at("received").as_array().size() == 1;
      },
      30s))
      << b.ServerLog();
  auto at_b = JsonOut(RunKizuna({"drill", "list", b.dir(), "--json"})).at("received").at(0);
  EXPECT_EQ(at_b.at("drill"), drill.c_str());
  EXPECT_EQ(at_b.at("from"), "cert-a");
  EXPECT_EQ(at_b.at("message"), "Q4 communication drill");
  EXPECT_TRUE(at_b.at("acknowledged").is_null());
  CommandResult acked = RunKizuna({"drill", "ack", b.dir(), drill});
  ASSERT_EQ(acked.exit_code, 0) << acked.err;
  ASSERT_TRUE(WaitUntil(
      [&] { return !TeamOf(Report(a, drill), "cert-b").at("acknowledged").is_null(); }, 30s))
      << a.ServerLog() << b.ServerLog();
  const int64_t b_seen_by = Now();
  // Acknowledging again changes nothing.
  ASSERT_EQ(RunKizuna({"drill", "ack", b.dir(), drill}).exit_code, 0);

  // C's node got its own copy only, and nothing meant for B.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto listed = JsonOut(RunKizuna({"drill", "list", c.dir(), "--json"}));
        return listed.contains("received") && listed.at("received").as_array().size() == 1;
      },
      30s));

  // C's contact opens the link after the deadline. Opening shows a button
  // and acknowledges nothing; pressing it acknowledges.
  auto deadline = TimestampOf(Report(a, drill).at("deadline"));
  ASSERT_TRUE(WaitUntil([&] { return Now() > deadline + 500000; }, 60s));
  const std::string path = c_link.substr(a.base_url().size());
  http::Response page = a.Request("GET", path, "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos) << page.body;
  EXPECT_TRUE(TeamOf(Report(a, drill), "cert-c").at("acknowledged").is_null());
  const int64_t before_press = Now();
  http::Response pressed = a.Request("POST", path, "");
  const int64_t after_press = Now();
  ASSERT_EQ(pressed.status, 200) << pressed.body;
  EXPECT_NE(pressed.body.find("Acknowledged at"), std::string::npos) << pressed.body;
  // Pressing again is no second acknowledgement.
  EXPECT_NE(a.Request("POST", path, "").body.find("Already acknowledged"), std::string::npos);
  // A link no drill gave, or a token of the wrong shape, is not found.
  std::string forged = path;
  forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(a.Request("POST", forged, "").status, 404);
  EXPECT_EQ(a.Request("GET", "/api/v1/coordination/drills/ack/short", "").status, 404);
  // Without credentials nothing else answers.
  EXPECT_EQ(a.Request("GET", "/api/v1/coordination/drills", "").status, 401);

  json::object report = Report(a, drill);
  EXPECT_EQ(report.at("drill"), drill.c_str());
  const int64_t started_at = TimestampOf(report.at("started"));
  EXPECT_GE(started_at, before_start);
  EXPECT_LE(started_at, after_start);
  EXPECT_EQ(TimestampOf(report.at("deadline")) - started_at, 15000000);
  ASSERT_EQ(report.at("teams").as_array().size(), 3u);
  json::object team_b = TeamOf(report, "cert-b");
  EXPECT_EQ(team_b.at("channel"), "node");
  EXPECT_EQ(team_b.at("status"), "on-time");
  EXPECT_LE(TimestampOf(team_b.at("acknowledged")), b_seen_by);
  EXPECT_EQ(team_b.at("response_seconds").as_int64(),
            (TimestampOf(team_b.at("acknowledged")) - started_at) / 1000000);
  json::object team_c = TeamOf(report, "cert-c");
  EXPECT_EQ(team_c.at("channel"), "email");
  EXPECT_EQ(team_c.at("status"), "late");
  const int64_t c_at = TimestampOf(team_c.at("acknowledged"));
  EXPECT_GE(c_at, before_press - 1000);  // the report's millisecond precision
  EXPECT_LE(c_at, after_press);
  EXPECT_GE(team_c.at("response_seconds").as_int64(), 15);
  EXPECT_EQ(team_c.at("email").at("state"), "sent");
  json::object team_d = TeamOf(report, "cert-d");
  EXPECT_TRUE(team_d.at("acknowledged").is_null());
  EXPECT_TRUE(team_d.at("response_seconds").is_null());
  EXPECT_EQ(team_d.at("status"), "no-answer");
  EXPECT_EQ(team_d.at("email").at("state"), "no-contact");

  // The same as CSV, and over the REST API, with the trail of what happened.
  CommandResult csv = RunKizuna({"drill", "report", a.dir(), drill, "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("team,acknowledged,response_seconds,channel,status\r\n", 0), 0u);
  EXPECT_NE(
      csv.out.find("cert-b," + std::string(team_b.at("acknowledged").as_string()) + "," +
                   std::to_string(team_b.at("response_seconds").as_int64()) + ",node,on-time\r\n"),
      std::string::npos)
      << csv.out;
  EXPECT_NE(csv.out.find("cert-d,,,,no-answer\r\n"), std::string::npos) << csv.out;
  auto rest = a.Get("/api/v1/coordination/drills/" + drill);
  ASSERT_EQ(rest.status, 200) << rest.body;
  json::object rest_report = json::parse(rest.body).as_object();
  EXPECT_EQ(rest_report.at("teams"), report.at("teams"));
  std::string trail = json::serialize(rest_report.at("trail"));
  EXPECT_NE(trail.find("\"started\""), std::string::npos) << trail;
  EXPECT_NE(trail.find("cert-c by e-mail"), std::string::npos) << trail;
  auto rest_csv = a.Get("/api/v1/coordination/drills/" + drill + "?format=csv");
  EXPECT_EQ(rest_csv.body, csv.out);

  // B sees its acknowledgement; an outside organization's user at A sees no drills.
  auto b_list = b.Get("/api/v1/coordination/drills");
  ASSERT_EQ(b_list.status, 200) << b_list.body;
  EXPECT_FALSE(json::parse(b_list.body).at("received").at(0).at("acknowledged").is_null());
  const std::string outsider = a.AddUser("isp-x", "reader");
  EXPECT_EQ(a.Request("GET", "/api/v1/coordination/drills/" + drill, outsider).status, 403);
  EXPECT_EQ(a.Request("GET", "/api/v1/coordination/drills", outsider).status, 403);
}

// Through the REST API: a member starts a drill, the partner acknowledges
// through its REST API; a drill the partner may not receive is refused.
TEST(DrillsE2e, StartAndAcknowledgeThroughTheRestApi) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  for (NodeProcess* node : {&a, &b}) ASSERT_TRUE(node->Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  ASSERT_TRUE(a.WaitForConfig());
  const std::string member = a.AddUser("CERT-A", "duty");
  auto started = a.Request("POST", "/api/v1/coordination/drills", member,
                           R"({"to": ["cert-b"], "deadline_minutes": 30})");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string drill(json::parse(started.body).at("drill").as_string());
  EXPECT_EQ(
      a.Request("POST", "/api/v1/coordination/drills", member, R"({"to": ["nobody"]})").status,
      400);
  EXPECT_EQ(a.Request("POST", "/api/v1/coordination/drills", member, "not json").status, 400);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = b.Request("POST", "/api/v1/coordination/drills/" + drill + "/ack", b.admin_key());
        return r.status == 200;
      },
      30s))
      << b.ServerLog();
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = a.Request("GET", "/api/v1/coordination/drills/" + drill, member);
        return r.status == 200 && json::parse(r.body).at("teams").at(0).at("channel") == "node";
      },
      30s))
      << a.ServerLog();
  EXPECT_EQ(b.Request("POST", "/api/v1/coordination/drills/drill--nope/ack", b.admin_key()).status,
            404);

  // A partner allowed only GREEN cannot be sent an AMBER drill.
  node::PeerConfig green = PeerEntry("cert-g", "http://127.0.0.1:9", "unused", "");
  green.max_tlp = stix::Tlp::kGreen;
  AddPeer(a, green);
  ASSERT_TRUE(a.WaitForConfig());
  CommandResult refused = RunKizuna({"drill", "start", a.dir(), "--to", "cert-b,cert-g"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("'cert-g' may not receive"), std::string::npos) << refused.err;
  // Nothing was started for cert-b either.
  EXPECT_EQ(JsonOut(RunKizuna({"drill", "list", a.dir(), "--json"})).at("sent").as_array().size(),
            1u);
}

}  // namespace
}  // namespace kizuna::e2e
