#include "interop/misp.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "correlation/observable.h"
#include "pattern/pattern.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;
using correlation::ObservableKind;

// Ids for what has no MISP uuid of its own (relationships, a damaged
// sighting uuid): UUIDv5 in this namespace (a random UUID, fixed for good).
constexpr std::string_view kMispNamespace = "8d4e51c6-0a43-4b8e-9f3e-2c7d1b6a5e90";

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_bool()) return v->as_bool() ? "1" : "0";
  return "";
}

int64_t Int(const json::object& o, std::string_view key, int64_t fallback = 0) {
  const std::string s = Str(o, key);
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc() && ptr == s.data() + s.size() ? n : fallback;
}

bool Bool(const json::object& o, std::string_view key, bool fallback) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_bool()) return v->as_bool();
  const std::string s = Str(o, key);
  if (s == "1" || s == "true") return true;
  if (s == "0" || s == "false") return false;
  return fallback;
}

const json::array* Array(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

// A MISP timestamp (seconds) as a STIX timestamp; 1970 when absent.
std::string Iso(int64_t seconds) {
  return FormatTimestamp(std::clamp<int64_t>(seconds, 0, 253402300799) * 1000000, 3);  // to 9999
}

std::string Cmp(std::string_view path, std::string_view value) {
  return std::string(path) + " = '" + pattern::EscapePatternString(value) + "'";
}

std::vector<std::string> TagNames(const json::object& o) {
  std::vector<std::string> names;
  if (const json::array* tags = Array(o, "Tag")) {
    for (const json::value& t : *tags) {
      if (t.is_object()) {
        std::string name = Str(t.as_object(), "name");
        if (!name.empty()) names.push_back(std::move(name));
      }
    }
  }
  return names;
}

// The TLP the tags name (the most restrictive), kNone when none does.
stix::Tlp TlpOfTags(const std::vector<std::string>& tags) {
  stix::Tlp tlp = stix::Tlp::kNone;
  for (const std::string& tag : tags) {
    const std::string t = AsciiLower(tag);
    if (!t.starts_with("tlp:")) continue;
    std::string level = t.substr(4);
    if (level == "white") level = "clear";
    auto parsed = stix::ParseTlp(level);
    if (parsed.ok() && *parsed != stix::Tlp::kNone)
      tlp = tlp == stix::Tlp::kNone ? *parsed : stix::MostRestrictiveTlp(tlp, *parsed);
  }
  return tlp;
}

std::vector<std::string> LabelsOfTags(const std::vector<std::string>& tags) {
  std::vector<std::string> labels;
  for (const std::string& tag : tags) {
    if (!AsciiLower(tag).starts_with("tlp:")) labels.push_back(tag);
  }
  return labels;
}

// What a distribution level allows: 0 (organisation), 1 (community) and 4
// (sharing group) stay on this node; 2 and 3 go where the TLP lets them.
bool StaysHome(int64_t distribution) {
  return distribution == 0 || distribution == 1 || distribution == 4 || distribution < 0 ||
         distribution > 5;
}

// A distribution level: `absent` when the key is missing, -1 (kept home)
// when it is there but not a level (a level MISP does not know fails closed).
int64_t Distribution(const json::object& o, int64_t absent) {
  if (!o.contains("distribution")) return absent;
  const int64_t d = Int(o, "distribution", -1);
  return d >= 0 && d <= 5 ? d : -1;
}

// MISP's default to_ids per type (describeTypes.json sane_defaults).
bool DefaultToIds(std::string_view type) {
  static const std::set<std::string_view> kTrue = {"ip-src",
                                                   "ip-dst",
                                                   "ip-src|port",
                                                   "ip-dst|port",
                                                   "domain",
                                                   "hostname",
                                                   "domain|ip",
                                                   "url",
                                                   "uri",
                                                   "email-src",
                                                   "email-dst",
                                                   "email",
                                                   "md5",
                                                   "sha1",
                                                   "sha256",
                                                   "sha512",
                                                   "filename",
                                                   "filename|md5",
                                                   "filename|sha1",
                                                   "filename|sha256",
                                                   "filename|sha512",
                                                   "ssdeep",
                                                   "mutex",
                                                   "regkey",
                                                   "regkey|value",
                                                   "x509-fingerprint-sha1",
                                                   "ja3-fingerprint-md5",
                                                   "hostname|port"};
  return kTrue.contains(type);
}

// One attribute's STIX: the comparisons its indicator pattern ANDs, and the
// SCOs its observed-data holds. Empty when the type has no STIX equivalent
// (or the value is not what the type says).
struct Mapped {
  std::vector<std::string> comparisons;
  std::vector<json::object> scos;
};

json::object Sco(std::string_view type, json::object properties) {
  properties["type"] = type;
  properties["spec_version"] = "2.1";
  properties["id"] = stix::DeterministicScoId(properties);
  return properties;
}

std::optional<std::pair<ObservableKind, std::string>> Address(std::string_view value) {
  for (ObservableKind kind : {ObservableKind::kIpv4, ObservableKind::kIpv6}) {
    auto normal = correlation::NormalizeValue(kind, value);
    if (normal.ok()) return std::make_pair(kind, *normal);
  }
  return std::nullopt;
}

std::optional<Mapped> AddressAttribute(std::string_view value) {
  auto address = Address(value);
  if (!address) return std::nullopt;
  const std::string_view type = address->first == ObservableKind::kIpv4 ? "ipv4-addr" : "ipv6-addr";
  Mapped m;
  m.comparisons.push_back(Cmp(std::string(type) + ":value", address->second));
  m.scos.push_back(Sco(type, json::object{{"value", address->second}}));
  return m;
}

std::optional<std::string_view> HashPath(std::string_view algorithm) {
  if (algorithm == "md5") return "file:hashes.MD5";
  if (algorithm == "sha1") return "file:hashes.'SHA-1'";
  if (algorithm == "sha256") return "file:hashes.'SHA-256'";
  if (algorithm == "sha512") return "file:hashes.'SHA-512'";
  return std::nullopt;
}

std::string_view HashKey(std::string_view algorithm) {
  if (algorithm == "md5") return "MD5";
  if (algorithm == "sha1") return "SHA-1";
  if (algorithm == "sha256") return "SHA-256";
  return "SHA-512";
}

ObservableKind HashKind(std::string_view algorithm) {
  if (algorithm == "md5") return ObservableKind::kMd5;
  if (algorithm == "sha1") return ObservableKind::kSha1;
  if (algorithm == "sha256") return ObservableKind::kSha256;
  return ObservableKind::kSha512;
}

std::optional<Mapped> HashAttribute(std::string_view algorithm, std::string_view hex,
                                    std::string_view name) {
  if (!correlation::DecodeDigest(HashKind(algorithm), hex).ok()) return std::nullopt;
  const std::string lower = AsciiLower(hex);
  Mapped m;
  json::object file{{"hashes", json::object{{HashKey(algorithm), lower}}}};
  if (!name.empty()) {
    m.comparisons.push_back(Cmp("file:name", name));
    file["name"] = name;
  }
  m.comparisons.push_back(Cmp(*HashPath(algorithm), lower));
  m.scos.push_back(Sco("file", std::move(file)));
  return m;
}

std::optional<Mapped> MapAttribute(std::string_view type, std::string_view value) {
  const size_t bar = value.find('|');
  const std::string_view first = value.substr(0, bar);
  const std::string_view second =
      bar == std::string_view::npos ? std::string_view() : value.substr(bar + 1);
  if (type == "ip-src" || type == "ip-dst") return AddressAttribute(value);
  if (type == "ip-src|port" || type == "ip-dst|port") {
    if (second.empty()) return std::nullopt;
    return AddressAttribute(first);
  }
  if (type == "domain" || type == "hostname") {
    auto domain = correlation::NormalizeDomain(value);
    if (!domain.ok()) return std::nullopt;
    Mapped m;
    m.comparisons.push_back(Cmp("domain-name:value", *domain));
    m.scos.push_back(Sco("domain-name", json::object{{"value", *domain}}));
    return m;
  }
  if (type == "domain|ip") {
    auto domain = correlation::NormalizeDomain(first);
    auto address = Address(second);
    if (!domain.ok() || !address || second.empty()) return std::nullopt;
    Mapped m;
    json::object ip = Sco(address->first == ObservableKind::kIpv4 ? "ipv4-addr" : "ipv6-addr",
                          json::object{{"value", address->second}});
    m.comparisons.push_back(Cmp("domain-name:value", *domain));
    m.comparisons.push_back(Cmp("domain-name:resolves_to_refs[*].value", address->second));
    json::object name{{"value", *domain}};
    json::object sco = Sco("domain-name", name);
    sco["resolves_to_refs"] = json::array{ip.at("id")};
    m.scos.push_back(std::move(sco));
    m.scos.push_back(std::move(ip));
    return m;
  }
  if (type == "url" || type == "uri" || type == "link") {
    if (value.empty()) return std::nullopt;
    Mapped m;
    m.comparisons.push_back(Cmp("url:value", value));
    m.scos.push_back(Sco("url", json::object{{"value", value}}));
    return m;
  }
  if (type == "email" || type == "email-src" || type == "email-dst") {
    auto email = correlation::NormalizeEmail(value);
    if (!email.ok()) return std::nullopt;
    Mapped m;
    m.comparisons.push_back(Cmp("email-addr:value", *email));
    m.scos.push_back(Sco("email-addr", json::object{{"value", *email}}));
    return m;
  }
  if (type == "md5" || type == "sha1" || type == "sha256" || type == "sha512")
    return HashAttribute(type, value, "");
  if (type.starts_with("filename|")) {
    const std::string_view algorithm = type.substr(9);
    if (!HashPath(algorithm) || second.empty() || first.empty()) return std::nullopt;
    return HashAttribute(algorithm, second, first);
  }
  if (type == "filename" || type == "ssdeep" || type == "mutex" || type == "regkey" ||
      type == "mac-address" || type == "x509-fingerprint-sha1") {
    if (value.empty()) return std::nullopt;
    Mapped m;
    if (type == "filename") {
      m.comparisons.push_back(Cmp("file:name", value));
      m.scos.push_back(Sco("file", json::object{{"name", value}}));
    } else if (type == "ssdeep") {
      m.comparisons.push_back(Cmp("file:hashes.SSDEEP", value));
      m.scos.push_back(Sco("file", json::object{{"hashes", json::object{{"SSDEEP", value}}}}));
    } else if (type == "mutex") {
      m.comparisons.push_back(Cmp("mutex:name", value));
      m.scos.push_back(Sco("mutex", json::object{{"name", value}}));
    } else if (type == "regkey") {
      m.comparisons.push_back(Cmp("windows-registry-key:key", value));
      m.scos.push_back(Sco("windows-registry-key", json::object{{"key", value}}));
    } else if (type == "mac-address") {
      auto mac = correlation::NormalizeValue(ObservableKind::kMacAddr, value);
      if (!mac.ok()) return std::nullopt;
      m.comparisons.push_back(Cmp("mac-addr:value", *mac));
      m.scos.push_back(Sco("mac-addr", json::object{{"value", *mac}}));
    } else {
      if (!correlation::DecodeDigest(ObservableKind::kSha1, value).ok()) return std::nullopt;
      m.comparisons.push_back(Cmp("x509-certificate:hashes.'SHA-1'", AsciiLower(value)));
      m.scos.push_back(Sco("x509-certificate",
                           json::object{{"hashes", json::object{{"SHA-1", AsciiLower(value)}}}}));
    }
    return m;
  }
  if (type == "AS") {
    std::string_view digits = value;
    if (digits.size() > 2 && (digits[0] == 'A' || digits[0] == 'a') &&
        (digits[1] == 'S' || digits[1] == 's')) {
      digits.remove_prefix(2);
    }
    int64_t number = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || number < 0 ||
        number > 4294967295LL) {
      return std::nullopt;
    }
    Mapped m;
    m.comparisons.push_back("autonomous-system:number = " + std::to_string(number));
    m.scos.push_back(Sco("autonomous-system", json::object{{"number", number}}));
    return m;
  }
  if (type == "user-agent") {
    if (value.empty()) return std::nullopt;
    Mapped m;  // a pattern only: no SCO holds a user agent alone
    m.comparisons.push_back(
        Cmp("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'", value));
    return m;
  }
  return std::nullopt;
}

