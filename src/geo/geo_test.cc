// IP enrichment on real files written by the test (and an MMDB made by
// MaxMind::DB::Writer): range edges, overlaps, formats, bad lines, prefixes,
// layer replacement while readers read.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "geo/geo.h"
#include "geo/internal.h"
#include "tests/support/temp_dir.h"

namespace kizuna::geo {
namespace {

namespace fs = std::filesystem;

using test_support::TempDir;

std::string Write(const TempDir& dir, const std::string& name, const std::string& content) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// A node directory (only geo/ is used) with `files` loaded; the messages of
// the load in *messages.
struct Loaded {
  TempDir dir;
  std::shared_ptr<const GeoDb> db;
  std::vector<std::string> messages;
};

Result<GeoLoadResult> LoadInto(const std::string& dir, const std::vector<std::string>& files,
                               std::vector<std::string>* messages = nullptr) {
  GeoLoadOptions options;
  options.message = [messages](const std::string& m) {
    if (messages) messages->push_back(m);
  };
  return LoadGeoFiles(dir, files, options);
}

std::shared_ptr<const GeoDb> OpenDb(const std::string& dir) {
  auto db = GeoDb::Open(dir);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? *db : GeoDb::Empty();
}

std::string Json(const GeoDb& db, const std::string& ip) {
  auto answer = db.Lookup(ip);
  return answer ? GeoAnswerJson(ip, *answer) : "not an address";
}

std::string Null(const std::string& ip) {
  return "{\"ip\":\"" + ip + "\",\"asn\":null,\"as_name\":null,\"country\":null,\"prefix\":null}";
}

const char* kAsnV4 =
    "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
    "1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n"
    "2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n"
    "255.255.255.0,255.255.255.255,64500,Top\n"
    "0.0.0.0,0.0.0.255,64501,Bottom\n";
const char* kCountryV4 =
    "1.0.0.0,1.0.0.255,AU\n"
    "1.0.1.0,1.0.3.255,CN\n"
    "1.0.4.0,1.0.7.255,AU\n";
const char* kAsnV6 =
    "2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n"
    "2001:4:112::,2001:4:112:ffff:ffff:ffff:ffff:ffff,112,DNS-OARC\n";
const char* kCountryV6 = "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n";

TEST(Geo, RangeEdges) {
  TempDir dir;
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn-ipv4.csv", kAsnV4),
                                    Write(dir, "asn-country-ipv4.csv", kCountryV4)})
                  .ok());
  auto db = OpenDb(dir.path());
  struct Case {
    std::string ip;
    uint32_t asn;
    std::string country;
  };
  for (const Case& c : std::vector<Case>{
           {"0.255.255.255", 0, ""},    // just before the first range
           {"1.0.0.0", 13335, "AU"},    // its first address
           {"1.0.0.255", 13335, "AU"},  // its last
           {"1.0.1.0", 0, "CN"},        // just after: no AS, a country
           {"1.0.3.255", 0, "CN"},
           {"1.0.4.0", 38803, "AU"},
           {"1.0.7.255", 38803, "AU"},
           {"1.0.8.0", 0, ""},
           {"0.0.0.0", 64501, ""},  // the ends of the address space
           {"0.0.0.255", 64501, ""},
           {"0.0.1.0", 0, ""},
           {"255.255.255.255", 64500, ""},
           {"255.255.254.255", 0, ""},
       }) {
    auto answer = db->Lookup(c.ip);
    ASSERT_TRUE(answer) << c.ip;
    EXPECT_EQ(answer->asn, c.asn) << c.ip;
    EXPECT_EQ(answer->country, c.country) << c.ip;
  }
  EXPECT_EQ(Json(*db, "1.0.0.7"),
            "{\"ip\":\"1.0.0.7\",\"asn\":13335,\"as_name\":\"Cloudflare, Inc.\",\"country\":"
            "\"AU\",\"prefix\":\"1.0.0.0/24\"}");
  EXPECT_EQ(Json(*db, "2.26.201.1"),
            "{\"ip\":\"2.26.201.1\",\"asn\":201907,\"as_name\":\"LLC \\\"SPUTNIK\\\"\","
            "\"country\":null,\"prefix\":\"2.26.200.0/21\"}");
  EXPECT_EQ(Json(*db, "10.1.2.3"), Null("10.1.2.3"));  // unrouted: null throughout
  EXPECT_EQ(Json(*db, "1.2.3"), "not an address");
  EXPECT_EQ(Json(*db, "example.com"), "not an address");
}

