#include "correlation/result_json.h"

#include <array>
#include <charconv>
#include <cstring>

#include "common/time.h"
#include "stix/stix.h"

namespace kizuna::correlation {
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

void AppendInt(int64_t value, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, end);
}

void AppendUnsigned(uint64_t value, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, end);
}

void AppendStringArray(const std::vector<std::string>& values, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(values[i], out);
  }
  out->push_back(']');
}

// SightedByToJson's objects: identity, count, sightings, first_seen,
// last_seen, name when known, via ("this node" for this node's own).
void AppendSightedBy(const std::vector<SightedBy>& sighted_by, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < sighted_by.size(); ++i) {
    const SightedBy& by = sighted_by[i];
    if (i) out->push_back(',');
    out->push_back('{');
    out->append("\"identity\":");
    AppendJsonString(by.observer, out);
    out->append(",\"count\":");
    AppendInt(by.count, out);
    out->append(",\"sightings\":");
    AppendUnsigned(by.sightings, out);
    out->append(",\"first_seen\":");
    AppendJsonString(FormatTimestamp(by.first_seen_us, 3), out);
    out->append(",\"last_seen\":");
    AppendJsonString(FormatTimestamp(by.last_seen_us, 3), out);
    if (!by.name.empty()) {
      out->append(",\"name\":");
      AppendJsonString(by.name, out);
    }
    out->append(",\"via\":[");
    for (size_t v = 0; v < by.via.size(); ++v) {
      if (v) out->push_back(',');
      AppendJsonString(by.via[v].empty() ? std::string_view("this node") : by.via[v], out);
    }
    out->push_back(']');
    out->push_back('}');
  }
  out->push_back(']');
}

// One item of "matches": what ResultToJson writes for an IndicatorMatch,
// from its parts, so that an IndicatorMatch and the index's view of one
// are written by the same code. `for_each_label(f)` and
// `for_each_collection(f)` call f(std::string_view) for each, in order.
template <typename Labels, typename Collections>
void AppendMatch(std::string_view id, std::string_view name, const Labels& for_each_label,
                 stix::Tlp tlp, std::string_view producer, int confidence, int64_t valid_until_us,
                 const Collections& for_each_collection, bool by_pattern,
                 const std::vector<SightedBy>& sighted_by, std::string* out) {
  out->append("{\"indicator\":");
  AppendJsonString(id, out);
  if (!name.empty()) {
    out->append(",\"name\":");
    AppendJsonString(name, out);
  }
  out->append(",\"labels\":[");
  bool first = true;
  auto item = [&](std::string_view text) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(text, out);
  };
  for_each_label(item);
  out->append("],\"tlp\":");
  AppendJsonString(stix::TlpName(tlp), out);
  if (!producer.empty()) {
    out->append(",\"producer\":");
    AppendJsonString(producer, out);
  }
  if (confidence >= 0) {
    out->append(",\"confidence\":");
    AppendInt(confidence, out);
  }
  if (valid_until_us != kNoExpiry) {
    out->append(",\"valid_until\":");
    AppendJsonString(FormatTimestamp(valid_until_us, 3), out);
  }
  out->append(",\"collections\":[");
  first = true;
  for_each_collection(item);
  out->push_back(']');
  if (by_pattern) out->append(",\"by_pattern\":true");
  if (!sighted_by.empty()) {
    out->append(",\"sighted_by\":");
    AppendSightedBy(sighted_by, out);
  }
  out->push_back('}');
}

}  // namespace

namespace {

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

void AppendResultJson(const ObservableResult& result, std::string* out) {
  out->reserve(out->size() + 128 + result.value.size() + 320 * result.matches.size());
  out->push_back('{');
  if (!result.error.empty()) {
    out->append("\"input\":");
    AppendJsonString(result.value, out);
    if (!result.type.empty()) {
      out->append(",\"type\":");
      AppendJsonString(result.type, out);
    }
    out->append(",\"error\":");
    AppendJsonString(result.error, out);
    out->push_back('}');
    return;
  }
  out->append("\"type\":");
  AppendJsonString(result.type, out);
  out->append(",\"value\":");
  AppendJsonString(result.value, out);
  out->append(",\"matched\":");
  out->append(result.matches.empty() ? "false" : "true");
  out->append(",\"matches\":");
  out->push_back('[');
  for (size_t i = 0; i < result.matches.size(); ++i) {
    const IndicatorMatch& m = result.matches[i];
    if (i) out->push_back(',');
    auto each = [](const std::vector<std::string>& strings) {
      return [&strings](const auto& f) {
        for (const std::string& s : strings) f(s);
      };
    };
    AppendMatch(m.indicator.id, m.indicator.name, each(m.indicator.labels), m.indicator.tlp,
                m.indicator.producer, m.indicator.confidence, m.indicator.valid_until_us,
                each(m.collections), m.by_pattern, m.sighted_by, out);
  }
  out->push_back(']');
  if (result.truncated) {
    out->append(",\"truncated\":");
    out->append("true");
  }
  if (!result.warnings.empty()) {
    out->append(",\"warnings\":");
    AppendStringArray(result.warnings, out);
  }
  out->push_back('}');
}

void AppendIndexMatchJson(const IndicatorView& indicator,
                          std::span<const std::string_view> collections,
                          const std::vector<SightedBy>& sighted_by, std::string* out) {
  AppendMatch(
      indicator.id(), indicator.name, [&](const auto& f) { indicator.ForEachLabel(f); },
      indicator.tlp, indicator.producer, indicator.confidence, indicator.valid_until_us,
      [&](const auto& f) {
        for (std::string_view c : collections) f(c);
      },
      /*by_pattern=*/false, sighted_by, out);
}

}  // namespace kizuna::correlation
