// A distinct-count sketch (HyperLogLog, 2^12 registers) for what may not
// travel as addresses: a partner's sources counted without the addresses.
// Two sketches of the same kind merge (register-wise maximum), so sources
// seen by several sensors or partners are counted once. Standard error
// 1.04 / sqrt(4096) = 1.6 %; below about 13,000 sources the linear-counting
// estimate is used (mean error under 1.5 %, about 1 % below 5,000).
//
// The hash is SipHash-2-4 under a fixed, published key ("kizuna-sketch-v1"):
// every node must hash alike for sketches to merge. A sketch therefore says
// which registers an address would touch; it does not list addresses, but a
// partner holding a candidate address can test whether it is compatible with
// a sketch. That is why sketches go out under the per-port aggregates'
// marking and the addresses under their own (README, "Telescope").
//
// Plain value type; not thread-safe to mutate.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sensor/packet.h"

namespace kizuna::sensor {

class DistinctSketch {
 public:
  static constexpr int kPrecision = 12;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;

  void AddV4(uint32_t address);
  void AddV6(const Ipv6Address& address);
  void Merge(const DistinctSketch& other);
  double Estimate() const;
  bool empty() const;

  // Compact bytes: the non-zero registers (index, rank) while few, else
  // every register. Parse refuses anything that Serialize cannot produce.
  std::string Serialize() const;
  // Serialize() of the sketch of these addresses, without building every
  // register when they are few (a port's sources in one minute).
  static std::string SerializeOf(std::span<const uint32_t> v4, std::span<const Ipv6Address> v6);
  static Result<DistinctSketch> Parse(std::string_view bytes);

 private:
  void AddHash(uint64_t hash);
  static uint64_t HashV4(uint32_t address);
  static uint64_t HashV6(const Ipv6Address& address);
  std::array<uint8_t, kRegisters> registers_{};
};

}  // namespace kizuna::sensor
