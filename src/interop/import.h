// Indicator lists into a collection: ReadIndicatorList's objects stored in
// batches through taxii::IngestObjects (the one way objects enter a
// collection: validation, producers, idempotence), skipping an indicator the
// collection already holds while it is fresh (more than half its lifetime
// left), so a list imported every day adds only what is new or about to
// expire.
//
// Thread-safety: a call uses only its arguments; the store is thread-safe.
#pragma once

#include <functional>
#include <istream>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "interop/lists.h"
#include "store/store.h"
#include "taxii/ingest.h"

namespace kizuna::interop {

struct ImportTarget {
  store::Store* store = nullptr;
  std::string collection_id;
  int64_t user_id = 0;
  taxii::IngestOptions ingest;
  // Called after each stored batch (a running node's bus is woken).
  std::function<void()> after_batch;
  // Called every 1,000 objects with the number read so far.
  std::function<void(int64_t objects)> progress;
  // This node's identity and its organizations' (taxii::HomeIdentities):
  // what a MISP event may never claim as its creator.
  std::set<std::string> home_identities;
};

struct ImportSummary {
  ListSummary list;
  int64_t added = 0;                  // new indicators (and versions renewing old ones)
  int64_t present = 0;                // already held and fresh, or the same version
  int64_t refused = 0;                // refused by the collection (validation, producers)
  std::vector<std::string> refusals;  // "id: why", the first kMaxListErrors
};

Result<ImportSummary> ImportIndicatorList(const ImportTarget& target, std::istream& input,
                                          const ListOptions& options);

}  // namespace kizuna::interop
