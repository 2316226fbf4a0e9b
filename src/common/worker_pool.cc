#include "common/worker_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace kizuna {

WorkerPool::WorkerPool(WorkerPoolOptions options) : options_(options) {
  const int threads = std::max(1, options_.threads);
  workers_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::TrySubmit(std::function<void()> task) {
  if (!task) return false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    // Queued tasks that idle workers are about to take do not count against
    // the capacity: with queue_capacity 0 a task is accepted only when a
    // worker is free for it.
    const size_t idle = workers_.size() - std::min(workers_.size(), running_);
    if (queue_.size() >= options_.queue_capacity + idle) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void WorkerPool::Stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t WorkerPool::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void WorkerPool::Work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("worker pool: a task threw: {}", e.what());
    } catch (...) {
      spdlog::error("worker pool: a task threw");
    }
    task = nullptr;  // its captures go before the next task
    std::lock_guard lock(mu_);
    --running_;
  }
}

}  // namespace kizuna
