// Today's `arcade login` (OAuth 2.0 + PKCE) and the login it shares with the
// Python CLI 1.15, end to end: the real binaries against the fake Coordinator
// (FakeCloud with enable_oauth), the fake Engine in org/project scope and a
// PostHog sink. Tokens are distinctive strings, so every leak check greps.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "auth_harness.h"
#include "cloud/oauth.h"
#include "http/transport.h"
#include "core/credentials.h"
#include "support/fake_arcade.h"
#include "support/posthog_sink.h"
#include "support/process.h"
#include "support/reserved_port.h"

using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::FakeEngine;
using arcade::testing::FakeRequest;
using arcade::testing::HeadlessChromium;
using arcade::testing::Machine;
using arcade::testing::OAuthAccount;
using arcade::testing::PostHogSink;
using arcade::testing::sent_events;
using arcade::testing::http_get;

namespace {

constexpr auto kDelivery = 15s;
const OAuthAccount kAccount;  // acct-oauth-7f3c, oauth.user@example.com, org-7 / proj-9

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The exact bytes the Python CLI 1.15's Config.save_to_file writes for this
// login (yaml.dump(..., default_flow_style=False) of model_dump(mode="json"),
// produced with PyYAML 6 from these values), with the Coordinator's URL
// standing in for "@URL@" and the expiry for "@EXPIRES@".
const std::string kPythonFile =
    "cloud:\n"
    "  auth:\n"
    "    access_token: at_python_S3cr3tAccess_0001\n"
    "    expires_at: '@EXPIRES@'\n"
    "    refresh_token: rt_python_S3cr3tRefresh_0001\n"
    "  context:\n"
    "    org_id: org-7\n"
    "    org_name: Org Seven\n"
    "    project_id: proj-9\n"
    "    project_name: Project Nine\n"
    "  coordinator_url: @URL@\n"
    "  user:\n"
    "    email: oauth.user@example.com\n";
constexpr const char* kPythonAccess = "at_python_S3cr3tAccess_0001";
constexpr const char* kPythonRefresh = "rt_python_S3cr3tRefresh_0001";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

std::string python_file(const std::string& url, const std::string& expires) {
    return replaced(replaced(kPythonFile, "@URL@", url), "@EXPIRES@", expires);
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

struct World {
    PostHogSink sink;
    FakeCloud cloud;
    FakeEngine engine;
    std::unique_ptr<Machine> machine;
    World() {
        sink.start();
        cloud.enable_oauth();
        engine.set_scope("org-7", "proj-9");
        // As the Python CLI 1.15 sends it: the raw token to the API, `Bearer`
        // only on the deployment log stream.
        engine.set_authorization_check([this](const FakeRequest& req) {
            const bool stream = contains(req.path, "/logs/stream");
            const std::string prefix = stream ? "Bearer " : "";
            return req.authorization.rfind(prefix, 0) == 0 &&
                   cloud.is_access_token(req.authorization.substr(prefix.size())) &&
                   (stream || req.authorization.rfind("Bearer ", 0) != 0);
        });
        engine.set_workers({{"w-oauth", true, false, "http", "https://w.example", "", false, {"Kit"}}});
        machine = std::make_unique<Machine>(sink.url(), cloud.url());
        machine->env["ARCADE_ENGINE_URL"] = engine.url();
    }
};

// No token, code or verifier in the journal, its WAL, usage.json, what
// PostHog received, `usage status`, or anything arcade printed.
void check_no_secret_leaks(World& w, const std::vector<std::string>& secrets) {
    Machine& m = *w.machine;
    auto status = m.arcade({"usage", "status", "--json", "--events"});
    REQUIRE(status.exit_code == 0);
    for (const auto& secret : secrets) {
        INFO("secret " << secret);
        REQUIRE_FALSE(secret.empty());
        for (const char* file : {"usage.db", "usage.db-wal", "usage.json"})
            CHECK_FALSE(arcade::testing::file_contains(m.config_dir() / file, secret));
        CHECK_FALSE(contains(status.out, secret));
        CHECK_FALSE(contains(m.transcript(), secret));
        for (const auto& json : w.sink.accepted_events()) CHECK_FALSE(contains(json, secret));
    }
}

const std::regex kExpiresLine("    expires_at: '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{6})?'\n");

}  // namespace

TEST_CASE("OAuth login: PKCE code flow, whoami, the Python CLI's file, then the identity link", "[auth]") {
    World w;
    Machine& m = *w.machine;
    auto run = m.login();
    INFO("stdout: " << run.result.out << "\nstderr: " << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(contains(run.result.out, "Logged in as oauth.user@example.com."));
    CHECK(contains(run.result.out, "Active project: Org Seven / Project Nine"));
    CHECK(run.callback_page.status == 200);
    CHECK(contains(run.callback_page.body, "Login successful"));

    // The authorization request, as authlib builds it.
    auto authorize = w.cloud.requests_to("GET", "/oauth/authorize");
    REQUIRE(authorize.size() == 1);
    const auto& q = authorize[0].params;
    CHECK(q.at("response_type") == "code");
    CHECK(q.at("client_id") == arcade::testing::kTestClientId);
    CHECK(q.at("scope") == "openid offline_access");
    CHECK(q.at("code_challenge_method") == "S256");
    CHECK(q.at("code_challenge").size() == 43);
    CHECK(q.at("redirect_uri").rfind("http://127.0.0.1:", 0) == 0);
    auto tokens = w.cloud.token_requests();
    REQUIRE(tokens.size() == 1);
    CHECK(tokens[0].at("grant_type") == "authorization_code");
    CHECK(tokens[0].at("redirect_uri") == q.at("redirect_uri"));
    CHECK(tokens[0].at("code_verifier").size() == 86);
    CHECK(w.cloud.validate_calls() == 0);

    // credentials.yaml exactly as the Python CLI lays it out, 0600.
    auto issued = w.cloud.issued_tokens();  // refresh, then access
    REQUIRE(issued.size() == 2);
    const std::string text = arcade::testing::slurp(m.credentials_path());
    std::smatch expires;
    REQUIRE(std::regex_search(text, expires, kExpiresLine));
    std::string expected = "cloud:\n  auth:\n    access_token: " + issued[1] + "\n" + expires.str() +
                           "    refresh_token: " + issued[0] +
                           "\n  context:\n    org_id: org-7\n    org_name: Org Seven\n    project_id: proj-9\n"
                           "    project_name: Project Nine\n  coordinator_url: " +
                           w.cloud.url() + "\n  user:\n    email: oauth.user@example.com\n";
    CHECK(text == expected);
    struct stat st {};
    REQUIRE(::lstat(m.credentials_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // The link and alias before login's own event, under whoami's account id.
    auto history = m.identity_history();
    REQUIRE(history.size() == 2);
    CHECK(history[1].transition == "linked");
    CHECK(history[1].identity.principal_id == std::optional<std::string>(kAccount.account_id));
    auto rows = m.journal_events();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].event == "$create_alias");
    CHECK(rows[1].distinct_id == kAccount.account_id);
    CHECK_FALSE(rows[1].needs_identity);

    // A worker command with the new login: scoped path, raw token.
    auto list = m.arcade({"worker", "list"});
    INFO("worker list: " << list.out << list.err);
    CHECK(list.exit_code == 0);
    CHECK(contains(list.out, "w-oauth"));
    auto seen = w.engine.requests_to("GET", "/v1/orgs/org-7/projects/proj-9/workers");
    REQUIRE_FALSE(seen.empty());
    CHECK(seen[0].authorization == issued[1]);
    check_no_secret_leaks(w, {issued[0], issued[1], tokens[0].at("code"), tokens[0].at("code_verifier")});
}

TEST_CASE("OAuth login through headless Chromium", "[auth]") {
    if (!HeadlessChromium::installed()) {
        WARN("skipped: " << HeadlessChromium::kPath << " is not installed (apt-get install chromium)");
        return;
    }
    World w;
    Machine& m = *w.machine;
    HeadlessChromium chromium(m);

    arcade::testing::ReservedPort reserved(true);
    auto r = m.arcade({"login", "--callback-port", std::to_string(reserved.port()), "--timeout", "60"}, 90s);
    INFO("stdout: " << r.out << "\nstderr: " << r.err << "\nchromium log: " << chromium.log());
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, "Logged in as oauth.user@example.com."));
    auto creds = arcade::load_credentials(m.credentials_path());
    REQUIRE(creds);
    REQUIRE(creds->is_oauth());
    CHECK(creds->oauth->context->org_id == "org-7");
    CHECK(m.identity_history().back().identity.principal_id == std::optional<std::string>(kAccount.account_id));

