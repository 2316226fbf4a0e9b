// Traffic classes and scanner fingerprints: every class, each built-in rule
// on the packets its scanner sends (with the expected value worked out from
// the scanner's source) and on near misses, frames decoded from bytes and
// then matched (so that decoding and the rules agree on byte order), and
// the rule set parser's checks.
#include "sensor/fingerprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "sensor/hex_frames_test_util.h"
#include "sensor/packet.h"

namespace kizuna::sensor {
namespace {

using ::testing::HasSubstr;

// The bit of the rule named `name` in `set`.
uint32_t Bit(const FingerprintSet& set, std::string_view name) {
  for (size_t i = 0; i < set.size(); ++i) {
    if (set.name(i) == name) return uint32_t{1} << i;
  }
  ADD_FAILURE() << "no rule named " << name;
  return 0;
}

constexpr uint32_t kScanner = 0xC6336407;  // 198.51.100.7

Packet Ipv4(uint8_t protocol) {
  Packet p;
  p.ip_version = 4;
  p.protocol = protocol;
  p.has_transport = true;
  p.src4 = kScanner;
  p.dst4 = 0xCB00710A;  // 203.0.113.10
  p.ip_id = 0x0BAD;
  p.ttl = 52;
  p.ip_length = 40;
  return p;
}

Packet Tcp4(uint8_t flags) {
  Packet p = Ipv4(kProtoTcp);
  p.src_port = 47310;
  p.dst_port = 23;
  p.tcp_flags = flags;
  p.tcp_seq = 0x1A2B3C4D;
  p.tcp_window = 14600;
  return p;
}

Packet Icmp4(uint8_t type, uint8_t code = 0) {
  Packet p = Ipv4(kProtoIcmp);
  p.icmp_type = type;
  p.icmp_code = code;
  return p;
}

Packet Ipv6(uint8_t protocol) {
  Packet p;
  p.ip_version = 6;
  p.protocol = protocol;
  p.has_transport = true;
  p.src6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07};
  p.dst6 = {0x20, 0x01, 0x0d, 0xb8, 0xda, 0x4c, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x0a};
  p.ttl = 57;
  p.ip_length = 60;
  return p;
}

Packet Icmp6(uint8_t type) {
  Packet p = Ipv6(kProtoIcmpv6);
  p.icmp_type = type;
  return p;
}

using test_frames::FromHex;

Packet Decoded(LinkType link, const std::vector<uint8_t>& frame) {
  Packet p;
  const DecodeStatus status = Decode(link, frame.data(), frame.size(), &p);
  EXPECT_EQ(status, DecodeStatus::kOk) << DecodeStatusName(status);
  return p;
}

// --- Classes ---------------------------------------------------------------

TEST(Classify, EveryClass) {
  struct Case {
    const char* name;
    Packet packet;
    TrafficClass want;
  };
  Packet fragment = Tcp4(tcp::kSyn);  // a later fragment of a SYN: no header to judge
  fragment.has_transport = false;
  fragment.fragment = true;
  Packet gre = Ipv4(47);
  gre.has_transport = false;
  Packet tcp6_syn = Ipv6(kProtoTcp);
  tcp6_syn.tcp_flags = tcp::kSyn;
  Packet udp6 = Ipv6(kProtoUdp);
  const Case cases[] = {
      {"syn", Tcp4(tcp::kSyn), TrafficClass::kScan},
      {"syn with ECN setup", Tcp4(tcp::kSyn | tcp::kEce | tcp::kCwr), TrafficClass::kScan},
      {"syn over ipv6", tcp6_syn, TrafficClass::kScan},
      // Answers to SYNs someone sent with this address as the source.
      {"syn-ack", Tcp4(tcp::kSyn | tcp::kAck), TrafficClass::kBackscatter},
      {"rst", Tcp4(tcp::kRst), TrafficClass::kBackscatter},
      {"rst-ack", Tcp4(tcp::kRst | tcp::kAck), TrafficClass::kBackscatter},
      {"syn-rst", Tcp4(tcp::kSyn | tcp::kRst), TrafficClass::kBackscatter},
      {"bare ack", Tcp4(tcp::kAck), TrafficClass::kOther},
      {"psh-ack", Tcp4(tcp::kPsh | tcp::kAck), TrafficClass::kOther},
      {"udp", Ipv4(kProtoUdp), TrafficClass::kUdp},
      {"udp over ipv6", udp6, TrafficClass::kUdp},
      {"icmp echo request", Icmp4(8), TrafficClass::kIcmp},
      {"icmp timestamp request", Icmp4(13), TrafficClass::kIcmp},
      {"icmp echo reply", Icmp4(0), TrafficClass::kBackscatter},
      {"icmp port unreachable", Icmp4(3, 3), TrafficClass::kBackscatter},
      {"icmp time exceeded", Icmp4(11), TrafficClass::kBackscatter},
      {"icmpv6 echo request", Icmp6(128), TrafficClass::kIcmp},
      {"icmpv6 neighbor solicitation", Icmp6(135), TrafficClass::kIcmp},
      {"icmpv6 destination unreachable", Icmp6(1), TrafficClass::kBackscatter},
      {"icmpv6 packet too big", Icmp6(2), TrafficClass::kBackscatter},
      {"icmpv6 echo reply", Icmp6(129), TrafficClass::kBackscatter},
      {"later fragment", fragment, TrafficClass::kOther},
      {"gre", gre, TrafficClass::kOther},
      {"nothing decoded", Packet{}, TrafficClass::kOther},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TrafficClassName(Classify(c.packet)), TrafficClassName(c.want)) << c.name;
  }
}

