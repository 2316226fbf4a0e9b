// MISP events out: STIX objects (what the sharing decision released) as
// MISP events, and a MISP feed directory a MISP instance can pull. Each
// report or grouping is an event holding what it refers to; indicators,
// observed-data and custom MISP objects no report refers to go into one
// more event. What came from MISP (the x_misp_* properties MispEventToStix
// keeps) goes back as it was; kizuna's own indicators become attributes by
// their pattern's values (ip-dst, domain, url, email-dst, md5…sha512,
// filename), with to_ids. Sightings go back as sightings, false-positive
// opinions as type-1 sightings, galaxy SDOs as galaxy clusters (and their
// tags), notes as event reports, TLP markings as tlp: tags.
//
// Pure functions (WriteMispFeed writes files); thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace kizuna::interop {

struct MispExportOptions {
  // The creator organisation of events made from kizuna's own objects.
  std::string org_name;
  std::string org_uuid;
  // The info of the event holding what no report refers to ("" for none such).
  std::string loose_info = "kizuna indicators";
  int64_t now_seconds = 0;
};

struct MispExport {
  std::vector<boost::json::object> events;  // each the Event object itself (not {"Event": …})
  std::vector<std::string> notes;           // what has no MISP equivalent
};

MispExport StixToMispEvents(const std::vector<boost::json::object>& objects,
                            const MispExportOptions& options);

// A feed directory: one <uuid>.json per event ({"Event": …}), manifest.json
// and hashes.csv (md5 of each attribute value, the event uuid), as PyMISP's
// feed generator writes them. Creates `dir` when missing.
Status WriteMispFeed(const std::string& dir, const std::vector<boost::json::object>& events);

}  // namespace kizuna::interop