// Lookups in batches answer what lookups one at a time do, for batches of
// any size (across the batch step of 32) and addresses in and between
// ranges and at the ends of the address space.
TEST(Geo, BatchLookupsAnswerAsSingleOnes) {
  TempDir dir;
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn-ipv4.csv", kAsnV4),
                                    Write(dir, "asn-country-ipv4.csv", kCountryV4)})
                  .ok());
  auto db = OpenDb(dir.path());
  std::mt19937 random(5);
  std::vector<uint32_t> addresses = {0, 0xffffffffu, 0x01000000u, 0x010000ffu, 0x01000100u};
  while (addresses.size() < 300) {
    // Half near the fixture's ranges (1.0.0.0/21, 2.26.200.0/21), half anywhere.
    const uint32_t near = (random() % 2 ? 0x01000000u : 0x021ac800u) + random() % 4096;
    addresses.push_back(random() % 2 ? near : static_cast<uint32_t>(random()));
  }
  for (const size_t count :
       {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{300}}) {
    std::vector<GeoAnswer> batch(count);
    db->LookupV4Batch(addresses.data(), count, batch.data());
    for (size_t i = 0; i < count; ++i) {
      const GeoAnswer one = db->LookupV4(addresses[i]);
      EXPECT_EQ(batch[i].asn, one.asn) << addresses[i];
      EXPECT_EQ(batch[i].as_name, one.as_name) << addresses[i];
      EXPECT_EQ(batch[i].country, one.country) << addresses[i];
      EXPECT_EQ(batch[i].prefix, one.prefix) << addresses[i];
    }
  }
  int known = 0;
  for (uint32_t a : addresses) known += db->LookupV4(a).asn != 0;
  EXPECT_GT(known, 50);  // the batch met ranges, not only gaps
}

TEST(Geo, EmptyDatabaseAnswersNothing) {
  TempDir dir;
  auto db = OpenDb(dir.path());  // nothing loaded
  EXPECT_EQ(Json(*db, "1.0.0.1"), Null("1.0.0.1"));
  EXPECT_EQ(Json(*db, "2001:200::1"), Null("2001:200::1"));
  EXPECT_EQ(db->version(), "none");
  EXPECT_TRUE(db->layers().empty());
  EXPECT_EQ(Json(*GeoDb::Empty(), "8.8.8.8"), Null("8.8.8.8"));
  EXPECT_FALSE(GeoDb::Open(dir.path() + "/absent").ok());
}

TEST(Geo, Ipv6) {
  TempDir dir;
  ASSERT_TRUE(
      LoadInto(dir.path(), {Write(dir, "asn-ipv4.csv", kAsnV4), Write(dir, "asn-ipv6.csv", kAsnV6),
                            Write(dir, "asn-country-ipv6.csv", kCountryV6)})
          .ok());
  auto db = OpenDb(dir.path());
  EXPECT_EQ(Json(*db, "2001:200::1"),
            "{\"ip\":\"2001:200::1\",\"asn\":2500,\"as_name\":\"WIDE Project\",\"country\":"
            "\"JP\",\"prefix\":\"2001:200::/40\"}");
  EXPECT_EQ(db->Lookup("2001:200:1b9:ffff:ffff:ffff:ffff:ffff")->asn, 2500u);
  EXPECT_EQ(db->Lookup("2001:200:1ba::")->asn, 0u);  // after the AS range, still JP
  EXPECT_EQ(db->Lookup("2001:200:1ba::")->country, "JP");
  EXPECT_EQ(db->Lookup("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff")->country, "");
  EXPECT_EQ(db->Lookup("2001:4:112::53")->asn, 112u);
  EXPECT_EQ(db->Lookup("2001:4:112::53")->prefix->ToString(), "2001:4:112::/48");
  EXPECT_EQ(Json(*db, "::1"), Null("::1"));
  EXPECT_EQ(Json(*db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            Null("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  // IPv4-mapped addresses are IPv4.
  EXPECT_EQ(db->Lookup("::ffff:1.0.0.1")->asn, 13335u);
  EXPECT_EQ(db->Lookup("::ffff:1.0.0.1")->prefix->ToString(), "1.0.0.0/24");
  ASSERT_EQ(db->layers().size(), 2u);
  EXPECT_EQ(db->layers()[0].ipv4_ranges, 5u);
  EXPECT_EQ(db->layers()[0].ipv6_ranges, 2u);
  EXPECT_EQ(db->layers()[1].ipv4_ranges, 0u);
  EXPECT_EQ(db->layers()[1].ipv6_ranges, 1u);
}

TEST(Geo, OverlapsTheSmallerRangeWins) {
  TempDir dir;
  // The smaller range wins whichever comes first; a partial overlap goes to
  // the smaller of the two.
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn.csv",
                                          "10.1.0.0,10.1.255.255,2,Inner\n"
                                          "10.0.0.0,10.255.255.255,1,Outer\n"
                                          "20.0.0.0,20.0.0.99,3,Small\n"
                                          "20.0.0.50,20.0.0.255,4,Large\n")})
                  .ok());
  auto db = OpenDb(dir.path());
  struct Case {
    std::string ip;
    uint32_t asn;
    std::string prefix;
  };
  for (const Case& c : std::vector<Case>{
           {"10.0.0.1", 1, "10.0.0.0/16"},  // the outer range up to the inner one
           {"10.0.255.255", 1, "10.0.0.0/16"},
           {"10.1.0.0", 2, "10.1.0.0/16"},
           {"10.1.255.255", 2, "10.1.0.0/16"},
           {"10.2.0.0", 1, "10.2.0.0/15"},  // the outer one's part after the inner
           {"10.128.0.1", 1, "10.128.0.0/9"},
           {"20.0.0.49", 3, "20.0.0.0/26"},
           {"20.0.0.50", 3, "20.0.0.0/26"},
           {"20.0.0.99", 3, "20.0.0.96/30"},
           {"20.0.0.100", 4, "20.0.0.100/30"},
           {"20.0.0.255", 4, "20.0.0.128/25"},
       }) {
    auto answer = db->Lookup(c.ip);
    ASSERT_TRUE(answer) << c.ip;
    EXPECT_EQ(answer->asn, c.asn) << c.ip;
    ASSERT_TRUE(answer->prefix) << c.ip;
    EXPECT_EQ(answer->prefix->ToString(), c.prefix) << c.ip;
  }
}

