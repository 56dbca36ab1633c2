// Issue 12: identity that stays right when other programs touch the config
// dir (SPEC §4). The real `arcade` and the `arcade-ship` it spawns, against
// the loopback PostHog sink and the fake Arcade Cloud (key one → principal
// one, key two → principal two); "another program" is this test writing
// usage.json and credentials.yaml the way the Python Arcade CLI does. What
// PostHog receives is the observable: no anonymous id is ever aliased to two
// principals, no event after an account switch or a removal carries the old
// principal, and `usage status` names the distinct id the next event gets.
#include <fcntl.h>
#include <rapidjson/document.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth_harness.h"
#include "core/files.h"
#include "core/uuid.h"
#include "store/identity_file.h"
#include "support/fake_arcade.h"
#include "support/posthog_sink.h"

using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::LoginAnswer;
using arcade::testing::Machine;
using arcade::testing::PostHogSink;
using arcade::testing::sent_events;

namespace {

constexpr const char* kKeyOne = "arc_test_key_one";
constexpr const char* kKeyTwo = "arc_test_key_two";
constexpr const char* kPrincipalOne = "principal-one";
constexpr const char* kPrincipalTwo = "principal-two";
constexpr auto kDelivery = 15s;

using Sent = arcade::testing::SentEvent;

// No anonymous id is aliased to two principals — counting the aliases other
// programs made (`elsewhere`: anon → principal) — and no id is aliased twice.
void check_no_person_merged(const std::vector<Sent>& events, const std::map<std::string, std::string>& elsewhere = {}) {
    std::map<std::string, std::set<std::string>> aliased;
    for (const auto& [anon, principal] : elsewhere) aliased[anon].insert(principal);
    for (const auto& e : events)
        if (e.is_alias()) aliased[e.alias].insert(e.distinct_id);
    for (const auto& [anon, principals] : aliased) {
        INFO("anonymous id " << anon);
        CHECK(principals.size() == 1);
    }
}

struct World {
    PostHogSink sink;
    FakeCloud cloud;
    std::unique_ptr<Machine> machine;
    World() {
        sink.start();
        cloud.set_principal(kKeyOne, kPrincipalOne);
        cloud.set_principal(kKeyTwo, kPrincipalTwo);
        machine = std::make_unique<Machine>(sink.url(), cloud.url());
    }
    Machine& m() { return *machine; }
    // Logs in through the browser flow with `key`.
    void login(const std::string& key, const std::string& email) {
        LoginAnswer answer;
        answer.api_key = key;
        answer.email = email;
        cloud.set_login_answer(answer);
        auto run = machine->login();
        INFO("login stderr: " << run.result.err);
        REQUIRE(run.result.exit_code == 0);
    }
};

void run_ok(Machine& m, const std::vector<std::string>& args) {
    auto r = m.arcade(args);
    INFO("arcade stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
}

// usage.json as the Python CLI writes it: json.dump(indent=2) into a
// temporary file in the same directory, under an exclusive lock on that
// file, fsync, then os.replace.
void python_writes_usage(const std::filesystem::path& config_dir, const std::string& json_text) {
    std::filesystem::create_directories(config_dir);
    std::string temp = (config_dir / ".usage_XXXXXX.tmp").string();
    std::vector<char> name(temp.begin(), temp.end());
    name.push_back('\0');
    int fd = ::mkstemps(name.data(), 4);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    REQUIRE(arcade::write_all(fd, json_text));
    ::fsync(fd);
    ::flock(fd, LOCK_UN);
    ::close(fd);
    REQUIRE(::rename(name.data(), (config_dir / "usage.json").c_str()) == 0);
}

std::string usage_text(const std::string& anon, const std::optional<std::string>& principal) {
    return arcade::store::format_identity_json({anon, principal});
}

// `usage status --json`'s identity.distinct_id.
std::string status_distinct_id(Machine& m) {
    auto r = m.arcade({"usage", "status", "--json"});
    REQUIRE(r.exit_code == 0);
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    return d["identity"]["distinct_id"].GetString();
}

std::string status_reason(Machine& m) {
    auto r = m.arcade({"usage", "status", "--json"});
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    REQUIRE_FALSE(d.HasParseError());
    const auto& reason = d["identity"]["reason"];
    return reason.IsString() ? reason.GetString() : "(null)";
}

// usage.json as it is now (the journal's projection; the test reads it as another program would).
arcade::store::Identity file_identity(const Machine& m) {
    auto id = arcade::store::read_identity_file(m.config_dir() / "usage.json");
    REQUIRE(id);
    return *id;
}

}  // namespace

TEST_CASE("1. a link another program made is never aliased to a second principal", "[auth]") {
    World w;
    Machine& m = w.m();
    run_ok(m, {"--version"});
    const std::string x = file_identity(m).anon_id;
    // The Python CLI, logged in as principal one, linked X (and aliased X → one).
    python_writes_usage(m.config_dir(), usage_text(x, kPrincipalOne));
    w.login(kKeyTwo, "second@example.com");
    run_ok(m, {"--version"});
    REQUIRE(w.sink.wait_for_accepted(4, kDelivery));
    REQUIRE(m.wait_shipper_idle());
    auto events = sent_events(w.sink);
    check_no_person_merged(events, {{x, kPrincipalOne}});
    bool aliased_two = false;
    for (const auto& e : events) {
        if (e.is_alias() && e.distinct_id == kPrincipalTwo) {
            aliased_two = true;
            CHECK(e.alias != x);
        }
    }
    CHECK(aliased_two);
    CHECK(events.back().distinct_id == kPrincipalTwo);
    CHECK(file_identity(m).anon_id != x);
}

TEST_CASE("2. an account switch by replacing credentials.yaml leaves the old person behind", "[auth]") {
    World w;
    Machine& m = w.m();
    w.login(kKeyOne, "first@example.com");
    run_ok(m, {"--version"});
    REQUIRE(w.sink.wait_for_accepted(3, kDelivery));  // alias, login, version
    REQUIRE(m.wait_shipper_idle());
    const std::string linked_anon = file_identity(m).anon_id;
    const std::size_t before = w.sink.accepted_count();

    m.write_credentials(kKeyTwo, "second@example.com");  // the switch, by hand
    const std::string next = status_distinct_id(m);
    CHECK(next != kPrincipalOne);
    auto file = arcade::store::read_identity_file(m.config_dir() / "usage.json");
    REQUIRE(file);
    CHECK(file->principal_id != std::optional<std::string>(kPrincipalOne));
    run_ok(m, {"--version"});
    REQUIRE(w.sink.wait_for_accepted(before + 3, kDelivery));  // status, alias → two, version
    REQUIRE(m.wait_shipper_idle());
    auto events = sent_events(w.sink);
    check_no_person_merged(events);
    for (std::size_t i = before; i < events.size(); ++i) {
        INFO("event " << i << " " << events[i].event << " " << events[i].command);
        CHECK(events[i].distinct_id != kPrincipalOne);
        if (events[i].is_alias()) CHECK(events[i].alias != linked_anon);
    }
    // status named the anonymous id the next events were recorded under; the
    // shipper then linked that id (and only that one) to the new login.
    CHECK(file_identity(m).anon_id == next);
    for (const auto& row : m.journal_events())
        if (row.seq > 0 && arcade::testing::command_name_of(row.properties) == "version" && row.anon_id != linked_anon)
            CHECK(row.anon_id == next);
    CHECK(status_reason(m) == "credentials_changed");
    CHECK(file_identity(m).principal_id == std::optional<std::string>(kPrincipalTwo));
}

TEST_CASE("3. credentials removed by hand end the link, and logout rotates", "[auth]") {
    World w;
    Machine& m = w.m();
    w.login(kKeyOne, "first@example.com");
    REQUIRE(w.sink.wait_for_accepted(2, kDelivery));
    REQUIRE(m.wait_shipper_idle());
    const std::string linked_anon = file_identity(m).anon_id;

    std::filesystem::remove(m.credentials_path());
    run_ok(m, {"--version"});
    REQUIRE(w.sink.wait_for_accepted(3, kDelivery));
    auto events = sent_events(w.sink);
    CHECK(events.back().distinct_id != kPrincipalOne);
    CHECK(events.back().distinct_id != linked_anon);
    CHECK(events.back().prop("command_name") == "version");
    CHECK_FALSE(file_identity(m).principal_id);
    CHECK(status_reason(m) == "credentials_removed");

    // A link left behind by another program is rotated by logout too.
    const std::string stale = arcade::uuid_v4();
    python_writes_usage(m.config_dir(), usage_text(stale, kPrincipalOne));
    auto out = m.arcade({"logout"});
    CHECK(out.out == "Not logged in.\n");
    REQUIRE(m.identity());
    CHECK(file_identity(m).anon_id != stale);
    CHECK_FALSE(file_identity(m).principal_id);
    REQUIRE(m.wait_shipper_idle());
    for (const auto& e : sent_events(w.sink))
        if (!e.is_alias() && e.command != "login") CHECK(e.distinct_id != kPrincipalOne);
}

TEST_CASE("4. usage status shows the identity another program just rotated to", "[auth]") {
    World w;
    Machine& m = w.m();
    run_ok(m, {"--version"});
    const std::string rotated = arcade::uuid_v4();
    python_writes_usage(m.config_dir(), usage_text(rotated, std::nullopt));
    CHECK(status_distinct_id(m) == rotated);
    run_ok(m, {"--version"});
    REQUIRE(w.sink.wait_for_accepted(3, kDelivery));
    auto events = sent_events(w.sink);
    CHECK(events[1].command == "usage.status");
    CHECK(events[1].distinct_id == rotated);
    CHECK(events[2].distinct_id == rotated);
}

TEST_CASE("5. usage.json is used as the Python CLI would use it", "[auth]") {
    World w;
    Machine& m = w.m();
    const bool numeric = GENERATE(false, true);
    const std::string anon = numeric ? "1234567890123" : arcade::uuid_v4();
    python_writes_usage(m.config_dir(), numeric ? "{\"anon_id\": 1234567890123, \"linked_principal_id\": null}"
                                                : "{\"anon_id\": \"" + anon + "\"}");
    run_ok(m, {"--version"});
    run_ok(m, {"--version"});
    REQUIRE(w.sink.wait_for_accepted(2, kDelivery));
    for (const auto& e : sent_events(w.sink)) CHECK(e.distinct_id == anon);
    CHECK(m.identity()->anon_id == anon);
    CHECK(m.identity_history().front().transition == "imported");
}

TEST_CASE("6. ARCADE_WORK_DIR with a leading ~ is expanded as the Python CLI expands it", "[auth]") {
    World w;
    Machine& m = w.m();
    m.env["ARCADE_WORK_DIR"] = "~/wd";
    m.env["HOME"] = m.path().string();
    const auto literal = std::filesystem::current_path() / "~";
    const bool was_there = std::filesystem::exists(literal);
    run_ok(m, {"--version"});
    CHECK(std::filesystem::exists(m.path() / "wd" / ".arcade" / "usage.json"));
    const bool made_literal = !was_there && std::filesystem::exists(literal);
    CHECK_FALSE(made_literal);
    if (made_literal) {  // what the unexpanded path made: leave the build tree clean
        REQUIRE(arcade::testing::wait_shipper_idle(std::filesystem::path("~/wd")));
        std::filesystem::remove_all(literal);
    }
    REQUIRE(w.sink.wait_for_accepted(1, kDelivery));
    // The shipper it spawned carries the variable as typed.
    REQUIRE(arcade::testing::wait_shipper_idle(std::filesystem::path("~/wd")));
    m.env["ARCADE_WORK_DIR"] = m.path().string();
    auto id = arcade::store::read_identity_file(m.path() / "wd" / ".arcade" / "usage.json");
    REQUIRE(id);
    CHECK(sent_events(w.sink)[0].distinct_id == id->anon_id);
}

TEST_CASE("7. the wire matches the Python CLI: command names as typed, $os, the alias's $geoip_disable", "[auth]") {
    World w;
    Machine& m = w.m();
    m.arcade({"server", "list"});
    m.arcade({"worker", "list"});
    w.login(kKeyOne, "first@example.com");
    REQUIRE(w.sink.wait_for_accepted(4, kDelivery));
    REQUIRE(m.wait_shipper_idle());
    auto events = sent_events(w.sink);
    REQUIRE(events.size() == 4);
    CHECK(events[0].command == "server.list");
    CHECK(events[1].command == "worker.list");
    REQUIRE(events[2].is_alias());
    CHECK(events[2].flag("$geoip_disable") == std::optional<bool>(true));
    for (const auto& e : events) {
        if (e.is_alias()) continue;
        CHECK(e.prop("$os") == "Linux");
        std::ifstream os_release("/etc/os-release");
        std::string line, version;
        while (std::getline(os_release, line))
            if (line.rfind("VERSION_ID=", 0) == 0) version = line.substr(11);
        if (version.size() >= 2 && version.front() == '"') version = version.substr(1, version.size() - 2);
        CHECK(e.prop("$os_version") == version);
    }
}

TEST_CASE("8. the privacy notice says only ARCADE_USAGE_TRACKING=0 stops both CLIs", "[auth]") {
    World w;
    auto first = w.m().arcade({"--version"});
    CHECK(first.err.find("ARCADE_USAGE_TRACKING=0: it is the only setting that also stops the Python Arcade CLI") !=
          std::string::npos);
    CHECK(first.err.find("`arcade usage disable` and DO_NOT_TRACK=1 stop this CLI only") != std::string::npos);
    REQUIRE(w.machine->wait_shipper_idle());
}

TEST_CASE("an OAuth login keeps its link across a token refresh, with its org and project on events", "[auth]") {
    World w;
    Machine& m = w.m();
    // As the Python CLI 1.15 writes them: credentials, then the link it made.
    auto write_oauth = [&](const std::string& access, const std::string& email) {
        std::filesystem::create_directories(m.config_dir());
        std::ofstream f(m.credentials_path(), std::ios::trunc);
        f << "cloud:\n  auth:\n    access_token: " << access << "\n    expires_at: '2026-12-03T01:02:03.456789'\n"
          << "    refresh_token: rt_" << access << "\n  context:\n    org_id: org_8f2a\n    org_name: Org\n"
          << "    project_id: '123'\n    project_name: 'Default: main'\n"
          << "  coordinator_url: " << w.cloud.url() << "\n  user:\n    email: " << email << "\n";
    };
    write_oauth("eyJ.first.sig", "ada@example.com");
    const std::string anon = arcade::uuid_v4();
    python_writes_usage(m.config_dir(), usage_text(anon, "acct-ada"));
    run_ok(m, {"--version"});
    write_oauth("eyJ.refreshed.sig", "ada@example.com");  // the token refresh
    run_ok(m, {"--version"});
    REQUIRE(w.sink.wait_for_accepted(2, kDelivery));
    auto events = sent_events(w.sink);
    for (const auto& e : events) {
        CHECK(e.distinct_id == "acct-ada");
        CHECK(e.prop("org_id") == "org_8f2a");
        CHECK(e.prop("project_id") == "123");
    }
    CHECK(m.identity()->anon_id == anon);
    for (const auto& t : m.identity_history()) CHECK(t.transition != "rotated");

    write_oauth("eyJ.other.sig", "bob@example.com");  // another account
    run_ok(m, {"--version"});
    REQUIRE(m.wait_shipper_idle());
    // (The fake Cloud has no whoami: the row waits for an identity, anonymous.)
    auto last = m.journal_events().back();
    CHECK(last.distinct_id != "acct-ada");
    CHECK(last.anon_id != anon);
    CHECK(m.identity_history().back().transition == "rotated");
}

TEST_CASE("20 arcade runs and 20 Python-style rewrites of usage.json interleaved keep one story", "[auth]") {
    World w;
    Machine& m = w.m();
    m.set_posthog("");  // offline: only the journal and the file matter here
    run_ok(m, {"--version"});
    std::vector<std::string> written;
    std::atomic<bool> done{false};
    std::atomic<int> unparsable{0}, reads{0};
    std::thread watcher([&] {
        while (!done) {
            auto r = arcade::read_file_nofollow(m.config_dir() / "usage.json", 1 << 16);
            if (r.status == arcade::ReadStatus::ok) {
                ++reads;
                if (!arcade::store::parse_identity_json(r.data)) ++unparsable;
            }
        }
    });
    std::thread writer([&] {
        for (int i = 0; i < 20; ++i) {
            std::string anon = arcade::uuid_v4();
            written.push_back(anon);
            python_writes_usage(m.config_dir(), usage_text(anon, std::nullopt));
            std::this_thread::sleep_for(7ms);
        }
    });
    std::vector<int> statuses;
    for (int i = 0; i < 20; ++i) statuses.push_back(m.arcade({"--version"}).exit_code);
    writer.join();
    run_ok(m, {"--version"});  // after the last write
    done = true;
    watcher.join();
    for (int s : statuses) CHECK(s == 0);
    CHECK(reads > 0);
    CHECK(unparsable == 0);

    // The journal's identity rows tell the file's story: the ids it imported
    // are ones the writers wrote, in the order they wrote them; its last row
    // is what the file says now; every event carries an id of its history.
    auto history = m.identity_history();
    std::vector<std::string> imported;
    std::set<std::string> known;
    for (const auto& t : history) {
        known.insert(t.identity.anon_id);
        if (t.transition == "imported") imported.push_back(t.identity.anon_id);
        CHECK(t.transition != "rotated");
    }
    std::size_t at = 0;
    for (const auto& id : imported) {
        while (at < written.size() && written[at] != id) ++at;
        INFO("imported " << id);
        CHECK(at < written.size());
    }
    CHECK(imported.back() == written.back());
    auto file = arcade::store::read_identity_file(m.config_dir() / "usage.json");
    REQUIRE(file);
    CHECK(*file == *m.identity());
    auto events = m.journal_events();
    CHECK(events.size() == 22);
    for (const auto& e : events) CHECK(known.count(e.anon_id) == 1);
    CHECK(events.back().anon_id == written.back());
    REQUIRE(m.wait_shipper_idle());
}
