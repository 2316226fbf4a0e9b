#include "correlation/stream_matcher.h"

#include <gtest/gtest.h>
#include <re2/re2.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "common/uuid.h"
#include "correlation/result_json.h"
#include "stix/stix.h"
#include "store/sqlite/sqlite_store.h"

namespace kizuna::correlation {
namespace {

namespace json = boost::json;

constexpr char kGreen[] = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
constexpr char kObserver[] = "identity--00000000-0000-4000-8000-0000000000a1";

std::string Id(const char* type, int n) {
  char text[80];
  std::snprintf(text, sizeof text, "%s--00000000-0000-4000-8000-%012d", type, n);
  return text;
}

// An indicator; `extra` is more JSON members (",\"name\":…").
std::string Indicator(int n, const std::string& pattern, const std::string& extra = "") {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + Id("indicator", n) +
         R"(","created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z",)"
         R"("pattern":")" +
         pattern + R"(","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z")" + extra + "}";
}

// The input every test feeds: IPv4 addresses that hit exact entries, nested
// networks (several candidates), nothing, warning lists (with and without a
// match); other kinds; forms the hand parser must leave to MatchText;
// JSON lines; comments, blank lines, CRLF and text that is no observable.
std::vector<std::string> SpecialLines() {
  return {
      "45.81.1.1",
      "45.81.2.2",
      "45.81.2.3",
      "45.81.3.77",
      "45.81.3.78",
      "45.81.9.9",
      "45.81.1.1\r",
      "  45.81.3.77  ",
      "45.81.1.1 \r",
      "10.1.1.1",
      "10.2.2.2",
      "198.51.100.7",
      "8.8.8.8",
      "1.1.1.1",
      "0.0.0.0",
      "255.255.255.255",
      "045.81.1.1",
      "45.81.001.1",
      "45.81.1.1.",
      "45.81.1",
      "45.81.1.256",
      "1045.81.1.1",
      "45.81.1.1.1",
      "45.81..1",
      "45.81.1.1a",
      "255.255.255.256",
      "00.81.1.1",
      "45.81.1.0",
      "45.81.10.255",
      "45.81.1.1/32",
      "45.81.3.0/24",
      "45.81[.]1[.]1",
      "\"45.81.1.1\"",
      "2001:db8::1",
      "2a00:1450::1",
      "evil.example.com",
      "EVIL.example.com.",
      "www.evil.example.com",
      "hxxp://evil[.]example[.]com/x",
      "http://evil.example.com/path?q=1",
      "https://phish.example.org/login",
      "ops@evil.example.com",
      "44d88612fea8a8f36de82e1278abb02f",
      "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
      "invoice.pdf.exe",
      "not an observable at all",
      "# a comment",
      "   # an indented comment",
      "",
      "   ",
      "\r",
      R"({"type":"ipv4-addr","value":"45.81.2.2"})",
      R"({"type":"domain-name","value":"evil.example.com"})",
      R"({"type":"mac-addr","value":"00:11:22:33:44:55"})",
      R"({"type":"nonsense","value":"x"})",
      R"({"value":1})",
      "{broken",
      "[1,2]",
      R"({"type":"observed-data","spec_version":"2.1","id":"observed-data--00000000-0000-4000-8000-000000000099","created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z","first_observed":"2026-11-01T00:00:00Z","last_observed":"2026-11-01T00:00:00Z","number_observed":1,"object_refs":["ipv4-addr--00000000-0000-4000-8000-000000000001"]})",
      "caf\xc3\xa9.example.com",
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83"
      "\x88",
      std::string(300, 'x'),
      "tab\tseparated",
      "quote\"and\\backslash",
  };
}

// A log of `n` lines: mostly random addresses (a third inside the networks
// above), the special lines sprinkled in.
std::string Log(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto special = SpecialLines();
  std::string log;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng();
    if (r % 7 == 0) {
      log += special[(r >> 8) % special.size()];
    } else if (r % 3 == 0) {
      log += "45.81." + std::to_string((r >> 8) % 12) + "." + std::to_string((r >> 16) % 256);
    } else {
      const uint32_t a = static_cast<uint32_t>(r >> 32);
      log += FormatIpv4(a);
    }
    log += '\n';
  }
  return log;
}

class StreamMatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One store per test process: ctest runs the tests of this file at once.
    path_ = testing::TempDir() + "/stream-matcher-test-" + std::to_string(getpid()) + ".db";
    std::filesystem::remove(path_);
    auto opened = store::OpenSqliteStore(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    collection_.id = "6f0c3c1e-8a4f-4c55-9d2e-1a2b3c4d5e6f";
    collection_.title = "feed";
    ASSERT_TRUE(store_->CreateCollection(collection_).ok());
    const std::string green = R"(,"object_marking_refs":[")" + std::string(kGreen) + R"("])";
    Add({
        // Names, labels, producer, confidence, valid_until: present and absent.
        Indicator(1, "[ipv4-addr:value = '45.81.1.1']",
                  R"(,"name":"C2 \"one\"","labels":["c2","botnet"],"confidence":80,)"
                  R"("created_by_ref":"identity--00000000-0000-4000-8000-0000000000b2",)"
                  R"("valid_until":"2099-01-01T00:00:00Z")" +
                      green),
        Indicator(2, "[ipv4-addr:value = '45.81.2.2']"),
        Indicator(3, "[ipv4-addr:value ISSUBSET '45.81.2.0/24']", R"(,"name":"net 2")"),
        Indicator(4, "[ipv4-addr:value ISSUBSET '45.81.0.0/16']", R"(,"labels":["scanner"])"),
        Indicator(5, "[ipv4-addr:value ISSUBSET '45.81.3.0/24']", green),
        Indicator(6, "[ipv4-addr:value = '10.1.1.1']", R"(,"name":"private, listed")"),
        Indicator(7, "[domain-name:value = 'evil.example.com']", R"(,"name":"domain")"),
        Indicator(8, "[url:value = 'http://evil.example.com/x']"),
        Indicator(9, "[email-addr:value = 'ops@evil.example.com']"),
        Indicator(10, "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']"),
        Indicator(11, "[ipv6-addr:value = '2001:db8::1']"),
        Indicator(12, "[ipv4-addr:value = '8.8.8.8']"),
        Indicator(13, "[mac-addr:value = '00:11:22:33:44:55']"),
        // Three covers of 45.81.7.x: with max_results 2, truncated.
        Indicator(14, "[ipv4-addr:value ISSUBSET '45.81.7.0/24']"),
        Indicator(15, "[ipv4-addr:value ISSUBSET '45.81.7.0/25']"),
        // Sighted (below): sighted_by in the answers.
        Indicator(16, "[ipv4-addr:value ISSUBSET '45.81.5.0/24']", R"(,"name":"sighted")"),
    });
    Add({R"({"type":"identity","spec_version":"2.1","id":")" + std::string(kObserver) +
             R"(","created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z",)"
             R"("name":"CERT Observer","identity_class":"organization"})",
         R"({"type":"sighting","spec_version":"2.1","id":")" + Id("sighting", 1) +
             R"(","created":"2026-11-02T00:00:00.000Z","modified":"2026-11-02T00:00:00.000Z",)"
             R"("sighting_of_ref":")" +
             Id("indicator", 16) +
             R"(","count":4,"first_seen":"2026-11-02T00:00:00Z","last_seen":"2026-11-02T01:00:00Z",)"
             R"("where_sighted_refs":[")" +
             kObserver + R"("]})"});
    warninglists_ = std::make_shared<WarningLists>();
    warninglists_->AddBuiltins();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove(path_);
  }

  // Adds to `collection_id` (default: the fixture's collection).
  void Add(const std::vector<std::string>& objects, std::string collection_id = "") {
    if (collection_id.empty()) collection_id = collection_.id;
    std::vector<store::NewObject> batch;
    for (const std::string& text : objects) {
      json::object object = json::parse(text).as_object();
      auto info = stix::ValidateObject(object);
      ASSERT_TRUE(info.ok()) << info.status().ToString() << "\n" << text;
      batch.push_back({*info, text, ""});
    }
    auto added = store_->AddObjects(collection_id, batch);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }

  std::unique_ptr<Correlator> NewCorrelator(CorrelatorOptions options = {.max_results = 2}) {
    auto correlator = std::make_unique<Correlator>(*store_, options, warninglists_);
    EXPECT_TRUE(correlator->Refresh().ok());
    return correlator;
  }

  std::string path_;
  std::unique_ptr<store::Store> store_;
  store::Collection collection_;
  std::shared_ptr<WarningLists> warninglists_;
};

// What `kizuna match` printed before the stream matcher: each line read
// with getline, JSON lines parsed, MatchText, ResultToJson serialized.
struct SlowOutput {
  std::string out;
  StreamCounts counts;
  std::map<std::string, int64_t> tally;
};

// `pick` takes the observable out of a line (nullopt: an error result).
using Pick = std::function<std::optional<std::string>(const std::string& line)>;

