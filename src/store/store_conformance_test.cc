// The Store conformance suite (see store_conformance_test.h). Each test gets a
// fresh, empty store from the backend's harness.
#include "store/store_conformance_test.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace kizuna::store {

void StoreConformanceTest::SetUp() {
  harness_ = GetParam()();
  ASSERT_NE(harness_, nullptr);
  auto store = harness_->Open(nullptr);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store).value();
}

void StoreConformanceTest::TearDown() {
  store_.reset();
  harness_.reset();
}

void StoreConformanceTest::UseClock(const Clock* clock) {
  store_.reset();
  auto store = harness_->Open(clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store).value();
}

namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;

constexpr int64_t kSecond = 1'000'000;

std::string IndicatorId(int n) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
  return id;
}

// An object version as the stix layer would describe it; created/modified 0
// means absent.
NewObject MakeObject(const std::string& id, int64_t created_us, int64_t modified_us,
                     const std::string& spec_version = "2.1") {
  NewObject object;
  object.info.id = id;
  object.info.type = id.substr(0, id.find("--"));
  object.info.spec_version = spec_version;
  object.info.created_us = created_us;
  object.info.modified_us = modified_us;
  object.info.tlp = stix::Tlp::kGreen;
  object.info.created_by_ref = "identity--11111111-1111-4111-8111-111111111111";
  object.json = "{\"type\":\"" + object.info.type + "\",\"id\":\"" + id + "\",\"modified\":\"" +
                std::to_string(modified_us) + "\"}";
  return object;
}

Collection MakeCollection(const std::string& id, const std::string& alias = "") {
  Collection collection;
  collection.id = id;
  collection.title = "Title of " + id;
  collection.description = "About " + id;
  collection.alias = alias;
  return collection;
}

constexpr const char* kColl = StoreConformanceTest::kCollectionId;
constexpr const char* kOtherColl = "5f0a9b47-8c26-4a6d-9c1e-2f6a1d3b7e02";

std::vector<int64_t> Versions(const ObjectPage& page) {
  std::vector<int64_t> versions;
  for (const StoredObject& object : page.objects) versions.push_back(object.version_us);
  return versions;
}

std::vector<std::string> Ids(const ObjectPage& page) {
  std::vector<std::string> ids;
  for (const StoredObject& object : page.objects) ids.push_back(object.id);
  return ids;
}

}  // namespace

void StoreConformanceTest::CreateCollection(const std::string& id) {
  ASSERT_TRUE(store_->CreateCollection(MakeCollection(id)).ok());
}

AddResult StoreConformanceTest::Add(const std::vector<NewObject>& objects,
                                    const std::string& collection) {
  auto result = store_->AddObjects(collection, objects);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(result).value() : AddResult{};
}

ObjectPage StoreConformanceTest::Query(const ObjectQuery& query, const std::string& collection) {
  auto page = store_->QueryObjects(collection, query);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? std::move(page).value() : ObjectPage{};
}

ObjectQuery StoreConformanceTest::AllVersions() {
  ObjectQuery query;
  query.version_all = true;
  return query;
}

namespace {

TEST_P(StoreConformanceTest, CollectionsCrudAndAliasLookup) {
  Collection first = MakeCollection(kColl, "feed");
  first.media_types = {kStixMediaType, "application/taxii+json;version=2.1"};
  ASSERT_TRUE(store_->CreateCollection(first).ok());
  ASSERT_TRUE(store_->CreateCollection(MakeCollection(kOtherColl)).ok());

  auto list = store_->ListCollections();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, kColl);
  EXPECT_EQ((*list)[0].alias, "feed");
  EXPECT_EQ((*list)[0].media_types, first.media_types);
  EXPECT_EQ((*list)[1].id, kOtherColl);
  EXPECT_EQ((*list)[1].alias, "");
  EXPECT_THAT((*list)[1].media_types, ElementsAre(kStixMediaType));

  auto by_id = store_->GetCollection(kColl);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->title, first.title);
  EXPECT_EQ(by_id->description, first.description);
  auto by_alias = store_->GetCollection("feed");
  ASSERT_TRUE(by_alias.ok());
  EXPECT_EQ(by_alias->id, kColl);
  EXPECT_EQ(store_->GetCollection("nope").status().code(), Code::kNotFound);

  EXPECT_EQ(store_->CreateCollection(MakeCollection(kColl)).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->CreateCollection(MakeCollection("another", "feed")).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(store_->CreateCollection(MakeCollection("")).code(), Code::kInvalidArgument);

  ASSERT_TRUE(store_->AddObjects(kColl, {MakeObject(IndicatorId(1), kT0, kT0)}).ok());
  ASSERT_TRUE(store_->DeleteCollection(kColl).ok());
  EXPECT_EQ(store_->GetCollection(kColl).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetCollection("feed").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteCollection(kColl).code(), Code::kNotFound);
  EXPECT_EQ(store_->QueryObjects(kColl, {}).status().code(), Code::kNotFound);
  // The alias is free again.
  EXPECT_TRUE(store_->CreateCollection(MakeCollection("third", "feed")).ok());
}

