#include "alerts/partner_observations.h"

#include <boost/json.hpp>

#include "alerts/node_channel.h"
#include "alerts/partner_intake.h"
#include "common/time.h"
#include "pattern/pattern.h"
#include "stix/stix.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

constexpr size_t kQueryBatch = 500;
constexpr size_t kMaxEvidenceText = 200;

bool HasString(const json::object& o, std::string_view key, std::string_view value) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return false;
  for (const json::value& item : v->get_array()) {
    if (item.is_string() && item.get_string() == value) return true;
  }
  return false;
}

std::string Cut(std::string text) {
  if (text.size() > kMaxEvidenceText) text.resize(kMaxEvidenceText);
  // At a character boundary: no UTF-8 continuation byte left dangling.
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80)) text.pop_back();
  return text;
}

int ConfidenceOf(const json::object& o, int fallback) {
  const json::value* v = o.if_contains("confidence");
  if (v != nullptr && v->is_int64() && v->get_int64() >= 0 && v->get_int64() <= 100) {
    return static_cast<int>(v->get_int64());
  }
  return fallback;
}

// One address object (ipv4-addr / ipv6-addr) as a host address.
Result<std::optional<HostAddress>> AddressOf(const json::object& sco, const std::string& name) {
  const std::string type = stix::StringProperty(sco, "type");
  if (type != "ipv4-addr" && type != "ipv6-addr") return std::optional<HostAddress>();
  const std::string value = stix::StringProperty(sco, "value");
  if (value.find('/') != std::string::npos) {
    return InvalidArgument(name + " is a network (" + value.substr(0, 50) + "), not a host");
  }
  std::optional<HostAddress> address = ParseHostAddress(value);
  if (!address || address->is_v6 != (type == "ipv6-addr")) {
    return InvalidArgument(name + " holds '" + value.substr(0, 50) + "', not an address");
  }
  return address;
}

Result<std::optional<Extracted>> FromObservedData(const ObservationContext& context,
                                                  const store::Change& change,
                                                  const json::object& o) {
  const store::StoredObject& object = change.object;
  const bool says_infected = stix::StringProperty(o, "x_kizuna_observation") == "infected-host" ||
                             HasString(o, "labels", "infected-host") ||
                             HasString(o, "labels", "bot");
  // An alert report's events are partner_intake's; what is addressed is
  // between two nodes.
  if (!says_infected || o.contains(kAlertFactsProperty) ||
      o.contains(sharing::kAddressedToProperty)) {
    return std::optional<Extracted>();
  }
  Extracted e;
  e.origin = object.origin;
  e.tlp = context.policy->EffectiveTlp(object.tlp);
  KIZUNA_ASSIGN_OR_RETURN(
      std::vector<HostAddress> addresses,
      AddressesOfObservedData(*context.store, *context.policy, change.collection_id, o, &e.tlp));
  Observation base;
  const std::string last = stix::StringProperty(o, "last_observed");
  auto last_us = ParseTimestamp(last);
  if (!last_us.ok()) return InvalidArgument("last_observed is not a time");
  base.time_us = *last_us;
  base.taxonomy = "malicious-code";
  base.type = "infected-system";
  base.source = "partner/" + object.origin;
  base.confidence = ConfidenceOf(o, 50);
  json::object evidence{{"partner", object.origin},
                        {"object", object.id},
                        {"first_observed", Cut(stix::StringProperty(o, "first_observed"))},
                        {"last_observed", Cut(last)}};
  if (const json::value* n = o.if_contains("number_observed"); n && n->is_int64()) {
    evidence["number_observed"] = n->get_int64();
  }
  if (const json::value* surge = o.if_contains("x_kizuna_surge"); surge && surge->is_object()) {
    // A partner's telescope surge: scanners new on that port.
    const json::object& facts = surge->get_object();
    base.taxonomy = "information-gathering";
    base.type = "scanner";
    const std::string proto = stix::StringProperty(facts, "proto");
    if (proto == "tcp" || proto == "udp" || proto == "icmp") base.protocol = proto;
    const json::value* port = facts.if_contains("port");
    if (port && port->is_int64() && port->get_int64() >= 0 && port->get_int64() <= 65535) {
      base.identifier = "surge-" + std::to_string(port->get_int64()) + "-" + base.protocol;
      evidence["surge_port"] = port->get_int64();
    }
    evidence["surge_proto"] = Cut(proto);
  }
  base.evidence = json::serialize(evidence);
  e.observations.reserve(addresses.size());
  for (const HostAddress& a : addresses) {
    Observation obs = base;
    obs.ip = a;
    e.observations.push_back(std::move(obs));
  }
  return std::optional<Extracted>(std::move(e));
}

