#include "coordination/directory.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <map>

#include "common/encoding.h"
#include "common/time.h"
#include "coordination/hours.h"
#include "coordination/objects.h"
#include "correlation/observable.h"
#include "federation/signing.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

// The created time of every version of a node's identity (as the sightings
// collection's copy has it: STIX keeps `created` across versions).
constexpr const char* kIdentityCreated = "2020-01-01T00:00:00.000Z";
constexpr const char* kDefinitionCreated = "2026-11-30T00:00:00.000Z";
constexpr size_t kMaxListed = 10000;  // ASNs, prefixes, domains a team may list
constexpr size_t kMaxContacts = 32;

bool ShortText(const std::string& s, size_t max) {
  return s.size() <= max &&
         std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

bool CountryCode(std::string_view c) {
  return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

bool DomainName(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

Status StringsOf(const json::object& o, std::string_view key, std::vector<std::string>* out) {
  out->clear();
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return InvalidArgument(std::string(key) + ": not a list");
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) return InvalidArgument(std::string(key) + ": not a list of strings");
    out->emplace_back(item.get_string());
  }
  return Status::Ok();
}

std::string StringOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

bool IsTeamKind(std::string_view kind) {
  for (std::string_view k :
       {"national-csirt", "sector-csirt", "isp", "government", "vendor", "company", "other"}) {
    if (kind == k) return true;
  }
  return false;
}

bool IsContactRole(std::string_view role) {
  return role == "primary" || role == "backup" || role == "emergency" || role == "24x7";
}

Result<Contact> ParseContact(std::string_view text) {
  Contact contact;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find(';', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(at, end - at);
    at = end + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("contact: expected key=value, got '" + std::string(part) + "'");
    }
    const std::string_view key = part.substr(0, eq);
    const std::string value(part.substr(eq + 1));
    if (key == "role") {
      contact.role = value;
    } else if (key == "name") {
      contact.name = value;
    } else if (key == "email") {
      contact.email = value;
    } else if (key == "phone") {
      contact.phone = value;
    } else if (key == "pgp") {
      contact.pgp_fingerprint = value;
    } else {
      return InvalidArgument("contact: unknown key '" + std::string(key) +
                             "' (role, name, email, phone, pgp)");
    }
  }
  if (contact.role.empty()) contact.role = "primary";
  return contact;
}

Status ValidateEntry(const DirectoryEntry& e) {
  if (e.id.rfind("identity--", 0) != 0) return InvalidArgument("id: not an identity");
  if (e.name.empty() || !ShortText(e.name, 200))
    return InvalidArgument("name: 1 to 200 characters");
  if (!e.country.empty() && !CountryCode(e.country)) {
    return InvalidArgument("country: two upper-case letters (ISO 3166), got '" + e.country + "'");
  }
  if (!e.kind.empty() && !IsTeamKind(e.kind)) {
    return InvalidArgument(
        "kind: national-csirt, sector-csirt, isp, government, vendor, "
        "company or other, got '" +
        e.kind + "'");
  }
  if (e.asns.size() > kMaxListed || e.prefixes.size() > kMaxListed ||
      e.domains.size() > kMaxListed || e.countries.size() > 300) {
    return InvalidArgument("constituency: too many entries");
  }
  for (uint32_t asn : e.asns) {
    if (asn == 0) return InvalidArgument("asn: AS 0 is no network");
  }
  for (const std::string& p : e.prefixes) {
    const bool ok = p.find(':') == std::string::npos ? correlation::ParseIpv4Prefix(p).ok()
                                                     : correlation::ParseIpv6Prefix(p).ok();
    if (!ok) return InvalidArgument("prefix: not a prefix: '" + p + "'");
  }
  for (const std::string& d : e.domains) {
    if (!DomainName(d)) return InvalidArgument("domain: a lower-case name, got '" + d + "'");
  }
  for (const std::string& c : e.countries) {
    if (!CountryCode(c)) return InvalidArgument("constituency country: got '" + c + "'");
  }
  if (e.contacts.size() > kMaxContacts) return InvalidArgument("contacts: at most 32");
  for (const Contact& c : e.contacts) {
    if (!IsContactRole(c.role)) {
      return InvalidArgument("contact role: primary, backup, emergency or 24x7, got '" + c.role +
                             "'");
    }
    if (c.email.empty() && c.phone.empty()) {
      return InvalidArgument("contact: an e-mail address or a phone number");
    }
    if (!c.email.empty() && (!ShortText(c.email, 254) || c.email.find('@') == std::string::npos ||
                             c.email.find_first_of(" ,<>") != std::string::npos)) {
      return InvalidArgument("contact email: not an address: '" + c.email + "'");
    }
    if (!ShortText(c.name, 200) || !ShortText(c.phone, 64)) {
      return InvalidArgument("contact: name or phone too long");
    }
    if (!c.pgp_fingerprint.empty() &&
        (c.pgp_fingerprint.size() != 40 ||
         !std::all_of(c.pgp_fingerprint.begin(), c.pgp_fingerprint.end(),
                      [](unsigned char ch) { return std::isxdigit(ch); }))) {
      return InvalidArgument("contact pgp: a 40-hex-digit fingerprint");
    }
  }
  if (!IsTimeZoneName(e.time_zone)) {
    return InvalidArgument("time zone: an IANA name such as Asia/Tokyo, got '" + e.time_zone + "'");
  }
  if (!e.operating_hours.empty() && !ParseOperatingHours(e.operating_hours)) {
    return InvalidArgument("operating hours: like 'Mon-Fri 09:00-18:00', got '" +
                           e.operating_hours + "'");
  }
  if (!e.node_url.empty() &&
      (!ShortText(e.node_url, 500) ||
       (e.node_url.rfind("https://", 0) != 0 && e.node_url.rfind("http://", 0) != 0))) {
    return InvalidArgument("node url: an http(s) URL");
  }
  if (!ShortText(e.signing_key, 100)) return InvalidArgument("signing key: too long");
  return Status::Ok();
}

