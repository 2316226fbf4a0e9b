#include "correlation/observable.h"
#include "common/encoding.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace kizuna::correlation {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool HasNonAscii(std::string_view s) { return std::any_of(s.begin(), s.end(), IsNonAscii); }
bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return HexDigitValue(c) >= 0; });
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Decodes %XX of unreserved characters and upper-cases the hex of the rest
// (RFC 3986 6.2.2.1-2). A '%' not followed by two hex digits is written
// "%25": left bare it could pair with what decoding puts after it ("%%36%31"
// would give "%61", and normalizing again "a"), and the normal form must be
// its own normal form.
std::string NormalizePercent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigitValue(s[i + 1]);
      int lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        char decoded = static_cast<char>(hi * 16 + lo);
        if (IsUnreserved(decoded)) {
          out.push_back(decoded);
        } else {
          static constexpr char kHex[] = "0123456789ABCDEF";
          out.push_back('%');
          out.push_back(kHex[hi]);
          out.push_back(kHex[lo]);
        }
        i += 2;
        continue;
      }
    }
    if (s[i] == '%') {
      out.append("%25");
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// RFC 3986 5.2.4, done segment by segment.
std::string RemoveDotSegments(std::string_view path) {
  bool absolute = !path.empty() && path.front() == '/';
  if (absolute) path.remove_prefix(1);
  std::vector<std::string_view> out;
  bool trailing_slash = false;
  while (true) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    bool last = slash == std::string_view::npos;
    if (segment == ".") {
      trailing_slash = last;
    } else if (segment == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else {
      out.push_back(segment);
      trailing_slash = false;
    }
    if (last) break;
    path.remove_prefix(slash + 1);
  }
  std::string result = absolute ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result.push_back('/');
    result.append(out[i]);
  }
  if (trailing_slash && !out.empty()) result.push_back('/');
  return result;
}

std::string_view DefaultPort(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return "80";
  if (scheme == "https" || scheme == "wss") return "443";
  if (scheme == "ftp") return "21";
  return "";
}

// The process-wide public suffix list: the newest of the system's
// (/usr/share/publicsuffix) and the one built into libpsl. Lookups on a
// loaded psl_ctx_t are thread-safe.
struct PslDeleter {
  void operator()(psl_ctx_t* p) const { psl_free(p); }
};
const psl_ctx_t* Psl() {
  static const std::unique_ptr<psl_ctx_t, PslDeleter> latest(psl_latest(nullptr));
  return latest ? latest.get() : psl_builtin();
}

}  // namespace

std::string NormalizationFingerprint() {
  // psl_latest picks the newer of the built-in list and the system's file,
  // so both (and the file's state) are part of what decides a suffix.
  std::string fingerprint = "libpsl " + std::string(psl_get_version()) + " builtin " +
                            std::to_string(static_cast<long long>(psl_builtin_file_time()));
  struct stat file {};
  if (const char* dist = psl_dist_filename(); dist != nullptr && stat(dist, &file) == 0) {
    fingerprint += " " + std::string(dist) + " " +
                   std::to_string(static_cast<long long>(file.st_mtime)) + " " +
                   std::to_string(static_cast<long long>(file.st_size));
  }
  fingerprint += "; libidn2 " + std::string(idn2_check_version(nullptr));
  return fingerprint;
}

