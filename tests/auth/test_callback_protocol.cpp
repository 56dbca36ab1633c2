// The pure pieces of the login callback: what the CLI sends the browser to,
// and how it judges what comes back (untrusted input from the network).
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "cli/login_callback.h"
#include "core/terminal_text.h"

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
    CHECK(auth::callback_uri("localhost", 9905) == "http://localhost:9905/callback");
    CHECK(auth::login_url("https://cloud.arcade.dev", "http://localhost:9905/callback", "abc-_") ==
          "https://cloud.arcade.dev/api/v1/auth/cli_login?callback_uri=http%3A%2F%2Flocalhost%3A9905%2Fcallback"
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

TEST_CASE("text from the callback is neutralised before a terminal or a page shows it", "[auth]") {
    CHECK(arcade::terminal_safe("a@b.c") == "a@b.c");
    CHECK(arcade::terminal_safe("evil\x1b]0;title\x07\r\n") == "evil?]0;title???");
    CHECK(arcade::terminal_safe("x\xc2\x9b" "31m") == "x?31m");
    CHECK(arcade::terminal_safe("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(auth::html_escape("<b>\"it's\" & </b>") == "&lt;b&gt;&quot;it&#39;s&quot; &amp; &lt;/b&gt;");
}
