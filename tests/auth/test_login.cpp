// `arcade login` and `arcade logout` as a user sees them: the real binary, a
// fake Arcade Cloud and the test playing the browser over loopback HTTP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>

#include "auth_harness.h"
#include "core/credentials.h"
#include "support/fake_arcade.h"
#include "support/posthog_sink.h"

using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::ReservedPort;
using arcade::testing::http_get;
using arcade::testing::LoginAnswer;
using arcade::testing::Machine;
using arcade::testing::PostHogSink;

namespace {

constexpr const char* kKey = "arc_test_key_one";

// A socket on 127.0.0.1 that the test holds: either listening (a port in
// use) or connected and silent (a browser's speculative connection).
class HeldSocket {
public:
    // Listening on a free port (which port() tells).
    static HeldSocket listening() {
        HeldSocket s;
        sockaddr_in addr = loopback(0);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(s.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(s.fd_, 4) == 0);
        REQUIRE(::getsockname(s.fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        s.port_ = ntohs(addr.sin_port);
        return s;
    }
    int port() const { return port_; }
    static HeldSocket connected(int port) {
        HeldSocket s;
        sockaddr_in addr = loopback(port);
        REQUIRE(::connect(s.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        return s;
    }
    HeldSocket(HeldSocket&& o) noexcept : fd_(o.fd_), port_(o.port_) { o.fd_ = -1; }
    ~HeldSocket() {
        if (fd_ >= 0) ::close(fd_);
    }

private:
    HeldSocket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) { REQUIRE(fd_ >= 0); }
    static sockaddr_in loopback(int port) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return addr;
    }
    int fd_ = -1;
    int port_ = 0;
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

struct World {
    PostHogSink sink;
    FakeCloud cloud;
    std::unique_ptr<Machine> machine;
    World() {
        sink.start();
        cloud.set_principal(kKey, "principal-one");
        machine = std::make_unique<Machine>(sink.url(), cloud.url());
    }
};

// The login event the wrapper journaled (the last `login` row).
std::optional<arcade::store::StoredEvent> login_event(const Machine& m) {
    std::optional<arcade::store::StoredEvent> found;
    for (const auto& e : m.journal_events())
        if (e.kind == "event" && arcade::testing::command_name_of(e.properties) == "login") found = e;
    return found;
}

}  // namespace

TEST_CASE("login turns the browser's callback into credentials.yaml and a greeting", "[auth]") {
    World w;
    Machine& m = *w.machine;
    ReservedPort reserved(true);
    const int port = reserved.port();
    auto proc = m.start_arcade({"login", "--callback-port", std::to_string(port), "--timeout", "20"});
    auto url = m.wait_for_browser_url();
    REQUIRE(url);
    const std::string prefix = w.cloud.url() + "/api/v1/auth/cli_login?callback_uri=http%3A%2F%2F127.0.0.1%3A" +
                               std::to_string(port) + "%2Fcallback&state=";
    REQUIRE(url->rfind(prefix, 0) == 0);
    const std::string state = url->substr(prefix.size());
    CHECK(state.size() == 43);

    // A browser's speculative connection that never sends anything, and a
    // stray favicon request, must not end or block the login.
    auto idle = HeldSocket::connected(port);
    CHECK(http_get("http://127.0.0.1:" + std::to_string(port) + "/favicon.ico").status == 404);

    auto cloud_page = http_get(*url);
    REQUIRE(cloud_page.status == 302);
    auto page = http_get(cloud_page.location);
    auto r = proc->finish(20s);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, *url));  // printed for copy-paste
    CHECK(contains(r.out, "Logged in as first@example.com."));
    CHECK(page.status == 200);
    CHECK(contains(page.body, "Login successful"));
    CHECK(contains(page.body, "first@example.com"));

    auto requests = w.cloud.login_requests();
    REQUIRE(requests.size() == 1);
    // RFC 8252: the address the server listens on, not `localhost` (issue 13, finding 1).
    CHECK(requests[0]["callback_uri"] == "http://127.0.0.1:" + std::to_string(port) + "/callback");
    CHECK(requests[0]["state"] == state);

