// libFuzzer entry point: the error-message scrubber applied before a message leaves the machine.
// The check itself is in checks.cpp, shared with the regression test.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    arcade::fuzz::check_scrub(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
