// libFuzzer target: the live-stream parser (what a partner node streams to us).
// The input is fed in pieces whose sizes come from the first byte, so that
// events split across reads are exercised; the events must not depend on
// how the bytes were split.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "http/sse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 17;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  kizuna::http::SseParserOptions options;
  options.max_event_bytes = 4096;
  kizuna::http::SseParser whole(options);
  kizuna::http::SseParser pieces(options);
  std::vector<kizuna::http::SseEvent> at_once, piecewise;
  const bool whole_ok = whole.Feed(text, &at_once).ok();
  bool pieces_ok = true;
  for (size_t at = 0; at < text.size() && pieces_ok; at += piece) {
    pieces_ok = pieces.Feed(text.substr(at, piece), &piecewise).ok();
  }
  if (whole_ok && pieces_ok && at_once != piecewise) __builtin_trap();
  for (const auto& event : at_once) {
    // What we format must parse back to the same event.
    auto formatted = kizuna::http::FormatSseEvent(event);
    if (!formatted.ok()) continue;
    kizuna::http::SseParser again;
    std::vector<kizuna::http::SseEvent> back;
    if (!again.Feed(*formatted, &back).ok() || back.size() != 1) __builtin_trap();
  }
  return 0;
}
