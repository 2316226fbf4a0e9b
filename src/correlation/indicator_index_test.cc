#include "correlation/indicator_index.h"
#include "correlation/indicator_ids_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

namespace kizuna::correlation {
namespace {

class FakeClock : public Clock {
 public:
  int64_t NowMicros() const override { return now.load(); }
  std::atomic<int64_t> now{1'000'000};
};

IndicatorMeta Meta(int n, int64_t modified = 1) {
  IndicatorMeta m;
  m.id = TestIndicatorId(n);
  m.modified_us = modified;
  m.name = "indicator " + std::to_string(n);
  return m;
}

IndexEntry E(ObservableKind kind, std::string value, bool sub = false) {
  return IndexEntry{kind, std::move(value), sub};
}

uint32_t V4(const char* s) { return *ParseIpv4(s); }

class IndexTest : public ::testing::Test {
 protected:
  // Adds indicator n with `entries`; returns its ref.
  uint32_t Add(int n, std::vector<IndexEntry> entries, int64_t modified = 1) {
    auto r = index_.Add(Meta(n, modified), entries);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : 0;
  }
  std::vector<uint32_t> V4Refs(const char* address) { return index_.MatchIpv4(V4(address)).refs; }

  FakeClock clock_;
  IndicatorIndex index_{clock_};
};

using Refs = std::vector<uint32_t>;

TEST_F(IndexTest, Ipv4ExactAndAllCoveringPrefixes) {
  uint32_t exact = Add(1, {E(ObservableKind::kIpv4, "10.1.2.3")});
  uint32_t p24 = Add(2, {E(ObservableKind::kIpv4, "10.1.2.0/24")});
  uint32_t p16 = Add(3, {E(ObservableKind::kIpv4, "10.1.0.0/16")});
  uint32_t p8 = Add(4, {E(ObservableKind::kIpv4, "10.0.0.0/8")});
  uint32_t p0 = Add(5, {E(ObservableKind::kIpv4, "0.0.0.0/0")});
  uint32_t p31 = Add(6, {E(ObservableKind::kIpv4, "10.1.2.2/31")});
  struct Case {
    const char* address;
    Refs refs;  // most specific first
  };
  const Case cases[] = {
      {"10.1.2.3", {exact, p31, p24, p16, p8, p0}},
      {"10.1.2.2", {p31, p24, p16, p8, p0}},
      {"10.1.2.4", {p24, p16, p8, p0}},
      {"10.1.3.4", {p16, p8, p0}},
      {"10.2.0.0", {p8, p0}},
      {"11.0.0.0", {p0}},
      {"255.255.255.255", {p0}},
  };
  for (const Case& c : cases) EXPECT_EQ(V4Refs(c.address), c.refs) << c.address;

  // Networks: only indicators covering all of it.
  auto reader = index_.Read();
  MatchResult out;
  EXPECT_TRUE(reader.MatchIpv4Network(V4("10.1.2.0"), 24, &out));
  EXPECT_EQ(out.refs, (Refs{p24, p16, p8, p0}));
  EXPECT_TRUE(reader.Match(ObservableKind::kIpv4, "10.0.0.0/8", &out));
  EXPECT_EQ(out.refs, (Refs{p8, p0}));
}

TEST_F(IndexTest, Ipv4NoMatchWithoutCover) {
  Add(1, {E(ObservableKind::kIpv4, "192.168.0.0/16")});
  Add(2, {E(ObservableKind::kIpv4, "192.0.2.1")});
  EXPECT_TRUE(V4Refs("192.169.0.0").empty());
  EXPECT_TRUE(V4Refs("192.0.2.2").empty());
  EXPECT_TRUE(V4Refs("0.0.0.0").empty());
  EXPECT_EQ(V4Refs("192.168.255.255").size(), 1u);
}

TEST_F(IndexTest, SameValueManyIndicatorsAndOneIndicatorManyEntries) {
  uint32_t a = Add(1, {E(ObservableKind::kIpv4, "1.2.3.4")});
  uint32_t b = Add(2, {E(ObservableKind::kIpv4, "1.2.3.4")});
  // Two entries of one indicator both covering: reported once.
  uint32_t c =
      Add(3, {E(ObservableKind::kIpv4, "1.2.3.0/24"), E(ObservableKind::kIpv4, "1.0.0.0/8")});
  EXPECT_EQ(V4Refs("1.2.3.4"), (Refs{a, b, c}));
}

TEST_F(IndexTest, Ipv6ExactAndCidr) {
  uint32_t exact = Add(1, {E(ObservableKind::kIpv6, "2001:db8::1")});
  uint32_t p64 = Add(2, {E(ObservableKind::kIpv6, "2001:db8::/64")});
  uint32_t p33 = Add(3, {E(ObservableKind::kIpv6, "2001:db8:8000::/33")});
  uint32_t p0 = Add(4, {E(ObservableKind::kIpv6, "::/0")});
  EXPECT_EQ(index_.MatchIpv6(*ParseIpv6("2001:db8::1")).refs, (Refs{exact, p64, p0}));
  EXPECT_EQ(index_.MatchIpv6(*ParseIpv6("2001:db8::2")).refs, (Refs{p64, p0}));
  EXPECT_EQ(index_.MatchIpv6(*ParseIpv6("2001:db8:8000::5")).refs, (Refs{p33, p0}));
  EXPECT_EQ(index_.MatchIpv6(*ParseIpv6("fe80::1")).refs, (Refs{p0}));
  ASSERT_TRUE(index_.Remove(TestIndicatorId(4)).ok());
  EXPECT_TRUE(index_.MatchIpv6(*ParseIpv6("fe80::1")).refs.empty());
  EXPECT_EQ(index_.Match(ObservableKind::kIpv6, "2001:DB8::1").refs, (Refs{exact, p64}));
}

TEST_F(IndexTest, DomainsExactSubdomainsAndPublicSuffixes) {
  uint32_t exact = Add(1, {E(ObservableKind::kDomain, "evil.com")});
  uint32_t sub = Add(2, {E(ObservableKind::kDomain, "Evil.Example.co.uk.", true)});
  uint32_t star = Add(3, {E(ObservableKind::kDomain, "*.bad.github.io")});
  uint32_t suffix = Add(4, {E(ObservableKind::kDomain, "co.uk", true)});    // downgraded
  uint32_t priv = Add(5, {E(ObservableKind::kDomain, "github.io", true)});  // downgraded
  EXPECT_EQ(index_.Stats().suffix_downgrades, 2u);
  struct Case {
    const char* domain;
    Refs refs;
  };
  const Case cases[] = {
      {"evil.com", {exact}},
      {"EVIL.COM.", {exact}},
      {"www.evil.com", {}},  // exact only
      {"evil.example.co.uk", {sub}},
      {"a.b.evil.example.co.uk", {sub}},
      {"example.co.uk", {}},
      {"other.co.uk", {}},  // "co.uk" entry never matches below itself
      {"co.uk", {suffix}},
      {"bad.github.io", {star}},
      {"x.y.bad.github.io", {star}},
      {"good.github.io", {}},
      {"github.io", {priv}},
      {"notevil.com", {}},
      {"com", {}},
      {"", {}},
  };
  for (const Case& c : cases) EXPECT_EQ(index_.MatchDomain(c.domain).refs, c.refs) << c.domain;
}

TEST_F(IndexTest, NamesUnderAnyTldAndInEitherIdnForm) {
  uint32_t corp = Add(1, {E(ObservableKind::kDomain, "intranet.corp")});
  uint32_t sub = Add(2, {E(ObservableKind::kDomain, "*.lab.kizunatest")});
  uint32_t tld = Add(3, {E(ObservableKind::kDomain, "corp", true)});  // downgraded: a TLD
  uint32_t puny = Add(4, {E(ObservableKind::kDomain, "xn--bcher-kva.example")});
  uint32_t unicode = Add(5, {E(ObservableKind::kDomain, "München.kizunatest")});
  uint32_t mail = Add(6, {E(ObservableKind::kEmail, "CEO@Bücher.example")});
  uint32_t url = Add(7, {E(ObservableKind::kUrl, "http://bücher.example/a")});
  EXPECT_EQ(index_.Stats().suffix_downgrades, 1u);
  struct Case {
    const char* domain;
    Refs refs;
  };
  const Case cases[] = {
      {"intranet.corp", {corp}},
      {"HOST.Corp.", {}},
      {"INTRANET.Corp.", {corp}},
      {"www.intranet.corp", {}},
      {"lab.kizunatest", {sub}},
      {"a.b.lab.kizunatest", {sub}},
      {"other.kizunatest", {}},
      {"corp", {tld}},
      {"x.corp", {}},
      {"xn--bcher-kva.example", {puny}},
      {"bücher.example", {puny}},
      {"BÜCHER.Example.", {puny}},
      {"bücher。example", {puny}},
      {"xn--mnchen-3ya.kizunatest", {unicode}},
      {"münchen.kizunatest", {unicode}},
      {"\xFF.example", {}},
  };
  for (const Case& c : cases) EXPECT_EQ(index_.MatchDomain(c.domain).refs, c.refs) << c.domain;
  EXPECT_EQ(index_.MatchEmail("ceo@xn--bcher-kva.example").refs, (Refs{mail}));
  EXPECT_EQ(index_.Match(ObservableKind::kEmail, "Ceo@bücher.EXAMPLE").refs, (Refs{mail}));
  EXPECT_EQ(index_.MatchUrl("http://xn--bcher-kva.example/a").refs, (Refs{url}));
  EXPECT_EQ(index_.MatchUrl("HTTP://BÜCHER.example:80/a").refs, (Refs{url}));
}

TEST_F(IndexTest, UrlsNormalized) {
  uint32_t u = Add(1, {E(ObservableKind::kUrl, "HTTP://Evil.com:80/a/./b/../c#x")});
  for (const char* q :
       {"http://evil.com/a/c", "http://EVIL.com/a/%63", "http://evil.com:80/a/c#y"}) {
    EXPECT_EQ(index_.MatchUrl(q).refs, (Refs{u})) << q;
  }
  EXPECT_TRUE(index_.MatchUrl("https://evil.com/a/c").refs.empty());
  EXPECT_TRUE(index_.MatchUrl("http://evil.com/A/c").refs.empty());
}

TEST_F(IndexTest, HashesCaseInsensitive) {
  const std::string sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
  uint32_t a = Add(1, {E(ObservableKind::kSha256, sha256)});
  uint32_t b = Add(2, {E(ObservableKind::kMd5, "d41d8cd98f00b204e9800998ecf8427e")});
  std::string lower = sha256;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  EXPECT_EQ(index_.MatchHash(ObservableKind::kSha256, lower).refs, (Refs{a}));
  EXPECT_EQ(index_.MatchHash(ObservableKind::kSha256, sha256).refs, (Refs{a}));
  EXPECT_EQ(index_.MatchHash(ObservableKind::kMd5, "D41D8CD98F00B204E9800998ECF8427E").refs,
            (Refs{b}));
  // The same digest bytes under another algorithm do not match.
  EXPECT_TRUE(index_.MatchHash(ObservableKind::kSha1, lower.substr(0, 40)).refs.empty());
  EXPECT_TRUE(index_.MatchHash(ObservableKind::kSha256, "xyz").refs.empty());
  EXPECT_FALSE(index_.Add(Meta(3), std::vector{E(ObservableKind::kSha1, "abc")}).ok());
}

TEST_F(IndexTest, EmailAndOtherValues) {
  uint32_t e = Add(1, {E(ObservableKind::kEmail, "Bad@Evil.com")});
  uint32_t m = Add(2, {E(ObservableKind::kMacAddr, "00-11-22-33-44-55")});
  uint32_t r = Add(3, {E(ObservableKind::kWindowsRegistryKey, "HKLM\\Software\\Evil")});
  uint32_t x = Add(4, {E(ObservableKind::kMutex, "Global\\EvilMutex")});
  uint32_t as = Add(5, {E(ObservableKind::kAsn, "AS64500")});
  uint32_t ua = Add(6, {E(ObservableKind::kUserAgent, "EvilBot/1.0")});
  EXPECT_EQ(index_.MatchEmail("bad@EVIL.com").refs, (Refs{e}));
  EXPECT_EQ(index_.Match(ObservableKind::kMacAddr, "00:11:22:33:44:55").refs, (Refs{m}));
  EXPECT_EQ(
      index_.Match(ObservableKind::kWindowsRegistryKey, "hkey_local_machine\\SOFTWARE\\evil").refs,
      (Refs{r}));
  EXPECT_EQ(index_.Match(ObservableKind::kMutex, "Global\\EvilMutex").refs, (Refs{x}));
  EXPECT_TRUE(index_.Match(ObservableKind::kMutex, "global\\evilmutex").refs.empty());
  EXPECT_EQ(index_.Match(ObservableKind::kAsn, "64500").refs, (Refs{as}));
  EXPECT_EQ(index_.Match(ObservableKind::kUserAgent, "EvilBot/1.0").refs, (Refs{ua}));
  // A mutex named like the user agent is a different key.
  EXPECT_TRUE(index_.Match(ObservableKind::kMutex, "EvilBot/1.0").refs.empty());
}

TEST_F(IndexTest, NewVersionReplacesOld) {
  uint32_t ref = Add(1, {E(ObservableKind::kIpv4, "1.1.1.1"), E(ObservableKind::kDomain, "a.com")},
                     /*modified=*/10);
  auto older = index_.Add(Meta(1, 5), std::vector{E(ObservableKind::kIpv4, "2.2.2.2")});
  EXPECT_EQ(older.status().code(), Code::kAlreadyExists);
  auto same = index_.Add(Meta(1, 10), std::vector{E(ObservableKind::kIpv4, "2.2.2.2")});
  EXPECT_EQ(same.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(V4Refs("1.1.1.1"), (Refs{ref}));

  auto newer = index_.Add(Meta(1, 20), std::vector{E(ObservableKind::kIpv4, "2.2.2.2")});
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(*newer, ref);  // same handle
  EXPECT_TRUE(V4Refs("1.1.1.1").empty());
  EXPECT_TRUE(index_.MatchDomain("a.com").refs.empty());
  EXPECT_EQ(V4Refs("2.2.2.2"), (Refs{ref}));
  EXPECT_EQ(index_.Get(ref)->modified_us, 20);
  EXPECT_EQ(index_.Stats().entries, 1u);
}

TEST_F(IndexTest, BadEntryLeavesIndexUnchanged) {
  Add(1, {E(ObservableKind::kIpv4, "1.1.1.1")}, 1);
  auto r = index_.Add(Meta(1, 2), std::vector{E(ObservableKind::kIpv4, "2.2.2.2"),
                                              E(ObservableKind::kIpv4, "999.1.1.1")});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("999.1.1.1"), std::string::npos);
  EXPECT_EQ(V4Refs("1.1.1.1").size(), 1u);
  EXPECT_TRUE(V4Refs("2.2.2.2").empty());
  IndicatorMeta not_indicator;
  not_indicator.id = "malware--00000000-0000-4000-8000-000000000001";
  EXPECT_EQ(index_.Add(not_indicator, {}).status().code(), Code::kInvalidArgument);
}

TEST_F(IndexTest, RemoveAndRevoke) {
  uint32_t a = Add(1, {E(ObservableKind::kIpv4, "1.1.1.1")}, 1);
  Add(2, {E(ObservableKind::kIpv4, "1.1.1.1")}, 1);
  ASSERT_TRUE(index_.Remove(TestIndicatorId(2)).ok());
  EXPECT_EQ(V4Refs("1.1.1.1"), (Refs{a}));
  EXPECT_EQ(index_.Remove(TestIndicatorId(2)).code(), Code::kNotFound);

  IndicatorMeta revoked = Meta(1, 2);
  revoked.revoked = true;
  ASSERT_TRUE(index_.Add(revoked, {}).ok());
  EXPECT_TRUE(V4Refs("1.1.1.1").empty());
  EXPECT_TRUE(index_.Get(a)->revoked);
  EXPECT_EQ(index_.Stats().tombstones, 1u);
  // A late, older (or even newer) version cannot bring it back.
  EXPECT_EQ(
      index_.Add(Meta(1, 1), std::vector{E(ObservableKind::kIpv4, "1.1.1.1")}).status().code(),
      Code::kAlreadyExists);
  EXPECT_EQ(
      index_.Add(Meta(1, 3), std::vector{E(ObservableKind::kIpv4, "1.1.1.1")}).status().code(),
      Code::kAlreadyExists);
  EXPECT_TRUE(V4Refs("1.1.1.1").empty());
  // Remove forgets the tombstone too.
  ASSERT_TRUE(index_.Remove(TestIndicatorId(1)).ok());
  EXPECT_EQ(index_.Stats().tombstones, 0u);
  EXPECT_EQ(index_.Stats().indicators, 0u);
}

TEST_F(IndexTest, ExpiryByClock) {
  IndicatorMeta m = Meta(1);
  m.valid_until_us = 2'000'000;
  auto r = index_.Add(m, std::vector{E(ObservableKind::kDomain, "evil.com"),
                                     E(ObservableKind::kIpv4, "10.0.0.0/8")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(index_.MatchDomain("evil.com").refs.size(), 1u);
  clock_.now = 1'999'999;
  EXPECT_EQ(V4Refs("10.9.9.9").size(), 1u);
  clock_.now = 2'000'000;  // valid_until is exclusive
  EXPECT_TRUE(index_.MatchDomain("evil.com").refs.empty());
  EXPECT_TRUE(V4Refs("10.9.9.9").empty());
  EXPECT_EQ(index_.PurgeExpired(), 1u);
  EXPECT_EQ(index_.Stats().entries, 0u);
  EXPECT_FALSE(index_.FindRef(TestIndicatorId(1)).has_value());
}

TEST(IndexCap, ResultsCappedWithTruncatedFlag) {
  FakeClock clock;
  IndicatorIndex index(clock, IndexOptions{.max_results = 3});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(index.Add(Meta(i), std::vector{E(ObservableKind::kIpv4, "10.0.0.0/8")}).ok());
  }
  MatchResult r = index.MatchIpv4(*ParseIpv4("10.1.1.1"));
  EXPECT_EQ(r.refs.size(), 3u);
  EXPECT_TRUE(r.truncated);
  r = index.MatchIpv4(*ParseIpv4("11.1.1.1"));
  EXPECT_TRUE(r.refs.empty());
  EXPECT_FALSE(r.truncated);
  // Exactly at the cap: not truncated.
  for (int i = 3; i < 10; ++i) ASSERT_TRUE(index.Remove(TestIndicatorId(i)).ok());
  r = index.MatchIpv4(*ParseIpv4("10.1.1.1"));
  EXPECT_EQ(r.refs.size(), 3u);
  EXPECT_FALSE(r.truncated);
}

// A lookup may choose its own cap (MatchResult::limit): a lower one, or
// none (what the correlator asks when its caller may see few of the refs).
TEST(IndexCap, ALookupChoosesItsLimit) {
  FakeClock clock;
  IndicatorIndex index(clock, IndexOptions{.max_results = 3});
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(index.Add(Meta(i), std::vector{E(ObservableKind::kIpv4, "10.0.0.0/8")}).ok());
  }
  auto reader = index.Read();
  const uint32_t address = *ParseIpv4("10.1.1.1");
  MatchResult r;
  r.limit = 2;
  ASSERT_TRUE(reader.MatchIpv4(address, &r));
  EXPECT_EQ(r.refs.size(), 2u);
  EXPECT_TRUE(r.truncated);
  r.limit = MatchResult::kNoLimit;
  ASSERT_TRUE(reader.MatchIpv4(address, &r));
  EXPECT_EQ(r.refs.size(), 100u);
  EXPECT_FALSE(r.truncated);
  std::sort(r.refs.begin(), r.refs.end());
  EXPECT_EQ(std::adjacent_find(r.refs.begin(), r.refs.end()), r.refs.end()) << "distinct";
  // The limit stays for the next lookup on the same result (Clear keeps it).
  ASSERT_TRUE(reader.Match(ObservableKind::kIpv4, "10.2.3.4", &r));
  EXPECT_EQ(r.refs.size(), 100u);
  r.limit = 0;  // the index's max_results
  ASSERT_TRUE(reader.MatchIpv4(address, &r));
  EXPECT_EQ(r.refs.size(), 3u);
  EXPECT_TRUE(r.truncated);
}

// Many refs on one value, each indicator reached several ways (its entries
// repeat, and networks of several lengths cover the address): every ref
// once, also past the few a lookup compares one by one.
TEST(IndexCap, ManyRefsAreDistinct) {
  FakeClock clock;
  IndicatorIndex index(clock, IndexOptions{.max_results = 1000});
  for (int i = 0; i < 300; ++i) {
    std::vector<IndexEntry> entries = {E(ObservableKind::kIpv4, "10.0.0.0/8"),
                                       E(ObservableKind::kIpv4, "10.1.0.0/16"),
                                       E(ObservableKind::kIpv4, "10.1.1.1")};
    if (i % 2) entries.push_back(E(ObservableKind::kIpv4, "10.1.1.1"));
    ASSERT_TRUE(index.Add(Meta(i), entries).ok());
  }
  MatchResult r = index.MatchIpv4(*ParseIpv4("10.1.1.1"));
  EXPECT_EQ(r.refs.size(), 300u);
  EXPECT_FALSE(r.truncated);
  std::vector<uint32_t> sorted = r.refs;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  // Capped in the middle of the many: exactly the cap, truncated.
  auto reader = index.Read();
  r.limit = 150;
  ASSERT_TRUE(reader.MatchIpv4(*ParseIpv4("10.1.1.1"), &r));
  EXPECT_EQ(r.refs.size(), 150u);
  EXPECT_TRUE(r.truncated);
  // Reused: what the last lookup collected does not count as seen in the next.
  r.limit = 0;
  ASSERT_TRUE(reader.MatchIpv4(*ParseIpv4("10.200.0.1"), &r));
  EXPECT_EQ(r.refs.size(), 300u) << "only the /8s cover it";
  EXPECT_FALSE(r.truncated);
}

TEST_F(IndexTest, MetadataRoundTrip) {
  IndicatorMeta m = Meta(7, 42);
  m.labels = {"malicious-activity", "c2"};
  m.tlp = stix::Tlp::kAmber;
  m.producer = "identity--11111111-1111-4111-8111-111111111111";
  m.confidence = 85;
  m.valid_until_us = 99;
  auto r = index_.Add(m, std::vector{E(ObservableKind::kIpv4, "1.2.3.4")});
  ASSERT_TRUE(r.ok());
  auto got = index_.Get(*r);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, m.id);
  EXPECT_EQ(got->name, m.name);
  EXPECT_EQ(got->labels, m.labels);
  EXPECT_EQ(got->tlp, stix::Tlp::kAmber);
  EXPECT_EQ(got->producer, m.producer);
  EXPECT_EQ(got->confidence, 85);
  EXPECT_EQ(got->valid_until_us, 99);
  EXPECT_EQ(index_.FindRef(m.id), *r);
  EXPECT_FALSE(index_.Get(12345).has_value());
}

// Reader::View is Get without the copies, for every kind of metadata.
TEST_F(IndexTest, ViewIsGet) {
  std::vector<IndicatorMeta> metas;
  IndicatorMeta full = Meta(7, 42);
  full.labels = {"malicious-activity", "c2", "", "\xe6\x97\xa5"};
  full.tlp = stix::Tlp::kAmberStrict;
  full.producer = "identity--11111111-1111-4111-8111-111111111111";
  full.confidence = 0;
  full.valid_until_us = 99;
  metas.push_back(full);
  IndicatorMeta bare = Meta(8);
  bare.name.clear();
  metas.push_back(bare);
  IndicatorMeta one_label = Meta(9);
  one_label.labels = {"scanner"};
  one_label.confidence = 100;
  metas.push_back(one_label);
  IndicatorMeta upper = Meta(10);  // Get gives the id in lower case
  upper.id = "indicator--ABCDEF00-0000-4000-8000-00000000000A";
  metas.push_back(upper);
  IndicatorMeta revoked = Meta(11);
  revoked.revoked = true;
  metas.push_back(revoked);
  for (const IndicatorMeta& m : metas) {
    auto ref = index_.Add(m, std::vector{E(ObservableKind::kIpv4, "1.2.3.4")});
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    auto got = index_.Get(*ref);
    ASSERT_TRUE(got);
    IndicatorView view;
    std::vector<std::string> labels;
    {
      auto reader = index_.Read();
      ASSERT_TRUE(reader.View(*ref, &view));
      view.ForEachLabel([&](std::string_view label) { labels.emplace_back(label); });
    }
    SCOPED_TRACE(m.id);
    EXPECT_EQ(view.id(), got->id);
    EXPECT_EQ(view.modified_us, got->modified_us);
    EXPECT_EQ(view.name, got->name);
    EXPECT_EQ(labels, got->labels);
    EXPECT_EQ(view.tlp, got->tlp);
    EXPECT_EQ(view.producer, got->producer);
    EXPECT_EQ(view.confidence, got->confidence);
    EXPECT_EQ(view.valid_until_us, got->valid_until_us);
    EXPECT_EQ(view.revoked, got->revoked);
  }
  EXPECT_EQ(index_.Get(*index_.FindRef(upper.id))->id,
            "indicator--abcdef00-0000-4000-8000-00000000000a");
  IndicatorView view;
  EXPECT_FALSE(index_.Read().View(12345, &view));
  const uint32_t removed = *index_.FindRef(bare.id);
  ASSERT_TRUE(index_.Remove(bare.id).ok());
  EXPECT_FALSE(index_.Get(removed).has_value());
  EXPECT_FALSE(index_.Read().View(removed, &view));
}

// Many adds and removes: compaction of arenas, entry log and the /16 table
// keeps the answers right.
TEST_F(IndexTest, ChurnKeepsAnswersRight) {
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20000; ++i) {
      std::string ip = "10." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".1";
      auto r = index_.Add(Meta(i, round + 1),
                          std::vector{E(ObservableKind::kIpv4, ip),
                                      E(ObservableKind::kDomain, "d" + std::to_string(i) + ".com"),
                                      E(ObservableKind::kIpv4, "172.16.0.0/12")});
      ASSERT_TRUE(r.ok());
    }
    for (int i = 0; i < 20000; i += 2) ASSERT_TRUE(index_.Remove(TestIndicatorId(i)).ok());
    EXPECT_TRUE(index_.MatchDomain("d4.com").refs.empty());
    EXPECT_EQ(index_.MatchDomain("d5.com").refs.size(), 1u);
    EXPECT_TRUE(V4Refs("10.0.4.1").empty());
    EXPECT_EQ(V4Refs("10.0.5.1").size(), 1u);
    EXPECT_EQ(V4Refs("172.16.0.1").size(), 100u);  // capped
    EXPECT_EQ(index_.Stats().indicators, 10000u);
    for (int i = 1; i < 20000; i += 2) ASSERT_TRUE(index_.Remove(TestIndicatorId(i)).ok());
    EXPECT_EQ(index_.Stats().entries, 0u);
    EXPECT_TRUE(V4Refs("172.16.0.1").empty());
  }
}

