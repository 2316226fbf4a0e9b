// Memory helpers for the hot paths that fill large fresh buffers (the
// correlation snapshot load, the stream matcher's answer arena, the
// alerting ingest).
// Thread-safe; owns nothing.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace kizuna {

namespace internal {
void* MapZeroedPages(size_t bytes);  // nullptr when out of memory
void UnmapPages(void* data, size_t bytes);
}  // namespace internal

// A fixed-size array of zero bytes whose pages the kernel maps on first use:
// making one costs no page fault and no write, however large (a 2 MiB
// lookup table of which a small index touches a few pages, a cache table
// sized for the worst case). Page-aligned. For types of which all-zero
// bytes are a valid value (plain structs, integers; no constructor runs).
template <typename T>
class ZeroedArray {
  static_assert(std::is_trivially_destructible_v<T> && std::is_trivially_copyable_v<T>);

 public:
  ZeroedArray() = default;
  explicit ZeroedArray(size_t size) : size_(size) {
    data_ = static_cast<T*>(internal::MapZeroedPages(size * sizeof(T)));
    if (data_ == nullptr && size != 0) throw std::bad_alloc();
  }
  ZeroedArray(ZeroedArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  ZeroedArray& operator=(ZeroedArray&& other) noexcept {
    swap(other);
    return *this;
  }
  ~ZeroedArray() {
    if (data_ != nullptr) internal::UnmapPages(data_, size_ * sizeof(T));
  }
  void swap(ZeroedArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// For a command that fills and frees large buffers batch after batch (the
// alerting ingest): freed memory stays in the process for the next batch
// instead of going back to the kernel, which then faults every page in
// again (a 1M-row ingest spent a fifth of its time so). glibc's defaults map
// a block over 128 KiB apart and give back a heap top over 128 KiB; here
// blocks up to 32 MiB come from the heap and up to 512 MiB of free heap is
// kept. Process-wide: call it at the start of such a command, not in a
// long-running node.
void KeepFreedMemoryForReuse();

// Faults in the pages of a fresh buffer of at least 1 MiB at once, one
// system call instead of a page fault per 4 KiB as it is first written (on
// kernels without MADV_POPULATE_WRITE, and for smaller buffers: nothing).
void PrefaultForWriting(void* data, size_t bytes);

}  // namespace kizuna
