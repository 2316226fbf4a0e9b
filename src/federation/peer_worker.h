// Federation::PeerWorker, internal to federation/: the worker that keeps
// one partner in sync. Its main thread discovers the partner (collections,
// whether it is a kizuna node, its identity), pulls or streams each
// collection (a thread per stream), pushes what the sharing decision allows
// to plain TAXII partners, and persists its cursors and status. Split by
// job: peer_worker.cc (life cycle, discovery, the main loop), peer_receive.cc
// (pulling, streaming, storing what arrives), peer_push.cc (pushing).
//
// Thread-safety: Start/Stop/status from any thread; the rest runs on the
// worker's own threads, sharing state under mutex_.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "federation/federation.h"
#include "http/http.h"

namespace kizuna::federation {

// Shared by the worker's files (not part of the component's interface).
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr size_t kPullPageSize = 1000;
constexpr size_t kPushBatch = 500;
constexpr auto kMaxBackoff = 15s;
constexpr int kStreamIdleTimeoutMs = 45000;
// Bounds on what one partner can make us do (memory, threads, disk).
constexpr size_t kMaxResponseBytes = 64 * 1024 * 1024;
constexpr int kMaxPagesPerRound = 200;     // then the next round resumes from the cursor
constexpr size_t kMaxStreamsPerPeer = 16;  // further collections are polled
constexpr int64_t kMaxCursorAheadUs = 86400LL * 1000000;  // a cursor past now+1 day is bogus

// A partner's collection as its TAXII server lists it.
struct RemoteCollection {
  std::string id;
  std::string alias;
  std::string title;
  bool can_read = false;
  bool can_write = false;
};

inline int64_t NowUs() { return SystemClock::Instance().NowMicros(); }

std::string PercentEncode(std::string_view text);

bool Names(const RemoteCollection& c, const std::string& name);

std::string Describe(const http::Response& response);

// The partner answered that it has not configured us as its peer yet.
bool IsNotPartnerYet(const Status& status);

// "scheme://host:port" of a URL.
std::string OriginOf(std::string_view url);

// Whether a running worker for `a` may keep running for `b` (nothing it
// uses changed; what only the sharing decision uses, it reads live).
bool SamePeer(const node::PeerConfig& a, const node::PeerConfig& b);

class Federation::PeerWorker final : public PeerRunner {
 public:
  PeerWorker(const FederationContext& context, node::PeerConfig config,
             std::function<std::shared_ptr<const sharing::SharingPolicy>()> policy);

  ~PeerWorker() override { Stop(); }

  const node::PeerConfig& config() const override { return config_; }

  void Start() override {
    main_ = std::thread([this] { Run(); });
  }

  void Stop() override;

  PeerStatus status() const override {
    std::lock_guard lock(mutex_);
    return status_;
  }

 private:
  // A client registered for Abort() on Stop().
  class ClientLease {
   public:
    explicit ClientLease(PeerWorker& worker) : worker_(worker) {
      http::ClientOptions options;
      if (!worker.config_.ca_file.empty()) {
        options.ca_file = worker.context_.node->Resolve(worker.config_.ca_file);
      }
      options.pinned_cert_sha256 = worker.config_.pinned_cert_sha256;
      options.timeout_ms = 30000;
      options.max_response_bytes = kMaxResponseBytes;
      client_ = std::make_unique<http::Client>(options);
      std::lock_guard lock(worker_.mutex_);
      if (worker_.stopping_) client_->Abort();
      worker_.clients_.insert(client_.get());
    }
    ~ClientLease() {
      std::lock_guard lock(worker_.mutex_);
      worker_.clients_.erase(client_.get());
    }
    http::Client& operator*() { return *client_; }

   private:
    PeerWorker& worker_;
    std::unique_ptr<http::Client> client_;
  };

  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Sets `flag` for the main loop and wakes it.
  void Signal(bool PeerWorker::*flag);

  // Asks the main loop for a full cycle (discovery included) at once.
  void Rediscover() { Signal(&PeerWorker::rediscover_); }

  bool TakeRediscover() {
    std::lock_guard lock(mutex_);
    return std::exchange(rediscover_, false);
  }

  // Sleeps up to `duration`; true when woken by Stop, PushReady or Rediscover.
  bool WaitFor(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex_);
    bool woken = wake_.wait_for(lock, duration, [&] { return stopping_ || woken_; });
    woken_ = false;
    return woken;
  }