Status ApplyChange(const DirectoryChange& change, DirectoryEntry* entry) {
  DirectoryEntry e = *entry;
  if (change.name) e.name = *change.name;
  if (change.country) e.country = *change.country;
  if (change.kind) e.kind = *change.kind;
  if (change.time_zone) e.time_zone = *change.time_zone;
  if (change.operating_hours) e.operating_hours = *change.operating_hours;
  if (change.node_url) e.node_url = *change.node_url;
  if (change.asns) e.asns = *change.asns;
  if (change.prefixes) e.prefixes = *change.prefixes;
  if (change.domains) e.domains = *change.domains;
  if (change.countries) e.countries = *change.countries;
  if (change.contacts) e.contacts = *change.contacts;
  std::sort(e.asns.begin(), e.asns.end());
  e.asns.erase(std::unique(e.asns.begin(), e.asns.end()), e.asns.end());
  KIZUNA_RETURN_IF_ERROR(ValidateEntry(e));
  *entry = std::move(e);
  return Status::Ok();
}

json::object EntryToStix(const DirectoryEntry& e, stix::Tlp tlp, const Signer& sign) {
  json::array asns, contacts;
  for (uint32_t asn : e.asns) asns.emplace_back(asn);
  for (const Contact& c : e.contacts) {
    json::object contact{{"role", c.role}};
    if (!c.name.empty()) contact["name"] = c.name;
    if (!c.email.empty()) contact["email"] = c.email;
    if (!c.phone.empty()) contact["phone"] = c.phone;
    if (!c.pgp_fingerprint.empty()) contact["pgp_fingerprint"] = c.pgp_fingerprint;
    contacts.push_back(std::move(contact));
  }
  json::object extension{{"extension_type", "property-extension"},
                         {"kind", e.kind},
                         {"country", e.country},
                         {"constituency", json::object{{"asns", std::move(asns)},
                                                       {"prefixes", Strings(e.prefixes)},
                                                       {"domains", Strings(e.domains)},
                                                       {"countries", Strings(e.countries)}}},
                         {"contacts", std::move(contacts)},
                         {"time_zone", e.time_zone},
                         {"operating_hours", e.operating_hours},
                         {"node_url", e.node_url},
                         {"signing_key", e.signing_key},
                         {"last_verified", FormatTimestamp(e.last_verified_us, 3)}};
  std::string contact_text;
  for (const Contact& c : e.contacts) {
    if (!contact_text.empty()) contact_text += "; ";
    contact_text += c.role + ": " + (c.email.empty() ? c.phone : c.email);
  }
  json::object o{{"type", "identity"},
                 {"spec_version", "2.1"},
                 {"id", e.id},
                 {"created", kIdentityCreated},
                 {"modified", FormatTimestamp(e.modified_us, 3)},
                 {"created_by_ref", e.id},
                 {"name", e.name},
                 {"identity_class", "organization"},
                 {"extensions", json::object{{kExtensionId, std::move(extension)}}}};
  if (!contact_text.empty()) o["contact_information"] = contact_text;
  if (tlp != stix::Tlp::kNone) {
    o["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
  }
  if (sign) o[kSignatureProperty] = Base64Encode(sign(json::serialize(o)));
  return o;
}

bool SignatureHolds(const json::object& identity, const DirectoryEntry& entry) {
  const json::value* signature = identity.if_contains(kSignatureProperty);
  if (signature == nullptr || !signature->is_string() || entry.signing_key.empty()) return false;
  json::object unsigned_object = identity;
  unsigned_object.erase(kSignatureProperty);
  return federation::VerifySignature(entry.signing_key, json::serialize(unsigned_object),
                                     signature->get_string());
}

Result<DirectoryEntry> EntryFromStix(const json::object& o) {
  const json::value* extensions = o.if_contains("extensions");
  const json::value* ext = extensions != nullptr && extensions->is_object()
                               ? extensions->get_object().if_contains(kExtensionId)
                               : nullptr;
  if (ext == nullptr || !ext->is_object()) return InvalidArgument("no directory extension");
  const json::object& x = ext->get_object();
  DirectoryEntry e;
  e.id = StringOf(o, "id");
  e.name = StringOf(o, "name");
  e.kind = StringOf(x, "kind");
  e.country = StringOf(x, "country");
  e.time_zone = StringOf(x, "time_zone");
  e.operating_hours = StringOf(x, "operating_hours");
  e.node_url = StringOf(x, "node_url");
  e.signing_key = StringOf(x, "signing_key");
  auto verified = ParseTimestamp(StringOf(x, "last_verified"));
  if (!verified.ok()) return InvalidArgument("last_verified: not a timestamp");
  e.last_verified_us = *verified;
  auto modified = ParseTimestamp(StringOf(o, "modified"));
  if (!modified.ok()) return InvalidArgument("modified: not a timestamp");
  e.modified_us = *modified;
  if (const json::value* c = x.if_contains("constituency")) {
    if (!c->is_object()) return InvalidArgument("constituency: not an object");
    const json::object& con = c->get_object();
    KIZUNA_RETURN_IF_ERROR(StringsOf(con, "prefixes", &e.prefixes));
    KIZUNA_RETURN_IF_ERROR(StringsOf(con, "domains", &e.domains));
    KIZUNA_RETURN_IF_ERROR(StringsOf(con, "countries", &e.countries));
    if (const json::value* asns = con.if_contains("asns")) {
      if (!asns->is_array() || asns->get_array().size() > kMaxListed) {
        return InvalidArgument("asns: not a list");
      }
      for (const json::value& a : asns->get_array()) {
        const int64_t n = a.is_int64() ? a.get_int64()
                          : a.is_uint64()
                              ? static_cast<int64_t>(std::min<uint64_t>(a.get_uint64(), 1ull << 40))
                              : 0;
        if (n < 1 || n > 0xffffffffLL) return InvalidArgument("asns: not AS numbers");
        e.asns.push_back(static_cast<uint32_t>(n));
      }
    }
  }
  if (const json::value* contacts = x.if_contains("contacts")) {
    if (!contacts->is_array() || contacts->get_array().size() > kMaxContacts) {
      return InvalidArgument("contacts: not a list");
    }
    for (const json::value& v : contacts->get_array()) {
      if (!v.is_object()) return InvalidArgument("contacts: not objects");
      const json::object& c = v.get_object();
      e.contacts.push_back(Contact{StringOf(c, "role"), StringOf(c, "name"), StringOf(c, "email"),
                                   StringOf(c, "phone"), StringOf(c, "pgp_fingerprint")});
    }
  }
  KIZUNA_RETURN_IF_ERROR(ValidateEntry(e));
  return e;
}

json::object ExtensionDefinition(const std::string& producer_identity) {
  return json::object{
      {"type", "extension-definition"},
      {"spec_version", "2.1"},
      {"id", kExtensionId},
      {"created", kDefinitionCreated},
      {"modified", kDefinitionCreated},
      {"created_by_ref", producer_identity},
      {"name", "kizuna directory entry"},
      {"description",
       "A team in the kizuna directory of cooperating CSIRTs: kind, country, constituency "
       "(asns, prefixes, domains, countries), contacts (role primary|backup|emergency|24x7, "
       "name, email, phone, pgp_fingerprint), time_zone (IANA), operating_hours "
       "('Mon-Fri 09:00-18:00'), node_url, signing_key (Ed25519, base64), last_verified"},
      {"schema", "https://github.com/kizuna-csirt/kizuna/blob/main/src/coordination/directory.h"},
      {"version", "1.0"},
      {"extension_types", json::array{"property-extension"}},
      {"object_marking_refs", json::array{json::string(stix::TlpMarkingId(stix::Tlp::kClear))}}};
}

Result<store::Collection> EnsureCoordinationCollection(store::Store& store,
                                                       const node::NodeConfig& config,
                                                       const node::NodeIdentity& identity) {
  auto existing = store.GetCollection(kCoordinationAlias);
  if (existing.ok()) return existing;
  KIZUNA_ASSIGN_OR_RETURN(
      store::Collection made,
      sharing::EnsureCollection(
          store, kCoordinationAlias, "Coordination",
          "The team directory (each team's own entry), read by every partner; drills and "
          "their acknowledgements addressed to partners",
          config.name));
  KIZUNA_RETURN_IF_ERROR(PublishDefinitions(store, made, identity));
  return made;
}

Status PublishDefinitions(store::Store& store, const store::Collection& collection,
                          const node::NodeIdentity& identity) {
  std::vector<store::NewObject> batch;
  for (const json::object& definition :
       {ExtensionDefinition(identity.identity_id), ObjectsExtensionDefinition(identity.identity_id),
        IncidentExtensionDefinition(identity.identity_id)}) {
    KIZUNA_ASSIGN_OR_RETURN(stix::ObjectInfo info, stix::ValidateObject(definition));
    batch.push_back(store::NewObject{info, json::serialize(definition), ""});
  }
  return store.AddObjects(collection.id, batch).status();
}

namespace {

// Every stored version of a directory entry, with where it came from.
struct Version {
  DirectoryEntry entry;
  std::string origin;
  int64_t date_added_us = 0;
};

Result<std::vector<Version>> AllVersions(store::Store& store, const std::vector<std::string>& ids) {
  std::vector<Version> out;
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Collection> collections, store.ListCollections());
  for (const store::Collection& c : collections) {
    store::ObjectQuery query;
    query.types = {"identity"};
    query.ids = ids;
    query.version_all = true;
    query.include_origin = true;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(c.id, query));
    for (const store::StoredObject& object : page.objects) {
      if (object.json.find(kExtensionId) == std::string::npos) continue;
      boost::system::error_code ec;
      json::value parsed = json::parse(object.json, ec);
      if (ec || !parsed.is_object()) continue;
      auto entry = EntryFromStix(parsed.get_object());
      // Not well-formed, or not signed by the key it names: nobody's.
      if (!entry.ok() || !SignatureHolds(parsed.get_object(), *entry)) continue;
      entry->tlp = object.tlp;
      out.push_back(Version{std::move(*entry), object.origin, object.date_added_us});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Version& a, const Version& b) {
    return a.date_added_us < b.date_added_us;
  });
  return out;
}

}  // namespace

