#include "alerts/recipients.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <map>

#include "correlation/observable.h"
#include "sharing/policy.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool ValidCountry(std::string_view c) {
  return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

uint32_t MaskV4(uint32_t address, int length) {
  return length == 0 ? 0 : address & (~uint32_t{0} << (32 - length));
}

std::array<uint8_t, 16> MaskV6(const std::array<uint8_t, 16>& address, int length) {
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) {
    const int bits = std::clamp(length - i * 8, 0, 8);
    out[i] = bits == 0 ? 0 : static_cast<uint8_t>(address[i] & (0xFF << (8 - bits)));
  }
  return out;
}

json::array StringArray(const std::vector<std::string>& values) {
  json::array out;
  for (const std::string& v : values) out.emplace_back(v);
  return out;
}

}  // namespace

std::string_view ReportFormatName(ReportFormat format) {
  switch (format) {
    case ReportFormat::kCsv:
      return "csv";
    case ReportFormat::kJson:
      return "json";
    case ReportFormat::kStix:
      return "stix";
  }
  return "csv";
}

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kEmail:
      return "email";
    case Channel::kNode:
      return "node";
    case Channel::kFeed:
      return "feed";
  }
  return "email";
}

std::optional<ReportFormat> ParseReportFormat(std::string_view name) {
  if (name == "csv") return ReportFormat::kCsv;
  if (name == "json") return ReportFormat::kJson;
  if (name == "stix") return ReportFormat::kStix;
  return std::nullopt;
}

std::optional<Channel> ParseChannel(std::string_view name) {
  if (name == "email") return Channel::kEmail;
  if (name == "node") return Channel::kNode;
  if (name == "feed") return Channel::kFeed;
  return std::nullopt;
}

Result<Prefix> ParsePrefix(std::string_view text) {
  Prefix prefix;
  if (text.find(':') == std::string_view::npos) {
    auto parsed = correlation::ParseIpv4Prefix(text);
    if (!parsed.ok()) return InvalidArgument("not a prefix: " + std::string(text));
    prefix.network.is_v6 = false;
    prefix.network.v4 = parsed->network;
    prefix.length = parsed->length;
  } else {
    auto parsed = correlation::ParseIpv6Prefix(text);
    if (!parsed.ok()) return InvalidArgument("not a prefix: " + std::string(text));
    prefix.network.is_v6 = true;
    prefix.network.v6 = parsed->network;
    prefix.length = parsed->length;
  }
  return prefix;
}

std::string FormatPrefix(const Prefix& prefix) {
  return FormatHostAddress(prefix.network) + "/" + std::to_string(prefix.length);
}

Status ValidateRecipient(const Recipient& r) {
  if (!ValidName(r.name)) {
    return InvalidArgument("recipient name: 1 to 64 of A-Z a-z 0-9 . _ -, got '" + r.name + "'");
  }
  for (const std::string& c : r.countries) {
    if (!ValidCountry(c)) return InvalidArgument("country: two capital letters, got " + c);
  }
  for (const std::string& d : r.domains) {
    if (!ValidDomain(d)) return InvalidArgument("domain: a lower-case name, got " + d);
  }
  for (uint32_t asn : r.asns) {
    if (asn == 0) return InvalidArgument("asn: 0 is not an AS number");
  }
  if (r.asns.empty() && r.prefixes.empty() && r.countries.empty() && r.domains.empty() &&
      !r.fallback) {
    return InvalidArgument("recipient " + r.name +
                           ": no rule (asn, prefix, country, domain or fallback)");
  }
  switch (r.channel) {
    case Channel::kEmail:
      if (r.emails.empty()) return InvalidArgument("channel email needs an e-mail address");
      for (const std::string& e : r.emails) {
        const size_t at = e.find('@');
        if (at == std::string::npos || at == 0 || at + 1 == e.size() ||
            e.find_first_of(" \t\r\n<>,;\"") != std::string::npos) {
          return InvalidArgument("not an e-mail address: " + e);
        }
      }
      break;
    case Channel::kNode:
      // Whether the peer is one of the node's is checked where the config
      // is known (CheckRecipientPeer, node_channel.h).
      if (!ValidName(r.peer) || r.peer.find(':') != std::string::npos) {
        return InvalidArgument("channel node needs the [[peer]] reports go to (peer)");
      }
      if (r.format != ReportFormat::kStix) {
        return InvalidArgument("channel node sends STIX (format stix)");
      }
      break;
    case Channel::kFeed:
      if (r.org.empty()) {
        return InvalidArgument("channel feed needs the organization that pulls it (org)");
      }
      break;
  }
  if (r.period_seconds != 3600 && r.period_seconds != 86400 && r.period_seconds != 604800) {
    return InvalidArgument("period: hourly, daily or weekly");
  }
  if (sharing::TlpRank(r.tlp) > sharing::TlpRank(stix::Tlp::kAmber) || r.tlp == stix::Tlp::kNone) {
    return InvalidArgument("tlp: clear, green or amber (alerts go outside the node)");
  }
  if (r.suppress_days < 0 || r.suppress_days > 365) {
    return InvalidArgument("suppress_days: 0 to 365");
  }
  if (r.recheck_days < 0 || r.recheck_days > 365) {
    return InvalidArgument("recheck_days: 0 to 365");
  }
  return Status::Ok();
}

