#include "telescope/surges.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "common/time.h"
#include "common/uuid.h"

namespace kizuna::telescope {

namespace json = boost::json;

namespace {

constexpr std::string_view kSurgeNamespace = "8b7e4c2d-1a3f-4e6b-9c5d-0f2a7b8e9d13";
constexpr int64_t kDay = 86400;
// The surge's first intervals whose new sources are reported.
constexpr int kNewSourceIntervals = 3;
constexpr size_t kMaxNewSources = 10000;

// Surges are looked for in one-minute intervals.
constexpr int64_t kSurgeStep = 60;

std::map<uint32_t, std::vector<Surge>> Detect(const std::vector<Slice>& slices,
                                              const std::set<uint32_t>& keys, int64_t step) {
  std::map<uint32_t, std::vector<Surge>> out;
  SurgeOptions options;
  options.interval_s = step;
  for (const auto& [key, points] : SeriesByPort(slices, keys, step)) {
    std::vector<SeriesPoint> series;
    series.reserve(points.size());
    for (const PortPoint& p : points) {
      series.push_back({p.start_s, static_cast<double>(p.packets), static_cast<double>(p.sources)});
    }
    std::vector<Surge> found = DetectSurges(series, options);
    if (!found.empty()) out[key] = std::move(found);
  }
  return out;
}

std::string Rounded(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

std::string Ipv4Text(uint32_t v4) {
  char text[INET_ADDRSTRLEN];
  const uint32_t be = htonl(v4);
  inet_ntop(AF_INET, &be, text, sizeof text);
  return text;
}

}  // namespace

std::vector<FoundSurge> FindSurges(const TelescopeData& data, TelescopeData::Filter filter,
                                   const TelescopeData::Visible& visible, int ports) {
  if (filter.since_s == INT64_MIN) filter.since_s = data.newest_start(visible) - 8 * kDay;
  // One-minute intervals only: an interval of another length (a partner's
  // hourly ones) would set the series' step for everyone.
  std::vector<Slice> slices = data.Select(filter, visible);
  std::erase_if(slices, [](const Slice& s) { return s.interval->seconds != kSurgeStep; });
  if (slices.empty()) return {};
  int64_t last = INT64_MIN;
  for (const Slice& s : slices) last = std::max(last, s.interval->start_s);
  std::vector<Slice> last_day;
  for (const Slice& s : slices) {
    if (s.interval->start_s > last - kDay) last_day.push_back(s);
  }
  std::set<uint32_t> keys;
  for (uint32_t key : BusiestPorts(last_day, static_cast<size_t>(ports))) keys.insert(key);
  const int64_t step = kSurgeStep;
  const auto merged = Detect(slices, keys, step);

  // Who saw it first: each origin's own series, through the same detector.
  std::set<uint32_t> surging;
  for (const auto& [key, found] : merged) surging.insert(key);
  std::map<std::string, std::vector<Slice>> by_origin;
  for (const Slice& s : slices) by_origin[s.origin].push_back(s);
  std::map<std::string, std::map<uint32_t, std::vector<Surge>>> per_origin;
  if (by_origin.size() > 1) {
    for (const auto& [origin, own] : by_origin) per_origin[origin] = Detect(own, surging, step);
  }

  std::vector<FoundSurge> out;
  for (const auto& [key, found] : merged) {
    for (const Surge& surge : found) {
      FoundSurge f{static_cast<sensor::PortProto>(key >> 16), static_cast<uint16_t>(key & 0xFFFF),
                   surge, ""};
      if (by_origin.size() == 1) {
        f.first_seen_by = by_origin.begin()->first.empty() ? "home" : by_origin.begin()->first;
      } else {
        int64_t earliest = INT64_MAX;
        for (const auto& [origin, surges] : per_origin) {
          auto it = surges.find(key);
          if (it == surges.end()) continue;
          for (const Surge& own : it->second) {
            if (own.metric != surge.metric || own.start_s < surge.start_s - kDay ||
                own.start_s > surge.end_s) {
              continue;
            }
            if (own.start_s < earliest) {
              earliest = own.start_s;
              f.first_seen_by = origin.empty() ? "home" : origin;
            }
          }
        }
      }
      out.push_back(std::move(f));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const FoundSurge& a, const FoundSurge& b) {
    return a.surge.start_s < b.surge.start_s;
  });
  return out;
}

json::array SurgesJson(const std::vector<FoundSurge>& surges) {
  json::array out;
  for (const FoundSurge& f : surges) {
    out.push_back(json::object{{"proto", sensor::PortProtoName(f.proto)},
                               {"port", f.port},
                               {"start", FormatTimestamp(f.surge.start_s * 1000000, 0)},
                               {"end", FormatTimestamp(f.surge.end_s * 1000000, 0)},
                               {"running", f.surge.running},
                               {"metric", f.surge.metric},
                               {"baseline", std::round(f.surge.baseline * 10) / 10},
                               {"observed", f.surge.observed},
                               {"peak", f.surge.peak},
                               {"first_seen_by", f.first_seen_by}});
  }
  return out;
}

Status RecordSurges(store::Store& store, const node::Node& node, const TelescopeData& data,
                    const std::string& collection_id, const TelescopeConfig& config,
                    bus::ChangeBus* bus) {
  const TelescopeData::Visible everything = [](const store::StoredObject&) { return true; };
  const std::vector<FoundSurge> surges =
      FindSurges(data, TelescopeData::Filter{}, everything, config.surge_ports);
  if (surges.empty()) return Status::Ok();
  const std::string& producer = node.identity().identity_id;
  std::vector<store::NewObject> objects;
  std::vector<std::string> names;
  const auto add = [&](const json::object& object) -> Status {
    auto info = stix::ValidateObject(object);
    if (!info.ok()) return Internal("surge object: " + info.status().message());
    objects.push_back(store::NewObject{*info, json::serialize(object), ""});
    return Status::Ok();
  };
  for (const FoundSurge& f : surges) {
    const Surge& s = f.surge;
    const std::string port_text =
        std::to_string(f.port) + "/" + std::string(sensor::PortProtoName(f.proto));
    const std::string key =
        producer + "|" + port_text + "|" + s.metric + "|" + std::to_string(s.start_s);
    const std::string time = FormatTimestamp(s.start_s * 1000000, 3);
    const std::string observed_id = "observed-data--" + Uuid5(kSurgeNamespace, key + "|hosts");
    const std::string report_id = "report--" + Uuid5(kSurgeNamespace, key + "|report");
    // A surge is recorded once (its objects never change: a version is
    // its start), so one already in the collection costs a lookup, not a
    // day of the port's addresses merged again.
    store::ObjectQuery recorded;
    recorded.ids = {report_id};
    recorded.limit = 1;
    recorded.include_json = false;
    KIZUNA_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(collection_id, recorded));
    if (!page.objects.empty()) continue;

    // The new sources: on the port in the surge's first intervals, not in the day before.
    TelescopeData::Filter before{s.start_s - kDay, s.start_s, "", std::nullopt};
    TelescopeData::Filter during{s.start_s, s.start_s + kNewSourceIntervals * 60, "", std::nullopt};
    const uint32_t port_key = PortKey(f.proto, f.port);
    // What the evidence may say, and under which marking: addresses only
    // from our own sensors (a partner's are the partner's to share), never
    // from one marked RED, under the most restrictive marking they came
    // with; the report's counts under the most restrictive marking of
    // every summary they were computed from (partners' included).
    stix::Tlp evidence_tlp = config.sources_tlp, report_tlp = config.summary_tlp;
    const auto marking = [](stix::Tlp tlp) {
      return tlp == stix::Tlp::kNone ? stix::Tlp::kAmber : tlp;  // the node's default
    };
    const auto exact_sources = [&](const TelescopeData::Filter& filter, bool evidence) {
      SourceUnion set;
      for (const Slice& slice : data.Select(filter, everything)) {
        for (const auto& p : slice.interval->ports) {
          if (PortKey(p.proto, p.port) != port_key) continue;
          report_tlp = stix::MostRestrictiveTlp(report_tlp, marking(slice.summary_tlp));
          if (!p.sources.exact || !slice.origin.empty() ||
              marking(slice.sources_tlp) == stix::Tlp::kRed) {
            continue;
          }
          if (evidence) {
            evidence_tlp = stix::MostRestrictiveTlp(evidence_tlp, marking(slice.sources_tlp));
          }
          set.Add(slice.interval, p.sources);
        }
      }
      return set;
    };
    const int64_t step = 60;
    const SourceUnion seen_before = exact_sources(before, false);
    const SourceUnion seen_during = exact_sources(during, true);
    json::array refs;
    std::vector<json::object> scos;
    for (uint32_t a : seen_during.v4()) {
      if (scos.size() >= kMaxNewSources ||
          std::binary_search(seen_before.v4().begin(), seen_before.v4().end(), a)) {
        continue;
      }
      json::object sco{{"type", "ipv4-addr"}, {"spec_version", "2.1"}, {"value", Ipv4Text(a)}};
      sco["id"] = stix::DeterministicScoId(sco);
      scos.push_back(std::move(sco));
    }
    for (const sensor::Ipv6Address& a : seen_during.v6()) {
      if (scos.size() >= kMaxNewSources ||
          std::binary_search(seen_before.v6().begin(), seen_before.v6().end(), a)) {
        continue;
      }
      json::object sco{
          {"type", "ipv6-addr"}, {"spec_version", "2.1"}, {"value", sensor::FormatIpv6(a)}};
      sco["id"] = stix::DeterministicScoId(sco);
      scos.push_back(std::move(sco));
    }
    json::array report_refs{json::string(observed_id)};
    json::object surge_facts{{"proto", sensor::PortProtoName(f.proto)},
                             {"port", f.port},
                             {"metric", s.metric},
                             {"start", FormatTimestamp(s.start_s * 1000000, 0)},
                             {"baseline", s.baseline},
                             {"observed", s.observed},
                             {"first_seen_by", f.first_seen_by},
                             {"new_sources", scos.size()}};
    if (!scos.empty()) {
      for (const json::object& sco : scos) refs.push_back(sco.at("id"));
      json::object observed{
          {"type", "observed-data"},
          {"spec_version", "2.1"},
          {"id", observed_id},
          {"created", time},
          {"modified", time},
          {"created_by_ref", producer},
          {"first_observed", time},
          {"last_observed", FormatTimestamp((s.start_s + kNewSourceIntervals * step) * 1000000, 3)},
          {"number_observed", static_cast<int64_t>(scos.size())},
          {"object_refs", std::move(refs)},
          {"x_kizuna_observation", "infected-host"},
          {"x_kizuna_surge", surge_facts},
          {"object_marking_refs", json::array{json::string(stix::TlpMarkingId(evidence_tlp))}}};
      for (json::object& sco : scos) {
        sco["object_marking_refs"] = json::array{json::string(stix::TlpMarkingId(evidence_tlp))};
        KIZUNA_RETURN_IF_ERROR(add(sco));
      }
      KIZUNA_RETURN_IF_ERROR(add(observed));
    } else {
      report_refs.clear();
    }
    const std::string name = "Surge on " + port_text + ": " + Rounded(s.observed) + " " + s.metric +
                             " against a baseline of " + Rounded(s.baseline);
    json::object report{
        {"type", "report"},
        {"spec_version", "2.1"},
        {"id", report_id},
        {"created", time},
        {"modified", time},
        {"created_by_ref", producer},
        {"name", name},
        {"description",
         "Detected by the kizuna telescope over the merged view of this node's "
         "and its partners' darknet sensors; first seen by " +
             (f.first_seen_by.empty() ? std::string("several at once") : f.first_seen_by) + "."},
        {"report_types", json::array{"threat-report"}},
        {"published", time},
        {"labels", json::array{"telescope-surge"}},
        {"x_kizuna_surge", surge_facts},
        {"object_marking_refs", json::array{json::string(stix::TlpMarkingId(report_tlp))}}};
    // A report refers to at least one object: the evidence, or itself when
    // no new address was seen (a surge in packets from known sources).
    report["object_refs"] =
        report_refs.empty() ? json::array{json::string(report_id)} : report_refs;
    KIZUNA_RETURN_IF_ERROR(add(report));
    names.push_back(name);
  }
  KIZUNA_ASSIGN_OR_RETURN(store::AddResult added, store.AddObjects(collection_id, objects));
  bool any = false;
  size_t n = 0;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].info.type != "report") continue;
    if (added.outcomes[i] == store::AddOutcome::kAdded) {
      spdlog::warn("telescope: {}", names[n]);
      any = true;
    }
    ++n;
  }
  if (any && bus != nullptr) bus->Notify();
  return Status::Ok();
}

}  // namespace kizuna::telescope
