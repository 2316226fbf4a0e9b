// Packet decoding for darknet sensors: one captured frame, as libpcap hands
// it over (link type, bytes, captured length), into the few fields the
// telescope counts (addresses, protocol, ports, TCP flags and the header
// fields scanner fingerprints read).
//
// Link types: Ethernet (with any number of 802.1Q / 802.1ad VLAN tags),
// Linux cooked capture v1 and v2, raw IP (IPv4 or IPv6 by its version
// nibble), BSD loopback (DLT_NULL / DLT_LOOP). Network: IPv4 (options
// skipped; a fragment other than the first has no transport header) and
// IPv6 (hop-by-hop, routing, fragment, destination options and AH extension
// headers skipped). Transport: TCP, UDP, ICMP, ICMPv6.
//
// Any byte sequence is safe input: a frame cut short or whose headers
// contradict themselves is reported (kTruncated / kMalformed) with whatever
// was decoded before the fault, never read past `caplen`.
// Stateless and thread-safe; nothing is allocated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kizuna::sensor {

// libpcap's link-layer header types (LINKTYPE_* values as stored in files).
enum class LinkType : uint32_t {
  kNull = 0,  // BSD loopback: 4-byte address family, host byte order
  kEthernet = 1,
  kRaw = 101,       // raw IPv4 or IPv6 (LINKTYPE_RAW; DLT_RAW is mapped to it)
  kLoop = 108,      // OpenBSD loopback: the family in network byte order
  kLinuxSll = 113,  // Linux cooked capture
  kIpv4 = 228,
  kIpv6 = 229,
  kLinuxSll2 = 276,  // Linux cooked capture v2
};

enum class DecodeStatus : uint8_t {
  kOk,
  kTruncated,        // the capture ends inside a header
  kMalformed,        // a header that cannot be (bad version, length below minimum, ...)
  kUnsupportedLink,  // a link type not listed above
  kNotIp,            // a link-layer frame that carries neither IPv4 nor IPv6 (ARP, ...)
};
std::string_view DecodeStatusName(DecodeStatus status);

namespace tcp {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10,
                         kUrg = 0x20, kEce = 0x40, kCwr = 0x80;
}

inline constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmpv6 = 58;

using Ipv6Address = std::array<uint8_t, 16>;

// What Decode found. Integers are in host byte order.
struct Packet {
  uint8_t ip_version = 0;      // 4 or 6; 0: no IP header decoded
  uint8_t protocol = 0;        // the transport protocol (after IPv6 extension headers)
  bool has_transport = false;  // ports / flags / ICMP type below are set
  bool fragment = false;       // an IPv4 or IPv6 fragment other than the first
  bool cut = false;            // the capture ends before the transport header (kTruncated)
  uint32_t src4 = 0, dst4 = 0;
  Ipv6Address src6{}, dst6{};
  uint16_t ip_id = 0;                   // IPv4 identification
  uint8_t ttl = 0;                      // IPv4 TTL or IPv6 hop limit
  uint16_t ip_length = 0;               // IPv4 total length or IPv6 payload length + 40
  uint16_t src_port = 0, dst_port = 0;  // TCP and UDP
  uint8_t tcp_flags = 0;
  uint32_t tcp_seq = 0, tcp_ack = 0;
  uint16_t tcp_window = 0;
  uint8_t tcp_options_length = 0;        // bytes of TCP options
  uint8_t icmp_type = 0, icmp_code = 0;  // ICMP and ICMPv6
};

// Decodes one frame. On anything but kOk, `out` holds what was decoded
// before the fault (ip_version is 0 when no IP header was read).
DecodeStatus Decode(LinkType link, const uint8_t* data, size_t caplen, Packet* out);

// Decode without its fast path (Ethernet carrying IPv4): the same status and
// fields for every input. For tests, which check that they agree.
DecodeStatus DecodeGeneral(LinkType link, const uint8_t* data, size_t caplen, Packet* out);

// Decodes an IP packet (IPv4 or IPv6 by its version nibble).
DecodeStatus DecodeIp(const uint8_t* data, size_t caplen, Packet* out);

}  // namespace kizuna::sensor
