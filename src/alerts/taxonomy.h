// The Reference Security Incident Taxonomy (RSIT, the ENISA / TF-CSIRT
// taxonomy that IntelMQ's classification.taxonomy and classification.type
// follow): its classes and, for each, its types, as in the machine-readable
// list of the taxonomy's working copy (namespace "rsit", version 1003):
//
//   abusive-content               spam, harmful-speech, violence
//   malicious-code                infected-system, c2-server, malware-distribution,
//                                 malware-configuration
//   information-gathering         scanner, sniffing, social-engineering
//   intrusion-attempts            ids-alert, brute-force, exploit
//   intrusions                    privileged-account-compromise,
//                                 unprivileged-account-compromise,
//                                 application-compromise, system-compromise, burglary
//   availability                  dos, ddos, misconfiguration, sabotage, outage
//   information-content-security  unauthorised-information-access,
//                                 unauthorised-information-modification, data-loss,
//                                 data-leak
//   fraud                         unauthorised-use-of-resources, copyright, masquerade,
//                                 phishing
//   vulnerable                    weak-crypto, ddos-amplifier,
//                                 potentially-unwanted-accessible,
//                                 information-disclosure, vulnerable-system
//   other                         other, undetermined
//   test                          test
//
// Every type belongs to exactly one class, so a type alone names its class.
// Names are the lower-case machine tags; lookups here are exact (callers
// lower-case and trim what they read first).
//
// Pure functions over constant tables; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kizuna::alerts {

struct RsitClass {
  std::string_view name;
  std::span<const std::string_view> types;
};

// The eleven classes, in the taxonomy's order.
std::span<const RsitClass> RsitClasses();

bool IsRsitClass(std::string_view name);
// The class a type belongs to, empty when `type` is not an RSIT type.
std::string_view RsitClassOfType(std::string_view type);

// What an observation is classified as, from what a record says and the
// reader's defaults:
//   - a type the record gives must be an RSIT type, a taxonomy an RSIT class,
//     and when both are given the type must belong to the class;
//   - no type: `default_type`; no taxonomy: the type's class, else
//     `default_taxonomy`;
//   - a taxonomy without a type takes `default_type` only when it belongs to
//     that class, else the record is refused ("taxonomy X needs a type");
//   - nothing at all: "other" / "undetermined".
// The defaults themselves must be valid (CheckClassification).
// On success *taxonomy and *type hold the result.
Status ResolveClassification(std::string_view record_taxonomy, std::string_view record_type,
                             std::string_view default_taxonomy, std::string_view default_type,
                             std::string* taxonomy, std::string* type);

// Checks a taxonomy/type pair as ResolveClassification would accept it from a
// record (either may be empty).
Status CheckClassification(std::string_view taxonomy, std::string_view type);

}  // namespace kizuna::alerts
