// libFuzzer target: a darknet sensor's upload and a partner's shared
// telescope summary (sensor/interval.h), and the distinct-count sketch
// inside it (sensor/sketch.h) — input from sensors and partner nodes. The
// first byte picks what is read: odd, a sensor's interval (exact sets only)
// or a partner's (sketches allowed); even, a bare sketch. Checked beyond "no
// crash, no sanitizer report": what decodes encodes to text that decodes to
// the same encoding (nothing accepted is lost or changed on the way), a sketch parses only from the
// bytes Serialize writes for it, and its estimate is finite and not negative.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sensor/interval.h"
#include "sensor/sketch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  using kizuna::sensor::DistinctSketch;
  if ((data[0] & 1) == 0) {
    auto sketch = DistinctSketch::Parse(input);
    if (!sketch.ok()) return 0;
    if (sketch->Serialize() != input) std::abort();
    const double estimate = sketch->Estimate();
    if (!std::isfinite(estimate) || estimate < 0) std::abort();
    return 0;
  }
  const bool exact_only = (data[0] & 2) == 0;
  auto decoded = kizuna::sensor::DecodeWire(input, exact_only);
  if (!decoded.ok()) return 0;
  const std::string encoded = kizuna::sensor::EncodeWire(*decoded);
  auto again = kizuna::sensor::DecodeWire(encoded, exact_only);
  if (!again.ok() || kizuna::sensor::EncodeWire(*again) != encoded) std::abort();
  return 0;
}
