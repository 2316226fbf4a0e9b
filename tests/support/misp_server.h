// Test support: a real MISP-compatible REST server (tests/support/misp_server.py,
// Python standard library only, run with Debian's /usr/bin/python3) on a free
// loopback port, for the MISP sync and feed end-to-end tests. It answers the
// REST API MISP-to-MISP sync uses (getVersion, events index/view/add/edit/
// restSearch/filterEventIdsForPush, sightings add/restSearch/bulkSave) and a
// MISP feed under /feed/, checks "Authorization: <key>" exactly, and shows
// what it holds and the requests it got at GET /_test/state; the script's
// docstring lists the endpoints and where MISP's own behaviour is followed.
//
// The process dies with the thread that started it (PR_SET_PDEATHSIG) and is
// stopped (SIGTERM, then SIGKILL) by Stop() or the destructor; a MispServer
// owns that process and nothing else. Not thread-safe; use it from the test's
// thread (the server itself takes concurrent requests).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace kizuna::test_support {

struct MispServerOptions {
  // PEM files (MakeTestCertificate): serve HTTPS instead of HTTP. Both or neither.
  std::string tls_cert_file, tls_key_file;
  // A JSON file holding a list of events (bare or {"Event":{...}}), added at
  // start as POST /events/add would add them. Empty: start with no events.
  std::string seed_file;
};

class MispServer {
 public:
  // Starts the server with API key `key`, keeping its port file and log
  // (misp_server.port, misp_server.log) in `dir` (created if needed), and
  // waits until it accepts connections. nullptr, and `*error` says why, when
  // it does not come up within 20 s.
  static std::unique_ptr<MispServer> Start(const std::string& dir, const std::string& key,
                                           const MispServerOptions& options = {},
                                           std::string* error = nullptr);
  ~MispServer();
  MispServer(const MispServer&) = delete;
  MispServer& operator=(const MispServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT", or https:// when started with a certificate.
  std::string url() const;
  const std::string& key() const { return key_; }
  const std::string& dir() const { return dir_; }
  // SIGTERM, then SIGKILL after 10 s; waits for the process. Idempotent.
  void Stop();

 private:
  MispServer() = default;
  std::string dir_;
  std::string key_;
  bool tls_ = false;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace kizuna::test_support