SlowOutput SlowPath(Correlator& correlator, const std::string& input, bool all,
                    const Pick& pick = nullptr, const std::string& pick_error = "") {
  SlowOutput slow;
  SightingTally tally;
  auto emit = [&](ObservableResult result) {
    if (!result.error.empty()) ++slow.counts.errors;
    if (!result.matches.empty()) ++slow.counts.matched;
    correlator.AddSightedBy(result, nullptr);
    tally.Count(result);
    if (all || !result.matches.empty()) slow.out += json::serialize(ResultToJson(result)) + "\n";
  };
  auto error = [](std::string_view input, std::string message) {
    ObservableResult bad;
    bad.value = std::string(input.substr(0, 256));
    bad.error = std::move(message);
    return bad;
  };
  std::istringstream in(input);
  std::string line;
  while (std::getline(in, line)) {
    std::string_view text = line;
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.empty() || text.front() == '#') continue;
    ++slow.counts.inputs;
    std::string picked;
    if (pick) {
      auto p = pick(std::string(text));
      if (!p) {
        emit(error(text, pick_error));
        continue;
      }
      picked = *p;
      text = picked;
    }
    if (!IsValidUtf8(text)) {
      emit(error(text, "not valid UTF-8"));
      continue;
    }
    if (text.front() != '{' && text.front() != '[') {
      emit(correlator.MatchText(text, nullptr));
      continue;
    }
    auto parsed = stix::ParseJson(text, 64);
    if (!parsed.ok()) {
      emit(error(text, parsed.status().message()));
      continue;
    }
    const json::object* object = parsed->if_object();
    std::string type;
    if (object) type = stix::StringProperty(*object, "type");
    if (!object || type == "observed-data" || type == "bundle") {
      auto results = correlator.MatchObservedData(*parsed, nullptr);
      if (!results.ok()) {
        emit(error(text, results.status().message()));
        continue;
      }
      for (auto& r : *results) emit(std::move(r));
      continue;
    }
    auto value = object->find("value");
    if (value == object->end() || !value->value().is_string()) {
      emit(error(text, "a JSON line is observed-data, a bundle, or {\"type\", \"value\"}"));
      continue;
    }
    emit(correlator.MatchText(value->value().get_string(), nullptr, type));
  }
  for (const auto& input : tally.Inputs()) slow.tally[input.indicator_id] = input.count;
  return slow;
}

struct FastOutput {
  std::string out;
  StreamCounts counts;
  std::map<std::string, int64_t> tally;
};

// Run over an in-memory input, read in pieces of `read_size` bytes.
FastOutput Fast(Correlator& correlator, const std::string& input, StreamOptions options,
                size_t read_size = 1000) {
  options.tally = true;
  auto matcher = StreamMatcher::Create(correlator, options);
  EXPECT_TRUE(matcher.ok()) << matcher.status().ToString();
  FastOutput fast;
  size_t offset = 0;
  Status ran = (*matcher)->Run(
      [&](char* buffer, size_t capacity) -> long {
        const size_t n = std::min({capacity, read_size, input.size() - offset});
        std::memcpy(buffer, input.data() + offset, n);
        offset += n;
        return static_cast<long>(n);
      },
      [&](std::string_view bytes) {
        fast.out.append(bytes);
        return true;
      });
  EXPECT_TRUE(ran.ok()) << ran.ToString();
  fast.counts = (*matcher)->counts();
  for (const auto& in : (*matcher)->tally().Inputs()) fast.tally[in.indicator_id] = in.count;
  return fast;
}

void ExpectSame(const SlowOutput& slow, const FastOutput& fast) {
  EXPECT_EQ(fast.counts.inputs, slow.counts.inputs);
  EXPECT_EQ(fast.counts.matched, slow.counts.matched);
  EXPECT_EQ(fast.counts.errors, slow.counts.errors);
  EXPECT_EQ(fast.tally, slow.tally);
  // Line by line, for a readable failure.
  std::istringstream a(fast.out), b(slow.out);
  std::string fast_line, slow_line;
  size_t n = 0;
  while (true) {
    const bool more_fast = static_cast<bool>(std::getline(a, fast_line));
    const bool more_slow = static_cast<bool>(std::getline(b, slow_line));
    if (!more_fast && !more_slow) break;
    ASSERT_EQ(more_fast, more_slow) << "line " << n;
    ASSERT_EQ(fast_line, slow_line) << "line " << n;
    ++n;
  }
}

