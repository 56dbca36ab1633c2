#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <sys/resource.h>

#include <cstring>
#include <vector>

#include "core/prefault.h"

namespace {

long minor_faults() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

// Allocates `bytes` in small blocks, writes to all of it, returns the page
// faults that took. The blocks are kept until the end so none is reused.
long faults_to_fill(std::size_t bytes, std::vector<void*>& keep) {
    long before = minor_faults();
    for (std::size_t done = 0; done < bytes; done += 512) {
        void* p = std::malloc(512);
        std::memset(p, 0x5a, 512);
        keep.push_back(p);
    }
    return minor_faults() - before;
}

}  // namespace

TEST_CASE("prefault_heap maps the pages the next allocations use", "[core]") {
    std::vector<void*> keep;
    // Warm up: move the heap top past anything the runtime touched already.
    faults_to_fill(256 * 1024, keep);
    long cold = faults_to_fill(96 * 1024, keep);
    bool populated = arcade::prefault_heap(120 * 1024);
    long warm = faults_to_fill(96 * 1024, keep);
    for (void* p : keep) std::free(p);
    INFO("faults filling 96 KiB: " << cold << " cold, " << warm << " after prefault_heap");
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer's allocator serves malloc from its own regions, not
    // from the top of glibc's heap: there is nothing to check here.
    (void)cold, (void)warm, (void)populated;
    WARN("built with AddressSanitizer: its allocator is not the one prefault_heap prepares");
#else
    CHECK(cold >= 20);  // 24 pages
    if (!populated) WARN("MADV_POPULATE_WRITE unsupported here (Linux < 5.14): nothing to check");
    else CHECK(warm <= 3);
#endif
}

TEST_CASE("prefault_library_code is harmless on this binary's libraries and on a bad address", "[core]") {
    arcade::prefault_library_code(reinterpret_cast<const void*>(&std::memcpy));
    arcade::prefault_library_code(nullptr);
    int local = 0;
    arcade::prefault_library_code(&local);
    SUCCEED("no crash");
}
