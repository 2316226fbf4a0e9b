#include "sensor/synth.h"

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace kizuna::sensor {
namespace {

namespace json = boost::json;

// xoshiro256** seeded through splitmix64: fast, and the same stream for a
// seed on every machine.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      word = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  uint32_t U32() { return static_cast<uint32_t>(Next() >> 32); }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((Next() >> 32) * n >> 32); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_;
};

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

uint32_t ChecksumAdd(uint32_t sum, const uint8_t* p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}
uint16_t ChecksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// One generated packet, before it is laid out.
struct Spec {
  uint8_t ip_version = 4;
  uint32_t src4 = 0, dst4 = 0;
  Ipv6Address src6{}, dst6{};
  uint8_t protocol = kProtoTcp;
  uint16_t ip_id = 0;
  uint8_t ttl = 64;
  uint16_t src_port = 0, dst_port = 0;
  uint8_t tcp_flags = tcp::kSyn;
  uint32_t seq = 0, ack = 0;
  uint16_t window = 0;
  bool mss = false;
  uint8_t icmp_type = 0, icmp_code = 0;
  uint8_t udp_payload = 0;  // bytes of UDP payload
  const char* fingerprint = nullptr;
};

// Lays out the IP packet (header, transport, payload) at `p`; returns its length.
size_t LayOutIp(const Spec& s, uint8_t* p) {
  uint8_t* l4;
  size_t ip_header;
  size_t l4_length;
  switch (s.protocol) {
    case kProtoTcp:
      l4_length = s.mss ? 24 : 20;
      break;
    case kProtoUdp:
      l4_length = 8 + size_t{s.udp_payload};
      break;
    default:  // ICMP / ICMPv6: 8 bytes, unreachables quote the offending header
      l4_length = s.icmp_type == 3 ? 8 + 28 : 8;
      break;
  }
  if (s.ip_version == 4) {
    ip_header = 20;
    std::memset(p, 0, 20);
    p[0] = 0x45;
    Put16(p + 2, static_cast<uint16_t>(20 + l4_length));
    Put16(p + 4, s.ip_id);
    p[8] = s.ttl;
    p[9] = s.protocol;
    Put32(p + 12, s.src4);
    Put32(p + 16, s.dst4);
    Put16(p + 10, ChecksumFold(ChecksumAdd(0, p, 20)));
  } else {
    ip_header = 40;
    std::memset(p, 0, 8);
    p[0] = 0x60;
    Put16(p + 4, static_cast<uint16_t>(l4_length));
    p[6] = s.protocol;
    p[7] = s.ttl;
    std::memcpy(p + 8, s.src6.data(), 16);
    std::memcpy(p + 24, s.dst6.data(), 16);
  }
  l4 = p + ip_header;
  std::memset(l4, 0, l4_length);
  switch (s.protocol) {
    case kProtoTcp:
      Put16(l4, s.src_port);
      Put16(l4 + 2, s.dst_port);
      Put32(l4 + 4, s.seq);
      Put32(l4 + 8, s.ack);
      l4[12] = static_cast<uint8_t>((l4_length / 4) << 4);
      l4[13] = s.tcp_flags;
      Put16(l4 + 14, s.window);
      if (s.mss) {
        l4[20] = 2;
        l4[21] = 4;
        Put16(l4 + 22, 1460);
      }
      break;
    case kProtoUdp:
      Put16(l4, s.src_port);
      Put16(l4 + 2, s.dst_port);
      Put16(l4 + 4, static_cast<uint16_t>(l4_length));
      for (size_t i = 8; i < l4_length; ++i) l4[i] = static_cast<uint8_t>(i * 37 + s.dst_port);
      break;
    default:
      l4[0] = s.icmp_type;
      l4[1] = s.icmp_code;
      Put16(l4 + 4, static_cast<uint16_t>(s.src_port));  // identifier
      Put16(l4 + 6, static_cast<uint16_t>(s.ip_id));     // sequence
      if (s.icmp_type == 3) {
        // The quoted packet: a SYN from the darknet address to the victim.
        uint8_t* q = l4 + 8;
        q[0] = 0x45;
        Put16(q + 2, 40);
        q[8] = 64;
        q[9] = kProtoTcp;
        Put32(q + 12, s.dst4);
        Put32(q + 16, s.src4);
        Put16(q + 20, static_cast<uint16_t>(1024 + (s.ip_id & 0x7FFF)));
        Put16(q + 22, s.dst_port);
      }
      break;
  }
  // Transport checksum over the pseudo-header.
  uint32_t sum = 0;
  if (s.ip_version == 4) {
    sum = ChecksumAdd(sum, p + 12, 8);
  } else {
    sum = ChecksumAdd(sum, p + 8, 32);
  }
  if (s.protocol != kProtoIcmp) {
    sum += s.protocol;
    sum += static_cast<uint32_t>(l4_length);
  } else {
    sum = 0;  // ICMPv4 has no pseudo-header
  }
  sum = ChecksumAdd(sum, l4, l4_length);
  const uint16_t checksum = ChecksumFold(sum);
  const size_t at = s.protocol == kProtoTcp ? 16 : s.protocol == kProtoUdp ? 6 : 2;
  Put16(l4 + at, checksum);
  return ip_header + l4_length;
}

// Lays out the link header for `ip_version` at `p`; returns its length.
size_t LayOutLink(const SynthOptions& o, uint8_t ip_version, uint8_t* p) {
  const uint16_t ethertype = ip_version == 4 ? 0x0800 : 0x86DD;
  switch (o.link) {
    case LinkType::kEthernet: {
      static constexpr uint8_t kMacs[12] = {0x00, 0x16, 0x3e, 0x11, 0x22, 0x33,
                                            0x00, 0x1c, 0x7f, 0x44, 0x55, 0x66};
      std::memcpy(p, kMacs, 12);
      if (o.vlan >= 0) {
        Put16(p + 12, 0x8100);
        Put16(p + 14, static_cast<uint16_t>(o.vlan & 0x0FFF));
        Put16(p + 16, ethertype);
        return 18;
      }
      Put16(p + 12, ethertype);
      return 14;
    }
    case LinkType::kLinuxSll:
      std::memset(p, 0, 16);
      Put16(p + 2, 1);  // ARPHRD_ETHER
      Put16(p + 4, 6);
      Put16(p + 14, ethertype);
      return 16;
    case LinkType::kLinuxSll2:
      std::memset(p, 0, 20);
      Put16(p, ethertype);
      Put32(p + 4, 2);  // interface index
      Put16(p + 8, 1);  // ARPHRD_ETHER
      p[11] = 6;
      return 20;
    case LinkType::kNull: {
      const uint32_t family = ip_version == 4 ? 2 : 24;  // AF_INET, BSD AF_INET6
      std::memcpy(p, &family, 4);                        // the capturing host's order
      return 4;
    }
    default:  // raw IP
      return 0;
  }
}

class Writer {
 public:
  Status Open(const std::string& path, const SynthOptions& o) {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) return IoError("cannot write " + path + ": " + std::strerror(errno));
    path_ = path;
    pcapng_ = o.pcapng;
    buffer_.reserve(kBuffer + 256);
    const uint32_t link = static_cast<uint32_t>(o.link);
    if (!pcapng_) {
      Append32(0xA1B2C3D4);
      Append16(2);
      Append16(4);
      Append32(0);
      Append32(0);
      Append32(262144);
      Append32(link);
    } else {
      Append32(0x0A0D0D0A);  // section header block
      Append32(28);
      Append32(0x1A2B3C4D);
      Append16(1);
      Append16(0);
      Append32(0xFFFFFFFF);
      Append32(0xFFFFFFFF);
      Append32(28);
      Append32(1);  // interface description block (microsecond timestamps)
      Append32(20);
      Append16(static_cast<uint16_t>(link));
      Append16(0);
      Append32(262144);
      Append32(20);
    }
    return Status::Ok();
  }
  ~Writer() {
    if (file_ != nullptr) std::fclose(file_);
  }

  void Frame(int64_t ts_us, const uint8_t* data, size_t length) {
    if (!pcapng_) {
      Append32(static_cast<uint32_t>(ts_us / 1000000));
      Append32(static_cast<uint32_t>(ts_us % 1000000));
      Append32(static_cast<uint32_t>(length));
      Append32(static_cast<uint32_t>(length));
      buffer_.insert(buffer_.end(), data, data + length);
    } else {
      const size_t padded = (length + 3) & ~size_t{3};
      const uint32_t total = static_cast<uint32_t>(32 + padded);
      Append32(6);  // enhanced packet block
      Append32(total);
      Append32(0);
      Append32(static_cast<uint32_t>(static_cast<uint64_t>(ts_us) >> 32));
      Append32(static_cast<uint32_t>(ts_us));
      Append32(static_cast<uint32_t>(length));
      Append32(static_cast<uint32_t>(length));
      buffer_.insert(buffer_.end(), data, data + length);
      buffer_.insert(buffer_.end(), padded - length, 0);
      Append32(total);
    }
    if (buffer_.size() >= kBuffer) Flush();
  }

  Status Close() {
    Flush();
    const bool failed = failed_ || std::fclose(file_) != 0;
    file_ = nullptr;
    if (failed) return IoError("writing " + path_ + " failed");
    return Status::Ok();
  }

 private:
  static constexpr size_t kBuffer = 1 << 20;
  void Append16(uint16_t v) {  // the file's own (host) byte order, as libpcap writes
    const size_t at = buffer_.size();
    buffer_.resize(at + 2);
    std::memcpy(buffer_.data() + at, &v, 2);
  }
  void Append32(uint32_t v) {
    const size_t at = buffer_.size();
    buffer_.resize(at + 4);
    std::memcpy(buffer_.data() + at, &v, 4);
  }
  void Flush() {
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      failed_ = true;
    }
    buffer_.clear();
  }
  std::FILE* file_ = nullptr;
  std::string path_;
  bool pcapng_ = false;
  bool failed_ = false;
  std::vector<uint8_t> buffer_;
};

