// Federation: the node's partner peers ([[peer]] in kizuna.toml) kept in sync
// both ways. For each peer a worker
//   - pulls the partner's collections over TAXII 2.1 with a persisted
//     added_after cursor and the server's `next` paging,
//   - subscribes to the partner's live stream when it is a kizuna node
//     (updates in well under a second; polling every poll_seconds otherwise),
//   - pushes to the partner's writable collection what the sharing policy
//     allows (to plain TAXII servers; kizuna partners pull from us),
//     checking the TAXII status resource until it is complete,
// verifying the partner's signatures, recording every object in the audit
// log, retrying with backoff and resuming from its cursors after restarts.
// Thread-safe; Reload applies a changed kizuna.toml without a restart.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "federation/audit.h"
#include "federation/stream.h"
#include "node/node.h"
#include "sharing/policy.h"
#include "taxii/ingest.h"

namespace kizuna::federation {

struct PeerStatus {
  std::string name;
  std::string url;
  // "starting", "streaming", "polling", "retrying" (after an error),
  // "waiting" (the partner has not configured us as its peer yet), "stopped"
  std::string state = "starting";
  bool partner_is_kizuna = false;
  // A kizuna partner's STIX identity (its /api/v1/node): the producer it is
  // of what it creates; "" until known.
  std::string partner_identity;
  int64_t last_contact_us = 0;                  // the last answer of any kind from the partner
  int64_t last_sync_us = 0;                     // the last time we had everything it offered
  std::map<std::string, int64_t> pull_cursors;  // its collection id -> date_added µs
  // Its collection id -> the entitlement the partner reported when the
  // cursor was taken (sharing/policy.h); a new one restarts from the beginning.
  std::map<std::string, std::string> pull_entitlements;
  int64_t push_cursor = 0;  // our change sequence pushed up to
  uint64_t received = 0;    // versions we stored from it
  uint64_t sent = 0;        // versions it accepted from our pushes
  uint64_t rejected = 0;    // versions or pages we refused (invalid, bad signature)
  std::string last_error;
};

std::string PeerStatusToJson(const PeerStatus& status);
// The persisted status of a peer (written by the running node), for
// `kizuna peer list` in another process.
Result<std::optional<PeerStatus>> LoadPeerStatus(store::Store& store, const std::string& name);

// The store's meta key of a peer's persisted state ("status", "push", …).
std::string MetaKey(const std::string& peer, std::string_view what);

// Where pushing to a peer stands: our change sequence pushed up to, and
// the entitlement (sharing/policy.h) it was pushed under; the cursor holds
// only under those rights (a new entitlement pushes from the beginning).
struct PushCursor {
  int64_t seq = 0;
  std::string entitlement;
};
// The persisted cursor (meta "peer:<name>:push"); {} when none.
PushCursor LoadPushCursor(store::Store& store, const std::string& peer);
Status SavePushCursor(store::Store& store, const std::string& peer, const PushCursor& cursor);

// One partner kept in sync by its own threads: Federation::PeerWorker for
// TAXII partners, interop's MispPeer for MISP instances.
// Thread-safety: Start/Stop/status from any thread.
class PeerRunner {
 public:
  virtual ~PeerRunner() = default;
  virtual const node::PeerConfig& config() const = 0;
  virtual void Start() = 0;
  // Stops and joins its threads, saving its cursors and status first.
  virtual void Stop() = 0;
  virtual PeerStatus status() const = 0;
};

using PolicySource = std::function<std::shared_ptr<const sharing::SharingPolicy>()>;
struct FederationContext;
// Builds the runner of a MISP peer (kind = "misp").
using MispPeerFactory = std::function<std::unique_ptr<PeerRunner>(
    const FederationContext& context, node::PeerConfig config, PolicySource policy)>;

struct FederationContext {
  node::Node* node = nullptr;
  AuditLog* audit = nullptr;
  // Woken by what this node stores from partners; feeds the pushes.
  bus::ChangeBus* bus = nullptr;
  taxii::IngestOptions ingest;
  // MISP peers are run by what this builds (the daemon supplies interop's);
  // without it they are listed but not run.
  MispPeerFactory misp_peer;
};

class Federation {
 public:
  explicit Federation(FederationContext context);
  ~Federation();
  Federation(const Federation&) = delete;
  Federation& operator=(const Federation&) = delete;

  // Starts, restarts and stops peer workers so that they match `config`
  // (workers of unchanged peers keep running), and swaps in its policy.
  void Reload(const node::NodeConfig& config);
  void Stop();

  std::shared_ptr<const sharing::SharingPolicy> policy() const;
  std::vector<PeerStatus> Statuses() const;
  // A running peer's partner identity (PeerStatus::partner_identity); "" when unknown.
  std::string PeerIdentity(const std::string& name) const;

  class PeerWorker;

 private:
  FederationContext context_;
  mutable std::mutex mutex_;
  std::shared_ptr<const sharing::SharingPolicy> policy_;
  std::map<std::string, std::unique_ptr<PeerRunner>> workers_;
};

}  // namespace kizuna::federation
