#include "common/json_string.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace kizuna {
namespace {

// How AppendJsonString treats each byte: 0 as it is, 1 escaped, 2 the
// start or continuation of a multi-byte UTF-8 sequence (validated).
constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 1;
  table['"'] = 1;
  table['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c) table[c] = 2;
  return table;
}();

// Whether none of the 8 bytes of `word` is a control character, '"', '\\'
// or above 0x7F (exact, as a whole: the "has less than" and "has zero byte"
// tricks of Bit Twiddling Hacks).
inline bool IsPlainWord(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  const uint64_t control = (word - kOnes * 0x20) & ~word;
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  const uint64_t special =
      control | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | word;
  return (special & kHighs) == 0;
}

// The length of the well-formed UTF-8 sequence at the start of `s` (which
// begins with a byte >= 0x80), or 0 when it is not one (Unicode 15, table 3-7).
size_t Utf8SequenceLength(const unsigned char* s, size_t n) {
  const unsigned char c = s[0];
  auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < n && s[i] >= lo && s[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Whether no byte of `text` needs a look (the usual case: ids, names, labels).
bool IsPlain(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, s + i, 8);
    if (!IsPlainWord(word)) return false;
  }
  for (; i < n; ++i) {
    if (kByteClass[s[i]] != 0) return false;
  }
  return true;
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (IsPlain(text)) {  // one copy, quotes around
    const size_t at = out->size();
    out->resize(at + n + 2);
    char* d = out->data() + at;
    d[0] = '"';
    if (n != 0) std::memcpy(d + 1, text.data(), n);
    d[n + 1] = '"';
    return;
  }
  out->push_back('"');
  size_t plain = 0;  // start of the run of bytes copied as they are
  size_t i = 0;
  while (i < n) {
    // Eight bytes at a time while none needs a look.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if (!IsPlainWord(word)) break;
      i += 8;
    }
    if (i >= n) break;
    const uint8_t cls = kByteClass[s[i]];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 2) {
      const size_t length = Utf8SequenceLength(s + i, n - i);
      if (length != 0) {
        i += length;
        continue;
      }
    }
    out->append(text.data() + plain, i - plain);
    if (cls == 2) {
      out->append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not UTF-8
    } else {
      const unsigned char c = s[i];
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\b':
          out->append("\\b");
          break;
        case '\f':
          out->append("\\f");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default: {
          const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out->append(escaped, sizeof escaped);
        }
      }
    }
    ++i;
    plain = i;
  }
  out->append(text.data() + plain, n - plain);
  out->push_back('"');
}

}  // namespace kizuna
