// One enforcement export built from the store: the newest version of every
// indicator the reader may see in the chosen collections (a version the
// reader may not see is skipped as if absent, as TAXII does), through an
// EnforcementSet's filter, written in the format. Shared by the command and
// the REST route, which differ only in who reads (the operator's --max-tlp,
// or the fetcher's sharing decision).
//
// Thread-safety: uses only its arguments; the store is thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "interop/enforcement.h"
#include "store/store.h"

namespace kizuna::interop {

struct ExportSource {
  std::string collection_id;
  // Empty: every version.
  std::function<bool(const store::StoredObject&)> admits;
  // Called with the versions whose values went out (without json); empty:
  // not recorded.
  std::function<void(const std::vector<store::StoredObject>&)> on_release;
};

struct ExportResult {
  std::string body;
  int64_t values = 0;      // lines of values written
  int64_t left_out = 0;    // values of kinds the format cannot express
  int64_t indicators = 0;  // indicators considered (visible, valid, not revoked)
  int64_t newest_us = 0;   // newest modified among those written
};

Result<ExportResult> BuildEnforcementExport(store::Store& store,
                                            const std::vector<ExportSource>& sources,
                                            ExportFormat format, const ExportFilter& filter,
                                            const ExportOptions& options);

}  // namespace kizuna::interop