    const std::string dom = chromium.wait_for_dom();
    CHECK(contains(dom, "Login successful"));
    CHECK(contains(dom, "oauth.user@example.com"));
}

TEST_CASE("a Python CLI login is used by worker commands, and its events go out as the whoami account", "[auth]") {
    World w;
    Machine& m = *w.machine;
    w.cloud.add_tokens(kPythonAccess, kPythonRefresh);
    const std::string bytes = python_file(w.cloud.url(), "2099-01-01T00:00:00.123456");
    write_file(m.credentials_path(), bytes);

    auto list = m.arcade({"worker", "list"});
    INFO("worker list: " << list.out << list.err);
    REQUIRE(list.exit_code == 0);
    CHECK(contains(list.out, "w-oauth"));
    auto seen = w.engine.requests_to("GET", "/v1/orgs/org-7/projects/proj-9/workers");
    REQUIRE_FALSE(seen.empty());
    CHECK(seen[0].authorization == kPythonAccess);  // raw, as arcadepy sends it
    CHECK(w.engine.requests_to("GET", "/v1/workers").empty());
    CHECK(w.cloud.requests_to("GET", "/api/v1/workers").empty());
    CHECK(w.cloud.token_requests().empty());  // a fresh token is not refreshed
    CHECK(arcade::testing::slurp(m.credentials_path()) == bytes);

    // The shipper looks the principal up by whoami and aliases first.
    REQUIRE(w.sink.wait_for_accepted(2, kDelivery));
    REQUIRE(m.wait_shipper_idle());
    auto ev = sent_events(w.sink);
    REQUIRE(ev.size() >= 2);
    CHECK(ev[0].event == "$create_alias");
    CHECK(ev[0].distinct_id == kAccount.account_id);
    CHECK_FALSE(ev[0].alias.empty());
    CHECK(ev[1].distinct_id == kAccount.account_id);
    auto whoami = w.cloud.requests_to("GET", "/api/v1/auth/whoami");
    REQUIRE_FALSE(whoami.empty());
    CHECK(whoami[0].authorization == std::string("Bearer ") + kPythonAccess);

    // The deployment log stream: Engine, org/project scope, `Bearer`.
    // Lines printed as the Python CLI prints them: `[local time ZONE] Line`.
    w.engine.set_log_script(
        {{{"data: {\"Timestamp\":\"2026-12-03T01:02:03.508906574Z\",\"Line\":\"line one\"}\n\n", 0ms},
          {"data: not json\n\n", 0ms},
          {"data: [DONE]\n\n", 0ms}},
         arcade::testing::SseEnd::finish});
    m.env["TZ"] = "UTC";
    auto logs = m.arcade({"worker", "logs", "w-oauth"});
    INFO("logs: " << logs.out << logs.err);
    CHECK(logs.exit_code == 0);
    CHECK(logs.out == "[2026-12-03 01:02:03 UTC] line one\nnot json\n");
    auto streams = w.engine.requests_to("GET", "/v1/orgs/org-7/projects/proj-9/deployments/w-oauth/logs/stream");
    REQUIRE(streams.size() == 1);
    CHECK(streams[0].authorization == std::string("Bearer ") + kPythonAccess);

    check_no_secret_leaks(w, {kPythonAccess, kPythonRefresh});
}