TEST(TrafficClassName, NamesEveryClass) {
  EXPECT_EQ(TrafficClassName(TrafficClass::kScan), "scan");
  EXPECT_EQ(TrafficClassName(TrafficClass::kBackscatter), "backscatter");
  EXPECT_EQ(TrafficClassName(TrafficClass::kUdp), "udp");
  EXPECT_EQ(TrafficClassName(TrafficClass::kIcmp), "icmp");
  EXPECT_EQ(TrafficClassName(TrafficClass::kOther), "other");
}

// --- Built-in rules --------------------------------------------------------

TEST(BuiltIn, IsTheShippedJson) {
  const FingerprintSet& set = FingerprintSet::BuiltIn();
  EXPECT_EQ(set.version(), "kizuna-fingerprints-1");
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set.name(0), "mirai");
  EXPECT_EQ(set.name(1), "zmap");
  EXPECT_EQ(set.name(2), "masscan");
  auto again = FingerprintSet::Parse(FingerprintSet::BuiltInJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->size(), set.size());
  // Ordinary traffic matches nothing.
  EXPECT_EQ(set.Match(Tcp4(tcp::kSyn)), 0u);
  EXPECT_EQ(set.Match(Ipv4(kProtoUdp)), 0u);
  EXPECT_EQ(set.Match(Packet{}), 0u);
}

// Mirai's scanner.c: tcph->seq = iph->daddr. Both are the address's bytes
// as sent, so the sequence number read as a number is the address read as
// one: probing 62.210.75.75 (3e d2 4b 4b), seq = 0x3ED24B4B = 1053969227.
TEST(BuiltIn, MiraiSequenceNumberIsTheDestination) {
  const FingerprintSet& set = FingerprintSet::BuiltIn();
  Packet p = Tcp4(tcp::kSyn);
  p.dst4 = 0x3ED24B4B;  // 62.210.75.75
  p.tcp_seq = 1053969227;
  p.dst_port = 23;
  p.ip_id = 0x9A0F;  // random in Mirai; neither ZMap's nor masscan's value here
  EXPECT_EQ(set.Match(p), Bit(set, "mirai"));
  p.dst_port = 37215;  // the Huawei variant: the port does not matter
  EXPECT_EQ(set.Match(p), Bit(set, "mirai"));

  Packet off_by_one = p;
  off_by_one.tcp_seq = 1053969228;
  EXPECT_EQ(set.Match(off_by_one), 0u);
  // Byte-swapped (4b 4b d2 3e): a decoder or rule in the wrong order.
  Packet swapped = p;
  swapped.tcp_seq = 0x4B4BD23E;
  EXPECT_EQ(set.Match(swapped), 0u);
  // The SYN-ACK of a host answering such a SYN is not Mirai's probe.
  Packet syn_ack = p;
  syn_ack.tcp_flags = tcp::kSyn | tcp::kAck;
  EXPECT_EQ(set.Match(syn_ack), 0u);
  Packet udp = p;
  udp.protocol = kProtoUdp;
  udp.tcp_flags = 0;
  EXPECT_EQ(set.Match(udp), 0u);
}

