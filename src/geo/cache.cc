#include "geo/cache.h"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace kizuna::geo {

std::shared_ptr<const GeoDb> GeoCache::Get() {
  // The layer files' sizes and times tell a new load (it replaces them by
  // rename).
  std::string stamp;
  std::error_code ec;
  for (const char* name : {"asn.kgeo", "country.kgeo"}) {
    const std::filesystem::path path = std::filesystem::path(node_dir_) / "geo" / name;
    auto time = std::filesystem::last_write_time(path, ec);
    if (ec) continue;
    stamp += std::string(name) + ":" + std::to_string(time.time_since_epoch().count()) + ":" +
             std::to_string(std::filesystem::file_size(path, ec)) + ";";
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (db_ == nullptr || stamp != stamp_) {
    auto opened = GeoDb::Open(node_dir_);
    if (!opened.ok()) {
      spdlog::warn("geo data unreadable, enriching without it: {}", opened.status().message());
      db_ = GeoDb::Empty();
    } else {
      db_ = *opened;
    }
    stamp_ = stamp;
  }
  return db_;
}

}  // namespace kizuna::geo
