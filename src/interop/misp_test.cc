// MISP events to STIX: every object made is valid STIX 2.1 (the full
// pattern checker included); attributes with and without to_ids, composite
// and custom types, objects and their references, galaxies, sightings and
// false positives, event reports, tags and TLP, and distribution never
// widened.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "interop/misp.h"
#include "interop/misp_export.h"
#include "pattern/pattern.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;

const char* kEvent = R"({"Event": {
  "uuid": "5d8f1a2b-1111-4c3d-8e9f-0a1b2c3d4e5f", "info": "Mirai wave against home routers",
  "date": "2026-11-30", "timestamp": "1796000000", "publish_timestamp": "1796000100", "published": true,
  "analysis": "2", "threat_level_id": "1", "distribution": "3",
  "Orgc": {"name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
  "Tag": [{"name": "tlp:green"}, {"name": "circl:incident-classification=\"malware\""}],
  "Attribute": [
    {"uuid": "a0000000-0000-4000-8000-000000000001", "type": "ip-dst", "category": "Network activity",
     "value": "198.51.100.7", "to_ids": true, "timestamp": "1796000000", "comment": "C2",
     "Tag": [{"name": "kill-chain:c2"}],
     "Sighting": [{"uuid": "c0000000-0000-4000-8000-000000000001", "type": "0", "date_sighting": "1796000200",
                   "source": "SIEM", "Organisation": {"name": "CERT-X", "uuid": "b0000000-0000-4000-8000-000000000009"}},
                  {"uuid": "c0000000-0000-4000-8000-000000000002", "type": "1", "date_sighting": "1796000300"},
                  {"uuid": "c0000000-0000-4000-8000-000000000003", "type": "2", "date_sighting": "1796000400"}]},
    {"uuid": "a0000000-0000-4000-8000-000000000002", "type": "domain", "category": "Network activity",
     "value": "Loader.Example", "to_ids": false, "timestamp": "1796000000"},
    {"uuid": "a0000000-0000-4000-8000-000000000003", "type": "text", "category": "Other",
     "value": "seen mostly in JP", "timestamp": "1796000000"},
    {"uuid": "a0000000-0000-4000-8000-000000000004", "type": "filename|sha256", "category": "Payload delivery",
     "value": "mozi.m|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "timestamp": "1796000000"},
    {"uuid": "a0000000-0000-4000-8000-000000000005", "type": "AS", "category": "Network activity",
     "value": "AS64500", "to_ids": true, "timestamp": "1796000000"},
    {"uuid": "a0000000-0000-4000-8000-000000000006", "type": "vulnerability", "category": "External analysis",
     "value": "CVE-2023-1389", "timestamp": "1796000000"},
    {"uuid": "a0000000-0000-4000-8000-000000000007", "type": "ip-src", "category": "Network activity",
     "value": "203.0.113.9", "to_ids": true, "deleted": true, "timestamp": "1796000000"},
    {"uuid": "a0000000-0000-4000-8000-000000000008", "type": "url", "category": "Network activity",
     "value": "http://198.51.100.7/bins/x86", "to_ids": true, "distribution": "4", "timestamp": "1796000000"},
    {"uuid": "a0000000-0000-4000-8000-000000000009", "type": "md5", "category": "Payload delivery",
     "value": "not-a-digest", "to_ids": true, "timestamp": "1796000000"}
  ],
  "Object": [
    {"uuid": "d0000000-0000-4000-8000-000000000001", "name": "file", "meta-category": "file",
     "template_uuid": "688c46fb-5edb-40a3-8273-1af7923e2215", "template_version": "24", "timestamp": "1796000000",
     "Attribute": [
       {"uuid": "a0000000-0000-4000-8000-000000000011", "type": "filename", "object_relation": "filename",
        "category": "Payload delivery", "value": "mozi.a", "to_ids": false, "timestamp": "1796000000"},
       {"uuid": "a0000000-0000-4000-8000-000000000012", "type": "md5", "object_relation": "md5",
        "category": "Payload delivery", "value": "d41d8cd98f00b204e9800998ecf8427e", "timestamp": "1796000000"}],
     "ObjectReference": [{"uuid": "e0000000-0000-4000-8000-000000000001", "relationship_type": "communicates-with",
                          "referenced_uuid": "a0000000-0000-4000-8000-000000000001"}]}
  ],
  "Galaxy": [
    {"name": "Attack Pattern", "type": "mitre-attack-pattern", "GalaxyCluster": [
      {"uuid": "e042a41b-5ecf-4f3a-8f1f-1b528c534772", "value": "Access Token Manipulation - T1134",
       "tag_name": "misp-galaxy:mitre-attack-pattern=\"Access Token Manipulation - T1134\"",
       "meta": {"external_id": ["T1134"], "kill_chain": ["mitre-attack:defense-evasion"],
                "refs": ["https://attack.mitre.org/techniques/T1134"]}}]},
    {"name": "Sector", "type": "sector", "GalaxyCluster": [
      {"uuid": "f0000000-0000-4000-8000-000000000001", "value": "Telecoms"}]}
  ],
  "EventReport": [{"uuid": "f1000000-0000-4000-8000-000000000001", "name": "Summary",
                   "content": "Routers were hit.", "timestamp": "1796000000"}]
}})";