TEST_P(StoreConformanceTest, AddIsIdempotentPerVersion) {
  CreateCollection();
  NewObject v1 = MakeObject(IndicatorId(1), kT0, kT0);
  NewObject v2 = MakeObject(IndicatorId(1), kT0, kT0 + kSecond);
  AddResult first = Add({v1});
  ASSERT_THAT(first.outcomes, ElementsAre(AddOutcome::kAdded));

  // Re-adding v1, plus v2 twice in the same batch.
  AddResult second = Add({v1, v2, v2});
  ASSERT_THAT(second.outcomes, ElementsAre(AddOutcome::kAlreadyPresent, AddOutcome::kAdded,
                                           AddOutcome::kAlreadyPresent));
  EXPECT_EQ(second.date_added_us[0], first.date_added_us[0]);
  EXPECT_GT(second.date_added_us[1], first.date_added_us[0]);
  EXPECT_EQ(second.date_added_us[2], second.date_added_us[1]);
  EXPECT_EQ(*store_->CountObjects(kColl), 2);

  // The same version in another collection is a separate entry.
  CreateCollection(kOtherColl);
  AddResult other = Add({v1}, kOtherColl);
  EXPECT_THAT(other.outcomes, ElementsAre(AddOutcome::kAdded));
  EXPECT_GT(other.date_added_us[0], second.date_added_us[1]);

  EXPECT_EQ(store_->AddObjects("missing", {v1}).status().code(), Code::kNotFound);
  auto empty = store_->AddObjects(kColl, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->outcomes.empty());
}

TEST_P(StoreConformanceTest, HeldIdsAreThoseWithAVersionInAnyCollection) {
  CreateCollection();
  CreateCollection(kOtherColl);
  Add({MakeObject(IndicatorId(1), kT0, kT0)});
  Add({MakeObject(IndicatorId(2), kT0, kT0)}, kOtherColl);
  std::vector<std::string> asked = {IndicatorId(1), IndicatorId(2), IndicatorId(3)};
  // More than one statement's worth of ids.
  for (int n = 100; n < 1300; ++n) asked.push_back(IndicatorId(n));
  auto held = store_->HeldIds(asked);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(*held, (std::set<std::string>{IndicatorId(1), IndicatorId(2)}));
  auto none = store_->HeldIds({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreConformanceTest, StoredFieldsRoundTrip) {
  CreateCollection();
  NewObject object = MakeObject(IndicatorId(7), kT0, kT0 + 5);
  object.info.tlp = stix::Tlp::kAmberStrict;
  AddResult added = Add({object});

  ObjectPage page = Query({});
  ASSERT_EQ(page.objects.size(), 1u);
  const StoredObject& stored = page.objects[0];
  EXPECT_EQ(stored.id, object.info.id);
  EXPECT_EQ(stored.type, "indicator");
  EXPECT_EQ(stored.spec_version, "2.1");
  EXPECT_EQ(stored.version_us, kT0 + 5);
  EXPECT_EQ(stored.date_added_us, added.date_added_us[0]);
  EXPECT_EQ(stored.tlp, stix::Tlp::kAmberStrict);
  EXPECT_EQ(stored.created_by_ref, object.info.created_by_ref);
  EXPECT_EQ(stored.json, object.json);
  EXPECT_FALSE(page.more);

  ObjectQuery no_json;
  no_json.include_json = false;
  page = Query(no_json);
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].json, "");
  EXPECT_EQ(page.objects[0].id, object.info.id);
}

TEST_P(StoreConformanceTest, OriginIsKeptPerVersionAndReadOnRequest) {
  CreateCollection();
  NewObject delivered = MakeObject(IndicatorId(1), kT0, kT0);
  delivered.origin = "cert-b";
  NewObject local = MakeObject(IndicatorId(2), kT0, kT0);
  Add({delivered, local});
  // A second delivery of the same version from elsewhere does not rewrite it.
  NewObject again = delivered;
  again.origin = "cert-c";
  Add({again});

  ObjectQuery with_origin;
  with_origin.include_origin = true;
  ObjectPage page = Query(with_origin);
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].origin, "cert-b");
  EXPECT_EQ(page.objects[1].origin, "");
  EXPECT_EQ(Query({}).objects[0].origin, "") << "origin is read only when asked for";

  auto changes = store_->ListChanges(
      ChangeQuery{.after_seq = 0, .types = {}, .limit = 10, .include_origin = true});
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].object.origin, "cert-b");
  EXPECT_EQ((*changes)[1].object.origin, "");

  // Deleting the version forgets its origin; the same version delivered anew
  // by another peer records that peer.
  ObjectQuery all_versions;
  all_versions.version_all = true;
  ASSERT_EQ(*store_->DeleteObject(kColl, IndicatorId(1), all_versions), 1);
  Add({again});
  page = Query(with_origin);
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[1].id, IndicatorId(1));
  EXPECT_EQ(page.objects[1].origin, "cert-c");
}

