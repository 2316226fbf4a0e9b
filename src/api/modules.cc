#include "api/modules.h"

#include <spdlog/spdlog.h>

#include "node/node.h"

namespace kizuna::api {

Status MatchingModule::Start() {
  // A restart reads the snapshot the last run saved and applies only what
  // was stored since, instead of rebuilding the index from the whole store.
  snapshot_interval_ = std::chrono::seconds(services_->node->config().correlation.snapshot_seconds);
  snapshot_path_ =
      services_->node->dir() + "/" + std::string(correlation::Correlator::kSnapshotFile);
  const Status from_snapshot = services_->correlator->LoadSnapshot(snapshot_path_);
  if (!from_snapshot.ok() && from_snapshot.code() != Code::kNotFound) {
    spdlog::warn("correlation index: {}; building it from the store", from_snapshot.message());
  }
  saved_cursor_ = from_snapshot.ok() ? services_->correlator->cursor() : -1;
  if (Status loaded = services_->correlator->Refresh(); !loaded.ok()) {
    spdlog::warn("correlation index: {}", loaded.message());
  }
  auto stats = services_->correlator->GetStats();
  spdlog::info("correlation: {} indicators indexed, {} evaluated by pattern ({})", stats.indexed,
               stats.by_pattern,
               from_snapshot.ok() ? "from the snapshot and the changes since" : "from the store");
  bus::SubscriptionOptions options;
  options.name = "correlation index";
  options.after_seq = services_->correlator->cursor();
  options.batch_limit = 50000;
  subscription_ = services_->bus->Subscribe(std::move(options));
  stopping_ = false;
  follower_ = std::thread([this] { Follow(); });
  return Status::Ok();
}

void MatchingModule::Stop() {
  stopping_ = true;
  if (!follower_.joinable()) return;
  follower_.join();
  subscription_.reset();
  SaveSnapshotIfChanged();
}

void MatchingModule::SaveSnapshotIfChanged() {
  const int64_t cursor = services_->correlator->cursor();
  if (cursor == saved_cursor_) return;
  if (Status saved = services_->correlator->SaveSnapshot(snapshot_path_); !saved.ok()) {
    spdlog::warn("correlation snapshot not saved: {}", saved.message());
    return;
  }
  saved_cursor_ = cursor;
}

void MatchingModule::Follow() {
  // Saved at once when it was missing or behind, then at most every few
  // minutes while changes come in (and at Stop), so a restart or a CLI
  // match never has far to catch up.
  SaveSnapshotIfChanged();
  auto last_save = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    if (std::chrono::steady_clock::now() - last_save > snapshot_interval_) {
      SaveSnapshotIfChanged();
      last_save = std::chrono::steady_clock::now();
    }
    auto changes = subscription_->Next(std::chrono::milliseconds(200));
    if (!changes.ok()) {
      spdlog::warn("correlation index: {}", changes.status().message());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (changes->empty()) continue;
    if (Status applied = services_->correlator->Apply(*changes); !applied.ok()) {
      spdlog::warn("correlation index: {}", applied.message());
    }
  }
}

}  // namespace kizuna::api
