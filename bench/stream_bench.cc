// stream_bench: the live stream (GET /api/v1/collections/{id}/stream,
// Server-Sent Events) on real `kizuna serve` processes on loopback.
//
// Cases:
//   local      the bench subscribes to node A's own stream and posts
//              --samples indicators to A one at a time; latency = steady
//              clock from just before the POST until the event is read by
//              the bench (p50, p99)
//   federated  A -> B where B follows A's live stream ([[peer]] entries on
//              both sides; B's entry for A streams, A's entry for B is quiet:
//              no stream, polled once a day, no pushes); latency = from just
//              before the POST at A until the bench reads the object from
//              B's own stream (steady clock), and until B's date_added
//              (wall clock, as federation_bench measures)
//   idle       a fresh node C: its CPU time (utime + stime of the `kizuna
//              serve` process, read from its CPU-time clock: nanoseconds
//              where /proc/PID/stat counts 10 ms ticks) over --idle-seconds
//              with 0 and then --streams open streams
//   writes     --writes indicators posted to C one at a time with 0 and then
//              --streams open streams (the next POST once every stream has
//              delivered the last one): C's CPU ms per write, and the
//              delivery latency (before the POST until a subscriber reads
//              it) over every subscriber and write, and until the slowest
//              subscriber has it (p50, p99); "beyond the idle cost" takes
//              away the idle CPU of the open streams over the same time
// Each subscriber is a thread with its own connection that keeps reading;
// events other than "objects" (e.g. "entitlement") are ignored. Before each
// POST the bench sleeps a random 0..--jitter-ms (not timed), so that writes
// do not fall in step with a server's periodic work (a POST made right after
// the last delivery would otherwise always wait the same part of a poll
// interval).
//
// The binary run is the one built with the bench, or --kizuna PATH (or
// $KIZUNA_BINARY_OVERRIDE), so that the same bench measures an older build.
//
//   stream_bench [--kizuna PATH] [--samples 200] [--streams 100]
//                [--writes 200] [--idle-seconds 5] [--jitter-ms 20]
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_objects.h"
#include "common/time.h"
#include "http/http.h"
#include "http/sse.h"
#include "node/config.h"
#include "tests/e2e/harness.h"

namespace {

using kizuna::e2e::NodeProcess;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kObjects = "/taxii2/root/collections/default/objects/";
constexpr const char* kStream = "/api/v1/collections/default/stream";
constexpr std::string_view kIdPrefix = "indicator--";

// The nodes alive, so that Die() does not leave their processes behind.
std::mutex nodes_mutex;
std::vector<NodeProcess*> nodes;

void Die(const std::string& message) {
  std::fprintf(stderr, "stream_bench: %s\n", message.c_str());
  std::lock_guard lock(nodes_mutex);
  for (NodeProcess* node : nodes) {
    node->Kill();
    std::error_code ec;
    std::filesystem::remove_all(node->dir(), ec);
  }
  std::_Exit(1);
}

// A started node, known to Die() while it lives.
class Node : public NodeProcess {
 public:
  explicit Node(const std::string& name) : NodeProcess(name) {
    std::lock_guard lock(nodes_mutex);
    nodes.push_back(this);
  }
  ~Node() {
    std::lock_guard lock(nodes_mutex);
    nodes.erase(std::find(nodes.begin(), nodes.end(), this));
  }
  void StartOrDie() {
    std::string error;
    if (!Start(&error)) Die(error);
  }
};

std::string IdOf(int run, int n) { return kizuna::bench::IndicatorId(run, n); }

std::string Indicator(int run, int n) {
  return kizuna::bench::Indicator(IdOf(run, n), run * 100000 + n);
}

// A random pause of 0..jitter_ms before a timed POST.
int jitter_ms = 20;
std::mt19937 jitter_random(1);
void Jitter() {
  if (jitter_ms <= 0) return;
  std::uniform_int_distribution<int> micros(0, jitter_ms * 1000 - 1);
  std::this_thread::sleep_for(std::chrono::microseconds(micros(jitter_random)));
}

void PostOne(NodeProcess& node, int run, int n) {
  auto posted = node.Post(kObjects, "{\"objects\":[" + Indicator(run, n) + "]}");
  if (posted.status != 202)
    Die("POST answered " + std::to_string(posted.status) + ": " + posted.body);
}

// Arrival times of the posted objects of one run at each subscriber.
// Thread-safe.
class Board {
 public:
  // Forgets the previous run; expects samples 0..samples-1 of `run` at
  // `subscribers` subscribers.
  void Expect(int run, int samples, int subscribers) {
    std::lock_guard lock(mutex_);
    run_ = run;
    subscribers_ = subscribers;
    arrival_.assign(static_cast<size_t>(subscribers), std::vector<Clock::time_point>(samples));
    count_.assign(static_cast<size_t>(samples), 0);
  }