struct WeightedPort {
  uint16_t port;
  uint32_t weight;
};
constexpr WeightedPort kScanPorts[] = {
    {23, 10},  {22, 8},   {80, 8},   {443, 7},  {445, 7},  {3389, 6},  {8080, 5},
    {5555, 3}, {2323, 2}, {7547, 2}, {8443, 2}, {6379, 2}, {1433, 2},  {3306, 2},
    {5900, 2}, {81, 1},   {8000, 1}, {8888, 1}, {9200, 1}, {37215, 1}, {52869, 1}};
constexpr uint16_t kUdpPorts[] = {53, 123, 161, 1900, 5060, 11211, 137, 19, 389, 3702};
constexpr uint16_t kServicePorts[] = {80, 443, 53, 25, 22};

uint16_t ScanPort(Rng& rng) {
  static const uint32_t total = [] {
    uint32_t t = 0;
    for (const auto& p : kScanPorts) t += p.weight;
    return t;
  }();
  // A sixth of the probes go to any port at all.
  if (rng.Below(6) == 0) return static_cast<uint16_t>(1 + rng.Below(65535));
  uint32_t pick = rng.Below(total);
  for (const auto& p : kScanPorts) {
    if (pick < p.weight) return p.port;
    pick -= p.weight;
  }
  return 23;
}

