// The OAuth client of src/cloud against a scripted transport: what goes on
// the wire (as the Python CLI 1.15 sends it) and how answers are read.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <deque>
#include <string>
#include <vector>

#include "cloud/oauth.h"
#include "core/url_codec.h"

using namespace arcade;

namespace {

class ScriptedTransport : public http::Transport {
public:
    std::deque<http::Response> answers;
    std::vector<http::Request> seen;

    http::Response send(const http::Request& req) override {
        seen.push_back(req);
        if (answers.empty()) {
            http::Response r;
            r.failure = http::Failure::connect;
            r.error = "no answer scripted";
            return r;
        }
        auto r = answers.front();
        answers.pop_front();
        return r;
    }
    http::Response stream(const http::Request& req, const http::ChunkSink&) override { return send(req); }
};

http::Response answer(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

std::string header(const http::Request& req, const std::string& name) {
    for (const auto& [k, v] : req.headers)
        if (k == name) return v;
    return {};
}

const std::string kConfig =
    R"({"client_id":"cli-1","authorization_endpoint":"https://auth.example/authorize","token_endpoint":"https://auth.example/token"})";

// Local wall-clock time fixed to UTC for the expiry tests.
struct UtcZone {
    UtcZone() {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};

// 2026-12-03T01:00:00Z in Unix milliseconds.
constexpr std::int64_t kNowMs = 1796259600000LL;

}  // namespace

TEST_CASE("PKCE: S256 challenge and verifier shape (RFC 7636)", "[cloud]") {
    // RFC 7636 appendix B.
    CHECK(cloud::code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
          "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    CHECK(cloud::base64url("\xfb\xff") == "-_8");
    auto a = cloud::new_code_verifier();
    auto b = cloud::new_code_verifier();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->size() == 86);  // secrets.token_urlsafe(64)
    CHECK(*a != *b);
    CHECK(a->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
}

TEST_CASE("discovery: cli_config is read, a 404 means the first-generation login", "[cloud]") {
    ScriptedTransport t;
    t.answers.push_back(answer(200, kConfig));
    auto got = cloud::fetch_cli_config(t, "http://localhost:8000", std::chrono::seconds(1));
    REQUIRE(got);
    CHECK(t.seen[0].url == "http://localhost:8000/api/v1/auth/cli_config");
    CHECK(got.value->client_id == "cli-1");
    CHECK(got.value->token_endpoint == "https://auth.example/token");

    t.answers.push_back(answer(404, R"({"message":"not found"})"));
    auto missing = cloud::fetch_cli_config(t, "http://localhost:8000", std::chrono::seconds(1));
    REQUIRE_FALSE(missing);
    CHECK(missing.failure.kind == cloud::Failure::Kind::not_served);

    t.answers.push_back(answer(200, R"({"client_id":"x","authorization_endpoint":"javascript:1","token_endpoint":"https://a"})"));
    CHECK(cloud::fetch_cli_config(t, "http://x", std::chrono::seconds(1)).failure.kind ==
          cloud::Failure::Kind::bad_answer);
    auto down = cloud::fetch_cli_config(t, "http://x", std::chrono::seconds(1));
    CHECK(down.failure.kind == cloud::Failure::Kind::unreachable);
}

TEST_CASE("the authorization URL carries authlib's parameters", "[cloud]") {
    cloud::CliConfig c{"cli-1", "https://auth.example/authorize", "https://auth.example/token"};
    std::string url = cloud::authorization_url(c, "http://127.0.0.1:9905/callback", "st", "ch");
    CHECK(url ==
          "https://auth.example/authorize?response_type=code&client_id=cli-1&redirect_uri=http%3A%2F%2F127.0.0.1%3A"
          "9905%2Fcallback&scope=openid%20offline_access&state=st&code_challenge=ch&code_challenge_method=S256");
    c.authorization_endpoint += "?tenant=a";
    CHECK(cloud::authorization_url(c, "r", "s", "c").rfind("https://auth.example/authorize?tenant=a&response_type=code", 0) == 0);
}

TEST_CASE("token exchange is form-encoded with the verifier; refusals carry the OAuth error", "[cloud]") {
    cloud::CliConfig c{"cli-1", "https://auth.example/authorize", "https://auth.example/token"};
    ScriptedTransport t;
    t.answers.push_back(answer(200, R"({"access_token":"at1","refresh_token":"rt1","expires_in":3600,"token_type":"Bearer"})"));
    auto got = cloud::exchange_code(t, c, "co de", "http://127.0.0.1:9905/callback", "ver", std::chrono::seconds(1));
    REQUIRE(got);
    CHECK(got.value->access_token == "at1");
    CHECK(got.value->refresh_token == "rt1");
    CHECK(got.value->expires_in == 3600);
    const auto& req = t.seen[0];
    CHECK(req.method == "POST");
    CHECK(req.url == "https://auth.example/token");
    CHECK(header(req, "Content-Type") == "application/x-www-form-urlencoded");
    auto form = parse_query(req.body);
    CHECK(form["grant_type"] == "authorization_code");
    CHECK(form["code"] == "co de");
    CHECK(form["redirect_uri"] == "http://127.0.0.1:9905/callback");
    CHECK(form["code_verifier"] == "ver");
    CHECK(form["client_id"] == "cli-1");

    t.answers.push_back(answer(400, R"({"error":"invalid_grant"})"));
    auto refused = cloud::exchange_code(t, c, "c", "r", "v", std::chrono::seconds(1));
    REQUIRE_FALSE(refused);
    CHECK(refused.failure.kind == cloud::Failure::Kind::refused);
    CHECK(refused.failure.message.find("invalid_grant") != std::string::npos);

    // A code answer without a refresh token is not a usable login.
    t.answers.push_back(answer(200, R"({"access_token":"at1","expires_in":3600,"token_type":"Bearer"})"));
    CHECK_FALSE(cloud::exchange_code(t, c, "c", "r", "v", std::chrono::seconds(1)));
}

TEST_CASE("refresh keeps the old refresh token when the answer has none", "[cloud]") {
    cloud::CliConfig c{"cli-1", "https://a/authorize", "https://a/token"};
    ScriptedTransport t;
    t.answers.push_back(answer(200, R"({"access_token":"at2","expires_in":60,"token_type":"Bearer"})"));
    auto got = cloud::refresh_tokens(t, c, "rt-old", std::chrono::seconds(1));
    REQUIRE(got);
    CHECK(got.value->refresh_token == "rt-old");
    auto form = parse_query(t.seen[0].body);
    CHECK(form["grant_type"] == "refresh_token");
    CHECK(form["refresh_token"] == "rt-old");
    CHECK(form["client_id"] == "cli-1");
    CHECK(form.count("code_verifier") == 0);

    t.answers.push_back(answer(200, R"({"access_token":"at3","refresh_token":"rt-new","expires_in":60,"token_type":"Bearer"})"));
    CHECK(cloud::refresh_tokens(t, c, "rt-old", std::chrono::seconds(1)).value->refresh_token == "rt-new");
}

TEST_CASE("whoami: account, e-mail, org alias and the default org and project", "[cloud]") {
    auto who = cloud::parse_whoami(
        R"({"data":{"account_id":"acct-1","email":"a@example.com",
            "organizations":[{"organization_id":"o1","name":"One"},{"org_id":"o2","name":"Two","is_default":true}],
            "projects":[{"project_id":"p1","name":"P1"},{"project_id":"p2","name":"P2"}]}})");
    REQUIRE(who);
    CHECK(who->account_id == "acct-1");
    CHECK(who->organizations[0].id == "o1");
    std::string problem;
    auto ctx = cloud::default_context(*who, problem);
    REQUIRE(ctx);
    CHECK(ctx->org_id == "o2");        // marked default
    CHECK(ctx->project_id == "p1");    // none marked: the first
    CHECK(ctx->project_name == "P1");

    who->projects.clear();
    CHECK_FALSE(cloud::default_context(*who, problem));
    CHECK(problem == "No projects found in organization 'Two'. Please contact support@arcade.dev for assistance.");
    who->organizations.clear();
    CHECK_FALSE(cloud::default_context(*who, problem));
    CHECK(problem.rfind("No organizations found", 0) == 0);

    CHECK_FALSE(cloud::parse_whoami(R"({"data":{"email":"a@b"}})"));
    CHECK_FALSE(cloud::parse_whoami(R"({"data":{"account_id":"a","email":"a@b","organizations":[{"name":"x"}]}})"));

    ScriptedTransport t;
    t.answers.push_back(answer(200, R"({"data":{"account_id":"acct-1","email":"a@example.com"}})"));
    auto fetched = cloud::fetch_whoami(t, "http://c", "tok", std::chrono::seconds(1));
    REQUIRE(fetched);
    CHECK(t.seen[0].url == "http://c/api/v1/auth/whoami");
    CHECK(header(t.seen[0], "Authorization") == "Bearer tok");
}

TEST_CASE("expiry: local naive time with a five-minute margin, as the Python CLI", "[cloud]") {
    UtcZone utc;
    CHECK(cloud::expires_at_after(kNowMs, 3600) == "2026-12-03T02:00:00");
    CHECK(cloud::expires_at_after(kNowMs + 456, 0) == "2026-12-03T01:00:00.456000");
    CHECK_FALSE(cloud::expires_soon("2026-12-03T01:05:01", kNowMs));
    CHECK(cloud::expires_soon("2026-12-03T01:05:00", kNowMs));
    CHECK(cloud::expires_soon("2026-12-03T00:59:00.123456", kNowMs));
    CHECK_FALSE(cloud::expires_soon("2026-12-03 02:00:00", kNowMs));
    // A zone is dropped, not applied: pydantic's value .replace(tzinfo=None).
    CHECK_FALSE(cloud::expires_soon("2026-12-03T02:00:00+05:00", kNowMs));
    CHECK(cloud::expires_soon("not a date", kNowMs));
    CHECK(cloud::expires_soon("", kNowMs));
}

TEST_CASE("fresh_login refreshes an expiring token and leaves a fresh one alone", "[cloud]") {
    UtcZone utc;
    Credentials creds;
    creds.email = "a@example.com";
    creds.oauth = OAuthLogin{"", "at-old", "rt-old", "2026-12-03T01:01:00", LoginContext{"o", "O", "p", "P"}};

    ScriptedTransport t;
    t.answers.push_back(answer(200, kConfig));
    t.answers.push_back(answer(200, R"({"access_token":"at-new","expires_in":3600,"token_type":"Bearer"})"));
    bool refreshed = false;
    auto got = cloud::fresh_login(t, creds, kNowMs, std::chrono::seconds(1), &refreshed);
    REQUIRE(got);
    CHECK(refreshed);
    CHECK(t.seen[0].url == "https://cloud.arcade.dev/api/v1/auth/cli_config");
    CHECK(t.seen[1].url == "https://auth.example/token");
    CHECK(got.value->oauth->access_token == "at-new");
    CHECK(got.value->oauth->refresh_token == "rt-old");
    CHECK(got.value->oauth->expires_at == "2026-12-03T02:00:00");
    CHECK(got.value->oauth->coordinator_url == "https://cloud.arcade.dev");
    CHECK(got.value->oauth->context->org_id == "o");

    ScriptedTransport quiet;
    creds.oauth->expires_at = "2026-12-03T03:00:00";
    auto kept = cloud::fresh_login(quiet, creds, kNowMs, std::chrono::seconds(1), &refreshed);
    REQUIRE(kept);
    CHECK_FALSE(refreshed);
    CHECK(quiet.seen.empty());
    CHECK(kept.value->oauth->access_token == "at-old");

    ScriptedTransport refusing;
    creds.oauth->expires_at = "2026-12-03T00:00:00";
    refusing.answers.push_back(answer(200, kConfig));
    refusing.answers.push_back(answer(400, R"({"error":"invalid_grant"})"));
    auto failed = cloud::fresh_login(refusing, creds, kNowMs, std::chrono::seconds(1));
    REQUIRE_FALSE(failed);
    CHECK(failed.failure.message.find("invalid_grant") != std::string::npos);
}
