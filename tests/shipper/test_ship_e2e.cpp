#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <set>
#include <thread>

#include "../cli/cli_harness.h"
#include "core/clock.h"
#include "core/files.h"
#include "store/journal.h"
#include "support/posthog_sink.h"

using namespace arcade::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string field(const std::string& event_json, const char* key) {
    rapidjson::Document d;
    d.Parse(event_json.c_str());
    return d.HasParseError() || !d.HasMember(key) ? "" : d[key].GetString();
}

std::string command_of(const std::string& event_json) {
    rapidjson::Document d;
    d.Parse(event_json.c_str());
    if (d.HasParseError() || !d["properties"].HasMember("command_name")) return "";
    return d["properties"]["command_name"].GetString();
}

}  // namespace

TEST_CASE("a command's event reaches PostHog through the detached shipper within 10 s", "[shipper]") {
    PostHogSink sink("phc_test");
    sink.start();
    Arcade a(sink.url());
    auto r = a.run({"--version"});
    CHECK(r.exit_code == 0);
    REQUIRE(sink.wait_for_accepted(1, 10s));
    auto reqs = sink.requests();
    REQUIRE_FALSE(reqs.empty());
    CHECK(reqs[0].gzip_header);
    CHECK(reqs[0].gzip_body);
    CHECK(reqs[0].headers["user-agent"] == "arcade-cli/0.1.0");
    CHECK(reqs[0].api_key == "phc_test");
    CHECK_FALSE(reqs[0].sent_at.empty());
    CHECK(command_of(sink.accepted_events()[0]) == "version");
    CHECK(a.wait_shipper_idle());
    auto s = a.status();
    CHECK(s["queue"]["sent"].GetInt() >= 1);
    CHECK(s["shipper"]["last_success_at"].IsString());
}

TEST_CASE("offline events wait, cost no spawn during backoff, and are delivered once when back online", "[shipper]") {
    PostHogSink sink;
    sink.start();
    Arcade a;  // PostHog host: a closed loopback port
    for (int i = 0; i < 3; ++i) CHECK(a.run({"--version"}).exit_code == 0);
    CHECK(a.wait_shipper_idle());
    auto s = a.status();
    CHECK(s["queue"]["pending"].GetInt() >= 3);
    REQUIRE(s["shipper"]["last_error"].IsString());
    REQUIRE(s["shipper"]["next_attempt_at"].IsString());
    std::string first_attempt = s["shipper"]["last_attempt_at"].GetString();
    for (int i = 0; i < 3; ++i) a.run({"--version"});
    CHECK(a.wait_shipper_idle());
    // Inside the backoff window no shipper ran: the last attempt is unchanged.
    CHECK(std::string(a.status()["shipper"]["last_attempt_at"].GetString()) == first_attempt);

    a.env["ARCADE_USAGE_POSTHOG_HOST"] = sink.url();
    auto flush = a.run({"usage", "flush"});
    CHECK(flush.exit_code == 0);
    CHECK(flush.out.find("Delivered") != std::string::npos);
    auto events = sink.accepted_events();
    std::set<std::string> uuids;
    int versions = 0;
    for (auto& e : events) {
        CHECK(uuids.insert(field(e, "uuid")).second);  // each uuid once
        versions += command_of(e) == "version";
    }
    CHECK(versions == 6);
    auto after = a.status();
    CHECK(after["shipper"]["last_error"].IsNull());
    CHECK(after["shipper"]["next_attempt_at"].IsNull());
}

TEST_CASE("the shipper retries transient failures with identical events", "[shipper]") {
    PostHogSink sink;
    sink.script(parse_script("500,503,200"));
    sink.start();
    Arcade a(sink.url());
    a.run({"--version"});
    REQUIRE(sink.wait_for_accepted(1, 10s));
    auto reqs = sink.requests();
    REQUIRE(reqs.size() >= 3);
    CHECK(reqs[0].events == reqs[1].events);
    CHECK(reqs[1].events == reqs[2].events);
    CHECK(reqs[0].status_returned == 500);
    CHECK(reqs[2].status_returned == 200);
    CHECK(reqs[1].received_ms - reqs[0].received_ms >= 100);
}

TEST_CASE("401 keeps events pending and usage status says why", "[shipper]") {
    PostHogSink sink("the-right-key");
    sink.start();
    Arcade a(sink.url());
    a.run({"--version"});
    CHECK(a.wait_shipper_idle());
    std::this_thread::sleep_for(100ms);
    CHECK(a.wait_shipper_idle());
    auto s = a.status();
    CHECK(s["queue"]["pending"].GetInt() >= 1);
    REQUIRE(s["shipper"]["last_error"].IsString());
    CHECK(std::string(s["shipper"]["last_error"].GetString()).find("401") != std::string::npos);
    CHECK(sink.accepted_count() == 0);
    auto flush = a.run({"usage", "flush"});
    CHECK(flush.exit_code == 1);  // rows remain undelivered
}

