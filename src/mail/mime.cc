// BuildMime and its pieces: RFC 5322 header fields (folded, RFC 2047 for
// UTF-8), MIME entities (RFC 2045/2046), RFC 2231 file names.
#include "mail/mime.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/encoding.h"
#include "common/time.h"

namespace kizuna::mail {
namespace internal {
namespace {

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsAddressChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::string_view("<>()[]\\,;:\"@").find(c) == std::string_view::npos;
}

}  // namespace

Status CheckAddress(std::string_view what, std::string_view address) {
  size_t at = address.find('@');
  bool ok = at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
            address.size() <= 254 && address.find('@', at + 1) == std::string_view::npos;
  if (ok) {
    for (char c : address) {
      if (c != '@' && !IsAddressChar(c)) ok = false;
    }
  }
  if (!ok) {
    std::string shown = HasLineBreakOrNul(address) ? "(with a line break)" : std::string(address);
    return InvalidArgument(std::string(what) + ": not an e-mail address: " + shown);
  }
  return Status::Ok();
}

Status SplitFrom(std::string_view from, std::string_view* name, std::string_view* address) {
  if (HasLineBreakOrNul(from)) {
    return InvalidArgument("from: a line break or NUL (header injection refused)");
  }
  *name = {};
  *address = from;
  size_t open = from.rfind('<');
  if (open != std::string_view::npos) {
    if (from.back() != '>') return InvalidArgument("from: no '>' after the address");
    *address = from.substr(open + 1, from.size() - open - 2);
    std::string_view n = from.substr(0, open);
    while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
    while (!n.empty() && (n.front() == ' ' || n.front() == '\t')) n.remove_prefix(1);
    if (n.size() >= 2 && n.front() == '"' && n.back() == '"') n = n.substr(1, n.size() - 2);
    *name = n;
  }
  return CheckAddress("from", *address);
}

Result<std::string> AddressOf(std::string_view from) {
  std::string_view name, address;
  KIZUNA_RETURN_IF_ERROR(SplitFrom(from, &name, &address));
  return std::string(address);
}

namespace {

constexpr size_t kFoldAt = 78;        // RFC 5322 2.1.1: SHOULD
constexpr size_t kMaxLine = 998;      // RFC 5322 2.1.1: MUST
constexpr size_t kMaxWordInput = 45;  // 45 bytes -> 60 base64 characters -> a 72-character word

// Printable ASCII and tab: what may stand in a header value as it is.
bool IsPlainHeaderText(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 && u < 0x7f) || u == '\t';
  });
}

// "Name: value" folded at white space to lines of about 78 (value ASCII).
Result<std::string> FoldField(std::string_view name, std::string_view value) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  std::string out = std::string(name) + ":";
  size_t line = out.size();
  size_t i = 0;
  bool first = true;
  do {
    // A piece is the white space before a word and the word; a fold goes
    // before the white space, never on a line of white space alone.
    size_t j = i;
    while (j < value.size() && blank(value[j])) ++j;
    bool has_word = j < value.size();
    while (j < value.size() && !blank(value[j])) ++j;
    std::string piece(value.substr(i, j - i));
    if (first) {
      piece.insert(0, " ");
      first = false;
    } else if (line + piece.size() > kFoldAt && has_word) {
      out += "\r\n";
      line = 0;
    }
    out += piece;
    line += piece.size();
    if (line > kMaxLine) {
      return InvalidArgument("header " + std::string(name) + ": a word longer than 998 characters");
    }
    i = j;
  } while (i < value.size());
  out += "\r\n";
  return out;
}

// A header value: as it is when plain ASCII, encoded-words when it has UTF-8.
Result<std::string> TextField(std::string_view name, std::string_view value) {
  if (HasLineBreakOrNul(value)) {
    return InvalidArgument("header " + std::string(name) +
                           ": a line break or NUL in the value (header injection refused)");
  }
  if (!IsValidUtf8(value)) return InvalidArgument("header " + std::string(name) + ": not UTF-8");
  if (IsPlainHeaderText(value)) return FoldField(name, value);
  // UTF-8, and control characters other than tab, are encoded.
  return std::string(name) + ": " + EncodeWords(value) + "\r\n";
}

bool IsAtext(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// The From field: "Display Name <addr>" or a bare address.
Result<std::string> FromField(std::string_view from) {
  std::string_view name, address;
  KIZUNA_RETURN_IF_ERROR(SplitFrom(from, &name, &address));
  KIZUNA_RETURN_IF_ERROR(CheckAddress("from", address));
  if (!IsValidUtf8(name)) return InvalidArgument("from: the display name is not UTF-8");
  if (name.empty()) return "From: " + std::string(address) + "\r\n";
  std::string phrase;
  if (!IsPlainHeaderText(name)) {
    phrase = EncodeWords(name);
  } else if (std::all_of(name.begin(), name.end(), [](char c) { return IsAtext(c) || c == ' '; })) {
    phrase = std::string(name);
  } else {
    phrase = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') phrase += '\\';
      phrase += c;
    }
    phrase += '"';
  }
  return "From: " + phrase + " <" + std::string(address) + ">\r\n";
}

