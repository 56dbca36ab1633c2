// `arcade login` with a real browser: $BROWSER starts headless Chromium on
// the login URL; the fake Cloud page redirects it to the CLI's callback, as
// Arcade Cloud does after the user signs in. Skipped (with a warning) only
// when /usr/bin/chromium is absent; CI installs it (.ci/install-chromium.sh).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "auth_harness.h"
#include "core/credentials.h"
#include "support/fake_arcade.h"
#include "support/posthog_sink.h"

using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::HeadlessChromium;
using arcade::testing::Machine;
using arcade::testing::PostHogSink;

TEST_CASE("login through headless Chromium stores the credentials and links the identity", "[auth]") {
    if (!HeadlessChromium::installed()) {
        WARN("skipped: " << HeadlessChromium::kPath << " is not installed (apt-get install chromium)");
        return;
    }
    PostHogSink sink;
    sink.start();
    FakeCloud cloud;
    cloud.set_principal("arc_test_key_one", "principal-one");
    Machine m(sink.url(), cloud.url());

    HeadlessChromium chromium(m);

    arcade::testing::ReservedPort reserved(true);
    const int port = reserved.port();
    auto r = m.arcade({"login", "--callback-port", std::to_string(port), "--timeout", "60"}, 90s);
    INFO("stdout: " << r.out << "\nstderr: " << r.err << "\nchromium log: " << chromium.log());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Logged in as first@example.com.") != std::string::npos);
    REQUIRE(cloud.login_requests().size() == 1);
    CHECK(cloud.login_requests()[0]["callback_uri"] == "http://127.0.0.1:" + std::to_string(port) + "/callback");

    auto creds = arcade::load_credentials(m.credentials_path());
    REQUIRE(creds);
    CHECK(creds->api_key == "arc_test_key_one");
    CHECK(creds->email == "first@example.com");
    struct stat st {};
    REQUIRE(::stat(m.credentials_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // The journal: `linked`, then the alias row, then login's own event as the principal.
    auto history = m.identity_history();
    REQUIRE(history.size() == 2);
    CHECK(history[1].transition == "linked");
    CHECK(history[1].identity.principal_id == std::optional<std::string>("principal-one"));
    const std::string anon = history[1].identity.anon_id;
    auto rows = m.journal_events();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].kind == "alias");
    CHECK(rows[0].event == "$create_alias");
    CHECK(rows[0].distinct_id == "principal-one");
    CHECK(rows[0].anon_id == anon);
    CHECK(rows[0].properties.find("\"alias\":\"" + anon + "\"") != std::string::npos);
    CHECK(rows[1].kind == "event");
    CHECK(arcade::testing::command_name_of(rows[1].properties) == "login");
    CHECK(rows[1].distinct_id == "principal-one");
    CHECK_FALSE(rows[1].needs_identity);

    // What the browser showed once it had followed the redirect.
    const std::string dom = chromium.wait_for_dom();
    CHECK(dom.find("Login successful") != std::string::npos);
    CHECK(dom.find("first@example.com") != std::string::npos);
}
