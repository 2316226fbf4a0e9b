// Internal to the correlation index: open-addressing multimaps (linear
// probing, backward-shift deletion, no tombstones) that map a key to every
// indicator ref stored under it. They exist because std::unordered_map costs a
// node allocation and a pointer chase per entry, which the index's memory and
// lookup targets cannot afford.
//
// Not thread-safe: IndicatorIndex guards them. Refs must be < kEmptyRef.
#pragma once

#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "correlation/snapshot_io.h"

namespace kizuna::correlation::internal {

inline constexpr uint32_t kEmptyRef = 0xFFFFFFFFu;

// Tables grow at 3/4 load; power-of-two capacities.
inline size_t CapacityFor(size_t n) {
  size_t cap = 16;
  while (cap * 3 < n * 4) cap *= 2;
  return cap;
}

inline uint64_t Mix64(uint64_t x) {  // murmur3 fmix64
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// Hash of arbitrary bytes, 8 at a time (for digests, URLs and other values).
inline uint64_t HashBytes(std::string_view s, uint64_t seed) {
  uint64_t h = seed ^ (s.size() * 0x9E3779B97F4A7C15ull);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ Mix64(w)) * 0x9E3779B97F4A7C15ull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return Mix64(h ^ tail ^ (static_cast<uint64_t>(s.size() - i) << 56));
}

// What an IPv4 lookup needs to know about one /16 block, in half a cache
// line, so that most addresses are rejected with one memory access into a
// 2 MiB table (65536 blocks) instead of a probe per prefix length into
// multi-megabyte hash tables. Bits are only ever set by inserts; removals
// leave them stale (a false "maybe", never a false "no") until the owner
// rebuilds the table from its hash tables.
struct alignas(32) V4Block {
  static constexpr uint32_t kShortBit = 0x80000000u;  // in lengths
  static constexpr int kFilterBits = 160;

  // Bit len-16 for each length 16..32 with an entry in the block; kShortBit
  // when a prefix shorter than /16 covers the block.
  uint32_t lengths = 0;
  // Bloom filter (3 bits a key) over the block's /32 entries.
  uint32_t exact[kFilterBits / 32] = {};
  // Bit per /22 of the block: some network of length 16..31 intersects it.
  uint64_t sub = 0;

  static uint64_t ExactHash(uint32_t address) {
    uint64_t h = uint64_t{address} * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    return h * 0xc4ceb9fe1a85ec53ull;
  }
  static uint32_t FilterBit(uint64_t h, int i) {
    return static_cast<uint32_t>((((h >> (43 - 21 * i)) & 0x1FFFFF) * kFilterBits) >> 21);
  }
  bool MaybeExact(uint32_t address) const {
    uint64_t h = ExactHash(address);
    uint32_t a = FilterBit(h, 0), b = FilterBit(h, 1), c = FilterBit(h, 2);
    return ((exact[a >> 5] >> (a & 31)) & (exact[b >> 5] >> (b & 31)) &
            (exact[c >> 5] >> (c & 31)) & 1) != 0;
  }
  // Lengths 16..31 whose networks may cover `address` (bits as in lengths).
  uint32_t MaybeCovering(uint32_t address) const {
    return ((sub >> ((address >> 10) & 63)) & 1) != 0 ? (lengths & 0xFFFFu) : 0;
  }

  // Records a network of length 16..32 inside this block.
  void Mark(uint32_t network, int length) {
    lengths |= 1u << (length - 16);
    if (length == 32) {
      uint64_t h = ExactHash(network);
      for (int i = 0; i < 3; ++i) {
        uint32_t bit = FilterBit(h, i);
        exact[bit >> 5] |= 1u << (bit & 31);
      }
      return;
    }
    uint32_t first = (network >> 10) & 63;
    int count = length <= 22 ? 1 << (22 - length) : 1;
    sub |= (count == 64 ? ~uint64_t{0} : ((uint64_t{1} << count) - 1)) << first;
  }
};
static_assert(sizeof(V4Block) == 32);

// uint32 key -> refs. 8 bytes a slot.
class U32Multimap {
 public:
  struct Slot {
    uint32_t key;
    uint32_t ref;
  };