Result<std::optional<Extracted>> FromSighting(const ObservationContext& context,
                                              const store::Change& change, const json::object& s) {
  const store::StoredObject& object = change.object;
  // Our alert answers, and what is addressed, are the channel node's.
  if (s.contains(kAlertStateProperty) || s.contains(sharing::kAddressedToProperty)) {
    return std::optional<Extracted>();
  }
  const std::string of = stix::StringProperty(s, "sighting_of_ref");
  if (!of.starts_with("indicator--")) return std::optional<Extracted>();
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::StoredObject> history,
                          context.store->ObjectHistory(of, 1000));
  if (history.empty()) return InvalidArgument("sighting_of_ref " + of + " is not here");
  const store::StoredObject& held = history.back();
  auto parsed = stix::ParseJson(held.json, 16);
  if (!parsed.ok() || !parsed->is_object()) return InvalidArgument(of + " does not parse");
  const json::object& indicator = parsed->get_object();
  if (stix::StringProperty(indicator, "pattern_type") != "stix") return std::optional<Extracted>();
  std::optional<Classification> classification = ClassifyIndicator(indicator);
  if (!classification) return std::optional<Extracted>();
  auto pattern = pattern::ParsePattern(stix::StringProperty(indicator, "pattern"));
  if (!pattern.ok()) return std::optional<Extracted>();
  auto comparisons = pattern::ReduceToSimpleComparisons(*pattern);
  if (!comparisons) return std::optional<Extracted>();
  std::vector<HostAddress> addresses;
  for (const pattern::SimpleComparison& c : *comparisons) {
    if (c.kind != pattern::SimpleComparison::Kind::kEquals || c.property_path != "value" ||
        (c.object_type != "ipv4-addr" && c.object_type != "ipv6-addr")) {
      continue;
    }
    std::optional<HostAddress> a = ParseHostAddress(c.value);
    if (a && addresses.size() < kMaxObservedAddresses) addresses.push_back(*a);
  }
  if (addresses.empty()) return std::optional<Extracted>();
  std::string when = stix::StringProperty(s, "last_seen");
  if (when.empty()) when = stix::StringProperty(s, "first_seen");
  if (when.empty()) when = stix::StringProperty(s, "created");
  auto when_us = ParseTimestamp(when);
  if (!when_us.ok()) return InvalidArgument("the sighting has no time");
  Extracted e;
  e.origin = object.origin;
  e.tlp = stix::MostRestrictiveTlp(context.policy->EffectiveTlp(object.tlp),
                                   context.policy->EffectiveTlp(held.tlp));
  Observation base;
  base.time_us = *when_us;
  base.taxonomy = classification->taxonomy;
  base.type = classification->type;
  base.source = "partner/" + object.origin;
  base.confidence = ConfidenceOf(s, ConfidenceOf(indicator, 50));
  json::object evidence{{"partner", object.origin},
                        {"sighting", object.id},
                        {"indicator", of},
                        {"indicator_name", Cut(stix::StringProperty(indicator, "name"))},
                        {"seen", Cut(when)}};
  if (const json::value* n = s.if_contains("count"); n && n->is_int64()) {
    evidence["count"] = n->get_int64();
  }
  base.evidence = json::serialize(evidence);
  for (const HostAddress& a : addresses) {
    Observation obs = base;
    obs.ip = a;
    e.observations.push_back(std::move(obs));
  }
  return std::optional<Extracted>(std::move(e));
}

}  // namespace