Status CheckMessageId(std::string_view id) {
  bool ok = id.size() >= 5 && id.size() <= 250 && id.front() == '<' && id.back() == '>';
  std::string_view inner = ok ? id.substr(1, id.size() - 2) : std::string_view();
  size_t at = inner.find('@');
  ok = ok && at != std::string_view::npos && at > 0 && at + 1 < inner.size() &&
       inner.find('@', at + 1) == std::string_view::npos;
  for (char c : inner) {
    if (c != '@' && !IsAddressChar(c) && c != '[' && c != ']') ok = false;
  }
  if (!ok) {
    return InvalidArgument(
        "message_id: not of the form <unique@node> (printable ASCII, no white space)");
  }
  return Status::Ok();
}

bool IsTokenChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f &&
         std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

// "type/subtype" then optional "; parameters" of printable ASCII.
Status CheckContentType(std::string_view type) {
  size_t semi = type.find(';');
  std::string_view main = type.substr(0, semi);
  while (!main.empty() && main.back() == ' ') main.remove_suffix(1);
  size_t slash = main.find('/');
  bool ok =
      slash != std::string_view::npos && slash > 0 && slash + 1 < main.size() &&
      std::all_of(main.begin(), main.end(), [](char c) { return c == '/' || IsTokenChar(c); }) &&
      main.find('/', slash + 1) == std::string_view::npos && IsPlainHeaderText(type) &&
      type.find('\t') == std::string_view::npos;
  if (!ok) {
    std::string shown = HasLineBreakOrNul(type) ? "(with a line break)" : std::string(type);
    return InvalidArgument("attachment content type: not type/subtype[; parameters]: " + shown);
  }
  return Status::Ok();
}

// Content-Type name= and Content-Disposition filename= parameters; RFC 2231
// (filename*=UTF-8''…) when the name is not plain ASCII.
Result<std::pair<std::string, std::string>> FileNameParameters(std::string_view filename) {
  if (filename.empty()) return InvalidArgument("attachment: no file name");
  if (HasLineBreakOrNul(filename)) {
    return InvalidArgument("attachment file name: a line break or NUL (header injection refused)");
  }
  if (!IsValidUtf8(filename)) return InvalidArgument("attachment file name: not UTF-8");
  if (filename.size() > 255) return InvalidArgument("attachment file name: longer than 255 bytes");
  if (filename.find_first_of("/\\") != std::string_view::npos) {
    return InvalidArgument("attachment file name: a path, not a name: " + std::string(filename));
  }
  bool plain = std::all_of(filename.begin(), filename.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    std::string quoted = "\"" + std::string(filename) + "\"";
    return std::make_pair("name=" + quoted, "filename=" + quoted);
  }
  std::string pct = "UTF-8''";
  for (char c : filename) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos) {
      pct += c;
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      pct += '%';
      pct += kHex[u >> 4];
      pct += kHex[u & 15];
    }
  }
  return std::make_pair("name*=" + pct, "filename*=" + pct);
}

