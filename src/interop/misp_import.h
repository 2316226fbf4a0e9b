// MISP events into a collection: single event files, and MISP feeds (a
// directory holding manifest.json and one <uuid>.json per event, as MISP
// and PyMISP's feed generator write them). A feed import is incremental:
// an event is read again only when the manifest's timestamp is newer than
// the one last imported (kept in the store, meta key
// "misp:event:<collection>:<uuid>"), as MISP itself decides. A bad event (unreadable,
// not JSON, not an event) is reported and skipped, never fatal. An event
// is stored as its creator organisation's (origin "misp:<Orgc uuid>"), never
// as this team's: it may change only what it stored itself.
//
// Thread-safety: a call uses only its arguments; the store is thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/http.h"
#include "interop/import.h"
#include "interop/misp.h"

namespace kizuna::interop {

struct MispImportSummary {
  int64_t events = 0;            // events read
  int64_t events_unchanged = 0;  // a feed's events not newer than last time
  int64_t objects_added = 0;
  int64_t objects_present = 0;
  int64_t objects_refused = 0;
  int64_t attributes = 0;
  int64_t sightings = 0;
  std::vector<std::string> notes;   // what has no mapping (the first kMaxListErrors)
  std::vector<std::string> errors;  // events skipped, objects refused (the first kMaxListErrors)
};

// One file holding a MISP event ({"Event"}, {"response": […]}, or a list of them).
Result<MispImportSummary> ImportMispFile(const ImportTarget& target, const std::string& path,
                                         const MispImportOptions& options);

// A feed directory (manifest.json beside the events).
Result<MispImportSummary> ImportMispFeed(const ImportTarget& target, const std::string& dir,
                                         const MispImportOptions& options);

// Where a feed is read over HTTP(S): MISP feeds are plain URLs, some behind
// a header (an auth key), some under a private CA.
struct MispFeedSource {
  http::Headers headers;
  std::string ca_file;  // PEM bundle to trust; "": the system's
};

// A feed at a URL (its directory, or its manifest.json), with the same
// incremental rule as a directory; an event that cannot be fetched is
// reported and tried again by the next import.
Result<MispImportSummary> ImportMispFeedUrl(const ImportTarget& target, const std::string& url,
                                            const MispFeedSource& source,
                                            const MispImportOptions& options);
bool IsFeedUrl(std::string_view text);

// One event's objects into target's collection, stored under `origin`
// ("": "misp:<Orgc uuid>", its creator's); an event that is not one, names
// no creator or claims a home identity is kept in summary->errors, not
// returned. Each object's outcome is appended to *results when given.
Status StoreMispEvent(const ImportTarget& target, const boost::json::value& event,
                      const MispImportOptions& options, const std::string& where,
                      const std::string& origin, MispImportSummary* summary,
                      store::StatusRecord* results = nullptr);

// Whether `path` is a MISP feed directory or a file holding a MISP event
// (by its first bytes).
bool IsMispFeed(const std::string& path);
bool LooksLikeMispEvent(const std::string& path);

}  // namespace kizuna::interop
