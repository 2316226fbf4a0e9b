// validation_bench: what checking one incoming object costs, db_bench style.
// The figures that unit tests used to assert with a stopwatch are printed
// here instead (a loaded machine made those tests fail); the tests keep what
// can be checked without one (results, the evaluator's step counter).
//
// Cases, in order:
//   validate        ValidateObject on a typical indicator (the one in
//                   src/stix/stix_test.cc's samples): microseconds per call
//                   over --rounds calls. Former target < 10 us (no sanitizer).
//   and-refuted     31 AND-joined copies of one observation expression against
//                   30 matching observations (a backtracking matcher explores
//                   30! bindings; the capacity check refutes it): ms per Match.
//   and-budget      26 copies plus a FOLLOWEDBY WITHIN 1 us against 30
//                   observations a second apart, max_steps 200000: the step
//                   budget ends the search (ms per Match, and the steps).
//   and-wide        30 copies against 30 observations, satisfiable: found
//                   greedily (ms per Match).
//   regex           '^(a+)+$', '(a|aa)*b' and LIKE '%a%a%a%a%a%b' against a
//                   100,000-character value (catastrophic for backtracking
//                   engines): ms for the three.
//   circular-refs   a 31-step [*] path through two objects that refer to each
//                   other (2^31 paths without the path-value limit): ms.
// Each case runs --repeat times; the median is printed. Results are checked
// (a wrong answer exits 1), times are not.
//
//   validation_bench [--rounds 20000] [--repeat 5]
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "pattern/pattern.h"
#include "stix/stix.h"

namespace {

namespace json = boost::json;
namespace pattern = kizuna::pattern;
using Clock = std::chrono::steady_clock;

constexpr const char* kIndicator =
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","indicator_types":["malicious-activity"],"name":"Poison Ivy Malware","pattern":"[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","valid_until":"2017-01-01T00:00:00Z","confidence":80,"labels":["x"],"lang":"en","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],"granular_markings":[{"selectors":["name","labels.[0]"],"marking_ref":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"}]})";

void Die(const std::string& message) {
  std::fprintf(stderr, "validation_bench: %s\n", message.c_str());
  std::exit(1);
}

// The median of `repeat` runs of `run`, in milliseconds.
double MedianMs(int repeat, const std::function<void()>& run) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const auto start = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// A 2.0-style observed-data with one SCO dictionary (JSON text).
pattern::Observation Obs(const std::string& time, const std::string& objects) {
  json::object od;
  od["type"] = "observed-data";
  od["first_observed"] = time;
  od["last_observed"] = time;
  od["number_observed"] = 1;
  od["objects"] = json::parse(objects);
  auto observation = pattern::ObservationFromObservedData(od);
  if (!observation.ok()) Die("observation: " + observation.status().message());
  return *observation;
}

pattern::Pattern Parse(const std::string& text) {
  auto parsed = pattern::ParsePattern(text);
  if (!parsed.ok()) Die("pattern: " + parsed.status().message());
  return *parsed;
}

std::string Anded(int copies) {
  std::string text = "[file:name = 'a']";
  for (int i = 1; i < copies; ++i) text += " AND [file:name = 'a']";
  return text;
}

void Expect(bool ok, const char* what) {
  if (!ok) Die(std::string("wrong result: ") + what);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20000;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) {
      rounds = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--repeat") == 0) {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    } else {
      Die(std::string("unknown option ") + argv[i]);
    }
  }
#if defined(__SANITIZE_ADDRESS__)
  std::printf("(AddressSanitizer build: figures are not comparable)\n");
#endif

  // validate
  const json::object indicator = json::parse(kIndicator).as_object();
  const double validate_ms = MedianMs(repeat, [&] {
    for (int i = 0; i < rounds; ++i) {
      Expect(kizuna::stix::ValidateObject(indicator).ok(), "the indicator is valid");
    }
  });
  std::printf("validate        %8.2f us per ValidateObject(indicator)  (former target < 10 us)\n",
              validate_ms * 1000.0 / rounds);

  // and-refuted, and-wide
  std::vector<pattern::Observation> same;
  for (int i = 0; i < 30; ++i)
    same.push_back(Obs("2020-01-01T00:00:00Z", R"({"0": {"type": "file", "name": "a"}})"));
  const pattern::Pattern refuted = Parse(Anded(31));
  pattern::MatchResult result;
  double ms = MedianMs(repeat, [&] { result = pattern::Match(refuted, same); });
  Expect(!result.matched && !result.limit_hit, "31 ANDs over 30 observations: refuted");
  std::printf("and-refuted     %8.3f ms  (%llu steps)\n", ms,
              static_cast<unsigned long long>(result.steps));

  // and-budget
  std::string hard =
      Anded(26) + " AND ([file:name = 'a'] FOLLOWEDBY [file:name = 'a']) WITHIN 0.000001 SECONDS";
  std::vector<pattern::Observation> spread;
  for (int i = 0; i < 30; ++i) {
    char time[32];
    std::snprintf(time, sizeof time, "2020-01-01T00:00:%02dZ", i);
    spread.push_back(Obs(time, R"({"0": {"type": "file", "name": "a"}})"));
  }
  const pattern::Pattern budget = Parse(hard);
  pattern::EvalLimits limits;
  limits.max_steps = 200000;
  ms = MedianMs(repeat, [&] { result = pattern::Match(budget, spread, limits); });
  Expect(!result.matched && result.limit_hit, "the step budget ends the search");
  std::printf("and-budget      %8.3f ms  (%llu steps, budget %llu)\n", ms,
              static_cast<unsigned long long>(result.steps),
              static_cast<unsigned long long>(limits.max_steps));

  const pattern::Pattern wide = Parse(Anded(30));
  ms = MedianMs(repeat, [&] { result = pattern::Match(wide, same); });
  Expect(result.matched, "30 ANDs over 30 observations: found");
  std::printf("and-wide        %8.3f ms  (%llu steps)\n", ms,
              static_cast<unsigned long long>(result.steps));

  // regex
  const std::vector<pattern::Observation> long_a{
      Obs("2020-01-01T00:00:00Z",
          R"({"0": {"type": "file", "name": ")" + std::string(100000, 'a') + "!\"}}")};
  const std::vector<pattern::Pattern> catastrophic = {Parse("[file:name MATCHES '^(a+)+$']"),
                                                      Parse("[file:name MATCHES '(a|aa)*b']"),
                                                      Parse("[file:name LIKE '%a%a%a%a%a%b']")};
  ms = MedianMs(repeat, [&] {
    for (const pattern::Pattern& p : catastrophic) {
      Expect(!pattern::Match(p, long_a).matched, "no catastrophic pattern matches");
    }
  });
  std::printf("regex           %8.3f ms  (3 patterns, 100,000 characters)\n", ms);

  // circular-refs
  const std::vector<pattern::Observation> circular{
      Obs("2020-01-01T00:00:00Z", R"({"0": {"type": "x-foo", "some_refs": ["0", "1"], "size": 10},
      "1": {"type": "x-foo", "some_refs": ["0", "1"], "size": 1000}})")};
  std::string path = "x-foo:some_refs[*]";
  for (int i = 0; i < 30; ++i) path += ".some_refs[*]";
  const pattern::Pattern refs = Parse("[" + path + ".size > 100]");
  ms = MedianMs(repeat, [&] { result = pattern::Match(refs, circular); });
  Expect(result.limit_hit, "the path-value limit ends the search");
  std::printf("circular-refs   %8.3f ms  (%llu steps)\n", ms,
              static_cast<unsigned long long>(result.steps));
  return 0;
}
