#include "interop/export.h"

#include <functional>
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
  // Found without the objects' JSON, then read again for those versions
  // only: a million indicators' JSON is never held at once.
  struct Best {
    size_t source = 0;
    int64_t version_us = 0;
    bool taken = false;
  };
  std::unordered_map<std::string, Best> best;
  auto each_version = [&](size_t s, bool with_json,
                          const std::function<void(store::StoredObject&)>& visit) -> Status {
    const ExportSource& source = sources[s];
    store::ObjectQuery query;
    query.types = {"indicator"};
    query.version_all = true;
    query.newest_first = true;
    query.include_origin = true;
    // The sharing decision reads the JSON (sharing groups, participants).
    query.include_json = with_json || static_cast<bool>(source.admits);
    query.limit = 1000;
    while (true) {
      KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page,
                              store.QueryObjects(source.collection_id, query));
      for (store::StoredObject& version : page.objects) {
        if (source.admits && !source.admits(version)) continue;
        visit(version);
      }
      if (!page.more || page.objects.empty()) break;
      query.before_date_added_us = page.objects.back().date_added_us;
    }
    return Status::Ok();
  };
  for (size_t s = 0; s < sources.size(); ++s) {
    KIZUNA_RETURN_IF_ERROR(each_version(s, false, [&](store::StoredObject& version) {
      auto [it, fresh] = best.try_emplace(version.id);
      if (fresh || version.version_us > it->second.version_us) {
        it->second = Best{s, version.version_us, false};
      }
    }));
  }
  EnforcementSet set(filter);
  std::vector<std::vector<store::StoredObject>> released(sources.size());
  for (size_t s = 0; s < sources.size(); ++s) {
    KIZUNA_RETURN_IF_ERROR(each_version(s, true, [&](store::StoredObject& version) {
      auto it = best.find(version.id);
      if (it == best.end() || it->second.taken || it->second.source != s ||
          it->second.version_us != version.version_us) {
        return;
      }
      it->second.taken = true;
      if (set.Add(version.json) > 0 && sources[s].on_release) {
        version.json.clear();
        version.json.shrink_to_fit();
        released[s].push_back(std::move(version));
      }
    }));
  }
  // What left the node, in each collection's audit (a partner's fetch is
  // recorded as TAXII's reads are).
  for (size_t s = 0; s < sources.size(); ++s) {
    if (!released[s].empty()) sources[s].on_release(released[s]);
  }
  ExportResult result;
  const std::vector<EnforcementEntry> entries = set.TakeEntries();
  std::ostringstream out;
  KIZUNA_ASSIGN_OR_RETURN(result.left_out, WriteEnforcement(format, entries, options, out));
  result.body = std::move(out).str();
  result.values = static_cast<int64_t>(entries.size()) - result.left_out;
  result.indicators = set.indicators_seen();
  result.newest_us = set.newest_us();
  return result;
}

}  // namespace kizuna::interop