TEST_CASE("an expiring token is refreshed and the file stays in the Python CLI's layout", "[auth]") {
    World w;
    Machine& m = *w.machine;
    w.cloud.add_tokens(kPythonAccess, kPythonRefresh);
    w.cloud.set_refresh_omits_refresh_token(true);
    write_file(m.credentials_path(), python_file(w.cloud.url(), "2020-01-01T00:00:00.123456"));

    auto list = m.arcade({"worker", "list"});
    INFO("worker list: " << list.out << list.err);
    REQUIRE(list.exit_code == 0);
    auto tokens = w.cloud.token_requests();
    REQUIRE(tokens.size() == 1);
    CHECK(tokens[0].at("grant_type") == "refresh_token");
    CHECK(tokens[0].at("refresh_token") == kPythonRefresh);
    CHECK(tokens[0].at("client_id") == arcade::testing::kTestClientId);
    auto issued = w.cloud.issued_tokens();
    REQUIRE(issued.size() == 1);
    auto seen = w.engine.requests_to("GET", "/v1/orgs/org-7/projects/proj-9/workers");
    REQUIRE_FALSE(seen.empty());
    CHECK(seen[0].authorization == issued[0]);

    // Same bytes but the new token and expiry; the refresh token kept.
    const std::string text = arcade::testing::slurp(m.credentials_path());
    std::smatch expires;
    REQUIRE(std::regex_search(text, expires, kExpiresLine));
    CHECK(text == replaced(replaced(python_file(w.cloud.url(), "X"), "    expires_at: 'X'\n", expires.str()),
                           kPythonAccess, issued[0]));
    struct stat st {};
    REQUIRE(::lstat(m.credentials_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // Now fresh: the next command does not refresh again.
    REQUIRE(m.arcade({"worker", "list"}).exit_code == 0);
    CHECK(w.cloud.token_requests().size() == 1);
    check_no_secret_leaks(w, {kPythonAccess, kPythonRefresh, issued[0]});
}

TEST_CASE("a refused refresh fails the worker command clearly and keeps the login", "[auth]") {
    World w;
    Machine& m = *w.machine;
    const std::string bytes = python_file(w.cloud.url(), "2020-01-01T00:00:00.123456");
    write_file(m.credentials_path(), bytes);  // the fake never issued these tokens
    auto list = m.arcade({"worker", "list"});
    CHECK(list.exit_code == 1);
    CHECK(contains(list.err, "Failed to refresh the Arcade Cloud login"));
    CHECK(contains(list.err, "invalid_grant"));
    CHECK(arcade::testing::slurp(m.credentials_path()) == bytes);
    CHECK(w.engine.requests().empty());
}

TEST_CASE("an existing login of either format is never replaced", "[auth]") {
    World w;
    Machine& m = *w.machine;
    SECTION("OAuth (the Python CLI's file)") {
        const std::string bytes = python_file(w.cloud.url(), "2020-01-01T00:00:00.123456");
        write_file(m.credentials_path(), bytes);
        auto r = m.arcade({"login", "--timeout", "2"});
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "Already logged in as oauth.user@example.com. Run `arcade logout` first."));
        CHECK(arcade::testing::slurp(m.credentials_path()) == bytes);
    }
    SECTION("a first-generation key") {
        m.write_credentials("arc_kept_key", "keyed@example.com");
        const std::string bytes = arcade::testing::slurp(m.credentials_path());
        auto r = m.arcade({"login", "--timeout", "2"});
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "Already logged in as keyed@example.com. Run `arcade logout` first."));
        CHECK(arcade::testing::slurp(m.credentials_path()) == bytes);
    }
    CHECK_FALSE(m.browser_was_opened());
    CHECK(w.cloud.requests_to("GET", "/api/v1/auth/cli_config").empty());
}

