#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "pattern/pattern.h"

namespace kizuna::pattern {
namespace {

namespace json = boost::json;

// A 2.0-style observed-data: `objects` is the SCO dictionary as JSON text.
Observation Obs(const std::string& first, const std::string& objects, int number = 1,
                const std::string& last = "") {
  json::object od;
  od["type"] = "observed-data";
  od["first_observed"] = first;
  od["last_observed"] = last.empty() ? first : last;
  od["number_observed"] = number;
  od["objects"] = json::parse(objects);
  Result<Observation> o = ObservationFromObservedData(od);
  EXPECT_TRUE(o.ok()) << o.status().message();
  return o.ok() ? *o : Observation{};
}

bool M(std::string_view pattern, const std::vector<Observation>& observations) {
  Result<Pattern> p = ParsePattern(pattern);
  EXPECT_TRUE(p.ok()) << pattern << ": " << p.status().message();
  if (!p.ok()) return false;
  MatchResult r = Match(*p, observations);
  EXPECT_FALSE(r.limit_hit) << pattern;
  return r.matched;
}

const char* kT0 = "2020-01-01T00:00:00Z";
const char* kT1 = "2020-01-01T00:00:10Z";
const char* kT2 = "2020-01-01T00:01:00Z";
const char* kT3 = "2020-01-01T01:00:00Z";

Observation File(const char* t, const std::string& fields) {
  return Obs(t, R"({"0": {"type": "file", )" + fields + "}}");
}

TEST(Match, ComparisonOperatorsAndCoercion) {
  std::vector<Observation> o{
      File(kT0,
           R"("name": "foo.dll", "size": 371712, "x_ratio": 0.75, "x_flag": true,
         "created": "2014-01-13T07:03:17Z", "hashes": {"SHA-256": "AbCd", "MD5": "00ff"},
         "magic_number_hex": "FFD8", "x_tags": ["a", "b", null], "x_none": null)")};
  EXPECT_TRUE(M("[file:name = 'foo.dll']", o));
  EXPECT_FALSE(M("[file:name = 'FOO.dll']", o));
  EXPECT_TRUE(M("[file:name != 'bar']", o));
  EXPECT_TRUE(M("[file:name NOT = 'bar']", o));
  EXPECT_FALSE(M("[file:name NOT != 'bar']", o));
  EXPECT_TRUE(M("[file:size = 371712]", o));
  EXPECT_TRUE(M("[file:size = 371712.0]", o));
  EXPECT_TRUE(M("[file:size = '371712']", o));  // string literal vs number
  EXPECT_TRUE(M("[file:size > 1000 AND file:size <= 371712 AND file:size < 371713]", o));
  EXPECT_FALSE(M("[file:size >= 371713]", o));
  EXPECT_TRUE(M("[file:x_ratio > 0.5 AND file:x_ratio < 1]", o));
  EXPECT_TRUE(M("[file:x_flag = true]", o));
  EXPECT_FALSE(M("[file:x_flag = false]", o));
  EXPECT_TRUE(M("[file:name > 'foo.a' AND file:name < 'foo.e']", o));
  EXPECT_TRUE(M("[file:created = t'2014-01-13T07:03:17.000Z']", o));
  EXPECT_TRUE(M("[file:created > t'2014-01-13T07:03:16Z']", o));
  EXPECT_FALSE(M("[file:name > t'2014-01-13T07:03:16Z']", o));  // not a timestamp
  EXPECT_TRUE(M("[file:hashes.'SHA-256' = 'AbCd']", o));
  EXPECT_TRUE(M("[file:hashes.'SHA-256' = h'abcd']", o));  // hex literal vs hash
  EXPECT_TRUE(M("[file:magic_number_hex = h'ffd8']", o));
  EXPECT_FALSE(M("[file:magic_number_hex = h'ffd9']", o));
  EXPECT_TRUE(M("[file:size IN (1, 371712)]", o));
  EXPECT_TRUE(M("[file:size NOT IN (1, 2)]", o));
  EXPECT_FALSE(M("[file:size IN ()]", o));
  EXPECT_TRUE(M("[file:x_tags[*] = 'b']", o));
  EXPECT_TRUE(M("[file:x_tags[0] = 'a' AND file:x_tags[-2] = 'b']", o));
  EXPECT_FALSE(M("[file:x_tags[5] = 'a']", o));
  // Missing properties and nulls never pass, even negated.
  EXPECT_FALSE(M("[file:missing != 'x']", o));
  EXPECT_FALSE(M("[file:x_none NOT = 'x']", o));
  // Wrong type: the comparison is against a different object type.
  EXPECT_FALSE(M("[process:name = 'foo.dll']", o));
}

TEST(Match, ExistsLikeMatches) {
  std::vector<Observation> o{
      File(kT0, R"("name": "Final Report 2020.exe", "x_list": [], "x_null": null)")};
  EXPECT_TRUE(M("[EXISTS file:name]", o));
  EXPECT_TRUE(M("[EXISTS file:x_list]", o));
  EXPECT_FALSE(M("[EXISTS file:x_null]", o));
  EXPECT_FALSE(M("[EXISTS file:size]", o));
  EXPECT_TRUE(M("[NOT EXISTS file:size]", o) == false);  // missing never passes
  EXPECT_TRUE(M("[file:name LIKE 'Final%.exe']", o));
  EXPECT_TRUE(M("[file:name LIKE 'Final Report 20__.exe']", o));
  EXPECT_FALSE(M("[file:name LIKE 'Final Report 20_.exe']", o));
  EXPECT_FALSE(M("[file:name LIKE 'final%']", o));
  EXPECT_TRUE(M("[file:name NOT LIKE 'x%']", o));
  EXPECT_TRUE(M("[file:name MATCHES '^Final Report.+\\\\.exe$']", o));
  EXPECT_TRUE(M("[file:name MATCHES 'Report']", o));  // unanchored search
  EXPECT_FALSE(M("[file:name MATCHES '^Report']", o));
  std::vector<Observation> unicode{File(kT0, R"("name": "caf\u00e9")")};
  EXPECT_TRUE(M("[file:name LIKE 'caf_']", unicode));
  EXPECT_TRUE(M("[file:name MATCHES '^caf.$']", unicode));
}

TEST(Match, BinaryValues) {
  std::vector<Observation> o{Obs(kT0, R"({"0": {"type": "artifact",
      "mime_type": "application/vnd.tcpdump.pcap", "payload_bin": "1MOyoQIABAA="}})")};
  EXPECT_TRUE(M("[artifact:payload_bin = b'1MOyoQIABAA=']", o));
  EXPECT_TRUE(M("[artifact:payload_bin = h'd4c3b2a102000400']", o));
  EXPECT_TRUE(
      M("[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES "
        "'\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
        o));
  EXPECT_FALSE(M("[artifact:payload_bin MATCHES '^\\\\x00']", o));
}

TEST(Match, CidrIPv4AndIPv6) {
  std::vector<Observation> o{Obs(kT0, R"({"0": {"type": "ipv4-addr", "value": "198.51.100.7"},
      "1": {"type": "ipv6-addr", "value": "2001:db8:dead:beef::1"},
      "2": {"type": "ipv4-addr", "value": "203.0.113.0/24"}})")};
  EXPECT_TRUE(M("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", o));
  EXPECT_FALSE(M("[ipv4-addr:value ISSUBSET '198.51.101.0/24']", o));
  EXPECT_TRUE(M("[ipv4-addr:value NOT ISSUBSET '198.51.101.0/24']", o));
  EXPECT_TRUE(M("[ipv4-addr:value ISSUPERSET '203.0.113.9']", o));
  EXPECT_TRUE(M("[ipv4-addr:value ISSUPERSET '203.0.113.128/25']", o));
  EXPECT_FALSE(M("[ipv4-addr:value ISSUPERSET '203.0.0.0/16']", o));
  EXPECT_TRUE(M("[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']", o));
  EXPECT_FALSE(M("[ipv6-addr:value ISSUBSET '2001:db8:dead:bee0::/64']", o));
  EXPECT_FALSE(M("[ipv6-addr:value ISSUBSET '0.0.0.0/0']", o));  // other family
  EXPECT_TRUE(M("[ipv6-addr:value ISSUBSET '::/0']", o));
}

TEST(Match, AndInsideBracketsNeedsTheSameObject) {
  std::vector<Observation> o{Obs(kT0, R"({"0": {"type": "file", "name": "a", "size": 1},
      "1": {"type": "file", "name": "b", "size": 2}})")};
  EXPECT_TRUE(M("[file:name = 'a' AND file:size = 1]", o));
  EXPECT_FALSE(M("[file:name = 'a' AND file:size = 2]", o));
  EXPECT_TRUE(M("[file:name = 'a' OR file:size = 2]", o));
  EXPECT_TRUE(M("[(file:name = 'a' OR file:name = 'b') AND file:size = 2]", o));
}

TEST(Match, ReferencesIn20ObjectsForm) {
  std::vector<Observation> o{Obs(kT0, R"({
      "0": {"type": "ipv4-addr", "value": "203.0.113.33"},
      "1": {"type": "network-traffic", "dst_ref": "0", "protocols": ["tcp"]},
      "2": {"type": "domain-name", "value": "www.5z8.info", "resolves_to_refs": ["3", "0"]},
      "3": {"type": "ipv4-addr", "value": "198.51.100.1"},
      "4": {"type": "email-addr", "value": "jdoe@example.com"},
      "5": {"type": "email-message", "from_ref": "4", "subject": "Conference Info",
            "body_multipart": [{"body": "hi"}, {"body_raw_ref": "6"}]},
      "6": {"type": "file", "name": "Final Report Q3.exe"}})")};
  EXPECT_TRUE(
      M("[network-traffic:dst_ref.type = 'ipv4-addr' AND "
        "network-traffic:dst_ref.value = '203.0.113.33']",
        o));
  EXPECT_TRUE(M("[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24']", o));
  EXPECT_TRUE(
      M("[domain-name:value = 'www.5z8.info' AND "
        "domain-name:resolves_to_refs[*].value = '198.51.100.1']",
        o));
  EXPECT_TRUE(M("[domain-name:resolves_to_refs[1].value = '203.0.113.33']", o));
  EXPECT_FALSE(M("[domain-name:resolves_to_refs[1].value = '198.51.100.1']", o));
  EXPECT_TRUE(
      M("[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
        "email-message:body_multipart[*].body_raw_ref.name MATCHES "
        "'^Final Report.+\\\\.exe$']",
        o));
  EXPECT_FALSE(M("[network-traffic:dst_ref.value = '0']", o));
}

TEST(Match, ObjectRefsFormFromABundle) {
  json::value bundle = json::parse(R"({"type": "bundle", "id": "bundle--1", "objects": [
    {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--a", "value": "198.51.100.3"},
    {"type": "network-traffic", "id": "network-traffic--b", "dst_ref": "ipv4-addr--a",
     "protocols": ["tcp"], "dst_port": 443},
    {"type": "observed-data", "id": "observed-data--1", "first_observed": "2020-01-01T00:00:00Z",
     "last_observed": "2020-01-01T00:00:05Z", "number_observed": 2,
     "object_refs": ["ipv4-addr--a", "network-traffic--b", "ipv4-addr--missing"]},
    {"type": "indicator", "id": "indicator--x"}]})");
  Result<std::vector<Observation>> o = ObservationsFromBundle(bundle);
  ASSERT_TRUE(o.ok()) << o.status().message();
  ASSERT_EQ(o->size(), 1u);
  EXPECT_EQ((*o)[0].id, "observed-data--1");
  EXPECT_EQ((*o)[0].objects.size(), 2u);
  EXPECT_EQ((*o)[0].number_observed, 2);
  EXPECT_TRUE(
      M("[network-traffic:dst_ref.value = '198.51.100.3' AND network-traffic:dst_port = 443]", *o));
  EXPECT_TRUE(M("[ipv4-addr:value = '198.51.100.3'] REPEATS 2 TIMES", *o));
  EXPECT_FALSE(M("[ipv4-addr:value = '198.51.100.3'] REPEATS 3 TIMES", *o));

