// Correlator snapshots over a real SQLite store: a correlator loaded from a
// snapshot and refreshed answers every observable exactly as one built from
// the whole store, including the changes made after the snapshot was saved
// (new indicators, new versions, revocations, deletions, sightings). A
// snapshot that is damaged, another store's, of another history or built
// with other options is refused and leaves the correlator empty, so a full
// Refresh still gives the right answers.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "correlation/correlator.h"
#include "correlation/indicator_ids_test_util.h"
#include "correlation/indicator_index.h"
#include "stix/stix.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

constexpr const char* kCollection = "6a1a9c1e-5f0e-4c7e-9c55-3b1e2a1c0002";
constexpr const char* kOtherCollection = "6a1a9c1e-5f0e-4c7e-9c55-3b1e2a1c0003";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/snapshot-test-" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = Open(dir_ + "/store.db");
    snapshot_ = dir_ + "/correlation.snapshot";
  }
  void TearDown() override {
    store_.reset();
    other_store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::unique_ptr<store::Store> Open(const std::string& path) {
    auto opened = store::OpenSqliteStore(path);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return nullptr;
    for (const char* id : {kCollection, kOtherCollection}) {
      store::Collection collection;
      collection.id = id;
      collection.title = id;
      EXPECT_TRUE((*opened)->CreateCollection(collection).ok());
    }
    return std::move(opened).value();
  }

  static void Put(store::Store& store, const std::string& collection, json::object object) {
    auto info = stix::ValidateObject(object);
    ASSERT_TRUE(info.ok()) << info.status().ToString() << " " << json::serialize(object);
    auto added = store.AddObjects(collection, {{*info, json::serialize(object), ""}});
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }

  static json::object Indicator(int n, const std::string& pattern,
                                const std::string& modified = "2024-03-01T10:00:00.000Z") {
    return json::object{{"type", "indicator"},
                        {"spec_version", "2.1"},
                        {"id", TestIndicatorId(n)},
                        {"created", "2024-03-01T10:00:00.000Z"},
                        {"modified", modified},
                        {"name", "indicator " + std::to_string(n)},
                        {"labels", json::array{"botnet", "c2"}},
                        {"confidence", 40 + n % 50},
                        {"pattern", pattern},
                        {"pattern_type", "stix"},
                        {"valid_from", "2024-03-01T10:00:00Z"}};
  }

  // Every kind the index holds, a pattern the index cannot, an unsupported
  // pattern type, a revoked and an expired indicator, one in two
  // collections, and a sighting by a named identity.
  void Populate(store::Store& store) {
    Put(store, kCollection, Indicator(1, "[ipv4-addr:value = '203.0.113.7']"));
    Put(store, kCollection, Indicator(2, "[ipv4-addr:value ISSUBSET '45.33.0.0/16']"));
    Put(store, kOtherCollection, Indicator(2, "[ipv4-addr:value ISSUBSET '45.33.0.0/16']"));
    Put(store, kCollection, Indicator(3, "[ipv6-addr:value ISSUBSET '2001:db8:bad::/48']"));
    json::object sub = Indicator(4, "[domain-name:value = 'evil-snapshot.example']");
    sub["x_kizuna_match_subdomains"] = true;
    Put(store, kCollection, sub);
    Put(store, kCollection, Indicator(5, "[domain-name:value = 'exact.evil.test']"));
    Put(store, kCollection,
        Indicator(6,
                  "[file:hashes.'SHA-256' = "
                  "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"));
    Put(store, kCollection, Indicator(7, "[url:value = 'http://evil.test/gate.php']"));
    Put(store, kCollection, Indicator(8, "[email-addr:value = 'phish@evil.test']"));
    Put(store, kCollection, Indicator(9, "[url:value MATCHES '^http://[a-z]+\\\\.bad\\\\.test/']"));
    json::object snort = Indicator(10, "alert tcp any any -> any 80");
    snort["pattern_type"] = "snort";
    Put(store, kCollection, snort);
    json::object revoked = Indicator(11, "[ipv4-addr:value = '198.51.100.11']");
    revoked["revoked"] = true;
    Put(store, kCollection, revoked);
    json::object expired = Indicator(12, "[ipv4-addr:value = '198.51.100.12']");
    expired["valid_until"] = "2024-06-01T00:00:00Z";
    Put(store, kCollection, expired);
    Put(store, kCollection,
        json::object{{"type", "identity"},
                     {"spec_version", "2.1"},
                     {"id", "identity--00000000-0000-4000-8000-0000000000aa"},
                     {"created", "2024-03-01T10:00:00.000Z"},
                     {"modified", "2024-03-01T10:00:00.000Z"},
                     {"name", "CERT-Partner"},
                     {"identity_class", "organization"}});
    Put(store, kCollection,
        json::object{
            {"type", "sighting"},
            {"spec_version", "2.1"},
            {"id", "sighting--00000000-0000-4000-8000-0000000000b1"},
            {"created", "2024-03-02T10:00:00.000Z"},
            {"modified", "2024-03-02T10:00:00.000Z"},
            {"sighting_of_ref", TestIndicatorId(1)},
            {"count", 4},
            {"first_seen", "2024-03-02T09:00:00Z"},
            {"last_seen", "2024-03-02T10:00:00Z"},
            {"where_sighted_refs", json::array{"identity--00000000-0000-4000-8000-0000000000aa"}}});
  }

  // Every answer the two correlators give, as the JSON a caller sees.
  static void ExpectSameAnswers(Correlator& expected, Correlator& actual) {
    const std::vector<std::string> observables = {
        "203.0.113.7",
        "45.33.12.1",
        "45.34.0.1",
        "2001:db8:bad::1",
        "a.b.evil-snapshot.example",
        "evil-snapshot.example",
        "exact.evil.test",
        "sub.exact.evil.test",
        "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F",
        "http://evil.test/gate.php",
        "phish@evil.test",
        "http://www.bad.test/x",
        "198.51.100.11",
        "198.51.100.12",
        "198.51.100.13",
        "192.168.1.1",
        "45.33.99.99",
        "new.evil.test",
        "203.0.113.8"};
    for (const std::string& observable : observables) {
      ObservableResult want = expected.MatchText(observable, nullptr);
      ObservableResult got = actual.MatchText(observable, nullptr);
      expected.AddSightedBy(want, nullptr);
      actual.AddSightedBy(got, nullptr);
      EXPECT_EQ(json::serialize(ResultToJson(got)), json::serialize(ResultToJson(want)))
          << observable;
    }
    const Correlator::Stats want = expected.GetStats();
    const Correlator::Stats got = actual.GetStats();
    EXPECT_EQ(got.indexed, want.indexed);
    EXPECT_EQ(got.by_pattern, want.by_pattern);
    EXPECT_EQ(got.unsupported, want.unsupported);
    EXPECT_EQ(got.index.indicators, want.index.indicators);
    EXPECT_EQ(got.index.tombstones, want.index.tombstones);
    EXPECT_EQ(got.index.entries, want.index.entries);
  }

  // A correlator built from the whole store (what a snapshot must equal).
  std::unique_ptr<Correlator> Built() {
    auto correlator = std::make_unique<Correlator>(*store_, CorrelatorOptions{});
    EXPECT_TRUE(correlator->Refresh().ok());
    return correlator;
  }

  std::string dir_;
  std::string snapshot_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Store> other_store_;
};

