// Summaries: what each packet adds (per port, per source, per class and
// fingerprint), and merging (two intervals or two sensors count a source
// seen by both once).
#include "sensor/summary.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

namespace kizuna::sensor {
namespace {

constexpr int64_t kT0 = 1795305600LL * 1000000;  // 2026-11-22T00:00:00Z

Packet Syn(uint32_t src, uint32_t dst, uint16_t port, uint32_t seq = 12345) {
  Packet p;
  p.ip_version = 4;
  p.protocol = kProtoTcp;
  p.has_transport = true;
  p.src4 = src;
  p.dst4 = dst;
  p.ip_id = 7;
  p.src_port = 40000;
  p.dst_port = port;
  p.tcp_flags = tcp::kSyn;
  p.tcp_seq = seq;
  return p;
}

Packet SynAck(uint32_t src, uint32_t dst) {
  Packet p = Syn(src, dst, 51000);
  p.src_port = 443;
  p.tcp_flags = tcp::kSyn | tcp::kAck;
  return p;
}

Packet Udp(uint32_t src, uint32_t dst, uint16_t port) {
  Packet p;
  p.ip_version = 4;
  p.protocol = kProtoUdp;
  p.has_transport = true;
  p.src4 = src;
  p.dst4 = dst;
  p.dst_port = port;
  return p;
}

Packet Syn6(uint8_t last, uint16_t port) {
  Packet p;
  p.ip_version = 6;
  p.protocol = kProtoTcp;
  p.has_transport = true;
  p.src6 = {0x24, 0x00, 0xcb, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
  p.dst6 = {0x20, 0x01, 0x0d, 0xb8, 0x6b, 0x7a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  p.dst_port = port;
  p.tcp_flags = tcp::kSyn;
  return p;
}

TEST(Summary, CountsPacketsAndDistinctSourcesPerPort) {
  Summary s;
  s.Add(Syn(0x01010101, 0xC6120001, 23), kT0);
  s.Add(Syn(0x01010101, 0xC6120002, 23), kT0 + 1);
  s.Add(Syn(0x02020202, 0xC6120003, 23), kT0 + 2);
  s.Add(Syn(0x02020202, 0xC6120003, 22), kT0 + 3);
  s.Add(Udp(0x03030303, 0xC6120004, 53), kT0 + 4);
  s.Add(Syn6(9, 23), kT0 + 5);
  EXPECT_EQ(s.packets(), 6u);
  EXPECT_EQ(s.sources().size(), 4u);
  const PortStats* telnet = s.Port(PortProto::kTcp, 23);
  ASSERT_NE(telnet, nullptr);
  EXPECT_EQ(telnet->packets, 4u);
  EXPECT_EQ(telnet->sources.size(), 3u);  // two IPv4 and one IPv6
  EXPECT_EQ(s.Port(PortProto::kUdp, 53)->packets, 1u);
  EXPECT_EQ(s.Port(PortProto::kUdp, 23), nullptr);
  // By packets, descending.
  auto ports = s.Ports();
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[0].port, 23);
  EXPECT_EQ(ports[0].proto, PortProto::kTcp);
  EXPECT_EQ(s.first_us(), kT0);
  EXPECT_EQ(s.last_us(), kT0 + 5);
}

TEST(Summary, KeepsEachSourcesProfile) {
  Summary s;
  const uint32_t source = 0x05060708;
  s.Add(Syn(source, 0xC6120001, 23), kT0 + 10);
  s.Add(Syn(source, 0xC6120002, 2323), kT0 + 5);  // out of order: first_us still the earliest
  s.Add(SynAck(source, 0xC6120002), kT0 + 20);
  s.Add(Udp(source, 0xC6120002, 123), kT0 + 30);
  const SourceStats* stats = s.SourceV4(source);
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->packets, 4u);
  EXPECT_EQ(stats->first_us, kT0 + 5);
  EXPECT_EQ(stats->last_us, kT0 + 30);
  EXPECT_EQ(stats->syn, 2u);
  EXPECT_EQ(stats->syn_ack, 1u);
  EXPECT_EQ(stats->udp, 1u);
  EXPECT_EQ(stats->ports.size(), 4u);  // 23, 2323, 51000 (tcp), 123 (udp)
  EXPECT_EQ(stats->destinations.size(), 2u);
  EXPECT_EQ(s.SourceV4(0x01020304), nullptr);
}

TEST(Summary, CountsSourcesPerClassAndFingerprint) {
  Summary s;
  const uint32_t bot = 0x0A0B0C0D, dst = 0x3ED24B4B;  // 62.210.75.75
  s.Add(Syn(bot, dst, 23, /*seq=*/dst), kT0);         // Mirai: seq is the destination
  s.Add(Syn(0x01010101, dst, 23), kT0);
  s.Add(SynAck(0x02020202, dst), kT0);
  s.Add(Udp(0x03030303, dst, 53), kT0);
  EXPECT_EQ(s.class_sources(TrafficClass::kScan).size(), 2u);
  EXPECT_EQ(s.class_sources(TrafficClass::kBackscatter).size(), 1u);
  EXPECT_EQ(s.class_sources(TrafficClass::kUdp).size(), 1u);
  EXPECT_EQ(s.class_sources(TrafficClass::kIcmp).size(), 0u);
  ASSERT_EQ(s.fingerprints().name(0), "mirai");
  EXPECT_EQ(s.fingerprint_sources(0).size(), 1u);
  EXPECT_TRUE(s.fingerprint_sources(0).ContainsV4(bot));
  EXPECT_EQ(s.SourceV4(bot)->fingerprints(), 1u);
}

TEST(Summary, MergingCountsASourceSeenTwiceOnce) {
  Summary morning, evening, whole;
  for (uint32_t i = 0; i < 1000; ++i) {
    const Packet p = Syn(0x0B000000 + i % 600, 0xC6120000 + i, i % 2 ? 23 : 80);
    (i < 500 ? morning : evening).Add(p, kT0 + i);
    whole.Add(p, kT0 + i);
  }
  morning.Add(Syn6(1, 23), kT0 + 2000);
  evening.Add(Syn6(1, 23), kT0 + 2001);
  whole.Add(Syn6(1, 23), kT0 + 2000);
  whole.Add(Syn6(1, 23), kT0 + 2001);
  Summary merged;
  merged.Merge(morning);
  merged.Merge(evening);
  EXPECT_EQ(merged.packets(), whole.packets());
  EXPECT_EQ(merged.sources().size(), whole.sources().size());
  EXPECT_EQ(merged.sources().size(), 601u);
  // 400 IPv4 sources and the IPv6 one were seen in both halves.
  EXPECT_EQ(morning.sources().size() + evening.sources().size(), 1002u);
  EXPECT_EQ(merged.Port(PortProto::kTcp, 23)->sources.size(),
            whole.Port(PortProto::kTcp, 23)->sources.size());
  EXPECT_EQ(merged.class_sources(TrafficClass::kScan).size(),
            whole.class_sources(TrafficClass::kScan).size());
  EXPECT_EQ(merged.first_us(), kT0);
  EXPECT_EQ(merged.last_us(), kT0 + 2001);
  const SourceStats* a = merged.SourceV4(0x0B000000 + 10);
  const SourceStats* b = whole.SourceV4(0x0B000000 + 10);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->packets, b->packets);
  EXPECT_EQ(a->destinations.size(), b->destinations.size());
  EXPECT_EQ(a->first_us, b->first_us);
  EXPECT_EQ(a->last_us, b->last_us);
}

TEST(Summary, WithoutDestinationsCountsTheSameAndKeepsNone) {
  Summary with, without(FingerprintSet::BuiltIn(), /*destinations=*/false);
  for (uint32_t i = 0; i < 3000; ++i) {
    const Packet p = Syn(0x0D000000 + i % 40, 0xC6120000 + i, static_cast<uint16_t>(20 + i % 9));
    with.Add(p, kT0 + i);
    without.Add(p, kT0 + i);
  }
  without.Add(Syn6(3, 23), kT0);
  with.Add(Syn6(3, 23), kT0);
  EXPECT_EQ(without.sources().size(), with.sources().size());
  EXPECT_EQ(without.Port(PortProto::kTcp, 23)->sources.size(),
            with.Port(PortProto::kTcp, 23)->sources.size());
  EXPECT_EQ(without.SourceV4(0x0D000005)->ports.size(), with.SourceV4(0x0D000005)->ports.size());
  EXPECT_EQ(with.SourceV4(0x0D000005)->destinations.size(), 75u);
  EXPECT_EQ(without.SourceV4(0x0D000005)->destinations.size(), 0u);
}

TEST(Ipv6Hash, AddressesChosenToCollideUnderAFixedHashDoNot) {
  // Whoever sends the packets picks the addresses: with an unkeyed hash
  // (hi ^ lo * C) they could make every one land in one bucket.
  std::set<size_t> hashes;
  for (uint64_t lo = 1; lo <= 2000; ++lo) {
    const uint64_t hi = 0x20010db800000000ull ^ (lo * 0x9E3779B97F4A7C15ull);
    Ipv6Address a;
    std::memcpy(a.data(), &hi, 8);
    std::memcpy(a.data() + 8, &lo, 8);
    hashes.insert(Ipv6Hash{}(a));
  }
  EXPECT_GE(hashes.size(), 1990u);
}

TEST(Summary, APacketWithoutAnIpHeaderIsNotCounted) {
  Summary s;
  s.Add(Packet{}, kT0);
  EXPECT_EQ(s.packets(), 0u);
  // A fragment counts its source but has no port.
  Packet fragment = Syn(0x01010101, 0xC6120001, 0);
  fragment.fragment = true;
  fragment.has_transport = false;
  s.Add(fragment, kT0);
  EXPECT_EQ(s.packets(), 1u);
  EXPECT_EQ(s.sources().size(), 1u);
  EXPECT_TRUE(s.Ports().empty());
}

TEST(Summary, AHeavySourcesChanceMatchesDoNotMakeItAScanner) {
  // A bot sending 200,000 SYNs with random IP ids hits ZMap's 54321 and
  // masscan's 16-bit check by chance a few times; a ZMap scanner's every
  // probe carries 54321.
  Summary s;
  const uint32_t bot = 0x0E000001, zmap = 0x0E000002;
  uint32_t chance = 0;
  for (uint32_t i = 0; i < 200000; ++i) {
    Packet p = Syn(bot, 0xC6120000 + (i & 0xFFFF), 23, /*seq=*/i * 7919);
    p.ip_id = static_cast<uint16_t>(i * 40503u);
    if (i % 50000 == 1) {
      p.ip_id = 54321;
      ++chance;
    }
    s.Add(p, kT0 + i);
  }
  for (uint32_t i = 0; i < 100; ++i) {
    Packet p = Syn(zmap, 0xC6120000 + i, 443, i * 31);
    p.ip_id = 54321;
    s.Add(p, kT0 + i);
  }
  ASSERT_GT(chance, 0u);
  ASSERT_EQ(s.fingerprints().name(1), "zmap");
  EXPECT_EQ(s.SourceV4(bot)->fingerprints() & 2u, 0u);
  EXPECT_EQ(s.SourceV4(zmap)->fingerprints(), 2u);
  EXPECT_EQ(s.fingerprint_sources(1).size(), 1u);
  EXPECT_TRUE(s.fingerprint_sources(1).ContainsV4(zmap));
  EXPECT_EQ(s.fingerprint_sources(99).size(), 0u);  // no such rule
}

TEST(Summary, KeepsTheSourcesOfEveryRuleUpToTheLast) {
  // 32 rules, each on one destination port: rule i matches port 1000 + i.
  std::string json = R"({"version": "t", "fingerprints": [)";
  for (int i = 0; i < 32; ++i) {
    json += (i ? "," : "") + std::string(R"({"name": "r)") + std::to_string(i) +
            R"(", "equal": [["dst_port", )" + std::to_string(1000 + i) + "]]}";
  }
  json += "]}";
  auto rules = FingerprintSet::Parse(json);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  Summary s(*rules);
  for (uint32_t i = 0; i < 32; ++i) s.Add(Syn(0x0A000000 + i, 0xC6120001, 1000 + i), kT0);
  for (size_t r = 0; r < 32; ++r) {
    EXPECT_EQ(s.fingerprint_sources(r).size(), 1u) << "rule " << r;
    EXPECT_TRUE(s.fingerprint_sources(r).ContainsV4(0x0A000000 + r)) << "rule " << r;
  }
  EXPECT_EQ(s.SourceV4(0x0A000000 + 31)->fingerprints(), 1u << 31);
}

