// The telescope part of `kizuna demo`: each team's node gets a darknet
// sensor; each sensor uploads a synthetic day-part of darknet traffic with
// the same IoT-botnet outbreak, reaching CERT-Borealis's darknet first; the
// first node then shows the merged trend of all three and who saw the surge
// first. Used by demo.cc only; not thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace kizuna::cli {

struct DemoTelescopeNode {
  std::string name, dir, url, admin_key;
  std::string sensor_token;  // filled by PrepareDemoTelescope
};

// Before the nodes start: a sensor account on each, the telescope
// collection, and read on it for each partner's organization. `stores`
// are the nodes' stores, in the same order.
Status PrepareDemoTelescope(std::vector<DemoTelescopeNode>& nodes,
                            const std::vector<store::Store*>& stores);

// With the nodes running: writes and uploads the captures, waits (up to
// `deadline_seconds`) until the first node's merged view holds every
// sensor and the surge, and prints what it shows. `nap(ms)` sleeps, false
// when interrupted. Returns whether everything arrived and the surge was
// found first at CERT-Borealis.
bool ShowDemoTelescope(const std::vector<DemoTelescopeNode>& nodes, const std::string& work_dir,
                       double deadline_seconds, const std::function<bool(int)>& nap);

}  // namespace kizuna::cli
