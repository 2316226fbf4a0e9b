// The telescope on the node, below HTTP: intervals as STIX objects (valid,
// idempotent, no address in the shared summary), the merged views (exact
// across our own sensors, estimated where a partner's sketch joins, only
// what the reader may see), and surges found on generated traffic through
// the whole path (capture → intervals → objects → views → detector).
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <span>

#include "geo/geo.h"
#include "node/config_section.h"
#include "node/node.h"
#include "sensor/synth.h"
#include "sharing/policy.h"
#include "telescope/breakdown.h"
#include "telescope/module.h"
#include "telescope/objects.h"
#include "telescope/series.h"
#include "telescope/surges.h"
#include "tests/support/sanitizers.h"

namespace kizuna::telescope {
namespace {

namespace json = boost::json;
using sensor::WireInterval;

constexpr std::string_view kHome = "identity--11111111-1111-4111-8111-111111111111";

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kizuna-telescope-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

// A synthetic capture cut into intervals, each handed to `take`.
void ForEachInterval(const sensor::SynthOptions& options, const std::string& sensor,
                     const std::function<void(WireInterval&&)>& take,
                     sensor::SynthTruth* truth = nullptr) {
  const std::string path = TempPath(sensor + ".pcap");
  EXPECT_TRUE(sensor::WriteSynth(options, path, truth).ok());
  sensor::SplitStats stats;
  EXPECT_TRUE(sensor::SplitCapture(
                  path, sensor::Darknet{}, 60,
                  [&](int64_t start, int piece, sensor::Summary& summary) {
                    take(sensor::ToWire(summary, sensor, start, 60, "f-" + std::to_string(piece)));
                    return Status::Ok();
                  },
                  &stats)
                  .ok());
  std::filesystem::remove(path);
}

std::vector<WireInterval> Intervals(const sensor::SynthOptions& options, const std::string& sensor,
                                    sensor::SynthTruth* truth = nullptr) {
  std::vector<WireInterval> out;
  ForEachInterval(
      options, sensor, [&](WireInterval&& w) { out.push_back(std::move(w)); }, truth);
  return out;
}

store::StoredObject Stored(const json::object& object, const std::string& origin) {
  auto info = stix::ValidateObject(object);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  store::StoredObject stored;
  stored.id = info->id;
  stored.type = info->type;
  stored.tlp = info->tlp;
  stored.json = json::serialize(object);
  stored.origin = origin;
  return stored;
}

// Adds intervals as a producer's objects; `with_sources`: the sources
// object too (what a reader allowed AMBER receives).
void AddAll(TelescopeData& data, std::span<const WireInterval> intervals,
            const std::string& producer, const std::string& origin, bool with_sources) {
  for (const WireInterval& w : intervals) {
    IntervalObjects made = MakeIntervalObjects(w, producer, stix::Tlp::kGreen, stix::Tlp::kAmber);
    data.Add(Stored(made.summary, origin));
    if (with_sources) data.Add(Stored(made.sources, origin));
  }
}

const TelescopeData::Visible kAll = [](const store::StoredObject&) { return true; };

sensor::SynthOptions Small(uint32_t seed) {
  sensor::SynthOptions options;
  options.packets = 40000;
  options.duration_s = 3 * 3600;
  options.outbreak_at_s = 1 << 30;  // none
  options.seed = seed;
  return options;
}

TEST(TelescopeObjects, AnIntervalIsTwoValidObjectsAndTheSummaryHoldsNoAddress) {
  const std::vector<WireInterval> intervals = Intervals(Small(1), "tokyo-1");
  ASSERT_FALSE(intervals.empty());
  const WireInterval& w = intervals[intervals.size() / 2];
  ASSERT_FALSE(w.top_sources.empty());
  IntervalObjects made =
      MakeIntervalObjects(w, std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber);
  auto summary = stix::ValidateObject(made.summary);
  auto sources = stix::ValidateObject(made.sources);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_TRUE(sources.ok()) << sources.status().ToString();
  EXPECT_EQ(summary->tlp, stix::Tlp::kGreen);
  EXPECT_EQ(sources->tlp, stix::Tlp::kAmber);
  // The same interval again is the same objects (stored once).
  IntervalObjects again =
      MakeIntervalObjects(w, std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber);
  EXPECT_EQ(json::serialize(again.summary), json::serialize(made.summary));
  EXPECT_EQ(json::serialize(again.sources), json::serialize(made.sources));
  // Another producer's sensor of the same name is another object.
  IntervalObjects other = MakeIntervalObjects(w, "identity--22222222-2222-4222-8222-222222222222",
                                              stix::Tlp::kGreen, stix::Tlp::kAmber);
  EXPECT_NE(other.summary.at("id"), made.summary.at("id"));

  const std::string shared = json::serialize(made.summary);
  EXPECT_EQ(shared.find("\"v4\""), std::string::npos);
  EXPECT_EQ(shared.find("\"v6\""), std::string::npos);
  EXPECT_EQ(shared.find("top_sources"), std::string::npos);
  for (const auto& s : w.top_sources) EXPECT_EQ(shared.find(s.address), std::string::npos);
  EXPECT_NE(json::serialize(made.sources).find(w.top_sources[0].address), std::string::npos);

  auto parsed = ParseIntervalObject(made.summary);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_FALSE(parsed->is_sources);
  EXPECT_EQ(parsed->producer, kHome);
  EXPECT_EQ(parsed->interval.sources.size(), w.sources.size());
  EXPECT_FALSE(parsed->interval.sources.exact);
  auto exact = ParseIntervalObject(made.sources);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_TRUE(exact->is_sources);
  EXPECT_EQ(exact->summary_id, std::string(made.summary.at("id").as_string()));
  EXPECT_EQ(sensor::EncodeWire(exact->interval), sensor::EncodeWire(w));
  // In memory: the busiest 25 of the sources sent (a sensor may send more).
  WireInterval more = std::move(exact->interval);
  while (more.top_sources.size() < 40) {
    WireInterval::Source extra = more.top_sources.back();
    extra.address = "192.0.2." + std::to_string(more.top_sources.size());
    more.top_sources.push_back(extra);
  }
  const StoredInterval kept = StoredInterval::From(more);
  ASSERT_EQ(kept.top_sources.size(), StoredInterval::kKeptTopSources);
  EXPECT_EQ(kept.top_sources[0].address, w.top_sources[0].address);
  EXPECT_EQ(kept.V4(kept.sources).size(), w.sources.v4.size());
}

TEST(TelescopeData, OurSensorsMergeExactlyAndAPartnersSketchIsEstimated) {
  sensor::SynthTruth truth_a, truth_b;
  const auto a = Intervals(Small(1), "tokyo-1", &truth_a);
  const auto b = Intervals(Small(2), "osaka-1", &truth_b);
  std::set<uint32_t> union_v4(truth_a.sources.v4.begin(), truth_a.sources.v4.end());
  union_v4.insert(truth_b.sources.v4.begin(), truth_b.sources.v4.end());
  std::set<sensor::Ipv6Address> union_v6(truth_a.sources.v6.begin(), truth_a.sources.v6.end());
  union_v6.insert(truth_b.sources.v6.begin(), truth_b.sources.v6.end());
  const uint64_t expected = union_v4.size() + union_v6.size();

  TelescopeData home;
  AddAll(home, a, std::string(kHome), "", true);
  AddAll(home, b, std::string(kHome), "", true);
  Totals totals = Summarize(home.Select({}, kAll));
  EXPECT_TRUE(totals.exact);
  EXPECT_EQ(totals.packets, truth_a.packets + truth_b.packets);
  EXPECT_EQ(totals.sources, expected);
  // 23/tcp, merged exactly.
  std::set<uint32_t> port23(truth_a.ports.at({"tcp", 23}).sources.v4.begin(),
                            truth_a.ports.at({"tcp", 23}).sources.v4.end());
  port23.insert(truth_b.ports.at({"tcp", 23}).sources.v4.begin(),
                truth_b.ports.at({"tcp", 23}).sources.v4.end());
  auto top = TopPorts(home.Select({}, kAll), 1000);
  auto it = std::find_if(top.begin(), top.end(), [](const PortTotal& p) {
    return p.proto == sensor::PortProto::kTcp && p.port == 23;
  });
  ASSERT_NE(it, top.end());
  EXPECT_TRUE(it->exact);
  EXPECT_EQ(it->sources, port23.size() + truth_a.ports.at({"tcp", 23}).sources.v6.size() +
                             truth_b.ports.at({"tcp", 23}).sources.v6.size());

  // Osaka is a partner's, and only its summary reached us.
  TelescopeData merged;
  AddAll(merged, a, std::string(kHome), "", true);
  AddAll(merged, b, "identity--33333333-3333-4333-8333-333333333333", "partner-b", false);
  totals = Summarize(merged.Select({}, kAll));
  EXPECT_FALSE(totals.exact);
  EXPECT_EQ(totals.packets, truth_a.packets + truth_b.packets);
  EXPECT_NEAR(static_cast<double>(totals.sources), static_cast<double>(expected), expected * 0.049);
  // A partner's addresses never appear where only its summary is.
  for (const SourceTotal& s : TopSources(merged.Select({}, kAll), 1000)) {
    EXPECT_EQ(s.sensors.count("partner-b/osaka-1"), 0u) << s.address;
  }
  auto sensors = Sensors(merged.Select({}, kAll));
  ASSERT_EQ(sensors.size(), 2u);
  EXPECT_EQ(sensors[1].origin, "partner-b");
  EXPECT_FALSE(sensors[1].exact);
  // One origin alone keeps the sender's exact counts.
  TelescopeData::Filter only_b;
  only_b.origin = "partner-b";
  EXPECT_EQ(Summarize(merged.Select(only_b, kAll)).packets, truth_b.packets);

  // What the reader may not see does not count.
  const TelescopeData::Visible only_home = [](const store::StoredObject& o) {
    return o.origin.empty();
  };
  EXPECT_EQ(Summarize(merged.Select({}, only_home)).packets, truth_a.packets);
  EXPECT_TRUE(Summarize(merged.Select({}, only_home)).exact);
}

// An interval whose only set is `v4` (and `v6`), or its sketch.
std::shared_ptr<const StoredInterval> IntervalOf(const std::vector<uint32_t>& v4,
                                                 const std::vector<sensor::Ipv6Address>& v6,
                                                 bool exact) {
  WireInterval wire;
  wire.sensor = "s";
  for (uint32_t a : v4) wire.sources.v4.Add(a);
  wire.sources.v6 = v6;
  if (!exact) wire.sources = wire.sources.AsSketch();
  return std::make_shared<const StoredInterval>(StoredInterval::From(wire));
}

TEST(SourceUnion, ManyPartsMergeExactlyAndOnePartKeepsItsOwnCount) {
  // 60 parts of 60,000 addresses out of 4 million: 3.6 million appended,
  // past the point where the appended parts are made unique on the way.
  std::mt19937 random(7);
  std::set<uint32_t> expected_v4;
  std::set<sensor::Ipv6Address> expected_v6;
  SourceUnion merged;
  for (int part = 0; part < 60; ++part) {
    std::vector<uint32_t> v4(60000);
    for (uint32_t& a : v4) a = 0x0A000000 + random() % 4000000;
    std::sort(v4.begin(), v4.end());
    v4.erase(std::unique(v4.begin(), v4.end()), v4.end());
    std::vector<sensor::Ipv6Address> v6(3);
    for (auto& a : v6) {
      a = {};
      a[0] = 0x20;
      a[15] = static_cast<uint8_t>(random() % 50);
    }
    std::sort(v6.begin(), v6.end());
    v6.erase(std::unique(v6.begin(), v6.end()), v6.end());
    expected_v4.insert(v4.begin(), v4.end());
    expected_v6.insert(v6.begin(), v6.end());
    const auto interval = IntervalOf(v4, v6, true);
    merged.Add(interval, interval->sources);
    if (part == 0) {
      EXPECT_EQ(merged.size(), v4.size() + v6.size());
      EXPECT_EQ(merged.v4(), v4);
      EXPECT_EQ(merged.v6(), v6);
    }
  }
  EXPECT_TRUE(merged.exact());
  EXPECT_EQ(merged.size(), expected_v4.size() + expected_v6.size());
  EXPECT_EQ(merged.v4(), std::vector<uint32_t>(expected_v4.begin(), expected_v4.end()));
  EXPECT_EQ(merged.v6(), std::vector<sensor::Ipv6Address>(expected_v6.begin(), expected_v6.end()));

  // A sketch alone keeps its sender's exact count; with an exact part the
  // union is an estimate.
  std::vector<uint32_t> some(5000), others(5000);
  for (uint32_t i = 0; i < 5000; ++i) some[i] = 0x0B000000 + 2 * i, others[i] = some[i] + 1;
  const auto sketched = IntervalOf(some, {}, false);
  SourceUnion estimated;
  estimated.Add(sketched, sketched->sources);
  EXPECT_FALSE(estimated.exact());
  EXPECT_EQ(estimated.size(), 5000u);
  const auto exact = IntervalOf(others, {}, true);
  estimated.Add(exact, exact->sources);
  EXPECT_FALSE(estimated.exact());
  EXPECT_NEAR(static_cast<double>(estimated.size()), 10000.0, 10000 * 0.049);
}

class FixedClock : public Clock {
 public:
  explicit FixedClock(int64_t us) : us_(us) {}
  int64_t NowMicros() const override { return us_; }

