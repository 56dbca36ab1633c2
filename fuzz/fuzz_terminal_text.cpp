// libFuzzer entry point: text from a server or a file made safe for a terminal.
// The check itself is in checks.cpp, shared with the regression test.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    arcade::fuzz::check_terminal_text(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
