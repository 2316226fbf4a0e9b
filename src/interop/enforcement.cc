#include "interop/enforcement.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <unordered_set>

#include "common/encoding.h"
#include "common/time.h"
#include "pattern/pattern.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;
using correlation::ObservableKind;

struct FormatInfo {
  ExportFormat format;
  std::string_view name;
  std::string_view content_type;
};
constexpr FormatInfo kFormats[] = {
    {ExportFormat::kSuricataIprep, "suricata-iprep", "text/plain; charset=utf-8"},
    {ExportFormat::kSuricataDataset, "suricata-dataset", "text/plain; charset=utf-8"},
    {ExportFormat::kSuricataRules, "suricata-rules", "text/plain; charset=utf-8"},
    {ExportFormat::kZeekIntel, "zeek-intel", "text/tab-separated-values; charset=utf-8"},
    {ExportFormat::kIpBlocklist, "ip-blocklist", "text/plain; charset=utf-8"},
    {ExportFormat::kDomainBlocklist, "domain-blocklist", "text/plain; charset=utf-8"},
    {ExportFormat::kRpz, "rpz", "text/dns; charset=utf-8"},
};

bool IsHash(ObservableKind kind) {
  return kind == ObservableKind::kMd5 || kind == ObservableKind::kSha1 ||
         kind == ObservableKind::kSha256 || kind == ObservableKind::kSha512;
}

std::string LowerHex(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c + 32);
  }
  return out;
}