 private:
  int64_t us_;
};

TEST(TelescopeData, AnIntervalStartingMinutesAheadOfTheClockIsRejected) {
  const auto a = Intervals(Small(1), "tokyo-1");
  const int64_t start = a[0].start_s;
  FixedClock ten_minutes_before(static_cast<int64_t>(start - 600) * 1000000);
  FixedClock a_minute_before(static_cast<int64_t>(start - 60) * 1000000);
  TelescopeData strict(&ten_minutes_before), fine(&a_minute_before);
  AddAll(strict, std::span(&a[0], 1), std::string(kHome), "", true);
  AddAll(fine, std::span(&a[0], 1), std::string(kHome), "", true);
  EXPECT_EQ(strict.intervals(), 0u);
  EXPECT_EQ(strict.rejected(), 2u);
  EXPECT_EQ(fine.intervals(), 1u);
}

TEST(TelescopeData, AnObjectThatDoesNotParseIsCountedAndIgnoredAndADeletionForgets) {
  const auto a = Intervals(Small(1), "tokyo-1");
  TelescopeData data;
  AddAll(data, std::span(&a[0], 1), std::string(kHome), "", true);
  EXPECT_EQ(data.intervals(), 1u);
  IntervalObjects made =
      MakeIntervalObjects(a[1], std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber);
  made.sources["packets"] = "many";
  data.Add(Stored(made.sources, ""));
  EXPECT_EQ(data.rejected(), 1u);
  EXPECT_EQ(data.intervals(), 1u);
  const std::string id = std::string(
      MakeIntervalObjects(a[0], std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber)
          .summary.at("id")
          .as_string());
  data.Remove(id);
  EXPECT_EQ(data.intervals(), 1u);  // the sources object is still there
  EXPECT_EQ(Summarize(data.Select({}, kAll)).packets, a[0].packets);
  data.Remove(std::string(
      MakeIntervalObjects(a[0], std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber)
          .sources.at("id")
          .as_string()));
  EXPECT_EQ(data.intervals(), 0u);
  EXPECT_TRUE(data.Select({}, kAll).empty());
}

TEST(TelescopeData, DeletingTheSourcesObjectLeavesWhatTheSummarySays) {
  sensor::SynthTruth truth;
  const auto a = Intervals(Small(1), "tokyo-1", &truth);
  TelescopeData data;
  AddAll(data, a, std::string(kHome), "", true);
  const Totals before = Summarize(data.Select({}, kAll));
  EXPECT_TRUE(before.exact);
  ASSERT_FALSE(TopSources(data.Select({}, kAll), 10).empty());
  for (const WireInterval& w : a) {
    data.Remove(
        std::string(MakeIntervalObjects(w, std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber)
                        .sources.at("id")
                        .as_string()));
  }
  // Every interval is still there, as counts and sketches: no address.
  EXPECT_EQ(data.intervals(), a.size());
  const std::vector<Slice> slices = data.Select({}, kAll);
  ASSERT_EQ(slices.size(), a.size());
  for (const Slice& slice : slices) {
    EXPECT_FALSE(slice.interval->exact);
    EXPECT_TRUE(slice.interval->v4.empty());
    EXPECT_TRUE(slice.interval->top_sources.empty());
  }
  const Totals after = Summarize(slices);
  EXPECT_FALSE(after.exact);
  EXPECT_EQ(after.packets, before.packets);
  EXPECT_NEAR(static_cast<double>(after.sources), static_cast<double>(before.sources),
              before.sources * 0.049);
  EXPECT_TRUE(TopSources(slices, 10).empty());
  // One interval alone still has the sender's exact count.
  EXPECT_EQ(Summarize(std::vector<Slice>{slices[0]}).sources, a[0].sources.size());
}

TEST(TelescopeData, KeepsAWindowBackFromTheNewestAndABudgetPerPartnerAndSensor) {
  // Three hours of one-minute intervals, kept for an hour.
  const auto a = Intervals(Small(1), "tokyo-1");
  ASSERT_GT(a.size(), 150u);
  TelescopeData data(nullptr, Retention{3600, uint64_t{1} << 30});
  AddAll(data, a, std::string(kHome), "", true);
  const int64_t newest = a.back().start_s;
  EXPECT_EQ(data.newest_start(), newest);
  for (const Slice& slice : data.Select({}, kAll)) {
    EXPECT_GE(slice.interval->start_s, newest - 3600);
  }
  const uint64_t kept = data.intervals();
  EXPECT_LE(kept, 61u);
  EXPECT_GE(kept, 55u);
  EXPECT_EQ(data.let_go(), a.size() - kept);
  // An interval older than the window is not taken in.
  AddAll(data, std::span(&a[0], 1), std::string(kHome), "", true);
  EXPECT_EQ(data.intervals(), kept);
  // Deleting what is kept gives back all its memory.
  for (const WireInterval& w : a) {
    IntervalObjects made =
        MakeIntervalObjects(w, std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber);
    data.Remove(std::string(made.sources.at("id").as_string()));
    data.Remove(std::string(made.summary.at("id").as_string()));
  }
  EXPECT_EQ(data.intervals(), 0u);
  EXPECT_EQ(data.memory_bytes(), 0u);

  // A partner's intervals beyond its memory push out its own oldest, not
  // the node's.
  const auto b = Intervals(Small(2), "osaka-1");
  TelescopeData whole(nullptr, Retention{86400, uint64_t{1} << 30});
  AddAll(whole, a, std::string(kHome), "", true);
  const uint64_t home_bytes = whole.memory_bytes();
  TelescopeData budget(nullptr, Retention{86400, home_bytes});
  AddAll(budget, a, std::string(kHome), "", true);
  const uint64_t home_intervals = budget.intervals();
  EXPECT_EQ(home_intervals, a.size());
  AddAll(budget, b, "identity--33333333-3333-4333-8333-333333333333", "partner-b", true);
  TelescopeData::Filter home_only, partner_only;
  home_only.origin = "";
  partner_only.origin = "partner-b";
  EXPECT_EQ(budget.Select(home_only, kAll).size(), home_intervals);
  const std::vector<Slice> partner = budget.Select(partner_only, kAll);
  EXPECT_LT(partner.size(), b.size());
  ASSERT_FALSE(partner.empty());
  EXPECT_EQ(partner.back().interval->start_s, b.back().start_s);  // the newest stay
  uint64_t partner_bytes = 0;
  for (const Slice& slice : partner) partner_bytes += 1024 + slice.interval->MemoryBytes();
  EXPECT_LE(partner_bytes, home_bytes);

  // The same for our own sensors: one sending more than its memory pushes
  // out its own oldest, not another sensor's.
  TelescopeData::Filter tokyo, osaka;
  tokyo.sensor = "tokyo-1";
  osaka.sensor = "osaka-1";
  tokyo.origin = osaka.origin = "";
  AddAll(budget, b, std::string(kHome), "", true);
  EXPECT_EQ(budget.Select(tokyo, kAll).size(), home_intervals);
  const size_t kept_osaka = budget.Select(osaka, kAll).size();
  EXPECT_EQ(kept_osaka, partner.size());  // the same intervals, the same budget
  EXPECT_EQ(budget.Select(partner_only, kAll).size(), partner.size());
}

TEST(TelescopeData, TheNewestIntervalAReaderSeesSetsItsWindow) {
  const auto a = Intervals(Small(1), "tokyo-1");
  const auto b = Intervals(Small(2), "osaka-1");
  TelescopeData data;
  AddAll(data, std::span(a.data(), 30), std::string(kHome), "", true);
  AddAll(data, b, "identity--33333333-3333-4333-8333-333333333333", "partner-b", false);
  const TelescopeData::Visible only_home = [](const store::StoredObject& o) {
    return o.origin.empty();
  };
  EXPECT_EQ(data.newest_start(), std::max(a[29].start_s, b.back().start_s));
  EXPECT_EQ(data.newest_start(only_home), a[29].start_s);
  EXPECT_EQ(data.newest_start([](const store::StoredObject&) { return false; }), 0);
}

TEST(TelescopeConfig, TheWindowAndTheMemoryPerOriginAreConfigured) {
  const auto configure = [](std::string_view text) -> Result<Retention> {
    KIZUNA_ASSIGN_OR_RETURN(node::ConfigSection section,
                            node::ConfigSection::Parse("telescope", text));
    TelescopeModule module(nullptr);
    KIZUNA_RETURN_IF_ERROR(module.Configure(section));
    return module.config().retention();
  };
  auto defaults = configure("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->keep_seconds, 8 * 86400);
  EXPECT_EQ(defaults->origin_bytes, uint64_t{1024} << 20);
  auto set = configure("keep_days = 31\nmemory_mib_per_origin = 4096\n");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->keep_seconds, 31 * 86400);
  EXPECT_EQ(set->origin_bytes, uint64_t{4096} << 20);
  for (const char* bad : {"keep_days = 0\n", "keep_days = 400\n", "memory_mib_per_origin = 1\n",
                          "keep_days = \"8\"\n"}) {
    auto refused = configure(bad);
    EXPECT_FALSE(refused.ok()) << bad;
  }
}

TEST(TelescopeData, TheSharingGroupsOfAnObjectReachTheSharingDecision) {
  const auto a = Intervals(Small(1), "tokyo-1");
  IntervalObjects made =
      MakeIntervalObjects(a[0], std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber);
  made.summary[sharing::kSharingGroupsProperty] = json::array{"asean-certs"};
  TelescopeData data;
  data.Add(Stored(made.summary, ""));
  const auto in_group = [](const std::string& group) -> TelescopeData::Visible {
    return [group](const store::StoredObject& o) {
      const std::vector<std::string> groups = sharing::SharingGroupsOf(o.json);
      return std::find(groups.begin(), groups.end(), group) != groups.end();
    };
  };
  EXPECT_EQ(data.Select({}, in_group("asean-certs")).size(), 1u);
  EXPECT_TRUE(data.Select({}, in_group("other")).empty());
}

TEST(TelescopeData, NoObjectStandsInForAnothersInterval) {
  const auto a = Intervals(Small(1), "tokyo-1");
  TelescopeData data;
  AddAll(data, std::span(&a[0], 1), std::string(kHome), "", true);
  const uint64_t packets = Summarize(data.Select({}, kAll)).packets;
  // A partner's sources object pointing at our summary, with its own sets.
  IntervalObjects ours =
      MakeIntervalObjects(a[0], std::string(kHome), stix::Tlp::kGreen, stix::Tlp::kAmber);
  IntervalObjects forged = MakeIntervalObjects(
      a[1], "identity--55555555-5555-4555-8555-555555555555", stix::Tlp::kGreen, stix::Tlp::kAmber);
  forged.sources["summary_ref"] = ours.summary.at("id");
  EXPECT_FALSE(ParseIntervalObject(forged.sources).ok());
  data.Add(Stored(forged.sources, "partner-b"));
  // The same ids claimed by a partner that says it is us: refused too.
  data.Add(Stored(ours.sources, "partner-b"));
  EXPECT_EQ(data.rejected(), 2u);
  EXPECT_EQ(Summarize(data.Select({}, kAll)).packets, packets);
  for (const Slice& s : data.Select({}, kAll)) EXPECT_EQ(s.origin, "");
}

TEST(TelescopeAdmit, HomeDataOnlyFromTheTelescopeCollectionAndOnlyOurs) {
  const std::string collection = "c-telescope", us = std::string(kHome);
  const Admit admit = AdmitTelescopeObjects(collection, us);
  const auto change = [](const std::string& in, const std::string& origin, const std::string& by) {
    store::Change c;
    c.collection_id = in;
    c.object.type = std::string(kSummaryType);
    c.object.origin = origin;
    c.object.created_by_ref = by;
    return c;
  };
  const std::string them = "identity--66666666-6666-4666-8666-666666666666";
  EXPECT_TRUE(admit(change(collection, "", us)));
  EXPECT_FALSE(admit(change("c-default", "", us)));          // a member's TAXII POST elsewhere
  EXPECT_FALSE(admit(change(collection, "", them)));         // not ours
  EXPECT_FALSE(admit(change(collection, "org:ISP", them)));  // another organization's user
  EXPECT_TRUE(admit(change("c-into", "krcert", them)));      // a partner's
  EXPECT_FALSE(admit(change("c-into", "krcert", us)));       // a partner claiming to be us
}

sensor::SynthOptions Outbreak(int64_t at_s, uint32_t seed, uint64_t packets = 200000,
                              int64_t duration_s = 86400) {
  sensor::SynthOptions options;
  options.packets = packets;
  options.duration_s = duration_s;
  options.outbreak_at_s = at_s;
  options.outbreak_sources = 3000;
  options.seed = seed;
  return options;
}

TEST(TelescopeSurges, AGeneratedOutbreakIsFoundWithinThreeIntervalsOfItsStart) {
  sensor::SynthTruth truth;
  const auto intervals = Intervals(Outbreak(16 * 3600, 5), "tokyo-1", &truth);
  TelescopeData data;
  AddAll(data, intervals, std::string(kHome), "", true);
  const auto surges = FindSurges(data, {}, kAll, 200);
  ASSERT_FALSE(surges.empty());
  const int64_t start_s = truth.outbreak_start_us / 1000000;
  bool found = false;
  for (const FoundSurge& f : surges) {
    // Everything found is the outbreak (23/tcp or 2323/tcp), nothing before it.
    EXPECT_TRUE(f.proto == sensor::PortProto::kTcp && (f.port == 23 || f.port == 2323)) << f.port;
    EXPECT_GE(f.surge.start_s, start_s - start_s % 60);
    if (f.port == 23 && f.surge.metric == "sources") {
      found = true;
      EXPECT_LE(f.surge.start_s, start_s + 3 * 60);
      EXPECT_GT(f.surge.observed, 2 * f.surge.baseline);
      EXPECT_EQ(f.first_seen_by, "home");
    }
  }
  EXPECT_TRUE(found);
}

TEST(TelescopeSurges, AWeekOfBackgroundWithItsDailyCycleIsNoSurge) {
  KIZUNA_SKIP_SCALE_TEST_UNDER_SANITIZERS();
  sensor::SynthOptions options;
  options.packets = 600'000;
  options.duration_s = 7 * 86400;
  options.outbreak_at_s = 8 * 86400;  // never
  options.seed = 11;
  // Streamed: a week of minutes is never all in the test's hands at once.
  TelescopeData data;
  uint64_t intervals = 0;
  ForEachInterval(options, "tokyo-1", [&](WireInterval&& w) {
    AddAll(data, std::span(&w, 1), std::string(kHome), "", true);
    ++intervals;
  });
  EXPECT_GT(intervals, 9000u);
  const auto surges = FindSurges(data, {}, kAll, 200);
  for (const FoundSurge& f : surges) {
    ADD_FAILURE() << "surge on " << f.port << " " << f.surge.metric << " at " << f.surge.start_s
                  << ": " << f.surge.observed << " vs " << f.surge.baseline;
  }
}

TEST(TelescopeSurges, ThePartnerWhoseSensorsSawItFirstIsNamed) {
  // The same outbreak reaches the partner's darknet 20 minutes before ours.
  TelescopeData data;
  AddAll(data, Intervals(Outbreak(16 * 3600, 5), "tokyo-1"), std::string(kHome), "", true);
  AddAll(data, Intervals(Outbreak(16 * 3600 - 20 * 60, 6), "seoul-1"),
         "identity--44444444-4444-4444-8444-444444444444", "krcert", false);
  const auto surges = FindSurges(data, {}, kAll, 200);
  bool found = false;
  for (const FoundSurge& f : surges) {
    if (f.port != 23 || f.surge.metric != "sources") continue;
    found = true;
    EXPECT_EQ(f.first_seen_by, "krcert");
  }
  EXPECT_TRUE(found);
}

// A node directory with a telescope collection, for RecordSurges.
struct TestNode {
  std::string dir;
  std::unique_ptr<node::Node> node;
  store::Collection collection;
  ~TestNode() { std::filesystem::remove_all(dir); }
};

void MakeTestNode(const std::string& name, const std::string& collection_id, TestNode* out) {
  out->dir = TempPath(name);
  ASSERT_TRUE(node::InitNode(out->dir, {}).ok());
  auto opened = node::Node::Open(out->dir);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  out->node = std::move(*opened);
  out->collection.id = collection_id;
  out->collection.title = "Telescope";
  ASSERT_TRUE(out->node->store().CreateCollection(out->collection).ok());
}

TEST(TelescopeSurges, ASurgeIsRecordedOnceAsAReportWithItsNewSources) {
  TestNode test;
  ASSERT_NO_FATAL_FAILURE(MakeTestNode("node", "6f0d7c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f", &test));
  auto* node = &test.node;
  store::Store& store = test.node->store();
  const store::Collection& collection = test.collection;

  sensor::SynthTruth truth;
  TelescopeData data;
  AddAll(data, Intervals(Outbreak(16 * 3600, 5), "tokyo-1", &truth),
         (*node)->identity().identity_id, "", true);
  TelescopeConfig config;
  ASSERT_TRUE(RecordSurges(store, **node, data, collection.id, config, nullptr).ok());
  const int64_t stored = *store.CountObjects(collection.id);
  ASSERT_TRUE(RecordSurges(store, **node, data, collection.id, config, nullptr).ok());
  EXPECT_EQ(*store.CountObjects(collection.id), stored);  // nothing new the second time

  store::ObjectQuery query;
  query.types = {"report"};
  auto reports = store.QueryObjects(collection.id, query);
  ASSERT_TRUE(reports.ok());
  bool port23 = false;
  for (const store::StoredObject& r : reports->objects) {
    json::object report = json::parse(r.json).as_object();
    const json::object& facts = report.at("x_kizuna_surge").as_object();
    if (facts.at("port").to_number<int>() != 23 || facts.at("metric") != "sources") continue;
    port23 = true;
    EXPECT_EQ(r.tlp, stix::Tlp::kGreen);
    // The evidence: the outbreak's bots, new on 23/tcp, as AMBER observed-data.
    const std::string observed_id(report.at("object_refs").as_array()[0].as_string());
    store::ObjectQuery by_id;
    by_id.ids = {observed_id};
    auto observed = store.QueryObjects(collection.id, by_id);
    ASSERT_TRUE(observed.ok());
    ASSERT_EQ(observed->objects.size(), 1u);
    EXPECT_EQ(observed->objects[0].tlp, stix::Tlp::kAmber);
    json::object o = json::parse(observed->objects[0].json).as_object();
    EXPECT_EQ(o.at("x_kizuna_observation"), "infected-host");
    const auto& refs = o.at("object_refs").as_array();
    EXPECT_GT(refs.size(), 50u);
    const uint64_t bots = truth.fingerprints.at("mirai").size();
    EXPECT_LE(refs.size(), bots);
  }
  EXPECT_TRUE(port23);
}

// Adds intervals as a producer's objects under the given markings.
void AddMarked(TelescopeData& data, std::span<const WireInterval> intervals,
               const std::string& producer, const std::string& origin, stix::Tlp summary_tlp,
               stix::Tlp sources_tlp) {
  for (const WireInterval& w : intervals) {
    IntervalObjects made = MakeIntervalObjects(w, producer, summary_tlp, sources_tlp);
    data.Add(Stored(made.summary, origin));
    data.Add(Stored(made.sources, origin));
  }
}

TEST(TelescopeSurges, TheEvidenceHoldsOnlyOurAddressesUnderTheirMarkings) {
  TestNode test;
  ASSERT_NO_FATAL_FAILURE(
      MakeTestNode("node-marks", "7a0d7c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f", &test));
  auto* node = &test.node;
  store::Store& store = test.node->store();
  const store::Collection& collection = test.collection;
  const std::string us = (*node)->identity().identity_id;

  // Ours: GREEN counts, AMBER addresses. A RED sensor of ours, and a
  // partner (AMBER counts) whose addresses reached us: same outbreak.
  sensor::SynthTruth ours_truth;
  const auto ours = Intervals(Outbreak(4 * 3600, 5, 120000, 6 * 3600), "tokyo-1", &ours_truth);
  const auto red = Intervals(Outbreak(4 * 3600, 7, 120000, 6 * 3600), "secret-1");
  const auto partner = Intervals(Outbreak(4 * 3600, 6, 120000, 6 * 3600), "seoul-1");
  TelescopeData data;
  AddMarked(data, ours, us, "", stix::Tlp::kGreen, stix::Tlp::kAmber);
  AddMarked(data, red, us, "", stix::Tlp::kGreen, stix::Tlp::kRed);
  AddMarked(data, partner, "identity--44444444-4444-4444-8444-444444444444", "krcert",
            stix::Tlp::kAmber, stix::Tlp::kAmber);
  ASSERT_TRUE(RecordSurges(store, **node, data, collection.id, TelescopeConfig{}, nullptr).ok());

  store::ObjectQuery query;
  query.types = {"report", "observed-data", "ipv4-addr"};
  auto stored = store.QueryObjects(collection.id, query);
  ASSERT_TRUE(stored.ok());
  std::set<std::string> addresses;
  bool report = false, evidence = false;
  for (const store::StoredObject& o : stored->objects) {
    if (o.type == "report") {
      report = true;
      EXPECT_EQ(o.tlp, stix::Tlp::kAmber) << "counts from the partner's AMBER summaries";
    } else if (o.type == "observed-data") {
      evidence = true;
      EXPECT_EQ(o.tlp, stix::Tlp::kAmber);
    } else {
      EXPECT_EQ(o.tlp, stix::Tlp::kAmber);
      addresses.insert(std::string(json::parse(o.json).at("value").as_string()));
    }
  }
  EXPECT_TRUE(report);
  EXPECT_TRUE(evidence);
  ASSERT_FALSE(addresses.empty());
  const auto text = [](uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." +
           std::to_string(a >> 8 & 255) + "." + std::to_string(a & 255);
  };
  std::set<std::string> ours_only;
  for (uint32_t a : ours_truth.sources.v4) ours_only.insert(text(a));
  for (const std::string& a : addresses) {
    EXPECT_TRUE(ours_only.count(a)) << a << " is not one of our AMBER sensor's sources";
  }
}

TEST(TelescopeBreakdown, SourcesByCountryAndAsAreExactAndOnlyWhereAddressesMayBeSeen) {
  // Geo data: the lower half of IPv4 is AS64500 in JP, the upper half
  // AS64501 with no country known; IPv6 unknown.
  const std::string dir = TempPath("geo");
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir + "/asn.csv") << "0.0.0.0,127.255.255.255,64500,Low Net\n"
                                       "128.0.0.0,255.255.255.255,64501,High Net\n";
  }
  { std::ofstream(dir + "/country.csv") << "0.0.0.0,127.255.255.255,JP\n"; }
  ASSERT_TRUE(geo::LoadGeoFiles(dir, {dir + "/asn.csv", dir + "/country.csv"}).ok());
  auto geo = geo::GeoDb::Open(dir);
  ASSERT_TRUE(geo.ok()) << geo.status().message();