TEST(Geo, CompileMatchesBruteForce) {
  // Random overlapping ranges in a small space; every address's answer is
  // the smallest range holding it, the later one of equal sizes.
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    internal::LayerBuilder builder(internal::LayerKind::kAsn);
    struct R {
      uint32_t first, last, record;
    };
    std::vector<R> ranges;
    const int n = 1 + static_cast<int>(random() % 20);
    for (int i = 0; i < n; ++i) {
      uint32_t a = random() % 300, b = random() % 300;
      if (a > b) std::swap(a, b);
      const uint32_t record = builder.InternAsn(static_cast<uint32_t>(i + 1), "");
      builder.Add4(a, b, record);
      ranges.push_back({a, b, record});
    }
    builder.Add4(0xffffff00u, 0xffffffffu, builder.InternAsn(999, ""));
    internal::Layer layer = internal::Layer::Compile(std::move(builder), 0);
    for (uint32_t address = 0; address < 310; ++address) {
      int best = -1;
      for (int i = 0; i < n; ++i) {
        const R& r = ranges[i];
        if (address < r.first || address > r.last) continue;
        if (best < 0 || r.last - r.first <= ranges[best].last - ranges[best].first) best = i;
      }
      const auto* segment = layer.v4.Find(address);
      if (best < 0) {
        EXPECT_EQ(segment, nullptr) << "round " << round << " address " << address;
      } else {
        ASSERT_NE(segment, nullptr) << "round " << round << " address " << address;
        EXPECT_EQ(segment->record, ranges[best].record)
            << "round " << round << " address " << address;
      }
    }
    ASSERT_NE(layer.v4.Find(0xffffffffu), nullptr);
    EXPECT_EQ(layer.records[layer.v4.Find(0xffffffffu)->record].asn, 999u);
    // Disjoint and sorted.
    for (size_t i = 1; i < layer.v4.segments.size(); ++i) {
      EXPECT_LT(layer.v4.segments[i - 1].last, layer.v4.segments[i].first);
    }
  }
}

// The joined table (one walk for both layers) answers for every address
// what each layer's own table does: random layers with gaps, adjacent and
// nested ranges, and the ends of the address space.
template <typename Key>
void CheckJoinAgainstLayers(std::mt19937& random, Key base, Key spread) {
  auto layer_of = [&](internal::LayerKind kind, int n) {
    internal::LayerBuilder builder(kind);
    for (int i = 0; i < n; ++i) {
      Key a = base + static_cast<Key>(random() % static_cast<uint64_t>(spread));
      Key b = base + static_cast<Key>(random() % static_cast<uint64_t>(spread));
      if (a > b) std::swap(a, b);
      const uint32_t record =
          kind == internal::LayerKind::kAsn
              ? builder.InternAsn(static_cast<uint32_t>(100 + i), "AS " + std::to_string(i))
              : builder.InternCountry(std::string{static_cast<char>('A' + i % 26), 'Z'});
      if constexpr (sizeof(Key) == 4) {
        builder.Add4(a, b, record);
      } else {
        builder.Add6(a, b, record);
      }
    }
    const Key top = ~Key(0);
    const uint32_t record = kind == internal::LayerKind::kAsn ? builder.InternAsn(999, "top")
                                                              : builder.InternCountry("TT");
    if constexpr (sizeof(Key) == 4) {
      builder.Add4(top - 3, top, record);
      if (random() % 2) builder.Add4(0, 2, record);
    } else {
      builder.Add6(top - 3, top, record);
      if (random() % 2) builder.Add6(0, 2, record);
    }
    return internal::Layer::Compile(std::move(builder), 0);
  };
  const internal::Layer asn = layer_of(internal::LayerKind::kAsn, 1 + random() % 12);
  const internal::Layer country = layer_of(internal::LayerKind::kCountry, 1 + random() % 12);
  for (const bool with_asn : {true, false}) {
    for (const bool with_country : {true, false}) {
      const auto joined =
          internal::JoinLayers<Key>(with_asn ? &asn : nullptr, with_country ? &country : nullptr);
      auto check = [&](Key address) {
        const internal::Table<Key>* asn_table;
        const internal::Table<Key>* country_table;
        if constexpr (sizeof(Key) == 4) {
          asn_table = &asn.v4;
          country_table = &country.v4;
        } else {
          asn_table = &asn.v6;
          country_table = &country.v6;
        }
        const auto* a = with_asn ? asn_table->Find(address) : nullptr;
        const auto* c = with_country ? country_table->Find(address) : nullptr;
        const auto* piece = joined.Find(address);
        ASSERT_EQ(piece != nullptr, a != nullptr || c != nullptr);
        if (piece == nullptr) return;
        EXPECT_LE(piece->first, address);
        EXPECT_GE(piece->last, address);
        ASSERT_EQ(piece->has_asn, a != nullptr);
        if (a != nullptr) {
          EXPECT_EQ(piece->asn, asn.records[a->record].asn);
          EXPECT_EQ(piece->asn_first, a->first);
          EXPECT_EQ(piece->asn_last, a->last);
          EXPECT_EQ(std::string_view(asn.arena).substr(piece->as_name_offset, piece->as_name_size),
                    asn.Text(asn.records[a->record]));
        }
        const std::string_view code =
            std::string_view(country.arena).substr(piece->country_offset, piece->country_size);
        EXPECT_EQ(code, c != nullptr ? country.Text(country.records[c->record]) : "");
      };
      for (Key offset = 0; offset < spread + 8; ++offset) check(base + offset);
      for (Key offset = 0; offset < 8; ++offset) {
        check(offset);
        check(static_cast<Key>(~Key(0) - offset));
      }
      for (size_t i = 1; i < joined.segments.size(); ++i) {
        EXPECT_LT(joined.segments[i - 1].last, joined.segments[i].first);
      }
    }
  }
}