  size_t size() const { return size_; }
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }
  void Reserve(size_t n) {
    if (CapacityFor(n) > slots_.size()) Rehash(CapacityFor(n));
  }

  void Insert(uint32_t key, uint32_t ref) {
    if (slots_.empty() || (size_ + 1) * 4 > slots_.size() * 3) {
      Rehash(slots_.empty() ? 16 : slots_.size() * 2);
    }
    size_t i = Home(key);
    while (slots_[i].ref != kEmptyRef) i = (i + 1) & mask_;
    slots_[i] = {key, ref};
    ++size_;
  }

  bool Erase(uint32_t key, uint32_t ref) {
    if (slots_.empty()) return false;
    size_t i = Home(key);
    while (slots_[i].ref != kEmptyRef) {
      if (slots_[i].key == key && slots_[i].ref == ref) {
        ShiftBack(i);
        --size_;
        return true;
      }
      i = (i + 1) & mask_;
    }
    return false;
  }

  // Calls f(ref) for each ref under `key` until f returns false.
  template <typename F>
  void ForEach(uint32_t key, F&& f) const {
    if (slots_.empty()) return;
    size_t i = Home(key);
    while (slots_[i].ref != kEmptyRef) {
      if (slots_[i].key == key && !f(slots_[i].ref)) return;
      i = (i + 1) & mask_;
    }
  }

  // Where a lookup of `key` starts: for software prefetching in batches.
  const void* ProbeAddress(uint32_t key) const {
    return slots_.empty() ? nullptr : &slots_[Home(key)];
  }

