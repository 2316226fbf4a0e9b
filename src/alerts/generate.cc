#include "alerts/generate.h"

#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "alerts/observation.h"

namespace kizuna::alerts {
namespace {

// splitmix64: portable, unlike the standard distributions.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for n far below 2^32.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((Next() >> 32) * n >> 32); }
  bool Chance(uint32_t percent) { return Below(100) < percent; }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

bool IsPublicIpv4(uint32_t a) {
  const uint32_t b1 = a >> 24;
  const uint32_t b2 = (a >> 16) & 0xff;
  if (b1 == 0 || b1 == 10 || b1 == 127 || b1 >= 224) return false;
  if (b1 == 100 && (b2 & 0xc0) == 64) return false;                // 100.64/10
  if (b1 == 169 && b2 == 254) return false;                        // link local
  if (b1 == 172 && (b2 & 0xf0) == 16) return false;                // 172.16/12
  if (b1 == 192 && b2 == 168) return false;                        // 192.168/16
  if ((a >> 8) == 0xc00000 || (a >> 8) == 0xc00002) return false;  // 192.0.0/24, 192.0.2/24
  if (b1 == 198 && (b2 & 0xfe) == 18) return false;                // 198.18/15
  if ((a >> 8) == 0xc63364 || (a >> 8) == 0xcb0071) return false;  // 198.51.100/24, 203.0.113/24
  return true;
}

struct Network {
  uint32_t asn;
  const char* country;
  const char* region;
  const char* city;
  uint32_t naics;
};

constexpr std::array<Network, 12> kNetworks = {{
    {4713, "JP", "TOKYO", "TOKYO", 517311},
    {2516, "JP", "OSAKA", "OSAKA", 517311},
    {17676, "JP", "KANAGAWA", "YOKOHAMA", 517311},
    {4766, "KR", "SEOUL", "SEOUL", 517311},
    {9829, "IN", "KERALA", "KOCHI", 518210},
    {7713, "ID", "JAKARTA RAYA", "JAKARTA", 0},
    {45899, "VN", "HA NOI", "HANOI", 517311},
    {4134, "CN", "GUANGDONG", "GUANGZHOU", 0},
    {8708, "RO", "CONSTANTA", "CONSTANTA", 517311},
    {3320, "DE", "HESSEN", "FRANKFURT AM MAIN", 517311},
    {7922, "US", "CALIFORNIA", "SAN JOSE", 517311},
    {28573, "BR", "SAO PAULO", "SAO PAULO", 517311},
}};

constexpr std::array<const char*, 8> kTelnetBanners = {
    "",
    "",
    "\\r\\nlogin:",
    "|MikroTik v6.45.3 (stable)|Login:",
    "BusyBox v1.19.4 (2016-01-07 10:20:37 CST) built-in shell (ash)",
    "User Access Verification, Username:",  // a comma: the field gets quoted
    "Welcome to \"ZXHN H108N\", Login:",    // quotes too
    "Password:"};
constexpr std::array<const char*, 8> kInfections = {"mirai", "mirai", "mozi",   "andromeda",
                                                    "gamut", "virut", "qakbot", "necurs"};

void AppendQuoted(std::string_view value, std::string* out) {
  const bool quote = value.find_first_of(",\"\n") != std::string_view::npos;
  if (!quote) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendNumber(uint64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// "YYYY-MM-DD HH:MM:SS" of seconds since the epoch.
void AppendTime(int64_t seconds, std::string* out) {
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  // civil_from_days (Howard Hinnant).
  days += 719468;
  const int64_t era = days / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  char buf[24];
  const int values[6] = {static_cast<int>(y),
                         static_cast<int>(m),
                         static_cast<int>(d),
                         static_cast<int>(rest / 3600),
                         static_cast<int>(rest / 60 % 60),
                         static_cast<int>(rest % 60)};
  char* p = buf;
  auto two = [&](int v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  two(values[0] / 100);
  two(values[0] % 100);
  *p++ = '-';
  two(values[1]);
  *p++ = '-';
  two(values[2]);
  *p++ = ' ';
  two(values[3]);
  *p++ = ':';
  two(values[4]);
  *p++ = ':';
  two(values[5]);
  out->append(buf, p);
}

enum class Kind { kScan, kSinkhole, kSinkholeHttp, kDarknet, kDrone };

constexpr std::string_view kScanHeader =
    "timestamp,severity,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,hostname_source,"
    "sector,banner";
constexpr std::string_view kEventColumns =
    "timestamp,protocol,src_ip,src_port,src_asn,src_geo,src_region,src_city,src_hostname,"
    "src_naics,src_sector,device_vendor,device_type,device_model,severity,dst_ip,dst_port,dst_asn,"
    "dst_geo,dst_region,dst_city,dst_hostname,dst_naics,dst_sector,public_source,infection,family,"
    "tag,application,version,event_id";
constexpr std::string_view kDroneHeader =
    "timestamp,ip,port,asn,geo,region,city,hostname,type,infection,url,agent,cc_ip,cc_port,cc_asn,"
    "cc_geo,cc_dns,count,proxy,application,p0f_genre,p0f_detail,machine_name,id,naics,sic,"
    "cc_naics,cc_sic,sector,cc_sector,ssl_cipher,family,tag,public_source";

class Generator {
 public:
  Generator(uint64_t seed) : random_(seed ^ 0x6b697a756e61ull) { pool_.reserve(kPool); }

  // A host address: a fresh public one, or one seen before (about 1 in 5).
  HostAddress Host() {
    if (!pool_.empty() && random_.Chance(20)) return pool_[random_.Below(pool_.size())];
    HostAddress a;
    if (random_.Chance(8)) {
      static constexpr std::array<uint16_t, 6> kPrefixes = {0x2001, 0x2400, 0x2401,
                                                            0x2a01, 0x2600, 0x2804};
      const uint16_t first = random_.Pick(kPrefixes);
      a.is_v6 = true;
      a.v6[0] = static_cast<uint8_t>(first >> 8);
      a.v6[1] = static_cast<uint8_t>(first);
      for (int i = 2; i < 16; ++i) a.v6[i] = static_cast<uint8_t>(random_.Next());
      if (first == 0x2001 && a.v6[2] == 0x0d && a.v6[3] == 0xb8) a.v6[3] = 0xb9;
    } else {
      uint32_t v;
      do {
        v = static_cast<uint32_t>(random_.Next());
      } while (!IsPublicIpv4(v));
      a.v4 = v;
    }
    if (pool_.size() < kPool) {
      pool_.push_back(a);
    } else {
      pool_[random_.Below(kPool)] = a;
    }
    return a;
  }

  void Row(Kind kind, int64_t seconds, std::string* out) {
    const HostAddress host = Host();
    const std::string ip = FormatHostAddress(host);
    const Network& net = random_.Pick(kNetworks);
    const bool named = random_.Chance(40);
    std::string hostname;
    if (named && !host.is_v6) {
      hostname = "p" + std::to_string(host.v4 & 0xffff) + "-" + std::to_string(host.v4 >> 16) +
                 ".dyn.example.net";
    }
    switch (kind) {
      case Kind::kScan: {
        const uint32_t r = random_.Below(100);
        const uint32_t port = r < 85 ? 23 : r < 95 ? 2323 : 5678;
        AppendTime(seconds, out);
        out->append(random_.Chance(30) ? ",high," : ",medium,");
        out->append(ip);
        out->append(",tcp,");
        AppendNumber(port, out);
        out->push_back(',');
        out->append(hostname);
        out->append(port == 23 ? ",telnet," : ",telnet-alt,");
        AppendNumber(net.asn, out);
        out->push_back(',');
        out->append(net.country);
        out->push_back(',');
        out->append(net.region);
        out->push_back(',');
        out->append(net.city);
        out->push_back(',');
        if (net.naics != 0) AppendNumber(net.naics, out);
        out->append(named ? ",ptr," : ",,");
        AppendQuoted("Communications, Service Provider, and Hosting Service", out);
        out->push_back(',');
        AppendQuoted(random_.Pick(kTelnetBanners), out);
        break;
      }
      case Kind::kSinkhole:
      case Kind::kSinkholeHttp:
      case Kind::kDarknet: {
        const char* infection = random_.Pick(kInfections);
        const bool darknet = kind == Kind::kDarknet;
        AppendTime(seconds, out);
        out->append(",tcp,");
        out->append(ip);
        out->push_back(',');
        AppendNumber(1024 + random_.Below(64000), out);
        out->push_back(',');
        AppendNumber(net.asn, out);
        out->push_back(',');
        out->append(net.country);
        out->push_back(',');
        out->append(net.region);
        out->push_back(',');
        out->append(net.city);
        out->push_back(',');
        out->append(hostname);
        out->push_back(',');
        if (net.naics != 0) AppendNumber(net.naics, out);
        out->append(",,,,,");
        out->append(darknet ? "medium" : "high");
        out->push_back(',');
        if (!darknet) out->append("184.105.143.133");
        out->push_back(',');
        AppendNumber(darknet ? (random_.Chance(70) ? 23 : 2323) : 80, out);
        out->append(darknet ? ",,,,,,," : ",6939,US,CALIFORNIA,FREMONT,,518210,");
        if (!darknet) AppendQuoted("Communications, Service Provider, and Hosting Service", out);
        out->push_back(',');
        out->push_back(',');
        out->append(infection);
        out->push_back(',');
        out->append(infection);
        out->push_back(',');
        out->append(darknet ? infection : "");
        out->append(",,,");
        if (kind == Kind::kSinkholeHttp) {
          out->append(",GET /gate.php HTTP/1.1,differentia.ru,");
          AppendQuoted("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)", out);
          out->append(",,,,,");
        } else if (darknet) {
          out->push_back(',');
          AppendNumber(1 + random_.Below(40), out);
        } else {
          out->append(",,");
        }
        break;
      }
      case Kind::kDrone: {
        const char* infection = random_.Pick(kInfections);
        AppendTime(seconds, out);
        out->push_back(',');
        out->append(ip);
        out->push_back(',');
        AppendNumber(1024 + random_.Below(64000), out);
        out->push_back(',');
        AppendNumber(net.asn, out);
        out->push_back(',');
        out->append(net.country);
        out->push_back(',');
        out->append(net.region);
        out->push_back(',');
        out->append(net.city);
        out->push_back(',');
        out->append(hostname);
        out->append(",tcp,");
        out->append(infection);
        out->append(",,,74.208.164.166,80,8560,US,,1,,,Windows,XP SP1+,,,");
        if (net.naics != 0) AppendNumber(net.naics, out);
        out->append(",0,0,0,,,,");
        out->append(infection);
        out->append(",sinkhole,");
        break;
      }
    }
    out->push_back('\n');
  }

 private:
  static constexpr size_t kPool = 4096;
  Random random_;
  std::vector<HostAddress> pool_;
};

}  // namespace

void GenerateShadowserverCsv(std::ostream& out, std::string_view report_type, int64_t count,
                             uint64_t seed) {
  Kind kind = Kind::kScan;
  if (report_type == "event4_sinkhole" || report_type == "event6_sinkhole") {
    kind = Kind::kSinkhole;
  } else if (report_type == "event4_sinkhole_http" || report_type == "event6_sinkhole_http") {
    kind = Kind::kSinkholeHttp;
  } else if (report_type == "event4_honeypot_darknet") {
    kind = Kind::kDarknet;
  } else if (report_type == "botnet_drone") {
    kind = Kind::kDrone;
  }
  std::string buf;
  switch (kind) {
    case Kind::kScan:
      buf.append(kScanHeader);
      break;
    case Kind::kSinkhole:
      buf.append(kEventColumns).append(",ssl_cipher,ssl_servername");
      break;
    case Kind::kSinkholeHttp:
      buf.append(kEventColumns)
          .append(
              ",http_url,http_host,http_agent,forwarded_by,ssl_cipher,http_referer,"
              "ssl_servername,machine_name");
      break;
    case Kind::kDarknet:
      buf.append(kEventColumns).append(",count");
      break;
    case Kind::kDrone:
      buf.append(kDroneHeader);
      break;
  }
  buf.push_back('\n');
  Generator generator(seed);
  Random clock(seed + 1);
  int64_t seconds = 1795824000;  // 2026-11-28 00:00:00 UTC
  for (int64_t i = 0; i < count; ++i) {
    generator.Row(kind, seconds, &buf);
    seconds += clock.Below(3);
    if (buf.size() >= (1 << 20)) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace kizuna::alerts
