// Test support: starting a child program from a test that has threads.
//
// Between fork and exec a child may only make async-signal-safe calls: it
// inherits every lock another thread of the test held at the fork (the
// allocator's under ASan among them) with no thread left to release it. A
// test whose threads ran `kizuna` commands at the same moment hung that way
// (one child spinning in ASan's allocator until ctest's timeout). So
// everything the child needs (argv, open files) is prepared before the fork.
//
// The child is in its own process group (a timeout kills whatever it started
// too) and gets SIGKILL when the thread that forked it dies, so a test
// killed by ctest leaves nothing behind. The caller owns the pid: wait for
// it or kill it. Thread-safe: threads may spawn children at the same time.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace kizuna::test_support {

// Where the child's stdin, stdout and stderr come from and go; "" is
// /dev/null. Output files are created (0600), truncated unless appended to.
struct ChildStdio {
  std::string in;
  std::string out;
  std::string err;
  bool append_out = false;
  bool append_err = false;
};

// Runs `argv` (argv[0] a path, or a name looked up in PATH as execvp does). -1, and *why says
// why, when a file cannot be opened or fork fails; a program that cannot be
// executed exits 127.
pid_t SpawnBoundChild(const std::vector<std::string>& argv, const ChildStdio& stdio,
                      std::string* why);

// SIGKILL to the child's process group (whatever it started) and to the
// child, then reaps it.
void KillBoundChild(pid_t pid);

}  // namespace kizuna::test_support
