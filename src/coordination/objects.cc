#include "coordination/objects.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/time.h"
#include "common/uuid.h"
#include "coordination/directory.h"
#include "coordination/outbound.h"
#include "sharing/policy.h"

namespace kizuna::coordination {

namespace json = boost::json;

json::object ObjectsExtensionDefinition(const std::string& producer_identity) {
  const char* created = "2026-11-30T00:00:00.000Z";
  return json::object{
      {"type", "extension-definition"},
      {"spec_version", "2.1"},
      {"id", kObjectsExtensionId},
      {"created", created},
      {"modified", created},
      {"created_by_ref", producer_identity},
      {"name", "kizuna coordination objects"},
      {"description",
       "Objects cooperating CSIRTs' kizuna nodes address to one another: kizuna-drill "
       "(a communication drill: drill, message, started, deadline), kizuna-drill-ack (its "
       "acknowledgement: drill_ref, drill, acknowledged), kizuna-emergency (emergency, summary, "
       "raised, ack_minutes), kizuna-emergency-ack (emergency_ref, emergency, acknowledged), "
       "kizuna-task (a joint incident's task: incident_ref, assignee, assignee_key, text, due)"},
      {"schema", "https://github.com/kizuna-csirt/kizuna/blob/main/src/coordination/drills.h"},
      {"version", "1.0"},
      {"extension_types", json::array{"new-sdo"}},
      {"object_marking_refs", json::array{json::string(stix::TlpMarkingId(stix::Tlp::kClear))}}};
}

json::object IncidentExtensionDefinition(const std::string& producer_identity) {
  const char* created = "2026-11-30T00:00:00.000Z";
  return json::object{
      {"type", "extension-definition"},
      {"spec_version", "2.1"},
      {"id", "extension-definition--9a3d6e21-5c4b-5f7a-8e19-2b6c4d8f0a37"},
      {"created", created},
      {"modified", created},
      {"created_by_ref", producer_identity},
      {"name", "kizuna joint incident"},
      {"description",
       "An incident coordinated among CSIRTs: status (open, closed), severity (low, medium, "
       "high, critical), category (a Reference Security Incident Taxonomy class), "
       "affected_sectors, affected_countries, impact, participants [{name, key (Ed25519, "
       "base64)}] with the owner first, opened, closed"},
      {"schema", "https://github.com/kizuna-csirt/kizuna/blob/main/src/coordination/incidents.h"},
      {"version", "1.0"},
      {"extension_types", json::array{"property-extension"}},
      {"object_marking_refs", json::array{json::string(stix::TlpMarkingId(stix::Tlp::kClear))}}};
}

json::object NewAddressedObject(std::string_view type, const std::string& id,
                                const node::NodeIdentity& identity, stix::Tlp tlp,
                                const std::string& peer, int64_t now_us) {
  const std::string now = FormatTimestamp(now_us, 3);
  json::object object{{"type", type},    {"spec_version", "2.1"},
                      {"id", id},        {"created", now},
                      {"modified", now}, {"created_by_ref", identity.identity_id}};
  if (tlp != stix::Tlp::kNone) {
    object["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(tlp))};
  }
  object[sharing::kAddressedToProperty] = peer;
  object["extensions"] =
      json::object{{kObjectsExtensionId, json::object{{"extension_type", "new-sdo"}}}};
  return object;
}

Status StoreOwn(store::Store& store, const node::NodeConfig& config,
                const node::NodeIdentity& identity, const std::vector<json::object>& objects) {
  KIZUNA_ASSIGN_OR_RETURN(store::Collection collection,
                          EnsureCoordinationCollection(store, config, identity));
  std::vector<store::NewObject> batch;
  for (const json::object& object : objects) {
    KIZUNA_ASSIGN_OR_RETURN(stix::ObjectInfo info, stix::ValidateObject(object));
    batch.push_back(store::NewObject{info, json::serialize(object), ""});
  }
  return store.AddObjects(collection.id, batch).status();
}

Result<std::vector<Found>> FindObjects(store::Store& store, std::string_view type) {
  std::vector<Found> out;
  KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Collection> collections, store.ListCollections());
  for (const store::Collection& c : collections) {
    store::ObjectQuery query;
    query.types = {std::string(type)};
    query.version_all = true;
    query.include_origin = true;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(c.id, query));
    for (store::StoredObject& stored : page.objects) {
      boost::system::error_code ec;
      json::value parsed = json::parse(stored.json, ec);
      if (ec || !parsed.is_object()) continue;
      out.push_back(Found{std::move(parsed.get_object()), std::move(stored.origin),
                          stored.date_added_us, stored.tlp});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Found& a, const Found& b) {
    return a.date_added_us < b.date_added_us;
  });
  return out;
}

