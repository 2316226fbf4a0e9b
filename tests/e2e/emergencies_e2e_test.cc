// Emergency escalation across real nodes and a real SMTP server. CERT-A
// raises an emergency to CERT-B, whose emergency contact does not answer in
// time: A's node escalates to B's next contact, who acknowledges with the
// e-mailed link. Another, to CERT-C outside its operating hours, goes
// straight to C's 24/7 line, and C acknowledges on its node.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
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

json::object Status(NodeProcess& node, const std::string& id) {
  return JsonOut(RunKizuna({"emergency", "status", node.dir(), id, "--json"}));
}

// Messages the sink kept for `address`.
std::vector<test_support::ReceivedMail> MailsTo(const SmtpSink& sink, const std::string& address) {
  std::vector<test_support::ReceivedMail> out;
  for (auto& m : sink.Messages()) {
    if (!m.rcpt_to.empty() && m.rcpt_to[0] == address) out.push_back(std::move(m));
  }
  return out;
}

// Operating hours that do not include today (UTC): a weekday three days on.
std::string HoursNotToday() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  return std::string(kDays[(utc.tm_wday + 3) % 7]) + " 09:00-18:00";
}

TEST(EmergenciesE2e, AnUnansweredContactEscalatesAndOutsideHoursThe24x7LineIsFirst) {
  TempDir scratch;
  std::string error;
  auto sink = SmtpSink::Start(scratch.path() + "/mail", {}, &error);
  ASSERT_NE(sink, nullptr) << error;
  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C");
  std::ofstream(a.dir() + "/kizuna.toml", std::ios::app)
      << "\n[coordination]\nsmtp_url = \"" << sink->url()
      << "\"\nsmtp_from = \"kizuna CERT-A <duty@cert-a.example>\"\nescalation_check_seconds = 1\n";
  for (NodeProcess* node : {&a, &b, &c}) ASSERT_TRUE(node->Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  Federate(a, "cert-a", c, "cert-c");
  ASSERT_TRUE(a.WaitForConfig());
  ASSERT_EQ(RunKizuna({"directory", "set", a.dir(), "--node-url", a.base_url()}).exit_code, 0);
  // B: always at its desk; its emergency contact first, then the others
  // in its order.
  ASSERT_EQ(RunKizuna({"directory", "set", b.dir(), "--time-zone", "UTC", "--contact",
                       "role=backup;name=Desk;email=desk@cert-b.example", "--contact",
                       "role=emergency;name=Duty;email=duty@cert-b.example", "--contact",
                       "role=backup;name=Deputy;email=deputy@cert-b.example", "--contact",
                       "role=24x7;email=soc@cert-b.example"})
                .exit_code,
            0);
  // C: at its desk only on a day that is not today.
  ASSERT_EQ(
      RunKizuna({"directory", "set", c.dir(), "--time-zone", "UTC", "--hours", HoursNotToday(),
                 "--contact", "role=emergency;name=Duty;email=duty@cert-c.example", "--contact",
                 "role=24x7;name=SOC;email=soc@cert-c.example"})
          .exit_code,
      0);
  ASSERT_TRUE(WaitUntil([&] { return DirectoryTeams(a) == 3; }, 30s)) << a.ServerLog();

  // A bad request raises nothing.
  CommandResult bad =
      RunKizuna({"emergency", "raise", a.dir(), "--to", "cert-x", "--summary", "x"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("cert-x"), std::string::npos) << bad.err;

  // To B: each contact has 8 seconds.
  CommandResult raised_b =
      RunKizuna({"emergency", "raise", a.dir(), "--to", "cert-b", "--summary",
                 "Wiper spreading through VPN appliances", "--ack-minutes", "0.1333"});
  ASSERT_EQ(raised_b.exit_code, 0) << raised_b.err;
  const std::string to_b = raised_b.LastLine();
  ASSERT_EQ(to_b.rfind("emergency--", 0), 0u) << raised_b.out;
  // To C, outside its hours: its 24/7 line, with time enough to answer.
  CommandResult raised_c = RunKizuna(
      {"emergency", "raise", a.dir(), "--to", "cert-c", "--summary", "DDoS on shared DNS"});
  ASSERT_EQ(raised_c.exit_code, 0) << raised_c.err;
  const std::string to_c = raised_c.LastLine();

  ASSERT_TRUE(sink->WaitForMessages(2));
  ASSERT_EQ(MailsTo(*sink, "duty@cert-b.example").size(), 1u);
  ASSERT_EQ(MailsTo(*sink, "soc@cert-c.example").size(), 1u);
  const std::string first_text = MailsTo(*sink, "duty@cert-b.example")[0].message.Decoded();
  EXPECT_NE(first_text.find("Wiper spreading"), std::string::npos) << first_text;
  EXPECT_EQ(MailsTo(*sink, "duty@cert-b.example")[0].message.Header("X-Kizuna-Emergency"), to_b);

  // C acknowledges on its node.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto listed = JsonOut(RunKizuna({"emergency", "list", c.dir(), "--json"}));
        return listed.contains("received") && listed.at("received").as_array().size() == 1;
      },
      30s))
      << c.ServerLog();
  ASSERT_EQ(RunKizuna({"emergency", "ack", c.dir(), to_c}).exit_code, 0);

  // B's duty officer does not answer: B's next contact gets it after 8 seconds.
  ASSERT_TRUE(sink->WaitForMessages(3, 60s)) << a.ServerLog();
  auto deputy = MailsTo(*sink, "desk@cert-b.example");
  ASSERT_EQ(deputy.size(), 1u);
  const std::string text = deputy[0].message.Decoded();
  const size_t at = text.find(a.base_url() + "/api/v1/coordination/emergencies/ack/");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string path =
      text.substr(at, text.find_first_of(" \r\n", at) - at).substr(a.base_url().size());
  http::Response page = a.Request("GET", path, "");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos);
  const int64_t before_press = Now();
  http::Response pressed = a.Request("POST", path, "");
  ASSERT_EQ(pressed.status, 200) << pressed.body;
  EXPECT_NE(pressed.body.find("Acknowledged at"), std::string::npos) << pressed.body;

  json::object b_status = Status(a, to_b);
  const json::object& team_b = b_status.at("teams").at(0).as_object();
  EXPECT_EQ(team_b.at("team"), "cert-b");
  EXPECT_EQ(team_b.at("state"), "acknowledged");
  EXPECT_EQ(team_b.at("channel"), "email");
  EXPECT_EQ(team_b.at("by"), "backup Desk <desk@cert-b.example>");
  EXPECT_GE(TimestampOf(team_b.at("acknowledged")), before_press - 1000);
  const auto& steps = team_b.at("steps").as_array();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].at("email"), "duty@cert-b.example");
  EXPECT_EQ(steps[0].at("within_hours"), true);
  EXPECT_EQ(steps[0].at("mail"), "sent");
  EXPECT_EQ(steps[1].at("email"), "desk@cert-b.example");
  EXPECT_GE(TimestampOf(steps[1].at("at")) - TimestampOf(steps[0].at("at")), 7999000);
  const std::string trail = json::serialize(b_status.at("trail"));
  for (const char* event : {"\"raised\"", "\"notified\"", "\"escalated\"", "\"acknowledged\""}) {
    EXPECT_NE(trail.find(event), std::string::npos) << event << " in " << trail;
  }

  // C: its 24/7 line alone, acknowledged on its node, never escalated.
  ASSERT_TRUE(WaitUntil(
      [&] { return Status(a, to_c).at("teams").at(0).at("state") == "acknowledged"; }, 30s))
      << a.ServerLog();
  // A canary to B, answered by no one: once A's node has escalated it, its
  // escalations job has run past the time B's next contact would have been
  // due for the first emergency.
  CommandResult canary = RunKizuna({"emergency", "raise", a.dir(), "--to", "cert-b", "--summary",
                                    "Canary", "--ack-minutes", "0.1333"});
  ASSERT_EQ(canary.exit_code, 0) << canary.err;
  const std::string canary_id = canary.LastLine();
  ASSERT_TRUE(WaitUntil(
      [&] { return Status(a, canary_id).at("teams").at(0).at("steps").as_array().size() >= 2; },
      60s))
      << a.ServerLog();
  json::object c_status = Status(a, to_c);
  const json::object& team_c = c_status.at("teams").at(0).as_object();
  EXPECT_EQ(team_c.at("channel"), "node");
  ASSERT_EQ(team_c.at("steps").as_array().size(), 1u);
  EXPECT_EQ(team_c.at("steps").at(0).at("role"), "24x7");
  EXPECT_EQ(team_c.at("steps").at(0).at("within_hours"), false);
  // Nobody else was e-mailed: not B's others after its desk answered,
  // not C's duty officer.
  size_t for_b = 0, for_c = 0;
  for (const auto& m : sink->Messages()) {
    for_b += m.message.Header("X-Kizuna-Emergency") == to_b;
    for_c += m.message.Header("X-Kizuna-Emergency") == to_c;
  }
  EXPECT_EQ(for_b, 2u);
  EXPECT_EQ(for_c, 1u);
  EXPECT_EQ(Status(a, to_b).at("teams").at(0).at("steps").as_array().size(), 2u);

  // Over the REST API; the partner lists what it received; others get 403.
  auto rest = a.Get("/api/v1/coordination/emergencies/" + to_b);
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(json::parse(rest.body).at("teams"), b_status.at("teams"));
  auto at_c = c.Get("/api/v1/coordination/emergencies");
  ASSERT_EQ(at_c.status, 200) << at_c.body;
  EXPECT_FALSE(json::parse(at_c.body).at("received").at(0).at("acknowledged").is_null());
  const std::string outsider = a.AddUser("isp-x", "reader");
  EXPECT_EQ(a.Request("GET", "/api/v1/coordination/emergencies", outsider).status, 403);
  EXPECT_EQ(
      a.Request("POST", "/api/v1/coordination/emergencies/ack/" + std::string(43, 'A'), "").status,
      404);
}

}  // namespace
}  // namespace kizuna::e2e