  // Records the ids in an "objects" event's data, read at `at`.
  void Arrived(int subscriber, std::string_view data, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    bool complete = false;
    for (size_t pos = data.find(kIdPrefix); pos != std::string_view::npos;
         pos = data.find(kIdPrefix, pos + 1)) {
      std::string_view id = data.substr(pos + kIdPrefix.size());
      if (id.size() < 36) continue;
      int run = -1;
      int64_t n = -1;
      std::from_chars(id.data(), id.data() + 8, run);
      std::from_chars(id.data() + 24, id.data() + 36, n);
      if (run != run_ || n < 0 || n >= static_cast<int64_t>(count_.size()) ||
          subscriber >= subscribers_) {
        continue;
      }
      auto& slot = arrival_[subscriber][n];
      if (slot != Clock::time_point{}) continue;  // the same object again
      slot = at;
      if (++count_[n] == subscribers_) complete = true;
    }
    if (complete) changed_.notify_all();
  }

  void Connected() {
    std::lock_guard lock(mutex_);
    ++connected_;
    changed_.notify_all();
  }

  bool WaitConnected(int subscribers, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return connected_ >= subscribers; });
  }

  // Waits until sample n reached every subscriber.
  bool WaitAll(int n, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_[n] == subscribers_; });
  }

  Clock::time_point At(int subscriber, int n) {
    std::lock_guard lock(mutex_);
    return arrival_[subscriber][n];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int run_ = -1;
  int subscribers_ = 0;
  int connected_ = 0;  // connections opened so far (reconnections count again)
  std::vector<std::vector<Clock::time_point>> arrival_;  // [subscriber][sample]
  std::vector<int> count_;                               // [sample]: subscribers that have it
};

// One SSE connection read on its own thread until Stop(); reconnects with
// Last-Event-ID if the server ends the stream.
class Subscriber {
 public:
  Subscriber(std::string url, std::string key, Board* board, int index)
      : url_(std::move(url)), key_(std::move(key)), board_(board), index_(index) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Subscriber() { Stop(); }

  void Stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    client_.Abort();
    thread_.join();
  }

 private:
  void Run() {
    std::vector<kizuna::http::SseEvent> events;
    std::string last_event_id;
    while (!stopping_) {
      kizuna::http::SseParser parser;  // a partial event does not continue
      kizuna::http::Headers headers;
      headers.Set("Accept", "text/event-stream");
      headers.Set("Authorization", "Bearer " + key_);
      if (!last_event_id.empty()) headers.Set("Last-Event-ID", last_event_id);
      bool first = true;
      auto head = client_.Stream(
          "GET", url_, headers,
          [&](std::string_view bytes) {
            const auto at = Clock::now();
            if (first) {
              first = false;
              board_->Connected();
            }
            events.clear();
            if (!parser.Feed(bytes, &events).ok()) return false;
            for (const auto& event : events) {
              if (event.event == "objects") board_->Arrived(index_, event.data, at);
            }
            return !stopping_.load();
          },
          /*idle_timeout_ms=*/60000);
      if (stopping_) break;
      if (!parser.last_event_id().empty()) last_event_id = parser.last_event_id();
      if (head.ok() && head->status != 200) {
        Die("the stream answered " + std::to_string(head->status) + ": " + head->body);
      }
      std::fprintf(stderr, "  subscriber %d: stream ended (%s), reconnecting\n", index_,
                   head.ok() ? "by the server" : head.status().ToString().c_str());
      std::this_thread::sleep_for(100ms);
    }
  }

  const std::string url_;
  const std::string key_;
  Board* const board_;
  const int index_;
  std::atomic<bool> stopping_{false};
  kizuna::http::Client client_;
  std::thread thread_;
};

struct Percentiles {
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  size_t count = 0;
};

Percentiles Summarize(std::vector<double> ms) {
  Percentiles p;
  if (ms.empty()) return p;
  std::sort(ms.begin(), ms.end());
  p.count = ms.size();
  p.p50_ms = ms[ms.size() / 2];
  p.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  for (double v : ms) p.mean_ms += v / static_cast<double>(ms.size());
  return p;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// The pid of the `kizuna serve DIR` this process started for `node`.
pid_t ServePid(const NodeProcess& node) {
  const std::string want = std::string("serve") + '\0' + node.dir() + '\0';
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string cmdline = kizuna::e2e::ReadFile(entry.path().string() + "/cmdline");
    size_t args = cmdline.find('\0');
    if (args != std::string::npos && cmdline.compare(args + 1, want.size(), want) == 0 &&
        cmdline.size() == args + 1 + want.size()) {
      return static_cast<pid_t>(std::stoi(name));
    }
  }
  Die("no `kizuna serve " + node.dir() + "` process found");
  return -1;
}

