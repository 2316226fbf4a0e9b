// The correlator's fast path for plain patterns (internal::PlainComparison)
// against the full path it stands in for: pattern::ParsePattern, then
// ReduceToSimpleComparisons, then KindForStixPath on every comparison, as
// Correlator::Prepare does. The full path is the reference: whenever the fast
// path gives an entry, the full path must give exactly that one entry (same
// kind, same value as written, hence the same normal form and the same
// network for a CIDR); when the fast path declines, the pattern goes to the
// full path anyway, so declining is always safe.
#include "correlation/fast_pattern.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "correlation/observable.h"
#include "pattern/pattern.h"

namespace kizuna::correlation {
namespace {

// What Correlator::Prepare's full path makes of a pattern.
struct FullPath {
  bool parsed = false;  // false: the indicator is an error
  // Set when the index holds the whole pattern (Prepared::Kind::kIndex);
  // unset when it is evaluated as a pattern.
  std::optional<std::vector<IndexEntry>> entries;
};

FullPath Full(std::string_view text) {
  FullPath out;
  auto parsed = pattern::ParsePattern(text);
  if (!parsed.ok()) return out;
  out.parsed = true;
  auto simple = pattern::ReduceToSimpleComparisons(*parsed);
  if (!simple) return out;
  std::vector<IndexEntry> entries;
  for (const auto& comparison : *simple) {
    auto kind = KindForStixPath(comparison.object_type + ":" + comparison.property_path);
    if (!kind) return out;
    entries.push_back({*kind, comparison.value, false});
  }
  out.entries = std::move(entries);
  return out;
}

std::string Show(std::string_view text) {
  if (text.size() > 200)
    return std::string(text.substr(0, 200)) + "... (" + std::to_string(text.size()) + " bytes)";
  return std::string(text);
}

// Whenever the fast path answers, the full path answers the same. Returns
// whether the fast path answered.
bool ExpectAgree(std::string_view text) {
  auto fast = internal::PlainComparison(text);
  if (!fast) return false;
  FullPath full = Full(text);
  EXPECT_TRUE(full.parsed) << "fast path took a pattern the parser rejects: " << Show(text);
  EXPECT_TRUE(full.entries.has_value())
      << "fast path indexed a pattern the full path evaluates: " << Show(text);
  if (!full.entries) return true;
  EXPECT_EQ(full.entries->size(), 1u) << Show(text);
  if (full.entries->size() != 1) return true;
  const IndexEntry& reference = full.entries->front();
  EXPECT_EQ(ObservableKindName(fast->kind), ObservableKindName(reference.kind)) << Show(text);
  EXPECT_EQ(fast->value, reference.value) << Show(text);
  EXPECT_FALSE(fast->match_subdomains) << Show(text);
  return true;
}

constexpr const char* kMd5 = "44d88612fea8a8f36de82e1278abb02f";
constexpr const char* kSha1 = "3395856ce81f2b7382dee72602f798b642f14140";
constexpr const char* kSha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
constexpr const char* kSha512 =
    "cc805d5fab1fd71a4ab352a9c533e65fb2d5b885518f4e565e68847223b8e6b8"
    "5cb48f3afad842726d99239c9e36505c64b0dc9a061d9e507d833277ada336ab";

std::string Plain(std::string_view path, std::string_view op, std::string_view value) {
  return "[" + std::string(path) + " " + std::string(op) + " '" + std::string(value) + "']";
}

// Every path the fast path knows, with the kind the index files it under.
struct Indexed {
  std::string pattern;
  ObservableKind kind;
  std::string value;
};
std::vector<Indexed> IndexedTable() {
  using K = ObservableKind;
  std::vector<Indexed> table = {
      {Plain("ipv4-addr:value", "=", "198.51.100.7"), K::kIpv4, "198.51.100.7"},
      {Plain("ipv4-addr:value", "=", "198.51.100.0/24"), K::kIpv4, "198.51.100.0/24"},
      {Plain("ipv4-addr:value", "=", "10.1.2.3/8"), K::kIpv4, "10.1.2.3/8"},
      {Plain("ipv4-addr:value", "ISSUBSET", "198.51.100.0/24"), K::kIpv4, "198.51.100.0/24"},
      {Plain("ipv4-addr:value", "ISSUBSET", "198.51.100.7"), K::kIpv4, "198.51.100.7"},
      {Plain("ipv4-addr:value", "ISSUBSET", "0.0.0.0/0"), K::kIpv4, "0.0.0.0/0"},
      {Plain("ipv4-addr:value", "ISSUBSET", "10.1.2.3/32"), K::kIpv4, "10.1.2.3/32"},
      {Plain("ipv6-addr:value", "=", "2001:db8::1"), K::kIpv6, "2001:db8::1"},
      {Plain("ipv6-addr:value", "=", "2001:db8::/32"), K::kIpv6, "2001:db8::/32"},
      {Plain("ipv6-addr:value", "ISSUBSET", "2001:db8::/32"), K::kIpv6, "2001:db8::/32"},
      {Plain("ipv6-addr:value", "ISSUBSET", "::1"), K::kIpv6, "::1"},
      {Plain("ipv6-addr:value", "ISSUBSET", "::ffff:198.51.100.0/120"), K::kIpv6,
       "::ffff:198.51.100.0/120"},
      {Plain("ipv6-addr:value", "ISSUBSET", "2001:DB8::/128"), K::kIpv6, "2001:DB8::/128"},
      {Plain("domain-name:value", "=", "evil.example.com"), K::kDomain, "evil.example.com"},
      {Plain("domain-name:value", "=", "*.evil.example.com"), K::kDomain, "*.evil.example.com"},
      {Plain("domain-name:value", "=", "EVIL.Example.COM."), K::kDomain, "EVIL.Example.COM."},
      {Plain("domain-name:value", "=",
             "b\xc3\xbc"
             "cher.example"),
       K::kDomain,
       "b\xc3\xbc"
       "cher.example"},
      {Plain("url:value", "=", "http://evil.example.com/a/b?c=d#e"), K::kUrl,
       "http://evil.example.com/a/b?c=d#e"},
      {Plain("url:value", "=", "HTTP://Evil.COM:80/a/../b"), K::kUrl, "HTTP://Evil.COM:80/a/../b"},
      // What looks like pattern syntax inside a literal is just text.
      {Plain("url:value", "=", "http://x.example/]"), K::kUrl, "http://x.example/]"},
      {Plain("url:value", "=", "http://x.example/a b"), K::kUrl, "http://x.example/a b"},
      {Plain("url:value", "=", "http://x.example/?q= ISSUBSET "), K::kUrl,
       "http://x.example/?q= ISSUBSET "},
      {Plain("url:value", "=", "http://x.example/] OR [url:value = "), K::kUrl,
       "http://x.example/] OR [url:value = "},
      {Plain("url:value", "=", "/* not a comment */ // nor this"), K::kUrl,
       "/* not a comment */ // nor this"},
      {Plain("url:value", "=", "tab\there\nnewline"), K::kUrl, "tab\there\nnewline"},
      {Plain("email-addr:value", "=", "bad@evil.example.com"), K::kEmail, "bad@evil.example.com"},
      {Plain("email-addr:value", "=", "Bad.Guy+x@Evil.Example.com"), K::kEmail,
       "Bad.Guy+x@Evil.Example.com"},
      {Plain("file:hashes.MD5", "=", kMd5), K::kMd5, kMd5},
      {Plain("file:hashes.'MD5'", "=", kMd5), K::kMd5, kMd5},
      {Plain("file:hashes.'SHA-1'", "=", kSha1), K::kSha1, kSha1},
      {Plain("file:hashes.'SHA-256'", "=", kSha256), K::kSha256, kSha256},
      {Plain("file:hashes.'SHA-512'", "=", kSha512), K::kSha512, kSha512},
      // A digest of the wrong length is still the entry the full path makes
      // (the index refuses it later, and the pattern is evaluated instead).
      {Plain("file:hashes.'SHA-256'", "=", kMd5), K::kSha256, kMd5},
      {Plain("file:hashes.MD5", "=", "not hex"), K::kMd5, "not hex"},
      // The empty literal too.
      {Plain("domain-name:value", "=", ""), K::kDomain, ""},
  };
  return table;
}

TEST(PlainComparison, TakesThePlainFormOfEveryIndexedKindAsTheParserDoes) {
  for (const Indexed& row : IndexedTable()) {
    SCOPED_TRACE(row.pattern);
    auto fast = internal::PlainComparison(row.pattern);
    ASSERT_TRUE(fast.has_value()) << "the plainest form should not need the parser";
    EXPECT_EQ(fast->kind, row.kind);
    EXPECT_EQ(fast->value, row.value);
    EXPECT_TRUE(ExpectAgree(row.pattern));
    // The same value normalizes the same (it is the same string; this checks
    // the table's expectations about what the index will make of it).
    FullPath full = Full(row.pattern);
    ASSERT_TRUE(full.entries && full.entries->size() == 1);
    auto fast_normal = NormalizeValue(fast->kind, fast->value);
    auto full_normal = NormalizeValue(full.entries->front().kind, full.entries->front().value);
    ASSERT_EQ(fast_normal.ok(), full_normal.ok());
    if (fast_normal.ok()) {
      EXPECT_EQ(*fast_normal, *full_normal);
    }
  }
}

TEST(PlainComparison, CidrsAreTheNetworkTheParserSees) {
  for (std::string_view cidr : {"198.51.100.0/24", "198.51.100.7", "10.1.2.3/8", "0.0.0.0/0",
                                "2001:db8::/32", "::1", "::/0", "fe80::1%1"}) {
    SCOPED_TRACE(cidr);
    const bool v6 = cidr.find(':') != std::string_view::npos;
    const std::string text = Plain(v6 ? "ipv6-addr:value" : "ipv4-addr:value", "ISSUBSET", cidr);
    auto fast = internal::PlainComparison(text);
    auto parsed = pattern::ParsePattern(text);
    ASSERT_EQ(fast.has_value(), parsed.ok());
    if (!fast) continue;
    ExpectAgree(text);
    const auto& test = parsed->root.comparison;
    ASSERT_TRUE(test.cidr.has_value());
    auto prefix = pattern::ParseIpPrefix(fast->value);
    ASSERT_TRUE(prefix.has_value());
    EXPECT_EQ(prefix->v6, test.cidr->v6);
    EXPECT_EQ(prefix->prefix_length, test.cidr->prefix_length);
    EXPECT_EQ(0, std::memcmp(prefix->bytes, test.cidr->bytes, sizeof(prefix->bytes)));
  }
}

TEST(PlainComparison, DeclinesNearMisses) {
  const std::string ip = "[ipv4-addr:value = '198.51.100.7']";
  const std::string near_misses[] = {
      // Other spacing.
      "[ipv4-addr:value  = '198.51.100.7']",
      "[ipv4-addr:value =  '198.51.100.7']",
      "[ ipv4-addr:value = '198.51.100.7']",
      "[ipv4-addr:value = '198.51.100.7' ]",
      "[ipv4-addr:value='198.51.100.7']",
      "[ipv4-addr:value ='198.51.100.7']",
      "[ipv4-addr:value\t= '198.51.100.7']",
      "[ipv4-addr:value =\t'198.51.100.7']",
      "[ipv4-addr:value\n= '198.51.100.7']",
      " " + ip,
      ip + " ",
      ip + "\n",
      "[ipv4-addr:value ISSUBSET  '198.51.100.0/24']",
      "[ipv4-addr:value  ISSUBSET '198.51.100.0/24']",
      // Escapes and backslashes.
      "[url:value = 'http://x.example/it\\'s']",
      "[url:value = 'http://x.example/a\\\\b']",
      "[url:value = 'http://x.example/a\\b']",
      "[windows-registry-key:key = 'HKLM\\\\Software']",
      "[url:value = 'http://x.example/\\'']",
      // More than one comparison.
      "[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value = '198.51.100.8']",
      "[ipv4-addr:value = '198.51.100.7' AND ipv4-addr:value = '198.51.100.8']",
      "[ipv4-addr:value = '198.51.100.7'] OR [ipv4-addr:value = '198.51.100.8']",
      "[ipv4-addr:value = '198.51.100.7'] AND [ipv4-addr:value = '198.51.100.8']",
      "[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.8']",
      "[domain-name:value = 'a.example' OR url:value = 'http://a.example/']",
      "([ipv4-addr:value = '198.51.100.7'])",
      "[(ipv4-addr:value = '198.51.100.7')]",
      "[[ipv4-addr:value = '198.51.100.7']]",
      // Qualifiers.
      ip + " WITHIN 300 SECONDS",
      ip + " REPEATS 2 TIMES",
      ip + " START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
      // Other operators.
      "[ipv4-addr:value != '198.51.100.7']",
      "[ipv4-addr:value <> '198.51.100.7']",
      "[ipv4-addr:value == '198.51.100.7']",
      "[ipv4-addr:value NOT = '198.51.100.7']",
      "[ipv4-addr:value LIKE '198.51.100.%']",
      "[ipv4-addr:value MATCHES '^198\\\\.51']",
      "[domain-name:value LIKE '%.evil.example']",
      "[domain-name:value MATCHES 'evil']",
      "[ipv4-addr:value IN ('198.51.100.7')]",
      "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
      "[ipv4-addr:value issubset '198.51.100.0/24']",
      "[ipv4-addr:value < '198.51.100.7']",
      "[ipv4-addr:value > '198.51.100.7']",
      "[EXISTS ipv4-addr:value]",
      // ISSUBSET that is not an address of the path's family.
      "[domain-name:value ISSUBSET '198.51.100.0/24']",
      "[url:value ISSUBSET '198.51.100.0/24']",
      "[ipv4-addr:value ISSUBSET '2001:db8::/32']",
      "[ipv6-addr:value ISSUBSET '198.51.100.0/24']",
      "[ipv4-addr:value ISSUBSET '198.51.100.0/33']",
      "[ipv4-addr:value ISSUBSET '198.51.100.0/']",
      "[ipv4-addr:value ISSUBSET '198.51.100.0/-1']",
      "[ipv4-addr:value ISSUBSET '198.051.100.0/24']",
      "[ipv4-addr:value ISSUBSET 'evil.example']",
      "[ipv4-addr:value ISSUBSET '']",
      "[ipv6-addr:value ISSUBSET '2001:db8::/129']",
      // Other spellings of the type, property or hash name.
      "[IPV4-ADDR:value = '198.51.100.7']",
      "[Ipv4-Addr:value = '198.51.100.7']",
      "[ipv4-addr:VALUE = '198.51.100.7']",
      "[ipv4-addr:'value' = '198.51.100.7']",
      "[Domain-Name:value = 'evil.example']",
      "[URL:value = 'http://evil.example/']",
      std::string("[file:hashes.md5 = '") + kMd5 + "']",
      std::string("[file:hashes.'md5' = '") + kMd5 + "']",
      std::string("[file:hashes.'sha-256' = '") + kSha256 + "']",
      std::string("[file:hashes.SHA256 = '") + kSha256 + "']",
      std::string("[file:hashes.'SHA256' = '") + kSha256 + "']",
      std::string("[file:hashes.'SHA1' = '") + kSha1 + "']",
      std::string("[file:hashes.SHA-256 = '") + kSha256 + "']",
      std::string("[file:hashes.\"SHA-256\" = '") + kSha256 + "']",
      std::string("[file:hashes . 'SHA-256' = '") + kSha256 + "']",
      std::string("[FILE:hashes.'SHA-256' = '") + kSha256 + "']",
      std::string("[artifact:hashes.'SHA-256' = '") + kSha256 + "']",
      // Trailing or leading garbage; an unterminated or missing piece.
      ip + "]",
      ip + " x",
      ip + " x']",
      ip + "'",
      ip + " /* comment */",
      ip + " // comment",
      "x" + ip,
      "[ipv4-addr:value = '198.51.100.7' x']",
      "[ipv4-addr:value = '198.51.100.7' '']",
      "[ipv4-addr:value = '198.51.100.7'",
      "ipv4-addr:value = '198.51.100.7']",
      "[ipv4-addr:value /* c */ = '198.51.100.7']",
      "[ipv4-addr:value = ']",
      "[ipv4-addr:value ']",
      "[ipv4-addr:value']",
      "[ipv4-addr:value = ''']",
      "[']",
      "['']",
      "[ ']",
      "']",
      "[]",
      "[",
      "",
      // Literals that are not strings.
      "[url:value = h'00ff']",
      "[url:value = b'AAAA']",
      "[url:value = t'2020-01-01T00:00:00Z']",
      "[ipv4-addr:value = 1]",
      // Properties the fast path does not know (whether or not the index
      // holds them, the parser decides).
      "[network-traffic:dst_port = '80']",
      "[file:name = 'invoice.exe']",
      "[file:size = '3']",
      "[mac-addr:value = '00:11:22:33:44:55']",
      "[mutex:name = 'Global\\\\evil']",
      "[process:name = 'evil.exe']",
      "[autonomous-system:number = '64496']",
      "[x509-certificate:serial_number = '01']",
      "[email-message:from_ref.value = 'bad@evil.example']",
      "[network-traffic:dst_ref.value = '198.51.100.7']",
      "[file:hashes.'SHA3-256' = 'aa']",
      "[file:hashes.SSDEEP = '3:a:b']",
      "[ipv4-addr:x_value = '198.51.100.7']",
      "[ipv4-addr:value[0] = '198.51.100.7']",
      "[ipv4-addr:value.x = '198.51.100.7']",
      "[domain-name:resolves_to_refs[*].value = '198.51.100.7']",
  };
  for (const std::string& text : near_misses) {
    EXPECT_FALSE(internal::PlainComparison(text).has_value()) << Show(text);
  }
}

TEST(PlainComparison, LeavesAPatternOverTheParsersLimitToTheParser) {
  // The parser refuses patterns over kMaxPatternBytes (the indicator is an
  // error); the fast path must not index one it would refuse.
  for (size_t extra : {0, 1, 2, 100}) {
    const std::string prefix = "http://evil.example/";
    const std::string frame = Plain("url:value", "=", "");
    std::string value = prefix;
    value.resize(pattern::kMaxPatternBytes - frame.size() + extra - 1, 'a');
    const std::string text = Plain("url:value", "=", value);
    SCOPED_TRACE(text.size());
    ASSERT_EQ(text.size(), pattern::kMaxPatternBytes + extra - 1);
    FullPath full = Full(text);
    EXPECT_EQ(full.parsed, text.size() <= pattern::kMaxPatternBytes);
    EXPECT_EQ(internal::PlainComparison(text).has_value(), full.parsed);
    ExpectAgree(text);
  }
}

// --- Generated patterns ------------------------------------------------------

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  // A pattern built from random pieces, most of them close to the plain form.
  std::string Pattern() {
    std::string out = Pick<std::string>({"[", "[", "[", "[", "[ ", " [", "([", ""});
    auto [path, kind] = Path();
    out += path;
    out += Space();
    out += Operator();
    out += Space();
    out += Quoted(Value(kind));
    out += Pick<std::string>({"]", "]", "]", "]", "]", " ]", "]]", "", "])", "] ",
                              "] WITHIN 5 SECONDS", "] REPEATS 2 TIMES"});
    if (Chance(15)) {
      out += Pick<std::string>({" OR ", " AND ", " FOLLOWEDBY "});
      out += Plain(Path().first, "=", "198.51.100.7");
    }
    return out;
  }