std::vector<uint32_t> Pool(Rng& rng, size_t n, const std::unordered_set<uint32_t>& avoid,
                           uint32_t darknet, uint32_t darknet_mask) {
  std::vector<uint32_t> pool;
  std::unordered_set<uint32_t> seen;
  while (pool.size() < n) {
    const uint32_t a = rng.U32();
    const uint8_t top = static_cast<uint8_t>(a >> 24);
    // Public-looking unicast addresses only, never the darknet itself.
    if (top == 0 || top == 10 || top == 127 || top >= 224 || (a & darknet_mask) == darknet) {
      continue;
    }
    if (avoid.contains(a) || !seen.insert(a).second) continue;
    pool.push_back(a);
  }
  return pool;
}

constexpr uint16_t kZmapId = 54321;
uint16_t MasscanId(const Spec& s) {
  return static_cast<uint16_t>((s.dst4 ^ s.dst_port ^ s.seq) & 0xFFFF);
}

// Keeps traffic that is not a scanner's from carrying its fingerprint by chance.
void AvoidFingerprints(Spec& s) {
  if (s.ip_version != 4) return;
  const bool syn = s.protocol == kProtoTcp && s.tcp_flags == tcp::kSyn;
  const std::string_view f = s.fingerprint ? s.fingerprint : "";
  if (f == "masscan") {
    while ((s.ip_id = MasscanId(s)) == kZmapId || s.seq == s.dst4) s.seq += 0x10;
    return;
  }
  for (int i = 0; i < 4; ++i) {
    if (syn && f != "mirai" && s.seq == s.dst4) s.seq ^= 0x10000;
    if (f == "zmap") {
      if (syn && s.ip_id == MasscanId(s)) s.seq ^= 0x20;
      continue;
    }
    if (s.ip_id == kZmapId) s.ip_id ^= 0x0100;
    if (syn && s.ip_id == MasscanId(s)) s.ip_id ^= 0x0200;
  }
}

}  // namespace

