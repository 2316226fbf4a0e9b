// MISP events in: one MISP event (`{"Event": {...}}`, `{"response":
// [...]}` or the bare event) to STIX 2.1 objects, the way the MISP project's
// misp-stix maps them (docs/misp-notes.md): the event as a report (a
// grouping while unpublished), each attribute with to_ids as an indicator
// and without it as observed-data with its SCOs, types with no STIX
// equivalent as x-misp-attribute, objects as x-misp-object beside their
// attributes, galaxy clusters as threat-actor, attack-pattern, malware…,
// sightings as sightings (false positives as opinions), event reports as
// notes, tlp: tags as TLP markings and other tags as labels. Ids are the
// MISP uuids, so importing an event again is the same objects.
//
// Distribution is never widened: what MISP keeps to an organisation (0), a
// community (1) or a sharing group (4) is marked TLP:RED, which never
// leaves this node; connected (2) and all communities (3) take the TLP of
// the tags (the default when none).
//
// What each object was in MISP is kept in x_misp_* properties, so an export
// back to MISP restores it. Pure functions; thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "stix/stix.h"

namespace kizuna::interop {

struct MispImportOptions {
  stix::Tlp default_tlp = stix::Tlp::kAmber;  // an event without a tlp: tag
};

struct MispConversion {
  std::string event_uuid;
  int64_t event_timestamp = 0;  // seconds (MISP's Event.timestamp)
  std::string info;
  std::string creator_identity;  // identity--<Orgc.uuid>, "" when the event names none
  // The objects, the report (or grouping) last.
  std::vector<boost::json::object> objects;
  // What has no mapping, one line each ("attribute 5b1…: sighting of type 2 (expiration) dropped").
  std::vector<std::string> notes;
  int64_t attributes = 0;
  int64_t misp_objects = 0;
  int64_t sightings = 0;
  int64_t galaxies = 0;
};

// Errors: not a MISP event (no Event.uuid or info), a uuid that is not one.
Result<MispConversion> MispEventToStix(const boost::json::value& event,
                                       const MispImportOptions& options);

}  // namespace kizuna::interop
