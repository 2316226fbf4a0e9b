#include "federation/stream.h"

#include <chrono>
#include <mutex>

#include "common/encoding.h"
#include "http/sse.h"
#include "sharing/policy.h"
#include "spdlog/spdlog.h"

namespace kizuna::federation {
namespace {

using SteadyClock = std::chrono::steady_clock;

class CollectionStream final : public http::BodyStream {
 public:
  explicit CollectionStream(StreamOptions options)
      : options_(std::move(options)), waker_(std::make_shared<Waker>()) {
    bus::SubscriptionOptions subscription;
    subscription.name = "stream of " + options_.collection_id;
    subscription.after_seq = options_.after_seq;
    subscription.batch_limit = options_.max_objects_per_event;
    subscription.on_ready = [waker = waker_] { waker->Wake(); };
    subscription_ = options_.bus->Subscribe(std::move(subscription));
  }

  void SetWaker(std::function<void()> wake) override { waker_->Set(std::move(wake)); }

  std::optional<std::string> Next() override {
    const auto now = SteadyClock::now();
    if (!started_) {
      started_ = true;
      last_sent_ = now;
      last_authorized_ = now;
      // Flushes the head at once and tells EventSource clients how soon to come back.
      std::string head =
          "retry: 1000\n" + http::FormatSseComment("kizuna stream of " + options_.collection_id);
      if (!options_.entitlement.empty()) {
        http::SseEvent event;
        event.event = sharing::kEntitlementEvent;
        event.data = options_.entitlement;
        if (auto text = http::FormatSseEvent(event); text.ok()) head += *text;
      }
      return head;
    }
    if (options_.still_allowed && now - last_authorized_ >= std::chrono::seconds(1)) {
      last_authorized_ = now;
      if (!options_.still_allowed()) return std::nullopt;
    }
    auto event = Poll();
    if (!event) return std::nullopt;  // the store failed: end; the client resumes
    if (!event->empty()) {
      last_sent_ = now;
      return event;
    }
    if (now - last_sent_ >= std::chrono::milliseconds(options_.keepalive_ms)) {
      last_sent_ = now;
      return http::FormatSseComment("keep-alive");
    }
    return std::string();
  }

 private:
  // The server's wake function, set and cleared from the I/O thread and
  // called from the bus's thread.
  class Waker {
   public:
    void Set(std::function<void()> wake) {
      std::lock_guard lock(mutex_);
      wake_ = std::move(wake);
    }
    void Wake() {
      std::lock_guard lock(mutex_);
      if (wake_) wake_();
    }

   private:
    std::mutex mutex_;
    std::function<void()> wake_;
  };

  // The next event ("" when nothing new is visible), nullopt on a store error.
  std::optional<std::string> Poll() {
    // Whatever the bus has past our cursor, at once (never waits); past a
    // full batch of other collections' changes, the next batch.
    Result<std::vector<store::Change>> changes = std::vector<store::Change>();
    do {
      changes = subscription_->Next();
      if (!changes.ok()) {
        spdlog::warn("stream: reading changes failed: {}", changes.status().ToString());
        return std::nullopt;
      }
      if (changes->empty()) return std::string();
    } while (!Concerns(*changes) && changes->size() == options_.max_objects_per_event);
    std::string objects;
    size_t count = 0;
    std::vector<store::StoredObject> released;
    const int64_t cursor = changes->back().seq;
    for (const store::Change& change : *changes) {
      if (change.kind != store::Change::Kind::kAdded ||
          change.collection_id != options_.collection_id) {
        continue;
      }
      if (options_.admits && !options_.admits(change.object)) continue;
      if (count++) objects += ',';
      objects += change.object.json;
      if (options_.on_release) {
        store::StoredObject& r = released.emplace_back();
        r.id = change.object.id;
        r.version_us = change.object.version_us;
      }
    }
    if (count == 0) return std::string();
    if (options_.on_release) options_.on_release(released);
    http::SseEvent event;
    event.id = std::to_string(cursor);
    event.event = kStreamEvent;
    event.data =
        "{\"collection\":\"" + options_.collection_id + "\",\"objects\":[" + objects + "]}";
    if (options_.sign) event.fields.emplace_back("signature", options_.sign(event.data));
    auto text = http::FormatSseEvent(event);
    if (!text.ok()) {
      // Serialized JSON has no raw newlines; this would be a bug, not bad input.
      spdlog::error("stream: cannot format an event: {}", text.status().ToString());
      return std::nullopt;
    }
    return std::move(text).value();
  }

  // Whether any change is a new version in our collection.
  bool Concerns(const std::vector<store::Change>& changes) const {
    for (const store::Change& change : changes) {
      if (change.kind == store::Change::Kind::kAdded &&
          change.collection_id == options_.collection_id) {
        return true;
      }
    }
    return false;
  }

  const StreamOptions options_;
  std::shared_ptr<Waker> waker_;
  std::unique_ptr<bus::Subscription> subscription_;
  bool started_ = false;
  SteadyClock::time_point last_sent_{};
  SteadyClock::time_point last_authorized_{};
};

}  // namespace

http::Response StreamResponse(StreamOptions options) {
  http::Response response;
  response.status = 200;
  response.headers.Set("Content-Type", "text/event-stream");
  response.headers.Set("Cache-Control", "no-store");
  response.headers.Set("X-Accel-Buffering", "no");
  response.stream = std::make_shared<CollectionStream>(std::move(options));
  // The bus wakes the stream when something arrives; the interval paces only
  // the once-a-second re-authorization and the keep-alive.
  response.stream_poll_interval = std::chrono::milliseconds(250);
  return response;
}

}  // namespace kizuna::federation