namespace {

// What libidn2 returns is malloc'd.
struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

// One label with non-ASCII characters to its A-label ("Bücher" ->
// "xn--bcher-kva") by UTS #46: mapped (case-folded, NFC, fullwidth forms
// narrowed), then IDNA2008 nontransitional, as browsers and registries do
// ("faß" stays "faß", not "fass"). A label IDNA2008 refuses but IDNA2003
// allowed (symbols, emoji) gets the transitional conversion instead, so that
// such names already registered still have one normal form. The result must
// be a plain LDH label (letters, digits, '-', and '_' as DNS allows): a
// mapping that yields '.', '/' or ':' ("⒈", "℀") is refused.
std::optional<std::string> LabelToAscii(std::string_view label) {
  // libidn2 reads up to a NUL: a label with one would lose its tail.
  if (std::any_of(label.begin(), label.end(), IsControl)) return std::nullopt;
  const std::string z(label);
  for (int flags : {IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL, IDN2_NFC_INPUT | IDN2_TRANSITIONAL}) {
    uint8_t* out = nullptr;
    if (idn2_lookup_u8(reinterpret_cast<const uint8_t*>(z.c_str()), &out, flags) != IDN2_OK) {
      continue;
    }
    std::unique_ptr<uint8_t, FreeDeleter> owned(out);
    std::string ascii(reinterpret_cast<const char*>(out));
    bool ldh = !ascii.empty() && std::all_of(ascii.begin(), ascii.end(), [](char c) {
      return IsAlpha(c) || IsDigit(c) || c == '-' || c == '_';
    });
    if (ldh) return ToLower(ascii);
  }
  return std::nullopt;
}

// A name with non-ASCII characters to its ASCII form: split at '.' and at
// the full stops UTS #46 maps to '.' (U+3002 ideographic, U+FF0E fullwidth,
// U+FF61 halfwidth ideographic), ASCII labels lower-cased, the others
// converted by LabelToAscii. nullopt when a label does not convert.
std::optional<std::string> NameToAscii(std::string_view name) {
  static constexpr std::string_view kDots[] = {"\xE3\x80\x82", "\xEF\xBC\x8E", "\xEF\xBD\xA1"};
  std::string out;
  out.reserve(name.size() + 16);
  size_t start = 0;
  for (size_t i = 0; i <= name.size();) {
    size_t dot_len = 0;
    if (i < name.size()) {
      if (name[i] == '.') {
        dot_len = 1;
      } else {
        for (std::string_view dot : kDots) {
          if (name.substr(i).starts_with(dot)) dot_len = dot.size();
        }
      }
      if (dot_len == 0) {
        ++i;
        continue;
      }
    }
    std::string_view label = name.substr(start, i - start);
    if (HasNonAscii(label)) {
      auto ascii = LabelToAscii(label);
      if (!ascii) return std::nullopt;
      out += *ascii;
    } else {
      out += ToLower(label);
    }
    if (i == name.size()) break;
    out.push_back('.');
    i += dot_len;
    start = i;
  }
  return out;
}

}  // namespace