TEST_CASE("logout says Logged out for either format", "[auth]") {
    World w;
    Machine& m = *w.machine;
    SECTION("OAuth") { write_file(m.credentials_path(), python_file(w.cloud.url(), "2099-01-01T00:00:00")); }
    SECTION("key") { m.write_credentials("arc_some_key", "keyed@example.com"); }
    auto r = m.arcade({"logout"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Logged out.\n");
    CHECK_FALSE(std::filesystem::exists(m.credentials_path()));
}

TEST_CASE("a Cloud without cli_config gets the first-generation key login", "[auth]") {
    PostHogSink sink;
    sink.start();
    FakeCloud cloud;  // OAuth not enabled: cli_config answers 404
    cloud.set_principal("arc_test_key_one", "principal-one");
    Machine m(sink.url(), cloud.url());
    auto run = m.login();
    INFO("stderr: " << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(cloud.requests_to("GET", "/api/v1/auth/cli_config").size() == 1);
    CHECK(cloud.login_requests().size() == 1);
    CHECK(arcade::testing::slurp(m.credentials_path()) ==
          "cloud:\n  api:\n    key: arc_test_key_one\n  user:\n    email: first@example.com\n");
}

TEST_CASE("OAuth login: a refusal in the browser is reported and nothing is saved", "[auth]") {
    World w;
    w.cloud.set_oauth_denied(true);
    auto run = w.machine->login();
    CHECK(run.result.exit_code == 1);
    CHECK(contains(run.result.err, "Arcade Cloud refused the login: The user said no."));
    CHECK(run.callback_page.status == 400);
    CHECK_FALSE(std::filesystem::exists(w.machine->credentials_path()));
}

TEST_CASE("OAuth login: a code obtained by someone else cannot log you in (PKCE closes login CSRF)", "[auth]") {
    // Another local user reads `state` from the browser's command line and
    // sends the callback first, with a code from their own consent (bound to
    // their own challenge). The first-generation flow would have saved their
    // key; here the token endpoint refuses the code with our verifier.
    World w;
    Machine& m = *w.machine;
    arcade::testing::ReservedPort reserved(true);
    const int port = reserved.port();
    auto proc = m.start_arcade({"login", "--callback-port", std::to_string(port), "--timeout", "20", "--debug"});
    auto url = m.wait_for_browser_url();
    REQUIRE(url);
    const std::string redirect = "http://127.0.0.1:" + std::to_string(port) + "/callback";
    auto state_at = url->find("&state=");
    REQUIRE(state_at != std::string::npos);
    std::string state = url->substr(state_at + 7);
    state = state.substr(0, state.find('&'));
    const std::string attackers_code =
        w.cloud.issue_code("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", redirect);  // RFC 7636's example verifier
    auto page = http_get(redirect + "?code=" + attackers_code + "&state=" + state);
    auto r = proc->finish(20s);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "Login failed: Arcade Cloud did not accept the login's authorization code."));
    CHECK(contains(r.err, "Debug: the token endpoint answered 400 (invalid_grant)"));  // --debug
    CHECK_FALSE(contains(r.out, "Logged in as"));
    CHECK(page.status == 500);
    CHECK_FALSE(std::filesystem::exists(m.credentials_path()));
    auto tokens = w.cloud.token_requests();
    REQUIRE(tokens.size() == 1);
    CHECK(tokens[0].at("code") == attackers_code);
    CHECK(w.cloud.issued_tokens().empty());
}

TEST_CASE("the fake Coordinator refuses a wrong verifier and a reused code", "[auth]") {
    // The fake must be as strict as RFC 7636 §4.6 and RFC 6749 §4.1.2, or the
    // tests above prove nothing. Checked with arcade's own client over HTTP.
    World w;
    auto transport = arcade::http::make_curl_transport();
    auto config = arcade::cloud::fetch_cli_config(*transport, w.cloud.url(), 5s);
    REQUIRE(config);
    const std::string redirect = "http://127.0.0.1:1/callback";
    const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const std::string code = w.cloud.issue_code(arcade::cloud::code_challenge(verifier), redirect);
    auto wrong = arcade::cloud::exchange_code(*transport, *config.value, code, redirect, verifier + "x", 5s);
    CHECK_FALSE(wrong);
    // The failed attempt used the code up.
    CHECK_FALSE(arcade::cloud::exchange_code(*transport, *config.value, code, redirect, verifier, 5s));
    const std::string code2 = w.cloud.issue_code(arcade::cloud::code_challenge(verifier), redirect);
    CHECK(arcade::cloud::exchange_code(*transport, *config.value, code2, redirect, verifier, 5s));
    auto reused = arcade::cloud::exchange_code(*transport, *config.value, code2, redirect, verifier, 5s);
    REQUIRE_FALSE(reused);
    CHECK(contains(reused.failure.message, "invalid_grant"));
}

TEST_CASE("OAuth login: Ctrl-C while the code is being redeemed cancels at once", "[auth]") {
    World w;
    Machine& m = *w.machine;
    arcade::testing::ReservedPort reserved(true);
    auto proc = m.start_arcade({"login", "--callback-port", std::to_string(reserved.port()), "--timeout", "30"});
    auto url = m.wait_for_browser_url();
    REQUIRE(url);
    auto consent = http_get(*url);
    REQUIRE(consent.status == 302);
    w.cloud.set_delay(20s);  // the token endpoint hangs from now on
    arcade::testing::Page page;
    std::thread browser([&] { page = http_get(consent.location, 10s); });
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         w.cloud.requests_to("POST", "/oauth/token").empty() && std::chrono::steady_clock::now() < deadline;)
        std::this_thread::sleep_for(20ms);
    REQUIRE(w.cloud.requests_to("POST", "/oauth/token").size() == 1);
    auto started = std::chrono::steady_clock::now();
    proc->send_signal(SIGINT);
    auto r = proc->finish(10s);
    browser.join();
    w.cloud.set_delay(0ms);
    CHECK(std::chrono::steady_clock::now() - started < 3s);
    CHECK(r.exit_code == 130);
    CHECK(contains(r.err, "Login cancelled."));
    CHECK_FALSE(std::filesystem::exists(m.credentials_path()));
}

