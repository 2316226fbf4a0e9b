// Decoding darknet frames: every link type, IPv4 and IPv6 with their
// options, fragments and extension headers, each transport, damaged and
// cut-short frames. Frames are built byte by byte by the helpers below, in
// network byte order, so that a decoder reading a field at the wrong offset
// or in the wrong order sees a different value; two frames are spelt out as
// hex dumps, so that the helpers cannot share a mistake with the decoder.
// The last tests decode every prefix of valid frames and random bytes, each
// in a buffer of exactly its size so that ASan (KIZUNA_SANITIZE) catches
// any read past `caplen`.
#include "sensor/packet.h"
#include "sensor/hex_frames_test_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace kizuna::sensor {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88A8;
constexpr uint16_t kEtherQinQOld = 0x9100;

constexpr uint8_t kProtoGre = 47;
constexpr uint8_t kIpv6HopByHop = 0, kIpv6Routing = 43, kIpv6Fragment = 44, kIpv6Ah = 51,
                  kIpv6NoNext = 59, kIpv6DestOptions = 60;

// Documentation addresses: a scanner and a darknet address it probes.
constexpr uint32_t kSrc4 = 0xC6336407;  // 198.51.100.7
constexpr uint32_t kDst4 = 0xCB00710A;  // 203.0.113.10
const Ipv6Address kSrc6 = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07};  // 2001:db8::7
const Ipv6Address kDst6 = {0x20, 0x01, 0x0d, 0xb8, 0xda, 0x4c, 0x00, 0x00,
                           0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a};  // 2001:db8:da4c::10a

void Append16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}

