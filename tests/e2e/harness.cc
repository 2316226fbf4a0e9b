#include "tests/e2e/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/encoding.h"
#include "node/config.h"
#include "tests/support/child_process.h"

namespace kizuna::e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Waits up to `timeout` for the child `pid` to end and returns its wait
// status; nullopt if it is still running then.
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // A pidfd becomes readable when the process ends: no polling delay.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  std::optional<int> result;
  for (;;) {
    int status = 0;
    const pid_t waited = waitpid(pid, &status, WNOHANG);
    if (waited == pid) {
      result = status;
      break;
    }
    if (waited < 0 && errno != EINTR) {  // not our child (any more): nothing to wait for
      result = 0;
      break;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    if (pidfd >= 0) {
      pollfd fd{pidfd, POLLIN, 0};
      poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
    }
  }
  if (pidfd >= 0) close(pidfd);
  return result;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string CommandLine(const std::string& program, const std::vector<std::string>& args) {
  std::string line = program;
  for (const auto& a : args) line += " " + a;
  return line;
}

}  // namespace

const char* KizunaBinary() {
  const char* path = std::getenv("KIZUNA_BINARY_OVERRIDE");
  return path && *path ? path : KIZUNA_BINARY;
}

std::string CommandResult::LastLine() const {
  std::string text = Trimmed(out);
  size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Envelope(const std::vector<std::string>& objects) {
  std::string out = R"({"objects":[)";
  for (size_t i = 0; i < objects.size(); ++i) out += (i ? "," : "") + objects[i];
  return out + "]}";
}

std::string Bundle(const std::vector<std::string>& objects) {
  std::string out =
      R"({"type":"bundle","id":"bundle--00000000-0000-4000-8000-00000000000a","objects":[)";
  for (size_t i = 0; i < objects.size(); ++i) out += (i ? "," : "") + objects[i];
  return out + "]}";
}

std::string PatternIndicator(const std::string& tail, const std::string& pattern,
                             const std::string& extra, const std::string& modified) {
  boost::json::object o{
      {"type", "indicator"},
      {"spec_version", "2.1"},
      {"id", "indicator--00000000-0000-4000-8000-" + tail},
      {"created", "2024-01-01T00:00:00.000Z"},
      {"modified", modified},
      {"name", "indicator " + tail},
      {"labels", boost::json::array{"botnet"}},
      {"confidence", 70},
      {"pattern", pattern},
      {"pattern_type", "stix"},
      {"valid_from", "2024-01-01T00:00:00Z"},
      {"object_marking_refs",
       boost::json::array{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}}};
  std::string text = boost::json::serialize(o);
  if (!extra.empty()) text = text.substr(0, text.size() - 1) + "," + extra + "}";
  return text;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

CommandResult RunKizuna(const std::vector<std::string>& args, const std::string& input,
                        std::chrono::milliseconds timeout) {
  return RunProgram(KizunaBinary(), args, input, timeout);
}

CommandResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input, std::chrono::milliseconds timeout) {
  TempDir io;
  const std::string in_path = io.path() + "/in", out_path = io.path() + "/out",
                    err_path = io.path() + "/err";
  WriteFile(in_path, input);
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string why;
  const pid_t pid = test_support::SpawnBoundChild(argv, {in_path, out_path, err_path}, &why);
  if (pid < 0) throw std::runtime_error("cannot start " + program + ": " + why);
  CommandResult result;
  std::optional<int> status = WaitForExit(pid, timeout);
  if (!status) {
    test_support::KillBoundChild(pid);
    result.timed_out = true;
    result.exit_code = 128 + SIGKILL;
  } else {
    result.exit_code = ExitCodeOf(*status);
  }
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  if (result.timed_out) {
    result.err += "\n[e2e harness] `" + CommandLine(program, args) + "` did not finish within " +
                  std::to_string(timeout.count()) + " ms and was killed\n";
    std::fprintf(stderr, "[e2e harness] `%s` timed out after %lld ms: killed\n",
                 CommandLine(program, args).c_str(), static_cast<long long>(timeout.count()));
  }
  return result;
}

NodeProcess::NodeProcess(const std::string& name) {
  CommandResult init = RunKizuna({"init", dir(), "--name", name, "--listen", "127.0.0.1:0"});
  if (init.exit_code != 0) throw std::runtime_error("kizuna init failed: " + init.err);
  admin_key_ = Trimmed(ReadFile(dir() + "/admin.key"));
}

NodeProcess::~NodeProcess() { Stop(); }

bool NodeProcess::Start(std::string* error) {
  const std::string out_path = dir() + "/serve.out", err_path = dir() + "/serve.log";
  // Remove the previous run's output first, so that its URL is not mistaken for the new one.
  unlink(out_path.c_str());
  test_support::ChildStdio stdio;
  stdio.out = out_path;
  stdio.err = err_path;
  stdio.append_err = true;
  std::string why;
  pid_ = test_support::SpawnBoundChild({KizunaBinary(), "serve", dir()}, stdio, &why);
  if (pid_ < 0) {
    if (error) *error = "cannot start kizuna serve: " + why;
    return false;
  }
  // Wait for the "serving at http://127.0.0.1:PORT/" line.
  const auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    std::string out = ReadFile(out_path);
    size_t at = out.find("serving at ");
    if (at != std::string::npos) {
      size_t end = out.find('/', out.find("://", at) + 3);
      if (end != std::string::npos) {
        base_url_ = out.substr(at + 11, end - at - 11);
        return true;
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (error) *error = "kizuna serve exited: " + ReadFile(err_path);
      return false;
    }
    usleep(20000);
  }
  if (error) {
    *error = "kizuna serve did not print its URL within " + std::to_string(kStartTimeout.count()) +
             " s (killed): " + ReadFile(err_path);
  }
  Kill();
  return false;
}

bool NodeProcess::Stop() {
  if (pid_ <= 0) return true;
  kill(pid_, SIGTERM);
  if (WaitForExit(pid_, kStopTimeout)) {
    pid_ = -1;
    return true;
  }
  std::fprintf(stderr,
               "[e2e harness] kizuna serve %s did not stop within %lld s of SIGTERM: killed\n",
               dir().c_str(), static_cast<long long>(kStopTimeout.count()));
  Kill();
  return false;
}

void NodeProcess::Kill() {
  if (pid_ <= 0) return;
  test_support::KillBoundChild(pid_);
  pid_ = -1;
}

bool NodeProcess::WaitForConfig(std::chrono::milliseconds timeout) {
  const std::string want = node::ConfigDigest(ReadFile(dir() + "/kizuna.toml"));
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (!running()) return false;
    http::Response r = Get("/api/v1/node");
    if (r.status == 200) {
      boost::system::error_code ec;
      boost::json::value info = boost::json::parse(r.body, ec);
      if (!ec && info.is_object()) {
        const boost::json::value* digest = info.find_pointer("/config/digest", ec);
        if (digest && digest->is_string() && digest->as_string() == want) return true;
      }
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void NodeProcess::PinPort() {
  std::string config = ReadFile(dir() + "/kizuna.toml");
  size_t at = config.find("127.0.0.1:0\"");
  if (at == std::string::npos || base_url_.empty()) return;
  std::string port = base_url_.substr(base_url_.rfind(':') + 1);
  config.replace(at, std::string("127.0.0.1:0").size(), "127.0.0.1:" + port);
  WriteFile(dir() + "/kizuna.toml", config);
}

void NodeProcess::UseTls(const std::string& cert_file, const std::string& key_file) {
  std::string config = ReadFile(dir() + "/kizuna.toml");
  for (auto [key, value] :
       {std::pair{"tls_cert = \"\"", cert_file}, std::pair{"tls_key = \"\"", key_file}}) {
    size_t at = config.find(key);
    if (at == std::string::npos)
      throw std::runtime_error("kizuna.toml has no empty " + std::string(key));
    config.replace(at, std::string(key).size(),
                   std::string(key).substr(0, std::string(key).size() - 2) + "\"" + value + "\"");
  }
  WriteFile(dir() + "/kizuna.toml", config);
  http::ClientOptions options;
  options.ca_file = cert_file;
  client_ = std::make_unique<http::Client>(options);
}

std::string NodeProcess::ServerLog() const { return ReadFile(dir() + "/serve.log"); }

http::Response NodeProcess::Request(const std::string& method, const std::string& path,
                                    const std::string& key, const std::string& body,
                                    const std::map<std::string, std::string>& headers) {
  http::Headers h;
  h.Set("Accept", "application/taxii+json;version=2.1");
  if (!body.empty()) h.Set("Content-Type", "application/taxii+json;version=2.1");
  if (!key.empty()) h.Set("Authorization", "Bearer " + key);
  for (const auto& [name, value] : headers) {
    if (value.empty()) {
      http::Headers copy;
      for (const auto& [n, v] : h.fields()) {
        if (strcasecmp(n.c_str(), name.c_str()) != 0) copy.Add(n, v);
      }
      h = copy;
    } else {
      h.Set(name, value);
    }
  }
  auto response = client_->Send(method, Url(path), h, body);
  if (!response.ok()) {
    http::Response failed;
    failed.status = -1;
    failed.body = response.status().message();
    return failed;
  }
  return std::move(response).value();
}

std::string NodeProcess::AddUser(const std::string& org, const std::string& name,
                                 const std::string& role) {
  CommandResult r = RunKizuna({"user", "add", dir(), "--org", org, "--name", name, "--role", role});
  if (r.exit_code != 0) throw std::runtime_error("kizuna user add failed: " + r.err);
  return r.LastLine();
}

}  // namespace kizuna::e2e
