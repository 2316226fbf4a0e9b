// The byte encoding of correlation snapshots (Correlator::SaveSnapshot): a
// writer that appends fixed-width little-endian integers, strings and arrays
// of plain structs to one buffer, and a reader that takes them back with
// every length checked against what is left, so that a truncated or damaged
// file fails to load (false) instead of reading past its end. Which values
// are valid (a ref inside the table, an offset inside the arena) is for the
// loading component to check; this only guarantees the bytes are there.
//
// The checksum (Checksum64) is over the payload, so damage that keeps the
// structure valid (a flipped bit in a network) is caught too.
//
// Not thread-safe; the reader does not own the bytes it reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/memory.h"

namespace kizuna::correlation::internal {

// A fast 64-bit checksum (four independent multiply-xor lanes, so it runs
// at memory speed); not cryptographic: it catches damage, not forgery (the
// snapshot lives beside the store, which is trusted the same way).
uint64_t Checksum64(std::string_view bytes);

class SnapshotWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void I64(int64_t v) { Raw(&v, sizeof v); }
  void String(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  // Plain structs, copied as they are in memory (this file is read back by
  // the same build: the header's format version says so).
  template <typename T>
  void Array(std::span<const T> items) {
    static_assert(std::is_trivially_copyable_v<T>);
    U64(items.size());
    Raw(items.data(), items.size_bytes());
  }
  template <typename T>
  void Array(const std::vector<T>& items) {
    Array(std::span<const T>(items));
  }

  std::string& bytes() { return out_; }

 private:
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class SnapshotReader {
 public:
  explicit SnapshotReader(std::string_view bytes) : in_(bytes) {}

  bool U8(uint8_t* v) { return Raw(v, sizeof *v); }
  bool U32(uint32_t* v) { return Raw(v, sizeof *v); }
  bool U64(uint64_t* v) { return Raw(v, sizeof *v); }
  bool I64(int64_t* v) { return Raw(v, sizeof *v); }
  bool String(std::string* s) {
    uint64_t n;
    if (!U64(&n) || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  // A String's bytes, not copied (valid while the reader's bytes are).
  bool Bytes(std::string_view* s) {
    uint64_t n;
    if (!U64(&n) || n > in_.size()) return false;
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  template <typename T>
  bool Array(std::vector<T>* items) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t n;
    if (!U64(&n) || n > in_.size() / sizeof(T)) return false;
    items->reserve(n);
    PrefaultForWriting(items->data(), n * sizeof(T));
    items->resize(n);
    return Raw(items->data(), n * sizeof(T));
  }
  // How many items a count may promise when each takes at least
  // `min_bytes`: a damaged count cannot make the loader reserve terabytes.
  bool Count(uint64_t* n, size_t min_bytes) { return U64(n) && *n <= in_.size() / min_bytes; }

  bool done() const { return in_.empty(); }

 private:
  bool Raw(void* p, size_t n) {
    if (n > in_.size()) return false;
    if (n != 0) std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

}  // namespace kizuna::correlation::internal
