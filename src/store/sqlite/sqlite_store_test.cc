// The sqlite store: the conformance suite, plus what only this backend has:
// schema migrations, query plans, several processes on one file, and
// durability of acknowledged writes across kill -9.
#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/store_conformance_test.h"
#include "tests/support/temp_dir.h"

namespace kizuna::store {
namespace {

using ::testing::HasSubstr;

// A directory under $TMPDIR (or /tmp) removed with everything in it.
using sqlite::Connection;
using test_support::TempDir;

class SqliteHarness : public StoreHarness {
 public:
  Result<std::unique_ptr<Store>> Open(const Clock* clock) override {
    if (dir_.path().empty()) return IoError("mkdtemp failed");
    SqliteOptions options;
    options.clock = clock;
    return OpenSqliteStore(dir_.path() + "/store.db", options);
  }

 private:
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(StoreHarnessFactory([] {
                           return std::make_unique<SqliteHarness>();
                         })));

constexpr const char* kCollectionId = "0c6b5b7a-3a43-4f6e-8d52-9f2f5c1a0d11";

std::string IndicatorId(int64_t n) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012lld",
                static_cast<long long>(n));
  return id;
}

NewObject MakeIndicator(int64_t n) {
  NewObject object;
  object.info.id = IndicatorId(n);
  object.info.type = "indicator";
  object.info.spec_version = "2.1";
  object.info.created_us = kT0;
  object.info.modified_us = kT0;
  object.json = R"({"type":"indicator","spec_version":"2.1","id":")" + object.info.id +
                R"(","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix"})";
  return object;
}

// Raw access to the database file, for what the Store interface hides.
class RawDb {
 public:
  explicit RawDb(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawDb() { sqlite3_close_v2(db_); }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_free(error);
  }
  // The first column of every row of `sql`, as text.
  std::vector<std::string> Column(const std::string& sql, int column = 0) {
    std::vector<std::string> values;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, column);
      values.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    sqlite3_finalize(stmt);
    return values;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  std::string DbPath() const { return dir_.path() + "/store.db"; }
  std::unique_ptr<Store> OpenOrDie(const SqliteOptions& options = {}) {
    auto store = OpenSqliteStore(DbPath(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  void CreateCollection(Store& store) {
    Collection collection;
    collection.id = kCollectionId;
    collection.title = "default";
    ASSERT_TRUE(store.CreateCollection(collection).ok());
  }
  // The date_added of every stored version, in date_added order.
  static std::vector<int64_t> AllDates(Store& store) {
    ObjectQuery query;
    query.version_all = true;
    query.include_json = false;
    auto page = store.QueryObjects(kCollectionId, query);
    EXPECT_TRUE(page.ok());
    std::vector<int64_t> dates;
    if (page.ok()) {
      for (const StoredObject& object : page->objects) dates.push_back(object.date_added_us);
    }
    return dates;
  }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, MigratesAnEmptyFileAndReopens) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    CreateCollection(*store);
    ASSERT_TRUE(store->AddObjects(kCollectionId, {MakeIndicator(1)}).ok());
  }
  {
    RawDb raw(DbPath());
    EXPECT_EQ(raw.Column("PRAGMA user_version"),
              std::vector<std::string>{std::to_string(SqliteSchemaVersion())});
    EXPECT_EQ(raw.Column("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  }
  EXPECT_EQ(SqliteSchemaVersion(), static_cast<int>(sqlite::Migrations().size()));
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->CountObjects(kCollectionId), 1);
}

TEST_F(SqliteStoreTest, RefusesASchemaNewerThanThisBuild) {
  { ASSERT_NE(OpenOrDie(), nullptr); }
  {
    RawDb raw(DbPath());
    raw.Exec("PRAGMA user_version = " + std::to_string(SqliteSchemaVersion() + 1));
  }
  auto store = OpenSqliteStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("newer kizuna"));
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabase) {
  FILE* file = std::fopen(DbPath().c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("this is not an sqlite database, just some text that is long enough.......", file);
  std::fclose(file);
  auto store = OpenSqliteStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kIoError);
}

TEST_F(SqliteStoreTest, RejectsAnUnknownSynchronousLevel) {
  SqliteOptions options;
  options.synchronous = "SOMETIMES";
  auto store = OpenSqliteStore(DbPath(), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kInvalidArgument);
}

// A page size asked for applies to a file created then; a file that exists
// keeps its own, and its WAL is checkpointed every 32 MiB either way.
TEST_F(SqliteStoreTest, ANewPageSizeAppliesToANewFileOnly) {
  auto query = [](Connection& c, const std::string& pragma) -> int64_t {
    auto statement = c.Prepare("PRAGMA " + pragma);
    if (!statement.ok() || !*statement->Step()) return -1;
    return statement->ColumnInt(0);
  };
  const std::string old_file = DbPath() + ".old";
  {
    auto c = Connection::Open(old_file, "NORMAL", 1000, 1024);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Exec("CREATE TABLE t(x)").ok());
    EXPECT_EQ(query(**c, "page_size"), 4096);
    EXPECT_EQ(query(**c, "wal_autocheckpoint"), 8192);
  }
  auto reopened = Connection::Open(old_file, "NORMAL", 1000, 1024, 65536);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(query(**reopened, "page_size"), 4096);
  auto fresh = Connection::Open(DbPath() + ".new", "NORMAL", 1000, 1024, 65536);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->Exec("CREATE TABLE t(x)").ok());
  EXPECT_EQ(query(**fresh, "page_size"), 65536);
  EXPECT_EQ(query(**fresh, "wal_autocheckpoint"), 512);
  EXPECT_FALSE(Connection::Open(DbPath() + ".bad", "NORMAL", 1000, 1024, 3000).ok());
}