TEST(Summary, RulesPastTheFirstSevenAreCountedThroughAFullBatch) {
  // A batch's record carries the first seven rules' bits; later ones go in
  // a column of their own. Ten rules matching the same packets, over more
  // than a batch (folded on the background thread), with and without
  // destinations: every rule counts every packet.
  std::string json = R"({"version": "t", "fingerprints": [)";
  for (int i = 0; i < 10; ++i) {
    json += (i ? "," : "") + std::string(R"({"name": "r)") + std::to_string(i) +
            R"(", "equal": [["dst_port", 23], ["tcp_flags", 2]]})";
  }
  json += "]}";
  auto rules = FingerprintSet::Parse(json);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  for (bool destinations : {false, true}) {
    Summary s(*rules, destinations);
    const uint32_t n = (1u << 20) + 1000;
    for (uint32_t i = 0; i < n; ++i) {
      s.Add(Syn(0x0A000000 + i % 100, 0xC6120000 + i % 300, 23), kT0 + i);
      if (i % 10000 == 0) s.Add(Syn(0x0B000000, 0xC6120001, 80), kT0 + i);
    }
    for (size_t r = 0; r < 10; ++r) {
      EXPECT_EQ(s.fingerprint_sources(r).size(), 100u) << "rule " << r;
      EXPECT_FALSE(s.fingerprint_sources(r).ContainsV4(0x0B000000)) << "rule " << r;
    }
    const SourceStats* source = s.SourceV4(0x0A000000 + 7);
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(source->fingerprints(), (1u << 10) - 1);
    ASSERT_EQ(source->fingerprint_packets.size(), 10u);
    for (size_t r = 0; r < 10; ++r) {
      EXPECT_EQ(source->fingerprint_packets[r].first, r);
      EXPECT_EQ(source->fingerprint_packets[r].second, source->packets) << "rule " << r;
    }
    EXPECT_EQ(source->destinations.size(), destinations ? 3u : 0u);
  }
}