std::string_view ObservableKindName(ObservableKind kind) {
  static constexpr std::string_view kNames[] = {
      "ipv4",   "ipv6",      "domain",       "url",         "email",    "md5",      "sha1",
      "sha256", "sha512",    "mac-addr",     "file-name",   "mutex",    "registry", "user-agent",
      "asn",    "directory", "process-name", "x509-serial", "sha3-256", "ssdeep"};
  static_assert(std::size(kNames) == kObservableKindCount);
  auto i = static_cast<size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::string_view StixPathOf(ObservableKind kind) {
  switch (kind) {
    case ObservableKind::kIpv4:
      return "ipv4-addr:value";
    case ObservableKind::kIpv6:
      return "ipv6-addr:value";
    case ObservableKind::kDomain:
      return "domain-name:value";
    case ObservableKind::kUrl:
      return "url:value";
    case ObservableKind::kEmail:
      return "email-addr:value";
    case ObservableKind::kMd5:
      return "file:hashes.MD5";
    case ObservableKind::kSha1:
      return "file:hashes.'SHA-1'";
    case ObservableKind::kSha256:
      return "file:hashes.'SHA-256'";
    case ObservableKind::kSha512:
      return "file:hashes.'SHA-512'";
    default:
      return "";
  }
}

std::optional<ObservableKind> KindForStixPath(std::string_view path) {
  std::string p;
  for (char c : Trim(path)) {
    if (c != '\'' && c != '"' && c != ' ') p.push_back(Lower(c));
  }
  static constexpr std::pair<std::string_view, ObservableKind> kPaths[] = {
      {"ipv4-addr:value", ObservableKind::kIpv4},
      {"ipv6-addr:value", ObservableKind::kIpv6},
      {"domain-name:value", ObservableKind::kDomain},
      {"url:value", ObservableKind::kUrl},
      {"email-addr:value", ObservableKind::kEmail},
      {"email-message:from_ref.value", ObservableKind::kEmail},
      {"email-message:sender_ref.value", ObservableKind::kEmail},
      {"file:hashes.md5", ObservableKind::kMd5},
      {"file:hashes.sha-1", ObservableKind::kSha1},
      {"file:hashes.sha1", ObservableKind::kSha1},
      {"file:hashes.sha-256", ObservableKind::kSha256},
      {"file:hashes.sha256", ObservableKind::kSha256},
      {"file:hashes.sha-512", ObservableKind::kSha512},
      {"file:hashes.sha512", ObservableKind::kSha512},
      {"file:hashes.sha3-256", ObservableKind::kSha3_256},
      {"file:hashes.ssdeep", ObservableKind::kSsdeep},
      {"artifact:hashes.md5", ObservableKind::kMd5},
      {"artifact:hashes.sha-1", ObservableKind::kSha1},
      {"artifact:hashes.sha-256", ObservableKind::kSha256},
      {"artifact:hashes.sha-512", ObservableKind::kSha512},
      {"file:name", ObservableKind::kFileName},
      {"mac-addr:value", ObservableKind::kMacAddr},
      {"mutex:name", ObservableKind::kMutex},
      {"windows-registry-key:key", ObservableKind::kWindowsRegistryKey},
      {"network-traffic:extensions.http-request-ext.request_header.user-agent",
       ObservableKind::kUserAgent},
      {"autonomous-system:number", ObservableKind::kAsn},
      {"directory:path", ObservableKind::kDirectoryPath},
      {"process:name", ObservableKind::kProcessName},
      {"x509-certificate:serial_number", ObservableKind::kX509Serial},
  };
  for (const auto& [name, kind] : kPaths) {
    if (p == name) return kind;
  }
  return std::nullopt;
}

int DigestLength(ObservableKind kind) {
  switch (kind) {
    case ObservableKind::kMd5:
      return 16;
    case ObservableKind::kSha1:
      return 20;
    case ObservableKind::kSha256:
    case ObservableKind::kSha3_256:
      return 32;
    case ObservableKind::kSha512:
      return 64;
    default:
      return 0;
  }
}

std::optional<uint32_t> ParseIpv4(std::string_view s) {
  uint32_t address = 0;
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
    uint32_t value = 0;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<uint32_t>(s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) return std::nullopt;
    address = (address << 8) | value;
  }
  if (i != s.size()) return std::nullopt;
  return address;
}

std::optional<Ipv6Bytes> ParseIpv6(std::string_view s) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (s.empty() || s.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  Ipv6Bytes out;
  if (inet_pton(AF_INET6, buf, out.data()) != 1) return std::nullopt;
  return out;
}

namespace {
// Splits "addr/len" and parses len in [0, max]; a missing "/len" gives max.
Result<std::pair<std::string_view, int>> SplitPrefix(std::string_view text, int max) {
  std::string_view t = Trim(text);
  size_t slash = t.find('/');
  if (slash == std::string_view::npos) return std::pair{t, max};
  std::string_view len_text = t.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) {
    return InvalidArgument("bad prefix length in '" + std::string(text) + "'");
  }
  int len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9')
      return InvalidArgument("bad prefix length in '" + std::string(text) + "'");
    len = len * 10 + (c - '0');
  }
  if (len > max) return InvalidArgument("prefix length too long in '" + std::string(text) + "'");
  return std::pair{t.substr(0, slash), len};
}
}  // namespace

