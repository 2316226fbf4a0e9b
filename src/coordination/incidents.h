// Joint incidents (issue 13): a serious incident coordinated among chosen
// partners, as the US-Japan and INCIBE-JPCERT/CC agreements commit teams
// to do; TheHive and RTIR keep cases inside one team, this keeps one case
// among several.
//
// The team that opens it (the owner) makes a STIX 2.1 `incident` with the
// kizuna incident extension (kIncidentExtensionId: status, severity,
// category from the Reference Security Incident Taxonomy, affected sectors
// and countries, impact, and the participants: each node's name and
// Ed25519 key). Every participant adds to it with objects of its own:
// timeline entries (STIX `note`s, some of them requests for assistance),
// tasks for a participant with a due time (`kizuna-task`), links to
// indicators, observables or sightings (`relationship` related-to). Only
// the owner changes the incident itself (closing it); nobody changes
// another's entries. So two partners updating it at once never conflict:
// each update is a new object, and every node orders the timeline the same
// way (by time, then id).
//
// Each object is signed by the node that made it (x_kizuna_signature over
// the object without it, x_kizuna_signer naming the key) and carries the
// participants' keys (sharing::kParticipantsProperty) and the incident's id
// (sharing::kIncidentProperty): the sharing decision gives it to the
// participants alone, who pass one another's updates on. A node shows an
// incident whose owner is itself or a configured partner (its signature
// holds by that key) and that lists it, and an entry only when it is signed
// by a participant's key. Opening a high or critical incident raises an
// emergency (emergencies.h) to the participants.
//
// Functions only; thread-safe as the store is.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "coordination/outbound.h"

namespace kizuna::coordination {

inline constexpr std::string_view kIncidentExtensionId =
    "extension-definition--9a3d6e21-5c4b-5f7a-8e19-2b6c4d8f0a37";
inline constexpr std::string_view kTaskType = "kizuna-task";

// The Reference Security Incident Taxonomy's classes (RSIT, ENISA/TF-CSIRT).
bool IsIncidentCategory(std::string_view category);
// low, medium, high, critical; "serious" = high or critical.
bool IsIncidentSeverity(std::string_view severity);

struct Participant {
  std::string name;  // the team's name as the owner knows it
  std::string key;   // its node's Ed25519 key, base64
};

struct TimelineEntry {
  int64_t at_us = 0;
  std::string by;    // the participant's name
  std::string kind;  // opened, note, assistance-request, task, link, closed
  std::string text;
  std::string id;  // the object's
};

struct IncidentTask {
  std::string id, assignee, text, by;
  int64_t created_us = 0, due_us = 0;  // 0: no due time
};

struct Incident {
  std::string id, title, status, severity, category, impact, description;
  std::vector<std::string> sectors, countries;
  std::vector<Participant> participants;  // the owner first
  int64_t opened_us = 0, closed_us = 0;
  bool own = false;  // we are its owner
  std::vector<TimelineEntry> timeline;
  std::vector<IncidentTask> tasks;
  std::vector<std::string> links;  // object ids
};

struct OpenRequest {
  std::string title;
  std::vector<std::string> participants;  // [[peer]] names
  std::string severity = "medium", category = "other", impact, description;
  std::vector<std::string> sectors, countries;
};

// Opens an incident (see the top) and returns its id; for a high or
// critical one also the emergency raised (`*emergency`). Refuses, storing
// nothing, an unknown peer, a peer without a configured key, a participant
// the sharing decision would not give it to, a bad severity or category,
// an empty title.
Result<std::string> OpenIncident(const Outbound& outbound, const OpenRequest& request,
                                 int64_t now_us, std::string* emergency = nullptr);
// Adds a timeline entry (a request for assistance when `assistance`).
Result<std::string> AddIncidentNote(const Outbound& outbound, const std::string& incident,
                                    const std::string& text, bool assistance, int64_t now_us);
// Assigns a task to a participant: `assignee` is one of our [[peer]]s or
// our own node's name. `due_us` 0: none.
Result<std::string> AddIncidentTask(const Outbound& outbound, const std::string& incident,
                                    const std::string& assignee, const std::string& text,
                                    int64_t due_us, int64_t now_us);
// Links an object (indicator, observed-data, sighting…) to the incident.
Result<std::string> LinkToIncident(const Outbound& outbound, const std::string& incident,
                                   const std::string& object_id, int64_t now_us);
// Closes it: the owner alone (FailedPrecondition for a participant).
Status CloseIncident(const Outbound& outbound, const std::string& incident, int64_t now_us);

// The incident as this node holds it (see the top for what counts);
// NotFound when it holds no incident by that id that it may show.
Result<Incident> LoadIncident(const Outbound& outbound, const std::string& id);
Result<std::vector<Incident>> ListIncidents(const Outbound& outbound);

// {"id", "title", "status", "severity", "category", "impact", "sectors",
// "countries", "owner", "participants": [name…], "opened", "closed",
// "timeline": [{"at", "by", "kind", "text"}…], "tasks": [{"id",
// "assignee", "text", "due", "by", "created"}…], "links": [id…]}
boost::json::object IncidentJson(const Incident& incident);
std::string IncidentMarkdown(const Incident& incident);
std::string IncidentHtml(const Incident& incident);

}  // namespace kizuna::coordination