  http::Headers BaseHeaders() const;

  void Contact() {
    std::lock_guard lock(mutex_);
    status_.last_contact_us = NowUs();
  }

  void SetState(std::string state) {
    std::lock_guard lock(mutex_);
    status_.state = std::move(state);
  }

  void SetError(const Status& error);

  // Persists the status for `kizuna peer list` (at most once a second unless
  // forced; a skipped save is made up by FlushStatus from the main loop).
  void SaveStatus(bool force);

  void FlushStatus();

  int64_t PullCursor(const std::string& collection) {
    std::lock_guard lock(mutex_);
    auto it = status_.pull_cursors.find(collection);
    return it == status_.pull_cursors.end() ? 0 : it->second;
  }

  void SetPullCursor(const std::string& collection, int64_t cursor) {
    {
      std::lock_guard lock(mutex_);
      status_.pull_cursors[collection] = cursor;
    }
    SaveStatus(false);
  }

  // Rights that grow reach back: the partner tells us, with every page and
  // at the start of every stream, the entitlement it serves us under. When it
  // is not the one our cursor was taken with, what it withheld then may be
  // due now: the cursor starts over (repeats are stored as already present).
  // True when the cursor was reset.
  bool EntitlementChanged(const std::string& collection, std::string_view entitlement);

  std::string PullEntitlement(const std::string& collection) {
    std::lock_guard lock(mutex_);
    auto it = status_.pull_entitlements.find(collection);
    return it == status_.pull_entitlements.end() ? "" : it->second;
  }

  // ---- discovery

  Status Discover(http::Client& client);

  std::vector<RemoteCollection> PulledCollections() const;

  // ---- receiving

  // Stores what the partner sent (each object validated; invalid ones are
  // refused one by one) and records it in the audit log.
  Status Ingest(const json::array& objects, const RemoteCollection& remote,
                std::string_view channel);

  // Ingest's work for the objects bound for one of our collections.
  Status IngestInto(const store::Collection& into, const json::array& objects,
                    const std::string& remote_collection, std::string_view channel);

  void Reject() {
    std::lock_guard lock(mutex_);
    ++status_.rejected;
  }

  // Pulls one collection from its cursor to the end, page by page (the
  // server's `next`, with the original added_after repeated on every page).
  Status PullCollection(http::Client& client, const RemoteCollection& collection);

  // ---- pushing

  Status PushPending(http::Client& client);

  // The bus has changes past the push cursor (called on the bus's thread).
  void PushReady() { Signal(&PeerWorker::push_ready_); }

  bool TakePushReady() {
    std::lock_guard lock(mutex_);
    return std::exchange(push_ready_, false);
  }

  // POSTs one envelope and follows its status resource until it is complete.
  Status PushBatch(http::Client& client, const std::string& body, std::vector<AuditEntry>* entries);

  // ---- the live stream of one collection

  void StreamLoop(RemoteCollection collection);

  Status Stream(http::Client& client, const RemoteCollection& collection);

  // ---- the main loop

  Status Cycle(http::Client& client);

  void Run();

  const FederationContext context_;
  const node::PeerConfig config_;
  const std::function<std::shared_ptr<const sharing::SharingPolicy>()> policy_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  bool rediscover_ = false;
  bool push_ready_ = false;
  std::set<http::Client*> clients_;
  PeerStatus status_;
  int64_t last_status_save_us_ = 0;
  bool status_dirty_ = false;           // a change not persisted yet
  uint64_t last_ingest_added_ = 0;      // new versions in the last Ingest (all its collections)
  std::set<std::string> streaming_;     // collections a stream thread owns
  std::set<std::string> unstreamable_;  // collections the partner streams not
  std::vector<std::thread> stream_threads_;
  std::thread main_;

  std::string api_root_;  // guarded by mutex_: stream threads read it
  // Main-thread state (discovery results).
  std::vector<RemoteCollection> remote_;
  std::atomic<bool> push_enabled_{false};
  std::string push_url_;
  std::string push_entitlement_;  // guarded by mutex_
  // Main thread only; declared last so it unsubscribes before the rest goes.
  std::unique_ptr<bus::Subscription> push_subscription_;
};

}  // namespace kizuna::federation
