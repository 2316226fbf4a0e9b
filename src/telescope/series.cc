#include "telescope/series.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include "sharing/policy.h"
#include "telescope/objects.h"

namespace kizuna::telescope {

namespace json = boost::json;

void TelescopeData::Add(const store::StoredObject& object) {
  if (!IsTelescopeType(object.type)) return;
  {
    // This version is held already (an upload puts its objects in before
    // the bus brings them): not parsed again.
    std::shared_lock lock(mu_);
    if (auto of = summary_of_.find(object.id); of != summary_of_.end()) {
      const Entry& entry = by_summary_id_.at(of->second);
      const auto& held = entry.sources_meta && entry.sources_meta->id == object.id
                             ? entry.sources_meta
                             : entry.summary_meta;
      if (held && held->id == object.id && held->version_us == object.version_us &&
          held->origin == object.origin) {
        return;
      }
    }
  }
  json::error_code ec;
  json::value root = json::parse(object.json, ec);
  Result<ParsedObject> parsed =
      ec || !root.is_object() ? Result<ParsedObject>(InvalidArgument("telescope object: not JSON"))
                              : ParseIntervalObject(root.get_object());
  const bool too_late =
      parsed.ok() && clock_ != nullptr &&
      parsed->interval.start_s > clock_->NowMicros() / 1000000 + kMostAheadSeconds;
  std::unique_lock lock(mu_);
  if (!parsed.ok() || too_late) {
    ++rejected_;
    return;
  }
  if (parsed->interval.start_s < HorizonLocked()) {
    if (!parsed->is_sources) ++let_go_;  // an interval, counted by its summary
    return;
  }
  // What the sharing decision needs, without the JSON (parsed above).
  store::StoredObject meta;
  meta.id = object.id;
  meta.type = object.type;
  meta.spec_version = object.spec_version;
  meta.version_us = object.version_us;
  meta.date_added_us = object.date_added_us;
  meta.tlp = object.tlp;
  meta.created_by_ref = object.created_by_ref;
  meta.origin = object.origin;
  // The one property of the JSON the sharing decision reads.
  if (const json::value* groups = root.as_object().if_contains(sharing::kSharingGroupsProperty)) {
    meta.json = json::serialize(json::object{{sharing::kSharingGroupsProperty, *groups}});
  }
  auto [it, fresh] = by_summary_id_.try_emplace(parsed->summary_id);
  Entry& entry = it->second;
  if (!fresh && (entry.origin != object.origin || entry.producer != parsed->producer)) {
    ++rejected_;  // another's object claiming this interval
    return;
  }
  if (fresh) {
    entry.origin = object.origin;
    entry.producer = parsed->producer;
    entry.start_s = parsed->interval.start_s;
    entry.sensor = parsed->interval.sensor;
    by_start_.emplace(entry.start_s, parsed->summary_id);
    budgets_[BudgetOf(entry)].by_start.emplace(entry.start_s, parsed->summary_id);
  }
  if (parsed->is_sources) {
    entry.interval = std::make_shared<const StoredInterval>(StoredInterval::From(parsed->interval));
    entry.sources_meta = std::move(meta);
  } else {
    if (!entry.sources_meta) {
      entry.interval =
          std::make_shared<const StoredInterval>(StoredInterval::From(parsed->interval));
    }
    entry.summary_meta = std::move(meta);
  }
  summary_of_[object.id] = parsed->summary_id;
  RecountLocked(entry);

  // Past the window (it may have moved with this interval), or past the
  // origin's memory: the oldest go first.
  const int64_t horizon = HorizonLocked();
  while (!by_start_.empty() && by_start_.begin()->first < horizon) {
    EraseLocked(by_summary_id_.find(by_start_.begin()->second));
    ++let_go_;
  }
  auto use = budgets_.find(BudgetOf(entry));
  while (use != budgets_.end() && use->second.bytes > retention_.origin_bytes) {
    const std::string oldest = use->second.by_start.begin()->second;
    const bool last = use->second.by_start.size() == 1;
    EraseLocked(by_summary_id_.find(oldest));
    ++let_go_;
    if (last) break;  // the origin's entry went with it
  }
}

TelescopeData::BudgetKey TelescopeData::BudgetOf(const Entry& entry) {
  // Ours per sensor (one sensor gone wrong does not push out the others'),
  // a partner's as one (it cannot make up sensors for more memory).
  return {entry.origin, entry.origin.empty() ? entry.sensor : std::string()};
}

int64_t TelescopeData::HorizonLocked() const {
  if (by_start_.empty()) return INT64_MIN;
  return by_start_.rbegin()->first - retention_.keep_seconds;
}

void TelescopeData::RecountLocked(Entry& entry) {
  const uint64_t bytes =
      1024 + (entry.interval ? entry.interval->MemoryBytes() : 0);  // with the kept metadata
  OriginUse& use = budgets_[BudgetOf(entry)];
  use.bytes = use.bytes - entry.bytes + bytes;
  memory_bytes_ = memory_bytes_ - entry.bytes + bytes;
  entry.bytes = bytes;
}

void TelescopeData::EraseLocked(EntryIt it) {
  Entry& entry = it->second;
  auto range = by_start_.equal_range(entry.start_s);
  for (auto s = range.first; s != range.second; ++s) {
    if (s->second == it->first) {
      by_start_.erase(s);
      break;
    }
  }
  if (entry.summary_meta) summary_of_.erase(entry.summary_meta->id);
  if (entry.sources_meta) summary_of_.erase(entry.sources_meta->id);
  auto use = budgets_.find(BudgetOf(entry));
  if (use != budgets_.end()) {
    use->second.bytes -= entry.bytes;
    use->second.by_start.erase({entry.start_s, it->first});
    if (use->second.by_start.empty()) budgets_.erase(use);
  }
  memory_bytes_ -= entry.bytes;
  by_summary_id_.erase(it);
}

void TelescopeData::SetRetention(Retention retention) {
  std::unique_lock lock(mu_);
  retention_ = retention;
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
  if (entry.sources_meta && entry.sources_meta->id == id) entry.sources_meta.reset();
  if (entry.summary_meta && entry.summary_meta->id == id) entry.summary_meta.reset();
  if (!entry.sources_meta && !entry.summary_meta) {
    EraseLocked(it);
    return;
  }
  if (!entry.sources_meta && entry.interval && entry.interval->exact) {
    // The addresses went with their object; what the summary says stays
    // (its counts and sketches follow from them).
    entry.interval = std::make_shared<const StoredInterval>(entry.interval->Sketched());
    RecountLocked(entry);
  }
}

bool TelescopeData::VisibleSlice(const Entry& entry, const Visible& visible, Slice* slice) const {
  if (!entry.interval) return false;
  const stix::Tlp summary_tlp = entry.summary_meta ? entry.summary_meta->tlp : stix::Tlp::kNone;
  const stix::Tlp sources_tlp = entry.sources_meta ? entry.sources_meta->tlp : stix::Tlp::kNone;
  bool addresses;
  if (entry.sources_meta && visible(*entry.sources_meta)) {
    addresses = true;
  } else if (entry.summary_meta && visible(*entry.summary_meta)) {
    addresses = false;
  } else {
    return false;
  }
  *slice = {entry.origin, entry.producer, entry.interval, addresses, summary_tlp, sources_tlp};
  return true;
}

std::vector<Slice> TelescopeData::Select(const Filter& filter, const Visible& visible) const {
  std::vector<Slice> out;
  std::shared_lock lock(mu_);
  for (auto it = by_start_.lower_bound(filter.since_s);
       it != by_start_.end() && it->first < filter.until_s; ++it) {
    const Entry& entry = by_summary_id_.at(it->second);
    if (!filter.sensor.empty() && entry.sensor != filter.sensor) continue;
    if (filter.origin && entry.origin != *filter.origin) continue;
    Slice slice;
    if (VisibleSlice(entry, visible, &slice)) out.push_back(std::move(slice));
  }
  return out;
}

int64_t TelescopeData::newest_start(const Visible& visible) const {
  std::shared_lock lock(mu_);
  Slice slice;
  for (auto it = by_start_.rbegin(); it != by_start_.rend(); ++it) {
    if (VisibleSlice(by_summary_id_.at(it->second), visible, &slice)) return it->first;
  }
  return 0;
}

uint64_t TelescopeData::let_go() const {
  std::shared_lock lock(mu_);
  return let_go_;
}

uint64_t TelescopeData::memory_bytes() const {
  std::shared_lock lock(mu_);
  return memory_bytes_;
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

void SourceUnion::Add(const std::shared_ptr<const StoredInterval>& interval, const PooledSet& set) {
  if (++parts_ == 1) {
    first_ = interval;
    first_set_ = set;
    return;
  }
  FoldFirst();
  Fold(*interval, set);
}

void SourceUnion::FoldFirst() const {
  if (!first_) return;
  const std::shared_ptr<const StoredInterval> interval = std::move(first_);
  first_.reset();
  Fold(*interval, first_set_);
}

namespace {

// Sorts and deduplicates a run whose tail past `unique` was appended.
template <typename T>
void MakeUnique(std::vector<T>& values, size_t& unique) {
  if (unique == values.size()) return;
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  unique = values.size();
}

// Past twice the distinct values seen and a million more, an appended run
// is made unique: memory stays proportional to the union, not to its parts.
template <typename T>
void Append(std::vector<T>& values, size_t& unique, std::span<const T> part) {
  values.insert(values.end(), part.begin(), part.end());
  if (values.size() > 2 * unique + (size_t{1} << 20)) MakeUnique(values, unique);
}

}  // namespace

void SourceUnion::Fold(const StoredInterval& interval, const PooledSet& set) const {
  if (exact_ && set.exact) {
    // Appended, and made unique once when asked (merging each part into a
    // sorted set would move the set at every part: quadratic).
    Append(v4_, v4_unique_, interval.V4(set));
    Append(v6_, v6_unique_, interval.V6(set));
    return;
  }
  if (exact_) {
    // From here on the union is a sketch: what was exact joins it.
    sketch_ = std::make_unique<sensor::DistinctSketch>();
    for (uint32_t a : v4_) sketch_->AddV4(a);
    for (const auto& a : v6_) sketch_->AddV6(a);
    std::vector<uint32_t>().swap(v4_);
    std::vector<sensor::Ipv6Address>().swap(v6_);
    v4_unique_ = v6_unique_ = 0;
    exact_ = false;
  }
  if (set.exact) {
    for (uint32_t a : interval.V4(set)) sketch_->AddV4(a);
    for (const auto& a : interval.V6(set)) sketch_->AddV6(a);
  } else if (auto parsed = sensor::DistinctSketch::Parse(interval.Sketch(set)); parsed.ok()) {
    sketch_->Merge(*parsed);
  }
}

bool SourceUnion::exact() const { return first_ ? first_set_.exact : exact_; }

void SourceUnion::Settle() const {
  FoldFirst();
  MakeUnique(v4_, v4_unique_);
  MakeUnique(v6_, v6_unique_);
}

const std::vector<uint32_t>& SourceUnion::v4() const {
  Settle();
  return v4_;
}

const std::vector<sensor::Ipv6Address>& SourceUnion::v6() const {
  Settle();
  return v6_;
}

uint64_t SourceUnion::size() const {
  // One part alone has its sender's count (a sketch's exact one too).
  if (parts_ == 1) return first_set_.count;
  Settle();
  if (exact_) return v4_.size() + v6_.size();
  return static_cast<uint64_t>(std::llround(sketch_->Estimate()));
}

namespace {

PooledSet Pool(const sensor::WireSources& set, StoredInterval& into) {
  PooledSet out;
  out.exact = set.exact;
  out.count = static_cast<uint32_t>(set.size());
  if (!set.exact) {
    out.sketch_begin = static_cast<uint32_t>(into.sketches.size());
    out.sketch_size = static_cast<uint32_t>(set.sketch.size());
    into.sketches += set.sketch;
    return out;
  }
  out.v4_begin = static_cast<uint32_t>(into.v4.size());
  set.v4.ForEach([&](uint32_t a) { into.v4.push_back(a); });
  out.v4_size = static_cast<uint32_t>(into.v4.size() - out.v4_begin);
  out.v6_begin = static_cast<uint32_t>(into.v6.size());
  into.v6.insert(into.v6.end(), set.v6.begin(), set.v6.end());
  out.v6_size = static_cast<uint32_t>(set.v6.size());
  return out;
}

}  // namespace

StoredInterval StoredInterval::From(const sensor::WireInterval& wire) {
  StoredInterval out;
  out.sensor = wire.sensor;
  out.start_s = wire.start_s;
  out.seconds = wire.seconds;
  out.packets = wire.packets;
  out.first_us = wire.first_us;
  out.last_us = wire.last_us;
  out.exact = wire.sources.exact;
  out.sources = Pool(wire.sources, out);
  out.ports.reserve(wire.ports.size());
  for (const auto& p : wire.ports) {
    out.ports.push_back({p.proto, p.port, p.packets, Pool(p.sources, out)});
  }
  for (const auto& [name, set] : wire.classes) out.classes.emplace_back(name, Pool(set, out));
  for (const auto& [name, set] : wire.fingerprints) {
    out.fingerprints.emplace_back(name, Pool(set, out));
  }
  const size_t kept = std::min(wire.top_sources.size(), kKeptTopSources);
  out.top_sources.assign(wire.top_sources.begin(),
                         wire.top_sources.begin() + static_cast<long>(kept));
  out.v4.shrink_to_fit();
  out.v6.shrink_to_fit();
  out.sketches.shrink_to_fit();
  return out;
}

StoredInterval StoredInterval::Sketched() const {
  StoredInterval out;
  out.sensor = sensor;
  out.start_s = start_s;
  out.seconds = seconds;
  out.packets = packets;
  out.first_us = first_us;
  out.last_us = last_us;
  out.exact = false;
  const auto sketch = [&](const PooledSet& set) {
    PooledSet to;
    to.exact = false;
    to.count = set.count;
    const std::string bytes = set.exact ? sensor::DistinctSketch::SerializeOf(V4(set), V6(set))
                                        : std::string(Sketch(set));
    to.sketch_begin = static_cast<uint32_t>(out.sketches.size());
    to.sketch_size = static_cast<uint32_t>(bytes.size());
    out.sketches += bytes;
    return to;
  };
  out.sources = sketch(sources);
  out.ports.reserve(ports.size());
  for (const Port& p : ports) out.ports.push_back({p.proto, p.port, p.packets, sketch(p.sources)});
  for (const auto& [name, set] : classes) out.classes.emplace_back(name, sketch(set));
  for (const auto& [name, set] : fingerprints) out.fingerprints.emplace_back(name, sketch(set));
  out.sketches.shrink_to_fit();
  return out;
}

uint64_t StoredInterval::MemoryBytes() const {
  uint64_t bytes = sizeof(StoredInterval) + sensor.capacity() + ports.capacity() * sizeof(Port) +
                   v4.capacity() * sizeof(uint32_t) + v6.capacity() * sizeof(sensor::Ipv6Address) +
                   sketches.capacity();
  for (const auto& named : {&classes, &fingerprints}) {
    for (const auto& [name, set] : *named) bytes += sizeof(PooledSet) + 32 + name.capacity();
  }
  for (const auto& s : top_sources) {
    bytes += sizeof(s) + s.address.capacity();
    for (const std::string& f : s.fingerprints) bytes += sizeof(f) + f.capacity();
  }
  return bytes;
}

uint32_t PortKey(sensor::PortProto proto, uint16_t port) {
  return static_cast<uint32_t>(proto) << 16 | port;
}

std::vector<uint32_t> BusiestPorts(const std::vector<Slice>& slices, size_t top) {
  std::unordered_map<uint32_t, uint64_t> packets;
  for (const Slice& slice : slices) {
    for (const auto& p : slice.interval->ports) packets[PortKey(p.proto, p.port)] += p.packets;
  }
  std::vector<std::pair<uint32_t, uint64_t>> ranked(packets.begin(), packets.end());
  // Busiest first; equal ones by port, so that the answer does not depend
  // on the hash table's order.
  const auto busier = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (ranked.size() > top) {
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(top),
                      ranked.end(), busier);
    ranked.resize(top);
  } else {
    std::sort(ranked.begin(), ranked.end(), busier);
  }
  std::vector<uint32_t> out;
  out.reserve(ranked.size());
  for (const auto& [key, count] : ranked) out.push_back(key);
  return out;
}

std::vector<PortTotal> TopPorts(const std::vector<Slice>& slices, size_t top) {
  // The busiest ports first, then only their sources merged.
  const std::vector<uint32_t> keys = BusiestPorts(slices, top);
  std::unordered_map<uint32_t, size_t> index;
  for (size_t i = 0; i < keys.size(); ++i) index.emplace(keys[i], i);
  std::vector<PortTotal> out;
  out.reserve(keys.size());
  for (uint32_t key : keys) {
    out.push_back({static_cast<sensor::PortProto>(key >> 16), static_cast<uint16_t>(key & 0xFFFF)});
  }
  std::vector<SourceUnion> sources(keys.size());
  for (const Slice& slice : slices) {
    for (const auto& p : slice.interval->ports) {
      auto it = index.find(PortKey(p.proto, p.port));
      if (it == index.end()) continue;
      out[it->second].packets += p.packets;
      sources[it->second].Add(slice.interval, p.sources);
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].sources = sources[i].size();
    out[i].exact = sources[i].exact();
  }
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
    const StoredInterval& w = *slice.interval;
    const int64_t at = w.start_s - ((w.start_s % step_s) + step_s) % step_s;
    for (const auto& p : w.ports) {
      const uint32_t key = PortKey(p.proto, p.port);
      if (!keys.contains(key)) continue;
      Acc& acc = steps[key][at];
      acc.packets += p.packets;
      acc.sources.Add(slice.interval, p.sources);
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
    const StoredInterval& w = *slice.interval;
    out.packets += w.packets;
    ++out.intervals;
    all.Add(slice.interval, w.sources);
    for (const auto& [name, set] : w.classes) classes[name].Add(slice.interval, set);
    for (const auto& [name, set] : w.fingerprints) fingerprints[name].Add(slice.interval, set);
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
    if (!slice.addresses) continue;
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
    const StoredInterval& w = *slice.interval;
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
    info.exact = info.exact || slice.addresses;
  }
  std::vector<SensorInfo> out;
  for (auto& [key, info] : by_name) out.push_back(std::move(info));
  return out;
}

}  // namespace kizuna::telescope
