// WorkerPool: a fixed set of threads running tasks from a bounded queue. The
// HTTP server has one per worker lane (matching, imports), so that its I/O
// threads keep serving cheap requests while a pool is busy, and a busy lane
// does not hold up another.
//
// TrySubmit never blocks and never queues more than `queue_capacity` tasks
// beyond the ones running: when the queue is full (or the pool is stopping)
// it returns false and the caller answers "busy" (the server's 503 with
// Retry-After) instead of piling work up without bound.
//
// Defaults: 2 threads, 32 queued tasks (the node's [limits] worker_threads
// and worker_queue; its import lane: import_threads 1, import_queue 32).
//
// Thread-safety: every method may be called from any thread, also from a
// task (except Stop, which would wait for itself).
// Ownership: the pool owns its threads and the queued tasks; a task's
// captures must stay valid until it has run. Stop() (also the destructor)
// refuses new tasks, lets the workers run every task already queued, then
// joins them: no task is dropped unrun, so a task that answers a client
// always answers (a caller that is shutting down makes its tasks return
// early instead).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kizuna {

struct WorkerPoolOptions {
  int threads = 2;             // at least 1
  size_t queue_capacity = 32;  // tasks waiting beyond those running; 0: none wait
};

class WorkerPool {
 public:
  explicit WorkerPool(WorkerPoolOptions options = {});
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` to run on a worker. False (and `task` is dropped, unrun)
  // when the queue is full or the pool is stopping. A task must not throw:
  // an exception it throws is caught and logged.
  bool TrySubmit(std::function<void()> task);

  // Refuses new tasks, runs the queued ones, joins the workers. Idempotent.
  void Stop();

  // Tasks waiting (not counting the running ones), and tasks running.
  size_t queued() const;
  size_t running() const;
  int threads() const { return static_cast<int>(workers_.size()); }
  size_t queue_capacity() const { return options_.queue_capacity; }

 private:
  void Work();

  const WorkerPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable ready_;            // a task was queued, or stopping
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  size_t running_ = 0;                       // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::mutex stop_mu_;                       // one Stop() at a time
  std::vector<std::thread> workers_;         // constant after construction
};

}  // namespace kizuna
