#include "alerts/pipeline.h"

#include <spdlog/spdlog.h>

namespace kizuna::alerts {

namespace {

constexpr int64_t kDayMicros = 86400LL * 1000000;

uint64_t Fnv1a64(std::string_view bytes, uint64_t hash = 0xcbf29ce484222325ULL) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

Enrichment Enrich(const geo::GeoDb* geo, const Observation& o) {
  Enrichment e;
  if (geo != nullptr) {
    const geo::GeoAnswer answer = o.ip.is_v6 ? geo->LookupV6(o.ip.v6) : geo->LookupV4(o.ip.v4);
    e.asn = answer.asn;
    e.as_name = std::string(answer.as_name);
    e.country = std::string(answer.country);
    if (answer.prefix) e.prefix = answer.prefix->ToString();
  }
  if (e.asn == 0) e.asn = o.feed_asn;
  if (e.country.empty()) e.country = o.feed_country;
  return e;
}

int64_t EventId(std::string_view recipient, std::string_view origin, stix::Tlp tlp,
                const Observation& o) {
  // Fields joined with a separator no field holds (0x1f, unit separator).
  std::string key;
  key.reserve(96);
  key.append(recipient).push_back('\x1f');
  key.append(origin).push_back('\x1f');
  key.append(stix::TlpName(tlp)).push_back('\x1f');
  key.append(FormatHostAddress(o.ip)).push_back('\x1f');
  key.append(std::to_string(o.port)).push_back('\x1f');
  key.append(o.protocol).push_back('\x1f');
  key.append(o.taxonomy).push_back('\x1f');
  key.append(o.type).push_back('\x1f');
  key.append(o.identifier).push_back('\x1f');
  key.append(std::to_string(o.time_us >= 0 ? o.time_us / kDayMicros : -1));
  return static_cast<int64_t>(Fnv1a64(key) & 0x7FFFFFFFFFFFFFFFULL);
}

Ingester::Ingester(AlertsDb& db, const geo::GeoDb* geo, const RouteTable& routes,
                   IngestOptions options)
    : db_(db),
      geo_(geo),
      routes_(routes),
      options_(std::move(options)),
      geo_version_(geo != nullptr ? geo->version() : "") {}

Status Ingester::Add(const Observation& o) {
  ++stats_.observations;
  Enrichment enrichment = Enrich(geo_, o);
  const Route route = routes_.Find(o.ip, enrichment.asn, enrichment.country, o.hostname);
  const std::string& recipient =
      route.recipient >= 0 ? routes_.recipients()[route.recipient].name : std::string();
  if (route.recipient < 0) {
    ++stats_.unrouted;
  } else {
    ++stats_.per_recipient[recipient];
  }
  const int64_t id = EventId(recipient, options_.origin, options_.tlp, o);
  auto [it, inserted] = pending_.try_emplace(id);
  PendingEvent& event = it->second;
  if (inserted) {
    event.recipient = route.recipient;
    event.route = std::string(route.rule_kind);
    event.first = o;
    event.enrichment = std::move(enrichment);
    event.first_seen = event.last_seen = o.time_us;
  } else {
    ++stats_.merged;
    event.first_seen = std::min(event.first_seen, o.time_us);
    event.last_seen = std::max(event.last_seen, o.time_us);
    event.first.confidence = std::max(event.first.confidence, o.confidence);
  }
  ++event.count;
  if (pending_.size() >= options_.batch) return Flush();
  return Status::Ok();
}

Status Ingester::Flush() {
  if (pending_.empty()) return Status::Ok();
  auto lock = db_.Lock();
  store::sqlite::Connection& c = db_.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  const std::string tlp(stix::TlpName(options_.tlp));
  for (auto& [id, e] : pending_) {
    // An existing event (the same finding seen again) only grows, and only
    // until it is in a report: what a recipient was sent never changes.
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement statement,
        c.Prepare(
            "INSERT INTO events(id, recipient, received, day, ip, port, protocol, taxonomy, "
            "type, identifier, family, first_seen, last_seen, count, asn, as_name, country, "
            "prefix, hostname, source, origin, tlp, confidence, route, geo_version, "
            "evidence, report) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
            "?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,NULL) "
            "ON CONFLICT(id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
            "last_seen = max(last_seen, excluded.last_seen), count = count + excluded.count, "
            "confidence = max(confidence, excluded.confidence) WHERE report IS NULL "
            "RETURNING count"));
    const Observation& o = e.first;
    const std::string& recipient =
        e.recipient >= 0 ? routes_.recipients()[e.recipient].name : std::string();
    statement.Bind(1, id)
        .Bind(2, recipient)
        .Bind(3, options_.now_us)
        .Bind(4, o.time_us / kDayMicros * 86400)
        .Bind(5, FormatHostAddress(o.ip))
        .Bind(6, int64_t{o.port})
        .Bind(7, o.protocol)
        .Bind(8, o.taxonomy)
        .Bind(9, o.type)
        .Bind(10, o.identifier)
        .Bind(11, o.family)
        .Bind(12, e.first_seen)
        .Bind(13, e.last_seen)
        .Bind(14, e.count)
        .Bind(15, int64_t{e.enrichment.asn})
        .Bind(16, e.enrichment.as_name)
        .Bind(17, e.enrichment.country)
        .Bind(18, e.enrichment.prefix)
        .Bind(19, o.hostname)
        .Bind(20, o.source)
        .Bind(21, options_.origin)
        .Bind(22, tlp)
        .Bind(23, int64_t{o.confidence})
        .Bind(24, e.route)
        .Bind(25, geo_version_)
        .Bind(26, o.evidence);
    KIZUNA_ASSIGN_OR_RETURN(bool row, statement.Step());
    // The stored count is this batch's alone when the event is new.
    if (row && statement.ColumnInt(0) == e.count) ++stats_.new_events;
    KIZUNA_RETURN_IF_ERROR(statement.Run());
  }
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  pending_.clear();
  return Status::Ok();
}

Result<IngestResult> IngestStream(AlertsDb& db, const geo::GeoDb* geo, const RouteTable& routes,
                                  std::istream& input, const ReadOptions& read_options,
                                  const IngestOptions& options) {
  Ingester ingester(db, geo, routes, options);
  Status failed = Status::Ok();
  auto read = ReadObservations(input, read_options, [&](Observation&& o) {
    if (!failed.ok()) return;
    failed = ingester.Add(o);
  });
  if (!read.ok()) return read.status();
  KIZUNA_RETURN_IF_ERROR(failed);
  KIZUNA_RETURN_IF_ERROR(ingester.Flush());
  return IngestResult{std::move(*read), ingester.stats()};
}

}  // namespace kizuna::alerts
