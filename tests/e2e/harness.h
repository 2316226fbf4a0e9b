// Test harness for end-to-end tests: runs the real `kizuna` binary, starts
// real `kizuna serve` processes on loopback (port 0, the node prints the
// port it got), and talks HTTP to them with kizuna's own client.
//
// Every child process has a bound: a command is killed after its timeout, a
// node that does not print its URL or does not stop on SIGTERM is killed,
// and each child dies with the thread that started it (PR_SET_PDEATHSIG), so
// that a test killed by ctest's TIMEOUT leaves no node behind. Start nodes
// and run commands from a thread that outlives them (the test's own).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/http.h"
#include "tests/support/sanitizers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificate.h"

namespace kizuna::e2e {

// A fresh directory under /tmp, removed with its contents on destruction.
using test_support::TempDir;

struct CommandResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string out;
  std::string err;         // ends with a line saying so when the command timed out
  bool timed_out = false;  // killed (SIGKILL) after the timeout
  // The last non-empty line of stdout.
  std::string LastLine() const;
};

// The kizuna binary that RunKizuna and NodeProcess run: $KIZUNA_BINARY_OVERRIDE
// when set and not empty (a benchmark run against another build), else the one
// built beside the tests.
const char* KizunaBinary();

inline constexpr std::chrono::seconds kCommandTimeout{120 * test_support::kSanitizerSlowdown};

// Runs `kizuna args…` to completion with `input` on stdin; after `timeout`
// it is killed (with its process group) and the result says so.
CommandResult RunKizuna(const std::vector<std::string>& args, const std::string& input = "",
                        std::chrono::milliseconds timeout = kCommandTimeout);

// The same for any program (found on PATH when `program` has no '/').
CommandResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input = "",
                         std::chrono::milliseconds timeout = kCommandTimeout);

std::string ReadFile(const std::string& path);

// STIX for tests: a TAXII envelope ({"objects": […]}) and a bundle of
// objects given as JSON text, and an indicator
// "indicator--00000000-0000-4000-8000-<tail>" with `pattern`, named
// "indicator <tail>", labels ["botnet"], confidence 70, TLP:GREEN, version
// `modified`; `extra` is more members ("\"revoked\":true").
std::string Envelope(const std::vector<std::string>& objects);
std::string Bundle(const std::vector<std::string>& objects);
std::string PatternIndicator(const std::string& tail, const std::string& pattern,
                             const std::string& extra = "",
                             const std::string& modified = "2024-01-01T00:00:00.000Z");

using kizuna::test_support::MakeTestCertificate;
using kizuna::test_support::TestCertificate;
void WriteFile(const std::string& path, const std::string& content);

// A node directory with a running `kizuna serve`.
class NodeProcess {
 public:
  // Creates the node with `kizuna init DIR --name NAME --listen 127.0.0.1:0`.
  explicit NodeProcess(const std::string& name = "CERT-Test");
  ~NodeProcess();

  // Starts `kizuna serve`; returns false (and fills error) if it did not
  // print its URL within kStartTimeout (it is killed then).
  bool Start(std::string* error = nullptr);
  // SIGTERM, and SIGKILL if it has not exited within kStopTimeout; false
  // (and a line on stderr) when it had to be killed.
  bool Stop();
  void Kill();  // SIGKILL and wait
  bool running() const { return pid_ > 0; }

  // Waits until the running node reports (GET /api/v1/node, "config":
  // {"digest"}) that it applies the kizuna.toml now in its directory:
  // node::ConfigDigest of the file's text. True once it does, false after
  // `timeout` (e.g. the file does not load: the node keeps the old one).
  // Call it after editing kizuna.toml instead of sleeping.
  bool WaitForConfig(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  static constexpr std::chrono::seconds kStartTimeout{60};
  static constexpr std::chrono::seconds kStopTimeout{30};

  const std::string& dir() const { return dir_.path(); }
  const std::string& admin_key() const { return admin_key_; }
  // "http://127.0.0.1:PORT"
  const std::string& base_url() const { return base_url_; }
  std::string Url(const std::string& path) const { return base_url_ + path; }
  std::string ServerLog() const;

  // Sends a request with the given API key (Bearer) and TAXII Accept header.
  http::Response Request(const std::string& method, const std::string& path, const std::string& key,
                         const std::string& body = "",
                         const std::map<std::string, std::string>& headers = {});
  http::Response Get(const std::string& path) { return Request("GET", path, admin_key_); }
  http::Response Post(const std::string& path, const std::string& body) {
    return Request("POST", path, admin_key_, body);
  }
  // Makes the next Start() listen on the port this run got (a restart at
  // the same URL, as partners know it).
  void PinPort();
  // Serves HTTPS with these PEM files from the next Start() on (and makes
  // Request() trust that certificate).
  void UseTls(const std::string& cert_file, const std::string& key_file);
  // Creates a member user and returns its API key.
  std::string AddUser(const std::string& org, const std::string& name,
                      const std::string& role = "member");

 private:
  TempDir dir_;
  std::string admin_key_;
  std::string base_url_;
  pid_t pid_ = -1;
  std::unique_ptr<http::Client> client_ = std::make_unique<http::Client>();
};

}  // namespace kizuna::e2e
