// Integrity (issue 9): only a producer changes its intel; an outside
// organization's user gets read access only, writes as itself and cannot
// probe what it may not see; a partner cannot rewrite what another producer
// made. Real `kizuna serve` processes; the hostile partner is a real node's
// account used directly and a TAXII server in the test that serves forged
// versions.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "http/http.h"
#include "node/node.h"
#include "tests/e2e/federation_support.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;
using stix::Tlp;
using namespace std::chrono_literals;

const std::string kVersions = "/taxii2/root/collections/default/objects/";

json::object StatusOfPost(const http::Response& r) {
  EXPECT_EQ(r.status, 202) << r.body;
  return r.status == 202 ? json::parse(r.body).as_object() : json::object{};
}

std::string Identity(NodeProcess& node) {
  auto r = node.Get("/api/v1/node");
  return std::string(json::parse(r.body).at("identity").as_string());
}

// The latest version of an object as the admin sees it.
json::object Latest(NodeProcess& node, const std::string& id) {
  auto r = node.Get(kVersions + id + "/");
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return {};
  json::value page = json::parse(r.body);
  const json::array* objects = page.is_object() && page.as_object().contains("objects")
                                   ? &page.at("objects").as_array()
                                   : nullptr;
  EXPECT_TRUE(objects && !objects->empty()) << r.body;
  if (!objects || objects->empty()) return {};
  return objects->back().as_object();
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

class OutsiderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(node.Start(&error)) << error;
    Post(node, {Indicator(1, Tlp::kGreen), Indicator(2, Tlp::kRed)});
    eve = node.AddUser("outside-org", "eve");
  }
  http::Response AsEve(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    return node.Request(method, path, eve, body);
  }
  NodeProcess node{"CERT-Home"};
  std::string eve;
};

TEST_F(OutsiderTest, ANewOutsideOrganizationMayOnlyRead) {
  auto r = AsEve("GET", kVersions + IndicatorId(1) + "/");
  EXPECT_EQ(r.status, 200) << r.body;
  r = AsEve("POST", kVersions, Envelope({Indicator(3, Tlp::kGreen)}));
  EXPECT_EQ(r.status, 403) << r.body;
  r = AsEve("DELETE", kVersions + IndicatorId(1) + "/?match[version]=all");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_FALSE(Has(node, 3));
  EXPECT_TRUE(Has(node, 1));
}