  // The plainest form on a random path (mostly known ones) with a random
  // value (mostly of the path's kind).
  std::string PlainPattern() {
    auto [path, kind] = Path();
    return Plain(path, Pick<std::string>({"=", "=", "ISSUBSET"}), Value(kind));
  }

  // A plain pattern with one byte inserted, removed or replaced.
  std::string Mutant() {
    auto [path, kind] = Path();
    std::string out = Plain(path, Chance(20) ? "ISSUBSET" : "=", Value(kind));
    const size_t at = Uniform(0, out.size() - 1);
    const char c = Pick<char>({' ', '\t', '\'', '\\', ']', '[', '=', '/', '*', ':', '.', 'a', 'Z',
                               '0', '"', '\0', '\n', '('});
    switch (Uniform(0, 2)) {
      case 0:
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      case 1:
        out.erase(at, 1);
        break;
      default:
        out[at] = c;
        break;
    }
    return out;
  }

 private:
  enum class ValueKind { kIpv4, kIpv6, kDomain, kUrl, kEmail, kHash, kAny };

  size_t Uniform(size_t lo, size_t hi) {
    return std::uniform_int_distribution<size_t>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Uniform(0, 99) < static_cast<size_t>(percent); }
  template <typename T>
  T Pick(std::initializer_list<T> items) {
    return *(items.begin() + Uniform(0, items.size() - 1));
  }

