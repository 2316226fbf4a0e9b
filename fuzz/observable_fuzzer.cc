// libFuzzer target: observables as IOC lists and feeds write them — refanging
// and plain-text detection (DetectObservable) of a line, and the normal form
// of each kind (NormalizeValue). The first byte picks the kind for
// NormalizeValue; the rest is the text. Bad values are an error, never a
// crash. Checked: what DetectObservable returns is a normal form of its kind
// (hashes: lower-case hex that decodes; URLs too), a normal form normalizes
// to itself for every kind (hashes aside, whose normal form is raw bytes),
// and a domain's registrable domain is a suffix of it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "correlation/observable.h"

namespace {

using kizuna::correlation::ObservableKind;

bool IsDigestKind(ObservableKind kind) { return kizuna::correlation::DigestLength(kind) != 0; }

// The kinds whose normal form is a fixed point of NormalizeValue: all but
// the hashes.
bool IsIdempotent(ObservableKind kind) { return !IsDigestKind(kind); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto kind =
      static_cast<ObservableKind>(data[0] % kizuna::correlation::kObservableKindCount);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  (void)kizuna::correlation::Refang(text);

  if (auto detected = kizuna::correlation::DetectObservable(text)) {
    if (IsDigestKind(detected->kind)) {
      if (!kizuna::correlation::DecodeDigest(detected->kind, detected->value).ok()) {
        __builtin_trap();
      }
    } else {
      auto again = kizuna::correlation::NormalizeValue(detected->kind, detected->value);
      if (!again.ok() || *again != detected->value) __builtin_trap();
    }
    const bool address =
        detected->kind == ObservableKind::kIpv4 || detected->kind == ObservableKind::kIpv6;
    if (detected->is_network && !address) __builtin_trap();
  }

  auto normal = kizuna::correlation::NormalizeValue(kind, text);
  if (normal.ok() && IsIdempotent(kind)) {
    auto again = kizuna::correlation::NormalizeValue(kind, *normal);
    if (!again.ok() || *again != *normal) __builtin_trap();
  }
  if (normal.ok() && kind == ObservableKind::kDomain) {
    (void)kizuna::correlation::IsPublicSuffix(*normal);
    const std::string registrable = kizuna::correlation::RegistrableDomain(*normal);
    if (normal->find('\0') == std::string::npos && !normal->ends_with(registrable)) {
      __builtin_trap();
    }
  }
  (void)kizuna::correlation::KindForStixPath(text);
  return 0;
}
