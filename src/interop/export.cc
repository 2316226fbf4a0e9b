#include "interop/export.h"

#include <sstream>
#include <unordered_map>

namespace kizuna::interop {

Result<ExportResult> BuildEnforcementExport(store::Store& store,
                                            const std::vector<ExportSource>& sources,
                                            ExportFormat format, const ExportFilter& filter,
                                            const ExportOptions& options) {
  // Per object, the highest version the reader may see in any of the
  // sources (as TAXII's match[version]=last gives it): a revoked newest
  // version is not undone by an older copy added later or held elsewhere.
  struct Best {
    size_t source = 0;
    store::StoredObject version;
  };
  std::unordered_map<std::string, Best> best;
  for (size_t s = 0; s < sources.size(); ++s) {
    const ExportSource& source = sources[s];
    store::ObjectQuery query;
    query.types = {"indicator"};
    query.version_all = true;
    query.newest_first = true;
    query.include_origin = true;
    query.limit = 1000;
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page,
                              store.QueryObjects(source.collection_id, query));
      for (store::StoredObject& version : page.objects) {
        if (source.admits && !source.admits(version)) continue;
        auto [it, fresh] = best.try_emplace(version.id);
        if (fresh || version.version_us > it->second.version.version_us)
          it->second = Best{s, std::move(version)};
      }
      if (!page.more || page.objects.empty()) break;
      query.before_date_added_us = page.objects.back().date_added_us;
    }
  }
  EnforcementSet set(filter);
  std::vector<std::vector<store::StoredObject>> released(sources.size());
  for (auto& [id, b] : best) {
    if (set.Add(b.version.json) > 0 && sources[b.source].on_release) {
      b.version.json.clear();
      released[b.source].push_back(std::move(b.version));
    }
  }
  // What left the node, in each collection's audit (a partner's fetch is
  // recorded as TAXII's reads are).
  for (size_t s = 0; s < sources.size(); ++s) {
    if (!released[s].empty()) sources[s].on_release(released[s]);
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
