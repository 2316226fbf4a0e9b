#include "alerts/id_table.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace kizuna::alerts {
namespace {

// Ids as the ingester's are: spread over the whole 64-bit range.
int64_t IdOf(uint64_t n) { return static_cast<int64_t>((n + 1) * 0xD6E8FEB86659FD93ULL); }

TEST(IdTable, FindsWhatWasPutAcrossGrowthAndAfterClearFindsNothingUntilPutAgain) {
  IdTable table;
  EXPECT_FALSE(table.Find(IdOf(1)).has_value());
  constexpr uint64_t kIds = 10000;  // grows from 1,024 slots several times
  for (uint64_t n = 0; n < kIds; ++n) table.Put(IdOf(n), n);
  table.Put(0, 7);  // a valid id, kept apart
  table.Put(IdOf(5), 55);
  EXPECT_EQ(table.size(), kIds + 1);
  for (uint64_t n = 0; n < kIds; ++n) ASSERT_EQ(table.Find(IdOf(n)), n == 5 ? 55 : n) << n;
  EXPECT_EQ(table.Find(0), 7u);
  EXPECT_FALSE(table.Find(IdOf(kIds)).has_value());

  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.Find(0).has_value());
  for (uint64_t n = 0; n < kIds; ++n) ASSERT_FALSE(table.Find(IdOf(n)).has_value()) << n;
  // Filled again (as the next batch does), with other ids and values.
  for (uint64_t n = kIds; n < 3 * kIds; ++n) table.Put(IdOf(n), n + 1);
  EXPECT_EQ(table.size(), 2 * kIds);
  for (uint64_t n = kIds; n < 3 * kIds; ++n) ASSERT_EQ(table.Find(IdOf(n)), n + 1) << n;
  EXPECT_FALSE(table.Find(IdOf(0)).has_value());
}

}  // namespace
}  // namespace kizuna::alerts
