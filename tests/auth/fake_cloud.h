#pragma once
// A loopback stand-in for the two Arcade Cloud endpoints `arcade login` and
// the shipper use: `GET /api/v1/auth/validate` (the principal behind an API
// key) and `GET /api/v1/auth/cli_login` (the page the browser is sent to,
// which redirects back to the CLI's callback with the credentials).

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace arcade::testing {

// How the fake cli_login page answers: a 302 to
// `callback_uri?state=<state>&api_key=<k>&email=<e>[&warning=<w>]`.
struct LoginAnswer {
    std::string api_key = "arc_test_key_one";
    std::string email = "first@example.com";
    std::string warning;          // sent when non-empty
    bool wrong_state = false;     // send a different state than the one received
    bool omit_api_key = false;
    bool omit_email = false;
};

// An HTTP server on 127.0.0.1 (a free port). All members are thread-safe; it
// serves on its own thread until destruction.
class FakeCloud {
public:
    // Binds 127.0.0.1 on a free port and starts serving; throws
    // std::runtime_error if it cannot.
    FakeCloud();
    // Stops serving and joins the server thread; never throws.
    ~FakeCloud();
    FakeCloud(const FakeCloud&) = delete;
    FakeCloud& operator=(const FakeCloud&) = delete;

    // "http://127.0.0.1:<port>".
    std::string url() const;

    // validate answers 200 {"data": {"principal_id": principal}} for `api_key`
    // (any other key gets 401).
    void set_principal(const std::string& api_key, const std::string& principal);
    // Forces every validate answer to `status` (401, 500, …); 0 restores the
    // per-key behaviour.
    void force_validate_status(int status);
    // Delays every validate answer (to exceed the client's 2 s limit).
    void set_validate_delay(std::chrono::milliseconds delay);
    // How many validate requests arrived, and their Authorization headers.
    int validate_calls() const;
    std::vector<std::string> validate_authorizations() const;

    // What the cli_login page redirects with.
    void set_login_answer(LoginAnswer answer);
    // The query parameters of each cli_login request, in arrival order.
    std::vector<std::map<std::string, std::string>> login_requests() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace arcade::testing
