// RateLimiter: one token bucket per key (an authenticated user's id), for
// the node's per-identity limits on heavy routes. A bucket holds up to
// `burst` tokens and refills at `rate_per_second`; each request takes one.
// An empty bucket answers how long until the next token (the 429's
// Retry-After).
//
// Memory is bounded: at most `max_keys` buckets. A bucket that has refilled
// completely is the same as no bucket, so it is dropped when room is needed;
// when every bucket is still partly used, the one used least recently goes
// (its key starts again with a full bucket — a generous error, never a
// refusal of someone who did nothing).
//
// Defaults: 5 requests per second, bursts of 20, 10,000 keys (the node's
// [limits] heavy_requests_per_second and heavy_burst). rate_per_second 0
// turns the limiter off (every Acquire is allowed).
//
// Thread-safety: every method may be called from any thread (one mutex).
// Ownership: the clock is not owned and must outlive the limiter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/time.h"

namespace kizuna {

struct RateLimiterOptions {
  double rate_per_second = 5;  // 0: unlimited
  double burst = 20;           // at least 1
  size_t max_keys = 10000;     // at least 1
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterOptions options = {},
                       const Clock& clock = SystemClock::Instance());
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  struct Decision {
    bool allowed = true;
    // When refused: whole seconds until a token is back (at least 1).
    int64_t retry_after_seconds = 0;
  };
  // Takes a token from `key`'s bucket, if it has one.
  Decision Acquire(std::string_view key);

  bool enabled() const { return options_.rate_per_second > 0; }
  size_t tracked_keys() const;  // buckets held now (for tests)

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated_us = 0;  // when `tokens` was last brought up to date
  };
  // Brings `bucket` up to `now_us`.
  void Refill(Bucket& bucket, int64_t now_us) const;
  // Makes room for one more bucket (mu_ held).
  void Evict(int64_t now_us);

  const RateLimiterOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace kizuna
