// Failed authentications, counted per source address and per key id, so that
// guessing costs the guesser more than it costs the node.
//
// Each table keeps, per name (an address, a key id), the times of its most
// recent failures: a sliding log of at most `limit` entries. A name is
// "limited" while it has `limit` failures younger than `window`; RetryAfter
// then says when the oldest of them leaves the window. Only failures are
// recorded: a success neither counts nor clears anything (an attacker holding
// one valid key cannot reset its address's count with it).
//
// Memory is bounded: each table tracks at most `max_tracked` names; a new
// name beyond that evicts the one whose last failure is oldest. (Flooding a
// table with fresh names therefore forgets old ones: that caps memory at the
// price of letting a determined guesser reset another name's count, which
// only restores the few attempts the limit allows.)
//
// How Authenticator (auth.h) applies the two tables is documented there.
//
// Thread-safe: one mutex guards both tables; every operation is O(log n) in
// the number of tracked names plus O(limit).
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/time.h"

namespace kizuna::auth {

struct FailureLimits {
  // Failures from one source address within `window` after which its
  // further attempts get 429 without being verified.
  int per_address = 30;
  // Failures for one key id (from any address, unknown ids alike) within
  // `window` after which its further failures are answered 429.
  int per_key_id = 10;
  int64_t window_us = 60'000'000;  // one minute
  // Names tracked per table (addresses, key ids); the oldest is evicted.
  size_t max_tracked = 10'000;
};

class FailureLimiter {
 public:
  // `clock` must outlive the limiter.
  explicit FailureLimiter(FailureLimits limits = {}, const Clock& clock = SystemClock::Instance());

  // Microseconds until `address` / `key_id` is under its limit again; 0 when
  // it is under it now.
  int64_t AddressRetryAfterUs(std::string_view address);
  int64_t KeyRetryAfterUs(std::string_view key_id);

  // Records one failure for `address` and, when not empty, `key_id`.
  void RecordFailure(std::string_view address, std::string_view key_id);

  size_t tracked_addresses() const;
  size_t tracked_key_ids() const;
  const FailureLimits& limits() const { return limits_; }

 private:
  // One table: name → its recent failure times, with least-recently-failed
  // order for eviction.
  class Table {
   public:
    Table(int limit, size_t max_tracked) : limit_(limit), max_tracked_(max_tracked) {}
    void Record(std::string_view name, int64_t now_us);
    int64_t RetryAfterUs(std::string_view name, int64_t now_us, int64_t window_us);
    size_t size() const { return entries_.size(); }

   private:
    struct Entry {
      std::deque<int64_t> times;  // oldest first, at most limit_
      std::list<std::string>::iterator order;
    };
    int limit_;
    size_t max_tracked_;
    std::map<std::string, Entry, std::less<>> entries_;
    std::list<std::string> order_;  // least recently failed first
  };

  const FailureLimits limits_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  Table addresses_;  // GUARDED_BY(mutex_)
  Table key_ids_;    // GUARDED_BY(mutex_)
};

}  // namespace kizuna::auth
