#include "tests/support/misp_server.h"

#include <unistd.h>

#include <filesystem>
#include <vector>

#include "tests/support/server_process.h"

#ifndef KIZUNA_MISP_SERVER_SCRIPT
#error "KIZUNA_MISP_SERVER_SCRIPT must name tests/support/misp_server.py"
#endif

namespace kizuna::test_support {
namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's

}  // namespace

std::unique_ptr<MispServer> MispServer::Start(const std::string& dir, const std::string& key,
                                              const MispServerOptions& options,
                                              std::string* error) {
  auto fail = [error](std::string why) -> std::unique_ptr<MispServer> {
    if (error) *error = "misp server: " + why;
    return nullptr;
  };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (access(kPython, X_OK) != 0) return fail(std::string(kPython) + " is missing");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return fail("tls_cert_file and tls_key_file go together");
  }
  const std::string port_file = dir + "/misp_server.port", log_file = dir + "/misp_server.log";
  std::vector<std::string> args = {kPython,  KIZUNA_MISP_SERVER_SCRIPT, "--key", key, "--port-file",
                                   port_file};
  if (!options.tls_cert_file.empty()) {
    args.insert(args.end(),
                {"--tls-cert", options.tls_cert_file, "--tls-key", options.tls_key_file});
  }
  if (!options.seed_file.empty()) args.insert(args.end(), {"--seed", options.seed_file});
  std::unique_ptr<MispServer> server(new MispServer());
  server->dir_ = dir;
  server->key_ = key;
  server->tls_ = !options.tls_cert_file.empty();
  ServerProcess process;
  std::string why;
  if (!StartServerProcess(args, port_file, log_file, &process, &why)) return fail(why);
  server->pid_ = process.pid;
  server->port_ = process.port;
  return server;
}

MispServer::~MispServer() { Stop(); }

std::string MispServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void MispServer::Stop() { StopServerProcess(&pid_); }

}  // namespace kizuna::test_support
