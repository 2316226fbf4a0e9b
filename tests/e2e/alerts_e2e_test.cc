// Infection alerting across real parts: a real `kizuna` node and CLI, real
// geo datasets loaded from files, a real SMTP server (aiosmtpd) receiving
// the reports. A Shadowserver report goes in; each ISP gets only its own
// hosts — by e-mail with the CSV attached, or on its pull feed through its
// own key; the REST API takes observations from the home team only; and a
// `kill -9` in the middle of delivery, then a restart, delivers every report
// exactly once.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <set>

#include "tests/e2e/harness.h"
#include "tests/support/eventually.h"
#include "tests/support/smtp_sink.h"

extern char** environ;

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using test_support::SmtpSink;
using test_support::SmtpSinkOptions;

// AS64500 (ISP A, JP) holds 198.51.100.0/24, AS64501 (ISP B, JP) holds
// 203.0.113.0/24, AS64502 (ISP C, DE) holds 192.0.2.0/24.
void LoadGeo(const std::string& node_dir, const std::string& scratch) {
  WriteFile(scratch + "/asn.csv",
            "198.51.100.0,198.51.100.255,64500,ISP A\n"
            "203.0.113.0,203.0.113.255,64501,ISP B\n"
            "192.0.2.0,192.0.2.255,64502,ISP C\n");
  WriteFile(scratch + "/country.csv",
            "198.51.100.0,198.51.100.255,JP\n203.0.113.0,203.0.113.255,JP\n"
            "192.0.2.0,192.0.2.255,DE\n");
  const CommandResult loaded =
      RunKizuna({"geo", "load", node_dir, scratch + "/asn.csv", scratch + "/country.csv"});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
}

// A Shadowserver scan_telnet report (its real column set) with one bad line.
std::string ScanTelnet(const std::vector<std::string>& ips) {
  std::string csv =
      "\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\","
      "\"region\",\"city\",\"naics\",\"sic\",\"banner\"\n";
  int minute = 0;
  for (const std::string& ip : ips) {
    csv += "\"2026-11-28 03:" + std::string(minute < 10 ? "0" : "") + std::to_string(minute) +
           ":12\",\"" + ip +
           "\",\"tcp\",\"23\",\"\",\"telnet\",\"0\",\"\",\"\",\"\",\"0\",\"0\","
           "\"login:\"\n";
    minute = (minute + 1) % 60;
  }
  csv +=
      "\"2026-11-28 03:59:59\",\"not-an-ip\",\"tcp\",\"23\",\"\",\"telnet\",\"0\",\"\",\"\","
      "\"\",\"0\",\"0\",\"\"\n";
  return csv;
}

void AppendConfig(const std::string& node_dir, const std::string& text) {
  std::ofstream(node_dir + "/kizuna.toml", std::ios::app) << "\n" << text << "\n";
}

std::string AlertsSection(const SmtpSink& sink) {
  return "[alerts]\nsmtp_url = \"" + sink.url() +
         "\"\nsmtp_from = \"kizuna CERT-JP <alerts@cert-jp.example>\"\nretry_minutes = 1\n";
}

std::unique_ptr<SmtpSink> StartSink(const std::string& dir, const SmtpSinkOptions& options = {}) {
  std::string error;
  auto sink = SmtpSink::Start(dir, options, &error);
  EXPECT_NE(sink, nullptr) << error;
  return sink;
}

