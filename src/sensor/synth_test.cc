// The generator against the analyser: a synthetic capture's report must be
// exactly what the generator put in (counted by the generator, independently
// of decoding), for every link type and both file formats; and damaged or
// foreign files give a clear error or a counted warning, never a crash.
#include "sensor/synth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "sensor/capture.h"
#include "sensor/report.h"

namespace kizuna::sensor {
namespace {

namespace json = boost::json;

std::string SynthTempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kizuna-synth-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Generated {
  std::string path;
  SynthTruth truth;
  ~Generated() { std::filesystem::remove(path); }
};

std::unique_ptr<Generated> Generate(SynthOptions options, const std::string& name) {
  auto g = std::make_unique<Generated>();
  g->path = SynthTempPath(name);
  Status written = WriteSynth(options, g->path, &g->truth);
  EXPECT_TRUE(written.ok()) << written.ToString();
  return g;
}

CaptureReport Analyse(const std::string& path) {
  auto report = AnalyzeCapture(path, Darknet{});
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? std::move(report).value() : CaptureReport{};
}

// The report's ports as (proto, port) -> [packets, sources].
std::map<std::pair<std::string, int64_t>, std::pair<int64_t, int64_t>> PortsOf(
    const json::value& doc) {
  std::map<std::pair<std::string, int64_t>, std::pair<int64_t, int64_t>> out;
  for (const json::value& p : doc.at("ports").as_array()) {
    out[{std::string(p.at("proto").as_string()), p.at("port").to_number<int64_t>()}] = {
        p.at("packets").to_number<int64_t>(), p.at("sources").to_number<int64_t>()};
  }
  return out;
}

void ExpectReportIsTheTruth(const CaptureReport& report, const SynthTruth& truth) {
  const json::value got = json::parse(CaptureReportJson(report));
  const json::value want = json::parse(truth.Json());
  EXPECT_EQ(got.at("packets"), want.at("packets"));
  EXPECT_EQ(got.at("sources"), want.at("sources"));
  EXPECT_EQ(got.at("classes"), want.at("classes"));
  EXPECT_EQ(got.at("fingerprints"), want.at("fingerprints"));
  EXPECT_EQ(PortsOf(got), PortsOf(want));
  EXPECT_EQ(report.frames, truth.packets);
  EXPECT_EQ(report.decode[static_cast<size_t>(DecodeStatus::kOk)], truth.packets);
  EXPECT_TRUE(report.file_error.empty()) << report.file_error;
}

TEST(Synth, TheReportCountsExactlyWhatWasGenerated) {
  SynthOptions options;
  options.packets = 200000;
  options.seed = 11;
  options.outbreak_sources = 3000;
  auto g = Generate(options, "truth.pcap");
  // Every kind of traffic is there, and the outbreak's sources too.
  ASSERT_GT(g->truth.classes["backscatter"].size(), 0u);
  ASSERT_GT(g->truth.classes["udp"].size(), 0u);
  ASSERT_GT(g->truth.classes["icmp"].size(), 0u);
  ASSERT_GT(g->truth.fingerprints["zmap"].size(), 0u);
  ASSERT_GT(g->truth.fingerprints["masscan"].size(), 0u);
  ASSERT_GT(g->truth.fingerprints["mirai"].size(), 2000u);  // bots + new outbreak sources
  ASSERT_FALSE(g->truth.sources.v6.empty());
  ExpectReportIsTheTruth(Analyse(g->path), g->truth);
}

TEST(Synth, EveryLinkTypeAndPcapngGiveTheSameReport) {
  SynthOptions options;
  options.packets = 30000;
  options.seed = 5;
  auto reference = Generate(options, "ref.pcap");
  const std::string want = CaptureReportJson(Analyse(reference->path));
  struct Variant {
    const char* name;
    LinkType link;
    int vlan;
    bool pcapng;
  };
  for (const Variant& v :
       {Variant{"vlan", LinkType::kEthernet, 42, false}, Variant{"raw", LinkType::kRaw, -1, false},
        Variant{"sll", LinkType::kLinuxSll, -1, false},
        Variant{"sll2", LinkType::kLinuxSll2, -1, false},
        Variant{"null", LinkType::kNull, -1, false},
        Variant{"pcapng", LinkType::kEthernet, -1, true},
        Variant{"pcapng-raw", LinkType::kRaw, -1, true}}) {
    SynthOptions o = options;
    o.link = v.link;
    o.vlan = v.vlan;
    o.pcapng = v.pcapng;
    auto g = Generate(o, std::string(v.name) + ".cap");
    EXPECT_EQ(CaptureReportJson(Analyse(g->path)), want) << v.name;
    ExpectReportIsTheTruth(Analyse(g->path), g->truth);
  }
}

TEST(Synth, IsDeterministicForASeed) {
  SynthOptions options;
  options.packets = 5000;
  auto a = Generate(options, "a.pcap");
  auto b = Generate(options, "b.pcap");
  options.seed = 2;
  auto c = Generate(options, "c.pcap");
  EXPECT_EQ(ReadFile(a->path), ReadFile(b->path));
  EXPECT_NE(ReadFile(a->path), ReadFile(c->path));
}

TEST(Synth, TheOutbreakStartsWhenAskedWithNewSources) {
  SynthOptions options;
  options.packets = 60000;
  options.duration_s = 6 * 3600;
  options.outbreak_at_s = 4 * 3600;
  options.outbreak_sources = 4000;
  auto g = Generate(options, "outbreak.pcap");
  const int64_t at = options.start_us + int64_t{4} * 3600 * 1000000;
  ASSERT_NE(g->truth.outbreak_start_us, 0);
  EXPECT_GE(g->truth.outbreak_start_us, at);
  EXPECT_LT(g->truth.outbreak_start_us, at + int64_t{60} * 1000000);  // within a minute
  // Before the outbreak, only the 2,000 standing bots send Mirai probes.
  SynthOptions before = options;
  before.outbreak_at_s = 1000000;  // never
  auto quiet = Generate(before, "quiet.pcap");
  EXPECT_LE(quiet->truth.fingerprints["mirai"].size(), 2000u);
  EXPECT_GT(g->truth.fingerprints["mirai"].size(),
            quiet->truth.fingerprints["mirai"].size() + 3000);
}

TEST(Synth, RefusesWhatItCannotWrite) {
  SynthOptions options;
  options.packets = 10;
  options.link = LinkType::kLinuxSll2;
  options.darknet_length = 4;
  EXPECT_EQ(WriteSynth(options, SynthTempPath("x.pcap"), nullptr).code(), Code::kInvalidArgument);
  options.darknet_length = 16;
  options.outbreak_share = 1.5;
  EXPECT_EQ(WriteSynth(options, SynthTempPath("x.pcap"), nullptr).code(), Code::kInvalidArgument);
  options.outbreak_share = 0.2;
  EXPECT_FALSE(WriteSynth(options, "/nonexistent-dir/x.pcap", nullptr).ok());
}

TEST(Capture, ACaptureCutMidRecordCountsWhatCameBeforeAndSaysSo) {
  SynthOptions options;
  options.packets = 1000;
  auto g = Generate(options, "cut.pcap");
  std::string bytes = ReadFile(g->path);
  bytes.resize(bytes.size() - 30);  // into the last record
  const std::string cut = SynthTempPath("cut2.pcap");
  std::ofstream(cut, std::ios::binary) << bytes;
  CaptureReport report = Analyse(cut);
  std::filesystem::remove(cut);
  EXPECT_FALSE(report.file_error.empty());
  EXPECT_EQ(report.frames, 999u);
  EXPECT_EQ(report.summary.packets(), 999u);
  EXPECT_NE(CaptureReportJson(report).find("\"file_error\""), std::string::npos);
}

// The pcap file `bytes` rewritten as a host of the other byte order would
// have written it, or with nanosecond timestamps.
std::string Rewritten(std::string bytes, bool swap, bool nanoseconds) {
  auto get32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  auto put32 = [&](size_t at, uint32_t v) {
    if (swap) v = __builtin_bswap32(v);
    std::memcpy(bytes.data() + at, &v, 4);
  };
  auto put16 = [&](size_t at, uint16_t v) {
    if (swap) v = __builtin_bswap16(v);
    std::memcpy(bytes.data() + at, &v, 2);
  };
  uint16_t major, minor;
  std::memcpy(&major, bytes.data() + 4, 2);
  std::memcpy(&minor, bytes.data() + 6, 2);
  const uint32_t snaplen = get32(16), link = get32(20);
  put32(0, nanoseconds ? 0xA1B23C4D : 0xA1B2C3D4);
  put16(4, major);
  put16(6, minor);
  put32(8, 0);
  put32(12, 0);
  put32(16, snaplen);
  put32(20, link);
  for (size_t at = 24; at + 16 <= bytes.size();) {
    const uint32_t sec = get32(at), frac = get32(at + 4), caplen = get32(at + 8),
                   len = get32(at + 12);
    put32(at, sec);
    put32(at + 4, nanoseconds ? frac * 1000 + 999 : frac);
    put32(at + 8, caplen);
    put32(at + 12, len);
    at += 16 + caplen;
  }
  return bytes;
}

TEST(Capture, EitherByteOrderAndNanosecondTimestampsReadTheSame) {
  SynthOptions options;
  options.packets = 20000;
  auto g = Generate(options, "order.pcap");
  const std::string want = CaptureReportJson(Analyse(g->path));
  ASSERT_NE(want.find("\"first\":"), std::string::npos);
  for (bool swap : {false, true}) {
    for (bool nanoseconds : {false, true}) {
      const std::string path = SynthTempPath("rewritten.pcap");
      std::ofstream(path, std::ios::binary) << Rewritten(ReadFile(g->path), swap, nanoseconds);
      const std::string got = CaptureReportJson(Analyse(path));
      std::filesystem::remove(path);
      EXPECT_EQ(got, want) << "swapped " << swap << ", nanoseconds " << nanoseconds;
    }
  }
}

TEST(Capture, ARecordLongerThanTheFileStopsThereWithAWarning) {
  SynthOptions options;
  options.packets = 1000;
  auto g = Generate(options, "long.pcap");
  std::string bytes = ReadFile(g->path);
  // The 501st record says it is 1 GB long.
  size_t at = 24;
  for (int i = 0; i < 500; ++i) {
    uint32_t caplen;
    std::memcpy(&caplen, bytes.data() + at + 8, 4);
    at += 16 + caplen;
  }
  const uint32_t huge = 1u << 30;
  std::memcpy(bytes.data() + at + 8, &huge, 4);
  const std::string path = SynthTempPath("long2.pcap");
  std::ofstream(path, std::ios::binary) << bytes;
  CaptureReport report = Analyse(path);
  std::filesystem::remove(path);
  EXPECT_EQ(report.frames, 500u);
  EXPECT_NE(report.file_error.find("runs past"), std::string::npos) << report.file_error;
}

// A classic pcap of raw-IP (101) or Ethernet (1) frames.
std::string PcapOf(uint32_t link, const std::vector<std::vector<uint8_t>>& frames) {
  std::string out;
  auto put32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  put32(0xA1B2C3D4);
  put32(0x00040002);  // version 2.4
  put32(0);
  put32(0);
  put32(65535);
  put32(link);
  uint32_t second = 1795305600;
  for (const auto& f : frames) {
    put32(second++);
    put32(0);
    put32(static_cast<uint32_t>(f.size()));
    put32(static_cast<uint32_t>(f.size()));
    out.append(reinterpret_cast<const char*>(f.data()), f.size());
  }
  return out;
}

TEST(Capture, MalformedFramesAreOnlyCountedAsSuchAndCutOnesHaveNoPort) {
  // A SYN from 192.0.2.1 to 198.18.0.1:23, raw IPv4.
  const std::vector<uint8_t> syn = {0x45, 0, 0,   40, 0,    1,    0,    0,    64, 6,  0, 0, 192, 0,
                                    2,    1, 198, 18, 0,    1,    0x9c, 0x40, 0,  23, 0, 0, 0,   1,
                                    0,    0, 0,   0,  0x50, 0x02, 0x04, 0x00, 0,  0,  0, 0};
  // IPv6 from 2001:db8::9 whose routing header the capture cuts off.
  std::vector<uint8_t> cut6 = {0x60, 0, 0, 0, 0, 16, 43, 64};
  for (int i = 0; i < 2; ++i) {
    const std::vector<uint8_t> address = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(9 - i)};
    cut6.insert(cut6.end(), address.begin(), address.end());
  }
  cut6.insert(cut6.end(), {6, 0});  // 2 of the routing header's 8 bytes
  // An IPv6 header where the IPv4 version is expected is malformed: over
  // Ethernet saying IPv4 (0x0800).
  std::vector<uint8_t> mismatch = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
  mismatch.insert(mismatch.end(), cut6.begin(), cut6.end() - 2);
  mismatch[14 + 6] = 59;  // no next header
  mismatch[14 + 5] = 0;
  const std::string raw_path = SynthTempPath("raw.pcap"), eth_path = SynthTempPath("eth.pcap");
  std::ofstream(raw_path, std::ios::binary) << PcapOf(101, {syn, cut6});
  std::ofstream(eth_path, std::ios::binary) << PcapOf(1, {mismatch});
  CaptureReport raw = Analyse(raw_path);
  CaptureReport eth = Analyse(eth_path);
  std::filesystem::remove(raw_path);
  std::filesystem::remove(eth_path);
  EXPECT_EQ(raw.frames, 2u);
  EXPECT_EQ(raw.decode[static_cast<size_t>(DecodeStatus::kTruncated)], 1u);
  EXPECT_EQ(raw.summary.packets(), 2u);  // the cut one's source counts
  EXPECT_EQ(raw.summary.sources().size(), 2u);
  ASSERT_EQ(raw.summary.Ports().size(), 1u);  // but it has no port ("other 0" before)
  EXPECT_EQ(raw.summary.Ports()[0].port, 23);
  EXPECT_EQ(eth.decode[static_cast<size_t>(DecodeStatus::kMalformed)], 1u);
  EXPECT_EQ(eth.summary.packets(), 0u);
  EXPECT_EQ(eth.summary.sources().size(), 0u);
}

TEST(Capture, AFileThatShrinksWhileItIsReadEndsWithAnError) {
  // Rotating captures reuse names: the file may be cut while it is read.
  SynthOptions options;
  options.packets = 200000;  // about 14 MB: more than one read block
  auto g = Generate(options, "shrink.pcap");
  auto reader = CaptureReader::Open(g->path);
  ASSERT_TRUE(reader.ok());
  Frame frame;
  uint64_t frames = 0;
  for (; frames < 10; ++frames) ASSERT_TRUE((*reader)->Next(&frame));
  std::filesystem::resize_file(g->path, 10'000'003);
  while ((*reader)->Next(&frame)) ++frames;
  EXPECT_LT(frames, 200000u);
  EXPECT_GT(frames, 100000u);  // the first 10 MB were read
  EXPECT_FALSE((*reader)->status().ok());
  EXPECT_NE((*reader)->status().message().find("damaged"), std::string::npos)
      << (*reader)->status().ToString();
}

TEST(Capture, AFileThatIsNoCaptureIsAnError) {
  const std::string path = SynthTempPath("not.pcap");
  std::ofstream(path) << "this is not a capture file\n";
  auto report = AnalyzeCapture(path, Darknet{});
  std::filesystem::remove(path);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Code::kInvalidArgument);
  EXPECT_NE(report.status().message().find("pcap"), std::string::npos);
  EXPECT_FALSE(AnalyzeCapture("/nonexistent.pcap", Darknet{}).ok());
}

