// The telescope's views as JSON, one shape for the REST API and the CLI
// (`kizuna telescope top|sensors|series|surges`), and the time-range
// arguments both take. Functions only; thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string_view>

#include "common/status.h"
#include "telescope/series.h"

namespace kizuna::telescope {

// `since`/`until`: RFC 3339, or a duration back from the newest interval
// held ("90m", "24h", "7d"); empty: unbounded. Fills filter's range.
Status ParseRange(std::string_view since, std::string_view until, int64_t newest_start_s,
                  TelescopeData::Filter* filter);
Result<std::pair<sensor::PortProto, uint16_t>> ParsePort(std::string_view proto,
                                                         std::string_view port);

// {"intervals", "packets", "sources", "exact", "first", "last", "classes",
// "fingerprints", "ports": [{"proto", "port", "packets", "sources",
// "exact"}…], "top_sources": [{"address", "packets", "intervals", "first",
// "last", "fingerprints", "sensors"}…]}
boost::json::object TopJson(const std::vector<Slice>& slices, size_t top);
// [{"origin", "sensor", "intervals", "packets", "first", "last", "exact"}…]
boost::json::array SensorsJson(const std::vector<Slice>& slices);
// [{"start", "packets", "sources", "exact"}…]
boost::json::array SeriesJson(const std::vector<PortPoint>& points);
// A human-readable table of TopJson's content.
std::string TopText(const boost::json::object& top);

}  // namespace kizuna::telescope