Result<std::vector<Received>> ReceivedOfType(store::Store& store, std::string_view type,
                                             std::string_view ack_type,
                                             std::string_view ref_property) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Found> objects, FindObjects(store, type));
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Found> acks, FindObjects(store, ack_type));
  // (sender, object) -> our acknowledgement
  std::map<std::pair<std::string, std::string>, int64_t> acked;
  for (const Found& a : acks) {
    if (!a.origin.empty()) continue;
    const int64_t at = Time(a.object, "acknowledged");
    auto [it, added] = acked.try_emplace(
        {Text(a.object, std::string(sharing::kAddressedToProperty)), Text(a.object, ref_property)},
        at);
    if (!added) it->second = std::min(it->second, at);
  }
  // By sender and id: another partner sending an object under the same id
  // is another object (it cannot take the first one's place).
  std::map<std::pair<std::string, std::string>, Received> by_id;
  for (Found& f : objects) {
    if (f.origin.empty()) continue;  // one we sent
    std::pair<std::string, std::string> key{f.origin, Text(f.object, "id")};
    if (by_id.count(key)) continue;  // its first version counts
    Received r;
    r.id = key.second;
    r.from = f.origin;
    r.received_us = f.date_added_us;
    r.tlp = f.tlp;
    auto a = acked.find(key);
    if (a != acked.end()) r.acknowledged_us = a->second;
    r.object = std::move(f.object);
    by_id.emplace(std::move(key), std::move(r));
  }
  std::vector<Received> out;
  for (auto& [id, r] : by_id) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(),
            [](const Received& a, const Received& b) { return a.received_us > b.received_us; });
  return out;
}

Status Acknowledge(store::Store& store, const node::NodeConfig& config,
                   const node::NodeIdentity& identity, const sharing::SharingPolicy& policy,
                   std::string_view ack_type, std::string_view ref_property,
                   const json::object& fields, int64_t now_us, Received* received) {
  if (received->acknowledged_us != 0) return Status::Ok();
  constexpr std::string_view kAckNamespace = "2d7f9b1e-6c3a-4e8d-b5f0-7a1c9e3d2b64";
  json::object ack = NewAddressedObject(
      ack_type,
      std::string(ack_type) + "--" + Uuid5(kAckNamespace, received->from + "/" + received->id),
      identity, received->tlp, received->from, now_us);
  for (const auto& [key, value] : fields) ack[key] = value;
  ack[ref_property] = received->id;
  ack["acknowledged"] = FormatTimestamp(now_us, 3);
  // Marked as what it answers: refused (rather than stored and never sent)
  // when that marking may not go back, e.g. above the sender's max_tlp.
  KIZUNA_RETURN_IF_ERROR(CheckMayReceive(policy, received->from, ack, received->tlp));
  KIZUNA_RETURN_IF_ERROR(StoreOwn(store, config, identity, {ack}));
  received->acknowledged_us = Time(ack, "acknowledged");
  return Status::Ok();
}

Result<AckReceipts> AcknowledgementsReceived(store::Store& store, std::string_view ack_type,
                                             std::string_view ref_property) {
  KIZUNA_ASSIGN_OR_RETURN(std::vector<Found> acks, FindObjects(store, ack_type));
  AckReceipts out;
  for (const Found& a : acks) {
    // A partner's own (a local organization's "org:…" copy is no partner's).
    if (a.origin.empty() || a.origin.rfind("org:", 0) == 0) continue;
    auto [it, added] = out.try_emplace({a.origin, Text(a.object, ref_property)}, a.date_added_us);
    if (!added) it->second = std::min(it->second, a.date_added_us);
  }
  return out;
}

std::string Text(const json::object& object, std::string_view name) {
  const json::value* v = object.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t Time(const json::object& object, std::string_view name) {
  const std::string text = Text(object, name);
  if (text.empty()) return 0;
  auto parsed = ParseTimestamp(text);
  return parsed.ok() ? *parsed : 0;
}

}  // namespace kizuna::coordination
