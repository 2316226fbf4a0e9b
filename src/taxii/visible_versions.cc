#include "taxii/visible_versions.h"

#include <algorithm>
#include <unordered_set>

namespace kizuna::taxii {

bool SelectsByExtremes(const store::ObjectQuery& query) {
  if (query.version_all) return false;
  return query.version_first || query.version_last || query.versions.empty();
}

bool SelectsVersion(const store::ObjectQuery& query, int64_t version, const VersionBounds& bounds) {
  if (query.version_all) return true;
  const bool none_set = !query.version_first && !query.version_last && query.versions.empty();
  if ((query.version_last || none_set) && version == bounds.last) return true;
  if (query.version_first && version == bounds.first) return true;
  return std::find(query.versions.begin(), query.versions.end(), version) != query.versions.end();
}

Result<std::unordered_map<std::string, VersionBounds>> VisibleBounds(
    store::Store& store, const std::string& collection_id,
    const std::vector<store::StoredObject>& page, const std::vector<bool>& admitted,
    const std::function<bool(const store::StoredObject&)>& admits) {
  std::unordered_map<std::string, VersionBounds> bounds;
  store::ObjectQuery history;
  history.version_all = true;
  history.include_json = history.include_origin = true;
  std::unordered_set<std::string> several;  // objects with more than one version
  for (size_t i = 0; i < page.size(); ++i) {
    if (!admitted[i]) continue;
    const store::StoredObject& object = page[i];
    if (object.is_first && object.is_last) {
      bounds[object.id].Add(object.version_us);
    } else if (several.insert(object.id).second) {
      history.ids.push_back(object.id);
    }
  }
  if (history.ids.empty()) return bounds;
  KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage versions, store.QueryObjects(collection_id, history));
  for (const store::StoredObject& version : versions.objects) {
    if (admits(version)) bounds[version.id].Add(version.version_us);
  }
  return bounds;
}

}  // namespace kizuna::taxii
