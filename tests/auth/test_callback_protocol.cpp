// The pure pieces of the login callback: what the CLI sends the browser to,
// and how it judges what comes back (untrusted input from the network).
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <set>
#include <thread>
#include <string>

#include "auth_harness.h"
#include "cli/login_callback.h"
#include "core/terminal_text.h"
#include "support/reserved_port.h"

namespace auth = arcade::cli::auth;
using Outcome = auth::CallbackVerdict::Outcome;

TEST_CASE("constant_time_equal compares exactly, whatever the lengths", "[auth]") {
    CHECK(auth::constant_time_equal("abc", "abc"));
    CHECK(auth::constant_time_equal("", ""));
    CHECK_FALSE(auth::constant_time_equal("abc", "abd"));
    CHECK_FALSE(auth::constant_time_equal("abc", "ab"));
    CHECK_FALSE(auth::constant_time_equal("ab", "abc"));
    CHECK_FALSE(auth::constant_time_equal("", "a"));
    CHECK_FALSE(auth::constant_time_equal(std::string("a\0", 2), "a"));
    // A prefix match must not pass: lengths differ by a multiple of 256.
    CHECK_FALSE(auth::constant_time_equal(std::string(256, 'a'), ""));
}

TEST_CASE("the login URL carries the encoded callback and the state", "[auth]") {
    // RFC 8252 §7.3: the redirect names the loopback literal the server
    // listens on, never `localhost` (issue 13, finding 1).
    CHECK(auth::callback_uri(9905) == "http://127.0.0.1:9905/callback");
    CHECK(auth::login_url("https://cloud.arcade.dev", auth::callback_uri(9905), "abc-_") ==
          "https://cloud.arcade.dev/api/v1/auth/cli_login?callback_uri=http%3A%2F%2F127.0.0.1%3A9905%2Fcallback"
          "&state=abc-_");
}

TEST_CASE("random_state is 43 URL-safe characters and differs every time", "[auth]") {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        auto s = auth::random_state();
        REQUIRE(s);
        CHECK(s->size() == 43);
        CHECK(s->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        seen.insert(*s);
    }
    CHECK(seen.size() == 50);
}

TEST_CASE("parse_request_line takes well-formed request lines only", "[auth]") {
    SECTION("a callback request") {
        auto r = auth::parse_request_line("GET /callback?state=x&api_key=y HTTP/1.1\r\nHost: localhost\r\n\r\n");
        REQUIRE(r);
        CHECK(r->method == "GET");
        CHECK(r->target == "/callback?state=x&api_key=y");
        CHECK(r->path == "/callback");
        CHECK(r->query == "state=x&api_key=y");
    }
    SECTION("no query") {
        auto r = auth::parse_request_line("GET /favicon.ico HTTP/1.0\n\n");
        REQUIRE(r);
        CHECK(r->path == "/favicon.ico");
        CHECK(r->query.empty());
    }
    SECTION("malformed lines") {
        auto bad = GENERATE(as<std::string>{}, "", "GET", "GET /callback", "GET  /callback HTTP/1.1",
                            "GET callback HTTP/1.1", "get /callback HTTP/1.1", "GET /callback HTTP/1.1 extra",
                            "GET /call\x01" "back HTTP/1.1", "GET /callback FTP/1.1", "\r\n",
                            "GET http://evil/callback HTTP/1.1");
        CHECK_FALSE(auth::parse_request_line(bad));
    }
}

TEST_CASE("judge_callback accepts only the expected state with both fields", "[auth]") {
    const std::string state = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo";
    auto judge = [&](const std::string& line) {
        auto r = auth::parse_request_line(line);
        REQUIRE(r);
        return auth::judge_callback(*r, state);
    };
    SECTION("success, with decoding and an optional warning") {
        auto v = judge("GET /callback?state=" + state + "&api_key=arc_k%2B1&email=me%40x.io&warning=Old+CLI HTTP/1.1");
        CHECK(v.outcome == Outcome::ok);
        CHECK(v.credentials.api_key == "arc_k+1");
        CHECK(v.credentials.email == "me@x.io");
        CHECK(v.warning == "Old CLI");
    }
    SECTION("a wrong, missing or truncated state is refused before anything else") {
        auto q = GENERATE(as<std::string>{}, "api_key=k&email=e", "state=&api_key=k&email=e", "state=nope&api_key=k&email=e",
                          "state=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaW&api_key=k&email=e",
                          "state=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWoX&api_key=k&email=e", "state=nope");
        auto v = judge("GET /callback?" + q + " HTTP/1.1");
        CHECK(v.outcome == Outcome::wrong_state);
        CHECK(v.credentials.api_key.empty());
    }
    SECTION("missing or empty fields") {
        auto [q, missing] = GENERATE(table<std::string, std::string>({
            {"&email=e", "api_key"},
            {"&api_key=&email=e", "api_key"},
            {"&api_key=k", "email"},
            {"&api_key=k&email=", "email"},
            {"", "api_key and email"},
        }));
        auto v = judge("GET /callback?state=" + state + q + " HTTP/1.1");
        CHECK(v.outcome == Outcome::missing_fields);
        CHECK(v.missing == missing);
        CHECK(v.credentials.api_key.empty());
    }
    SECTION("other paths and methods keep the server waiting") {
        CHECK(judge("GET /favicon.ico HTTP/1.1").outcome == Outcome::not_callback);
        CHECK(judge("GET /callback/x?state=" + state + " HTTP/1.1").outcome == Outcome::not_callback);
        CHECK(judge("POST /callback?state=" + state + "&api_key=k&email=e HTTP/1.1").outcome == Outcome::bad_method);
    }
    SECTION("an empty expected state never matches") {
        auto r = auth::parse_request_line("GET /callback?state=&api_key=k&email=e HTTP/1.1");
        REQUIRE(r);
        CHECK(auth::judge_callback(*r, "").outcome == Outcome::wrong_state);
    }
}

