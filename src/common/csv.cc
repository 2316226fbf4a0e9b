#include "common/csv.h"

#include <cstring>

namespace kizuna {

bool SplitCsv(std::string_view record, std::vector<std::string_view>* fields,
              std::string* scratch) {
  fields->clear();
  const char* p = record.data();
  const size_t n = record.size();
  if (std::memchr(p, '"', n) == nullptr) {
    size_t start = 0;
    for (;;) {
      const void* comma = std::memchr(p + start, ',', n - start);
      if (comma == nullptr) {
        fields->emplace_back(p + start, n - start);
        return true;
      }
      const size_t at = static_cast<const char*>(comma) - p;
      fields->emplace_back(p + start, at - start);
      start = at + 1;
    }
  }
  if (scratch->size() < n) scratch->resize(n);
  char* const out = scratch->data();
  size_t w = 0;
  size_t i = 0;
  for (;;) {
    if (i < n && p[i] == '"') {
      const size_t begin = w;
      ++i;
      for (;;) {
        const void* q = std::memchr(p + i, '"', n - i);
        if (q == nullptr) return false;  // unterminated (the record reader reports it first)
        const size_t at = static_cast<const char*>(q) - p;
        std::memcpy(out + w, p + i, at - i);
        w += at - i;
        i = at + 1;
        if (i < n && p[i] == '"') {  // a doubled quote
          out[w++] = '"';
          ++i;
          continue;
        }
        break;
      }
      fields->emplace_back(out + begin, w - begin);
      if (i == n) return true;
      if (p[i] != ',') return false;
      ++i;
    } else {
      const void* comma = std::memchr(p + i, ',', n - i);
      const size_t stop = comma ? static_cast<const char*>(comma) - p : n;
      fields->emplace_back(p + i, stop - i);
      if (stop == n) return true;
      i = stop + 1;
    }
  }
}

}  // namespace kizuna
