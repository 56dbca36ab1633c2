#pragma once
// Makes an error message safe to send: the home directory becomes `~`; e-mail
// addresses, bearer values, API keys and token-like strings are redacted;
// invalid UTF-8 is replaced; the result is at most 300 characters. Pure and
// total: any input, any size, never throws.

#include <string>
#include <string_view>

#include "core/utf8.h"

namespace arcade::cli {

inline constexpr std::size_t kMaxErrorMessageChars = 300;

std::string scrub_error_message(std::string_view message, std::string_view home_dir);

using arcade::valid_utf8;

}  // namespace arcade::cli
