#include "federation/stream.h"

#include <chrono>

#include "common/encoding.h"
#include "http/sse.h"
#include "sharing/policy.h"
#include "spdlog/spdlog.h"

namespace kizuna::federation {
namespace {

using SteadyClock = std::chrono::steady_clock;

class CollectionStream final : public http::BodyStream {
 public:
  CollectionStream(store::Store& store, StreamOptions options)
      : store_(store), options_(std::move(options)), cursor_(options_.after_seq) {}

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
    const uint64_t generation = options_.notifier ? options_.notifier->generation() : 0;
    const bool due = generation != seen_generation_ || backlog_ ||
                     now - last_poll_ >= std::chrono::milliseconds(options_.store_poll_ms);
    if (due) {
      seen_generation_ = generation;
      last_poll_ = now;
      auto event = Poll();
      if (!event) return std::nullopt;  // the store failed: end; the client resumes
      if (!event->empty()) {
        last_sent_ = now;
        return event;
      }
    }
    if (now - last_sent_ >= std::chrono::milliseconds(options_.keepalive_ms)) {
      last_sent_ = now;
      return http::FormatSseComment("keep-alive");
    }
    return std::string();
  }

 private:
  // The next event ("" when nothing new is visible), nullopt on a store error.
  std::optional<std::string> Poll() {
    store::ChangeQuery query;
    query.after_seq = cursor_;
    query.limit = options_.max_objects_per_event;
    query.include_origin = true;
    auto changes = store_.ListChanges(query);
    if (!changes.ok()) {
      spdlog::warn("stream: reading changes failed: {}", changes.status().ToString());
      return std::nullopt;
    }
    backlog_ = changes->size() == query.limit;
    std::string objects;
    size_t count = 0;
    std::vector<store::StoredObject> released;
    for (const store::Change& change : *changes) {
      cursor_ = change.seq;
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
    event.id = std::to_string(cursor_);
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

  store::Store& store_;
  const StreamOptions options_;
  int64_t cursor_;
  bool started_ = false;
  bool backlog_ = false;
  uint64_t seen_generation_ = 0;
  SteadyClock::time_point last_poll_{};
  SteadyClock::time_point last_sent_{};
  SteadyClock::time_point last_authorized_{};
};

}  // namespace

http::Response StreamResponse(store::Store& store, StreamOptions options) {
  http::Response response;
  response.status = 200;
  response.headers.Set("Content-Type", "text/event-stream");
  response.headers.Set("Cache-Control", "no-store");
  response.headers.Set("X-Accel-Buffering", "no");
  response.stream = std::make_shared<CollectionStream>(store, std::move(options));
  response.stream_poll_interval = std::chrono::milliseconds(10);
  return response;
}

}  // namespace kizuna::federation
