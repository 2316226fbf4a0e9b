#include "correlation/sighting_book.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/time.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::correlation {
namespace {

const std::string kIndicator = "indicator--00000000-0000-4000-8000-000000000001";
const std::string kAlice = "identity--00000000-0000-4000-8000-0000000000a1";
const std::string kBob = "identity--00000000-0000-4000-8000-0000000000b1";

int64_t At(const char* text) { return ParseTimestamp(text).value(); }

store::Change Sighting(int64_t seq, const std::string& id, const std::string& observer, int count,
                       const char* modified, const char* first_seen, const char* last_seen,
                       const std::string& collection = "s") {
  store::Change change;
  change.seq = seq;
  change.collection_id = collection;
  change.object.id = id;
  change.object.type = "sighting";
  change.object.version_us = At(modified);
  change.object.json = R"({"type":"sighting","id":")" + id + R"(","sighting_of_ref":")" +
                       kIndicator + R"(","count":)" + std::to_string(count) + R"(,"first_seen":")" +
                       first_seen + R"(","last_seen":")" + last_seen +
                       R"(","where_sighted_refs":[")" + observer + R"("]})";
  return change;
}

class SightingBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // ctest runs each test in its own process, in parallel: one file each.
    path_ = testing::TempDir() + "/sighting-book-" +
            testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    std::filesystem::remove(path_);
    auto opened = store::OpenSqliteStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove(path_);
  }
  std::string path_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(SightingBookTest, SumsTheNewestVersionOfEachSightingPerObserver) {
  SightingBook book(*store_);
  const std::string s1 = "sighting--00000000-0000-4000-8000-000000000001";
  const std::string s2 = "sighting--00000000-0000-4000-8000-000000000002";
  const std::string s3 = "sighting--00000000-0000-4000-8000-000000000003";
  store::Change name;
  name.seq = 1;
  name.object.id = kAlice;
  name.object.type = "identity";
  name.object.json = R"({"type":"identity","name":"CERT Alice"})";
  book.Apply({name,
              Sighting(2, s1, kAlice, 3, "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z",
                       "2026-11-01T01:00:00Z"),
              // A newer version of s1 counts up: it replaces the first, not adds.
              Sighting(3, s1, kAlice, 5, "2026-11-01T02:00:00Z", "2026-11-01T00:00:00Z",
                       "2026-11-01T02:00:00Z"),
              // An older version arriving late changes nothing.
              Sighting(4, s1, kAlice, 4, "2026-11-01T01:00:00Z", "2026-11-01T00:00:00Z",
                       "2026-11-01T01:30:00Z"),
              Sighting(5, s2, kAlice, 2, "2026-11-02T00:00:00Z", "2026-11-02T00:00:00Z",
                       "2026-11-02T03:00:00Z"),
              // The same sighting held in a second collection counts once.
              Sighting(6, s2, kAlice, 2, "2026-11-02T00:00:00Z", "2026-11-02T00:00:00Z",
                       "2026-11-02T03:00:00Z", "other"),
              Sighting(7, s3, kBob, 1, "2026-10-30T00:00:00Z", "2026-10-30T00:00:00Z",
                       "2026-10-30T00:00:00Z")});
  std::vector<SightedBy> by = book.Of(kIndicator);
  ASSERT_EQ(by.size(), 2u);
  EXPECT_EQ(by[0].observer, kAlice);
  EXPECT_EQ(by[0].name, "CERT Alice");
  EXPECT_EQ(by[0].count, 7);
  EXPECT_EQ(by[0].sightings, 2u);
  EXPECT_EQ(by[0].via, std::vector<std::string>{""});
  EXPECT_EQ(by[0].first_seen_us, At("2026-11-01T00:00:00Z"));
  EXPECT_EQ(by[0].last_seen_us, At("2026-11-02T03:00:00Z"));
  EXPECT_EQ(by[1].observer, kBob);
  EXPECT_EQ(by[1].name, "");
  EXPECT_EQ(by[1].count, 1);
  EXPECT_TRUE(book.Of("indicator--00000000-0000-4000-8000-000000000009").empty());

  // The filter decides per sighting.
  auto only_other = [](const std::string& collection, const store::StoredObject&) {
    return collection == "other";
  };
  by = book.Of(kIndicator, only_other);
  ASSERT_EQ(by.size(), 1u);
  EXPECT_EQ(by[0].count, 2);

  // A deleted sighting (its newest version, and nothing left in the store)
  // stops counting.
  store::Change gone;
  gone.seq = 8;
  gone.kind = store::Change::Kind::kDeleted;
  gone.collection_id = "s";
  gone.object.id = s3;
  gone.object.type = "sighting";
  gone.object.version_us = At("2026-10-30T00:00:00Z");
  book.Apply({gone});
  by = book.Of(kIndicator);
  ASSERT_EQ(by.size(), 1u);
  EXPECT_EQ(by[0].observer, kAlice);
}

TEST_F(SightingBookTest, WhatIsNotASightingOfAnIndicatorIsIgnored) {
  SightingBook book(*store_);
  store::Change bad =
      Sighting(1, "sighting--00000000-0000-4000-8000-000000000001", kAlice, 1,
               "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z");
  bad.object.json = "{not json";
  store::Change other = bad;
  other.object.json = R"({"type":"sighting","sighting_of_ref":"malware--1"})";
  book.Apply({bad, other});
  EXPECT_TRUE(book.Of(kIndicator).empty());
  EXPECT_TRUE(book.Of("malware--1").empty());
}

}  // namespace
}  // namespace kizuna::correlation