class Converter {
 public:
  explicit Converter(const MispImportOptions& options) : options_(options) {}

  Result<MispConversion> Convert(const json::value& input) {
    const json::object* event = EventOf(input);
    if (event == nullptr)
      return InvalidArgument("not a MISP event: expected {\"Event\": {…}} with a uuid and info");
    out_.event_uuid = AsciiLower(Str(*event, "uuid"));
    out_.info = Str(*event, "info");
    if (!IsUuid(out_.event_uuid)) return InvalidArgument("the event's uuid is not a UUID");
    if (out_.info.empty()) return InvalidArgument("the event has no info");
    out_.event_timestamp = Int(*event, "timestamp");
    event_stays_home_ = StaysHome(Distribution(*event, 3));
    event_tags_ = TagNames(*event);
    event_tlp_ = TlpOfTags(event_tags_);
    if (event_tlp_ == stix::Tlp::kNone) event_tlp_ = options_.default_tlp;
    if (const json::value* orgc = event->if_contains("Orgc");
        orgc != nullptr && orgc->is_object()) {
      creator_ = IdentityOf(orgc->as_object());
      out_.creator_identity = creator_;
    }
    if (const json::array* attributes = Array(*event, "Attribute")) {
      for (const json::value& a : *attributes) {
        if (a.is_object()) Attribute(a.as_object(), nullptr, 3);
      }
    }
    if (const json::array* objects = Array(*event, "Object")) {
      for (const json::value& o : *objects) {
        if (o.is_object()) Object(o.as_object());
      }
    }
    Galaxies(*event, "event");
    if (const json::array* reports = Array(*event, "EventReport")) {
      for (const json::value& r : *reports) {
        if (r.is_object()) EventReport(r.as_object());
      }
    }
    Report(*event);
    return std::move(out_);
  }

