// Whether this build runs under AddressSanitizer (scripts/test.sh
// --sanitize), for tests whose size is their point.
//
// A scale test (a week of traffic, a thousand ports over eight days) checks
// behaviour at a size; the sanitizers look for memory and undefined-behaviour
// errors, which the smaller tests of the same code find as well, ten times
// slower. Such a test skips itself there and runs in the normal build; a
// command a test waits for gets more time there.
#pragma once

#include <chrono>

namespace kizuna::test_support {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderSanitizers = true;
#else
inline constexpr bool kUnderSanitizers = false;
#endif

// How much longer things take under the sanitizers (for a deadline).
inline constexpr int kSanitizerSlowdown = kUnderSanitizers ? 3 : 1;

}  // namespace kizuna::test_support

// In a TEST body: skip there, saying where the test runs instead.
#define KIZUNA_SKIP_SCALE_TEST_UNDER_SANITIZERS()                     \
  if (::kizuna::test_support::kUnderSanitizers) {                     \
    GTEST_SKIP() << "a scale test: it runs in the normal build only"; \
  }