TEST(Summary, CountsManyBatchesAsOne) {
  // More packets than one batch holds, from sources seen in several
  // batches: the same as counting them in two halves and merging.
  Summary whole, first, second;
  const uint32_t n = (1u << 20) + 200000;
  for (uint32_t i = 0; i < n; ++i) {
    const Packet p = Syn(0x0C000000 + (i * 2654435761u) % 50000, 0xC6120000 + (i & 0xFFFF),
                         static_cast<uint16_t>(i % 7 == 0 ? 23 : 1 + i % 3000));
    whole.Add(p, kT0 + i);
    (i < n / 2 ? first : second).Add(p, kT0 + i);
  }
  first.Merge(second);
  EXPECT_EQ(whole.packets(), n);
  EXPECT_EQ(whole.sources().size(), 50000u);
  EXPECT_EQ(first.sources().size(), whole.sources().size());
  EXPECT_EQ(first.Port(PortProto::kTcp, 23)->sources.size(),
            whole.Port(PortProto::kTcp, 23)->sources.size());
  EXPECT_EQ(first.Port(PortProto::kTcp, 23)->packets, whole.Port(PortProto::kTcp, 23)->packets);
  const SourceStats* a = whole.SourceV4(0x0C000000 + 77);
  const SourceStats* b = first.SourceV4(0x0C000000 + 77);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->packets, b->packets);
  EXPECT_EQ(a->destinations.size(), b->destinations.size());
  EXPECT_EQ(a->ports.size(), b->ports.size());
  EXPECT_EQ(a->first_us, b->first_us);
  EXPECT_EQ(a->last_us, b->last_us);
}

