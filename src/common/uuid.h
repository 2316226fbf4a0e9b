// UUIDs as STIX uses them: random v4 ids for SDOs/SROs and deterministic v5
// ids for SCOs (namespace 00abedb4-aa42-466c-9c01-fed23315a9b7). Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace kizuna {

// The STIX 2.1 namespace for deterministic SCO identifiers.
inline constexpr std::string_view kStixScoNamespace = "00abedb4-aa42-466c-9c01-fed23315a9b7";

// A fresh random (version 4) UUID, lower-case canonical form.
std::string NewUuid4();

// The version 5 (SHA-1) UUID of `name` in namespace `ns` (canonical UUID text).
// Returns an empty string when `ns` is not a valid UUID.
std::string Uuid5(std::string_view ns, std::string_view name);

// True for the canonical 8-4-4-4-12 hex form (either case).
bool IsUuid(std::string_view text);

// The version nibble of a valid UUID (1..8), 0 when the text is not a UUID.
int UuidVersion(std::string_view text);

}  // namespace kizuna
