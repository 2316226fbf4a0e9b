#include "correlation/result_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

std::string Reference(const ObservableResult& result) {
  return json::serialize(ResultToJson(result));
}

std::string Ours(const ObservableResult& result) {
  std::string out;
  AppendResultJson(result, &out);
  return out;
}

IndicatorMatch Match(std::string id) {
  IndicatorMatch m;
  m.indicator.id = std::move(id);
  m.collections = {"1b0a3e5e-7a4c-4a47-9d66-2f6f0d1b2c3d"};
  return m;
}

// Every optional part present and absent, and strings that need escaping.
std::vector<ObservableResult> Corpus() {
  std::vector<ObservableResult> corpus;
  std::string every_byte;
  for (int c = 1; c < 0x80; ++c) every_byte.push_back(static_cast<char>(c));
  every_byte += "\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac";

  ObservableResult error;
  error.value = "not an ioc";
  error.error = "not an observable kizuna recognizes (IP, CIDR, domain, URL, e-mail, hash)";
  corpus.push_back(error);
  error.type = "ipv4-addr";
  error.value = every_byte;
  error.error = "bad \"value\"\n";
  corpus.push_back(error);

  ObservableResult none;
  none.type = "ipv4-addr";
  none.value = "192.0.2.1";
  corpus.push_back(none);
  none.warnings = {"Documentation ranges (RFC 5737, RFC 3849)", "Ours \"quoted\""};
  corpus.push_back(none);

  // Only what is always there: no name, labels, producer, confidence,
  // valid_until, by_pattern or sighted_by.
  ObservableResult bare;
  bare.type = "domain-name";
  bare.value = "evil.example";
  bare.matches.push_back(Match("indicator--00000000-0000-4000-8000-000000000001"));
  corpus.push_back(bare);

  ObservableResult full;
  full.type = "url";
  full.value = every_byte;
  IndicatorMatch m = Match("indicator--00000000-0000-4000-8000-000000000002");
  m.indicator.name = "C2 \\ \"server\"\t\x01";
  m.indicator.labels = {"c2", "botnet", "\xe6\x97\xa5\xe6\x9c\xac"};
  m.indicator.tlp = stix::Tlp::kAmberStrict;
  m.indicator.producer = "identity--00000000-0000-4000-8000-0000000000aa";
  m.indicator.confidence = 0;
  m.indicator.valid_until_us = 1'800'000'000'123'456;
  m.collections.push_back("second");
  m.by_pattern = true;
  SightedBy named{.observer = "identity--00000000-0000-4000-8000-0000000000a1",
                  .name = "CERT \"A\"",
                  .count = 12,
                  .first_seen_us = 1'700'000'000'000'000,
                  .last_seen_us = 1'700'000'100'500'000,
                  .sightings = 3,
                  .via = {"", "partner-b", "org:CERT \"C\""}};
  SightedBy unnamed{.observer = "identity--00000000-0000-4000-8000-0000000000b1",
                    .name = "",
                    .count = 1,
                    .sightings = 1,
                    .via = {}};
  m.sighted_by = {named, unnamed};
  full.matches.push_back(m);
  IndicatorMatch second = Match("indicator--00000000-0000-4000-8000-000000000003");
  second.indicator.confidence = 100;
  second.indicator.tlp = stix::Tlp::kClear;
  second.collections.clear();
  full.matches.push_back(second);
  full.truncated = true;
  full.warnings = {"Most visited domains"};
  corpus.push_back(full);

  ObservableResult empty_strings;
  empty_strings.type = "";
  empty_strings.value = "";
  corpus.push_back(empty_strings);
  return corpus;
}

TEST(ResultJson, EqualsResultToJson) {
  for (const ObservableResult& result : Corpus()) {
    EXPECT_EQ(Ours(result), Reference(result));
  }
}

// The index's view of an indicator, as Reader::View would give it.
IndicatorView ViewOf(const IndicatorMeta& meta, std::string* joined_labels) {
  IndicatorView view;
  EXPECT_EQ(meta.id.size(), IndicatorView::kIdLength);
  std::copy_n(meta.id.data(), IndicatorView::kIdLength, view.id_text.data());
  view.modified_us = meta.modified_us;
  view.name = meta.name;
  joined_labels->clear();
  for (size_t i = 0; i < meta.labels.size(); ++i) {
    if (i) joined_labels->push_back('\x1f');
    *joined_labels += meta.labels[i];
  }
  view.joined_labels = *joined_labels;
  view.tlp = meta.tlp;
  view.producer = meta.producer;
  view.confidence = meta.confidence;
  view.valid_until_us = meta.valid_until_us;
  return view;
}

TEST(ResultJson, IndexMatchIsTheIndicatorMatch) {
  std::vector<IndicatorMatch> matches;
  for (const ObservableResult& result : Corpus()) {
    for (IndicatorMatch m : result.matches) {
      m.by_pattern = false;  // an index match
      matches.push_back(m);
      m.collections = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
      m.indicator.labels = {"one"};
      m.sighted_by.clear();
      matches.push_back(m);
    }
  }
  ASSERT_GE(matches.size(), 4u);
  for (const IndicatorMatch& m : matches) {
    ObservableResult result;
    result.type = "ipv4-addr";
    result.value = "192.0.2.1";
    result.matches = {m, m};
    std::string joined;
    const IndicatorView view = ViewOf(m.indicator, &joined);
    std::vector<std::string_view> collections(m.collections.begin(), m.collections.end());
    std::string ours = R"({"type":"ipv4-addr","value":"192.0.2.1","matched":true,"matches":[)";
    AppendIndexMatchJson(view, collections, m.sighted_by, &ours);
    ours += ',';
    AppendIndexMatchJson(view, collections, m.sighted_by, &ours);
    ours += "]}";
    EXPECT_EQ(ours, Reference(result));
  }
}

TEST(ResultJson, EscapesLikeBoostJson) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
  std::string ours;
  AppendJsonString(all, &ours);
  EXPECT_EQ(ours, json::serialize(json::value(all)));
}

TEST(ResultJson, InvalidUtf8BecomesReplacementCharacters) {
  const struct {
    std::string in;
    std::string out;
  } cases[] = {
      {"a\xff"
       "b",
       "\"a\xEF\xBF\xBD"
       "b\""},
      {"\xc3", "\"\xEF\xBF\xBD\""},                                  // cut before its continuation
      {"\xe6\x97", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},                  // a 3-byte character cut short
      {"\xc0\xaf", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},                  // overlong '/'
      {"\xed\xa0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},  // a surrogate
      {"\xf4\x90\x80\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},  // > U+10FFFF
  };
  for (const auto& c : cases) {
    std::string out;
    AppendJsonString(c.in, &out);
    EXPECT_EQ(out, c.out);
    boost::system::error_code ec;
    json::parse(out, ec);
    EXPECT_FALSE(ec) << "not valid JSON: " << out;
  }
}

TEST(ResultJson, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("12345678\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

}  // namespace
}  // namespace kizuna::correlation