void Append32(Bytes* b, uint32_t v) {
  Append16(b, static_cast<uint16_t>(v >> 16));
  Append16(b, static_cast<uint16_t>(v));
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// --- Network layer ---------------------------------------------------------

struct Ipv4Fields {
  uint8_t version = 4;
  uint8_t ihl = 5;                               // header length in 32-bit words, as written
  std::optional<uint16_t> total = std::nullopt;  // default: header + payload
  uint16_t id = 0x1234;
  uint16_t flags_offset = 0;  // DF 0x4000, MF 0x2000, offset in 8-byte units
  uint8_t ttl = 0xF1;
  uint8_t protocol = kProtoTcp;
  uint32_t src = kSrc4, dst = kDst4;
};

// An IPv4 header (with ihl - 5 words of options) followed by `payload`. The
// first option is a router alert (94 04 00 00): a decoder that ignored IHL
// would read it as ports 0x9404 and 0.
Bytes Ipv4(const Ipv4Fields& f, const Bytes& payload) {
  const size_t header = f.ihl < 5 ? 20 : size_t{f.ihl} * 4;
  Bytes b;
  b.push_back(static_cast<uint8_t>(f.version << 4 | (f.ihl & 0x0F)));
  b.push_back(0);  // DSCP / ECN
  Append16(&b, f.total.value_or(static_cast<uint16_t>(header + payload.size())));
  Append16(&b, f.id);
  Append16(&b, f.flags_offset);
  b.push_back(f.ttl);
  b.push_back(f.protocol);
  Append16(&b, 0);  // checksum: not the decoder's business
  Append32(&b, f.src);
  Append32(&b, f.dst);
  for (size_t at = 20; at < header; at += 4) {
    if (at == 20) {
      b.insert(b.end(), {0x94, 0x04, 0x00, 0x00});
    } else {
      b.insert(b.end(), {0x01, 0x01, 0x01, 0x01});  // no-ops
    }
  }
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

struct Ipv6Fields {
  uint8_t version = 6;
  uint8_t next = kProtoTcp;
  uint8_t hop_limit = 0xF2;
  std::optional<uint16_t> payload_length = std::nullopt;  // default: the payload's size
  Ipv6Address src = kSrc6, dst = kDst6;
};

Bytes Ipv6(const Ipv6Fields& f, const Bytes& payload) {
  Bytes b;
  // Traffic class 0, flow label 0xABCDE: non-zero so that a misplaced read
  // of the payload length or next header shows.
  b.push_back(static_cast<uint8_t>(f.version << 4));
  b.insert(b.end(), {0x0A, 0xBC, 0xDE});
  Append16(&b, f.payload_length.value_or(static_cast<uint16_t>(payload.size())));
  b.push_back(f.next);
  b.push_back(f.hop_limit);
  b.insert(b.end(), f.src.begin(), f.src.end());
  b.insert(b.end(), f.dst.begin(), f.dst.end());
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// A hop-by-hop, routing or destination options header `units` * 8 bytes
// long (its length field counts the 8-byte units after the first), padded
// with one PadN option.
Bytes Ipv6Options(uint8_t next, size_t units) {
  Bytes b = {next, static_cast<uint8_t>(units - 1)};
  const size_t pad = units * 8 - 4;
  b.push_back(0x01);  // PadN
  b.push_back(static_cast<uint8_t>(pad));
  b.resize(units * 8, 0);
  return b;
}

// A fragment header: offset in 8-byte units, `more` the M flag.
Bytes Ipv6FragmentHeader(uint8_t next, uint16_t offset, bool more) {
  Bytes b = {next, 0};
  Append16(&b, static_cast<uint16_t>(offset << 3 | (more ? 1 : 0)));
  Append32(&b, 0xCAFEF00D);  // identification
  return b;
}

// An authentication header with a 12-byte ICV: 24 bytes, its length field
// 24 / 4 - 2 = 4 (4-byte units, unlike the other extension headers).
Bytes Ipv6AuthenticationHeader(uint8_t next) {
  Bytes b = {next, 4, 0, 0};
  Append32(&b, 0x00000100);  // SPI
  Append32(&b, 7);           // sequence number
  b.resize(24, 0xA5);        // ICV
  return b;
}

// --- Transport layer -------------------------------------------------------

struct TcpFields {
  uint16_t src_port = 0xA1B2, dst_port = 23;
  uint32_t seq = 0xDEADBEEF, ack = 0x01234567;
  uint8_t data_offset = 5;  // header length in 32-bit words, as written
  uint8_t flags = tcp::kSyn;
  uint16_t window = 0x7210;
};

// A TCP header with data_offset - 5 words of options (MSS 1460, then no-ops).
Bytes Tcp(const TcpFields& f) {
  Bytes b;
  Append16(&b, f.src_port);
  Append16(&b, f.dst_port);
  Append32(&b, f.seq);
  Append32(&b, f.ack);
  b.push_back(static_cast<uint8_t>(f.data_offset << 4));
  b.push_back(f.flags);
  Append16(&b, f.window);
  Append16(&b, 0);  // checksum
  Append16(&b, 0);  // urgent pointer
  for (size_t at = 20; at < size_t{f.data_offset} * 4; at += 4) {
    if (at == 20) {
      b.insert(b.end(), {0x02, 0x04, 0x05, 0xB4});
    } else {
      b.insert(b.end(), {0x01, 0x01, 0x01, 0x01});
    }
  }
  return b;
}

Bytes Udp(uint16_t src_port, uint16_t dst_port, const Bytes& payload = {}) {
  Bytes b;
  Append16(&b, src_port);
  Append16(&b, dst_port);
  Append16(&b, static_cast<uint16_t>(8 + payload.size()));
  Append16(&b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// ICMP and ICMPv6 share the first 8 bytes' layout.
Bytes Icmp(uint8_t type, uint8_t code) {
  Bytes b = {type, code, 0, 0};
  Append32(&b, 0x4D2A0001);  // identifier, sequence number (echo)
  return b;
}

// --- Link layer ------------------------------------------------------------

// Ethernet with a VLAN tag per entry of `tags` (its TPID; the TCI is a
// VLAN id), then `ethertype`.
Bytes Ethernet(uint16_t ethertype, std::initializer_list<uint16_t> tags = {}) {
  Bytes b = {0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x5e, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint16_t vlan = 100;
  for (uint16_t tpid : tags) {
    Append16(&b, tpid);
    Append16(&b, vlan++);
  }
  Append16(&b, ethertype);
  return b;
}

// Linux cooked capture v1: packet type, ARPHRD type, address length,
// 8 address bytes, then the protocol at offset 14.
Bytes Sll(uint16_t protocol) {
  Bytes b;
  Append16(&b, 0);  // addressed to us
  Append16(&b, 1);  // ARPHRD_ETHER
  Append16(&b, 6);
  b.insert(b.end(), {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x00, 0x00});
  Append16(&b, protocol);
  return b;
}

// Linux cooked capture v2: the protocol at offset 0, 20 bytes in all. The
// address bytes at 14..15 spell 08 00, so that a decoder reading v2 like
// v1 sees IPv4 where there is none.
Bytes Sll2(uint16_t protocol) {
  Bytes b;
  Append16(&b, protocol);
  Append16(&b, 0);  // reserved
  Append32(&b, 3);  // interface index
  Append16(&b, 1);  // ARPHRD_ETHER
  b.push_back(0);   // addressed to us
  b.push_back(6);
  b.insert(b.end(), {0x52, 0x54, 0x08, 0x00, 0x34, 0x56, 0x00, 0x00});
  return b;
}

// DLT_NULL: the address family in the capturing host's byte order (here
// little-endian); LOOP: in network byte order.
Bytes Null(uint32_t family) {
  return {static_cast<uint8_t>(family), static_cast<uint8_t>(family >> 8),
          static_cast<uint8_t>(family >> 16), static_cast<uint8_t>(family >> 24)};
}
Bytes Loop(uint32_t family) {
  Bytes b;
  Append32(&b, family);
  return b;
}

// A link type with the header that carries an IP packet of a version.
struct Link {
  const char* name;
  LinkType type;
  Bytes (*header)(int ip_version);
  bool carries_ipv4;
  bool carries_ipv6;
};

uint16_t EtherType(int ip_version) { return ip_version == 4 ? kEtherIpv4 : kEtherIpv6; }

const std::vector<Link>& Links() {
  static const std::vector<Link> links = {
      {"ethernet", LinkType::kEthernet, [](int v) { return Ethernet(EtherType(v)); }, true, true},
      {"ethernet_802.1q", LinkType::kEthernet,
       [](int v) { return Ethernet(EtherType(v), {kEtherVlan}); }, true, true},
      {"ethernet_qinq", LinkType::kEthernet,
       [](int v) {
         return Ethernet(EtherType(v), {kEtherQinQ, kEtherVlan});
       },
       true, true},
      {"ethernet_qinq_9100", LinkType::kEthernet,
       [](int v) {
         return Ethernet(EtherType(v), {kEtherQinQOld, kEtherVlan});
       },
       true, true},
      {"linux_sll", LinkType::kLinuxSll, [](int v) { return Sll(EtherType(v)); }, true, true},
      {"linux_sll2", LinkType::kLinuxSll2, [](int v) { return Sll2(EtherType(v)); }, true, true},
      {"raw", LinkType::kRaw, [](int) { return Bytes{}; }, true, true},
      {"ipv4", LinkType::kIpv4, [](int) { return Bytes{}; }, true, false},
      {"ipv6", LinkType::kIpv6, [](int) { return Bytes{}; }, false, true},
      // AF_INET is 2 everywhere; AF_INET6 is 30 on macOS, 24 on OpenBSD.
      {"null", LinkType::kNull, [](int v) { return Null(v == 4 ? 2 : 30); }, true, true},
      {"loop", LinkType::kLoop, [](int v) { return Loop(v == 4 ? 2 : 24); }, true, true},
  };
  return links;
}

bool Carries(const Link& link, int ip_version) {
  return ip_version == 4 ? link.carries_ipv4 : link.carries_ipv6;
}

// --- Checking --------------------------------------------------------------

// Every field of a Packet, to compare two at once (and print both).
auto Fields(const Packet& p) {
  return std::make_tuple(p.ip_version, p.protocol, p.has_transport, p.fragment, p.src4, p.dst4,
                         p.src6, p.dst6, p.ip_id, p.ttl, p.ip_length, p.src_port, p.dst_port,
                         p.tcp_flags, p.tcp_seq, p.tcp_ack, p.tcp_window, p.tcp_options_length,
                         p.icmp_type, p.icmp_code);
}

using test_frames::FromHex;

std::string Hex(const Bytes& b) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 0x0F];
  }
  return s;
}

// Decodes `frame` from a heap buffer of exactly its size.
DecodeStatus DecodeExact(LinkType link, const Bytes& frame, Packet* out) {
  const Bytes copy(frame);
  return Decode(link, copy.data(), copy.size(), out);
}

// Decode (with its fast path) and DecodeGeneral agree on `frame` (in a
// buffer of exactly its size): the same status, fields and cut flag.
void ExpectSameAsGeneral(LinkType link, const Bytes& frame, const std::string& name) {
  const Bytes copy(frame);
  Packet fast, general;
  fast.src4 = general.src4 = 0x01020304;  // both must reset what they are given
  const DecodeStatus fast_status = Decode(link, copy.data(), copy.size(), &fast);
  const DecodeStatus general_status = DecodeGeneral(link, copy.data(), copy.size(), &general);
  ASSERT_EQ(fast_status, general_status) << name << ": " << Hex(frame);
  ASSERT_EQ(Fields(fast), Fields(general)) << name << ": " << Hex(frame);
  ASSERT_EQ(fast.cut, general.cut) << name << ": " << Hex(frame);
}

// The SYN every link type carries below, and what decoding it must give.
Bytes SynIpv4() { return Ipv4({}, Tcp({.data_offset = 6})); }
Bytes SynIpv6() { return Ipv6({}, Tcp({.data_offset = 6})); }

Packet ExpectedSyn(int ip_version) {
  Packet p;
  p.ip_version = static_cast<uint8_t>(ip_version);
  p.protocol = kProtoTcp;
  p.has_transport = true;
  if (ip_version == 4) {
    p.src4 = kSrc4;
    p.dst4 = kDst4;
    p.ip_id = 0x1234;
    p.ttl = 0xF1;
    p.ip_length = 20 + 24;
  } else {
    p.src6 = kSrc6;
    p.dst6 = kDst6;
    p.ttl = 0xF2;
    p.ip_length = 40 + 24;
  }
  p.src_port = 0xA1B2;
  p.dst_port = 23;
  p.tcp_flags = tcp::kSyn;
  p.tcp_seq = 0xDEADBEEF;
  p.tcp_ack = 0x01234567;
  p.tcp_window = 0x7210;
  p.tcp_options_length = 4;
  return p;
}

// --- Link types ------------------------------------------------------------

TEST(Decode, EveryLinkTypeCarriesTheSameSyn) {
  for (const Link& link : Links()) {
    for (int version : {4, 6}) {
      if (!Carries(link, version)) continue;
      const Bytes frame = Cat({link.header(version), version == 4 ? SynIpv4() : SynIpv6()});
      Packet p;
      EXPECT_EQ(DecodeExact(link.type, frame, &p), DecodeStatus::kOk)
          << link.name << " IPv" << version;
      EXPECT_EQ(Fields(p), Fields(ExpectedSyn(version))) << link.name << " IPv" << version;
    }
  }
}

// The helpers above write fields as the decoder reads them; these frames are
// spelt out byte by byte, so that the two cannot share a byte-order mistake.
TEST(Decode, EveryIntegerFieldIsInHostByteOrder) {
  const Bytes frame = FromHex(
      "001b213a4f5e 525400123456 0800"   // Ethernet
      "46 00 0030 abcd 4000 37 06 0000"  // IPv4: IHL 6, total 48, id, DF, TTL, TCP
      "c6336407 cb00710a 94040000"       // 198.51.100.7 -> 203.0.113.10, router alert
      "c350 01bb 5f3a91c4 0a0b0c0d"      // TCP: 50000 -> 443, seq, ack
      "60 c2 7210 0000 0000 020405b4");  // 6 words, SYN|ECE|CWR, window, MSS 1460
  Packet p;
  ASSERT_EQ(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kOk);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.ip_length, 48);
  EXPECT_EQ(p.ip_id, 0xABCD);
  EXPECT_EQ(p.ttl, 0x37);
  EXPECT_EQ(p.protocol, kProtoTcp);
  EXPECT_EQ(p.src4, 0xC6336407u);
  EXPECT_EQ(p.dst4, 0xCB00710Au);
  EXPECT_EQ(p.src_port, 50000);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.tcp_seq, 0x5F3A91C4u);
  EXPECT_EQ(p.tcp_ack, 0x0A0B0C0Du);
  EXPECT_EQ(p.tcp_flags, tcp::kSyn | tcp::kEce | tcp::kCwr);
  EXPECT_EQ(p.tcp_window, 29200);
  EXPECT_EQ(p.tcp_options_length, 4);

  const Bytes frame6 = FromHex(
      "001b213a4f5e 525400123456 86dd"       // Ethernet
      "60 0abcde 0008 11 39"                 // IPv6: payload 8, UDP, hop limit 0x39
      "20010db8 00000000 00000000 00000007"  // 2001:db8::7
      "20010db8 da4c0000 00000000 0000010a"  // 2001:db8:da4c::10a
      "14e9 076c 0008 0000");                // UDP: 5353 -> 1900
  ASSERT_EQ(DecodeExact(LinkType::kEthernet, frame6, &p), DecodeStatus::kOk);
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.ip_length, 48);
  EXPECT_EQ(p.ttl, 0x39);
  EXPECT_EQ(p.protocol, kProtoUdp);
  EXPECT_EQ(p.src6, kSrc6);
  EXPECT_EQ(p.dst6, kDst6);
  EXPECT_EQ(p.src_port, 5353);
  EXPECT_EQ(p.dst_port, 1900);
}