TEST_F(StreamMatcherTest, OutputEqualsTheSlowPath) {
  auto correlator = NewCorrelator();
  ASSERT_EQ(correlator->pattern_count(), 0u);
  const std::string log = Log(20000, 1);
  for (bool all : {false, true}) {
    const SlowOutput slow = SlowPath(*correlator, log, all);
    ASSERT_GT(slow.counts.matched, 1000u);
    // The corpus has every part of an answer.
    for (const char* part : {"\"sighted_by\":", "\"truncated\":true", "\"warnings\":",
                             "\"valid_until\":", "\"confidence\":", "\"producer\":"}) {
      EXPECT_NE(slow.out.find(part), std::string::npos) << part;
    }
    for (size_t threads : {1, 2, 3}) {
      SCOPED_TRACE("all=" + std::to_string(all) + " threads=" + std::to_string(threads));
      // Small chunks: hundreds of them, so order across chunks is exercised.
      ExpectSame(
          slow, Fast(*correlator, log, {.all = all, .threads = threads, .chunk_bytes = 2048}, 777));
      // A tiny answer cache: most answers are not kept, MatchIpv4 gives them.
      ExpectSame(slow,
                 Fast(*correlator, log,
                      {.all = all, .threads = threads, .chunk_bytes = 4096, .cache_entries = 3}));
    }
  }
}

TEST_F(StreamMatcherTest, EveryResultKindIsTheSlowPaths) {
  // Each special line alone, with --all: nothing relies on the mix.
  auto correlator = NewCorrelator();
  for (const std::string& line : SpecialLines()) {
    SCOPED_TRACE(line);
    ExpectSame(SlowPath(*correlator, line + "\n", true),
               Fast(*correlator, line + "\n", {.all = true}));
    // The last line without its newline.
    ExpectSame(SlowPath(*correlator, line, true), Fast(*correlator, line, {.all = true}));
  }
}

TEST_F(StreamMatcherTest, EqualWhenPatternsNeedTheEngine) {
  // An indicator only the pattern engine evaluates: every answer depends on
  // the value, so every line takes MatchText.
  Add({Indicator(20, "[ipv4-addr:value = '45.81.9.9' OR domain-name:value LIKE '%.example.org']")});
  auto correlator = NewCorrelator();
  ASSERT_GT(correlator->pattern_count(), 0u);
  const std::string log = Log(3000, 2);
  for (bool all : {false, true}) {
    ExpectSame(SlowPath(*correlator, log, all),
               Fast(*correlator, log, {.all = all, .chunk_bytes = 1024}));
  }
}

TEST_F(StreamMatcherTest, ExcludedWarningListedValuesAreTheSlowPaths) {
  auto correlator = NewCorrelator({.max_results = 2, .exclude_warninglisted = true});
  const std::string log = Log(5000, 3);
  ExpectSame(SlowPath(*correlator, log, true), Fast(*correlator, log, {.all = true}));
}

TEST_F(StreamMatcherTest, AddressesTheIndexCutsOffAreTheSlowPaths) {
  // More covering indicators than the index hands out (100 x max_results
  // + 1): MatchText looks again without the cap, so no answer is reused.
  std::vector<std::string> many;
  for (int n = 100; n < 330; ++n) {
    many.push_back(Indicator(n, "[ipv4-addr:value ISSUBSET '45.84.0.0/16']"));
  }
  Add(many);
  auto correlator = NewCorrelator();
  std::string log;
  for (int i = 0; i < 300; ++i)
    log += "45.84." + std::to_string(i % 7) + "." + std::to_string(i % 256) + "\n";
  log += "45.81.2.2\n";
  for (bool all : {false, true}) {
    ExpectSame(SlowPath(*correlator, log, all), Fast(*correlator, log, {.all = all}));
  }
}

// A sighting of indicator `indicator` by `observer`, counted `count` times.
std::string Sighting(int n, int indicator, const std::string& observer, int count) {
  return R"({"type":"sighting","spec_version":"2.1","id":")" + Id("sighting", n) +
         R"(","created":"2026-11-02T00:00:00.000Z","modified":"2026-11-02T00:00:00.000Z",)"
         R"("sighting_of_ref":")" +
         Id("indicator", indicator) + R"(","count":)" + std::to_string(count) +
         R"(,"first_seen":"2026-11-02T00:00:00Z","last_seen":"2026-11-03T00:00:00Z",)"
         R"("where_sighted_refs":[")" +
         observer + R"("]})";
}

