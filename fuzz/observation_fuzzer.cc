// libFuzzer target: the readers of infected-host reports (src/alerts/readers.h).
// The first byte picks the format (auto, shadowserver, csv, json) and a
// report hint; the rest is the input. Checks what must hold whatever the
// input: the counts add up, errors are bounded, and every observation's
// evidence is valid JSON within its bound with a host address and an RSIT
// classification.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "alerts/readers.h"
#include "alerts/taxonomy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using kizuna::alerts::InputFormat;
  static const InputFormat kFormats[] = {InputFormat::kAuto, InputFormat::kShadowserver,
                                         InputFormat::kCsv, InputFormat::kJson};
  static const char* const kHints[] = {"", "scan_telnet", "event4_sinkhole", "scan_unknown"};
  kizuna::alerts::ReadOptions options;
  options.format = kFormats[data[0] & 3];
  options.report_type = kHints[(data[0] >> 2) & 3];
  if (data[0] & 0x10) options.now_us = 1795824000000000;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  int64_t seen = 0;
  auto summary =
      kizuna::alerts::ReadObservations(in, options, [&](kizuna::alerts::Observation&& o) {
        ++seen;
        if (o.evidence.size() > kizuna::alerts::kMaxEvidenceBytes) __builtin_trap();
        boost::system::error_code ec;
        auto value = boost::json::parse(o.evidence, ec);
        if (ec || !value.is_object()) __builtin_trap();
        if (!kizuna::alerts::CheckClassification(o.taxonomy, o.type).ok()) __builtin_trap();
        if (o.taxonomy.empty() || o.type.empty()) __builtin_trap();
        if (o.confidence < 0 || o.confidence > 100) __builtin_trap();
      });
  if (summary.ok()) {
    if (summary->accepted != seen) __builtin_trap();
    if (summary->accepted + summary->rejected != summary->records) __builtin_trap();
    if (summary->errors.size() > kizuna::alerts::kMaxReportedErrors) __builtin_trap();
  } else if (seen != 0) {
    __builtin_trap();
  }
  return 0;
}
