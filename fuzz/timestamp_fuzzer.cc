// libFuzzer target: timestamps (TAXII added_after, match[version], STIX properties).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = kizuna::ParseTimestamp(text);
  if (parsed.ok()) {
    // What we print we must parse back to the same instant.
    auto again = kizuna::ParseTimestamp(kizuna::FormatTimestamp(*parsed, 6));
    if (!again.ok() || *again != *parsed) __builtin_trap();
  }
  return 0;
}