 private:
  static const json::object* EventOf(const json::value& input) {
    if (!input.is_object()) return nullptr;
    const json::object& o = input.as_object();
    if (const json::value* e = o.if_contains("Event"); e != nullptr && e->is_object())
      return &e->as_object();
    if (const json::value* r = o.if_contains("response");
        r != nullptr && r->is_array() && !r->as_array().empty()) {
      return EventOf(r->as_array()[0]);
    }
    if (o.contains("uuid") && o.contains("info")) return &o;
    return nullptr;
  }

  // The identity of an organisation ({name, uuid}); "" when it has no uuid.
  std::string IdentityOf(const json::object& org) {
    const std::string uuid = AsciiLower(Str(org, "uuid"));
    if (!IsUuid(uuid)) return "";
    const std::string id = "identity--" + uuid;
    if (identities_.insert(id).second) {
      json::object identity{{"type", "identity"},
                            {"spec_version", "2.1"},
                            {"id", id},
                            {"created", "2020-01-01T00:00:00.000Z"},
                            {"modified", "2020-01-01T00:00:00.000Z"},
                            {"name", Str(org, "name").empty() ? uuid : Str(org, "name")},
                            {"identity_class", "organization"}};
      out_.objects.push_back(std::move(identity));
    }
    return id;
  }