Result<Ipv4Prefix> ParseIpv4Prefix(std::string_view text) {
  KIZUNA_ASSIGN_OR_RETURN(auto parts, SplitPrefix(text, 32));
  auto address = ParseIpv4(parts.first);
  if (!address) return InvalidArgument("not an IPv4 address: '" + std::string(text) + "'");
  Ipv4Prefix p;
  p.length = static_cast<uint8_t>(parts.second);
  p.network = p.length == 0 ? 0 : (*address & (~uint32_t{0} << (32 - p.length)));
  return p;
}

Result<Ipv6Prefix> ParseIpv6Prefix(std::string_view text) {
  KIZUNA_ASSIGN_OR_RETURN(auto parts, SplitPrefix(text, 128));
  auto address = ParseIpv6(parts.first);
  if (!address) return InvalidArgument("not an IPv6 address: '" + std::string(text) + "'");
  Ipv6Prefix p;
  p.length = static_cast<uint8_t>(parts.second);
  p.network = *address;
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(p.length - i * 8, 0, 8);
    p.network[i] &= static_cast<uint8_t>(bits == 0 ? 0 : 0xFF << (8 - bits));
  }
  return p;
}

std::string FormatIpv4(uint32_t a) {
  // In one buffer: the alerting pipeline formats an address per record.
  char text[16];
  char* at = text;
  for (int shift = 24; shift >= 0; shift -= 8) {
    at = std::to_chars(at, text + sizeof text, (a >> shift) & 255).ptr;
    if (shift > 0) *at++ = '.';
  }
  return std::string(text, at);
}

namespace {
// Characters no domain name holds (the rest of the authority, whitespace,
// controls).
bool BadDomainChar(char c) {
  return IsControl(c) || c == ' ' || c == '/' || c == '@' || c == ':' || c == '<' || c == '>';
}
}  // namespace

Result<std::string> NormalizeDomain(std::string_view domain) {
  std::string_view t = Trim(domain);
  // One pass: refuse controls and characters no name holds, lower-case, and
  // see whether the name is internationalized. (Converted labels are LDH,
  // so what IDNA returns needs no second look.)
  std::string d(t.size(), '\0');
  bool non_ascii = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (BadDomainChar(c)) {
      return InvalidArgument("bad character in domain '" + std::string(t.substr(0, 256)) + "'");
    }
    non_ascii = non_ascii || IsNonAscii(c);
    d[i] = Lower(c);
  }
  if (non_ascii) {
    auto ascii = NameToAscii(t);
    if (!ascii) {
      return InvalidArgument("not a valid internationalized domain name: '" +
                             std::string(t.substr(0, 256)) + "'");
    }
    d = std::move(*ascii);
  }
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.size() > 253) return InvalidArgument("bad domain length: '" + d + "'");
  std::string_view rest = d;
  if (rest.starts_with("*.")) rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.' ||
      rest.find("..") != std::string_view::npos) {
    return InvalidArgument("empty label in domain '" + d + "'");
  }
  return d;
}

