// Surges on the node: the detector (surge.h) run over the merged view of
// the busiest ports, which partner saw each first, and each surge recorded
// as STIX so it reaches the stream and the partners:
//   a report (the summary's marking) naming the port, metric, baseline,
//     observed value and who saw it first, referring to the intervals'
//     summaries and to
//   an observed-data of the surge's new sources (the sources' marking;
//     x_kizuna_observation "infected-host"): the addresses seen on the port
//     in the surge's first intervals but not in the day before, as ipv4-addr
//     / ipv6-addr objects, for alerting.
// Ids are derived from (producer, proto, port, metric, start): recording a
// surge again stores nothing new.
//
// Functions only; thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "node/node.h"
#include "telescope/module.h"
#include "telescope/series.h"
#include "telescope/surge.h"

namespace kizuna::telescope {

struct FoundSurge {
  sensor::PortProto proto;
  uint16_t port;
  Surge surge;
  std::string first_seen_by;  // "home", a partner's name, or "" when no single origin shows it
};

// Surges in what `visible` lets through: the `ports` busiest ports of the
// last day of the range (unbounded: the 8 days before the newest interval).
std::vector<FoundSurge> FindSurges(const TelescopeData& data, TelescopeData::Filter filter,
                                   const TelescopeData::Visible& visible, int ports);

// [{"proto", "port", "start", "end", "running", "metric", "baseline",
// "observed", "peak", "first_seen_by"}…]
boost::json::array SurgesJson(const std::vector<FoundSurge>& surges);

// Finds the home view's surges and stores the objects of each into the
// collection; new ones are logged and wake the bus.
Status RecordSurges(store::Store& store, const node::Node& node, const TelescopeData& data,
                    const std::string& collection_id, const TelescopeConfig& config,
                    bus::ChangeBus* bus);

}  // namespace kizuna::telescope
