#include "alerts/telescope_intake.h"

#include <algorithm>
#include <boost/json.hpp>

#include "alerts/partner_observations.h"
#include "common/time.h"
#include "sensor/interval.h"
#include "stix/stix.h"
#include "telescope/objects.h"

namespace kizuna::alerts {

namespace json = boost::json;

namespace {

bool IsBot(const ObservationContext& context, std::string_view rule) {
  return std::find(context.bot_fingerprints.begin(), context.bot_fingerprints.end(), rule) !=
         context.bot_fingerprints.end();
}

// The built-in rules match TCP SYNs (sensor/fingerprint.h).
std::string ProtocolOf(std::string_view rule) {
  return rule == "mirai" || rule == "zmap" || rule == "masscan" ? "tcp" : "";
}

Result<std::optional<Extracted>> FromSources(const ObservationContext& context,
                                             const store::Change& change, const json::object& o) {
  KIZUNA_ASSIGN_OR_RETURN(telescope::ParsedObject parsed, telescope::ParseIntervalObject(o));
  const sensor::WireInterval& interval = parsed.interval;
  if (interval.fingerprints.empty()) return std::optional<Extracted>();
  Extracted e;
  e.tlp = context.policy->EffectiveTlp(change.object.tlp);
  const int64_t end_us = (interval.start_s + interval.seconds) * 1000000;
  const int64_t time_us =
      interval.last_us > 0 && interval.last_us < end_us ? interval.last_us : end_us - 1;
  const std::string start = FormatTimestamp(interval.start_s * 1000000, 0);
  // The busiest ports, to say which of them each address probed.
  const size_t checked = std::min(interval.ports.size(), kMaxPortsChecked);
  for (const auto& [rule, set] : interval.fingerprints) {
    if (!set.exact) continue;  // a sensor's sets are exact; nothing to name otherwise
    Observation base;
    base.time_us = time_us;
    base.port = 0;
    base.protocol = ProtocolOf(rule);
    base.identifier = rule;
    if (IsBot(context, rule)) {
      base.taxonomy = "malicious-code";
      base.type = "infected-system";
      base.family = rule;
      base.confidence = 90;
    } else {
      base.taxonomy = "information-gathering";
      base.type = "scanner";
      base.confidence = 80;
    }
    base.source = "telescope/" + interval.sensor;
    auto add = [&](const HostAddress& address,
                   const std::function<bool(const sensor::WireSources&)>& in) {
      Observation obs = base;
      obs.ip = address;
      json::array ports;
      for (size_t i = 0; i < checked; ++i) {
        const auto& p = interval.ports[i];
        if (p.sources.exact && in(p.sources)) {
          ports.push_back(json::string(std::to_string(p.port) + "/" +
                                       std::string(sensor::PortProtoName(p.proto))));
        }
      }
      json::object evidence{{"sensor", interval.sensor},
                            {"interval", start},
                            {"seconds", interval.seconds},
                            {"fingerprint", rule},
                            {"ports", std::move(ports)}};
      obs.evidence = json::serialize(evidence);
      e.observations.push_back(std::move(obs));
    };
    set.v4.ForEach([&](uint32_t a) {
      add(HostAddress::V4(a), [a](const sensor::WireSources& s) { return s.v4.Contains(a); });
    });
    for (const sensor::Ipv6Address& a : set.v6) {
      correlation::Ipv6Bytes bytes;
      std::copy(a.begin(), a.end(), bytes.begin());
      add(HostAddress::V6(bytes), [&a](const sensor::WireSources& s) {
        return std::binary_search(s.v6.begin(), s.v6.end(), a);
      });
    }
  }
  if (e.observations.empty()) return std::optional<Extracted>();
  return std::optional<Extracted>(std::move(e));
}

Result<std::optional<Extracted>> FromSurge(const ObservationContext& context,
                                           const store::Change& change, const json::object& o) {
  const json::value* surge = o.if_contains("x_kizuna_surge");
  if (surge == nullptr || !surge->is_object() ||
      stix::StringProperty(o, "x_kizuna_observation") != "infected-host") {
    return std::optional<Extracted>();
  }
  const json::object& facts = surge->get_object();
  Extracted e;
  e.tlp = context.policy->EffectiveTlp(change.object.tlp);
  KIZUNA_ASSIGN_OR_RETURN(
      std::vector<HostAddress> addresses,
      AddressesOfObservedData(*context.store, *context.policy, change.collection_id, o, &e.tlp));
  auto first = ParseTimestamp(stix::StringProperty(o, "first_observed"));
  if (!first.ok()) return InvalidArgument("first_observed is not a time");
  const std::string proto = stix::StringProperty(facts, "proto");
  const json::value* port = facts.if_contains("port");
  if (port == nullptr || !port->is_int64() || port->get_int64() < 0 || port->get_int64() > 65535) {
    return InvalidArgument("x_kizuna_surge.port is not a port");
  }
  Observation base;
  base.time_us = *first;
  base.taxonomy = "information-gathering";
  base.type = "scanner";
  if (proto == "tcp" || proto == "udp" || proto == "icmp") base.protocol = proto;
  base.identifier = "surge-" + std::to_string(port->get_int64()) + "-" + proto;
  base.source = "telescope/surge";
  base.confidence = 50;
  json::object evidence{{"surge", change.object.id},
                        {"port", port->get_int64()},
                        {"proto", proto},
                        {"start", stix::StringProperty(facts, "start")},
                        {"metric", stix::StringProperty(facts, "metric")}};
  for (const char* key : {"baseline", "observed"}) {
    if (const json::value* v = facts.if_contains(key); v && v->is_number()) evidence[key] = *v;
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

bool IsOwnTelescopeObject(const ObservationContext& context, const store::Change& change) {
  const store::StoredObject& o = change.object;
  return change.kind == store::Change::Kind::kAdded && o.origin.empty() &&
         !context.telescope_collection_id.empty() &&
         change.collection_id == context.telescope_collection_id &&
         o.created_by_ref == context.identity_id &&
         (o.type == telescope::kSourcesType || o.type == "observed-data");
}

Result<std::optional<Extracted>> ExtractTelescopeObservations(const ObservationContext& context,
                                                              const store::Change& change) {
  if (!IsOwnTelescopeObject(context, change)) return std::optional<Extracted>();
  auto parsed = stix::ParseJson(change.object.json, 16);
  if (!parsed.ok() || !parsed->is_object()) return InvalidArgument("not a JSON object");
  if (change.object.type == telescope::kSourcesType) {
    return FromSources(context, change, parsed->get_object());
  }
  return FromSurge(context, change, parsed->get_object());
}

Result<TakeResult> TakeInTelescopeObject(const ObservationContext& context,
                                         const store::Change& change) {
  const std::string kind =
      change.object.type == "observed-data" ? "telescope surge" : "telescope interval";
  return TakeIn(context, change, kind,
                [&] { return ExtractTelescopeObservations(context, change); });
}

}  // namespace kizuna::alerts