// Whether a tool may be given this value: a host name of plain labels
// (letters, digits, '-', '_', 1 to 63 octets each, two labels at least), not
// a public suffix ("com", "co.uk": blocking one blocks a country or a
// registry), and no network wider than /8 (IPv4) or /32 (IPv6). What a
// normal form lets through beyond that (';', '(', '"', '$', a lone '*')
// would break a zone file or block everything.
bool Enforceable(ObservableKind kind, std::string_view value) {
  if (kind == ObservableKind::kIpv4) {
    auto prefix = correlation::ParseIpv4Prefix(value);
    return prefix.ok() && prefix->length >= 8;
  }
  if (kind == ObservableKind::kIpv6) {
    auto prefix = correlation::ParseIpv6Prefix(value);
    return prefix.ok() && prefix->length >= 32;
  }
  if (kind != ObservableKind::kDomain) return true;
  if (value.empty() || value.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  while (start <= value.size()) {
    size_t dot = value.find('.', start);
    if (dot == std::string_view::npos) dot = value.size();
    const std::string_view label = value.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
    ++labels;
    start = dot + 1;
  }
  return labels >= 2 && !correlation::IsPublicSuffix(value);
}

// The kind and normal form of one reduced comparison; nullopt when it is no
// value a tool enforces.
std::optional<std::pair<ObservableKind, std::string>> ValueOf(const pattern::SimpleComparison& c) {
  auto kind = correlation::KindForStixPath(c.object_type + ":" + c.property_path);
  if (!kind) return std::nullopt;
  if (IsHash(*kind)) {
    if (!correlation::DecodeDigest(*kind, c.value).ok()) return std::nullopt;
    return std::make_pair(*kind, LowerHex(c.value));
  }
  switch (*kind) {
    case ObservableKind::kIpv4:
    case ObservableKind::kIpv6:
    case ObservableKind::kDomain:
    case ObservableKind::kUrl:
    case ObservableKind::kEmail: {
      auto value = correlation::NormalizeValue(*kind, c.value);
      if (!value.ok()) return std::nullopt;
      // A wildcard name ("*.example") is the name and its subdomains: the
      // formats below say so themselves.
      if (*kind == ObservableKind::kDomain && value->starts_with("*.")) value->erase(0, 2);
      if (!Enforceable(*kind, *value)) return std::nullopt;
      return std::make_pair(*kind, *value);
    }
    default:
      return std::nullopt;
  }
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A rule's content: printable ASCII as is, the rest and the characters the
// rule language reserves as |hex|.
std::string RuleContent(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == ';' || c == '\\' || c == '|') {
      out += '|';
      out += kHex[c >> 4];
      out += kHex[c & 15];
      out += '|';
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// Free text for a rule's msg or a comment line: one line, no reserved characters.
std::string Plain(std::string_view text, size_t max) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max) break;
    if (c < 0x20 || c == 0x7f) {
      out.push_back(' ');
    } else if (c == '"') {
      out.push_back('\'');
    } else if (c == ';') {
      out.push_back(',');
    } else if (c == '\\' || c == '|') {
      out.push_back('/');
    } else if (c > 0x7e) {
      out.push_back('?');  // msg is ASCII in Suricata's rule files
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// A Zeek input field: no tab or newline; empty is "(empty)".
std::string ZeekField(std::string_view text) {
  std::string out;
  for (char c : text) out.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
  return out.empty() ? "(empty)" : out;
}

class SidAllocator {
 public:
  explicit SidAllocator(uint32_t base) : base_(base) {}
  uint32_t Next(std::string_view key) {
    constexpr uint32_t kSpan = 100000000;
    uint32_t n = static_cast<uint32_t>(Fnv1a(key) % kSpan);
    while (!used_.insert(n).second) n = (n + 1) % kSpan;
    return base_ + n;
  }

 private:
  uint32_t base_;
  std::unordered_set<uint32_t> used_;
};

void Header(std::ostream& out, std::string_view comment, std::string_view what,
            const ExportOptions& options, size_t count) {
  out << comment << " " << what << " from " << Plain(options.source, 200) << ", "
      << FormatTimestamp(options.generated_us, 0) << ", " << count << " entries\n";
}

std::string RpzAction(std::string_view action) {
  if (action == "nodata") return "CNAME *.";
  if (action == "drop") return "CNAME rpz-drop.";
  if (action == "passthru") return "CNAME rpz-passthru.";
  return "CNAME .";
}

}  // namespace

std::string_view ExportFormatName(ExportFormat format) {
  for (const auto& f : kFormats) {
    if (f.format == format) return f.name;
  }
  return "";
}

std::string_view ExportContentType(ExportFormat format) {
  for (const auto& f : kFormats) {
    if (f.format == format) return f.content_type;
  }
  return "text/plain";
}

std::string ExportFormatNames() {
  std::string names;
  for (const auto& f : kFormats) {
    if (!names.empty()) names += ", ";
    names += f.name;
  }
  return names;
}

Result<ExportFormat> ParseExportFormat(std::string_view name) {
  for (const auto& f : kFormats) {
    if (f.name == name) return f.format;
  }
  return InvalidArgument("unknown export format '" + std::string(name) + "' (stix, " +
                         ExportFormatNames() + ")");
}

Result<std::set<ObservableKind>> ParseKinds(std::string_view list) {
  std::set<ObservableKind> kinds;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view name = list.substr(start, comma - start);
    start = comma + 1;
    if (name.empty()) continue;
    if (name == "ip") {
      kinds.insert({ObservableKind::kIpv4, ObservableKind::kIpv6});
    } else if (name == "hash") {
      kinds.insert({ObservableKind::kMd5, ObservableKind::kSha1, ObservableKind::kSha256,
                    ObservableKind::kSha512});
    } else {
      bool found = false;
      for (int k = 0; k < correlation::kObservableKindCount; ++k) {
        const auto kind = static_cast<ObservableKind>(k);
        if (correlation::ObservableKindName(kind) == name) {
          kinds.insert(kind);
          found = true;
        }
      }
      if (!found) {
        return InvalidArgument(
            "unknown type '" + std::string(name) +
            "' (ip, ipv4, ipv6, domain, url, email, hash, md5, sha1, sha256, sha512)");
      }
    }
  }
  return kinds;
}

std::set<ObservableKind> KindsOf(ExportFormat format) {
  using K = ObservableKind;
  switch (format) {
    case ExportFormat::kSuricataIprep:
    case ExportFormat::kIpBlocklist:
      return {K::kIpv4, K::kIpv6};
    case ExportFormat::kSuricataDataset:
      return {K::kDomain, K::kUrl, K::kMd5, K::kSha256};
    case ExportFormat::kSuricataRules:
      return {K::kIpv4, K::kIpv6, K::kDomain, K::kUrl};
    case ExportFormat::kZeekIntel:
      return {K::kIpv4, K::kIpv6, K::kDomain, K::kUrl,   K::kEmail,
              K::kMd5,  K::kSha1, K::kSha256, K::kSha512};
    case ExportFormat::kDomainBlocklist:
      return {K::kDomain};
    case ExportFormat::kRpz:
      return {K::kIpv4, K::kIpv6, K::kDomain};
  }
  return {};
}

int EnforcementSet::Add(std::string_view indicator_json) {
  boost::system::error_code ec;
  json::value parsed = json::parse(indicator_json, ec);
  if (ec || !parsed.is_object()) return 0;
  const json::object& o = parsed.as_object();
  auto text = [&](std::string_view key) -> std::string_view {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
  };
  if (text("type") != "indicator" || text("pattern_type") != "stix") return 0;
  if (const json::value* revoked = o.if_contains("revoked"); revoked != nullptr && *revoked == true)
    return 0;
  ++seen_;
  const int64_t now = filter_.now_us;
  if (auto until = ParseTimestamp(text("valid_until")); until.ok() && *until <= now) return 0;
  if (auto from = ParseTimestamp(text("valid_from")); from.ok() && *from > now) return 0;
  const stix::ObjectInfo info = stix::DescribeObject(o);
  const stix::Tlp tlp = info.tlp == stix::Tlp::kNone ? filter_.default_tlp : info.tlp;
  if (tlp == stix::Tlp::kRed || tlp > filter_.max_tlp) return 0;
  int confidence = 50;
  if (const json::value* c = o.if_contains("confidence"); c != nullptr && c->is_int64()) {
    confidence = static_cast<int>(c->as_int64());
  }
  if (confidence < filter_.min_confidence) return 0;
  if (!filter_.producers.empty() && !filter_.producers.contains(info.created_by_ref)) return 0;
  const int64_t modified = info.modified_us ? info.modified_us : info.created_us;
  if (filter_.max_age_days > 0 && modified < now - filter_.max_age_days * kMicrosPerDay) return 0;
  auto pattern = pattern::ParsePattern(text("pattern"));
  if (!pattern.ok()) return 0;
  auto comparisons = pattern::ReduceToSimpleComparisons(*pattern);
  if (!comparisons) return 0;
  int added = 0;
  for (const pattern::SimpleComparison& c : *comparisons) {
    auto value = ValueOf(c);
    if (!value) continue;
    if (!filter_.kinds.empty() && !filter_.kinds.contains(value->first)) continue;
    EnforcementEntry entry;
    entry.kind = value->first;
    entry.value = std::move(value->second);
    entry.indicator_id = info.id;
    entry.name = std::string(text("name").empty() ? std::string_view(info.id) : text("name"));
    entry.confidence = confidence;
    entry.tlp = tlp;
    entry.modified_us = modified;
    entries_.push_back(std::move(entry));
    ++added;
  }
  if (added) newest_us_ = std::max(newest_us_, modified);
  return added;
}

std::vector<EnforcementEntry> EnforcementSet::Entries() const {
  EnforcementSet copy = *this;
  return copy.TakeEntries();
}

std::vector<EnforcementEntry> EnforcementSet::TakeEntries() {
  std::vector<EnforcementEntry> sorted = std::move(entries_);
  entries_.clear();
  std::sort(sorted.begin(), sorted.end(), [](const EnforcementEntry& a, const EnforcementEntry& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.value != b.value) return a.value < b.value;
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    if (a.modified_us != b.modified_us) return a.modified_us > b.modified_us;
    return a.indicator_id < b.indicator_id;
  });
  // The first of each (kind, value) is the one that wins.
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const EnforcementEntry& a, const EnforcementEntry& b) {
                             return a.kind == b.kind && a.value == b.value;
                           }),
               sorted.end());
  return sorted;
}

