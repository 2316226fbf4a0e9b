#include "telescope/views.h"

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>

#include "common/time.h"

namespace kizuna::telescope {

namespace json = boost::json;

namespace {

Result<int64_t> ParseBound(std::string_view text, int64_t newest_start_s) {
  if (text.empty()) return InvalidArgument("empty time");
  const char unit = text.back();
  if (unit == 'm' || unit == 'h' || unit == 'd') {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (ec != std::errc() || end != text.data() + text.size() - 1 || n < 0 || n > 3650 * 24 * 60) {
      return InvalidArgument("'" + std::string(text) + "': a duration is N followed by m, h or d");
    }
    const int64_t seconds = n * (unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400);
    return newest_start_s - seconds + 60;
  }
  auto t = ParseTimestamp(text);
  if (!t.ok()) {
    return InvalidArgument("'" + std::string(text) + "': not an RFC 3339 time or a duration");
  }
  return *t >= 0 ? *t / 1000000 : (*t - 999999) / 1000000;
}

json::array Strings(const std::set<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.push_back(json::string(v));
  return out;
}

std::string Time(int64_t us) { return us == 0 ? std::string() : FormatTimestamp(us, 0); }

}  // namespace

Status ParseRange(std::string_view since, std::string_view until, int64_t newest_start_s,
                  TelescopeData::Filter* filter) {
  if (!since.empty()) {
    auto s = ParseBound(since, newest_start_s);
    if (!s.ok()) return InvalidArgument("since: " + s.status().message());
    filter->since_s = *s;
  }
  if (!until.empty()) {
    auto u = ParseBound(until, newest_start_s);
    if (!u.ok()) return InvalidArgument("until: " + u.status().message());
    filter->until_s = *u;
  }
  return Status::Ok();
}

Result<std::pair<sensor::PortProto, uint16_t>> ParsePort(std::string_view proto,
                                                         std::string_view port) {
  for (int p = 0; p < sensor::kPortProtos; ++p) {
    if (sensor::PortProtoName(static_cast<sensor::PortProto>(p)) != proto) continue;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
      return InvalidArgument("port: 0 to 65535");
    }
    return std::make_pair(static_cast<sensor::PortProto>(p), static_cast<uint16_t>(value));
  }
  return InvalidArgument("proto: tcp, udp, icmp, icmpv6 or other");
}

json::object TopJson(const std::vector<Slice>& slices, size_t top) {
  const Totals totals = Summarize(slices);
  json::object out{{"intervals", totals.intervals},  {"packets", totals.packets},
                   {"sources", totals.sources},      {"exact", totals.exact},
                   {"first", Time(totals.first_us)}, {"last", Time(totals.last_us)}};
  json::object classes, fingerprints;
  for (const auto& [name, n] : totals.classes) classes[name] = n;
  for (const auto& [name, n] : totals.fingerprints) fingerprints[name] = n;
  out["classes"] = std::move(classes);
  out["fingerprints"] = std::move(fingerprints);
  json::array ports;
  for (const PortTotal& p : TopPorts(slices, top)) {
    ports.push_back(json::object{{"proto", sensor::PortProtoName(p.proto)},
                                 {"port", p.port},
                                 {"packets", p.packets},
                                 {"sources", p.sources},
                                 {"exact", p.exact}});
  }
  out["ports"] = std::move(ports);
  json::array sources;
  for (const SourceTotal& s : TopSources(slices, top)) {
    sources.push_back(json::object{{"address", s.address},
                                   {"packets", s.packets},
                                   {"intervals", s.intervals},
                                   {"first", Time(s.first_us)},
                                   {"last", Time(s.last_us)},
                                   {"fingerprints", Strings(s.fingerprints)},
                                   {"sensors", Strings(s.sensors)}});
  }
  out["top_sources"] = std::move(sources);
  return out;
}

json::array SensorsJson(const std::vector<Slice>& slices) {
  json::array out;
  for (const SensorInfo& s : Sensors(slices)) {
    out.push_back(json::object{{"origin", s.origin.empty() ? "home" : s.origin},
                               {"sensor", s.sensor},
                               {"intervals", s.intervals},
                               {"packets", s.packets},
                               {"first", FormatTimestamp(s.first_start_s * 1000000, 0)},
                               {"last", FormatTimestamp(s.last_start_s * 1000000, 0)},
                               {"exact", s.exact}});
  }
  return out;
}

json::array SeriesJson(const std::vector<PortPoint>& points) {
  json::array out;
  for (const PortPoint& p : points) {
    out.push_back(json::object{{"start", FormatTimestamp(p.start_s * 1000000, 0)},
                               {"packets", p.packets},
                               {"sources", p.sources},
                               {"exact", p.exact}});
  }
  return out;
}

std::string TopText(const json::object& top) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%llu packets from %llu%s sources in %llu intervals",
                static_cast<unsigned long long>(top.at("packets").to_number<uint64_t>()),
                static_cast<unsigned long long>(top.at("sources").to_number<uint64_t>()),
                top.at("exact").as_bool() ? "" : " (estimated)",
                static_cast<unsigned long long>(top.at("intervals").to_number<uint64_t>()));
  out += line;
  if (!top.at("first").as_string().empty()) {
    out += ", " + std::string(top.at("first").as_string()) + " to " +
           std::string(top.at("last").as_string());
  }
  out += "\n\n  port          packets    sources\n";
  for (const json::value& v : top.at("ports").as_array()) {
    const json::object& p = v.as_object();
    std::snprintf(line, sizeof line, "  %-6s %5llu %10llu %10llu%s\n",
                  std::string(p.at("proto").as_string()).c_str(),
                  static_cast<unsigned long long>(p.at("port").to_number<uint64_t>()),
                  static_cast<unsigned long long>(p.at("packets").to_number<uint64_t>()),
                  static_cast<unsigned long long>(p.at("sources").to_number<uint64_t>()),
                  p.at("exact").as_bool() ? "" : " ~");
    out += line;
  }
  const json::array& sources = top.at("top_sources").as_array();
  if (!sources.empty()) {
    out += "\n  source                                     packets  fingerprints\n";
    for (const json::value& v : sources) {
      const json::object& s = v.as_object();
      std::string names;
      for (const json::value& n : s.at("fingerprints").as_array()) {
        names += (names.empty() ? "" : ",") + std::string(n.as_string());
      }
      std::snprintf(line, sizeof line, "  %-40s %10llu  %s\n",
                    std::string(s.at("address").as_string()).c_str(),
                    static_cast<unsigned long long>(s.at("packets").to_number<uint64_t>()),
                    names.c_str());
      out += line;
    }
  }
  return out;
}

}  // namespace kizuna::telescope