TEST(Geo, JoinedLayersAnswerAsEachLayerDoes) {
  std::mt19937 random(11);
  for (int round = 0; round < 40; ++round) {
    CheckJoinAgainstLayers<uint32_t>(random, 1000, 300);
    CheckJoinAgainstLayers<internal::U128>(random, internal::U128(0x20010db8) << 96, 300);
  }
}

TEST(Geo, CompileMatchesBruteForceIpv6) {
  // The same in IPv6, where the search is on the top 64 bits first: ranges
  // that share them, and ranges far apart.
  std::mt19937 random(11);
  const internal::U128 base = internal::U128(0x20010db800000000ull) << 64;
  for (int round = 0; round < 50; ++round) {
    internal::LayerBuilder builder(internal::LayerKind::kAsn);
    struct R {
      internal::U128 first, last;
      uint32_t record;
    };
    std::vector<R> ranges;
    const int n = 1 + static_cast<int>(random() % 20);
    for (int i = 0; i < n; ++i) {
      // Offsets in the low bits (one /64) or in bits 64 and up.
      const int at = random() % 2 == 0 ? 0 : 64;
      internal::U128 a = internal::U128(random() % 300) << at, b = internal::U128(random() % 300)
                                                                   << at;
      if (a > b) std::swap(a, b);
      const uint32_t record = builder.InternAsn(static_cast<uint32_t>(i + 1), "");
      builder.Add6(base + a, base + b, record);
      ranges.push_back({base + a, base + b, record});
    }
    internal::Layer layer = internal::Layer::Compile(std::move(builder), 0);
    std::vector<internal::U128> probes;
    for (const R& r : ranges) {
      for (internal::U128 p : {r.first - 1, r.first, r.first + 1, r.last - 1, r.last, r.last + 1}) {
        probes.push_back(p);
      }
    }
    for (uint32_t i = 0; i < 310; ++i) probes.push_back(base + i);
    for (internal::U128 address : probes) {
      int best = -1;
      for (int i = 0; i < n; ++i) {
        const R& r = ranges[i];
        if (address < r.first || address > r.last) continue;
        if (best < 0 || r.last - r.first <= ranges[best].last - ranges[best].first) best = i;
      }
      const auto* segment = layer.v6.Find(address);
      if (best < 0) {
        EXPECT_EQ(segment, nullptr) << "round " << round;
      } else {
        ASSERT_NE(segment, nullptr) << "round " << round;
        EXPECT_EQ(segment->record, ranges[best].record) << "round " << round;
      }
    }
  }
}

TEST(Geo, PrefixIsTheLargestBlockInsideTheRange) {
  auto v4 = [](const char* a) { return *correlation::ParseIpv4(a); };
  struct Case {
    const char *first, *last, *address;
    int length;
  };
  for (const Case& c : std::vector<Case>{
           {"1.0.4.0", "1.0.7.255", "1.0.5.1", 22},
           {"1.0.0.1", "1.0.0.6", "1.0.0.4", 31},
           {"1.0.0.1", "1.0.0.6", "1.0.0.1", 32},
           {"1.0.0.1", "1.0.0.6", "1.0.0.6", 32},
           {"1.0.0.0", "1.0.2.255", "1.0.2.5", 24},
           {"1.0.0.0", "1.0.2.255", "1.0.1.5", 23},
           {"0.0.0.0", "255.255.255.255", "8.8.8.8", 0},
           {"128.0.0.0", "255.255.255.255", "200.1.1.1", 1},
       }) {
    EXPECT_EQ(internal::LargestBlock(v4(c.address), v4(c.first), v4(c.last)), c.length)
        << c.first << "-" << c.last << " " << c.address;
  }
  const internal::U128 first = internal::U128(0x20010000) << 96;
  const internal::U128 last = first | ((internal::U128(1) << 96) - 1);
  EXPECT_EQ(internal::LargestBlock(first + 12345, first, last), 32);
  EXPECT_EQ(internal::LargestBlock(first + 12345, first + 1, last), 115);
  EXPECT_EQ(internal::LargestBlock(~internal::U128(0), internal::U128(0), ~internal::U128(0)), 0);
  GeoPrefix p{.v6 = true, .length = 0};
  EXPECT_EQ(p.ToString(), "::/0");
}

