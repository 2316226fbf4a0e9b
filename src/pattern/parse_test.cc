#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "pattern/pattern.h"
#include "stix/stix.h"

namespace kizuna::pattern {
namespace {

using Kind = ObservationExpression::Kind;

Pattern MustParse(std::string_view text) {
  Result<Pattern> pattern = ParsePattern(text);
  EXPECT_TRUE(pattern.ok()) << text << " -> " << pattern.status().message();
  return pattern.ok() ? std::move(pattern).value() : Pattern{};
}

// The example patterns of STIX 2.1 section 9 (and the 2.0 part 5 examples).
const char* const kSpecExamples[] = {
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
    "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' "
    "AND file:mime_type = 'application/x-pdf']",
    "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' "
    "OR "
    "file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = "
    "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
    "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND "
    "user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND "
    "user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND "
    "[user-account:account_type = 'unix' AND user-account:user_id = '1009' AND "
    "user-account:account_login = 'Mary']",
    "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES "
    "'\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
    "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
    "'203.0.113.33/32']",
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
    "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = "
    "'198.51.100.1/32']",
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = "
    "'4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    "[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\CryptoLocker\\\\Files' OR "
    "windows-registry-key:key = "
    "'HKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\CurrentVersion\\\\Run\\\\CryptoLocker_0388']",
    "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = "
    "t'2014-01-13T07:03:17Z']",
    "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = "
    "'Conference Info']",
    "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
    "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] "
    "FOLLOWEDBY [process:command_line MATCHES "
    "'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    "([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) "
    "OR [process:name = 'fooproc' OR process:name = 'procfoo']",
    "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] START t'2016-06-01T00:00:00Z' STOP "
    "t'2016-07-01T00:00:00Z'",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUPERSET '198.51.100.7']",
    "[file:size IN (1, 2, 3)]",
    "[network-traffic:dst_port NOT IN (80, 443)]",
    "[file:name LIKE 'foo_.dll' OR file:name LIKE '%.exe']",
    "[windows-registry-key:values[0].name = 'x' AND EXISTS windows-registry-key:values]",
    "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    "[process:pid >= -1 AND process:x_score < -0.5 AND process:x_flag = true]",
    "[file:name != 'a'] OR [file:name NOT = 'b'] FOLLOWEDBY [file:size <= +5]",
};

TEST(ParsePattern, SpecExamplesParse) {
  for (const char* text : kSpecExamples) MustParse(text);
}

TEST(ParsePattern, TreeShapeAndPrecedence) {
  // AND > OR > FOLLOWEDBY between observations.
  Pattern p = MustParse("[a:x = 1] FOLLOWEDBY [a:x = 2] OR [a:x = 3] AND [a:x = 4]");
  ASSERT_EQ(p.root.kind, Kind::kFollowedBy);
  ASSERT_EQ(p.root.children.size(), 2u);
  EXPECT_EQ(p.root.children[0].kind, Kind::kComparison);
  const ObservationExpression& orr = p.root.children[1];
  ASSERT_EQ(orr.kind, Kind::kOr);
  EXPECT_EQ(orr.children[1].kind, Kind::kAnd);

  // Inside brackets AND binds tighter than OR; chains are flat.
  p = MustParse("[a:x = 1 OR a:y = 2 AND a:z = 3 OR a:w = 4]");
  const ComparisonExpression& c = p.root.comparison;
  ASSERT_EQ(c.kind, ComparisonExpression::Kind::kOr);
  ASSERT_EQ(c.children.size(), 3u);
  EXPECT_EQ(c.children[1].kind, ComparisonExpression::Kind::kAnd);

  // Qualifiers bind to the observation expression before them, and stack.
  p = MustParse("[a:x = 1] AND [a:y = 2] REPEATS 2 TIMES WITHIN 5.5 SECONDS");
  ASSERT_EQ(p.root.kind, Kind::kAnd);
  const ObservationExpression& within = p.root.children[1];
  ASSERT_EQ(within.kind, Kind::kWithin);
  EXPECT_EQ(within.within_us, 5'500'000);
  ASSERT_EQ(within.children[0].kind, Kind::kRepeats);
  EXPECT_EQ(within.children[0].repeats, 2);

  p = MustParse(
      "([a:x = 1] OR [a:y = 2]) START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00.5Z'");
  ASSERT_EQ(p.root.kind, Kind::kStartStop);
  EXPECT_EQ(p.root.stop_us - p.root.start_us, 86'400'500'000);
  EXPECT_EQ(p.root.children[0].kind, Kind::kOr);
}

TEST(ParsePattern, LiteralKinds) {
  Pattern p = MustParse(
      "[a:s = 'it\\'s \\\\ ok' AND a:i = -42 AND a:f = .5 AND a:b = false AND "
      "a:t = t'2016-06-01T01:02:03.25Z' AND a:h = h'00fF' AND a:bin = b'AAEC']");
  const auto& tests = p.root.comparison.children;
  ASSERT_EQ(tests.size(), 7u);
  EXPECT_EQ(tests[0].literals[0].kind, LiteralKind::kString);
  EXPECT_EQ(tests[0].literals[0].text, "it's \\ ok");
  EXPECT_EQ(tests[1].literals[0].kind, LiteralKind::kInt);
  EXPECT_EQ(tests[1].literals[0].int_value, -42);
  EXPECT_EQ(tests[2].literals[0].kind, LiteralKind::kFloat);
  EXPECT_DOUBLE_EQ(tests[2].literals[0].float_value, 0.5);
  EXPECT_EQ(tests[3].literals[0].kind, LiteralKind::kBool);
  EXPECT_FALSE(tests[3].literals[0].bool_value);
  EXPECT_EQ(tests[4].literals[0].kind, LiteralKind::kTimestamp);
  EXPECT_EQ(tests[4].literals[0].timestamp_us % 1'000'000, 250'000);
  EXPECT_EQ(tests[5].literals[0].kind, LiteralKind::kHex);
  EXPECT_EQ(tests[5].literals[0].text, std::string("\x00\xff", 2));
  EXPECT_EQ(tests[6].literals[0].kind, LiteralKind::kBinary);
  EXPECT_EQ(tests[6].literals[0].text, std::string("\x00\x01\x02", 3));
}

TEST(ParsePattern, ObjectPaths) {
  Pattern p = MustParse(
      "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7 AND "
      "email-message:body_multipart[0].body_raw_ref.name = 'x' AND x:'quoted key'[-1] = 1]");
  const auto& tests = p.root.comparison.children;
  EXPECT_EQ(tests[0].path.object_type, "file");
  EXPECT_EQ(tests[0].path.PropertyString(),
            "extensions.'windows-pebinary-ext'.sections[*].entropy");
  EXPECT_EQ(tests[1].path.PropertyString(), "body_multipart[0].body_raw_ref.name");
  EXPECT_EQ(tests[2].path.steps[1].index, -1);
  EXPECT_EQ(tests[2].path.PropertyString(), "'quoted key'[-1]");
}

TEST(ParsePattern, OperatorsAndNot) {
  Pattern p = MustParse(
      "[a:x = 1 AND a:x == 1 AND a:x != 1 AND a:x <> 1 AND a:x < 1 AND a:x <= 1 AND a:x > 1 AND "
      "a:x >= 1 AND a:x IN () AND a:x LIKE 'a' AND a:x MATCHES 'a' AND a:x ISSUBSET '::/0' AND "
      "a:x ISSUPERSET '10.0.0.1' AND EXISTS a:x AND NOT EXISTS a:y AND a:x NOT LIKE 'b']");
  const auto& t = p.root.comparison.children;
  ASSERT_EQ(t.size(), 16u);
  CompareOp expected[] = {
      CompareOp::kEqual,      CompareOp::kEqual,          CompareOp::kNotEqual,
      CompareOp::kNotEqual,   CompareOp::kLess,           CompareOp::kLessOrEqual,
      CompareOp::kGreater,    CompareOp::kGreaterOrEqual, CompareOp::kIn,
      CompareOp::kLike,       CompareOp::kMatches,        CompareOp::kIsSubset,
      CompareOp::kIsSuperset, CompareOp::kExists,         CompareOp::kExists,
      CompareOp::kLike};
  for (size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i].op, expected[i]) << i;
  EXPECT_TRUE(t[14].negated);
  EXPECT_TRUE(t[15].negated);
  EXPECT_TRUE(t[11].cidr->v6);
  EXPECT_EQ(t[12].cidr->prefix_length, 32);
}

TEST(ParsePattern, CommentsAndWhitespace) {
  MustParse("/* c */ [ file:name /* in */ = 'a' ] // trailing\n AND\t[file:name='b']");
}

struct ErrorCase {
  const char* text;
  const char* message;  // expected substring
};

TEST(ParsePattern, ErrorsNamePositionAndExpectation) {
  const ErrorCase cases[] = {
      {"", "position 0: expected '[' or '(' but found end of pattern"},
      {"[file:name = 'a' OR", "position 19: expected an object path, EXISTS or '(' but found end"},
      {"[file:name = 'a'", "position 16: expected ']' but found end of pattern"},
      {"[file:name = 'a') ", "position 16: expected ']' but found ')'"},
      {"([file:name = 'a']", "position 18: expected ')' but found end"},
      {"[file:name = 'a'] [file:name = 'b']",
       "position 18: expected FOLLOWEDBY, AND, OR or a qualifier"},
      {"[file:name 'a']", "position 11: expected a comparison operator"},
      {"[file:name = ]", "position 13: expected a literal but found ']'"},
      {"[file name = 'a']", "position 6: expected ':' but found 'name'"},
      {"[file:hashes.SHA-256 = 'a']", "position 13: property name 'SHA-256' contains '-'"},
      {"[file:name = 'a", "position 13: unterminated string literal"},
      {"[file:name = 'a\\d']", "position 15: invalid escape"},
      {"[file:name = 'a'] WITHIN 0 SECONDS", "WITHIN needs a positive number"},
      {"[file:name = 'a'] WITHIN 5", "expected 'SECONDS' but found end"},
      {"[file:name = 'a'] REPEATS 0 TIMES", "REPEATS needs a positive count"},
      {"[file:name = 'a'] REPEATS 1.5 TIMES", "expected a positive integer but found '1.5'"},
      {"[file:name = 'a'] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'",
       "STOP must be later than START"},
      {"[file:name = 'a'] START '2020-01-02T00:00:00Z'", "expected a timestamp literal"},
      {"[file:created = t'2020-13-01T00:00:00Z']", "position 16: invalid timestamp literal"},
      {"[file:h = h'abc']", "hex literal needs an even number"},
      {"[file:h = h'zz']", "only hex digits"},
      {"[file:b = b'abc']", "base64"},
      {"[file:b = b'a=bc']", "padding"},
      {"[file:size > true]", "expected an orderable literal"},
      {"[file:name LIKE 5]", "expected a string literal but found '5'"},
      {"[ipv4-addr:value ISSUBSET '10.0.0.0/33']", "expected an IPv4 or IPv6 address or CIDR"},
      {"[file:name MATCHES '(a)\\\\1']", "invalid regular expression for MATCHES"},
      {"[file:name MATCHES '(?=a)b']", "lookaround and backreferences are not supported"},
      {"[file:size IN (1, 2]", "expected ',' or ')' but found ']'"},
      {"[file:x[a] = 1]", "expected a list index or '*'"},
      {"[file:size = 99999999999999999999]", "integer out of range"},
      {"[file:name = 'a'] & [x:y = 1]", "position 18: unexpected character '&'"},
      {"[NOT file:name = 'a']", "expected EXISTS but found 'file'"},
      {"/* never closed", "unterminated comment"},
  };
  for (const ErrorCase& c : cases) {
    Result<Pattern> p = ParsePattern(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), Code::kInvalidArgument) << c.text;
    EXPECT_NE(p.status().message().find(c.message), std::string::npos)
        << c.text << "\n  got: " << p.status().message() << "\n  want: " << c.message;
    EXPECT_EQ(p.status().message().rfind("pattern error at position ", 0), 0u) << c.text;
  }
}

TEST(ParsePattern, DeepNestingIsRejectedCleanly) {
  for (int depth : {kMaxNestingDepth + 1, 10000, 200000}) {
    std::string text(depth, '(');
    text += "[a:b = 1]" + std::string(depth, ')');
    Result<Pattern> p = ParsePattern(text);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), Code::kTooLarge);
    EXPECT_NE(p.status().message().find("nesting deeper than"), std::string::npos);
    std::string inner = "[" + std::string(depth, '(') + "a:b = 1" + std::string(depth, ')') + "]";
    EXPECT_EQ(ParsePattern(inner).status().code(), Code::kTooLarge);
  }
  std::string ok =
      std::string(kMaxNestingDepth - 1, '(') + "[a:b = 1]" + std::string(kMaxNestingDepth - 1, ')');
  EXPECT_TRUE(ParsePattern(ok).ok());
  EXPECT_EQ(ParsePattern(std::string(kMaxPatternBytes + 1, ' ')).status().code(), Code::kTooLarge);
}

TEST(ParsePattern, LongFlatChainsStayFlat) {
  std::string text = "[a:b = 0]";
  for (int i = 1; i < 5000; ++i) text += " AND [a:b = " + std::to_string(i) + "]";
  Pattern p = MustParse(text);
  EXPECT_EQ(p.root.children.size(), 5000u);
}

TEST(ParsePattern, IpPrefixes) {
  auto v4 = ParseIpPrefix("198.51.100.0/24");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->v6);
  EXPECT_TRUE(IpPrefixContains(*v4, *ParseIpPrefix("198.51.100.77")));
  EXPECT_FALSE(IpPrefixContains(*v4, *ParseIpPrefix("198.51.101.1")));
  EXPECT_FALSE(IpPrefixContains(*v4, *ParseIpPrefix("198.51.0.0/16")));
  auto v6 = ParseIpPrefix("2001:db8::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(IpPrefixContains(*v6, *ParseIpPrefix("2001:db8:7fff::1")));
  EXPECT_FALSE(IpPrefixContains(*v6, *ParseIpPrefix("2001:db8:8000::1")));
  EXPECT_FALSE(IpPrefixContains(*v6, *v4));
  for (const char* bad :
       {"", "1.2.3", "1.2.3.4/", "1.2.3.4/x", "256.1.1.1", "::1/129", "a::g", "01.2.3.4"}) {
    EXPECT_FALSE(ParseIpPrefix(bad)) << bad;
  }
}

TEST(CheckStixPattern, PlugsIntoStixValidation) {
  stix::StixPatternChecker checker = &CheckStixPattern;
  EXPECT_TRUE(checker("[file:name = 'a']").ok());
  EXPECT_FALSE(checker("[file:name = 'a'").ok());
}

TEST(ParsePattern, SharedExampleIndicatorsParse) {
  namespace fs = std::filesystem;
  namespace json = boost::json;
  size_t seen = 0, parsed = 0;
  std::string failures;
  for (const auto& entry :
       fs::recursive_directory_iterator(KIZUNA_SHARED_DATA "/stix21-examples")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream buffer;
    buffer << in.rdbuf();
    boost::system::error_code ec;
    json::value doc = json::parse(buffer.str(), ec);
    if (ec) continue;
    std::vector<const json::value*> stack{&doc};
    while (!stack.empty()) {
      const json::value* v = stack.back();
      stack.pop_back();
      if (const json::array* a = v->if_array()) {
        for (const auto& e : *a) stack.push_back(&e);
      } else if (const json::object* o = v->if_object()) {
        const json::value* type = o->if_contains("type");
        const json::value* pattern = o->if_contains("pattern");
        if (type && type->is_string() && type->get_string() == "indicator" && pattern &&
            pattern->is_string()) {
          const json::value* pt = o->if_contains("pattern_type");
          if (pt == nullptr || pt->get_string() == "stix") {
            ++seen;
            Status st = CheckStixPattern(pattern->get_string());
            if (st.ok())
              ++parsed;
            else
              failures += std::string(pattern->get_string()) + " -> " + st.message() + "\n";
          }
        }
        for (const auto& kv : *o) stack.push_back(&kv.value());
      }
    }
  }
  EXPECT_GT(seen, 20u);
  EXPECT_EQ(parsed, seen) << failures;
}

// Random mutations of valid patterns must never crash, hang or throw.
TEST(ParsePattern, MutationFuzzDoesNotCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "[]()':.,*=!<>-+ _aANDORNOTt'h'b'0123456789%\\/\x80\xff";
  for (int round = 0; round < 20000; ++round) {
    std::string text = kSpecExamples[rng() % std::size(kSpecExamples)];
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(at, 1 + rng() % 3);
          break;
        case 1:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
      }
    }
    Result<Pattern> p = ParsePattern(text);
    if (p.ok()) {
      (void)ReduceToSimpleComparisons(*p);
      Observation o;
      o.objects.push_back(boost::json::parse(R"({"type":"file","name":"foo.dll","size":3})"));
      o.object_keys.push_back("0");
      (void)Match(*p, {o, o});
    } else {
      EXPECT_FALSE(p.status().message().empty());
    }
  }
}

}  // namespace
}  // namespace kizuna::pattern
