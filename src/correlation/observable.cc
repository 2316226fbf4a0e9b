#include "correlation/observable.h"

#include <arpa/inet.h>
#include <libpsl.h>

#include <algorithm>
#include <cctype>
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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return HexValue(c) >= 0; });
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Decodes %XX of unreserved characters and upper-cases the hex of the rest
// (RFC 3986 6.2.2.1-2); a '%' not followed by two hex digits stays as it is.
std::string NormalizePercent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
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
    out.push_back(s[i]);
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

std::string_view ObservableKindName(ObservableKind kind) {
  static constexpr std::string_view kNames[] = {
      "ipv4",   "ipv6",      "domain",       "url",         "email",    "md5",      "sha1",
      "sha256", "sha512",    "mac-addr",     "file-name",   "mutex",    "registry", "user-agent",
      "asn",    "directory", "process-name", "x509-serial", "sha3-256", "ssdeep"};
  static_assert(std::size(kNames) == kObservableKindCount);
  auto i = static_cast<size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "unknown";
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
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

Result<std::string> NormalizeDomain(std::string_view domain) {
  std::string d = ToLower(Trim(domain));
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.size() > 253) return InvalidArgument("bad domain length: '" + d + "'");
  std::string_view rest = d;
  if (rest.starts_with("*.")) rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.find("..") != std::string_view::npos) {
    return InvalidArgument("empty label in domain '" + d + "'");
  }
  for (char c : rest) {
    if (c == ' ' || c == '/' || c == '@' || c == ':' || c == '\t') {
      return InvalidArgument("bad character in domain '" + d + "'");
    }
  }
  return d;
}

Result<std::string> NormalizeUrl(std::string_view url) {
  std::string_view u = Trim(url);
  if (size_t hash = u.find('#'); hash != std::string_view::npos) u = u.substr(0, hash);
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
      std::string_view after = u.substr(colon + 1);
      bool port = !after.empty() && std::isdigit(static_cast<unsigned char>(after[0]));
      if (!port) return ToLower(u.substr(0, colon)) + ":" + NormalizePercent(after);
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
  if (h.size() > 1 && h.back() == '.') h.pop_back();
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
  std::string e = ToLower(Trim(email));
  size_t at = e.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == e.size()) {
    return InvalidArgument("not an e-mail address: '" + e + "'");
  }
  if (e.find_first_of(" \t<>") != std::string::npos) {
    return InvalidArgument("bad character in e-mail address '" + e + "'");
  }
  if (e.back() == '.') e.pop_back();
  return e;
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
    out[i] = static_cast<char>(HexValue(h[2 * i]) * 16 + HexValue(h[2 * i + 1]));
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
        if (HexValue(c) < 0)
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
      while (!k.empty() && k.back() == '\\') k.pop_back();
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
bool LooksLikeDomain(std::string_view d) {
  if (d.size() < 3 || d.size() > 253 || d.find('.') == std::string_view::npos) return false;
  size_t label_len = 0;
  for (char c : d) {
    if (c == '.') {
      if (label_len == 0) return false;
      label_len = 0;
      continue;
    }
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
              static_cast<unsigned char>(c) >= 0x80;
    if (!ok || ++label_len > 63) return false;
  }
  return label_len > 0 && HasKnownTld(d);
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
    if (at == 0 || !LooksLikeDomain(ToLower(t.substr(at + 1)))) return std::nullopt;
    auto e = NormalizeEmail(t);
    if (!e.ok()) return std::nullopt;
    return DetectedObservable{ObservableKind::kEmail, *e};
  }
  std::string d = ToLower(t);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (LooksLikeDomain(d)) return DetectedObservable{ObservableKind::kDomain, d};
  return std::nullopt;
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