  json::value bad = json::parse(R"([{"type": "observed-data", "first_observed": "x",
      "last_observed": "2020-01-01T00:00:05Z", "number_observed": 1, "object_refs": []}])");
  EXPECT_FALSE(ObservationsFromBundle(bad).ok());
  EXPECT_FALSE(ObservationsFromBundle(json::parse("42")).ok());
}

TEST(Match, ObservationOperators) {
  std::vector<Observation> o{File(kT0, R"("name": "a")"), File(kT1, R"("name": "b")")};
  EXPECT_TRUE(M("[file:name = 'a'] AND [file:name = 'b']", o));
  EXPECT_TRUE(M("[file:name = 'b'] AND [file:name = 'a']", o));
  // AND needs distinct observations.
  EXPECT_FALSE(M("[file:name = 'a'] AND [file:name = 'a']", o));
  EXPECT_TRUE(M("[file:name = 'a'] AND [file:name LIKE '%']", o));
  EXPECT_TRUE(M("[file:name = 'x'] OR [file:name = 'b']", o));
  EXPECT_FALSE(M("[file:name = 'x'] OR [file:name = 'y']", o));
  // FOLLOWEDBY is ordered in time.
  EXPECT_TRUE(M("[file:name = 'a'] FOLLOWEDBY [file:name = 'b']", o));
  EXPECT_FALSE(M("[file:name = 'b'] FOLLOWEDBY [file:name = 'a']", o));
  EXPECT_TRUE(M("([file:name = 'a'] FOLLOWEDBY [file:name = 'b']) WITHIN 10 SECONDS", o));
  EXPECT_FALSE(M("([file:name = 'a'] FOLLOWEDBY [file:name = 'b']) WITHIN 9.5 SECONDS", o));
  // Same time counts as "followed by" (both may be chosen equal).
  std::vector<Observation> same{File(kT0, R"("name": "a")"), File(kT0, R"("name": "b")")};
  EXPECT_TRUE(M("[file:name = 'b'] FOLLOWEDBY [file:name = 'a']", same));
  // Interval overlap: B spans T0..T2, so it can come after A at T1.
  std::vector<Observation> spans{File(kT1, R"("name": "a")"),
                                 Obs(kT0, R"({"0": {"type": "file", "name": "b"}})", 1, kT2)};
  EXPECT_TRUE(M("[file:name = 'a'] FOLLOWEDBY [file:name = 'b']", spans));
  // Three-step chains and precedence: FOLLOWEDBY is lowest.
  std::vector<Observation> three{File(kT0, R"("name": "a")"), File(kT1, R"("name": "b")"),
                                 File(kT2, R"("name": "c")")};
  EXPECT_TRUE(
      M("[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] FOLLOWEDBY [file:name = 'c']", three));
  EXPECT_FALSE(
      M("[file:name = 'a'] FOLLOWEDBY [file:name = 'c'] FOLLOWEDBY [file:name = 'b']", three));
  EXPECT_TRUE(M("[file:name = 'c'] AND [file:name = 'a'] FOLLOWEDBY [file:name = 'b']", three) ==
              false);  // (c AND a) FOLLOWEDBY b: c at T2 is after b
  EXPECT_TRUE(M("[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] AND [file:name = 'c']", three));
}

