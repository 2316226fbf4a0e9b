// The text range files: ip-location-db CSV and iptoasn TSV. Every line is
// outside input: each field is checked, a bad line is reported with its
// number and skipped, and nothing in a line can make the reader do more than
// a pass over it.
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "correlation/observable.h"
#include "geo/internal.h"

namespace kizuna::geo::internal {

namespace {

enum class Format { kUnknown, kAsnCsv, kCountryCsv, kIptoasn };

const char* FormatName(Format format) {
  switch (format) {
    case Format::kAsnCsv:
      return "ip-location-db asn csv";
    case Format::kCountryCsv:
      return "ip-location-db country csv";
    case Format::kIptoasn:
      return "iptoasn tsv";
    case Format::kUnknown:
      break;
  }
  return "unknown";
}

constexpr size_t kMaxFields = 64;
constexpr size_t kMaxNameBytes = 512;

// Splits a CSV line (RFC 4180 quoting: "a, b" and "" for a quote) into at
// most kMaxFields fields; false on a quote that is not closed or is followed
// by something else than a comma.
bool SplitCsv(std::string_view line, std::vector<std::string>* fields) {
  fields->clear();
  size_t i = 0;
  while (fields->size() < kMaxFields) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',') return false;
    } else {
      const size_t end = std::min(line.find(',', i), line.size());
      field.assign(line.substr(i, end - i));
      i = end;
    }
    fields->push_back(std::move(field));
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
  return false;
}

