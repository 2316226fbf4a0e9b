// federation_bench: how fast objects cross between federated kizuna nodes.
//
// Cases (real `kizuna serve` processes on loopback):
//   stream    A → B over B's live-stream subscription: --samples indicators
//             posted one at a time at A; latency = B's date_added of the
//             object minus the wall-clock time just before A's POST (p50, p99)
//   polling   the same A → C where C polls (stream = false, poll_seconds = 1)
//   pull      a new peer D pulls --objects indicators from A: seconds from
//             `peer add` until the last one is stored at D
// The ratio printed is polling p50 / stream p50. Each follower and A have
// [[peer]] entries for each other (a node serves only partners it knows);
// A's entries are quiet: no stream, polled once a day, no pushes.
//
//   federation_bench [--samples 200] [--objects 100000]
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_objects.h"
#include "common/time.h"
#include "node/config.h"
#include "tests/e2e/harness.h"

namespace {

using kizuna::e2e::NodeProcess;
using Clock = std::chrono::steady_clock;
namespace json = boost::json;

constexpr const char* kObjects = "/taxii2/root/collections/default/objects/";

std::string IdOf(int run, int n) { return kizuna::bench::IndicatorId(run, n); }

std::string Indicator(const std::string& id, int n) { return kizuna::bench::Indicator(id, n); }

std::string PublicKeyOf(const NodeProcess& node) {
  auto r = kizuna::e2e::RunKizuna({"identity", node.dir()});
  return std::string(json::parse(r.out).as_object().at("public_key").as_string());
}

void Die(const std::string& message) {
  std::fprintf(stderr, "federation_bench: %s\n", message.c_str());
  std::exit(1);
}

// `receiver` pulls from `sender` (one way), as `kizuna peer add` would set up.
// The sender must have made the receiver its partner first (ServePartner).
void Follow(NodeProcess& receiver, const std::string& receiver_name, NodeProcess& sender,
            const std::string& sender_name, bool stream) {
  std::string key = sender.AddUser(receiver_name, "node");
  kizuna::node::PeerConfig peer;
  peer.name = sender_name;
  peer.url = sender.base_url();
  peer.token = key;
  peer.public_key = PublicKeyOf(sender);
  peer.stream = stream;
  peer.poll_seconds = 1;
  auto added = kizuna::node::AddPeerToConfigFile(receiver.dir() + "/kizuna.toml", peer);
  if (!added.ok()) Die(added.ToString());
}

// The other half: a node serves a partner's federation worker only when it
// has a [[peer]] entry for the partner's organization (403 "Not a partner
// yet" otherwise), so `sender` gets one for `receiver` (named receiver_name,
// with an account of its own at the receiver, as AddPeerBack in
// tests/e2e/federation_support.cc). It is kept quiet, so as not to disturb
// what is measured: no stream, polled once a day, no pushes. Returns once the
// sender has read its kizuna.toml again.
void ServePartner(NodeProcess& sender, const std::string& sender_name, NodeProcess& receiver,
                  const std::string& receiver_name) {
  kizuna::node::PeerConfig peer;
  peer.name = receiver_name;
  peer.url = receiver.base_url();
  peer.token = receiver.AddUser(sender_name, "node-back");
  peer.public_key = PublicKeyOf(receiver);
  peer.stream = false;
  peer.poll_seconds = 86400;
  peer.push = kizuna::node::PushMode::kNever;
  const std::string path = sender.dir() + "/kizuna.toml";
  auto added = kizuna::node::AddPeerToConfigFile(path, peer);
  if (!added.ok()) Die(added.ToString());
  auto config = kizuna::node::LoadConfig(path);
  if (!config.ok()) Die(config.status().ToString());
  // The node looks at kizuna.toml every 250 ms and logs each reload.
  const std::string reloaded =
      "kizuna.toml changed: " + std::to_string(config->peers.size()) + " peer(s) configured";
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (sender.ServerLog().find(reloaded) == std::string::npos) {
    if (Clock::now() > deadline) Die("the sender did not reload kizuna.toml within 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// B's date_added of an object, waiting until it is there (0 on timeout).
int64_t ArrivalAt(NodeProcess& node, const std::string& id, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto r = node.Get(std::string(kObjects) + id + "/");
    if (r.status == 200) {
      auto added = kizuna::ParseTimestamp(r.headers.Get("X-TAXII-Date-Added-First"));
      if (added.ok()) return *added;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return 0;
}

struct Latency {
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
};

Latency Measure(NodeProcess& from, NodeProcess& to, int run, int samples, const char* label) {
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    std::string id = IdOf(run, i);
    const int64_t before = kizuna::SystemClock::Instance().NowMicros();
    auto posted = from.Post(kObjects, "{\"objects\":[" + Indicator(id, run * 100000 + i) + "]}");
    if (posted.status != 202) Die("POST answered " + std::to_string(posted.status));
    int64_t arrived = ArrivalAt(to, id, std::chrono::seconds(30));
    if (arrived == 0) Die(std::string(label) + ": an object did not arrive within 30 s");
    ms.push_back(static_cast<double>(arrived - before) / 1000.0);
    if ((i + 1) % 50 == 0) std::fprintf(stderr, "  %s: %d/%d\n", label, i + 1, samples);
  }
  std::sort(ms.begin(), ms.end());
  Latency latency;
  latency.p50_ms = ms[ms.size() / 2];
  latency.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  for (double v : ms) latency.mean_ms += v / static_cast<double>(ms.size());
  return latency;
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 200;
  int objects = 100000;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--samples") && i + 1 < argc) {
      samples = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--objects") && i + 1 < argc) {
      objects = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: federation_bench [--samples N] [--objects N]\n");
      return 2;
    }
  }
  if (samples < 2 || objects < 1) Die("--samples must be >= 2 and --objects >= 1");

  NodeProcess a("CERT-A"), b("CERT-B"), c("CERT-C"), d("CERT-D");
  std::string error;
  for (NodeProcess* node : {&a, &b, &c, &d}) {
    if (!node->Start(&error)) Die(error);
  }
  ServePartner(a, "cert-a", b, "cert-b");
  Follow(b, "cert-b", a, "cert-a", /*stream=*/true);
  ServePartner(a, "cert-a", c, "cert-c");
  Follow(c, "cert-c", a, "cert-a", /*stream=*/false);
  // Warm up: both followers connected before timing.
  auto warm = a.Post(kObjects, "{\"objects\":[" + Indicator(IdOf(9, 0), 0) + "]}");
  if (warm.status != 202) Die("warm-up POST failed");
  if (!ArrivalAt(b, IdOf(9, 0), std::chrono::seconds(30)) ||
      !ArrivalAt(c, IdOf(9, 0), std::chrono::seconds(30))) {
    Die("the followers did not connect");
  }

  std::fprintf(stderr, "stream: %d samples\n", samples);
  Latency stream = Measure(a, b, 1, samples, "stream");
  const int polled_samples = std::max(2, samples / 10);
  std::fprintf(stderr, "polling (poll_seconds = 1): %d samples\n", polled_samples);
  Latency polling = Measure(a, c, 2, polled_samples, "polling");

  std::fprintf(stderr, "pull: loading %d objects into A\n", objects);
  const int batch = 5000;
  for (int start = 0; start < objects; start += batch) {
    std::string body = "{\"objects\":[";
    for (int i = start; i < std::min(objects, start + batch); ++i) {
      if (i != start) body += ',';
      body += Indicator(IdOf(3, i), 300000 + i);
    }
    body += "]}";
    auto posted = a.Post(kObjects, body);
    if (posted.status != 202) Die("loading A: POST answered " + std::to_string(posted.status));
  }
  ServePartner(a, "cert-a", d, "cert-d");  // before the clock starts, as the other side's setup
  const auto pull_start = Clock::now();
  Follow(d, "cert-d", a, "cert-a", /*stream=*/true);
  if (!ArrivalAt(d, IdOf(3, objects - 1), std::chrono::seconds(300))) {
    Die("the new peer did not get the last object within 300 s");
  }
  const double pull_s = std::chrono::duration<double>(Clock::now() - pull_start).count();

  std::printf("federation_bench (kizuna nodes on loopback, one sender)\n");
  std::printf("  stream  A->B   p50 %8.2f ms   p99 %8.2f ms   mean %8.2f ms   (%d samples)\n",
              stream.p50_ms, stream.p99_ms, stream.mean_ms, samples);
  std::printf(
      "  polling A->C   p50 %8.2f ms   p99 %8.2f ms   mean %8.2f ms   (%d samples, "
      "poll_seconds = 1)\n",
      polling.p50_ms, polling.p99_ms, polling.mean_ms, polled_samples);
  std::printf("  ratio polling/stream p50: %.1fx\n", polling.p50_ms / stream.p50_ms);
  std::printf("  new peer pulls %d objects: %.2f s (%.0f objects/s, incl. `peer add` pickup)\n",
              objects, pull_s, objects / pull_s);
  return 0;
}
