// SPEC §7: a journal that another program keeps locked (a sqlite3 shell left
// inside a transaction, a backup tool) costs a command at most 250 ms and
// loses nothing. The real binaries against the loopback PostHog sink.

#include <SQLiteCpp/SQLiteCpp.h>
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli_harness.h"
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
    a.wait_idle();
    REQUIRE(sink.wait_for_accepted(1, 10s));
    sink.clear();

    constexpr int kCommands = 50;
    std::vector<std::chrono::milliseconds> took;
    {
        SQLite::Database other((a.dir() / "usage.db").string(), SQLite::OPEN_READWRITE);
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
    a.wait_idle();
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

    auto after = a.status();
    CHECK(after["queue"]["set_aside"].GetInt64() == 0);
    CHECK(after["queue"]["pending"].GetInt64() <= 2);  // at most the status calls themselves
}