Result<DirectoryEntry> OwnEntry(store::Store& store, const node::NodeIdentity& identity) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Version> versions,
                          AllVersions(store, {identity.identity_id}));
  const DirectoryEntry* latest = nullptr;
  for (const Version& v : versions) {
    if (v.entry.signing_key != identity.public_key_base64) continue;  // not signed by us
    if (latest == nullptr || v.entry.modified_us > latest->modified_us) latest = &v.entry;
  }
  if (latest == nullptr) return NotFound("no directory entry of ours yet (kizuna directory set)");
  DirectoryEntry entry = *latest;
  entry.own = true;
  return entry;
}

Result<DirectoryEntry> SetOwnEntry(store::Store& store, const node::NodeConfig& config,
                                   const node::NodeIdentity& identity, const Signer& sign,
                                   const DirectoryChange& change, stix::Tlp tlp, int64_t now_us) {
  KIZUNA_ASSIGN_OR_RETURN(store::Collection collection,
                          EnsureCoordinationCollection(store, config, identity));
  DirectoryEntry entry;
  auto current = OwnEntry(store, identity);
  if (current.ok()) {
    entry = std::move(*current);
  } else if (current.status().code() == Code::kNotFound) {
    entry.id = identity.identity_id;
    entry.name = config.name;
  } else {
    return current.status();
  }
  KIZUNA_RETURN_IF_ERROR(ApplyChange(change, &entry));
  entry.id = identity.identity_id;
  entry.signing_key = identity.public_key_base64;
  // A new version, later than the last even within one millisecond.
  const int64_t now_ms = now_us / 1000 * 1000;
  entry.modified_us = std::max(now_ms, entry.modified_us + 1000);
  entry.last_verified_us = entry.modified_us;
  const json::object object = EntryToStix(entry, tlp, sign);
  KIZUNA_ASSIGN_OR_RETURN(stix::ObjectInfo info, stix::ValidateObject(object));
  KIZUNA_RETURN_IF_ERROR(
      store.AddObjects(collection.id, {store::NewObject{info, json::serialize(object), ""}})
          .status());
  entry.own = true;
  entry.tlp = tlp;
  return entry;
}

