#include "sensor/interval.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <memory>

#include "common/encoding.h"
#include "common/time.h"
#include "sensor/capture.h"

namespace kizuna::sensor {

namespace json = boost::json;

namespace {

// What one interval may hold, for input from others: far more than one
// minute of a /8 darknet, far less than what could exhaust the node.
constexpr uint64_t kMaxSetSize = 16'000'000;
// Sensors send their 1,000 busiest ports (WireLimits); a partner's view
// costs the node work per port and interval, so it is bounded near that.
constexpr size_t kMaxPorts = 4096;
constexpr size_t kMaxTopSources = 10'000;
constexpr int64_t kMaxSeconds = 86400;

std::string EncodeV4(const U32Set& set) {
  std::string bytes;
  uint32_t previous = 0;
  bool first = true;
  set.ForEach([&](uint32_t value) {
    uint32_t delta = first ? value : value - previous;
    first = false;
    previous = value;
    while (delta >= 0x80) {
      bytes.push_back(static_cast<char>(delta | 0x80));
      delta >>= 7;
    }
    bytes.push_back(static_cast<char>(delta));
  });
  return Base64Encode(bytes);
}

Status DecodeV4(std::string_view text, U32Set* set) {
  std::optional<std::string> bytes = Base64Decode(text);
  if (!bytes) return InvalidArgument("v4 is not base64");
  std::vector<uint32_t> values;
  uint64_t previous = 0;
  size_t at = 0;
  while (at < bytes->size()) {
    uint64_t delta = 0;
    int shift = 0;
    for (;;) {
      if (at == bytes->size() || shift > 28) return InvalidArgument("v4 ends inside a number");
      const uint8_t b = static_cast<uint8_t>((*bytes)[at++]);
      delta |= uint64_t{b & 0x7Fu} << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (!values.empty() && delta == 0) return InvalidArgument("v4 repeats an address");
    const uint64_t value = values.empty() ? delta : previous + delta;
    if (value > 0xFFFFFFFFu) return InvalidArgument("v4 address out of range");
    if (values.size() >= kMaxSetSize) return InvalidArgument("v4 holds too many addresses");
    values.push_back(static_cast<uint32_t>(value));
    previous = value;
  }
  set->AddSorted(values);
  return Status::Ok();
}

json::object EncodeSources(const WireSources& sources) {
  if (!sources.exact) {
    return json::object{{"count", sources.count}, {"sketch", Base64Encode(sources.sketch)}};
  }
  json::array v6;
  for (const Ipv6Address& a : sources.v6) v6.push_back(json::string(FormatIpv6(a)));
  return json::object{
      {"count", sources.size()}, {"v4", EncodeV4(sources.v4)}, {"v6", std::move(v6)}};
}

WireSources FromSet(const SourceSet& set) {
  WireSources out;
  out.v4.Merge(set.v4());
  out.v6.assign(set.v6().begin(), set.v6().end());
  std::sort(out.v6.begin(), out.v6.end());
  return out;
}

// Strict readers over one JSON object, naming the field on failure.
class Fields {
 public:
  Fields(const json::object& object, std::string where) : o_(object), where_(std::move(where)) {}
  Status Missing(std::string_view key) const {
    return InvalidArgument(where_ + std::string(key) + ": missing or of the wrong type");
  }
  Result<uint64_t> Count(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return Missing(key);
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
    return Missing(key);
  }
  Result<std::string_view> Text(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_string()) return Missing(key);
    return std::string_view(v->get_string());
  }
  Result<const json::object*> Object(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_object()) return Missing(key);
    return &v->get_object();
  }
  Result<const json::array*> Array(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || !v->is_array()) return Missing(key);
    return &v->get_array();
  }
  Result<int64_t> Time(std::string_view key) const {
    KIZUNA_ASSIGN_OR_RETURN(std::string_view text, Text(key));
    auto t = ParseTimestamp(text);
    if (!t.ok()) return InvalidArgument(where_ + std::string(key) + ": not a timestamp");
    return *t;
  }
  const std::string& where() const { return where_; }

 private:
  const json::object& o_;
  std::string where_;
};

