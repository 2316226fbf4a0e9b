#include "bus/bus.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "store/sqlite/sqlite_store.h"

namespace kizuna::bus {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCollection = "c0a1b2c3-0000-4000-8000-000000000001";

store::NewObject Indicator(int n) {
  char id[80];
  std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
  store::NewObject object;
  object.info.id = id;
  object.info.type = "indicator";
  object.info.spec_version = "2.1";
  object.info.created_us = object.info.modified_us = 1'700'000'000'000'000 + n;
  object.json = std::string("{\"type\":\"indicator\",\"id\":\"") + id + "\"}";
  return object;
}

SubscriptionOptions Subscriber(std::string name, int64_t after_seq, size_t batch_limit = 1000,
                               std::function<void()> on_ready = {}) {
  SubscriptionOptions options;
  options.name = std::move(name);
  options.after_seq = after_seq;
  options.batch_limit = batch_limit;
  options.on_ready = std::move(on_ready);
  return options;
}

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kizuna-bus-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = Open();
    store::Collection collection;
    collection.id = kCollection;
    collection.title = "test";
    ASSERT_TRUE(store_->CreateCollection(collection).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<store::Store> Open() {
    auto opened = store::OpenSqliteStore((dir_ / "kizuna.db").string());
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return std::move(opened).value();
  }

  void Add(int from, int count) {
    std::vector<store::NewObject> objects;
    for (int n = from; n < from + count; ++n) objects.push_back(Indicator(n));
    ASSERT_TRUE(store_->AddObjects(kCollection, objects).ok());
  }

  // Everything a subscription delivers until it has `count` changes (or 10 s pass).
  static std::vector<store::Change> Drain(Subscription& subscription, size_t count) {
    std::vector<store::Change> got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto next = subscription.Next(100ms);
      EXPECT_TRUE(next.ok());
      if (next.ok()) got.insert(got.end(), next->begin(), next->end());
    }
    return got;
  }