  std::pair<std::string, ValueKind> Path() {
    using V = ValueKind;
    static const std::vector<std::pair<std::string, ValueKind>> kPaths = {
        {"ipv4-addr:value", V::kIpv4},
        {"ipv4-addr:value", V::kIpv4},
        {"ipv4-addr:value", V::kIpv4},
        {"ipv6-addr:value", V::kIpv6},
        {"ipv6-addr:value", V::kIpv6},
        {"domain-name:value", V::kDomain},
        {"domain-name:value", V::kDomain},
        {"url:value", V::kUrl},
        {"email-addr:value", V::kEmail},
        {"file:hashes.MD5", V::kHash},
        {"file:hashes.'MD5'", V::kHash},
        {"file:hashes.'SHA-1'", V::kHash},
        {"file:hashes.'SHA-256'", V::kHash},
        {"file:hashes.'SHA-256'", V::kHash},
        {"file:hashes.'SHA-512'", V::kHash},
        // Near the known paths, but not them.
        {"file:hashes.md5", V::kHash},
        {"file:hashes.'sha-256'", V::kHash},
        {"file:hashes.SHA256", V::kHash},
        {"file:hashes.'SHA3-256'", V::kHash},
        {"artifact:hashes.'SHA-256'", V::kHash},
        {"IPV4-ADDR:value", V::kIpv4},
        {"ipv6-addr:Value", V::kIpv6},
        {"file:name", V::kAny},
        {"mutex:name", V::kAny},
        {"network-traffic:dst_port", V::kAny},
        {"network-traffic:dst_ref.value", V::kIpv4},
        {"ipv4-addr:value[0]", V::kIpv4},
        {"email-message:from_ref.value", V::kEmail},
    };
    return kPaths[Uniform(0, kPaths.size() - 1)];
  }