Result<std::string> NormalizeUrl(std::string_view url) {
  std::string_view u = Trim(url);
  if (size_t hash = u.find('#'); hash != std::string_view::npos) u = Trim(u.substr(0, hash));
  if (u.empty()) return InvalidArgument("empty URL");
  std::string scheme = "http";
  size_t sep = u.find("://");
  bool has_scheme = false;
  if (sep != std::string_view::npos && sep > 0) {
    std::string_view s = u.substr(0, sep);
    has_scheme = std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
    if (has_scheme) {
      scheme = ToLower(s);
      u.remove_prefix(sep + 3);
    }
  }
  if (!has_scheme) {
    // "mailto:x", "urn:..." have no authority: lower-case the scheme only.
    size_t colon = u.find(':');
    size_t slash = u.find('/');
    if (colon != std::string_view::npos && colon > 0 &&
        (slash == std::string_view::npos || colon < slash) &&
        std::isalpha(static_cast<unsigned char>(u[0])) &&
        ParseIpv4(u.substr(0, colon)) == std::nullopt) {
      // A digit after the colon makes it "host:port", judged after decoding
      // ("x:%34" is "x:4"), as the next normalization would judge it.
      std::string after = NormalizePercent(u.substr(colon + 1));
      bool port = !after.empty() && IsDigit(after[0]);
      if (!port) return ToLower(u.substr(0, colon)) + ":" + after;
    }
  }
  size_t authority_end = u.find_first_of("/?");
  std::string_view authority = u.substr(0, authority_end);
  std::string_view rest = authority_end == std::string_view::npos ? "" : u.substr(authority_end);
  std::string userinfo;
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    userinfo = NormalizePercent(authority.substr(0, at)) + "@";
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return InvalidArgument("unclosed IPv6 host in URL");
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return InvalidArgument("bad authority in URL");
      port = host.substr(close + 2);
    }
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return InvalidArgument("URL without a host: '" + std::string(url) + "'");
  std::string h = ToLower(NormalizePercent(host));
  if (h.front() != '[') {
    // "x:80:" would read as host "x:80" now and as "x" port 80 next time.
    if (h.find(':') != std::string::npos) {
      return InvalidArgument("bad authority in URL '" + std::string(url) + "'");
    }
    // An internationalized host in its ASCII form, as NormalizeDomain writes
    // it; one IDNA refuses stays as written.
    if (HasNonAscii(h)) {
      if (auto ascii = NameToAscii(h)) h = std::move(*ascii);
    }
    while (h.size() > 1 && h.back() == '.') h.pop_back();
  }
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgument("bad port in URL '" + std::string(url) + "'");
  }
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  if (port == DefaultPort(scheme)) port = {};
  std::string_view path = rest;
  std::string_view query;
  bool has_query = false;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
    has_query = true;
  }
  std::string p = RemoveDotSegments(NormalizePercent(path));
  if (p.empty()) p = "/";
  std::string out = scheme + "://" + userinfo + h;
  if (!port.empty()) out.append(":").append(port);
  out += p;
  if (has_query) out.append("?").append(NormalizePercent(query));
  return out;
}

Result<std::string> NormalizeEmail(std::string_view email) {
  std::string_view e = Trim(email);
  size_t at = e.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == e.size()) {
    return InvalidArgument("not an e-mail address: '" + std::string(e.substr(0, 256)) + "'");
  }
  std::string local = ToLower(e.substr(0, at));
  for (char c : local) {
    if (IsControl(c) || c == ' ' || c == '<' || c == '>') {
      return InvalidArgument("bad character in e-mail address '" + std::string(e.substr(0, 256)) +
                             "'");
    }
  }
  auto domain = NormalizeDomain(e.substr(at + 1));
  if (!domain.ok() || domain->starts_with("*.")) {
    return InvalidArgument("bad domain in e-mail address '" + std::string(e.substr(0, 256)) + "'");
  }
  return local + "@" + *domain;
}

Result<std::string> DecodeDigest(ObservableKind kind, std::string_view hex) {
  int len = DigestLength(kind);
  std::string_view h = Trim(hex);
  if (len == 0) return InvalidArgument("not a fixed-length hash kind");
  if (h.size() != static_cast<size_t>(len) * 2 || !IsHex(h)) {
    return InvalidArgument(std::string(ObservableKindName(kind)) + " needs " +
                           std::to_string(len * 2) + " hex digits: '" + std::string(h) + "'");
  }
  std::string out(static_cast<size_t>(len), '\0');
  for (int i = 0; i < len; ++i) {
    out[i] = static_cast<char>(HexDigitValue(h[2 * i]) * 16 + HexDigitValue(h[2 * i + 1]));
  }
  return out;
}