// utime + stime of a process (all its threads, also those that ended), in
// milliseconds: its CPU-time clock (nanoseconds), or else /proc/PID/stat
// (clock ticks, usually 10 ms).
double CpuMs(pid_t pid) {
  clockid_t clock;
  timespec now;
  if (clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &now) == 0) {
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
  }
  std::string stat = kizuna::e2e::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t at = stat.rfind(')');
  if (at == std::string::npos) Die("cannot read /proc/" + std::to_string(pid) + "/stat");
  // Fields after "(comm)": 3 state ... 14 utime, 15 stime.
  std::vector<std::string> fields;
  size_t start = at + 2;
  while (start < stat.size() && fields.size() < 13) {
    size_t end = stat.find(' ', start);
    fields.push_back(stat.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (fields.size() < 13) Die("short /proc/PID/stat");
  const double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string PublicKeyOf(const NodeProcess& node) {
  auto r = kizuna::e2e::RunKizuna({"identity", node.dir()});
  const std::string key = "\"public_key\"";
  size_t at = r.out.find(key);
  if (r.exit_code != 0 || at == std::string::npos) Die("kizuna identity failed: " + r.err);
  size_t open = r.out.find('"', r.out.find(':', at + key.size()));
  size_t close = r.out.find('"', open + 1);
  return r.out.substr(open + 1, close - open - 1);
}

void AddPeer(NodeProcess& node, const kizuna::node::PeerConfig& peer) {
  auto added = kizuna::node::AddPeerToConfigFile(node.dir() + "/kizuna.toml", peer);
  if (!added.ok()) Die(added.ToString());
  // The node looks at kizuna.toml every 250 ms and logs each reload.
  auto config = kizuna::node::LoadConfig(node.dir() + "/kizuna.toml");
  if (!config.ok()) Die(config.status().ToString());
  const std::string line =
      "kizuna.toml changed: " + std::to_string(config->peers.size()) + " peer(s) configured";
  const auto deadline = Clock::now() + 10s;
  while (node.ServerLog().find(line) == std::string::npos) {
    if (Clock::now() > deadline) Die("the node did not reload kizuna.toml within 10 s");
    std::this_thread::sleep_for(20ms);
  }
}

struct LatencyRun {
  Percentiles stream;      // until the bench reads it from the stream
  Percentiles date_added;  // until the receiver's date_added (federated only)
};

// Posts `samples` objects of `run` to `to` one at a time; each is awaited at
// the one subscriber (and, with `receiver`, its date_added there is read).
LatencyRun MeasureOne(NodeProcess& to, Board& board, int run, int samples, const char* label,
                      NodeProcess* receiver) {
  board.Expect(run, samples, 1);
  std::vector<double> stream_ms, added_ms;
  for (int i = 0; i < samples; ++i) {
    Jitter();
    const int64_t wall_before = kizuna::SystemClock::Instance().NowMicros();
    const auto before = Clock::now();
    PostOne(to, run, i);
    if (!board.WaitAll(i, 30s)) Die(std::string(label) + ": an object did not arrive within 30 s");
    stream_ms.push_back(Ms(board.At(0, i) - before));
    if (receiver) {
      auto r = receiver->Get(std::string(kObjects) + IdOf(run, i) + "/");
      auto added = kizuna::ParseTimestamp(r.headers.Get("X-TAXII-Date-Added-First"));
      if (r.status != 200 || !added.ok()) Die(std::string(label) + ": no date_added at B");
      added_ms.push_back(static_cast<double>(*added - wall_before) / 1000.0);
    }
    if ((i + 1) % 50 == 0) std::fprintf(stderr, "  %s: %d/%d\n", label, i + 1, samples);
  }
  return {Summarize(std::move(stream_ms)), Summarize(std::move(added_ms))};
}

struct WritesRun {
  double cpu_ms = 0;
  double wall_s = 0;
  Percentiles every;    // every (subscriber, write)
  Percentiles slowest;  // per write, the last subscriber to have it
};

// Posts `writes` objects of `run` to `node` one at a time, each after the
// previous one reached all `subscribers` (none: right after its POST).
WritesRun MeasureWrites(NodeProcess& node, pid_t pid, Board& board, int run, int writes,
                        int subscribers) {
  if (subscribers > 0) board.Expect(run, writes, subscribers);
  std::vector<Clock::time_point> before(static_cast<size_t>(writes));
  const double cpu_start = CpuMs(pid);
  const auto start = Clock::now();
  for (int i = 0; i < writes; ++i) {
    Jitter();
    before[i] = Clock::now();
    PostOne(node, run, i);
    if (subscribers > 0 && !board.WaitAll(i, 30s)) {
      Die("writes: an object did not reach every subscriber within 30 s");
    }
  }
  WritesRun result;
  result.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_ms = CpuMs(pid) - cpu_start;
  if (subscribers > 0) {
    std::vector<double> every, slowest;
    for (int i = 0; i < writes; ++i) {
      double last = 0;
      for (int s = 0; s < subscribers; ++s) {
        double ms = Ms(board.At(s, i) - before[i]);
        every.push_back(ms);
        last = std::max(last, ms);
      }
      slowest.push_back(last);
    }
    result.every = Summarize(std::move(every));
    result.slowest = Summarize(std::move(slowest));
  }
  return result;
}

double IdleCpuMsPerSecond(pid_t pid, int seconds) {
  const double cpu_start = CpuMs(pid);
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  return (CpuMs(pid) - cpu_start) / wall_s;
}

std::vector<std::unique_ptr<Subscriber>> Subscribe(NodeProcess& node, Board& board, int count) {
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int i = 0; i < count; ++i) {
    subscribers.push_back(
        std::make_unique<Subscriber>(node.Url(kStream), node.admin_key(), &board, i));
  }
  if (!board.WaitConnected(count, 30s)) Die("the subscribers did not connect within 30 s");
  return subscribers;
}

void PrintLatency(const char* label, const Percentiles& p) {
  std::printf("  %-34s p50 %8.2f ms   p99 %8.2f ms   mean %8.2f ms   (%zu)\n", label, p.p50_ms,
              p.p99_ms, p.mean_ms, p.count);
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 200, streams = 100, writes = 200, idle_seconds = 5;
  for (int i = 1; i < argc; ++i) {
    auto number = [&](int* out) {
      if (i + 1 >= argc) Die(std::string(argv[i]) + " needs a value");
      *out = std::atoi(argv[++i]);
    };
    if (!std::strcmp(argv[i], "--kizuna") && i + 1 < argc) {
      setenv("KIZUNA_BINARY_OVERRIDE", argv[++i], 1);
    } else if (!std::strcmp(argv[i], "--samples")) {
      number(&samples);
    } else if (!std::strcmp(argv[i], "--streams")) {
      number(&streams);
    } else if (!std::strcmp(argv[i], "--writes")) {
      number(&writes);
    } else if (!std::strcmp(argv[i], "--idle-seconds")) {
      number(&idle_seconds);
    } else if (!std::strcmp(argv[i], "--jitter-ms")) {
      number(&jitter_ms);
    } else {
      std::fprintf(stderr,
                   "usage: stream_bench [--kizuna PATH] [--samples N] [--streams N] "
                   "[--writes N] [--idle-seconds N] [--jitter-ms N]\n");
      return 2;
    }
  }
  if (samples < 2 || streams < 1 || writes < 2 || idle_seconds < 1) {
    Die("--samples and --writes must be >= 2, --streams and --idle-seconds >= 1");
  }
  const std::string binary = kizuna::e2e::KizunaBinary();
  if (access(binary.c_str(), X_OK) != 0) Die("cannot run " + binary);

  // local: the bench reads A's own stream.
  Node a("CERT-A"), b("CERT-B");
  a.StartOrDie();
  b.StartOrDie();
  Board board;
  LatencyRun local;
  {
    auto subscriber = Subscribe(a, board, 1);
    board.Expect(9, 1, 1);
    PostOne(a, 9, 0);  // warm-up
    if (!board.WaitAll(0, 30s)) Die("local: the warm-up object did not arrive");
    std::fprintf(stderr, "local: %d samples\n", samples);
    local = MeasureOne(a, board, 1, samples, "local", nullptr);
  }

  // federated: A -> B over B's subscription to A's stream; the bench reads B's stream.
  LatencyRun federated;
  {
    Board board_b;
    auto subscriber = Subscribe(b, board_b, 1);
    const std::string b_key_at_a = a.AddUser("cert-b", "node");
    const std::string a_key_at_b = b.AddUser("cert-a", "node-back");
    kizuna::node::PeerConfig for_a;  // A's entry for B: the partner is served, nothing pulled
    for_a.name = "cert-b";
    for_a.url = b.base_url();
    for_a.token = a_key_at_b;
    for_a.public_key = PublicKeyOf(b);
    for_a.stream = false;
    for_a.poll_seconds = 86400;
    for_a.push = kizuna::node::PushMode::kNever;
    AddPeer(a, for_a);
    kizuna::node::PeerConfig for_b;  // B's entry for A: follows A's stream
    for_b.name = "cert-a";
    for_b.url = a.base_url();
    for_b.token = b_key_at_a;
    for_b.public_key = PublicKeyOf(a);
    for_b.stream = true;
    AddPeer(b, for_b);
    // Warm-up: B pulls what A has, then follows its stream; two objects a
    // second apart make sure the second came over the stream.
    board_b.Expect(8, 2, 1);
    for (int i = 0; i < 2; ++i) {
      if (i) std::this_thread::sleep_for(1s);
      PostOne(a, 8, i);
      if (!board_b.WaitAll(i, 60s)) Die("federated: B did not follow A within 60 s");
    }
    std::fprintf(stderr, "federated: %d samples\n", samples);
    federated = MeasureOne(a, board_b, 2, samples, "federated", &b);
  }
  a.Stop();
  b.Stop();

  // idle and writes on a fresh node C.
  Node c("CERT-C");
  c.StartOrDie();
  const pid_t pid = ServePid(c);
  PostOne(c, 9, 0);  // warm-up
  std::this_thread::sleep_for(1s);
  std::fprintf(stderr, "idle: 0 streams, %d s\n", idle_seconds);
  const double idle_0 = IdleCpuMsPerSecond(pid, idle_seconds);
  std::fprintf(stderr, "writes: 0 streams, %d writes\n", writes);
  const WritesRun writes_0 = MeasureWrites(c, pid, board, 3, writes, 0);
  std::fprintf(stderr, "connecting %d streams\n", streams);
  Board board_c;
  auto subscribers = Subscribe(c, board_c, streams);
  board_c.Expect(9, 2, streams);
  PostOne(c, 9, 1);  // warm-up: every stream delivers
  if (!board_c.WaitAll(1, 30s)) Die("the warm-up object did not reach every stream");
  std::this_thread::sleep_for(1s);
  std::fprintf(stderr, "idle: %d streams, %d s\n", streams, idle_seconds);
  const double idle_n = IdleCpuMsPerSecond(pid, idle_seconds);
  std::fprintf(stderr, "writes: %d streams, %d writes\n", streams, writes);
  const WritesRun writes_n = MeasureWrites(c, pid, board_c, 4, writes, streams);
  for (auto& s : subscribers) s->Stop();

  const double per_write_0 = writes_0.cpu_ms / writes;
  const double per_write_n = writes_n.cpu_ms / writes;
  // What the open streams cost beyond their idle cost over the same time.
  const double per_write_n_net = (writes_n.cpu_ms - idle_n * writes_n.wall_s) / writes;
  std::printf("stream_bench (kizuna serve on loopback; %s; jitter 0-%d ms before each POST)\n",
              binary.c_str(), jitter_ms);
  PrintLatency("local      A -> bench", local.stream);
  PrintLatency("federated  A -> B -> bench", federated.stream);
  PrintLatency("federated  A -> B date_added", federated.date_added);
  std::printf("  idle   0 streams   cpu %8.2f ms/s\n", idle_0);
  std::printf("  idle %3d streams   cpu %8.2f ms/s\n", streams, idle_n);
  std::printf("  writes   0 streams cpu %8.3f ms/write   (%d writes in %.2f s)\n", per_write_0,
              writes, writes_0.wall_s);
  std::printf(
      "  writes %3d streams cpu %8.3f ms/write   (%d writes in %.2f s; %.3f ms/write "
      "beyond the idle cost)\n",
      streams, per_write_n, writes, writes_n.wall_s, per_write_n_net);
  char label[64];
  std::snprintf(label, sizeof label, "delivery to each of %d streams", streams);
  PrintLatency(label, writes_n.every);
  std::snprintf(label, sizeof label, "delivery to all %d streams", streams);
  PrintLatency(label, writes_n.slowest);
  std::printf("  idle cpu %d streams - 0 streams: %+.2f ms/s (%.1fx)\n", streams, idle_n - idle_0,
              idle_0 > 0 ? idle_n / idle_0 : 0.0);
  std::printf("  ratio cpu per write %d/0 streams: %.2fx; per stream per write: %.4f ms\n", streams,
              per_write_n / per_write_0, (per_write_n - per_write_0) / streams);
  std::printf("  ratio federated/local p50: %.2fx\n",
              federated.stream.p50_ms / local.stream.p50_ms);
  return 0;
}