TEST(Geo, IptoasnNotRoutedIsUnknown) {
  TempDir dir;
  std::vector<std::string> messages;
  auto loaded =
      LoadInto(dir.path(),
               {Write(dir, "ip2asn-combined.tsv",
                      "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"
                      "1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n"
                      "1.0.4.0\t1.0.7.255\t38803\tAU\tGTELECOM-AUSTRALIA Gtelecom Pty Ltd\n"
                      "1.0.8.0\t1.0.8.255\t4134\tNone\tCHINANET\n"
                      "2001:200::\t2001:200:ffff:ffff:ffff:ffff:ffff:ffff\t2500\tJP\tWIDE\n")},
               &messages);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->layers, (std::vector<std::string>{"asn", "country"}));
  EXPECT_EQ(loaded->ranges, 4u);
  auto db = OpenDb(dir.path());
  EXPECT_EQ(Json(*db, "1.0.2.1"), Null("1.0.2.1"));
  EXPECT_EQ(Json(*db, "1.0.8.1"),
            "{\"ip\":\"1.0.8.1\",\"asn\":4134,\"as_name\":\"CHINANET\",\"country\":null,"
            "\"prefix\":\"1.0.8.0/24\"}");
  EXPECT_EQ(db->Lookup("1.0.0.1")->country, "US");
  EXPECT_EQ(db->Lookup("2001:200::1")->country, "JP");
  EXPECT_EQ(db->Lookup("2001:200::1")->asn, 2500u);
}

TEST(Geo, EachFormatIsDetected) {
  TempDir dir;
  struct Case {
    std::string name, content, format, layers;
    int ranges = 1;
  };
  for (const Case& c : std::vector<Case>{
           {"asn.csv", kAsnV4, "ip-location-db asn csv", "asn", 5},
           {"country.csv", kCountryV4, "ip-location-db country csv", "country", 3},
           {"city.csv", "1.0.0.0,1.0.0.255,AU,Queensland,,South Brisbane,,-27.4,153.0,\n",
            "ip-location-db country csv", "country"},
           {"asn-num.csv", "16777216,16777471,13335,\"Cloudflare, Inc.\"\n",
            "ip-location-db asn csv", "asn"},
           {"asn-ipv6-num.csv",
            "42540528726795050063891204319802818560,42540528727329395276160870415022948351,2500,"
            "WIDE Project\n",
            "ip-location-db asn csv", "asn"},
           {"ip2asn.tsv", "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n", "iptoasn tsv",
            "asn and country"},
           {"crlf.csv", "1.0.0.0,1.0.0.255,AU\r\n", "ip-location-db country csv", "country"},
       }) {
    std::vector<std::string> messages;
    auto loaded = LoadInto(dir.path(), {Write(dir, c.name, c.content)}, &messages);
    ASSERT_TRUE(loaded.ok()) << c.name << ": " << loaded.status().ToString();
    ASSERT_FALSE(messages.empty());
    EXPECT_EQ(messages[0], dir.path() + "/" + c.name + ": " + c.format + ", " +
                               std::to_string(c.ranges) + " ranges (" + c.layers +
                               "), 0 bad lines");
  }
  auto db = OpenDb(dir.path());
  // The -num files: decimal addresses, IPv6 ones too.
  EXPECT_EQ(db->Lookup("1.0.0.1")->country, "AU");
  EXPECT_EQ(db->Lookup("1.0.0.1")->asn, 13335u);  // the last asn load (iptoasn)
}

TEST(Geo, BadLinesAreReportedWithTheirNumbers) {
  TempDir dir;
  std::vector<std::string> messages;
  const std::string path = Write(dir, "asn.csv",
                                 "1.0.0.0,1.0.0.255,13335,Cloudflare\n"
                                 "1.0.1.0,1.0.0.0,1,Backwards\n"
                                 "\n"
                                 "1.0.2.0,not an address,2,X\n"
                                 "1.0.3.0,1.0.3.255,AS64500,With AS\n"
                                 "1.0.4.0,1.0.4.255,\"unclosed\n"
                                 "1.0.5.0,1.0.5.255,x1,Not a number\n"
                                 "1.0.6.0,2001::,3,Mixed\n");
  auto loaded = LoadInto(dir.path(), {path}, &messages);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->bad_lines, 5u);
  ASSERT_EQ(messages.size(), 7u);
  EXPECT_EQ(messages[0], path + ":2: first address after the last");
  EXPECT_EQ(messages[1], path + ":4: not an address range: 1.0.2.0 - not an address");
  EXPECT_EQ(messages[2], path + ":6: badly quoted field");
  EXPECT_EQ(messages[3], path + ":7: not an AS number: x1");
  EXPECT_EQ(messages[4], path + ":8: the two addresses are of different families");
  EXPECT_EQ(messages[5], path + ": ip-location-db asn csv, 2 ranges (asn), 5 bad lines");
  EXPECT_EQ(OpenDb(dir.path())->Lookup("1.0.3.1")->asn, 64500u);
}

