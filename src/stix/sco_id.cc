// Deterministic SCO identifiers (STIX 2.1 §2.9): UUIDv5 in the STIX namespace
// over the RFC 8785 canonical JSON of the type's ID-contributing properties.
#include <boost/json.hpp>
#include <string>

#include "common/uuid.h"
#include "stix/stix.h"

namespace kizuna::stix {
namespace {

struct ScoIdProperties {
  std::string_view type;
  std::initializer_list<std::string_view> properties;
};

// Spec §6, "ID Contributing Properties" of each SCO. process has none: its ids
// are random UUIDv4s.
const ScoIdProperties kScoIdProperties[] = {
    {"artifact", {"hashes", "payload_bin"}},
    {"autonomous-system", {"number"}},
    {"directory", {"path"}},
    {"domain-name", {"value"}},
    {"email-addr", {"value"}},
    {"email-message", {"from_ref", "subject", "body"}},
    {"file", {"hashes", "name", "extensions", "parent_directory_ref"}},
    {"ipv4-addr", {"value"}},
    {"ipv6-addr", {"value"}},
    {"mac-addr", {"value"}},
    {"mutex", {"name"}},
    {"network-traffic",
     {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"}},
    {"process", {}},
    {"software", {"name", "cpe", "swid", "vendor", "version"}},
    {"url", {"value"}},
    {"user-account", {"account_type", "user_id", "account_login"}},
    {"windows-registry-key", {"key", "values"}},
    {"x509-certificate", {"hashes", "serial_number"}},
};

// "hashes" contributes only one hash: the first of MD5, SHA-1, SHA-256,
// SHA-512 present (the spec's order), else the smallest key, so the result
// does not depend on member order.
boost::json::object PreferredHash(const boost::json::object& hashes) {
  boost::json::object out;
  for (std::string_view name : {"MD5", "SHA-1", "SHA-256", "SHA-512"}) {
    if (auto it = hashes.find(name); it != hashes.end()) {
      out.emplace(name, it->value());
      return out;
    }
  }
  const boost::json::key_value_pair* smallest = nullptr;
  for (const auto& kv : hashes) {
    if (smallest == nullptr || kv.key() < smallest->key()) smallest = &kv;
  }
  if (smallest != nullptr) out.emplace(smallest->key(), smallest->value());
  return out;
}

}  // namespace

bool IsScoType(std::string_view type) {
  for (const auto& entry : kScoIdProperties) {
    if (entry.type == type) return true;
  }
  return false;
}

std::string DeterministicScoId(const boost::json::object& sco) {
  const auto* type = sco.if_contains("type");
  if (type == nullptr || !type->is_string()) return "";
  std::string_view type_name = type->get_string();
  for (const auto& entry : kScoIdProperties) {
    if (entry.type != type_name) continue;
    boost::json::object contributing;
    for (std::string_view property : entry.properties) {
      const auto* value = sco.if_contains(property);
      if (value == nullptr) continue;
      if (property == "hashes" && value->is_object()) {
        contributing.emplace(property, PreferredHash(value->get_object()));
      } else {
        contributing.emplace(property, *value);
      }
    }
    if (contributing.empty()) return "";
    std::string uuid = Uuid5(kStixScoNamespace, CanonicalJson(contributing));
    if (uuid.empty()) return "";
    return std::string(type_name) + "--" + uuid;
  }
  return "";
}

}  // namespace kizuna::stix
