// SPEC §7: a journal that another program keeps locked (a sqlite3 shell left
// inside a transaction, a backup tool) costs a command at most 250 ms and
// loses nothing. The real binaries against the loopback PostHog sink.

#include <SQLiteCpp/SQLiteCpp.h>
#include <rapidjson/document.h>

#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli_harness.h"
#include "store/journal.h"
#include "store/set_aside.h"
#include "support/posthog_sink.h"

using namespace arcade::testing;
using namespace std::chrono_literals;

namespace {

// The error_message of an accepted event, or "".
std::string error_of(const std::string& event) {
    rapidjson::Document d;
    d.Parse(event.c_str());
    if (d.HasParseError() || !d["properties"].HasMember("error_message")) return "";
    return d["properties"]["error_message"].GetString();
}

}  // namespace

TEST_CASE("commands run while another process holds the journal locked for 10 s lose nothing and wait 250 ms at most",
          "[cli]") {
    PostHogSink sink;
    sink.start();
    Arcade a(sink.url());
    REQUIRE(a.run({"--version"}).exit_code == 0);
    CHECK(a.wait_shipper_idle().idle);
    REQUIRE(sink.wait_for_accepted(1, 10s));
    sink.clear();

    constexpr int kCommands = 50;
    std::vector<std::chrono::milliseconds> took;
    {
        SQLite::Database other((a.config_dir() / "usage.db").string(), SQLite::OPEN_READWRITE);
        other.setBusyTimeout(5000);  // a shipper may be finishing
        other.exec("BEGIN IMMEDIATE");
        const auto locked_at = std::chrono::steady_clock::now();
        for (int i = 0; i < kCommands; ++i) {
            auto t0 = std::chrono::steady_clock::now();
            // A usage error: exit 2, and the event's error_message names the probe.
            auto r = a.run({"probe-" + std::to_string(i)});
            took.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
            CHECK(r.exit_code == 2);
        }
        auto status = a.run({"usage", "status", "--json"});
        CHECK(status.exit_code == 0);
        rapidjson::Document s;
        s.Parse(status.out.c_str());
        REQUIRE_FALSE(s.HasParseError());
        CHECK(s["queue"]["set_aside"].GetInt64() >= 1);
        std::this_thread::sleep_until(locked_at + 10s);
        other.exec("COMMIT");
    }
    // The real figure (250 ms over the untracked time) is in the bench; this
    // bound only catches the 3 s wait coming back.
    for (std::size_t i = 0; i < took.size(); ++i) {
        INFO("command " << i << " took " << took[i].count() << " ms");
        CHECK(took[i] < 2s);
    }

    auto flush = a.run({"usage", "flush"});
    CHECK(flush.exit_code == 0);
    CHECK(a.wait_shipper_idle().idle);
    std::vector<int> order;
    for (const auto& e : sink.accepted_events()) {
        auto error = error_of(e);
        auto at = error.find("probe-");
        if (at == std::string::npos) continue;
        order.push_back(std::stoi(error.substr(at + 6)));
    }
    std::vector<int> expected;
    for (int i = 0; i < kCommands; ++i) expected.push_back(i);
    CHECK(order == expected);  // every event, once, in the order the commands ran

    auto after = a.status(false);
    CHECK(after["queue"]["set_aside"].GetInt64() == 0);
    CHECK(after["queue"]["pending"].GetInt64() <= 2);  // at most the status calls themselves
}

TEST_CASE("crash loop: SIGKILL while setting aside or folding in loses nothing and duplicates nothing", "[cli]") {
    // Shippers find no PostHog here: the journal only fills, and every row
    // can be counted at the end.
    Arcade a;  // PostHog on a closed port
    REQUIRE(a.run({"--version"}).exit_code == 0);
    const unsigned seed = std::random_device{}();
    std::mt19937 rng(seed);
    INFO("seed " << seed);
    const arcade::ConfigPaths paths{a.config_dir()};
    std::set<std::string> set_aside_uuids;  // every event seen set aside must end up in the journal once
    constexpr int kRounds = 30;
    int n = 0;
    auto run_and_kill = [&](std::chrono::milliseconds after) {
        int pid = start_process(a.arcade_spec({"probe-" + std::to_string(n++)}));
        std::this_thread::sleep_for(after);
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
    };
    for (int round = 0; round < kRounds; ++round) {
        {
            // A kill anywhere in the wait, the set-aside write or after it.
            SQLite::Database other((a.config_dir() / "usage.db").string(), SQLite::OPEN_READWRITE);
            other.setBusyTimeout(5000);  // a shipper or the last fold may be finishing
            other.exec("BEGIN IMMEDIATE");
            run_and_kill(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
            run_and_kill(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 400)(rng)));
            for (const auto& e : arcade::store::read_set_aside(paths)) set_aside_uuids.insert(e.row.uuid);
            other.exec("COMMIT");
        }
        // A kill anywhere in the next writer's fold.
        run_and_kill(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 40)(rng)));
    }
    CHECK(a.wait_shipper_idle().idle);
    REQUIRE(a.run({"--version"}).exit_code == 0);  // the last fold, unkilled
    CHECK(a.wait_shipper_idle().idle);

    std::map<std::string, int> copies_of_uuid, copies_of_probe;
    for (const auto& row : a.journal_events()) {
        ++copies_of_uuid[row.uuid];
        auto at = row.properties.find("probe-");
        if (at != std::string::npos) ++copies_of_probe[row.properties.substr(at, row.properties.find_first_of(" \"", at) - at)];
    }
    CHECK_FALSE(set_aside_uuids.empty());
    for (const auto& uuid : set_aside_uuids) {
        INFO("set-aside event " << uuid);
        CHECK(copies_of_uuid[uuid] == 1);
    }
    for (const auto& [probe, copies] : copies_of_probe) {
        INFO(probe);
        CHECK(copies == 1);
    }
    CHECK(arcade::store::count_set_aside(paths) == 0);
}
