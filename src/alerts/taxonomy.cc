#include "alerts/taxonomy.h"

#include <array>

namespace kizuna::alerts {
namespace {

using namespace std::string_view_literals;

constexpr std::array kAbusiveContent = {"spam"sv, "harmful-speech"sv, "violence"sv};
constexpr std::array kMaliciousCode = {"infected-system"sv, "c2-server"sv, "malware-distribution"sv,
                                       "malware-configuration"sv};
constexpr std::array kInformationGathering = {"scanner"sv, "sniffing"sv, "social-engineering"sv};
constexpr std::array kIntrusionAttempts = {"ids-alert"sv, "brute-force"sv, "exploit"sv};
constexpr std::array kIntrusions = {"privileged-account-compromise"sv,
                                    "unprivileged-account-compromise"sv, "application-compromise"sv,
                                    "system-compromise"sv, "burglary"sv};
constexpr std::array kAvailability = {"dos"sv, "ddos"sv, "misconfiguration"sv, "sabotage"sv,
                                      "outage"sv};
constexpr std::array kInformationContentSecurity = {"unauthorised-information-access"sv,
                                                    "unauthorised-information-modification"sv,
                                                    "data-loss"sv, "data-leak"sv};
constexpr std::array kFraud = {"unauthorised-use-of-resources"sv, "copyright"sv, "masquerade"sv,
                               "phishing"sv};
constexpr std::array kVulnerable = {"weak-crypto"sv, "ddos-amplifier"sv,
                                    "potentially-unwanted-accessible"sv, "information-disclosure"sv,
                                    "vulnerable-system"sv};
constexpr std::array kOther = {"other"sv, "undetermined"sv};
constexpr std::array kTest = {"test"sv};

const std::array<RsitClass, 11> kClasses = {{
    {"abusive-content", kAbusiveContent},
    {"malicious-code", kMaliciousCode},
    {"information-gathering", kInformationGathering},
    {"intrusion-attempts", kIntrusionAttempts},
    {"intrusions", kIntrusions},
    {"availability", kAvailability},
    {"information-content-security", kInformationContentSecurity},
    {"fraud", kFraud},
    {"vulnerable", kVulnerable},
    {"other", kOther},
    {"test", kTest},
}};

const RsitClass* FindClass(std::string_view name) {
  for (const auto& c : kClasses) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool HasType(const RsitClass& c, std::string_view type) {
  for (auto t : c.types) {
    if (t == type) return true;
  }
  return false;
}

}  // namespace

std::span<const RsitClass> RsitClasses() { return kClasses; }

bool IsRsitClass(std::string_view name) { return FindClass(name) != nullptr; }

std::string_view RsitClassOfType(std::string_view type) {
  for (const auto& c : kClasses) {
    if (HasType(c, type)) return c.name;
  }
  return {};
}

Status CheckClassification(std::string_view taxonomy, std::string_view type) {
  const RsitClass* c = nullptr;
  if (!taxonomy.empty()) {
    c = FindClass(taxonomy);
    if (c == nullptr) {
      return InvalidArgument("'" + std::string(taxonomy) + "' is not an RSIT taxonomy class");
    }
  }
  if (!type.empty()) {
    const std::string_view owner = RsitClassOfType(type);
    if (owner.empty()) {
      return InvalidArgument("'" + std::string(type) + "' is not an RSIT incident type");
    }
    if (c != nullptr && owner != c->name) {
      return InvalidArgument("type '" + std::string(type) + "' belongs to '" + std::string(owner) +
                             "', not to '" + std::string(taxonomy) + "'");
    }
  }
  return Status::Ok();
}

Status ResolveClassification(std::string_view record_taxonomy, std::string_view record_type,
                             std::string_view default_taxonomy, std::string_view default_type,
                             std::string* taxonomy, std::string* type) {
  KIZUNA_RETURN_IF_ERROR(CheckClassification(record_taxonomy, record_type));
  std::string_view t = record_taxonomy;
  std::string_view ty = record_type;
  if (ty.empty()) {
    if (t.empty()) {
      ty = default_type;
      t = default_taxonomy;
    } else if (!default_type.empty() && RsitClassOfType(default_type) == t) {
      ty = default_type;
    } else {
      return InvalidArgument("taxonomy '" + std::string(t) + "' needs a type");
    }
  }
  if (t.empty()) t = RsitClassOfType(ty);
  if (t.empty() && ty.empty()) {
    t = "other";
    ty = "undetermined";
  } else if (ty.empty()) {
    // Only a default taxonomy without a default type reaches here.
    ty = t == "other" ? "undetermined" : "";
    if (ty.empty()) return InvalidArgument("taxonomy '" + std::string(t) + "' needs a type");
  }
  taxonomy->assign(t);
  type->assign(ty);
  return Status::Ok();
}

}  // namespace kizuna::alerts
