#include "alerts/event_chunks.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "alerts/text.h"

namespace kizuna::alerts {

namespace {

// zstd's fastest regular level: the data is JSON and CSV-like text with
// much repetition (field names, AS names, prefixes), which level 1 shrinks
// about five times at several hundred MB/s.
constexpr int kZstdLevel = 1;
// A chunk's packed events never unpack to more than this (a guard against a
// damaged or hostile blob claiming a huge size).
constexpr size_t kMaxPackedBytes = kChunkEvents * (16 * 1024 + 4096);

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Packing version 2: the packed bytes start with
// this header, and each string field is varint(size + 1) and its bytes, or
// a single 0 when it equals the previous event's value of that field — the
// fields an ingest gives every event alike (the dataset version alone is
// ~200 bytes) are packed once a chunk. Version 1 (no header; varint(size)
// and the bytes each time) is still read. A version-1 chunk cannot start
// with the header: its first field is an event's address, never empty.
constexpr size_t kPackedStrings = ChunkBuilder::kPackedStrings;
// The string fields every version packs in the first frame, in order: ip,
// then (after port and asn) protocol … geo_version.
constexpr size_t kCommonStrings = 15;
constexpr size_t kEvidenceColumns = 15;  // then the evidence: version 4's evidence frame
static_assert(kPackedStrings == kCommonStrings + 2);
constexpr std::string_view kPackingV2 = std::string_view("\0K\2", 3);
// Version 3 (what ChunkBuilder writes): as version 2, but the evidence is
// packed apart, in a second zstd frame after the first, so that what needs
// no evidence (a CSV report, the sharing decision) neither decompresses nor
// copies it: about three quarters of an event's packed bytes.
constexpr std::string_view kPackingV3 = std::string_view("\0K\3", 3);
// Version 4 (what ChunkBuilder writes): as version 3, but each event's
// evidence is two repeatable strings in the evidence frame: the columns of
// a CSV record (empty for JSON evidence; the same for a whole file, so one
// byte an event) and the record, or the JSON. A CSV record is about half
// the size of its JSON and costs nothing to keep.
constexpr std::string_view kPackingV4 = std::string_view("\0K\4", 3);

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) return false;
      const auto byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool String(std::string* s) {
    uint64_t n = 0;
    return Varint(&n) && Bytes(n, s);
  }
  // A version-2 string: `s` keeps the previous event's value on a 0, which
  // the first event may not use.
  bool Repeatable(std::string* s, bool first) {
    uint64_t n = 0;
    if (!Varint(&n)) return false;
    if (n == 0) return !first;
    return Bytes(n - 1, s);
  }
  bool Skip(std::string_view prefix) {
    if (rest_.substr(0, prefix.size()) != prefix) return false;
    rest_.remove_prefix(prefix.size());
    return true;
  }
  bool Int(int64_t* v) {
    uint64_t u = 0;
    if (!Varint(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool done() const { return rest_.empty(); }

 private:
  bool Bytes(uint64_t n, std::string* s) {
    if (n > rest_.size()) return false;
    s->assign(rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }

  std::string_view rest_;
};

// One zstd frame, decompressed (an error when damaged, or when it claims
// more than a chunk can hold).
Result<std::string> Decompress(std::string_view frame) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > kMaxPackedBytes) {
    return Internal("alerts.db: a chunk's events are damaged (bad zstd frame)");
  }
  thread_local const std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(),
                                                                                ZSTD_freeDCtx);
  if (context == nullptr) return Internal("zstd: out of memory");
  std::string out(size, '\0');
  const size_t n =
      ZSTD_decompressDCtx(context.get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != size) {
    return Internal(std::string("alerts.db: a chunk's events are damaged: ") +
                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  return out;
}

// Calls `visit(i, event)` for each of the `count` events packed in
// `packed` (any packing version), `event` a reused object whose fields
// other than the packed ones are left as they were. `evidence`: version
// 3's evidence, read only when `with_evidence` (else events have none).
Status UnpackEvents(std::string_view packed, std::string_view evidence, bool with_evidence,
                    size_t count, const std::function<Status(size_t, EventRow&)>& visit) {
  Reader in(packed);
  const int version = in.Skip(kPackingV4)   ? 4
                      : in.Skip(kPackingV3) ? 3
                      : in.Skip(kPackingV2) ? 2
                                            : 1;
  Reader evidence_in(evidence);
  EventRow e;
  std::string columns, record;  // version 4: a CSV record's evidence
  CsvEvidence csv;
  for (size_t i = 0; i < count; ++i) {
    const bool first = i == 0;
    std::string* strings[kCommonStrings] = {&e.ip,         &e.protocol, &e.taxonomy,   &e.type,
                                            &e.identifier, &e.family,   &e.as_name,    &e.country,
                                            &e.prefix,     &e.hostname, &e.source,     &e.origin,
                                            &e.tlp,        &e.route,    &e.geo_version};
    bool ok = true;
    for (size_t k = 0; ok && k < kCommonStrings; ++k) {
      if (k == 1) ok = in.Int(&e.port) && in.Int(&e.asn);
      if (!ok) break;
      ok = version >= 2 ? in.Repeatable(strings[k], first) : in.String(strings[k]);
    }
    if (ok && version <= 2) {
      ok = version == 2 ? in.Repeatable(&e.evidence, first) : in.String(&e.evidence);
    } else if (ok && with_evidence && version == 3) {
      ok = evidence_in.Repeatable(&e.evidence, first);
    } else if (ok && with_evidence) {
      ok = evidence_in.Repeatable(&columns, first) && evidence_in.Repeatable(&record, first);
      if (ok && columns.empty()) {
        e.evidence = record;
      } else if (ok) {
        ok = csv.Render(columns, record, &e.evidence);
      }
    }
    if (!ok) return Internal("alerts.db: a chunk's events are damaged (short record)");
    KIZUNA_RETURN_IF_ERROR(visit(i, e));
  }
  if (!in.done() || (version >= 3 && with_evidence && !evidence_in.done())) {
    return Internal("alerts.db: a chunk's events are damaged (extra bytes)");
  }
  return Status::Ok();
}

}  // namespace

EventFields FieldsOf(const EventRow& e) {
  EventFields f;
  f.ip = e.ip;
  f.port = e.port;
  f.asn = e.asn;
  f.protocol = e.protocol;
  f.taxonomy = e.taxonomy;
  f.type = e.type;
  f.identifier = e.identifier;
  f.family = e.family;
  f.as_name = e.as_name;
  f.country = e.country;
  f.prefix = e.prefix;
  f.hostname = e.hostname;
  f.source = e.source;
  f.origin = e.origin;
  f.tlp = e.tlp;
  f.route = e.route;
  f.geo_version = e.geo_version;
  f.evidence = e.evidence;
  return f;
}

uint32_t ChunkBuilder::Add(const EventSlot& slot, const EventFields& f) {
  const auto index = static_cast<uint32_t>(slots_.size());
  // Room for a typical chunk at once: growing by doubling copied each
  // chunk's bytes about twice over.
  if (slots_.empty()) {
    packed_.reserve(kChunkEvents / 4 * 128);
    evidence_.reserve(kChunkEvents / 4 * 384);
    slots_.reserve(kChunkEvents / 4);
    packed_.append(kPackingV4);
  }
  const bool first = index == 0;
  slots_.push_back(slot);
  dropped_.push_back(false);
  offsets_.push_back(static_cast<uint32_t>(packed_.size()));
  const std::string_view strings[kPackedStrings] = {
      f.ip,          f.protocol,         f.taxonomy, f.type,   f.identifier, f.family, f.as_name,
      f.country,     f.prefix,           f.hostname, f.source, f.origin,     f.tlp,    f.route,
      f.geo_version, f.evidence_columns, f.evidence};
  for (size_t k = 0; k < kPackedStrings; ++k) {
    if (k == 1) {
      PutVarint(static_cast<uint64_t>(f.port), &packed_);
      PutVarint(static_cast<uint64_t>(f.asn), &packed_);
    }
    std::string& out = k >= kEvidenceColumns ? evidence_ : packed_;
    const std::string_view previous =
        first ? std::string_view() : std::string_view(out).substr(last_[k].first, last_[k].second);
    if (!first && strings[k] == previous) {
      out.push_back('\0');
      continue;
    }
    PutVarint(strings[k].size() + 1, &out);
    last_[k] = {static_cast<uint32_t>(out.size()), static_cast<uint32_t>(strings[k].size())};
    out.append(strings[k]);
  }
  return index;
}

uint32_t ChunkBuilder::Add(const EventRow& e, uint16_t day) {
  EventSlot slot;
  slot.id = e.id;
  slot.first_seen_us = e.first_seen_us;
  slot.last_seen_us = e.last_seen_us;
  slot.count = static_cast<int32_t>(std::min<int64_t>(e.count, INT32_MAX));
  slot.day = day;
  slot.confidence = static_cast<uint8_t>(std::clamp<int64_t>(e.confidence, 0, 100));
  return Add(slot, FieldsOf(e));
}

void ChunkBuilder::Drop(uint32_t index) {
  if (index < dropped_.size() && !dropped_[index]) {
    dropped_[index] = true;
    ++dropped_count_;
  }
}

Result<ChunkBuilder::Blobs> ChunkBuilder::Finish() {
  if (dropped_count_ > 0) {
    // A kept event may name a dropped one's values ("as the previous
    // event"): the kept events are packed again, on their own.
    ChunkBuilder kept;
    KIZUNA_RETURN_IF_ERROR(
        UnpackEvents(packed_, evidence_, true, slots_.size(), [&](size_t i, const EventRow& e) {
          if (!dropped_[i]) kept.Add(slots_[i], FieldsOf(e));
          return Status::Ok();
        }));
    return kept.Finish();
  }
  Blobs blobs;
  uint16_t day_min = 0xFFFF, day_max = 0;
  for (const EventSlot& slot : slots_) {
    day_min = std::min(day_min, slot.day);
    day_max = std::max(day_max, slot.day);
  }
  blobs.events = static_cast<int64_t>(slots_.size());
  blobs.day_min = day_min;
  blobs.day_max = day_max;
  blobs.slots = WriteSlots(slots_);
  // A context per thread, reused: a fresh one per chunk allocated and
  // cleared its tables every time.
  thread_local const std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> context(ZSTD_createCCtx(),
                                                                                ZSTD_freeCCtx);
  if (context == nullptr) return Internal("zstd: out of memory");
  blobs.data.resize(ZSTD_compressBound(packed_.size()) + ZSTD_compressBound(evidence_.size()));
  size_t at = 0;
  for (const std::string* part : {&packed_, &evidence_}) {
    const size_t n =
        ZSTD_compressCCtx(context.get(), blobs.data.data() + at, blobs.data.size() - at,
                          part->data(), part->size(), kZstdLevel);
    if (ZSTD_isError(n)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
    at += n;
  }
  blobs.data.resize(at);
  return blobs;
}

Result<std::vector<EventSlot>> ReadSlots(std::string_view blob) {
  if (blob.size() % sizeof(EventSlot) != 0) {
    return Internal("alerts.db: a chunk's slots are damaged (" + std::to_string(blob.size()) +
                    " bytes)");
  }
  std::vector<EventSlot> slots(blob.size() / sizeof(EventSlot));
  if (!blob.empty()) std::memcpy(slots.data(), blob.data(), blob.size());
  return slots;
}

std::string WriteSlots(const std::vector<EventSlot>& slots) {
  return std::string(reinterpret_cast<const char*>(slots.data()), slots.size() * sizeof(EventSlot));
}

Status ForEachEvent(std::string_view slots_blob, std::string_view data_blob,
                    const std::string& recipient, int64_t received_us,
                    const std::function<Status(size_t, const EventRow&)>& visit,
                    bool with_evidence) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<EventSlot> slots, ReadSlots(slots_blob));
  const size_t first_frame = ZSTD_findFrameCompressedSize(data_blob.data(), data_blob.size());
  if (ZSTD_isError(first_frame)) {
    return Internal("alerts.db: a chunk's events are damaged (bad zstd frame)");
  }
  KIZUNA_ASSIGN_OR_RETURN(std::string packed, Decompress(data_blob.substr(0, first_frame)));
  const std::string_view evidence_frame = data_blob.substr(first_frame);
  const bool two_frames = packed.starts_with(kPackingV3) || packed.starts_with(kPackingV4);
  if (!two_frames && !evidence_frame.empty()) {
    return Internal("alerts.db: a chunk's events are damaged (a frame too many)");
  }
  std::string evidence;
  if (with_evidence && !evidence_frame.empty()) {
    KIZUNA_ASSIGN_OR_RETURN(evidence, Decompress(evidence_frame));
  }
  return UnpackEvents(packed, evidence, with_evidence, slots.size(), [&](size_t i, EventRow& e) {
    const EventSlot& slot = slots[i];
    if (i == 0) {
      e.recipient = recipient;
      e.received_us = received_us;
    }
    e.id = slot.id;
    e.first_seen_us = slot.first_seen_us;
    e.last_seen_us = slot.last_seen_us;
    e.count = slot.count;
    e.confidence = slot.confidence;
    return visit(i, e);
  });
}

std::string EncodeSlotList(const std::vector<uint32_t>& sorted_slots) {
  std::string out;
  uint32_t previous = 0;
  for (uint32_t s : sorted_slots) {
    PutVarint(s - previous, &out);
    previous = s;
  }
  return out;
}

Result<std::vector<uint32_t>> DecodeSlotList(std::string_view blob) {
  std::vector<uint32_t> out;
  Reader in(blob);
  uint64_t at = 0;
  while (!in.done()) {
    uint64_t delta = 0;
    if (!in.Varint(&delta) || at + delta > UINT32_MAX) {
      return Internal("alerts.db: a report's list of left-out events is damaged");
    }
    at += delta;
    out.push_back(static_cast<uint32_t>(at));
  }
  return out;
}

uint64_t FindingKey(std::string_view ip, std::string_view type, std::string_view identifier) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::string_view part : {ip, type, identifier}) {
    for (unsigned char c : part) {
      hash ^= c;
      hash *= 0x100000001b3ULL;
    }
    hash ^= 0x1f;  // a separator no field holds
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string WriteFindings(const std::vector<FindingEntry>& sorted) {
  static_assert(sizeof(FindingEntry) == 16);
  return std::string(reinterpret_cast<const char*>(sorted.data()),
                     sorted.size() * sizeof(FindingEntry));
}

Result<std::vector<FindingEntry>> ReadFindings(std::string_view blob) {
  if (blob.size() % sizeof(FindingEntry) != 0) {
    return Internal("alerts.db: a recipient's reported findings are damaged");
  }
  std::vector<FindingEntry> out(blob.size() / sizeof(FindingEntry));
  if (!blob.empty()) std::memcpy(out.data(), blob.data(), blob.size());
  return out;
}

}  // namespace kizuna::alerts
