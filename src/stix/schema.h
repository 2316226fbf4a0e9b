// Internal: the STIX 2.1 property tables that drive validation. One TypeSpec
// per object type (and per predefined SCO extension), each listing its
// properties with their kind, whether they are required and the kind's
// argument (reference target types, vocabulary values, numeric bounds).
//
// The tables are static and immutable; lookups are thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace kizuna::stix::internal {

enum class Category { kSdo, kSro, kSco, kMeta, kExtension };

enum class Kind {
  kString,
  kInteger,
  kNumber,
  kBoolean,
  kTimestamp,
  kTimestampMillis,  // created/modified: precise to at least milliseconds
  kIdentifier,       // arg: allowed target types (see RefTargetsAllow)
  kIdentifierList,
  kStringList,
  kDictionary,
  kObject,  // any JSON object (e.g. x509_v3_extensions, definition)
  kObjectList,
  kHashes,
  kKillChainPhases,
  kExternalReferences,
  kGranularMarkings,
  kExtensions,
  kOpenVocab,  // any string; values are the suggested vocabulary
  kOpenVocabList,
  kClosedEnum,  // one of values
  kClosedEnumList,
  kBinary,  // base64
  kHex,
  kSpecVersion,  // "2.1"
  kType,         // checked by the validator itself
  kId,           // checked by the validator itself
};

using Values = std::span<const std::string_view>;

struct PropSpec {
  std::string_view name;
  Kind kind = Kind::kString;
  bool required = false;
  // kIdentifier/kIdentifierList: '|'-separated allowed target types, or one of
  // the groups "<any>", "<sco>", "<sdo>", "<not-sro>" (any but the SROs and
  // meta objects), "<sco-or-sro>".
  std::string_view targets = {};
  Values values = {};  // vocabulary / enumeration values
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
};

struct TypeSpec {
  std::string_view type;
  Category category;
  std::span<const PropSpec> props;
};

// The spec of a STIX 2.1 type, or nullptr for a custom/unknown type.
const TypeSpec* FindTypeSpec(std::string_view type);
// The spec of a predefined SCO extension ("archive-ext", ...) allowed on
// `sco_type`, or nullptr.
const TypeSpec* FindScoExtensionSpec(std::string_view sco_type, std::string_view extension_name);
// True for the names of the spec's predefined SCO extensions (any SCO type).
bool IsPredefinedScoExtensionName(std::string_view extension_name);
// The property spec `name` in `spec`, or nullptr. O(1).
const PropSpec* FindProp(const TypeSpec& spec, std::string_view name);
// Properties every object of the category may carry (common properties).
std::span<const PropSpec> CommonProps(Category category);
const PropSpec* FindCommonProp(Category category, std::string_view name);

// Vocabularies (STIX 2.1 §10) used outside the tables.
extern const Values kExtensionTypeEnum;
extern const Values kTlp1Levels;
extern const Values kTlp2Levels;
extern const Values kWindowsRegistryDatatypeEnum;

}  // namespace kizuna::stix::internal