// ZMap before 4.1: iph->ip_id = htons(54321) (d4 31) on every probe module.
TEST(BuiltIn, ZmapIpIdentificationIs54321OnIpv4) {
  const FingerprintSet& set = FingerprintSet::BuiltIn();
  Packet syn = Tcp4(tcp::kSyn);
  Packet udp = Ipv4(kProtoUdp);
  udp.dst_port = 53;
  Packet echo = Icmp4(8);
  for (Packet* p : {&syn, &udp, &echo}) {
    p->ip_id = 54321;
    EXPECT_EQ(set.Match(*p), Bit(set, "zmap")) << int{p->protocol};
    p->ip_id = 54320;
    EXPECT_EQ(set.Match(*p), 0u) << int{p->protocol};
    p->ip_id = 0x31D4;  // byte-swapped
    EXPECT_EQ(set.Match(*p), 0u) << int{p->protocol};
  }
  // IPv6 has no identification field: never ZMap by this rule, whatever the
  // field holds.
  Packet v6 = Ipv6(kProtoTcp);
  v6.tcp_flags = tcp::kSyn;
  v6.ip_id = 54321;
  EXPECT_EQ(set.Match(v6) & Bit(set, "zmap"), 0u);
}

// masscan's templ-pkt.c: ip_id = ip_them ^ port_them ^ seqno, low 16 bits.
// Probing 203.0.113.10:443 with seq 0x5F3A91C4:
//   0xCB00710A ^ 0x000001BB ^ 0x5F3A91C4 = 0x943AE175, so ip_id = 0xE175 = 57717.
TEST(BuiltIn, MasscanIpIdentificationIsDestinationPortAndSequenceXored) {
  const FingerprintSet& set = FingerprintSet::BuiltIn();
  Packet p = Tcp4(tcp::kSyn);
  p.dst4 = 0xCB00710A;
  p.dst_port = 443;
  p.tcp_seq = 0x5F3A91C4;
  p.tcp_window = 1024;
  p.ip_id = 57717;
  EXPECT_EQ(set.Match(p), Bit(set, "masscan"));

  Packet off_by_one = p;
  off_by_one.ip_id = 57718;
  EXPECT_EQ(set.Match(off_by_one), 0u);
  Packet other_port = p;  // the same ip_id, another port: another XOR
  other_port.dst_port = 80;
  EXPECT_EQ(set.Match(other_port), 0u);
  // masscan's RSTs and a host's SYN-ACKs are not its probes.
  for (uint8_t flags : {uint8_t{tcp::kSyn | tcp::kAck}, tcp::kRst, tcp::kAck}) {
    Packet not_syn = p;
    not_syn.tcp_flags = flags;
    EXPECT_EQ(set.Match(not_syn), 0u) << int{flags};
  }
}

// Two rules can hold at once: each has its bit.
TEST(BuiltIn, MatchesEveryRuleThatHolds) {
  const FingerprintSet& set = FingerprintSet::BuiltIn();
  // seq = dst (Mirai), ip_id = 54321 (ZMap).
  Packet p = Tcp4(tcp::kSyn);
  p.dst4 = 0x3ED24B4B;
  p.tcp_seq = 0x3ED24B4B;
  p.ip_id = 54321;
  EXPECT_EQ(set.Match(p), Bit(set, "mirai") | Bit(set, "zmap"));
  // And masscan too: dst ^ seq cancel out, so ip_id must equal the port.
  p.dst_port = 54321;
  EXPECT_EQ(set.Match(p), Bit(set, "mirai") | Bit(set, "zmap") | Bit(set, "masscan"));
}

