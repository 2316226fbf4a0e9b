// Layers: interning, compiling overlapping ranges into disjoint segments, the
// first-level index, and the layer file.
#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <queue>

#include "common/time.h"
#include "correlation/snapshot_io.h"
#include "geo/internal.h"

namespace kizuna::geo::internal {

using correlation::internal::Checksum64;
using correlation::internal::SnapshotReader;
using correlation::internal::SnapshotWriter;

namespace {

constexpr std::string_view kMagic = "KZGEOLYR";
// Raise with any change to what is written.
constexpr uint32_t kFormat = 1;
constexpr size_t kHeaderSize = 8 + 4 + 8;  // magic, format, checksum

// Where ranges overlap the smaller wins, of equal ones the later: sweeps
// the ranges by first address with the ranges covering the current address
// in a heap, best on top.
template <typename Key>
std::vector<Segment<Key>> Flatten(std::vector<RawRange<Key>> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const RawRange<Key>& a, const RawRange<Key>& b) { return a.first < b.first; });
  auto worse = [&ranges](uint32_t a, uint32_t b) {
    const Key size_a = ranges[a].last - ranges[a].first;
    const Key size_b = ranges[b].last - ranges[b].first;
    return size_a != size_b ? size_a > size_b : ranges[a].order < ranges[b].order;
  };
  std::priority_queue<uint32_t, std::vector<uint32_t>, decltype(worse)> covering(worse);
  std::vector<Segment<Key>> out;
  std::vector<uint32_t> source;  // the range each segment of `out` comes from
  size_t next = 0;
  Key at = 0;
  while (next < ranges.size() || !covering.empty()) {
    if (covering.empty()) at = ranges[next].first;
    while (next < ranges.size() && ranges[next].first == at) {
      covering.push(static_cast<uint32_t>(next++));
    }
    while (!covering.empty() && ranges[covering.top()].last < at) covering.pop();
    if (covering.empty()) continue;
    const uint32_t best = covering.top();
    Key end = ranges[best].last;
    if (next < ranges.size() && ranges[next].first - 1 < end) end = ranges[next].first - 1;
    if (!out.empty() && source.back() == best && out.back().last + 1 == at) {
      out.back().last = end;  // a range that did not win was all that began here
    } else {
      out.push_back({at, end, ranges[best].record});
      source.push_back(best);
    }
    if (end == std::numeric_limits<Key>::max()) break;
    at = end + 1;
  }
  return out;
}

template <typename Key>
void WriteTable(SnapshotWriter& w, const Table<Key>& table) {
  // Three arrays, not the structs (whose padding would make the file's bytes
  // vary from one load of the same data to the next).
  std::vector<Key> firsts, lasts;
  std::vector<uint32_t> records;
  firsts.reserve(table.segments.size());
  lasts.reserve(table.segments.size());
  records.reserve(table.segments.size());
  for (const Segment<Key>& s : table.segments) {
    firsts.push_back(s.first);
    lasts.push_back(s.last);
    records.push_back(s.record);
  }
  w.Array(firsts);
  w.Array(lasts);
  w.Array(records);
}

template <typename Key>
bool ReadTable(SnapshotReader& r, size_t record_count, Table<Key>* table) {
  std::vector<Key> firsts, lasts;
  std::vector<uint32_t> records;
  if (!r.Array(&firsts) || !r.Array(&lasts) || !r.Array(&records)) return false;
  if (lasts.size() != firsts.size() || records.size() != firsts.size()) return false;
  table->segments.resize(firsts.size());
  for (size_t i = 0; i < firsts.size(); ++i) {
    if (firsts[i] > lasts[i] || records[i] >= record_count) return false;
    if (i > 0 && firsts[i] <= lasts[i - 1]) return false;  // sorted and disjoint
    table->segments[i] = {firsts[i], lasts[i], records[i]};
  }
  table->BuildIndex();
  return true;
}

}  // namespace

std::string_view LayerName(LayerKind kind) { return kind == LayerKind::kAsn ? "asn" : "country"; }

uint32_t LayerBuilder::Intern(uint32_t asn, std::string_view text) {
  std::string key = std::to_string(asn);
  key.push_back('\0');
  key.append(text);
  auto [it, added] = interned_.try_emplace(std::move(key), static_cast<uint32_t>(records_.size()));
  if (added) {
    records_.push_back(
        {asn, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(text.size())});
    arena_.append(text);
  }
  return it->second;
}

uint32_t LayerBuilder::InternAsn(uint32_t asn, std::string_view name) { return Intern(asn, name); }
uint32_t LayerBuilder::InternCountry(std::string_view code) { return Intern(0, code); }