TEST(Decode, LinuxCookedV1ReadsTheProtocolAtOffset14) {
  Packet p;
  EXPECT_EQ(DecodeExact(LinkType::kLinuxSll, Cat({Sll(kEtherIpv4), SynIpv4()}), &p),
            DecodeStatus::kOk);
  EXPECT_EQ(Fields(p), Fields(ExpectedSyn(4)));
  EXPECT_EQ(DecodeExact(LinkType::kLinuxSll, Cat({Sll(kEtherArp), Bytes(28, 0)}), &p),
            DecodeStatus::kNotIp);
  EXPECT_EQ(p.ip_version, 0);
}

TEST(Decode, LinuxCookedV2ReadsTheProtocolAtOffset0) {
  // Sll2's address bytes at 14..15 read 08 00: only the protocol at offset 0
  // says ARP.
  Packet p;
  EXPECT_EQ(DecodeExact(LinkType::kLinuxSll2, Cat({Sll2(kEtherArp), Bytes(28, 0)}), &p),
            DecodeStatus::kNotIp);
  EXPECT_EQ(DecodeExact(LinkType::kLinuxSll2, Cat({Sll2(kEtherIpv6), SynIpv6()}), &p),
            DecodeStatus::kOk);
  EXPECT_EQ(Fields(p), Fields(ExpectedSyn(6)));
}

TEST(Decode, NonIpFramesAreNotIp) {
  struct Case {
    const char* name;
    LinkType link;
    Bytes frame;
  };
  const Bytes arp = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
                     0x00, 0x12, 0x34, 0x56, 0xc6, 0x33, 0x64, 0x07, 0x00, 0x00,
                     0x00, 0x00, 0x00, 0x00, 0xcb, 0x00, 0x71, 0x0a};
  const Case cases[] = {
      {"arp", LinkType::kEthernet, Cat({Ethernet(kEtherArp), arp})},
      {"arp in a vlan", LinkType::kEthernet, Cat({Ethernet(kEtherArp, {kEtherVlan}), arp})},
      {"arp in qinq", LinkType::kEthernet,
       Cat({Ethernet(kEtherArp, {kEtherQinQ, kEtherVlan}), arp})},
      // LLDP, whose payload starts with a 4 nibble like IPv4.
      {"lldp", LinkType::kEthernet, Cat({Ethernet(0x88CC), SynIpv4()})},
      // An 802.3 length field (a frame of 46 bytes) where the type would be.
      {"802.3 length", LinkType::kEthernet, Cat({Ethernet(46), SynIpv4()})},
      {"arp sll", LinkType::kLinuxSll, Cat({Sll(kEtherArp), arp})},
      {"arp sll2", LinkType::kLinuxSll2, Cat({Sll2(kEtherArp), arp})},
  };
  for (const Case& c : cases) {
    Packet p;
    EXPECT_EQ(DecodeExact(c.link, c.frame, &p), DecodeStatus::kNotIp) << c.name;
    EXPECT_EQ(p.ip_version, 0) << c.name;
    EXPECT_FALSE(p.has_transport) << c.name;
  }
}

TEST(Decode, UnknownLinkTypesAreUnsupported) {
  // 802.11 (105), radiotap (127), a user type (147), ATM (100), an
  // unassigned value (2), garbage.
  const Bytes frame = Cat({Ethernet(kEtherIpv4), SynIpv4()});
  for (uint32_t type : {105u, 127u, 147u, 0xFFFFFFFFu, 2u, 100u}) {
    Packet p;
    EXPECT_EQ(DecodeExact(static_cast<LinkType>(type), frame, &p), DecodeStatus::kUnsupportedLink)
        << type;
    EXPECT_EQ(p.ip_version, 0) << type;
    // Whatever the length: unsupported is not "truncated".
    EXPECT_EQ(Decode(static_cast<LinkType>(type), nullptr, 0, &p), DecodeStatus::kUnsupportedLink)
        << type;
  }
}

