// The geo module: `kizuna geo load|lookup|status` (IP enrichment, geo.h).
// Commands only: no routes, jobs or config section; the data lives in the
// node directory (DIR/geo/), loaded and read by the commands and by whatever
// component opens a GeoDb.
//
// Thread-safety: as platform::Module.
#pragma once

#include "platform/module.h"
#include "platform/services.h"

namespace kizuna::geo {

class GeoModule final : public platform::Module {
 public:
  // `services` is not used (the commands work on the directory alone).
  explicit GeoModule(const platform::NodeServices* services) { (void)services; }
  std::string_view name() const override { return "geo"; }
  void AddCommands(CLI::App& app, int* exit_code) override;
};

}  // namespace kizuna::geo
