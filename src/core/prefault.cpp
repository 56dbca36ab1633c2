#include "core/prefault.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace arcade {

bool prefault_heap(std::size_t bytes) {
    // Below glibc's mmap threshold (128 KiB) a block comes from the top of
    // the heap, and freeing it gives it back to the top (not to the kernel:
    // the top stays under the trim threshold), where later allocations start.
    constexpr std::size_t kMax = 120 * 1024;
    if (bytes > kMax) bytes = kMax;
    void* block = std::malloc(bytes);
    if (block == nullptr) return false;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    auto begin = (reinterpret_cast<std::uintptr_t>(block) + page - 1) & ~(page - 1);
    auto end = (reinterpret_cast<std::uintptr_t>(block) + bytes) & ~(page - 1);
    bool populated = end > begin && ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) == 0;
    std::free(block);
    return populated;
}

void prefault_library_code(const void* symbol) {
    Dl_info info{};
    link_map* map = nullptr;
    if (::dladdr1(symbol, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0 || map == nullptr) return;
    std::uintptr_t base = map->l_addr;  // the library's load address, as dl_iterate_phdr reports it
    ::dl_iterate_phdr(
        [](dl_phdr_info* lib, std::size_t, void* arg) -> int {
            if (lib->dlpi_addr != *static_cast<std::uintptr_t*>(arg)) return 0;
            const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
            for (int i = 0; i < lib->dlpi_phnum; ++i) {
                const auto& ph = lib->dlpi_phdr[i];
                if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
                auto begin = (lib->dlpi_addr + ph.p_vaddr) & ~(page - 1);
                auto end = lib->dlpi_addr + ph.p_vaddr + ph.p_memsz;
                ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
            }
            return 1;
        },
        &base);
}

}  // namespace arcade