TEST(Decode, LinkLayerAndIpVersionThatDisagreeAreMalformed) {
  struct Case {
    const char* name;
    LinkType link;
    Bytes frame;
  };
  const Case cases[] = {
      {"ethernet says IPv4, carries IPv6", LinkType::kEthernet,
       Cat({Ethernet(kEtherIpv4), SynIpv6()})},
      {"ethernet says IPv6, carries IPv4", LinkType::kEthernet,
       Cat({Ethernet(kEtherIpv6), SynIpv4()})},
      {"vlan says IPv4, carries IPv6", LinkType::kEthernet,
       Cat({Ethernet(kEtherIpv4, {kEtherVlan}), SynIpv6()})},
      {"sll says IPv6, carries IPv4", LinkType::kLinuxSll, Cat({Sll(kEtherIpv6), SynIpv4()})},
      {"sll2 says IPv4, carries IPv6", LinkType::kLinuxSll2, Cat({Sll2(kEtherIpv4), SynIpv6()})},
      {"ethernet says IPv4, version 5", LinkType::kEthernet,
       Cat({Ethernet(kEtherIpv4), Ipv4({.version = 5}, Tcp({}))})},
  };
  for (const Case& c : cases) {
    Packet p;
    EXPECT_EQ(DecodeExact(c.link, c.frame, &p), DecodeStatus::kMalformed) << c.name;
  }
}

TEST(Decode, LoopbackTakesTheVersionFromTheIpHeader) {
  // The family's value differs between systems (AF_INET6 is 10, 24, 28 or
  // 30): whatever it says, the version nibble decides.
  for (uint32_t family : {2u, 10u, 24u, 28u, 30u}) {
    for (LinkType link : {LinkType::kNull, LinkType::kLoop}) {
      Packet p;
      const Bytes header = link == LinkType::kNull ? Null(family) : Loop(family);
      EXPECT_EQ(DecodeExact(link, Cat({header, SynIpv6()}), &p), DecodeStatus::kOk) << family;
      EXPECT_EQ(Fields(p), Fields(ExpectedSyn(6))) << family;
      EXPECT_EQ(DecodeExact(link, Cat({header, SynIpv4()}), &p), DecodeStatus::kOk) << family;
      EXPECT_EQ(Fields(p), Fields(ExpectedSyn(4))) << family;
    }
  }
  Packet p;
  EXPECT_EQ(DecodeExact(LinkType::kNull, Null(2), &p), DecodeStatus::kTruncated);
  EXPECT_EQ(DecodeExact(LinkType::kLoop, {0, 0, 0}, &p), DecodeStatus::kTruncated);
}

TEST(Decode, ResetsThePacketItIsGiven) {
  // A capture loop reuses one Packet: nothing of the previous frame may
  // survive into one that decodes to less.
  Packet p;
  ASSERT_EQ(DecodeExact(LinkType::kEthernet, Cat({Ethernet(kEtherIpv4), SynIpv4()}), &p),
            DecodeStatus::kOk);
  EXPECT_EQ(DecodeExact(LinkType::kEthernet, Cat({Ethernet(kEtherArp), Bytes(28, 0)}), &p),
            DecodeStatus::kNotIp);
  EXPECT_EQ(Fields(p), Fields(Packet{}));

  ASSERT_EQ(DecodeExact(LinkType::kRaw, SynIpv6(), &p), DecodeStatus::kOk);
  EXPECT_EQ(DecodeExact(LinkType::kRaw, Ipv4({.protocol = kProtoGre}, Bytes(4, 0)), &p),
            DecodeStatus::kOk);
  Packet gre;
  gre.ip_version = 4;
  gre.protocol = kProtoGre;
  gre.src4 = kSrc4;
  gre.dst4 = kDst4;
  gre.ip_id = 0x1234;
  gre.ttl = 0xF1;
  gre.ip_length = 24;
  EXPECT_EQ(Fields(p), Fields(gre));
}

// --- IPv4 ------------------------------------------------------------------

TEST(Decode, Ipv4OptionsAreSkipped) {
  for (uint8_t ihl : {6, 7, 15}) {
    Packet p;
    const Bytes ip = Ipv4({.ihl = ihl, .protocol = kProtoUdp}, Udp(5060, 5061));
    ASSERT_EQ(DecodeExact(LinkType::kRaw, ip, &p), DecodeStatus::kOk) << int{ihl};
    EXPECT_TRUE(p.has_transport);
    EXPECT_EQ(p.src_port, 5060) << int{ihl};
    EXPECT_EQ(p.dst_port, 5061) << int{ihl};
    EXPECT_EQ(p.ip_length, ihl * 4 + 8) << int{ihl};
  }
}

TEST(Decode, Ipv4FragmentsOtherThanTheFirstHaveNoTransport) {
  struct Case {
    const char* name;
    uint16_t flags_offset;
    bool fragment;
  };
  const Case cases[] = {
      {"not a fragment", 0x0000, false},
      {"don't fragment", 0x4000, false},
      {"first fragment (MF, offset 0)", 0x2000, false},
      {"middle fragment (MF, offset 1480)", 0x2000 | 185, true},
      {"last fragment (offset 1480)", 185, true},
      {"offset 8", 1, true},
      {"largest offset", 0x1FFF, true},
  };
  for (const Case& c : cases) {
    // A later fragment carries the middle of the payload: bytes that would
    // decode as a TCP header if taken for one.
    const Bytes ip = Ipv4({.flags_offset = c.flags_offset}, Tcp({.dst_port = 80}));
    Packet p;
    ASSERT_EQ(DecodeExact(LinkType::kRaw, ip, &p), DecodeStatus::kOk) << c.name;
    EXPECT_EQ(p.fragment, c.fragment) << c.name;
    EXPECT_EQ(p.has_transport, !c.fragment) << c.name;
    EXPECT_EQ(p.protocol, kProtoTcp) << c.name;
    EXPECT_EQ(p.ip_id, 0x1234) << c.name;
    EXPECT_EQ(p.dst_port, c.fragment ? 0 : 80) << c.name;
  }
}

TEST(Decode, Ipv4HeaderShorterThanItsMinimumIsMalformed) {
  struct Case {
    const char* name;
    Bytes ip;
  };
  const Case cases[] = {
      {"IHL 4", Ipv4({.ihl = 4}, Tcp({}))},
      {"IHL 0", Ipv4({.ihl = 0}, Tcp({}))},
      {"total length 19", Ipv4({.total = 19}, Tcp({}))},
      {"total length 23 with IHL 6", Ipv4({.ihl = 6, .total = 23}, Tcp({}))},
  };
  for (const Case& c : cases) {
    Packet p;
    EXPECT_EQ(DecodeExact(LinkType::kRaw, c.ip, &p), DecodeStatus::kMalformed) << c.name;
    EXPECT_FALSE(p.has_transport) << c.name;
    EXPECT_EQ(DecodeExact(LinkType::kEthernet, Cat({Ethernet(kEtherIpv4), c.ip}), &p),
              DecodeStatus::kMalformed)
        << c.name;
  }
}

TEST(Decode, Ipv4TotalLengthZeroIsReadToTheCapturesEnd) {
  // Segmentation offload: the packet was captured before the NIC filled the
  // total length in (0); the captured bytes are the packet.
  Packet p;
  ASSERT_EQ(DecodeExact(LinkType::kRaw, Ipv4({.total = 0}, Tcp({})), &p), DecodeStatus::kOk);
  EXPECT_TRUE(p.has_transport);
  EXPECT_EQ(p.dst_port, 23);  // Tcp({})'s default
  EXPECT_EQ(p.ip_length, 0);
}

