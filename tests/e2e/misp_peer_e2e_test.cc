// A MISP instance as a partner, across real processes: a kizuna node and a
// small MISP-API server (tests/support/misp_server.py, speaking MISP's REST
// API over HTTPS as docs/misp-notes.md §5 describes). The node pulls the
// published events (never widening their distribution, reading an event
// again only when it changed), pushes what the sharing decision releases to
// the instance as MISP events and our sightings of its attributes as MISP
// sightings, never sends the instance's own events back, and refuses events
// that claim to be ours. A MISP feed is read over HTTPS too.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "stix/stix.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"
#include "tests/support/misp_server.h"
#include "tests/support/test_certificate.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kShared = "bb000000-0000-4000-8000-000000000001";
const std::string kOrgOnly = "bb000000-0000-4000-8000-000000000002";
const std::string kDraft = "bb000000-0000-4000-8000-000000000003";
const std::string kForged = "bb000000-0000-4000-8000-000000000004";
const std::string kCircl = "55f6ea5e-2c60-40e5-964f-47a8950d210f";

// The uuid of an event's n-th attribute (its indicator's id is indicator--<uuid>).
std::string AttributeUuid(const std::string& event, int n) {
  return event.substr(0, 24) + "0000" + event.substr(35, 1) + "000a00" + std::to_string(n);
}

json::object Attribute(const std::string& uuid, const std::string& ip, int64_t timestamp) {
  return json::object{{"uuid", uuid},
                      {"type", "ip-dst"},
                      {"category", "Network activity"},
                      {"value", ip},
                      {"to_ids", true},
                      {"distribution", "5"},
                      {"timestamp", std::to_string(timestamp)}};
}

json::object MispEvent(const std::string& uuid, const std::string& info, int64_t timestamp,
                       const std::string& ip, const std::string& distribution, bool published,
                       const std::string& orgc = kCircl) {
  return json::object{{"uuid", uuid},
                      {"info", info},
                      {"date", "2026-11-30"},
                      {"timestamp", std::to_string(timestamp)},
                      {"published", published},
                      {"publish_timestamp", std::to_string(timestamp)},
                      {"distribution", distribution},
                      {"analysis", "2"},
                      {"threat_level_id", "2"},
                      {"Orgc", json::object{{"name", "CIRCL"}, {"uuid", orgc}}},
                      {"Tag", json::array{json::object{{"name", "tlp:green"}}}},
                      {"Attribute", json::array{Attribute(AttributeUuid(uuid, 1), ip, timestamp)}}};
}

// What the MISP server holds: {"events": {uuid: event}, "requests": [...]}.
class MispView {
 public:
  MispView(const std::string& url, const std::string& key, const std::string& ca_file)
      : url_(url), key_(key) {
    http::ClientOptions options;
    options.ca_file = ca_file;
    client_ = std::make_unique<http::Client>(options);
  }
  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    http::Headers headers;
    headers.Set("Authorization", key_);
    headers.Set("Accept", "application/json");
    headers.Set("Content-Type", "application/json");
    auto response = client_->Send(method, url_ + path, headers, body);
    if (response.ok()) return *response;
    http::Response failed;
    failed.status = 0;
    return failed;
  }
  json::object State() {
    http::Response r = Call("GET", "/_test/state");
    if (r.status != 200) return {};
    return json::parse(r.body).as_object();
  }
  // The events holding an attribute of this value.
  std::vector<json::object> EventsWith(const std::string& value) {
    std::vector<json::object> out;
    json::object state = State();
    if (!state.contains("events")) return out;
    for (const auto& [uuid, event] : state.at("events").as_object()) {
      bool holds = false;
      for (const json::value& a : event.at("Attribute").as_array()) {
        holds = holds || a.at("value").as_string() == value;
      }
      if (holds) out.push_back(event.as_object());
    }
    return out;
  }
  size_t CountRequests(const std::string& prefix) {
    size_t n = 0;
    json::object state = State();
    if (!state.contains("requests")) return 0;
    for (const json::value& r : state.at("requests").as_array()) {
      if (std::string_view(r.as_string()).starts_with(prefix)) ++n;
    }
    return n;
  }

 private:
  std::string url_, key_;
  std::unique_ptr<http::Client> client_;
};