Result<WireSources> DecodeSources(const json::object& object, const std::string& where,
                                  bool exact_only) {
  Fields f(object, where);
  WireSources out;
  KIZUNA_ASSIGN_OR_RETURN(uint64_t count, f.Count("count"));
  if (!exact_only && object.contains("sketch")) {
    KIZUNA_ASSIGN_OR_RETURN(std::string_view text, f.Text("sketch"));
    std::optional<std::string> bytes = Base64Decode(text);
    if (!bytes) return InvalidArgument(where + "sketch is not base64");
    auto sketch = DistinctSketch::Parse(*bytes);
    if (!sketch.ok()) return InvalidArgument(where + sketch.status().message());
    if (count > kMaxSetSize) return InvalidArgument(where + "count out of range");
    out.exact = false;
    out.count = count;
    out.sketch = std::move(*bytes);
    return out;
  }
  KIZUNA_ASSIGN_OR_RETURN(std::string_view v4, f.Text("v4"));
  KIZUNA_ASSIGN_OR_RETURN(const json::array* v6, f.Array("v6"));
  if (Status s = DecodeV4(v4, &out.v4); !s.ok()) return InvalidArgument(where + s.message());
  if (v6->size() > kMaxSetSize) return InvalidArgument(where + "v6 holds too many addresses");
  for (const json::value& v : *v6) {
    std::optional<Ipv6Address> a = v.is_string() ? ParseIpv6(v.get_string()) : std::nullopt;
    if (!a) return InvalidArgument(where + "v6 holds something not an IPv6 address");
    if (!out.v6.empty() && !(out.v6.back() < *a)) {
      return InvalidArgument(where + "v6 addresses out of order or repeated");
    }
    out.v6.push_back(*a);
  }
  if (count != out.size()) {
    return InvalidArgument(where + "count " + std::to_string(count) + " is not the set's size " +
                           std::to_string(out.size()));
  }
  return out;
}

Result<PortProto> ParsePortProto(std::string_view name) {
  for (int p = 0; p < kPortProtos; ++p) {
    if (PortProtoName(static_cast<PortProto>(p)) == name) return static_cast<PortProto>(p);
  }
  return InvalidArgument("unknown protocol '" + std::string(name) + "'");
}

bool KnownClass(std::string_view name) {
  for (int c = 0; c < kTrafficClasses; ++c) {
    if (TrafficClassName(static_cast<TrafficClass>(c)) == name) return true;
  }
  return false;
}

bool ValidRuleName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

DistinctSketch WireSources::Sketch() const {
  if (!exact) {
    auto parsed = DistinctSketch::Parse(sketch);
    return parsed.ok() ? *parsed : DistinctSketch();
  }
  DistinctSketch out;
  v4.ForEach([&](uint32_t a) { out.AddV4(a); });
  for (const Ipv6Address& a : v6) out.AddV6(a);
  return out;
}

WireSources WireSources::AsSketch() const {
  WireSources out;
  out.exact = false;
  out.count = size();
  if (!exact) {
    out.sketch = sketch;
  } else {
    std::vector<uint32_t> addresses;
    addresses.reserve(v4.size());
    v4.ForEach([&](uint32_t a) { addresses.push_back(a); });
    out.sketch = DistinctSketch::SerializeOf(addresses, v6);
  }
  return out;
}

void WireSources::Merge(const WireSources& other) {
  v4.Merge(other.v4);
  std::vector<Ipv6Address> merged;
  merged.reserve(v6.size() + other.v6.size());
  std::set_union(v6.begin(), v6.end(), other.v6.begin(), other.v6.end(),
                 std::back_inserter(merged));
  v6 = std::move(merged);
}

bool ValidSensorName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::optional<Ipv6Address> ParseIpv6(std::string_view text) {
  if (text.size() > 45) return std::nullopt;
  const std::string s(text);
  Ipv6Address a;
  if (inet_pton(AF_INET6, s.c_str(), a.data()) != 1) return std::nullopt;
  return a;
}

std::string FormatIpv6(const Ipv6Address& address) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, address.data(), text, sizeof text);
  return text;
}

