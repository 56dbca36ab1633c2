// libFuzzer entry point: server-sent events from the Arcade Engine, in random chunk splits.
// The check itself is in checks.cpp, shared with the regression test.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    arcade::fuzz::check_sse(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
