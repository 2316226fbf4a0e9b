// IndicatorIndex::SaveTo / LoadFrom: the index's tables written as they are
// in memory, so that loading costs a few copies instead of the normalization
// and placing of every indicator (what Correlator::LoadSnapshot is for).
#include <algorithm>
#include <mutex>

#include "correlation/indicator_index.h"
#include "correlation/indicator_index_internal.h"

namespace kizuna::correlation {

using internal::kEmptyRef;
using internal::SnapshotReader;
using internal::SnapshotWriter;
using internal::State;
using internal::Table;
using internal::V4Block;

void IndicatorIndex::SaveTo(SnapshotWriter& out) const {
  std::shared_lock lock(mu_);
  out.U64(interner_->size());
  for (size_t i = 0; i < interner_->size(); ++i) out.String(interner_->Lookup(i));
  out.Array(records_);
  out.Array(ref_flags_);
  out.Array(free_records_);
  out.Array(id_slots_);
  out.Array(entry_log_);
  out.U64(entry_log_garbage_);
  for (const auto& table : v4_) table.Save(out);
  // The /16 summaries follow from the tables, but rebuilding them costs a
  // cache miss per network (most of a load's time): saved, without the
  // blocks nothing falls in (a small index's snapshot stays small).
  std::vector<uint32_t> marked;
  std::vector<V4Block> blocks;
  for (uint32_t i = 0; i < v4_blocks_.size(); ++i) {
    const V4Block& block = v4_blocks_[i];
    if (block.lengths == 0 && block.sub == 0 &&
        std::all_of(std::begin(block.exact), std::end(block.exact),
                    [](uint32_t word) { return word == 0; })) {
      continue;
    }
    marked.push_back(i);
    blocks.push_back(block);
  }
  out.Array(marked);
  out.Array(blocks);
  out.U32(v4_short_lengths_);
  out.U64(v4_removed_since_rebuild_);
  v6_.Save(out);
  out.Array(std::span<const uint32_t>(v6_length_count_));
  out.Array(v6_lengths_);
  domain_exact_.Save(out);
  domain_sub_.Save(out);
  values_.Save(out);
  out.U64(suffix_downgrades_);
}

namespace {

bool PowerOfTwoTable(size_t slots, size_t used) {
  return slots == 0 || (slots >= 16 && std::has_single_bit(slots) && used * 4 <= slots * 3);
}

}  // namespace

Status IndicatorIndex::LoadFrom(SnapshotReader& in) {
  auto damaged = [](std::string_view what) {
    return InvalidArgument("correlation snapshot damaged: " + std::string(what));
  };
  // Everything is read into a fresh index and checked before it replaces
  // this one, so a bad snapshot changes nothing.
  IndicatorIndex loaded(clock_, options_);
  uint64_t strings;
  if (!in.Count(&strings, sizeof(uint64_t)) || strings == 0) return damaged("strings");
  std::deque<std::string> interned(strings);
  for (std::string& s : interned) {
    if (!in.String(&s)) return damaged("strings");
  }
  if (!interned[0].empty()) return damaged("strings");
  loaded.interner_->Assign(std::move(interned));
  uint64_t entry_log_garbage;
  if (!in.Array(&loaded.records_) || !in.Array(&loaded.ref_flags_) ||
      !in.Array(&loaded.free_records_) || !in.Array(&loaded.id_slots_) ||
      !in.Array(&loaded.entry_log_) || !in.U64(&entry_log_garbage)) {
    return damaged("records");
  }
  loaded.entry_log_garbage_ = entry_log_garbage;
  const size_t records = loaded.records_.size();
  if (records >= kEmptyRef - 1 || loaded.ref_flags_.size() != records) return damaged("records");
  const uint32_t ref_limit = static_cast<uint32_t>(records);
  for (auto& table : loaded.v4_) {
    if (!table.Load(in, ref_limit)) return damaged("IPv4 table");
  }
  // (A rebuild of the summaries after removals would mark every network:
  // host bits set would mark blocks past the table.)
  bool masked = true;
  for (int length = 0; length < 32; ++length) {
    const uint32_t host_bits = length == 0 ? ~uint32_t{0} : ~(~uint32_t{0} << (32 - length));
    loaded.v4_[length].ForEachSlot(
        [&](uint32_t network, uint32_t) { masked = masked && (network & host_bits) == 0; });
  }
  if (!masked) return damaged("IPv4 network");
  std::vector<uint32_t> marked;
  std::vector<V4Block> blocks;
  uint64_t v4_removed;
  if (!in.Array(&marked) || !in.Array(&blocks) || marked.size() != blocks.size() ||
      !in.U32(&loaded.v4_short_lengths_) || !in.U64(&v4_removed)) {
    return damaged("IPv4 blocks");
  }
  if (marked.size() > 1024) {
    PrefaultForWriting(loaded.v4_blocks_.data(), loaded.v4_blocks_.size() * sizeof(V4Block));
  }
  for (size_t i = 0; i < marked.size(); ++i) {
    if (marked[i] >= loaded.v4_blocks_.size() || (i > 0 && marked[i] <= marked[i - 1])) {
      return damaged("IPv4 blocks");
    }
    loaded.v4_blocks_[marked[i]] = blocks[i];
  }
  loaded.v4_removed_since_rebuild_ = v4_removed;
  std::vector<uint32_t> v6_length_count;
  if (!loaded.v6_.Load(in, ref_limit) || !in.Array(&v6_length_count) ||
      v6_length_count.size() != loaded.v6_length_count_.size() || !in.Array(&loaded.v6_lengths_)) {
    return damaged("IPv6 table");
  }
  std::copy(v6_length_count.begin(), v6_length_count.end(), loaded.v6_length_count_.begin());
  for (uint8_t length : loaded.v6_lengths_) {
    if (length > 128) return damaged("IPv6 lengths");
  }
  uint64_t downgrades;
  if (!loaded.domain_exact_.Load(in, ref_limit) || !loaded.domain_sub_.Load(in, ref_limit) ||
      !loaded.values_.Load(in, ref_limit) || !in.U64(&downgrades)) {
    return damaged("value tables");
  }
  loaded.suffix_downgrades_ = downgrades;

  // Every record's strings and entries must resolve; the counts are derived.
  const size_t string_count = loaded.interner_->size();
  for (size_t ref = 0; ref < records; ++ref) {
    const Record& r = loaded.records_[ref];
    if (r.state > State::kRevoked) return damaged("record state");
    // A lookup trusts the live bit without reading the record.
    if ((loaded.ref_flags_[ref] & 1) != (r.state == State::kLive ? 1 : 0)) {
      return damaged("record flags");
    }
    if (r.state == State::kFree) continue;
    ++(r.state == State::kLive ? loaded.live_records_ : loaded.tombstones_);
    if (r.name >= string_count || r.labels >= string_count || r.producer >= string_count ||
        r.tlp > static_cast<uint8_t>(stix::Tlp::kRed) || r.confidence < -1 || r.confidence > 100) {
      return damaged("record");
    }
    if (r.state != State::kLive) continue;
    if (uint64_t{r.entries_begin} + r.entries_count > loaded.entry_log_.size()) {
      return damaged("entry log");
    }
    loaded.entries_ += r.entries_count;
    for (uint32_t i = r.entries_begin; i < r.entries_begin + r.entries_count; ++i) {
      const EntryRef& e = loaded.entry_log_[i];
      bool ok = false;
      switch (e.table) {
        case Table::kV4:
          ok = e.length <= 32;
          break;
        case Table::kV6:
          ok = loaded.v6_.KeyInside(e.key) && loaded.v6_.TagAt(e.key) <= 128;
          break;
        case Table::kDomainExact:
          ok = loaded.domain_exact_.KeyInside(e.key);
          break;
        case Table::kDomainSub:
          ok = loaded.domain_sub_.KeyInside(e.key);
          break;
        case Table::kValue:
          ok = loaded.values_.KeyInside(e.key);
          break;
      }
      if (!ok) return damaged("entry");
    }
  }
  for (uint32_t ref : loaded.free_records_) {
    if (ref >= records || loaded.records_[ref].state != State::kFree) return damaged("free list");
  }
  for (uint32_t ref : loaded.id_slots_) {
    if (ref == kEmptyRef) continue;
    if (ref >= records || loaded.records_[ref].state == State::kFree) return damaged("id table");
    ++loaded.id_count_;
  }
  if (!PowerOfTwoTable(loaded.id_slots_.size(), loaded.id_count_) ||
      loaded.id_count_ != loaded.live_records_ + loaded.tombstones_) {
    return damaged("id table");
  }

  TakeFrom(loaded);
  return Status::Ok();
}

void IndicatorIndex::TakeFrom(IndicatorIndex& other) {
  std::unique_lock lock(mu_);
  interner_.swap(other.interner_);
  records_.swap(other.records_);
  ref_flags_.swap(other.ref_flags_);
  free_records_.swap(other.free_records_);
  id_slots_.swap(other.id_slots_);
  id_count_ = other.id_count_;
  entry_log_.swap(other.entry_log_);
  entry_log_garbage_ = other.entry_log_garbage_;
  v4_.swap(other.v4_);
  v4_blocks_.swap(other.v4_blocks_);
  v4_short_lengths_ = other.v4_short_lengths_;
  v4_removed_since_rebuild_ = other.v4_removed_since_rebuild_;
  std::swap(v6_, other.v6_);
  v6_length_count_ = other.v6_length_count_;
  v6_lengths_.swap(other.v6_lengths_);
  std::swap(domain_exact_, other.domain_exact_);
  std::swap(domain_sub_, other.domain_sub_);
  std::swap(values_, other.values_);
  live_records_ = other.live_records_;
  tombstones_ = other.tombstones_;
  entries_ = other.entries_;
  suffix_downgrades_ = other.suffix_downgrades_;
}

void IndicatorIndex::Clear() {
  IndicatorIndex fresh(clock_, options_);
  TakeFrom(fresh);
}

}  // namespace kizuna::correlation