TEST_F(SnapshotTest, ALoadedSnapshotAnswersAsTheStoreDoes) {
  Populate(*store_);
  auto built = Built();
  ASSERT_TRUE(built->SaveSnapshot(snapshot_).ok());
  EXPECT_EQ(std::filesystem::status(snapshot_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  Correlator loaded(*store_, CorrelatorOptions{});
  Status status = loaded.LoadSnapshot(snapshot_);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(loaded.cursor(), built->cursor());
  ASSERT_TRUE(loaded.Refresh().ok());
  ExpectSameAnswers(*built, loaded);
  // The sighting came along: who sighted indicator 1, how often.
  ObservableResult hit = loaded.MatchText("203.0.113.7", nullptr);
  loaded.AddSightedBy(hit, nullptr);
  ASSERT_EQ(hit.matches.size(), 1u);
  ASSERT_EQ(hit.matches[0].sighted_by.size(), 1u);
  EXPECT_EQ(hit.matches[0].sighted_by[0].name, "CERT-Partner");
  EXPECT_EQ(hit.matches[0].sighted_by[0].count, 4);
  EXPECT_EQ(hit.matches[0].collections.size(), 1u);
  EXPECT_EQ(loaded.MatchText("45.33.1.1", nullptr).matches.at(0).collections.size(), 2u);
}

TEST_F(SnapshotTest, ChangesAfterTheSnapshotAreApplied) {
  Populate(*store_);
  ASSERT_TRUE(Built()->SaveSnapshot(snapshot_).ok());

  // A new indicator, a new version with another value, a revocation, a
  // deletion and a sighting counted up in a new version.
  Put(*store_, kCollection, Indicator(20, "[domain-name:value = 'new.evil.test']"));
  Put(*store_, kCollection,
      Indicator(1, "[ipv4-addr:value = '203.0.113.8']", "2024-04-01T10:00:00.000Z"));
  json::object revoked =
      Indicator(7, "[url:value = 'http://evil.test/gate.php']", "2024-04-01T10:00:00.000Z");
  revoked["revoked"] = true;
  Put(*store_, kCollection, revoked);
  ASSERT_TRUE(
      store_->DeleteObject(kOtherCollection, TestIndicatorId(2), store::ObjectQuery{}).ok());
  ASSERT_TRUE(store_->DeleteObject(kCollection, TestIndicatorId(5), store::ObjectQuery{}).ok());
  Put(*store_, kCollection,
      json::object{
          {"type", "sighting"},
          {"spec_version", "2.1"},
          {"id", "sighting--00000000-0000-4000-8000-0000000000b1"},
          {"created", "2024-03-02T10:00:00.000Z"},
          {"modified", "2024-03-03T10:00:00.000Z"},
          {"sighting_of_ref", TestIndicatorId(1)},
          {"count", 9},
          {"where_sighted_refs", json::array{"identity--00000000-0000-4000-8000-0000000000aa"}}});

  Correlator loaded(*store_, CorrelatorOptions{});
  ASSERT_TRUE(loaded.LoadSnapshot(snapshot_).ok());
  ASSERT_TRUE(loaded.Refresh().ok());
  auto built = Built();
  ExpectSameAnswers(*built, loaded);
  EXPECT_TRUE(loaded.MatchText("203.0.113.7", nullptr).matches.empty());
  ObservableResult moved = loaded.MatchText("203.0.113.8", nullptr);
  loaded.AddSightedBy(moved, nullptr);
  ASSERT_EQ(moved.matches.size(), 1u);
  EXPECT_EQ(moved.matches[0].sighted_by.at(0).count, 9) << "the newest version counts, once";
  EXPECT_TRUE(loaded.MatchText("exact.evil.test", nullptr).matches.empty());
  EXPECT_EQ(loaded.MatchText("45.33.1.1", nullptr).matches.at(0).collections.size(), 1u);
  EXPECT_EQ(loaded.MatchText("new.evil.test", nullptr).matches.size(), 1u);
}

TEST_F(SnapshotTest, ADamagedSnapshotIsRefusedAndChangesNothing) {
  Populate(*store_);
  auto built = Built();
  ASSERT_TRUE(built->SaveSnapshot(snapshot_).ok());
  const std::string good = ReadBytes(snapshot_);
  ASSERT_GT(good.size(), 1000u);

  std::vector<std::string> damaged = {"",
                                      "KZCORSNP",
                                      "not a snapshot at all",
                                      good.substr(0, good.size() / 2),
                                      good.substr(0, good.size() - 1),
                                      good + "x"};
  // A flipped bit anywhere past the magic: header, store id, index, tables.
  std::mt19937 random(7);
  for (int i = 0; i < 40; ++i) {
    std::string flipped = good;
    const size_t at = 8 + random() % (flipped.size() - 8);
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << (random() % 8)));
    damaged.push_back(std::move(flipped));
  }
  for (size_t i = 0; i < damaged.size(); ++i) {
    WriteBytes(snapshot_, damaged[i]);
    Correlator loaded(*store_, CorrelatorOptions{});
    Status status = loaded.LoadSnapshot(snapshot_);
    ASSERT_FALSE(status.ok()) << "case " << i;
    EXPECT_TRUE(status.code() == Code::kInvalidArgument ||
                status.code() == Code::kFailedPrecondition)
        << status.ToString();
    EXPECT_EQ(loaded.cursor(), 0) << "case " << i;
    EXPECT_EQ(loaded.GetStats().indexed, 0u) << "case " << i;
    ASSERT_TRUE(loaded.Refresh().ok());
    if (i % 8 == 0) ExpectSameAnswers(*built, loaded);
  }
  std::filesystem::remove(snapshot_);
  Correlator missing(*store_, CorrelatorOptions{});
  EXPECT_EQ(missing.LoadSnapshot(snapshot_).code(), Code::kNotFound);
}