TEST(Match, Qualifiers) {
  std::vector<Observation> o{File(kT0, R"("name": "a")"), File(kT1, R"("name": "a")"),
                             File(kT3, R"("name": "a")")};
  EXPECT_TRUE(M("[file:name = 'a'] REPEATS 3 TIMES", o));
  EXPECT_FALSE(M("[file:name = 'a'] REPEATS 4 TIMES", o));
  EXPECT_TRUE(M("[file:name = 'a'] REPEATS 2 TIMES WITHIN 10 SECONDS", o));
  EXPECT_FALSE(M("[file:name = 'a'] REPEATS 3 TIMES WITHIN 60 SECONDS", o));
  EXPECT_TRUE(M("[file:name = 'a'] REPEATS 3 TIMES WITHIN 3600 SECONDS", o));
  EXPECT_TRUE(M("[file:name = 'a'] START t'2020-01-01T00:30:00Z' STOP t'2020-01-01T02:00:00Z'", o));
  EXPECT_FALSE(
      M("[file:name = 'a'] START t'2020-01-01T00:30:00Z' STOP t'2020-01-01T01:00:00Z'", o));
  EXPECT_TRUE(M("[file:name = 'a'] START t'2020-01-01T01:00:00Z' STOP t'2020-01-01T01:00:01Z'", o));
  EXPECT_FALSE(
      M("([file:name = 'a'] REPEATS 2 TIMES) START t'2020-01-01T00:30:00Z' STOP "
        "t'2021-01-01T00:00:00Z'",
        o));
  // number_observed lets one observed-data count several times.
  std::vector<Observation> many{Obs(kT0, R"({"0": {"type": "file", "name": "a"}})", 5)};
  EXPECT_TRUE(M("[file:name = 'a'] REPEATS 5 TIMES WITHIN 1 SECONDS", many));
  EXPECT_FALSE(M("[file:name = 'a'] REPEATS 6 TIMES", many));
  EXPECT_TRUE(M("[file:name = 'a'] AND [file:name = 'a']", many));
  // Spec example: REPEATS 5 TIMES WITHIN 1800 SECONDS over references.
  std::vector<Observation> traffic;
  for (int i = 0; i < 5; ++i) {
    traffic.push_back(Obs("2020-01-01T00:0" + std::to_string(i) + ":00Z",
                          R"({"0": {"type": "domain-name", "value": "example.com"},
                              "1": {"type": "network-traffic", "dst_ref": "0"}})"));
  }
  const char* repeats =
      "[network-traffic:dst_ref.type = 'domain-name' AND "
      "network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS";
  EXPECT_TRUE(M(repeats, traffic));
  traffic.pop_back();
  EXPECT_FALSE(M(repeats, traffic));
}

