#pragma once
// The Arcade Cloud credentials file (`credentials.yaml`), shared with the
// Python CLI: `cloud: {api: {key: …}, user: {email: …}}`. Reading never
// follows a symlink and never throws; writing is atomic and 0600.

#include <filesystem>
#include <optional>
#include <string>

namespace arcade {

struct Credentials {
    std::string api_key;
    std::string email;
};

// Whether `text` can be a stored key or e-mail: well-formed UTF-8 (yaml-cpp
// would rewrite ill-formed bytes on save) without control characters (a NUL
// or newline cannot travel in an HTTP header, and a NUL does not survive a
// save).
bool usable_credential_text(const std::string& text);

// The credentials at `path`, or nullopt when the file is missing, unreadable,
// a symlink, over 1 MiB, not YAML, of the wrong shape, or has an empty or
// unusable key or an unusable e-mail.
std::optional<Credentials> load_credentials(const std::filesystem::path& path);

// Writes `creds` atomically with mode 0600. False on failure.
bool save_credentials(const std::filesystem::path& path, const Credentials& creds);

// The message every command that needs login prints when there is none.
inline constexpr const char* kNotLoggedIn = "Not logged in to Arcade CLI. Use `arcade login` to log in.";

}  // namespace arcade
