#include "api/modules.h"

#include <spdlog/spdlog.h>

namespace kizuna::api {

Status MatchingModule::Start() {
  if (Status loaded = services_->correlator->Refresh(); !loaded.ok()) {
    spdlog::warn("correlation index: {}", loaded.message());
  }
  auto stats = services_->correlator->GetStats();
  spdlog::info("correlation: {} indicators indexed, {} evaluated by pattern", stats.indexed,
               stats.by_pattern);
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
    if (Status applied = services_->correlator->Apply(*changes); !applied.ok()) {
      spdlog::warn("correlation index: {}", applied.message());
    }
  }
}

}  // namespace kizuna::api