TEST_F(StreamMatcherTest, FiltersGiveMatchTextsAnswers) {
  // The match API's filters (collections the caller reads, matches and
  // sightings it may see) over indicators and sightings held in several
  // collections: every answer is MatchText's with the same filters, those
  // written straight from the index (no `visible` filter) and those built
  // from IndicatorMatches alike.
  store::Collection second{.id = "0b7c1a9e-2d3f-4e5a-8b6c-7d8e9f0a1b2c",
                           .title = "second",
                           .description = "",
                           .alias = "",
                           .media_types = {store::kStixMediaType}};
  store::Collection third = second;
  third.id = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
  third.title = "third";
  ASSERT_TRUE(store_->CreateCollection(second).ok());
  ASSERT_TRUE(store_->CreateCollection(third).ok());
  const std::string other_observer = "identity--00000000-0000-4000-8000-0000000000a2";
  const std::string wide =
      Indicator(40, "[ipv4-addr:value ISSUBSET '45.82.0.0/16']",
                R"(,"name":"wide","labels":["a","b \"quoted\""],"confidence":50,)"
                R"("created_by_ref":"identity--00000000-0000-4000-8000-0000000000b2",)"
                R"("object_marking_refs":[")" +
                    std::string(kGreen) + R"("])");
  const std::string exact = Indicator(43, "[ipv4-addr:value = '45.82.1.2']", R"(,"name":"exact")");
  Add({wide, exact});
  Add({wide, Indicator(41, "[ipv4-addr:value ISSUBSET '45.82.1.0/24']", R"(,"labels":["x"])"),
       exact, Sighting(2, 40, other_observer, 7),
       // On a warning list (private addresses): the answer carries it.
       Indicator(44, "[ipv4-addr:value ISSUBSET '10.9.0.0/16']", R"(,"name":"private")")},
      second.id);
  Add({Indicator(42, "[ipv4-addr:value ISSUBSET '45.82.1.0/25']"), exact,
       Sighting(3, 43, other_observer, 2), Sighting(4, 40, kObserver, 1)},
      third.id);
  Add({Sighting(5, 43, kObserver, 3)});
  auto correlator = NewCorrelator();  // max_results 2: 45.82.1.x has up to 4 candidates

  std::string log;
  std::mt19937_64 rng(9);
  for (int i = 0; i < 3000; ++i) {
    const uint64_t r = rng();
    if (r % 3 == 0) {
      log += "45.82." + std::to_string((r >> 8) % 3) + "." + std::to_string((r >> 16) % 256);
    } else if (r % 7 == 1) {
      log += "10.9.1." + std::to_string((r >> 16) % 256);
    } else if (r % 3 == 1) {
      log += "45.81." + std::to_string((r >> 8) % 10) + "." + std::to_string((r >> 16) % 256);
    } else {
      log += FormatIpv4(static_cast<uint32_t>(r >> 32));
    }
    log += '\n';
  }

  const std::map<std::string, CollectionFilter> readables = {
      {"every collection", nullptr},
      {"not the second", [&](const std::string& c) { return c != second.id; }},
      {"only the third", [&](const std::string& c) { return c == third.id; }},
      {"none", [](const std::string&) { return false; }},
  };
  const std::map<std::string, MatchFilter> visibles = {
      {"every match", nullptr},
      {"not 41", [](const IndicatorMatch& m) { return m.indicator.id != Id("indicator", 41); }},
  };
  const std::map<std::string, SightingFilter> sightings = {
      {"every sighting", nullptr},
      {"not in the third",
       [&](const std::string& c, const store::StoredObject&) { return c != third.id; }},
  };
  for (const auto& [readable_name, readable] : readables) {
    for (const auto& [visible_name, visible] : visibles) {
      for (const auto& [sightings_name, sightings_visible] : sightings) {
        for (bool all : {false, true}) {
          SCOPED_TRACE(readable_name + ", " + visible_name + ", " + sightings_name +
                       (all ? ", all" : ""));
          std::string slow;
          StreamCounts slow_counts;
          SightingTally slow_tally;
          std::istringstream in(log);
          for (std::string line; std::getline(in, line);) {
            ++slow_counts.inputs;
            ObservableResult result = correlator->MatchText(line, readable, {}, visible);
            correlator->AddSightedBy(result, sightings_visible);
            slow_tally.Count(result);
            if (!result.matches.empty()) ++slow_counts.matched;
            if (all || !result.matches.empty())
              slow += json::serialize(ResultToJson(result)) + "\n";
          }
          if (!readable && !visible && !sightings_visible) {
            // Every part the filters act on is in the answers.
            for (const std::string& part :
                 {std::string("\"sighted_by\":"), std::string("\"truncated\":true"),
                  R"(","collections":[")" + collection_.id + R"(",")" + second.id + R"(",")" +
                      third.id + R"("])",
                  std::string(R"("labels":["a","b \"quoted\""])"), other_observer,
                  R"("collections":[")" + second.id + R"("]}],"warnings":["Private)"}) {
              EXPECT_NE(slow.find(part), std::string::npos) << part;
            }
          }
          auto matcher = StreamMatcher::Create(*correlator, {.all = all, .tally = true}, readable,
                                               visible, sightings_visible);
          ASSERT_TRUE(matcher.ok());
          std::string fast;
          (*matcher)->MatchBuffer(log, &fast);
          EXPECT_EQ(fast, slow);
          EXPECT_EQ((*matcher)->counts().inputs, slow_counts.inputs);
          EXPECT_EQ((*matcher)->counts().matched, slow_counts.matched);
          std::map<std::string, int64_t> fast_tally, expected_tally;
          for (const auto& input : (*matcher)->tally().Inputs()) {
            fast_tally[input.indicator_id] = input.count;
          }
          for (const auto& input : slow_tally.Inputs()) {
            expected_tally[input.indicator_id] = input.count;
          }
          EXPECT_EQ(fast_tally, expected_tally);
        }
      }
    }
  }
}

