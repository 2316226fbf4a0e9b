// libFuzzer target: kizuna.toml parsing. Bad configs are one clear error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "node/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = kizuna::node::ParseConfig(text, "fuzz.toml");
  if (!config.ok() && config.status().message().find('\n') != std::string::npos) __builtin_trap();
  return 0;
}