TEST_P(StoreConformanceTest, VersionIsModifiedElseCreatedElseDateAdded) {
  CreateCollection();
  NewObject created_only = MakeObject(IndicatorId(1), kT0, 0);
  NewObject sco = MakeObject("ipv4-addr--00000000-0000-5000-8000-000000000001", 0, 0);
  AddResult added = Add({created_only, sco});
  ObjectPage page = Query(AllVersions());
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].version_us, kT0);
  EXPECT_EQ(page.objects[1].version_us, added.date_added_us[1]);
  // Without a version of its own, the SCO is the same object when posted again.
  AddResult again = Add({sco});
  EXPECT_THAT(again.outcomes, ElementsAre(AddOutcome::kAlreadyPresent));
  EXPECT_EQ(again.date_added_us[0], added.date_added_us[1]);
  // Unless the writer asks for another copy: then it is one more version.
  sco.another_copy = true;
  AddResult copy = Add({sco});
  EXPECT_THAT(copy.outcomes, ElementsAre(AddOutcome::kAdded));
  ObjectQuery copies = AllVersions();
  copies.ids = {sco.info.id};
  EXPECT_THAT(Versions(Query(copies)), ElementsAre(added.date_added_us[1], copy.date_added_us[0]));
  // A versioned object ignores it: the same version stays one version.
  created_only.another_copy = true;
  EXPECT_THAT(Add({created_only}).outcomes, ElementsAre(AddOutcome::kAlreadyPresent));
}

TEST_P(StoreConformanceTest, VersionSelectors) {
  CreateCollection();
  const std::string id = IndicatorId(1);
  // Added out of version order: the middle, the oldest, then the newest.
  Add({MakeObject(id, kT0, kT0 + 2 * kSecond)});
  Add({MakeObject(id, kT0, kT0)});
  Add({MakeObject(id, kT0, kT0 + 4 * kSecond)});
  Add({MakeObject(IndicatorId(2), kT0, kT0 + kSecond)});

  ObjectQuery query;
  query.ids = {id};
  EXPECT_THAT(Versions(Query(query)), ElementsAre(kT0 + 4 * kSecond));  // default: last
  query.version_last = true;
  EXPECT_THAT(Versions(Query(query)), ElementsAre(kT0 + 4 * kSecond));
  query.version_last = false;
  query.version_first = true;
  EXPECT_THAT(Versions(Query(query)), ElementsAre(kT0));
  query.version_last = true;  // first OR last, in date_added order
  EXPECT_THAT(Versions(Query(query)), ElementsAre(kT0, kT0 + 4 * kSecond));
  query.version_first = query.version_last = false;
  query.versions = {kT0 + 2 * kSecond, kT0 + 99};  // an absent version matches nothing
  EXPECT_THAT(Versions(Query(query)), ElementsAre(kT0 + 2 * kSecond));
  query.version_first = true;
  EXPECT_THAT(Versions(Query(query)), ElementsAre(kT0 + 2 * kSecond, kT0));
  query = AllVersions();
  query.ids = {id};
  EXPECT_THAT(Versions(Query(query)), ElementsAre(kT0 + 2 * kSecond, kT0, kT0 + 4 * kSecond));
  // Each version says whether it is the first or the last.
  std::vector<std::pair<bool, bool>> flags;
  for (const StoredObject& o : Query(query).objects) flags.emplace_back(o.is_first, o.is_last);
  EXPECT_THAT(flags,
              ElementsAre(std::pair(false, false), std::pair(true, false), std::pair(false, true)));
  // "all" wins over the others.
  query.version_first = true;
  query.versions = {kT0};
  EXPECT_EQ(Query(query).objects.size(), 3u);

  // Without an id filter, "last" gives one version per object.
  EXPECT_THAT(Ids(Query({})), ElementsAre(id, IndicatorId(2)));
}

TEST_P(StoreConformanceTest, IdTypeAndSpecVersionFiltersCombine) {
  CreateCollection();
  Add({MakeObject(IndicatorId(1), kT0, kT0),
       MakeObject("malware--00000000-0000-4000-8000-000000000001", kT0, kT0),
       MakeObject("malware--00000000-0000-4000-8000-000000000002", kT0, kT0, "2.0"),
       MakeObject(IndicatorId(2), kT0, kT0, "2.0"),
       MakeObject("report--00000000-0000-4000-8000-000000000001", kT0, kT0)});

  ObjectQuery query;
  query.types = {"malware"};
  EXPECT_EQ(Query(query).objects.size(), 2u);
  query.types = {"malware", "indicator"};
  EXPECT_EQ(Query(query).objects.size(), 4u);
  query.spec_versions = {"2.0"};
  EXPECT_THAT(Ids(Query(query)),
              ElementsAre("malware--00000000-0000-4000-8000-000000000002", IndicatorId(2)));
  query.spec_versions = {"2.0", "2.1"};
  query.ids = {IndicatorId(1), "report--00000000-0000-4000-8000-000000000001"};
  EXPECT_THAT(Ids(Query(query)), ElementsAre(IndicatorId(1)));  // the report is not a type asked
  query.types.clear();
  EXPECT_EQ(Query(query).objects.size(), 2u);
  query.types = {"campaign"};
  EXPECT_TRUE(Query(query).objects.empty());
}

