// The inside of src/geo: how ranges read from a file become a layer (one of
// the two kinds of answer, ASN or country) and how a layer is kept, looked up
// and written. geo.h is the interface; this is for geo's own sources, its
// tests, its fuzzer and its benchmark.
//
// A LayerBuilder gathers ranges as the readers find them (text.cc for the
// CSV/TSV files, mmdb.cc for MMDB), each pointing at an interned record.
// Compile() turns them into a Layer: per address family, disjoint segments
// sorted by their first address (where ranges overlap, the smaller one wins),
// with a first-level index of up to 2^20 buckets, so that a lookup is an index
// read and a binary search over a few segments.
//
// Not thread-safe while being built; a compiled Layer is immutable and may be
// read from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "correlation/snapshot_io.h"
#include "geo/geo.h"

namespace kizuna::geo::internal {

using U128 = unsigned __int128;

enum class LayerKind : uint8_t { kAsn = 0, kCountry = 1 };
inline constexpr int kLayerKinds = 2;
std::string_view LayerName(LayerKind kind);  // "asn", "country"

// What a segment answers: for the ASN layer the AS number and the AS's name,
// for the country layer the country code (in `text`, asn 0).
struct Record {
  uint32_t asn = 0;
  uint32_t text_offset = 0;  // into Layer::arena
  uint32_t text_size = 0;
};

template <typename Key>
struct RawRange {
  Key first, last;
  uint32_t record;
  uint32_t order;  // position in input order: of two ranges of one size, the later wins
};

// One file's contribution to a layer, for status and the dataset version.
struct SourceInfo {
  std::string file;    // base name
  std::string sha256;  // first 12 hex digits of the file's SHA-256
  std::string format;  // "ip-location-db asn csv", "iptoasn tsv", "mmdb", …
  uint64_t ranges = 0;
  std::string mmdb_type;  // MMDB only: metadata database_type
  uint64_t mmdb_build_epoch = 0;
};

class LayerBuilder {
 public:
  explicit LayerBuilder(LayerKind kind) : kind_(kind) {}
  LayerKind kind() const { return kind_; }
  // The record of (asn, name) / of a country code, interned: the same
  // values give the same record.
  uint32_t InternAsn(uint32_t asn, std::string_view name);
  uint32_t InternCountry(std::string_view code);
  void Add4(uint32_t first, uint32_t last, uint32_t record) {
    v4_.push_back({first, last, record, order_++});
  }
  void Add6(U128 first, U128 last, uint32_t record) {
    v6_.push_back({first, last, record, order_++});
  }
  uint64_t ranges() const { return v4_.size() + v6_.size(); }
  std::vector<SourceInfo>& sources() { return sources_; }

 private:
  friend struct Layer;
  uint32_t Intern(uint32_t asn, std::string_view text);
  LayerKind kind_;
  uint32_t order_ = 0;
  std::vector<RawRange<uint32_t>> v4_;
  std::vector<RawRange<U128>> v6_;
  std::vector<Record> records_;
  std::string arena_;
  std::unordered_map<std::string, uint32_t> interned_;  // asn + '\0' + text -> record
  std::vector<SourceInfo> sources_;
};

template <typename Key>
struct Segment {
  Key first, last;
  uint32_t record;
};

// Disjoint segments by first address, with a first-level index: the
// addresses from the first segment's on are cut into 2^index_bits buckets of
// equal size (IPv4: by the top index_bits bits; two to four buckets a
// segment, up to 2^20), and index[b] is the first segment that starts in bucket
// b or later. `probe` holds each segment's first address
// (IPv6: its top 64 bits) packed, so that the search in a bucket reads few
// cache lines.
//
// The lookups read a TableView: the arrays wherever they are (a Table's own
// vectors, or a mapped joined file).
template <typename Key, typename SegmentType = Segment<Key>>
struct TableView {
  static constexpr int kBits = sizeof(Key) * 8;
  std::span<const SegmentType> segments;
  std::span<const uint64_t> probe;
  std::span<const uint32_t> index;  // (1 << index_bits) + 1 entries
  Key base = 0;
  int index_bits = 1;
  int shift = kBits - 1;

  static uint64_t Probe(Key address) {
    return sizeof(Key) > 8 ? static_cast<uint64_t>(address >> 64 % kBits)
                           : static_cast<uint64_t>(address);
  }
  uint32_t Bucket(Key address) const {
    const Key offset = static_cast<Key>(address - base) >> shift;
    return offset >= (Key(1) << index_bits) ? (1u << index_bits) - 1
                                            : static_cast<uint32_t>(offset);
  }

  // The segment holding `address`, or nullptr.
  const SegmentType* Find(Key address) const {
    if (segments.empty() || address < base) return nullptr;
    const uint32_t bucket = Bucket(address);
    return At(address, SegmentsUpTo(address, index[bucket], index[bucket + 1]));
  }

