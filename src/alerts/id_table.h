// IdTable: event id -> a 64-bit value, for the ingester's millions of
// lookups per run. Event ids are already uniform hashes, so an
// open-addressing table with linear probing over one flat array (16 bytes
// an entry, at most half full) beats a node-based map by several times in
// time and memory. Id 0 is stored apart (it is a valid, if unlikely, id).
// A value; not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace kizuna::alerts {

class IdTable {
 public:
  std::optional<uint64_t> Find(int64_t id) const {
    if (id == 0) return zero_;
    if (slots_.empty()) return std::nullopt;
    for (size_t i = Home(id);; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.id == id) return e.value;
      if (e.id == 0) return std::nullopt;
    }
  }
  // Starts loading where `id` would be (a later Find or Put waits less).
  void Prefetch(int64_t id) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Home(id)]);
  }
  // Inserts or replaces.
  void Put(int64_t id, uint64_t value) {
    if (id == 0) {
      zero_ = value;
      return;
    }
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    for (size_t i = Home(id);; i = (i + 1) & mask_) {
      Entry& e = slots_[i];
      if (e.id == id) {
        e.value = value;
        return;
      }
      if (e.id == 0) {
        e = Entry{id, value};
        ++size_;
        return;
      }
    }
  }
  size_t size() const { return size_ + (zero_ ? 1 : 0); }
  // Empties it but keeps its capacity: the ingester clears it after every
  // batch and fills it again with about as many ids, which would otherwise
  // grow it back from 1,024 slots, rehashing at each doubling.
  void Clear() {
    std::fill(slots_.begin(), slots_.end(), Entry{});
    size_ = 0;
    zero_.reset();
  }

 private:
  struct Entry {
    int64_t id = 0;
    uint64_t value = 0;
  };
  size_t Home(int64_t id) const {
    // The ids are hashes already; mix once more so that ids differing only
    // in high bits still spread.
    uint64_t h = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ULL;
    return static_cast<size_t>(h >> 20) & mask_;
  }
  void Grow() {
    std::vector<Entry> old = std::move(slots_);
    const size_t capacity = old.empty() ? 1024 : old.size() * 2;
    slots_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const Entry& e : old) {
      if (e.id != 0) Put(e.id, e.value);
    }
  }

  std::vector<Entry> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::optional<uint64_t> zero_;
};

}  // namespace kizuna::alerts