TEST_F(OutsiderTest, WithAWriteGrantItStillChangesOnlyItsOwnObjects) {
  auto granted = RunKizuna(
      {"collection", "grant", node.dir(), "default", "--org", "outside-org", "--read", "--write"});
  ASSERT_EQ(granted.exit_code, 0) << granted.err;
  const std::string home = Identity(node);

  // Delete the home team's indicator: refused, it stays.
  auto r = AsEve("DELETE", kVersions + IndicatorId(1) + "/?match[version]=all");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("only its producer deletes it"), std::string::npos) << r.body;
  EXPECT_TRUE(Has(node, 1));

  // Revoke it with a newer version: refused, the latest is still the home team's.
  auto status = StatusOfPost(AsEve(
      "POST", kVersions,
      Envelope({Indicator(1, Tlp::kGreen, ",\"revoked\":true", "2026-11-24T00:00:00.000Z")})));
  EXPECT_EQ(status.at("failure_count").as_int64(), 1);
  EXPECT_NE(json::serialize(status).find("only its producer"), std::string::npos);
  EXPECT_FALSE(Latest(node, IndicatorId(1)).contains("revoked"));

  // The same id and version with other content, in another collection: a
  // forgery, refused.
  ASSERT_EQ(node.Post("/api/v1/collections", R"({"title":"intel","alias":"intel"})").status, 201);
  ASSERT_EQ(RunKizuna({"collection", "grant", node.dir(), "intel", "--org", "outside-org", "--read",
                       "--write"})
                .exit_code,
            0);
  status = StatusOfPost(AsEve("POST", "/taxii2/root/collections/intel/objects/",
                              Envelope({Indicator(1, Tlp::kGreen, ",\"revoked\":true")})));
  EXPECT_EQ(status.at("failure_count").as_int64(), 1) << json::serialize(status);

  // A sighting that says the home team saw something: refused.
  const std::string told =
      R"({"type":"sighting","spec_version":"2.1","id":"sighting--6a1b3f0e-52a4-4d5e-9f0c-8a3b2e7d41c9","created":"2026-11-23T00:00:00.000Z","modified":"2026-11-23T00:00:00.000Z","sighting_of_ref":")" +
      IndicatorId(1) + R"(","count":50,"where_sighted_refs":[")" + home + R"("]})";
  status = StatusOfPost(AsEve("POST", kVersions, Envelope({told})));
  EXPECT_EQ(status.at("failure_count").as_int64(), 1) << json::serialize(status);
  EXPECT_NE(json::serialize(status).find("where_sighted_refs"), std::string::npos);

  // An SCO has no producer: eve recording an address first does not keep
  // the home team from recording it too.
  const std::string address =
      R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"})";
  EXPECT_EQ(
      StatusOfPost(AsEve("POST", "/taxii2/root/collections/intel/objects/", Envelope({address})))
          .at("success_count")
          .as_int64(),
      1);
  EXPECT_EQ(StatusOfPost(node.Post(kVersions, Envelope({address}))).at("failure_count").as_int64(),
            0);

  // Pass its own indicator off as the home team's: refused.
  status = StatusOfPost(
      AsEve("POST", kVersions,
            Envelope({Indicator(5, Tlp::kGreen, ",\"created_by_ref\":\"" + home + "\"")})));
  EXPECT_EQ(status.at("failure_count").as_int64(), 1);
  EXPECT_NE(json::serialize(status).find("created_by_ref must be your organization's identity"),
            std::string::npos);
  EXPECT_FALSE(Has(node, 5));

  // Its own indicator is stored as its own, and it may change and delete it.
  status = StatusOfPost(AsEve("POST", kVersions, Envelope({Indicator(6, Tlp::kGreen)})));
  EXPECT_EQ(status.at("success_count").as_int64(), 1);
  json::object own = Latest(node, IndicatorId(6));
  const std::string eve_identity(own.at("created_by_ref").as_string());
  EXPECT_NE(eve_identity, home);
  EXPECT_EQ(eve_identity.rfind("identity--", 0), 0u);
  status = StatusOfPost(
      AsEve("POST", kVersions,
            Envelope({Indicator(6, Tlp::kGreen, ",\"created_by_ref\":\"" + eve_identity + "\"",
                                "2026-11-24T00:00:00.000Z")})));
  EXPECT_EQ(status.at("success_count").as_int64(), 1) << json::serialize(status);
  // The home team cannot rewrite eve's object either (only an admin could).
  std::string member = node.AddUser("CERT-Home", "analyst");
  status = StatusOfPost(node.Request(
      "POST", kVersions, member,
      Envelope({Indicator(6, Tlp::kGreen, ",\"created_by_ref\":\"" + eve_identity + "\"",
                          "2026-11-25T00:00:00.000Z")})));
  EXPECT_EQ(status.at("failure_count").as_int64(), 1) << json::serialize(status);
  // A node admin may (and the node logs it).
  status = StatusOfPost(node.Post(
      kVersions, Envelope({Indicator(6, Tlp::kGreen, ",\"created_by_ref\":\"" + eve_identity + "\"",
                                     "2026-11-26T00:00:00.000Z")})));
  EXPECT_EQ(status.at("success_count").as_int64(), 1) << json::serialize(status);
  EXPECT_EQ(Latest(node, IndicatorId(6)).at("modified").as_string(), "2026-11-26T00:00:00.000Z");
  EXPECT_NE(node.ServerLog().find("adds a version of " + IndicatorId(6)), std::string::npos)
      << node.ServerLog();
  r = AsEve("DELETE", kVersions + IndicatorId(6) + "/?match[version]=all");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Has(node, 6));

  // A sighting it records is its organization's, not the home team's.
  r = AsEve("POST", "/api/v1/match?sighting=true", R"({"observables":["203.0.113.1"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value answer = json::parse(r.body);
  ASSERT_TRUE(answer.as_object().contains("sightings")) << r.body;
  const json::array& sightings = answer.at("sightings").as_array();
  ASSERT_EQ(sightings.size(), 1u) << r.body;
  auto sighting = node.Get("/taxii2/root/collections/sightings/objects/" +
                           std::string(sightings[0].as_string()) + "/");
  ASSERT_EQ(sighting.status, 200) << sighting.body;
  EXPECT_NE(sighting.body.find("\"created_by_ref\":\"" + eve_identity + "\""), std::string::npos)
      << sighting.body;
  EXPECT_EQ(sighting.body.find(home), std::string::npos) << sighting.body;
}

