// Memory helpers for the hot paths that fill large fresh buffers (the
// correlation snapshot load, the stream matcher's answer arena).
// Thread-safe; owns nothing.
#pragma once

#include <cstddef>

namespace kizuna {

// Faults in the pages of a fresh buffer of at least 1 MiB at once, one
// system call instead of a page fault per 4 KiB as it is first written (on
// kernels without MADV_POPULATE_WRITE, and for smaller buffers: nothing).
void PrefaultForWriting(void* data, size_t bytes);

}  // namespace kizuna