  std::string Space() {
    return Pick<std::string>({" ", " ", " ", " ", " ", " ", "", "  ", "\t", "\n", " /**/ "});
  }

  std::string Operator() {
    return Pick<std::string>({"=", "=", "=", "=", "ISSUBSET", "ISSUBSET", "ISSUBSET", "!=", "==",
                              "<>", "LIKE", "MATCHES", "ISSUPERSET", "issubset", "NOT =", "IN"});
  }

  std::string Quoted(const std::string& value) {
    switch (Uniform(0, 9)) {
      case 0: {  // escaped as the grammar wants: the parser reads `value`
        std::string out = "'";
        for (char c : value) {
          if (c == '\'' || c == '\\') out.push_back('\\');
          out.push_back(c);
        }
        return out + "'";
      }
      case 1:
        return value;  // unquoted
      case 2:
        return "'" + value;  // unterminated
      case 3:
        return "('" + value + "')";  // as for IN
      case 4:
        return "h'" + value + "'";
      default:
        return "'" + value + "'";
    }
  }

  std::string Ipv4() {
    std::string out;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) out += ".";
      if (Chance(3)) {
        out += Pick<std::string>({"256", "00", "012", "", "1a", "999", "-1"});
      } else {
        out += std::to_string(Uniform(0, 255));
      }
    }
    if (Chance(2)) out += Pick<std::string>({".1", ".", " ", "x"});
    return out;
  }

  std::string Ipv6() {
    std::string out;
    const size_t groups = Uniform(1, 8);
    const size_t gap = Chance(60) ? Uniform(0, groups) : groups + 1;  // where "::" goes
    for (size_t i = 0; i < groups; ++i) {
      if (i == gap) {
        out += "::";
      } else if (i > 0) {
        out += ":";
      }
      char buf[8];
      std::snprintf(buf, sizeof(buf), Chance(50) ? "%x" : "%X",
                    static_cast<unsigned>(Uniform(0, 0xffff)));
      out += buf;
    }
    if (gap == groups) out += "::";
    if (Chance(10)) out += ":" + Ipv4();
    if (Chance(3)) out += Pick<std::string>({"%eth0", ":::", "g"});
    return out;
  }

  std::string Prefix(size_t max) {
    if (!Chance(50)) return "";
    if (Chance(5)) return Pick<std::string>({"/", "/x", "/-1", "/0000", "/ 8", "/8/8"});
    return "/" + std::to_string(Uniform(0, max + 2));
  }

  std::string Label() {
    static constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyz0123456789-ABCXYZ";
    std::string out;
    const size_t length = Uniform(1, 12);
    for (size_t i = 0; i < length; ++i) out.push_back(kChars[Uniform(0, kChars.size() - 1)]);
    return out;
  }

  std::string Domain() {
    std::string out = Chance(10) ? "*." : "";
    const size_t labels = Uniform(1, 4);
    for (size_t i = 0; i < labels; ++i) out += Label() + ".";
    out += Pick<std::string>({"com", "example", "co.uk", "xn--p1ai",
                              "b\xc3\xbc"
                              "cher",
                              "local"});
    if (Chance(5)) out += ".";
    return out;
  }

  std::string Hash() {
    static constexpr std::string_view kHex = "0123456789abcdefABCDEF";
    const size_t length = Chance(90) ? Pick<size_t>({32, 40, 64, 128}) : Uniform(0, 130);
    std::string out;
    for (size_t i = 0; i < length; ++i) out.push_back(kHex[Uniform(0, kHex.size() - 1)]);
    if (Chance(3)) out[Uniform(0, out.empty() ? 0 : out.size() - 1)] = 'g';
    return out;
  }

  // Arbitrary bytes, weighted towards those that mean something to the lexer.
  std::string Junk() {
    std::string out;
    const size_t length = Uniform(0, 16);
    for (size_t i = 0; i < length; ++i) {
      if (Chance(50)) {
        out.push_back(Pick<char>({'\'', '\\', ']', '[', ' ', '/', '*', '=', '\0', '\n', '\t', '"',
                                  '%', ':', '.', '(', ')'}));
      } else {
        out.push_back(static_cast<char>(Uniform(1, 255)));
      }
    }
    return out;
  }

  std::string Value(ValueKind kind) {
    if (Chance(5)) return Junk();
    if (Chance(5)) kind = static_cast<ValueKind>(Uniform(0, 6));  // a value of another kind
    std::string out;
    switch (kind) {
      case ValueKind::kIpv4:
        out = Ipv4() + Prefix(32);
        break;
      case ValueKind::kIpv6:
        out = Ipv6() + Prefix(128);
        break;
      case ValueKind::kDomain:
        out = Domain();
        break;
      case ValueKind::kUrl:
        out = Pick<std::string>({"http://", "https://", "HXXP://", "ftp://", ""}) + Domain() +
              Pick<std::string>({"", "/", "/a/../b", "/?q=1&r=2", ":8080/x#frag", "/a b"});
        break;
      case ValueKind::kEmail:
        out = Label() + "@" + Domain();
        break;
      case ValueKind::kHash:
        out = Hash();
        break;
      case ValueKind::kAny:
        out = Label() + Pick<std::string>({"", ".exe", " x", "\\y"});
        break;
    }
    if (Chance(3)) out.insert(Uniform(0, out.size()), Junk());
    return out;
  }

  std::mt19937 rng_;
};

