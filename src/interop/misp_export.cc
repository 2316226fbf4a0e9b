#include "interop/misp_export.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/encoding.h"
#include "common/time.h"
#include "common/uuid.h"
#include "correlation/observable.h"
#include "pattern/pattern.h"
#include "stix/stix.h"

namespace kizuna::interop {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using correlation::ObservableKind;
using stix::StringProperty;

// Attribute uuids of kizuna's own multi-value indicators (UUIDv5; a random
// namespace fixed for good).
constexpr std::string_view kExportNamespace = "3b9e0d7c-5f21-4a6e-b8c4-1d2e3f4a5b6c";

std::string UuidOf(std::string_view id) {
  const size_t dashes = id.find("--");
  return dashes == std::string_view::npos ? std::string(id) : std::string(id.substr(dashes + 2));
}

std::string Seconds(std::string_view timestamp) {
  auto t = ParseTimestamp(timestamp);
  return std::to_string(t.ok() ? *t / 1000000 : 0);
}

std::vector<std::string> Strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const json::value* v = o.if_contains(key); v != nullptr && v->is_array()) {
    for (const json::value& s : v->as_array()) {
      if (s.is_string()) out.emplace_back(s.as_string());
    }
  }
  return out;
}

std::string TlpTag(const json::object& o) {
  const stix::Tlp tlp = stix::DescribeObject(o).tlp;
  if (tlp == stix::Tlp::kNone) return "";
  return "tlp:" + std::string(stix::TlpName(tlp));
}

json::array Tags(const std::vector<std::string>& names) {
  json::array tags;
  for (const std::string& n : names) tags.push_back(json::object{{"name", n}});
  return tags;
}

// An object's labels as MISP tags: not the ones that say what it was in MISP.
std::vector<std::string> TagNamesOf(const json::object& o, bool with_tlp) {
  std::vector<std::string> names;
  if (with_tlp) {
    std::string tlp = TlpTag(o);
    if (!tlp.empty()) names.push_back(std::move(tlp));
  }
  for (std::string& label : Strings(o, "labels")) {
    if (label.starts_with("misp:type=") || label.starts_with("misp:category=") ||
        label.starts_with("misp:name=") || label.starts_with("misp:tool=") ||
        label.starts_with("misp:galaxy-") || label.starts_with("misp:data-layer") ||
        label == "Threat-Report") {
      continue;
    }
    names.push_back(std::move(label));
  }
  return names;
}

// A MISP attribute type for one value of kizuna's.
std::string AttributeType(ObservableKind kind) {
  switch (kind) {
    case ObservableKind::kIpv4:
    case ObservableKind::kIpv6:
      return "ip-dst";
    case ObservableKind::kDomain:
      return "domain";
    case ObservableKind::kUrl:
      return "url";
    case ObservableKind::kEmail:
      return "email-dst";
    case ObservableKind::kMd5:
      return "md5";
    case ObservableKind::kSha1:
      return "sha1";
    case ObservableKind::kSha256:
      return "sha256";
    case ObservableKind::kSha512:
      return "sha512";
    case ObservableKind::kFileName:
      return "filename";
    case ObservableKind::kMutex:
      return "mutex";
    case ObservableKind::kMacAddr:
      return "mac-address";
    default:
      return "";
  }
}

std::string Category(std::string_view type) {
  if (type == "md5" || type == "sha1" || type == "sha256" || type == "sha512" ||
      type == "filename") {
    return "Payload delivery";
  }
  if (type == "mutex") return "Artifacts dropped";
  return "Network activity";
}

class Exporter {
 public:
  Exporter(const std::vector<json::object>& objects, const MispExportOptions& options)
      : options_(options) {
    for (const json::object& o : objects) {
      const std::string id = StringProperty(o, "id");
      if (!id.empty()) by_id_[id] = &o;
    }
    for (const json::object& o : objects) {
      const std::string type = StringProperty(o, "type");
      if (type == "sighting") {
        sightings_of_[StringProperty(o, "sighting_of_ref")].push_back(&o);
      } else if (type == "opinion") {
        for (const std::string& ref : Strings(o, "object_refs")) opinions_of_[ref].push_back(&o);
      } else if (type == "relationship") {
        relationships_from_[StringProperty(o, "source_ref")].push_back(&o);
      } else if (type == "note") {
        for (const std::string& ref : Strings(o, "object_refs")) notes_on_[ref].push_back(&o);
      }
    }
  }

