#include "taxii/taxii.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>

#include "store/sqlite/sqlite_store.h"
#include "taxii/visible_versions.h"

namespace kizuna::taxii {
namespace {

TEST(Negotiation, AcceptsTaxii21WithOrWithoutVersion) {
  EXPECT_EQ(NegotiateAccept("application/taxii+json;version=2.1"), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("application/taxii+json"), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("application/taxii+json; version=\"2.1\""), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept(""), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("*/*"), kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("text/html, application/taxii+json;version=2.1;q=0.9"),
            kTaxiiMediaType);
  EXPECT_EQ(NegotiateAccept("application/stix+json;version=2.1"),
            std::string("application/stix+json;version=2.1"));
}

TEST(Negotiation, RejectsOtherVersionsAndTypes) {
  EXPECT_FALSE(NegotiateAccept("application/taxii+json;version=2.0").has_value());
  EXPECT_FALSE(NegotiateAccept("application/json").has_value());
  EXPECT_FALSE(NegotiateAccept("text/html").has_value());
  EXPECT_FALSE(NegotiateAccept("application/vnd.oasis.taxii+json; version=2.0").has_value());
}

TEST(Negotiation, ContentTypeOfPosts) {
  EXPECT_TRUE(IsAcceptableContentType("application/taxii+json;version=2.1"));
  EXPECT_TRUE(IsAcceptableContentType("application/taxii+json"));
  EXPECT_TRUE(IsAcceptableContentType("application/stix+json;version=2.1"));
  EXPECT_FALSE(IsAcceptableContentType("application/taxii+json;version=2.0"));
  EXPECT_FALSE(IsAcceptableContentType("application/json"));
  EXPECT_FALSE(IsAcceptableContentType(""));
}

TEST(TaxiiTimestamp, MillisecondsWhenExact) {
  EXPECT_EQ(TaxiiTimestamp(1000), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(TaxiiTimestamp(1001), "1970-01-01T00:00:00.001001Z");
}

// A reader's scope (the sharing policy) applies to every read, and paging
// stays exact when versions are withheld: `next` continues after the last
// version scanned, nothing visible is skipped or repeated.
TEST(ReadScope, WithheldVersionsNeverShowAndPagingStaysExact) {
  std::string path = testing::TempDir() + "/taxii-scope-test.db";
  std::filesystem::remove(path);
  auto opened = store::OpenSqliteStore(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store::Store& store = **opened;
  ASSERT_TRUE(store
                  .CreateCollection({.id = "c0000000-0000-4000-8000-000000000001",
                                     .title = "t",
                                     .description = "",
                                     .alias = "default"})
                  .ok());
  const char* kRed = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
  boost::json::array objects;
  for (int i = 0; i < 9; ++i) {
    boost::json::object o;
    o["type"] = "indicator";
    o["spec_version"] = "2.1";
    o["id"] = "indicator--00000000-0000-4000-8000-00000000000" + std::to_string(i);
    o["created"] = "2026-01-01T00:00:00.000Z";
    o["modified"] = "2026-01-01T00:00:00.000Z";
    o["pattern"] = "[ipv4-addr:value = '10.0.0." + std::to_string(i) + "']";
    o["pattern_type"] = "stix";
    o["valid_from"] = "2026-01-01T00:00:00Z";
    if (i % 3 == 0) o["object_marking_refs"] = boost::json::array{boost::json::value(kRed)};
    objects.push_back(o);
  }
  auto ingested = IngestObjects(store, "c0000000-0000-4000-8000-000000000001", objects, 1, {});
  ASSERT_TRUE(ingested.ok());
  ASSERT_EQ(ingested->successes.size(), 9u);

  TaxiiOptions options;
  options.read_policy = [](const store::User& user, const store::Collection&) {
    ReadScope scope;
    if (user.name == "partner") {
      scope.admits = [](const store::StoredObject& o) { return o.tlp != stix::Tlp::kRed; };
    }
    return scope;
  };
  TaxiiService service(store, options);
  store::User partner{
      .id = 2, .name = "partner", .org_id = 2, .org_name = "B", .role = store::Role::kAdmin};
  auto get = [&](const std::string& target) {
    http::Request request;
    request.method = "GET";
    request.path = target.substr(0, target.find('?'));
    request.target = target;
    if (target.find('?') != std::string::npos) {
      std::string query = target.substr(target.find('?') + 1);
      for (size_t start = 0; start < query.size();) {
        size_t end = std::min(query.find('&', start), query.size());
        std::string part = query.substr(start, end - start);
        size_t eq = part.find('=');
        request.query.emplace_back(part.substr(0, eq), part.substr(eq + 1));
        start = end + 1;
      }
    }
    return service.Handle(request, partner);
  };
  const std::string objects_url = "/taxii2/root/collections/default/objects/";
  std::vector<std::string> seen;
  std::string next;
  for (int pages = 0; pages < 10; ++pages) {
    http::Response response = get(objects_url + (next.empty() ? "?limit=2" : "?next=" + next));
    ASSERT_EQ(response.status, 200) << response.body;
    if (response.body == "{}") break;
    boost::json::object page = boost::json::parse(response.body).as_object();
    if (page.contains("objects")) {
      for (const auto& o : page["objects"].as_array()) {
        std::string id(o.as_object().at("id").as_string());
        EXPECT_EQ(o.as_object().count("object_marking_refs"), 0u) << "a RED object leaked: " << id;
        seen.push_back(id);
      }
    }
    if (!page["more"].as_bool()) break;
    next = std::string(page["next"].as_string());
    // Limit is not repeated: the `next` token alone continues the paging.
    next += "&limit=2";
  }
  EXPECT_EQ(seen.size(), 6u);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "nothing repeated";

  EXPECT_EQ(get(objects_url + "indicator--00000000-0000-4000-8000-000000000000/").status, 404);
  EXPECT_EQ(get(objects_url + "indicator--00000000-0000-4000-8000-000000000000/versions/").status,
            404);
  EXPECT_EQ(get(objects_url + "indicator--00000000-0000-4000-8000-000000000001/").status, 200);
  // No existence oracle: a version filter on a withheld object is a 404 too.
  EXPECT_EQ(get(objects_url + "indicator--00000000-0000-4000-8000-000000000000/"
                              "?match[version]=1990-01-01T00:00:00Z")
                .status,
            404);
  // A withheld object can neither be deleted nor be told apart from none.
  {
    http::Request del;
    del.method = "DELETE";
    del.path = objects_url + "indicator--00000000-0000-4000-8000-000000000000/";
    del.target = del.path;
    EXPECT_EQ(service.Handle(del, partner).status, 404);
    EXPECT_EQ(store.CountObjects("c0000000-0000-4000-8000-000000000001").value(), 9);
  }
  http::Response manifest = get("/taxii2/root/collections/default/manifest/");
  EXPECT_EQ(manifest.body.find("000000000000\""), std::string::npos) << manifest.body;
  EXPECT_NE(manifest.body.find("000000000001\""), std::string::npos) << manifest.body;
  opened->reset();
  std::filesystem::remove(path);
}

// match[version] chooses among the visible versions (their bounds).
TEST(VisibleVersions, FirstAndLastAreTheVisibleBounds) {
  VersionBounds bounds;
  for (int64_t v : {20, 10, 30}) bounds.Add(v);
  store::ObjectQuery none;  // the default: last
  EXPECT_TRUE(SelectsByExtremes(none));
  EXPECT_TRUE(SelectsVersion(none, 30, bounds));
  EXPECT_FALSE(SelectsVersion(none, 20, bounds));
  store::ObjectQuery first;
  first.version_first = true;
  EXPECT_TRUE(SelectsVersion(first, 10, bounds));
  EXPECT_FALSE(SelectsVersion(first, 30, bounds));
  store::ObjectQuery explicit_and_last;
  explicit_and_last.version_last = true;
  explicit_and_last.versions = {20};
  EXPECT_TRUE(SelectsVersion(explicit_and_last, 20, bounds));
  EXPECT_TRUE(SelectsVersion(explicit_and_last, 30, bounds));
  EXPECT_FALSE(SelectsVersion(explicit_and_last, 10, bounds));
  store::ObjectQuery only_explicit;
  only_explicit.versions = {20};
  EXPECT_FALSE(SelectsByExtremes(only_explicit));
  EXPECT_FALSE(SelectsVersion(only_explicit, 30, bounds));
  store::ObjectQuery all;
  all.version_all = true;
  all.version_first = true;
  EXPECT_FALSE(SelectsByExtremes(all));
  EXPECT_TRUE(SelectsVersion(all, 20, bounds));
}

}  // namespace
}  // namespace kizuna::taxii
