#pragma once
// The browser's way back to `arcade login` (SPEC §6, §7): a one-shot HTTP
// server on 127.0.0.1 that waits for the Cloud's redirect to /callback and
// judges it against the login's `state`.
//
// The pieces that touch untrusted input (request line, query, the state
// comparison) are pure functions, so tests and the fuzz targets reach them
// without sockets.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/credentials.h"
#include "core/unique_fd.h"

namespace arcade::cli::auth {

// Compares two secrets in time that depends only on their lengths, never on
// where they first differ. Pure.
bool constant_time_equal(std::string_view a, std::string_view b);

// The address the callback server listens on and every redirect URI names
// (RFC 8252 §7.3: the loopback IP literal, never `localhost`, which may
// resolve elsewhere or to ::1 where nothing listens).
inline constexpr const char* kLoopbackHost = "127.0.0.1";

// `http://127.0.0.1:<port>/callback`, the address the browser is sent back to. Pure.
std::string callback_uri(int port);

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

// Which login the callback belongs to: the first-generation one hands over
// `api_key` and `email`; today's OAuth one an authorization `code` (or an
// `error`), as RFC 6749 §4.1.2 says.
enum class Flow { api_key, oauth };

// What the callback request carried, judged against the expected state.
struct CallbackVerdict {
    enum class Outcome {
        ok,              // api_key flow: credentials hold key and e-mail; oauth: `code` is set
        not_callback,    // another path (favicon, …): answer 404, keep waiting
        bad_method,      // /callback with something other than GET: answer 405, keep waiting
        wrong_state,     // state missing or different: answer 400, ignore it, keep waiting
        denied,          // oauth: the right state with an `error`: login fails
        missing_fields,  // api_key or email (or code) missing or empty: refuse, login fails
    } outcome = Outcome::not_callback;
    Credentials credentials;   // when ok (api_key flow)
    std::string code;          // when ok (oauth flow)
    std::string error;         // when denied: error_description, else error (valid UTF-8)
    std::string warning;       // optional `warning` parameter, decoded
    std::string missing;       // which field(s) were missing, for the message
};

// Judges one request to the callback server. Pure.
CallbackVerdict judge_callback(const RequestLine& request, std::string_view expected_state,
                               Flow flow = Flow::api_key);

// `text` with `& < > " '` escaped for HTML. Pure.
std::string html_escape(std::string_view text);

// A minimal page titled `title` around `message_html` (already escaped). Pure.
std::string html_page(const std::string& title, const std::string& message_html);

// What waiting for the browser ended with.
struct CallbackWait {
    enum class Status { judged, timed_out, interrupted, failed } status = Status::failed;
    CallbackVerdict verdict;  // when judged: ok, denied or missing_fields
    int ignored = 0;          // requests with a wrong or missing state, answered 400
    std::string error;        // when failed
};

// A listening socket on 127.0.0.1 (kLoopbackHost) that serves until one /callback request
// has been judged. Owns its sockets; used from one thread.
class CallbackServer {
public:
    // Does the work for an accepted callback (saving the credentials) and
    // returns the status and page to answer; it may change the verdict.
    using OnAccepted = std::function<std::pair<int, std::string>(CallbackVerdict&)>;

    // Binds 127.0.0.1:`port` (loopback only: the callback carries the API
    // key). On failure returns nullopt and sets `error` to the errno.
    static std::optional<CallbackServer> bind_loopback(int port, int& error);

    // Serves requests until a /callback request with the right state is
    // judged, `deadline` passes or `interrupted` is set. Other paths get a
    // 404, a wrong or missing state a 400, and waiting goes on (whoever
    // does not know the state cannot end the login); an accepted callback is
    // answered with what `on_accepted` returns.
    CallbackWait wait(std::string_view expected_state, std::chrono::steady_clock::time_point deadline,
                      const std::atomic<bool>& interrupted, const OnAccepted& on_accepted,
                      Flow flow = Flow::api_key);

private:
    struct Connection {
        UniqueFd fd;
        std::string head;
    };
    enum class Read { more, complete, closed };

    explicit CallbackServer(UniqueFd listener);

    void accept_all();
    static Read read_request(Connection& c);
    // Answers one complete request; true when it decided the login.
    static bool handle(Connection& c, std::string_view expected_state, Flow flow, const OnAccepted& on_accepted,
                       CallbackWait& out);

    UniqueFd listener_;
    std::deque<Connection> conns_;
};

}  // namespace arcade::cli::auth
