// `kizuna demo`: three fictional national teams federated on loopback. Creates
// the nodes (InitNode), users for each other and a full mesh of [[peer]]
// entries, starts three `kizuna serve` children, posts sample STIX to the
// first node and shows which objects reach which partner and how fast — and
// that the TLP:RED one stays home.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/demo_telescope.h"
#include "common/time.h"
#include "common/uuid.h"
#include "http/http.h"
#include "node/node.h"

namespace kizuna::cli {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_interrupted = 0;
void OnSignal(int) { g_interrupted = 1; }

constexpr double kPropagationDeadlineSeconds = 15;
constexpr double kTelescopeDeadlineSeconds = 60;

struct DemoNode {
  std::string name;
  std::string dir;
  uint16_t port = 0;
  std::string url;  // "http://127.0.0.1:PORT"
  std::string admin_key;
  std::string sensor_token;
  pid_t pid = -1;
};

std::vector<DemoTelescopeNode> TelescopeNodes(const std::vector<DemoNode>& nodes) {
  std::vector<DemoTelescopeNode> out;
  for (const DemoNode& n : nodes)
    out.push_back({n.name, n.dir, n.url, n.admin_key, n.sensor_token});
  return out;
}

struct SampleObject {
  std::string id;
  std::string type;
  std::string tlp;  // "CLEAR", "GREEN", …
  std::string what;
  json::object json;
};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Sleeps up to `ms`, returning early (false) on Ctrl-C.
bool Nap(int ms) {
  for (int slept = 0; slept < ms && !g_interrupted; slept += 50) usleep(50000);
  return !g_interrupted;
}

Status CheckPortFree(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as the server binds
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  close(fd);
  if (rc == 0) return Status::Ok();
  if (err == EADDRINUSE) {
    return FailedPrecondition("port " + std::to_string(port) +
                              " on 127.0.0.1 is in use; the demo needs three consecutive free "
                              "ports: choose others with --base-port");
  }
  return IoError("cannot bind 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err));
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string LastLogLine(const DemoNode& node) {
  std::string log = Trim(ReadText(node.dir + "/serve.log"));
  size_t nl = log.rfind('\n');
  return nl == std::string::npos ? log : log.substr(nl + 1);
}

// Creates the nodes, a user on each for each other, and the full mesh of peers.
Status CreateNodes(std::vector<DemoNode>& nodes) {
  std::vector<std::unique_ptr<node::Node>> opened;
  for (DemoNode& n : nodes) {
    node::InitOptions options;
    options.name = n.name;
    options.host = "127.0.0.1";
    options.port = n.port;
    KIZUNA_ASSIGN_OR_RETURN(node::InitResult init, node::InitNode(n.dir, options));
    n.admin_key = Trim(ReadText(init.admin_key_path));
    KIZUNA_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> opened_node, node::Node::Open(n.dir));
    opened.push_back(std::move(opened_node));
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (size_t j = 0; j < nodes.size(); ++j) {
      if (i == j) continue;
      // Node j's user for node i: its organization is the name j gives peer i.
      KIZUNA_ASSIGN_OR_RETURN(node::NewUser user,
                              node::AddUser(opened[j]->store(), nodes[i].name, "federation",
                                            store::Role::kMember, opened[j]->config().name));
      node::PeerConfig peer;
      peer.name = nodes[j].name;
      peer.url = nodes[j].url;
      peer.token = user.api_key;
      peer.public_key = opened[j]->identity().public_key_base64;
      peer.max_tlp = stix::Tlp::kAmber;
      peer.share = {"default", "telescope"};
      KIZUNA_RETURN_IF_ERROR(node::AddPeerToConfigFile(nodes[i].dir + "/kizuna.toml", peer));
    }
  }
  std::vector<DemoTelescopeNode> telescope = TelescopeNodes(nodes);
  std::vector<store::Store*> stores;
  for (const auto& n : opened) stores.push_back(&n->store());
  KIZUNA_RETURN_IF_ERROR(PrepareDemoTelescope(telescope, stores));
  for (size_t i = 0; i < nodes.size(); ++i) nodes[i].sensor_token = telescope[i].sensor_token;
  return Status::Ok();
}

Status StartNode(DemoNode& n) {
  const pid_t parent = getpid();
  const std::string log = n.dir + "/serve.log";
  // Everything the child needs exists before the fork: between fork and exec
  // it may only make async-signal-safe calls (no allocation).
  std::string self = "kizuna";
  std::string command = "serve";
  char* argv[] = {self.data(), command.data(), n.dir.data(), nullptr};
  pid_t pid = fork();
  if (pid < 0) return IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Its own process group (Ctrl-C reaches the demo, which stops the nodes
    // in order), and it dies with the demo.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  n.pid = pid;
  return Status::Ok();
}

void StopNodes(std::vector<DemoNode>& nodes) {
  for (DemoNode& n : nodes) {
    if (n.pid > 0) kill(n.pid, SIGTERM);
  }
  for (DemoNode& n : nodes) {
    if (n.pid <= 0) continue;
    int status = 0;
    bool done = false;
    for (int i = 0; i < 100 && !done; ++i) {
      done = waitpid(n.pid, &status, WNOHANG) == n.pid;
      if (!done) usleep(50000);
    }
    if (!done) {
      kill(n.pid, SIGKILL);
      waitpid(n.pid, &status, 0);
    }
    n.pid = -1;
  }
}

// The first node whose process has ended (nullptr when all run).
DemoNode* Exited(std::vector<DemoNode>& nodes) {
  for (DemoNode& n : nodes) {
    int status = 0;
    if (n.pid > 0 && waitpid(n.pid, &status, WNOHANG) == n.pid) {
      n.pid = -1;
      return &n;
    }
  }
  return nullptr;
}

Result<http::Response> Call(http::Client& client, const DemoNode& n, const std::string& method,
                            const std::string& path, const std::string& body = "") {
  http::Headers headers;
  headers.Set("Accept", "application/taxii+json;version=2.1");
  headers.Set("Authorization", "Bearer " + n.admin_key);
  if (!body.empty()) headers.Set("Content-Type", "application/taxii+json;version=2.1");
  return client.Send(method, n.url + path, headers, body);
}

// A one-line progress display: rewritten in place on a terminal, a line every
// two seconds otherwise.
class Progress {
 public:
  Progress() : tty_(isatty(STDOUT_FILENO)) {}
  void Show(const std::string& text) {
    if (tty_) {
      std::printf("\r  %s\033[K", text.c_str());
      shown_ = true;
    } else if (SecondsSince(last_) >= 2) {
      std::printf("  … %s\n", text.c_str());
      last_ = Clock::now();
    }
    std::fflush(stdout);
  }
  // Clears the line before other output.
  void Clear() {
    if (tty_ && shown_) std::printf("\r\033[K");
    shown_ = false;
    last_ = Clock::now();
  }

 private:
  bool tty_;
  bool shown_ = false;
  Clock::time_point last_ = Clock::now();
};

std::vector<SampleObject> SampleData(const std::string& producer) {
  const std::string now = FormatTimestamp(SystemClock::Instance().NowMicros(), 3);
  const std::map<std::string, std::string> kMarking = {
      {"CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
      {"GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
      {"AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
      {"RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}};
  const std::string identity_id = "identity--" + NewUuid4();
  auto base = [&](const std::string& type, const std::string& tlp) {
    SampleObject o;
    o.type = type;
    o.tlp = tlp;
    o.id = type + "--" + NewUuid4();
    if (type == "identity") o.id = identity_id;
    o.json = json::object{
        {"type", type},    {"spec_version", "2.1"},
        {"id", o.id},      {"created", now},
        {"modified", now}, {"object_marking_refs", json::array{json::string(kMarking.at(tlp))}}};
    if (type != "identity") o.json["created_by_ref"] = identity_id;
    return o;
  };
  std::vector<SampleObject> out;
  SampleObject identity = base("identity", "CLEAR");
  identity.what = producer + " (the producer's identity)";
  identity.json["name"] = producer;
  identity.json["identity_class"] = "organization";
  identity.json["sectors"] = json::array{"government-national"};
  out.push_back(std::move(identity));

  SampleObject c2 = base("indicator", "GREEN");
  c2.what = "IoT botnet C2 198.51.100.23";
  c2.json["name"] = "Mirai-variant IoT botnet C2 server";
  c2.json["indicator_types"] = json::array{"malicious-activity"};
  c2.json["pattern"] = "[ipv4-addr:value = '198.51.100.23']";
  c2.json["pattern_type"] = "stix";
  c2.json["valid_from"] = now;
  out.push_back(std::move(c2));

  SampleObject malware = base("malware", "AMBER");
  malware.what = "malware 'Kumo' IoT loader";
  malware.json["name"] = "Kumo";
  malware.json["description"] = "IoT loader that brute-forces telnet and drops a Mirai variant";
  malware.json["malware_types"] = json::array{"bot", "worm"};
  malware.json["is_family"] = true;
  out.push_back(std::move(malware));

  SampleObject red = base("indicator", "RED");
  red.what = "indicator 203.0.113.66 (an ongoing investigation)";
  red.json["name"] = "Victim-side beacon under law-enforcement investigation";
  red.json["indicator_types"] = json::array{"compromised"};
  red.json["pattern"] = "[ipv4-addr:value = '203.0.113.66']";
  red.json["pattern_type"] = "stix";
  red.json["valid_from"] = now;
  out.push_back(std::move(red));
  return out;
}

int RunDemo(const std::string& requested_dir, int base_port, bool exit_after_demo) {
  if (base_port < 1 || base_port > 65533) {
    return Fail(InvalidArgument("--base-port: expected 1-65533 (the demo uses P, P+1, P+2)"));
  }
  for (int i = 0; i < 3; ++i) {
    Status free = CheckPortFree(static_cast<uint16_t>(base_port + i));
    if (!free.ok()) return Fail(free);
  }
  std::string dir = requested_dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/kizuna-demo-XXXXXX";
    if (!mkdtemp(tmpl)) return Fail(IoError(std::string("mkdtemp: ") + std::strerror(errno)));
    dir = tmpl;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Fail(IoError("cannot create " + dir + ": " + ec.message()));
  }
  std::vector<DemoNode> nodes;
  const char* kTeams[][2] = {
      {"CERT-Aurora", "aurora"}, {"CERT-Borealis", "borealis"}, {"CERT-Cascadia", "cascadia"}};
  for (int i = 0; i < 3; ++i) {
    DemoNode n;
    n.name = kTeams[i][0];
    n.dir = dir + "/" + kTeams[i][1];
    n.port = static_cast<uint16_t>(base_port + i);
    n.url = "http://127.0.0.1:" + std::to_string(n.port);
    nodes.push_back(std::move(n));
  }
  std::printf("kizuna demo: three national teams federated on loopback, in %s\n", dir.c_str());
  if (Status created = CreateNodes(nodes); !created.ok()) {
    return Fail(Status(created.code(), "creating the demo nodes in " + dir + ": " +
                                           created.message() + " (use an empty --dir)"));
  }
  for (const DemoNode& n : nodes) {
    std::printf("  %-14s %s/   (users and peers for the other two, up to TLP:AMBER)\n",
                n.name.c_str(), n.url.c_str());
  }
  std::fflush(stdout);

  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  for (DemoNode& n : nodes) {
    if (Status started = StartNode(n); !started.ok()) {
      StopNodes(nodes);
      return Fail(started);
    }
  }
  auto fail_and_stop = [&](const Status& status) {
    StopNodes(nodes);
    return Fail(status);
  };
  http::ClientOptions client_options;
  client_options.timeout_ms = 5000;
  http::Client client(client_options);
  Progress progress;

  // 1. Wait until every node answers.
  const auto boot = Clock::now();
  std::set<std::string> answering;
  while (answering.size() < nodes.size()) {
    if (DemoNode* gone = Exited(nodes)) {
      progress.Clear();
      return fail_and_stop(Unavailable(gone->name + " did not start: " + LastLogLine(*gone) +
                                       " (log: " + gone->dir + "/serve.log)"));
    }
    for (const DemoNode& n : nodes) {
      if (answering.count(n.name)) continue;
      auto r = Call(client, n, "GET", "/taxii2/");
      if (r.ok() && r->status == 200) answering.insert(n.name);
    }
    if (answering.size() == nodes.size()) break;
    if (SecondsSince(boot) > 30) {
      progress.Clear();
      return fail_and_stop(
          Unavailable("the nodes did not answer within 30 s (logs: " + dir + "/*/serve.log)"));
    }
    progress.Show("starting the nodes: " + std::to_string(answering.size()) + "/3 answering");
    if (!Nap(100)) return fail_and_stop(Unavailable("interrupted"));
  }
  progress.Clear();
  std::printf("all three nodes answer (%.1f s)\n", SecondsSince(boot));

  // 2. Wait for the six federation links (each node subscribed to the others).
  const auto linking = Clock::now();
  size_t links = 0;
  while (true) {
    links = 0;
    for (const DemoNode& n : nodes) {
      auto r = Call(client, n, "GET", "/api/v1/peers");
      if (!r.ok() || r->status != 200) continue;
      boost::system::error_code ec;
      json::value body = json::parse(r->body, ec);
      if (ec || !body.is_object() || !body.as_object().contains("peers")) continue;
      for (const json::value& p : body.as_object().at("peers").as_array()) {
        const json::value* status = p.as_object().if_contains("status");
        if (!status || !status->is_object()) continue;
        const json::value* state = status->as_object().if_contains("state");
        if (state && state->is_string() &&
            (state->get_string() == "streaming" || state->get_string() == "polling")) {
          ++links;
        }
      }
    }
    if (links == 6 || SecondsSince(linking) > 20) break;
    if (DemoNode* gone = Exited(nodes)) {
      progress.Clear();
      return fail_and_stop(Unavailable(gone->name + " stopped: " + LastLogLine(*gone)));
    }
    progress.Show("federating: " + std::to_string(links) + "/6 links up");
    if (!Nap(100)) return fail_and_stop(Unavailable("interrupted"));
  }
  progress.Clear();
  if (links == 6) {
    std::printf("federation: 6/6 links up (%.1f s)\n", SecondsSince(linking));
  } else {
    std::printf("federation: only %zu/6 links up after 20 s; going on (peers retry)\n", links);
  }

  // 3. Post the sample data to the first node.
  DemoNode& home = nodes[0];
  std::vector<SampleObject> samples = SampleData(home.name);
  json::array objects;
  for (const SampleObject& o : samples) objects.push_back(o.json);
  const std::string path = "/taxii2/root/collections/default/objects/";
  const auto posted = Clock::now();
  auto r = Call(client, home, "POST", path, json::serialize(json::object{{"objects", objects}}));
  if (!r.ok()) return fail_and_stop(r.status());
  if (r->status != 202) {
    return fail_and_stop(Internal("posting the sample data to " + home.name + " answered " +
                                  std::to_string(r->status) + ": " + r->body));
  }
  std::printf("\nposted to %s over TAXII 2.1:\n", home.name.c_str());
  for (const SampleObject& o : samples) {
    std::printf("  TLP:%-6s %-10s %s\n", o.tlp.c_str(), o.type.c_str(), o.what.c_str());
  }
  std::printf("\nwatching %s and %s:\n", nodes[1].name.c_str(), nodes[2].name.c_str());
  std::fflush(stdout);

  // 4. Poll the partners until every shareable object arrived (or the deadline).
  const SampleObject& red = samples.back();
  std::string ids;
  for (const SampleObject& o : samples) ids += (ids.empty() ? "" : ",") + o.id;
  std::map<std::pair<size_t, std::string>, double> arrived;  // (node, id) -> seconds
  const size_t wanted = 2 * (samples.size() - 1);
  bool leaked = false;
  while (arrived.size() < wanted && SecondsSince(posted) < kPropagationDeadlineSeconds) {
    for (size_t i = 1; i < nodes.size(); ++i) {
      auto got = Call(client, nodes[i], "GET", path + "?match%5Bid%5D=" + ids);
      if (!got.ok() || got->status != 200) continue;
      boost::system::error_code ec;
      json::value body = json::parse(got->body, ec);
      if (ec || !body.is_object()) continue;
      const json::value* list = body.as_object().if_contains("objects");
      if (!list || !list->is_array()) continue;
      for (const json::value& object : list->as_array()) {
        const json::value* id = object.as_object().if_contains("id");
        if (!id || !id->is_string()) continue;
        std::string text(id->get_string());
        if (text == red.id) leaked = true;
        if (!arrived.emplace(std::make_pair(i, text), SecondsSince(posted)).second) continue;
        for (const SampleObject& o : samples) {
          if (o.id != text) continue;
          progress.Clear();
          std::printf("  %6.2f s  %-14s received TLP:%-6s %s\n", SecondsSince(posted),
                      nodes[i].name.c_str(), o.tlp.c_str(), o.what.c_str());
        }
      }
    }
    if (arrived.size() >= wanted) break;
    if (DemoNode* gone = Exited(nodes)) {
      progress.Clear();
      return fail_and_stop(Unavailable(gone->name + " stopped: " + LastLogLine(*gone)));
    }
    char text[96];
    std::snprintf(text, sizeof text, "waiting… %.1f s, %zu/%zu arrived", SecondsSince(posted),
                  arrived.size(), wanted);
    progress.Show(text);
    if (!Nap(50)) return fail_and_stop(Unavailable("interrupted"));
  }
  progress.Clear();
  const bool propagated = arrived.size() >= wanted;
  if (propagated) {
    double slowest = 0;
    for (const auto& [key, seconds] : arrived) slowest = std::max(slowest, seconds);
    std::printf("every shareable object reached both partners in %.2f s\n", slowest);
  } else {
    std::printf("only %zu of %zu deliveries arrived within %.0f s (logs: %s/*/serve.log)\n",
                arrived.size(), wanted, kPropagationDeadlineSeconds, dir.c_str());
  }

  // 5. The RED indicator: give it a moment to (not) travel, then ask for it.
  Nap(1000);
  std::string red_report;
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto got = Call(client, nodes[i], "GET", path + red.id + "/");
    int status = got.ok() ? got->status : -1;
    if (i == 0 && status != 200) {
      std::printf("%s no longer has its TLP:RED indicator (HTTP %d)\n", home.name.c_str(), status);
      leaked = true;
    }
    if (i > 0) {
      if (status != 404) leaked = true;
      red_report += (red_report.empty() ? "" : ", ") + nodes[i].name + " answers " +
                    (status == 404 ? std::string("404") : "HTTP " + std::to_string(status));
    }
  }
  if (leaked) {
    std::printf("TLP:RED LEAKED: the RED indicator %s left %s (%s)\n", red.id.c_str(),
                home.name.c_str(), red_report.c_str());
  } else {
    std::printf("TLP:RED stayed home: only %s has %s (%s)\n", home.name.c_str(), red.id.c_str(),
                red_report.c_str());
  }

  const bool telescope = ShowDemoTelescope(TelescopeNodes(nodes), dir, kTelescopeDeadlineSeconds,
                                           [](int ms) { return Nap(ms); });

  std::printf("\nthe nodes:\n");
  for (const DemoNode& n : nodes) {
    std::printf("  %-14s %s/   admin key: %s/admin.key   log: %s/serve.log\n", n.name.c_str(),
                n.url.c_str(), n.dir.c_str(), n.dir.c_str());
  }
  std::printf(
      "try:\n  kizuna peer list %s\n  curl -s -H \"Authorization: Bearer $(cat %s/admin.key)\" "
      "%s/api/v1/peers\n",
      nodes[1].dir.c_str(), nodes[1].dir.c_str(), nodes[1].url.c_str());
  const int code = propagated && !leaked && telescope ? 0 : 1;
  if (exit_after_demo) {
    StopNodes(nodes);
    std::printf("stopped the nodes (their directories stay in %s)\n", dir.c_str());
    return code;
  }
  std::printf("\nthe nodes run until Ctrl-C\n");
  std::fflush(stdout);
  while (!g_interrupted) {
    if (DemoNode* gone = Exited(nodes)) {
      std::printf("%s stopped: %s\n", gone->name.c_str(), LastLogLine(*gone).c_str());
      StopNodes(nodes);
      return 1;
    }
    usleep(200000);
  }
  std::printf("\nstopping the nodes (their directories stay in %s)\n", dir.c_str());
  StopNodes(nodes);
  return code;
}

}  // namespace

void AddDemoCommand(CLI::App& app, int* code) {
  struct Args {
    std::string dir;
    int base_port = 18443;
    bool exit_after_demo = false;
  };
  auto args = std::make_shared<Args>();
  auto* demo = app.add_subcommand(
      "demo", "Start three federated nodes on loopback with sample data; prints URLs and keys");
  demo->add_option("--dir", args->dir, "where to create the nodes (default: a new /tmp dir)");
  demo->add_option("--base-port", args->base_port, "ports P, P+1, P+2 on 127.0.0.1")
      ->capture_default_str();
  demo->add_flag("--exit-after-demo", args->exit_after_demo,
                 "stop the nodes and exit once the sample data has propagated");
  demo->callback(
      [args, code] { *code = RunDemo(args->dir, args->base_port, args->exit_after_demo); });
}

}  // namespace kizuna::cli