std::string RpzIpTrigger(ObservableKind kind, std::string_view value) {
  if (kind == ObservableKind::kIpv4) {
    auto prefix = correlation::ParseIpv4Prefix(value);
    if (!prefix.ok()) return "";
    const uint32_t a = prefix->network;
    return std::to_string(prefix->length) + "." + std::to_string(a & 255) + "." +
           std::to_string((a >> 8) & 255) + "." + std::to_string((a >> 16) & 255) + "." +
           std::to_string(a >> 24) + ".rpz-ip";
  }
  if (kind != ObservableKind::kIpv6) return "";
  auto prefix = correlation::ParseIpv6Prefix(value);
  if (!prefix.ok()) return "";
  uint16_t groups[8];
  for (int i = 0; i < 8; ++i) {
    groups[i] = static_cast<uint16_t>(prefix->network[2 * i] << 8 | prefix->network[2 * i + 1]);
  }
  // The longest run of zero groups (two or more, the first of equals) is
  // "zz", as "::" is in the address's canonical text (RFC 5952).
  int best_start = -1, best_length = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_length && j - i >= 2) {
      best_start = i;
      best_length = j - i;
    }
    i = j;
  }
  std::vector<std::string> labels;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      labels.push_back("zz");
      i += best_length - 1;
      continue;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "%x", groups[i]);
    labels.emplace_back(hex);
  }
  std::string out = std::to_string(prefix->length);
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) out += "." + *it;
  return out + ".rpz-ip";
}