// Mirai never scans IPv6, and the masscan rule reads the IPv4
// identification: on IPv6, where dst4 and ip_id are 0, neither may hold.
// (An IPv6 SYN with seq 0 would "equal" dst4; one whose seq's low 16 bits
// equal its port would satisfy 0 == dst_port ^ seq.)
TEST(BuiltIn, IPv4OnlyRulesIgnoreIpv6) {
  const FingerprintSet& set = FingerprintSet::BuiltIn();
  const std::vector<uint8_t> seq_zero = FromHex(
      "60 000000 0014 06 40"                 // IPv6: payload 20, TCP, hop limit 64
      "20010db8 00000000 00000000 00000007"  // 2001:db8::7
      "20010db8 da4c0000 00000000 0000010a"  // 2001:db8:da4c::10a
      "d21e 0050 00000000 00000000"          // TCP: 53790 -> 80, seq 0, ack 0
      "50 02 faf0 0000 0000");               // 5 words, SYN, window 64240
  const Packet p = Decoded(LinkType::kIpv6, seq_zero);
  EXPECT_EQ(set.Match(p) & Bit(set, "mirai"), 0u) << "an IPv6 SYN with seq 0 is not Mirai";
  // The same with seq 0x12340050: 0x0050 ^ 0x0050 = 0 = the (absent) ip_id.
  std::vector<uint8_t> low_bits_port = seq_zero;
  low_bits_port[40 + 4] = 0x12;
  low_bits_port[40 + 5] = 0x34;
  low_bits_port[40 + 6] = 0x00;
  low_bits_port[40 + 7] = 0x50;
  const Packet q = Decoded(LinkType::kIpv6, low_bits_port);
  EXPECT_EQ(q.tcp_seq, 0x12340050u);
  EXPECT_EQ(set.Match(q) & Bit(set, "masscan"), 0u)
      << "an IPv6 SYN whose seq's low 16 bits equal its port is not masscan";
}

// --- From bytes to rules ---------------------------------------------------

// Frames as the scanners send them, decoded and matched: the decoder's byte
// order and the rules' must agree.
TEST(BuiltIn, MatchesFramesDecodedFromBytes) {
  const FingerprintSet& set = FingerprintSet::BuiltIn();
  // Mirai probing 62.210.75.75:23 from 198.51.100.7.
  const std::vector<uint8_t> mirai = FromHex(
      "001b213a4f5e 525400123456 0800"   // Ethernet
      "45 00 0028 9a0f 0000 40 06 0000"  // IPv4: total 40, id 0x9A0F, TTL 64, TCP
      "c6336407 3ed24b4b"                // 198.51.100.7 -> 62.210.75.75
      "d21e 0017 3ed24b4b 00000000"      // TCP: 53790 -> 23, seq = the destination
      "50 02 8f3c 0000 0000"             // 5 words, SYN, window 36668
      "000000000000");                   // Ethernet padding to 60 bytes
  Packet p = Decoded(LinkType::kEthernet, mirai);
  EXPECT_EQ(p.tcp_seq, 1053969227u);
  EXPECT_EQ(Classify(p), TrafficClass::kScan);
  EXPECT_EQ(set.Match(p), Bit(set, "mirai"));

  // masscan probing 203.0.113.10:443 (the worked example above).
  const std::vector<uint8_t> masscan = FromHex(
      "001b213a4f5e 525400123456 0800"   // Ethernet
      "45 00 0028 e175 0000 ff 06 0000"  // IPv4: total 40, id 0xE175, TTL 255, TCP
      "c6336407 cb00710a"                // 198.51.100.7 -> 203.0.113.10
      "ee48 01bb 5f3a91c4 00000000"      // TCP: 61000 -> 443, seq 0x5F3A91C4
      "50 02 0400 0000 0000"             // 5 words, SYN, window 1024
      "000000000000");                   // Ethernet padding to 60 bytes
  p = Decoded(LinkType::kEthernet, masscan);
  EXPECT_EQ(p.ip_id, 57717);
  EXPECT_EQ(set.Match(p), Bit(set, "masscan"));

  // ZMap's UDP probe to 203.0.113.10:53, over raw IP.
  const std::vector<uint8_t> zmap = FromHex(
      "45 00 001c d431 0000 ff 11 0000"  // IPv4: total 28, id 54321, TTL 255, UDP
      "c6336407 cb00710a"                // 198.51.100.7 -> 203.0.113.10
      "a410 0035 0008 0000");            // UDP: 42000 -> 53
  p = Decoded(LinkType::kRaw, zmap);
  EXPECT_EQ(Classify(p), TrafficClass::kUdp);
  EXPECT_EQ(set.Match(p), Bit(set, "zmap"));
}