TEST_F(StreamMatcherTest, MatchBufferWritesArrayItems) {
  auto correlator = NewCorrelator();
  const std::string log = Log(3000, 4);
  const SlowOutput slow = SlowPath(*correlator, log, true);
  auto matcher = StreamMatcher::Create(*correlator, {.all = true});
  ASSERT_TRUE(matcher.ok());
  std::string items;
  (*matcher)->MatchBuffer(log, &items, ",");
  ASSERT_FALSE(items.empty());
  items.pop_back();
  json::array parsed = json::parse("[" + items + "]").as_array();
  std::string lines;
  for (const auto& item : parsed) lines += json::serialize(item) + "\n";
  EXPECT_EQ(lines, slow.out);
  EXPECT_EQ((*matcher)->counts().inputs, slow.counts.inputs);
  EXPECT_EQ(StreamMatcher::CountInputs(log), slow.counts.inputs);
  EXPECT_EQ(StreamMatcher::CountInputs("a\n\n# c\n  \r\nb"), 2u);
}

TEST_F(StreamMatcherTest, TextLinesWithoutJson) {
  // The match API's text/plain bodies: a line starting with '{' is text.
  auto correlator = NewCorrelator();
  auto matcher = StreamMatcher::Create(*correlator, {.all = true, .json_lines = false});
  ASSERT_TRUE(matcher.ok());
  std::string out;
  (*matcher)->MatchBuffer(R"({"type":"ipv4-addr","value":"45.81.2.2"})", &out);
  EXPECT_NE(out.find("not an observable"), std::string::npos) << out;
}

TEST_F(StreamMatcherTest, FieldPicksTheObservable) {
  auto correlator = NewCorrelator();
  std::string log;
  std::mt19937_64 rng(5);
  const auto special = SpecialLines();
  for (int i = 0; i < 4000; ++i) {
    const uint64_t r = rng();
    std::string value = r % 5 == 0   ? special[(r >> 8) % special.size()]
                        : r % 2 == 0 ? "45.81." + std::to_string((r >> 8) % 12) + ".9"
                                     : FormatIpv4(static_cast<uint32_t>(r >> 32));
    if (value.find_first_of(" \t\r") != std::string::npos || value.empty() || value[0] == '#') {
      value = "x";
    }
    if (r % 11 == 0) {
      log += "short line\n";  // no third field
    } else {
      log += "2026-11-30T10:00:00Z\tfw1  " + value + " DROP" + (r % 13 == 0 ? "\r\n" : "\n");
    }
  }
  log += "# 2026 comment lines are skipped\n";
  Pick third = [](const std::string& line) -> std::optional<std::string> {
    std::istringstream fields(line);
    std::string field;
    for (int i = 0; i < 3; ++i) {
      if (!(fields >> field)) return std::nullopt;
    }
    return field;
  };
  for (bool all : {false, true}) {
    ExpectSame(SlowPath(*correlator, log, all, third, "no field 3 in the line"),
               Fast(*correlator, log, {.all = all, .field = 3, .chunk_bytes = 512}));
  }
}

