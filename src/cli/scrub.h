#pragma once
// Makes an error message safe to send (SPEC §3, `error_message`): the exact
// values of the current credentials are redacted whatever their shape; so are
// URL user-info, `password`/`secret`/`token`-style key–value pairs, `Cookie`
// and `Authorization` values, bearer values, API keys and token-like strings,
// and e-mail addresses (non-ASCII ones too); each of these also when it was
// percent-encoded (the result shows the message with its `%XX` escapes
// decoded). The home directory becomes `~`; invalid UTF-8 and control
// characters are replaced; the result is at most 300 characters.
// Pure and total: any input, any size, never throws.

#include <string>
#include <string_view>
#include <vector>

#include "core/environ.h"
#include "core/utf8.h"

namespace arcade::cli {

inline constexpr std::size_t kMaxErrorMessageChars = 300;
// Secrets shorter than this are not redacted by value (a one-letter "key"
// would blank every word that holds that letter); the shape rules still apply.
inline constexpr std::size_t kMinSecretChars = 4;

// `message` scrubbed; `secrets` are the values to redact wherever they appear.
std::string scrub_error_message(std::string_view message, std::string_view home_dir,
                                const std::vector<std::string>& secrets = {});

// The secret values of the credentials the user is logged in with now
// (credentials.yaml in the config dir of `env`), or none. Never throws.
std::vector<std::string> current_secret_values(const Environ& env);

using arcade::valid_utf8;

}  // namespace arcade::cli