// What eve may not see (the RED indicator 2) answers exactly as an id that
// does not exist (indicator 9), on every path.
TEST_F(OutsiderTest, HiddenObjectsBehaveLikeMissingOnes) {
  auto granted = RunKizuna(
      {"collection", "grant", node.dir(), "default", "--org", "outside-org", "--read", "--write"});
  ASSERT_EQ(granted.exit_code, 0) << granted.err;
  const std::string hidden = IndicatorId(2), missing = IndicatorId(9), visible = IndicatorId(1);
  auto same = [&](const std::string& method, const std::string& hidden_path,
                  const std::string& missing_path, const std::string& body = "") {
    auto a = AsEve(method, hidden_path, body);
    auto b = AsEve(method, missing_path, body);
    EXPECT_EQ(a.status, b.status) << method << " " << hidden_path;
    EXPECT_EQ(Replace(a.body, hidden, missing), b.body) << method << " " << hidden_path;
    EXPECT_EQ(a.headers.Get("X-TAXII-Date-Added-First"), b.headers.Get("X-TAXII-Date-Added-First"));
    return a;
  };
  // Paging: the hidden id neither fills a page nor leaves `more` behind.
  auto page = same("GET", kVersions + "?match[id]=" + hidden + "," + visible + "&limit=1",
                   kVersions + "?match[id]=" + missing + "," + visible + "&limit=1");
  EXPECT_EQ(json::parse(page.body).at("more").as_bool(), false) << page.body;
  same("GET", kVersions + hidden + "/", kVersions + missing + "/");
  same("GET", kVersions + hidden + "/versions/?limit=1",
       kVersions + missing + "/versions/?limit=1");
  same("DELETE", kVersions + hidden + "/?match[version]=all",
       kVersions + missing + "/?match[version]=all");
  // A version of the hidden object: answered as for a new one, not stored.
  auto posted = AsEve("POST", kVersions,
                      Envelope({Indicator(2, Tlp::kGreen, "", "2026-11-24T00:00:00.000Z")}));
  auto status = StatusOfPost(posted);
  EXPECT_EQ(status.at("success_count").as_int64(), 1) << posted.body;
  EXPECT_FALSE(json::serialize(status).find("already") != std::string::npos);
  EXPECT_EQ(Latest(node, hidden).at("modified").as_string(), "2026-11-23T00:00:00.000Z");
  // A collection it has no access to answers as a missing one.
  auto created = node.Post("/api/v1/collections", R"({"title":"internal","alias":"internal"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto internal = AsEve("GET", "/taxii2/root/collections/internal/");
  auto nowhere = AsEve("GET", "/taxii2/root/collections/nowhere/");
  EXPECT_EQ(internal.status, 404);
  EXPECT_EQ(Replace(internal.body, "internal", "nowhere"), nowhere.body);
  internal = AsEve("GET", "/api/v1/collections/internal/stream");
  nowhere = AsEve("GET", "/api/v1/collections/nowhere/stream");
  EXPECT_EQ(internal.status, 404);
  EXPECT_EQ(Replace(internal.body, "internal", "nowhere"), nowhere.body);
}

// match[version] first and last mean the oldest and newest version eve may
// see: a newer RED version neither hides the GREEN one nor shows that it
// exists, and her DELETE removes only what she sees.
TEST_F(OutsiderTest, FirstAndLastAreAmongTheVersionsItMaySee) {
  Post(node, {Indicator(7, Tlp::kGreen), Indicator(7, Tlp::kRed, "", "2026-11-24T00:00:00.000Z")});
  const std::string id = IndicatorId(7), older = "2026-11-23T00:00:00.000Z";
  auto modified_in = [&](const std::string& path) {
    auto r = AsEve("GET", path);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    std::vector<std::string> out;
    if (r.status != 200) return out;
    json::object page = json::parse(r.body).as_object();
    if (!page.contains("objects")) return out;
    for (const auto& o : page.at("objects").as_array()) {
      const json::object& object = o.as_object();
      out.emplace_back(object.contains("modified") ? object.at("modified").as_string()
                                                   : object.at("version").as_string());
    }
    return out;
  };
  using Modified = std::vector<std::string>;
  EXPECT_EQ(modified_in(kVersions + id + "/"), Modified{older});
  EXPECT_EQ(modified_in(kVersions + "?match[id]=" + id), Modified{older});
  EXPECT_EQ(modified_in(kVersions + "?match[id]=" + id + "&match[version]=last"), Modified{older});
  EXPECT_EQ(modified_in(kVersions + "?match[id]=" + id + "&match[version]=first,last"),
            Modified{older});
  EXPECT_EQ(modified_in(kVersions + "?match[id]=" + id + "&match[version]=all"), Modified{older});
  EXPECT_EQ(modified_in("/taxii2/root/collections/default/manifest/?match[id]=" + id),
            Modified{older});
  // The admin still sees the RED version as the latest.
  EXPECT_EQ(Latest(node, id).at("modified").as_string(), "2026-11-24T00:00:00.000Z");

  // Her own object with a RED version a node admin added: her DELETE takes
  // the newest version she sees and leaves the one she does not.
  ASSERT_EQ(RunKizuna({"collection", "grant", node.dir(), "default", "--org", "outside-org",
                       "--read", "--write"})
                .exit_code,
            0);
  ASSERT_EQ(StatusOfPost(AsEve("POST", kVersions, Envelope({Indicator(10, Tlp::kGreen)})))
                .at("success_count")
                .as_int64(),
            1);
  const std::string own(Latest(node, IndicatorId(10)).at("created_by_ref").as_string());
  Post(node, {Indicator(10, Tlp::kRed, ",\"created_by_ref\":\"" + own + "\"",
                        "2026-11-25T00:00:00.000Z")});
  auto r = AsEve("DELETE", kVersions + IndicatorId(10) + "/");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(AsEve("GET", kVersions + IndicatorId(10) + "/").status, 404);
  EXPECT_EQ(Latest(node, IndicatorId(10)).at("modified").as_string(), "2026-11-25T00:00:00.000Z");
  EXPECT_EQ(Versions(node)[IndicatorId(10)], 1);
}

// An SCO's id follows from its content, so a copy eve may not see must not
// tell her that the node holds it: she gets a copy of her own, as she would
// have without it.
TEST_F(OutsiderTest, AnSCOItMayNotSeeIsStoredAsItsOwnCopy) {
  ASSERT_EQ(RunKizuna({"collection", "grant", node.dir(), "default", "--org", "outside-org",
                       "--read", "--write"})
                .exit_code,
            0);
  const std::string id = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd";
  const std::string address =
      R"({"type":"ipv4-addr","spec_version":"2.1","id":")" + id + R"(","value":"198.51.100.3")";
  Post(node,
       {address +
        R"(,"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]})"});
  EXPECT_EQ(AsEve("GET", kVersions + id + "/").status, 404);
  json::object first = StatusOfPost(AsEve("POST", kVersions, Envelope({address + "}"})));
  ASSERT_EQ(first.at("success_count").as_int64(), 1) << json::serialize(first);
  EXPECT_EQ(json::serialize(first).find("already present"), std::string::npos)
      << json::serialize(first);
  auto mine = AsEve("GET", kVersions + id + "/");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(mine.body.find("marking-definition--e828b379"), std::string::npos) << mine.body;
  // Sent again, it is her copy that is already present, with its own version.
  json::object again = StatusOfPost(AsEve("POST", kVersions, Envelope({address + "}"})));
  const json::object& success = again.at("successes").at(0).as_object();
  EXPECT_EQ(success.at("message").as_string(), "already present") << json::serialize(again);
  EXPECT_EQ(success.at("version"), first.at("successes").at(0).at("version"));
  // The home team holds both copies.
  EXPECT_EQ(Versions(node)[id], 2);
}

