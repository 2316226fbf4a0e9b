// The joined file (geo/joined.kgeo): both layers joined, written once and
// mapped by every GeoDb::Open after.
#include <bit>
#include <cstring>

#include "geo/internal.h"

namespace kizuna::geo::internal {

namespace {

constexpr std::string_view kJoinedMagic = "KZGEOJND";
// Raise with any change to what is written.
constexpr uint32_t kJoinedFormat = 1;
// The arrays are the structs as this build lays them out: a file from a
// build that lays them out otherwise is joined again, not misread.
constexpr uint32_t kLayout = sizeof(JoinedSegment<uint32_t>) | sizeof(JoinedSegment<U128>) << 8 |
                             alignof(U128) << 16 |
                             (std::endian::native == std::endian::little ? 1u : 2u) << 24;
constexpr size_t kAlign = 64;  // each array starts on a cache line

struct JoinedHeader {
  char magic[8];
  uint32_t format;
  uint32_t layout;
  uint64_t checksum;  // of everything after the header
  uint64_t layer_checksums[kLayerKinds];
  uint64_t meta_size;  // the SnapshotWriter part right after the header
  uint64_t reserved[2];
};
static_assert(sizeof(JoinedHeader) == 64);

template <typename T>
uint64_t AppendAligned(std::string& out, std::span<const T> items) {
  out.resize((out.size() + kAlign - 1) / kAlign * kAlign, '\0');
  const uint64_t offset = out.size();
  out.append(reinterpret_cast<const char*>(items.data()), items.size_bytes());
  return offset;
}

struct ArrayPlace {
  uint64_t offset = 0, count = 0;
};

template <typename Key>
void WriteTableShape(correlation::internal::SnapshotWriter& w,
                     const TableView<Key, JoinedSegment<Key>>& table) {
  const U128 base = table.base;
  w.U64(static_cast<uint64_t>(base));
  w.U64(static_cast<uint64_t>(base >> 64));
  w.U32(static_cast<uint32_t>(table.index_bits));
  w.U32(static_cast<uint32_t>(table.shift));
}

template <typename T>
bool ReadArray(correlation::internal::SnapshotReader& r, std::string_view file,
               std::span<const T>* out) {
  ArrayPlace place;
  if (!r.U64(&place.offset) || !r.U64(&place.count)) return false;
  if (place.offset % alignof(T) != 0 || place.offset > file.size() ||
      place.count > (file.size() - place.offset) / sizeof(T)) {
    return false;
  }
  *out = std::span<const T>(reinterpret_cast<const T*>(file.data() + place.offset), place.count);
  return true;
}

template <typename Key>
bool ReadTable(correlation::internal::SnapshotReader& r, std::string_view file,
               std::string_view as_names, std::string_view countries,
               TableView<Key, JoinedSegment<Key>>* table) {
  uint64_t low = 0, high = 0;
  uint32_t index_bits = 0, shift = 0;
  if (!r.U64(&low) || !r.U64(&high) || !r.U32(&index_bits) || !r.U32(&shift)) return false;
  const U128 base = (U128(high) << 64) | low;
  if (static_cast<U128>(static_cast<Key>(base)) != base || index_bits < 1 ||
      index_bits > Table<Key>::kMaxIndexBits || shift >= TableView<Key>::kBits) {
    return false;
  }
  table->base = static_cast<Key>(base);
  table->index_bits = static_cast<int>(index_bits);
  table->shift = static_cast<int>(shift);
  if (!ReadArray(r, file, &table->segments) || !ReadArray(r, file, &table->probe) ||
      !ReadArray(r, file, &table->index)) {
    return false;
  }
  // What a lookup indexes with must stay inside the arrays.
  const size_t n = table->segments.size();
  if (table->probe.size() != n) return false;
  if (n == 0) return table->index.empty();
  if (table->index.size() != (size_t{1} << index_bits) + 1) return false;
  uint32_t previous = 0;
  for (uint32_t at : table->index) {
    if (at < previous || at > n) return false;
    previous = at;
  }
  for (const JoinedSegment<Key>& s : table->segments) {
    if (uint64_t{s.as_name_offset} + s.as_name_size > as_names.size() ||
        uint64_t{s.country_offset} + s.country_size > countries.size()) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string SerializeJoined(const JoinedParts& parts) {
  // The arrays after the metadata, which says where they are: laid out
  // first (from a 64-byte-aligned start), then placed.
  std::string arrays;
  ArrayPlace places[6];
  auto place = [&](auto items) { return ArrayPlace{AppendAligned(arrays, items), items.size()}; };
  places[0] = place(parts.v4.segments);
  places[1] = place(parts.v4.probe);
  places[2] = place(parts.v4.index);
  places[3] = place(parts.v6.segments);
  places[4] = place(parts.v6.probe);
  places[5] = place(parts.v6.index);
  auto write_meta = [&](uint64_t arrays_at) {
    correlation::internal::SnapshotWriter meta;
    for (size_t k = 0; k < kLayerKinds; ++k) {
      meta.U8(parts.layers[k] != nullptr ? 1 : 0);
      if (parts.layers[k] == nullptr) continue;
      WriteLayerInfo(meta, *parts.layers[k]);
      meta.U64(parts.ranges[k].first);
      meta.U64(parts.ranges[k].second);
    }
    meta.String(parts.as_names);
    meta.String(parts.countries);
    for (int table = 0; table < 2; ++table) {
      if (table == 0) {
        WriteTableShape(meta, parts.v4);
      } else {
        WriteTableShape(meta, parts.v6);
      }
      for (int i = 0; i < 3; ++i) {
        meta.U64(arrays_at + places[table * 3 + i].offset);
        meta.U64(places[table * 3 + i].count);
      }
    }
    return std::move(meta.bytes());
  };
  const size_t meta_size = write_meta(0).size();  // the same size wherever the arrays are
  const uint64_t arrays_at = (sizeof(JoinedHeader) + meta_size + kAlign - 1) / kAlign * kAlign;
  std::string out(arrays_at, '\0');
  const std::string meta = write_meta(arrays_at);
  std::memcpy(out.data() + sizeof(JoinedHeader), meta.data(), meta.size());
  out += arrays;

  JoinedHeader header{};
  std::memcpy(header.magic, kJoinedMagic.data(), sizeof header.magic);
  header.format = kJoinedFormat;
  header.layout = kLayout;
  for (size_t k = 0; k < kLayerKinds; ++k) {
    header.layer_checksums[k] = parts.layers[k] != nullptr ? parts.layers[k]->checksum : 0;
  }
  header.meta_size = meta_size;
  header.checksum =
      correlation::internal::Checksum64(std::string_view(out).substr(sizeof(JoinedHeader)));
  std::memcpy(out.data(), &header, sizeof header);
  return out;
}

Result<ParsedJoined> ParseJoined(std::string_view bytes,
                                 const std::array<uint64_t, kLayerKinds>& layer_checksums) {
  JoinedHeader header{};
  if (bytes.size() < sizeof header) return InvalidArgument("not a joined geo file");
  std::memcpy(&header, bytes.data(), sizeof header);
  if (std::string_view(header.magic, sizeof header.magic) != kJoinedMagic) {
    return InvalidArgument("not a joined geo file");
  }
  if (header.format != kJoinedFormat || header.layout != kLayout) {
    return FailedPrecondition("joined geo file of another format");
  }
  for (size_t k = 0; k < kLayerKinds; ++k) {
    if (header.layer_checksums[k] != layer_checksums[k]) {
      return FailedPrecondition("joined geo file of other layer files");
    }
  }
  const std::string_view payload = bytes.substr(sizeof header);
  if (correlation::internal::Checksum64(payload) != header.checksum ||
      header.meta_size > payload.size()) {
    return InvalidArgument("damaged joined geo file");
  }
  correlation::internal::SnapshotReader r(payload.substr(0, header.meta_size));
  ParsedJoined parsed;
  JoinedParts& parts = parsed.parts;
  auto damaged = [] { return InvalidArgument("damaged joined geo file"); };
  for (size_t k = 0; k < kLayerKinds; ++k) {
    uint8_t present = 0;
    if (!r.U8(&present) || present > 1) return damaged();
    if (present == 0) {
      if (layer_checksums[k] != 0) return damaged();
      continue;
    }
    Layer layer;
    layer.checksum = layer_checksums[k];
    if (!ReadLayerInfo(r, &layer) || static_cast<size_t>(layer.kind) != k ||
        !r.U64(&parts.ranges[k].first) || !r.U64(&parts.ranges[k].second)) {
      return damaged();
    }
    parsed.layers[k] = std::move(layer);
  }
  if (!r.Bytes(&parts.as_names) || !r.Bytes(&parts.countries)) return damaged();
  if (!ReadTable(r, bytes, parts.as_names, parts.countries, &parts.v4) ||
      !ReadTable(r, bytes, parts.as_names, parts.countries, &parts.v6) || !r.done()) {
    return damaged();
  }
  for (size_t k = 0; k < kLayerKinds; ++k) {
    parts.layers[k] = parsed.layers[k] ? &*parsed.layers[k] : nullptr;
  }
  return parsed;
}

}  // namespace kizuna::geo::internal