    auto creds = arcade::load_credentials(m.credentials_path());
    REQUIRE(creds);
    CHECK(creds->api_key == kKey);
    CHECK(creds->email == "first@example.com");
    struct stat st {};
    REQUIRE(::lstat(m.credentials_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // One-shot: the callback server is gone once the login is done.
    CHECK(http_get("http://127.0.0.1:" + std::to_string(port) + "/callback", 1s).status == 0);
}

TEST_CASE("login -h/--host and -p/--port name the Cloud, as in the original", "[auth]") {
    World w;
    Machine& m = *w.machine;
    m.env["ARCADE_CLOUD_URL"] = "http://127.0.0.1:9";  // --host must win over the environment
    SECTION("--host with a URL") {
        auto run = m.login({"--host", w.cloud.url()});
        INFO("stderr: " << run.result.err);
        CHECK(run.login_url.rfind(w.cloud.url() + "/api/v1/auth/cli_login?callback_uri=http%3A%2F%2F127.0.0.1%3A", 0) ==
              0);
        CHECK(run.callback_page.status == 200);
        CHECK(run.result.exit_code == 0);
        CHECK(arcade::load_credentials(m.credentials_path()));
    }
    SECTION("-h localhost -p PORT means http://localhost:PORT") {
        auto run = m.login({"-h", "localhost", "-p", std::to_string(w.cloud.port()), "-d"});
        INFO("stderr: " << run.result.err);
        CHECK(run.login_url.rfind("http://localhost:" + std::to_string(w.cloud.port()) + "/api/v1/auth/cli_login?", 0) ==
              0);
        CHECK(run.result.exit_code == 0);
    }
    SECTION("--help is still there") {
        auto r = m.arcade({"login", "--help"});
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "--callback-port"));
        CHECK(contains(r.out, "-h,--host"));
    }
}

TEST_CASE("login shows the warning Arcade Cloud sends along", "[auth]") {
    World w;
    LoginAnswer answer;
    answer.warning = "This CLI version is old\x1b[31m";
    w.cloud.set_login_answer(answer);
    auto run = w.machine->login();
    CHECK(run.result.exit_code == 0);
    CHECK(contains(run.result.err, "Warning: This CLI version is old?[31m"));
    CHECK(contains(run.callback_page.body, "This CLI version is old"));
}

TEST_CASE("login ignores a callback without this login's state and waits for the right one", "[auth]") {
    // Issue 13, finding 11: a request that does not know the state (another
    // local user, a stale tab) is answered 400 and cannot end or hijack the
    // login; the old code failed the login on it.
    World w;
    Machine& m = *w.machine;
    ReservedPort reserved(true);
    const int port = reserved.port();
    auto proc = m.start_arcade({"login", "--callback-port", std::to_string(port), "--timeout", "20"});
    auto url = m.wait_for_browser_url();
    REQUIRE(url);
    const std::string callback = "http://127.0.0.1:" + std::to_string(port) + "/callback";
    auto forged = http_get(callback + "?state=guess&api_key=arc_evil&email=evil%40example.com");
    auto stateless = http_get(callback + "?api_key=arc_evil&email=evil%40example.com");
    CHECK(forged.status == 400);
    CHECK(stateless.status == 400);
    CHECK(contains(forged.body, "ignored"));

    auto cloud_page = http_get(*url);
    REQUIRE(cloud_page.status == 302);
    auto page = http_get(cloud_page.location);
    auto r = proc->finish(20s);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(page.status == 200);
    CHECK(contains(r.out, "Logged in as first@example.com."));
    auto creds = arcade::load_credentials(m.credentials_path());
    REQUIRE(creds);
    CHECK(creds->api_key == kKey);
    CHECK_FALSE(arcade::testing::file_contains(m.credentials_path(), "arc_evil"));
    auto event = login_event(m);
    REQUIRE(event);
    CHECK(event->event != "CLI execution failed");
}

TEST_CASE("login refuses a callback without the API key or the e-mail", "[auth]") {
    World w;
    auto [omit_key, omit_email, named] = GENERATE(table<bool, bool, std::string>({
        {true, false, "api_key"},
        {false, true, "email"},
        {true, true, "api_key and email"},
    }));
    LoginAnswer answer;
    answer.omit_api_key = omit_key;
    answer.omit_email = omit_email;
    w.cloud.set_login_answer(answer);
    auto run = w.machine->login();
    INFO("stderr: " << run.result.err);
    CHECK(run.result.exit_code == 1);
    CHECK(contains(run.result.err, "missing " + named));
    CHECK(run.callback_page.status == 400);
    CHECK_FALSE(std::filesystem::exists(w.machine->credentials_path()));
}

TEST_CASE("login leaves credentials untouched when it fails", "[auth]") {
    World w;
    Machine& m = *w.machine;
    // An unusable file is not a login (see the robustness tests), so login
    // proceeds; a failed attempt must leave the file exactly as it was.
    std::filesystem::create_directories(m.config_dir());
    { std::ofstream(m.credentials_path()) << "cloud: [not, a, map]\n"; }
    LoginAnswer answer;
    answer.omit_api_key = true;
    w.cloud.set_login_answer(answer);
    auto run = m.login();
    CHECK(run.result.exit_code == 1);
    CHECK(arcade::testing::slurp(m.credentials_path()) == "cloud: [not, a, map]\n");
}

TEST_CASE("login when already logged in says so and does not start a login", "[auth]") {
    World w;
    Machine& m = *w.machine;
    m.write_credentials(kKey, "someone@example.com");
    auto occupied = HeldSocket::listening();  // would make a real attempt fail
    const int port = occupied.port();
    auto r = m.arcade({"login", "--callback-port", std::to_string(port)});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "Already logged in as someone@example.com."));
    CHECK_FALSE(m.browser_was_opened());
    CHECK(w.cloud.login_requests().empty());
}

