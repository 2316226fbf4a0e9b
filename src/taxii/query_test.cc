#include "taxii/query.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace kizuna::taxii {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kKey = "node key for tests";

TEST(Query, ParsesEveryFilter) {
  store::ObjectQuery query;
  auto error = ParseQuery({{"match[type]", "indicator, malware"},
                           {"match[id]", "indicator--1"},
                           {"match[spec_version]", "2.1"},
                           {"match[version]", "first,2024-03-01T12:00:00.5Z"},
                           {"added_after", "2024-01-01T00:00:00Z"},
                           {"limit", "5000"},
                           {"next", EncodeNext(42, kKey)},
                           {"unknown", "ignored"}},
                          100, 1000, true, &query, kKey);
  ASSERT_FALSE(error.has_value()) << error->description;
  EXPECT_EQ(query.types, (std::vector<std::string>{"indicator", "malware"}));
  EXPECT_EQ(query.ids, (std::vector<std::string>{"indicator--1"}));
  EXPECT_EQ(query.spec_versions, (std::vector<std::string>{"2.1"}));
  EXPECT_TRUE(query.version_first);
  EXPECT_EQ(query.versions, (std::vector<int64_t>{1709294400500000}));
  EXPECT_EQ(query.added_after_us, 1704067200000000);
  EXPECT_EQ(query.limit, 1000u);  // capped at max_page_size
  EXPECT_EQ(query.after_date_added_us, 42);
}

TEST(Query, DefaultPageSize) {
  store::ObjectQuery query;
  EXPECT_FALSE(ParseQuery({}, 100, 1000, true, &query, kKey).has_value());
  EXPECT_EQ(query.limit, 100u);
}

TEST(Query, RefusesBadParameters) {
  const std::pair<Params, std::string> cases[] = {
      {{{"limit", "0"}}, "Invalid limit"},
      {{{"limit", "-1"}}, "Invalid limit"},
      {{{"limit", "10x"}}, "Invalid limit"},
      {{{"added_after", "yesterday"}}, "Invalid added_after"},
      {{{"next", "bm90IG91cnM"}}, "Invalid next"},
      {{{"match[spec_version]", "2.1,3.0"}}, "Invalid match[spec_version]"},
      {{{"match[version]", "newest"}}, "Invalid match[version]"},
      {{{"match[foo]", "x"}}, "Unsupported filter"},
  };
  for (const auto& [params, title] : cases) {
    store::ObjectQuery query;
    auto error = ParseQuery(params, 100, 1000, true, &query, kKey);
    ASSERT_TRUE(error.has_value()) << params[0].first << "=" << params[0].second;
    EXPECT_EQ(error->title, title);
  }
}

TEST(Query, IdAndTypeOnlyWhereAllowed) {
  store::ObjectQuery query;
  auto error = ParseQuery({{"match[type]", "indicator"}}, 100, 1000, false, &query, kKey);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->title, "Unsupported filter");
}

TEST(Query, NextTokensRoundTrip) {
  for (int64_t date_added : {int64_t{0}, int64_t{1704067200123456}, INT64_MAX}) {
    EXPECT_EQ(DecodeNext(EncodeNext(date_added, kKey), kKey), date_added);
  }
  EXPECT_FALSE(DecodeNext("", kKey).has_value());
  EXPECT_FALSE(DecodeNext("ZGE6", kKey).has_value());
  EXPECT_FALSE(DecodeNext(Base64UrlEncode("da:1"), kKey).has_value());  // the old readable form
  EXPECT_FALSE(DecodeNext(EncodeNext(1, kKey) + "=", kKey).has_value());
}

TEST(Query, NextTokensAreOpaqueAndBoundToTheNode) {
  const std::string token = EncodeNext(1704067200123456, kKey);
  // No date to read: two tokens for the same position differ, and neither
  // holds its digits.
  EXPECT_NE(token, EncodeNext(1704067200123456, kKey));
  auto raw = Base64UrlDecode(token);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->find("1704067200"), std::string::npos);
  // Another node's token, or a flipped bit, is refused.
  EXPECT_FALSE(DecodeNext(token, "another node").has_value());
  std::string flipped = *raw;
  flipped[flipped.size() - 1] ^= 1;
  EXPECT_FALSE(DecodeNext(Base64UrlEncode(flipped), kKey).has_value());
}

}  // namespace
}  // namespace kizuna::taxii