TEST_F(StreamMatcherTest, RegexPicksTheFirstGroup) {
  auto correlator = NewCorrelator();
  std::string log;
  std::mt19937_64 rng(6);
  for (int i = 0; i < 4000; ++i) {
    const uint64_t r = rng();
    const std::string address = r % 2 == 0 ? "45.81." + std::to_string((r >> 8) % 12) + ".9"
                                           : FormatIpv4(static_cast<uint32_t>(r >> 32));
    if (r % 9 == 0) {
      log += "Nov 30 10:00:00 sshd[42]: Connection closed by authenticating user root\n";
    } else if (r % 10 == 0) {
      log += "Nov 30 10:00:00 named: query evil.example.com from client src=" + address + "\r\n";
    } else {
      log += "Nov 30 10:00:00 fw: DROP src=" + address + " dst=192.0.2.1 proto=tcp\n";
    }
  }
  const std::string pattern = R"(src=(\d+\.\d+\.\d+\.\d+))";
  Pick src = [&](const std::string& line) -> std::optional<std::string> {
    std::string group;
    if (!re2::RE2::PartialMatch(line, pattern, &group)) return std::nullopt;
    return group;
  };
  for (bool all : {false, true}) {
    ExpectSame(SlowPath(*correlator, log, all, src, "the regex does not match the line"),
               Fast(*correlator, log, {.all = all, .regex = pattern, .chunk_bytes = 700}));
  }
  // Without a group the whole match is the observable.
  FastOutput whole = Fast(*correlator, "at 45.81.2.2 now\nnothing\n",
                          {.all = true, .regex = R"(\d+\.\d+\.\d+\.\d+)"});
  EXPECT_NE(whole.out.find(R"("value":"45.81.2.2","matched":true)"), std::string::npos)
      << whole.out;
  EXPECT_NE(whole.out.find(R"({"input":"nothing","error":"the regex does not match the line"})"),
            std::string::npos)
      << whole.out;
}

TEST_F(StreamMatcherTest, RefusesBadOptions) {
  auto correlator = NewCorrelator();
  EXPECT_FALSE(StreamMatcher::Create(*correlator, {.regex = "("}).ok());
  EXPECT_FALSE(StreamMatcher::Create(*correlator, {.field = -1}).ok());
  EXPECT_FALSE(StreamMatcher::Create(*correlator, {.field = 2, .regex = "(x)"}).ok());
}

TEST_F(StreamMatcherTest, CrlfCommentsAndEmptyLines) {
  auto correlator = NewCorrelator();
  FastOutput fast =
      Fast(*correlator, "\r\n# comment\r\n\r\n   \n45.81.2.2\r\n  # indented\n45.81.9.9\r\n",
           {.all = true});
  EXPECT_EQ(fast.counts.inputs, 2u);
  EXPECT_EQ(fast.counts.matched, 2u);
  EXPECT_EQ(fast.out.find('\r'), std::string::npos) << fast.out;
  EXPECT_EQ(std::count(fast.out.begin(), fast.out.end(), '\n'), 2);
}

TEST_F(StreamMatcherTest, VeryLongLinesGiveAnErrorAndTheRestIsMatched) {
  auto correlator = NewCorrelator();
  const std::string huge(50000, 'a');
  const std::string long_ok(3000, 'b');  // longer than a chunk, not than a line
  const std::string input = "45.81.2.2\n" + huge + "\n45.81.1.1\n# " + huge + "\n" + long_ok +
                            "\n45.81.3.77\n" + huge;  // the last one without a newline
  for (size_t read_size : {1, 100, 1000000}) {
    SCOPED_TRACE(read_size);
    FastOutput fast = Fast(*correlator, input,
                           {.all = true, .chunk_bytes = 1024, .max_line_bytes = 4096}, read_size);
    std::vector<json::object> lines;
    std::istringstream in(fast.out);
    std::string line;
    while (std::getline(in, line)) lines.push_back(json::parse(line).as_object());
    ASSERT_EQ(lines.size(), 6u) << fast.out;
    EXPECT_EQ(lines[0].at("value"), "45.81.2.2");
    EXPECT_EQ(lines[1].at("error"), "line longer than 4096 bytes");
    EXPECT_EQ(lines[1].at("input").as_string(), huge.substr(0, 256));
    EXPECT_EQ(lines[2].at("value"), "45.81.1.1");
    EXPECT_EQ(lines[3].at("input").as_string(), long_ok.substr(0, 256));  // not an observable
    EXPECT_NE(lines[3].at("error").as_string().find("not an observable"), std::string::npos);
    EXPECT_EQ(lines[4].at("value"), "45.81.3.77");
    EXPECT_EQ(lines[5].at("error"), "line longer than 4096 bytes");
    EXPECT_EQ(fast.counts.inputs, 6u);
    EXPECT_EQ(fast.counts.errors, 3u);
  }
}

TEST_F(StreamMatcherTest, InvalidUtf8IsAnErrorLine) {
  auto correlator = NewCorrelator();
  FastOutput fast = Fast(*correlator, "45.81.2.2\xff\n\xc3(\n45.81.2.2\n", {.all = true});
  std::istringstream in(fast.out);
  std::string line;
  std::vector<json::object> lines;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);  // validates UTF-8
    ASSERT_FALSE(ec) << line;
    lines.push_back(v.as_object());
  }
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].at("error"), "not valid UTF-8");
  EXPECT_EQ(lines[0].at("input"), "45.81.2.2\xEF\xBF\xBD");
  EXPECT_EQ(lines[1].at("error"), "not valid UTF-8");
  EXPECT_EQ(lines[2].at("matched"), true);
  EXPECT_EQ(fast.counts.errors, 2u);
}