template <typename Key, typename SegmentType>
void Table<Key, SegmentType>::BuildIndex() {
  using ViewType = TableView<Key, SegmentType>;
  constexpr int kBits = ViewType::kBits;
  probe.resize(segments.size());
  for (size_t i = 0; i < segments.size(); ++i) probe[i] = ViewType::Probe(segments[i].first);
  // Two to four buckets a segment, at most 2^20. IPv4: by the top bits.
  // IPv6: from the first segment on, buckets just large enough that all of
  // them reach the last segment's start (IPv6 data sits in a small part of
  // the space).
  index_bits = std::clamp(static_cast<int>(std::bit_width(segments.size())) + 2, 1, kMaxIndexBits);
  base = 0;
  shift = kBits - index_bits;
  if constexpr (sizeof(Key) > 8) {
    if (!segments.empty()) {
      base = segments.front().first;
      const Key span = segments.back().first - base;
      shift = 0;
      while (shift < kBits && (span >> shift) >= (Key(1) << index_bits)) ++shift;
    }
  }
  if (segments.empty()) {
    index.clear();  // Find answers nothing without reading it
    return;
  }
  const uint32_t buckets = 1u << index_bits;
  index.assign(buckets + 1, static_cast<uint32_t>(segments.size()));
  size_t i = 0;
  for (uint32_t bucket = 0; bucket < buckets; ++bucket) {
    while (i < segments.size() && View().Bucket(segments[i].first) < bucket) ++i;
    index[bucket] = static_cast<uint32_t>(i);
  }
}
template struct Table<uint32_t>;
template struct Table<U128>;
template struct Table<uint32_t, JoinedSegment<uint32_t>>;
template struct Table<U128, JoinedSegment<U128>>;

namespace {

template <typename Key>
const Table<Key>* TableIn(const Layer* layer) {
  if (layer == nullptr) return nullptr;
  if constexpr (sizeof(Key) == 4) {
    return &layer->v4;
  } else {
    return &layer->v6;
  }
}

}  // namespace

template <typename Key>
Table<Key, JoinedSegment<Key>> JoinLayers(const Layer* asn, const Layer* country) {
  static const std::vector<Segment<Key>> kNone;
  const std::vector<Segment<Key>>& a =
      TableIn<Key>(asn) != nullptr ? TableIn<Key>(asn)->segments : kNone;
  const std::vector<Segment<Key>>& c =
      TableIn<Key>(country) != nullptr ? TableIn<Key>(country)->segments : kNone;
  Table<Key, JoinedSegment<Key>> joined;
  joined.segments.reserve(a.size() + c.size());
  constexpr Key kLast = ~Key(0);
  size_t i = 0, j = 0;
  Key at = 0;
  // Both lists are sorted and disjoint: sweep them together, cutting a
  // piece wherever a segment of either starts or ends.
  for (;;) {
    while (i < a.size() && a[i].last < at) ++i;
    while (j < c.size() && c[j].last < at) ++j;
    if (i == a.size() && j == c.size()) break;
    const Segment<Key>* in_a = i < a.size() && a[i].first <= at ? &a[i] : nullptr;
    const Segment<Key>* in_c = j < c.size() && c[j].first <= at ? &c[j] : nullptr;
    if (in_a == nullptr && in_c == nullptr) {
      at = std::min(i < a.size() ? a[i].first : kLast, j < c.size() ? c[j].first : kLast);
      continue;
    }
    Key end = kLast;
    if (in_a != nullptr) {
      end = std::min(end, in_a->last);
    } else if (i < a.size()) {
      end = std::min(end, static_cast<Key>(a[i].first - 1));
    }
    if (in_c != nullptr) {
      end = std::min(end, in_c->last);
    } else if (j < c.size()) {
      end = std::min(end, static_cast<Key>(c[j].first - 1));
    }
    JoinedSegment<Key> piece{};
    piece.first = at;
    piece.last = end;
    if (in_a != nullptr) {
      const Record& r = asn->records[in_a->record];
      piece.has_asn = true;
      piece.asn = r.asn;
      piece.asn_first = in_a->first;
      piece.asn_last = in_a->last;
      piece.as_name_offset = r.text_offset;
      piece.as_name_size = static_cast<uint16_t>(std::min<uint32_t>(r.text_size, 0xFFFF));
    }
    if (in_c != nullptr) {
      const Record& r = country->records[in_c->record];
      piece.country_offset = r.text_offset;
      piece.country_size = static_cast<uint8_t>(std::min<uint32_t>(r.text_size, 0xFF));
    }
    joined.segments.push_back(piece);
    if (end == kLast) break;
    at = static_cast<Key>(end + 1);
  }
  joined.segments.shrink_to_fit();
  joined.BuildIndex();
  return joined;
}
template Table<uint32_t, JoinedSegment<uint32_t>> JoinLayers<uint32_t>(const Layer*, const Layer*);
template Table<U128, JoinedSegment<U128>> JoinLayers<U128>(const Layer*, const Layer*);