TEST(Decode, SnapLengthShorterThanThePacketKeepsTheFixedHeaders) {
  // tcpdump -s 54: the IP total length says 1500, the capture holds the
  // Ethernet, IP and TCP headers.
  Packet p;
  Bytes frame = Cat({Ethernet(kEtherIpv4), Ipv4({.total = 1500}, Tcp({}))});
  ASSERT_EQ(frame.size(), 54u);
  ASSERT_EQ(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kOk);
  EXPECT_EQ(p.ip_length, 1500);
  EXPECT_EQ(p.tcp_seq, 0xDEADBEEFu);
  // TCP options cut off by the snap length: the fixed header is enough.
  frame = Cat({Ethernet(kEtherIpv4), Ipv4({}, Tcp({.data_offset = 8}))});
  frame.resize(54);
  ASSERT_EQ(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kOk);
  EXPECT_EQ(p.tcp_options_length, 12);
  // Cut inside the TCP header: truncated, with the IP fields decoded so far.
  frame.resize(50);
  EXPECT_EQ(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kTruncated);
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.src4, kSrc4);
  EXPECT_FALSE(p.has_transport);
}

TEST(Decode, EthernetPaddingIsNotReadAsTransport) {
  // A 40-byte SYN is padded to the 60-byte minimum frame with bytes that are
  // not part of it.
  Bytes frame = Cat({Ethernet(kEtherIpv4), Ipv4({}, Tcp({}))});
  frame.resize(60, 0xEE);
  Packet p;
  ASSERT_EQ(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kOk);
  EXPECT_EQ(p.ip_length, 40);
  EXPECT_EQ(p.tcp_options_length, 0);
  EXPECT_EQ(p.src_port, 0xA1B2);

  // An IP packet of 20 bytes (its header alone) saying TCP, padded with what
  // looks like a TCP header: the packet ends before any transport header.
  frame = Cat({Ethernet(kEtherIpv4), Ipv4({.total = 20}, Tcp({.dst_port = 445}))});
  frame.resize(60, 0);
  EXPECT_NE(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kOk);
  EXPECT_FALSE(p.has_transport);
  EXPECT_EQ(p.dst_port, 0);

  // Likewise UDP: 4 bytes of UDP in the packet, the rest padding.
  frame = Cat({Ethernet(kEtherIpv4), Ipv4({.total = 24, .protocol = kProtoUdp}, Udp(53, 53))});
  frame.resize(60, 0x35);
  EXPECT_NE(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kOk);
  EXPECT_FALSE(p.has_transport);

  // IPv6: the payload length bounds the extension headers and transport
  // too. A payload of 8 bytes, a hop-by-hop header saying UDP next, then
  // bytes past the packet's end that look like UDP.
  frame = Cat({Ethernet(kEtherIpv6), Ipv6({.next = kIpv6HopByHop, .payload_length = 8},
                                          Cat({Ipv6Options(kProtoUdp, 1), Udp(53, 53)}))});
  EXPECT_NE(DecodeExact(LinkType::kEthernet, frame, &p), DecodeStatus::kOk);
  EXPECT_FALSE(p.has_transport);
}

// --- IPv6 ------------------------------------------------------------------

TEST(Decode, Ipv6ExtensionHeaderChainIsSkipped) {
  // Hop-by-hop (16 bytes: its length counts 8-byte units after the first),
  // routing, destination options, a first fragment, then TCP.
  const Bytes chain = Cat({Ipv6Options(kIpv6Routing, 2), Ipv6Options(kIpv6DestOptions, 1),
                           Ipv6Options(kIpv6Fragment, 1),
                           Ipv6FragmentHeader(kProtoTcp, 0, /*more=*/true), Tcp({.dst_port = 22})});
  Packet p;
  ASSERT_EQ(DecodeExact(LinkType::kRaw, Ipv6({.next = kIpv6HopByHop}, chain), &p),
            DecodeStatus::kOk);
  EXPECT_EQ(p.protocol, kProtoTcp);
  EXPECT_TRUE(p.has_transport);
  EXPECT_FALSE(p.fragment);
  EXPECT_EQ(p.src_port, 0xA1B2);
  EXPECT_EQ(p.dst_port, 22);
  EXPECT_EQ(p.tcp_seq, 0xDEADBEEFu);
  EXPECT_EQ(p.ip_length, 40 + 16 + 8 + 8 + 8 + 20);
}

TEST(Decode, Ipv6FragmentsOtherThanTheFirstHaveNoTransport) {
  for (uint16_t offset : {1, 185, 0x1FFF}) {
    for (bool more : {true, false}) {
      const Bytes chain = Cat({Ipv6Options(kIpv6Fragment, 1),
                               Ipv6FragmentHeader(kProtoTcp, offset, more), Tcp({.dst_port = 22})});
      Packet p;
      ASSERT_EQ(DecodeExact(LinkType::kRaw, Ipv6({.next = kIpv6HopByHop}, chain), &p),
                DecodeStatus::kOk)
          << offset;
      EXPECT_TRUE(p.fragment) << offset;
      EXPECT_FALSE(p.has_transport) << offset;
      EXPECT_EQ(p.protocol, kProtoTcp) << offset;
      EXPECT_EQ(p.dst_port, 0) << offset;
    }
  }
  // An atomic fragment (offset 0, no more) is a whole packet.
  Packet p;
  ASSERT_EQ(DecodeExact(LinkType::kRaw,
                        Ipv6({.next = kIpv6Fragment},
                             Cat({Ipv6FragmentHeader(kProtoUdp, 0, false), Udp(123, 123)})),
                        &p),
            DecodeStatus::kOk);
  EXPECT_FALSE(p.fragment);
  EXPECT_EQ(p.dst_port, 123);
}

TEST(Decode, Ipv6AuthenticationHeaderLengthIsInFourByteUnits) {
  // AH (24 bytes, length field 4) then TCP: read with the 8-byte rule, the
  // AH would be 40 bytes long.
  Packet p;
  ASSERT_EQ(DecodeExact(LinkType::kRaw,
                        Ipv6({.next = kIpv6Ah},
                             Cat({Ipv6AuthenticationHeader(kProtoTcp), Tcp({.dst_port = 3389})})),
                        &p),
            DecodeStatus::kOk);
  EXPECT_EQ(p.protocol, kProtoTcp);
  EXPECT_EQ(p.dst_port, 3389);
  // Hop-by-hop, AH, UDP.
  ASSERT_EQ(
      DecodeExact(
          LinkType::kRaw,
          Ipv6({.next = kIpv6HopByHop},
               Cat({Ipv6Options(kIpv6Ah, 1), Ipv6AuthenticationHeader(kProtoUdp), Udp(500, 4500)})),
          &p),
      DecodeStatus::kOk);
  EXPECT_EQ(p.protocol, kProtoUdp);
  EXPECT_EQ(p.src_port, 500);
  EXPECT_EQ(p.dst_port, 4500);
}

TEST(Decode, Ipv6ExtensionHeaderLongerThanThePacketIsTruncated) {
  // A destination options header claiming 256 * 8 bytes in a short packet.
  Bytes options = Ipv6Options(kProtoTcp, 1);
  options[1] = 255;
  Packet p;
  EXPECT_EQ(
      DecodeExact(LinkType::kRaw, Ipv6({.next = kIpv6DestOptions}, Cat({options, Tcp({})})), &p),
      DecodeStatus::kTruncated);
  EXPECT_FALSE(p.has_transport);
  // An AH claiming (255 + 2) * 4 bytes.
  Bytes ah = Ipv6AuthenticationHeader(kProtoTcp);
  ah[1] = 255;
  EXPECT_EQ(DecodeExact(LinkType::kRaw, Ipv6({.next = kIpv6Ah}, Cat({ah, Tcp({})})), &p),
            DecodeStatus::kTruncated);
}

