// The telescope's data as STIX 2.1 objects, so that it is stored, federated
// and filtered by the sharing decision like any other intel, and a
// partner's other tools can read it (the published extension below).
//
// One uploaded interval becomes two objects of new types, each under its
// own marking:
//   x-kizuna-telescope-summary  per-port packets and distinct-source
//       counts with their sketches, classes, fingerprints; no address
//       (TLP:GREEN by default);
//   x-kizuna-telescope-sources  the same interval's exact source sets and
//       its busiest sources (TLP:AMBER by default).
// Their ids are UUIDv5 of (producer, sensor, start, part): an interval sent
// twice is the same object, stored once. Both carry the interval's fields
// under the names of the sensor's wire form (sensor/interval.h), so one
// parser reads an upload, a summary and a sources object.
//
// Functions only; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "common/status.h"
#include "sensor/interval.h"
#include "stix/stix.h"
#include "store/store.h"

namespace kizuna::telescope {

inline constexpr std::string_view kSummaryType = "x-kizuna-telescope-summary";
inline constexpr std::string_view kSourcesType = "x-kizuna-telescope-sources";
// The extension-definition both types name (extension_type "new-sdo").
inline constexpr std::string_view kExtensionId =
    "extension-definition--5d0c7e2a-6b1f-4c3e-9a57-1f2b8e3d4c60";
// The extension-definition object itself (schema: a plain-text definition
// of both types), TLP:CLEAR; the node stores it beside the data.
boost::json::object ExtensionDefinition(const std::string& producer_identity);

struct IntervalObjects {
  boost::json::object summary;
  boost::json::object sources;
};
// The ids of an interval's summary and sources objects.
std::pair<std::string, std::string> IntervalIds(const std::string& producer_identity,
                                                const sensor::WireInterval& interval);

// The two objects for `interval`, produced by `producer_identity` (the
// node's identity id), marked `summary_tlp` and `sources_tlp`.
IntervalObjects MakeIntervalObjects(const sensor::WireInterval& interval,
                                    const std::string& producer_identity, stix::Tlp summary_tlp,
                                    stix::Tlp sources_tlp);

// One stored telescope object read back: the interval (sets exact in a
// sources object, counts and sketches in a summary), which kind, the id of
// the summary it belongs to, and its producer.
struct ParsedObject {
  bool is_sources = false;
  std::string summary_id;
  std::string producer;
  sensor::WireInterval interval;
};
Result<ParsedObject> ParseIntervalObject(const boost::json::object& object);
bool IsTelescopeType(std::string_view type);

}  // namespace kizuna::telescope
