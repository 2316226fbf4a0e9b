// libFuzzer target: STIX JSON from a partner (ParseJson, ValidateObject,
// DeterministicScoId). Must never crash, hang or throw.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stix/stix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = kizuna::stix::ParseJson(text, 64);
  if (!parsed.ok()) return 0;
  auto check = [](const boost::json::value& v) {
    if (const auto* object = v.if_object()) {
      (void)kizuna::stix::ValidateObject(*object);
      (void)kizuna::stix::DescribeObject(*object);
      if (kizuna::stix::IsScoType(kizuna::stix::DescribeObject(*object).type)) {
        (void)kizuna::stix::DeterministicScoId(*object);
      }
    }
  };
  check(*parsed);
  if (const auto* object = parsed->if_object()) {
    if (auto it = object->find("objects"); it != object->end() && it->value().is_array()) {
      for (const auto& v : it->value().get_array()) check(v);
    }
  }
  return 0;
}
