#include "common/worker_pool.h"

#include <gtest/gtest.h>

#include "tests/support/eventually.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace kizuna {
namespace {

// A gate the tasks wait at until the test opens it.
class Gate {
 public:
  void Wait() { opened_.wait(false); }
  void Open() {
    opened_ = true;
    opened_.notify_all();
  }

 private:
  std::atomic<bool> opened_{false};
};

using test_support::Eventually;

TEST(WorkerPool, RunsTasks) {
  WorkerPool pool({.threads = 2, .queue_capacity = 8});
  std::promise<int> done;
  ASSERT_TRUE(pool.TrySubmit([&] { done.set_value(42); }));
  EXPECT_EQ(done.get_future().get(), 42);
}

TEST(WorkerPool, RefusesWhenTheQueueIsFull) {
  WorkerPool pool({.threads = 2, .queue_capacity = 3});
  Gate gate;
  std::atomic<int> ran{0};
  auto task = [&] {
    gate.Wait();
    ++ran;
  };
  // Two run, three wait, the sixth is refused.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(pool.TrySubmit(task));
  ASSERT_TRUE(Eventually([&] { return pool.running() == 2; }));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.TrySubmit(task)) << i;
  EXPECT_EQ(pool.queued(), 3u);
  EXPECT_FALSE(pool.TrySubmit(task));
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return ran == 5; }));
  // Room again once the queue drained.
  EXPECT_TRUE(pool.TrySubmit(task));
  pool.Stop();
  EXPECT_EQ(ran, 6);
}

TEST(WorkerPool, ZeroCapacityTakesOnlyWhatIdleWorkersRun) {
  WorkerPool pool({.threads = 1, .queue_capacity = 0});
  Gate gate;
  ASSERT_TRUE(pool.TrySubmit([&] { gate.Wait(); }));
  ASSERT_TRUE(Eventually([&] { return pool.running() == 1; }));
  EXPECT_FALSE(pool.TrySubmit([] {}));
  gate.Open();
}

TEST(WorkerPool, StopRunsWhatIsQueuedThenRefuses) {
  WorkerPool pool({.threads = 1, .queue_capacity = 10});
  Gate gate;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.TrySubmit([&] {
    gate.Wait();
    ++ran;
  }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  std::thread stopper([&] { pool.Stop(); });
  // Stop waits for the queue; new work is refused meanwhile.
  ASSERT_TRUE(Eventually([&] { return !pool.TrySubmit([] {}); }));
  gate.Open();
  stopper.join();
  EXPECT_EQ(ran, 6);
  EXPECT_FALSE(pool.TrySubmit([] {}));
  pool.Stop();  // idempotent
}

TEST(WorkerPool, ATaskThatThrowsDoesNotEndItsWorker) {
  WorkerPool pool({.threads = 1, .queue_capacity = 4});
  ASSERT_TRUE(pool.TrySubmit([] { throw std::runtime_error("boom"); }));
  std::promise<void> done;
  ASSERT_TRUE(pool.TrySubmit([&] { done.set_value(); }));
  EXPECT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

}  // namespace
}  // namespace kizuna