TEST(PlainComparison, AgreesWithTheParserOnGeneratedPatterns) {
  constexpr uint32_t kSeed = 0x6b697a75;  // fixed, so that a failure reproduces
  constexpr int kPatterns = 30000;
  Generator generator(kSeed);
  int taken = 0, declined_but_indexed = 0;
  for (int i = 0; i < kPatterns; ++i) {
    const std::string text = i % 3 == 0   ? generator.Pattern()
                             : i % 3 == 1 ? generator.Mutant()
                                          : generator.PlainPattern();
    SCOPED_TRACE("pattern #" + std::to_string(i) + ": " + Show(text));
    if (ExpectAgree(text)) {
      ++taken;
    } else if (Full(text).entries) {
      ++declined_but_indexed;
    }
    if (::testing::Test::HasFailure()) break;  // the first divergence says enough
  }
  // Both outcomes should be common, or the generator tests little.
  EXPECT_GT(taken, kPatterns / 10);
  EXPECT_GT(declined_but_indexed, kPatterns / 20);
  std::printf("generated %d patterns: fast path took %d, declined %d the index holds\n", kPatterns,
              taken, declined_but_indexed);
}

// Every canonical rendering of a value the full path indexes under a known
// path takes the fast path: it is only worth having if it is used.
TEST(PlainComparison, TakesEveryPlainPatternThePathsAllow) {
  Generator generator(7);
  int checked = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string text = i % 2 == 0 ? generator.Pattern() : generator.PlainPattern();
    FullPath full = Full(text);
    if (!full.entries || full.entries->size() != 1) continue;
    auto parsed = pattern::ParsePattern(text);
    auto simple = pattern::ReduceToSimpleComparisons(*parsed);
    const pattern::SimpleComparison& comparison = simple->front();
    const std::string& value = comparison.value;
    if (value.find_first_of("'\\") != std::string::npos) continue;
    // The plainest form of the same pattern, with the path as the fast
    // path's table spells it.
    std::string path;
    switch (full.entries->front().kind) {
      case ObservableKind::kIpv4:
        path = "ipv4-addr:value";
        break;
      case ObservableKind::kIpv6:
        path = "ipv6-addr:value";
        break;
      case ObservableKind::kDomain:
        path = "domain-name:value";
        break;
      case ObservableKind::kUrl:
        path = "url:value";
        break;
      case ObservableKind::kEmail:
        path = "email-addr:value";
        break;
      case ObservableKind::kMd5:
        path = "file:hashes.MD5";
        break;
      case ObservableKind::kSha1:
        path = "file:hashes.'SHA-1'";
        break;
      case ObservableKind::kSha256:
        path = "file:hashes.'SHA-256'";
        break;
      case ObservableKind::kSha512:
        path = "file:hashes.'SHA-512'";
        break;
      default:
        continue;
    }
    // (PropertyString writes 'MD5' as MD5, and the fast path takes both.)
    if (comparison.object_type + ":" + comparison.property_path != path) {
      continue;  // another spelling of the path: the parser's business
    }
    const bool subset = comparison.kind == pattern::SimpleComparison::Kind::kCidrSubset;
    const std::string plain = Plain(path, subset ? "ISSUBSET" : "=", value);
    SCOPED_TRACE(text + " -> " + plain);
    EXPECT_TRUE(internal::PlainComparison(plain).has_value());
    EXPECT_TRUE(ExpectAgree(plain));
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

}  // namespace
}  // namespace kizuna::correlation