TEST(Capture, OnlyTheDarknetIsCounted) {
  SynthOptions options;
  options.packets = 20000;
  options.darknet = 0xC6120000;  // 198.18.0.0/16
  auto g = Generate(options, "darknet.pcap");
  auto half = Darknet::Parse({"198.18.0.0/17"});
  ASSERT_TRUE(half.ok());
  auto report = AnalyzeCapture(g->path, *half);
  ASSERT_TRUE(report.ok());
  const uint64_t v4 = g->truth.packets - report->outside;
  // About half the IPv4 packets are in the lower /17; the IPv6 ones are outside.
  EXPECT_EQ(report->summary.packets() + report->outside, g->truth.packets);
  EXPECT_GT(report->summary.packets(), g->truth.packets * 4 / 10);
  EXPECT_LT(report->summary.packets(), g->truth.packets * 6 / 10);
  EXPECT_EQ(v4, report->summary.packets());
  EXPECT_FALSE(Darknet::Parse({"198.18.0.0/33"}).ok());
  EXPECT_FALSE(Darknet::Parse({"not-a-prefix"}).ok());
  auto both = Darknet::Parse({"198.18.0.0/16", "2001:db8:6b7a::/48"});
  ASSERT_TRUE(both.ok());
  auto all = AnalyzeCapture(g->path, *both);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->outside, 0u);
}

}  // namespace
}  // namespace kizuna::sensor
