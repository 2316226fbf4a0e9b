#include "alerts/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "alerts/event_chunks.h"
#include "common/time.h"

namespace kizuna::alerts {

namespace {

const std::string kNoRecipient;  // the unrouted events' chunks

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

namespace {

int64_t EventIdOf(std::string_view recipient, std::string_view origin, stix::Tlp tlp,
                  std::string_view ip_text, const Observation& o) {
  // Fields joined with a separator no field holds (0x1f, unit separator).
  uint64_t hash = 0xcbf29ce484222325ULL;
  char number[24];
  auto field = [&](std::string_view text) { hash = Fnv1a64(text, hash); };
  auto separator = [&] { hash = Fnv1a64("\x1f", hash); };
  field(recipient);
  separator();
  field(origin);
  separator();
  field(stix::TlpName(tlp));
  separator();
  field(ip_text);
  separator();
  auto [port_end, port_ec] = std::to_chars(number, number + sizeof number, int{o.port});
  field(std::string_view(number, static_cast<size_t>(port_end - number)));
  separator();
  field(o.protocol);
  separator();
  field(o.taxonomy);
  separator();
  field(o.type);
  separator();
  field(o.identifier);
  separator();
  auto [day_end, day_ec] = std::to_chars(number, number + sizeof number,
                                         o.time_us >= 0 ? o.time_us / kMicrosPerDay : int64_t{-1});
  field(std::string_view(number, static_cast<size_t>(day_end - number)));
  return static_cast<int64_t>(hash & 0x7FFFFFFFFFFFFFFFULL);
}

}  // namespace

int64_t EventId(std::string_view recipient, std::string_view origin, stix::Tlp tlp,
                const Observation& o) {
  return EventIdOf(recipient, origin, tlp, FormatHostAddress(o.ip), o);
}

Ingester::Ingester(AlertsDb& db, const geo::GeoDb* geo, const RouteTable& routes,
                   IngestOptions options)
    : db_(db),
      geo_(geo),
      routes_(routes),
      options_(std::move(options)),
      geo_version_(geo != nullptr ? geo->version() : ""),
      tlp_(stix::TlpName(options_.tlp)),
      open_chunk_(routes.recipients().size() + 1, -1),
      known_day_(0x10000, false),
      per_route_(routes.recipients().size() + 1, 0) {}

IngestStats Ingester::stats() const {
  IngestStats stats = stats_;
  for (size_t i = 1; i < per_route_.size(); ++i) {
    if (per_route_[i] != 0) stats.per_recipient[routes_.recipients()[i - 1].name] = per_route_[i];
  }
  return stats;
}

namespace {

uint16_t DayOf(int64_t time_us) {
  return static_cast<uint16_t>(std::clamp<int64_t>(time_us / kMicrosPerDay, 0, 0xFFFF));
}

uint64_t Place(size_t chunk, uint32_t slot) { return (uint64_t{chunk} << 32) | slot; }
size_t ChunkOf(uint64_t place) { return static_cast<size_t>(place >> 32); }
uint32_t SlotOf(uint64_t place) { return static_cast<uint32_t>(place & 0xFFFFFFFFu); }

// A repeat folded into an event: its times widen, its count and confidence grow.
void Fold(EventSlot& into, const EventSlot& repeat) {
  into.first_seen_us = std::min(into.first_seen_us, repeat.first_seen_us);
  into.last_seen_us = std::max(into.last_seen_us, repeat.last_seen_us);
  into.count =
      static_cast<int32_t>(std::min<int64_t>(int64_t{into.count} + repeat.count, INT32_MAX));
  into.confidence = std::max(into.confidence, repeat.confidence);
}

}  // namespace

Status Ingester::Add(const Observation& o) {
  // Enrich's answer, as views into the geo data (no copies per observation).
  geo::GeoAnswer answer;
  if (geo_ != nullptr) answer = o.ip.is_v6 ? geo_->LookupV6(o.ip.v6) : geo_->LookupV4(o.ip.v4);
  batch_keys_.resize(std::max<size_t>(batch_keys_.size(), 1));
  Key(o, answer, &batch_keys_[0]);
  return AddKeyed(o, answer, batch_keys_[0]);
}

Status Ingester::AddAll(std::span<const Observation> observations) {
  const size_t n = observations.size();
  batch_answers_.resize(n);
  if (geo_ != nullptr) {
    batch_v4_.clear();
    for (const Observation& o : observations) {
      if (!o.ip.is_v6) batch_v4_.push_back(o.ip.v4);
    }
    batch_v4_answers_.resize(batch_v4_.size());
    geo_->LookupV4Batch(batch_v4_.data(), batch_v4_.size(), batch_v4_answers_.data());
    size_t next_v4 = 0;
    for (size_t i = 0; i < n; ++i) {
      const Observation& o = observations[i];
      batch_answers_[i] = o.ip.is_v6 ? geo_->LookupV6(o.ip.v6) : batch_v4_answers_[next_v4++];
    }
  } else {
    std::fill(batch_answers_.begin(), batch_answers_.end(), geo::GeoAnswer());
  }
  batch_keys_.resize(std::max(batch_keys_.size(), n));
  for (size_t i = 0; i < n; ++i) {
    Key(observations[i], batch_answers_[i], &batch_keys_[i]);
    pending_index_.Prefetch(batch_keys_[i].slot.id);
    known_.Prefetch(batch_keys_[i].slot.id);
  }
  for (size_t i = 0; i < n; ++i) {
    KIZUNA_RETURN_IF_ERROR(AddKeyed(observations[i], batch_answers_[i], batch_keys_[i]));
  }
  return Status::Ok();
}

void Ingester::Key(const Observation& o, const geo::GeoAnswer& answer, Keyed* keyed) {
  ++stats_.observations;
  keyed->asn = answer.asn != 0 ? answer.asn : o.feed_asn;
  keyed->country = answer.country.empty() ? o.feed_country : answer.country;
  keyed->route = routes_.Find(o.ip, keyed->asn, keyed->country, o.hostname);
  const Route& route = keyed->route;
  const std::string& recipient =
      route.recipient >= 0 ? routes_.recipients()[route.recipient].name : kNoRecipient;
  if (route.recipient < 0) ++stats_.unrouted;
  ++per_route_[static_cast<size_t>(route.recipient + 1)];
  keyed->ip_text = FormatHostAddress(o.ip);
  EventSlot& slot = keyed->slot;
  slot = EventSlot();
  slot.id = EventIdOf(recipient, options_.origin, options_.tlp, keyed->ip_text, o);
  slot.last_seen_us = o.time_us;
  slot.first_seen_us =
      o.first_seen_us > 0 && o.first_seen_us < o.time_us ? o.first_seen_us : o.time_us;
  slot.count = static_cast<int32_t>(std::clamp<int64_t>(o.count, 1, INT32_MAX));
  slot.day = DayOf(o.time_us);
  slot.confidence = static_cast<uint8_t>(std::clamp(o.confidence, 0, 100));
}

Status Ingester::AddKeyed(const Observation& o, const geo::GeoAnswer& answer, const Keyed& keyed) {
  const Route& route = keyed.route;
  const EventSlot& slot = keyed.slot;
  if (std::optional<uint64_t> at = pending_index_.Find(slot.id)) {
    ++stats_.merged;
    Fold(pending_[ChunkOf(*at)].builder.slot(SlotOf(*at)), slot);
    return Status::Ok();
  }
  if (known_day_[slot.day]) {
    // A repeat of an event an earlier batch stored: folded into it at the
    // next Flush, never packed (a chunk with events dropped is packed again).
    if (std::optional<uint64_t> at = known_.Find(slot.id)) {
      ++stats_.merged;
      stored_repeats_.emplace_back(*at, slot);
      return stored_repeats_.size() >= options_.batch ? Flush() : Status::Ok();
    }
  }
  int& open = open_chunk_[static_cast<size_t>(route.recipient + 1)];
  if (open < 0 || pending_[static_cast<size_t>(open)].builder.size() >= kChunkEvents) {
    open = static_cast<int>(pending_.size());
    pending_.push_back(PendingChunk{route.recipient, ChunkBuilder()});
  }
  prefix_text_ = answer.prefix ? answer.prefix->ToString() : std::string();
  EventFields fields;
  fields.ip = keyed.ip_text;
  fields.port = o.port;
  fields.asn = keyed.asn;
  fields.protocol = o.protocol;
  fields.taxonomy = o.taxonomy;
  fields.type = o.type;
  fields.identifier = o.identifier;
  fields.family = o.family;
  fields.as_name = answer.as_name;
  fields.country = keyed.country;
  fields.prefix = prefix_text_;
  fields.hostname = o.hostname;
  fields.source = o.source;
  fields.origin = options_.origin;
  fields.tlp = tlp_;
  fields.route = route.rule_kind;
  fields.geo_version = geo_version_;
  fields.evidence = o.evidence;
  if (o.evidence_columns) fields.evidence_columns = *o.evidence_columns;
  ChunkBuilder& builder = pending_[static_cast<size_t>(open)].builder;
  const size_t bytes_before = builder.packed_bytes();
  const uint32_t index = builder.Add(slot, fields);
  pending_bytes_ += builder.packed_bytes() - bytes_before;
  pending_index_.Put(slot.id, Place(static_cast<size_t>(open), index));
  if (slot.day != last_pending_day_) {
    pending_days_.insert(slot.day);
    last_pending_day_ = slot.day;
  }
  if (++pending_events_ >= options_.batch || pending_bytes_ >= options_.batch_bytes) {
    return Flush();
  }
  return Status::Ok();
}

Status Ingester::AddKnownChunk(int64_t rowid, std::string recipient, int64_t received_us,
                               std::string_view slots_blob) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<EventSlot> slots, ReadSlots(slots_blob));
  const size_t chunk = chunks_.size();
  chunks_.push_back(KnownChunk{rowid, std::move(recipient), received_us});
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!known_day_[slots[i].day]) continue;
    known_.Put(slots[i].id, Place(chunk, static_cast<uint32_t>(i)));
  }
  return Status::Ok();
}

