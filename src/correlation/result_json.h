// JSON text of match results written straight into a buffer, without
// building a boost::json DOM: what `kizuna match` and the match API send for
// every observable, so this runs once per log line.
//
// AppendResultJson writes byte for byte what
// boost::json::serialize(ResultToJson(result)) writes (same keys, same
// order, same escaping: \" \\ \b \f \n \r \t, other control characters as
// \u00XX, everything else as it is) for every result whose strings are valid
// UTF-8. Where a string is not valid UTF-8 (say a value cut at 256 bytes in
// the middle of a character) each invalid byte becomes U+FFFD, so the output
// is always valid JSON; ResultToJson would pass the bytes through.
//
// Pure functions, thread-safe.
#pragma once

#include "common/encoding.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_string.h"
#include "correlation/correlator.h"

namespace kizuna::correlation {

// Appends the JSON object of one result (no newline).
void AppendResultJson(const ObservableResult& result, std::string* out);

// Appends one item of a result's "matches", exactly as AppendResultJson
// writes the IndicatorMatch of an index match (by_pattern false) whose
// metadata is `indicator`'s, with these collections and sightings: for
// answers written straight from the index, under its read lock.
void AppendIndexMatchJson(const IndicatorView& indicator,
                          std::span<const std::string_view> collections,
                          const std::vector<SightedBy>& sighted_by, std::string* out);

}  // namespace kizuna::correlation
