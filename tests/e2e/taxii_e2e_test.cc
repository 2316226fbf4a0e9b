// TAXII 2.1 over HTTP against a real `kizuna serve`: every endpoint, filter,
// paging rule, header and error path, plus durability across kill -9.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "common/encoding.h"
#include "tests/e2e/harness.h"

namespace kizuna::e2e {
namespace {

namespace json = boost::json;

const std::string kRoot = "/taxii2/root/";

json::value Parse(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << body.substr(0, 300);
  return v;
}

std::string Indicator(const std::string& uuid_tail, const std::string& modified,
                      const std::string& extra = "") {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-)" +
         uuid_tail + R"(","created":"2024-01-01T00:00:00.000Z","modified":")" + modified +
         R"(","name":"bad ip","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z")" +
         extra + "}";
}

class TaxiiE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_ = new NodeProcess("CERT-E2E");
    std::string error;
    ASSERT_TRUE(node_->Start(&error)) << error;
    default_collection_ = FindDefaultCollection();
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  static std::string FindDefaultCollection() {
    auto r = node_->Get(kRoot + "collections/");
    json::value v = Parse(r.body);
    for (const auto& c : v.at("collections").as_array()) {
      if (c.as_object().contains("alias") && c.at("alias") == "default") {
        return std::string(c.at("id").as_string());
      }
    }
    return {};
  }
  std::string Objects() { return kRoot + "collections/" + default_collection_ + "/objects/"; }
  std::string NewCollection(const std::string& alias) {
    auto r = RunKizuna({"collection", "add", node_->dir(), "--title", alias, "--alias", alias});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.LastLine();
  }

  static NodeProcess* node_;
  static std::string default_collection_;
};
NodeProcess* TaxiiE2E::node_ = nullptr;
std::string TaxiiE2E::default_collection_;

TEST_F(TaxiiE2E, DiscoveryAndApiRoot) {
  auto r = node_->Get("/taxii2/");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/taxii+json;version=2.1");
  json::value v = Parse(r.body);
  EXPECT_EQ(v.at("default").as_string(), node_->Url(kRoot));
  EXPECT_EQ(v.at("api_roots").as_array().at(0).as_string(), node_->Url(kRoot));
  r = node_->Get(kRoot);
  ASSERT_EQ(r.status, 200);
  v = Parse(r.body);
  EXPECT_EQ(v.at("versions").as_array().at(0).as_string(), "application/taxii+json;version=2.1");
  EXPECT_GT(v.at("max_content_length").to_number<int64_t>(), 0);
}

TEST_F(TaxiiE2E, CollectionsShowRights) {
  ASSERT_FALSE(default_collection_.empty());
  auto r = node_->Get(kRoot + "collections/" + default_collection_ + "/");
  ASSERT_EQ(r.status, 200);
  json::value v = Parse(r.body);
  EXPECT_EQ(v.at("can_read"), true);
  EXPECT_EQ(v.at("can_write"), true);
  EXPECT_EQ(v.at("media_types").as_array().at(0).as_string(), "application/stix+json;version=2.1");
}

