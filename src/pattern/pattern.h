// STIX 2.1 patterning (STIX 2.1 specification, section 9): a parser that turns
// pattern text into an AST with clear errors, a bounded evaluator that matches a
// pattern against STIX observed-data, and a reducer the correlation index uses
// to recognise patterns that are plain lookups ("[ipv4-addr:value = '…']").
//
// Patterns come from partners and are untrusted. Every function here is total:
// no exceptions escape, recursion is bounded (kMaxNestingDepth while parsing,
// EvalLimits::max_depth while evaluating), MATCHES uses RE2 (linear time, with
// a memory cap) and the search for observations that satisfy AND / FOLLOWEDBY /
// REPEATS stops after EvalLimits::max_steps instead of growing as N!.
//
// Grammar and precedence follow the OASIS ANTLR grammar (STIXPattern.g4):
//   pattern      := obs_fby
//   obs_fby      := obs_or  ( FOLLOWEDBY obs_or )*     lowest precedence
//   obs_or       := obs_and ( OR obs_and )*
//   obs_and      := obs_unit ( AND obs_unit )*         highest precedence
//   obs_unit     := ( '[' cmp_or ']' | '(' obs_fby ')' ) qualifier*
//   qualifier    := WITHIN number SECONDS | REPEATS int TIMES | START t'…' STOP t'…'
//   cmp_or       := cmp_and ( OR cmp_and )*
//   cmp_and      := test ( AND test )*
//   test         := '(' cmp_or ')' | NOT? EXISTS path | path NOT? op literal
// Keywords are case-sensitive (upper case; true/false lower case), "==" and "<>"
// are accepted for "=" and "!=", /* */ and // comments are skipped. Chains of the
// same operator are kept n-ary (flat), so "[a] AND [b] AND [c]" is one node with
// three children and long chains do not deepen the tree.
//
// Semantics (where the spec leaves room, we follow the OASIS cti-pattern-matcher):
// - An observation is one observed-data object; number_observed = N lets it stand
//   for N observations (so "[x] REPEATS 3 TIMES" matches one observed-data with
//   number_observed 3).
// - Inside brackets, tests are evaluated per root object of the observation: AND
//   requires the same root object to pass both sides, OR either. A bracket
//   matches an observation when some root object passes.
// - An object path yields every value it reaches ([*] fans out over a list, a key
//   after a *_ref / *_refs value dereferences it within the same observation).
//   A test passes when any reached value passes; NOT negates the test per value.
//   A missing property (or JSON null) never passes, with or without NOT.
// - Type coercion: numbers compare numerically (int with float); a string
//   literal against a number (or a number literal against a string) compares
//   numerically when the string is a number; t'…' against a string parses the
//   string as a timestamp; h'…' / b'…' compare as bytes with properties ending in
//   _hex / _bin (decoded), with hex-string properties such as hashes (decoded, so
//   case does not matter) and otherwise with the string's code points as bytes.
//   Values that cannot be compared are unequal (so "!=" holds) and never ordered.
// - LIKE: '%' any run, '_' one character (code point); whole-value match.
//   MATCHES: RE2 search (unanchored) with Perl-like syntax; constructs RE2 cannot
//   run in linear time (backreferences, lookaround) are rejected at parse time.
// - ISSUBSET / ISSUPERSET: IPv4 and IPv6 addresses and CIDR blocks; a value that
//   is not an address or of the other family never passes.
// - Observation AND / FOLLOWEDBY / REPEATS need distinct observations (instances).
//   A FOLLOWEDBY B: some choice of times lets every observation bound to A come no
//   later than every one bound to B (latest first_observed of A <= earliest
//   last_observed of B). WITHIN d SECONDS: the bound observations' [first, last]
//   intervals all touch one window of d seconds. START s STOP e: each bound
//   observation's interval overlaps [s, e) (STOP is exclusive).
//
// Thread-safety: Pattern is immutable after parsing and may be shared between
// threads; evaluation functions are pure.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace kizuna::pattern {

// Deepest nesting of parentheses and brackets the parser accepts.
inline constexpr int kMaxNestingDepth = 64;
// Longest pattern text the parser accepts (bytes).
inline constexpr size_t kMaxPatternBytes = 1 << 20;

