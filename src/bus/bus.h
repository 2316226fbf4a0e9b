// The change bus: one follower of the store's change feed per process,
// fanning out to every part of the node that reacts to new objects (the
// correlation index, live streams, federation push, and the capability
// modules that come later).
//
// Writers wake it: Notify() from this process (a TAXII POST, a federation
// ingest), NotifyNode(dir) from another process (`kizuna import` while
// `kizuna serve` runs, via a datagram on DIR/bus.sock); a periodic store
// read catches any writer that could not. The follower reads each change
// from the store once, keeps the most recent ones in a window bounded in
// bytes and count, and wakes the subscribers.
//
// Each subscriber reads from its own cursor (persisted by its owner where it
// must survive a restart). A subscriber whose cursor is inside the window is
// served from memory; one that fell behind the window (slow, or starting from
// an old cursor) reads the store at its cursor until it catches up, so a slow
// subscriber never makes memory grow.
//
// Thread-safety: every method may be called from any thread. A Subscription
// is used by one consumer at a time; it must not outlive its bus.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace kizuna::bus {

class ChangeBus;

struct SubscriptionOptions {
  std::string name;           // for logs
  int64_t after_seq = 0;      // the first change it receives is the one after this
  size_t batch_limit = 1000;  // most changes one Next returns
  // Called (on the bus's thread, briefly; it must not block or call back into
  // the bus) when changes past the subscriber's cursor may be ready.
  std::function<void()> on_ready;
};

class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // The changes after cursor(), in sequence order, at most batch_limit;
  // waits up to `timeout` when none are ready (returns empty then, or when
  // the bus stops). The cursor moves past what it returns.
  Result<std::vector<store::Change>> Next(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  int64_t cursor() const { return cursor_.load(); }
  // Moves the cursor (e.g. back to 0 to replay from the beginning).
  void Seek(int64_t after_seq) { cursor_.store(after_seq); }
  // How many times this subscriber read the store itself (it was behind).
  uint64_t store_reads() const { return store_reads_.load(); }

 private:
  friend class ChangeBus;
  Subscription(ChangeBus& bus, SubscriptionOptions options);

  ChangeBus& bus_;
  const SubscriptionOptions options_;
  std::atomic<int64_t> cursor_;
  std::atomic<uint64_t> store_reads_{0};
};

struct BusOptions {
  size_t read_batch = 1000;  // changes per store read
  // Bounds of the in-memory window of recent changes.
  size_t window_changes = 20000;
  size_t window_bytes = 32u << 20;
  // How often the store is read without being woken.
  std::chrono::milliseconds store_poll{250};
  // A datagram socket other processes wake the bus through (NotifyNode);
  // empty: none.
  std::string wake_socket;
};

class ChangeBus {
 public:
  explicit ChangeBus(store::Store& store, BusOptions options = {});
  ~ChangeBus();
  ChangeBus(const ChangeBus&) = delete;
  ChangeBus& operator=(const ChangeBus&) = delete;

  // Starts following after the store's newest change.
  Status Start();
  void Stop();

  // A writer in this process changed the store.
  void Notify();

  std::unique_ptr<Subscription> Subscribe(SubscriptionOptions options);

  // Whether Stop() was called.
  bool stopping() const;
  // The newest change the bus has published.
  int64_t head() const;
  // How many times the follower read the store (one read serves every subscriber).
  uint64_t store_reads() const { return store_reads_.load(); }

 private:
  friend class Subscription;
  struct Windowed {
    store::Change change;
    size_t bytes = 0;
  };

  void Follow();
  // Reads everything new from the store into the window; false on a store error.
  bool CatchUp();
  void Publish(std::vector<store::Change> changes);
  void Unsubscribe(Subscription* subscription);
  Result<std::vector<store::Change>> Read(Subscription& subscription,
                                          std::chrono::milliseconds timeout);
  bool WaitForWake(std::chrono::milliseconds timeout);

  store::Store& store_;
  const BusOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable published_;
  std::deque<Windowed> window_;  // changes after window_base_, up to head_
  size_t window_bytes_ = 0;
  int64_t window_base_ = 0;  // the window holds every change after this seq
  int64_t head_ = 0;
  bool stopping_ = false;
  std::set<Subscription*> subscriptions_;

  std::atomic<uint64_t> store_reads_{0};
  int event_fd_ = -1;   // Notify() writes here; the follower polls it
  int socket_fd_ = -1;  // wake_socket
  std::thread follower_;
};

// Wakes the bus of a node serving `dir` from another process (e.g. after
// `kizuna import`). Best effort: without a running node it does nothing.
void NotifyNode(const std::string& dir);

// The wake socket of a node directory.
std::string WakeSocketPath(const std::string& dir);

}  // namespace kizuna::bus