Result<std::vector<HostAddress>> AddressesOfObservedData(store::Store& store,
                                                         const sharing::SharingPolicy& policy,
                                                         const std::string& collection_id,
                                                         const json::object& o, stix::Tlp* tlp) {
  std::vector<HostAddress> out;
  // The deprecated form: the objects themselves, by key.
  if (const json::value* embedded = o.if_contains("objects"); embedded && embedded->is_object()) {
    for (const auto& [key, value] : embedded->get_object()) {
      if (!value.is_object())
        return InvalidArgument("objects." + std::string(key) + " is not an object");
      KIZUNA_ASSIGN_OR_RETURN(std::optional<HostAddress> a,
                              AddressOf(value.get_object(), "objects." + std::string(key)));
      if (a) out.push_back(*a);
      if (out.size() > kMaxObservedAddresses) return InvalidArgument("more than 100000 addresses");
    }
  }
  std::vector<std::string> refs;
  if (const json::value* r = o.if_contains("object_refs"); r && r->is_array()) {
    for (const json::value& ref : r->get_array()) {
      if (!ref.is_string()) return InvalidArgument("object_refs holds a non-string");
      const std::string_view id = ref.get_string();
      if (id.starts_with("ipv4-addr--") || id.starts_with("ipv6-addr--")) refs.emplace_back(id);
    }
  }
  if (refs.size() + out.size() > kMaxObservedAddresses) {
    return InvalidArgument("more than 100000 addresses");
  }
  std::unordered_map<std::string, store::StoredObject> found;
  for (size_t i = 0; i < refs.size(); i += kQueryBatch) {
    store::ObjectQuery query;
    query.ids.assign(refs.begin() + i, refs.begin() + std::min(refs.size(), i + kQueryBatch));
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(collection_id, query));
    for (store::StoredObject& held : page.objects) found[held.id] = std::move(held);
  }
  for (const std::string& ref : refs) {
    auto held = found.find(ref);
    if (held == found.end()) return InvalidArgument("it names " + ref + ", which is not here");
    auto sco = stix::ParseJson(held->second.json, 8);
    if (!sco.ok() || !sco->is_object()) return InvalidArgument(ref + " does not parse");
    KIZUNA_ASSIGN_OR_RETURN(std::optional<HostAddress> a, AddressOf(sco->get_object(), ref));
    if (a) out.push_back(*a);
    *tlp = stix::MostRestrictiveTlp(*tlp, policy.EffectiveTlp(held->second.tlp));
  }
  if (out.empty()) return InvalidArgument("it names no ipv4-addr or ipv6-addr");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<Classification> ClassifyIndicator(const json::object& indicator) {
  if (HasString(indicator, "indicator_types", "benign")) return std::nullopt;
  if (HasString(indicator, "indicator_types", "compromised") ||
      HasString(indicator, "labels", "infected-host") || HasString(indicator, "labels", "bot") ||
      HasString(indicator, "labels", "botnet")) {
    return Classification{"malicious-code", "infected-system"};
  }
  if (HasString(indicator, "labels", "scanner")) {
    return Classification{"information-gathering", "scanner"};
  }
  if (HasString(indicator, "labels", "c2") || HasString(indicator, "labels", "c2-server")) {
    return Classification{"malicious-code", "c2-server"};
  }
  return Classification{"other", "undetermined"};
}

Result<std::optional<Extracted>> ExtractPartnerObservation(const ObservationContext& context,
                                                           const store::Change& change) {
  const store::StoredObject& object = change.object;
  if (change.kind != store::Change::Kind::kAdded || object.origin.empty() ||
      object.origin.starts_with("org:") ||
      context.policy->ForPeer(object.origin).kind != sharing::Recipient::Kind::kPeer) {
    return std::optional<Extracted>();
  }
  if (object.type != "observed-data" && object.type != "sighting") {
    return std::optional<Extracted>();
  }
  auto parsed = stix::ParseJson(object.json, 16);
  if (!parsed.ok() || !parsed->is_object()) return InvalidArgument("not a JSON object");
  if (object.type == "observed-data")
    return FromObservedData(context, change, parsed->get_object());
  return FromSighting(context, change, parsed->get_object());
}

Result<TakeResult> TakeInPartnerObservation(const ObservationContext& context,
                                            const store::Change& change) {
  const std::string kind = "partner " + change.object.type;
  return TakeIn(context, change, kind, [&] { return ExtractPartnerObservation(context, change); });
}

}  // namespace kizuna::alerts
