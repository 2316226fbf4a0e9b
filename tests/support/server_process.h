// Test support: a test server that is a separate program (a Python script
// run by Debian's /usr/bin/python3: the SMTP sink, the MISP-API server)
// started on a free loopback port and stopped again. The server writes its
// port to a file once it listens; StartServerProcess waits for that file and
// one accepted connection.
//
// The process is in its own process group, dies with the thread that
// started it (PR_SET_PDEATHSIG), and is owned by whoever holds its pid.
// Not thread-safe; call from the test's thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace kizuna::test_support {

struct ServerProcess {
  pid_t pid = -1;
  int port = 0;
};

// Runs `args` (args[0] a path) with stdin and stdout on /dev/null and
// stderr appended to `log_file`; waits up to 20 s for `port_file`. False,
// and *why says why (the log when it exited), when it does not come up.
bool StartServerProcess(const std::vector<std::string>& args, const std::string& port_file,
                        const std::string& log_file, ServerProcess* server, std::string* why);

// SIGTERM, then SIGKILL to its group after 10 s; waits for it; sets *pid
// to -1. Nothing when *pid <= 0.
void StopServerProcess(pid_t* pid);

// A file's bytes, "" when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace kizuna::test_support
