// The live stream: new object versions of one collection as Server-Sent
// Events, for partners that want updates in well under a second instead of
// polling. Served at GET /api/v1/collections/{id}/stream, authorized like a
// TAXII read and filtered by the same reader scope. Resumable: each event's
// id is the date_added (microseconds) of the last version it covers, which a
// reconnecting client sends back as Last-Event-ID (the same number is the
// TAXII added_after cursor, so polling and streaming share one cursor).
//
// First event: "event: entitlement", "data: <token>" (see sharing/policy.h).
// New versions arrive through the change bus: a write wakes the stream at
// once (no polling), and N open streams cost one store read per change.
//
// Event: "id: <µs>", "event: objects", "signature: <base64 Ed25519 of data>",
// "data: {\"collection\": \"<id>\", \"objects\": [ … ]}". A comment line every
// 15 s keeps idle connections open.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bus/bus.h"
#include "http/http.h"
#include "store/store.h"

namespace kizuna::federation {

inline constexpr const char* kStreamEvent = "objects";

struct StreamOptions {
  std::string collection_id;
  int64_t after_seq = 0;  // Last-Event-ID
  // Which versions the reader may receive (empty: all); given json and origin.
  std::function<bool(const store::StoredObject&)> admits;
  // Called with each event's versions as it is handed out (the audit log).
  std::function<void(const std::vector<store::StoredObject>&)> on_release;
  // Asked about once a second: false ends the stream (a revoked key, a
  // disabled account, a grant or a peer's `share` taken away).
  std::function<bool()> still_allowed;
  // The reader's sharing entitlement, sent as the first event so that a
  // partner can tell whether its rights changed since its last pull.
  std::string entitlement;
  // Signs an event's data (the node's key).
  std::function<std::string(std::string_view)> sign;
  // Where the stream's changes come from: a subscription of its own, from
  // after_seq (required).
  bus::ChangeBus* bus = nullptr;
  size_t max_objects_per_event = 500;
  int keepalive_ms = 15000;  // comment line interval
};

// The text/event-stream response.
http::Response StreamResponse(StreamOptions options);

}  // namespace kizuna::federation