  MispExport Run(const std::vector<json::object>& objects) {
    // What came from a MISP event goes back into it, named by the report or
    // not (a report does not name what is more restricted than itself).
    std::map<std::string, std::vector<const json::object*>> of_event;
    for (const json::object& o : objects) {
      const std::string event = StringProperty(o, "x_misp_event_uuid");
      if (!event.empty()) of_event[event].push_back(&o);
    }
    std::set<std::string> in_reports;
    for (const json::object& o : objects) {
      const std::string type = StringProperty(o, "type");
      if (type != "report" && type != "grouping") continue;
      std::vector<const json::object*> members;
      for (const std::string& ref : Strings(o, "object_refs")) {
        auto it = by_id_.find(ref);
        if (it == by_id_.end() || in_reports.contains(ref)) continue;
        members.push_back(it->second);
        in_reports.insert(ref);
      }
      const std::string uuid = StringProperty(o, "x_misp_uuid").empty()
                                   ? UuidOf(StringProperty(o, "id"))
                                   : StringProperty(o, "x_misp_uuid");
      for (const json::object* m : of_event[uuid]) {
        if (in_reports.insert(StringProperty(*m, "id")).second) members.push_back(m);
      }
      out_.events.push_back(Event(&o, members));
    }
    std::vector<const json::object*> loose;
    for (const json::object& o : objects) {
      const std::string type = StringProperty(o, "type");
      if ((type == "indicator" || type == "observed-data" || type == "x-misp-attribute" ||
           type == "x-misp-object") &&
          !in_reports.contains(StringProperty(o, "id"))) {
        loose.push_back(&o);
      }
    }
    if (!loose.empty() && !options_.loose_info.empty())
      out_.events.push_back(Event(nullptr, loose));
    return std::move(out_);
  }

