// Correlation over real `kizuna serve` processes: the match API and `kizuna
// match`, following the store (new versions, revocation, expiry, deletion,
// other processes' imports), access control, sightings and warning lists.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

const std::string kObjects = "/taxii2/root/collections/default/objects/";

// The JSON values of `out`, one a line (what `kizuna match` writes).
std::vector<json::value> JsonLines(const std::string& out) {
  std::vector<json::value> lines;
  for (size_t start = 0; start < out.size();) {
    size_t end = out.find('\n', start);
    lines.push_back(json::parse(out.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

class MatchE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(node_.Start(&error)) << error;
  }
  void Add(const std::vector<std::string>& objects) {
    auto r = node_.Post(kObjects, Envelope(objects));
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_EQ(json::parse(r.body).at("failure_count").to_number<int>(), 0) << r.body;
  }
  // The indicator ids that match `observable`, as `key` sees them.
  std::set<std::string> Matches(const std::string& observable, const std::string& key = "") {
    json::object body{{"observables", json::array{json::value(observable)}}};
    auto r = node_.Request("POST", "/api/v1/match", key.empty() ? node_.admin_key() : key,
                           json::serialize(body), {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> ids;
    if (r.status != 200) return ids;
    json::value parsed = json::parse(r.body);
    for (const auto& m : parsed.at("results").at(0).at("matches").as_array()) {
      ids.insert(std::string(m.at("indicator").as_string()));
    }
    return ids;
  }
  static std::string Id(const std::string& tail) {
    return "indicator--00000000-0000-4000-8000-" + tail;
  }

  NodeProcess node_{"CERT-Match"};
};

TEST_F(MatchE2E, IndexedAndPatternIndicatorsMatch) {
  Add({PatternIndicator("000000000001", "[ipv4-addr:value = '203.0.113.77']"),
       PatternIndicator("000000000002", "[ipv4-addr:value ISSUBSET '45.33.0.0/16']"),
       PatternIndicator("000000000003", "[domain-name:value = 'c2.evil-botnet.net']",
                        R"("x_kizuna_match_subdomains":true)"),
       PatternIndicator("000000000004",
                        "[file:hashes.'SHA-256' = "
                        "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"),
       PatternIndicator("000000000005",
                        "[url:value MATCHES '^http://[a-z]+\\\\.evil-botnet\\\\.net/gate']"),
       PatternIndicator("000000000006",
                        "[email-addr:value = 'phish@evil-botnet.net'] OR "
                        "[ipv6-addr:value ISSUBSET '2001:db8:bad::/48']")});
  EXPECT_EQ(Matches("203.0.113.77"), std::set<std::string>{Id("000000000001")});
  EXPECT_EQ(Matches("45.33.32.156"), std::set<std::string>{Id("000000000002")});
  EXPECT_EQ(Matches("a.b.c2.evil-botnet.net"), std::set<std::string>{Id("000000000003")});
  EXPECT_TRUE(Matches("evil-botnet.net").empty()) << "a parent of the indicator's domain";
  EXPECT_EQ(Matches("AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F"),
            std::set<std::string>{Id("000000000004")});
  EXPECT_EQ(Matches("hxxp://www[.]evil-botnet[.]net/gate.php"),
            std::set<std::string>{Id("000000000005")});
  EXPECT_EQ(Matches("phish@evil-botnet.net"), std::set<std::string>{Id("000000000006")});
  EXPECT_EQ(Matches("2001:db8:bad::1"), std::set<std::string>{Id("000000000006")});
  EXPECT_TRUE(Matches("198.18.0.1").empty());

  // The full answer carries what an analyst needs.
  auto r = node_.Request("POST", "/api/v1/match", node_.admin_key(), "203.0.113.77\nnot-an-ioc\n",
                         {{"Content-Type", "text/plain"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json::value results = json::parse(r.body).at("results");
  ASSERT_EQ(results.as_array().size(), 2u);
  const auto& hit = results.at(0).at("matches").at(0).as_object();
  EXPECT_EQ(hit.at("name"), "indicator 000000000001");
  EXPECT_EQ(hit.at("tlp"), "green");
  EXPECT_EQ(hit.at("confidence").to_number<int>(), 70);
  EXPECT_EQ(hit.at("labels").at(0), "botnet");
  EXPECT_EQ(results.at(0).at("warnings").at(0).as_string().find("Documentation"), 0u);
  EXPECT_TRUE(results.at(1).as_object().contains("error"));
}

// POST /api/v1/match takes 100,000 observables a request, as text lines
// (through the stream matcher) and as a JSON list; one more is 413.
TEST_F(MatchE2E, TakesAHundredThousandObservablesARequest) {
  Add({PatternIndicator("000000000020", "[ipv4-addr:value ISSUBSET '45.82.0.0/16']"),
       PatternIndicator("000000000021", "[domain-name:value = 'evil-batch.net']")});
  constexpr int kMax = 100000;
  std::string text;
  json::array list;
  for (int i = 0; i < kMax; ++i) {
    // Every 10th a hit, every 1,000th a domain, one line CRLF.
    std::string value =
        i % 1000 == 0 ? "evil-batch.net"
        : i % 10 == 0 ? "45.82." + std::to_string(i % 256) + ".1"
                      : "198.18." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
    text += value + (i == 5 ? "\r\n" : "\n");
    list.emplace_back(value);
    if (i == 7) text += "# comments and blank lines are not observables\n\n";
  }
  auto check = [&](const http::Response& r) {
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
    json::value parsed = json::parse(r.body);
    const json::array& results = parsed.at("results").as_array();
    ASSERT_EQ(results.size(), static_cast<size_t>(kMax));
    size_t matched = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].at("matched").as_bool()) ++matched;
    }
    EXPECT_EQ(matched, static_cast<size_t>(kMax / 10));
    EXPECT_EQ(results[0].at("value"), "evil-batch.net");
    EXPECT_EQ(results[10].at("value"), "45.82.10.1");
    EXPECT_EQ(results[10].at("matches").at(0).at("indicator").as_string(), Id("000000000020"));
    EXPECT_EQ(results[kMax - 1].at("value"), "198.18.134.159");
    EXPECT_EQ(results[kMax - 1].at("matched"), false);
  };
  check(node_.Request("POST", "/api/v1/match", node_.admin_key(), text,
                      {{"Content-Type", "text/plain"}}));
  check(node_.Request("POST", "/api/v1/match", node_.admin_key(),
                      json::serialize(json::object{{"observables", list}}),
                      {{"Content-Type", "application/json"}}));

  text += "45.82.0.1\n";
  list.emplace_back("45.82.0.1");
  auto r = node_.Request("POST", "/api/v1/match", node_.admin_key(), text,
                         {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find("at most 100000"), std::string::npos) << r.body.substr(0, 300);
  r = node_.Request("POST", "/api/v1/match", node_.admin_key(),
                    json::serialize(json::object{{"observables", list}}),
                    {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 300);
}

TEST_F(MatchE2E, FollowsNewVersionsRevocationExpiryAndDeletion) {
  Add({PatternIndicator("000000000010", "[ipv4-addr:value = '45.77.1.1']")});
  EXPECT_EQ(Matches("45.77.1.1").size(), 1u);
  // A new version with another value replaces the old one at once.
  Add({PatternIndicator("000000000010", "[ipv4-addr:value = '45.77.2.2']", "",
                        "2024-02-01T00:00:00.000Z")});
  EXPECT_TRUE(Matches("45.77.1.1").empty());
  EXPECT_EQ(Matches("45.77.2.2").size(), 1u);
  // Revoked: stops matching.
  Add({PatternIndicator("000000000010", "[ipv4-addr:value = '45.77.2.2']", R"("revoked":true)",
                        "2024-03-01T00:00:00.000Z")});
  EXPECT_TRUE(Matches("45.77.2.2").empty());
  // Expired (valid_until in the past): never matches.
  Add({PatternIndicator("000000000011", "[ipv4-addr:value = '45.77.3.3']",
                        R"("valid_until":"2024-06-01T00:00:00Z")")});
  EXPECT_TRUE(Matches("45.77.3.3").empty());
  // Deleted through TAXII: stops matching; deleting the newest version brings the older back.
  Add({PatternIndicator("000000000012", "[ipv4-addr:value = '45.77.4.4']"),
       PatternIndicator("000000000012", "[ipv4-addr:value = '45.77.5.5']", "",
                        "2024-02-01T00:00:00.000Z")});
  EXPECT_EQ(Matches("45.77.5.5").size(), 1u);
  auto r = node_.Request("DELETE", kObjects + Id("000000000012") + "/", node_.admin_key());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Matches("45.77.5.5").empty());
  EXPECT_EQ(Matches("45.77.4.4").size(), 1u);
  r = node_.Request("DELETE", kObjects + Id("000000000012") + "/?match[version]=all",
                    node_.admin_key());
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Matches("45.77.4.4").empty());
}

TEST_F(MatchE2E, SeesWhatAnotherProcessImports) {
  TempDir tmp;
  WriteFile(tmp.path() + "/feed.json",
            Bundle({PatternIndicator("000000000020",
                                     "[domain-name:value = 'imported.evil-botnet.net']")}));
  auto r = RunKizuna({"import", node_.dir(), tmp.path() + "/feed.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Matches("imported.evil-botnet.net"), std::set<std::string>{Id("000000000020")});
}

TEST_F(MatchE2E, OnlyWhatTheCallerMayReadIsShown) {
  std::string c =
      RunKizuna({"collection", "add", node_.dir(), "--title", "closed", "--alias", "closed"})
          .LastLine();
  auto r =
      node_.Post("/taxii2/root/collections/closed/objects/",
                 Envelope({PatternIndicator("000000000030", "[ipv4-addr:value = '45.78.1.1']")}));
  ASSERT_EQ(r.status, 202) << r.body;
  std::string key = node_.AddUser("CERT-Partner", "analyst");
  EXPECT_EQ(Matches("45.78.1.1").size(), 1u) << "the admin reads everything";
  EXPECT_TRUE(Matches("45.78.1.1", key).empty()) << "no grant on 'closed'";
  ASSERT_EQ(
      RunKizuna({"collection", "grant", node_.dir(), "closed", "--org", "CERT-Partner", "--read"})
          .exit_code,
      0);
  EXPECT_EQ(Matches("45.78.1.1", key).size(), 1u);
  EXPECT_EQ(node_.Request("POST", "/api/v1/match", "", "1.2.3.4").status, 401);
}

// A match must not disclose an indicator the caller may not receive: the
// sharing policy (TLP, here for a user of another organization) applies.
TEST_F(MatchE2E, MatchesFollowTheSharingPolicy) {
  auto marked = [](const std::string& tail, const char* marking) {
    std::string object = PatternIndicator(tail, "[ipv4-addr:value = '45.78.2.2']");
    size_t at = object.find("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
    return object.replace(
        at, std::string("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb").size(),
        marking);
  };
  Add({PatternIndicator("000000000040", "[ipv4-addr:value = '45.78.2.2']"),                 // GREEN
       marked("000000000041", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),  // AMBER
       marked("000000000042", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1")});  // RED
  std::string key = node_.AddUser("ISP-X", "abuse");  // external: up to GREEN by default
  EXPECT_EQ(Matches("45.78.2.2").size(), 3u) << "the home team sees everything";
  EXPECT_EQ(Matches("45.78.2.2", key), std::set<std::string>{Id("000000000040")});
}

// A partner node's account learns of matches only in the collections shared
// with it (`share`), whatever its grants.
TEST_F(MatchE2E, APeerSeesMatchesOnlyInCollectionsSharedWithIt) {
  ASSERT_EQ(
      RunKizuna({"collection", "add", node_.dir(), "--title", "internal", "--alias", "internal"})
          .exit_code,
      0);
  ASSERT_EQ(
      node_
          .Post("/taxii2/root/collections/internal/objects/",
                Envelope({PatternIndicator("000000000050", "[ipv4-addr:value = '45.78.3.3']")}))
          .status,
      202);
  Add({PatternIndicator("000000000051", "[ipv4-addr:value = '45.78.3.3']")});
  std::string key = node_.AddUser("cert-p", "node");
  ASSERT_EQ(RunKizuna({"collection", "grant", node_.dir(), "internal", "--org", "cert-p", "--read"})
                .exit_code,
            0);
  auto added = RunKizuna({"peer", "add", node_.dir(), "cert-p", "--url", "http://127.0.0.1:9",
                          "--token", "kz_0000000000000000_x", "--public-key",
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  ASSERT_TRUE(node_.WaitForConfig()) << node_.ServerLog();  // the node has the peer now
  EXPECT_EQ(Matches("45.78.3.3", key), std::set<std::string>{Id("000000000051")});
  EXPECT_EQ(Matches("45.78.3.3").size(), 2u);
}

TEST_F(MatchE2E, SightingsAreRecordedPerIndicatorAndPeriod) {
  Add({PatternIndicator("000000000040", "[ipv4-addr:value = '45.79.1.1']")});
  for (int i = 0; i < 2; ++i) {
    auto r = node_.Request("POST", "/api/v1/match", node_.admin_key(),
                           R"({"observables":["45.79.1.1","45.79.1.1"],"sighting":true})",
                           {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(json::parse(r.body).at("sightings").as_array().size(), 1u);
  }
  auto r = node_.Get("/taxii2/root/collections/sightings/objects/?match[type]=sighting");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value parsed = json::parse(r.body);
  const auto& objects = parsed.at("objects").as_array();
  ASSERT_EQ(objects.size(), 1u) << "one sighting object, two versions";
  const auto& sighting = objects.at(0).as_object();
  EXPECT_EQ(std::string(sighting.at("sighting_of_ref").as_string()), Id("000000000040"));
  EXPECT_EQ(sighting.at("count").to_number<int>(), 4);
  EXPECT_EQ(sighting.at("object_marking_refs").at(0),
            "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb")
      << "a sighting keeps the indicator's TLP";
  std::string identity(
      json::parse(RunKizuna({"identity", node_.dir()}).out).at("identity").as_string());
  EXPECT_EQ(std::string(sighting.at("where_sighted_refs").at(0).as_string()), identity);
  r = node_.Get("/taxii2/root/collections/sightings/objects/" +
                std::string(sighting.at("id").as_string()) + "/versions/");
  EXPECT_EQ(json::parse(r.body).at("versions").as_array().size(), 2u);
}

TEST_F(MatchE2E, ObservedDataIsMatchedAgainstIndexAndPatterns) {
  Add({PatternIndicator("000000000050", "[ipv4-addr:value = '45.80.1.1']"),
       PatternIndicator(
           "000000000051",
           "[network-traffic:dst_ref.value = '45.80.2.2' AND network-traffic:dst_port = 23]")});
  std::string bundle =
      R"({"type":"bundle","id":"bundle--00000000-0000-4000-8000-0000000000b1","objects":[
    {"type":"observed-data","spec_version":"2.1","id":"observed-data--00000000-0000-4000-8000-0000000000d1",
     "created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:00.000Z",
     "first_observed":"2024-05-01T00:00:00Z","last_observed":"2024-05-01T00:01:00Z","number_observed":1,
     "object_refs":["ipv4-addr--00000000-0000-4000-8000-0000000000a1","ipv4-addr--00000000-0000-4000-8000-0000000000a2","network-traffic--00000000-0000-4000-8000-0000000000a3"]},
    {"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--00000000-0000-4000-8000-0000000000a1","value":"45.80.1.1"},
    {"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--00000000-0000-4000-8000-0000000000a2","value":"45.80.2.2"},
    {"type":"network-traffic","spec_version":"2.1","id":"network-traffic--00000000-0000-4000-8000-0000000000a3",
     "dst_ref":"ipv4-addr--00000000-0000-4000-8000-0000000000a2","dst_port":23,"protocols":["tcp"]}]})";
  auto r =
      node_.Request("POST", "/api/v1/match", node_.admin_key(),
                    R"({"observed_data":)" + bundle + "}", {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> ids;
  json::value parsed = json::parse(r.body);
  for (const auto& result : parsed.at("results").as_array()) {
    for (const auto& m : result.at("matches").as_array()) {
      ids.insert(std::string(m.at("indicator").as_string()));
    }
  }
  EXPECT_EQ(ids, (std::set<std::string>{Id("000000000050"), Id("000000000051")}));
}

// Issue 10: names under any TLD (private-use, reserved, unlisted) and
// internationalized names in either spelling are recognised in plain text
// and matched against indicators on them.
TEST_F(MatchE2E, NamesUnderAnyTldAndInEitherIdnFormMatch) {
  Add({PatternIndicator("000000000080", "[domain-name:value = 'intranet.corp']"),
       PatternIndicator("000000000081", "[domain-name:value = 'xn--bcher-kva.example']"),
       PatternIndicator("000000000082", "[domain-name:value = 'münchen.kizunatest']"),
       PatternIndicator("000000000083", "[email-addr:value = 'ceo@intranet.corp']"),
       PatternIndicator("000000000084", "[domain-name:value = 'host.kizunatest']")});
  const std::set<std::string> corp{Id("000000000080")};
  const std::set<std::string> buecher{Id("000000000081")};
  const std::set<std::string> muenchen{Id("000000000082")};
  EXPECT_EQ(Matches("intranet.corp"), corp);
  EXPECT_EQ(Matches("INTRANET.Corp."), corp);
  EXPECT_EQ(Matches("intranet[.]corp"), corp);
  EXPECT_EQ(Matches("xn--bcher-kva.example"), buecher);
  EXPECT_EQ(Matches("bücher.example"), buecher);
  EXPECT_EQ(Matches("BÜCHER.Example."), buecher);
  EXPECT_EQ(Matches("münchen.kizunatest"), muenchen);
  EXPECT_EQ(Matches("xn--mnchen-3ya.kizunatest"), muenchen);
  EXPECT_EQ(Matches("CEO@Intranet.Corp"), std::set<std::string>{Id("000000000083")});

  // The answer: the ASCII form, the private-use warning, and errors only for
  // what is no name; a typed value is never refused for its TLD.
  json::object body{
      {"observables",
       json::array{"bücher.example", "intranet.corp", "invoice.pdf.exe", "1.2.3",
                   json::object{{"type", "domain-name"}, {"value", "HOST.kizunatest"}},
                   json::object{{"type", "domain-name"}, {"value", "report.docx"}}}}};
  auto r = node_.Request("POST", "/api/v1/match", node_.admin_key(), json::serialize(body),
                         {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value parsed = json::parse(r.body);
  const json::array& results = parsed.at("results").as_array();
  ASSERT_EQ(results.size(), 6u) << r.body;
  EXPECT_EQ(results[0].at("type"), "domain-name");
  EXPECT_EQ(results[0].at("value"), "xn--bcher-kva.example");
  EXPECT_EQ(results[0].at("matched"), true);
  EXPECT_NE(results[1].at("warnings").at(0).as_string().find("Private-use"), std::string::npos)
      << r.body;
  EXPECT_TRUE(results[2].as_object().contains("error")) << r.body;
  EXPECT_TRUE(results[3].as_object().contains("error")) << r.body;
  EXPECT_FALSE(results[4].as_object().contains("error")) << r.body;
  EXPECT_EQ(results[4].at("value"), "host.kizunatest");
  EXPECT_EQ(results[4].at("matches").at(0).at("indicator").as_string(), Id("000000000084"));
  EXPECT_FALSE(results[5].as_object().contains("error")) << r.body;
  EXPECT_EQ(results[5].at("matched"), false);
}

TEST_F(MatchE2E, BadPatternsAreRejectedOnIngestWithThePosition) {
  auto r = node_.Post(
      kObjects, Envelope({PatternIndicator("000000000060", "[ipv4-addr:value = '1.2.3.4' AND]")}));
  ASSERT_EQ(r.status, 202) << r.body;
  json::value status = json::parse(r.body);
  ASSERT_EQ(status.at("failure_count").to_number<int>(), 1);
  std::string message(status.at("failures").at(0).at("message").as_string());
  EXPECT_NE(message.find("position"), std::string::npos) << message;
}

TEST(MatchCli, StreamsStdinToJsonLinesWithWarningListsFromTheConfig) {
  NodeProcess node("CERT-MatchCli");
  TempDir tmp;
  WriteFile(tmp.path() + "/feed.json",
            Bundle({PatternIndicator("000000000070", "[ipv4-addr:value = '45.81.1.1']"),
                    PatternIndicator("000000000071", "[ipv4-addr:value = '45.81.2.2']")}));
  ASSERT_EQ(RunKizuna({"import", node.dir(), tmp.path() + "/feed.json"}).exit_code, 0);
  auto r =
      RunKizuna({"match", node.dir()},
                "45.81.1.1\n# "
                "comment\n10.1.1.1\n{\"type\":\"ipv4-addr\",\"value\":\"45.81.2.2\"}\n{broken\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json::value> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;  // only matches without --all
  EXPECT_EQ(lines[0].at("value"), "45.81.1.1");
  EXPECT_EQ(lines[1].at("value"), "45.81.2.2");
  EXPECT_NE(r.err.find("4 inputs, 2 matched, 1 not understood"), std::string::npos) << r.err;

  // A MISP warning list from the config, and excluding listed values.
  WriteFile(
      node.dir() + "/ours.json",
      R"({"name":"Our own scanners","type":"cidr","list":["45.81.1.0/24"],"description":"x","version":1})");
  std::string config = ReadFile(node.dir() + "/kizuna.toml");
  config.replace(config.find("warninglists = []"), 17, "warninglists = [\"ours.json\"]");
  config.replace(config.find("exclude_warninglisted = false"), 29, "exclude_warninglisted = true");
  WriteFile(node.dir() + "/kizuna.toml", config);
  r = RunKizuna({"match", node.dir(), "--all"}, "45.81.1.1\n45.81.2.2\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::value first = json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(first.at("matched"), false);
  EXPECT_EQ(first.at("warnings").at(0), "Our own scanners");
  EXPECT_NE(r.out.find("\"matched\":true"), std::string::npos) << "45.81.2.2 still matches";

  WriteFile(node.dir() + "/ours.json", "{\"not\": \"a list\"}");
  r = RunKizuna({"match", node.dir()}, "45.81.2.2\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("warninglists"), std::string::npos) << r.err;
}

// `kizuna match` over plain text: names under private-use and unlisted TLDs
// and internationalized names in either form, with the warning lists.
TEST(MatchCli, RecognisesNamesUnderAnyTldAndInEitherIdnForm) {
  NodeProcess node("CERT-MatchNames");
  TempDir tmp;
  WriteFile(
      tmp.path() + "/feed.json",
      Bundle({PatternIndicator("000000000090", "[domain-name:value = 'intranet.corp']"),
              PatternIndicator("000000000091", "[domain-name:value = 'xn--bcher-kva.example']"),
              PatternIndicator("000000000092", "[email-addr:value = 'it@nas.home.arpa']")}));
  ASSERT_EQ(RunKizuna({"import", node.dir(), tmp.path() + "/feed.json"}).exit_code, 0);
  auto r = RunKizuna({"match", node.dir(), "--all"},
                     "intranet.corp\nHOST.Corp.\nbücher.example\nhxxp://intranet[.]corp/x\n"
                     "IT[at]nas[.]home[.]arpa\nhost.kizunatest\ninvoice.pdf.exe\nv2.0.1\n"
                     "{\"type\":\"domain-name\",\"value\":\"BÜCHER.example\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json::value> lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 9u) << r.out;
  auto matched = [&](size_t i) { return lines[i].at("matched") == true; };
  auto Id = [](const std::string& tail) { return "indicator--00000000-0000-4000-8000-" + tail; };
  EXPECT_TRUE(matched(0)) << r.out;
  EXPECT_EQ(lines[0].at("matches").at(0).at("indicator").as_string(), Id("000000000090"));
  EXPECT_EQ(lines[1].at("value"), "host.corp");
  EXPECT_FALSE(matched(1));
  EXPECT_EQ(lines[2].at("value"), "xn--bcher-kva.example");
  EXPECT_EQ(lines[2].at("matches").at(0).at("indicator").as_string(), Id("000000000091"));
  EXPECT_EQ(lines[3].at("type"), "url");
  EXPECT_EQ(lines[4].at("value"), "it@nas.home.arpa");
  EXPECT_EQ(lines[4].at("matches").at(0).at("indicator").as_string(), Id("000000000092"));
  EXPECT_EQ(lines[5].at("value"), "host.kizunatest");
  EXPECT_TRUE(lines[6].as_object().contains("error"));
  EXPECT_TRUE(lines[7].as_object().contains("error"));
  EXPECT_EQ(lines[8].at("matches").at(0).at("indicator").as_string(), Id("000000000091"));
  EXPECT_NE(lines[0].at("warnings").at(0).as_string().find("Private-use"), std::string::npos);
  EXPECT_NE(r.err.find("9 inputs, 4 matched, 2 not understood"), std::string::npos) << r.err;
}

// `kizuna match` over a log file: the observable picked out of each line
// with --field or --regex, CRLF lines, comments; order kept over many lines.
TEST(MatchCli, MatchesALogFileByFieldOrRegex) {
  NodeProcess node("CERT-MatchLog");
  TempDir tmp;
  WriteFile(
      tmp.path() + "/feed.json",
      Bundle({PatternIndicator("000000000080", "[ipv4-addr:value = '45.83.1.1']"),
              PatternIndicator("000000000081", "[ipv4-addr:value ISSUBSET '45.83.2.0/24']")}));
  ASSERT_EQ(RunKizuna({"import", node.dir(), tmp.path() + "/feed.json"}).exit_code, 0);
  auto values = [](const std::string& out) {
    std::vector<std::string> found;
    size_t start = 0;
    while (start < out.size()) {
      size_t end = out.find('\n', start);
      json::object line = json::parse(out.substr(start, end - start)).as_object();
      found.push_back(line.contains("value")
                          ? std::string(line.at("value").as_string())
                          : "error: " + std::string(line.at("error").as_string()));
      start = end + 1;
    }
    return found;
  };

  const std::string firewall =
      "2026-11-30T10:00:00Z fw1 DROP 45.83.1.1 443\r\n"
      "2026-11-30T10:00:01Z fw1 ALLOW 192.0.2.10 80\r\n"
      "# rotated 2026-11-30\n"
      "2026-11-30T10:00:02Z\tfw1\tDROP\t45.83.2.77\t22\n"
      "truncated line\n";
  auto r = RunKizuna({"match", node.dir(), "--field", "4"}, firewall);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(values(r.out), (std::vector<std::string>{"45.83.1.1", "45.83.2.77"}));
  EXPECT_NE(r.err.find("4 inputs, 2 matched, 1 not understood"), std::string::npos) << r.err;
  r = RunKizuna({"match", node.dir(), "--field", "4", "--all"}, firewall);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(values(r.out), (std::vector<std::string>{"45.83.1.1", "192.0.2.10", "45.83.2.77",
                                                     "error: no field 4 in the line"}));

  const std::string syslog =
      "Nov 30 10:00:00 gw kernel: DROP IN=eth0 SRC=45.83.2.5 DST=192.0.2.1 PROTO=TCP\n"
      "Nov 30 10:00:01 gw sshd[42]: session opened for user root\n"
      "Nov 30 10:00:02 gw kernel: DROP IN=eth0 SRC=45.83.1.1 DST=192.0.2.1 PROTO=UDP\r\n";
  r = RunKizuna({"match", node.dir(), "--regex", R"(SRC=(\S+))"}, syslog);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(values(r.out), (std::vector<std::string>{"45.83.2.5", "45.83.1.1"}));
  EXPECT_NE(r.err.find("3 inputs, 2 matched, 1 not understood"), std::string::npos) << r.err;

  // Mistakes in the options are refused before any matching.
  EXPECT_NE(RunKizuna({"match", node.dir(), "--regex", "(unclosed"}, syslog).exit_code, 0);
  EXPECT_NE(RunKizuna({"match", node.dir(), "--field", "0"}, syslog).exit_code, 0);
  EXPECT_NE(RunKizuna({"match", node.dir(), "--field", "2", "--regex", "(x)"}, syslog).exit_code,
            0);

  // Many lines on two threads: one answer a line, in input order.
  std::string log;
  std::vector<std::string> expected;
  for (int i = 0; i < 60000; ++i) {
    std::string address =
        i % 3 == 0 ? "45.83.2." + std::to_string(i % 256)
                   : "100." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".9";
    log += "host" + std::to_string(i) + " " + address + "\n";
    expected.push_back(address);
  }
  r = RunKizuna({"match", node.dir(), "--field", "2", "--all", "--threads", "2"}, log);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(values(r.out), expected);
  EXPECT_NE(r.err.find("60000 inputs, 20000 matched, 0 not understood"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace kizuna::e2e
