// Correlator over a real SQLite store: what a caller may see decides what it
// is told. Many indicators on one value that the caller may not see (its
// MatchFilter refuses them) neither hide the ones it may see nor make the
// answer `truncated` (an existence oracle); more visible matches than
// max_results still are.
#include "correlation/correlator.h"
#include "correlation/indicator_ids_test_util.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "stix/stix.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

class CorrelatorTest : public ::testing::Test {
 protected:
  static CorrelatorOptions Options(size_t max_results) {
    CorrelatorOptions options;
    options.max_results = max_results;
    return options;
  }

  void SetUp() override {
    path_ = testing::TempDir() + "/correlator-test-" +
            testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    auto opened = store::OpenSqliteStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    collection_.id = "6a1a9c1e-5f0e-4c7e-9c55-3b1e2a1c0001";
    collection_.title = "test";
    ASSERT_TRUE(store_->CreateCollection(collection_).ok());
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }

  // Stores indicators first..last (ids TestIndicatorId(n)), each `[ipv4-addr:value = address]`.
  void AddIndicators(int first, int last, const std::string& address) {
    std::vector<store::NewObject> batch;
    for (int n = first; n <= last; ++n) {
      json::object o{{"type", "indicator"},
                     {"spec_version", "2.1"},
                     {"id", TestIndicatorId(n)},
                     {"created", "2024-03-01T10:00:00.000Z"},
                     {"modified", "2024-03-01T10:00:00.000Z"},
                     {"name", "indicator " + std::to_string(n)},
                     {"pattern", "[ipv4-addr:value = '" + address + "']"},
                     {"pattern_type", "stix"},
                     {"valid_from", "2024-03-01T10:00:00Z"}};
      auto info = stix::ValidateObject(o);
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      batch.push_back({*info, json::serialize(o), ""});
    }
    auto added = store_->AddObjects(collection_.id, batch);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }

  // Matches of `address` for a caller who may see only the ids in `visible`.
  static ObservableResult MatchSeeing(Correlator& correlator, const std::string& address,
                                      const std::set<std::string>& visible) {
    return correlator.MatchText(address, nullptr, {}, [&](const IndicatorMatch& match) {
      return visible.count(match.indicator.id) > 0;
    });
  }

  static std::set<std::string> Ids(const ObservableResult& result) {
    std::set<std::string> ids;
    for (const IndicatorMatch& match : result.matches) ids.insert(match.indicator.id);
    return ids;
  }

  std::string path_;
  std::unique_ptr<store::Store> store_;
  store::Collection collection_;
};

// max_results 2: the index collects at most 201 candidates per value before
// the caller's filter runs. 500 hidden indicators between two visible ones
// (stored first and last, so that whatever order the index keeps, a capped
// lookup misses at least one) must not show.
TEST_F(CorrelatorTest, HiddenIndicatorsNeitherTruncateNorHideVisibleOnes) {
  const std::string address = "198.51.100.1";
  AddIndicators(1, 1, address);      // visible
  AddIndicators(2, 501, address);    // hidden
  AddIndicators(502, 502, address);  // visible
  AddIndicators(600, 600, "198.51.100.2");
  Correlator correlator(*store_, Options(2));
  ASSERT_TRUE(correlator.Refresh().ok());

  ObservableResult one = MatchSeeing(correlator, address, {TestIndicatorId(502)});
  EXPECT_EQ(Ids(one), std::set<std::string>{TestIndicatorId(502)});
  EXPECT_FALSE(one.truncated) << "the hidden indicators must not show as truncation";

  ObservableResult two =
      MatchSeeing(correlator, address, {TestIndicatorId(1), TestIndicatorId(502)});
  EXPECT_EQ(Ids(two), (std::set<std::string>{TestIndicatorId(1), TestIndicatorId(502)}));
  EXPECT_FALSE(two.truncated) << "exactly max_results visible: nothing left out";

  ObservableResult none = MatchSeeing(correlator, address, {TestIndicatorId(600)});
  EXPECT_TRUE(none.matches.empty());
  EXPECT_FALSE(none.truncated);

  // More visible than max_results: truncated, as before.
  ObservableResult three = MatchSeeing(
      correlator, address, {TestIndicatorId(1), TestIndicatorId(250), TestIndicatorId(502)});
  EXPECT_EQ(three.matches.size(), 2u);
  EXPECT_TRUE(three.truncated);

  // A caller who sees everything: max_results matches, truncated.
  ObservableResult all = correlator.MatchText(address, nullptr);
  EXPECT_EQ(all.matches.size(), 2u);
  EXPECT_TRUE(all.truncated);

  // Readable collections filter the same way (none readable: nothing, not truncated).
  ObservableResult unreadable =
      correlator.MatchText(address, [](const std::string&) { return false; });
  EXPECT_TRUE(unreadable.matches.empty());
  EXPECT_FALSE(unreadable.truncated);
}

// Below the index's cap nothing changes: max_results counts visible matches.
TEST_F(CorrelatorTest, VisibleMatchesAreCountedAgainstMaxResults) {
  const std::string address = "198.51.100.3";
  AddIndicators(1, 10, address);
  Correlator correlator(*store_, Options(3));
  ASSERT_TRUE(correlator.Refresh().ok());
  ObservableResult some =
      MatchSeeing(correlator, address,
                  {TestIndicatorId(2), TestIndicatorId(4), TestIndicatorId(6), TestIndicatorId(8)});
  EXPECT_EQ(some.matches.size(), 3u);
  EXPECT_TRUE(some.truncated);
  ObservableResult few = MatchSeeing(correlator, address,
                                     {TestIndicatorId(2), TestIndicatorId(4), TestIndicatorId(6)});
  EXPECT_EQ(Ids(few),
            (std::set<std::string>{TestIndicatorId(2), TestIndicatorId(4), TestIndicatorId(6)}));
  EXPECT_FALSE(few.truncated);
}

}  // namespace
}  // namespace kizuna::correlation
