// JobScheduler: the node's periodic background work (a feed refresh every
// hour, a daily report, expiring old data), run on one background thread.
//
// Each Job runs every `period`. The time of its last successful run is kept
// in the store's meta table under "job:<module>:<name>:last_run" (decimal
// microseconds since the epoch), so the schedule survives restarts: after a
// restart a job whose period has not elapsed since its persisted last run
// waits for the rest of it, and a job that fell due while the node was down
// runs once at start, not once per missed period. A job that never ran is due
// at once.
//
// Failures: a job returning a non-ok Status (or throwing) is logged at warn
// level and its last run is not updated; it is retried `retry_after` later,
// that wait doubling with every consecutive failure but never longer than
// one period. The backoff is in memory: after a restart a job that failed
// last is simply due again.
//
// Time comes from a kizuna::Clock (the system clock by default; tests pass a
// fake one) and RunDue() runs everything due now on the calling thread, so
// tests drive the schedule without the thread and without sleeping.
//
// Thread-safety: every method may be called from any thread. Jobs run one at
// a time (RunDue calls are serialized, also against the background thread),
// never concurrently with themselves or each other; a long job delays the
// others. Stop() wakes the thread at once and joins it, but waits for a job
// that is running to return, so jobs should be short or come back often.
// Ownership: the scheduler does not own the store or the clock; both must
// outlive it. It owns its copies of the jobs' functions.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "store/store.h"

namespace kizuna::platform {

struct Job {
  // The module's name() and the job's name, unique within the module; both
  // letters, digits, '_', '-', '.' (they make the persisted key).
  std::string module;
  std::string name;
  std::chrono::microseconds period{0};  // > 0; e.g. std::chrono::hours(24)
  // The work. Runs on the scheduler's thread (or a RunDue caller's).
  std::function<Status()> run;
  // The first wait after a failure (then doubling, capped by `period`).
  std::chrono::microseconds retry_after = std::chrono::minutes(1);
};

// The meta-table key under which a job's last successful run is kept.
std::string JobLastRunKey(std::string_view module, std::string_view name);

class JobScheduler {
 public:
  // `store` and `clock` are not owned and must outlive the scheduler.
  explicit JobScheduler(store::Store& store, const Clock& clock = SystemClock::Instance());
  ~JobScheduler();  // Stop()
  JobScheduler(const JobScheduler&) = delete;
  JobScheduler& operator=(const JobScheduler&) = delete;

  // Registers a job and reads its persisted last run. kInvalidArgument for an
  // empty module or name, a bad character, a period <= 0 or no function;
  // kAlreadyExists for a module+name already registered; the store's error
  // when the last run cannot be read. May be called before or after Start().
  Status Add(Job job);

  // Runs every job due at clock.NowMicros(), in registration order, on the
  // calling thread. Returns how many jobs ran (succeeded or failed).
  int RunDue();

  // Starts the background thread, which sleeps (on a condition variable)
  // until the next job is due, runs what is due, and so on. Calling it twice
  // is a no-op. Not needed for RunDue().
  void Start();
  // Stops and joins the background thread (promptly, unless a job is
  // running: that one finishes first). Idempotent; Start() may follow.
  void Stop();

  // The last successful run of a job (persisted or from this process), or
  // nullopt when it never ran or is not registered.
  std::optional<int64_t> LastRun(std::string_view module, std::string_view name) const;
  // When the job is next due (microseconds), or nullopt when not registered.
  std::optional<int64_t> NextDue(std::string_view module, std::string_view name) const;

 private:
  struct Entry {
    Job job;
    std::optional<int64_t> last_run;  // last success
    int64_t next_due = 0;             // when it runs next
    int failures = 0;                 // consecutive
  };

  const Entry* Find(std::string_view module, std::string_view name) const;  // needs mutex_
  void Loop();

  // Constant after construction.
  store::Store& store_;
  const Clock& clock_;

  std::mutex run_mutex_;  // serializes RunDue (the thread's and callers')

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::list<Entry> entries_;  // GUARDED_BY(mutex_); a list: Entry addresses stay valid
  bool stopping_ = false;     // GUARDED_BY(mutex_)

  std::mutex thread_mutex_;  // serializes Start/Stop
  std::thread thread_;       // GUARDED_BY(thread_mutex_)
};

}  // namespace kizuna::platform
