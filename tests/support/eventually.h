// Waiting on observable state in tests: polls a condition until it holds,
// false after `timeout` (a hang detector, never a speed claim).
#pragma once

#include <chrono>
#include <thread>

namespace kizuna::test_support {

template <typename Condition>
bool Eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace kizuna::test_support