TEST_F(OutsiderTest, NextTokensAreOpaque) {
  Post(node, {Indicator(3, Tlp::kGreen), Indicator(4, Tlp::kGreen)});
  auto r = AsEve("GET", kVersions + "?limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object page = json::parse(r.body).as_object();
  ASSERT_TRUE(page.at("more").as_bool());
  const std::string next(page.at("next").as_string());
  auto raw = Base64UrlDecode(next);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->find("da:"), std::string::npos);
  // It continues where the page ended; a forged one is refused.
  r = AsEve("GET", kVersions + "?limit=1&next=" + next);
  EXPECT_EQ(r.status, 200) << r.body;
  r = AsEve("GET", kVersions + "?limit=1&next=" + Base64UrlEncode("da:0"));
  EXPECT_EQ(r.status, 400) << r.body;
}

// A partner cannot rewrite, revoke or delete the receiving node's own
// objects, nor pass its objects off as that node's, through its account.
TEST(PartnerIntegrity, APartnerCannotChangeTheNodesOwnObjects) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  Post(a, {Indicator(1, Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 1); }));
  // b's account at a, as b's node uses it.
  const std::string b_key_at_a = node::LoadConfig(b.dir() + "/kizuna.toml")->peers[0].token;
  const std::string a_identity = Identity(a);
  // Signed with b's own key, as b's node signs its pushes.
  auto b_node = node::Node::Open(b.dir());
  ASSERT_TRUE(b_node.ok()) << b_node.status().ToString();
  const std::string forged =
      Envelope({Indicator(1, Tlp::kGreen, ",\"revoked\":true", "2026-11-24T00:00:00.000Z"),
                Indicator(7, Tlp::kGreen, ",\"created_by_ref\":\"" + a_identity + "\"")});
  auto status =
      StatusOfPost(a.Request("POST", kVersions, b_key_at_a, forged,
                             {{"X-Kizuna-Signature", Base64Encode((*b_node)->Sign(forged))}}));
  EXPECT_EQ(status.at("failure_count").as_int64(), 2) << json::serialize(status);
  EXPECT_FALSE(Latest(a, IndicatorId(1)).contains("revoked"));
  EXPECT_FALSE(Has(a, 7));
  auto r = a.Request("DELETE", kVersions + IndicatorId(1) + "/?match[version]=all", b_key_at_a);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_TRUE(Has(a, 1));
}

