// For the benchmarks that run whole commands side by side (match_bench,
// sensor_bench): one command run to completion as a child process with its
// standard streams redirected to files, timed as the kernel accounts it.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace kizuna::bench {

struct Timing {
  double wall = 0;    // seconds
  double cpu = 0;     // user + system seconds of the process (all its threads)
  double rss_mb = 0;  // its peak resident memory
};

// Runs `args` (args[0] found on PATH unless it has a slash) with stdin from
// `in`, stdout to `out` and stderr to `err`; with `pin_cpu` >= 0 on that one
// CPU only (all its threads). A command that cannot start or ends with a
// status above `max_exit_status` ends the bench, naming `err`.
inline Timing RunTimed(const std::vector<std::string>& args, const std::string& in,
                       const std::string& out, const std::string& err, int max_exit_status = 0,
                       int pin_cpu = -1) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd_in = open(in.c_str(), O_RDONLY);
    const int fd_out = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int fd_err = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_in < 0 || fd_out < 0 || fd_err < 0) _exit(127);
    if (pin_cpu >= 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(pin_cpu, &one);
      if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(126);
    }
    dup2(fd_in, 0);
    dup2(fd_out, 1);
    dup2(fd_err, 2);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  Timing t;
  t.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  t.rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) > max_exit_status) {
    std::fprintf(stderr, "%s exited with status %d (see %s)\n", args[0].c_str(), status,
                 err.c_str());
    std::exit(1);
  }
  return t;
}

// The best of the runs: the one least disturbed by other work on the machine.
inline double Best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

}  // namespace kizuna::bench