 private:
  json::object Event(const json::object* report, const std::vector<const json::object*>& members) {
    event_tlp_ = report != nullptr ? TlpTag(*report) : "";
    json::object event;
    json::array attributes;
    json::array objects;
    std::map<std::string, json::array> galaxies;  // galaxy type -> clusters
    std::map<std::string, std::string> galaxy_names;
    std::vector<std::string> tags;
    // Members of MISP objects, by the object's uuid.
    std::map<std::string, json::array> object_members;
    for (const json::object* m : members) {
      const std::string type = StringProperty(*m, "type");
      if (type == "indicator" || type == "observed-data" || type == "x-misp-attribute" ||
          (type == "vulnerability" && m->contains("x_misp_type"))) {
        for (json::object& a : Attributes(*m)) {
          const std::string parent = StringProperty(*m, "x_misp_object_uuid");
          if (!parent.empty()) {
            object_members[parent].push_back(std::move(a));
          } else {
            attributes.push_back(std::move(a));
          }
        }
      } else if (type == "threat-actor" || type == "attack-pattern" || type == "intrusion-set" ||
                 type == "malware" || type == "tool" || type == "course-of-action" ||
                 type == "vulnerability" || type == "x-misp-galaxy-cluster") {
        auto [galaxy_type, cluster] = Cluster(*m);
        tags.push_back(StringProperty(cluster, "tag_name"));
        for (const std::string& label : Strings(*m, "labels")) {
          if (label.starts_with("misp:galaxy-name=\""))
            galaxy_names[galaxy_type] = label.substr(18, label.size() - 19);
        }
        galaxies[galaxy_type].push_back(std::move(cluster));
      }
    }
    for (const json::object* m : members) {
      if (StringProperty(*m, "type") != "x-misp-object") continue;
      const std::string uuid = StringProperty(*m, "x_misp_uuid").empty()
                                   ? UuidOf(StringProperty(*m, "id"))
                                   : StringProperty(*m, "x_misp_uuid");
      json::object object{{"uuid", uuid},
                          {"name", StringProperty(*m, "x_misp_name")},
                          {"meta-category", StringProperty(*m, "x_misp_meta_category")},
                          {"template_uuid", StringProperty(*m, "x_misp_template_uuid")},
                          {"template_version", StringProperty(*m, "x_misp_template_version")},
                          {"timestamp", Seconds(StringProperty(*m, "modified"))},
                          {"comment", StringProperty(*m, "x_misp_comment")},
                          {"Attribute", std::move(object_members[uuid])}};
      object_members.erase(uuid);
      if (const json::value* d = m->if_contains("x_misp_distribution"))
        object["distribution"] = Text(*d);
      json::array references;
      for (const json::object* r : relationships_from_[StringProperty(*m, "id")]) {
        references.push_back(
            json::object{{"uuid", UuidOf(StringProperty(*r, "id"))},
                         {"object_uuid", uuid},
                         {"referenced_uuid", MispUuidOf(StringProperty(*r, "target_ref"))},
                         {"relationship_type", StringProperty(*r, "relationship_type")}});
      }
      if (!references.empty()) object["ObjectReference"] = std::move(references);
      objects.push_back(std::move(object));
    }
    // Members whose object is not in this event stay attributes.
    for (auto& [uuid, orphans] : object_members) {
      for (json::value& a : orphans) attributes.push_back(std::move(a));
    }

    const std::string id = report ? StringProperty(*report, "id") : "";
    if (report != nullptr) {
      const json::object& r = *report;
      event["uuid"] =
          StringProperty(r, "x_misp_uuid").empty() ? UuidOf(id) : StringProperty(r, "x_misp_uuid");
      event["info"] = StringProperty(r, "name");
      const std::string date = StringProperty(r, "x_misp_date");
      event["date"] = date.empty() ? StringProperty(r, "created").substr(0, 10) : date;
      event["timestamp"] = Seconds(StringProperty(r, "modified"));
      const bool published = StringProperty(r, "type") == "report";
      event["published"] = published;
      event["publish_timestamp"] = published ? Seconds(StringProperty(r, "published")) : "0";
      event["analysis"] =
          StringProperty(r, "x_misp_analysis").empty() ? "2" : StringProperty(r, "x_misp_analysis");
      event["threat_level_id"] = StringProperty(r, "x_misp_threat_level_id").empty()
                                     ? "4"
                                     : StringProperty(r, "x_misp_threat_level_id");
      if (const json::value* orgc = r.if_contains("x_misp_orgc");
          orgc != nullptr && orgc->is_object()) {
        event["Orgc"] = orgc->as_object();
      } else {
        event["Orgc"] = OrgOf(StringProperty(r, "created_by_ref"));
      }
      for (std::string& t : TagNamesOf(r, true)) tags.insert(tags.begin(), std::move(t));
    } else {
      std::string uuid =
          Uuid5(kExportNamespace, "loose\n" + options_.org_uuid + "\n" + options_.loose_info);
      event["uuid"] = uuid;
      event["info"] = options_.loose_info;
      event["date"] = FormatTimestamp(options_.now_seconds * 1000000, 0).substr(0, 10);
      event["timestamp"] = std::to_string(options_.now_seconds);
      event["published"] = true;
      event["publish_timestamp"] = std::to_string(options_.now_seconds);
      event["analysis"] = "2";
      event["threat_level_id"] = "4";
      event["Orgc"] = json::object{{"name", options_.org_name}, {"uuid", options_.org_uuid}};
    }
    std::vector<std::string> unique_tags;
    for (std::string& t : tags) {
      if (!t.empty() && std::find(unique_tags.begin(), unique_tags.end(), t) == unique_tags.end()) {
        unique_tags.push_back(std::move(t));
      }
    }
    event["Tag"] = Tags(unique_tags);
    event["Attribute"] = std::move(attributes);
    event["Object"] = std::move(objects);
    json::array galaxy_array;
    for (auto& [type, clusters] : galaxies) {
      galaxy_array.push_back(
          json::object{{"type", type},
                       {"name", galaxy_names.contains(type) ? galaxy_names[type] : type},
                       {"GalaxyCluster", std::move(clusters)}});
    }
    if (!galaxy_array.empty()) event["Galaxy"] = std::move(galaxy_array);
    json::array reports;
    for (const json::object* n : notes_on_[id]) {
      reports.push_back(json::object{{"uuid", UuidOf(StringProperty(*n, "id"))},
                                     {"name", StringProperty(*n, "abstract")},
                                     {"content", StringProperty(*n, "content")},
                                     {"timestamp", Seconds(StringProperty(*n, "modified"))}});
    }
    if (!reports.empty()) event["EventReport"] = std::move(reports);
    return event;
  }