void SynthTruth::Sources::Add(const Packet& p) {
  if (p.ip_version == 4) {
    v4.insert(p.src4);
  } else {
    v6.insert(p.src6);
  }
}

std::string SynthTruth::Json() const {
  json::object out;
  out["packets"] = packets;
  out["sources"] = sources.size();
  json::object c;
  for (const char* name : {"scan", "backscatter", "udp", "icmp"}) {
    auto it = classes.find(name);
    c[name] = it == classes.end() ? 0 : it->second.size();
  }
  out["classes"] = std::move(c);
  json::object f;
  for (const char* name : {"mirai", "zmap", "masscan"}) {
    auto it = fingerprints.find(name);
    f[name] = it == fingerprints.end() ? 0 : it->second.size();
  }
  out["fingerprints"] = std::move(f);
  json::array ports_out;
  for (const auto& [key, port] : ports) {
    ports_out.push_back(json::object{{"proto", key.first},
                                     {"port", key.second},
                                     {"packets", port.packets},
                                     {"sources", port.sources.size()}});
  }
  out["ports"] = std::move(ports_out);
  if (outbreak_start_us != 0) out["outbreak_start_us"] = outbreak_start_us;
  return json::serialize(out);
}

Status WriteSynth(const SynthOptions& o, const std::string& path, SynthTruth* truth,
                  const std::function<void(uint64_t done, uint64_t total)>& progress) {
  if (o.darknet_length < 8 || o.darknet_length > 30) {
    return InvalidArgument("the darknet prefix must be /8 to /30");
  }
  if (o.duration_s <= 0) return InvalidArgument("the duration must be positive");
  if (o.outbreak_share < 0 || o.outbreak_share >= 1 || o.ipv6_share < 0 || o.ipv6_share >= 1) {
    return InvalidArgument("shares are fractions below 1");
  }
  if (o.link != LinkType::kEthernet && o.link != LinkType::kRaw && o.link != LinkType::kLinuxSll &&
      o.link != LinkType::kLinuxSll2 && o.link != LinkType::kNull) {
    return InvalidArgument("synth writes ethernet, raw, sll, sll2 or null captures");
  }
  Writer writer;
  KIZUNA_RETURN_IF_ERROR(writer.Open(path, o));

  Rng rng(o.seed);
  const uint32_t mask = ~uint32_t{0} << (32 - o.darknet_length);
  const uint32_t darknet = o.darknet & mask;
  const uint32_t hosts = ~mask;
  std::unordered_set<uint32_t> none;
  const std::vector<uint32_t> background = Pool(rng, 40000, none, darknet, mask);
  const std::vector<uint32_t> victims = Pool(rng, 300, none, darknet, mask);
  const std::vector<uint32_t> zmap = Pool(rng, 20, none, darknet, mask);
  const std::vector<uint32_t> masscan = Pool(rng, 20, none, darknet, mask);
  const std::vector<uint32_t> bots = Pool(rng, 2000, none, darknet, mask);
  std::unordered_set<uint32_t> known(background.begin(), background.end());
  known.insert(victims.begin(), victims.end());
  known.insert(zmap.begin(), zmap.end());
  known.insert(masscan.begin(), masscan.end());
  known.insert(bots.begin(), bots.end());
  const std::vector<uint32_t> outbreak = Pool(rng, o.outbreak_sources, known, darknet, mask);
  std::vector<Ipv6Address> sources6(500);
  for (Ipv6Address& a : sources6) {
    a = {0x24, 0x00, 0xcb, 0x00};
    for (size_t i = 4; i < 16; ++i) a[i] = static_cast<uint8_t>(rng.Below(256));
  }
  const Ipv6Address darknet6 = {0x20, 0x01, 0x0d, 0xb8, 0x6b, 0x7a};
  // A Mirai probe from one of `pool`: 23/tcp, a tenth to 2323, the sequence
  // number the destination; each bot keeps its window, as Mirai's scanner does.
  auto mirai_probe = [&rng](Spec& s, const std::vector<uint32_t>& pool) {
    s.src4 = pool[rng.Below(static_cast<uint32_t>(pool.size()))];
    s.dst_port = rng.Below(10) == 0 ? 2323 : 23;
    s.seq = s.dst4;
    s.window = static_cast<uint16_t>(s.src4 * 2654435761u >> 16);
    s.ttl = static_cast<uint8_t>(64 - rng.Below(20));
    s.fingerprint = "mirai";
  };

  const double duration_us = static_cast<double>(o.duration_s) * 1e6;
  const double outbreak_at_us =
      (o.outbreak_at_s >= 0 ? static_cast<double>(o.outbreak_at_s) * 1e6 : duration_us * 2 / 3);
  const double mean_gap_us = duration_us / static_cast<double>(o.packets == 0 ? 1 : o.packets);
  double t = 0;
  std::array<uint8_t, 256> frame;
  Packet decoded;
  for (uint64_t n = 0; n < o.packets; ++n) {
    // The rate follows the time of day (lowest at 06:00, highest at 18:00);
    // the outbreak's packets come on top of the rest.
    const double day = std::fmod(t / 86400e6, 1.0);
    double rate = 1.0 + 0.4 * std::sin(2 * M_PI * (day - 0.5));
    const bool outbreak_on = t >= outbreak_at_us && !outbreak.empty() && o.outbreak_share > 0;
    if (outbreak_on) rate /= (1 - o.outbreak_share);
    t += -std::log(1 - rng.Unit()) * mean_gap_us / rate;
    const int64_t ts_us = o.start_us + static_cast<int64_t>(t);

    Spec s;
    s.dst4 = darknet | (rng.U32() & hosts);
    s.ip_id = static_cast<uint16_t>(rng.U32());
    s.ttl = static_cast<uint8_t>(30 + rng.Below(100));
    s.src_port = static_cast<uint16_t>(1024 + rng.Below(64511));
    s.seq = rng.U32();
    s.window = static_cast<uint16_t>(rng.Below(2) ? 29200 : 64240);
    const char* traffic = "scan";
    if (outbreak_on && rng.Unit() < o.outbreak_share) {
      mirai_probe(s, outbreak);
      if (truth != nullptr && truth->outbreak_start_us == 0) truth->outbreak_start_us = ts_us;
    } else if (rng.Unit() < o.ipv6_share) {
      s.ip_version = 6;
      s.src6 = sources6[rng.Below(static_cast<uint32_t>(sources6.size()))];
      s.dst6 = darknet6;
      for (size_t i = 6; i < 16; ++i) s.dst6[i] = static_cast<uint8_t>(rng.Below(256));
      if (rng.Below(4) == 0) {
        s.protocol = kProtoIcmpv6;
        s.icmp_type = 128;  // echo request
        traffic = "icmp";
      } else {
        s.dst_port = ScanPort(rng);
        s.mss = true;
      }
    } else {
      const uint32_t pick = rng.Below(100);
      // Sources: skewed, a few background sources send most of it.
      const double u = rng.Unit();
      const uint32_t skewed = static_cast<uint32_t>(u * u * static_cast<double>(background.size()));
      if (pick < 45) {  // background SYN scans
        s.src4 = background[skewed];
        s.dst_port = ScanPort(rng);
        s.mss = rng.Below(2) == 0;
      } else if (pick < 60) {  // backscatter
        s.src4 = victims[rng.Below(static_cast<uint32_t>(victims.size()))];
        s.src_port = kServicePorts[rng.Below(5)];
        s.dst_port = static_cast<uint16_t>(1024 + rng.Below(64511));
        traffic = "backscatter";
        const uint32_t kind = rng.Below(10);
        if (kind < 6) {
          s.tcp_flags = tcp::kSyn | tcp::kAck;
          s.ack = rng.U32();
        } else if (kind < 9) {
          s.tcp_flags = rng.Below(2) ? tcp::kRst : (tcp::kRst | tcp::kAck);
        } else {
          s.protocol = kProtoIcmp;
          s.icmp_type = 3;
          s.icmp_code = rng.Below(2) ? 1 : 3;
        }
      } else if (pick < 73) {  // UDP probes
        s.src4 = background[skewed];
        s.protocol = kProtoUdp;
        s.dst_port = kUdpPorts[rng.Below(10)];
        s.udp_payload = static_cast<uint8_t>(8 + rng.Below(40));
        traffic = "udp";
      } else if (pick < 78) {  // ICMP echo
        s.src4 = background[skewed];
        s.protocol = kProtoIcmp;
        s.icmp_type = 8;
        traffic = "icmp";
      } else if (pick < 83) {  // ZMap up to 4.0: one port per scanner
        const uint32_t i = rng.Below(static_cast<uint32_t>(zmap.size()));
        s.src4 = zmap[i];
        s.dst_port = i % 3 == 0 ? 443 : i % 3 == 1 ? 80 : 8080;
        s.ip_id = kZmapId;
        s.window = 65535;
        s.ttl = static_cast<uint8_t>(255 - rng.Below(30));
        s.fingerprint = "zmap";
      } else if (pick < 88) {  // masscan
        const uint32_t i = rng.Below(static_cast<uint32_t>(masscan.size()));
        s.src4 = masscan[i];
        s.dst_port = i % 2 == 0 ? ScanPort(rng) : 3389;
        s.src_port = static_cast<uint16_t>(40000 + (i * 7919) % 20000);
        s.window = 1024;
        s.ttl = static_cast<uint8_t>(255 - rng.Below(30));
        s.ip_id = MasscanId(s);
        s.fingerprint = "masscan";
      } else {  // Mirai bots before the outbreak
        mirai_probe(s, bots);
      }
    }
    AvoidFingerprints(s);
    const size_t link = LayOutLink(o, s.ip_version, frame.data());
    const size_t length = link + LayOutIp(s, frame.data() + link);
    writer.Frame(ts_us, frame.data(), length);

    if (truth != nullptr) {
      // The truth from what was generated (not from decoding it back).
      decoded = Packet{};
      decoded.ip_version = s.ip_version;
      decoded.src4 = s.src4;
      decoded.src6 = s.src6;
      ++truth->packets;
      truth->sources.Add(decoded);
      truth->classes[traffic].Add(decoded);
      if (s.fingerprint != nullptr) truth->fingerprints[s.fingerprint].Add(decoded);
      std::pair<std::string, uint16_t> key;
      switch (s.protocol) {
        case kProtoTcp:
          key = {"tcp", s.dst_port};
          break;
        case kProtoUdp:
          key = {"udp", s.dst_port};
          break;
        case kProtoIcmp:
          key = {"icmp", s.icmp_type};
          break;
        default:
          key = {"icmpv6", s.icmp_type};
          break;
      }
      SynthTruth::PortTruth& port = truth->ports[key];
      ++port.packets;
      port.sources.Add(decoded);
    }
    if (progress && (n & 0xFFFFF) == 0xFFFFF) progress(n + 1, o.packets);
  }
  KIZUNA_RETURN_IF_ERROR(writer.Close());
  if (progress) progress(o.packets, o.packets);
  return Status::Ok();
}

}  // namespace kizuna::sensor