// --- Parsing ---------------------------------------------------------------

TEST(FingerprintSet, ParsesAndMatchesACustomRuleSet) {
  // A partner's rule: SYNs with window 1024 and exactly 4 bytes of options.
  auto set = FingerprintSet::Parse(R"({
    "version": "partner-2024-06",
    "fingerprints": [
      {"name": "win1024-mss", "description": "a scanner with a fixed window",
       "equal": [["protocol", 6], ["tcp_window", 1024], ["tcp_options_length", 4]]}
    ]
  })");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->version(), "partner-2024-06");
  ASSERT_EQ(set->size(), 1u);
  EXPECT_EQ(set->name(0), "win1024-mss");

  Packet p = Tcp4(tcp::kSyn);
  p.tcp_window = 1024;
  p.tcp_options_length = 4;
  EXPECT_EQ(set->Match(p), 1u);
  p.tcp_window = 1025;
  EXPECT_EQ(set->Match(p), 0u);
  p.tcp_window = 1024;
  p.tcp_options_length = 0;
  EXPECT_EQ(set->Match(p), 0u);
  p.tcp_options_length = 4;
  p.protocol = kProtoUdp;
  EXPECT_EQ(set->Match(p), 0u);
}

TEST(FingerprintSet, RejectsBadRuleSets) {
  auto rule = [](std::string equal, std::string name = "r") {
    return R"({"version": "1", "fingerprints": [{"name": ")" + name + R"(", "equal": )" + equal +
           "}]}";
  };
  auto many_rules = [](int n) {
    std::string rules;
    for (int i = 0; i < n; ++i) {
      if (i > 0) rules += ",";
      rules += R"({"name": "r)" + std::to_string(i) + R"(", "equal": [["dst_port", 1]]})";
    }
    return R"({"version": "1", "fingerprints": [)" + rules + "]}";
  };
  auto equalities = [](int n) {
    std::string list = "[";
    for (int i = 0; i < n; ++i) list += std::string(i > 0 ? "," : "") + R"(["ttl", 64])";
    return list + "]";
  };
  struct Case {
    const char* name;
    std::string json;
    std::vector<std::string> words;  // each must be in the message
  };
  const Case cases[] = {
      {"not JSON", "mirai: seq == dst", {"JSON"}},
      {"a JSON array", "[]", {"JSON object"}},
      {"missing version", R"({"fingerprints": []})", {"version"}},
      {"version not a string", R"({"version": 1, "fingerprints": []})", {"version"}},
      {"missing fingerprints", R"({"version": "1"})", {"fingerprints"}},
      {"unknown field on the left", rule(R"([["ip_ident", 1]])"), {"unknown field", "ip_ident"}},
      {"unknown field in an XOR",
       rule(R"([["ip_id", "dst4 ^ dst_prot ^ tcp_seq"]])"),
       {"unknown field", "dst_prot"}},
      {"empty term in an XOR", rule(R"([["ip_id", "dst4 ^ "]])"), {"unknown field"}},
      {"constant wider than the field", rule(R"([["ip_id", 70000]])"), {"ip_id", "70000"}},
      {"constant wider than 8 bits", rule(R"([["ttl", 256]])"), {"ttl", "256"}},
      {"negative constant", rule(R"([["ttl", -1]])"), {"ttl", "cannot equal"}},
      {"fractional constant", rule(R"([["ttl", 64.5]])"), {"number"}},
      {"more than 32 rules", many_rules(33), {"32"}},
      {"duplicate names",
       R"({"version": "1", "fingerprints": [{"name": "x", "equal": [["ttl", 1]]},
                                            {"name": "x", "equal": [["ttl", 2]]}]})",
       {"two rules", "x"}},
      {"empty equal", rule("[]"), {"equal"}},
      {"missing equal", R"({"version": "1", "fingerprints": [{"name": "r"}]})", {"equal"}},
      {"17 equalities", rule(equalities(17)), {"equal"}},
      {"equality of three", rule(R"([["ttl", 1, 2]])"), {"equality"}},
      {"missing name", R"({"version": "1", "fingerprints": [{"equal": [["ttl", 1]]}]})", {"name"}},
      {"name too long", rule(R"([["ttl", 1]])", std::string(65, 'n')), {"name"}},
      {"more than 8 XOR terms",
       rule(R"([["ip_id", "dst4^dst4^dst4^dst4^dst4^dst4^dst4^dst4^dst4"]])"),
       {"8 terms"}},
  };
  for (const Case& c : cases) {
    auto set = FingerprintSet::Parse(c.json);
    ASSERT_FALSE(set.ok()) << c.name;
    EXPECT_EQ(set.status().code(), Code::kInvalidArgument) << c.name;
    for (const std::string& word : c.words) {
      EXPECT_THAT(set.status().message(), HasSubstr(word)) << c.name;
    }
  }
  // The limits themselves are accepted.
  EXPECT_TRUE(FingerprintSet::Parse(many_rules(32)).ok());
  EXPECT_TRUE(FingerprintSet::Parse(rule(equalities(16))).ok());
  EXPECT_TRUE(FingerprintSet::Parse(rule(R"([["ip_id", 65535], ["ttl", 255], ["ttl", 0]])")).ok());
  EXPECT_TRUE(
      FingerprintSet::Parse(rule(R"([["ip_id", "dst4^dst4^dst4^dst4^dst4^dst4^dst4^dst4"]])"))
          .ok());
}

