#include "alerts/event_chunks.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

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

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

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
    if (!Varint(&n) || n > rest_.size()) return false;
    s->assign(rest_.data(), n);
    rest_.remove_prefix(n);
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
  std::string_view rest_;
};

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
    packed_.reserve(kChunkEvents / 4 * 512);
    slots_.reserve(kChunkEvents / 4);
  }
  slots_.push_back(slot);
  dropped_.push_back(false);
  offsets_.push_back(static_cast<uint32_t>(packed_.size()));
  PutString(f.ip, &packed_);
  PutVarint(static_cast<uint64_t>(f.port), &packed_);
  PutVarint(static_cast<uint64_t>(f.asn), &packed_);
  for (std::string_view s :
       {f.protocol, f.taxonomy, f.type, f.identifier, f.family, f.as_name, f.country, f.prefix,
        f.hostname, f.source, f.origin, f.tlp, f.route, f.geo_version, f.evidence}) {
    PutString(s, &packed_);
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
  Blobs blobs;
  std::vector<EventSlot> kept;
  kept.reserve(this->kept());
  std::string compacted;
  std::string_view packed = packed_;
  if (dropped_count_ > 0) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (dropped_[i]) continue;
      const size_t end = i + 1 < offsets_.size() ? offsets_[i + 1] : packed_.size();
      compacted.append(packed_, offsets_[i], end - offsets_[i]);
    }
    packed = compacted;
  }
  uint16_t day_min = 0xFFFF, day_max = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (dropped_[i]) continue;
    kept.push_back(slots_[i]);
    day_min = std::min(day_min, slots_[i].day);
    day_max = std::max(day_max, slots_[i].day);
  }
  blobs.events = static_cast<int64_t>(kept.size());
  blobs.day_min = day_min;
  blobs.day_max = day_max;
  blobs.slots = WriteSlots(kept);
  blobs.data.resize(ZSTD_compressBound(packed.size()));
  const size_t n =
      ZSTD_compress(blobs.data.data(), blobs.data.size(), packed.data(), packed.size(), kZstdLevel);
  if (ZSTD_isError(n)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  blobs.data.resize(n);
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
                    const std::function<Status(size_t, const EventRow&)>& visit) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<EventSlot> slots, ReadSlots(slots_blob));
  const unsigned long long size = ZSTD_getFrameContentSize(data_blob.data(), data_blob.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > kMaxPackedBytes) {
    return Internal("alerts.db: a chunk's events are damaged (bad zstd frame)");
  }
  std::string packed(size, '\0');
  const size_t n =
      ZSTD_decompress(packed.data(), packed.size(), data_blob.data(), data_blob.size());
  if (ZSTD_isError(n) || n != size) {
    return Internal(std::string("alerts.db: a chunk's events are damaged: ") +
                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  Reader in(packed);
  EventRow e;
  e.recipient = recipient;
  e.received_us = received_us;
  for (size_t i = 0; i < slots.size(); ++i) {
    const EventSlot& slot = slots[i];
    e.id = slot.id;
    e.first_seen_us = slot.first_seen_us;
    e.last_seen_us = slot.last_seen_us;
    e.count = slot.count;
    e.confidence = slot.confidence;
    bool ok = in.String(&e.ip) && in.Int(&e.port) && in.Int(&e.asn);
    for (std::string* s : {&e.protocol, &e.taxonomy, &e.type, &e.identifier, &e.family, &e.as_name,
                           &e.country, &e.prefix, &e.hostname, &e.source, &e.origin, &e.tlp,
                           &e.route, &e.geo_version, &e.evidence}) {
      ok = ok && in.String(s);
    }
    if (!ok) return Internal("alerts.db: a chunk's events are damaged (short record)");
    KIZUNA_RETURN_IF_ERROR(visit(i, e));
  }
  if (!in.done()) return Internal("alerts.db: a chunk's events are damaged (extra bytes)");
  return Status::Ok();
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
