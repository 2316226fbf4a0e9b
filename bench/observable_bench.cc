// observable_bench: plain-text detection (DetectObservable), the first step of
// every line `kizuna match` and /api/v1/match read, db_bench style. Each case
// runs DetectObservable over N generated lines of one class and prints lines/s
// on one core and how many lines were recognised. Cases, in order:
//   ipv4       dotted quads ("203.0.113.7")
//   domain     names under TLDs the public suffix list knows ("k3x9a.example.com")
//   private    names under private-use and unlisted TLDs ("db7.corp",
//              "k3x9a.kizunatest", "nas.home.arpa")
//   idn        Unicode names ("bücher-17.example") and their punycode forms
//   email      "user17@k3x9a.example.com" and "user17@k3x9a.internal"
//   url        defanged URLs ("hxxp://k3x9a[.]example[.]com/a/b?q=1")
//   not-name   what is not a name: file names, version strings, numbers
//   mixed      a log-like mix: 60% ipv4, 20% domain, 5% each of private,
//              email, url and not-name
//   normalize  NormalizeValue(kDomain) of the domain lines (the index's side)
//
// Usage: observable_bench [lines=1000000] [case]   (one case only when named)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "correlation/observable.h"

using kizuna::correlation::DetectObservable;
using kizuna::correlation::ObservableKind;

namespace {

using Clock = std::chrono::steady_clock;

std::string Label(std::mt19937_64& rng, int min_len, int max_len) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  int len = min_len + static_cast<int>(rng() % static_cast<uint64_t>(max_len - min_len + 1));
  std::string s(1, kChars[rng() % 26]);  // a letter first
  for (int i = 1; i < len; ++i) s.push_back(kChars[rng() % 36]);
  return s;
}

std::string Ipv4(std::mt19937_64& rng) {
  uint32_t a = static_cast<uint32_t>(rng());
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::string Domain(std::mt19937_64& rng) {
  static const char* kTlds[] = {"com", "net", "org", "ru", "cn", "info", "co.uk", "io", "xyz"};
  std::string d = Label(rng, 5, 14) + "." + kTlds[rng() % std::size(kTlds)];
  if (rng() % 3 == 0) d = Label(rng, 2, 8) + "." + d;
  return d;
}

std::string Private(std::mt19937_64& rng) {
  static const char* kTlds[] = {"corp", "internal", "local",   "home.arpa",
                                "lan",  "test",     "example", "kizunatest"};
  return Label(rng, 2, 10) + "." + kTlds[rng() % std::size(kTlds)];
}

std::string Idn(std::mt19937_64& rng) {
  static const char* kNames[] = {"bücher",        "münchen", "españa",         "日本語",
                                 "xn--bcher-kva", "пример",  "xn--mnchen-3ya", "straße"};
  static const char* kTlds[] = {"example", "de", "com", "corp"};
  return std::string(kNames[rng() % std::size(kNames)]) + "-" + std::to_string(rng() % 100) + "." +
         kTlds[rng() % std::size(kTlds)];
}

std::string Email(std::mt19937_64& rng) {
  return "user" + std::to_string(rng() % 1000) + "@" +
         (rng() % 2 ? Domain(rng) : Label(rng, 3, 9) + ".internal");
}

std::string Url(std::mt19937_64& rng) {
  std::string d = Domain(rng);
  for (size_t dot = d.find('.'); dot != std::string::npos; dot = d.find('.', dot + 3)) {
    d.replace(dot, 1, "[.]");
  }
  return "hxxp://" + d + "/" + Label(rng, 1, 8) + "/" + Label(rng, 1, 8) +
         "?q=" + std::to_string(rng() % 100);
}

std::string NotName(std::mt19937_64& rng) {
  static const char* kExts[] = {"exe", "pdf.exe", "docx", "dll", "txt", "xlsx", "tmp"};
  switch (rng() % 4) {
    case 0:
      return Label(rng, 3, 10) + "." + kExts[rng() % std::size(kExts)];
    case 1:
      return std::to_string(rng() % 10) + "." + std::to_string(rng() % 30) + "." +
             std::to_string(rng() % 100);
    case 2:
      return "v" + std::to_string(rng() % 10) + "." + std::to_string(rng() % 30) + "." +
             std::to_string(rng() % 100);
    default:
      return std::to_string(rng() % 100000);
  }
}

const char* only = nullptr;  // the case named on the command line, if any

void Run(const char* name, const std::vector<std::string>& lines,
         const std::function<bool(const std::string&)>& one) {
  if (only != nullptr && std::string_view(only) != name) return;
  // Warm up once (loads the public suffix list), then time whole passes
  // until at least half a second has gone by.
  (void)one(lines.front());
  size_t done = 0, recognised = 0;
  const auto start = Clock::now();
  double seconds = 0;
  do {
    for (const auto& line : lines) recognised += one(line) ? 1 : 0;
    done += lines.size();
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } while (seconds < 0.5);
  std::printf("%-10s %10.0f lines/s  %5.1f%% recognised  (%zu lines)\n", name, done / seconds,
              100.0 * recognised / done, done);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  if (argc > 2) only = argv[2];
  std::mt19937_64 rng(20261201);
  auto make = [&](const std::function<std::string()>& gen) {
    std::vector<std::string> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) v.push_back(gen());
    return v;
  };
  const auto detect = [](const std::string& s) { return DetectObservable(s).has_value(); };
  std::printf("observable_bench: %zu lines a case, one core\n", n);
  Run("ipv4", make([&] { return Ipv4(rng); }), detect);
  const auto domains = make([&] { return Domain(rng); });
  Run("domain", domains, detect);
  Run("private", make([&] { return Private(rng); }), detect);
  Run("idn", make([&] { return Idn(rng); }), detect);
  Run("email", make([&] { return Email(rng); }), detect);
  Run("url", make([&] { return Url(rng); }), detect);
  Run("not-name", make([&] { return NotName(rng); }), detect);
  Run("mixed", make([&] {
        uint64_t r = rng() % 20;
        if (r < 12) return Ipv4(rng);
        if (r < 16) return Domain(rng);
        if (r == 16) return Private(rng);
        if (r == 17) return Email(rng);
        if (r == 18) return Url(rng);
        return NotName(rng);
      }),
      detect);
  Run("normalize", domains, [](const std::string& s) {
    return kizuna::correlation::NormalizeValue(ObservableKind::kDomain, s).ok();
  });
  return 0;
}