TEST_F(StreamMatcherTest, AQuoteCutInsideACharacterIsStillJson) {
  // An error quotes the first 256 bytes; here they end inside "é".
  auto correlator = NewCorrelator();
  const std::string line = std::string(255, 'y') + "\xc3\xa9z";
  FastOutput fast = Fast(*correlator, line + "\n", {.all = true});
  boost::system::error_code ec;
  json::value parsed = json::parse(fast.out, ec);
  ASSERT_FALSE(ec) << fast.out;
  EXPECT_EQ(parsed.at("input").as_string(), std::string(255, 'y') + "\xEF\xBF\xBD");
}

TEST_F(StreamMatcherTest, OrderIsKeptAndMemoryBoundedOverALongInput) {
  // 400,000 lines through 2 threads in chunks of 4 KiB: every answer in
  // input order, and the reader is never more than the chunks in flight
  // ahead of what was written (memory does not grow with the input).
  auto correlator = NewCorrelator();
  constexpr size_t kLines = 400000;
  constexpr size_t kChunk = 4096;
  std::mt19937_64 rng(7);
  std::vector<uint32_t> addresses(kLines);
  for (auto& a : addresses) a = static_cast<uint32_t>(rng());
  auto matcher =
      StreamMatcher::Create(*correlator, {.all = true, .threads = 2, .chunk_bytes = kChunk});
  ASSERT_TRUE(matcher.ok());
  size_t next = 0, lines_read = 0, lines_written = 0, most_ahead = 0;
  std::string pending;
  std::mutex mu;  // the source and the sink run on different threads
  std::string out_tail;
  size_t checked = 0;
  bool in_order = true;
  Status ran = (*matcher)->Run(
      [&](char* buffer, size_t capacity) -> long {
        while (pending.size() < capacity && next < kLines) {
          pending += FormatIpv4(addresses[next++]);
          pending += '\n';
        }
        const size_t n = std::min(capacity, pending.size());
        std::memcpy(buffer, pending.data(), n);
        std::lock_guard lock(mu);
        lines_read += static_cast<size_t>(std::count(pending.begin(), pending.begin() + n, '\n'));
        most_ahead = std::max(most_ahead, lines_read - lines_written);
        pending.erase(0, n);
        return static_cast<long>(n);
      },
      [&](std::string_view bytes) {
        out_tail.append(bytes);
        size_t start = 0, end;
        while ((end = out_tail.find('\n', start)) != std::string::npos) {
          std::string_view line(out_tail.data() + start, end - start);
          const std::string want = "\"value\":\"" + FormatIpv4(addresses[checked]) + "\"";
          if (line.find(want) == std::string_view::npos) in_order = false;
          ++checked;
          start = end + 1;
        }
        out_tail.erase(0, start);
        std::lock_guard lock(mu);
        lines_written = checked;
        return true;
      });
  ASSERT_TRUE(ran.ok()) << ran.ToString();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(checked, kLines);
  // Chunks in flight (2 per thread + 2) of at most kChunk bytes plus one
  // read each, lines of at least 8 bytes.
  const size_t bound = (2 * 2 + 2 + 1) * (2 * kChunk) / 8;
  EXPECT_LT(bound, kLines / 10);
  EXPECT_LE(most_ahead, bound) << "the reader ran ahead of the writer";
}

TEST_F(StreamMatcherTest, AWriteErrorStopsTheRun) {
  auto correlator = NewCorrelator();
  auto matcher = StreamMatcher::Create(*correlator, {.all = true, .chunk_bytes = 1024});
  ASSERT_TRUE(matcher.ok());
  const std::string log = Log(50000, 8);
  size_t offset = 0, reads = 0;
  Status ran = (*matcher)->Run(
      [&](char* buffer, size_t capacity) -> long {
        ++reads;
        const size_t n = std::min(capacity, log.size() - offset);
        std::memcpy(buffer, log.data() + offset, n);
        offset += n;
        return static_cast<long>(n);
      },
      [&](std::string_view) {
        errno = EPIPE;
        return false;
      });
  EXPECT_EQ(ran.code(), Code::kIoError) << ran.ToString();
  EXPECT_LT(offset, log.size()) << "kept reading after the output failed";
}

}  // namespace
}  // namespace kizuna::correlation