TEST_F(SnapshotTest, AnotherStoresOrHistorysOrOptionsSnapshotIsRefused) {
  Populate(*store_);
  ASSERT_TRUE(Built()->SaveSnapshot(snapshot_).ok());

  // Another store with the same content: not its snapshot.
  other_store_ = Open(dir_ + "/other.db");
  Populate(*other_store_);
  Correlator other(*other_store_, CorrelatorOptions{});
  Status status = other.LoadSnapshot(snapshot_);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("another store"), std::string::npos) << status.ToString();

  // The same store id but another history (a restored backup that has
  // taken other changes since): the change the snapshot ends at differs.
  auto id = store_->GetMeta("store_id");
  ASSERT_TRUE(id.ok() && id->has_value());
  ASSERT_TRUE(other_store_->SetMeta("store_id", **id).ok());
  Correlator restored(*other_store_, CorrelatorOptions{});
  status = restored.LoadSnapshot(snapshot_);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("history"), std::string::npos) << status.ToString();
  EXPECT_EQ(restored.GetStats().indexed, 0u);

  CorrelatorOptions options;
  options.max_results = 7;
  Correlator narrower(*store_, options);
  status = narrower.LoadSnapshot(snapshot_);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition) << status.ToString();

  // Only into an empty correlator.
  auto built = Built();
  EXPECT_EQ(built->LoadSnapshot(snapshot_).code(), Code::kFailedPrecondition);
}

