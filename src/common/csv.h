// CSV records (RFC 4180), split without copying where they hold no quotes.
// A pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kizuna {

// Splits one CSV record into `fields`; quoted fields are unquoted into
// `scratch` (grown to the record's size first, so the views stay valid until
// the next call). False for a quoted field followed by something other than
// a comma, or an unterminated one.
bool SplitCsv(std::string_view record, std::vector<std::string_view>* fields, std::string* scratch);

}  // namespace kizuna