TEST(AlertsE2E, EachIspGetsOnlyItsOwnHostsByMailAndByItsFeed) {
  TempDir scratch;
  auto sink = StartSink(scratch.path() + "/mail");
  ASSERT_NE(sink, nullptr);
  NodeProcess node("CERT-JP");
  ASSERT_NO_FATAL_FAILURE(LoadGeo(node.dir(), scratch.path()));
  AppendConfig(node.dir(), AlertsSection(*sink));
  // ISP A reads e-mail; ISP B pulls its feed with its own key.
  CommandResult added = RunKizuna({"alerts", "recipient", "add", node.dir(), "isp-a", "--asn",
                                   "64500", "--email", "abuse@isp-a.example"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  added = RunKizuna({"alerts", "recipient", "add", node.dir(), "isp-b", "--asn", "64501",
                     "--channel", "feed", "--org", "ISP-B", "--format", "json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  // A bad recipient is refused with one clear line.
  const CommandResult bad =
      RunKizuna({"alerts", "recipient", "add", node.dir(), "nobody", "--email", "abuse@x.example"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no rule"), std::string::npos) << bad.err;

  const std::string report = scratch.path() + "/2026-11-28-scan_telnet-jp-asn.csv";
  WriteFile(report, ScanTelnet({"198.51.100.10", "198.51.100.11", "203.0.113.20", "192.0.2.30"}));
  const CommandResult ingested = RunKizuna({"alerts", "ingest", node.dir(), report});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  EXPECT_NE(ingested.out.find("shadowserver scan_telnet, 5 records: 4 accepted, 1 rejected"),
            std::string::npos)
      << ingested.out;
  EXPECT_NE(ingested.err.find(report + ":6: "), std::string::npos) << ingested.err;
  EXPECT_NE(ingested.out.find("1 unrouted"), std::string::npos) << ingested.out;

  ASSERT_TRUE(node.Start());
  const std::string isp_b_key = node.AddUser("ISP-B", "abuse-desk");
  const std::string other_key = node.AddUser("ISP-A", "someone");

  // The home team's REST API takes observations; an outside organization may not.
  const std::string jsonl =
      "{\"source.ip\":\"203.0.113.21\",\"time.source\":\"2026-11-28T04:00:00Z\","
      "\"classification.taxonomy\":\"malicious-code\",\"classification.type\":\"infected-system\","
      "\"malware.name\":\"mirai\",\"source.port\":2323,\"protocol.transport\":\"tcp\"}\n";
  http::Response posted = node.Request("POST", "/api/v1/alerts/observations", node.admin_key(),
                                       jsonl, {{"Content-Type", "application/json"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(json::parse(posted.body).at("accepted").as_int64(), 1);
  http::Response refused = node.Request("POST", "/api/v1/alerts/observations", isp_b_key, jsonl,
                                        {{"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 403) << refused.body;

  // Cut now (the daily cut would wait for midnight) and deliver, while the node runs.
  const CommandResult run = RunKizuna({"alerts", "run", node.dir(), "--now"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("2 sent, 0 to retry, 0 given up"), std::string::npos) << run.out;

  // ISP A's e-mail: its two hosts, attached as CSV, nothing of ISP B's.
  ASSERT_TRUE(sink->WaitForMessages(1));
  const auto messages = sink->Messages();
  ASSERT_EQ(messages.size(), 1u);
  const auto& mail = messages[0];
  EXPECT_EQ(mail.rcpt_to, std::vector<std::string>{"abuse@isp-a.example"});
  EXPECT_NE(test_support::DecodeWords(mail.message.Header("Subject")).find("[TLP:AMBER]"),
            std::string::npos);
  ASSERT_EQ(mail.message.parts.size(), 2u) << mail.raw;
  const std::string csv = mail.message.parts[1].Decoded();
  EXPECT_EQ(
      csv.rfind("timestamp,event_id,ip,port,protocol,hostname,asn,as_name,country,prefix,", 0), 0u)
      << csv;
  EXPECT_NE(csv.find(",198.51.100.10,23,tcp,,64500,ISP A,JP,198.51.100.0/24,vulnerable,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",198.51.100.11,"), std::string::npos);
  EXPECT_EQ(csv.find("203.0.113."), std::string::npos) << csv;
  EXPECT_EQ(csv.find("192.0.2."), std::string::npos) << csv;

  // ISP B's feed, by its own key: its two hosts (the file's and the API's).
  http::Response feed = node.Request("GET", "/api/v1/alerts/feed", isp_b_key);
  ASSERT_EQ(feed.status, 200) << feed.body;
  json::value page = json::parse(feed.body);
  std::set<std::string> ips;
  for (const json::value& e : page.at("events").as_array()) {
    ips.insert(std::string(e.at("ip").as_string()));
  }
  EXPECT_EQ(ips, (std::set<std::string>{"203.0.113.20", "203.0.113.21"}));
  http::Response feed_csv = node.Request("GET", "/api/v1/alerts/feed?format=csv", isp_b_key);
  ASSERT_EQ(feed_csv.status, 200);
  EXPECT_NE(feed_csv.body.find(",203.0.113.21,2323,tcp,"), std::string::npos) << feed_csv.body;
  EXPECT_EQ(feed_csv.body.find("198.51.100."), std::string::npos);
  // Page by page (?limit=), each `next` the following request's `since`:
  // a page may end inside a report, and every event comes exactly once.
  std::multiset<std::string> paged;
  std::string since;
  for (int request = 0; request < 4; ++request) {
    http::Response one = node.Request(
        "GET", "/api/v1/alerts/feed?limit=1" + (since.empty() ? "" : "&since=" + since), isp_b_key);
    ASSERT_EQ(one.status, 200) << one.body;
    const json::value got = json::parse(one.body);
    const json::array& events = got.at("events").as_array();
    ASSERT_LE(events.size(), 1u);
    for (const json::value& e : events) paged.insert(std::string(e.at("ip").as_string()));
    since = std::string(got.at("next").as_string());
    EXPECT_EQ(one.headers.Get("X-Kizuna-Next"), since);
    if (!got.at("more").as_bool()) break;
    EXPECT_NE(since.find('~'), std::string::npos) << since;  // inside the report
  }
  EXPECT_EQ(paged, (std::multiset<std::string>{"203.0.113.20", "203.0.113.21"}));
  // Nothing new since the last page; a position not made by the feed is refused.
  http::Response after = node.Request("GET", "/api/v1/alerts/feed?since=" + since, isp_b_key);
  ASSERT_EQ(after.status, 200);
  EXPECT_TRUE(json::parse(after.body).at("events").as_array().empty()) << after.body;
  EXPECT_EQ(node.Request("GET", "/api/v1/alerts/feed?since=" + since + "~x~1", isp_b_key).status,
            400);
  EXPECT_EQ(node.Request("GET", "/api/v1/alerts/feed?limit=0", isp_b_key).status, 400);
  // Another organization has no feed here, and cannot ask for ISP B's.
  EXPECT_EQ(node.Request("GET", "/api/v1/alerts/feed", other_key).status, 404);
  EXPECT_EQ(node.Request("GET", "/api/v1/alerts/feed?recipient=isp-b", other_key).status, 404);
  // Its reports: ISP B sees and acknowledges its own, not ISP A's.
  http::Response reports = node.Request("GET", "/api/v1/alerts/reports", isp_b_key);
  ASSERT_EQ(reports.status, 200);
  const json::value reports_json = json::parse(reports.body);
  const json::array& listed = reports_json.at("reports").as_array();
  ASSERT_EQ(listed.size(), 1u);
  const std::string report_id(listed[0].at("id").as_string());
  EXPECT_EQ(node.Request("POST", "/api/v1/alerts/reports/" + report_id + "/ack", other_key).status,
            404);
  http::Response acked =
      node.Request("POST", "/api/v1/alerts/reports/" + report_id + "/ack", isp_b_key);
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(json::parse(acked.body).at("state"), "acknowledged");

  // The status shows each report's state; the unrouted host is counted.
  const CommandResult status = RunKizuna({"alerts", "status", node.dir(), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json::value overview = json::parse(status.out);
  EXPECT_EQ(overview.at("events").at("unrouted").as_int64(), 1);
  EXPECT_EQ(overview.at("reports").at("sent").as_int64(), 1);
  EXPECT_EQ(overview.at("reports").at("acknowledged").as_int64(), 1);
  EXPECT_TRUE(node.Stop());
}

TEST(AlertsE2E, KillDuringDeliveryThenRestartDeliversEveryReportExactlyOnce) {
  TempDir scratch;
  SmtpSinkOptions options;
  options.reply_delay_seconds = 1.5;  // each message waits for its 250
  auto sink = StartSink(scratch.path() + "/mail", options);
  ASSERT_NE(sink, nullptr);
  NodeProcess node("CERT-JP");
  ASSERT_NO_FATAL_FAILURE(LoadGeo(node.dir(), scratch.path()));
  AppendConfig(node.dir(), AlertsSection(*sink));
  // Five recipients, one host each: five reports.
  std::vector<std::string> ips;
  for (int i = 0; i < 5; ++i) {
    const std::string ip = "198.51.100." + std::to_string(100 + i);
    ips.push_back(ip);
    const CommandResult added =
        RunKizuna({"alerts", "recipient", "add", node.dir(), "isp-" + std::to_string(i), "--prefix",
                   ip + "/32", "--email", "abuse" + std::to_string(i) + "@x.example"});
    ASSERT_EQ(added.exit_code, 0) << added.err;
  }
  const std::string report = scratch.path() + "/scan_telnet.csv";
  WriteFile(report, ScanTelnet(ips));
  ASSERT_EQ(RunKizuna({"alerts", "ingest", node.dir(), report}).exit_code, 0);

  // `alerts run --now`, killed with SIGKILL while the third message waits
  // for the server's answer.
  const std::string binary = KizunaBinary();
  const std::string dir = node.dir();
  std::vector<char*> argv;
  std::vector<std::string> args = {binary, "alerts", "run", dir, "--now"};
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, binary.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  // Two kept, and the third's data received: it waits for its answer.
  const bool two = sink->WaitForMessages(2, std::chrono::seconds(60)) &&
                   sink->WaitForData(3, std::chrono::seconds(60));
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(two) << "the run did not deliver two reports";
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the run ended before it was killed";
  const size_t before_restart = sink->Messages().size();
  EXPECT_LT(before_restart, 5u);

  // The restart: the node takes up what is left (its deliver job runs at
  // start), the report that was in flight included.
  ASSERT_TRUE(node.Start());
  ASSERT_TRUE(sink->WaitForMessages(5, std::chrono::seconds(90)));
  // Every report recorded sent: nothing is left that could be sent again.
  ASSERT_TRUE(test_support::Eventually(
      [&] {
        const CommandResult status = RunKizuna({"alerts", "status", node.dir(), "--json"});
        if (status.exit_code != 0) return false;
        const json::value reports = json::parse(status.out).at("reports");
        return reports.as_object().size() == 1 && reports.as_object().contains("sent") &&
               reports.at("sent").as_int64() == 5;
      },
      std::chrono::seconds(60)));
  const auto messages = sink->Messages();
  std::multiset<std::string> ids;
  std::multiset<std::string> to;
  for (const auto& m : messages) {
    ids.insert(m.message.Header("Message-ID"));
    for (const std::string& r : m.rcpt_to) to.insert(r);
  }
  EXPECT_EQ(messages.size(), 5u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 5u);
  EXPECT_EQ(std::set<std::string>(to.begin(), to.end()).size(), 5u);
  EXPECT_TRUE(node.Stop());
}

}  // namespace
}  // namespace kizuna::e2e