Status Ingester::LoadKnownIds(store::sqlite::Connection& c) {
  if (known_upto_ < 0) {
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement last,
                            c.Prepare("SELECT coalesce(max(rowid), 0) FROM event_chunks"));
    KIZUNA_ASSIGN_OR_RETURN(bool row, last.Step());
    known_upto_ = row ? last.ColumnInt(0) : 0;
  } else {
    // Chunks written since the last batch (ours, or another process's):
    // their events of the days already known.
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement later,
        c.Prepare("SELECT rowid, recipient, received, day_min, day_max, slots FROM event_chunks "
                  "WHERE rowid > ?1 ORDER BY rowid"));
    later.Bind(1, known_upto_);
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, later.Step());
      if (!row) break;
      known_upto_ = later.ColumnInt(0);
      auto day = known_days_.lower_bound(static_cast<uint16_t>(later.ColumnInt(3)));
      if (day == known_days_.end() || *day > later.ColumnInt(4)) continue;
      KIZUNA_RETURN_IF_ERROR(AddKnownChunk(later.ColumnInt(0), later.ColumnText(1),
                                           later.ColumnInt(2), later.ColumnBlob(5)));
    }
  }
  // Days first met in this batch: every chunk up to known_upto_ that may
  // hold events of them.
  for (uint16_t day : pending_days_) {
    if (!known_days_.insert(day).second) continue;
    known_day_[day] = true;
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement chunks,
        c.Prepare("SELECT rowid, recipient, received, slots FROM event_chunks WHERE day_min <= ?1 "
                  "AND day_max >= ?1 AND rowid <= ?2"));
    chunks.Bind(1, int64_t{day}).Bind(2, known_upto_);
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, chunks.Step());
      if (!row) break;
      // A chunk of several days may be read once per day; each time adds
      // only the events of the days known by then.
      KIZUNA_RETURN_IF_ERROR(AddKnownChunk(chunks.ColumnInt(0), chunks.ColumnText(1),
                                           chunks.ColumnInt(2), chunks.ColumnBlob(3)));
    }
  }
  return Status::Ok();
}

