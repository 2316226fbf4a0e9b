// Internal to IndicatorIndex: the per-indicator record, the entry log and the
// string interner, shared by indicator_index.cc (lookups, writes) and
// indicator_index_snapshot.cc (saving and loading them). Guarded by the
// index's mutex like the rest of its state.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "correlation/indicator_index.h"

namespace kizuna::correlation {

namespace internal {
enum class State : uint8_t { kFree = 0, kLive, kRevoked };
enum class Table : uint8_t { kV4 = 0, kV6, kDomainExact, kDomainSub, kValue };
}  // namespace internal

// 56 bytes per indicator: the metadata the caller needs to act on a match,
// with strings interned (feeds repeat names, label sets and producers).
struct IndicatorIndex::Record {
  std::array<uint8_t, 16> uuid;
  int64_t modified_us;
  int64_t valid_until_us;
  uint32_t name;
  uint32_t labels;
  uint32_t producer;
  uint32_t entries_begin;  // into entry_log_
  uint16_t entries_count;
  uint8_t tlp;
  int8_t confidence;
  internal::State state;
};

// Enough to find an entry again in its table at removal: the IPv4 network
// itself, or the arena offset of the key.
struct IndicatorIndex::EntryRef {
  internal::Table table;
  uint8_t length;  // IPv4 prefix length
  uint32_t key;
};

// Strings by number. The map from string to number is only needed to add
// indicators, so after a snapshot load (Assign) it is built on the first
// Intern rather than while the caller waits for the index.
class IndicatorIndex::Interner {
 public:
  Interner() { Intern(""); }
  uint32_t Intern(const std::string& s) {
    for (; mapped_ < strings_.size(); ++mapped_) {
      ids_.emplace(strings_[mapped_], static_cast<uint32_t>(mapped_));
    }
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    const uint32_t id = static_cast<uint32_t>(strings_.size());
    strings_.push_back(s);
    ids_.emplace(strings_.back(), id);
    ++mapped_;
    bytes_ += s.capacity() + 96;  // deque slot, node, hash bucket: an estimate
    return id;
  }
  const std::string& Lookup(uint32_t id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }
  size_t MemoryBytes() const { return bytes_; }
  // Replaces every string (a snapshot's); strings[0] must be "".
  void Assign(std::deque<std::string> strings) {
    strings_ = std::move(strings);
    ids_.clear();
    mapped_ = 0;
    bytes_ = 0;
    for (const std::string& s : strings_) bytes_ += s.capacity() + 96;
  }

 private:
  std::deque<std::string> strings_;  // stable addresses: ids_ points into it
  std::unordered_map<std::string_view, uint32_t> ids_;
  size_t mapped_ = 0;  // strings_[0, mapped_) are in ids_
  size_t bytes_ = 0;
};

}  // namespace kizuna::correlation