enum class LiteralKind { kString, kInt, kFloat, kBool, kTimestamp, kHex, kBinary };

struct Literal {
  LiteralKind kind = LiteralKind::kString;
  // kString: the unescaped text. kHex / kBinary: the decoded bytes.
  // kTimestamp: the timestamp text inside t'…'. Others: the literal as written.
  std::string text;
  int64_t int_value = 0;     // kInt
  double float_value = 0;    // kFloat (also set for kInt)
  bool bool_value = false;   // kBool
  int64_t timestamp_us = 0;  // kTimestamp, microseconds since the epoch
};

struct PathStep {
  enum class Kind { kKey, kIndex, kAnyIndex };  // .key  [n]  [*]
  Kind kind = Kind::kKey;
  std::string key;    // kKey
  int64_t index = 0;  // kIndex (negative counts from the end)
};

struct ObjectPath {
  std::string object_type;      // "file"
  std::vector<PathStep> steps;  // never empty; the first is a key
  // "hashes.'SHA-256'", "sections[*].entropy": keys that are not plain
  // identifiers are quoted (with \' and \\ escapes).
  std::string PropertyString() const;
};

enum class CompareOp {
  kEqual,
  kNotEqual,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kIn,
  kLike,
  kMatches,
  kIsSubset,
  kIsSuperset,
  kExists,
};

// An IPv4 or IPv6 address block; a single address has the full prefix length.
struct IpPrefix {
  bool v6 = false;
  uint8_t bytes[16] = {};  // network order; IPv4 uses the first 4
  int prefix_length = 0;
};
// Parses "198.51.100.7", "198.51.100.0/24", "2001:db8::/32", "::1".
std::optional<IpPrefix> ParseIpPrefix(std::string_view text);
// True when every address of `inner` lies in `outer` (same family only).
bool IpPrefixContains(const IpPrefix& outer, const IpPrefix& inner);

// A comparison expression (the part inside [ ]).
struct ComparisonExpression {
  enum class Kind { kTest, kAnd, kOr };
  Kind kind = Kind::kTest;
  size_t position = 0;  // byte offset of its first token in the pattern text

  // kTest:
  ObjectPath path;
  CompareOp op = CompareOp::kEqual;
  bool negated = false;                          // "NOT" before the operator (or before EXISTS)
  std::vector<Literal> literals;                 // one; a list for IN; none for EXISTS
  std::shared_ptr<const re2::RE2> regex;         // kMatches: for string values
  std::shared_ptr<const re2::RE2> regex_latin1;  // kMatches: for byte values
  std::optional<IpPrefix> cidr;                  // kIsSubset / kIsSuperset

  // kAnd / kOr: two or more.
  std::vector<ComparisonExpression> children;
};

struct ObservationExpression {
  enum class Kind { kComparison, kAnd, kOr, kFollowedBy, kWithin, kRepeats, kStartStop };
  Kind kind = Kind::kComparison;
  size_t position = 0;

  ComparisonExpression comparison;              // kComparison
  std::vector<ObservationExpression> children;  // 2+ for kAnd/kOr/kFollowedBy; 1 for qualifiers
  int64_t within_us = 0;                        // kWithin, > 0
  int64_t repeats = 0;                          // kRepeats, >= 1
  int64_t start_us = 0, stop_us = 0;            // kStartStop, start < stop
};

struct Pattern {
  ObservationExpression root;
};

// Parses STIX 2.1 pattern text. Errors (kInvalidArgument; kTooLarge for text
// over kMaxPatternBytes or nesting over kMaxNestingDepth) read
// "pattern error at position N: expected ']' but found 'OR'", N being the
// 0-based byte offset in `text`.
Result<Pattern> ParsePattern(std::string_view text);

// ParsePattern's verdict alone; fits stix::StixPatternChecker, so the node
// installs it as ValidationOptions::stix_pattern_checker.
Status CheckStixPattern(std::string_view text);

// `value` for the inside of a pattern's single-quoted string literal
// (' and \ escaped), as ParsePattern reads it back.
std::string EscapePatternString(std::string_view value);

// ---------------------------------------------------------------------------
// Observations

