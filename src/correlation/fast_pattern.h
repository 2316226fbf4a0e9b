// The correlator's fast path for indicator patterns in the plainest form,
// "[<type>:<property> = '<value>']" (or ISSUBSET for an address), on a
// property the index holds. Internal to src/correlation: declared here only
// so that fast_pattern_test.cc can check it against the pattern parser.
//
// Pure function, thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "correlation/indicator_index.h"

namespace kizuna::correlation::internal {

// The index entry `pattern_text` stands for, found without building the AST,
// or nullopt when the text is not in the plainest form (other spacing,
// escapes, OR, qualifiers, an unindexed property, ...). Whatever it accepts,
// pattern::ParsePattern accepts too and ReduceToSimpleComparisons reduces to
// the same single entry (kind and value as written); match_subdomains is
// always false here (the caller sets it from the indicator).
std::optional<IndexEntry> PlainComparison(std::string_view pattern_text);

}  // namespace kizuna::correlation::internal