// --- Transport -------------------------------------------------------------

TEST(Decode, TransportFields) {
  struct Case {
    const char* name;
    Bytes ip;
    uint8_t protocol;
    uint16_t src_port, dst_port;
    uint8_t icmp_type, icmp_code;
  };
  const Case cases[] = {
      {"udp", Ipv4({.protocol = kProtoUdp}, Udp(40123, 1900, Bytes(16, 'M'))), kProtoUdp, 40123,
       1900, 0, 0},
      {"udp over ipv6", Ipv6({.next = kProtoUdp}, Udp(40123, 5353)), kProtoUdp, 40123, 5353, 0, 0},
      {"icmp echo request", Ipv4({.protocol = kProtoIcmp}, Icmp(8, 0)), kProtoIcmp, 0, 0, 8, 0},
      {"icmp port unreachable", Ipv4({.protocol = kProtoIcmp}, Icmp(3, 3)), kProtoIcmp, 0, 0, 3, 3},
      {"icmpv6 echo request", Ipv6({.next = kProtoIcmpv6}, Icmp(128, 0)), kProtoIcmpv6, 0, 0, 128,
       0},
      {"icmpv6 address unreachable", Ipv6({.next = kProtoIcmpv6}, Icmp(1, 3)), kProtoIcmpv6, 0, 0,
       1, 3},
  };
  for (const Case& c : cases) {
    Packet p;
    ASSERT_EQ(DecodeExact(LinkType::kRaw, c.ip, &p), DecodeStatus::kOk) << c.name;
    EXPECT_TRUE(p.has_transport) << c.name;
    EXPECT_EQ(p.protocol, c.protocol) << c.name;
    EXPECT_EQ(p.src_port, c.src_port) << c.name;
    EXPECT_EQ(p.dst_port, c.dst_port) << c.name;
    EXPECT_EQ(p.icmp_type, c.icmp_type) << c.name;
    EXPECT_EQ(p.icmp_code, c.icmp_code) << c.name;
    EXPECT_EQ(p.tcp_flags, 0) << c.name;
  }
}

TEST(Decode, TcpFlagsWindowAndOptionsLength) {
  struct Case {
    uint8_t flags;
    uint8_t data_offset;
    uint16_t window;
  };
  const Case cases[] = {
      {tcp::kSyn, 5, 1024},
      {tcp::kSyn | tcp::kAck, 6, 65535},
      {tcp::kRst, 5, 0},
      {tcp::kRst | tcp::kAck, 5, 0},
      {tcp::kFin | tcp::kPsh | tcp::kUrg, 8, 0x0102},  // Xmas
      {tcp::kSyn | tcp::kEce | tcp::kCwr, 10, 64240},
      {0xFF, 15, 0x8001},
  };
  for (const Case& c : cases) {
    Packet p;
    const Bytes ip = Ipv4({}, Tcp({.seq = 0x80000001,
                                   .ack = 0xFFFFFFFE,
                                   .data_offset = c.data_offset,
                                   .flags = c.flags,
                                   .window = c.window}));
    ASSERT_EQ(DecodeExact(LinkType::kRaw, ip, &p), DecodeStatus::kOk) << int{c.flags};
    EXPECT_EQ(p.tcp_flags, c.flags);
    EXPECT_EQ(p.tcp_window, c.window);
    EXPECT_EQ(p.tcp_options_length, (c.data_offset - 5) * 4);
    EXPECT_EQ(p.tcp_seq, 0x80000001u);
    EXPECT_EQ(p.tcp_ack, 0xFFFFFFFEu);
  }
}

TEST(Decode, TcpDataOffsetBelowFiveIsMalformed) {
  for (uint8_t offset : {0, 1, 4}) {
    Packet p;
    EXPECT_EQ(DecodeExact(LinkType::kRaw, Ipv4({}, Tcp({.data_offset = offset})), &p),
              DecodeStatus::kMalformed)
        << int{offset};
    EXPECT_FALSE(p.has_transport);
    EXPECT_EQ(DecodeExact(LinkType::kRaw, Ipv6({}, Tcp({.data_offset = offset})), &p),
              DecodeStatus::kMalformed)
        << int{offset};
    EXPECT_FALSE(p.has_transport);
  }
}

TEST(Decode, UnknownTransportIsCountedByItsNumberAlone) {
  struct Case {
    const char* name;
    Bytes ip;
    uint8_t protocol;
  };
  const Case cases[] = {
      {"gre", Ipv4({.protocol = kProtoGre}, {0x00, 0x00, 0x08, 0x00}), kProtoGre},
      {"sctp", Ipv4({.protocol = 132}, Bytes(12, 0)), 132},
      {"gre over ipv6", Ipv6({.next = kProtoGre}, {0x00, 0x00, 0x86, 0xdd}), kProtoGre},
      {"no next header", Ipv6({.next = kIpv6NoNext}, {}), kIpv6NoNext},
      {"esp after destination options",
       Ipv6({.next = kIpv6DestOptions}, Cat({Ipv6Options(50, 1), Bytes(16, 0x77)})), 50},
  };
  for (const Case& c : cases) {
    Packet p;
    ASSERT_EQ(DecodeExact(LinkType::kRaw, c.ip, &p), DecodeStatus::kOk) << c.name;
    EXPECT_EQ(p.protocol, c.protocol) << c.name;
    EXPECT_FALSE(p.has_transport) << c.name;
    EXPECT_FALSE(p.fragment) << c.name;
  }
}

TEST(DecodeIp, TakesTheVersionFromTheFirstNibble) {
  Packet p;
  EXPECT_EQ(DecodeIp(nullptr, 0, &p), DecodeStatus::kTruncated);
  for (uint8_t version : {0, 5, 7, 15}) {
    Bytes ip = Ipv4({}, Tcp({}));
    ip[0] = static_cast<uint8_t>(version << 4 | 5);
    const Bytes copy(ip);
    Packet q;
    EXPECT_EQ(DecodeIp(copy.data(), copy.size(), &q), DecodeStatus::kMalformed) << int{version};
    EXPECT_EQ(q.ip_version, 0);
  }
  const Bytes v6 = SynIpv6();
  Packet q;
  EXPECT_EQ(DecodeIp(v6.data(), v6.size(), &q), DecodeStatus::kOk);
  EXPECT_EQ(Fields(q), Fields(ExpectedSyn(6)));
}

TEST(DecodeStatusName, NamesEveryStatus) {
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kOk), "ok");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kTruncated), "truncated");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kMalformed), "malformed");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kUnsupportedLink), "unsupported link type");
  EXPECT_EQ(DecodeStatusName(DecodeStatus::kNotIp), "not IP");
}

// --- Every prefix, random bytes --------------------------------------------

// An IP packet and how many of its bytes decoding needs: the IP header and
// extension headers, and the fixed part of the transport header (TCP
// options and payloads are not read).
struct IpSample {
  const char* name;
  int version;
  Bytes ip;
  size_t needed;
};

