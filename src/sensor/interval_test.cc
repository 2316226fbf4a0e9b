// Intervals: a capture cut by packet time adds up to exactly the whole
// (sources counted once across intervals), the wire form round-trips and
// its decoder refuses what is wrong, late packets start another piece; the
// distinct-count sketch estimates within its stated error and merges.
#include "sensor/interval.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/encoding.h"
#include "sensor/sketch.h"
#include "sensor/synth.h"

namespace kizuna::sensor {
namespace {

namespace json = boost::json;

std::string IntervalTempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kizuna-interval-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

struct Cut {
  std::vector<WireInterval> intervals;
  SplitStats stats;
};

Cut CutCapture(const std::string& path, int64_t seconds = 60) {
  Cut cut;
  Status split = SplitCapture(
      path, Darknet{}, seconds,
      [&](int64_t start, int piece, Summary& summary) {
        cut.intervals.push_back(
            ToWire(summary, "tokyo-1", start, seconds, "p-" + std::to_string(piece)));
        return Status::Ok();
      },
      &cut.stats);
  EXPECT_TRUE(split.ok()) << split.ToString();
  return cut;
}

TEST(Interval, TheIntervalsOfACaptureAddUpToExactlyTheWhole) {
  SynthOptions options;
  options.packets = 60000;
  options.duration_s = 2 * 3600;
  options.outbreak_at_s = 3600;
  options.outbreak_sources = 800;
  const std::string path = IntervalTempPath("whole.pcap");
  SynthTruth truth;
  ASSERT_TRUE(WriteSynth(options, path, &truth).ok());
  const Cut cut = CutCapture(path);
  std::filesystem::remove(path);

  EXPECT_GE(cut.intervals.size(), 110u);  // two hours of minutes
  uint64_t packets = 0;
  WireSources all;
  std::map<std::pair<std::string, uint16_t>, std::pair<uint64_t, WireSources>> ports;
  std::map<std::string, WireSources> classes, fingerprints;
  for (const WireInterval& w : cut.intervals) {
    EXPECT_EQ(w.start_s % 60, 0);
    EXPECT_GE(w.first_us, w.start_s * 1000000);
    EXPECT_LT(w.last_us, (w.start_s + 60) * 1000000);
    // What travels is what was cut: decode(encode(w)) encodes the same.
    auto decoded = DecodeWire(EncodeWire(w));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(EncodeWire(*decoded), EncodeWire(w));
    packets += decoded->packets;
    all.Merge(decoded->sources);
    for (const auto& p : decoded->ports) {
      auto& [n, set] = ports[{std::string(PortProtoName(p.proto)), p.port}];
      n += p.packets;
      set.Merge(p.sources);
    }
    for (const auto& [name, set] : decoded->classes) classes[name].Merge(set);
    for (const auto& [name, set] : decoded->fingerprints) fingerprints[name].Merge(set);
  }
  EXPECT_EQ(packets, truth.packets);
  EXPECT_EQ(all.size(), truth.sources.size());
  ASSERT_EQ(ports.size(), truth.ports.size());
  for (const auto& [key, expected] : truth.ports) {
    EXPECT_EQ(ports[key].first, expected.packets) << key.first << "/" << key.second;
    EXPECT_EQ(ports[key].second.size(), expected.sources.size()) << key.first << "/" << key.second;
  }
  for (const auto& [name, expected] : truth.classes) {
    EXPECT_EQ(classes[name].size(), expected.size()) << name;
  }
  for (const auto& [name, expected] : truth.fingerprints) {
    EXPECT_EQ(fingerprints[name].size(), expected.size()) << name;
  }
}

// A classic pcap of raw IPv4 SYNs at the given times (seconds).
void WriteSyns(const std::string& path, const std::vector<std::pair<int64_t, uint32_t>>& packets) {
  std::ofstream out(path, std::ios::binary);
  const auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  const auto u16 = [&](uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  u32(0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(101);  // LINKTYPE_RAW
  for (const auto& [t, src] : packets) {
    uint8_t frame[40] = {0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0};
    frame[12] = static_cast<uint8_t>(src >> 24);
    frame[13] = static_cast<uint8_t>(src >> 16);
    frame[14] = static_cast<uint8_t>(src >> 8);
    frame[15] = static_cast<uint8_t>(src);
    frame[16] = 198, frame[17] = 18, frame[18] = 0, frame[19] = 9;
    frame[20] = 0x9c, frame[21] = 0x40, frame[22] = 0, frame[23] = 23;  // 40000 -> 23
    frame[32] = 0x50, frame[33] = 0x02;                                 // SYN
    u32(static_cast<uint32_t>(t));
    u32(0);
    u32(40);
    u32(40);
    out.write(reinterpret_cast<const char*>(frame), 40);
  }
}

TEST(Interval, APacketLaterThanTwoIntervalsStartsAnotherPieceOfItsInterval) {
  const int64_t t0 = 1795305600;  // a minute boundary
  const std::string path = IntervalTempPath("late.pcap");
  WriteSyns(path, {{t0 + 5, 0x01020304},
                   {t0 + 70, 0x01020305},
                   {t0 + 200, 0x01020306},
                   {t0 + 10, 0x01020307},
                   {t0 + 80, 0x01020308}});
  const Cut cut = CutCapture(path);
  std::filesystem::remove(path);
  // t0 closes when t0+180 begins; t0+10 then starts piece 1 of t0. t0+60 is
  // still open (within two intervals of the newest) and takes t0+80.
  std::map<std::pair<int64_t, std::string>, uint64_t> got;
  for (const WireInterval& w : cut.intervals) got[{w.start_s - t0, w.part}] = w.packets;
  const std::map<std::pair<int64_t, std::string>, uint64_t> expected = {
      {{0, "p-0"}, 1}, {{0, "p-1"}, 1}, {{60, "p-0"}, 2}, {{180, "p-0"}, 1}};
  EXPECT_EQ(got, expected);
  EXPECT_EQ(cut.stats.intervals, 4u);
}

// A TCP SYN to the darknet's 198.18.0.1.
Packet DarknetSyn(uint16_t port) {
  Packet p;
  p.ip_version = 4;
  p.protocol = kProtoTcp;
  p.has_transport = true;
  p.dst4 = 0xC6120001;
  p.dst_port = port;
  p.tcp_flags = tcp::kSyn;
  return p;
}

WireInterval Sample() {
  Summary summary;
  Packet p = DarknetSyn(23);
  for (uint32_t s = 0; s < 50; ++s) {
    p.src4 = 0x0A000000 + s * 7;
    summary.Add(p, 1795305600LL * 1000000 + s * 1000);
  }
  Packet v6 = p;
  v6.ip_version = 6;
  v6.src6 = {0x24, 0x00, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  summary.Add(v6, 1795305600LL * 1000000 + 99000);
  return ToWire(summary, "tokyo-1", 1795305600, 60, "abc-0");
}

TEST(Interval, TheDecoderRefusesWhatIsWrongAndSaysWhat) {
  const json::object good = WireObject(Sample());
  ASSERT_TRUE(DecodeWireObject(good, true).ok());
  struct Case {
    std::string what;
    std::function<void(json::object&)> change;
    std::string message;
  };
  const std::string gap = Base64Encode(std::string("\x05\x00", 2));  // a repeated address
  const std::vector<Case> cases = {
      {"count", [](json::object& o) { o["sources"].as_object()["count"] = 3; },
       "is not the set's size"},
      {"base64", [](json::object& o) { o["sources"].as_object()["v4"] = "%%%"; }, "not base64"},
      {"repeat",
       [&](json::object& o) {
         o["sources"].as_object()["v4"] = gap;
         o["sources"].as_object()["count"] = 2;
       },
       "repeats an address"},
      {"cut number", [](json::object& o) { o["sources"].as_object()["v4"] = Base64Encode("\x85"); },
       "ends inside a number"},
      {"v6", [](json::object& o) { o["sources"].as_object()["v6"] = json::array{"1.2.3.4"}; },
       "not an IPv6 address"},
      {"start", [](json::object& o) { o["start"] = "2026-11-22T00:00:30Z"; }, "boundary"},
      {"seconds", [](json::object& o) { o["seconds"] = 7; }, "divisor of 86400"},
      {"sensor", [](json::object& o) { o["sensor"] = "bad name!"; }, "sensor"},
      {"port", [](json::object& o) { o["ports"].as_array()[0].as_object()["port"] = 70000; },
       "port out of range"},
      {"twice",
       [](json::object& o) {
         json::value again = o["ports"].as_array()[0];
         again.as_object()["packets"] = 0;
         o["ports"].as_array().push_back(again);
       },
       "listed twice"},
      {"packets", [](json::object& o) { o["packets"] = 1; }, "more packets than the interval"},
      {"overflow",
       [](json::object& o) { o["ports"].as_array()[0].as_object()["packets"] = UINT64_MAX; },
       "more packets than the interval"},
      {"class", [](json::object& o) { o["classes"].as_object()["nope"] = json::object{}; },
       "unknown class"},
      {"first", [](json::object& o) { o["first"] = "2026-11-23T00:00:00Z"; },
       "outside the interval"},
      {"address",
       [](json::object& o) { o["top_sources"].as_array()[0].as_object()["address"] = "no"; },
       "not an IP address"},
      {"sketch",
       [](json::object& o) {
         o["sources"] = json::object{{"count", 51}, {"sketch", Base64Encode("\x01s\x00\x00")}};
       },
       "missing"},
      {"version", [](json::object& o) { o["kizuna_telescope_interval"] = 2; },
       "unsupported version"},
      {"ports",
       [](json::object& o) {
         json::array many;
         for (int port = 0; port < 4097; ++port) {
           many.push_back(json::object{
               {"proto", "udp"},
               {"port", port},
               {"packets", 0},
               {"sources", json::object{{"count", 0}, {"v4", ""}, {"v6", json::array{}}}}});
         }
         o["ports"] = std::move(many);
       },
       "too many ports"},
      {"missing", [](json::object& o) { o.erase("ports"); }, "ports"},
  };
  for (const Case& c : cases) {
    json::object changed = good;
    c.change(changed);
    auto decoded = DecodeWire(json::serialize(changed));
    ASSERT_FALSE(decoded.ok()) << c.what;
    EXPECT_NE(decoded.status().message().find(c.message), std::string::npos)
        << c.what << ": " << decoded.status().message();
  }
  EXPECT_FALSE(DecodeWire("not json").ok());
  EXPECT_FALSE(DecodeWire("[]").ok());
}

TEST(Interval, OnlyTheBusiestPortsAndSourcesTravelTheRestAsCounts) {
  Summary summary;
  Packet p = DarknetSyn(0);
  // Port 1000+k gets k+1 packets from source k+1.
  uint64_t total = 0;
  for (uint32_t k = 0; k < 10; ++k) {
    p.dst_port = static_cast<uint16_t>(1000 + k);
    p.src4 = k + 1;
    for (uint32_t n = 0; n <= k; ++n, ++total) summary.Add(p, 1795305600LL * 1000000 + n);
  }
  WireLimits limits;
  limits.max_ports = 3;
  limits.max_top_sources = 2;
  const WireInterval w = ToWire(summary, "tokyo-1", 1795305600, 60, "x-0", limits);
  ASSERT_EQ(w.ports.size(), 3u);
  EXPECT_EQ(w.ports[0].port, 1009);
  EXPECT_EQ(w.ports[2].port, 1007);
  EXPECT_EQ(w.other_ports, 7u);
  EXPECT_EQ(w.other_port_packets, total - 10 - 9 - 8);
  ASSERT_EQ(w.top_sources.size(), 2u);
  EXPECT_EQ(w.top_sources[0].address, "0.0.0.10");
  EXPECT_EQ(w.top_sources[0].packets, 10u);
  EXPECT_EQ(w.top_sources[1].address, "0.0.0.9");
  EXPECT_EQ(w.sources.size(), 10u);  // every source still counts
  EXPECT_TRUE(DecodeWire(EncodeWire(w)).ok());
}

TEST(Interval, ASetMayTravelAsASketchWhereAddressesMayNot) {
  WireInterval w = Sample();
  ASSERT_EQ(w.sources.size(), 51u);
  w.sources = w.sources.AsSketch();
  EXPECT_FALSE(w.sources.exact);
  EXPECT_EQ(w.sources.size(), 51u);  // the sender's count
  const std::string text = EncodeWire(w);
  EXPECT_FALSE(DecodeWire(text).ok());  // a sensor sends exact sets
  auto decoded = DecodeWire(text, /*exact_only=*/false);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_FALSE(decoded->sources.exact);
  EXPECT_EQ(decoded->sources.size(), 51u);
  EXPECT_NEAR(decoded->sources.Sketch().Estimate(), 51, 1);
}

TEST(Interval, ACaptureKeepsItsIdentityAndAnotherHasAnother) {
  const std::string a = IntervalTempPath("id-a.pcap"), b = IntervalTempPath("id-b.pcap");
  WriteSyns(a, {{1795305600, 1}, {1795305601, 2}});
  WriteSyns(b, {{1795305600, 1}, {1795305601, 3}});
  auto ida = CaptureIdentity(a), ida2 = CaptureIdentity(a), idb = CaptureIdentity(b);
  ASSERT_TRUE(ida.ok() && ida2.ok() && idb.ok());
  EXPECT_EQ(*ida, *ida2);
  EXPECT_NE(*ida, *idb);
  EXPECT_TRUE(ValidSensorName(*ida + "-0"));
  std::filesystem::remove(a);
  std::filesystem::remove(b);
  EXPECT_FALSE(CaptureIdentity(a).ok());
}

TEST(Sketch, EstimatesWithinItsStatedError) {
  std::mt19937 rng(7);
  for (uint32_t n : {0u, 1u, 10u, 100u, 1000u, 5000u, 12000u, 20000u, 200000u}) {
    DistinctSketch sketch;
    std::set<uint32_t> seen;
    while (seen.size() < n) {
      const uint32_t a = rng();
      if (seen.insert(a).second) sketch.AddV4(a);
    }
    for (uint32_t a : seen) sketch.AddV4(a);  // repeats change nothing
    const double estimate = sketch.Estimate();
    // About 1.6 % is one standard error (sketch.h): allow three.
    const double allowed = std::max(1.0, n * 0.049);
    EXPECT_NEAR(estimate, n, allowed) << n;
  }
}

TEST(Sketch, MergingTwoHalvesIsTheSketchOfTheWhole) {
  DistinctSketch a, b, whole;
  for (uint32_t i = 0; i < 30000; ++i) {
    (i % 2 ? a : b).AddV4(i * 2654435761u);
    whole.AddV4(i * 2654435761u);
  }
  Ipv6Address v6{};
  v6[0] = 0x20;
  a.AddV6(v6);
  whole.AddV6(v6);
  a.Merge(b);
  EXPECT_EQ(a.Serialize(), whole.Serialize());
}

TEST(Sketch, TheSketchOfAFewAddressesIsTheSameBytesBuiltEitherWay) {
  for (uint32_t n : {0u, 1u, 2u, 50u, 1000u, 1400u, 5000u}) {
    std::vector<uint32_t> v4;
    std::vector<Ipv6Address> v6(n % 3);
    DistinctSketch built;
    for (uint32_t i = 0; i < n; ++i) {
      v4.push_back(i * 2654435761u);
      built.AddV4(v4.back());
    }
    for (size_t i = 0; i < v6.size(); ++i) {
      v6[i][15] = static_cast<uint8_t>(i + 1);
      built.AddV6(v6[i]);
    }
    EXPECT_EQ(DistinctSketch::SerializeOf(v4, v6), built.Serialize()) << n;
  }
}

TEST(Sketch, SerializesCompactlyAndParsesOnlyWhatItWrites) {
  DistinctSketch small, big;
  for (uint32_t i = 0; i < 10; ++i) small.AddV4(i);
  for (uint32_t i = 0; i < 100000; ++i) big.AddV4(i);
  EXPECT_LT(small.Serialize().size(), 40u);
  EXPECT_EQ(big.Serialize().size(), 2 + DistinctSketch::kRegisters);
  for (const DistinctSketch* s : {&small, &big}) {
    auto parsed = DistinctSketch::Parse(s->Serialize());
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->Serialize(), s->Serialize());
  }
  std::string out_of_order = small.Serialize();
  std::swap(out_of_order[4], out_of_order[7]);
  std::swap(out_of_order[5], out_of_order[8]);
  std::string rank = big.Serialize();
  rank[100] = 60;
  for (const std::string& bad :
       {std::string(), std::string("\x02s"), std::string("\x01x"), std::string("\x01s\x00\x05"),
        out_of_order, rank, big.Serialize().substr(0, 100)}) {
    EXPECT_FALSE(DistinctSketch::Parse(bad).ok());
  }
}

// The hash is published: every node must hash alike for sketches to merge.
// This pins it; changing it breaks every partner's merge.
TEST(Sketch, TheHashIsThePublishedOne) {
  DistinctSketch sketch;
  sketch.AddV4(0x01020304);  // 1.2.3.4
  // Version 1, sparse, one entry: register 0x0573 at rank 1.
  EXPECT_EQ(HexEncode(sketch.Serialize()), "01730001057301");
}

}  // namespace
}  // namespace kizuna::sensor
