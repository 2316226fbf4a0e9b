// The node's current geo datasets for a long-running reader (the node's
// modules): GeoDb::Open again whenever `kizuna geo load` has replaced a
// layer file since the last open (told by the files' times and sizes), the
// same GeoDb otherwise. A damaged layer is logged and read as no data.
//
// Thread-safe. The GeoDb handed out stays valid while its holder keeps it.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "geo/geo.h"

namespace kizuna::geo {

class GeoCache {
 public:
  explicit GeoCache(std::string node_dir) : node_dir_(std::move(node_dir)) {}
  std::shared_ptr<const GeoDb> Get();

 private:
  const std::string node_dir_;
  std::mutex mutex_;
  std::string stamp_;                // GUARDED_BY(mutex_)
  std::shared_ptr<const GeoDb> db_;  // GUARDED_BY(mutex_)
};

}  // namespace kizuna::geo