TEST_CASE("login reports a callback port that is already in use", "[auth]") {
    World w;
    Machine& m = *w.machine;
    auto occupied = HeldSocket::listening();
    const int port = occupied.port();
    auto r = m.arcade({"login", "--callback-port", std::to_string(port), "--timeout", "5"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "port " + std::to_string(port) + " on 127.0.0.1 is already in use"));
    CHECK(contains(r.err, "--callback-port"));
    CHECK_FALSE(m.browser_was_opened());
    CHECK_FALSE(std::filesystem::exists(m.credentials_path()));
}

TEST_CASE("login gives up after --timeout without an answer", "[auth]") {
    World w;
    Machine& m = *w.machine;
    auto started = std::chrono::steady_clock::now();
    ReservedPort port(true);
    auto r = m.arcade({"login", "--callback-port", std::to_string(port.port()), "--timeout", "1"});
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "timed out after 1 s"));
    CHECK(took < 8s);
    CHECK(m.browser_was_opened());
    CHECK_FALSE(std::filesystem::exists(m.credentials_path()));
}

TEST_CASE("Ctrl-C cancels a login that is waiting for the browser", "[auth]") {
    World w;
    Machine& m = *w.machine;
    ReservedPort port(true);
    auto proc = m.start_arcade({"login", "--callback-port", std::to_string(port.port()), "--timeout", "30"});
    REQUIRE(m.wait_for_browser_url());
    auto started = std::chrono::steady_clock::now();
    proc->send_signal(SIGINT);
    auto r = proc->finish(10s);
    CHECK(std::chrono::steady_clock::now() - started < 3s);
    CHECK(r.exit_code == 130);
    CHECK(contains(r.err, "Login cancelled."));
    CHECK_FALSE(std::filesystem::exists(m.credentials_path()));
}

TEST_CASE("login with tracking off journals nothing and asks Cloud nothing", "[auth]") {
    World w;
    Machine& m = *w.machine;
    m.env["DO_NOT_TRACK"] = "1";
    auto run = m.login();
    CHECK(run.result.exit_code == 0);
    CHECK(arcade::load_credentials(m.credentials_path()));
    CHECK(w.cloud.validate_calls() == 0);
    CHECK_FALSE(std::filesystem::exists(m.config_dir() / "usage.db"));
    CHECK_FALSE(std::filesystem::exists(m.config_dir() / "usage.json"));
}

TEST_CASE("logout removes the credentials and starts a fresh identity", "[auth]") {
    World w;
    Machine& m = *w.machine;
    m.write_credentials(kKey, "someone@example.com");
    auto r = m.arcade({"logout"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Logged out.\n");
    CHECK_FALSE(std::filesystem::exists(m.credentials_path()));

    auto history = m.identity_history();
    REQUIRE(history.size() == 2);
    CHECK(history[0].transition == "created");
    CHECK(history[1].transition == "rotated");
    CHECK(history[1].identity.anon_id != history[0].identity.anon_id);
    auto events = m.journal_events();
    REQUIRE(events.size() == 1);
    CHECK(arcade::testing::command_name_of(events[0].properties) == "logout");
    CHECK(events[0].event == "CLI execution succeeded");
    CHECK(events[0].anon_id == history[0].identity.anon_id);  // recorded before the rotation

    SECTION("a second logout has nothing to remove and keeps the identity") {
        auto again = m.arcade({"logout"});
        CHECK(again.exit_code == 0);
        CHECK(again.out == "Not logged in.\n");
        CHECK(m.identity_history().size() == 2);
    }
}

TEST_CASE("logout removes a symlinked credentials file without touching its target", "[auth]") {
    World w;
    Machine& m = *w.machine;
    std::filesystem::create_directories(m.config_dir());
    auto target = m.path() / "elsewhere.yaml";
    { std::ofstream(target) << "cloud:\n  api:\n    key: " << kKey << "\n"; }
    std::filesystem::create_symlink(target, m.credentials_path());
    auto r = m.arcade({"logout"});
    CHECK(r.exit_code == 0);
    CHECK_FALSE(std::filesystem::is_symlink(m.credentials_path()));
    CHECK(std::filesystem::exists(target));
}

TEST_CASE("login tries each $BROWSER entry in turn, with %s standing for the URL", "[auth]") {
    World w;
    Machine& m = *w.machine;
    const std::string recorder = m.env["BROWSER"];
    m.env["BROWSER"] = "/nonexistent/browser:" + recorder + " %s";
    auto run = m.login();
    INFO("stderr: " << run.result.err);
    CHECK(run.login_url.rfind(w.cloud.url() + "/api/v1/auth/cli_login?", 0) == 0);
    CHECK(run.result.exit_code == 0);
}