  static constexpr size_t kBatch = kLookupBatch;
  // Find for each of `count` (at most kBatch) addresses. A lookup's time is
  // its cache misses, one after the other (index, probes, segment); here
  // each step is taken for all the addresses before the next, and
  // prefetches what the next step reads, so the misses of different
  // addresses overlap.
  void FindBatch(const Key* addresses, size_t count, const SegmentType** out) const {
    constexpr uint32_t kNone = ~0u;
    uint32_t from[kBatch], to[kBatch];
    for (size_t i = 0; i < count; ++i) {
      if (segments.empty() || addresses[i] < base) {
        from[i] = kNone;
        continue;
      }
      from[i] = Bucket(addresses[i]);
      __builtin_prefetch(&index[from[i]]);
    }
    for (size_t i = 0; i < count; ++i) {
      if (from[i] == kNone) continue;
      const uint32_t bucket = from[i];
      from[i] = index[bucket];
      to[i] = index[bucket + 1];
      __builtin_prefetch(probe.data() + from[i]);  // may be one past the end
    }
    for (size_t i = 0; i < count; ++i) {
      if (from[i] == kNone) continue;
      to[i] = static_cast<uint32_t>(SegmentsUpTo(addresses[i], from[i], to[i]));
      if (to[i] > 0) __builtin_prefetch(&segments[to[i] - 1]);
    }
    for (size_t i = 0; i < count; ++i) {
      out[i] = from[i] == kNone ? nullptr : At(addresses[i], to[i]);
    }
  }

 private:
  // How many segments start at or before `address`, searching the bucket
  // whose segments are [lo, hi) (those before lo all start before it).
  size_t SegmentsUpTo(Key address, size_t lo, size_t hi) const {
    const uint64_t key = Probe(address);
    const uint64_t* p = probe.data();
    size_t n = hi - lo;
    // Branch-free: the last probe of the bucket at or before `key`.
    size_t at = lo;
    while (n > 1) {
      const size_t half = n / 2;
      at = p[at + half] <= key ? at + half : at;
      n -= half;
    }
    size_t end = (n == 1 && p[at] <= key) ? at + 1 : lo;  // segments [lo, end) start <= key
    if constexpr (sizeof(Key) > 8) {
      // Segments that share the top 64 bits with `address` may start after
      // it: then the last of [lo, end) that does not, by whole addresses.
      if (end > lo && segments[end - 1].first > address) {
        size_t first = lo, count = end - lo;  // segments[first] may start after too
        while (count > 0) {
          const size_t half = count / 2;
          if (segments[first + half].first <= address) {
            first += half + 1;
            count -= half + 1;
          } else {
            count = half;
          }
        }
        end = first;
      }
    }
    return end;
  }
  // The segment holding `address` of the `end` that start at or before it.
  const SegmentType* At(Key address, size_t end) const {
    if (end == 0) return nullptr;
    const SegmentType& found = segments[end - 1];  // before `lo`: the previous bucket's last
    return address <= found.last ? &found : nullptr;
  }
};

// A table that owns its arrays (built from ranges, or read from a layer
// file).
template <typename Key, typename SegmentType = Segment<Key>>
struct Table {
  static constexpr int kMaxIndexBits = 20;
  std::vector<SegmentType> segments;
  std::vector<uint64_t> probe;
  std::vector<uint32_t> index;
  Key base = 0;
  int index_bits = 1;
  int shift = sizeof(Key) * 8 - 1;

  void BuildIndex();
  TableView<Key, SegmentType> View() const {
    return {segments, probe, index, base, index_bits, shift};
  }
  const SegmentType* Find(Key address) const { return View().Find(address); }
};

// Both layers in one table, so that a lookup is one walk: the pieces
// between every boundary of either layer's segments, each with what both
// say of it. `asn_first`/`asn_last` are the ASN segment's own bounds (the
// announced prefix is cut from them); names point into the layers' arenas.
template <typename Key>
struct JoinedSegment {
  Key first, last;
  Key asn_first, asn_last;
  uint32_t asn = 0;
  uint32_t as_name_offset = 0;
  uint32_t country_offset = 0;
  uint16_t as_name_size = 0;
  uint8_t country_size = 0;
  bool has_asn = false;
};
static_assert(sizeof(JoinedSegment<uint32_t>) == 32);

struct Layer;
// The joined table of the two layers' `Key` family (either may be null).
template <typename Key>
Table<Key, JoinedSegment<Key>> JoinLayers(const Layer* asn, const Layer* country);

struct Layer {
  LayerKind kind = LayerKind::kAsn;
  int64_t loaded_at_micros = 0;
  uint64_t checksum = 0;  // the layer file's (its header's), once parsed
  std::vector<SourceInfo> sources;
  std::vector<Record> records;
  std::string arena;
  Table<uint32_t> v4;
  Table<U128> v6;

