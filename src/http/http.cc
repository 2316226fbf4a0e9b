// The Beast-free part of the HTTP interface: Headers, Request helpers,
// ErrorResponse and request-target parsing.
#include "http/http.h"

#include <strings.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "http/target.h"

namespace kizuna::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const auto& field) { return EqualsIgnoreCase(field.first, name); });
  fields_.emplace_back(std::move(name), std::move(value));
}

std::string_view Headers::Get(std::string_view name) const {
  for (const auto& [field_name, value] : fields_) {
    if (EqualsIgnoreCase(field_name, name)) return value;
  }
  return {};
}

bool Headers::Has(std::string_view name) const {
  for (const auto& field : fields_) {
    if (EqualsIgnoreCase(field.first, name)) return true;
  }
  return false;
}

std::string_view Request::Query(std::string_view key) const {
  for (const auto& [name, value] : query) {
    if (name == key) return value;
  }
  return {};
}

bool Request::HasQuery(std::string_view key) const {
  for (const auto& param : query) {
    if (param.first == key) return true;
  }
  return false;
}

std::string ValidUtf8(std::string_view text) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      out.push_back(text[i++]);
      continue;
    }
    size_t length = 0;
    uint32_t min = 0;
    uint32_t code = 0;
    if (byte >= 0xC2 && byte <= 0xDF) {
      length = 2, min = 0x80, code = byte & 0x1F;
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      length = 3, min = 0x800, code = byte & 0x0F;
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      length = 4, min = 0x10000, code = byte & 0x07;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) valid = false;
      code = (code << 6) | (next & 0x3F);
    }
    valid = valid && code >= min && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
  return out;
}

Response JsonResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.Set("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

Response ErrorResponse(int status, std::string_view title, std::string_view description) {
  // TAXII 2.1 section 3.6.1 error message; http_status is a string there.
  boost::json::object error;
  // Descriptions may quote what a client sent: never its raw bytes, always
  // valid UTF-8 (JSON-escaped by the serializer).
  error["title"] = title.empty() ? std::string(ReasonPhrase(status)) : ValidUtf8(title);
  if (!description.empty()) error["description"] = ValidUtf8(description);
  error["http_status"] = std::to_string(status);
  Response response;
  response.status = status;
  response.headers.Set("Content-Type", "application/taxii+json;version=2.1");
  response.body = boost::json::serialize(error);
  return response;
}

namespace internal {

std::string EscapeLenient(std::string_view target) {
  static constexpr std::string_view kRawButCommon = "[]|{}^`\\\"<> ";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(target.size());
  for (char c : target) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 || byte < 0x20 || byte == 0x7f ||
        kRawButCommon.find(c) != std::string_view::npos) {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  return out;
}

Status ParseTarget(std::string_view target, std::string* path,
                   std::vector<std::pair<std::string, std::string>>* query) {
  std::string escaped = EscapeLenient(target);
  auto parsed = boost::urls::parse_origin_form(escaped);
  if (!parsed) {
    return InvalidArgument("request target does not parse: " + parsed.error().message());
  }
  const boost::urls::url_view& url = *parsed;
  *path = url.path();
  query->clear();
  if (url.has_query()) {
    for (const auto& param : url.params()) {
      query->emplace_back(param.key, param.value);
    }
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace kizuna::http