  static void ExpectInOrderWithoutGaps(const std::vector<store::Change>& changes, int from,
                                       int count) {
    ASSERT_EQ(changes.size(), static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      EXPECT_EQ(changes[i].object.id, Indicator(from + i).info.id) << i;
      if (i > 0) {
        EXPECT_LT(changes[i - 1].seq, changes[i].seq);
      }
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(BusTest, EverySubscriberGetsEveryChangeInOrderFromOneStoreRead) {
  BusOptions options;
  options.store_poll = 60s;  // only Notify() wakes it here
  ChangeBus bus(*store_, options);
  ASSERT_TRUE(bus.Start().ok());
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int i = 0; i < 50; ++i) {
    subscriptions.push_back(bus.Subscribe(Subscriber("s" + std::to_string(i), bus.head())));
  }
  const uint64_t reads_before = bus.store_reads();
  Add(1, 20);
  bus.Notify();
  for (auto& subscription : subscriptions) {
    ExpectInOrderWithoutGaps(Drain(*subscription, 20), 1, 20);
    EXPECT_EQ(subscription->store_reads(), 0u) << "served from the window";
  }
  // One follower read for the batch (and at most one more that found nothing).
  EXPECT_LE(bus.store_reads() - reads_before, 2u);
}

TEST_F(BusTest, NotifyWakesAWaitingSubscriberAtOnce) {
  BusOptions options;
  options.store_poll = 60s;
  ChangeBus bus(*store_, options);
  ASSERT_TRUE(bus.Start().ok());
  std::atomic<int> ready_calls{0};
  auto subscription = bus.Subscribe(Subscriber("s", bus.head(), 1000, [&] { ++ready_calls; }));
  // Whether the write lands before or after Next starts waiting, only the
  // Notify can make it visible (the store is not polled within the test).
  std::thread writer([&] {
    Add(1, 1);
    bus.Notify();
  });
  auto next = subscription->Next(30s);  // returns when the change is there, not at the timeout
  writer.join();
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_GE(ready_calls.load(), 1);
  // Nothing more: Next with a timeout returns empty.
  auto none = subscription->Next(10ms);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(BusTest, ASlowSubscriberFallsBehindWithoutGrowingMemoryAndCatchesUp) {
  BusOptions options;
  options.window_changes = 10;
  options.store_poll = 60s;
  ChangeBus bus(*store_, options);
  ASSERT_TRUE(bus.Start().ok());
  auto slow = bus.Subscribe(Subscriber("slow", bus.head(), 7));
  auto fast = bus.Subscribe(Subscriber("fast", bus.head()));
  for (int batch = 0; batch < 10; ++batch) {
    Add(1 + batch * 10, 10);
    bus.Notify();
    // The fast one keeps up.
    ExpectInOrderWithoutGaps(Drain(*fast, 10), 1 + batch * 10, 10);
  }
  // The slow one read nothing meanwhile; the window held at most 10 changes,
  // so it reads the store at its own cursor, then the window, with no gap.
  ExpectInOrderWithoutGaps(Drain(*slow, 100), 1, 100);
  EXPECT_GT(slow->store_reads(), 0u);
  EXPECT_EQ(fast->store_reads(), 0u);
}

TEST_F(BusTest, ASubscriberResumesFromItsCursorAfterARestart) {
  int64_t saved_cursor;
  {
    ChangeBus bus(*store_);
    ASSERT_TRUE(bus.Start().ok());
    auto subscription = bus.Subscribe(Subscriber("push", 0));
    Add(1, 5);
    bus.Notify();
    ExpectInOrderWithoutGaps(Drain(*subscription, 5), 1, 5);
    saved_cursor = subscription->cursor();  // what its owner persists
  }
  Add(6, 5);  // while the node is down
  store_ = Open();
  ChangeBus bus(*store_);
  ASSERT_TRUE(bus.Start().ok());
  auto subscription = bus.Subscribe(Subscriber("push", saved_cursor));
  ExpectInOrderWithoutGaps(Drain(*subscription, 5), 6, 5);
  Add(11, 2);
  bus.Notify();
  ExpectInOrderWithoutGaps(Drain(*subscription, 2), 11, 2);
}

TEST_F(BusTest, AWriterInAnotherProcessWakesASubscriber) {
  // The writer is forked before the bus starts its thread: a child forked
  // from a process with threads may not allocate (it could inherit the
  // allocator's lock held). It waits on a pipe until the subscriber is there.
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(go[1]);
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) ::_exit(2);
    // Another process (as `kizuna import` is): its own store handle, then the wake.
    auto other = store::OpenSqliteStore((dir_ / "kizuna.db").string());
    bool ok = other.ok() && (*other)->AddObjects(kCollection, {Indicator(42)}).ok();
    NotifyNode(dir_.string());
    ::_exit(ok ? 0 : 1);
  }
  ::close(go[0]);
  BusOptions options;
  options.store_poll = 60s;  // only the wake socket can deliver in time
  options.wake_socket = WakeSocketPath(dir_.string());
  ChangeBus bus(*store_, options);
  const bool started = bus.Start().ok();
  auto subscription = bus.Subscribe(Subscriber("s", bus.head()));
  // Closing the pipe without a byte ends the child too, whatever happens here.
  const bool released = started && ::write(go[1], "g", 1) == 1;
  ::close(go[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(started);
  ASSERT_TRUE(released);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto next = subscription->Next(20s);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->front().object.id, Indicator(42).info.id);
}

TEST_F(BusTest, WithoutAWakeThePeriodicReadFindsTheChange) {
  BusOptions options;
  options.store_poll = 50ms;
  ChangeBus bus(*store_, options);
  ASSERT_TRUE(bus.Start().ok());
  auto subscription = bus.Subscribe(Subscriber("s", bus.head()));
  Add(1, 3);  // no Notify
  ExpectInOrderWithoutGaps(Drain(*subscription, 3), 1, 3);
}

TEST_F(BusTest, StopEndsAWaitingSubscriber) {
  ChangeBus bus(*store_);
  ASSERT_TRUE(bus.Start().ok());
  auto subscription = bus.Subscribe(Subscriber("s", bus.head()));
  // Stopped before or during the wait: either way Next returns, empty.
  std::thread stopper([&] { bus.Stop(); });
  auto next = subscription->Next(30s);
  stopper.join();
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->empty());
}

}  // namespace
}  // namespace kizuna::bus
