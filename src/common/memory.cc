#include "common/memory.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>

namespace kizuna {

namespace internal {

void* MapZeroedPages(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void UnmapPages(void* data, size_t bytes) { munmap(data, bytes); }

}  // namespace internal

void KeepFreedMemoryForReuse() {
  // Setting either turns off glibc's sliding mmap threshold, so set both.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

void PrefaultForWriting(void* data, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  constexpr uintptr_t kPage = 4096;
  if (bytes < (uintptr_t{1} << 20)) return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kPage - 1) & ~(kPage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kPage - 1);
  // Best effort: an older kernel says EINVAL and the pages fault in as before.
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace kizuna