TEST_CASE("judge_callback in the OAuth flow: a code, an error, or nothing", "[auth]") {
    const std::string state = "st-123";
    auto judge = [&](const std::string& query) {
        auto r = auth::parse_request_line("GET /callback?" + query + " HTTP/1.1");
        REQUIRE(r);
        return auth::judge_callback(*r, state, auth::Flow::oauth);
    };
    auto ok = judge("code=c%2F1&state=st-123");
    CHECK(ok.outcome == Outcome::ok);
    CHECK(ok.code == "c/1");
    auto denied = judge("error=access_denied&error_description=User+said+no&state=st-123");
    CHECK(denied.outcome == Outcome::denied);
    CHECK(denied.error == "User said no");
    CHECK(judge("error=access_denied&state=st-123").error == "access_denied");
    auto missing = judge("state=st-123");
    CHECK(missing.outcome == Outcome::missing_fields);
    CHECK(missing.missing == "code");
    // The state is judged first, for errors too: nobody else can end the login.
    CHECK(judge("code=c&state=other").outcome == Outcome::wrong_state);
    CHECK(judge("error=access_denied").outcome == Outcome::wrong_state);
}

TEST_CASE("the callback server answers a wrong or missing state 400 and keeps waiting", "[auth]") {
    // Issue 13, finding 11: the old server ended the login on the first
    // request to /callback, so anyone on the machine could abort it.
    for (auto flow : {auth::Flow::api_key, auth::Flow::oauth}) {
        int error = 0;
        arcade::testing::ReservedPort reserved(true);
        const int port = reserved.port();
        auto server = auth::CallbackServer::bind_loopback(port, error);
        REQUIRE(server);
        const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/callback?";
        const std::string good = flow == auth::Flow::oauth ? "code=c1&state=right" : "api_key=k&email=e%40x&state=right";
        std::atomic<bool> interrupted{false};
        arcade::testing::Page wrong, none, right;
        std::thread browser([&] {
            wrong = arcade::testing::http_get(base + "code=evil&api_key=evil&email=e&state=wrong");
            none = arcade::testing::http_get(base + "code=evil&api_key=evil&email=e");
            right = arcade::testing::http_get(base + good);
        });
        int accepted = 0;
        auto got = server->wait("right", std::chrono::steady_clock::now() + std::chrono::seconds(10), interrupted,
                                [&](auth::CallbackVerdict&) {
                                    ++accepted;
                                    return std::pair(200, auth::html_page("ok", "ok"));
                                },
                                flow);
        browser.join();
        CHECK(wrong.status == 400);
        CHECK(none.status == 400);
        CHECK(right.status == 200);
        CHECK(accepted == 1);
        CHECK(got.status == auth::CallbackWait::Status::judged);
        CHECK(got.verdict.outcome == Outcome::ok);
        CHECK(got.ignored == 2);
        if (flow == auth::Flow::oauth) CHECK(got.verdict.code == "c1");
        else CHECK(got.verdict.credentials.api_key == "k");
    }
}

TEST_CASE("text from the callback is neutralised before a terminal or a page shows it", "[auth]") {
    CHECK(arcade::terminal_safe("a@b.c") == "a@b.c");
    CHECK(arcade::terminal_safe("evil\x1b]0;title\x07\r\n") == "evil?]0;title???");
    CHECK(arcade::terminal_safe("x\xc2\x9b" "31m") == "x?31m");
    CHECK(arcade::terminal_safe("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(auth::html_escape("<b>\"it's\" & </b>") == "&lt;b&gt;&quot;it&#39;s&quot; &amp; &lt;/b&gt;");
}
