// Ingest: the one path by which STIX objects enter a collection, shared by
// TAXII POST, `kizuna import` and (later) federation. Validates each object,
// gives unmarked objects the node's default TLP for access decisions (the
// object itself is stored unchanged), stores the valid ones in one
// transaction and reports each object's outcome as a TAXII status record.
// Only an object's producer adds versions of it (taxii/producers.h); a
// refused version is a failure naming the reason.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>

#include "stix/stix.h"
#include "store/store.h"
#include "taxii/producers.h"

namespace kizuna::taxii {

struct IngestOptions {
  uint64_t max_objects_per_request = 10000;
  int max_json_depth = 64;
  // Full check of STIX patterns (the node installs pattern::CheckStixPattern).
  stix::StixPatternChecker pattern_checker = nullptr;
  // Who writes: its origin is stored with each version, and it may add
  // versions only of objects it produced (taxii/producers.h). Default: the
  // home team (the operator's `kizuna import`).
  Writer writer;
  // What the writer may see: a refused version of an object it may not see
  // is answered as accepted (and not stored), so a POST does not reveal it.
  Visibility visible;
};

// Ingests `objects` (a JSON array of STIX objects) into `collection_id` on
// behalf of `user_id`. Invalid objects become failures; valid ones are
// stored (idempotently) and become successes. The returned record has a new
// id and is complete, but is not saved.
Result<store::StatusRecord> IngestObjects(store::Store& store, const std::string& collection_id,
                                          const boost::json::array& objects, int64_t user_id,
                                          const IngestOptions& options);

}  // namespace kizuna::taxii