  static json::value Text(const json::value& v) {
    if (v.is_int64()) return json::value(std::to_string(v.as_int64()));
    return v;
  }

  json::object OrgOf(const std::string& identity_id) {
    auto it = by_id_.find(identity_id);
    if (it != by_id_.end())
      return json::object{{"name", StringProperty(*it->second, "name")},
                          {"uuid", UuidOf(identity_id)}};
    return json::object{{"name", options_.org_name}, {"uuid", options_.org_uuid}};
  }

  // The MISP uuid an object stands for (its x_misp_uuid, else its id's uuid).
  std::string MispUuidOf(const std::string& id) {
    auto it = by_id_.find(id);
    if (it != by_id_.end() && !StringProperty(*it->second, "x_misp_uuid").empty())
      return StringProperty(*it->second, "x_misp_uuid");
    return UuidOf(id);
  }

  // One SDO's attributes: as it was in MISP, or from its pattern or SCOs.
  std::vector<json::object> Attributes(const json::object& o) {
    std::vector<json::object> out;
    const std::string id = StringProperty(o, "id");
    const std::string timestamp = Seconds(StringProperty(o, "modified"));
    // Its own TLP tag only where it differs from the event's.
    std::vector<std::string> tags = TagNamesOf(o, false);
    if (const std::string tlp = TlpTag(o); !tlp.empty() && tlp != event_tlp_)
      tags.insert(tags.begin(), tlp);
    if (o.contains("x_misp_type")) {
      json::object a{
          {"uuid", StringProperty(o, "x_misp_uuid").empty() ? UuidOf(id)
                                                            : StringProperty(o, "x_misp_uuid")},
          {"type", StringProperty(o, "x_misp_type")},
          {"category", StringProperty(o, "x_misp_category")},
          {"value", StringProperty(o, "x_misp_value")},
          {"to_ids", o.contains("x_misp_to_ids") && o.at("x_misp_to_ids") == true},
          {"timestamp", timestamp},
          {"comment", StringProperty(o, "x_misp_comment")}};
      for (std::string_view key : {"first_seen", "last_seen"}) {
        const std::string v = StringProperty(o, "x_misp_" + std::string(key));
        if (!v.empty()) a[key] = v;
      }
      if (const json::value* d = o.if_contains("x_misp_distribution")) a["distribution"] = Text(*d);
      if (!StringProperty(o, "x_misp_object_relation").empty())
        a["object_relation"] = StringProperty(o, "x_misp_object_relation");
      a["Tag"] = Tags(tags);
      AddSightings(id, a);
      out.push_back(std::move(a));
      return out;
    }
    std::vector<std::pair<std::string, std::string>> values;  // (type, value)
    const std::string type = StringProperty(o, "type");
    if (type == "indicator" && StringProperty(o, "pattern_type") == "stix") {
      auto pattern = pattern::ParsePattern(StringProperty(o, "pattern"));
      std::optional<std::vector<pattern::SimpleComparison>> comparisons;
      if (pattern.ok()) comparisons = pattern::ReduceToSimpleComparisons(*pattern);
      if (comparisons) {
        for (const pattern::SimpleComparison& c : *comparisons) {
          auto kind = correlation::KindForStixPath(c.object_type + ":" + c.property_path);
          const std::string t = kind ? AttributeType(*kind) : "";
          if (!t.empty()) values.emplace_back(t, c.value);
        }
      }
      if (values.empty()) {
        out_.notes.push_back(id + ": its pattern is not plain values, no MISP attribute");
        return out;
      }
    } else if (type == "observed-data") {
      for (const std::string& ref : Strings(o, "object_refs")) {
        auto it = by_id_.find(ref);
        if (it == by_id_.end()) continue;
        const json::object& sco = *it->second;
        const std::string sco_type = StringProperty(sco, "type");
        if (sco_type == "ipv4-addr" || sco_type == "ipv6-addr")
          values.emplace_back("ip-dst", StringProperty(sco, "value"));
        if (sco_type == "domain-name") values.emplace_back("domain", StringProperty(sco, "value"));
        if (sco_type == "url") values.emplace_back("url", StringProperty(sco, "value"));
        if (sco_type == "email-addr")
          values.emplace_back("email-dst", StringProperty(sco, "value"));
      }
      if (values.empty()) {
        out_.notes.push_back(id + ": no observable MISP has an attribute for");
        return out;
      }
    } else {
      out_.notes.push_back(id + ": no MISP equivalent");
      return out;
    }
    const bool to_ids = type == "indicator";
    for (const auto& [t, value] : values) {
      json::object a{
          {"uuid",
           values.size() == 1 ? UuidOf(id) : Uuid5(kExportNamespace, id + "\n" + t + "\n" + value)},
          {"type", t},
          {"category", Category(t)},
          {"value", value},
          {"to_ids", to_ids},
          {"timestamp", timestamp},
          {"comment", StringProperty(o, "description").empty() ? StringProperty(o, "name")
                                                               : StringProperty(o, "description")},
          {"Tag", Tags(tags)}};
      AddSightings(id, a);
      out.push_back(std::move(a));
    }
    return out;
  }

