// A string as JSON text, written straight into a buffer: what the match
// results (correlation/result_json.h), alert evidence and other hand-written
// JSON use, so that every writer escapes alike. Escaping is boost::json's:
// \" \\ \b \f \n \r \t, other control characters as \u00XX, everything else
// as it is; a byte that is not part of valid UTF-8 becomes U+FFFD, so the
// output is always valid JSON.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace kizuna {

// Appends `text` as a JSON string, quotes included.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace kizuna
