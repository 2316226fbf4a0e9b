#include "sensor/packet.h"

#include <cstring>

namespace kizuna::sensor {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100;  // 802.1Q
constexpr uint16_t kEtherQinQ = 0x88A8;  // 802.1ad
constexpr uint16_t kEtherQinQOld = 0x9100;

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// (Inlined: into the fast path in Decode above all.)
[[gnu::always_inline]] inline DecodeStatus DecodeTransport(const uint8_t* data, size_t length,
                                                           Packet* out) {
  switch (out->protocol) {
    case kProtoTcp: {
      if (length < 20) return DecodeStatus::kTruncated;
      const size_t header = static_cast<size_t>(data[12] >> 4) * 4;
      if (header < 20) return DecodeStatus::kMalformed;
      out->src_port = Be16(data);
      out->dst_port = Be16(data + 2);
      out->tcp_seq = Be32(data + 4);
      out->tcp_ack = Be32(data + 8);
      out->tcp_flags = data[13];
      out->tcp_window = Be16(data + 14);
      out->tcp_options_length = static_cast<uint8_t>(header - 20);
      out->has_transport = true;
      // Options cut off by the snap length are not read: the fixed header
      // is all that is counted.
      return DecodeStatus::kOk;
    }
    case kProtoUdp:
      if (length < 8) return DecodeStatus::kTruncated;
      out->src_port = Be16(data);
      out->dst_port = Be16(data + 2);
      out->has_transport = true;
      return DecodeStatus::kOk;
    case kProtoIcmp:
    case kProtoIcmpv6:
      if (length < 2) return DecodeStatus::kTruncated;
      out->icmp_type = data[0];
      out->icmp_code = data[1];
      out->has_transport = true;
      return DecodeStatus::kOk;
    default:
      return DecodeStatus::kOk;  // another protocol: counted by its number alone
  }
}

[[gnu::always_inline]] inline DecodeStatus DecodeIpv4(const uint8_t* data, size_t caplen,
                                                      Packet* out) {
  if (caplen < 20) return DecodeStatus::kTruncated;
  const size_t header = static_cast<size_t>(data[0] & 0x0F) * 4;
  if (header < 20) return DecodeStatus::kMalformed;
  const uint16_t total = Be16(data + 2);
  // 0: segmentation offload captured before the NIC filled the length in.
  if (total != 0 && total < header) return DecodeStatus::kMalformed;
  if (caplen < header) return DecodeStatus::kTruncated;
  out->ip_version = 4;
  out->ip_length = total;
  out->ip_id = Be16(data + 4);
  out->ttl = data[8];
  out->protocol = data[9];
  out->src4 = Be32(data + 12);
  out->dst4 = Be32(data + 16);
  if ((Be16(data + 6) & 0x1FFF) != 0) {
    out->fragment = true;  // no transport header in this one
    return DecodeStatus::kOk;
  }
  // Ethernet pads short frames: the payload ends where the IP length says.
  const size_t end = total == 0 || caplen < total ? caplen : total;
  return DecodeTransport(data + header, end - header, out);
}

DecodeStatus DecodeIpv6(const uint8_t* data, size_t caplen, Packet* out) {
  if (caplen < 40) return DecodeStatus::kTruncated;
  out->ip_version = 6;
  const uint16_t payload = Be16(data + 4);
  out->ip_length = static_cast<uint16_t>(payload > 0xFFFF - 40 ? 0xFFFF : payload + 40);
  out->ttl = data[7];
  std::memcpy(out->src6.data(), data + 8, 16);
  std::memcpy(out->dst6.data(), data + 24, 16);
  // A jumbogram says 0 here; otherwise the packet ends where this says.
  size_t end = payload == 0 ? caplen : 40 + size_t{payload};
  if (end > caplen) end = caplen;
  uint8_t next = data[6];
  size_t at = 40;
  while (true) {
    switch (next) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
        if (end - at < 8) return DecodeStatus::kTruncated;
        next = data[at];
        at += (size_t{data[at + 1]} + 1) * 8;
        break;
      case 44:  // fragment
        if (end - at < 8) return DecodeStatus::kTruncated;
        if ((Be16(data + at + 2) & 0xFFF8) != 0) {
          out->protocol = data[at];
          out->fragment = true;
          return DecodeStatus::kOk;
        }
        next = data[at];
        at += 8;
        break;
      case 51:  // authentication header
        if (end - at < 8) return DecodeStatus::kTruncated;
        next = data[at];
        at += (size_t{data[at + 1]} + 2) * 4;
        break;
      default:
        out->protocol = next;
        return DecodeTransport(data + at, end - at, out);
    }
    if (at > end) return DecodeStatus::kTruncated;
  }
}

}  // namespace