Result<int64_t> WriteEnforcement(ExportFormat format, const std::vector<EnforcementEntry>& entries,
                                 const ExportOptions& options, std::ostream& out) {
  const std::set<ObservableKind> kinds = KindsOf(format);
  std::vector<const EnforcementEntry*> taken;
  int64_t left_out = 0;
  std::optional<ObservableKind> dataset_kind = options.dataset_kind;
  if (format == ExportFormat::kSuricataDataset && !dataset_kind) {
    for (const EnforcementEntry& e : entries) {
      if (!kinds.contains(e.kind)) continue;
      if (dataset_kind && *dataset_kind != e.kind) {
        return InvalidArgument(
            "a Suricata dataset holds one type: choose it with --type (domain, url, md5, sha256)");
      }
      dataset_kind = e.kind;
    }
  }
  if (format == ExportFormat::kSuricataDataset && dataset_kind && !kinds.contains(*dataset_kind)) {
    return InvalidArgument("a Suricata dataset holds domains, URLs, MD5 or SHA-256 digests");
  }
  for (const EnforcementEntry& e : entries) {
    bool fits =
        kinds.contains(e.kind) &&
        (!dataset_kind || format != ExportFormat::kSuricataDataset || e.kind == *dataset_kind);
    // RPZ owner names must fit in 255 octets with the zone's own name.
    if (format == ExportFormat::kRpz && e.kind == ObservableKind::kDomain && e.value.size() > 200)
      fits = false;
    if (fits) {
      taken.push_back(&e);
    } else {
      ++left_out;
    }
  }

  switch (format) {
    case ExportFormat::kSuricataIprep:
      // reputation-files: "ip[/len],category,score" (score 1..127).
      Header(out, "#",
             "kizuna IP reputation (category " + std::to_string(options.iprep_category) + ")",
             options, taken.size());
      for (const EnforcementEntry* e : taken) {
        const int score = std::clamp(e->confidence * 127 / 100, 1, 127);
        out << e->value << ',' << options.iprep_category << ',' << score << '\n';
      }
      break;
    case ExportFormat::kSuricataDataset:
      // "dataset:…,type string,load FILE": each line a base64 string; md5
      // and sha256 datasets: the digest in hex. No comments: the loader
      // reads every line as data.
      for (const EnforcementEntry* e : taken) {
        if (IsHash(e->kind)) {
          out << e->value << '\n';
        } else {
          out << Base64Encode(e->value) << '\n';
        }
      }
      break;
    case ExportFormat::kSuricataRules: {
      Header(out, "#", "kizuna rules", options, taken.size());
      SidAllocator sids(options.sid_base);
      auto tail = [&](const EnforcementEntry& e, std::string_view key) {
        return "sid:" + std::to_string(sids.Next(key)) + "; rev:1; metadata:kizuna_indicator " +
               e.indicator_id + ", confidence " + std::to_string(e.confidence) + ";)";
      };
      for (const EnforcementEntry* e : taken) {
        const std::string msg = "kizuna " + Plain(e->name, 120);
        switch (e->kind) {
          case ObservableKind::kIpv4:
          case ObservableKind::kIpv6:
            out << "alert ip any any <> [" << e->value << "] any (msg:\"" << msg << "\"; "
                << tail(*e, "ip\n" + e->value) << '\n';
            break;
          case ObservableKind::kDomain: {
            const std::string content = RuleContent("." + e->value);
            out << "alert dns any any -> any any (msg:\"" << msg
                << " (DNS)\"; dns.query; dotprefix; content:\"" << content
                << "\"; nocase; endswith; " << tail(*e, "dns\n" + e->value) << '\n';
            out << "alert tls any any -> any any (msg:\"" << msg
                << " (TLS SNI)\"; tls.sni; dotprefix; content:\"" << content
                << "\"; nocase; endswith; " << tail(*e, "tls\n" + e->value) << '\n';
            break;
          }
          case ObservableKind::kUrl: {
            // scheme://host[:port]/path?query, normal form.
            const size_t scheme_end = e->value.find("://");
            const size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
            size_t path_start = e->value.find('/', host_start);
            if (path_start == std::string::npos) path_start = e->value.size();
            std::string host = e->value.substr(host_start, path_start - host_start);
            if (const size_t colon = host.rfind(':');
                colon != std::string::npos && host.find(']') == std::string::npos) {
              host.resize(colon);
            }
            const std::string uri =
                path_start < e->value.size() ? e->value.substr(path_start) : "/";
            out << "alert http any any -> any any (msg:\"" << msg
                << " (URL)\"; flow:established,to_server; "
                << "http.host; content:\"" << RuleContent(host) << "\"; bsize:" << host.size()
                << "; "
                << "http.uri; content:\"" << RuleContent(uri) << "\"; bsize:" << uri.size() << "; "
                << tail(*e, "url\n" + e->value) << '\n';
            break;
          }
          default:
            break;
        }
      }
      break;
    }
    case ExportFormat::kZeekIntel: {
      out << "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n";
      const std::string source =
          ZeekField(options.source.empty() ? "kizuna" : "kizuna " + options.source);
      for (const EnforcementEntry* e : taken) {
        std::string value = e->value;
        std::string_view type;
        switch (e->kind) {
          case ObservableKind::kIpv4:
          case ObservableKind::kIpv6:
            type = value.find('/') == std::string::npos ? "Intel::ADDR" : "Intel::SUBNET";
            break;
          case ObservableKind::kDomain:
            type = "Intel::DOMAIN";
            break;
          case ObservableKind::kUrl:
            // Zeek's seen URLs carry no scheme (HTTP::build_url: host and URI).
            if (const size_t s = value.find("://"); s != std::string::npos) value.erase(0, s + 3);
            type = "Intel::URL";
            break;
          case ObservableKind::kEmail:
            type = "Intel::EMAIL";
            break;
          default:
            type = "Intel::FILE_HASH";
            break;
        }
        out << ZeekField(value) << '\t' << type << '\t' << source << '\t' << ZeekField(e->name)
            << '\t' << '-' << '\n';
      }
      break;
    }
    case ExportFormat::kIpBlocklist:
      Header(out, "#", "kizuna IP blocklist", options, taken.size());
      for (const EnforcementEntry* e : taken) out << e->value << '\n';
      break;
    case ExportFormat::kDomainBlocklist:
      Header(out, "#", "kizuna domain blocklist", options, taken.size());
      for (const EnforcementEntry* e : taken) out << e->value << '\n';
      break;
    case ExportFormat::kRpz: {
      Header(out, ";", "kizuna response policy zone", options, taken.size());
      const std::string action = RpzAction(options.rpz_action);
      const uint32_t serial = static_cast<uint32_t>(options.generated_us / 1000000);
      out << "$TTL 300\n@ IN SOA " << options.rpz_soa_mname << ' ' << options.rpz_soa_rname << " ( "
          << serial << " 3600 600 864000 300 )\n@ IN NS " << options.rpz_soa_mname << '\n';
      for (const EnforcementEntry* e : taken) {
        if (e->kind == ObservableKind::kDomain) {
          out << e->value << " " << action << "\n*." << e->value << " " << action << '\n';
        } else {
          const std::string trigger = RpzIpTrigger(e->kind, e->value);
          if (!trigger.empty()) out << trigger << " " << action << '\n';
        }
      }
      break;
    }
  }
  return left_out;
}

}  // namespace kizuna::interop
