// IP enrichment (issue 12): which autonomous system announces an address,
// its announced prefix, and the country it is registered in. The alerting
// pipeline asks this for every infected host it routes to a network owner.
//
// Data comes from public datasets loaded into a node directory with
// LoadGeoFiles (`kizuna geo load DIR FILE…`): ip-location-db CSV (asn or
// asn-country, addresses as text or as numbers), iptoasn TSV, and MMDB
// (GeoLite2/DB-IP ASN, Country or City style). The format of each file is
// found from its content. What a node holds is two layers, each replaced
// whole by a load of files that provide it: ASN (AS number, AS name, range)
// and country. They are kept compiled in DIR/geo/ (asn.kgeo,
// country.kgeo), each file replaced atomically, so a running node or a
// concurrent lookup reads the old layer or the new one, never half of one.
//
// GeoDb is immutable once opened and thread-safe: share one
// std::shared_ptr<const GeoDb> among threads; open a new one to see a newer
// load (a GeoDb never changes under its readers). A GeoAnswer's string_views
// point into the GeoDb and are valid while it lives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "correlation/observable.h"

namespace kizuna::geo {

// A CIDR block: an IPv4 network (v6 false; `v4`, host order) or an IPv6 one.
struct GeoPrefix {
  bool v6 = false;
  uint32_t v4 = 0;
  correlation::Ipv6Bytes v6_network{};
  uint8_t length = 0;
  std::string ToString() const;  // "1.0.0.0/24", "2001:db8::/32"
  bool operator==(const GeoPrefix&) const = default;
};

// What is known of one address. Unknown parts stay at their defaults.
struct GeoAnswer {
  uint32_t asn = 0;          // 0: unknown (also what iptoasn calls "Not routed")
  std::string_view as_name;  // "" unknown
  std::string_view country;  // upper-case ISO 3166 alpha-2, "" unknown
  // The announced prefix: the largest CIDR block inside the ASN layer's
  // range that holds the address and contains it (where a more specific
  // range cuts a larger one, the part of the larger one around the address).
  // None when the ASN layer does not know the address.
  std::optional<GeoPrefix> prefix;
};

// The JSON line `kizuna geo lookup` prints for `ip` (as given):
// {"ip":…,"asn":N,"as_name":…,"country":"JP","prefix":"1.0.0.0/24"},
// null where unknown.
std::string GeoAnswerJson(std::string_view ip, const GeoAnswer& answer);

// One layer as loaded, for status.
struct GeoLayerInfo {
  std::string name;  // "asn" or "country"
  uint64_t ipv4_ranges = 0, ipv6_ranges = 0;
  std::string version;  // the layer's part of GeoDb::version()
};

// How many addresses LookupV4Batch looks up together.
inline constexpr size_t kLookupBatch = 32;

class GeoDb {
 public:
  // The layers loaded into node directory `node_dir` (DIR/geo/); a layer
  // never loaded is empty and answers nothing. Errors: `node_dir` is not a
  // directory, or a layer file is damaged or of another format version.
  // Maps DIR/geo/joined.kgeo when it was joined from the layer files there;
  // otherwise joins them and writes it.
  static Result<std::shared_ptr<const GeoDb>> Open(const std::string& node_dir);
  // A database without any layer: every lookup unknown.
  static std::shared_ptr<const GeoDb> Empty();

  ~GeoDb();
  GeoDb(const GeoDb&) = delete;
  GeoDb& operator=(const GeoDb&) = delete;

  // `address` in host order (1.2.3.4 = 0x01020304).
  GeoAnswer LookupV4(uint32_t address) const;
  // LookupV4 of `count` addresses into out[0..count): the same answers,
  // faster for many (the memory loads of different addresses overlap; best
  // in multiples of kLookupBatch).
  void LookupV4Batch(const uint32_t* addresses, size_t count, GeoAnswer* out) const;
  // An IPv4-mapped address (::ffff:a.b.c.d) is looked up as IPv4.
  GeoAnswer LookupV6(const correlation::Ipv6Bytes& address) const;
  // An IPv4 or IPv6 address in text; nullopt when it is neither.
  std::optional<GeoAnswer> Lookup(std::string_view ip_text) const;

  // The dataset version to record with each enrichment: per layer, its
  // source files (base name, SHA-256 prefix; for MMDB its database_type and
  // build epoch) and when it was loaded. "none" when nothing is loaded.
  // Stable: the same load gives the same text.
  std::string version() const;
  std::vector<GeoLayerInfo> layers() const;  // the loaded layers only
  // True when the joined table was mapped from DIR/geo/joined.kgeo, not
  // joined from the layer files at Open (which then wrote that file).
  bool mapped() const;

 private:
  struct Layers;
  explicit GeoDb(std::unique_ptr<Layers> layers);
  std::unique_ptr<Layers> layers_;  // constant after construction
};

// --- Loading -----------------------------------------------------------------

struct GeoLoadOptions {
  // Lines for a person (stderr in the CLI): each bad line ("file:line:
  // why"), each file's summary, progress on large files.
  std::function<void(const std::string&)> message;
  // How often progress is reported while a file is read; 0: never.
  double progress_seconds = 1.0;
};

struct GeoLoadResult {
  std::vector<std::string> layers;  // the layers replaced: "asn", "country"
  uint64_t ranges = 0;              // ranges read, over every file
  uint64_t bad_lines = 0;
};

// Reads `files` and replaces, in DIR/geo/, each layer they provide (files
// that provide the same layer are combined; the other layer is kept).
// Where ranges overlap, the smaller one wins. Bad lines are reported and
// skipped; a file without any usable line is an error, and then nothing is
// replaced.
Result<GeoLoadResult> LoadGeoFiles(const std::string& node_dir,
                                   const std::vector<std::string>& files,
                                   const GeoLoadOptions& options = {});

}  // namespace kizuna::geo