TEST_CASE("a shipper facing a server that never answers exits within 10 s", "[shipper]") {
    PostHogSink sink;
    std::string fault = GENERATE(std::string("hang"), std::string("slow"), std::string("reset"));
    sink.script(parse_script(fault + "," + fault + "," + fault + "," + fault + "," + fault));
    sink.start();
    Arcade a(sink.url());
    a.run({"--version"});
    std::this_thread::sleep_for(200ms);
    auto lived = a.wait_shipper_idle(15000ms).waited;
    CHECK(lived < 10000ms);
    CHECK(a.run({"--version"}).exit_code == 0);
}

TEST_CASE("kill -9 of the shipper mid-batch loses nothing, only the in-flight batch may repeat", "[shipper]") {
    PostHogSink sink;
    sink.script({Step{Step::respond, 200, "", "", 3000ms}});  // the first batch is answered slowly
    sink.start();
    Arcade a(sink.url());
    a.env["ARCADE_USAGE_TRACKING"] = "1";
    a.queue_events(2500, "queued");
    ProcessSpec ship;
    ship.argv = {ArcadeHome::shipper_binary()};
    ship.env = a.env;
    int pid = start_process(ship);
    // Wait for the first batch to be in flight, then kill the shipper.
    auto start = std::chrono::steady_clock::now();
    while (sink.requests().empty() && std::chrono::steady_clock::now() - start < 5s) std::this_thread::sleep_for(10ms);
    REQUIRE_FALSE(sink.requests().empty());
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    std::this_thread::sleep_for(3200ms);  // let the sink finish the orphaned answer
    auto flush = a.run({"usage", "flush"});
    CHECK(flush.exit_code == 0);
    std::multiset<std::string> seen;
    std::set<std::string> distinct;
    for (auto& e : sink.accepted_events()) {
        if (command_of(e) != "queued") continue;
        auto u = field(e, "uuid");
        seen.insert(u);
        distinct.insert(u);
    }
    CHECK(distinct.size() == 2500);
    CHECK(seen.size() - distinct.size() <= 1000);  // at most the in-flight batch again
}

TEST_CASE("16 concurrent CLIs x 50 runs: every event delivered, never two shippers at once", "[shipper]") {
    PostHogSink sink;
    sink.start();
    Arcade a(sink.url());
    a.run({"--version"});  // first run: identity and notice
    REQUIRE(sink.wait_for_accepted(1, 10s));
#if defined(__SANITIZE_ADDRESS__)
    constexpr int kProcs = 16, kRuns = 10;  // each run is ~10x slower under ASan
#else
    constexpr int kProcs = 16, kRuns = 50;
#endif
    for (int status : a.run_concurrently(kProcs, kRuns, {"--version"})) CHECK(status == 0);
    const std::size_t expected = 1 + kProcs * kRuns;
    CHECK(sink.wait_for_accepted(expected, 30s));
    std::set<std::string> uuids;
    for (auto& e : sink.accepted_events()) uuids.insert(field(e, "uuid"));
    CHECK(uuids.size() == expected);
    CHECK(sink.max_concurrent_requests() == 1);
}

TEST_CASE("one shipper serves the commands typed within its life, and steps aside for usage flush", "[shipper]") {
    PostHogSink sink;
    sink.start();
    Arcade a(sink.url());
    a.run({"--version"});  // first run: identity and notice
    REQUIRE(sink.wait_for_accepted(1, 10s));
    REQUIRE(a.wait_shipper_idle());

    CHECK(a.run({"--version"}).exit_code == 0);
    REQUIRE(sink.wait_for_accepted(2, 10s));
    auto shippers = processes_for_work_dir(a.path(), "arcade-ship");
    REQUIRE(shippers.size() == 1);  // delivered, and still waiting for rows

    // Typed a moment later: the same shipper takes it, none is started.
    std::this_thread::sleep_for(500ms);
    CHECK(a.run({"--version"}).exit_code == 0);
    CHECK(sink.wait_for_accepted(3, 3s));
    CHECK(processes_for_work_dir(a.path(), "arcade-ship") == shippers);

    // `usage flush` needs ship.lock: the waiting shipper leaves at once
    // instead of keeping it until its life ends.
    auto t0 = std::chrono::steady_clock::now();
    CHECK(a.run({"usage", "flush"}).exit_code == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    CHECK(a.wait_shipper_idle());
    CHECK(sink.accepted_count() >= 3);
}
