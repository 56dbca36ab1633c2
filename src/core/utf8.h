#pragma once
// UTF-8 checks for text that crosses a trust boundary (server answers, files
// another program wrote, command-line arguments) before it is stored or sent.

#include <string>
#include <string_view>

namespace arcade {

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every ill-formed sequence and every control character other
// than newline and tab replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

}  // namespace arcade