// One observed-data object with its cyber-observable objects resolved.
struct Observation {
  std::string id;  // the observed-data id (may be empty)
  int64_t first_observed_us = 0;
  int64_t last_observed_us = 0;
  int64_t number_observed = 1;  // >= 1
  // The observation's objects (usually SCOs) and the keys references use for
  // them: "0", "1"… for the STIX 2.0 `objects` dictionary, object ids for the
  // STIX 2.1 `object_refs` form. Parallel vectors.
  std::vector<boost::json::value> objects;
  std::vector<std::string> object_keys;
};

// Looks up an object by id in the caller's collection (a bundle, the store);
// nullptr when absent.
using ObjectLookup = std::function<const boost::json::object*(std::string_view id)>;

// Builds an Observation from an observed-data object: from its 2.0-style
// `objects` dictionary if present, otherwise from `object_refs` resolved through
// `lookup` (references that do not resolve are skipped: partners often share
// observed-data without every SCO). Fails when first_observed, last_observed or
// number_observed are missing or invalid.
Result<Observation> ObservationFromObservedData(const boost::json::object& observed_data,
                                                const ObjectLookup& lookup = nullptr);

// Builds one Observation per observed-data object in `objects` (an array of
// STIX objects, such as a bundle's "objects"), resolving object_refs against the
// other objects of the same array. Other object types are ignored.
Result<std::vector<Observation>> ObservationsFromObjects(const boost::json::array& objects);
// The same for a bundle object ({"type": "bundle", "objects": [...]}) or a bare array.
Result<std::vector<Observation>> ObservationsFromBundle(const boost::json::value& bundle);

// ---------------------------------------------------------------------------
// Evaluation

struct EvalLimits {
  // Observations beyond this many (in the order given) are not considered.
  size_t max_observations = 10000;
  // Work units (value comparisons plus candidate bindings tried) before the
  // evaluator gives up with limit_hit.
  uint64_t max_steps = 2'000'000;
  // Nesting of the binding search (about one level per observation expression
  // bound at once, e.g. per AND operand and per REPEATS round).
  int max_depth = 512;
  // Values one object path may reach (fan-out through [*] and references).
  size_t max_path_values = 10000;
};

struct MatchResult {
  bool matched = false;
  // The limits stopped the search before it could decide; `matched` is false.
  bool limit_hit = false;
  uint64_t steps = 0;  // work units spent
  // When matched: the indexes (into the observations given) of one binding
  // that satisfies the pattern, in pattern order; an index repeats when
  // number_observed lets one observation count more than once.
  std::vector<size_t> binding;
};

// Evaluates `pattern` against `observations`. Never fails: limits show as
// limit_hit.
MatchResult Match(const Pattern& pattern, const std::vector<Observation>& observations,
                  const EvalLimits& limits = {});

// Match() as a yes/no; a search stopped by the limits is an error (kTooLarge)
// rather than a silent "no".
Result<bool> Matches(const Pattern& pattern, const std::vector<Observation>& observations,
                     const EvalLimits& limits = {});

// ---------------------------------------------------------------------------
// Reduction for the correlation index

// One lookup a reducible pattern stands for.
struct SimpleComparison {
  enum class Kind {
    kEquals,      // property == value (string equality)
    kCidrSubset,  // the ipv4-addr / ipv6-addr value lies in the CIDR block `value`
  };
  std::string object_type;    // "ipv4-addr", "file"
  std::string property_path;  // ObjectPath::PropertyString(): "value", "hashes.'SHA-256'"
  Kind kind = Kind::kEquals;
  std::string value;  // the string literal (for kCidrSubset, the CIDR as written)
};

// When the pattern is nothing but ORed tests of the form [type:path = 'string']
// (also "IN ('a', 'b')" and, for ipv4-addr:value / ipv6-addr:value,
// "ISSUBSET 'cidr'"), across one or more ORed observation expressions without
// qualifiers, returns the lookups it stands for: the pattern matches exactly
// the observations holding an object that passes one of them. Paths must be
// plain keys (no [n], [*] or *_ref dereference). Anything else (AND, NOT,
// qualifiers, LIKE, MATCHES, ordering, non-string literals) gives nullopt.
std::optional<std::vector<SimpleComparison>> ReduceToSimpleComparisons(const Pattern& pattern);

}  // namespace kizuna::pattern
