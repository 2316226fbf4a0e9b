// Internal to the Correlator: what it tracks per indicator, shared by
// correlator.cc (following the store) and correlator_snapshot.cc (saving and
// loading it). Guarded by the correlator's mutex like the rest of its state.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "correlation/correlator.h"

namespace kizuna::correlation {

namespace internal {

// An indicator's (collection number, newest version there) pairs. Almost
// always one: that one is kept inline, so that tracking a million indicators
// costs no allocation each; a second collection moves them to the heap.
class CollectionVersions {
 public:
  using Entry = std::pair<uint32_t, int64_t>;
  std::span<Entry> entries() {
    return heap_.empty() ? std::span<Entry>(&one_, count_) : std::span<Entry>(heap_);
  }
  std::span<const Entry> entries() const {
    return heap_.empty() ? std::span<const Entry>(&one_, count_) : std::span<const Entry>(heap_);
  }
  bool empty() const { return heap_.empty() && count_ == 0; }
  void Add(uint32_t collection, int64_t version) {
    if (empty()) {
      one_ = {collection, version};
      count_ = 1;
      return;
    }
    if (heap_.empty()) heap_.push_back(one_);
    heap_.emplace_back(collection, version);
  }
  void EraseAt(size_t i) {
    if (heap_.empty()) {
      count_ = 0;
      return;
    }
    heap_.erase(heap_.begin() + static_cast<ptrdiff_t>(i));
    if (heap_.size() == 1) {
      one_ = heap_.front();
      count_ = 1;
      std::vector<Entry>().swap(heap_);
    }
  }

 private:
  Entry one_{};
  uint32_t count_ = 0;  // 0 or 1: whether one_ is set (when heap_ is empty)
  std::vector<Entry> heap_;
};

}  // namespace internal

struct Correlator::Tracked {
  internal::CollectionVersions versions;
  internal::CollectionVersions::Entry* Find(uint32_t collection) {
    for (auto& v : versions.entries()) {
      if (v.first == collection) return &v;
    }
    return nullptr;
  }
  int64_t placed_version = -1;  // the version indexed / evaluated
  bool in_index = false;
};

struct Correlator::PatternIndicator {
  IndicatorMeta meta;
  pattern::Pattern pattern;
  std::string text;  // the pattern as written (what a snapshot keeps)
};

}  // namespace kizuna::correlation
