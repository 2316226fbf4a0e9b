#include "correlation/snapshot_io.h"

#include "correlation/flat_tables.h"

namespace kizuna::correlation::internal {

uint64_t Checksum64(std::string_view bytes) {
  uint64_t lanes[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                       0x27D4EB2F165667C5ull};
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 32; p += 32, n -= 32) {
    for (int i = 0; i < 4; ++i) {
      uint64_t word;
      std::memcpy(&word, p + 8 * i, 8);
      lanes[i] = (lanes[i] ^ word) * 0xff51afd7ed558ccdull;
      lanes[i] ^= lanes[i] >> 29;
    }
  }
  uint64_t h = Mix64(lanes[0] ^ Mix64(lanes[1] ^ Mix64(lanes[2] ^ Mix64(lanes[3]))));
  for (; n > 0; ++p, --n) h = (h ^ static_cast<uint8_t>(*p)) * 0x100000001b3ull;
  return Mix64(h ^ bytes.size());
}

}  // namespace kizuna::correlation::internal