  void AddSightings(const std::string& id, json::object& attribute) {
    json::array sightings;
    for (const json::object* s : sightings_of_[id]) {
      json::object sighting{{"uuid", UuidOf(StringProperty(*s, "id"))},
                            {"type", "0"},
                            {"date_sighting", Seconds(StringProperty(*s, "last_seen").empty()
                                                          ? StringProperty(*s, "modified")
                                                          : StringProperty(*s, "last_seen"))},
                            {"source", StringProperty(*s, "description")}};
      const std::vector<std::string> where = Strings(*s, "where_sighted_refs");
      if (!where.empty()) sighting["Organisation"] = OrgOf(where[0]);
      sightings.push_back(std::move(sighting));
    }
    for (const json::object* o : opinions_of_[id]) {
      const std::string opinion = StringProperty(*o, "opinion");
      if (opinion != "strongly-disagree" && opinion != "disagree") continue;
      sightings.push_back(json::object{{"uuid", UuidOf(StringProperty(*o, "id"))},
                                       {"type", "1"},
                                       {"date_sighting", Seconds(StringProperty(*o, "modified"))},
                                       {"source", ""}});
    }
    if (!sightings.empty()) attribute["Sighting"] = std::move(sightings);
  }

  std::pair<std::string, json::object> Cluster(const json::object& o) {
    const std::string type = StringProperty(o, "type");
    std::string galaxy_type;
    for (const std::string& label : Strings(o, "labels")) {
      if (label.starts_with("misp:galaxy-type=\""))
        galaxy_type = label.substr(18, label.size() - 19);
    }
    if (galaxy_type.empty()) {
      galaxy_type = type == "attack-pattern"          ? "mitre-attack-pattern"
                    : type == "intrusion-set"         ? "mitre-intrusion-set"
                    : type == "course-of-action"      ? "mitre-course-of-action"
                    : type == "vulnerability"         ? "branded-vulnerability"
                    : type == "x-misp-galaxy-cluster" ? StringProperty(o, "x_misp_type")
                                                      : type;
    }
    std::string value = type == "x-misp-galaxy-cluster" ? StringProperty(o, "x_misp_value")
                                                        : StringProperty(o, "name");
    json::object meta;
    json::array refs;
    if (const json::value* references = o.if_contains("external_references");
        references && references->is_array()) {
      for (const json::value& r : references->as_array()) {
        if (!r.is_object()) continue;
        const std::string external_id = StringProperty(r.as_object(), "external_id");
        if (!external_id.empty()) {
          meta["external_id"] = json::array{json::string(external_id)};
          if (galaxy_type.starts_with("mitre-")) value += " - " + external_id;
        }
        if (!StringProperty(r.as_object(), "url").empty())
          refs.emplace_back(StringProperty(r.as_object(), "url"));
      }
    }
    if (!refs.empty()) meta["refs"] = std::move(refs);
    if (const json::value* phases = o.if_contains("kill_chain_phases");
        phases && phases->is_array()) {
      json::array chain;
      for (const json::value& p : phases->as_array()) {
        if (p.is_object()) {
          chain.emplace_back(StringProperty(p.as_object(), "kill_chain_name") + ":" +
                             StringProperty(p.as_object(), "phase_name"));
        }
      }
      meta["kill_chain"] = std::move(chain);
    }
    std::string tag = StringProperty(o, "x_misp_galaxy_tag");
    if (tag.empty()) tag = "misp-galaxy:" + galaxy_type + "=\"" + value + "\"";
    json::object cluster{{"uuid", UuidOf(StringProperty(o, "id"))},
                         {"type", galaxy_type},
                         {"value", value},
                         {"tag_name", tag},
                         {"description", StringProperty(o, "description")},
                         {"meta", std::move(meta)}};
    return {galaxy_type, std::move(cluster)};
  }