// The main queries of the TAXII layer are index lookups, never table scans
// or sorts. The SQL mirrors what SqliteStore builds.
TEST_F(SqliteStoreTest, MainQueriesUseIndexes) {
  { ASSERT_NE(OpenOrDie(), nullptr); }
  RawDb raw(DbPath());
  const std::string select =
      "EXPLAIN QUERY PLAN SELECT date_added_us, object_id, type, spec_version, version_us, tlp, "
      "created_by_ref, json FROM objects WHERE collection_pk = 1 AND date_added_us > 5";
  const std::string order = " ORDER BY date_added_us LIMIT 1001";
  const std::string by_id =
      "EXPLAIN QUERY PLAN SELECT date_added_us, object_id, type, spec_version, version_us, tlp, "
      "created_by_ref, json FROM objects INDEXED BY objects_by_version WHERE collection_pk = 1 "
      "AND date_added_us > 5";
  struct Case {
    std::string sql;
    std::string index;
    bool sorts = false;  // a few rows by id may be sorted by date_added
  };
  const std::vector<Case> cases = {
      {select + " AND is_last = 1" + order, "objects_last_by_date"},
      {select + " AND is_first = 1" + order, "objects_first_by_date"},
      {select + order, "objects_by_date"},
      {select + " AND type = 'indicator' AND is_last = 1" + order, "objects_last_by_type"},
      {select + " AND type = 'indicator'" + order, "objects_by_type"},
      {by_id + " AND object_id = 'indicator--x' AND is_last = 1" + order, "objects_by_version",
       true},
      {by_id + " AND object_id IN ('indicator--x', 'indicator--y') AND version_us IN (1, 2)" +
           order,
       "objects_by_version", true},
      {"EXPLAIN QUERY PLAN DELETE FROM objects WHERE collection_pk = 1 AND "
       "object_id = 'indicator--x' AND is_last = 1",
       "objects_by_version"},
      {"EXPLAIN QUERY PLAN SELECT date_added_us FROM objects WHERE collection_pk = 1 "
       "AND object_id = 'indicator--x' AND version_us = 7",
       "objects_by_version"},
      {"EXPLAIN QUERY PLAN SELECT max(version_us) FROM objects WHERE collection_pk = 1 "
       "AND object_id = 'indicator--x'",
       "objects_by_version"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> plan = raw.Column(c.sql, 3);
    std::string joined;
    for (const std::string& line : plan) joined += line + "; ";
    EXPECT_THAT(joined, HasSubstr(c.index)) << c.sql;
    if (!c.sorts) {
      EXPECT_THAT(joined, ::testing::Not(HasSubstr("TEMP B-TREE"))) << c.sql;
    }
    EXPECT_THAT(joined, ::testing::Not(HasSubstr("SCAN objects;"))) << c.sql;
  }
}

// Two processes write the same store at the same time: date_added stays
// strictly increasing and each sees all objects.
TEST_F(SqliteStoreTest, TwoProcessesInterleaveWrites) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    CreateCollection(*store);
  }
  constexpr int kPerProcess = 100;
  auto write_objects = [&](int64_t first_id) {
    auto store = OpenSqliteStore(DbPath());
    if (!store.ok()) return false;
    for (int i = 0; i < kPerProcess; ++i) {
      if (!(*store)->AddObjects(kCollectionId, {MakeIndicator(first_id + i)}).ok()) return false;
    }
    return true;
  };
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(write_objects(100000) ? 0 : 1);
  EXPECT_TRUE(write_objects(0));
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);

  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::vector<int64_t> dates = AllDates(*store);
  ASSERT_EQ(dates.size(), 2u * kPerProcess);
  for (size_t i = 1; i < dates.size(); ++i) ASSERT_LT(dates[i - 1], dates[i]);
}