Result<std::string> NormalizeValue(ObservableKind kind, std::string_view value) {
  switch (kind) {
    case ObservableKind::kIpv4: {
      KIZUNA_ASSIGN_OR_RETURN(Ipv4Prefix p, ParseIpv4Prefix(value));
      std::string s = FormatIpv4(p.network);
      if (p.length != 32) s += "/" + std::to_string(p.length);
      return s;
    }
    case ObservableKind::kIpv6: {
      KIZUNA_ASSIGN_OR_RETURN(Ipv6Prefix p, ParseIpv6Prefix(value));
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, p.network.data(), buf, sizeof(buf));
      std::string s = buf;
      if (p.length != 128) s += "/" + std::to_string(p.length);
      return s;
    }
    case ObservableKind::kDomain:
      return NormalizeDomain(value);
    case ObservableKind::kUrl:
      return NormalizeUrl(value);
    case ObservableKind::kEmail:
      return NormalizeEmail(value);
    case ObservableKind::kMd5:
    case ObservableKind::kSha1:
    case ObservableKind::kSha256:
    case ObservableKind::kSha512:
    case ObservableKind::kSha3_256:
      return DecodeDigest(kind, value);
    case ObservableKind::kMacAddr: {
      std::string out;
      for (char c : Trim(value)) {
        if (c == '-' || c == ':' || c == '.') continue;
        if (HexDigitValue(c) < 0)
          return InvalidArgument("not a MAC address: '" + std::string(value) + "'");
        out.push_back(Lower(c));
      }
      if (out.size() != 12)
        return InvalidArgument("not a MAC address: '" + std::string(value) + "'");
      for (int i = 5; i > 0; --i) out.insert(static_cast<size_t>(i * 2), ":");
      return out;
    }
    case ObservableKind::kWindowsRegistryKey: {
      std::string k = ToLower(Trim(value));
      static constexpr std::pair<std::string_view, std::string_view> kHives[] = {
          {"hklm\\", "hkey_local_machine\\"},
          {"hkcu\\", "hkey_current_user\\"},
          {"hkcr\\", "hkey_classes_root\\"},
          {"hku\\", "hkey_users\\"},
          {"hkcc\\", "hkey_current_config\\"}};
      for (const auto& [abbrev, full] : kHives) {
        if (k.starts_with(abbrev)) k = std::string(full) + k.substr(abbrev.size());
      }
      // Trailing separators and whitespace in any order ("key\\ \\"), so
      // that the result is its own normal form.
      while (!k.empty() && (k.back() == '\\' || k.back() == ' ' || k.back() == '\t' ||
                            k.back() == '\r' || k.back() == '\n')) {
        k.pop_back();
      }
      if (k.empty()) return InvalidArgument("empty registry key");
      return k;
    }
    case ObservableKind::kAsn: {
      std::string_view a = Trim(value);
      if (IStartsWith(a, "as")) a.remove_prefix(2);
      if (a.empty() || a.size() > 10 ||
          !std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return InvalidArgument("not an AS number: '" + std::string(value) + "'");
      }
      uint64_t n = std::stoull(std::string(a));
      if (n > 0xFFFFFFFFull) return InvalidArgument("AS number out of range");
      return std::to_string(n);
    }
    case ObservableKind::kSsdeep:
    case ObservableKind::kX509Serial:
      return ToLower(Trim(value));
    case ObservableKind::kFileName:
    case ObservableKind::kMutex:
    case ObservableKind::kUserAgent:
    case ObservableKind::kDirectoryPath:
    case ObservableKind::kProcessName:
      if (value.empty()) return InvalidArgument("empty value");
      return std::string(value);
    case ObservableKind::kCount:
      break;
  }
  return InvalidArgument("unknown observable kind");
}

