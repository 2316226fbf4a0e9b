#include "tests/support/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>

namespace kizuna::test_support {
namespace {

// O_CLOEXEC: a child another thread forks meanwhile does not keep them.
int OpenFor(const std::string& path, bool output, bool append) {
  const char* target = path.empty() ? "/dev/null" : path.c_str();
  if (!output) return open(target, O_RDONLY | O_CLOEXEC);
  return open(target, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
}

// argv[0] as execvp would find it, looked up here because execvp may
// allocate in the child.
std::string ProgramPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

}  // namespace

pid_t SpawnBoundChild(const std::vector<std::string>& argv, const ChildStdio& stdio,
                      std::string* why) {
  std::vector<std::string> owned = argv;
  if (!owned.empty()) owned[0] = ProgramPath(owned[0]);
  std::vector<char*> pointers;
  for (std::string& a : owned) pointers.push_back(a.data());
  pointers.push_back(nullptr);
  const std::array<int, 3> fds = {OpenFor(stdio.in, false, false),
                                  OpenFor(stdio.out, true, stdio.append_out),
                                  OpenFor(stdio.err, true, stdio.append_err)};
  auto close_all = [&] {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  };
  for (int fd : fds) {
    if (fd < 0) {
      *why = "cannot open the child's stdio: " + std::string(std::strerror(errno));
      close_all();
      return -1;
    }
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    for (int i = 0; i < 3; ++i) {
      // dup2 clears close-on-exec on the copy; a descriptor that already is
      // 0-2 (the test's own was closed) is not copied, so clear it there.
      if (fds[i] == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(fds[i], i) < 0) _exit(126);
    }
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  const int fork_errno = errno;
  close_all();
  if (pid < 0) {
    *why = "fork: " + std::string(std::strerror(fork_errno));
    return -1;
  }
  setpgid(pid, pid);  // as the child does: whichever runs first
  return pid;
}

void KillBoundChild(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace kizuna::test_support
