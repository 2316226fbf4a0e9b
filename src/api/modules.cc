#include "api/modules.h"

#include <spdlog/spdlog.h>

namespace kizuna::api {

Status MatchingModule::Start() {
  if (Status loaded = correlator_.Refresh(); !loaded.ok()) {
    spdlog::warn("correlation index: {}", loaded.message());
  }
  auto stats = correlator_.GetStats();
  spdlog::info("correlation: {} indicators indexed, {} evaluated by pattern", stats.indexed,
               stats.by_pattern);
  bus::SubscriptionOptions options;
  options.name = "correlation index";
  options.after_seq = correlator_.cursor();
  options.batch_limit = 50000;
  subscription_ = bus_.Subscribe(std::move(options));
  stopping_ = false;
  follower_ = std::thread([this] { Follow(); });
  return Status::Ok();
}

void MatchingModule::Stop() {
  stopping_ = true;
  if (follower_.joinable()) follower_.join();
  subscription_.reset();
}

void MatchingModule::Follow() {
  while (!stopping_.load()) {
    auto changes = subscription_->Next(std::chrono::milliseconds(200));
    if (!changes.ok()) {
      spdlog::warn("correlation index: {}", changes.status().message());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (changes->empty()) continue;
    if (Status applied = correlator_.Apply(*changes); !applied.ok()) {
      spdlog::warn("correlation index: {}", applied.message());
    }
  }
}

}  // namespace kizuna::api