TEST_CASE("worker enable, disable and rm with an OAuth login go to the Engine's org/project scope", "[auth]") {
    World w;
    Machine& m = *w.machine;
    w.cloud.add_tokens(kPythonAccess, kPythonRefresh);
    write_file(m.credentials_path(), python_file(w.cloud.url(), "2099-01-01T00:00:00.123456"));
    const std::string scoped = "/v1/orgs/org-7/projects/proj-9/workers/w-oauth";

    auto off = m.arcade({"worker", "disable", "w-oauth"});
    INFO("disable: " << off.out << off.err);
    CHECK(off.exit_code == 0);
    CHECK_FALSE(w.engine.workers().at(0).enabled);
    auto on = m.arcade({"worker", "enable", "w-oauth"});
    CHECK(on.exit_code == 0);
    CHECK(w.engine.workers().at(0).enabled);
    auto patches = w.engine.requests_to("PATCH", scoped);
    REQUIRE(patches.size() == 2);
    CHECK(patches[0].authorization == kPythonAccess);

    // As the Python CLI's `server delete`: the Engine's scoped deletion only.
    auto rm = m.arcade({"worker", "rm", "w-oauth"});
    INFO("rm: " << rm.out << rm.err);
    CHECK(rm.exit_code == 0);
    CHECK(contains(rm.out, "Deregistered worker 'w-oauth' from the Arcade Engine."));
    CHECK(w.engine.requests_to("DELETE", scoped).size() == 1);
    CHECK(w.engine.workers().empty());
    CHECK(w.cloud.requests_to("DELETE", "/api/v1/workers").empty());
}