TEST(Geo, AFileWithoutAUsableLineChangesNothing) {
  TempDir dir;
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn.csv", kAsnV4)}).ok());
  const std::string before = OpenDb(dir.path())->version();
  for (const std::string& content : {std::string(""), std::string("garbage\nmore garbage\n"),
                                     std::string("range_start,range_end,asn,name\n")}) {
    auto loaded = LoadInto(
        dir.path(), {Write(dir, "asn-ipv6.csv", kAsnV6), Write(dir, "country.csv", kCountryV4),
                     Write(dir, "bad.csv", content)});
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.status().message().find("bad.csv: no usable line"), std::string::npos)
        << loaded.status().message();
  }
  auto db = OpenDb(dir.path());
  EXPECT_EQ(db->version(), before);
  EXPECT_EQ(db->Lookup("2001:200::1")->asn, 0u);
  EXPECT_EQ(db->layers().size(), 1u);
  EXPECT_FALSE(LoadInto(dir.path(), {dir.path() + "/absent.csv"}).ok());
  EXPECT_FALSE(LoadInto(dir.path(), {}).ok());
}

// Runs make_mmdb.pl: `ranges` lines "first\tlast\tasn\torg\tcountry".
std::string MakeMmdb(const TempDir& dir, const std::string& name, int ip_version,
                     const std::string& type, const std::string& ranges) {
  const std::string input = Write(dir, name + ".txt", ranges);
  const std::string out = dir.path() + "/" + name;
  const std::string command = "/usr/bin/perl " KIZUNA_GEO_TESTDATA "/make_mmdb.pl '" + out + "' " +
                              std::to_string(ip_version) + " '" + type + "' < '" + input + "'";
  const int status = std::system(command.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
  return out;
}

TEST(Geo, MmdbIsReadIntoRanges) {
  TempDir dir;
  const std::string asn = MakeMmdb(dir, "test-asn.mmdb", 6, "Kizuna-Test-ASN",
                                   "1.0.0.0\t1.0.0.255\t13335\tCloudflare, Inc.\t\n"
                                   "1.0.4.0\t1.0.7.255\t38803\tGtelecom Pty Ltd\t\n"
                                   "2001:200::\t2001:200:ffff:ffff:ffff:ffff:ffff:ffff\t2500\tWIDE "
                                   "Project\t\n");
  const std::string country = MakeMmdb(dir, "test-country.mmdb", 4, "Kizuna-Test-Country",
                                       "1.0.0.0\t1.0.0.255\t\t\tAU\n"
                                       "1.0.1.0\t1.0.3.255\t\t\tCN\n");
  std::vector<std::string> messages;
  auto loaded = LoadInto(dir.path(), {asn, country}, &messages);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(messages[0], asn + ": mmdb, 3 ranges (asn), 0 bad records");
  EXPECT_EQ(messages[1], country + ": mmdb, 2 ranges (country), 0 bad records");
  auto db = OpenDb(dir.path());
  EXPECT_EQ(Json(*db, "1.0.5.5"),
            "{\"ip\":\"1.0.5.5\",\"asn\":38803,\"as_name\":\"Gtelecom Pty Ltd\",\"country\":null,"
            "\"prefix\":\"1.0.4.0/22\"}");
  EXPECT_EQ(db->Lookup("1.0.0.255")->country, "AU");
  EXPECT_EQ(db->Lookup("1.0.2.0")->country, "CN");
  EXPECT_EQ(db->Lookup("1.0.8.0")->asn, 0u);
  EXPECT_EQ(db->Lookup("0.255.255.255")->asn, 0u);
  EXPECT_EQ(db->Lookup("2001:200:1::1")->asn, 2500u);
  EXPECT_EQ(db->Lookup("2001:200:1::1")->prefix->ToString(), "2001:200::/32");
  EXPECT_EQ(db->Lookup("::ffff:1.0.0.1")->asn, 13335u);
  // The IPv4 aliases in the IPv6 tree (::ffff:0:0/96, 2002::/16) are read
  // once, as IPv4: no IPv6 copy of them.
  EXPECT_EQ(db->Lookup("2002:100:1::")->asn, 0u);
  const std::vector<GeoLayerInfo> layers = db->layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].ipv4_ranges, 2u);
  EXPECT_EQ(layers[1].ipv4_ranges, 2u);  // 1.0.1.0/24 + 1.0.2.0/23 read as one range
  EXPECT_EQ(layers[0].ipv6_ranges, 1u);
  EXPECT_NE(layers[0].version.find("test-asn.mmdb sha256:"), std::string::npos);
  EXPECT_NE(layers[0].version.find("[Kizuna-Test-ASN built "), std::string::npos);
  EXPECT_NE(layers[1].version.find("[Kizuna-Test-Country built "), std::string::npos);
  // A damaged MMDB is an error, not a crash.
  std::string bytes = *internal::ReadWholeFile(asn);
  for (size_t i = 0; i < 64 && i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xff);
  EXPECT_FALSE(LoadInto(dir.path(), {Write(dir, "damaged.mmdb", bytes)}).ok());
  EXPECT_FALSE(
      LoadInto(dir.path(), {Write(dir, "cut.mmdb", bytes.substr(bytes.size() - 200))}).ok());
}

