#include "alerts/store_follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace kizuna::alerts {

Result<int64_t> GetCursor(AlertsDb& db, std::string_view name) {
  auto lock = db.Lock();
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement get,
                          db.connection().Prepare("SELECT value FROM cursors WHERE name = ?1"));
  get.Bind(1, name);
  KIZUNA_ASSIGN_OR_RETURN(bool row, get.Step());
  return row ? get.ColumnInt(0) : 0;
}

Status SetCursor(store::sqlite::Connection& c, std::string_view name, int64_t value) {
  KIZUNA_ASSIGN_OR_RETURN(store::sqlite::Statement set,
                          c.Prepare("INSERT INTO cursors(name, value) VALUES(?1, ?2) "
                                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value"));
  set.Bind(1, name).Bind(2, value);
  return set.Run();
}

Status SetCursor(AlertsDb& db, std::string_view name, int64_t value) {
  auto lock = db.Lock();
  return SetCursor(db.connection(), name, value);
}

Status StoreFollower::CatchUp() {
  KIZUNA_ASSIGN_OR_RETURN(int64_t cursor, GetCursor(*options_.db, options_.cursor));
  store::ChangeQuery query;
  query.types = options_.types;
  query.include_origin = true;
  query.limit = options_.limit;
  query.after_seq = cursor;
  for (;;) {
    KIZUNA_ASSIGN_OR_RETURN(std::vector<store::Change> changes, options_.store->ListChanges(query));
    if (changes.empty()) break;
    KIZUNA_RETURN_IF_ERROR(options_.apply(changes));
    query.after_seq = changes.back().seq;
    KIZUNA_RETURN_IF_ERROR(SetCursor(*options_.db, options_.cursor, query.after_seq));
  }
  return Status::Ok();
}

Status StoreFollower::Start() {
  // What came while the node was down, read by type; then the bus.
  KIZUNA_ASSIGN_OR_RETURN(int64_t head, options_.store->LastChangeSeq());
  KIZUNA_RETURN_IF_ERROR(CatchUp());
  KIZUNA_ASSIGN_OR_RETURN(int64_t cursor, GetCursor(*options_.db, options_.cursor));
  cursor = std::max(cursor, head);
  KIZUNA_RETURN_IF_ERROR(SetCursor(*options_.db, options_.cursor, cursor));
  if (options_.bus == nullptr) return Status::Ok();
  bus::SubscriptionOptions subscription;
  subscription.name = options_.name;
  subscription.after_seq = cursor;
  subscription.batch_limit = options_.limit;
  subscription_ = options_.bus->Subscribe(std::move(subscription));
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void StoreFollower::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  subscription_.reset();
}

void StoreFollower::Loop() {
  while (!stopping_.load()) {
    auto changes = subscription_->Next(std::chrono::milliseconds(250));
    Status status = changes.status();
    const bool had_changes = changes.ok() && !changes->empty();
    if (had_changes) {
      status = options_.apply(*changes);
      if (status.ok()) status = SetCursor(*options_.db, options_.cursor, subscription_->cursor());
      if (!status.ok()) subscription_->Seek(changes->front().seq - 1);  // again, later
    }
    if (status.ok() && options_.after) status = options_.after(had_changes);
    if (!status.ok()) {
      spdlog::warn("alerts: {}: {}", options_.name, status.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

}  // namespace kizuna::alerts
