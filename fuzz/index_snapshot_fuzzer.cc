// libFuzzer target: the correlation index's snapshot section
// (IndicatorIndex::LoadFrom) as a damaged file could hold it, with the
// checksum in front of it already passed. Any bytes are refused or give an
// index whose lookups and Get stay inside its tables. Checked: a refused
// load leaves the index as it was (empty here), and an accepted one answers
// lookups without reading out of bounds (ASan, UBSan).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "correlation/indicator_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kizuna::correlation::IndicatorIndex;
  using kizuna::correlation::ObservableKind;
  IndicatorIndex index;
  kizuna::correlation::internal::SnapshotReader in(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!index.LoadFrom(in).ok()) {
    if (index.Stats().indicators != 0) __builtin_trap();
    return 0;
  }
  for (uint32_t a = 0; a < 64; ++a) (void)index.MatchIpv4(a * 0x04000001u);
  (void)index.Match(ObservableKind::kIpv6, "2001:db8::1");
  (void)index.MatchDomain("a.b.example.com");
  (void)index.MatchUrl("http://example.com/");
  (void)index.Match(ObservableKind::kMacAddr, "00:11:22:33:44:55");
  for (uint32_t ref = 0; ref < 64; ++ref) (void)index.Get(ref);
  (void)index.FindRef("indicator--00000000-0000-4000-8000-000000000001");
  return 0;
}
