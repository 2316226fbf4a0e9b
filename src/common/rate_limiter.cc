#include "common/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace kizuna {

RateLimiter::RateLimiter(RateLimiterOptions options, const Clock& clock)
    : options_([&] {
        options.burst = std::max(1.0, options.burst);
        options.max_keys = std::max<size_t>(1, options.max_keys);
        options.rate_per_second = std::max(0.0, options.rate_per_second);
        return options;
      }()),
      clock_(clock) {}

void RateLimiter::Refill(Bucket& bucket, int64_t now_us) const {
  if (now_us <= bucket.updated_us) return;  // a clock that stepped back adds nothing
  const double elapsed = static_cast<double>(now_us - bucket.updated_us) / 1e6;
  bucket.tokens = std::min(options_.burst, bucket.tokens + elapsed * options_.rate_per_second);
  bucket.updated_us = now_us;
}

void RateLimiter::Evict(int64_t now_us) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now_us);
    it = it->second.tokens >= options_.burst ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < options_.max_keys) return;
  auto oldest = std::min_element(
      buckets_.begin(), buckets_.end(),
      [](const auto& a, const auto& b) { return a.second.updated_us < b.second.updated_us; });
  if (oldest != buckets_.end()) buckets_.erase(oldest);
}

RateLimiter::Decision RateLimiter::Acquire(std::string_view key) {
  if (!enabled()) return {};
  const int64_t now_us = clock_.NowMicros();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) Evict(now_us);
    it = buckets_.emplace(std::string(key), Bucket{options_.burst, now_us}).first;
  }
  Bucket& bucket = it->second;
  Refill(bucket, now_us);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {};
  }
  const double wait = (1 - bucket.tokens) / options_.rate_per_second;
  return {false, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)))};
}

size_t RateLimiter::tracked_keys() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace kizuna
