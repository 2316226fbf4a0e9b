// Observations to events: each observation is enriched (IP -> ASN, AS
// name, announced prefix, country, from the node's geo datasets), routed to
// its recipient (recipients.h), and folded into an event — one per
// (recipient, ip, port, protocol, taxonomy, type, identifier, day seen) —
// whose count, first and last seen grow with every repeat until the event
// is in a report. Events are kept in alerts.db in chunks (event_chunks.h),
// written a batch at a time: memory stays bounded by the batch and the ids
// of the days the batch's events were seen on, whatever the input's size.
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
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/event_chunks.h"
#include "alerts/id_table.h"
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
  // A batch is written when it holds this many events, or this many bytes
  // of packed events, whichever comes first.
  size_t batch = 200000;
  size_t batch_bytes = 48u << 20;
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
  // Add for each observation, in order; their IPv4 addresses are looked up
  // together (GeoDb::LookupV4Batch), which is several times faster.
  Status AddAll(std::span<const Observation> observations);
  // Writes what is folded (call once at the end; Add may follow).
  Status Flush();

  IngestStats stats() const;

 private:
  // Events not written yet, packed as they arrive into chunks per
  // recipient (no copy of the observation is kept: a repeat only changes
  // its slot).
  struct PendingChunk {
    int recipient = -1;
    ChunkBuilder builder;
  };
  struct KnownChunk {
    int64_t rowid = 0;
    std::string recipient;
    int64_t received_us = 0;
  };

  // What Add works out of an observation before it looks at the tables of
  // events (route, id): AddAll keys a whole batch first, so that the tables'
  // loads for all of it are under way together.
  struct Keyed {
    Route route;
    uint32_t asn = 0;
    std::string_view country;
    EventSlot slot;
    std::string ip_text;
  };
  void Key(const Observation& observation, const geo::GeoAnswer& answer, Keyed* keyed);
  Status AddKeyed(const Observation& observation, const geo::GeoAnswer& answer, const Keyed& keyed);
  // Makes known_ hold every stored event of the days of the pending events.
  Status LoadKnownIds(store::sqlite::Connection& c);
  Status AddKnownChunk(int64_t rowid, std::string recipient, int64_t received_us,
                       std::string_view slots);

  AlertsDb& db_;
  const geo::GeoDb* geo_;
  const RouteTable& routes_;
  const IngestOptions options_;
  std::string geo_version_;
  std::string tlp_;
  std::vector<PendingChunk> pending_;
  std::vector<int> open_chunk_;  // per recipient index + 1: its pending_ chunk filling, or -1
  size_t pending_events_ = 0;
  size_t pending_bytes_ = 0;
  IdTable pending_index_;  // event id -> pending chunk << 32 | slot
  std::set<uint16_t> pending_days_;
  int last_pending_day_ = -1;  // the day last inserted into pending_days_
  IdTable known_;              // event id -> known chunk << 32 | slot (stored events)
  std::vector<KnownChunk> chunks_;
  // Repeats of stored events met in Add: (known_ place, the repeat).
  std::vector<std::pair<uint64_t, EventSlot>> stored_repeats_;
  std::set<uint16_t> known_days_;   // the days known_ is complete for
  std::vector<bool> known_day_;     // the same, by day (a lookup per observation)
  int64_t known_upto_ = -1;         // the last chunk rowid looked at
  std::string prefix_text_;         // reused
  std::vector<uint32_t> batch_v4_;  // AddAll's IPv4 addresses, reused
  std::vector<geo::GeoAnswer> batch_v4_answers_, batch_answers_;
  std::vector<Keyed> batch_keys_;
  IngestStats stats_;               // but per_recipient
  std::vector<int64_t> per_route_;  // observations routed, per recipient index + 1
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