TEST_P(StoreConformanceTest, AddedAfterIsExclusive) {
  CreateCollection();
  AddResult added = Add({MakeObject(IndicatorId(1), kT0, kT0), MakeObject(IndicatorId(2), kT0, kT0),
                         MakeObject(IndicatorId(3), kT0, kT0)});
  ObjectQuery query;
  query.added_after_us = added.date_added_us[0];
  EXPECT_THAT(Ids(Query(query)), ElementsAre(IndicatorId(2), IndicatorId(3)));
  query.added_after_us = added.date_added_us[0] - 1;
  EXPECT_EQ(Query(query).objects.size(), 3u);
  // With a paging cursor too, the later bound wins.
  query.after_date_added_us = added.date_added_us[1];
  EXPECT_THAT(Ids(Query(query)), ElementsAre(IndicatorId(3)));
  query.added_after_us = added.date_added_us[2];
  EXPECT_TRUE(Query(query).objects.empty());
}

TEST_P(StoreConformanceTest, NewestFirstPagesBackwards) {
  CreateCollection();
  AddResult added = Add({MakeObject(IndicatorId(1), kT0, kT0), MakeObject(IndicatorId(2), kT0, kT0),
                         MakeObject(IndicatorId(3), kT0, kT0)});
  ObjectQuery query;
  query.newest_first = true;
  EXPECT_THAT(Ids(Query(query)), ElementsAre(IndicatorId(3), IndicatorId(2), IndicatorId(1)));
  query.limit = 2;
  ObjectPage page = Query(query);
  EXPECT_THAT(Ids(page), ElementsAre(IndicatorId(3), IndicatorId(2)));
  EXPECT_TRUE(page.more);
  query.before_date_added_us = page.objects.back().date_added_us;
  page = Query(query);
  EXPECT_THAT(Ids(page), ElementsAre(IndicatorId(1)));
  EXPECT_FALSE(page.more);
  query.before_date_added_us = added.date_added_us[2];
  query.added_after_us = added.date_added_us[0];
  EXPECT_THAT(Ids(Query(query)), ElementsAre(IndicatorId(2)));
}

TEST_P(StoreConformanceTest, LimitSetsMore) {
  CreateCollection();
  Add({MakeObject(IndicatorId(1), kT0, kT0), MakeObject(IndicatorId(2), kT0, kT0)});
  ObjectQuery query;
  query.limit = 1;
  ObjectPage page = Query(query);
  EXPECT_EQ(page.objects.size(), 1u);
  EXPECT_TRUE(page.more);
  query.limit = 2;
  page = Query(query);
  EXPECT_EQ(page.objects.size(), 2u);
  EXPECT_FALSE(page.more);
}

// Pages through a collection by the date_added cursor while new objects and
// new versions keep arriving: nothing is skipped, nothing repeated.
TEST_P(StoreConformanceTest, PagingNeverSkipsOrRepeats) {
  CreateCollection();
  int next_id = 0;
  auto add_batch = [&](int new_objects, int new_versions_of) {
    std::vector<NewObject> batch;
    for (int i = 0; i < new_objects; ++i) {
      batch.push_back(MakeObject(IndicatorId(next_id++), kT0, kT0));
    }
    for (int i = 0; i < new_versions_of && next_id > 0; ++i) {
      int target = (i * 7 + next_id) % next_id;
      batch.push_back(MakeObject(IndicatorId(target), kT0, kT0 + next_id * kSecond + i));
    }
    Add(batch);
  };
  add_batch(40, 0);
  add_batch(0, 20);

  for (bool all_versions : {true, false}) {
    SCOPED_TRACE(all_versions ? "all versions" : "last versions");
    std::vector<StoredObject> seen;
    ObjectQuery query;
    query.version_all = all_versions;
    query.limit = 7;
    query.include_json = false;
    for (int round = 0; round < 1000; ++round) {
      ObjectPage page = Query(query);
      for (const StoredObject& object : page.objects) seen.push_back(object);
      if (!page.objects.empty()) query.after_date_added_us = page.objects.back().date_added_us;
      if (round < 6) add_batch(3, 2);  // arrivals between pages
      if (!page.more && round >= 6) break;
    }
    // Strictly increasing date_added: no repeats, in order.
    for (size_t i = 1; i < seen.size(); ++i) {
      ASSERT_LT(seen[i - 1].date_added_us, seen[i].date_added_us);
    }
    std::set<int64_t> seen_dates;
    for (const StoredObject& object : seen) seen_dates.insert(object.date_added_us);
    ObjectQuery everything;
    everything.version_all = all_versions;
    for (const StoredObject& object : Query(everything).objects) {
      // Every version that matches now was seen (the versions seen that are no
      // longer "last" were last when their page was read).
      EXPECT_TRUE(seen_dates.count(object.date_added_us)) << object.id;
    }
    if (all_versions) {
      EXPECT_EQ(seen.size(), Query(everything).objects.size());
    }
  }
}

