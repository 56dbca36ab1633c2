#pragma once
// The Arcade Cloud credentials file (`credentials.yaml`), shared with the
// Python CLI. Two formats, both read (SPEC §2, ../shared/ARCADE-CLOUD.md):
//   today's OAuth login, as the Python CLI 1.15 writes it —
//     cloud: {auth: {access_token, expires_at, refresh_token},
//             context: {org_id, org_name, project_id, project_name},
//             coordinator_url, user: {email}}
//   the first-generation API key — cloud: {api: {key}, user: {email}}.
// A file is never rewritten into the other format. Reading never follows a
// symlink and never throws; writing is atomic and 0600.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace arcade {

// The Coordinator of an OAuth login whose file names none (the Python CLI's
// default).
inline constexpr const char* kDefaultCoordinatorUrl = "https://cloud.arcade.dev";

// The org and project a login works in (OAuth logins only).
struct LoginContext {
    std::string org_id;
    std::string org_name;
    std::string project_id;
    std::string project_name;
};

// The OAuth part of a today's login.
struct OAuthLogin {
    std::string coordinator_url;  // may be empty: the Python CLI allows it
    std::string access_token;
    std::string refresh_token;
    // As stored: ISO 8601, local time, no zone (Python's datetime.isoformat(),
    // e.g. "2026-12-03T01:02:03.456789"); kept byte for byte on rewrite.
    std::string expires_at;
    std::optional<LoginContext> context;
};

struct Credentials {
    std::string api_key;  // a first-generation login; empty for OAuth
    std::string email;    // may be empty
    std::optional<OAuthLogin> oauth;  // a today's login

    bool is_oauth() const { return oauth.has_value(); }
    // What authenticates this login to Arcade: the API key or the access token.
    const std::string& secret() const { return oauth ? oauth->access_token : api_key; }
    // Every secret value the file holds (key, access and refresh tokens),
    // non-empty ones only: what a scrubber must redact by value.
    std::vector<std::string> secret_values() const;
    // Who this login is, without its secrets where it can be: the API key for
    // a first-generation login, "coordinator_url\n email" for an OAuth one (a
    // token refresh does not change it). Only ever stored as a keyed hash.
    std::string account_identity() const;
};

// Whether `text` can be a stored key, token or e-mail: well-formed UTF-8
// (yaml-cpp would rewrite ill-formed bytes on save) without control
// characters (a NUL or newline cannot travel in an HTTP header, and a NUL
// does not survive a save).
bool usable_credential_text(const std::string& text);

// The credentials at `path`, or nullopt when the file is missing, unreadable,
// a symlink, over 1 MiB, not YAML, of neither shape, or has an empty or
// unusable secret or an unusable e-mail. A file with both `auth` and `api`
// reads as the OAuth login (as the Python CLI reads it).
std::optional<Credentials> load_credentials(const std::filesystem::path& path);

// The text save_credentials writes: the legacy shape for a key, the Python
// CLI 1.15's `yaml.dump` layout for an OAuth login.
std::string credentials_yaml(const Credentials& creds);

// Writes `creds` atomically with mode 0600. False on failure.
bool save_credentials(const std::filesystem::path& path, const Credentials& creds);

// The message every command that needs login prints when there is none.
inline constexpr const char* kNotLoggedIn = "Not logged in to Arcade CLI. Use `arcade login` to log in.";

}  // namespace arcade