std::string RecipientToJson(const Recipient& r) {
  json::array asns;
  for (uint32_t a : r.asns) asns.emplace_back(a);
  json::array prefixes;
  for (const Prefix& p : r.prefixes) prefixes.emplace_back(FormatPrefix(p));
  json::object o{{"name", r.name},
                 {"asns", std::move(asns)},
                 {"prefixes", std::move(prefixes)},
                 {"countries", StringArray(r.countries)},
                 {"domains", StringArray(r.domains)},
                 {"fallback", r.fallback},
                 {"format", ReportFormatName(r.format)},
                 {"channel", ChannelName(r.channel)},
                 {"emails", StringArray(r.emails)},
                 {"peer", r.peer},
                 {"org", r.org},
                 {"period_seconds", r.period_seconds},
                 {"tlp", stix::TlpName(r.tlp)},
                 {"suppress_days", r.suppress_days},
                 {"repeat_persisting", r.repeat_persisting},
                 {"recheck_days", r.recheck_days}};
  return json::serialize(o);
}

Result<Recipient> RecipientFromJson(std::string_view json_text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(json_text, ec);
  if (ec || !parsed.is_object()) return InvalidArgument("recipient: not a JSON object");
  const json::object& o = parsed.get_object();
  Recipient r;
  auto string_of = [&](const char* key, std::string* out) -> Status {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_string()) return InvalidArgument(std::string(key) + ": a string");
    *out = std::string(v->get_string());
    return Status::Ok();
  };
  auto strings_of = [&](const char* key, std::vector<std::string>* out) -> Status {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_array()) return InvalidArgument(std::string(key) + ": a list of strings");
    for (const json::value& e : v->get_array()) {
      if (!e.is_string()) return InvalidArgument(std::string(key) + ": a list of strings");
      out->emplace_back(e.get_string());
    }
    return Status::Ok();
  };
  auto int_of = [&](const char* key, int64_t min, int64_t max, int64_t* out) -> Status {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_int64() && !v->is_uint64()) {
      return InvalidArgument(std::string(key) + ": an integer");
    }
    const int64_t n = v->is_int64() ? v->get_int64() : static_cast<int64_t>(v->get_uint64());
    if (n < min || n > max) return InvalidArgument(std::string(key) + ": out of range");
    *out = n;
    return Status::Ok();
  };
  auto bool_of = [&](const char* key, bool* out) -> Status {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_bool()) return InvalidArgument(std::string(key) + ": true or false");
    *out = v->get_bool();
    return Status::Ok();
  };
  KIZUNA_RETURN_IF_ERROR(string_of("name", &r.name));
  if (const json::value* v = o.if_contains("asns"); v != nullptr && !v->is_null()) {
    if (!v->is_array()) return InvalidArgument("asns: a list of AS numbers");
    for (const json::value& e : v->get_array()) {
      if (!e.is_int64() && !e.is_uint64()) {
        return InvalidArgument("asns: a list of AS numbers");
      }
      const int64_t n = e.is_int64() ? e.get_int64() : static_cast<int64_t>(e.get_uint64());
      if (n <= 0 || n > 0xFFFFFFFFLL) return InvalidArgument("asns: out of range");
      r.asns.push_back(static_cast<uint32_t>(n));
    }
  }
  std::vector<std::string> prefixes;
  KIZUNA_RETURN_IF_ERROR(strings_of("prefixes", &prefixes));
  for (const std::string& p : prefixes) {
    KIZUNA_ASSIGN_OR_RETURN(Prefix prefix, ParsePrefix(p));
    r.prefixes.push_back(prefix);
  }
  KIZUNA_RETURN_IF_ERROR(strings_of("countries", &r.countries));
  for (std::string& c : r.countries) {
    std::transform(c.begin(), c.end(), c.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
  }
  KIZUNA_RETURN_IF_ERROR(strings_of("domains", &r.domains));
  for (std::string& d : r.domains) {
    std::transform(d.begin(), d.end(), d.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (d.starts_with("*.")) d.erase(0, 2);
  }
  KIZUNA_RETURN_IF_ERROR(bool_of("fallback", &r.fallback));
  std::string text;
  KIZUNA_RETURN_IF_ERROR(string_of("format", &text));
  if (!text.empty()) {
    auto format = ParseReportFormat(text);
    if (!format) return InvalidArgument("format: csv, json or stix, got " + text);
    r.format = *format;
  }
  text.clear();
  KIZUNA_RETURN_IF_ERROR(string_of("channel", &text));
  if (!text.empty()) {
    auto channel = ParseChannel(text);
    if (!channel) return InvalidArgument("channel: email, node or feed, got " + text);
    r.channel = *channel;
  }
  KIZUNA_RETURN_IF_ERROR(strings_of("emails", &r.emails));
  KIZUNA_RETURN_IF_ERROR(string_of("peer", &r.peer));
  KIZUNA_RETURN_IF_ERROR(string_of("org", &r.org));
  KIZUNA_RETURN_IF_ERROR(int_of("period_seconds", 1, 604800, &r.period_seconds));
  text.clear();
  KIZUNA_RETURN_IF_ERROR(string_of("tlp", &text));
  if (!text.empty()) {
    auto tlp = stix::ParseTlp(text);
    if (!tlp.ok()) return InvalidArgument("tlp: clear, green or amber, got " + text);
    r.tlp = *tlp;
  }
  int64_t days = r.suppress_days;
  KIZUNA_RETURN_IF_ERROR(int_of("suppress_days", 0, 365, &days));
  r.suppress_days = static_cast<int>(days);
  KIZUNA_RETURN_IF_ERROR(bool_of("repeat_persisting", &r.repeat_persisting));
  days = r.recheck_days;
  KIZUNA_RETURN_IF_ERROR(int_of("recheck_days", 0, 365, &days));
  r.recheck_days = static_cast<int>(days);
  KIZUNA_RETURN_IF_ERROR(ValidateRecipient(r));
  return r;
}

sharing::Recipient AffectedParty(const sharing::SharingPolicy& policy, const Recipient& r) {
  return policy.ForAffectedParty(r.name, r.tlp,
                                 r.channel == Channel::kNode ? r.peer : std::string());
}

bool MayReach(const sharing::SharingPolicy& policy, std::string_view tlp, const std::string& origin,
              const sharing::Recipient& party, std::string* why) {
  store::StoredObject object;
  object.type = "x-kizuna-alert";
  object.origin = origin;
  auto parsed = stix::ParseTlp(tlp);
  object.tlp = parsed.ok() ? *parsed : stix::Tlp::kRed;
  object.json = "{}";
  return policy.MayRelease(object, party, why);
}

size_t RouteTable::V6KeyHash::operator()(const V6Key& key) const {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, key.bytes.data(), 8);
  std::memcpy(&b, key.bytes.data() + 8, 8);
  return std::hash<uint64_t>()(a * 0x9E3779B97F4A7C15ULL ^ b);
}

