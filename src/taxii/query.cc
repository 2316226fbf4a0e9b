#include "taxii/query.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>

#include <sodium.h>

#include "common/encoding.h"
#include "common/time.h"

namespace kizuna::taxii {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

namespace {

// The secretbox key for `next` tokens, derived from the node's key.
std::array<unsigned char, crypto_secretbox_KEYBYTES> TokenKey(std::string_view node_key) {
  static constexpr std::string_view kPurpose = "kizuna taxii next token v1";
  std::array<unsigned char, crypto_secretbox_KEYBYTES> key{};
  crypto_generichash(key.data(), key.size(),
                     reinterpret_cast<const unsigned char*>(kPurpose.data()), kPurpose.size(),
                     reinterpret_cast<const unsigned char*>(node_key.data()),
                     std::min<size_t>(node_key.size(), crypto_generichash_KEYBYTES_MAX));
  return key;
}

}  // namespace

std::string EncodeNext(int64_t date_added_us, std::string_view node_key) {
  [[maybe_unused]] static const int initialized = sodium_init();
  const auto key = TokenKey(node_key);
  unsigned char plain[8];
  for (int i = 0; i < 8; ++i) plain[i] = static_cast<unsigned char>(date_added_us >> (8 * i));
  std::string token(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + sizeof plain, '\0');
  auto* out = reinterpret_cast<unsigned char*>(token.data());
  randombytes_buf(out, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, sizeof plain, out, key.data());
  return Base64UrlEncode(token);
}

std::optional<int64_t> DecodeNext(std::string_view token, std::string_view node_key) {
  auto raw = Base64UrlDecode(token);
  constexpr size_t kSize = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 8;
  if (!raw || raw->size() != kSize) return std::nullopt;
  const auto key = TokenKey(node_key);
  const auto* in = reinterpret_cast<const unsigned char*>(raw->data());
  unsigned char plain[8];
  if (crypto_secretbox_open_easy(plain, in + crypto_secretbox_NONCEBYTES,
                                 kSize - crypto_secretbox_NONCEBYTES, in, key.data()) != 0) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(plain[i]) << (8 * i);
  if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(value);
}

std::optional<QueryError> ParseQuery(const std::vector<std::pair<std::string, std::string>>& params,
                                     uint64_t default_page_size, uint64_t max_page_size,
                                     bool allow_id_and_type, store::ObjectQuery* query,
                                     std::string_view next_key) {
  query->limit = default_page_size;
  for (const auto& [key, value] : params) {
    if (key == "added_after") {
      auto ts = ParseTimestamp(value);
      if (!ts.ok()) return QueryError{"Invalid added_after", ts.status().message()};
      query->added_after_us = *ts;
    } else if (key == "limit") {
      uint64_t limit = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || ptr != value.data() + value.size() || limit == 0) {
        return QueryError{"Invalid limit", "limit must be a positive integer"};
      }
      query->limit = std::min<uint64_t>(limit, max_page_size);
    } else if (key == "next") {
      auto cursor = DecodeNext(value, next_key);
      if (!cursor) {
        return QueryError{"Invalid next", "the next token is not one this server issued"};
      }
      query->after_date_added_us = *cursor;
    } else if (key == "match[id]" && allow_id_and_type) {
      for (auto part : Split(value, ',')) query->ids.emplace_back(Trim(part));
    } else if (key == "match[type]" && allow_id_and_type) {
      for (auto part : Split(value, ',')) query->types.emplace_back(Trim(part));
    } else if (key == "match[spec_version]") {
      for (auto part : Split(value, ',')) {
        std::string_view v = Trim(part);
        if (v != "2.0" && v != "2.1") {
          return QueryError{"Invalid match[spec_version]",
                            "spec_version must be 2.0 or 2.1, got '" + std::string(v) + "'"};
        }
        query->spec_versions.emplace_back(v);
      }
    } else if (key == "match[version]") {
      for (auto part : Split(value, ',')) {
        std::string_view v = Trim(part);
        if (v == "first") {
          query->version_first = true;
        } else if (v == "last") {
          query->version_last = true;
        } else if (v == "all") {
          query->version_all = true;
        } else {
          auto ts = ParseTimestamp(v);
          if (!ts.ok()) {
            return QueryError{"Invalid match[version]",
                              "expected first, last, all or a timestamp: " + ts.status().message()};
          }
          query->versions.push_back(*ts);
        }
      }
    } else if (key.rfind("match[", 0) == 0) {
      return QueryError{"Unsupported filter",
                        "the filter '" + key + "' is not supported on this endpoint"};
    }
    // Unknown non-filter parameters are ignored, as the specification asks.
  }
  return std::nullopt;
}

}  // namespace kizuna::taxii