json::object ObjectOf(NodeProcess& node, const std::string& id) {
  http::Response r = node.Get(std::string(kObjects) + id + "/");
  if (r.status != 200) return {};
  json::object envelope = json::parse(r.body).as_object();
  if (!envelope.contains("objects")) return {};
  const json::array& objects = envelope.at("objects").as_array();
  return objects.empty() ? json::object{} : objects.back().as_object();
}

bool MarkedAs(const json::object& object, stix::Tlp tlp) {
  if (!object.contains("object_marking_refs")) return false;
  for (const json::value& m : object.at("object_marking_refs").as_array()) {
    if (m.as_string() == stix::TlpMarkingId(tlp)) return true;
  }
  return false;
}

TEST(MispPeerE2e, PulledFromAndPushedToUnderTheSharingDecision) {
  TempDir scratch;
  const test_support::TestCertificate cert = test_support::MakeTestCertificate(scratch.path());
  const std::string key = "misp-auth-key-0123456789abcdef0123456789";
  const std::string seed = scratch.path() + "/seed.json";
  WriteFile(seed,
            json::serialize(json::array{
                MispEvent(kShared, "shared with all", 1796000000, "198.51.100.91", "3", true),
                MispEvent(kOrgOnly, "this org only", 1796000000, "198.51.100.92", "0", true),
                MispEvent(kDraft, "not published", 1796000000, "198.51.100.93", "3", false)}));
  test_support::MispServerOptions options;
  options.tls_cert_file = cert.cert_file;
  options.tls_key_file = cert.key_file;
  options.seed_file = seed;
  std::string error;
  std::unique_ptr<test_support::MispServer> misp =
      test_support::MispServer::Start(scratch.path() + "/misp", key, options, &error);
  ASSERT_TRUE(misp) << error;
  MispView view(misp->url(), key, cert.cert_file);

  NodeProcess a("CERT-A");
  ASSERT_TRUE(a.Start(&error)) << error;
  const std::string identity(
      json::parse(RunKizuna({"identity", a.dir()}).out).at("identity").as_string());
  CommandResult added =
      RunKizuna({"peer", "add", a.dir(), "circl", "--kind", "misp", "--url", misp->url(), "--token",
                 key, "--max-tlp", "green", "--poll-seconds", "1", "--ca-file", cert.cert_file});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  EXPECT_EQ((added.out + added.err).find(key), std::string::npos) << "the key is never printed";

  // Pulled: the published events; a distribution of "this organisation
  // only" is kept at TLP:RED, which never leaves this node.
  const std::string shared_indicator = "indicator--" + AttributeUuid(kShared, 1);
  const std::string org_only_indicator = "indicator--" + AttributeUuid(kOrgOnly, 1);
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::map<std::string, int> versions = Versions(a);
        return versions.contains(shared_indicator) && versions.contains(org_only_indicator);
      },
      30s))
      << a.ServerLog();
  EXPECT_FALSE(Versions(a).contains("indicator--" + AttributeUuid(kDraft, 1)))
      << "an unpublished event is not pulled";
  EXPECT_TRUE(MarkedAs(ObjectOf(a, shared_indicator), stix::Tlp::kGreen));
  EXPECT_TRUE(MarkedAs(ObjectOf(a, org_only_indicator), stix::Tlp::kRed));
  json::object status = PeerStatus(a, "circl");
  EXPECT_EQ(status["kind"], "misp") << status;
  ASSERT_TRUE(WaitUntil([&] { return PeerState(a, "circl") == "polling"; }));
  EXPECT_GE(StatusOf(a, "circl").at("received").as_int64(), 4) << StatusOf(a, "circl");
  const std::string audit = AuditLog(a);
  EXPECT_NE(audit.find("misp pull (unsigned)"), std::string::npos) << audit;
  EXPECT_NE(audit.find(shared_indicator), std::string::npos) << audit;

  // Unchanged events are not read again, however often the node polls.
  ASSERT_EQ(view.Call("POST", "/_test/reset_requests").status, 200);
  ASSERT_TRUE(WaitUntil([&] { return view.CountRequests("POST /events/index") >= 3; }, 20s));
  EXPECT_EQ(view.CountRequests("GET /events/view"), 0u);

  // Pushed: our GREEN indicator reaches the instance as an event of ours;
  // the AMBER one does not (the peer's highest TLP is GREEN), nor do the
  // instance's own events go back to it.
  Post(a, {Indicator(41, stix::Tlp::kGreen), Indicator(42, stix::Tlp::kAmber)});
  ASSERT_TRUE(WaitUntil([&] { return !view.EventsWith("203.0.113.41").empty(); }, 30s))
      << a.ServerLog();
  json::object ours = view.EventsWith("203.0.113.41").front();
  EXPECT_EQ(ours.at("Orgc").at("uuid").as_string(), identity.substr(10)) << ours;
  EXPECT_EQ(ours.at("published"), true) << ours;
  EXPECT_TRUE(view.EventsWith("203.0.113.42").empty()) << "TLP:AMBER stays home";
  EXPECT_EQ(view.EventsWith("198.51.100.91").size(), 1u) << "its own event is not sent back";
  EXPECT_TRUE(view.EventsWith("198.51.100.92").size() == 1u);
  // Our events are not pulled back as the instance's: never even read.
  ASSERT_TRUE(WaitUntil([&] { return view.CountRequests("POST /events/index") >= 6; }, 20s));
  EXPECT_EQ(view.CountRequests("GET /events/view/" + std::string(ours.at("uuid").as_string())), 0u);
  EXPECT_EQ(Versions(a).at(IndicatorId(41)), 1);

  // A report goes as an event holding what it refers to (stored with it:
  // an attribute pushed before stays in its event, as MISP keeps each
  // attribute in one event); what is pushed
  // together is distributed as its strictest TLP allows (GREEN: connected
  // communities, though the report is CLEAR).
  const std::string report_uuid = "dd000000-0000-4000-8000-000000000001";
  const std::string report =
      R"({"type":"report","spec_version":"2.1","id":"report--)" + report_uuid +
      R"(","created":"2026-11-30T10:00:00.000Z","modified":"2026-11-30T10:00:00.000Z",)"
      R"("name":"Mirai wave","published":"2026-11-30T10:00:00Z","report_types":["threat-report"],)"
      R"("object_refs":[")" +
      IndicatorId(43) + R"("],"object_marking_refs":[")" +
      std::string(stix::TlpMarkingId(stix::Tlp::kClear)) + R"("]})";
  Post(a, {Indicator(43, stix::Tlp::kGreen), report});
  ASSERT_TRUE(WaitUntil(
      [&] {
        json::object state = view.State();
        return state.contains("events") && state.at("events").as_object().contains(report_uuid);
      },
      30s))
      << view.State();
  const json::object pushed_report = view.State().at("events").at(report_uuid).as_object();
  EXPECT_EQ(pushed_report.at("info"), "Mirai wave");
  EXPECT_EQ(pushed_report.at("distribution"), "2") << pushed_report;
  bool holds_indicator = false;
  for (const json::value& attribute : pushed_report.at("Attribute").as_array()) {
    holds_indicator = holds_indicator || attribute.at("value") == "203.0.113.43";
  }
  EXPECT_TRUE(holds_indicator) << pushed_report;

  // Our sighting of its attribute goes back as a MISP sighting.
  const std::string sighting =
      R"({"type":"sighting","spec_version":"2.1","id":"sighting--cc000000-0000-4000-8000-000000000001",)"
      R"("created":"2026-11-30T10:00:00.000Z","modified":"2026-11-30T10:00:00.000Z",)"
      R"("first_seen":"2026-11-30T09:00:00Z","last_seen":"2026-11-30T09:30:00Z","count":3,)"
      R"("sighting_of_ref":")" +
      shared_indicator + R"(","object_marking_refs":[")" +
      std::string(stix::TlpMarkingId(stix::Tlp::kGreen)) + R"("]})";
  Post(a, {sighting});
  auto sighted = [&] {
    for (const json::object& event : view.EventsWith("198.51.100.91")) {
      for (const json::value& attribute : event.at("Attribute").as_array()) {
        const json::object& at = attribute.as_object();
        if (!at.contains("Sighting")) continue;
        for (const json::value& s : at.at("Sighting").as_array()) {
          if (s.at("source") == "CERT-A") return true;
        }
      }
    }
    return false;
  };
  ASSERT_TRUE(WaitUntil(sighted, 30s)) << view.State();

  // The instance edits its event (a newer timestamp, one more attribute):
  // the node reads it again and stores the new indicator.
  json::object edited =
      MispEvent(kShared, "shared with all", 1796000600, "198.51.100.91", "3", true);
  edited["Attribute"].as_array().push_back(
      Attribute(AttributeUuid(kShared, 2), "198.51.100.94", 1796000600));
  ASSERT_EQ(
      view.Call("POST", "/events/edit/" + kShared, json::serialize(json::object{{"Event", edited}}))
          .status,
      200);
  ASSERT_TRUE(WaitUntil(
      [&] { return Versions(a).contains("indicator--" + AttributeUuid(kShared, 2)); }, 30s));

  // An event on the instance that claims to be ours is never taken as ours.
  ASSERT_EQ(view.Call("POST", "/events/add",
                      json::serialize(MispEvent(kForged, "forged", 1796000000, "198.51.100.95", "3",
                                                true, identity.substr(10))))
                .status,
            200);
  const size_t indexes = view.CountRequests("POST /events/index");
  ASSERT_TRUE(WaitUntil([&] { return view.CountRequests("POST /events/index") >= indexes + 2; }));
  EXPECT_FALSE(Versions(a).contains("indicator--" + AttributeUuid(kForged, 1)));

  // The key is in no status, audit line or log of ours.
  EXPECT_EQ(AuditLog(a).find(key), std::string::npos);
  EXPECT_EQ(json::serialize(StatusOf(a, "circl")).find(key), std::string::npos);
  EXPECT_EQ(a.ServerLog().find(key), std::string::npos);

  // A wrong key: the peer says so and retries.
  CommandResult wrong =
      RunKizuna({"peer", "add", a.dir(), "misp-b", "--kind", "misp", "--url", misp->url(),
                 "--token", "not-the-key", "--ca-file", cert.cert_file, "--org", "misp-b"});
  ASSERT_EQ(wrong.exit_code, 0) << wrong.err;
  ASSERT_TRUE(WaitUntil([&] { return PeerState(a, "misp-b") == "retrying"; }, 20s));
  EXPECT_NE(PeerLastError(a, "misp-b").find("refused our auth key"), std::string::npos)
      << PeerLastError(a, "misp-b");

  // Its feed, over HTTPS, into another node: the published events.
  NodeProcess b("CERT-B");
  ASSERT_TRUE(b.Start(&error)) << error;
  CommandResult untrusted = RunKizuna({"import", b.dir(), misp->url() + "/feed/"});
  EXPECT_NE(untrusted.exit_code, 0) << "the feed's certificate is not trusted without --ca-file";
  CommandResult feed =
      RunKizuna({"import", b.dir(), misp->url() + "/feed/", "--ca-file", cert.cert_file});
  ASSERT_EQ(feed.exit_code, 0) << feed.out << feed.err;
  EXPECT_NE(feed.out.find("(misp feed): "), std::string::npos) << feed.out;
  std::map<std::string, int> at_b = Versions(b);
  EXPECT_TRUE(at_b.contains(shared_indicator));
  EXPECT_TRUE(at_b.contains("indicator--" + AttributeUuid(kShared, 2)));
  EXPECT_FALSE(at_b.contains("indicator--" + AttributeUuid(kDraft, 1)));
  // Incremental over HTTPS too: nothing changed, nothing read again.
  feed = RunKizuna({"import", b.dir(), misp->url() + "/feed/", "--ca-file", cert.cert_file});
  ASSERT_EQ(feed.exit_code, 0) << feed.err;
  EXPECT_NE(feed.out.find(": 0 events ("), std::string::npos) << feed.out;
}

}  // namespace
}  // namespace kizuna::e2e