std::string_view DecodeStatusName(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kTruncated:
      return "truncated";
    case DecodeStatus::kMalformed:
      return "malformed";
    case DecodeStatus::kUnsupportedLink:
      return "unsupported link type";
    case DecodeStatus::kNotIp:
      return "not IP";
  }
  return "unknown";
}

DecodeStatus DecodeIp(const uint8_t* data, size_t caplen, Packet* out) {
  if (caplen < 1) return DecodeStatus::kTruncated;
  DecodeStatus status;
  switch (data[0] >> 4) {
    case 4:
      status = DecodeIpv4(data, caplen, out);
      break;
    case 6:
      status = DecodeIpv6(data, caplen, out);
      break;
    default:
      return DecodeStatus::kMalformed;
  }
  if (status == DecodeStatus::kTruncated && out->ip_version != 0) out->cut = true;
  return status;
}

DecodeStatus DecodeGeneral(LinkType link, const uint8_t* data, size_t caplen, Packet* out) {
  *out = Packet{};
  uint16_t ethertype;
  size_t at;
  switch (link) {
    case LinkType::kRaw:
      return DecodeIp(data, caplen, out);
    case LinkType::kIpv4:
    case LinkType::kIpv6: {
      // The link type says which version: a packet saying otherwise is damaged.
      const DecodeStatus status = DecodeIp(data, caplen, out);
      const uint8_t said = link == LinkType::kIpv4 ? 4 : 6;
      if (out->ip_version != 0 && out->ip_version != said) return DecodeStatus::kMalformed;
      return status;
    }
    case LinkType::kNull:
    case LinkType::kLoop:
      // The address family is in the capturing host's byte order (NULL) or
      // network order (LOOP), with values that differ between systems: the
      // IP header's version nibble says the same, unambiguously.
      if (caplen < 4) return DecodeStatus::kTruncated;
      return DecodeIp(data + 4, caplen - 4, out);
    case LinkType::kEthernet:
      if (caplen < 14) return DecodeStatus::kTruncated;
      ethertype = Be16(data + 12);
      at = 14;
      while (ethertype == kEtherVlan || ethertype == kEtherQinQ || ethertype == kEtherQinQOld) {
        if (caplen - at < 4) return DecodeStatus::kTruncated;
        ethertype = Be16(data + at + 2);
        at += 4;
      }
      break;
    case LinkType::kLinuxSll:
      if (caplen < 16) return DecodeStatus::kTruncated;
      ethertype = Be16(data + 14);
      at = 16;
      break;
    case LinkType::kLinuxSll2:
      if (caplen < 20) return DecodeStatus::kTruncated;
      ethertype = Be16(data);
      at = 20;
      break;
    default:
      return DecodeStatus::kUnsupportedLink;
  }
  if (ethertype != kEtherIpv4 && ethertype != kEtherIpv6) return DecodeStatus::kNotIp;
  const DecodeStatus status = DecodeIp(data + at, caplen - at, out);
  // The link layer said which IP version: a packet saying otherwise is damaged.
  if (out->ip_version != 0 && out->ip_version != (ethertype == kEtherIpv4 ? 4 : 6)) {
    return DecodeStatus::kMalformed;
  }
  return status;
}

// Most of a darknet's frames are Ethernet without a VLAN tag, carrying
// IPv4 (the version nibble agreeing with the EtherType). For them the
// general path's link switch, version switch and link/version agreement
// check all pass the same way: what is left is this.
DecodeStatus Decode(LinkType link, const uint8_t* data, size_t caplen, Packet* out) {
  if (link == LinkType::kEthernet && caplen > 14 && Be16(data + 12) == kEtherIpv4 &&
      data[14] >> 4 == 4) {
    *out = Packet{};
    const DecodeStatus status = DecodeIpv4(data + 14, caplen - 14, out);
    if (status == DecodeStatus::kTruncated && out->ip_version != 0) out->cut = true;
    return status;
  }
  return DecodeGeneral(link, data, caplen, out);
}

}  // namespace kizuna::sensor
