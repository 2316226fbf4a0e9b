// TLP levels and the marking-definition ids that stand for them.
#include <array>
#include <cctype>
#include <string>

#include "stix/stix.h"

namespace kizuna::stix {
namespace {

struct TlpMarking {
  std::string_view id;
  Tlp tlp;
};

// TLP 1.0: STIX 2.1 §7.2.1.4. TLP 2.0: the OASIS TLP 2.0 extension
// (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d), whose marking
// objects are published in oasis-open/cti-stix-common-objects.
constexpr std::array<TlpMarking, 4> kTlp1Markings = {{
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::kClear},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::kGreen},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::kAmber},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::kRed},
}};
constexpr std::array<TlpMarking, 5> kTlp2Markings = {{
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp::kClear},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp::kGreen},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp::kAmber},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp::kAmberStrict},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp::kRed},
}};

}  // namespace

std::string_view TlpName(Tlp tlp) {
  switch (tlp) {
    case Tlp::kNone:
      return "";
    case Tlp::kClear:
      return "clear";
    case Tlp::kGreen:
      return "green";
    case Tlp::kAmber:
      return "amber";
    case Tlp::kAmberStrict:
      return "amber+strict";
    case Tlp::kRed:
      return "red";
  }
  return "";
}

Result<Tlp> ParseTlp(std::string_view name) {
  std::string lower;
  lower.reserve(name.size());
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view level = lower;
  if (level.starts_with("tlp:")) level.remove_prefix(4);
  if (level == "white") return Tlp::kClear;
  for (Tlp tlp : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict, Tlp::kRed}) {
    if (level == TlpName(tlp)) return tlp;
  }
  return InvalidArgument("unknown TLP level '" + std::string(name.substr(0, 64)) +
                         "' (expected clear, white, green, amber, amber+strict or red)");
}

Tlp TlpOfMarkingId(std::string_view marking_definition_id) {
  for (const auto& m : kTlp2Markings) {
    if (m.id == marking_definition_id) return m.tlp;
  }
  for (const auto& m : kTlp1Markings) {
    if (m.id == marking_definition_id) return m.tlp;
  }
  return Tlp::kNone;
}

std::string_view TlpMarkingId(Tlp tlp) {
  for (const auto& m : kTlp2Markings) {
    if (m.tlp == tlp) return m.id;
  }
  return "";
}

std::string_view Tlp1MarkingId(Tlp tlp) {
  for (const auto& m : kTlp1Markings) {
    if (m.tlp == tlp) return m.id;
  }
  return "";
}

Tlp MostRestrictiveTlp(Tlp a, Tlp b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

}  // namespace kizuna::stix
