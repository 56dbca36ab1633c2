#pragma once
// `arcade login` and `arcade logout` (SPEC §4, §6): the browser login with a
// one-shot loopback callback server, the credentials file, and the identity
// transitions that go with them (link + alias at login, rotation at logout).
//
// The pieces of the callback protocol that touch untrusted input (request
// line, query string, percent-decoding, the state comparison) are pure
// functions declared here so tests (and a future fuzz target) can reach them
// without sockets.

#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cli/command.h"
#include "core/credentials.h"

namespace arcade::cli {

// Adds `login` and `logout` to `root` and registers them in `table`.
void setup_auth_commands(CLI::App& root, CommandTable& table);

namespace auth {

// The loopback port the callback server listens on unless `--port` says otherwise.
inline constexpr int kDefaultCallbackPort = 9905;
// How long `arcade login` waits for the browser unless `--timeout` says otherwise.
inline constexpr int kDefaultTimeoutSeconds = 300;

// Decodes one query-string component: `%XX` (either hex case) becomes that
// byte and `+` a space; a `%` not followed by two hex digits is kept as is,
// as browsers and Python's urllib do. Pure; never throws.
std::string percent_decode(std::string_view text);

// Encodes `text` for a query-string value: everything but RFC 3986
// unreserved characters (A-Z a-z 0-9 - . _ ~) becomes `%XX` (upper case). Pure.
std::string percent_encode(std::string_view text);

// Parses `a=1&b=2` (without the `?`) into decoded key/value pairs. Empty
// segments are skipped, a key without `=` gets an empty value, and the first
// occurrence of a repeated key wins. Pure; never throws.
std::map<std::string, std::string> parse_query(std::string_view query);

// Compares two secrets in time that depends only on their lengths, never on
// where they first differ. Pure.
bool constant_time_equal(std::string_view a, std::string_view b);

// `http://<host>:<port>/callback`, the address the browser is sent back to. Pure.
std::string callback_uri(std::string_view host, int port);

// `{cloud}/api/v1/auth/cli_login?callback_uri=<encoded>&state=<encoded>`. Pure.
std::string login_url(std::string_view cloud_base, std::string_view callback, std::string_view state);

// A fresh unguessable `state`: 32 random bytes from the kernel as unpadded
// base64url (43 characters); nullopt only when no randomness is available.
std::optional<std::string> random_state();

// The first line of an HTTP request, split. `target` is the raw path with
// its query; `path` and `query` are the parts before and after the first `?`.
struct RequestLine {
    std::string method;
    std::string target;
    std::string path;
    std::string query;
};

// Parses `METHOD SP target SP HTTP/x.y` (CRLF or LF ended, or the whole text
// when it has no line end). nullopt when the line is malformed. Pure.
std::optional<RequestLine> parse_request_line(std::string_view head);

// What the callback request carried, judged against the expected state.
struct CallbackVerdict {
    enum class Outcome {
        ok,              // credentials hold the key and e-mail
        not_callback,    // another path (favicon, …): answer 404, keep waiting
        bad_method,      // /callback with something other than GET: answer 405, keep waiting
        wrong_state,     // state missing or different: refuse, login fails
        missing_fields,  // api_key or email missing or empty: refuse, login fails
    } outcome = Outcome::not_callback;
    Credentials credentials;   // when ok
    std::string warning;       // optional `warning` parameter, decoded
    std::string missing;       // which field(s) were missing, for the message
};

// Judges one request to the callback server. Pure.
CallbackVerdict judge_callback(const RequestLine& request, std::string_view expected_state);

// `text` made safe to print on a terminal: control characters (including
// ESC) become `?`, so a hostile callback cannot drive the user's terminal. Pure.
std::string printable(std::string_view text);

// `text` with `& < > " '` escaped for HTML. Pure.
std::string html_escape(std::string_view text);

}  // namespace auth
}  // namespace arcade::cli
