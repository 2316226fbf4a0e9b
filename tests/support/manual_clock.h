// A clock a test sets and advances by hand, for code that takes a Clock.
// Thread-safe (the code under test may read it from its own threads).
#pragma once

#include <atomic>
#include <cstdint>

#include "common/time.h"

namespace kizuna::test_support {

class ManualClock : public Clock {
 public:
  // 2023-11-14T22:13:20Z by default.
  explicit ManualClock(int64_t now_us = 1'700'000'000'000'000) : now_us_(now_us) {}
  int64_t NowMicros() const override { return now_us_.load(); }
  void Set(int64_t now_us) { now_us_.store(now_us); }
  void Advance(int64_t micros) { now_us_ += micros; }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace kizuna::test_support
