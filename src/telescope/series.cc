#include "telescope/series.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <mutex>

#include "telescope/objects.h"

namespace kizuna::telescope {

namespace json = boost::json;

void TelescopeData::Add(const store::StoredObject& object) {
  if (!IsTelescopeType(object.type)) return;
  json::error_code ec;
  json::value root = json::parse(object.json, ec);
  Result<ParsedObject> parsed =
      ec || !root.is_object() ? Result<ParsedObject>(InvalidArgument("telescope object: not JSON"))
                              : ParseIntervalObject(root.get_object());
  std::unique_lock lock(mu_);
  if (!parsed.ok()) {
    ++rejected_;
    return;
  }
  store::StoredObject meta = object;
  meta.json.clear();
  Entry& entry = by_summary_id_[parsed->summary_id];
  if (entry.sensor.empty()) {
    entry.origin = object.origin;
    entry.producer = parsed->producer;
    entry.start_s = parsed->interval.start_s;
    entry.sensor = parsed->interval.sensor;
    by_start_.emplace(entry.start_s, parsed->summary_id);
  }
  auto interval = std::make_shared<const sensor::WireInterval>(std::move(parsed->interval));
  if (parsed->is_sources) {
    entry.sources = std::move(interval);
    entry.sources_meta = std::move(meta);
  } else {
    entry.summary = std::move(interval);
    entry.summary_meta = std::move(meta);
  }
  summary_of_[object.id] = parsed->summary_id;
}

void TelescopeData::Remove(const std::string& id) {
  std::unique_lock lock(mu_);
  auto of = summary_of_.find(id);
  if (of == summary_of_.end()) return;
  const std::string summary_id = of->second;
  summary_of_.erase(of);
  auto it = by_summary_id_.find(summary_id);
  if (it == by_summary_id_.end()) return;
  Entry& entry = it->second;
  if (entry.sources_meta && entry.sources_meta->id == id) {
    entry.sources.reset();
    entry.sources_meta.reset();
  }
  if (entry.summary_meta && entry.summary_meta->id == id) {
    entry.summary.reset();
    entry.summary_meta.reset();
  }
  if (!entry.sources && !entry.summary) {
    auto range = by_start_.equal_range(entry.start_s);
    for (auto s = range.first; s != range.second; ++s) {
      if (s->second == summary_id) {
        by_start_.erase(s);
        break;
      }
    }
    by_summary_id_.erase(it);
  }
}

std::vector<Slice> TelescopeData::Select(const Filter& filter, const Visible& visible) const {
  std::vector<Slice> out;
  std::shared_lock lock(mu_);
  for (auto it = by_start_.lower_bound(filter.since_s);
       it != by_start_.end() && it->first < filter.until_s; ++it) {
    const Entry& entry = by_summary_id_.at(it->second);
    if (!filter.sensor.empty() && entry.sensor != filter.sensor) continue;
    if (filter.origin && entry.origin != *filter.origin) continue;
    if (entry.sources && visible(*entry.sources_meta)) {
      out.push_back({entry.origin, entry.producer, entry.sources});
    } else if (entry.summary && visible(*entry.summary_meta)) {
      out.push_back({entry.origin, entry.producer, entry.summary});
    }
  }
  return out;
}

int64_t TelescopeData::newest_start() const {
  std::shared_lock lock(mu_);
  return by_start_.empty() ? 0 : by_start_.rbegin()->first;
}

uint64_t TelescopeData::intervals() const {
  std::shared_lock lock(mu_);
  return by_summary_id_.size();
}

uint64_t TelescopeData::rejected() const {
  std::shared_lock lock(mu_);
  return rejected_;
}

void SourceUnion::Add(const sensor::WireSources& sources) {
  ++parts_;
  if (parts_ == 1) single_count_ = sources.size();
  if (exact_ && sources.exact) {
    set_.Merge(sources);
    return;
  }
  if (exact_) {
    // From here on the union is a sketch: what was exact joins it.
    sketch_ = std::make_unique<sensor::DistinctSketch>(set_.Sketch());
    set_ = sensor::WireSources();
    exact_ = false;
  }
  sketch_->Merge(sources.Sketch());
}

uint64_t SourceUnion::size() const {
  if (exact_) return set_.size();
  // One part alone keeps its sender's exact count.
  if (parts_ == 1) return single_count_;
  return static_cast<uint64_t>(std::llround(sketch_->Estimate()));
}

uint32_t PortKey(sensor::PortProto proto, uint16_t port) {
  return static_cast<uint32_t>(proto) << 16 | port;
}

std::vector<PortTotal> TopPorts(const std::vector<Slice>& slices, size_t top) {
  struct Acc {
    uint64_t packets = 0;
    SourceUnion sources;
  };
  std::map<uint32_t, Acc> ports;
  for (const Slice& slice : slices) {
    for (const auto& p : slice.interval->ports) {
      Acc& acc = ports[PortKey(p.proto, p.port)];
      acc.packets += p.packets;
      acc.sources.Add(p.sources);
    }
  }
  std::vector<PortTotal> out;
  out.reserve(ports.size());
  for (const auto& [key, acc] : ports) {
    out.push_back({static_cast<sensor::PortProto>(key >> 16), static_cast<uint16_t>(key & 0xFFFF),
                   acc.packets, acc.sources.size(), acc.sources.exact()});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const PortTotal& a, const PortTotal& b) { return a.packets > b.packets; });
  if (out.size() > top) out.resize(top);
  return out;
}

