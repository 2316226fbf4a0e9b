// For the sensor tests: frames written as hex dumps ("45 00 00 28 ..."),
// so that a test's bytes do not come from the same helpers the decoder's
// byte order could share a mistake with.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace kizuna::sensor::test_frames {

// "45 00 ..." as bytes; spaces are ignored, a stray character fails the test.
inline std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ') continue;
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) ADD_FAILURE() << "not a hex digit: " << c;
    if (high < 0) {
      high = digit;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | digit));
      high = -1;
    }
  }
  if (high >= 0) ADD_FAILURE() << "odd number of hex digits";
  return out;
}

}  // namespace kizuna::sensor::test_frames