TEST(Summary, MovedWhileABatchIsFoldedInItCountsTheSame) {
  // A full batch is folded in on a thread of the summary's own: moving the
  // summary (as returning a report does) right after waits for it.
  Summary counted;
  const uint32_t n = (1u << 20) + 10;
  for (uint32_t i = 0; i < n; ++i) {
    counted.Add(Syn(0x0E000000 + i % 1000, 0xC6120000 + i % 5000, 23), kT0 + i);
    if (i % 100000 == 0) counted.Add(Syn6(static_cast<uint8_t>(i / 100000), 443), kT0 + i);
  }
  Summary moved(std::move(counted));
  EXPECT_EQ(moved.packets(), n + 11);
  EXPECT_EQ(moved.sources().size(), 1011u);
  EXPECT_EQ(moved.Port(PortProto::kTcp, 23)->packets, n);
  EXPECT_EQ(moved.Port(PortProto::kTcp, 443)->packets, 11u);
  ASSERT_NE(moved.SourceV4(0x0E000000 + 5), nullptr);
  EXPECT_EQ(moved.SourceV4(0x0E000000 + 5)->packets, n / 1000 + (n % 1000 > 5 ? 1 : 0));
  EXPECT_EQ(moved.SourceV4(0x0E000000 + 5)->destinations.size(), 5u);
}

}  // namespace
}  // namespace kizuna::sensor