std::string Refang(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {"hxxp", "http"}, {"fxp", "ftp"}, {"[://]", "://"}, {"[.]", "."},
      {"(.)", "."},     {"{.}", "."},   {"[dot]", "."},   {"(dot)", "."},
      {"{dot}", "."},   {"\\.", "."},   {"[at]", "@"},    {"(at)", "@"},
      {"[@]", "@"},     {"{at}", "@"},  {"[:]", ":"},     {"[/]", "/"},
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [from, to] : kRules) {
      if (IStartsWith(text.substr(i), from)) {
        out += to;
        i += from.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

namespace {

// Common file extensions, mostly of executables, documents and archives seen
// in incident reports. A last label on this list makes a plain-text name a
// file name unless the public suffix list names it as a TLD: some are
// delegated TLDs since the 2012 round (.zip, .mov, .app, .one, .java, .dot,
// .cab, .pid), and those stay names, as MISP's TLD check keeps them. Lower
// case, sorted (checked at compile time).
constexpr std::string_view kFileExtensions[] = {
    "ace",  "apk",  "app",   "appx", "arj",    "asc",  "asp",  "aspx",    "avi",  "bak",    "bat",
    "bin",  "bmp",  "cab",   "cer",  "cfg",    "cgi",  "chm",  "class",   "cmd",  "conf",   "cpl",
    "cpp",  "crt",  "crx",   "cs",   "css",    "csv",  "dat",  "db",      "deb",  "der",    "dll",
    "dmg",  "dmp",  "doc",   "docm", "docx",   "dot",  "dotm", "dotx",    "drv",  "eml",    "eot",
    "evtx", "exe",  "flv",   "gif",  "go",     "gz",   "heic", "hlp",     "hpp",  "hta",    "htm",
    "html", "ico",  "ics",   "img",  "inf",    "ini",  "iqy",  "iso",     "jar",  "java",   "jpeg",
    "jpg",  "js",   "jse",   "json", "jsp",    "key",  "lnk",  "lock",    "log",  "lua",    "lzh",
    "m4a",  "mht",  "mhtml", "mkv",  "mov",    "mp3",  "mp4",  "msc",     "msg",  "msi",    "msix",
    "msp",  "mst",  "msu",   "ocx",  "odp",    "ods",  "odt",  "ogg",     "old",  "one",    "ost",
    "otf",  "out",  "ova",   "pcap", "pcapng", "pdb",  "pdf",  "pem",     "pfx",  "php",    "pid",
    "pif",  "pkg",  "png",   "pps",  "ppsx",   "ppt",  "pptm", "pptx",    "psd",  "pst",    "pyc",
    "rar",  "rb",   "reg",   "rpm",  "rtf",    "scr",  "sig",  "slk",     "sql",  "sqlite", "svg",
    "swp",  "sys",  "tar",   "tgz",  "tif",    "tiff", "tmp",  "torrent", "tsv",  "ttf",    "txt",
    "url",  "vbe",  "vbs",   "vcf",  "vhd",    "vhdx", "vmdk", "wav",     "webm", "webp",   "whl",
    "wmv",  "woff", "wsf",   "wsh",  "xhtml",  "xla",  "xlam", "xll",     "xls",  "xlsb",   "xlsm",
    "xlsx", "xlt",  "xltm",  "xltx", "xml",    "xpi",  "xz",   "yaml",    "yml",  "zip",
};

static_assert(std::is_sorted(std::begin(kFileExtensions), std::end(kFileExtensions)));

bool IsFileExtension(std::string_view label) {
  return std::binary_search(std::begin(kFileExtensions), std::end(kFileExtensions), label);
}

// The last label of a name in plain text: 2-63 letters, or an A-label
// ("xn--" and letters, digits, hyphens). A file extension counts only when
// the public suffix list names it as a TLD.
bool PlausibleTld(std::string_view tld) {
  if (tld.size() < 2 || tld.size() > 63) return false;
  if (tld.starts_with("xn--")) {
    return tld.size() > 4 && tld.back() != '-' &&
           std::all_of(tld.begin() + 4, tld.end(),
                       [](char c) { return IsAlpha(c) || IsDigit(c) || c == '-'; });
  }
  if (!std::all_of(tld.begin(), tld.end(), IsAlpha)) return false;
  return !IsFileExtension(tld) || HasKnownTld(tld);
}

// `d` is a NormalizeDomain result (lower-case ASCII, no trailing dot). The
// rule observable.h documents under DetectObservable.
bool LooksLikeDomain(std::string_view d) {
  if (d.size() < 4 || d.size() > 253) return false;
  size_t start = 0;
  bool version_like = true;  // every label before the last is a number
  while (true) {
    size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (dot == std::string_view::npos) {
      if (start == 0 || !PlausibleTld(label)) return false;
      // "1.0.alpha", "2.1.rc": a version string, unless the TLD is real
      // ("1.2.com" is a name).
      return !version_like || HasKnownTld(label);
    }
    for (char c : label) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '_') return false;
    }
    version_like = version_like && AllDigits(label);
    start = dot + 1;
  }
}

}  // namespace

