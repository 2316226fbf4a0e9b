#include "telescope/breakdown.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

namespace kizuna::telescope {

namespace json = boost::json;

namespace {

std::vector<BreakdownRow> Busiest(std::map<std::string, BreakdownRow> rows, size_t top) {
  std::vector<BreakdownRow> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) out.push_back(std::move(row));
  std::sort(out.begin(), out.end(), [](const BreakdownRow& a, const BreakdownRow& b) {
    return a.sources != b.sources ? a.sources > b.sources : a.key < b.key;
  });
  if (out.size() > top) out.resize(top);
  return out;
}

}  // namespace

Breakdown SourcesBreakdown(const std::vector<Slice>& slices, const geo::GeoDb& geo,
                           std::optional<uint32_t> port, size_t top) {
  Breakdown out;
  SourceUnion sources;
  for (const Slice& slice : slices) {
    const StoredInterval& interval = *slice.interval;
    if (!slice.addresses || !interval.exact) {
      ++out.counted_only;
      continue;
    }
    if (!port) {
      sources.Add(slice.interval, interval.sources);
      continue;
    }
    for (const StoredInterval::Port& p : interval.ports) {
      if (PortKey(p.proto, p.port) == *port) sources.Add(slice.interval, p.sources);
    }
  }
  std::map<std::string, BreakdownRow> countries, asns;
  auto place = [&](const geo::GeoAnswer& answer) {
    ++out.sources;
    if (answer.country.empty()) {
      ++out.unplaced;
    } else {
      BreakdownRow& row = countries[std::string(answer.country)];
      row.key = std::string(answer.country);
      ++row.sources;
    }
    if (answer.asn == 0) {
      ++out.unrouted;
    } else {
      const std::string key = "AS" + std::to_string(answer.asn);
      BreakdownRow& row = asns[key];
      row.key = key;
      row.name = std::string(answer.as_name);
      ++row.sources;
    }
  };
  for (uint32_t address : sources.v4()) place(geo.LookupV4(address));
  for (const sensor::Ipv6Address& address : sources.v6()) place(geo.LookupV6(address));
  out.countries = Busiest(std::move(countries), top);
  out.asns = Busiest(std::move(asns), top);
  out.geo_version = geo.version();
  return out;
}

json::object BreakdownJson(const Breakdown& b) {
  json::array countries;
  for (const BreakdownRow& r : b.countries) {
    countries.push_back(json::object{{"country", r.key}, {"sources", r.sources}});
  }
  json::array asns;
  for (const BreakdownRow& r : b.asns) {
    asns.push_back(json::object{
        {"asn", std::stoull(r.key.substr(2))}, {"as_name", r.name}, {"sources", r.sources}});
  }
  return json::object{{"sources", b.sources},         {"unplaced", b.unplaced},
                      {"unrouted", b.unrouted},       {"counted_only", b.counted_only},
                      {"geo_dataset", b.geo_version}, {"countries", std::move(countries)},
                      {"asns", std::move(asns)}};
}

}  // namespace kizuna::telescope
