// libFuzzer target: the query string of a TAXII request, as a client sends
// it ("match[type]=indicator&added_after=…&limit=10&next=…"), through the
// server's request-target parsing (http::internal::ParseTarget) and the TAXII
// query parameters (taxii::ParseQuery), plus the `next` paging tokens. Bad
// queries are one 400 error, never a crash. Checked: a good query keeps its
// limit in 1..max_page_size, match[id]/match[type] only where allowed,
// spec_versions 2.0/2.1, a non-negative cursor; the date_added of every token
// that decodes survives EncodeNext and DecodeNext. (A token need not re-encode
// to itself: "da:007" and "da:-0" are read as 7 and 0.)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/target.h"
#include "taxii/query.h"

namespace {

constexpr uint64_t kDefaultPageSize = 100;
constexpr uint64_t kMaxPageSize = 1000;

constexpr std::string_view kNodeKey = "fuzz node key";

// A decoded token must continue after the same date_added once re-encoded.
void CheckToken(std::string_view token) {
  auto cursor = kizuna::taxii::DecodeNext(token, kNodeKey);
  if (!cursor) return;
  if (*cursor < 0) __builtin_trap();
  const std::string again = kizuna::taxii::EncodeNext(*cursor, kNodeKey);
  if (kizuna::taxii::DecodeNext(again, kNodeKey) != cursor) __builtin_trap();
}

void CheckQuery(const std::vector<std::pair<std::string, std::string>>& params,
                bool allow_id_and_type) {
  kizuna::store::ObjectQuery query;
  auto error = kizuna::taxii::ParseQuery(params, kDefaultPageSize, kMaxPageSize, allow_id_and_type,
                                         &query, kNodeKey);
  if (error) {
    if (error->title.empty()) __builtin_trap();
    return;
  }
  if (query.limit == 0 || query.limit > kMaxPageSize) __builtin_trap();
  if (!allow_id_and_type && (!query.ids.empty() || !query.types.empty())) __builtin_trap();
  for (const auto& v : query.spec_versions) {
    if (v != "2.0" && v != "2.1") __builtin_trap();
  }
  if (query.after_date_added_us && *query.after_date_added_us < 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckToken(text);
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;
  const std::string target = "/taxii2/root/collections/c/objects/?" + std::string(text);
  if (!kizuna::http::internal::ParseTarget(target, &path, &params).ok()) return 0;
  for (const auto& [key, value] : params) {
    if (key == "next") CheckToken(value);
  }
  CheckQuery(params, true);
  CheckQuery(params, false);
  return 0;
}
