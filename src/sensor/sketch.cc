#include "sensor/sketch.h"

#include <sodium.h>

#include <bit>
#include <cmath>

namespace kizuna::sensor {
namespace {

// Published: a partner's node must hash exactly like ours.
constexpr unsigned char kSketchKey[crypto_shorthash_KEYBYTES] = {
    'k', 'i', 'z', 'u', 'n', 'a', '-', 's', 'k', 'e', 't', 'c', 'h', '-', 'v', '1'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kMaxRank = 64 - DistinctSketch::kPrecision + 1;
// HyperLogLog++'s switch-over point for 2^12 registers: below it, linear
// counting is the better estimate.
constexpr double kLinearCountingLimit = 3100;

uint64_t Hash(const unsigned char* data, size_t size) {
  uint64_t h;
  crypto_shorthash(reinterpret_cast<unsigned char*>(&h), data, size, kSketchKey);
  return h;
}

}  // namespace

void DistinctSketch::AddHash(uint64_t hash) {
  const size_t index = hash >> (64 - kPrecision);
  const uint64_t rest = hash << kPrecision;
  const uint8_t rank = rest == 0 ? kMaxRank : static_cast<uint8_t>(std::countl_zero(rest) + 1);
  if (rank > registers_[index]) registers_[index] = rank;
}

void DistinctSketch::AddV4(uint32_t address) {
  unsigned char bytes[5] = {
      4, static_cast<unsigned char>(address >> 24), static_cast<unsigned char>(address >> 16),
      static_cast<unsigned char>(address >> 8), static_cast<unsigned char>(address)};
  AddHash(Hash(bytes, sizeof bytes));
}

void DistinctSketch::AddV6(const Ipv6Address& address) {
  unsigned char bytes[17];
  bytes[0] = 6;
  std::copy(address.begin(), address.end(), bytes + 1);
  AddHash(Hash(bytes, sizeof bytes));
}

void DistinctSketch::Merge(const DistinctSketch& other) {
  for (size_t i = 0; i < kRegisters; ++i) {
    if (other.registers_[i] > registers_[i]) registers_[i] = other.registers_[i];
  }
}

bool DistinctSketch::empty() const {
  for (uint8_t r : registers_) {
    if (r != 0) return false;
  }
  return true;
}

double DistinctSketch::Estimate() const {
  constexpr double m = static_cast<double>(kRegisters);
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(r));
    if (r == 0) ++zeros;
  }
  if (zeros != 0) {
    const double linear = m * std::log(m / static_cast<double>(zeros));
    if (linear <= kLinearCountingLimit) return linear;
  }
  const double alpha = 0.7213 / (1 + 1.079 / m);
  return alpha * m * m / sum;
}

std::string DistinctSketch::Serialize() const {
  size_t used = 0;
  for (uint8_t r : registers_) used += r != 0;
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  if (used * 3 + 2 < kRegisters) {
    out.push_back('s');
    out.push_back(static_cast<char>(used >> 8));
    out.push_back(static_cast<char>(used & 0xFF));
    for (size_t i = 0; i < kRegisters; ++i) {
      if (registers_[i] == 0) continue;
      out.push_back(static_cast<char>(i >> 8));
      out.push_back(static_cast<char>(i & 0xFF));
      out.push_back(static_cast<char>(registers_[i]));
    }
  } else {
    out.push_back('d');
    out.append(reinterpret_cast<const char*>(registers_.data()), kRegisters);
  }
  return out;
}

Result<DistinctSketch> DistinctSketch::Parse(std::string_view bytes) {
  DistinctSketch sketch;
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != kVersion) {
    return InvalidArgument("sketch: not a version 1 sketch");
  }
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if (bytes[1] == 'd') {
    if (bytes.size() != 2 + kRegisters) return InvalidArgument("sketch: dense size is wrong");
    for (size_t i = 0; i < kRegisters; ++i) {
      if (byte(2 + i) > kMaxRank) return InvalidArgument("sketch: register out of range");
      sketch.registers_[i] = byte(2 + i);
    }
    return sketch;
  }
  if (bytes[1] != 's' || bytes.size() < 4) return InvalidArgument("sketch: unknown kind");
  const size_t used = size_t{byte(2)} << 8 | byte(3);
  if (bytes.size() != 4 + used * 3) return InvalidArgument("sketch: sparse size is wrong");
  long previous = -1;
  for (size_t e = 0; e < used; ++e) {
    const size_t at = 4 + e * 3;
    const long index = long{byte(at)} << 8 | byte(at + 1);
    const uint8_t rank = byte(at + 2);
    if (index <= previous || index >= static_cast<long>(kRegisters) || rank == 0 ||
        rank > kMaxRank) {
      return InvalidArgument("sketch: sparse entry out of order or range");
    }
    sketch.registers_[static_cast<size_t>(index)] = rank;
    previous = index;
  }
  return sketch;
}

}  // namespace kizuna::sensor