// What an outside organization wrote on a is its own: a's partner, which may
// not receive re-shared objects, never gets it as a's.
TEST(PartnerIntegrity, AnOutsideOrganizationsObjectsAreNotSharedAsTheHomeTeams) {
  NodeProcess a("CERT-A"), b("CERT-B");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  ASSERT_TRUE(b.Start(&error)) << error;
  Federate(a, "cert-a", b, "cert-b");
  const std::string eve = a.AddUser("outside-org", "eve");
  auto granted = RunKizuna(
      {"collection", "grant", a.dir(), "default", "--org", "outside-org", "--read", "--write"});
  ASSERT_EQ(granted.exit_code, 0) << granted.err;
  auto status =
      StatusOfPost(a.Request("POST", kVersions, eve, Envelope({Indicator(3, Tlp::kGreen)})));
  ASSERT_EQ(status.at("success_count").as_int64(), 1) << json::serialize(status);
  // The home team's object, written after eve's, reaches b; eve's does not.
  Post(a, {Indicator(4, Tlp::kGreen)});
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 4); })) << a.ServerLog() << b.ServerLog();
  EXPECT_FALSE(Has(b, 3));
  // With re-sharing allowed it goes, as eve's (its created_by_ref), not a's.
  const std::string path = a.dir() + "/kizuna.toml";
  std::string config = ReadFile(path);
  // The entry PeerToml wrote (the default text only mentions [[peer]] in comments).
  const size_t entry = config.rfind("\n[[peer]]\n");
  ASSERT_NE(entry, std::string::npos) << config;
  config.replace(entry, 10, "\n[[peer]]\nreshare = true\n");
  WriteFile(path, config);
  ASSERT_TRUE(a.WaitForConfig());
  ASSERT_TRUE(WaitUntil([&] { return Has(b, 3); })) << a.ServerLog() << b.ServerLog();
  EXPECT_NE(Latest(b, IndicatorId(3)).at("created_by_ref").as_string(), Identity(a));
}

