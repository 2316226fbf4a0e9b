// The web console's static files (src/console/assets, Debian's Chart.js),
// compiled into the binary by the build (embed_assets.cmake), so a node
// serves its console with nothing to install beside the binary.
// Thread-safety: immutable.
#pragma once

#include <string_view>
#include <vector>

namespace kizuna::console {

struct EmbeddedAsset {
  std::string_view name;   // "app.js"
  std::string_view bytes;  // the file's content
};

const std::vector<EmbeddedAsset>& EmbeddedAssets();

}  // namespace kizuna::console
