// JSON text in and out: ParseJson with positioned errors and a depth limit,
// and the RFC 8785 (JCS) canonical form used for deterministic SCO ids.
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

#include "stix/stix.h"

namespace kizuna::stix {

Result<boost::json::value> ParseJson(std::string_view text, int max_depth) {
  boost::json::parse_options options;
  options.max_depth = max_depth > 0 ? static_cast<std::size_t>(max_depth) : 1;
  boost::json::stream_parser parser({}, options);
  boost::system::error_code ec;
  std::size_t consumed = 0;
  try {
    consumed = parser.write_some(text.data(), text.size(), ec);
    if (!ec && consumed < text.size()) {
      // write_some stops after a complete value; anything but whitespace after it is extra.
      ec = boost::json::error::extra_data;
    }
    if (!ec) parser.finish(ec);
    if (ec) {
      return InvalidArgument("invalid JSON at byte " + std::to_string(consumed) + ": " +
                             ec.message());
    }
    return parser.release();
  } catch (const std::exception& e) {  // allocation failure: keep the no-throw promise
    return InvalidArgument(std::string("invalid JSON: ") + e.what());
  }
}

namespace {

void AppendCanonicalString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// ECMAScript Number.prototype.toString, as RFC 8785 §3.2.2.3 requires.
void AppendCanonicalDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {  // not representable in JSON; JCS forbids it
    out += "null";
    return;
  }
  if (d == 0) {
    out += '0';
    return;
  }
  char buf[64];
  // Shortest round-trip digits in scientific form: "d.ddde±x".
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  if (ec != std::errc()) {
    out += "null";
    return;
  }
  std::string_view sci(buf, end - buf);
  bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exponent = 0;
  std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+'), sci.data() + sci.size(),
                  exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // position of the decimal point
  if (negative) out += '-';
  if (k <= n && n <= 21) {
    out += digits;
    out.append(n - k, '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, n);
    out += '.';
    out.append(digits, n);
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(-n, '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
}

// RFC 8785 sorts member names by their UTF-16 code units.
std::u16string Utf16Units(std::string_view s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    uint32_t cp;
    int len;
    if (c < 0x80) {
      cp = c, len = 1;
    } else if ((c >> 5) == 6) {
      cp = c & 0x1f, len = 2;
    } else if ((c >> 4) == 14) {
      cp = c & 0x0f, len = 3;
    } else {
      cp = c & 0x07, len = 4;
    }
    for (int j = 1; j < len && i + j < s.size(); ++j) cp = (cp << 6) | (s[i + j] & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xd800 + (cp >> 10));
      out += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

bool Utf16Less(std::string_view a, std::string_view b) {
  auto ascii = [](std::string_view s) {
    for (unsigned char c : s)
      if (c >= 0x80) return false;
    return true;
  };
  if (ascii(a) && ascii(b)) return a < b;
  return Utf16Units(a) < Utf16Units(b);
}

void AppendCanonical(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case boost::json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case boost::json::kind::double_:
      AppendCanonicalDouble(v.get_double(), out);
      break;
    case boost::json::kind::string:
      AppendCanonicalString(v.get_string(), out);
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendCanonical(item, out);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      const auto& object = v.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(object.size());
      for (const auto& kv : object) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return Utf16Less(a->key(), b->key()); });
      out += '{';
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out += ',';
        first = false;
        AppendCanonicalString(kv->key(), out);
        out += ':';
        AppendCanonical(kv->value(), out);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string CanonicalJson(const boost::json::value& value) {
  std::string out;
  AppendCanonical(value, out);
  return out;
}

std::string StringProperty(const boost::json::object& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

}  // namespace kizuna::stix