// A hostile partner's TAXII server serves a forged newer version of a's own
// indicator, and an object claiming a's identity: a's pull stores neither.
TEST(PartnerIntegrity, APulledForgeryOfTheNodesOwnObjectIsRefused) {
  NodeProcess a("CERT-A");
  std::string error;
  ASSERT_TRUE(a.Start(&error)) << error;
  Post(a, {Indicator(1, Tlp::kGreen)});
  const std::string a_identity = Identity(a);
  const std::string forged =
      Envelope({Indicator(1, Tlp::kGreen, ",\"revoked\":true", "2026-11-24T00:00:00.000Z"),
                Indicator(8, Tlp::kGreen, ",\"created_by_ref\":\"" + a_identity + "\""),
                Indicator(9, Tlp::kGreen)});
  std::atomic<int> served{0};
  std::string url;
  auto hostile = http::Server::Start({}, [&](const http::Request& request) {
    http::Response r;
    r.status = 200;
    r.headers.Set("Content-Type", "application/taxii+json;version=2.1");
    if (request.path == "/taxii2/") {
      r.body = R"({"title":"hostile","api_roots":[")" + url + R"(/taxii2/root/"]})";
    } else if (request.path == "/taxii2/root/") {
      r.body =
          R"({"title":"root","versions":["application/taxii+json;version=2.1"],"max_content_length":10000000})";
    } else if (request.path == "/taxii2/root/collections/") {
      r.body =
          R"({"collections":[{"id":"c0ffee00-0000-4000-8000-000000000001","title":"x","can_read":true,"can_write":false}]})";
    } else if (request.path.find("/objects/") != std::string::npos) {
      ++served;
      r.body = "{\"more\":false," + forged.substr(1);
    } else {
      return http::ErrorResponse(404, "Not found", "no");
    }
    return r;
  });
  ASSERT_TRUE(hostile.ok()) << hostile.status().ToString();
  url = "http://127.0.0.1:" + std::to_string((*hostile)->port());
  node::PeerConfig peer = PeerEntry("hostile", url, "kz_0000000000000000_x", "");
  peer.stream = false;
  peer.poll_seconds = 1;
  AddPeer(a, peer);
  // The honest object arrives; the forgeries do not.
  ASSERT_TRUE(WaitUntil([&] { return Has(a, 9); })) << a.ServerLog();
  EXPECT_FALSE(Latest(a, IndicatorId(1)).contains("revoked"));
  EXPECT_FALSE(Has(a, 8));
  EXPECT_NE(AuditLog(a).find("rejected: produced on the receiving node"), std::string::npos)
      << AuditLog(a);
  EXPECT_NE(AuditLog(a).find("(unsigned)"), std::string::npos) << AuditLog(a);
}

}  // namespace
}  // namespace kizuna::e2e