TEST(Geo, LoadingReplacesOnlyTheLayersItProvides) {
  TempDir dir;
  ASSERT_TRUE(
      LoadInto(dir.path(), {Write(dir, "asn-ipv4.csv", kAsnV4), Write(dir, "asn-ipv6.csv", kAsnV6)})
          .ok());
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn-country-ipv4.csv", kCountryV4)}).ok());
  auto old_db = OpenDb(dir.path());
  EXPECT_EQ(old_db->Lookup("1.0.0.1")->asn, 13335u);
  EXPECT_EQ(old_db->Lookup("1.0.0.1")->country, "AU");
  EXPECT_EQ(old_db->Lookup("2001:200::1")->asn, 2500u);
  const std::string version = old_db->version();
  EXPECT_NE(version.find("asn: asn-ipv4.csv sha256:"), std::string::npos) << version;
  EXPECT_NE(version.find(", asn-ipv6.csv sha256:"), std::string::npos) << version;
  EXPECT_NE(version.find("; country: asn-country-ipv4.csv sha256:"), std::string::npos);
  EXPECT_EQ(OpenDb(dir.path())->version(), version);  // stable

  // A new ASN file replaces the whole ASN layer (its IPv6 part too) and
  // keeps the country layer.
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn2.csv", "1.0.0.0,1.0.0.255,64999,New\n")}).ok());
  auto db = OpenDb(dir.path());
  EXPECT_EQ(db->Lookup("1.0.0.1")->asn, 64999u);
  EXPECT_EQ(db->Lookup("1.0.0.1")->country, "AU");
  EXPECT_EQ(db->Lookup("2001:200::1")->asn, 0u);
  EXPECT_EQ(db->Lookup("1.0.4.1")->asn, 0u);
  // An open database keeps what it read.
  EXPECT_EQ(old_db->Lookup("1.0.0.1")->asn, 13335u);
  EXPECT_EQ(old_db->Lookup("1.0.0.1")->as_name, "Cloudflare, Inc.");
  // Nothing but the layer files is left behind.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path() + "/geo")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"asn.kgeo", "country.kgeo", "joined.kgeo"}));
}

// Every answer of `a` and `b` over the fixtures' ranges, their edges and
// random addresses of both families.
void ExpectSameAnswers(const GeoDb& a, const GeoDb& b) {
  std::vector<std::string> ips = {"0.0.0.0",
                                  "0.0.0.255",
                                  "1.0.0.0",
                                  "1.0.0.255",
                                  "1.0.1.0",
                                  "1.0.3.255",
                                  "1.0.4.0",
                                  "1.0.7.255",
                                  "1.0.8.0",
                                  "2.26.200.0",
                                  "2.26.215.255",
                                  "255.255.255.255",
                                  "2001:200::",
                                  "2001:200::1",
                                  "2001:200:1ba::",
                                  "2001:4:112::1",
                                  "2001:200:ffff:ffff:ffff:ffff:ffff:ffff",
                                  "::1",
                                  "ffff::"};
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i) {
    const uint32_t v4 = (i % 2 == 0 ? 0x01000000u : 0x021AC800u) + random() % 2048;
    ips.push_back(std::to_string(v4 >> 24) + "." + std::to_string((v4 >> 16) & 255) + "." +
                  std::to_string((v4 >> 8) & 255) + "." + std::to_string(v4 & 255));
  }
  for (const std::string& ip : ips) EXPECT_EQ(Json(a, ip), Json(b, ip)) << ip;
  EXPECT_EQ(a.version(), b.version());
  const auto la = a.layers(), lb = b.layers();
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(la[i].name, lb[i].name);
    EXPECT_EQ(la[i].ipv4_ranges, lb[i].ipv4_ranges);
    EXPECT_EQ(la[i].ipv6_ranges, lb[i].ipv6_ranges);
    EXPECT_EQ(la[i].version, lb[i].version);
  }
}

TEST(Geo, TheJoinedFileAnswersAsJoiningTheLayers) {
  TempDir dir;
  ASSERT_TRUE(
      LoadInto(dir.path(), {Write(dir, "asn-ipv4.csv", kAsnV4), Write(dir, "asn-ipv6.csv", kAsnV6),
                            Write(dir, "asn-country-ipv4.csv", kCountryV4),
                            Write(dir, "asn-country-ipv6.csv", kCountryV6)})
          .ok());
  const std::string joined = dir.path() + "/geo/joined.kgeo";
  auto mapped = OpenDb(dir.path());
  EXPECT_TRUE(mapped->mapped());  // the load wrote it
  EXPECT_EQ(mapped->Lookup("1.0.0.1")->as_name, "Cloudflare, Inc.");
  EXPECT_EQ(mapped->Lookup("2001:200::1")->country, "JP");

  ASSERT_TRUE(fs::remove(joined));
  auto joined_here = OpenDb(dir.path());
  EXPECT_FALSE(joined_here->mapped());
  ExpectSameAnswers(*mapped, *joined_here);
  EXPECT_TRUE(fs::exists(joined));  // written again by that opening
  auto mapped_again = OpenDb(dir.path());
  EXPECT_TRUE(mapped_again->mapped());
  ExpectSameAnswers(*mapped_again, *joined_here);

  // One layer only: the other answers nothing, mapped or not.
  TempDir asn_only;
  ASSERT_TRUE(LoadInto(asn_only.path(), {Write(asn_only, "asn-ipv4.csv", kAsnV4)}).ok());
  auto one = OpenDb(asn_only.path());
  EXPECT_TRUE(one->mapped());
  EXPECT_EQ(one->Lookup("1.0.0.1")->asn, 13335u);
  EXPECT_EQ(one->Lookup("1.0.0.1")->country, "");
  ASSERT_TRUE(fs::remove(asn_only.path() + "/geo/joined.kgeo"));
  ExpectSameAnswers(*one, *OpenDb(asn_only.path()));
}

