// Test helper: the n-th of a run of distinct, valid indicator ids
// ("indicator--00000000-0000-4000-8000-000000000042"), for tests that store
// or index many indicators.
#pragma once

#include <cstdio>
#include <string>

namespace kizuna::correlation {

inline std::string TestIndicatorId(int n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "indicator--00000000-0000-4000-8000-%012d", n);
  return buf;
}

}  // namespace kizuna::correlation