TEST_P(StoreConformanceTest, DateAddedStrictlyIncreasingEvenWhenClockStallsOrGoesBack) {
  CreateCollection();
  FakeClock clock(kT0);
  UseClock(&clock);
  std::vector<int64_t> dates;
  auto add = [&](int n) {
    std::vector<NewObject> batch;
    for (int i = 0; i < n; ++i)
      batch.push_back(MakeObject(IndicatorId(dates.size() + i), kT0, kT0));
    AddResult result = Add(batch);
    dates.insert(dates.end(), result.date_added_us.begin(), result.date_added_us.end());
  };
  add(5);
  add(1);  // same clock reading
  EXPECT_EQ(dates.front(), kT0);
  clock.Set(kT0 - 3600 * kSecond);  // the clock goes back an hour
  add(3);
  // After a restart, with a clock still behind.
  UseClock(&clock);
  add(2);
  clock.Set(kT0 + 3600 * kSecond);
  add(1);
  for (size_t i = 1; i < dates.size(); ++i) EXPECT_LT(dates[i - 1], dates[i]) << i;
  EXPECT_EQ(dates.back(), kT0 + 3600 * kSecond);

  // Deleting the newest object does not make its date_added reusable.
  ObjectQuery all = AllVersions();
  ASSERT_EQ(*store_->DeleteObject(kColl, IndicatorId(dates.size() - 1), all), 1);
  clock.Set(kT0);
  add(1);
  EXPECT_GT(dates.back(), kT0 + 3600 * kSecond);
}

TEST_P(StoreConformanceTest, DeleteFixesFirstAndLast) {
  CreateCollection();
  const std::string id = IndicatorId(1);
  Add({MakeObject(id, kT0, kT0 + 1), MakeObject(id, kT0, kT0 + 2), MakeObject(id, kT0, kT0 + 3),
       MakeObject(id, kT0, kT0 + 4)});
  ObjectQuery first;
  first.version_first = true;
  ObjectQuery last;

  // Default selector: the last version.
  EXPECT_EQ(*store_->DeleteObject(kColl, id, last), 1);
  EXPECT_THAT(Versions(Query(last)), ElementsAre(kT0 + 3));
  EXPECT_EQ(*store_->DeleteObject(kColl, id, first), 1);
  EXPECT_THAT(Versions(Query(first)), ElementsAre(kT0 + 2));

  // A version that is neither first nor last leaves the flags as they are.
  Add({MakeObject(id, kT0, kT0 + 10), MakeObject(id, kT0, kT0 + 1)});
  ObjectQuery middle;
  middle.versions = {kT0 + 3};
  EXPECT_EQ(*store_->DeleteObject(kColl, id, middle), 1);
  EXPECT_THAT(Versions(Query(first)), ElementsAre(kT0 + 1));
  EXPECT_THAT(Versions(Query(last)), ElementsAre(kT0 + 10));
  ObjectQuery all = AllVersions();
  all.ids = {id};
  EXPECT_THAT(Versions(Query(all)), ElementsAre(kT0 + 2, kT0 + 10, kT0 + 1));

  // spec_version narrows a delete; ids/types are ignored.
  ObjectQuery wrong_spec = AllVersions();
  wrong_spec.spec_versions = {"2.0"};
  EXPECT_EQ(*store_->DeleteObject(kColl, id, wrong_spec), 0);
  EXPECT_EQ(*store_->DeleteObject(kColl, IndicatorId(99), AllVersions()), 0);
  EXPECT_EQ(*store_->DeleteObject(kColl, id, AllVersions()), 3);
  EXPECT_TRUE(Query(all).objects.empty());
  EXPECT_EQ(*store_->CountObjects(kColl), 0);
  EXPECT_EQ(store_->DeleteObject("missing", id, {}).status().code(), Code::kNotFound);

  // A single remaining version is both first and last.
  Add({MakeObject(id, kT0, kT0 + 1), MakeObject(id, kT0, kT0 + 2)});
  EXPECT_EQ(*store_->DeleteObject(kColl, id, first), 1);
  EXPECT_THAT(Versions(Query(first)), ElementsAre(kT0 + 2));
  EXPECT_THAT(Versions(Query(last)), ElementsAre(kT0 + 2));
}