// The text body: quoted-printable, or base64 when most of it is not ASCII.
Result<std::string> TextPart(std::string_view text) {
  if (!IsValidUtf8(text)) return InvalidArgument("text: not UTF-8");
  std::string canonical = CanonicalLineEnds(text);
  size_t high = std::count_if(canonical.begin(), canonical.end(),
                              [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  std::string out = "Content-Type: text/plain; charset=utf-8\r\n";
  if (high * 3 > canonical.size()) {
    out += "Content-Transfer-Encoding: base64\r\n\r\n" + Base64Lines(canonical) + "\r\n";
  } else {
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + QuotedPrintable(canonical);
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  }
  return out;
}

bool IsReservedHeader(std::string_view lower) {
  static constexpr std::string_view kOurs[] = {
      "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "sender"};
  if (lower.starts_with("content-")) return true;
  return std::find(std::begin(kOurs), std::end(kOurs), lower) != std::end(kOurs);
}

}  // namespace

std::string CanonicalLineEnds(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EncodeWords(std::string_view utf8) {
  std::string out;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t end = std::min(utf8.size(), i + kMaxWordInput);
    // Back up to the start of a character.
    while (end < utf8.size() && end > i + 1 &&
           (static_cast<unsigned char>(utf8[end]) & 0xc0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(utf8.substr(i, end - i)) + "?=";
    i = end;
  }
  if (out.empty())
    out =
        "=?UTF-8?B?"
        "?=";
  return out;
}

std::string QuotedPrintable(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find("\r\n", pos);
    bool last = eol == std::string_view::npos;
    std::string_view line = text.substr(pos, last ? std::string_view::npos : eol - pos);
    if (last && line.empty()) break;
    size_t width = 0;
    for (size_t k = 0; k < line.size(); ++k) {
      auto u = static_cast<unsigned char>(line[k]);
      bool at_end = k + 1 == line.size();
      bool literal = (u >= 33 && u <= 126 && u != '=') || ((u == ' ' || u == '\t') && !at_end);
      if (k == 0 && (u == '.' || (u == 'F' && line.substr(0, 5) == "From "))) literal = false;
      std::string token;
      if (literal) {
        token = static_cast<char>(u);
      } else {
        token = {'=', kHex[u >> 4], kHex[u & 15]};
      }
      // At most 76 characters a line, counting the '=' of a soft break.
      if (width + token.size() > (at_end ? 76 : 75)) {
        out += "=\r\n";
        width = 0;
      }
      out += token;
      width += token.size();
    }
    if (last) break;
    out += "\r\n";
    pos = eol + 2;
  }
  return out;
}

std::string Base64Lines(std::string_view bytes) {
  std::string b64 = Base64Encode(bytes);
  std::string out;
  out.reserve(b64.size() + b64.size() / 38 + 2);
  for (size_t i = 0; i < b64.size(); i += 76) {
    if (i) out += "\r\n";
    out.append(b64, i, 76);
  }
  return out;
}

std::string FormatDate(int64_t micros) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t seconds = micros / 1000000 - (micros % 1000000 < 0 ? 1 : 0);
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
           kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string NewBoundary() { return "=_kizuna_" + HexEncode(RandomBytes(12)); }

Result<std::string> BuildHeaders(const Message& message) {
  std::string out;
  KIZUNA_ASSIGN_OR_RETURN(std::string from, FromField(message.from));
  out += from;
  if (message.to.empty()) return InvalidArgument("to: no recipient");
  std::string to;
  for (const std::string& address : message.to) {
    KIZUNA_RETURN_IF_ERROR(CheckAddress("to", address));
    if (!to.empty()) to += ", ";
    to += address;
  }
  KIZUNA_ASSIGN_OR_RETURN(std::string to_field, FoldField("To", to));
  out += to_field;
  KIZUNA_ASSIGN_OR_RETURN(std::string subject, TextField("Subject", message.subject));
  out += subject;
  int64_t date = message.date_us ? message.date_us : SystemClock::Instance().NowMicros();
  out += "Date: " + FormatDate(date) + "\r\n";
  KIZUNA_RETURN_IF_ERROR(CheckMessageId(message.message_id));
  out += "Message-ID: " + message.message_id + "\r\n";
  bool auto_submitted = false;
  for (const auto& [name, value] : message.headers) {
    bool token =
        !name.empty() && name.size() <= 76 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
        });
    if (!token) {
      std::string shown = HasLineBreakOrNul(name) ? "(with a line break)" : name;
      return InvalidArgument("header name: letters, digits and '-' only: " + shown);
    }
    std::string lower = AsciiLower(name);
    if (IsReservedHeader(lower)) {
      return InvalidArgument("header " + name +
                             ": set from the message's own fields, not as extra");
    }
    if (lower == "auto-submitted") auto_submitted = true;
    KIZUNA_ASSIGN_OR_RETURN(std::string field, TextField(name, value));
    out += field;
  }
  // RFC 3834: automated reports; out-of-office replies are not sent back.
  if (!auto_submitted) out += "Auto-Submitted: auto-generated\r\n";
  out += "MIME-Version: 1.0\r\n";
  return out;
}

Result<std::string> BuildContent(const Message& message) {
  KIZUNA_ASSIGN_OR_RETURN(std::string text, TextPart(message.text));
  if (message.attachments.empty()) return text;
  const std::string boundary = NewBoundary();
  std::string out = "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + text;
  for (const Attachment& a : message.attachments) {
    std::string type = a.content_type.empty() ? "application/octet-stream" : a.content_type;
    KIZUNA_RETURN_IF_ERROR(CheckContentType(type));
    KIZUNA_ASSIGN_OR_RETURN(auto params, FileNameParameters(a.filename));
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Type: " + type + ";\r\n " + params.first + "\r\n";
    out += "Content-Disposition: attachment;\r\n " + params.second + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += Base64Lines(a.data);
    out += "\r\n";
  }
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace internal

Result<std::string> BuildMime(const Message& message) {
  KIZUNA_ASSIGN_OR_RETURN(std::string headers, internal::BuildHeaders(message));
  KIZUNA_ASSIGN_OR_RETURN(std::string content, internal::BuildContent(message));
  return headers + content;
}

std::string MessageIdDomain(std::string_view producer) {
  std::string domain;
  for (char c : producer) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    domain.push_back(ok ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : '-');
  }
  if (domain.empty()) domain = "kizuna";
  return domain + ".kizuna.invalid";
}

}  // namespace kizuna::mail