WireInterval ToWire(const Summary& summary, const std::string& sensor, int64_t start_s,
                    int64_t seconds, const std::string& part, const WireLimits& limits) {
  WireInterval out;
  out.sensor = sensor;
  out.start_s = start_s;
  out.seconds = seconds;
  out.part = part;
  out.packets = summary.packets();
  out.first_us = summary.first_us();
  out.last_us = summary.last_us();
  out.fingerprint_rules = summary.fingerprints().version();
  out.sources = FromSet(summary.sources());
  const std::vector<Summary::PortEntry> ports = summary.Ports();
  out.ports.reserve(std::min(ports.size(), limits.max_ports));
  for (const Summary::PortEntry& entry : ports) {
    if (out.ports.size() < limits.max_ports) {
      out.ports.push_back(
          {entry.proto, entry.port, entry.stats->packets, FromSet(entry.stats->sources)});
    } else {
      ++out.other_ports;
      out.other_port_packets += entry.stats->packets;
    }
  }
  for (int c = 0; c < kTrafficClasses; ++c) {
    const auto traffic = static_cast<TrafficClass>(c);
    if (traffic == TrafficClass::kOther) continue;
    out.classes[std::string(TrafficClassName(traffic))] = FromSet(summary.class_sources(traffic));
  }
  const FingerprintSet& rules = summary.fingerprints();
  for (size_t r = 0; r < rules.size(); ++r) {
    out.fingerprints[rules.name(r)] = FromSet(summary.fingerprint_sources(r));
  }
  // The busiest sources: a heap of (packets, index) keeps this linear.
  std::vector<WireInterval::Source> all;
  const auto add = [&](std::string address, const SourceStats& s) {
    WireInterval::Source w;
    w.address = std::move(address);
    w.packets = s.packets;
    w.ports = s.ports.size();
    w.destinations = s.destinations.size();
    w.first_us = s.first_us;
    w.last_us = s.last_us;
    w.profile = {s.syn, s.syn_ack, s.rst, s.other_tcp, s.udp, s.icmp};
    const uint32_t matched = s.fingerprints();
    for (size_t r = 0; r < rules.size(); ++r) {
      if (matched >> r & 1) w.fingerprints.push_back(rules.name(r));
    }
    all.push_back(std::move(w));
  };
  struct Candidate {
    uint64_t packets;
    uint32_t v4;
    const SourceStats* stats;
    const Ipv6Address* v6;
  };
  std::vector<Candidate> candidates;
  summary.ForEachSource(
      [&](uint32_t v4, const SourceStats& s) {
        candidates.push_back({s.packets, v4, &s, nullptr});
      },
      [&](const Ipv6Address& v6, const SourceStats& s) {
        candidates.push_back({s.packets, 0, &s, &v6});
      });
  const auto busier = [](const Candidate& a, const Candidate& b) {
    if (a.packets != b.packets) return a.packets > b.packets;
    if ((a.v6 == nullptr) != (b.v6 == nullptr)) return a.v6 == nullptr;
    return a.v6 == nullptr ? a.v4 < b.v4 : *a.v6 < *b.v6;
  };
  const size_t keep = std::min(limits.max_top_sources, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<long>(keep),
                    candidates.end(), busier);
  for (size_t i = 0; i < keep; ++i) {
    const Candidate& c = candidates[i];
    if (c.v6 != nullptr) {
      add(FormatIpv6(*c.v6), *c.stats);
    } else {
      char text[INET_ADDRSTRLEN];
      const uint32_t be = htonl(c.v4);
      inet_ntop(AF_INET, &be, text, sizeof text);
      add(text, *c.stats);
    }
  }
  out.top_sources = std::move(all);
  return out;
}

std::string EncodeWire(const WireInterval& w) { return json::serialize(WireObject(w)); }

json::object WireObject(const WireInterval& w) {
  json::object out;
  out["kizuna_telescope_interval"] = 1;
  out["sensor"] = w.sensor;
  out["start"] = FormatTimestamp(w.start_s * 1000000, 0);
  out["seconds"] = w.seconds;
  out["part"] = w.part;
  out["packets"] = w.packets;
  out["first"] = FormatTimestamp(w.first_us);
  out["last"] = FormatTimestamp(w.last_us);
  out["fingerprint_rules"] = w.fingerprint_rules;
  out["sources"] = EncodeSources(w.sources);
  json::array ports;
  for (const WireInterval::Port& p : w.ports) {
    ports.push_back(json::object{{"proto", PortProtoName(p.proto)},
                                 {"port", p.port},
                                 {"packets", p.packets},
                                 {"sources", EncodeSources(p.sources)}});
  }
  out["ports"] = std::move(ports);
  out["other_ports"] = json::object{{"ports", w.other_ports}, {"packets", w.other_port_packets}};
  json::object classes, fingerprints;
  for (const auto& [name, set] : w.classes) classes[name] = EncodeSources(set);
  for (const auto& [name, set] : w.fingerprints) fingerprints[name] = EncodeSources(set);
  out["classes"] = std::move(classes);
  out["fingerprints"] = std::move(fingerprints);
  json::array top;
  for (const WireInterval::Source& s : w.top_sources) {
    json::object o{{"address", s.address},
                   {"packets", s.packets},
                   {"ports", s.ports},
                   {"destinations", s.destinations},
                   {"first", FormatTimestamp(s.first_us)},
                   {"last", FormatTimestamp(s.last_us)}};
    json::object profile;
    for (size_t i = 0; i < kProfileNames.size(); ++i) profile[kProfileNames[i]] = s.profile[i];
    o["profile"] = std::move(profile);
    json::array names;
    for (const std::string& n : s.fingerprints) names.push_back(json::string(n));
    o["fingerprints"] = std::move(names);
    top.push_back(std::move(o));
  }
  out["top_sources"] = std::move(top);
  return out;
}

