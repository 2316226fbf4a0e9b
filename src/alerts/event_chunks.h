// How events are kept in alerts.db: in chunks, not a row each. A day's
// Shadowserver files are a million events; a row per event made SQLite's
// per-row work (a B-tree insert per row and per index, a table seek per row
// read back, an update per row reported) the whole cost of alerting. A chunk
// holds up to kChunkEvents events of one recipient that arrived together:
//
//   slots  one fixed 32-byte record per event, uncompressed: the event id,
//          first and last seen, count and confidence (what a repeat of the
//          finding changes, patched in place) and the day of the id;
//   data   the events' other fields, packed and compressed with zstd,
//          then their evidence in a second zstd frame, which what needs no
//          evidence skips (written once, never changed). Evidence read from
//          a CSV file is kept as the record and its columns (once a
//          chunk), and made JSON only when an event is unpacked with it.
//
// An event is (chunk, slot). Functions and value types only; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerts/report_format.h"
#include "common/status.h"

namespace kizuna::alerts {

inline constexpr size_t kChunkEvents = 16384;

// The mutable part of an event; the slots blob is an array of these
// (little-endian, as written by x86-64 and read back on the same host).
struct EventSlot {
  int64_t id = 0;
  int64_t first_seen_us = 0;
  int64_t last_seen_us = 0;
  int32_t count = 0;
  uint16_t day = 0;  // days since 1970 of the id (what repeats fold into)
  uint8_t confidence = 0;
  uint8_t reserved = 0;
};
static_assert(sizeof(EventSlot) == 32);

// The packed fields of an event (all but the slot's), as views: what the
// ingester packs straight from an observation, without copying it first.
struct EventFields {
  std::string_view ip;
  int64_t port = 0;
  int64_t asn = 0;
  std::string_view protocol, taxonomy, type, identifier, family, as_name, country, prefix, hostname,
      source, origin, tlp, route, geo_version, evidence;
  // Not empty: `evidence` is a CSV record of these columns (PackCsvColumns,
  // text.h), made JSON when unpacked.
  std::string_view evidence_columns;
};
EventFields FieldsOf(const EventRow& event);

// Builds one chunk: Add the events, then Finish for the two blobs. Slots
// may be changed until then (a repeat folded), and events dropped (a
// repeat of an event stored before).
class ChunkBuilder {
 public:
  static constexpr size_t kPackedStrings = 17;  // EventFields' string fields
  // Returns the event's slot index.
  uint32_t Add(const EventSlot& slot, const EventFields& fields);
  // `event` gives every field but recipient and received (the chunk's).
  uint32_t Add(const EventRow& event, uint16_t day);
  size_t size() const { return slots_.size(); }
  bool empty() const { return slots_.empty(); }
  EventSlot& slot(uint32_t index) { return slots_[index]; }
  const std::vector<EventSlot>& slots() const { return slots_; }
  // Leaves the event out of the chunk Finish writes.
  void Drop(uint32_t index);
  size_t kept() const { return slots_.size() - dropped_count_; }
  size_t packed_bytes() const { return packed_.size() + evidence_.size(); }

  struct Blobs {
    std::string slots;
    std::string data;  // zstd frame
    int64_t events = 0;
    uint16_t day_min = 0, day_max = 0;
  };
  // The chunk of the events not dropped (kept() > 0).
  Result<Blobs> Finish();

 private:
  std::vector<EventSlot> slots_;
  std::vector<uint32_t> offsets_;  // where each event starts in packed_
  std::vector<bool> dropped_;
  size_t dropped_count_ = 0;
  std::string packed_;
  std::string evidence_;  // the evidence fields, packed apart
  // Where the last value of each string field is in packed_ (or evidence_):
  // (offset, size).
  std::pair<uint32_t, uint32_t> last_[kPackedStrings] = {};
};

// The slots of a stored chunk (an error when the blob's size is not a
// multiple of the record's).
Result<std::vector<EventSlot>> ReadSlots(std::string_view blob);
std::string WriteSlots(const std::vector<EventSlot>& slots);

// Unpacks a chunk: calls `visit(slot_index, event)` for each event in slot
// order, with `event` a reused object (copy what outlives the call). The
// chunk's recipient and received fill those fields. Without
// `with_evidence`, events of chunks that keep it apart have none (their
// evidence is neither decompressed nor checked).
Status ForEachEvent(std::string_view slots_blob, std::string_view data_blob,
                    const std::string& recipient, int64_t received_us,
                    const std::function<Status(size_t, const EventRow&)>& visit,
                    bool with_evidence = true);

// A set of slot indexes (the events of a chunk a report left out), as
// varint deltas.
std::string EncodeSlotList(const std::vector<uint32_t>& sorted_slots);
Result<std::vector<uint32_t>> DecodeSlotList(std::string_view blob);

// Suppression's memory: the findings (ip, type, identifier) reported to a
// recipient and when last, kept as one blob per recipient of entries sorted
// by key (a 64-bit hash of the finding), pruned of those too old to
// suppress anything.
struct FindingEntry {
  uint64_t key = 0;
  int64_t last_reported_us = 0;
};
uint64_t FindingKey(std::string_view ip, std::string_view type, std::string_view identifier);
std::string WriteFindings(const std::vector<FindingEntry>& sorted);
Result<std::vector<FindingEntry>> ReadFindings(std::string_view blob);

}  // namespace kizuna::alerts