RouteTable::RouteTable(std::vector<Recipient> recipients) : recipients_(std::move(recipients)) {
  std::sort(recipients_.begin(), recipients_.end(),
            [](const Recipient& a, const Recipient& b) { return a.name < b.name; });
  // Sorted by name and inserted with emplace: on an equal rule the first
  // recipient by name keeps it.
  std::map<int, std::unordered_map<uint32_t, int>, std::greater<int>> v4;
  std::map<int, std::unordered_map<V6Key, int, V6KeyHash>, std::greater<int>> v6;
  for (int i = 0; i < static_cast<int>(recipients_.size()); ++i) {
    const Recipient& r = recipients_[i];
    for (const Prefix& p : r.prefixes) {
      if (p.network.is_v6) {
        v6[p.length].emplace(V6Key{MaskV6(p.network.v6, p.length)}, i);
      } else {
        v4[p.length].emplace(MaskV4(p.network.v4, p.length), i);
      }
    }
    for (const std::string& d : r.domains) domains_.emplace(d, i);
    for (uint32_t a : r.asns) asns_.emplace(a, i);
    for (const std::string& c : r.countries) countries_.emplace(c, i);
    if (r.fallback && fallback_ < 0) fallback_ = i;
  }
  for (auto& [length, table] : v4) v4_.emplace_back(length, std::move(table));
  for (auto& [length, table] : v6) v6_.emplace_back(length, std::move(table));
}

int RouteTable::IndexOf(std::string_view name) const {
  for (int i = 0; i < static_cast<int>(recipients_.size()); ++i) {
    if (recipients_[i].name == name) return i;
  }
  return -1;
}

Route RouteTable::Find(const HostAddress& ip, uint32_t asn, std::string_view country,
                       std::string_view hostname) const {
  if (ip.is_v6) {
    for (const auto& [length, table] : v6_) {
      auto it = table.find(V6Key{MaskV6(ip.v6, length)});
      if (it != table.end()) return Route{it->second, "prefix"};
    }
  } else {
    for (const auto& [length, table] : v4_) {
      auto it = table.find(MaskV4(ip.v4, length));
      if (it != table.end()) return Route{it->second, "prefix"};
    }
  }
  if (!hostname.empty() && !domains_.empty()) {
    std::string name(hostname);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (!name.empty() && name.back() == '.') name.pop_back();
    std::string_view rest = name;
    while (!rest.empty()) {
      auto it = domains_.find(std::string(rest));
      if (it != domains_.end()) return Route{it->second, "domain"};
      const size_t dot = rest.find('.');
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
  }
  if (asn != 0) {
    auto it = asns_.find(asn);
    if (it != asns_.end()) return Route{it->second, "asn"};
  }
  if (!country.empty()) {
    auto it = countries_.find(std::string(country));
    if (it != countries_.end()) return Route{it->second, "country"};
  }
  if (fallback_ >= 0) return Route{fallback_, "fallback"};
  return Route{};
}

}  // namespace kizuna::alerts