TEST(Match, BindingIsReported) {
  std::vector<Observation> o{File(kT0, R"("name": "x")"), File(kT1, R"("name": "b")"),
                             File(kT2, R"("name": "a")")};
  Result<Pattern> p = ParsePattern("[file:name = 'a'] AND [file:name = 'b']");
  ASSERT_TRUE(p.ok());
  MatchResult r = Match(*p, o);
  ASSERT_TRUE(r.matched);
  EXPECT_EQ(r.binding, (std::vector<size_t>{2, 1}));
  Result<bool> yes = Matches(*p, o);
  ASSERT_TRUE(yes.ok());
  EXPECT_TRUE(*yes);
}

// The pathological patterns below are bounded by the evaluator's work
// counter (MatchResult::steps) and limits, not by a stopwatch; how long they
// take is measured by bench/validation_bench.cc.

TEST(Match, ManyAndedObservationsAreBounded) {
  // N+1 AND-joined copies against N matching observations: the OASIS matcher
  // explores N! bindings. The capacity check refutes this at once.
  std::vector<Observation> o;
  for (int i = 0; i < 30; ++i) o.push_back(File(kT0, R"("name": "a")"));
  std::string text = "[file:name = 'a']";
  for (int i = 0; i < 30; ++i) text += " AND [file:name = 'a']";
  EXPECT_FALSE(M(text, o));
  {
    Result<Pattern> p = ParsePattern(text);
    ASSERT_TRUE(p.ok());
    // A few steps per (observation expression, observation) pair, no search.
    EXPECT_LE(Match(*p, o).steps, 4u * 31 * 30);
  }
  // Without a quick refutation (the odd one out needs an earlier time than
  // any observation), the step budget ends the search.
  std::string hard = "[file:name = 'a']";
  for (int i = 0; i < 25; ++i) hard += " AND [file:name = 'a']";
  hard += " AND ([file:name = 'a'] FOLLOWEDBY [file:name = 'a']) WITHIN 0.000001 SECONDS";
  std::vector<Observation> spread;
  for (int i = 0; i < 30; ++i) {
    spread.push_back(File(
        ("2020-01-01T00:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "Z").c_str(),
        R"("name": "a")"));
  }
  Result<Pattern> p = ParsePattern(hard);
  ASSERT_TRUE(p.ok());
  EvalLimits limits;
  limits.max_steps = 200000;
  MatchResult r = Match(*p, spread, limits);
  EXPECT_FALSE(r.matched);
  EXPECT_TRUE(r.limit_hit);
  EXPECT_GT(r.steps, limits.max_steps);
  EXPECT_LT(r.steps, 2 * limits.max_steps) << "the search goes on past its budget";
  EXPECT_EQ(Matches(*p, spread, limits).status().code(), Code::kTooLarge);
  // A satisfiable wide AND is found greedily.
  std::string wide = "[file:name = 'a']";
  for (int i = 0; i < 29; ++i) wide += " AND [file:name = 'a']";
  EXPECT_TRUE(M(wide, o));
  Result<Pattern> greedy = ParsePattern(wide);
  ASSERT_TRUE(greedy.ok());
  EXPECT_LE(Match(*greedy, o).steps, 4u * 30 * 30);
}

TEST(Match, HugeRepeatsAndDepthAreBounded) {
  std::vector<Observation> many{Obs(kT0, R"({"0": {"type": "file", "name": "a"}})", 1000000)};
  Result<Pattern> p = ParsePattern("[file:name = 'a'] REPEATS 100000 TIMES");
  ASSERT_TRUE(p.ok());
  MatchResult r = Match(*p, many);
  EXPECT_TRUE(r.limit_hit);
  EXPECT_FALSE(r.matched);
  p = ParsePattern("[file:name = 'a'] REPEATS 9223372036854775807 TIMES");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(Match(*p, many).matched);
}

// Patterns that make a backtracking matcher take exponential time on this
// value are answered (RE2 is linear; LIKE is matched greedily): a matcher
// that backtracked would not finish before ctest's TIMEOUT.
TEST(Match, CatastrophicRegexIsAnsweredWithoutBacktracking) {
  std::string long_a(100000, 'a');
  std::vector<Observation> o{Obs(kT0, R"({"0": {"type": "file", "name": ")" + long_a + "!\"}}")};
  EXPECT_FALSE(M("[file:name MATCHES '^(a+)+$']", o));
  EXPECT_FALSE(M("[file:name MATCHES '(a|aa)*b']", o));
  EXPECT_FALSE(M("[file:name LIKE '%a%a%a%a%a%b']", o));
}

