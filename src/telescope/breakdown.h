// The telescope's sources by country and by AS: the distinct source
// addresses of a time range (of one port, or of all), each placed by the
// node's geolocation data (geo/geo.h, loaded by `kizuna geo load`). Only
// intervals whose addresses the reader may see count (a summary carries
// none); how many sources stayed unplaced, and how many intervals gave
// counts only, is said beside the breakdown.
//
// Functions only; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "geo/geo.h"
#include "telescope/series.h"

namespace kizuna::telescope {

struct BreakdownRow {
  std::string key;   // "JP", or "AS4713"
  std::string name;  // the AS's name ("" for countries)
  uint64_t sources = 0;
};

struct Breakdown {
  uint64_t sources = 0;                       // distinct sources with addresses here
  uint64_t unplaced = 0;                      // of those, with no country known
  uint64_t unrouted = 0;                      // of those, with no AS known
  uint64_t counted_only = 0;                  // intervals that gave counts, not addresses
  std::vector<BreakdownRow> countries, asns;  // most sources first, at most `top` each
  std::string geo_version;
};

// `port`: PortKey(proto, port) for one port, nullopt for every source.
Breakdown SourcesBreakdown(const std::vector<Slice>& slices, const geo::GeoDb& geo,
                           std::optional<uint32_t> port, size_t top);

// {"sources", "unplaced", "unrouted", "counted_only", "geo_dataset",
//  "countries": [{"country", "sources"}…], "asns": [{"asn", "as_name", "sources"}…]}
boost::json::object BreakdownJson(const Breakdown& breakdown);

}  // namespace kizuna::telescope
