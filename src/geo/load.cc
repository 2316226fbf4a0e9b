// LoadGeoFiles: reads dataset files of any supported format and replaces the
// layers they provide in DIR/geo/.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/encoding.h"
#include "common/files.h"
#include "common/time.h"
#include "geo/geo.h"
#include "geo/internal.h"

namespace kizuna::geo {

namespace {

using internal::LayerBuilder;
using internal::LayerKind;

// At most this many bad lines of one file are shown; the rest are counted.
constexpr uint64_t kShownBadLines = 10;

}  // namespace

Result<GeoLoadResult> LoadGeoFiles(const std::string& node_dir,
                                   const std::vector<std::string>& files,
                                   const GeoLoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(node_dir, ec)) {
    return NotFound("no node directory " + node_dir);
  }
  if (files.empty()) return InvalidArgument("no file to load");
  auto say = [&](const std::string& line) {
    if (options.message) options.message(line);
  };
  LayerBuilder asn(LayerKind::kAsn), country(LayerKind::kCountry);
  bool provides[internal::kLayerKinds] = {false, false};
  GeoLoadResult result;
  for (const std::string& path : files) {
    if (std::filesystem::is_directory(path, ec)) return InvalidArgument(path + ": a directory");
    KIZUNA_ASSIGN_OR_RETURN(std::string bytes, internal::ReadWholeFile(path));
    internal::SourceInfo info;
    info.file = std::filesystem::path(path).filename().string();
    info.sha256 = HexEncode(Sha256(bytes)).substr(0, 12);

    internal::ReadReport report;
    internal::ReadOptions read;
    read.file_name = path;
    read.bad_line = [&](const std::string& line) {
      if (report.bad_lines <= kShownBadLines) say(line);
    };
    const auto started = std::chrono::steady_clock::now();
    auto last_progress = started;
    read.progress = [&](uint64_t lines, uint64_t done) {
      if (options.progress_seconds <= 0) return;
      const auto now = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(now - last_progress).count() < options.progress_seconds) {
        return;
      }
      last_progress = now;
      say(path + ": " + std::to_string(lines) + " lines read (" +
          std::to_string(bytes.empty() ? 100 : done * 100 / bytes.size()) + "%)");
    };
    if (internal::LooksLikeMmdb(bytes)) {
      KIZUNA_RETURN_IF_ERROR(internal::ReadMmdb(path, read, &asn, &country, &report, &info));
    } else {
      KIZUNA_RETURN_IF_ERROR(internal::ReadRangeText(bytes, read, &asn, &country, &report));
    }
    info.format = report.format;
    info.ranges = report.ranges;
    if (report.asn) asn.sources().push_back(info);
    if (report.country) country.sources().push_back(info);
    provides[0] = provides[0] || report.asn;
    provides[1] = provides[1] || report.country;
    result.ranges += report.ranges;
    result.bad_lines += report.bad_lines;
    std::string layers = report.asn && report.country ? "asn and country"
                         : report.asn                 ? "asn"
                                                      : "country";
    std::string summary = path + ": " + report.format + ", " + std::to_string(report.ranges) +
                          " ranges (" + layers + "), " + std::to_string(report.bad_lines) +
                          " bad " + (report.format == "mmdb" ? "records" : "lines");
    if (report.bad_lines > kShownBadLines) {
      summary += " (the first " + std::to_string(kShownBadLines) + " shown)";
    }
    say(summary);
  }

  const std::string geo_dir = node_dir + "/geo";
  if (::mkdir(geo_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return IoError("cannot create " + geo_dir + ": " + std::strerror(errno));
  }
  const int64_t now = SystemClock::Instance().NowMicros() / 1000000 * 1000000;
  for (LayerBuilder* builder : {&asn, &country}) {
    if (!provides[static_cast<int>(builder->kind())]) continue;
    const std::string name(internal::LayerName(builder->kind()));
    internal::Layer layer = internal::Layer::Compile(std::move(*builder), now);
    KIZUNA_RETURN_IF_ERROR(
        ReplaceFileDurably(geo_dir + "/" + name + ".kgeo", layer.Serialize(), 0644));
    say("geo layer " + name + ": " + std::to_string(layer.v4.segments.size()) + " IPv4 and " +
        std::to_string(layer.v6.segments.size()) + " IPv6 ranges, " + layer.Version());
    result.layers.push_back(name);
  }
  // Opening joins the layers and writes geo/joined.kgeo, which every
  // opening after maps.
  KIZUNA_RETURN_IF_ERROR(GeoDb::Open(node_dir).status());
  auto reopened = GeoDb::Open(node_dir);
  if (!reopened.ok() || !(*reopened)->mapped()) {
    say("note: " + geo_dir + "/joined.kgeo could not be written: each opening joins the layers");
  }
  return result;
}

}  // namespace kizuna::geo
