// The TAXII 2.1 query parameters of the object-listing endpoints (objects,
// manifest, versions, delete) — match[id], match[type], match[spec_version],
// match[version], added_after, limit, next — and the `next` paging tokens.
//
// A `next` token seals the last date_added a page scanned (EncodeNext), so
// paging is stateless and the token tells the client nothing.
//
// Pure functions of their arguments, thread-safe, no I/O. taxii.cc turns a
// QueryError into a 400 answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.h"

namespace kizuna::taxii {

// Why a query was refused: the title and description of the 400 answer.
struct QueryError {
  std::string title;
  std::string description;
};

// Parses the percent-decoded query parameters (in order; keys may repeat)
// into `query`. query->limit starts at default_page_size; a `limit` is
// capped at max_page_size. match[id] and match[type] are only filters when
// allow_id_and_type (else they are unsupported, as any other unknown
// match[...]); other unknown parameters are ignored, as the specification
// asks. Returns the first problem, nullopt when the query is good.
std::optional<QueryError> ParseQuery(const std::vector<std::pair<std::string, std::string>>& params,
                                     uint64_t default_page_size, uint64_t max_page_size,
                                     bool allow_id_and_type, store::ObjectQuery* query,
                                     std::string_view next_key);

// The `next` token that continues after `date_added_us` (>= 0): opaque to the
// client (authenticated encryption under a key derived from `node_key`, with
// a random nonce), so it reveals no date and cannot be forged.
std::string EncodeNext(int64_t date_added_us, std::string_view node_key);
// The date_added a token continues after; nullopt unless EncodeNext made it
// with the same key.
std::optional<int64_t> DecodeNext(std::string_view token, std::string_view node_key);

// Text helpers shared by the query parser and the TAXII handlers: spaces
// and tabs trimmed at both ends; a split on `sep` that keeps empty parts.
std::string_view Trim(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);

}  // namespace kizuna::taxii
