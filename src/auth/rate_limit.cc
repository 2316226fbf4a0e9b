#include "auth/rate_limit.h"

#include <algorithm>

namespace kizuna::auth {

FailureLimiter::FailureLimiter(FailureLimits limits, const Clock& clock)
    : limits_(limits),
      clock_(clock),
      addresses_(std::max(1, limits.per_address), std::max<size_t>(1, limits.max_tracked)),
      key_ids_(std::max(1, limits.per_key_id), std::max<size_t>(1, limits.max_tracked)) {}

int64_t FailureLimiter::AddressRetryAfterUs(std::string_view address) {
  std::lock_guard lock(mutex_);
  return addresses_.RetryAfterUs(address, clock_.NowMicros(), limits_.window_us);
}

int64_t FailureLimiter::KeyRetryAfterUs(std::string_view key_id) {
  std::lock_guard lock(mutex_);
  return key_ids_.RetryAfterUs(key_id, clock_.NowMicros(), limits_.window_us);
}

void FailureLimiter::RecordFailure(std::string_view address, std::string_view key_id) {
  std::lock_guard lock(mutex_);
  const int64_t now = clock_.NowMicros();
  addresses_.Record(address, now);
  if (!key_id.empty()) key_ids_.Record(key_id, now);
}

size_t FailureLimiter::tracked_addresses() const {
  std::lock_guard lock(mutex_);
  return addresses_.size();
}

size_t FailureLimiter::tracked_key_ids() const {
  std::lock_guard lock(mutex_);
  return key_ids_.size();
}

void FailureLimiter::Table::Record(std::string_view name, int64_t now_us) {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    while (entries_.size() >= max_tracked_ && !order_.empty()) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.emplace_back(name);
    it = entries_.emplace(std::string(name), Entry{{}, std::prev(order_.end())}).first;
  } else {
    order_.splice(order_.end(), order_, it->second.order);
  }
  std::deque<int64_t>& times = it->second.times;
  times.push_back(now_us);
  while (times.size() > static_cast<size_t>(limit_)) times.pop_front();
}

int64_t FailureLimiter::Table::RetryAfterUs(std::string_view name, int64_t now_us,
                                            int64_t window_us) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return 0;
  std::deque<int64_t>& times = it->second.times;
  while (!times.empty() && times.front() + window_us <= now_us) times.pop_front();
  if (times.empty()) {  // nothing left to remember
    order_.erase(it->second.order);
    entries_.erase(it);
    return 0;
  }
  if (times.size() < static_cast<size_t>(limit_)) return 0;
  return times.front() + window_us - now_us;
}

}  // namespace kizuna::auth