std::map<uint32_t, std::vector<PortPoint>> SeriesByPort(const std::vector<Slice>& slices,
                                                        const std::set<uint32_t>& keys,
                                                        int64_t step_s) {
  struct Acc {
    uint64_t packets = 0;
    SourceUnion sources;
  };
  std::map<uint32_t, std::map<int64_t, Acc>> steps;
  for (const Slice& slice : slices) {
    const sensor::WireInterval& w = *slice.interval;
    const int64_t at = w.start_s - ((w.start_s % step_s) + step_s) % step_s;
    for (const auto& p : w.ports) {
      const uint32_t key = PortKey(p.proto, p.port);
      if (!keys.contains(key)) continue;
      Acc& acc = steps[key][at];
      acc.packets += p.packets;
      acc.sources.Add(p.sources);
    }
  }
  std::map<uint32_t, std::vector<PortPoint>> out;
  for (const auto& [key, by_start] : steps) {
    std::vector<PortPoint>& points = out[key];
    points.reserve(by_start.size());
    for (const auto& [start, acc] : by_start) {
      points.push_back({start, acc.packets, acc.sources.size(), acc.sources.exact()});
    }
  }
  return out;
}

std::vector<PortPoint> PortSeries(const std::vector<Slice>& slices, sensor::PortProto proto,
                                  uint16_t port, int64_t step_s) {
  const uint32_t key = PortKey(proto, port);
  auto all = SeriesByPort(slices, {key}, step_s);
  return std::move(all[key]);
}

Totals Summarize(const std::vector<Slice>& slices) {
  Totals out;
  SourceUnion all;
  std::map<std::string, SourceUnion> classes, fingerprints;
  for (const Slice& slice : slices) {
    const sensor::WireInterval& w = *slice.interval;
    out.packets += w.packets;
    ++out.intervals;
    all.Add(w.sources);
    for (const auto& [name, set] : w.classes) classes[name].Add(set);
    for (const auto& [name, set] : w.fingerprints) fingerprints[name].Add(set);
    if (w.packets != 0) {
      if (out.first_us == 0 || w.first_us < out.first_us) out.first_us = w.first_us;
      if (w.last_us > out.last_us) out.last_us = w.last_us;
    }
  }
  out.sources = all.size();
  out.exact = all.exact();
  for (const auto& [name, u] : classes) out.classes[name] = u.size();
  for (const auto& [name, u] : fingerprints) out.fingerprints[name] = u.size();
  return out;
}

std::vector<SourceTotal> TopSources(const std::vector<Slice>& slices, size_t top) {
  std::map<std::string, SourceTotal> by_address;
  for (const Slice& slice : slices) {
    for (const auto& s : slice.interval->top_sources) {
      SourceTotal& t = by_address[s.address];
      t.address = s.address;
      t.packets += s.packets;
      ++t.intervals;
      if (t.first_us == 0 || s.first_us < t.first_us) t.first_us = s.first_us;
      if (s.last_us > t.last_us) t.last_us = s.last_us;
      t.fingerprints.insert(s.fingerprints.begin(), s.fingerprints.end());
      t.sensors.insert(slice.origin.empty() ? slice.interval->sensor
                                            : slice.origin + "/" + slice.interval->sensor);
    }
  }
  std::vector<SourceTotal> out;
  out.reserve(by_address.size());
  for (auto& [address, t] : by_address) out.push_back(std::move(t));
  std::stable_sort(out.begin(), out.end(), [](const SourceTotal& a, const SourceTotal& b) {
    return a.packets > b.packets;
  });
  if (out.size() > top) out.resize(top);
  return out;
}

std::vector<SensorInfo> Sensors(const std::vector<Slice>& slices) {
  std::map<std::pair<std::string, std::string>, SensorInfo> by_name;
  for (const Slice& slice : slices) {
    const sensor::WireInterval& w = *slice.interval;
    SensorInfo& info = by_name[{slice.origin, w.sensor}];
    if (info.intervals == 0) {
      info.origin = slice.origin;
      info.sensor = w.sensor;
      info.first_start_s = w.start_s;
    }
    ++info.intervals;
    info.packets += w.packets;
    info.first_start_s = std::min(info.first_start_s, w.start_s);
    info.last_start_s = std::max(info.last_start_s, w.start_s);
    info.exact = info.exact || w.sources.exact;
  }
  std::vector<SensorInfo> out;
  for (auto& [key, info] : by_name) out.push_back(std::move(info));
  return out;
}

}  // namespace kizuna::telescope