Result<WireInterval> DecodeWire(std::string_view text, bool exact_only) {
  json::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  json::value root = json::parse(text, ec, {}, options);
  if (ec || !root.is_object()) return InvalidArgument("interval: not a JSON object");
  return DecodeWireObject(root.get_object(), exact_only);
}

Result<WireInterval> DecodeWireObject(const json::object& o, bool exact_only) {
  Fields f(o, "interval: ");
  WireInterval w;
  KIZUNA_ASSIGN_OR_RETURN(uint64_t version, f.Count("kizuna_telescope_interval"));
  if (version != 1) return InvalidArgument("interval: unsupported version");
  KIZUNA_ASSIGN_OR_RETURN(std::string_view sensor, f.Text("sensor"));
  if (!ValidSensorName(sensor)) {
    return InvalidArgument("interval: sensor: 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  w.sensor = sensor;
  KIZUNA_ASSIGN_OR_RETURN(int64_t start_us, f.Time("start"));
  KIZUNA_ASSIGN_OR_RETURN(uint64_t seconds, f.Count("seconds"));
  if (seconds == 0 || seconds > kMaxSeconds || 86400 % seconds != 0) {
    return InvalidArgument("interval: seconds: a divisor of 86400");
  }
  w.seconds = static_cast<int64_t>(seconds);
  if (start_us % 1000000 != 0 || (start_us / 1000000) % w.seconds != 0) {
    return InvalidArgument("interval: start is not on an interval boundary");
  }
  w.start_s = start_us / 1000000;
  KIZUNA_ASSIGN_OR_RETURN(std::string_view part, f.Text("part"));
  if (!ValidSensorName(part))
    return InvalidArgument("interval: part: 1 to 64 of A-Z a-z 0-9 . _ -");
  w.part = part;
  KIZUNA_ASSIGN_OR_RETURN(w.packets, f.Count("packets"));
  KIZUNA_ASSIGN_OR_RETURN(w.first_us, f.Time("first"));
  KIZUNA_ASSIGN_OR_RETURN(w.last_us, f.Time("last"));
  const int64_t end_us = (w.start_s + w.seconds) * 1000000;
  if (w.packets != 0 && (w.first_us < start_us || w.last_us >= end_us || w.last_us < w.first_us)) {
    return InvalidArgument("interval: first/last outside the interval");
  }
  KIZUNA_ASSIGN_OR_RETURN(std::string_view rules, f.Text("fingerprint_rules"));
  if (rules.size() > 128) return InvalidArgument("interval: fingerprint_rules too long");
  w.fingerprint_rules = rules;
  KIZUNA_ASSIGN_OR_RETURN(const json::object* sources, f.Object("sources"));
  KIZUNA_ASSIGN_OR_RETURN(w.sources, DecodeSources(*sources, "interval: sources: ", exact_only));
  KIZUNA_ASSIGN_OR_RETURN(const json::array* ports, f.Array("ports"));
  if (ports->size() > kMaxPorts) return InvalidArgument("interval: too many ports");
  uint64_t port_packets = 0;
  std::vector<std::pair<int, int>> seen;
  seen.reserve(ports->size());
  w.ports.reserve(ports->size());
  for (const json::value& v : *ports) {
    if (!v.is_object()) return InvalidArgument("interval: ports: not an object");
    Fields pf(v.get_object(), "interval: ports: ");
    WireInterval::Port p;
    KIZUNA_ASSIGN_OR_RETURN(std::string_view proto, pf.Text("proto"));
    auto parsed = ParsePortProto(proto);
    if (!parsed.ok()) return InvalidArgument("interval: ports: " + parsed.status().message());
    p.proto = *parsed;
    KIZUNA_ASSIGN_OR_RETURN(uint64_t port, pf.Count("port"));
    if (port > 65535) return InvalidArgument("interval: ports: port out of range");
    p.port = static_cast<uint16_t>(port);
    KIZUNA_ASSIGN_OR_RETURN(p.packets, pf.Count("packets"));
    KIZUNA_ASSIGN_OR_RETURN(const json::object* set, pf.Object("sources"));
    KIZUNA_ASSIGN_OR_RETURN(p.sources,
                            DecodeSources(*set, "interval: ports: sources: ", exact_only));
    if (p.packets > w.packets - std::min(w.packets, port_packets)) {
      return InvalidArgument("interval: ports hold more packets than the interval");
    }
    port_packets += p.packets;
    seen.emplace_back(static_cast<int>(p.proto), p.port);
    w.ports.push_back(std::move(p));
  }
  std::sort(seen.begin(), seen.end());
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
    return InvalidArgument("interval: ports: a port is listed twice");
  }
  KIZUNA_ASSIGN_OR_RETURN(const json::object* other, f.Object("other_ports"));
  Fields of(*other, "interval: other_ports: ");
  KIZUNA_ASSIGN_OR_RETURN(w.other_ports, of.Count("ports"));
  KIZUNA_ASSIGN_OR_RETURN(w.other_port_packets, of.Count("packets"));
  if (port_packets > w.packets || w.other_port_packets > w.packets - port_packets) {
    return InvalidArgument("interval: ports hold more packets than the interval");
  }
  KIZUNA_ASSIGN_OR_RETURN(const json::object* classes, f.Object("classes"));
  for (const auto& [name, v] : *classes) {
    if (!KnownClass(name) || !v.is_object()) {
      return InvalidArgument("interval: classes: unknown class '" + std::string(name) + "'");
    }
    KIZUNA_ASSIGN_OR_RETURN(w.classes[std::string(name)],
                            DecodeSources(v.get_object(), "interval: classes: ", exact_only));
  }
  KIZUNA_ASSIGN_OR_RETURN(const json::object* fingerprints, f.Object("fingerprints"));
  if (fingerprints->size() > 32) return InvalidArgument("interval: too many fingerprints");
  for (const auto& [name, v] : *fingerprints) {
    if (!ValidRuleName(name) || !v.is_object()) {
      return InvalidArgument("interval: fingerprints: bad rule name");
    }
    KIZUNA_ASSIGN_OR_RETURN(w.fingerprints[std::string(name)],
                            DecodeSources(v.get_object(), "interval: fingerprints: ", exact_only));
  }
  // Absent where addresses may not travel (a shared summary).
  static const json::array kNone;
  const json::array* top = &kNone;
  if (o.contains("top_sources")) {
    KIZUNA_ASSIGN_OR_RETURN(top, f.Array("top_sources"));
  }
  if (top->size() > kMaxTopSources) return InvalidArgument("interval: too many top_sources");
  for (const json::value& v : *top) {
    if (!v.is_object()) return InvalidArgument("interval: top_sources: not an object");
    Fields sf(v.get_object(), "interval: top_sources: ");
    WireInterval::Source s;
    KIZUNA_ASSIGN_OR_RETURN(std::string_view address, sf.Text("address"));
    in_addr v4;
    const std::string text(address.substr(0, 64));
    if (address.size() > 45 ||
        (inet_pton(AF_INET, text.c_str(), &v4) != 1 && !ParseIpv6(address))) {
      return InvalidArgument("interval: top_sources: address is not an IP address");
    }
    s.address = text;
    KIZUNA_ASSIGN_OR_RETURN(s.packets, sf.Count("packets"));
    KIZUNA_ASSIGN_OR_RETURN(s.ports, sf.Count("ports"));
    KIZUNA_ASSIGN_OR_RETURN(s.destinations, sf.Count("destinations"));
    KIZUNA_ASSIGN_OR_RETURN(s.first_us, sf.Time("first"));
    KIZUNA_ASSIGN_OR_RETURN(s.last_us, sf.Time("last"));
    KIZUNA_ASSIGN_OR_RETURN(const json::object* profile, sf.Object("profile"));
    Fields pf(*profile, "interval: top_sources: profile: ");
    for (size_t i = 0; i < kProfileNames.size(); ++i) {
      KIZUNA_ASSIGN_OR_RETURN(s.profile[i], pf.Count(kProfileNames[i]));
    }
    KIZUNA_ASSIGN_OR_RETURN(const json::array* names, sf.Array("fingerprints"));
    if (names->size() > 32) return InvalidArgument("interval: top_sources: too many fingerprints");
    for (const json::value& n : *names) {
      if (!n.is_string() || !ValidRuleName(n.get_string())) {
        return InvalidArgument("interval: top_sources: bad fingerprint name");
      }
      s.fingerprints.emplace_back(n.get_string());
    }
    w.top_sources.push_back(std::move(s));
  }
  return w;
}

Status SplitCapture(const std::string& path, const Darknet& darknet, int64_t seconds,
                    const std::function<Status(int64_t start_s, int piece, Summary& summary)>& emit,
                    SplitStats* stats,
                    const std::function<void(uint64_t done, uint64_t total)>& progress,
                    const FingerprintSet& rules) {
  if (seconds <= 0 || 86400 % seconds != 0) {
    return InvalidArgument("interval seconds must divide 86400");
  }
  KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<CaptureReader> reader, CaptureReader::Open(path));
  struct Open {
    int piece = 0;
    std::unique_ptr<Summary> summary;
  };
  std::map<int64_t, Open> open;       // by start
  std::map<int64_t, int> next_piece;  // starts already handed over
  int64_t newest = INT64_MIN;
  const auto close = [&](std::map<int64_t, Open>::iterator it) -> Status {
    KIZUNA_RETURN_IF_ERROR(emit(it->first, it->second.piece, *it->second.summary));
    next_piece[it->first] = it->second.piece + 1;
    ++stats->intervals;
    open.erase(it);
    return Status::Ok();
  };
  Frame frame;
  Packet packet;
  const LinkType link = reader->link();
  while (reader->Next(&frame)) {
    ++stats->frames;
    const DecodeStatus status = Decode(link, frame.data, frame.caplen, &packet);
    if (status != DecodeStatus::kOk) ++stats->undecoded;
    if (packet.ip_version != 0 && status != DecodeStatus::kMalformed) {
      if (!darknet.Contains(packet)) {
        ++stats->outside;
      } else {
        const int64_t ts_s =
            frame.ts_us >= 0 ? frame.ts_us / 1000000 : (frame.ts_us + 1) / 1000000 - 1;
        const int64_t start = ts_s - ((ts_s % seconds) + seconds) % seconds;
        auto it = open.find(start);
        if (it == open.end()) {
          Open o;
          auto done = next_piece.find(start);
          o.piece = done == next_piece.end() ? 0 : done->second;
          o.summary = std::make_unique<Summary>(rules);
          it = open.emplace(start, std::move(o)).first;
        }
        it->second.summary->Add(packet, frame.ts_us);
        if (start > newest) {
          newest = start;
          // Intervals more than two behind the newest are complete.
          while (!open.empty() && open.begin()->first < newest - 2 * seconds) {
            KIZUNA_RETURN_IF_ERROR(close(open.begin()));
          }
        }
      }
    }
    if (progress && (stats->frames & 0xFFFFF) == 0) {
      progress(reader->size() != 0 ? reader->position() : stats->frames, reader->size());
    }
  }
  while (!open.empty()) KIZUNA_RETURN_IF_ERROR(close(open.begin()));
  if (!reader->status().ok()) stats->file_error = reader->status().message();
  if (progress) progress(reader->size() != 0 ? reader->size() : stats->frames, reader->size());
  return Status::Ok();
}

Result<std::string> CaptureIdentity(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  constexpr int64_t kEdge = 1 << 20;
  std::string material = std::to_string(size) + ":";
  const auto read = [&](int64_t from, int64_t n) {
    std::string chunk(static_cast<size_t>(n), '\0');
    in.seekg(from);
    in.read(chunk.data(), n);
    material += chunk;
  };
  read(0, std::min(size, kEdge));
  if (size > kEdge) read(std::max(kEdge, size - kEdge), std::min(kEdge, size - kEdge));
  if (!in) return InvalidArgument("cannot read " + path);
  return HexEncode(Sha256(material)).substr(0, 32);
}

}  // namespace kizuna::sensor