TEST_F(TaxiiE2E, AuthenticationIsRequiredEverywhere) {
  for (const char* path :
       {"/taxii2/", "/taxii2/root/", "/taxii2/root/collections/", "/api/v1/whoami"}) {
    auto r = node_->Request("GET", path, "");
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_FALSE(r.headers.Get("WWW-Authenticate").empty());
    EXPECT_EQ(Parse(r.body).at("http_status"), "401");
    r = node_->Request("GET", path, "kz_0000000000000000_wrongwrongwrongwrongwrong");
    EXPECT_EQ(r.status, 401) << path;
  }
  // HTTP Basic with the key as password (what taxii2-client sends).
  http::Client client;
  http::Headers h;
  h.Set("Authorization", "Basic " + Base64Encode("anyone:" + node_->admin_key()));
  auto r = client.Send("GET", node_->Url("/taxii2/"), h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST_F(TaxiiE2E, UnknownEndpointsAndMissingSlash) {
  EXPECT_EQ(node_->Get("/nothing/here/").status, 404);
  EXPECT_EQ(node_->Get("/taxii2/nosuchroot/").status, 404);
  EXPECT_EQ(node_->Get("/taxii2/root/collections").status, 404);
  EXPECT_EQ(node_->Get(kRoot + "collections/00000000-0000-4000-8000-000000000000/").status, 404);
  EXPECT_EQ(node_->Get(kRoot + "status/00000000-0000-4000-8000-000000000000/").status, 404);
  EXPECT_EQ(node_->Request("PUT", kRoot, node_->admin_key()).status, 405);
}

TEST_F(TaxiiE2E, ContentNegotiation) {
  auto r =
      node_->Request("GET", kRoot, node_->admin_key(), "", {{"Accept", "application/taxii+json"}});
  EXPECT_EQ(r.status, 200) << "no version parameter means 2.1";
  r = node_->Request("GET", kRoot, node_->admin_key(), "",
                     {{"Accept", "application/taxii+json;version=2.0"}});
  EXPECT_EQ(r.status, 406);
  r = node_->Request("GET", kRoot, node_->admin_key(), "", {{"Accept", "text/html"}});
  EXPECT_EQ(r.status, 406);
  r = node_->Request("POST", Objects(), node_->admin_key(),
                     Envelope({Indicator("000000000001", "2024-01-01T00:00:00.000Z")}),
                     {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 415);
}

TEST_F(TaxiiE2E, AddGetAndStatus) {
  std::string c = NewCollection("addget");
  std::string objects = kRoot + "collections/" + c + "/objects/";
  auto r = node_->Post(objects, Envelope({Indicator("000000000010", "2024-01-01T00:00:00.000Z"),
                                          Indicator("000000000011", "2024-01-01T00:00:00.000Z")}));
  ASSERT_EQ(r.status, 202) << r.body;
  json::value status = Parse(r.body);
  EXPECT_EQ(status.at("status"), "complete");
  EXPECT_EQ(status.at("success_count").to_number<int>(), 2);
  EXPECT_EQ(status.at("failure_count").to_number<int>(), 0);
  std::string status_id(status.at("id").as_string());

  r = node_->Get(kRoot + "status/" + status_id + "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Parse(r.body).at("total_count").to_number<int>(), 2);

  // Another (non-admin) user cannot see someone else's status.
  std::string other = node_->AddUser("CERT-Other", "bob");
  EXPECT_EQ(node_->Request("GET", kRoot + "status/" + status_id + "/", other).status, 404);

  r = node_->Get(objects);
  ASSERT_EQ(r.status, 200);
  json::value v = Parse(r.body);
  EXPECT_EQ(v.at("objects").as_array().size(), 2u);
  EXPECT_EQ(v.at("more"), false);
  EXPECT_FALSE(r.headers.Get("X-TAXII-Date-Added-First").empty());
  EXPECT_FALSE(r.headers.Get("X-TAXII-Date-Added-Last").empty());
  EXPECT_LE(r.headers.Get("X-TAXII-Date-Added-First"), r.headers.Get("X-TAXII-Date-Added-Last"));

  // Posting the same object again is not an error.
  r = node_->Post(objects, Envelope({Indicator("000000000010", "2024-01-01T00:00:00.000Z")}));
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(Parse(r.body).at("success_count").to_number<int>(), 1);
  EXPECT_EQ(Parse(node_->Get(objects).body).at("objects").as_array().size(), 2u);

  // Get Object.
  r = node_->Get(objects + "indicator--00000000-0000-4000-8000-000000000010/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Parse(r.body).at("objects").as_array().size(), 1u);
  EXPECT_FALSE(r.headers.Get("X-TAXII-Date-Added-First").empty());
  EXPECT_EQ(node_->Get(objects + "indicator--00000000-0000-4000-8000-999999999999/").status, 404);
}

TEST_F(TaxiiE2E, EmptyResultIsAnEmptyEnvelope) {
  std::string c = NewCollection("empty");
  auto r = node_->Get(kRoot + "collections/" + c + "/objects/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  r = node_->Get(kRoot + "collections/" + c + "/manifest/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
}

TEST_F(TaxiiE2E, VersionsFiltersManifestAndDelete) {
  std::string c = NewCollection("versions");
  std::string objects = kRoot + "collections/" + c + "/objects/";
  std::vector<std::string> batch;
  for (const char* m :
       {"2024-01-02T00:00:00.000Z", "2024-01-01T00:00:00.000Z", "2024-01-03T00:00:00.000Z"}) {
    batch.push_back(Indicator("000000000020", m));
  }
  batch.push_back(
      R"({"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000021","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Mirai","is_family":true})");
  auto r = node_->Post(objects, Envelope(batch));
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_EQ(Parse(r.body).at("success_count").to_number<int>(), 4) << r.body;
  const std::string id = "indicator--00000000-0000-4000-8000-000000000020";

  auto modified_of = [](const json::value& envelope) {
    std::vector<std::string> out;
    if (!envelope.as_object().contains("objects")) return out;
    for (const auto& o : envelope.at("objects").as_array()) {
      out.emplace_back(o.at("modified").as_string());
    }
    return out;
  };
  // Default: last version only.
  EXPECT_EQ(modified_of(Parse(node_->Get(objects + id + "/").body)),
            std::vector<std::string>{"2024-01-03T00:00:00.000Z"});
  EXPECT_EQ(modified_of(Parse(node_->Get(objects + id + "/?match[version]=first").body)),
            std::vector<std::string>{"2024-01-01T00:00:00.000Z"});
  EXPECT_EQ(modified_of(Parse(node_->Get(objects + id + "/?match[version]=all").body)).size(), 3u);
  EXPECT_EQ(modified_of(
                Parse(node_->Get(objects + id + "/?match[version]=2024-01-02T00:00:00.000Z").body)),
            std::vector<std::string>{"2024-01-02T00:00:00.000Z"});
  EXPECT_EQ(
      modified_of(Parse(node_->Get(objects + id + "/?match[version]=first,last").body)).size(), 2u);
  EXPECT_EQ(node_->Get(objects + id + "/?match[version]=yesterday").status, 400);

  // Type and id filters; fields ANDed, values ORed; percent-encoded brackets too.
  auto count = [&](const std::string& query) {
    json::value v = Parse(node_->Get(objects + query).body);
    return v.as_object().contains("objects") ? v.at("objects").as_array().size() : 0u;
  };
  EXPECT_EQ(count("?match[type]=malware"), 1u);
  EXPECT_EQ(count("?match%5Btype%5D=malware"), 1u);
  EXPECT_EQ(count("?match[type]=malware,indicator"), 2u);
  EXPECT_EQ(count("?match[type]=indicator&match[version]=all"), 3u);
  EXPECT_EQ(count("?match[type]=malware&match[id]=" + id), 0u);
  EXPECT_EQ(count("?match[id]=" + id + ",malware--00000000-0000-4000-8000-000000000021"), 2u);
  EXPECT_EQ(count("?match[spec_version]=2.1"), 2u);
  EXPECT_EQ(node_->Get(objects + "?match[spec_version]=9.9").status, 400);
  EXPECT_EQ(node_->Get(objects + "?added_after=notatime").status, 400);
  EXPECT_EQ(node_->Get(objects + "?limit=0").status, 400);
  EXPECT_EQ(node_->Get(objects + "?next=garbage").status, 400);

  // Versions endpoint.
  r = node_->Get(objects + id + "/versions/");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value versions = Parse(r.body);
  EXPECT_EQ(versions.at("versions").as_array().size(), 3u);
  EXPECT_FALSE(r.headers.Get("X-TAXII-Date-Added-Last").empty());
  EXPECT_EQ(
      node_->Get(objects + "indicator--00000000-0000-4000-8000-999999999999/versions/").status,
      404);

  // Manifest.
  r = node_->Get(kRoot + "collections/" + c + "/manifest/?match[version]=all");
  ASSERT_EQ(r.status, 200);
  json::value manifest = Parse(r.body);
  ASSERT_EQ(manifest.at("objects").as_array().size(), 4u);
  const auto& entry = manifest.at("objects").as_array().at(0).as_object();
  for (const char* key : {"id", "date_added", "version", "media_type"})
    EXPECT_TRUE(entry.contains(key)) << key;
  EXPECT_EQ(entry.at("media_type"), "application/stix+json;version=2.1");
  EXPECT_FALSE(r.headers.Get("X-TAXII-Date-Added-First").empty());

  // added_after: the header of one response is a cursor for the next.
  std::string last_added(r.headers.Get("X-TAXII-Date-Added-Last"));
  EXPECT_EQ(count("?added_after=" + last_added), 0u);
  EXPECT_EQ(count("?added_after=2000-01-01T00:00:00Z"), 2u);

  // Delete one version, then the rest.
  r = node_->Request("DELETE", objects + id + "/?match[version]=2024-01-03T00:00:00.000Z",
                     node_->admin_key());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(modified_of(Parse(node_->Get(objects + id + "/").body)),
            std::vector<std::string>{"2024-01-02T00:00:00.000Z"});
  // Without match[version], the default (last) applies.
  r = node_->Request("DELETE", objects + id + "/", node_->admin_key());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(modified_of(Parse(node_->Get(objects + id + "/").body)),
            std::vector<std::string>{"2024-01-01T00:00:00.000Z"});
  r = node_->Request("DELETE", objects + id + "/?match[version]=all", node_->admin_key());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(node_->Get(objects + id + "/").status, 404);
  EXPECT_EQ(node_->Request("DELETE", objects + id + "/", node_->admin_key()).status, 404);
}

TEST_F(TaxiiE2E, PagingNeverSkipsOrRepeatsAndSurvivesNewObjects) {
  std::string c = NewCollection("paging");
  std::string objects = kRoot + "collections/" + c + "/objects/";
  std::vector<std::string> batch;
  char tail[16];
  for (int i = 0; i < 25; ++i) {
    std::snprintf(tail, sizeof tail, "%012d", 100 + i);
    batch.push_back(Indicator(tail, "2024-01-01T00:00:00.000Z"));
  }
  ASSERT_EQ(node_->Post(objects, Envelope(batch)).status, 202);
  std::set<std::string> seen;
  std::string next;
  int pages = 0;
  bool added_midway = false;
  while (true) {
    auto r = node_->Get(objects + "?match[type]=indicator&limit=4" +
                        (next.empty() ? "" : "&next=" + next));
    ASSERT_EQ(r.status, 200) << r.body;
    json::value v = Parse(r.body);
    for (const auto& o : v.at("objects").as_array()) {
      EXPECT_TRUE(seen.insert(std::string(o.at("id").as_string())).second) << "repeated";
    }
    ++pages;
    if (!added_midway) {
      // Objects added while paging arrive on later pages.
      added_midway = true;
      ASSERT_EQ(
          node_->Post(objects, Envelope({Indicator("000000000999", "2024-01-01T00:00:00.000Z")}))
              .status,
          202);
    }
    if (!v.at("more").as_bool()) {
      EXPECT_FALSE(v.as_object().contains("next"));
      break;
    }
    next = std::string(v.at("next").as_string());
    ASSERT_LT(pages, 20);
  }
  EXPECT_EQ(seen.size(), 26u);
  EXPECT_EQ(pages, 7);
  // A server-side page limit applies when the client asks for more.
  auto r = node_->Get(objects + "?limit=100000");
  EXPECT_EQ(r.status, 200);
}

TEST_F(TaxiiE2E, BadInputGetsClearErrorsAndChangesNothing) {
  std::string c = NewCollection("badinput");
  std::string objects = kRoot + "collections/" + c + "/objects/";
  auto r = node_->Post(objects, R"({"objects": [ {"type": "indicator",, } ]})");
  ASSERT_EQ(r.status, 400);
  json::value error = Parse(r.body);
  EXPECT_NE(std::string(error.at("description").as_string()).find("byte"), std::string::npos)
      << r.body;
  EXPECT_EQ(error.at("http_status"), "400");
  EXPECT_EQ(node_->Post(objects, "[1,2,3]").status, 422);
  EXPECT_EQ(node_->Post(objects, R"({"objects": 5})").status, 422);
  std::string deep(100000, '[');
  EXPECT_EQ(node_->Post(objects, deep).status, 400);
  EXPECT_EQ(node_->Get(objects).body, "{}");

  // Mixed valid and invalid objects: the valid ones are stored, each invalid one reported.
  r = node_->Post(
      objects,
      Envelope(
          {Indicator("000000000030", "2024-01-01T00:00:00.000Z"),
           R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000031","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})",
           "42"}));
  ASSERT_EQ(r.status, 202) << r.body;
  json::value status = Parse(r.body);
  EXPECT_EQ(status.at("success_count").to_number<int>(), 1);
  EXPECT_EQ(status.at("failure_count").to_number<int>(), 2);
  const auto& failure = status.at("failures").as_array().at(0).as_object();
  EXPECT_EQ(failure.at("id"), "indicator--00000000-0000-4000-8000-000000000031");
  EXPECT_NE(std::string(failure.at("message").as_string()).find("pattern"), std::string::npos);
  EXPECT_EQ(Parse(node_->Get(objects).body).at("objects").as_array().size(), 1u);
}

TEST_F(TaxiiE2E, ReadAndWriteRightsAreEnforced) {
  std::string c = NewCollection("private");
  std::string objects = kRoot + "collections/" + c + "/objects/";
  std::string key = node_->AddUser("CERT-Partner", "carol");
  // No grant on the new collection: not listed, and answered like a missing
  // one (404, the same body).
  json::value list = Parse(node_->Request("GET", kRoot + "collections/", key).body);
  for (const auto& coll : list.at("collections").as_array())
    EXPECT_NE(coll.at("id").as_string(), c);
  auto hidden = node_->Request("GET", objects, key);
  auto missing = node_->Request("GET", kRoot + "collections/no-such-collection/objects/", key);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(missing.status, 404);
  std::string body = hidden.body;
  body.replace(body.find(c), c.size(), "no-such-collection");
  EXPECT_EQ(body, missing.body);
  // Read-only grant: reads work, writes are forbidden.
  auto g = RunKizuna({"collection", "grant", node_->dir(), c, "--org", "CERT-Partner", "--read"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(node_->Request("GET", objects, key).status, 200);
  EXPECT_EQ(node_
                ->Request("POST", objects, key,
                          Envelope({Indicator("000000000040", "2024-01-01T00:00:00.000Z")}))
                .status,
            403);
  // Admin endpoints are for admins.
  EXPECT_EQ(node_->Request("GET", "/api/v1/users", key).status, 403);
  EXPECT_EQ(node_->Request("GET", "/api/v1/whoami", key).status, 200);
}

TEST_F(TaxiiE2E, OfficialExamplesRoundTrip) {
  std::string c = NewCollection("examples");
  std::string objects = kRoot + "collections/" + c + "/objects/";
  std::string bundle =
      ReadFile(std::string(KIZUNA_SHARED_DATA) + "/stix21-examples/threat-reports/apt1.json");
  ASSERT_FALSE(bundle.empty());
  json::value v = Parse(bundle);
  size_t n = v.at("objects").as_array().size();
  auto r = node_->Post(objects, bundle);  // a bundle is accepted like an envelope
  ASSERT_EQ(r.status, 202) << r.body;
  json::value status = Parse(r.body);
  EXPECT_EQ(status.at("failure_count").to_number<size_t>(), 0u) << r.body.substr(0, 2000);
  EXPECT_EQ(status.at("success_count").to_number<size_t>(), n);
  json::value got = Parse(node_->Get(objects + "?limit=1000").body);
  EXPECT_EQ(got.at("objects").as_array().size(), n);
}

// Runs last-ish: restarts the shared node.
TEST(TaxiiDurability, AcknowledgedObjectsSurviveKill9AndNextTokensSurviveRestart) {
  NodeProcess node("CERT-Durable");
  std::string error;
  ASSERT_TRUE(node.Start(&error)) << error;
  json::value list = Parse(node.Get(kRoot + "collections/").body);
  std::string c(list.at("collections").as_array().at(0).at("id").as_string());
  std::string objects = kRoot + "collections/" + c + "/objects/";
  std::vector<std::string> batch;
  char tail[16];
  for (int i = 0; i < 50; ++i) {
    std::snprintf(tail, sizeof tail, "%012d", 500 + i);
    batch.push_back(Indicator(tail, "2024-01-01T00:00:00.000Z"));
  }
  auto r = node.Post(objects, Envelope(batch));
  ASSERT_EQ(r.status, 202);
  ASSERT_EQ(Parse(r.body).at("success_count").to_number<int>(), 50);
  r = node.Get(objects + "?limit=10");
  std::string next(Parse(r.body).at("next").as_string());
  node.Kill();
  ASSERT_TRUE(node.Start(&error)) << error;
  r = node.Get(objects + "?limit=1000");
  EXPECT_EQ(Parse(r.body).at("objects").as_array().size(), 50u);
  r = node.Get(objects + "?limit=1000&next=" + next);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Parse(r.body).at("objects").as_array().size(), 40u);
}

}  // namespace
}  // namespace kizuna::e2e
