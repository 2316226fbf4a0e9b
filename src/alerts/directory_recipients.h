// Alert recipients from the team directory (coordination/directory.h): a
// partner team's constituency (its ASNs, prefixes, domains, countries, as
// its own signed directory entry states them) routes the infected hosts in
// it to that team's node, so a national CSIRT abroad is told about hosts in
// its country without anyone configuring it by hand.
//
// Each partner with an entry becomes the recipient "directory.<peer>"
// (channel node, STIX, TLP:AMBER, daily), with the rules of its entry that
// no configured recipient already names: a recipient the operator
// configured keeps every rule it has. SyncDirectoryRecipients brings
// alerts.db in line (adds, updates, removes) at the module's start, every
// few minutes, and before `kizuna alerts ingest` routes; names with the
// prefix are reserved for it.
//
// Functions only; thread-safe as AlertsDb and the store are.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "alerts/alerts_db.h"
#include "alerts/recipients.h"
#include "common/status.h"
#include "coordination/directory.h"
#include "node/config.h"
#include "node/node.h"
#include "store/store.h"

namespace kizuna::alerts {

inline constexpr std::string_view kDirectoryRecipientPrefix = "directory.";
bool IsDirectoryRecipient(std::string_view name);
// Why such a name cannot be set or removed by hand.
inline constexpr std::string_view kDirectoryRecipientReserved =
    "names starting with 'directory.' are the team directory's recipients (set [alerts] "
    "route_by_directory = false to stop them)";

// The recipients the directory's partner entries imply, given the
// configured (non-directory) recipients.
std::vector<Recipient> DirectoryRecipients(const std::vector<coordination::DirectoryEntry>& entries,
                                           const std::vector<Recipient>& configured,
                                           const node::NodeConfig& config);

// Makes alerts.db's directory recipients those the directory implies now
// (none when `enabled` is false). Returns how many were added, changed or
// removed.
Result<int> SyncDirectoryRecipients(AlertsDb& db, store::Store& store,
                                    const node::NodeConfig& config,
                                    const node::NodeIdentity& identity, bool enabled,
                                    int64_t now_us);

}  // namespace kizuna::alerts