// A rule author who writes -1 should read -1 in the error, not -1 taken as
// an unsigned 64-bit number.
TEST(FingerprintSet, NegativeConstantIsQuotedAsWritten) {
  auto set = FingerprintSet::Parse(
      R"({"version": "1", "fingerprints": [{"name": "r", "equal": [["ttl", -1]]}]})");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(), HasSubstr("-1"));
  EXPECT_THAT(set.status().message(), ::testing::Not(HasSubstr("18446744073709551615")));
}

TEST(FingerprintSet, RuleThirtyTwoHasTheTopBit) {
  std::string rules;
  for (int i = 0; i < 32; ++i) {
    if (i > 0) rules += ",";
    rules += R"({"name": "port)" + std::to_string(i) + R"(", "equal": [["dst_port", )" +
             std::to_string(i) + "]]}";
  }
  auto set = FingerprintSet::Parse(R"({"version": "1", "fingerprints": [)" + rules + "]}");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Packet p = Tcp4(tcp::kSyn);
  p.dst_port = 31;
  EXPECT_EQ(set->Match(p), uint32_t{1} << 31);
  p.dst_port = 0;
  EXPECT_EQ(set->Match(p), 1u);
}

// A comparison is over the left field's width: a 16-bit ip_id equals the
// low 16 bits of a 32-bit XOR; a 32-bit left side compares all 32.
TEST(FingerprintSet, LeftFieldWidthMasksTheXor) {
  auto set = FingerprintSet::Parse(R"({"version": "1", "fingerprints": [
    {"name": "id", "equal": [["ip_id", " dst4^tcp_seq "]]},
    {"name": "seq", "equal": [["tcp_seq", "ip_id"]]}
  ]})");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  Packet p = Tcp4(tcp::kSyn);
  p.dst4 = 0xABCD444C;
  p.tcp_seq = 0x00005678;  // dst4 ^ seq = 0xABCD1234
  p.ip_id = 0x1234;
  EXPECT_EQ(set->Match(p), 1u);
  p.ip_id = 0x1235;
  EXPECT_EQ(set->Match(p), 0u);

  // tcp_seq == ip_id: 0x00001234 equals 0x1234; 0x00011234 does not (while
  // ip_id still equals its low 16 bits).
  p.dst4 = 0;
  p.ip_id = 0x1234;
  p.tcp_seq = 0x00001234;
  EXPECT_EQ(set->Match(p), 1u | 2u);
  p.tcp_seq = 0x00011234;
  EXPECT_EQ(set->Match(p), 1u);
}

}  // namespace
}  // namespace kizuna::sensor
