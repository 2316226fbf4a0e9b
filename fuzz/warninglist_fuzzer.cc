// libFuzzer target: a MISP warning-list file (what an operator downloads
// from the MISP project or a partner) through WarningLists::LoadMispJson,
// then Check with every string of its "list" as a value of each address and
// name kind. A file that is not a warning list is one error, never a crash;
// bad entries are skipped. Checked: a loaded CIDR list flags every entry
// of it that is a valid address or network.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "correlation/warninglists.h"
#include "stix/stix.h"

namespace {

using kizuna::correlation::ObservableKind;

constexpr ObservableKind kCheckedKinds[] = {ObservableKind::kIpv4, ObservableKind::kIpv6,
                                            ObservableKind::kDomain, ObservableKind::kUrl,
                                            ObservableKind::kEmail};

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  kizuna::correlation::WarningLists lists;
  if (!lists.LoadMispJson(text, "fuzz.json").ok()) return 0;

  // The same file as the loader read it, for the values to check.
  auto parsed = kizuna::stix::ParseJson(text, 16);
  if (!parsed.ok() || !parsed->is_object()) __builtin_trap();
  const auto& object = parsed->get_object();
  const std::string name = kizuna::stix::StringProperty(object, "name");
  const std::string type = kizuna::stix::StringProperty(object, "type");
  const auto& list = object.at("list").get_array();
  // One list per file, and only the index-backed types are counted.
  if (lists.list_count() > 1) __builtin_trap();
  size_t checked = 0;
  for (const auto& v : list) {
    if (!v.is_string() || ++checked > 64) continue;
    const std::string_view value = v.get_string();
    for (ObservableKind kind : kCheckedKinds) (void)lists.Check(kind, value);
    if (type == "cidr" && lists.list_count() == 1) {
      const ObservableKind kind =
          value.find(':') != std::string_view::npos ? ObservableKind::kIpv6 : ObservableKind::kIpv4;
      if (kizuna::correlation::NormalizeValue(kind, value).ok() &&
          !Contains(lists.Check(kind, value), name)) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
