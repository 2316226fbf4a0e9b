// libFuzzer target for the pattern parser and evaluator: partner-supplied
// pattern text must never crash, hang or leak. Build with
//   cmake -DKIZUNA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...
// and run: pattern_fuzzer src/pattern/fuzz_corpus
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pattern/pattern.h"

namespace {

const std::vector<kizuna::pattern::Observation>& Observations() {
  static const auto* observations = [] {
    auto bundle = boost::json::parse(R"([
      {"type": "observed-data", "first_observed": "2020-01-01T00:00:00Z",
       "last_observed": "2020-01-01T00:00:10Z", "number_observed": 3, "objects": {
         "0": {"type": "file", "name": "foo.dll", "size": 371712, "hashes": {"MD5": "00ff"},
               "parent_directory_ref": "1", "magic_number_hex": "ffd8"},
         "1": {"type": "directory", "path": "C:\\Windows"},
         "2": {"type": "ipv4-addr", "value": "198.51.100.7"},
         "3": {"type": "network-traffic", "dst_ref": "2", "protocols": ["tcp", "http"]}}},
      {"type": "observed-data", "first_observed": "2020-01-01T00:05:00Z",
       "last_observed": "2020-01-01T00:05:00Z", "number_observed": 1, "objects": {
         "0": {"type": "ipv6-addr", "value": "2001:db8::1"},
         "1": {"type": "artifact", "payload_bin": "1MOyoQIABAA="}}}])");
    return new std::vector<kizuna::pattern::Observation>(
        std::move(kizuna::pattern::ObservationsFromBundle(bundle).value()));
  }();
  return *observations;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pattern = kizuna::pattern::ParsePattern(text);
  if (!pattern.ok()) return 0;
  (void)kizuna::pattern::ReduceToSimpleComparisons(*pattern);
  kizuna::pattern::EvalLimits limits;
  limits.max_steps = 100000;
  (void)kizuna::pattern::Match(*pattern, Observations(), limits);
  return 0;
}