  const MispExportOptions& options_;
  MispExport out_;
  std::string event_tlp_;  // the tlp: tag of the event being made
  std::map<std::string, const json::object*> by_id_;
  std::map<std::string, std::vector<const json::object*>> sightings_of_;
  std::map<std::string, std::vector<const json::object*>> opinions_of_;
  std::map<std::string, std::vector<const json::object*>> relationships_from_;
  std::map<std::string, std::vector<const json::object*>> notes_on_;
};

std::string Md5Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

MispExport StixToMispEvents(const std::vector<json::object>& objects,
                            const MispExportOptions& options) {
  Exporter exporter(objects, options);
  return exporter.Run(objects);
}

Status WriteMispFeed(const std::string& dir, const std::vector<json::object>& events) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  json::object manifest;
  std::string hashes;
  for (const json::object& event : events) {
    const std::string uuid = StringProperty(event, "uuid");
    // A partner's report with a damaged or a repeated uuid is left out: it
    // never stops the feed nor takes another event's place.
    if (!IsUuid(uuid) || manifest.contains(uuid)) continue;
    {
      // Streamed, not wrapped in {"Event": …} first: the event of loose
      // indicators may hold a million attributes, and a copy doubles them.
      std::ofstream out(fs::path(dir) / (uuid + ".json"), std::ios::binary | std::ios::trunc);
      out << "{\"Event\":" << event << "}";
      if (!out) return IoError("cannot write " + uuid + ".json in " + dir);
    }
    json::object entry{{"info", StringProperty(event, "info")},
                       {"date", StringProperty(event, "date")},
                       {"analysis", StringProperty(event, "analysis")},
                       {"threat_level_id", StringProperty(event, "threat_level_id")}};
    if (const json::value* orgc = event.if_contains("Orgc")) entry["Orgc"] = *orgc;
    if (const json::value* tags = event.if_contains("Tag")) entry["Tag"] = *tags;
    int64_t timestamp = 0;
    try {
      timestamp = std::stoll(StringProperty(event, "timestamp"));
    } catch (...) {
      timestamp = 0;
    }
    entry["timestamp"] = timestamp;
    manifest[uuid] = std::move(entry);
    auto add_hashes = [&](const json::value& attributes) {
      if (!attributes.is_array()) return;
      for (const json::value& a : attributes.as_array()) {
        if (!a.is_object()) continue;
        const std::string value = StringProperty(a.as_object(), "value");
        size_t start = 0;
        while (true) {  // a composite value ("a|b"): one line per part
          const size_t bar = value.find('|', start);
          hashes += Md5Hex(value.substr(start, bar - start)) + "," + uuid + "\n";
          if (bar == std::string::npos) break;
          start = bar + 1;
        }
      }
    };
    if (const json::value* attributes = event.if_contains("Attribute")) add_hashes(*attributes);
    if (const json::value* objects = event.if_contains("Object"); objects && objects->is_array()) {
      for (const json::value& o : objects->as_array()) {
        if (o.is_object() && o.as_object().contains("Attribute")) add_hashes(o.at("Attribute"));
      }
    }
  }
  std::ofstream m(fs::path(dir) / "manifest.json", std::ios::binary | std::ios::trunc);
  m << json::serialize(manifest);
  std::ofstream h(fs::path(dir) / "hashes.csv", std::ios::binary | std::ios::trunc);
  h << hashes;
  if (!m || !h) return IoError("cannot write the feed's manifest in " + dir);
  return Status::Ok();
}

}  // namespace kizuna::interop