TEST_P(StoreConformanceTest, ChangeFeedOrdersAddsAndDeletesAcrossCollections) {
  CreateCollection();
  ASSERT_TRUE(store_->CreateCollection(MakeCollection(kOtherColl)).ok());
  ASSERT_TRUE(store_
                  ->AddObjects(kColl, {MakeObject(IndicatorId(1), kT0, kT0),
                                       MakeObject(IndicatorId(1), kT0, kT0 + kSecond)})
                  .ok());
  ASSERT_TRUE(
      store_
          ->AddObjects(kOtherColl,
                       {MakeObject("malware--00000000-0000-4000-8000-000000000009", kT0, kT0)})
          .ok());
  ObjectQuery last;
  ASSERT_EQ(*store_->DeleteObject(kColl, IndicatorId(1), last), 1);

  // The feed reflects what is stored: the deleted version's own addition is
  // gone with it, its deletion remains.
  auto all = store_->ListChanges(ChangeQuery{});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 1; i < all->size(); ++i) EXPECT_LT((*all)[i - 1].seq, (*all)[i].seq);
  EXPECT_EQ((*all)[0].kind, Change::Kind::kAdded);
  EXPECT_EQ((*all)[0].collection_id, kColl);
  EXPECT_EQ((*all)[0].object.version_us, kT0);
  EXPECT_FALSE((*all)[0].object.json.empty());
  EXPECT_EQ((*all)[1].collection_id, kOtherColl);
  const Change& deleted = (*all)[2];
  EXPECT_EQ(deleted.kind, Change::Kind::kDeleted);
  EXPECT_EQ(deleted.object.id, IndicatorId(1));
  EXPECT_EQ(deleted.object.version_us, kT0 + kSecond);
  EXPECT_EQ(deleted.collection_id, kColl);
  // The newest change is the deletion (a follower starting "from now" starts there).
  auto last_seq = store_->LastChangeSeq();
  ASSERT_TRUE(last_seq.ok());
  EXPECT_EQ(*last_seq, deleted.seq);

  // Resuming after a seq sees only later changes; type filters apply to both kinds.
  auto later = store_->ListChanges(ChangeQuery{.after_seq = (*all)[0].seq, .types = {}});
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->size(), 2u);
  auto indicators = store_->ListChanges(ChangeQuery{.after_seq = 0, .types = {"indicator"}});
  ASSERT_TRUE(indicators.ok());
  EXPECT_EQ(indicators->size(), 2u);
  auto limited = store_->ListChanges(ChangeQuery{.after_seq = 0, .types = {}, .limit = 2});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);

  // A change made after a deletion still sorts after it.
  ASSERT_TRUE(store_->AddObjects(kColl, {MakeObject(IndicatorId(2), kT0, kT0)}).ok());
  auto newest = store_->ListChanges(ChangeQuery{.after_seq = deleted.seq, .types = {}});
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ(newest->front().object.id, IndicatorId(2));
  EXPECT_EQ(*store_->LastChangeSeq(), newest->front().seq);

  // Deleting a collection records the deletion of everything in it.
  ASSERT_TRUE(store_->DeleteCollection(kOtherColl).ok());
  auto gone = store_->ListChanges(ChangeQuery{.after_seq = newest->front().seq, .types = {}});
  ASSERT_TRUE(gone.ok());
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_EQ(gone->front().kind, Change::Kind::kDeleted);
  EXPECT_EQ(gone->front().collection_id, kOtherColl);
}

TEST_P(StoreConformanceTest, StatusRoundTrip) {
  StatusRecord status;
  status.id = "2d086da7-4bdc-4f91-900e-d77486753710";
  status.status = "pending";
  status.request_timestamp_us = kT0;
  status.user_id = 42;
  status.successes = {{IndicatorId(1), "2023-11-14T22:13:20.000Z", ""},
                      {IndicatorId(2), "2023-11-14T22:13:21.000Z", ""}};
  status.failures = {{IndicatorId(3), "2023-11-14T22:13:22.000Z", "property 'pattern' missing"}};
  status.pendings = {{IndicatorId(4), "2023-11-14T22:13:23.000Z", ""}};
  ASSERT_TRUE(store_->SaveStatus(status).ok());

  auto loaded = store_->GetStatus(status.id);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->status, "pending");
  EXPECT_EQ(loaded->request_timestamp_us, kT0);
  EXPECT_EQ(loaded->user_id, 42);
  ASSERT_EQ(loaded->successes.size(), 2u);
  EXPECT_EQ(loaded->successes[1].id, IndicatorId(2));
  EXPECT_EQ(loaded->successes[1].version, "2023-11-14T22:13:21.000Z");
  ASSERT_EQ(loaded->failures.size(), 1u);
  EXPECT_EQ(loaded->failures[0].message, "property 'pattern' missing");
  ASSERT_EQ(loaded->pendings.size(), 1u);

  // Saving again replaces the record.
  status.status = "complete";
  status.successes.push_back(status.pendings[0]);
  status.pendings.clear();
  ASSERT_TRUE(store_->SaveStatus(status).ok());
  loaded = store_->GetStatus(status.id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->status, "complete");
  EXPECT_EQ(loaded->successes.size(), 3u);
  EXPECT_TRUE(loaded->pendings.empty());

  EXPECT_EQ(store_->GetStatus("9d086da7-4bdc-4f91-900e-d77486753710").status().code(),
            Code::kNotFound);
}

TEST_P(StoreConformanceTest, OrganizationsAndUsers) {
  auto org = store_->EnsureOrganization("CERT-Example");
  ASSERT_TRUE(org.ok());
  EXPECT_GT(org->id, 0);
  EXPECT_EQ(org->identity_id.rfind("identity--", 0), 0u);
  EXPECT_EQ(org->identity_id.size(), std::string("identity--").size() + 36);
  auto again = store_->EnsureOrganization("CERT-Example");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, org->id);
  EXPECT_EQ(again->identity_id, org->identity_id);
  auto other = store_->EnsureOrganization("ISP-Abuse");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->identity_id, org->identity_id);
  auto orgs = store_->ListOrganizations();
  ASSERT_TRUE(orgs.ok());
  ASSERT_EQ(orgs->size(), 2u);
  EXPECT_EQ((*orgs)[0].name, "CERT-Example");
  EXPECT_EQ(store_->EnsureOrganization("").status().code(), Code::kInvalidArgument);

  auto alice = store_->CreateUser("alice", org->id, Role::kAdmin);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->org_name, "CERT-Example");
  EXPECT_EQ(alice->role, Role::kAdmin);
  EXPECT_FALSE(alice->disabled);
  EXPECT_EQ(store_->CreateUser("alice", org->id, Role::kMember).status().code(),
            Code::kAlreadyExists);
  auto other_alice = store_->CreateUser("alice", other->id, Role::kMember);  // other org: fine
  ASSERT_TRUE(other_alice.ok());
  EXPECT_NE(other_alice->id, alice->id);
  EXPECT_EQ(store_->CreateUser("bob", 9999, Role::kMember).status().code(), Code::kNotFound);

  auto found = store_->FindUser("ISP-Abuse", "alice");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, other_alice->id);
  EXPECT_EQ(found->role, Role::kMember);
  EXPECT_EQ(store_->FindUser("ISP-Abuse", "bob").status().code(), Code::kNotFound);

  ASSERT_TRUE(store_->SetUserDisabled(alice->id, true).ok());
  auto got = store_->GetUser(alice->id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->name, "alice");
  EXPECT_EQ(got->org_id, org->id);
  EXPECT_EQ(store_->SetUserDisabled(9999, true).code(), Code::kNotFound);
  EXPECT_EQ(store_->GetUser(9999).status().code(), Code::kNotFound);

  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_TRUE((*users)[0].disabled);
  EXPECT_EQ((*users)[1].org_name, "ISP-Abuse");
}

