// libFuzzer target: captured frames from a darknet sensor, where anyone on
// the Internet writes the bytes. The first byte picks the link type (every
// one packet.h decodes, and one it does not), the rest is the frame:
// `Decode`, then `Classify` and the built-in fingerprints' `Match`. Checked
// beyond "no crash, no sanitizer report": the status is one of the five,
// an unsupported link type is reported as such and only for it, kOk comes
// with an IP version, a later fragment has no transport header and a
// transport header is one of TCP, UDP, ICMP, ICMPv6, what is set belongs to
// the IP version decoded, the TCP options length is a whole number of words
// up to 40, decoding does not depend on what the Packet held before, and
// Match sets no bit past the rule count.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <tuple>

#include "sensor/fingerprint.h"
#include "sensor/packet.h"

namespace {

using kizuna::sensor::DecodeStatus;
using kizuna::sensor::Ipv6Address;
using kizuna::sensor::LinkType;
using kizuna::sensor::Packet;

constexpr LinkType kLinks[] = {
    LinkType::kNull,
    LinkType::kEthernet,
    LinkType::kRaw,
    LinkType::kLoop,
    LinkType::kLinuxSll,
    LinkType::kIpv4,
    LinkType::kIpv6,
    LinkType::kLinuxSll2,
    static_cast<LinkType>(147),  // LINKTYPE_USER0: not decoded
};
constexpr size_t kUnsupported = std::size(kLinks) - 1;

auto Fields(const Packet& p) {
  return std::make_tuple(p.ip_version, p.protocol, p.has_transport, p.fragment, p.src4, p.dst4,
                         p.src6, p.dst6, p.ip_id, p.ttl, p.ip_length, p.src_port, p.dst_port,
                         p.tcp_flags, p.tcp_seq, p.tcp_ack, p.tcp_window, p.tcp_options_length,
                         p.icmp_type, p.icmp_code);
}

bool IsTransport(uint8_t protocol) {
  return protocol == kizuna::sensor::kProtoTcp || protocol == kizuna::sensor::kProtoUdp ||
         protocol == kizuna::sensor::kProtoIcmp || protocol == kizuna::sensor::kProtoIcmpv6;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t pick = data[0] % std::size(kLinks);
  const LinkType link = kLinks[pick];
  const uint8_t* frame = data + 1;
  const size_t caplen = size - 1;

  Packet p;
  const DecodeStatus status = kizuna::sensor::Decode(link, frame, caplen, &p);
  if (static_cast<int>(status) > static_cast<int>(DecodeStatus::kNotIp)) __builtin_trap();
  if ((status == DecodeStatus::kUnsupportedLink) != (pick == kUnsupported)) __builtin_trap();
  if (status == DecodeStatus::kOk && p.ip_version != 4 && p.ip_version != 6) __builtin_trap();
  if (p.ip_version != 0 && p.ip_version != 4 && p.ip_version != 6) __builtin_trap();
  if (p.has_transport && (p.fragment || !IsTransport(p.protocol))) __builtin_trap();
  if (p.has_transport && status == DecodeStatus::kTruncated) __builtin_trap();
  if (p.tcp_options_length > 40 || p.tcp_options_length % 4 != 0) __builtin_trap();
  if (p.ip_version == 4 && (p.src6 != Ipv6Address{} || p.dst6 != Ipv6Address{})) {
    __builtin_trap();
  }
  if (p.ip_version == 6 && (p.src4 != 0 || p.dst4 != 0 || p.ip_id != 0)) __builtin_trap();
  if (p.ip_version == 0 && Fields(p) != Fields(Packet{})) __builtin_trap();

  // A capture loop reuses one Packet: the previous frame must not show.
  Packet dirty;
  std::memset(static_cast<void*>(&dirty), 0xA5, sizeof dirty);
  dirty.has_transport = true;
  dirty.fragment = true;
  if (kizuna::sensor::Decode(link, frame, caplen, &dirty) != status) __builtin_trap();
  if (Fields(dirty) != Fields(p)) __builtin_trap();

  const auto traffic_class = kizuna::sensor::Classify(p);
  if (!p.has_transport && traffic_class != kizuna::sensor::TrafficClass::kOther) __builtin_trap();
  (void)kizuna::sensor::TrafficClassName(traffic_class);
  (void)kizuna::sensor::DecodeStatusName(status);

  const kizuna::sensor::FingerprintSet& rules = kizuna::sensor::FingerprintSet::BuiltIn();
  const uint32_t matched = rules.Match(p);
  if (rules.size() < 32 && (matched >> rules.size()) != 0) __builtin_trap();
  return 0;
}
