// Request-target helpers shared by server.cc, client.cc and tests; internal
// to src/http (other components see only http.h). Boost.URL only, no Beast.
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kizuna::http::internal {

// Percent-encodes the few characters that real clients leave raw although
// RFC 3986 forbids them in a path or query ('[' ']' in TAXII's
// "match[type]=…", '|', '{', '}', '^', '`', '\\', '"', '<', '>', spaces
// and non-ASCII bytes), so that Boost.URL accepts the target. Existing
// %XX escapes are kept as they are.
std::string EscapeLenient(std::string_view target);

// Splits an origin-form target ("/taxii2/?a=b") into its percent-decoded
// path and its decoded query parameters (in order; '+' is a space; a key
// without '=' has an empty value). InvalidArgument when it does not parse.
Status ParseTarget(std::string_view target, std::string* path,
                   std::vector<std::pair<std::string, std::string>>* query);

}  // namespace kizuna::http::internal