TEST_P(StoreConformanceTest, ApiKeys) {
  auto org = store_->EnsureOrganization("CERT-Example");
  ASSERT_TRUE(org.ok());
  auto user = store_->CreateUser("alice", org->id, Role::kMember);
  ASSERT_TRUE(user.ok());
  ApiKey key{"k1", user->id, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", kT0, false, "laptop"};
  ASSERT_TRUE(store_->AddApiKey(key).ok());
  ApiKey second{"k2", user->id, "$argon2id$other", kT0 + 1, false, ""};
  ASSERT_TRUE(store_->AddApiKey(second).ok());
  EXPECT_EQ(store_->AddApiKey(key).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->AddApiKey({"k3", 9999, "h", kT0, false, ""}).code(), Code::kNotFound);

  auto got = store_->GetApiKey("k1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->user_id, user->id);
  EXPECT_EQ(got->secret_hash, key.secret_hash);
  EXPECT_EQ(got->created_us, kT0);
  EXPECT_EQ(got->label, "laptop");
  EXPECT_FALSE(got->revoked);

  ASSERT_TRUE(store_->RevokeApiKey("k1").ok());
  EXPECT_TRUE(store_->GetApiKey("k1")->revoked);
  EXPECT_FALSE(store_->GetApiKey("k2")->revoked);
  EXPECT_EQ(store_->RevokeApiKey("nope").code(), Code::kNotFound);
  EXPECT_EQ(store_->GetApiKey("nope").status().code(), Code::kNotFound);

  auto keys = store_->ListApiKeys(user->id);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].key_id, "k1");
  EXPECT_TRUE((*keys)[0].revoked);
  EXPECT_TRUE(store_->ListApiKeys(9999)->empty());

  // A hash is replaced only while it is still the one expected.
  EXPECT_FALSE(*store_->ReplaceApiKeyHash("k2", "$argon2id$stale", "hmac-sha256$new"));
  EXPECT_TRUE(*store_->ReplaceApiKeyHash("k2", "$argon2id$other", "hmac-sha256$new"));
  EXPECT_EQ(store_->GetApiKey("k2")->secret_hash, "hmac-sha256$new");
  EXPECT_FALSE(*store_->ReplaceApiKeyHash("nope", "h", "h2"));
}

