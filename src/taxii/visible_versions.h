// match[version] among the versions a reader may see. TAXII's "first" and
// "last" name an object's oldest and newest version; for a reader the
// sharing decision withholds some versions from, they must mean the oldest
// and newest of the versions it may see, or a withheld newer version would
// hide an older visible one and so tell that it exists (GET answers nothing
// where version=all answers something; DELETE would remove what the reader
// never saw). The store keeps is_first/is_last over every version, so a
// reader with a scope reads every version and selects after the decision.
//
// Pure functions, except VisibleBounds (store reads); thread-safe as the
// store is.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace kizuna::taxii {

// The oldest and newest version a reader may see of one object.
struct VersionBounds {
  int64_t first = std::numeric_limits<int64_t>::max();
  int64_t last = std::numeric_limits<int64_t>::min();
  void Add(int64_t version) {
    first = std::min(first, version);
    last = std::max(last, version);
  }
};

// Whether the query's match[version] names "first" or "last" (explicitly or
// as the default), so that choosing depends on which versions are visible.
bool SelectsByExtremes(const store::ObjectQuery& query);

// Whether the query's match[version] selects `version` of an object whose
// visible versions span `bounds` (spec_version and the other filters are
// not looked at).
bool SelectsVersion(const store::ObjectQuery& query, int64_t version, const VersionBounds& bounds);

// The bounds of the visible versions of every object that has an admitted
// version among `page` (admitted[i] tells for page[i]). An object whose row
// is both its first and its last version costs nothing; the others' whole
// history in the collection is read once, in one query, json and origin
// included for `admits`.
Result<std::unordered_map<std::string, VersionBounds>> VisibleBounds(
    store::Store& store, const std::string& collection_id,
    const std::vector<store::StoredObject>& page, const std::vector<bool>& admitted,
    const std::function<bool(const store::StoredObject&)>& admits);

}  // namespace kizuna::taxii
