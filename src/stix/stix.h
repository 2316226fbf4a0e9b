// STIX 2.1 objects as kizuna handles them: parsed JSON (Boost.JSON) plus the
// few facts every other component needs (ObjectInfo). Validation follows the
// STIX 2.1 specification (identifiers, timestamps, required and exclusive
// properties, vocabularies, reference types, markings, extensions).
//
// All functions are pure and thread-safe.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kizuna::stix {

enum class Tlp { kNone = 0, kClear, kGreen, kAmber, kAmberStrict, kRed };

// "clear", "green", "amber", "amber+strict", "red" ("" for kNone).
std::string_view TlpName(Tlp tlp);
// Accepts the names above (any case), TLP 1.0's "white" as clear, and a "tlp:" prefix.
Result<Tlp> ParseTlp(std::string_view name);
// The TLP a marking-definition id stands for: the TLP 1.0 and TLP 2.0 ids
// published in the STIX 2.1 spec and the TLP 2.0 extension. kNone otherwise.
Tlp TlpOfMarkingId(std::string_view marking_definition_id);
// The TLP 2.0 marking-definition id of a level (empty for kNone).
std::string_view TlpMarkingId(Tlp tlp);
// The TLP 1.0 marking-definition id of a level (empty for kNone and
// kAmberStrict, which TLP 1.0 lacks; kClear gives TLP 1.0 "white").
std::string_view Tlp1MarkingId(Tlp tlp);
// The more restrictive of two levels (kNone is the least).
Tlp MostRestrictiveTlp(Tlp a, Tlp b);

// What the store, the TAXII layer and federation need to know of an object.
struct ObjectInfo {
  std::string id;  // "type--uuid"
  std::string type;
  std::string spec_version;  // "2.1" (or "2.0" for legacy objects, if allowed)
  std::string created;       // as in the object; empty when absent (SCOs)
  std::string modified;      // as in the object; empty when absent
  int64_t created_us = 0;    // 0 when absent
  int64_t modified_us = 0;   // 0 when absent
  bool revoked = false;
  std::string created_by_ref;
  std::vector<std::string> object_marking_refs;
  Tlp tlp = Tlp::kNone;  // most restrictive TLP among object_marking_refs
  bool is_marking_definition = false;
};

// Checks a STIX patterning expression ("stix" pattern_type) and returns a
// Status naming what is wrong. The pattern component installs a full parser
// here (issue 3); without one, the validator only checks that the pattern is
// non-empty and its brackets, parentheses and quotes balance.
using StixPatternChecker = Status (*)(std::string_view pattern);

struct ValidationOptions {
  // Accept custom objects ("x-..." types) and custom properties ("x_...")
  // as the spec permits. ATT&CK needs this.
  bool allow_custom = true;
  // Maximum nesting depth of JSON values inside one object.
  int max_depth = 64;
  // Full checker for indicator patterns of pattern_type "stix"; nullptr means
  // the structural check only (see StixPatternChecker).
  StixPatternChecker stix_pattern_checker = nullptr;
};

// Validates one STIX 2.1 object. On failure the Status message names the
// object id (when known), the property and the rule broken, e.g.
// "indicator--…: property 'valid_until' must be later than 'valid_from'".
Result<ObjectInfo> ValidateObject(const boost::json::object& object,
                                  const ValidationOptions& options = {});

// Extracts ObjectInfo without validation (for objects already validated and stored).
ObjectInfo DescribeObject(const boost::json::object& object);

// The deterministic id ("type--uuid") a STIX 2.1 SCO of this type should have
// (UUIDv5 over the canonical JSON of its ID-contributing properties), or an
// empty string when the type has no contributing properties present (then any
// UUIDv4 is valid). Validation does not require SCO ids to match it (the spec
// says SHOULD).
std::string DeterministicScoId(const boost::json::object& sco);

// True for the 18 SCO types of STIX 2.1.
bool IsScoType(std::string_view type);

// Checks the envelope of a bundle: "type": "bundle", an id "bundle--UUID" and,
// when present, "objects" as a list of JSON objects. The objects themselves are
// validated one by one with ValidateObject, so that one bad object can be
// reported without rejecting the rest.
Status ValidateBundleEnvelope(const boost::json::object& bundle);

// The RFC 8785 (JSON Canonicalization Scheme) text of a value: members sorted
// by UTF-16 code units, no whitespace, ECMAScript number form. Recurses once
// per nesting level, so pass values whose depth is bounded (as ParseJson's are).
std::string CanonicalJson(const boost::json::value& value);

// The string value of `key` in `object`; empty when absent or not a string.
std::string StringProperty(const boost::json::object& object, std::string_view key);

// Parses JSON text with a clear error message that includes the byte offset
// ("invalid JSON at byte 17: ...") and rejects nesting deeper than max_depth.
Result<boost::json::value> ParseJson(std::string_view text, int max_depth = 64);

}  // namespace kizuna::stix