Result<std::vector<DirectoryEntry>> ListDirectory(store::Store& store,
                                                  const std::vector<node::PeerConfig>& peers,
                                                  const node::NodeIdentity& identity,
                                                  int64_t now_us, int stale_after_days) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Version> versions, AllVersions(store, {}));
  std::map<std::string, const node::PeerConfig*> peer_named;
  for (const node::PeerConfig& p : peers) peer_named[p.name] = &p;
  // By signer: ours, or the configured peer whose key it is. In the order
  // they arrived, a key's first id is the one it speaks for.
  std::map<std::string, std::string> peer_of_key;
  for (const auto& [name, peer] : peer_named) {
    if (!peer->public_key.empty()) peer_of_key[peer->public_key] = name;
  }
  std::map<std::string, std::string> id_of_signer;  // "" = us, else the peer
  std::map<std::string, DirectoryEntry> latest;     // signer -> its latest version
  for (const Version& v : versions) {
    DirectoryEntry entry = v.entry;
    std::string signer;
    if (entry.signing_key == identity.public_key_base64) {
      if (entry.id != identity.identity_id) continue;
      entry.own = true;
    } else {
      auto peer = peer_of_key.find(entry.signing_key);
      if (peer == peer_of_key.end()) continue;  // no partner of ours
      signer = peer->second;
      entry.peer = signer;
    }
    auto [claimed, first] = id_of_signer.try_emplace(signer, entry.id);
    if (claimed->second != entry.id) continue;
    auto [it, added] = latest.try_emplace(signer, entry);
    if (!added && entry.modified_us > it->second.modified_us) it->second = std::move(entry);
  }
  std::vector<DirectoryEntry> out;
  const int64_t stale_before = now_us - int64_t{stale_after_days} * 86400 * 1000000;
  for (auto& [signer, entry] : latest) {
    entry.stale = entry.last_verified_us < stale_before;
    out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const DirectoryEntry& a, const DirectoryEntry& b) {
    if (a.own != b.own) return a.own;
    return a.name != b.name ? a.name < b.name : a.id < b.id;
  });
  return out;
}

json::object EntryJson(const DirectoryEntry& e) {
  json::object out =
      EntryToStix(e, stix::Tlp::kNone).at("extensions").as_object().at(kExtensionId).as_object();
  out.erase("extension_type");
  out["id"] = e.id;
  out["name"] = e.name;
  out["modified"] = FormatTimestamp(e.modified_us, 3);
  out["own"] = e.own;
  out["peer"] = e.peer.empty() ? json::value(nullptr) : json::value(e.peer);
  out["stale"] = e.stale;
  return out;
}

Result<DirectoryEntry> EntryWithId(const std::vector<DirectoryEntry>& entries,
                                   const std::string& id) {
  const DirectoryEntry* found = nullptr;
  std::string claimants;
  for (const DirectoryEntry& e : entries) {
    if (e.id != id) continue;
    claimants += (claimants.empty() ? "" : ", ") + (e.own ? std::string("ours") : e.peer);
    if (found != nullptr) {
      return FailedPrecondition("several teams' keys claim " + id + " (" + claimants +
                                "): see the whole directory");
    }
    found = &e;
  }
  if (found == nullptr) return NotFound("no such team in the directory");
  return *found;
}

}  // namespace kizuna::coordination