TEST(Match, CircularReferencesAreBounded) {
  std::vector<Observation> o{
      Obs(kT0, R"({"0": {"type": "x-foo", "some_refs": ["0", "1"], "size": 10},
      "1": {"type": "x-foo", "some_refs": ["0", "1"], "size": 1000}})")};
  std::string path = "x-foo:some_refs[*]";
  for (int i = 0; i < 30; ++i) path += ".some_refs[*]";
  Result<Pattern> p = ParsePattern("[" + path + ".size > 100]");
  ASSERT_TRUE(p.ok());
  MatchResult r = Match(*p, o);
  EXPECT_TRUE(r.limit_hit);
  // Stopped by the path-value limit (2^31 paths otherwise), well before the
  // step budget.
  EXPECT_LT(r.steps, 10 * EvalLimits{}.max_path_values);
  EXPECT_TRUE(M("[x-foo:some_refs[*].some_refs[*].size > 100]", o));
}

TEST(Match, MaxObservationsLimit) {
  std::vector<Observation> o{File(kT0, R"("name": "x")"), File(kT1, R"("name": "a")")};
  Result<Pattern> p = ParsePattern("[file:name = 'a']");
  ASSERT_TRUE(p.ok());
  EvalLimits limits;
  limits.max_observations = 1;
  EXPECT_FALSE(Match(*p, o, limits).matched);
  EXPECT_TRUE(Match(*p, o).matched);
}

TEST(ObservationFromObservedData, RejectsBadTimesAndCounts) {
  json::object od =
      json::parse(R"({"type": "observed-data", "first_observed": "2020-01-01T00:00:00Z",
      "last_observed": "2020-01-01T00:00:00Z", "number_observed": 0, "objects": {}})")
          .as_object();
  EXPECT_FALSE(ObservationFromObservedData(od).ok());
  od["number_observed"] = 1;
  EXPECT_TRUE(ObservationFromObservedData(od).ok());
  od["last_observed"] = "2019-01-01T00:00:00Z";
  EXPECT_FALSE(ObservationFromObservedData(od).ok());
  od["last_observed"] = "2020-01-01T00:00:00Z";
  od.erase("objects");
  EXPECT_FALSE(ObservationFromObservedData(od).ok());
}

}  // namespace
}  // namespace kizuna::pattern