Layer Layer::Compile(LayerBuilder&& builder, int64_t loaded_at_micros) {
  Layer layer;
  layer.kind = builder.kind_;
  layer.loaded_at_micros = loaded_at_micros;
  layer.sources = std::move(builder.sources_);
  layer.records = std::move(builder.records_);
  layer.arena = std::move(builder.arena_);
  layer.v4.segments = Flatten(std::move(builder.v4_));
  layer.v6.segments = Flatten(std::move(builder.v6_));
  layer.v4.BuildIndex();
  layer.v6.BuildIndex();
  return layer;
}

std::string Layer::Version() const {
  std::string out;
  for (const SourceInfo& s : sources) {
    if (!out.empty()) out += ", ";
    out += s.file + " sha256:" + s.sha256;
    if (!s.mmdb_type.empty()) {
      out += " [" + s.mmdb_type + " built " +
             FormatTimestamp(int64_t(s.mmdb_build_epoch) * 1000000, 0) + "]";
    }
  }
  return out + " loaded " + FormatTimestamp(loaded_at_micros, 0);
}

void WriteLayerInfo(SnapshotWriter& w, const Layer& layer) {
  w.U8(static_cast<uint8_t>(layer.kind));
  w.I64(layer.loaded_at_micros);
  w.U64(layer.sources.size());
  for (const SourceInfo& s : layer.sources) {
    w.String(s.file);
    w.String(s.sha256);
    w.String(s.format);
    w.U64(s.ranges);
    w.String(s.mmdb_type);
    w.U64(s.mmdb_build_epoch);
  }
}

bool ReadLayerInfo(SnapshotReader& r, Layer* layer) {
  uint8_t kind = 0;
  uint64_t source_count = 0;
  if (!r.U8(&kind) || kind >= kLayerKinds || !r.I64(&layer->loaded_at_micros) ||
      !r.Count(&source_count, 40)) {
    return false;
  }
  layer->kind = static_cast<LayerKind>(kind);
  for (uint64_t i = 0; i < source_count; ++i) {
    SourceInfo s;
    if (!r.String(&s.file) || !r.String(&s.sha256) || !r.String(&s.format) || !r.U64(&s.ranges) ||
        !r.String(&s.mmdb_type) || !r.U64(&s.mmdb_build_epoch)) {
      return false;
    }
    layer->sources.push_back(std::move(s));
  }
  return true;
}

Result<uint64_t> ReadLayerChecksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("no geo layer file " + path);
  char header[kHeaderSize];
  if (!in.read(header, sizeof header) || std::string_view(header, kMagic.size()) != kMagic) {
    return InvalidArgument(path + ": not a kizuna geo layer file");
  }
  uint64_t checksum = 0;
  std::memcpy(&checksum, header + kMagic.size() + 4, sizeof checksum);
  return checksum;
}

std::string Layer::Serialize() const {
  SnapshotWriter w;
  WriteLayerInfo(w, *this);
  w.Array(records);
  w.String(arena);
  WriteTable(w, v4);
  WriteTable(w, v6);
  const std::string& payload = w.bytes();
  SnapshotWriter header;
  header.bytes().append(kMagic);
  header.U32(kFormat);
  header.U64(Checksum64(payload));
  return header.bytes() + payload;
}

Result<Layer> Layer::Parse(std::string_view bytes, std::string_view file_name) {
  const std::string damaged = std::string(file_name) + ": damaged geo layer file (load it again)";
  if (bytes.size() < kHeaderSize || bytes.substr(0, kMagic.size()) != kMagic) {
    return InvalidArgument(std::string(file_name) + ": not a kizuna geo layer file");
  }
  SnapshotReader header(bytes.substr(kMagic.size(), kHeaderSize - kMagic.size()));
  uint32_t format = 0;
  uint64_t checksum = 0;
  if (!header.U32(&format) || !header.U64(&checksum)) return InvalidArgument(damaged);
  if (format != kFormat) {
    return FailedPrecondition(std::string(file_name) + ": geo layer format " +
                              std::to_string(format) + ", this kizuna reads " +
                              std::to_string(kFormat) + " (load the data again)");
  }
  const std::string_view payload = bytes.substr(kHeaderSize);
  if (Checksum64(payload) != checksum) return InvalidArgument(damaged);
  SnapshotReader r(payload);
  Layer layer;
  layer.checksum = checksum;
  if (!ReadLayerInfo(r, &layer)) return InvalidArgument(damaged);
  if (!r.Array(&layer.records) || !r.String(&layer.arena)) return InvalidArgument(damaged);
  for (const Record& record : layer.records) {
    if (uint64_t{record.text_offset} + record.text_size > layer.arena.size()) {
      return InvalidArgument(damaged);
    }
  }
  if (!ReadTable(r, layer.records.size(), &layer.v4) ||
      !ReadTable(r, layer.records.size(), &layer.v6) || !r.done()) {
    return InvalidArgument(damaged);
  }
  return layer;
}

}  // namespace kizuna::geo::internal
