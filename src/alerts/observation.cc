#include "alerts/observation.h"

#include <arpa/inet.h>

#include <cstring>

namespace kizuna::alerts {

std::optional<HostAddress> ParseHostAddress(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find(':') == std::string_view::npos) {
    auto v4 = correlation::ParseIpv4(text);
    if (!v4) return std::nullopt;
    return HostAddress::V4(*v4);
  }
  auto v6 = correlation::ParseIpv6(text);
  if (!v6) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6->data(), kMapped, sizeof(kMapped)) == 0) {
    const auto& b = *v6;
    return HostAddress::V4((uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) |
                           (uint32_t{b[14]} << 8) | uint32_t{b[15]});
  }
  return HostAddress::V6(*v6);
}

std::string FormatHostAddress(const HostAddress& address) {
  if (!address.is_v6) return correlation::FormatIpv4(address.v4);
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, address.v6.data(), buf, sizeof(buf)) == nullptr) return "::";
  return buf;
}

size_t HostAddressHash::operator()(const HostAddress& a) const noexcept {
  // 64-bit mix (splitmix64 finaliser) of the address words.
  auto mix = [](uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
  };
  if (!a.is_v6) return mix(a.v4);
  uint64_t hi, lo;
  std::memcpy(&hi, a.v6.data(), 8);
  std::memcpy(&lo, a.v6.data() + 8, 8);
  return mix(hi ^ mix(lo ^ 0x9e3779b97f4a7c15ull));
}

}  // namespace kizuna::alerts