// What AddObjects acknowledged survives kill -9 of the writing process.
TEST_F(SqliteStoreTest, AcknowledgedObjectsSurviveKill9) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    CreateCollection(*store);
  }  // no connection may cross the fork
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  constexpr int64_t kBatch = 50;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    auto store = OpenSqliteStore(DbPath());
    if (!store.ok()) _exit(2);
    for (int64_t acknowledged = 0;; acknowledged += kBatch) {
      std::vector<NewObject> batch;
      for (int64_t i = 0; i < kBatch; ++i) batch.push_back(MakeIndicator(acknowledged + i));
      if (!(*store)->AddObjects(kCollectionId, batch).ok()) _exit(3);
      int64_t count = acknowledged + kBatch;
      if (write(pipe_fds[1], &count, sizeof count) != sizeof count) _exit(4);
    }
  }
  close(pipe_fds[1]);
  int64_t acknowledged = 0;
  for (int reads = 0; reads < 5; ++reads) {
    ASSERT_EQ(read(pipe_fds[0], &acknowledged, sizeof acknowledged),
              static_cast<ssize_t>(sizeof acknowledged));
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "the writer stopped before it was killed";
  // Acknowledgements written before the kill.
  int64_t later = 0;
  while (read(pipe_fds[0], &later, sizeof later) == static_cast<ssize_t>(sizeof later)) {
    acknowledged = later;
  }
  close(pipe_fds[0]);

  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ObjectQuery query;
  query.include_json = false;
  auto page = store->QueryObjects(kCollectionId, query);
  ASSERT_TRUE(page.ok());
  std::set<std::string> stored;
  for (const StoredObject& object : page->objects) stored.insert(object.id);
  ASSERT_GE(static_cast<int64_t>(stored.size()), acknowledged);
  for (int64_t i = 0; i < acknowledged; ++i) {
    ASSERT_TRUE(stored.count(IndicatorId(i))) << "acknowledged object " << i << " lost";
  }
  // The store still works after the crash.
  ASSERT_TRUE(store->AddObjects(kCollectionId, {MakeIndicator(acknowledged + 1000)}).ok());
  std::vector<int64_t> dates = AllDates(*store);
  for (size_t i = 1; i < dates.size(); ++i) ASSERT_LT(dates[i - 1], dates[i]);
}

}  // namespace
}  // namespace kizuna::store
