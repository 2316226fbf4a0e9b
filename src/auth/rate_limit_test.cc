#include "auth/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/manual_clock.h"

namespace kizuna::auth {
namespace {

FailureLimits Limits(int per_address, int per_key_id, size_t max_tracked = 100) {
  FailureLimits limits;
  limits.per_address = per_address;
  limits.per_key_id = per_key_id;
  limits.window_us = 10'000'000;
  limits.max_tracked = max_tracked;
  return limits;
}

TEST(FailureLimiter, SlidingWindowPerAddressAndPerKeyId) {
  test_support::ManualClock clock{1'000'000'000};
  FailureLimiter limiter(Limits(3, 2), clock);
  EXPECT_EQ(limiter.AddressRetryAfterUs("192.0.2.1"), 0);
  limiter.RecordFailure("192.0.2.1", "k1");
  clock.Advance(1'000'000);
  limiter.RecordFailure("192.0.2.1", "k1");
  EXPECT_EQ(limiter.AddressRetryAfterUs("192.0.2.1"), 0);  // 2 < 3
  EXPECT_EQ(limiter.KeyRetryAfterUs("k1"), 9'000'000);     // 2 ≥ 2: the first leaves at 10 s
  clock.Advance(1'000'000);
  limiter.RecordFailure("192.0.2.1", "");  // no key id: the address only
  EXPECT_EQ(limiter.AddressRetryAfterUs("192.0.2.1"), 8'000'000);
  EXPECT_EQ(limiter.AddressRetryAfterUs("192.0.2.2"), 0);  // other names are independent
  EXPECT_EQ(limiter.KeyRetryAfterUs("k2"), 0);
  clock.Advance(8'000'000);  // t = 10 s: the first failure leaves the window
  EXPECT_EQ(limiter.AddressRetryAfterUs("192.0.2.1"), 0);
  EXPECT_EQ(limiter.KeyRetryAfterUs("k1"), 0);
  limiter.RecordFailure("192.0.2.1", "k1");
  EXPECT_EQ(limiter.AddressRetryAfterUs("192.0.2.1"), 1'000'000);  // 1 s, 2 s, 10 s
  EXPECT_EQ(limiter.KeyRetryAfterUs("k1"), 1'000'000);
}

TEST(FailureLimiter, ForgetsExpiredNames) {
  test_support::ManualClock clock{1'000'000'000};
  FailureLimiter limiter(Limits(3, 3), clock);
  limiter.RecordFailure("192.0.2.1", "k1");
  EXPECT_EQ(limiter.tracked_addresses(), 1u);
  clock.Advance(10'000'000);
  EXPECT_EQ(limiter.AddressRetryAfterUs("192.0.2.1"), 0);
  EXPECT_EQ(limiter.KeyRetryAfterUs("k1"), 0);
  EXPECT_EQ(limiter.tracked_addresses(), 0u);
  EXPECT_EQ(limiter.tracked_key_ids(), 0u);
}

TEST(FailureLimiter, BoundedTablesEvictTheLeastRecentlyFailed) {
  test_support::ManualClock clock{1'000'000'000};
  FailureLimiter limiter(Limits(2, 2, /*max_tracked=*/3), clock);
  for (const char* address : {"a", "b", "c"}) {
    limiter.RecordFailure(address, address);
    limiter.RecordFailure(address, address);
    clock.Advance(1);
  }
  limiter.RecordFailure("a", "");  // "a" is now the most recent; "b" the oldest
  EXPECT_EQ(limiter.tracked_addresses(), 3u);
  limiter.RecordFailure("d", "d");
  EXPECT_EQ(limiter.tracked_addresses(), 3u);
  EXPECT_EQ(limiter.tracked_key_ids(), 3u);
  EXPECT_EQ(limiter.AddressRetryAfterUs("b"), 0);  // evicted
  EXPECT_GT(limiter.AddressRetryAfterUs("a"), 0);
  EXPECT_GT(limiter.AddressRetryAfterUs("c"), 0);
  EXPECT_EQ(limiter.KeyRetryAfterUs("a"), 0);  // the key table's oldest was "a"
  EXPECT_GT(limiter.KeyRetryAfterUs("b"), 0);
  for (int i = 0; i < 1000; ++i) limiter.RecordFailure("x" + std::to_string(i), "y");
  EXPECT_EQ(limiter.tracked_addresses(), 3u);
}

TEST(FailureLimiter, ConcurrentFailuresAreAllCounted) {
  test_support::ManualClock clock{1'000'000'000};
  FailureLimiter limiter(Limits(4000, 4000), clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter, t] {
      for (int i = 0; i < 1000; ++i) {
        limiter.RecordFailure("shared", "k");
        limiter.RecordFailure("own" + std::to_string(t), "");
        (void)limiter.AddressRetryAfterUs("shared");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(limiter.AddressRetryAfterUs("shared"), 10'000'000);  // exactly 4000 recorded
  EXPECT_EQ(limiter.KeyRetryAfterUs("k"), 10'000'000);
  EXPECT_EQ(limiter.tracked_addresses(), 5u);
}

}  // namespace
}  // namespace kizuna::auth
