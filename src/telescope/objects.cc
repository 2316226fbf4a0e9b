#include "telescope/objects.h"

#include <boost/json.hpp>

#include "common/time.h"
#include "common/uuid.h"

namespace kizuna::telescope {

namespace json = boost::json;

namespace {

constexpr std::string_view kIdNamespace = "2f8d3b61-9c0e-4e7a-8d15-6a4b0c9e7f21";
constexpr std::string_view kDefinitionCreated = "2026-11-29T00:00:00.000Z";

constexpr std::string_view kSchemaText =
    "kizuna telescope, version 1. Two new STIX Domain Objects describe what a darknet sensor "
    "saw over one interval. Common properties: sensor (the sensor's name at its producer), "
    "start (RFC 3339, on an interval boundary), seconds (the interval's length, a divisor of "
    "86400), part (what the interval was cut from; one object per producer, sensor, start "
    "and part), packets, first, last, fingerprint_rules (the scanner fingerprint rule set's "
    "version), kizuna_telescope_interval (1). A set of source addresses is "
    "{count, v4, v6} (v4: base64 of the ascending addresses as LEB128 deltas; v6: text "
    "addresses, ascending) in x-kizuna-telescope-sources, and {count, sketch} (base64 of a "
    "HyperLogLog with 4096 registers hashed with SipHash-2-4 under the key "
    "'kizuna-sketch-v1'; byte 0 version 1, byte 1 's' then a 16-bit count of (16-bit "
    "index, rank) entries or 'd' then 4096 ranks) in x-kizuna-telescope-summary. Both carry "
    "sources (all), ports [{proto: tcp|udp|icmp|icmpv6|other, port, packets, sources}] "
    "(busiest first), other_ports {ports, packets}, classes {scan, backscatter, udp, icmp: "
    "set} and fingerprints {rule name: set}; x-kizuna-telescope-sources also summary_ref "
    "and top_sources [{address, packets, ports, destinations, first, last, profile {syn, "
    "syn_ack, rst, other_tcp, udp, icmp}, fingerprints}].";

void AddCommon(json::object& o, std::string_view type, const std::string& id,
               const std::string& time, const std::string& producer, stix::Tlp tlp) {
  o["type"] = type;
  o["spec_version"] = "2.1";
  o["id"] = id;
  o["created"] = time;
  o["modified"] = time;
  o["created_by_ref"] = producer;
  if (tlp != stix::Tlp::kNone) {
    o["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
  }
  o["extensions"] =
      json::object{{std::string(kExtensionId), json::object{{"extension_type", "new-sdo"}}}};
}

}  // namespace

std::pair<std::string, std::string> IntervalIds(const std::string& producer_identity,
                                                const sensor::WireInterval& interval) {
  const std::string key = producer_identity + "|" + interval.sensor + "|" +
                          std::to_string(interval.start_s) + "|" + interval.part;
  return {std::string(kSummaryType) + "--" + Uuid5(kIdNamespace, key + "|summary"),
          std::string(kSourcesType) + "--" + Uuid5(kIdNamespace, key + "|sources")};
}

bool IsTelescopeType(std::string_view type) { return type == kSummaryType || type == kSourcesType; }

json::object ExtensionDefinition(const std::string& producer_identity) {
  return json::object{
      {"type", "extension-definition"},
      {"spec_version", "2.1"},
      {"id", kExtensionId},
      {"created", kDefinitionCreated},
      {"modified", kDefinitionCreated},
      {"created_by_ref", producer_identity},
      {"name", "kizuna telescope interval"},
      {"description",
       "Darknet sensor summaries shared between kizuna nodes (TSUBAME-style "
       "traffic trends)"},
      {"schema", kSchemaText},
      {"version", "1.0"},
      {"extension_types", json::array{"new-sdo"}},
      {"object_marking_refs", json::array{json::string(stix::TlpMarkingId(stix::Tlp::kClear))}}};
}

IntervalObjects MakeIntervalObjects(const sensor::WireInterval& interval,
                                    const std::string& producer_identity, stix::Tlp summary_tlp,
                                    stix::Tlp sources_tlp) {
  const auto [summary_id, sources_id] = IntervalIds(producer_identity, interval);
  // Deterministic, so that the same interval is the same version.
  const std::string time = FormatTimestamp((interval.start_s + interval.seconds) * 1000000, 3);

  sensor::WireInterval shared;
  shared.sensor = interval.sensor;
  shared.start_s = interval.start_s;
  shared.seconds = interval.seconds;
  shared.part = interval.part;
  shared.packets = interval.packets;
  shared.first_us = interval.first_us;
  shared.last_us = interval.last_us;
  shared.fingerprint_rules = interval.fingerprint_rules;
  shared.sources = interval.sources.AsSketch();
  shared.ports.reserve(interval.ports.size());
  for (const auto& p : interval.ports) {
    shared.ports.push_back({p.proto, p.port, p.packets, p.sources.AsSketch()});
  }
  shared.other_ports = interval.other_ports;
  shared.other_port_packets = interval.other_port_packets;
  for (const auto& [name, set] : interval.classes) shared.classes[name] = set.AsSketch();
  for (const auto& [name, set] : interval.fingerprints) shared.fingerprints[name] = set.AsSketch();

  IntervalObjects out;
  out.summary = sensor::WireObject(shared);
  out.summary.erase("top_sources");
  AddCommon(out.summary, kSummaryType, summary_id, time, producer_identity, summary_tlp);
  out.sources = sensor::WireObject(interval);
  AddCommon(out.sources, kSourcesType, sources_id, time, producer_identity, sources_tlp);
  out.sources["summary_ref"] = summary_id;
  return out;
}

Result<ParsedObject> ParseIntervalObject(const json::object& object) {
  ParsedObject out;
  const json::value* type = object.if_contains("type");
  const json::value* id = object.if_contains("id");
  if (type == nullptr || !type->is_string() || id == nullptr || !id->is_string()) {
    return InvalidArgument("telescope object: no type or id");
  }
  out.is_sources = type->get_string() == kSourcesType;
  if (!out.is_sources && type->get_string() != kSummaryType) {
    return InvalidArgument("telescope object: not a telescope type");
  }
  if (out.is_sources) {
    const json::value* ref = object.if_contains("summary_ref");
    if (ref == nullptr || !ref->is_string() ||
        !std::string_view(ref->get_string()).starts_with(std::string(kSummaryType) + "--")) {
      return InvalidArgument("telescope object: summary_ref missing");
    }
    out.summary_id = ref->get_string();
  } else {
    out.summary_id = id->get_string();
  }
  if (const json::value* by = object.if_contains("created_by_ref"); by && by->is_string()) {
    out.producer = by->get_string();
  }
  KIZUNA_ASSIGN_OR_RETURN(out.interval, sensor::DecodeWireObject(object, out.is_sources));
  // The ids follow from what the object says it is: an object cannot stand
  // in for another producer's, sensor's or minute's interval.
  const auto [summary_id, sources_id] = IntervalIds(out.producer, out.interval);
  if (out.summary_id != summary_id ||
      std::string_view(id->get_string()) != (out.is_sources ? sources_id : summary_id)) {
    return InvalidArgument(
        "telescope object: its id is not its producer's, sensor's, start's and part's");
  }
  return out;
}

}  // namespace kizuna::telescope
