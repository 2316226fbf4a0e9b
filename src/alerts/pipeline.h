// Observations to events: each observation is enriched (IP -> ASN, AS
// name, announced prefix, country, from the node's geo datasets), routed to
// its recipient (recipients.h), and folded into an event — one per
// (recipient, ip, port, protocol, taxonomy, type, identifier, day seen) —
// whose count, first and last seen grow with every repeat. Events are kept
// in alerts.db (alerts_db.h) in batches: memory stays bounded by the batch,
// whatever the input's size.
//
// What the feed itself claims (a Shadowserver row's asn and geo) is used
// only where the datasets know nothing: the datasets are the node's
// reference, and their version is recorded with each event.
//
// Thread-safety: an Ingester is used by one thread; it takes the database's
// lock for each batch it writes. Ownership: it refers to the database, the
// geo data and the route table, which must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/observation.h"
#include "alerts/readers.h"
#include "alerts/recipients.h"
#include "geo/geo.h"

namespace kizuna::alerts {

struct Enrichment {
  uint32_t asn = 0;
  std::string as_name;
  std::string country;
  std::string prefix;
};
// The datasets' answer for `ip`, completed by the feed's own claims where
// the datasets know nothing. `geo` may be null (no datasets loaded).
Enrichment Enrich(const geo::GeoDb* geo, const Observation& observation);

// The stable id of an event key (shown as EventIdHex). The key holds the
// observation's origin and TLP too: what came from different producers or
// under different markings is never folded into one event, so an event's
// marking is that of everything counted in it.
int64_t EventId(std::string_view recipient, std::string_view origin, stix::Tlp tlp,
                const Observation& observation);

struct IngestOptions {
  // Who produced the observations: "" for this node's own (files, its
  // users, its telescope), a partner's peer name for what federation
  // brought (the sharing decision on delivery needs it).
  std::string origin;
  // The marking the observations carry (their source's TLP).
  stix::Tlp tlp = stix::Tlp::kAmber;
  int64_t now_us = 0;  // when they were received
  // Observations folded in memory before a batch is written.
  size_t batch = 200000;
};

struct IngestStats {
  int64_t observations = 0;
  int64_t new_events = 0;                        // events that did not exist before
  int64_t merged = 0;                            // observations folded into an existing event
  int64_t unrouted = 0;                          // no recipient (and no fallback)
  std::map<std::string, int64_t> per_recipient;  // observations routed to each
};

class Ingester {
 public:
  Ingester(AlertsDb& db, const geo::GeoDb* geo, const RouteTable& routes, IngestOptions options);

  // Enriches, routes and folds one observation; writes a batch when full.
  Status Add(const Observation& observation);
  // Writes what is folded (call once at the end; Add may follow).
  Status Flush();

  const IngestStats& stats() const { return stats_; }

 private:
  struct PendingEvent {
    int recipient = -1;
    std::string route;
    Observation first;  // the first observation folded (its fields and evidence)
    Enrichment enrichment;
    int64_t first_seen = 0, last_seen = 0, count = 0;
  };

  AlertsDb& db_;
  const geo::GeoDb* geo_;
  const RouteTable& routes_;
  const IngestOptions options_;
  std::string geo_version_;
  std::unordered_map<int64_t, PendingEvent> pending_;
  IngestStats stats_;
};

struct IngestResult {
  ReadSummary read;
  IngestStats stats;
};
// Reads observations from `input` (readers.h) and ingests them. A bad
// record is reported in read.errors and skipped; an input that cannot be
// read at all, or a database error, is an error (what was written before
// it stays: each batch is durable once written).
Result<IngestResult> IngestStream(AlertsDb& db, const geo::GeoDb* geo, const RouteTable& routes,
                                  std::istream& input, const ReadOptions& read_options,
                                  const IngestOptions& options);

}  // namespace kizuna::alerts