std::map<std::string, json::object> ById(const MispConversion& c) {
  std::map<std::string, json::object> by_id;
  for (const json::object& o : c.objects) by_id[std::string(o.at("id").as_string())] = o;
  return by_id;
}

std::string Tlp(const json::object& o) {
  return std::string(
      stix::TlpName(stix::TlpOfMarkingId(o.at("object_marking_refs").as_array()[0].as_string())));
}

TEST(Misp, EventToValidStixTheWayMispStixMapsIt) {
  auto c = MispEventToStix(json::parse(kEvent), {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  stix::ValidationOptions validation;
  validation.stix_pattern_checker = &pattern::CheckStixPattern;
  for (const json::object& o : c->objects) {
    auto valid = stix::ValidateObject(o, validation);
    EXPECT_TRUE(valid.ok()) << valid.status().message() << "\n" << json::serialize(o);
  }
  EXPECT_EQ(c->event_uuid, "5d8f1a2b-1111-4c3d-8e9f-0a1b2c3d4e5f");
  EXPECT_EQ(c->event_timestamp, 1796000000);
  auto by_id = ById(*c);

  const json::object& ip = by_id.at("indicator--a0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(ip.at("pattern"), "[ipv4-addr:value = '198.51.100.7']");
  EXPECT_EQ(ip.at("description"), "C2");
  EXPECT_EQ(ip.at("created_by_ref"), "identity--55f6ea5e-2c60-40e5-964f-47a8950d210f");
  EXPECT_EQ(Tlp(ip), "green");
  EXPECT_EQ(json::serialize(ip.at("labels")),
            R"(["misp:type=\"ip-dst\"","misp:category=\"Network activity\"","kill-chain:c2"])");
  EXPECT_EQ(ip.at("x_misp_type"), "ip-dst");
  EXPECT_EQ(ip.at("x_misp_value"), "198.51.100.7");
  // A to_ids=false attribute is observed-data with its SCO.
  const json::object& domain = by_id.at("observed-data--a0000000-0000-4000-8000-000000000002");
  const std::string sco(domain.at("object_refs").as_array()[0].as_string());
  EXPECT_EQ(by_id.at(sco).at("value"), "loader.example");
  // No STIX equivalent: x-misp-attribute, and said so.
  EXPECT_EQ(by_id.at("x-misp-attribute--a0000000-0000-4000-8000-000000000003").at("x_misp_value"),
            "seen mostly in JP");
  EXPECT_EQ(by_id.at("indicator--a0000000-0000-4000-8000-000000000004").at("pattern"),
            "[file:name = 'mozi.m' AND file:hashes.'SHA-256' = "
            "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']");
  EXPECT_EQ(by_id.at("indicator--a0000000-0000-4000-8000-000000000005").at("pattern"),
            "[autonomous-system:number = 64500]");
  EXPECT_EQ(by_id.at("vulnerability--a0000000-0000-4000-8000-000000000006").at("name"),
            "CVE-2023-1389");
  EXPECT_FALSE(by_id.contains("indicator--a0000000-0000-4000-8000-000000000007"))
      << "deleted in MISP";
  // A sharing group's attribute stays on this node.
  EXPECT_EQ(Tlp(by_id.at("indicator--a0000000-0000-4000-8000-000000000008")), "red");
  // A value that is not what its type says is kept, not made a pattern.
  EXPECT_TRUE(by_id.contains("x-misp-attribute--a0000000-0000-4000-8000-000000000009"));

  // Sightings: type 0 a sighting, 1 a false-positive opinion, 2 noted.
  const json::object& sighting = by_id.at("sighting--c0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(sighting.at("sighting_of_ref"), "indicator--a0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(sighting.at("where_sighted_refs").as_array()[0],
            "identity--b0000000-0000-4000-8000-000000000009");
  EXPECT_EQ(sighting.at("description"), "SIEM");
  EXPECT_EQ(by_id.at("opinion--c0000000-0000-4000-8000-000000000002").at("opinion"),
            "strongly-disagree");
  EXPECT_FALSE(by_id.contains("sighting--c0000000-0000-4000-8000-000000000003"));
  EXPECT_EQ(c->sightings, 2);

  // The object and its reference.
  const json::object& file = by_id.at("x-misp-object--d0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(file.at("x_misp_name"), "file");
  EXPECT_EQ(file.at("x_misp_attributes").as_array().size(), 2u);
  EXPECT_EQ(
      by_id.at("indicator--a0000000-0000-4000-8000-000000000012").at("x_misp_object_relation"),
      "md5");
  const json::object& reference = by_id.at("relationship--e0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(reference.at("relationship_type"), "communicates-with");
  EXPECT_EQ(reference.at("target_ref"), "indicator--a0000000-0000-4000-8000-000000000001");

  // Galaxies.
  const json::object& technique = by_id.at("attack-pattern--e042a41b-5ecf-4f3a-8f1f-1b528c534772");
  EXPECT_EQ(technique.at("name"), "Access Token Manipulation");
  EXPECT_EQ(json::serialize(technique.at("kill_chain_phases")),
            R"([{"kill_chain_name":"mitre-attack","phase_name":"defense-evasion"}])");
  EXPECT_EQ(technique.at("external_references").as_array()[0].at("external_id"), "T1134");
  EXPECT_TRUE(by_id.contains("x-misp-galaxy-cluster--f0000000-0000-4000-8000-000000000001"));

  // The event: a report naming everything, the event report a note on it.
  const json::object& report = c->objects.back();
  EXPECT_EQ(report.at("id"), "report--5d8f1a2b-1111-4c3d-8e9f-0a1b2c3d4e5f");
  EXPECT_EQ(report.at("name"), "Mirai wave against home routers");
  EXPECT_EQ(report.at("published"), "2026-11-30T00:55:00.000Z");
  EXPECT_EQ(Tlp(report), "green");
  EXPECT_NE(json::serialize(report.at("labels")).find("circl:incident-classification"),
            std::string::npos);
  size_t refs = report.at("object_refs").as_array().size();
  EXPECT_GE(refs, 15u);
  EXPECT_EQ(by_id.at("note--f1000000-0000-4000-8000-000000000001").at("content"),
            "Routers were hit.");
  std::string notes;
  for (const std::string& n : c->notes) notes += n + "\n";
  EXPECT_NE(notes.find("a0000000-0000-4000-8000-000000000003 (text): no STIX equivalent"),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("of type 2 (expiration)"), std::string::npos) << notes;
  EXPECT_NE(notes.find("deleted in MISP"), std::string::npos) << notes;

  // The same event again: the same ids.
  auto again = MispEventToStix(json::parse(kEvent), {});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->objects.size(), c->objects.size());
  for (size_t i = 0; i < c->objects.size(); ++i)
    EXPECT_EQ(again->objects[i].at("id"), c->objects[i].at("id"));
}

TEST(Misp, DistributionIsNeverWidenedAndUnpublishedIsAGrouping) {
  json::value event = json::parse(kEvent);
  event.at("Event").as_object()["distribution"] = "0";  // this organisation only
  event.at("Event").as_object()["published"] = false;
  auto c = MispEventToStix(event, {});
  ASSERT_TRUE(c.ok());
  for (const json::object& o : c->objects) {
    if (o.contains("object_marking_refs")) EXPECT_EQ(Tlp(o), "red") << o.at("id");
  }
  EXPECT_EQ(c->objects.back().at("type"), "grouping");
  // No tlp: tag: the default.
  json::value untagged = json::parse(kEvent);
  untagged.at("Event").as_object()["Tag"] = json::array();
  MispImportOptions options;
  options.default_tlp = stix::Tlp::kAmber;
  auto d = MispEventToStix(untagged, options);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Tlp(d->objects.back()), "amber");
}

TEST(Misp, NotAnEventIsAClearError) {
  EXPECT_FALSE(MispEventToStix(json::parse(R"({"type": "bundle"})"), {}).ok());
  auto bad = MispEventToStix(json::parse(R"({"Event": {"uuid": "nope", "info": "x"}})"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "the event's uuid is not a UUID");
  auto wrapped = MispEventToStix(
      json::parse(
          R"({"response": [{"Event": {"uuid": "5d8f1a2b-1111-4c3d-8e9f-0a1b2c3d4e5f", "info": "x"}}]})"),
      {});
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().message();
  EXPECT_EQ(wrapped->objects.back().at("type"), "grouping");
}

std::map<std::string, json::object> ByUuid(const json::array& items) {
  std::map<std::string, json::object> out;
  for (const json::value& v : items) out[std::string(v.at("uuid").as_string())] = v.as_object();
  return out;
}

std::string Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "(absent)";
  return v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
}

// Import, then export: every attribute, object, tag, sighting, galaxy
// cluster and event report that has a mapping comes back as it was.
TEST(Misp, RoundTripKeepsEverythingThatHasAMapping) {
  const json::object original = json::parse(kEvent).at("Event").as_object();
  auto imported = MispEventToStix(json::parse(kEvent), {});
  ASSERT_TRUE(imported.ok());
  MispExportOptions options;
  options.org_name = "CERT-A";
  options.org_uuid = "11111111-2222-4333-8444-555555555555";
  options.now_seconds = 1796083200;
  MispExport exported = StixToMispEvents(imported->objects, options);
  ASSERT_EQ(exported.events.size(), 1u) << "every attribute is in the report: no loose event";
  const json::object& event = exported.events[0];
  for (const char* key :
       {"uuid", "info", "date", "timestamp", "publish_timestamp", "analysis", "threat_level_id"}) {
    EXPECT_EQ(Field(event, key), Field(original, key)) << key;
  }
  EXPECT_EQ(event.at("published"), true);
  EXPECT_EQ(Field(event.at("Orgc").as_object(), "uuid"), "55f6ea5e-2c60-40e5-964f-47a8950d210f");
  std::set<std::string> tags;
  for (const json::value& t : event.at("Tag").as_array())
    tags.insert(std::string(t.at("name").as_string()));
  EXPECT_TRUE(tags.contains("tlp:green"));
  EXPECT_TRUE(tags.contains("circl:incident-classification=\"malware\""));
  EXPECT_TRUE(
      tags.contains("misp-galaxy:mitre-attack-pattern=\"Access Token Manipulation - T1134\""));

  // Every attribute not deleted, with its type, category, value, to_ids and comment.
  const auto before = ByUuid(original.at("Attribute").as_array());
  const auto after = ByUuid(event.at("Attribute").as_array());
  for (const auto& [uuid, a] : before) {
    if (a.contains("deleted") && a.at("deleted") == true) {
      EXPECT_FALSE(after.contains(uuid)) << uuid;
      continue;
    }
    ASSERT_TRUE(after.contains(uuid)) << uuid;
    const json::object& b = after.at(uuid);
    for (const char* key : {"type", "category", "value"})
      EXPECT_EQ(Field(b, key), Field(a, key)) << uuid << " " << key;
    if (a.contains("to_ids")) EXPECT_EQ(b.at("to_ids"), a.at("to_ids")) << uuid;
    if (a.contains("comment")) EXPECT_EQ(Field(b, "comment"), Field(a, "comment")) << uuid;
  }
  EXPECT_EQ(after.size(), 8u);
  const json::object& c2 = after.at("a0000000-0000-4000-8000-000000000001");
  ASSERT_TRUE(c2.contains("Tag"));
  EXPECT_EQ(json::serialize(c2.at("Tag")), R"([{"name":"kill-chain:c2"}])")
      << "no tlp tag the event has";
  const auto sightings = ByUuid(c2.at("Sighting").as_array());
  ASSERT_EQ(sightings.size(), 2u);
  EXPECT_EQ(Field(sightings.at("c0000000-0000-4000-8000-000000000001"), "type"), "0");
  EXPECT_EQ(Field(sightings.at("c0000000-0000-4000-8000-000000000001"), "date_sighting"),
            "1796000200");
  EXPECT_EQ(Field(sightings.at("c0000000-0000-4000-8000-000000000001"), "source"), "SIEM");
  EXPECT_EQ(Field(sightings.at("c0000000-0000-4000-8000-000000000002"), "type"), "1");
  EXPECT_EQ(Field(after.at("a0000000-0000-4000-8000-000000000008"), "distribution"), "4");

  // The object with its attributes and reference.
  ASSERT_EQ(event.at("Object").as_array().size(), 1u);
  const json::object& file = event.at("Object").as_array()[0].as_object();
  EXPECT_EQ(Field(file, "uuid"), "d0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(Field(file, "name"), "file");
  EXPECT_EQ(Field(file, "template_uuid"), "688c46fb-5edb-40a3-8273-1af7923e2215");
  const auto members = ByUuid(file.at("Attribute").as_array());
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(Field(members.at("a0000000-0000-4000-8000-000000000012"), "object_relation"), "md5");
  const json::object& reference = file.at("ObjectReference").as_array()[0].as_object();
  EXPECT_EQ(Field(reference, "referenced_uuid"), "a0000000-0000-4000-8000-000000000001");
  EXPECT_EQ(Field(reference, "relationship_type"), "communicates-with");

  // Galaxy clusters, and the event report.
  std::map<std::string, json::object> clusters;
  for (const json::value& g : event.at("Galaxy").as_array()) {
    for (const json::value& c : g.at("GalaxyCluster").as_array()) {
      clusters[std::string(c.at("uuid").as_string())] = c.as_object();
    }
  }
  EXPECT_EQ(Field(clusters.at("e042a41b-5ecf-4f3a-8f1f-1b528c534772"), "value"),
            "Access Token Manipulation - T1134");
  EXPECT_EQ(Field(clusters.at("e042a41b-5ecf-4f3a-8f1f-1b528c534772"), "type"),
            "mitre-attack-pattern");
  EXPECT_EQ(Field(clusters.at("f0000000-0000-4000-8000-000000000001"), "value"), "Telecoms");
  EXPECT_EQ(Field(event.at("EventReport").as_array()[0].as_object(), "content"),
            "Routers were hit.");

  // And imported again, it is the same STIX.
  auto reimported = MispEventToStix(json::value(json::object{{"Event", event}}), {});
  ASSERT_TRUE(reimported.ok()) << reimported.status().message();
  std::map<std::string, std::string> first, second;
  for (const json::object& o : imported->objects)
    first[std::string(o.at("id").as_string())] = json::serialize(o);
  for (const json::object& o : reimported->objects)
    second[std::string(o.at("id").as_string())] = json::serialize(o);
  for (const auto& [id, text] : first) {
    ASSERT_TRUE(second.contains(id)) << id;
    if (!id.starts_with("report--")) EXPECT_EQ(second.at(id), text) << id;
  }
}

TEST(Misp, KizunasOwnIndicatorsBecomeAttributesByTheirValues) {
  const std::vector<json::object> objects = {
      json::parse(
          R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001",
        "created":"2026-11-30T00:00:00.000Z","modified":"2026-11-30T00:00:00.000Z","name":"c2","pattern_type":"stix",
        "valid_from":"2026-11-30T00:00:00Z","pattern":"[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'c2.example']",
        "object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]})")
          .as_object(),
      json::parse(
          R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002",
        "created":"2026-11-30T00:00:00.000Z","modified":"2026-11-30T00:00:00.000Z","pattern_type":"stix",
        "valid_from":"2026-11-30T00:00:00Z","pattern":"[ipv4-addr:value = '198.51.100.8' AND network-traffic:dst_port = 23]"})")
          .as_object()};
  MispExportOptions options;
  options.org_name = "CERT-A";
  options.org_uuid = "11111111-2222-4333-8444-555555555555";
  options.now_seconds = 1796083200;
  MispExport exported = StixToMispEvents(objects, options);
  ASSERT_EQ(exported.events.size(), 1u);
  const json::array& attributes = exported.events[0].at("Attribute").as_array();
  ASSERT_EQ(attributes.size(), 2u);
  EXPECT_EQ(Field(attributes[0].as_object(), "type"), "ip-dst");
  EXPECT_EQ(Field(attributes[0].as_object(), "value"), "198.51.100.7");
  EXPECT_EQ(attributes[0].at("to_ids"), true);
  EXPECT_EQ(json::serialize(attributes[0].at("Tag")), R"([{"name":"tlp:green"}])");
  EXPECT_EQ(Field(attributes[1].as_object(), "type"), "domain");
  EXPECT_EQ(Field(exported.events[0], "info"), "kizuna indicators");
  ASSERT_EQ(exported.notes.size(), 1u);
  EXPECT_NE(exported.notes[0].find(
                "indicator--00000000-0000-4000-8000-000000000002: its pattern is not plain values"),
            std::string::npos);
}

}  // namespace
}  // namespace kizuna::interop