  sensor::SynthTruth truth;
  TelescopeData data;
  AddAll(data, Intervals(Small(3), "tokyo-1", &truth), std::string(kHome), "", true);
  uint64_t low = 0, high = 0;
  for (uint32_t a : truth.sources.v4) (a < 0x80000000u ? low : high)++;
  ASSERT_GT(low, 0u);
  ASSERT_GT(high, 0u);

  const Breakdown all = SourcesBreakdown(data.Select({}, kAll), **geo, std::nullopt, 10);
  EXPECT_EQ(all.sources, truth.sources.size());
  EXPECT_EQ(all.counted_only, 0u);
  ASSERT_EQ(all.countries.size(), 1u);
  EXPECT_EQ(all.countries[0].key, "JP");
  EXPECT_EQ(all.countries[0].sources, low);
  EXPECT_EQ(all.unplaced, high + truth.sources.v6.size());
  ASSERT_EQ(all.asns.size(), 2u);
  uint64_t as_low = 0, as_high = 0;
  for (const BreakdownRow& r : all.asns) {
    if (r.key == "AS64500") {
      as_low = r.sources;
      EXPECT_EQ(r.name, "Low Net");
    }
    if (r.key == "AS64501") as_high = r.sources;
  }
  EXPECT_EQ(as_low, low);
  EXPECT_EQ(as_high, high);
  EXPECT_EQ(all.unrouted, truth.sources.v6.size());
  EXPECT_EQ(all.geo_version, (*geo)->version());

  // One port: its own sources only.
  const auto& telnet = truth.ports.at({"tcp", 23}).sources;
  const Breakdown port =
      SourcesBreakdown(data.Select({}, kAll), **geo, PortKey(sensor::PortProto::kTcp, 23), 10);
  EXPECT_EQ(port.sources, telnet.size());

  // A reader who may not see the sources objects gets no address placed.
  const TelescopeData::Visible summaries_only = [](const store::StoredObject& o) {
    return o.type != kSourcesType;
  };
  const auto slices = data.Select({}, summaries_only);
  const Breakdown hidden = SourcesBreakdown(slices, **geo, std::nullopt, 10);
  EXPECT_EQ(hidden.sources, 0u);
  EXPECT_TRUE(hidden.countries.empty());
  EXPECT_EQ(hidden.counted_only, slices.size());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kizuna::telescope