TEST_P(StoreConformanceTest, GrantsAreTheUnionOfUserAndOrganization) {
  CreateCollection();
  CreateCollection(kOtherColl);
  auto org = store_->EnsureOrganization("CERT-Example");
  auto user = store_->CreateUser("alice", org->id, Role::kMember);
  auto colleague = store_->CreateUser("carol", org->id, Role::kMember);
  auto outsider_org = store_->EnsureOrganization("Elsewhere");
  auto outsider = store_->CreateUser("dave", outsider_org->id, Role::kMember);
  ASSERT_TRUE(user.ok() && colleague.ok() && outsider.ok());

  auto rights = [&](const User& who, const std::string& collection) {
    auto result = store_->RightsOf(who, collection);
    EXPECT_TRUE(result.ok());
    return std::make_pair(result->can_read, result->can_write);
  };
  EXPECT_EQ(rights(*user, kColl), std::make_pair(false, false));

  ASSERT_TRUE(store_->SetGrant({kColl, user->id, std::nullopt, true, false}).ok());
  ASSERT_TRUE(store_->SetGrant({kColl, std::nullopt, org->id, false, true}).ok());
  EXPECT_EQ(rights(*user, kColl), std::make_pair(true, true));
  EXPECT_EQ(rights(*colleague, kColl), std::make_pair(false, true));
  EXPECT_EQ(rights(*outsider, kColl), std::make_pair(false, false));
  EXPECT_EQ(rights(*user, kOtherColl), std::make_pair(false, false));

  // SetGrant replaces the principal's grant.
  ASSERT_TRUE(store_->SetGrant({kColl, std::nullopt, org->id, true, false}).ok());
  EXPECT_EQ(rights(*colleague, kColl), std::make_pair(true, false));
  EXPECT_EQ(rights(*user, kColl), std::make_pair(true, false));
  auto grants = store_->ListGrants(kColl);
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 2u);
  EXPECT_EQ((*grants)[0].user_id, user->id);
  EXPECT_EQ((*grants)[1].org_id, org->id);
  EXPECT_TRUE((*grants)[1].can_read);
  EXPECT_FALSE((*grants)[1].can_write);

  // Revoking everything removes the grant.
  ASSERT_TRUE(store_->SetGrant({kColl, user->id, std::nullopt, false, false}).ok());
  EXPECT_EQ(store_->ListGrants(kColl)->size(), 1u);

  EXPECT_EQ(store_->SetGrant({kColl, user->id, org->id, true, true}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->SetGrant({kColl, std::nullopt, std::nullopt, true, true}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->SetGrant({"missing", user->id, std::nullopt, true, true}).code(),
            Code::kNotFound);
  EXPECT_EQ(store_->SetGrant({kColl, 9999, std::nullopt, true, true}).code(), Code::kNotFound);
  EXPECT_EQ(store_->ListGrants("missing").status().code(), Code::kNotFound);

  // Grants go with their collection.
  ASSERT_TRUE(store_->DeleteCollection(kColl).ok());
  ASSERT_TRUE(store_->CreateCollection(MakeCollection(kColl)).ok());
  EXPECT_TRUE(store_->ListGrants(kColl)->empty());
  EXPECT_EQ(rights(*colleague, kColl), std::make_pair(false, false));
}

TEST_P(StoreConformanceTest, Meta) {
  auto missing = store_->GetMeta("node.name");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(store_->SetMeta("node.name", "kizuna-jp").ok());
  ASSERT_TRUE(store_->SetMeta("node.name", "kizuna-fr").ok());
  ASSERT_TRUE(store_->SetMeta("empty", "").ok());
  EXPECT_EQ(store_->GetMeta("node.name")->value_or(""), "kizuna-fr");
  ASSERT_TRUE(store_->GetMeta("empty")->has_value());
  EXPECT_EQ(**store_->GetMeta("empty"), "");
  // GetOrSetMeta keeps the first value.
  EXPECT_EQ(*store_->GetOrSetMeta("secret", "first"), "first");
  EXPECT_EQ(*store_->GetOrSetMeta("secret", "second"), "first");
  EXPECT_EQ(*store_->GetOrSetMeta("node.name", "x"), "kizuna-fr");
  // SetMetas: several at once, an existing key replaced.
  ASSERT_TRUE(store_->SetMetas({{"a", "1"}, {"b", "2"}, {"node.name", "kizuna-es"}}).ok());
  EXPECT_EQ(store_->GetMeta("a")->value_or(""), "1");
  EXPECT_EQ(store_->GetMeta("b")->value_or(""), "2");
  EXPECT_EQ(store_->GetMeta("node.name")->value_or(""), "kizuna-es");
  EXPECT_TRUE(store_->SetMetas({}).ok());
}

// Two handles on one store (like the CLI and the server): interleaved writes
// keep date_added strictly increasing and each sees the other's data.
TEST_P(StoreConformanceTest, TwoHandlesShareOneStore) {
  CreateCollection();
  auto second_or = harness_->Open(nullptr);
  ASSERT_TRUE(second_or.ok()) << second_or.status().ToString();
  std::unique_ptr<Store> second = std::move(second_or).value();
  EXPECT_TRUE(second->GetCollection(kColl).ok());

  std::vector<int64_t> dates;
  for (int i = 0; i < 20; ++i) {
    Store& writer = i % 2 == 0 ? *store_ : *second;
    auto result = writer.AddObjects(kColl, {MakeObject(IndicatorId(i), kT0, kT0)});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    dates.push_back(result->date_added_us[0]);
  }
  for (size_t i = 1; i < dates.size(); ++i) EXPECT_LT(dates[i - 1], dates[i]);
  EXPECT_EQ(*store_->CountObjects(kColl), 20);
  EXPECT_EQ(*second->CountObjects(kColl), 20);
  ASSERT_TRUE(second->SetMeta("k", "v").ok());
  EXPECT_EQ(store_->GetMeta("k")->value_or(""), "v");
}

TEST_P(StoreConformanceTest, ConcurrentWritersAndReaders) {
  CreateCollection();
  constexpr int kWriters = 4;
  constexpr int kBatches = 15;
  constexpr int kBatchSize = 10;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<NewObject> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(MakeObject(IndicatorId((w * kBatches + b) * kBatchSize + i), kT0, kT0));
        }
        if (!store_->AddObjects(kColl, batch).ok()) failed = true;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < 30; ++i) {
        ObjectQuery query;
        query.limit = 50;
        if (!store_->QueryObjects(kColl, query).ok()) failed = true;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(failed);
  ObjectPage page = Query({});
  ASSERT_EQ(page.objects.size(), static_cast<size_t>(kWriters * kBatches * kBatchSize));
  std::set<std::string> ids;
  for (size_t i = 0; i < page.objects.size(); ++i) {
    ids.insert(page.objects[i].id);
    if (i > 0) {
      ASSERT_LT(page.objects[i - 1].date_added_us, page.objects[i].date_added_us);
    }
  }
  EXPECT_EQ(ids.size(), page.objects.size());
}

}  // namespace
}  // namespace kizuna::store