  template <typename F>
  void ForEachSlot(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.ref != kEmptyRef) f(s.key, s.ref);
    }
  }

  // Snapshots (IndicatorIndex::SaveTo): the slots as they are. Load
  // refuses a table that could not have been written by Save (capacity not
  // a power of two, fuller than 3/4, a ref not below `ref_limit`).
  void Save(SnapshotWriter& out) const { out.Array(slots_); }
  bool Load(SnapshotReader& in, uint32_t ref_limit) {
    std::vector<Slot> slots;
    if (!in.Array(&slots)) return false;
    if (!slots.empty() && (slots.size() < 16 || !std::has_single_bit(slots.size()))) return false;
    size_t size = 0;
    for (const Slot& s : slots) {
      if (s.ref == kEmptyRef) continue;
      if (s.ref >= ref_limit) return false;
      ++size;
    }
    if (size * 4 > slots.size() * 3) return false;
    slots_ = std::move(slots);
    size_ = size;
    mask_ = slots_.empty() ? 0 : slots_.size() - 1;
    shift_ = slots_.empty() ? 64 : 64 - std::countr_zero(slots_.size());
    return true;
  }

 private:
  size_t Home(uint32_t key) const {
    return static_cast<size_t>(((key ^ (key >> 15)) * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void Rehash(size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{0, kEmptyRef});
    slots_.shrink_to_fit();
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    for (const Slot& s : old) {
      if (s.ref == kEmptyRef) continue;
      size_t i = Home(s.key);
      while (slots_[i].ref != kEmptyRef) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  // Backward-shift deletion keeps every key reachable from its home slot.
  void ShiftBack(size_t hole) {
    size_t j = hole;
    while (true) {
      j = (j + 1) & mask_;
      if (slots_[j].ref == kEmptyRef) break;
      size_t home = Home(slots_[j].key);
      bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{0, kEmptyRef};
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

// Byte-string key (with a one-byte tag, e.g. the observable kind) -> refs.
// Each distinct (tag, bytes) is stored once in an arena as
// [tag u8][length u16][bytes]; a slot is {hash high 32 bits, arena offset,
// ref} = 12 bytes. The caller supplies the 64-bit hash so that domains can
// use a hash computed right to left (one pass gives every parent's hash).
// The home slot comes from the hash's high bits, which the slot keeps, so
// growing and deleting never read the arena.
class StringMultimap {
 public:
  struct Slot {
    uint32_t hash_hi;
    uint32_t offset;
    uint32_t ref;
  };
  static constexpr size_t kMaxLength = 0xFFFF;

  size_t size() const { return size_; }
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot) + arena_.capacity(); }
  size_t ArenaGarbage() const { return garbage_; }
  size_t ArenaSize() const { return arena_.size(); }
  void Reserve(size_t n, size_t arena_bytes) {
    if (CapacityFor(n) > slots_.size()) Rehash(CapacityFor(n));
    arena_.reserve(arena_bytes);
  }

  uint8_t TagAt(uint32_t offset) const { return static_cast<uint8_t>(arena_[offset]); }
  std::string_view BytesAt(uint32_t offset) const {
    uint16_t len;
    std::memcpy(&len, arena_.data() + offset + 1, 2);
    return {arena_.data() + offset + 3, len};
  }

  // Stores (tag, bytes) under `ref`, sharing the arena copy with equal keys.
  // Returns the arena offset (the key's handle for Erase).
  uint32_t Insert(uint64_t hash, uint8_t tag, std::string_view bytes, uint32_t ref) {
    assert(bytes.size() <= kMaxLength);
    uint32_t offset = FindOffset(hash, tag, bytes);
    if (offset == kEmptyRef) {
      offset = static_cast<uint32_t>(arena_.size());
      arena_.push_back(static_cast<char>(tag));
      uint16_t len = static_cast<uint16_t>(bytes.size());
      arena_.append(reinterpret_cast<const char*>(&len), 2);
      arena_.append(bytes);
    }
    if (slots_.empty() || (size_ + 1) * 4 > slots_.size() * 3) {
      Rehash(slots_.empty() ? 16 : slots_.size() * 2);
    }
    size_t i = Home(static_cast<uint32_t>(hash >> 32));
    while (slots_[i].ref != kEmptyRef) i = (i + 1) & mask_;
    slots_[i] = {static_cast<uint32_t>(hash >> 32), offset, ref};
    ++size_;
    return offset;
  }

  bool Erase(uint64_t hash, uint32_t offset, uint32_t ref) {
    if (slots_.empty()) return false;
    uint32_t hi = static_cast<uint32_t>(hash >> 32);
    size_t i = Home(hi);
    bool erased = false;
    while (slots_[i].ref != kEmptyRef) {
      if (slots_[i].offset == offset && slots_[i].ref == ref) {
        ShiftBack(i);
        --size_;
        erased = true;
        break;
      }
      i = (i + 1) & mask_;
    }
    if (!erased) return false;
    // The arena copy is garbage once no slot uses it.
    bool still_used = false;
    for (i = Home(hi); slots_[i].ref != kEmptyRef; i = (i + 1) & mask_) {
      if (slots_[i].offset == offset) {
        still_used = true;
        break;
      }
    }
    if (!still_used) garbage_ += 3 + BytesAt(offset).size();
    return true;
  }

  // Calls f(ref) for each ref under (tag, bytes) until f returns false.
  template <typename F>
  void ForEach(uint64_t hash, uint8_t tag, std::string_view bytes, F&& f) const {
    if (slots_.empty()) return;
    uint32_t hi = static_cast<uint32_t>(hash >> 32);
    for (size_t i = Home(hi); slots_[i].ref != kEmptyRef; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash_hi == hi && Equals(s.offset, tag, bytes) && !f(s.ref)) return;
    }
  }

  const void* ProbeAddress(uint64_t hash) const {
    return slots_.empty() ? nullptr : &slots_[Home(static_cast<uint32_t>(hash >> 32))];
  }

  // Copies the live keys into a fresh arena and returns old -> new offsets
  // so the owner can fix the offsets it keeps.
  std::unordered_map<uint32_t, uint32_t> CompactArena() {
    std::unordered_map<uint32_t, uint32_t> moved;
    std::string fresh;
    fresh.reserve(arena_.size() - garbage_);
    for (Slot& s : slots_) {
      if (s.ref == kEmptyRef) continue;
      auto [it, inserted] = moved.try_emplace(s.offset, static_cast<uint32_t>(fresh.size()));
      if (inserted) fresh.append(arena_, s.offset, 3 + BytesAt(s.offset).size());
      s.offset = it->second;
    }
    arena_.swap(fresh);
    garbage_ = 0;
    return moved;
  }

  // Snapshots (IndicatorIndex::SaveTo): slots and arena as they are. Load
  // refuses a table that could not have been written by Save (see
  // U32Multimap::Load; every slot's key must lie inside the arena).
  void Save(SnapshotWriter& out) const {
    out.Array(slots_);
    out.String(arena_);
    out.U64(garbage_);
  }
  bool Load(SnapshotReader& in, uint32_t ref_limit) {
    std::vector<Slot> slots;
    std::string arena;
    uint64_t garbage;
    if (!in.Array(&slots) || !in.String(&arena) || !in.U64(&garbage)) return false;
    if (!slots.empty() && (slots.size() < 16 || !std::has_single_bit(slots.size()))) return false;
    if (slots.size() > (size_t{1} << 32) || garbage > arena.size()) return false;
    size_t size = 0;
    for (const Slot& s : slots) {
      if (s.ref == kEmptyRef) continue;
      if (s.ref >= ref_limit || !KeyInside(arena, s.offset)) return false;
      ++size;
    }
    if (size * 4 > slots.size() * 3) return false;
    slots_ = std::move(slots);
    arena_ = std::move(arena);
    size_ = size;
    garbage_ = garbage;
    mask_ = slots_.empty() ? 0 : slots_.size() - 1;
    shift_ = slots_.empty() ? 32 : 32 - std::countr_zero(slots_.size());
    return true;
  }
  // Whether a [tag][length][bytes] key starts at `offset` and ends inside the arena.
  static bool KeyInside(std::string_view arena, uint64_t offset) {
    if (offset + 3 > arena.size()) return false;
    uint16_t len;
    std::memcpy(&len, arena.data() + offset + 1, 2);
    return offset + 3 + len <= arena.size();
  }
  bool KeyInside(uint64_t offset) const { return KeyInside(arena_, offset); }

 private:
  size_t Home(uint32_t hash_hi) const { return shift_ >= 32 ? 0 : hash_hi >> shift_; }

  bool Equals(uint32_t offset, uint8_t tag, std::string_view bytes) const {
    const char* p = arena_.data() + offset;
    uint16_t len;
    std::memcpy(&len, p + 1, 2);
    return static_cast<uint8_t>(p[0]) == tag && len == bytes.size() &&
           std::memcmp(p + 3, bytes.data(), len) == 0;
  }

  uint32_t FindOffset(uint64_t hash, uint8_t tag, std::string_view bytes) const {
    uint32_t found = kEmptyRef;
    if (slots_.empty()) return found;
    uint32_t hi = static_cast<uint32_t>(hash >> 32);
    for (size_t i = Home(hi); slots_[i].ref != kEmptyRef; i = (i + 1) & mask_) {
      if (slots_[i].hash_hi == hi && Equals(slots_[i].offset, tag, bytes)) {
        return slots_[i].offset;
      }
    }
    return found;
  }

  void Rehash(size_t capacity) {
    assert(capacity <= (size_t{1} << 32));
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{0, 0, kEmptyRef});
    slots_.shrink_to_fit();
    mask_ = capacity - 1;
    shift_ = 32 - std::countr_zero(capacity);
    for (const Slot& s : old) {
      if (s.ref == kEmptyRef) continue;
      size_t i = Home(s.hash_hi);
      while (slots_[i].ref != kEmptyRef) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  void ShiftBack(size_t hole) {
    size_t j = hole;
    while (true) {
      j = (j + 1) & mask_;
      if (slots_[j].ref == kEmptyRef) break;
      size_t home = Home(slots_[j].hash_hi);
      bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{0, 0, kEmptyRef};
  }

  std::vector<Slot> slots_;
  std::string arena_;
  size_t size_ = 0;
  size_t garbage_ = 0;
  size_t mask_ = 0;
  int shift_ = 32;
};

}  // namespace kizuna::correlation::internal
