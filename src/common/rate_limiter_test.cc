#include "common/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace kizuna {
namespace {

class FakeClock : public Clock {
 public:
  int64_t NowMicros() const override { return now_; }
  void AdvanceMillis(int64_t ms) { now_ += ms * 1000; }

 private:
  int64_t now_ = 1'700'000'000'000'000;
};

TEST(RateLimiter, AllowsABurstThenRefusesWithRetryAfter) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 2, .burst = 3, .max_keys = 10}, clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Acquire("alice").allowed) << i;
  RateLimiter::Decision refused = limiter.Acquire("alice");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  // Half a second refills one token at 2/s.
  clock.AdvanceMillis(500);
  EXPECT_TRUE(limiter.Acquire("alice").allowed);
  EXPECT_FALSE(limiter.Acquire("alice").allowed);
}

TEST(RateLimiter, RetryAfterIsWholeSecondsUntilTheNextToken) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 0.25, .burst = 1, .max_keys = 10}, clock);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_EQ(limiter.Acquire("k").retry_after_seconds, 4);
  clock.AdvanceMillis(2500);
  EXPECT_EQ(limiter.Acquire("k").retry_after_seconds, 2);
}

TEST(RateLimiter, KeysHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 1, .burst = 1, .max_keys = 10}, clock);
  EXPECT_TRUE(limiter.Acquire("alice").allowed);
  EXPECT_FALSE(limiter.Acquire("alice").allowed);
  EXPECT_TRUE(limiter.Acquire("bob").allowed);
}

TEST(RateLimiter, RefillsNoMoreThanTheBurst) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 10, .burst = 2, .max_keys = 10}, clock);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  clock.AdvanceMillis(60'000);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_FALSE(limiter.Acquire("k").allowed);
}

TEST(RateLimiter, AClockThatStepsBackAddsNothing) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 1, .burst = 1, .max_keys = 10}, clock);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  clock.AdvanceMillis(-10'000);
  EXPECT_FALSE(limiter.Acquire("k").allowed);
}

TEST(RateLimiter, ZeroRateIsUnlimited) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 0, .burst = 1, .max_keys = 1}, clock);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.Acquire("k" + std::to_string(i)).allowed);
  EXPECT_EQ(limiter.tracked_keys(), 0u);
}

TEST(RateLimiter, MemoryIsBoundedByMaxKeys) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 1, .burst = 2, .max_keys = 100}, clock);
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_TRUE(limiter.Acquire("user-" + std::to_string(i)).allowed);
    EXPECT_LE(limiter.tracked_keys(), 100u);
  }
}

TEST(RateLimiter, EvictsRefilledBucketsBeforeBusyOnes) {
  FakeClock clock;
  RateLimiter limiter({.rate_per_second = 1, .burst = 2, .max_keys = 2}, clock);
  // "busy" drains its bucket; "idle" uses one token, then refills.
  EXPECT_TRUE(limiter.Acquire("idle").allowed);
  clock.AdvanceMillis(1000);
  EXPECT_TRUE(limiter.Acquire("busy").allowed);
  EXPECT_TRUE(limiter.Acquire("busy").allowed);
  EXPECT_FALSE(limiter.Acquire("busy").allowed);
  // A third key needs room: the refilled "idle" goes, "busy" stays empty.
  EXPECT_TRUE(limiter.Acquire("third").allowed);
  EXPECT_EQ(limiter.tracked_keys(), 2u);
  EXPECT_FALSE(limiter.Acquire("busy").allowed);
}

}  // namespace
}  // namespace kizuna
