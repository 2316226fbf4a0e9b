// The conformance suite every Store backend must pass. A backend's test file
// provides a StoreHarness (how to make a fresh, empty store and how to open a
// second handle on it, like another process would) and instantiates the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
//                            ::testing::Values(StoreHarnessFactory(&MakeSqliteHarness)));
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/time.h"
#include "store/store.h"
#include "tests/support/manual_clock.h"

namespace kizuna::store {

// One fresh, empty store for one test. Destroying the harness removes it.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Opens a handle on the harness's store using `clock` for date_added
  // (nullptr: the system clock). May be called more than once: each handle
  // sees the others' committed changes.
  virtual Result<std::unique_ptr<Store>> Open(const Clock* clock) = 0;
};

using StoreHarnessFactory = std::function<std::unique_ptr<StoreHarness>()>;

// The tests' first "now": 2023-11-14, in microseconds.
inline constexpr int64_t kT0 = 1'700'000'000'000'000;

using FakeClock = test_support::ManualClock;

class StoreConformanceTest : public ::testing::TestWithParam<StoreHarnessFactory> {
 public:
  static constexpr const char* kCollectionId = "5f0a9b47-8c26-4a6d-9c1e-2f6a1d3b7e01";

 protected:
  void SetUp() override;
  void TearDown() override;
  // Reopens store_ with another clock (the data stays).
  void UseClock(const Clock* clock);

  // Helpers that fail the test on a non-ok result.
  void CreateCollection(const std::string& id = kCollectionId);
  AddResult Add(const std::vector<NewObject>& objects,
                const std::string& collection = kCollectionId);
  ObjectPage Query(const ObjectQuery& query, const std::string& collection = kCollectionId);
  static ObjectQuery AllVersions();

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<Store> store_;
};

}  // namespace kizuna::store