std::optional<DetectedObservable> DetectObservable(std::string_view line) {
  std::string text = Refang(Trim(line));
  std::string_view t = Trim(text);
  // IOC lists quote or bracket values: "evil.com", <a@b.c>.
  while (t.size() >= 2 &&
         ((t.front() == '"' && t.back() == '"') || (t.front() == '\'' && t.back() == '\'') ||
          (t.front() == '<' && t.back() == '>'))) {
    t = Trim(t.substr(1, t.size() - 2));
  }
  if (t.empty() || t.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  if (t.find("://") != std::string_view::npos) {
    auto u = NormalizeUrl(t);
    if (!u.ok()) return std::nullopt;
    return DetectedObservable{ObservableKind::kUrl, *u};
  }
  if (IsHex(t)) {
    ObservableKind kind;
    switch (t.size()) {
      case 32:
        kind = ObservableKind::kMd5;
        break;
      case 40:
        kind = ObservableKind::kSha1;
        break;
      case 64:
        kind = ObservableKind::kSha256;
        break;
      case 128:
        kind = ObservableKind::kSha512;
        break;
      default:
        kind = ObservableKind::kCount;
    }
    if (kind != ObservableKind::kCount) return DetectedObservable{kind, ToLower(t)};
  }
  if (auto p4 = ParseIpv4Prefix(t); p4.ok()) {
    return DetectedObservable{ObservableKind::kIpv4, *NormalizeValue(ObservableKind::kIpv4, t),
                              p4->length < 32};
  }
  if (t.find(':') != std::string_view::npos) {
    if (auto p6 = ParseIpv6Prefix(t); p6.ok()) {
      return DetectedObservable{ObservableKind::kIpv6, *NormalizeValue(ObservableKind::kIpv6, t),
                                p6->length < 128};
    }
  }
  if (size_t at = t.rfind('@'); at != std::string_view::npos) {
    auto e = NormalizeEmail(t);
    if (!e.ok() || !LooksLikeDomain(std::string_view(*e).substr(e->rfind('@') + 1))) {
      return std::nullopt;
    }
    return DetectedObservable{ObservableKind::kEmail, std::move(*e)};
  }
  auto d = NormalizeDomain(t);
  if (!d.ok() || !LooksLikeDomain(*d)) return std::nullopt;
  return DetectedObservable{ObservableKind::kDomain, std::move(*d)};
}

bool IsPublicSuffix(std::string_view domain) {
  if (domain.find('.') == std::string_view::npos) return true;
  std::string d(domain);
  return psl_is_public_suffix2(Psl(), d.c_str(), PSL_TYPE_ANY) != 0;
}

bool HasKnownTld(std::string_view domain) {
  size_t dot = domain.rfind('.');
  std::string tld(dot == std::string_view::npos ? domain : domain.substr(dot + 1));
  if (tld.empty()) return false;
  return psl_is_public_suffix2(Psl(), tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

std::string RegistrableDomain(std::string_view domain) {
  std::string d(domain);
  const char* r = psl_registrable_domain(Psl(), d.c_str());
  return r ? std::string(r) : std::string();
}

}  // namespace kizuna::correlation