// The per-/16 summaries (length bits, /22 bitmap, /32 Bloom filter) only
// prune probes: answers must equal a brute-force scan, through adds, removals
// (stale bits) and the rebuild that follows many removals, with blocks dense
// enough to saturate the filters.
TEST(IndexIpv4, AgreesWithBruteForce) {
  FakeClock clock;
  IndicatorIndex index(clock, IndexOptions{.max_results = 1000000});
  std::mt19937_64 rng(42);
  struct Net {
    uint32_t network;
    int length;
    bool live;
  };
  std::vector<Net> nets;  // by indicator number
  std::vector<uint32_t> refs;
  auto random_address = [&] {
    // Mostly 4 dense /16s (10.0-3.x.x), some anywhere.
    uint32_t a = static_cast<uint32_t>(rng());
    return rng() % 8 == 0 ? a : (0x0A000000u | (a & 0x3FFFFu));
  };
  auto add = [&](uint32_t address, int length) {
    uint32_t network = length == 0 ? 0 : address & (~uint32_t{0} << (32 - length));
    int n = static_cast<int>(nets.size());
    auto r = index.Add(Meta(n), std::vector{E(ObservableKind::kIpv4,
                                              FormatIpv4(network) + "/" + std::to_string(length))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    nets.push_back({network, length, true});
    refs.push_back(*r);
  };
  auto check = [&](int rounds) {
    auto reader = index.Read();
    MatchResult out;
    std::vector<uint32_t> addresses, matched;
    for (int i = 0; i < rounds; ++i) {
      uint32_t address;
      if (rng() % 2 == 0) {
        const Net& n = nets[rng() % nets.size()];
        uint32_t host = n.length == 32 ? 0 : static_cast<uint32_t>(rng()) >> n.length;
        address = n.network | (rng() % 4 == 0 ? host : 0);
      } else {
        address = random_address();
      }
      int query_length = rng() % 3 == 0 ? static_cast<int>(rng() % 33) : 32;
      uint32_t query_mask = query_length == 0 ? 0 : ~uint32_t{0} << (32 - query_length);
      std::vector<std::pair<int, uint32_t>> expected;  // (length, ref)
      for (size_t k = 0; k < nets.size(); ++k) {
        const Net& n = nets[k];
        uint32_t mask = n.length == 0 ? 0 : ~uint32_t{0} << (32 - n.length);
        if (n.live && n.length <= query_length && ((address & query_mask) & mask) == n.network) {
          expected.push_back({n.length, refs[k]});
        }
      }
      bool hit = reader.MatchIpv4Network(address, query_length, &out);
      ASSERT_EQ(hit, !expected.empty()) << FormatIpv4(address) << "/" << query_length;
      ASSERT_EQ(out.refs.size(), expected.size()) << FormatIpv4(address) << "/" << query_length;
      // Most specific first; the same set.
      std::vector<std::pair<int, uint32_t>> got;
      for (uint32_t ref : out.refs) {
        // Refs are reused after removal: the live indicator holding it.
        size_t k = 0;
        while (k < refs.size() && !(refs[k] == ref && nets[k].live)) ++k;
        ASSERT_LT(k, refs.size());
        got.push_back({nets[k].length, ref});
      }
      for (size_t k = 1; k < got.size(); ++k) ASSERT_GE(got[k - 1].first, got[k].first);
      std::sort(got.begin(), got.end());
      std::sort(expected.begin(), expected.end());
      ASSERT_EQ(got, expected) << FormatIpv4(address) << "/" << query_length;
      if (query_length == 32) {
        if (hit) matched.push_back(static_cast<uint32_t>(addresses.size()));
        addresses.push_back(address);
      }
    }
    std::vector<uint32_t> batch;
    reader.MatchIpv4Batch(addresses, &batch);
    EXPECT_EQ(batch, matched);
    // ForEachIpv4Match: the same positions, each with MatchIpv4's answer.
    std::vector<uint32_t> visited;
    MatchResult single;
    reader.ForEachIpv4Match(addresses, [&](uint32_t position, const MatchResult& found) {
      visited.push_back(position);
      reader.MatchIpv4(addresses[position], &single);
      EXPECT_EQ(found.refs, single.refs) << FormatIpv4(addresses[position]);
      EXPECT_EQ(found.truncated, single.truncated);
    });
    EXPECT_EQ(visited, matched);
  };

  for (int i = 0; i < 6000; ++i) add(random_address(), 32);
  for (int i = 0; i < 1500; ++i) add(random_address(), 16 + static_cast<int>(rng() % 17));
  for (int i = 0; i < 20; ++i) add(random_address(), static_cast<int>(rng() % 16));
  check(3000);
  // Remove most of them (stale bits, then a rebuild), check on the way.
  for (int round = 0; round < 3; ++round) {
    for (size_t k = 0; k < nets.size(); ++k) {
      if (nets[k].live && rng() % 2 == 0) {
        ASSERT_TRUE(index.Remove(TestIndicatorId(static_cast<int>(k))).ok());
        nets[k].live = false;
      }
    }
    check(2000);
    for (int i = 0; i < 300; ++i) add(random_address(), 16 + static_cast<int>(rng() % 17));
    check(2000);
  }
}

TEST(IndexConcurrency, ReadersWithAWriter) {
  FakeClock clock;
  IndicatorIndex index(clock);
  // Stable indicators the readers always expect to see.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        index
            .Add(Meta(i), std::vector{E(ObservableKind::kIpv4, "192.0.2." + std::to_string(i)),
                                      E(ObservableKind::kDomain, "stable.example")})
            .ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      MatchResult out;
      uint32_t n = 0;
      while (!stop.load()) {
        auto reader = index.Read();
        for (int k = 0; k < 100; ++k, ++n) {
          reader.MatchIpv4(0xC0000200u + n % 100, &out);  // 192.0.2.x
          if (out.refs.size() != 1) failures++;
          reader.MatchDomain("stable.example", &out);
          if (out.refs.size() != 100) failures++;
          reader.MatchIpv4(0x0A000000u + (n * 7919 + t) % 65536, &out);  // churned 10/8 space
        }
      }
    });
  }
  for (int i = 0; i < 20000; ++i) {
    int id = 1000 + i % 500;
    std::string ip = "10.0." + std::to_string(i % 250) + "." + std::to_string(i % 200);
    auto r = index.Add(Meta(id, i + 1), std::vector{E(ObservableKind::kIpv4, ip),
                                                    E(ObservableKind::kIpv4, "10.0.0.0/16")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (i % 3 == 0) {
      ASSERT_TRUE(index.Remove(Meta(id).id).ok());
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace kizuna::correlation