// The index's own check of a snapshot section, without the checksum in
// front of it: whatever the bytes, LoadFrom refuses them or yields an index
// whose lookups stay inside its tables.
TEST(IndexSnapshot, DamagedTablesAreRefusedOrHarmless) {
  IndicatorIndex index;
  for (int n = 1; n <= 40; ++n) {
    IndicatorMeta meta;
    meta.id = TestIndicatorId(n);
    meta.modified_us = n;
    meta.name = "n" + std::to_string(n % 5);
    meta.labels = {"x"};
    std::vector<IndexEntry> entries = {
        {ObservableKind::kIpv4, "10." + std::to_string(n) + ".0.0/16", false},
        {ObservableKind::kDomain, "d" + std::to_string(n) + ".example", n % 2 == 0},
        {ObservableKind::kIpv6, "2001:db8:" + std::to_string(n) + "::/48", false},
        {ObservableKind::kUrl, "http://u" + std::to_string(n) + ".test/", false}};
    ASSERT_TRUE(index.Add(meta, entries).ok());
  }
  ASSERT_TRUE(index.Remove(TestIndicatorId(3)).ok());
  internal::SnapshotWriter out;
  index.SaveTo(out);
  const std::string good = out.bytes();

  IndicatorIndex copy;
  internal::SnapshotReader in(good);
  ASSERT_TRUE(copy.LoadFrom(in).ok());
  EXPECT_EQ(copy.Stats().indicators, 39u);
  EXPECT_EQ(copy.MatchIpv4(0x0A050101).refs.size(), 1u);
  EXPECT_EQ(copy.MatchDomain("a.d4.example").refs.size(), 1u);
  EXPECT_TRUE(copy.MatchIpv4(0x0A030101).refs.empty());
  // The loaded index takes new indicators (its interner maps names again).
  IndicatorMeta meta;
  meta.id = TestIndicatorId(99);
  meta.modified_us = 1;
  meta.name = "n1";
  ASSERT_TRUE(
      copy.Add(meta, std::vector<IndexEntry>{{ObservableKind::kIpv4, "10.99.0.1", false}}).ok());
  EXPECT_EQ(copy.Get(*copy.FindRef(TestIndicatorId(99)))->name, "n1");

  std::mt19937 random(11);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = random() % bytes.size();
      bytes[at] = static_cast<char>(random());
    }
    if (i % 10 == 0) bytes.resize(random() % bytes.size());
    IndicatorIndex damaged;
    internal::SnapshotReader reader(bytes);
    if (!damaged.LoadFrom(reader).ok()) continue;
    for (uint32_t a = 0; a < 50; ++a) (void)damaged.MatchIpv4(0x0A000000 | (a << 16) | 1);
    (void)damaged.MatchDomain("a.d4.example");
    (void)damaged.MatchUrl("http://u5.test/");
    for (uint32_t ref = 0; ref < 45; ++ref) (void)damaged.Get(ref);
  }
}

}  // namespace
}  // namespace kizuna::correlation
