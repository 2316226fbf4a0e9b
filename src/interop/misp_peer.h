// A MISP instance as a partner ([[peer]] with kind = "misp"; `kizuna peer
// add … --kind misp`). MISP has no TAXII 2.1 server: this worker speaks
// MISP's REST API (docs/misp-notes.md §5), as another MISP server would.
//   - Pull, every poll_seconds: the minimal event index of the published
//     events (POST /events/index), then GET /events/view/<uuid> for each event
//     whose timestamp or sighting timestamp is newer than the one last stored,
//     as MISP's own pull decides (an event synced to the instance late with
//     an old timestamp is not missed, as a timestamp cursor would miss it).
//     Events become STIX through MispEventToStix (distribution never
//     widened) and are stored in the peer's `into` collection under the
//     peer's name as origin, as any partner's objects: the sharing decision
//     treats them as this partner's (not re-shared unless `reshare`), and
//     they may change only what the peer stored first. Events claiming this
//     node's identities (ours, coming back) are skipped.
//   - Push (push = auto or always): what the sharing decision releases to
//     this peer from the collections it shares, followed on the change bus
//     from a persisted cursor: our sightings of its attributes through
//     POST /sightings/add, everything else as MISP events (StixToMispEvents:
//     a report with what it refers to, loose indicators in one event of
//     ours) through /events/add, or /events/edit with a timestamp newer than
//     the last one pushed, MISP's rule for edits.
// Every object in and out is recorded in the federation audit log (channel
// "misp pull" / "misp push"; MISP signs nothing, so received objects are
// audited as unsigned); the status is persisted for `kizuna peer list`.
//
// Thread-safety: Start/Stop/status from any thread; the rest runs on the
// worker's thread. Ownership: the context's node, audit log and bus outlive
// the worker.
#pragma once

#include <memory>

#include "federation/federation.h"

namespace kizuna::interop {

std::unique_ptr<federation::PeerRunner> MakeMispPeer(const federation::FederationContext& context,
                                                     node::PeerConfig config,
                                                     federation::PolicySource policy);

}  // namespace kizuna::interop