std::vector<IpSample> IpSamples() {
  return {
      {"tcp syn with options", 4, Ipv4({}, Tcp({.data_offset = 8})), 20 + 20},
      {"udp after ip options", 4, Ipv4({.ihl = 6, .protocol = kProtoUdp}, Udp(1, 2, Bytes(9, 1))),
       24 + 8},
      {"icmp echo", 4, Ipv4({.protocol = kProtoIcmp}, Icmp(8, 0)), 20 + 2},
      {"gre", 4, Ipv4({.protocol = kProtoGre}, {0, 0, 8, 0}), 20},
      {"later fragment", 4, Ipv4({.flags_offset = 0x2000 | 185}, Bytes(24, 0x42)), 20},
      {"first fragment", 4, Ipv4({.flags_offset = 0x2000}, Tcp({})), 20 + 20},
      {"ipv6 tcp", 6, Ipv6({}, Tcp({.data_offset = 6})), 40 + 20},
      {"ipv6 chain, first fragment", 6,
       Ipv6({.next = kIpv6HopByHop},
            Cat({Ipv6Options(kIpv6Routing, 2), Ipv6Options(kIpv6DestOptions, 1),
                 Ipv6Options(kIpv6Fragment, 1), Ipv6FragmentHeader(kProtoTcp, 0, true), Tcp({})})),
       40 + 16 + 8 + 8 + 8 + 20},
      {"ipv6 later fragment", 6,
       Ipv6({.next = kIpv6HopByHop},
            Cat({Ipv6Options(kIpv6Fragment, 1), Ipv6FragmentHeader(kProtoUdp, 185, false),
                 Bytes(16, 0x42)})),
       40 + 8 + 8},
      {"ipv6 ah udp", 6,
       Ipv6({.next = kIpv6Ah}, Cat({Ipv6AuthenticationHeader(kProtoUdp), Udp(500, 500)})),
       40 + 24 + 8},
      {"icmpv6 echo", 6, Ipv6({.next = kProtoIcmpv6}, Icmp(128, 0)), 40 + 2},
      {"ipv6 no next header", 6, Ipv6({.next = kIpv6DestOptions}, Ipv6Options(kIpv6NoNext, 1)),
       40 + 8},
  };
}

struct FrameSample {
  std::string name;
  LinkType link;
  Bytes frame;
  size_t needed;  // the shortest prefix that decodes as the whole frame does
};

std::vector<FrameSample> FrameSamples() {
  std::vector<FrameSample> samples;
  for (const Link& link : Links()) {
    for (const IpSample& ip : IpSamples()) {
      if (!Carries(link, ip.version)) continue;
      const Bytes header = link.header(ip.version);
      samples.push_back({std::string(link.name) + ": " + ip.name, link.type, Cat({header, ip.ip}),
                         header.size() + ip.needed});
    }
  }
  // Not IP: the link header (tags included) is all that is read.
  const Bytes arp(28, 0);
  samples.push_back({"arp", LinkType::kEthernet, Cat({Ethernet(kEtherArp), arp}), 14});
  samples.push_back({"arp in qinq", LinkType::kEthernet,
                     Cat({Ethernet(kEtherArp, {kEtherQinQ, kEtherVlan}), arp}), 22});
  samples.push_back({"arp sll", LinkType::kLinuxSll, Cat({Sll(kEtherArp), arp}), 16});
  samples.push_back({"arp sll2", LinkType::kLinuxSll2, Cat({Sll2(kEtherArp), arp}), 20});
  return samples;
}

// Cutting a frame anywhere before the end of the headers decoding needs is
// "truncated", never "ok" with fields made up from beyond the cut; from
// there on, the prefix decodes exactly as the whole frame does.
TEST(Decode, EveryPrefixIsTruncatedUntilTheHeadersAreComplete) {
  const std::vector<FrameSample> samples = FrameSamples();
  ASSERT_GT(samples.size(), 100u);
  for (const FrameSample& s : samples) {
    Packet whole;
    const DecodeStatus whole_status = DecodeExact(s.link, s.frame, &whole);
    ASSERT_NE(whole_status, DecodeStatus::kTruncated) << s.name;
    ASSERT_NE(whole_status, DecodeStatus::kMalformed) << s.name;
    ASSERT_LE(s.needed, s.frame.size()) << s.name;
    for (size_t n = 0; n < s.frame.size(); ++n) {
      // Its own buffer of exactly n bytes: ASan reports any read past it.
      const Bytes prefix(s.frame.begin(), s.frame.begin() + static_cast<std::ptrdiff_t>(n));
      ExpectSameAsGeneral(s.link, prefix, s.name);
      Packet p;
      const DecodeStatus status = Decode(s.link, prefix.data(), prefix.size(), &p);
      if (n < s.needed) {
        ASSERT_EQ(status, DecodeStatus::kTruncated)
            << s.name << ", " << n << " of " << s.frame.size() << " bytes: " << Hex(prefix);
        ASSERT_FALSE(p.has_transport) << s.name << ", " << n << " bytes";
      } else {
        ASSERT_EQ(status, whole_status) << s.name << ", " << n << " bytes: " << Hex(prefix);
        ASSERT_EQ(Fields(p), Fields(whole)) << s.name << ", " << n << " bytes";
      }
    }
  }
}

// Decode's fast path (Ethernet without a tag, carrying IPv4) against the
// general path, on every prefix of frames built to reach each of its
// branches: IP header lengths, total lengths below, at and past the
// capture (0: offloaded), fragments, each transport and a TCP data offset
// below its minimum, a version nibble that disagrees with the EtherType,
// Ethernet padding.
TEST(Decode, FastPathAgreesWithTheGeneralPath) {
  std::vector<std::pair<std::string, Bytes>> frames;
  const Bytes syn = Tcp({.data_offset = 6});
  for (uint8_t ihl : {0, 4, 5, 6, 15}) {
    for (std::optional<uint16_t> total :
         {std::optional<uint16_t>(), std::optional<uint16_t>(0), std::optional<uint16_t>(19),
          std::optional<uint16_t>(20), std::optional<uint16_t>(39), std::optional<uint16_t>(40),
          std::optional<uint16_t>(44), std::optional<uint16_t>(1500)}) {
      for (uint16_t flags_offset : {0, 0x4000, 0x2000, 185, 0x1FFF}) {
        frames.emplace_back(
            "ihl " + std::to_string(ihl) + " total " +
                (total ? std::to_string(*total) : std::string("exact")) + " fragment " +
                std::to_string(flags_offset),
            Cat({Ethernet(kEtherIpv4),
                 Ipv4({.ihl = ihl, .total = total, .flags_offset = flags_offset}, syn)}));
      }
    }
  }
  for (uint8_t data_offset : {0, 4, 5, 15}) {
    frames.emplace_back("tcp data offset " + std::to_string(data_offset),
                        Cat({Ethernet(kEtherIpv4), Ipv4({}, Tcp({.data_offset = data_offset}))}));
  }
  frames.emplace_back(
      "udp", Cat({Ethernet(kEtherIpv4), Ipv4({.protocol = kProtoUdp}, Udp(53, 53, Bytes(4, 7)))}));
  frames.emplace_back("icmp",
                      Cat({Ethernet(kEtherIpv4), Ipv4({.protocol = kProtoIcmp}, Icmp(3, 1))}));
  frames.emplace_back("icmpv6 number in ipv4",
                      Cat({Ethernet(kEtherIpv4), Ipv4({.protocol = kProtoIcmpv6}, Icmp(1, 0))}));
  frames.emplace_back("gre",
                      Cat({Ethernet(kEtherIpv4), Ipv4({.protocol = kProtoGre}, {0, 0, 8, 0})}));
  frames.emplace_back("ipv6 under the ipv4 ethertype", Cat({Ethernet(kEtherIpv4), SynIpv6()}));
  frames.emplace_back("version 5", Cat({Ethernet(kEtherIpv4), Ipv4({.version = 5}, syn)}));
  frames.emplace_back("ipv4 under the ipv6 ethertype", Cat({Ethernet(kEtherIpv6), SynIpv4()}));
  frames.emplace_back("tagged", Cat({Ethernet(kEtherIpv4, {kEtherVlan}), SynIpv4()}));
  // A 40-byte IPv4 packet padded to Ethernet's 60-byte minimum with bytes
  // that would be read as TCP options if the IP length were ignored.
  frames.emplace_back("padded", Cat({Ethernet(kEtherIpv4), Ipv4({}, Tcp({})), Bytes(6, 0x99)}));
  for (const auto& [name, frame] : frames) {
    for (size_t n = 0; n <= frame.size(); ++n) {
      ExpectSameAsGeneral(LinkType::kEthernet,
                          Bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n)),
                          name + ", " + std::to_string(n) + " bytes");
    }
  }
}

