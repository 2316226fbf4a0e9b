// A progress line on stderr for long-running commands: every two seconds
// (when asked, or on a terminal), and where it ended when the work is done.
// Not thread-safe: one per command.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace kizuna::cli {

class ProgressLine {
 public:
  ProgressLine(bool wanted, std::string what)
      : on_(wanted || isatty(STDERR_FILENO)), tty_(isatty(STDERR_FILENO)), what_(std::move(what)) {}
  ~ProgressLine() { Finish(); }
  // The last figures, and the line ended: call before anything else is printed.
  void Finish() {
    if (!on_ || finished_) return;
    finished_ = true;
    if (seen_) Print();
    if (tty_ && seen_) std::fputs("\n", stderr);
  }
  void operator()(uint64_t done, uint64_t total) {
    done_ = done;
    total_ = total;
    seen_ = true;
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(2)) return;
    last_ = now;
    Print();
  }

 private:
  void Print() {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (total_ != 0) {
      std::fprintf(stderr, "%s%s %.0f%% (%.1f s)%s", tty_ ? "\r" : "", what_.c_str(),
                   100.0 * static_cast<double>(done_) / static_cast<double>(total_), seconds,
                   tty_ ? "" : "\n");
    } else {
      std::fprintf(stderr, "%s%s %llu frames (%.1f s)%s", tty_ ? "\r" : "", what_.c_str(),
                   static_cast<unsigned long long>(done_), seconds, tty_ ? "" : "\n");
    }
  }

  bool on_, tty_;
  std::string what_;
  bool seen_ = false, finished_ = false;
  uint64_t done_ = 0, total_ = 0;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = started_;
};

}  // namespace kizuna::cli
