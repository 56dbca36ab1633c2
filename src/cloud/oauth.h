#pragma once
// Today's Arcade Cloud login (OAuth 2.0 authorization code + PKCE, RFC 6749
// and 7636), as the Python Arcade CLI 1.15 speaks it to the Coordinator
// (../shared/ARCADE-CLOUD.md; arcade_cli/authn.py, arcade_core/auth_tokens.py):
//
//   GET  {coordinator}/api/v1/auth/cli_config
//        -> {"client_id", "authorization_endpoint", "token_endpoint"}; 404 when
//           the Cloud only serves the first-generation key login
//   browser -> {authorization_endpoint}?response_type=code&client_id=…
//        &redirect_uri=http://127.0.0.1:<port>/callback&scope=openid offline_access
//        &state=…&code_challenge=<S256>&code_challenge_method=S256
//   POST {token_endpoint}, form-encoded:
//        grant_type=authorization_code, code, redirect_uri, code_verifier, client_id
//        grant_type=refresh_token, refresh_token, client_id
//        -> {"access_token", "refresh_token" (a refresh may leave it out),
//            "expires_in", "token_type"}
//   GET  {coordinator}/api/v1/auth/whoami, Authorization: Bearer <access token>
//        -> {"data": {"account_id", "email", "organizations": [{"org_id" or
//            "organization_id", "name", "is_default"}], "projects": [{"project_id",
//            "name", "is_default"}]}}
//
// Everything goes through http::Transport; nothing here touches files or the
// terminal. Each call is bounded by its `timeout` and abandoned as soon as
// `*cancel` turns true (Failure::Kind::unreachable). Functions never throw;
// they are safe to call from any thread with their own transport.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/credentials.h"
#include "core/random_token.h"
#include "core/url_codec.h"
#include "http/transport.h"

namespace arcade::cloud {

// Where the Python CLI sends its login when no host is given.
inline constexpr const char* kDefaultCoordinator = kDefaultCoordinatorUrl;
inline constexpr const char* kScopes = "openid offline_access";
// The Python CLI's callback port; `arcade login --callback-port` changes it.
inline constexpr int kDefaultCallbackPort = 9905;
// A token counts as expired this long before its `expires_at` (config_model.py).
inline constexpr std::chrono::seconds kExpiryMargin{300};

// Why a call to the Coordinator did not give what was asked for.
struct Failure {
    enum class Kind {
        not_served,   // 404: the Cloud does not speak this (cli_config: use the key login)
        unreachable,  // no HTTP answer (connection, timeout, cancelled)
        refused,      // another non-2xx answer (400 invalid_grant, 401, 5xx, ...)
        bad_answer,   // 2xx, but not the JSON this protocol promises
    } kind = Kind::bad_answer;
    int status = 0;
    std::string message;  // for the user; never holds a token
};

template <class T>
struct Result {
    std::optional<T> value;
    Failure failure;  // meaningful when !value
    explicit operator bool() const { return value.has_value(); }
};

// --- PKCE and random values -------------------------------------------------

// base64url and random_urlsafe live in core (url_codec.h, random_token.h):
// the login callback's state uses them too.
using arcade::base64url;
using arcade::random_urlsafe;

// A fresh code verifier: 64 random bytes, 86 characters, as the Python
// CLI's secrets.token_urlsafe(64) (RFC 7636 allows 43 to 128).
std::optional<std::string> new_code_verifier();

// BASE64URL(SHA256(verifier)): the S256 code challenge. Pure.
std::string code_challenge(std::string_view verifier);

// --- The protocol -----------------------------------------------------------

struct CliConfig {
    std::string client_id;
    std::string authorization_endpoint;
    std::string token_endpoint;
};

struct Tokens {
    std::string access_token;
    std::string refresh_token;
    std::int64_t expires_in = 0;  // seconds
    std::string token_type;
};

struct Organization {
    std::string id;
    std::string name;
    bool is_default = false;
};

struct Project {
    std::string id;
    std::string name;
    bool is_default = false;
};

struct WhoAmI {
    std::string account_id;
    std::string email;
    std::vector<Organization> organizations;
    std::vector<Project> projects;
};

// `{coordinator}/api/v1/auth/cli_config`, parsed. 404 → Kind::not_served.
Result<CliConfig> fetch_cli_config(http::Transport& transport, const std::string& coordinator,
                                   std::chrono::milliseconds timeout, const std::atomic<bool>* cancel = nullptr);

// The URL the browser is sent to. Pure.
std::string authorization_url(const CliConfig& config, std::string_view redirect_uri, std::string_view state,
                              std::string_view challenge);

// Redeems an authorization code (with the verifier its challenge was made from).
Result<Tokens> exchange_code(http::Transport& transport, const CliConfig& config, std::string_view code,
                             std::string_view redirect_uri, std::string_view verifier,
                             std::chrono::milliseconds timeout, const std::atomic<bool>* cancel = nullptr);

// A new access token for `refresh_token`; the answer's refresh token, or
// `refresh_token` itself when the answer has none.
Result<Tokens> refresh_tokens(http::Transport& transport, const CliConfig& config, const std::string& refresh_token,
                              std::chrono::milliseconds timeout, const std::atomic<bool>* cancel = nullptr);

// Parses whoami's JSON body. Pure; nullopt unless `data.account_id` and
// `data.email` are strings and every listed org/project has an id and a name.
std::optional<WhoAmI> parse_whoami(std::string_view body);

Result<WhoAmI> fetch_whoami(http::Transport& transport, const std::string& coordinator,
                            const std::string& access_token, std::chrono::milliseconds timeout,
                            const std::atomic<bool>* cancel = nullptr);

// The org and project a new login works in: each the one marked
// `is_default`, else the first. On failure, `problem` says which is missing
// in the Python CLI's words. Pure.
std::optional<LoginContext> default_context(const WhoAmI& who, std::string& problem);

// --- Expiry (local naive time, as the Python CLI keeps it) -----------------

// `now_ms` + `seconds`, as Python's `(datetime.now() + timedelta(s)).isoformat()`
// in the process's local time zone: "YYYY-MM-DDTHH:MM:SS.ffffff" (no
// fraction when it is zero).
std::string expires_at_after(std::int64_t now_ms, std::int64_t seconds);

// Whether a token stored with `expires_at` must be refreshed at `now_ms`:
// within kExpiryMargin of it, or past it. A zone suffix is dropped, as the
// Python CLI drops it; a value that is not a date-time counts as expired.
bool expires_soon(const std::string& expires_at, std::int64_t now_ms);

// The login in `creds` with a token valid beyond the margin: `creds` itself
// when it is a key or its token is fresh, else refreshed through the
// Coordinator's token endpoint (coordinator_url, or the default when the file
// has none, which is then written into it as the Python CLI does). The
// caller saves a changed login.
Result<Credentials> fresh_login(http::Transport& transport, const Credentials& creds, std::int64_t now_ms,
                                std::chrono::milliseconds timeout, bool* refreshed = nullptr,
                                const std::atomic<bool>* cancel = nullptr);

}  // namespace arcade::cloud
