// libFuzzer target: indicator lists (src/interop/lists.h) and the
// enforcement exports of what they make (src/interop/enforcement.h). The
// first byte picks the format (auto, text, csv) and options; the rest is
// the list. Checks what must hold whatever the input: the counts add up,
// errors are bounded, every indicator made is valid STIX 2.1 with a pattern
// the full checker accepts, and every export format writes it.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "interop/enforcement.h"
#include "interop/lists.h"
#include "pattern/pattern.h"
#include "stix/stix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using kizuna::interop::ListFormat;
  static const ListFormat kFormats[] = {ListFormat::kAuto, ListFormat::kText, ListFormat::kCsv,
                                        ListFormat::kAuto};
  kizuna::interop::ListOptions options;
  options.format = kFormats[data[0] & 3];
  options.now_us = 1796083200000000;  // 2026-12-01
  if (data[0] & 4) options.producer = "fuzz feed";
  if (data[0] & 8) options.lifetime_days = 0;
  if (data[0] & 16) options.columns[kizuna::interop::ListField::kValue] = "value";
  std::istringstream in(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  kizuna::stix::ValidationOptions validation;
  validation.stix_pattern_checker = &kizuna::pattern::CheckStixPattern;
  kizuna::interop::ExportFilter filter;
  filter.now_us = options.now_us;
  kizuna::interop::EnforcementSet set(filter);
  int64_t indicators = 0;
  auto summary = kizuna::interop::ReadIndicatorList(in, options, [&](boost::json::object&& o) {
    if (!kizuna::stix::ValidateObject(o, validation).ok()) __builtin_trap();
    if (o.at("type") == "indicator") {
      ++indicators;
      if (set.Add(boost::json::serialize(o)) > 1) __builtin_trap();
    }
    return kizuna::Status::Ok();
  });
  if (summary.ok()) {
    if (summary->accepted != indicators) __builtin_trap();
    if (summary->accepted + summary->rejected > summary->records + summary->lines) __builtin_trap();
    if (summary->errors.size() > kizuna::interop::kMaxListErrors) __builtin_trap();
  }
  const auto entries = set.Entries();
  for (auto format :
       {kizuna::interop::ExportFormat::kSuricataIprep,
        kizuna::interop::ExportFormat::kSuricataRules, kizuna::interop::ExportFormat::kZeekIntel,
        kizuna::interop::ExportFormat::kIpBlocklist,
        kizuna::interop::ExportFormat::kDomainBlocklist, kizuna::interop::ExportFormat::kRpz}) {
    std::ostringstream out;
    if (!kizuna::interop::WriteEnforcement(format, entries, {}, out).ok()) __builtin_trap();
  }
  return 0;
}