void SplitTsv(std::string_view line, std::vector<std::string>* fields) {
  fields->clear();
  size_t i = 0;
  while (fields->size() < kMaxFields) {
    const size_t end = std::min(line.find('\t', i), line.size());
    fields->emplace_back(line.substr(i, end - i));
    if (end >= line.size()) return;
    i = end + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// An address as text ("1.2.3.4", "2001:db8::") or as a decimal number (the
// "-num" files).
struct Address {
  bool v6 = false;
  U128 value = 0;
};

std::optional<Address> ParseAddress(std::string_view text) {
  text = Trim(text);
  if (text.find(':') != std::string_view::npos) {
    auto bytes = correlation::ParseIpv6(text);
    if (!bytes) return std::nullopt;
    U128 value = 0;
    for (uint8_t b : *bytes) value = (value << 8) | b;
    return Address{true, value};
  }
  if (text.find('.') != std::string_view::npos) {
    auto v4 = correlation::ParseIpv4(text);
    if (!v4) return std::nullopt;
    return Address{false, *v4};
  }
  if (!AllDigits(text) || text.size() > 39) return std::nullopt;
  U128 value = 0;
  constexpr U128 kMax = ~U128(0);
  for (char c : text) {
    const unsigned digit = static_cast<unsigned>(c - '0');
    if (value > (kMax - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  // A number is IPv4 when it fits; the range's other end decides with it.
  return Address{value > 0xffffffffu, value};
}

constexpr U128 kMappedPrefix = U128(0xffff) << 32;  // ::ffff:0:0/96

std::optional<uint32_t> ParseAsn(std::string_view text) {
  text = Trim(text);
  if (text.size() > 2 && (text[0] == 'A' || text[0] == 'a') && (text[1] == 'S' || text[1] == 's')) {
    text.remove_prefix(2);
  }
  if (!AllDigits(text) || text.size() > 10) return std::nullopt;
  const uint64_t value = std::stoull(std::string(text));
  if (value > 0xffffffffu) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// "jp" -> "JP"; "" for the codes that mean unknown ("ZZ", "--"; iptoasn
// writes "None"); nullopt for anything else but two letters.
std::optional<std::string> ParseCountry(std::string_view text) {
  text = Trim(text);
  if (text == "None" || text == "Unknown" || text == "--" || text == "-") return std::string();
  if (text.size() != 2) return std::nullopt;
  std::string code;
  for (char c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return std::nullopt;
    code.push_back(c);
  }
  if (code == "ZZ") return std::string();
  return code;
}

Format Detect(const std::vector<std::string>& fields, bool tabs) {
  if (tabs) return fields.size() >= 5 ? Format::kIptoasn : Format::kUnknown;
  if (fields.size() >= 4 && ParseAsn(fields[2])) return Format::kAsnCsv;
  if (fields.size() >= 3 && Trim(fields[2]).size() == 2) return Format::kCountryCsv;
  return Format::kUnknown;
}

}  // namespace

Status ReadRangeText(std::string_view text, const ReadOptions& options, LayerBuilder* asn,
                     LayerBuilder* country, ReadReport* report) {
  Format format = Format::kUnknown;
  std::vector<std::string> fields;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 BOM
  size_t at = 0;
  uint64_t line_number = 0;
  auto bad = [&](std::string_view why) {
    ++report->bad_lines;
    if (options.bad_line) {
      options.bad_line(options.file_name + ":" + std::to_string(line_number) + ": " +
                       std::string(why));
    }
  };
  // Adds [first, last] to `layer`: IPv4-mapped IPv6 ranges as IPv4.
  bool added = false;  // whether the current line gave a range
  auto add = [&](LayerBuilder* layer, const Address& first, const Address& last, uint32_t record) {
    if (!first.v6) {
      layer->Add4(static_cast<uint32_t>(first.value), static_cast<uint32_t>(last.value), record);
    } else if ((first.value >> 32) == (kMappedPrefix >> 32) &&
               (last.value >> 32) == (kMappedPrefix >> 32)) {
      layer->Add4(static_cast<uint32_t>(first.value), static_cast<uint32_t>(last.value), record);
    } else {
      layer->Add6(first.value, last.value, record);
    }
    added = true;
  };
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_number;
    if ((line_number & 0xffff) == 0 && options.progress) {
      options.progress(line_number, std::min<uint64_t>(at, text.size()));
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty() || line.front() == '#') continue;
    const bool tabs = line.find('\t') != std::string_view::npos;
    if (tabs) {
      SplitTsv(line, &fields);
    } else if (!SplitCsv(line, &fields)) {
      bad("badly quoted field");
      continue;
    }
    if (fields.size() < 3) {
      bad("expected at least three fields (first address, last address, …)");
      continue;
    }
    auto first = ParseAddress(fields[0]);
    auto last = ParseAddress(fields[1]);
    if (!first || !last) {
      bad("not an address range: " + std::string(Trim(fields[0].substr(0, 64))) + " - " +
          std::string(Trim(fields[1].substr(0, 64))));
      continue;
    }
    if (first->v6 != last->v6) {
      // Decimal addresses: a v6 range's first address may fit in 32 bits.
      if (fields[0].find_first_of(".:") == std::string::npos &&
          fields[1].find_first_of(".:") == std::string::npos) {
        first->v6 = last->v6 = true;
      } else {
        bad("the two addresses are of different families");
        continue;
      }
    }
    if (first->value > last->value) {
      bad("first address after the last");
      continue;
    }
    if (format == Format::kUnknown) {
      format = Detect(fields, tabs);
      if (format == Format::kUnknown) {
        bad("not a known range format (ip-location-db asn or country csv, iptoasn tsv)");
        continue;
      }
      report->format = FormatName(format);
    }
    added = false;
    switch (format) {
      case Format::kAsnCsv: {
        if (tabs || fields.size() < 4) {
          bad("expected first,last,asn,name");
          continue;
        }
        auto number = ParseAsn(fields[2]);
        if (!number) {
          bad("not an AS number: " + fields[2].substr(0, 32));
          continue;
        }
        // An unquoted name with commas was split: put it together again.
        std::string name = fields[3];
        for (size_t i = 4; i < fields.size(); ++i) name += "," + fields[i];
        name = std::string(Trim(name)).substr(0, kMaxNameBytes);
        if (*number != 0) add(asn, *first, *last, asn->InternAsn(*number, name));
        report->asn = true;
        break;
      }
      case Format::kCountryCsv: {
        if (tabs) {
          bad("expected first,last,country");
          continue;
        }
        auto code = ParseCountry(fields[2]);
        if (!code) {
          bad("not a country code: " + fields[2].substr(0, 32));
          continue;
        }
        if (!code->empty()) add(country, *first, *last, country->InternCountry(*code));
        report->country = true;
        break;
      }
      case Format::kIptoasn: {
        if (!tabs || fields.size() < 5) {
          bad("expected first, last, AS number, country, description (tab-separated)");
          continue;
        }
        auto number = ParseAsn(fields[2]);
        if (!number) {
          bad("not an AS number: " + fields[2].substr(0, 32));
          continue;
        }
        // AS 0 is iptoasn's "Not routed": unknown, like an address no range holds.
        if (*number != 0) {
          const std::string name = std::string(Trim(fields[4])).substr(0, kMaxNameBytes);
          add(asn, *first, *last, asn->InternAsn(*number, name));
          if (auto code = ParseCountry(fields[3]); code && !code->empty()) {
            add(country, *first, *last, country->InternCountry(*code));
          }
        }
        report->asn = report->country = true;
        break;
      }
      case Format::kUnknown:
        break;
    }
    if (added) ++report->ranges;
  }
  report->lines = line_number;
  if (report->ranges == 0) {
    return InvalidArgument(options.file_name + ": no usable line (" +
                           std::to_string(report->bad_lines) + " bad of " +
                           std::to_string(line_number) + ")");
  }
  return Status::Ok();
}

}  // namespace kizuna::geo::internal