  std::string_view Text(const Record& r) const {
    return std::string_view(arena).substr(r.text_offset, r.text_size);
  }
  // "asn-ipv4.csv sha256:3f2a9c1b0d4e, … loaded 2024-05-01T10:00:00Z"
  std::string Version() const;

  // Turns what a builder gathered into disjoint segments: where ranges
  // overlap, the one with fewer addresses wins (of equal ones, the later).
  static Layer Compile(LayerBuilder&& builder, int64_t loaded_at_micros);
  // The layer file (geo/<name>.kgeo): magic, format, checksum, payload.
  std::string Serialize() const;
  static Result<Layer> Parse(std::string_view bytes, std::string_view file_name);
};

// A layer's kind, load time and sources (the layer file's first fields;
// the joined file keeps them too).
void WriteLayerInfo(correlation::internal::SnapshotWriter& w, const Layer& layer);
bool ReadLayerInfo(correlation::internal::SnapshotReader& r, Layer* layer);
// The checksum a layer file's header holds (NotFound: no such file), read
// without reading the rest.
Result<uint64_t> ReadLayerChecksum(const std::string& path);

// --- The joined file ----------------------------------------------------------

// geo/joined.kgeo: both layers joined, as the lookups read them, so that
// opening a GeoDb is mapping one file, not reading, parsing and joining the
// layers (a fifth of a second and a hundred MB for ip-location-db's). It is
// derived from the layer files and names their checksums: written when they
// are loaded (or first opened without it), ignored when they have changed
// or it is damaged (the layers are joined again then). Host-endian arrays,
// read back by the same build (its header says which layout).
struct JoinedParts {
  std::array<const Layer*, kLayerKinds> layers{};  // kind, load time, sources; null: absent
  std::array<std::pair<uint64_t, uint64_t>, kLayerKinds> ranges{};  // IPv4, IPv6 segments
  std::string_view as_names, countries;
  TableView<uint32_t, JoinedSegment<uint32_t>> v4;
  TableView<U128, JoinedSegment<U128>> v6;
};
std::string SerializeJoined(const JoinedParts& parts);
// The parts of a joined file (views into `bytes`; the Layers hold only
// their kind, load time, sources and checksum), or an error when it is not
// one, is damaged, was written by another layout, or was not joined from
// layers with these checksums (0: absent).
struct ParsedJoined {
  std::array<std::optional<Layer>, kLayerKinds> layers;
  JoinedParts parts;
};
Result<ParsedJoined> ParseJoined(std::string_view bytes,
                                 const std::array<uint64_t, kLayerKinds>& layer_checksums);

// The shortest prefix length whose block around `address` lies inside
// [first, last] (which holds `address`): the largest CIDR block there.
template <typename Key>
int LargestBlock(Key address, Key first, Key last) {
  constexpr int kBits = sizeof(Key) * 8;
  int lo = 0, hi = kBits;  // hi always fits
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    const Key mask = mid == 0 ? Key(0) : static_cast<Key>(~Key(0) << (kBits - mid));
    const Key network = address & mask;
    if (network >= first && (network | static_cast<Key>(~mask)) <= last) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

// --- Files -------------------------------------------------------------------

Result<std::string> ReadWholeFile(const std::string& path);

// --- Readers ------------------------------------------------------------------

// What reading one file found; bad lines are reported through the callback
// as they are found ("file:line: why").
struct ReadReport {
  std::string format;
  uint64_t lines = 0;
  uint64_t ranges = 0;
  uint64_t bad_lines = 0;
  bool asn = false, country = false;  // which layers the file fed
};
struct ReadOptions {
  std::string file_name;  // for messages
  // Each bad line, "file:line: why". Empty: not reported (still counted).
  std::function<void(const std::string&)> bad_line;
  // Called every 65,536 lines with the lines and bytes read so far.
  std::function<void(uint64_t lines, uint64_t bytes)> progress;
};

// The text formats: ip-location-db CSV (start,end,asn,org or
// start,end,country[,…]; addresses as text or as decimal numbers) and
// iptoasn TSV (start, end, AS number, country, description; AS 0 is "not
// routed"). The format is decided by the first line that holds a range.
// An error when no line gave a range.
Status ReadRangeText(std::string_view text, const ReadOptions& options, LayerBuilder* asn,
                     LayerBuilder* country, ReadReport* report);

// True when `bytes` (a whole file) holds the MMDB metadata marker.
bool LooksLikeMmdb(std::string_view bytes);
// Reads an MMDB file's tree into ranges (GeoLite2-ASN style
// autonomous_system_number/_organization, and/or country.iso_code). IPv4-
// mapped aliases in an IPv6 tree are read once, as IPv4.
Status ReadMmdb(const std::string& path, const ReadOptions& options, LayerBuilder* asn,
                LayerBuilder* country, ReadReport* report, SourceInfo* info);

}  // namespace kizuna::geo::internal
