#include "tests/support/server_process.h"

#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/support/eventually.h"

namespace kizuna::test_support {

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool StartServerProcess(const std::vector<std::string>& args, const std::string& port_file,
                        const std::string& log_file, ServerProcess* server, std::string* why) {
  unlink(port_file.c_str());
  ChildStdio stdio;
  stdio.err = log_file;
  stdio.append_err = true;
  server->pid = SpawnBoundChild(args, stdio, why);
  if (server->pid < 0) return false;
  bool exited = false;
  Eventually(
      [&] {
        const std::string port = ReadFileOrEmpty(port_file);
        if (!port.empty()) server->port = std::atoi(port.c_str());
        int status = 0;
        exited = port.empty() && waitpid(server->pid, &status, WNOHANG) == server->pid;
        return !port.empty() || exited;
      },
      std::chrono::seconds(20));
  if (exited) {
    server->pid = -1;
    *why = "it exited: " + ReadFileOrEmpty(log_file);
    return false;
  }
  if (server->port <= 0) {
    StopServerProcess(&server->pid);
    *why = "no port within 20 s: " + ReadFileOrEmpty(log_file);
    return false;
  }
  // It listens before it writes the port; one connection makes sure.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server->port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  if (!connected) {
    StopServerProcess(&server->pid);
    *why = "port " + std::to_string(server->port) + " does not accept connections";
    return false;
  }
  return true;
}

void StopServerProcess(pid_t* pid) {
  if (*pid <= 0) return;
  kill(*pid, SIGTERM);
  int status = 0;
  if (!Eventually([&] { return waitpid(*pid, &status, WNOHANG) != 0; }, std::chrono::seconds(10))) {
    KillBoundChild(*pid);
  }
  *pid = -1;
}

}  // namespace kizuna::test_support
