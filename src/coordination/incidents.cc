#include "coordination/incidents.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "coordination/directory.h"
#include "coordination/emergencies.h"
#include "coordination/objects.h"
#include "federation/signing.h"

namespace kizuna::coordination {

namespace json = boost::json;

namespace {

using sharing::kObjectSignatureProperty;
using sharing::kSignerProperty;
constexpr std::string_view kNoteKindProperty = "x_kizuna_note_kind";
constexpr size_t kMaxTextBytes = 16000;
constexpr size_t kMaxTitleBytes = 500;

constexpr std::string_view kCategories[] = {"abusive-content",
                                            "malicious-code",
                                            "information-gathering",
                                            "intrusion-attempts",
                                            "intrusions",
                                            "availability",
                                            "information-content-security",
                                            "fraud",
                                            "vulnerable",
                                            "other",
                                            "test"};
constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

std::vector<std::string> StringList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const json::value& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

const json::object* Extension(const json::object& incident) {
  const json::value* extensions = incident.if_contains("extensions");
  const json::value* ext = extensions && extensions->is_object()
                               ? extensions->get_object().if_contains(kIncidentExtensionId)
                               : nullptr;
  return ext && ext->is_object() ? &ext->get_object() : nullptr;
}

// Signs `object` as our node's (the signer's key named in it).
void SignObject(const Outbound& out, json::object& object) {
  object.erase(kObjectSignatureProperty);
  object[kSignerProperty] = out.identity->public_key_base64;
  object[kObjectSignatureProperty] = Base64Encode(out.sign(json::serialize(object)));
}

// The key whose signature the object carries, when it holds.
std::optional<std::string> SignerOf(const json::object& object) {
  const std::string signer = Text(object, kSignerProperty);
  const std::string signature = Text(object, kObjectSignatureProperty);
  if (signer.empty() || signature.empty()) return std::nullopt;
  json::object unsigned_object = object;
  unsigned_object.erase(kObjectSignatureProperty);
  if (!federation::VerifySignature(signer, json::serialize(unsigned_object), signature)) {
    return std::nullopt;
  }
  return signer;
}

// The common part of every object of an incident: ours, marked, restricted
// to its participants.
json::object Base(const Outbound& out, std::string_view type, const std::string& id,
                  const std::string& incident, const std::vector<Participant>& participants,
                  int64_t now_us) {
  const std::string now = FormatTimestamp(now_us, 3);
  json::object o{{"type", type},    {"spec_version", "2.1"},
                 {"id", id},        {"created", now},
                 {"modified", now}, {"created_by_ref", out.identity->identity_id}};
  if (out.tlp != stix::Tlp::kNone) {
    o["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(out.tlp))};
  }
  json::array keys;
  for (const Participant& p : participants) keys.emplace_back(p.key);
  o[sharing::kParticipantsProperty] = std::move(keys);
  o[sharing::kIncidentProperty] = incident;
  return o;
}

std::string NameOfKey(const std::vector<Participant>& participants, const std::string& key) {
  for (const Participant& p : participants) {
    if (p.key == key) return p.name;
  }
  return "";
}

// Whether `key` is that of whoever stored this version: our node's for
// ours, the configured key of the peer that delivered it for a partner's.
// An incident counts only as its owner delivered it (not relayed), so no
// participant can pass its own version off as the owner's.
bool DeliveredBySigner(const Outbound& out, const std::string& origin, const std::string& key) {
  if (origin.empty()) return key == out.identity->public_key_base64;
  for (const node::PeerConfig& p : out.policy->peers()) {
    if (p.name == origin) return !p.public_key.empty() && p.public_key == key;
  }
  return false;
}

// The incident objects a node holds, read once for many incidents.
struct Held {
  std::vector<Found> incidents, notes, tasks, links;
};

Result<Held> ReadHeld(const Outbound& out) {
  Held held;
  KIZUNA_ASSIGN_OR_RETURN(held.incidents, FindObjects(*out.store, "incident"));
  KIZUNA_ASSIGN_OR_RETURN(held.notes, FindObjects(*out.store, "note"));
  KIZUNA_ASSIGN_OR_RETURN(held.tasks, FindObjects(*out.store, kTaskType));
  KIZUNA_ASSIGN_OR_RETURN(held.links, FindObjects(*out.store, "relationship"));
  return held;
}

// Every version of the incident `id` its owner delivered, oldest first.
std::vector<json::object> IncidentVersions(const Outbound& out, const Held& held,
                                           const std::string& id) {
  std::vector<json::object> versions;
  std::string owner_key;
  for (const Found& f : held.incidents) {
    if (Text(f.object, "id") != id || !Extension(f.object)) continue;
    std::optional<std::string> signer = SignerOf(f.object);
    if (!signer || !DeliveredBySigner(out, f.origin, *signer)) continue;
    if (owner_key.empty()) owner_key = *signer;
    if (*signer != owner_key) continue;  // only its owner changes it
    versions.push_back(f.object);
  }
  std::stable_sort(versions.begin(), versions.end(),
                   [](const json::object& a, const json::object& b) {
                     return Time(a, "modified") < Time(b, "modified");
                   });
  return versions;
}

std::vector<Participant> ParticipantsOf(const json::object& incident) {
  std::vector<Participant> out;
  const json::object* ext = Extension(incident);
  const json::value* list = ext ? ext->if_contains("participants") : nullptr;
  if (!list || !list->is_array()) return out;
  for (const json::value& p : list->get_array()) {
    if (!p.is_object()) continue;
    out.push_back(Participant{Text(p.get_object(), "name"), Text(p.get_object(), "key")});
  }
  return out;
}

Status CheckText(std::string_view what, const std::string& text) {
  if (text.empty()) return InvalidArgument(std::string(what) + ": empty");
  return coordination::CheckText(what, text, kMaxTextBytes);
}

// Stores our new object of an incident we may add to.
Result<std::string> AddToIncident(const Outbound& out, json::object object) {
  SignObject(out, object);
  KIZUNA_RETURN_IF_ERROR(StoreOwn(*out.store, *out.config, *out.identity, {object}));
  if (out.notify) out.notify();
  return Text(object, "id");
}

}  // namespace

bool IsIncidentCategory(std::string_view category) {
  return std::find(std::begin(kCategories), std::end(kCategories), category) !=
         std::end(kCategories);
}

bool IsIncidentSeverity(std::string_view severity) {
  return std::find(std::begin(kSeverities), std::end(kSeverities), severity) !=
         std::end(kSeverities);
}

Result<std::string> OpenIncident(const Outbound& out, const OpenRequest& request, int64_t now_us,
                                 std::string* emergency) {
  KIZUNA_RETURN_IF_ERROR(CheckText("the title", request.title));
  if (request.title.size() > kMaxTitleBytes) return InvalidArgument("the title: at most 500 bytes");
  KIZUNA_RETURN_IF_ERROR(CheckPartners(*out.policy, request.participants));
  if (!IsIncidentSeverity(request.severity)) {
    return InvalidArgument("severity: low, medium, high or critical, got '" + request.severity +
                           "'");
  }
  if (!IsIncidentCategory(request.category)) {
    return InvalidArgument(
        "category: a Reference Security Incident Taxonomy class (malicious-code, "
        "intrusions, availability, …), got '" +
        request.category + "'");
  }
  KIZUNA_RETURN_IF_ERROR(coordination::CheckText("the impact", request.impact, kMaxTextBytes));
  KIZUNA_RETURN_IF_ERROR(
      coordination::CheckText("the description", request.description, kMaxTextBytes));
  // The participants: us first, then each partner by its directory name
  // (or our name for it) and its configured key.
  KIZUNA_ASSIGN_OR_RETURN(std::vector<DirectoryEntry> directory,
                          ListDirectory(*out.store, out.policy->peers(), *out.identity, now_us,
                                        /*stale_after_days=*/3650));
  std::vector<Participant> participants{{out.identity->name, out.identity->public_key_base64}};
  for (const std::string& peer : request.participants) {
    const node::PeerConfig* config = nullptr;
    for (const node::PeerConfig& p : out.policy->peers()) {
      if (p.name == peer) config = &p;
    }
    if (config == nullptr || config->public_key.empty()) {
      return FailedPrecondition("partner '" + peer +
                                "' has no public_key configured: an incident goes to signing "
                                "partners only");
    }
    // Its team's name from its entry, unless another participant has it
    // (a partner cannot pass for another): then our name for it.
    std::string name = peer;
    for (const DirectoryEntry& e : directory) {
      if (e.peer == peer && !e.name.empty()) name = e.name;
    }
    for (const Participant& p : participants) {
      if (p.name == name || p.key == config->public_key) name = peer;
    }
    for (const Participant& p : participants) {
      if (p.name == name || p.key == config->public_key) {
        return InvalidArgument("partner '" + peer + "' is named twice, or shares a key or a name");
      }
    }
    participants.push_back(Participant{name, config->public_key});
  }
  const std::string id = "incident--" + NewUuid4();
  json::object incident = Base(out, "incident", id, id, participants, now_us);
  incident["name"] = request.title;
  if (!request.description.empty()) incident["description"] = request.description;
  json::array listed;
  for (const Participant& p : participants) {
    listed.push_back(json::object{{"name", p.name}, {"key", p.key}});
  }
  incident["extensions"] = json::object{
      {kIncidentExtensionId, json::object{{"extension_type", "property-extension"},
                                          {"status", "open"},
                                          {"severity", request.severity},
                                          {"category", request.category},
                                          {"affected_sectors", Strings(request.sectors)},
                                          {"affected_countries", Strings(request.countries)},
                                          {"impact", request.impact},
                                          {"participants", std::move(listed)},
                                          {"opened", FormatTimestamp(now_us, 3)}}}};
  for (const std::string& peer : request.participants) {
    KIZUNA_RETURN_IF_ERROR(CheckMayReceive(*out.policy, peer, incident, out.tlp));
  }
  KIZUNA_ASSIGN_OR_RETURN(std::string opened, AddToIncident(out, std::move(incident)));
  if (out.db != nullptr) {
    auto lock = out.db->Lock();
    KIZUNA_RETURN_IF_ERROR(Audit(out.db->connection(), now_us, id, "opened",
                                 request.severity + " " + request.category + ": " + request.title));
  }
  if (request.severity == "high" || request.severity == "critical") {
    // A serious incident: the participants' people must know now.
    EmergencyRequest raise;
    raise.peers = request.participants;
    raise.summary = "Joint incident opened (" + request.severity + ", " + request.category +
                    "): " + request.title + " [" + id + "]";
    raise.raised_by = "incident " + id;
    KIZUNA_ASSIGN_OR_RETURN(std::string raised, RaiseEmergency(out, raise, now_us));
    if (emergency) *emergency = raised;
  }
  return opened;
}

Result<std::string> AddIncidentNote(const Outbound& out, const std::string& incident,
                                    const std::string& text, bool assistance, int64_t now_us) {
  KIZUNA_RETURN_IF_ERROR(CheckText("the text", text));
  KIZUNA_ASSIGN_OR_RETURN(Incident loaded, LoadIncident(out, incident));
  json::object note =
      Base(out, "note", "note--" + NewUuid4(), incident, loaded.participants, now_us);
  note["content"] = text;
  note["authors"] = json::array{json::string(out.identity->name)};
  note["object_refs"] = json::array{json::string(incident)};
  note[kNoteKindProperty] = assistance ? "assistance-request" : "note";
  return AddToIncident(out, std::move(note));
}

Result<std::string> AddIncidentTask(const Outbound& out, const std::string& incident,
                                    const std::string& assignee, const std::string& text,
                                    int64_t due_us, int64_t now_us) {
  KIZUNA_RETURN_IF_ERROR(CheckText("the task", text));
  KIZUNA_ASSIGN_OR_RETURN(Incident loaded, LoadIncident(out, incident));
  std::string key;
  if (assignee == out.identity->name) key = out.identity->public_key_base64;
  for (const node::PeerConfig& p : out.policy->peers()) {
    if (p.name == assignee) key = p.public_key;
  }
  const std::string name = key.empty() ? "" : NameOfKey(loaded.participants, key);
  if (name.empty()) {
    return InvalidArgument("--assign: '" + assignee +
                           "' is not a participant (one of our [[peer]]s in the incident, or " +
                           out.identity->name + ")");
  }
  json::object task = Base(out, kTaskType, std::string(kTaskType) + "--" + NewUuid4(), incident,
                           loaded.participants, now_us);
  task["incident_ref"] = incident;
  task["assignee"] = name;
  task["assignee_key"] = key;
  task["text"] = text;
  if (due_us != 0) task["due"] = FormatTimestamp(due_us, 3);
  task["extensions"] =
      json::object{{kObjectsExtensionId, json::object{{"extension_type", "new-sdo"}}}};
  return AddToIncident(out, std::move(task));
}

Result<std::string> LinkToIncident(const Outbound& out, const std::string& incident,
                                   const std::string& object_id, int64_t now_us) {
  const size_t dashes = object_id.find("--");
  if (dashes == std::string::npos || dashes == 0 || !IsUuid(object_id.substr(dashes + 2))) {
    return InvalidArgument("not a STIX id: '" + object_id + "'");
  }
  KIZUNA_ASSIGN_OR_RETURN(Incident loaded, LoadIncident(out, incident));
  json::object link = Base(out, "relationship", "relationship--" + NewUuid4(), incident,
                           loaded.participants, now_us);
  link["relationship_type"] = "related-to";
  link["source_ref"] = incident;
  link["target_ref"] = object_id;
  return AddToIncident(out, std::move(link));
}

Status CloseIncident(const Outbound& out, const std::string& incident, int64_t now_us) {
  KIZUNA_ASSIGN_OR_RETURN(Incident loaded, LoadIncident(out, incident));
  if (!loaded.own) {
    return FailedPrecondition("only its owner (" + loaded.participants.front().name +
                              ") closes an incident");
  }
  if (loaded.status == "closed") return Status::Ok();
  KIZUNA_ASSIGN_OR_RETURN(Held held, ReadHeld(out));
  std::vector<json::object> versions = IncidentVersions(out, held, incident);
  if (versions.empty()) return NotFound("no incident " + incident + " here");
  json::object next = versions.back();
  // A new version: later than the last one even within its millisecond.
  const int64_t modified = std::max(now_us, Time(next, "modified") + 1000);
  next["modified"] = FormatTimestamp(modified, 3);
  json::object& ext = next["extensions"].as_object()[kIncidentExtensionId].as_object();
  ext["status"] = "closed";
  ext["closed"] = FormatTimestamp(modified, 3);
  KIZUNA_RETURN_IF_ERROR(AddToIncident(out, std::move(next)).status());
  if (out.db != nullptr) {
    auto lock = out.db->Lock();
    KIZUNA_RETURN_IF_ERROR(Audit(out.db->connection(), now_us, incident, "closed", ""));
  }
  return Status::Ok();
}

namespace {

Result<Incident> LoadFrom(const Outbound& out, const Held& held, const std::string& id) {
  std::vector<json::object> versions = IncidentVersions(out, held, id);
  if (versions.empty()) return NotFound("no incident " + id + " here");
  const json::object& first = versions.front();
  const json::object& last = versions.back();
  Incident incident;
  incident.id = id;
  incident.participants = ParticipantsOf(first);  // fixed when it was opened
  bool listed = false;
  for (const Participant& p : incident.participants) {
    listed = listed || p.key == out.identity->public_key_base64;
  }
  if (!listed || incident.participants.empty() ||
      incident.participants.front().key != Text(first, kSignerProperty)) {
    return NotFound("no incident " + id + " here");
  }
  incident.own = incident.participants.front().key == out.identity->public_key_base64;
  const json::object& ext = *Extension(last);
  incident.title = Text(last, "name");
  incident.description = Text(last, "description");
  incident.status = Text(ext, "status");
  incident.severity = Text(ext, "severity");
  incident.category = Text(ext, "category");
  incident.impact = Text(ext, "impact");
  incident.sectors = StringList(ext, "affected_sectors");
  incident.countries = StringList(ext, "affected_countries");
  incident.opened_us = Time(first, "created");
  const std::string owner = incident.participants.front().name;
  incident.timeline.push_back(TimelineEntry{incident.opened_us, owner, "opened",
                                            "opened: " + Text(first, "name") + " (" +
                                                Text(*Extension(first), "severity") + ", " +
                                                Text(*Extension(first), "category") + ")",
                                            id});
  if (incident.status == "closed") {
    incident.closed_us = Time(ext, "closed");
    incident.timeline.push_back(TimelineEntry{incident.closed_us, owner, "closed", "closed", id});
  }
  // The participants' entries, each by its signer: the first version of
  // each that a participant signed (a copy altered on the way is not one).
  std::set<std::string> seen;
  for (const auto& [type, found] :
       {std::pair<std::string_view, const std::vector<Found>*>{"note", &held.notes},
        {kTaskType, &held.tasks},
        {"relationship", &held.links}}) {
    for (const Found& f : *found) {
      const json::object& o = f.object;
      if (Text(o, sharing::kIncidentProperty) != id) continue;
      const std::string object_id = Text(o, "id");
      if (seen.count(object_id)) continue;
      std::optional<std::string> signer = SignerOf(o);
      const std::string by = signer ? NameOfKey(incident.participants, *signer) : "";
      if (by.empty()) continue;  // not a participant's
      seen.insert(object_id);
      const int64_t at = Time(o, "created");
      if (type == "note") {
        const std::string kind =
            Text(o, kNoteKindProperty) == "assistance-request" ? "assistance-request" : "note";
        incident.timeline.push_back(TimelineEntry{
            at, by, kind, (kind == "note" ? "" : "assistance requested: ") + Text(o, "content"),
            object_id});
      } else if (type == kTaskType) {
        IncidentTask task{object_id, Text(o, "assignee"), Text(o, "text"), by, at, Time(o, "due")};
        if (NameOfKey(incident.participants, Text(o, "assignee_key")) != task.assignee) continue;
        incident.timeline.push_back(
            TimelineEntry{at, by, "task",
                          "task for " + task.assignee + ": " + task.text +
                              (task.due_us ? " (due " + FormatTimestamp(task.due_us, 0) + ")" : ""),
                          object_id});
        incident.tasks.push_back(std::move(task));
      } else {
        if (Text(o, "source_ref") != id) continue;
        incident.links.push_back(Text(o, "target_ref"));
        incident.timeline.push_back(
            TimelineEntry{at, by, "link", "linked " + Text(o, "target_ref"), object_id});
      }
    }
  }
  // The same order on every node: by time (the opening first and the
  // closing last within one), then id.
  auto rank = [](const TimelineEntry& e) {
    return e.kind == "opened" ? 0 : e.kind == "closed" ? 2 : 1;
  };
  std::sort(incident.timeline.begin(), incident.timeline.end(),
            [&rank](const TimelineEntry& a, const TimelineEntry& b) {
              if (a.at_us != b.at_us) return a.at_us < b.at_us;
              if (rank(a) != rank(b)) return rank(a) < rank(b);
              return a.id < b.id;
            });
  std::sort(incident.tasks.begin(), incident.tasks.end(),
            [](const IncidentTask& a, const IncidentTask& b) {
              return a.created_us != b.created_us ? a.created_us < b.created_us : a.id < b.id;
            });
  std::sort(incident.links.begin(), incident.links.end());
  return incident;
}

}  // namespace

Result<Incident> LoadIncident(const Outbound& out, const std::string& id) {
  KIZUNA_ASSIGN_OR_RETURN(Held held, ReadHeld(out));
  return LoadFrom(out, held, id);
}

Result<std::vector<Incident>> ListIncidents(const Outbound& out) {
  KIZUNA_ASSIGN_OR_RETURN(Held held, ReadHeld(out));
  std::set<std::string> ids;
  for (const Found& f : held.incidents) {
    if (Extension(f.object)) ids.insert(Text(f.object, "id"));
  }
  std::vector<Incident> out_list;
  for (const std::string& id : ids) {
    Result<Incident> incident = LoadFrom(out, held, id);
    if (incident.ok()) out_list.push_back(std::move(*incident));
  }
  std::sort(out_list.begin(), out_list.end(),
            [](const Incident& a, const Incident& b) { return a.opened_us > b.opened_us; });
  return out_list;
}

json::object IncidentJson(const Incident& i) {
  json::array participants, timeline, tasks, links;
  for (const Participant& p : i.participants) participants.emplace_back(p.name);
  for (const TimelineEntry& e : i.timeline) {
    timeline.push_back(json::object{
        {"at", FormatTimestamp(e.at_us, 3)}, {"by", e.by}, {"kind", e.kind}, {"text", e.text}});
  }
  for (const IncidentTask& t : i.tasks) {
    tasks.push_back(
        json::object{{"id", t.id},
                     {"assignee", t.assignee},
                     {"text", t.text},
                     {"due", t.due_us ? json::value(FormatTimestamp(t.due_us, 3)) : json::value()},
                     {"by", t.by},
                     {"created", FormatTimestamp(t.created_us, 3)}});
  }
  for (const std::string& l : i.links) links.emplace_back(l);
  return json::object{
      {"id", i.id},
      {"title", i.title},
      {"status", i.status},
      {"severity", i.severity},
      {"category", i.category},
      {"impact", i.impact},
      {"sectors", Strings(i.sectors)},
      {"countries", Strings(i.countries)},
      {"owner", i.participants.empty() ? "" : i.participants.front().name},
      {"participants", std::move(participants)},
      {"opened", FormatTimestamp(i.opened_us, 3)},
      {"closed", i.closed_us ? json::value(FormatTimestamp(i.closed_us, 3)) : json::value()},
      {"timeline", std::move(timeline)},
      {"tasks", std::move(tasks)},
      {"links", std::move(links)}};
}

namespace {

// Text as Markdown shows it, never as markup: no table cell break, no
// link, image, emphasis, code or HTML a partner could slip in.
std::string MarkdownCell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      out += "<br>";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '&') {
      out += "&amp;";
    } else if (std::string_view("|\\`*_[]()!#~").find(c) != std::string_view::npos) {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "-" : out;
}

std::vector<std::string> Names(const Incident& i) {
  std::vector<std::string> out;
  for (size_t n = 0; n < i.participants.size(); ++n) {
    out.push_back(i.participants[n].name + (n == 0 ? " (owner)" : ""));
  }
  return out;
}

}  // namespace

std::string IncidentMarkdown(const Incident& i) {
  std::string md = "# " + MarkdownCell(i.title) + "\n\n";
  md += "- **Incident:** " + MarkdownCell(i.id) + "\n";
  md += "- **Status:** " + MarkdownCell(i.status) + " · **Severity:** " + MarkdownCell(i.severity) +
        " · **Category:** " + MarkdownCell(i.category) + "\n";
  md += "- **Participants:** " + MarkdownCell(Join(Names(i))) + "\n";
  md += "- **Opened:** " + FormatTimestamp(i.opened_us, 0) +
        (i.closed_us ? " · **Closed:** " + FormatTimestamp(i.closed_us, 0) : "") + "\n";
  if (!i.sectors.empty() || !i.countries.empty()) {
    md += "- **Affected:** sectors " + MarkdownCell(Join(i.sectors)) + "; countries " +
          MarkdownCell(Join(i.countries)) + "\n";
  }
  if (!i.impact.empty()) md += "- **Impact:** " + MarkdownCell(i.impact) + "\n";
  md += "\n## Timeline\n\n| Time (UTC) | By | Entry |\n|---|---|---|\n";
  for (const TimelineEntry& e : i.timeline) {
    md += "| " + FormatTimestamp(e.at_us, 0) + " | " + MarkdownCell(e.by) + " | " +
          MarkdownCell(e.text) + " |\n";
  }
  md += "\n## Tasks\n\n";
  if (i.tasks.empty()) md += "None.\n";
  for (const IncidentTask& t : i.tasks) {
    md += "- **" + MarkdownCell(t.assignee) + "**" +
          (t.due_us ? ", due " + FormatTimestamp(t.due_us, 0) : "") + ": " + MarkdownCell(t.text) +
          " (from " + MarkdownCell(t.by) + ")\n";
  }
  if (!i.links.empty()) {
    md += "\n## Linked objects\n\n";
    for (const std::string& l : i.links) md += "- " + MarkdownCell(l) + "\n";
  }
  return md;
}

std::string IncidentHtml(const Incident& i) {
  std::string h = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" +
                  HtmlEscape(i.title) + "</title></head><body>\n<h1>" + HtmlEscape(i.title) +
                  "</h1>\n<ul>\n";
  h += "<li>Incident: " + HtmlEscape(i.id) + "</li>\n";
  h += "<li>Status: " + HtmlEscape(i.status) + "; severity: " + HtmlEscape(i.severity) +
       "; category: " + HtmlEscape(i.category) + "</li>\n";
  h += "<li>Participants: " + HtmlEscape(Join(Names(i))) + "</li>\n";
  h += "<li>Opened: " + FormatTimestamp(i.opened_us, 0) +
       (i.closed_us ? "; closed: " + FormatTimestamp(i.closed_us, 0) : "") + "</li>\n";
  if (!i.impact.empty()) h += "<li>Impact: " + HtmlEscape(i.impact) + "</li>\n";
  h += "</ul>\n<h2>Timeline</h2>\n<table>\n<tr><th>Time (UTC)</th><th>By</th><th>Entry</th></tr>\n";
  for (const TimelineEntry& e : i.timeline) {
    h += "<tr><td>" + FormatTimestamp(e.at_us, 0) + "</td><td>" + HtmlEscape(e.by) + "</td><td>" +
         HtmlEscape(e.text) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Tasks</h2>\n<ul>\n";
  for (const IncidentTask& t : i.tasks) {
    h += "<li><b>" + HtmlEscape(t.assignee) + "</b>" +
         (t.due_us ? ", due " + FormatTimestamp(t.due_us, 0) : "") + ": " + HtmlEscape(t.text) +
         " (from " + HtmlEscape(t.by) + ")</li>\n";
  }
  h += "</ul>\n</body></html>\n";
  return h;
}

}  // namespace kizuna::coordination
