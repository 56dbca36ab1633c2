#pragma once
// Pre-faulting the heap a short-lived process is about to use.
//
// On the virtual machines the CLI runs on, the first touch of a fresh memory
// page costs ~12 us (a page fault and its exit to the hypervisor), while
// populating pages in one madvise(MADV_POPULATE_WRITE) costs ~1 us each
// (`arcade-bench` measures both). Telemetry's append touches a few
// dozen fresh heap pages (SQLite's parser, page cache and statements), so
// populating them up front is most of what it takes to keep the append
// under a millisecond. Elsewhere the call is cheap and changes nothing.
#include <cstddef>

namespace arcade {

// Grows the malloc heap's free top by about `bytes` and populates those
// pages, so the next allocations land on pages already mapped. Best effort:
// returns false (and changes nothing) where the kernel does not cooperate.
bool prefault_heap(std::size_t bytes);

// Maps in, in one call, the code of the shared library that contains
// `symbol` (e.g. SQLite's), whose pages would otherwise fault in one by one
// on first execution. Best effort, like prefault_heap.
void prefault_library_code(const void* symbol);

}  // namespace arcade