TEST(Geo, AStaleOrDamagedJoinedFileIsNotRead) {
  TempDir dir, other;
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn-ipv4.csv", kAsnV4),
                                    Write(dir, "asn-country-ipv4.csv", kCountryV4)})
                  .ok());
  ASSERT_TRUE(
      LoadInto(other.path(), {Write(other, "asn2.csv", "1.0.0.0,1.0.0.255,64999,New\n")}).ok());
  const std::string joined = dir.path() + "/geo/joined.kgeo";
  std::string original;
  {
    std::ifstream in(joined, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(original.size(), 256u);

  // A layer file replaced behind kizuna's back (a restored backup): the
  // joined file names the old one's checksum.
  fs::copy_file(other.path() + "/geo/asn.kgeo", dir.path() + "/geo/asn.kgeo",
                fs::copy_options::overwrite_existing);
  auto replaced = OpenDb(dir.path());
  EXPECT_FALSE(replaced->mapped());
  EXPECT_EQ(replaced->Lookup("1.0.0.1")->asn, 64999u);
  EXPECT_EQ(replaced->Lookup("1.0.0.1")->country, "AU");
  EXPECT_TRUE(OpenDb(dir.path())->mapped());
  EXPECT_EQ(OpenDb(dir.path())->Lookup("1.0.0.1")->asn, 64999u);

  // Damage anywhere in the joined file, or a short one: joined again.
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn-ipv4.csv", kAsnV4)}).ok());
  {
    std::ifstream in(joined, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto reference = OpenDb(dir.path());
  ASSERT_TRUE(reference->mapped());
  for (size_t at : {size_t{3}, size_t{20}, size_t{70}, original.size() / 2, original.size() - 1}) {
    std::string damaged = original;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    Write(dir, "geo/joined.kgeo", damaged);
    auto db = OpenDb(dir.path());
    EXPECT_FALSE(db->mapped()) << "damage at " << at;
    ExpectSameAnswers(*reference, *db);
  }
  Write(dir, "geo/joined.kgeo", original.substr(0, original.size() / 3));
  auto short_file = OpenDb(dir.path());
  EXPECT_FALSE(short_file->mapped());
  ExpectSameAnswers(*reference, *short_file);
}

TEST(Geo, ReadersNeverSeeHalfALayer) {
  TempDir dir;
  // Two ASN datasets, large enough that writing one takes a while.
  std::string a, b;
  for (uint32_t i = 0; i < 20000; ++i) {
    const std::string first = correlation::FormatIpv4(0x0b000000u + i * 256);
    const std::string last = correlation::FormatIpv4(0x0b000000u + i * 256 + 255);
    a += first + "," + last + ",1,A\n";
    b += first + "," + last + ",2,B\n";
  }
  const std::string file_a = Write(dir, "a.csv", a), file_b = Write(dir, "b.csv", b);
  ASSERT_TRUE(LoadInto(dir.path(), {file_a}).ok());
  std::atomic<bool> done{false};
  std::atomic<int> opened{0}, failures{0};
  std::thread reader([&] {
    while (!done) {
      auto db = GeoDb::Open(dir.path());
      if (!db.ok()) {
        ++failures;
        continue;
      }
      const uint32_t first = (*db)->LookupV4(0x0b000001u).asn;
      const uint32_t last = (*db)->LookupV4(0x0b000000u + 19999 * 256 + 7).asn;
      if ((first != 1 && first != 2) || first != last) ++failures;
      ++opened;
    }
  });
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(LoadInto(dir.path(), {i % 2 == 0 ? file_b : file_a}).ok());
  }
  while (opened < 5) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_EQ(failures, 0);
}

TEST(Geo, DamagedLayerFileIsAnError) {
  TempDir dir;
  ASSERT_TRUE(LoadInto(dir.path(), {Write(dir, "asn.csv", kAsnV4)}).ok());
  const std::string path = dir.path() + "/geo/asn.kgeo";
  std::string bytes = *internal::ReadWholeFile(path);
  bytes[bytes.size() / 2] ^= 1;
  Write(dir, "geo/asn.kgeo", bytes);
  // The layer file is read when there is no joined file to map (its header,
  // checked alone, is intact).
  EXPECT_TRUE(GeoDb::Open(dir.path()).ok());
  ASSERT_TRUE(fs::remove(dir.path() + "/geo/joined.kgeo"));
  auto db = GeoDb::Open(dir.path());
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("damaged"), std::string::npos);
  Write(dir, "geo/asn.kgeo", bytes.substr(0, 30));
  EXPECT_FALSE(GeoDb::Open(dir.path()).ok());
}

}  // namespace
}  // namespace kizuna::geo
