#include "interop/export.h"

#include <sstream>
#include <unordered_set>

namespace kizuna::interop {

Result<ExportResult> BuildEnforcementExport(store::Store& store,
                                            const std::vector<ExportSource>& sources,
                                            ExportFormat format, const ExportFilter& filter,
                                            const ExportOptions& options) {
  EnforcementSet set(filter);
  std::unordered_set<std::string> seen;
  for (const ExportSource& source : sources) {
    store::ObjectQuery query;
    query.types = {"indicator"};
    query.version_all = true;
    query.newest_first = true;
    query.include_origin = true;
    query.limit = 1000;
    std::unordered_set<std::string> seen_here;
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page,
                              store.QueryObjects(source.collection_id, query));
      for (const store::StoredObject& version : page.objects) {
        if (source.admits && !source.admits(version)) continue;
        // The newest version the reader may see stands for the object; the
        // same object in two collections counts once.
        if (!seen_here.insert(version.id).second) continue;
        if (!seen.insert(version.id).second) continue;
        set.Add(version.json);
      }
      if (!page.more || page.objects.empty()) break;
      query.before_date_added_us = page.objects.back().date_added_us;
    }
  }
  ExportResult result;
  const std::vector<EnforcementEntry> entries = set.Entries();
  std::ostringstream out;
  KIZUNA_ASSIGN_OR_RETURN(result.left_out, WriteEnforcement(format, entries, options, out));
  result.body = std::move(out).str();
  result.values = static_cast<int64_t>(entries.size()) - result.left_out;
  result.indicators = set.indicators_seen();
  result.newest_us = set.newest_us();
  return result;
}

}  // namespace kizuna::interop