  // The common properties of an SDO made from something of MISP's.
  void Common(json::object& sdo, int64_t timestamp, stix::Tlp tlp,
              const std::vector<std::string>& labels) {
    sdo["spec_version"] = "2.1";
    sdo["created"] = Iso(timestamp);
    sdo["modified"] = Iso(timestamp);
    if (!creator_.empty()) sdo["created_by_ref"] = creator_;
    if (!labels.empty()) {
      json::array array;
      for (const std::string& l : labels) array.emplace_back(l);
      sdo["labels"] = std::move(array);
    }
    sdo["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
  }

  stix::Tlp TlpFor(const std::vector<std::string>& tags, int64_t distribution) const {
    stix::Tlp tlp = TlpOfTags(tags);
    if (tlp == stix::Tlp::kNone) tlp = event_tlp_;
    if (event_stays_home_ || (distribution != 5 && StaysHome(distribution))) tlp = stix::Tlp::kRed;
    return tlp;
  }

  std::string Add(json::object object) {
    std::string id(object.at("id").as_string());
    stix::Tlp tlp = stix::Tlp::kNone;
    if (const json::value* m = object.if_contains("object_marking_refs");
        m && m->is_array() && !m->as_array().empty()) {
      tlp = stix::TlpOfMarkingId(m->as_array()[0].as_string());
    }
    tlp_of_[id] = tlp;
    refs_.push_back(id);
    out_.objects.push_back(std::move(object));
    return id;
  }

  // The more restrictive TLP of two objects (a link between them tells of both).
  stix::Tlp Between(const std::string& a, const std::string& b) const {
    auto of = [&](const std::string& id) {
      auto it = tlp_of_.find(id);
      return it == tlp_of_.end() || it->second == stix::Tlp::kNone ? stix::Tlp::kRed : it->second;
    };
    return stix::MostRestrictiveTlp(of(a), of(b));
  }

  void Attribute(const json::object& a, const json::object* parent, int64_t parent_distribution) {
    const std::string uuid = AsciiLower(Str(a, "uuid"));
    const std::string type = Str(a, "type");
    const std::string value = Str(a, "value");
    if (!IsUuid(uuid) || type.empty()) {
      out_.notes.push_back("an attribute without a uuid or type was skipped");
      return;
    }
    if (Bool(a, "deleted", false)) {
      out_.notes.push_back("attribute " + uuid + ": deleted in MISP, skipped");
      return;
    }
    ++out_.attributes;
    int64_t distribution = Distribution(a, 5);
    if (distribution == 5) distribution = parent_distribution;
    const std::vector<std::string> tags = TagNames(a);
    // Inside an object kept to an organisation, a community or a sharing
    // group, an attribute is kept there too, whatever it says itself.
    const bool parent_home = parent != nullptr && StaysHome(parent_distribution);
    const stix::Tlp tlp = parent_home ? stix::Tlp::kRed : TlpFor(tags, distribution);
    std::vector<std::string> labels = {"misp:type=\"" + type + "\"",
                                       "misp:category=\"" + Str(a, "category") + "\""};
    for (std::string& l : LabelsOfTags(tags)) labels.push_back(std::move(l));
    const int64_t timestamp = Int(a, "timestamp", out_.event_timestamp);
    const bool to_ids = Bool(a, "to_ids", DefaultToIds(type));
    // What it was in MISP, for the way back.
    json::object misp{{"x_misp_type", type},   {"x_misp_category", Str(a, "category")},
                      {"x_misp_value", value}, {"x_misp_to_ids", to_ids},
                      {"x_misp_uuid", uuid},   {"x_misp_event_uuid", out_.event_uuid}};
    if (!Str(a, "comment").empty()) misp["x_misp_comment"] = Str(a, "comment");
    if (!Str(a, "first_seen").empty()) misp["x_misp_first_seen"] = Str(a, "first_seen");
    if (!Str(a, "last_seen").empty()) misp["x_misp_last_seen"] = Str(a, "last_seen");
    if (Int(a, "distribution", 5) != 5) misp["x_misp_distribution"] = Int(a, "distribution", 5);
    if (parent != nullptr) {
      misp["x_misp_object_uuid"] = AsciiLower(Str(*parent, "uuid"));
      misp["x_misp_object_relation"] = Str(a, "object_relation");
    }
    auto with_misp = [&](json::object sdo) {
      for (const auto& [k, v] : misp) sdo[k] = v;
      return sdo;
    };
    std::string target;
    if (type == "vulnerability" && !value.empty()) {
      json::object v{{"type", "vulnerability"}, {"id", "vulnerability--" + uuid}, {"name", value}};
      if (AsciiLower(value).starts_with("cve-")) {
        v["external_references"] =
            json::array{json::object{{"source_name", "cve"}, {"external_id", value}}};
      }
      Common(v, timestamp, tlp, labels);
      target = Add(with_misp(std::move(v)));
    } else if (auto mapped = MapAttribute(type, value);
               mapped && (to_ids || !mapped->scos.empty())) {
      if (to_ids) {
        std::string pattern = "[";
        for (size_t i = 0; i < mapped->comparisons.size(); ++i) {
          pattern += (i ? " AND " : "") + mapped->comparisons[i];
        }
        pattern += "]";
        json::object indicator{
            {"type", "indicator"},
            {"id", "indicator--" + uuid},
            {"name", value},
            {"pattern", pattern},
            {"pattern_type", "stix"},
            {"pattern_version", "2.1"},
            {"valid_from", Iso(timestamp)},
            {"indicator_types", json::array{"malicious-activity"}},
            {"kill_chain_phases", json::array{json::object{{"kill_chain_name", "misp-category"},
                                                           {"phase_name", Str(a, "category")}}}}};
        if (!Str(a, "comment").empty()) indicator["description"] = Str(a, "comment");
        Common(indicator, timestamp, tlp, labels);
        target = Add(with_misp(std::move(indicator)));
      } else {
        json::array object_refs;
        for (json::object& sco : mapped->scos) {
          object_refs.push_back(sco.at("id"));
          sco["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
          Add(std::move(sco));
        }
        json::object observed{{"type", "observed-data"},
                              {"id", "observed-data--" + uuid},
                              {"first_observed", Iso(timestamp)},
                              {"last_observed", Iso(timestamp)},
                              {"number_observed", 1},
                              {"object_refs", std::move(object_refs)}};
        Common(observed, timestamp, tlp, labels);
        target = Add(with_misp(std::move(observed)));
      }
    } else {
      json::object custom{{"type", "x-misp-attribute"}, {"id", "x-misp-attribute--" + uuid}};
      Common(custom, timestamp, tlp, labels);
      target = Add(with_misp(std::move(custom)));
      out_.notes.push_back("attribute " + uuid + " (" + type +
                           "): no STIX equivalent, kept as x-misp-attribute");
    }
    by_uuid_[uuid] = target;
    Sightings(a, target, tlp);
    Galaxies(a, target);
  }

  void Sightings(const json::object& a, const std::string& target, stix::Tlp tlp) {
    const json::array* sightings = Array(a, "Sighting");
    if (sightings == nullptr) return;
    for (const json::value& v : *sightings) {
      if (!v.is_object()) continue;
      const json::object& s = v.as_object();
      std::string uuid = AsciiLower(Str(s, "uuid"));
      if (!IsUuid(uuid)) uuid = Uuid5(kMispNamespace, target + "|" + json::serialize(s));
      const std::string kind = Str(s, "type").empty() ? "0" : Str(s, "type");
      const int64_t when = Int(s, "date_sighting", out_.event_timestamp);
      std::string where;
      if (const json::value* org = s.if_contains("Organisation");
          org != nullptr && org->is_object()) {
        where = IdentityOf(org->as_object());
      }
      if (kind == "0") {
        json::object sighting{{"type", "sighting"},        {"id", "sighting--" + uuid},
                              {"sighting_of_ref", target}, {"first_seen", Iso(when)},
                              {"last_seen", Iso(when)},    {"count", 1}};
        if (!where.empty()) sighting["where_sighted_refs"] = json::array{json::string(where)};
        if (!Str(s, "source").empty()) sighting["description"] = Str(s, "source");
        Common(sighting, when, tlp, {});
        Add(std::move(sighting));
        ++out_.sightings;
      } else if (kind == "1") {
        json::object opinion{{"type", "opinion"},
                             {"id", "opinion--" + uuid},
                             {"opinion", "strongly-disagree"},
                             {"explanation", "False positive Sighting"},
                             {"object_refs", json::array{json::string(target)}}};
        Common(opinion, when, tlp, {});
        Add(std::move(opinion));
        ++out_.sightings;
      } else {
        out_.notes.push_back("sighting " + uuid + " of type " + kind +
                             " (expiration) has no STIX equivalent");
      }
    }
  }

  void Object(const json::object& o) {
    const std::string uuid = AsciiLower(Str(o, "uuid"));
    if (!IsUuid(uuid)) {
      out_.notes.push_back("an object without a uuid was skipped");
      return;
    }
    if (Bool(o, "deleted", false)) {
      out_.notes.push_back("object " + uuid + ": deleted in MISP, skipped");
      return;
    }
    ++out_.misp_objects;
    int64_t distribution = Distribution(o, 5);
    const int64_t effective = distribution == 5 ? 3 : distribution;
    json::array members;
    if (const json::array* attributes = Array(o, "Attribute")) {
      for (const json::value& a : *attributes) {
        if (!a.is_object()) continue;
        Attribute(a.as_object(), &o, effective);
        members.emplace_back(AsciiLower(Str(a.as_object(), "uuid")));
      }
    }
    const stix::Tlp tlp = TlpFor({}, effective);
    json::object custom{{"type", "x-misp-object"},
                        {"id", "x-misp-object--" + uuid},
                        {"x_misp_name", Str(o, "name")},
                        {"x_misp_meta_category", Str(o, "meta-category")},
                        {"x_misp_template_uuid", Str(o, "template_uuid")},
                        {"x_misp_template_version", Str(o, "template_version")},
                        {"x_misp_uuid", uuid},
                        {"x_misp_event_uuid", out_.event_uuid},
                        {"x_misp_attributes", std::move(members)}};
    if (!Str(o, "comment").empty()) custom["x_misp_comment"] = Str(o, "comment");
    if (distribution != 5) custom["x_misp_distribution"] = distribution;
    Common(custom, Int(o, "timestamp", out_.event_timestamp), tlp,
           {"misp:name=\"" + Str(o, "name") + "\""});
    by_uuid_[uuid] = Add(std::move(custom));
    if (const json::array* references = Array(o, "ObjectReference")) {
      for (const json::value& r : *references) {
        if (r.is_object()) pending_references_.push_back({uuid, r.as_object(), tlp});
      }
    }
  }

  // Galaxy clusters of the event or an attribute, as the SDO of their kind.
  void Galaxies(const json::object& holder, const std::string& attached_to) {
    const json::array* galaxies = Array(holder, "Galaxy");
    if (galaxies == nullptr) return;
    for (const json::value& g : *galaxies) {
      if (!g.is_object()) continue;
      const json::object& galaxy = g.as_object();
      const std::string type = Str(galaxy, "type");
      if (const json::array* clusters = Array(galaxy, "GalaxyCluster")) {
        for (const json::value& c : *clusters) {
          if (c.is_object()) Cluster(galaxy, type, c.as_object(), attached_to);
        }
      }
    }
  }

  static std::string SdoTypeOfGalaxy(std::string_view type) {
    auto has = [&](std::string_view part) { return type.find(part) != std::string_view::npos; };
    if (type == "threat-actor" || has("threat-actor") || type == "microsoft-activity-group" ||
        type == "mitre-ics-groups") {
      return "threat-actor";
    }
    if (has("attack-pattern") || type == "mitre-ics-techniques") return "attack-pattern";
    if (has("intrusion-set")) return "intrusion-set";
    if (has("course-of-action")) return "course-of-action";
    if (type == "mitre-malware" || has("-malware") || type == "malpedia" || type == "android" ||
        type == "backdoor" || type == "banker" || type == "ransomware" || type == "stealer" ||
        type == "cryptominers" || type == "mitre-ics-software") {
      return "malware";
    }
    if (type == "tool" || has("-tool") || type == "botnet" || type == "rat" ||
        type == "exploit-kit" || type == "tds") {
      return "tool";
    }
    if (type == "branded-vulnerability") return "vulnerability";
    return "";
  }

  void Cluster(const json::object& galaxy, const std::string& type, const json::object& cluster,
               const std::string& attached_to) {
    const std::string uuid = AsciiLower(Str(cluster, "uuid"));
    if (!IsUuid(uuid)) return;
    const std::string sdo_type = SdoTypeOfGalaxy(type);
    std::string value = Str(cluster, "value");
    const json::object* meta = nullptr;
    if (const json::value* m = cluster.if_contains("meta"); m != nullptr && m->is_object())
      meta = &m->as_object();
    std::string id = (sdo_type.empty() ? "x-misp-galaxy-cluster" : sdo_type) + "--" + uuid;
    if (!galaxy_ids_.insert(id).second) {
      if (attached_to != "event") Relate(attached_to, id);
      return;
    }
    ++out_.galaxies;
    json::object sdo{{"type", sdo_type.empty() ? "x-misp-galaxy-cluster" : sdo_type}, {"id", id}};
    if (sdo_type.empty()) {
      sdo["x_misp_type"] = type;
      sdo["x_misp_value"] = value;
      out_.notes.push_back("galaxy cluster " + uuid + " (" + type +
                           "): no STIX equivalent, kept as x-misp-galaxy-cluster");
    } else {
      std::string name = value;
      if (type.starts_with("mitre-")) {
        if (const size_t dash = name.rfind(" - "); dash != std::string::npos) name.resize(dash);
      }
      sdo["name"] = name.empty() ? uuid : name;
      if (sdo_type == "malware") sdo["is_family"] = true;
    }
    if (!Str(cluster, "description").empty()) sdo["description"] = Str(cluster, "description");
    json::array references;
    if (meta != nullptr) {
      const std::string external_id = [&] {
        const json::value* e = meta->if_contains("external_id");
        if (e == nullptr) return std::string();
        if (e->is_string()) return std::string(e->as_string());
        if (e->is_array() && !e->as_array().empty() && e->as_array()[0].is_string()) {
          return std::string(e->as_array()[0].as_string());
        }
        return std::string();
      }();
      if (!external_id.empty()) {
        references.push_back(
            json::object{{"source_name", type.starts_with("mitre-") ? "mitre-attack" : type},
                         {"external_id", external_id}});
      }
      if (const json::array* refs = Array(*meta, "refs")) {
        for (const json::value& r : *refs) {
          if (r.is_string())
            references.push_back(json::object{{"source_name", "url"}, {"url", r.as_string()}});
        }
      }
      if (sdo_type == "attack-pattern") {
        json::array phases;
        if (const json::array* chain = Array(*meta, "kill_chain")) {
          for (const json::value& k : *chain) {
            if (!k.is_string()) continue;
            const std::string_view text = k.as_string();
            const size_t colon = text.find(':');
            if (colon == std::string_view::npos) continue;
            phases.push_back(json::object{{"kill_chain_name", text.substr(0, colon)},
                                          {"phase_name", text.substr(colon + 1)}});
          }
        }
        if (!phases.empty()) sdo["kill_chain_phases"] = std::move(phases);
      }
      if ((sdo_type == "threat-actor" || sdo_type == "intrusion-set") &&
          Array(*meta, "synonyms") != nullptr) {
        json::array aliases;
        for (const json::value& s : *Array(*meta, "synonyms")) {
          if (s.is_string()) aliases.push_back(s);
        }
        if (!aliases.empty()) sdo["aliases"] = std::move(aliases);
      }
    }
    if (!references.empty()) sdo["external_references"] = std::move(references);
    // The tag MISP shows it by (as MISP names it when the cluster gives none).
    std::string tag = Str(cluster, "tag_name");
    if (tag.empty()) tag = "misp-galaxy:" + type + "=\"" + value + "\"";
    sdo["x_misp_galaxy_tag"] = tag;
    Common(
        sdo, out_.event_timestamp, event_stays_home_ ? stix::Tlp::kRed : event_tlp_,
        {"misp:galaxy-name=\"" + Str(galaxy, "name") + "\"", "misp:galaxy-type=\"" + type + "\""});
    Add(std::move(sdo));
    if (attached_to != "event") Relate(attached_to, id);
  }

  void Relate(const std::string& source, const std::string& target, std::string type = "",
              std::string uuid = "", stix::Tlp tlp = stix::Tlp::kNone) {
    if (type.empty()) type = source.starts_with("indicator--") ? "indicates" : "related-to";
    if (!IsUuid(uuid)) uuid = Uuid5(kMispNamespace, source + " - " + type + " - " + target);
    json::object relationship{{"type", "relationship"},
                              {"id", "relationship--" + uuid},
                              {"relationship_type", type},
                              {"source_ref", source},
                              {"target_ref", target}};
    if (tlp == stix::Tlp::kNone) tlp = Between(source, target);
    Common(relationship, out_.event_timestamp, tlp, {});
    Add(std::move(relationship));
  }

  void EventReport(const json::object& r) {
    const std::string uuid = AsciiLower(Str(r, "uuid"));
    if (!IsUuid(uuid) || Bool(r, "deleted", false)) return;
    note_reports_.push_back(r);
  }

  void Report(const json::object& event) {
    // Object references between objects and attributes, now every id is known.
    for (const PendingReference& p : pending_references_) {
      auto source = by_uuid_.find(p.object_uuid);
      auto target = by_uuid_.find(AsciiLower(Str(p.reference, "referenced_uuid")));
      if (source == by_uuid_.end() || target == by_uuid_.end()) {
        out_.notes.push_back("object " + p.object_uuid +
                             ": a reference to something not in the event was skipped");
        continue;
      }
      std::string type = AsciiLower(Str(p.reference, "relationship_type"));
      for (char& c : type) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) c = '-';
      }
      Relate(source->second, target->second, type.empty() ? "related-to" : type,
             AsciiLower(Str(p.reference, "uuid")));
    }
    const bool published = Bool(event, "published", false) && Int(event, "publish_timestamp") > 0;
    const std::string kind = published ? "report" : "grouping";
    const std::string id = kind + "--" + out_.event_uuid;
    const stix::Tlp tlp = event_stays_home_ ? stix::Tlp::kRed : event_tlp_;
    for (const json::object& r : note_reports_) {
      json::object note{{"type", "note"},
                        {"id", "note--" + AsciiLower(Str(r, "uuid"))},
                        {"abstract", Str(r, "name")},
                        {"content", Str(r, "content").empty() ? Str(r, "name") : Str(r, "content")},
                        {"object_refs", json::array{json::string(id)}},
                        {"labels", json::array{"misp:data-layer=\"Event Report\""}}};
      Common(note, Int(r, "timestamp", out_.event_timestamp), tlp,
             {"misp:data-layer=\"Event Report\""});
      out_.objects.push_back(std::move(note));
    }
    json::array object_refs;
    // Only what may go where the report goes: a RED attribute's id is not
    // named by a GREEN report.
    for (const std::string& ref : refs_) {
      if (stix::MostRestrictiveTlp(tlp, tlp_of_[ref]) == tlp || tlp_of_[ref] == stix::Tlp::kNone) {
        object_refs.emplace_back(ref);
      }
    }
    if (object_refs.empty() && !creator_.empty()) object_refs.emplace_back(creator_);
    if (object_refs.empty()) object_refs.emplace_back("identity--" + out_.event_uuid);
    json::object report{
        {"type", kind}, {"id", id}, {"name", out_.info}, {"object_refs", std::move(object_refs)}};
    if (published) {
      report["published"] = Iso(Int(event, "publish_timestamp"));
      report["report_types"] = json::array{"threat-report"};
    } else {
      report["context"] = "suspicious-activity";
    }
    report["x_misp_uuid"] = out_.event_uuid;
    report["x_misp_date"] = Str(event, "date");
    report["x_misp_timestamp"] = out_.event_timestamp;
    report["x_misp_analysis"] = Str(event, "analysis");
    report["x_misp_threat_level_id"] = Str(event, "threat_level_id");
    if (event.contains("distribution"))
      report["x_misp_distribution"] = Int(event, "distribution", 3);
    if (const json::value* orgc = event.if_contains("Orgc"); orgc != nullptr && orgc->is_object()) {
      report["x_misp_orgc"] = json::object{{"name", Str(orgc->as_object(), "name")},
                                           {"uuid", AsciiLower(Str(orgc->as_object(), "uuid"))}};
    }
    std::vector<std::string> labels = {"Threat-Report", "misp:tool=\"kizuna\""};
    for (std::string& l : LabelsOfTags(event_tags_)) labels.push_back(std::move(l));
    Common(report, out_.event_timestamp, tlp, labels);
    out_.objects.push_back(std::move(report));
  }

  struct PendingReference {
    std::string object_uuid;
    json::object reference;
    stix::Tlp tlp;
  };

  const MispImportOptions& options_;
  MispConversion out_;
  bool event_stays_home_ = false;
  std::vector<std::string> event_tags_;
  stix::Tlp event_tlp_ = stix::Tlp::kAmber;
  std::string creator_;
  std::set<std::string> identities_;
  std::set<std::string> galaxy_ids_;
  std::vector<std::string> refs_;
  std::map<std::string, std::string> by_uuid_;  // MISP uuid -> STIX id
  std::map<std::string, stix::Tlp> tlp_of_;     // STIX id -> its TLP
  std::vector<PendingReference> pending_references_;
  std::vector<json::object> note_reports_;
};

}  // namespace

Result<MispConversion> MispEventToStix(const json::value& event, const MispImportOptions& options) {
  Converter converter(options);
  return converter.Convert(event);
}

}  // namespace kizuna::interop
