// libFuzzer target: the range files `kizuna geo load` reads (ip-location-db
// CSV, iptoasn TSV), as an operator may download them from anywhere. Bad
// lines are reported and skipped, never a crash. Checked: what the reader
// accepted compiles into sorted, disjoint segments whose records exist; every
// range's first and last address find a segment; the layer file of the
// result reads back to the same segments.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "geo/internal.h"

namespace {

using namespace kizuna::geo::internal;

template <typename Key>
void Check(const Table<Key>& table, size_t records) {
  for (size_t i = 0; i < table.segments.size(); ++i) {
    const Segment<Key>& s = table.segments[i];
    if (s.first > s.last || s.record >= records) std::abort();
    if (i > 0 && table.segments[i - 1].last >= s.first) std::abort();
    if (table.Find(s.first) != &s || table.Find(s.last) != &s) std::abort();
    const int length = LargestBlock(s.first, s.first, s.last);
    if (length < 0 || length > static_cast<int>(sizeof(Key) * 8)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  LayerBuilder asn(LayerKind::kAsn), country(LayerKind::kCountry);
  ReadReport report;
  ReadOptions options;
  options.file_name = "fuzz.csv";
  options.bad_line = [](const std::string& line) {
    if (line.rfind("fuzz.csv:", 0) != 0) std::abort();
  };
  if (!ReadRangeText(text, options, &asn, &country, &report).ok()) return 0;
  for (LayerBuilder* builder : {&asn, &country}) {
    const Layer layer = Layer::Compile(std::move(*builder), 0);
    Check(layer.v4, layer.records.size());
    Check(layer.v6, layer.records.size());
    auto again = Layer::Parse(layer.Serialize(), "fuzz");
    if (!again.ok() || again->v4.segments.size() != layer.v4.segments.size() ||
        again->v6.segments.size() != layer.v6.segments.size() || again->arena != layer.arena) {
      std::abort();
    }
  }
  return 0;
}