// The offset of the IP header a frame of this link type would carry.
size_t IpOffset(LinkType link, std::mt19937* rng) {
  switch (link) {
    case LinkType::kEthernet:
      return 14 + 4 * ((*rng)() % 3);
    case LinkType::kLinuxSll:
      return 16;
    case LinkType::kLinuxSll2:
      return 20;
    case LinkType::kNull:
    case LinkType::kLoop:
      return 4;
    default:
      return 0;
  }
}

// Random bytes, half of them nudged towards a valid frame (the link header
// says IP, the IP header has a version, a plausible length and a protocol
// or extension header worth following) so that the decoders past the first
// check see them too.
Bytes RandomFrame(LinkType link, std::mt19937* rng) {
  std::uniform_int_distribution<size_t> length(0, 160);
  Bytes frame(length(*rng));
  for (uint8_t& b : frame) b = static_cast<uint8_t>((*rng)());
  if ((*rng)() % 2 == 0) return frame;

  const size_t ip = IpOffset(link, rng);
  const int version = (*rng)() % 2 == 0 ? 4 : 6;
  auto put16 = [&](size_t at, uint16_t v) {
    if (at + 2 > frame.size()) return;
    frame[at] = static_cast<uint8_t>(v >> 8);
    frame[at + 1] = static_cast<uint8_t>(v);
  };
  const uint16_t ethertype = version == 4 ? kEtherIpv4 : kEtherIpv6;
  if (link == LinkType::kEthernet) {
    for (size_t at = 12; at + 4 <= ip; at += 4) put16(at, (*rng)() % 2 ? kEtherVlan : kEtherQinQ);
    put16(ip - 2, ethertype);
  } else if (link == LinkType::kLinuxSll) {
    put16(14, ethertype);
  } else if (link == LinkType::kLinuxSll2) {
    put16(0, ethertype);
  }
  if (ip >= frame.size()) return frame;
  static constexpr uint8_t kNext[] = {kProtoTcp,     kProtoUdp,    kProtoIcmp,       kProtoIcmpv6,
                                      kIpv6HopByHop, kIpv6Routing, kIpv6Fragment,    kIpv6Ah,
                                      kIpv6NoNext,   kProtoGre,    kIpv6DestOptions, 135};
  const uint8_t next = kNext[(*rng)() % std::size(kNext)];
  const size_t left = frame.size() - ip;
  if (version == 4) {
    frame[ip] = static_cast<uint8_t>(0x40 | (4 + (*rng)() % 4));  // IHL 4..7
    put16(ip + 2, static_cast<uint16_t>(left - (*rng)() % 8));
    if ((*rng)() % 2) put16(ip + 6, 0);  // not a later fragment
    if (ip + 9 < frame.size()) frame[ip + 9] = next;
  } else {
    frame[ip] = static_cast<uint8_t>(0x60 | (frame[ip] & 0x0F));
    if (left >= 40) put16(ip + 4, static_cast<uint16_t>(left - 40 + (*rng)() % 8));
    if (ip + 6 < frame.size()) frame[ip + 6] = next;
  }
  return frame;
}

// What holds of any decoded packet, whatever the bytes.
std::string Inconsistency(LinkType link, DecodeStatus status, const Packet& p) {
  const bool known = link == LinkType::kNull || link == LinkType::kEthernet ||
                     link == LinkType::kRaw || link == LinkType::kLoop ||
                     link == LinkType::kLinuxSll || link == LinkType::kIpv4 ||
                     link == LinkType::kIpv6 || link == LinkType::kLinuxSll2;
  if ((status == DecodeStatus::kUnsupportedLink) == known) return "unsupported link status";
  if (static_cast<int>(status) > static_cast<int>(DecodeStatus::kNotIp)) return "bad status";
  if (status == DecodeStatus::kOk && p.ip_version != 4 && p.ip_version != 6) {
    return "ok without an IP version";
  }
  if (p.ip_version != 0 && p.ip_version != 4 && p.ip_version != 6) return "ip_version";
  if (p.has_transport && p.fragment) return "a later fragment with a transport header";
  if (p.has_transport && p.protocol != kProtoTcp && p.protocol != kProtoUdp &&
      p.protocol != kProtoIcmp && p.protocol != kProtoIcmpv6) {
    return "a transport header for an unknown protocol";
  }
  // (kMalformed may come with a transport header: a link layer that
  // contradicts a complete IP packet.)
  if (p.has_transport && status == DecodeStatus::kTruncated) return "transport when truncated";
  if (p.tcp_options_length > 40 || p.tcp_options_length % 4 != 0) return "tcp_options_length";
  if (p.ip_version == 4 && (p.src6 != Ipv6Address{} || p.dst6 != Ipv6Address{})) {
    return "IPv6 addresses on IPv4";
  }
  if (p.ip_version == 6 && (p.src4 != 0 || p.dst4 != 0 || p.ip_id != 0)) return "IPv4 on IPv6";
  if (p.ip_version == 0 && Fields(p) != Fields(Packet{})) return "fields without an IP header";
  return "";
}

TEST(Decode, RandomBytesNeverCrash) {
  std::vector<LinkType> links;
  for (const Link& link : Links()) links.push_back(link.type);
  links.push_back(static_cast<LinkType>(147));
  std::mt19937 rng(20240611);
  int ok = 0;
  for (LinkType link : links) {
    for (int i = 0; i < 100000; ++i) {
      const Bytes frame = RandomFrame(link, &rng);
      Packet p;
      const DecodeStatus status = Decode(link, frame.data(), frame.size(), &p);
      if (status == DecodeStatus::kOk) ++ok;
      const std::string wrong = Inconsistency(link, status, p);
      ASSERT_EQ(wrong, "") << "link " << static_cast<uint32_t>(link) << ", status "
                           << DecodeStatusName(status) << ": " << Hex(frame);
      ExpectSameAsGeneral(link, frame, "random");
    }
  }
  // The nudged frames reach the transport decoders: the test is not only
  // exercising the first length check.
  EXPECT_GT(ok, 100000);
}

}  // namespace
}  // namespace kizuna::sensor