Status Ingester::Flush() {
  if (pending_.empty() && stored_repeats_.empty()) return Status::Ok();
  auto lock = db_.Lock();
  store::sqlite::Connection& c = db_.connection();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Transaction tx,
                          store::sqlite::Transaction::Begin(c, true));
  // Where each recipient's reports end: an event received before its
  // recipient's last cutoff is in a report (or was left out of one) and
  // never changes again; new events arrive at or after every cutoff, so
  // that no report already cut can miss them.
  std::unordered_map<std::string, int64_t> last_cutoff;
  int64_t received = options_.now_us;
  {
    KIZUNA_ASSIGN_OR_RETURN(
        store::sqlite::Statement cuts,
        c.Prepare("SELECT recipient, max(cutoff) FROM cuts GROUP BY recipient"));
    for (;;) {
      KIZUNA_ASSIGN_OR_RETURN(bool row, cuts.Step());
      if (!row) break;
      last_cutoff[cuts.ColumnText(0)] = cuts.ColumnInt(1);
      received = std::max(received, cuts.ColumnInt(1));
    }
  }
  KIZUNA_RETURN_IF_ERROR(LoadKnownIds(c));

  // Pending events that repeat a stored one: folded into it while it is
  // unreported (what a recipient was sent never changes), and dropped.
  std::map<size_t, std::vector<std::pair<uint32_t, EventSlot>>> repeats;  // by known chunk
  auto fold_into_stored = [&](uint64_t at, const EventSlot& repeat) {
    const KnownChunk& stored = chunks_[ChunkOf(at)];
    auto cut = last_cutoff.find(stored.recipient);
    if (cut == last_cutoff.end() || stored.received_us >= cut->second) {
      repeats[ChunkOf(at)].emplace_back(SlotOf(at), repeat);
    }
  };
  for (const auto& [at, repeat] : stored_repeats_) fold_into_stored(at, repeat);
  if (known_.size() > 0) {
    for (PendingChunk& chunk : pending_) {
      for (uint32_t i = 0; i < chunk.builder.size(); ++i) {
        const EventSlot& slot = chunk.builder.slots()[i];
        std::optional<uint64_t> at = known_.Find(slot.id);
        if (!at) continue;
        chunk.builder.Drop(i);
        ++stats_.merged;  // its first observation (the others were counted in Add)
        fold_into_stored(*at, slot);
      }
    }
  }
  for (const auto& [index, folds] : repeats) {
    const KnownChunk& chunk = chunks_[index];
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement read,
                            c.Prepare("SELECT slots FROM event_chunks WHERE rowid = ?1"));
    read.Bind(1, chunk.rowid);
    KIZUNA_ASSIGN_OR_RETURN(bool found, read.Step());
    if (!found) {
      return Internal("alerts.db: event chunk " + std::to_string(chunk.rowid) + " is gone");
    }
    KIZUNA_ASSIGN_OR_RETURN(std::vector<EventSlot> slots, ReadSlots(read.ColumnBlob(0)));
    read.Reset();
    for (const auto& [slot, repeat] : folds) {
      if (slot >= slots.size()) return Internal("alerts.db: an event's slot is gone");
      Fold(slots[slot], repeat);
    }
    KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement write,
                            c.Prepare("UPDATE event_chunks SET slots = ?1 WHERE rowid = ?2"));
    write.BindBlob(1, WriteSlots(slots)).Bind(2, chunk.rowid);
    KIZUNA_RETURN_IF_ERROR(write.Run());
  }
  // What this batch writes, to be known at once: a repeat in the next
  // batch is then folded in Add, not packed and dropped here (a chunk with
  // a dropped event is packed twice).
  struct Written {
    int64_t rowid;
    const std::string* recipient;
    std::string slots;
  };
  std::vector<Written> written;
  for (PendingChunk& chunk : pending_) {
    if (chunk.builder.kept() == 0) continue;
    stats_.new_events += static_cast<int64_t>(chunk.builder.kept());
    const std::string& recipient =
        chunk.recipient >= 0 ? routes_.recipients()[chunk.recipient].name : kNoRecipient;
    KIZUNA_ASSIGN_OR_RETURN(ChunkBuilder::Blobs blobs, chunk.builder.Finish());
    KIZUNA_ASSIGN_OR_RETURN(int64_t rowid, InsertChunk(c, recipient, received, blobs));
    written.push_back(Written{rowid, &recipient, std::move(blobs.slots)});
  }
  KIZUNA_RETURN_IF_ERROR(tx.Commit());
  // LoadKnownIds read every chunk up to known_upto_ in this transaction,
  // so the chunks after it are these.
  for (Written& chunk : written) {
    KIZUNA_RETURN_IF_ERROR(AddKnownChunk(chunk.rowid, *chunk.recipient, received, chunk.slots));
    known_upto_ = std::max(known_upto_, chunk.rowid);
  }
  pending_.clear();
  std::fill(open_chunk_.begin(), open_chunk_.end(), -1);
  pending_events_ = 0;
  pending_bytes_ = 0;
  pending_index_.Clear();
  pending_days_.clear();
  last_pending_day_ = -1;
  stored_repeats_.clear();
  return Status::Ok();
}

Result<IngestResult> IngestStream(AlertsDb& db, const geo::GeoDb* geo, const RouteTable& routes,
                                  std::istream& input, const ReadOptions& read_options,
                                  const IngestOptions& options) {
  Ingester ingester(db, geo, routes, options);
  Status failed = Status::Ok();
  // Observations are added a few dozen at a time (their lookups together).
  std::vector<Observation> batch(geo::kLookupBatch);
  size_t held = 0;
  ReadOptions raw_evidence = read_options;
  raw_evidence.evidence_as_record = true;  // kept as read (event_chunks.h)
  auto read = ReadObservations(input, raw_evidence, [&](Observation&& o) {
    if (!failed.ok()) return;
    batch[held++] = std::move(o);
    if (held == batch.size()) {
      failed = ingester.AddAll(batch);
      held = 0;
    }
  });
  if (!read.ok()) return read.status();
  KIZUNA_RETURN_IF_ERROR(failed);
  KIZUNA_RETURN_IF_ERROR(ingester.AddAll(std::span<const Observation>(batch.data(), held)));
  KIZUNA_RETURN_IF_ERROR(ingester.Flush());
  return IngestResult{std::move(*read), ingester.stats()};
}

}  // namespace kizuna::alerts
