// The real `arcade` binary (path in $ARCADE_BIN) against the loopback fake
// Engine and Cloud, in a throwaway ARCADE_WORK_DIR. Telemetry is on with a
// PostHog host on a closed local port, so events stay queued in the journal
// where `arcade usage status --json --events` shows them.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/arcade_home.h"
#include "support/fake_arcade.h"

using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::FakeEngine;
using arcade::testing::FakeEngineWorker;
using arcade::testing::kTestApiKey;
using arcade::testing::SseEnd;
using arcade::testing::SseScript;
using arcade::testing::ChildProcess;
using arcade::testing::ProcessResult;
using arcade::testing::ProcessSpec;

namespace {

constexpr const char* kNotLoggedIn = "Not logged in to Arcade CLI. Use `arcade login` to log in.";

struct RecordedEvent {
    std::string event;  // "CLI execution succeeded" / "CLI execution failed"
    std::string command_name;
    std::optional<std::string> error_message;
};

class Arcade {
public:
    Arcade() {
        home.write_credentials(kTestApiKey, "a@b.c");
        home.env["ARCADE_ENGINE_URL"] = engine.url();
        home.env["ARCADE_CLOUD_URL"] = cloud.url();
    }

    ProcessResult run(const std::vector<std::string>& args) {
        auto result = home.run(args);
        INFO("arcade stderr: " << result.err);
        CHECK_FALSE(result.timed_out);
        return result;
    }

    std::unique_ptr<ChildProcess> start(const std::vector<std::string>& args) {
        return home.start(args);
    }

    // The last recorded event of `command_name`, from `arcade usage status`.
    std::optional<RecordedEvent> last_event(const std::string& command_name) {
        auto status = home.run({"usage", "status", "--json", "--events"});
        REQUIRE(status.exit_code == 0);
        rapidjson::Document doc;
        doc.Parse(status.out.c_str());
        REQUIRE_FALSE(doc.HasParseError());
        REQUIRE(doc.IsObject());
        REQUIRE(doc.HasMember("events"));
        REQUIRE(doc["events"].IsArray());
        std::optional<RecordedEvent> found;
        for (const auto& e : doc["events"].GetArray()) {
            if (!e.IsObject() || !e.HasMember("properties") || !e["properties"].IsObject()) continue;
            const auto& props = e["properties"];
            if (!props.HasMember("command_name") || !props["command_name"].IsString()) continue;
            if (command_name != props["command_name"].GetString()) continue;
            RecordedEvent ev;
            ev.event = e.HasMember("event") && e["event"].IsString() ? e["event"].GetString() : "";
            ev.command_name = command_name;
            if (props.HasMember("error_message") && props["error_message"].IsString())
                ev.error_message = props["error_message"].GetString();
            found = ev;
        }
        return found;
    }

    FakeEngine engine;
    FakeCloud cloud;
    arcade::testing::ArcadeHome home;
};

FakeEngineWorker worker(std::string id, std::string uri, std::vector<std::string> toolkits = {}) {
    FakeEngineWorker w;
    w.id = std::move(id);
    w.http_uri = std::move(uri);
    w.tool_toolkits = std::move(toolkits);
    return w;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("e2e: worker list across pages, with mismatches and one-sided workers", "[worker_api]") {
    Arcade arcade;
    arcade.engine.set_workers({worker("same", "https://same.dev", {"A", "B", "A", "C"}),
                               worker("moved", "https://old.dev"), worker("engine-only", "https://e.dev"),
                               worker("p2", "https://p2.dev"), worker("p3", "https://p3.dev")});
    arcade.engine.set_page_size(2);
    arcade.cloud.set_workers({{"same", "https://same.dev"}, {"moved", "https://new.dev"}, {"cloud-only", "https://c.dev"}});

    auto r = arcade.run({"worker", "list"});
    REQUIRE(r.exit_code == 0);
    // Titled like the original's table, the title centred over it.
    CHECK(r.out.find("Workers\nID ") != std::string::npos);
    CHECK(r.out.find_first_not_of(' ') == r.out.find("Workers"));
    CHECK(r.out.find("mismatch: engine https://old.dev, cloud https://new.dev") != std::string::npos);
    CHECK(r.out.find("A, B, C") != std::string::npos);
    for (const char* id : {"same", "moved", "engine-only", "p2", "p3", "cloud-only"})
        CHECK(r.out.find(std::string("\n") + id + " ") != std::string::npos);
    CHECK(r.out.find('\x1b') == std::string::npos);  // not a terminal: no colour
    CHECK(r.err.find("Could not") == std::string::npos);

    std::vector<long long> offsets;
    for (const auto& req : arcade.engine.requests_to("GET", "/v1/workers"))
        if (req.path == "/v1/workers") offsets.push_back(req.param_int("offset"));
    CHECK(offsets == std::vector<long long>{0, 2, 4});

    auto ev = arcade.last_event("worker.list");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution succeeded");
    CHECK_FALSE(ev->error_message);
}

TEST_CASE("e2e: `arcade server list --json` is tracked as server.list, as the Python CLI names it", "[worker_api]") {
    Arcade arcade;
    arcade.cloud.set_workers({{"cloud-only", "https://c.dev"}});
    auto r = arcade.run({"server", "list", "--json"});
    REQUIRE(r.exit_code == 0);
    rapidjson::Document doc;
    doc.Parse(r.out.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsArray());
    REQUIRE(doc.Size() == 1);
    CHECK(std::string(doc[0]["id"].GetString()) == "cloud-only");
    CHECK(doc[0]["engine_registered"].GetBool() == false);

    auto ev = arcade.last_event("server.list");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution succeeded");
    CHECK_FALSE(arcade.last_event("worker.list"));
}

TEST_CASE("e2e: not logged in", "[worker_api]") {
    Arcade arcade;
    std::filesystem::remove(arcade.home.config_dir() / "credentials.yaml");
    auto r = arcade.run({"worker", "enable", "w1"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(has_line(r.err, kNotLoggedIn));
    CHECK(arcade.engine.requests().empty());
    auto ev = arcade.last_event("worker.enable");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution failed");
    CHECK(ev->error_message == kNotLoggedIn);
}

TEST_CASE("e2e: Engine errors are one line and a failed event", "[worker_api]") {
    Arcade arcade;
    auto status = GENERATE(401, 500);
    arcade.engine.inject("GET", "/v1/workers", status, R"({"message":"nope","name":"x"})");
    auto r = arcade.run({"worker", "list"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    const std::string line = "Could not list workers: Arcade Engine returned " + std::to_string(status) + " " +
                             (status == 401 ? "Unauthorized" : "Internal Server Error") + ": nope (GET " +
                             arcade.engine.url() + "/v1/workers?limit=100&offset=0)";
    CHECK(has_line(r.err, line));
    auto ev = arcade.last_event("worker.list");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution failed");
    REQUIRE(ev->error_message);
    CHECK(ev->error_message->find(std::to_string(status)) != std::string::npos);
}

TEST_CASE("e2e: an unreachable Engine is named", "[worker_api]") {
    Arcade arcade;
    int port = arcade.engine.port();
    arcade.engine.stop();
    auto r = arcade.run({"worker", "-h", "127.0.0.1", "-p", std::to_string(port), "disable", "w1"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("Could not disable worker 'w1': could not connect to Arcade Engine at http://localhost:" +
                     std::to_string(port) + "/v1/workers/w1") != std::string::npos);
    auto ev = arcade.last_event("worker.disable");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution failed");
}

TEST_CASE("e2e: enable confirms and is tracked", "[worker_api]") {
    Arcade arcade;
    auto w = worker("w1", "https://w1.dev");
    w.enabled = false;
    arcade.engine.set_workers({w});
    auto r = arcade.run({"worker", "enable", "w1"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Worker 'w1' is now enabled.\n");
    CHECK(arcade.engine.workers()[0].enabled);
    auto ev = arcade.last_event("worker.enable");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution succeeded");
}

TEST_CASE("e2e: rm of a worker without a deployment", "[worker_api]") {
    Arcade arcade;
    arcade.engine.set_workers({worker("w1", "https://w1.dev")});
    auto r = arcade.run({"worker", "rm", "w1"});
    CHECK(r.exit_code == 1);
    CHECK(has_line(r.err, "Deployment not found. To deregister the worker from the engine, use the --deregister flag."));
    CHECK(arcade.engine.workers().size() == 1);
    auto ev = arcade.last_event("worker.rm");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution failed");

    auto d = arcade.run({"worker", "rm", "--deregister", "w1"});
    CHECK(d.exit_code == 0);
    CHECK(d.out == "Deregistered worker 'w1' from the Arcade Engine.\n");
    CHECK(arcade.engine.workers().empty());
    CHECK(arcade.last_event("worker.rm")->event == "CLI execution succeeded");
}

TEST_CASE("e2e: a slow Engine is waited for", "[worker_api]") {
    Arcade arcade;
    arcade.engine.set_workers({worker("w1", "https://w1.dev")});
    arcade.engine.set_delay(1200ms);
    auto r = arcade.run({"worker", "list"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\nw1 ") != std::string::npos);
}

TEST_CASE("e2e: logs arrive as they are sent, and an error event fails", "[worker_api]") {
    Arcade arcade;
    arcade.cloud.set_log_script(SseScript{{{"data: first li", 0ms},
                                           {"ne\n\n", 100ms},
                                           {"data: second\r\n\r\n", 1500ms},
                                           {"event: error\ndata: lost the worker\n\n", 100ms}},
                                          SseEnd::hang});
    auto child = arcade.start({"worker", "logs", "w1"});
    REQUIRE(child->wait_for_stdout([](const std::string& out) { return out == "first line\n"; }, 5000ms));
    // The first line was on stdout before the Cloud had sent the rest.
    CHECK(arcade.cloud.stream_steps_sent() < 4);
    auto r = child->finish(10s);
    CHECK(r.exit_code == 1);
    CHECK(r.out == "first line\nsecond\n");
    CHECK(has_line(r.err, "Could not stream logs: lost the worker"));
    auto ev = arcade.last_event("worker.logs");
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution failed");
    CHECK(ev->error_message == "Could not stream logs: lost the worker");
}

TEST_CASE("e2e: logs end at [DONE]", "[worker_api]") {
    Arcade arcade;
    arcade.cloud.set_log_script(SseScript{{{"data: a\n\ndata: [DONE]\n\ndata: b\n\n", 0ms}}, SseEnd::hang});
    auto r = arcade.run({"server", "logs", "w1"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "a\n");
    CHECK(arcade.last_event("server.logs")->event == "CLI execution succeeded");
}

TEST_CASE("e2e: Ctrl-C ends logs with 130 and still records the event", "[worker_api]") {
    Arcade arcade;
    arcade.cloud.set_log_script(SseScript{{{"data: waiting\n\n", 0ms}}, SseEnd::hang});
    auto child = arcade.start({"worker", "logs", "w1"});
    REQUIRE(child->wait_for_stdout([](const std::string& out) { return out == "waiting\n"; }, 5000ms));
    auto sent = std::chrono::steady_clock::now();
    child->send_signal(SIGINT);
    auto r = child->finish(10s);
    CHECK(std::chrono::steady_clock::now() - sent < 3s);
    CHECK(r.exit_code == 130);
    CHECK(r.out == "waiting\n");
    CHECK(r.err.find("Could not") == std::string::npos);
    auto ev = arcade.last_event("worker.logs");
    REQUIRE(ev);
    CHECK(ev->command_name == "worker.logs");
}

TEST_CASE("e2e: a logs status error is clear", "[worker_api]") {
    Arcade arcade;
    arcade.cloud.inject("GET", "/api/v1/workers/logs/w1", 403, R"({"message":"forbidden"})");
    auto r = arcade.run({"worker", "logs", "w1"});
    CHECK(r.exit_code == 1);
    CHECK(has_line(r.err, "Could not stream logs for worker 'w1': Arcade Cloud returned 403 Forbidden: forbidden (GET " +
                              arcade.cloud.url() + "/api/v1/workers/logs/w1)"));
}

TEST_CASE("e2e: a server's control characters, C1 included, never reach the terminal", "[worker_api]") {
    Arcade arcade;
    // U+009B in UTF-8 is CSI to terminals that obey C1 controls.
    const std::string csi = "\xc2\x9b";
    arcade.engine.set_workers({worker("evil" + csi + "31m", "https://e.dev" + csi + "2J", {"Kit" + csi + "1m"})});

    SECTION("worker list") {
        auto r = arcade.run({"worker", "list"});
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find(csi) == std::string::npos);
        CHECK(r.out.find("evil?31m") != std::string::npos);
        CHECK(r.out.find("https://e.dev?2J") != std::string::npos);
        CHECK(r.out.find("Kit?1m") != std::string::npos);
    }
    SECTION("an Engine error message") {
        arcade.engine.inject("GET", "/v1/workers", 500, R"({"message":"nope)" + csi + R"(31m"})");
        auto r = arcade.run({"worker", "list"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(csi) == std::string::npos);
        CHECK(r.err.find("Internal Server Error: nope 31m") != std::string::npos);
    }
    SECTION("worker logs, whose lines keep their tabs") {
        arcade.cloud.set_log_script(
            SseScript{{{"data: a\tb" + csi + "31m\x1b[2J\x07\n\ndata: [DONE]\n\n", 0ms}}, SseEnd::hang});
        auto r = arcade.run({"worker", "logs", "w1"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "a\tb?31m?[2J?\n");
    }
}

TEST_CASE("e2e: login and worker reach a local Arcade Cloud on the same port", "[worker_api]") {
    Arcade arcade;
    const std::string configured = GENERATE(as<std::string>{}, "http://localhost", "localhost");
    INFO("ARCADE_CLOUD_URL=" << configured);
    arcade.home.env["ARCADE_CLOUD_URL"] = configured;
    // The Python CLI's `arcade login --host localhost` goes to port 8000.
    const std::string cloud = "http://localhost:8000";

    auto list = arcade.run({"worker", "list"});
    CHECK(list.err.find("Arcade Cloud at " + cloud + "/api/v1/workers") != std::string::npos);

    std::filesystem::remove(arcade.home.credentials_path());
    arcade.home.env["BROWSER"] = "true";
    int callback_port = 0;
    {
        FakeEngine probe;  // a free port: bound, then released
        callback_port = probe.port();
    }
    auto login = arcade.run({"login", "--callback-port", std::to_string(callback_port), "--timeout", "1"});
    CHECK(login.exit_code == 1);
    // Discovery (cli_config) is the first thing login asks that Cloud.
    CHECK(login.err.find("could not connect to Arcade at " + cloud + ".") != std::string::npos);
}

TEST_CASE("e2e: rm -d of a worker the Engine does not know says so and succeeds", "[worker_api]") {
    Arcade arcade;
    auto r = arcade.run({"worker", "rm", "-d", "ghost"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Worker not found\n");
    CHECK(r.err.find("Could not") == std::string::npos);
    CHECK(arcade.cloud.requests_to("DELETE", "/api/v1/workers").empty());
    CHECK(arcade.engine.requests_to("DELETE", "/v1/workers/ghost").size() == 1);
    CHECK(arcade.last_event("worker.rm")->event == "CLI execution succeeded");
}

TEST_CASE("e2e: Enabled is unknown when the Engine does not say, and False for a cloud-only worker", "[worker_api]") {
    Arcade arcade;
    auto silent = worker("silent", "https://s.dev");
    silent.omit_enabled = true;
    arcade.engine.set_workers({silent, worker("on", "https://on.dev")});
    arcade.cloud.set_workers({{"cloud-only", "https://c.dev"}});

    SECTION("table") {
        auto r = arcade.run({"worker", "list"});
        REQUIRE(r.exit_code == 0);
        CHECK(has_line(r.out, "silent      False           True               unknown  https://s.dev"));
        CHECK(has_line(r.out, "on          False           True               True     https://on.dev"));
        CHECK(has_line(r.out, "cloud-only  True            False              False    https://c.dev"));
    }
    SECTION("--json") {
        auto r = arcade.run({"worker", "list", "--json"});
        REQUIRE(r.exit_code == 0);
        rapidjson::Document doc;
        doc.Parse(r.out.c_str());
        REQUIRE_FALSE(doc.HasParseError());
        REQUIRE(doc.IsArray());
        REQUIRE(doc.Size() == 3);
        CHECK(std::string(doc[0]["id"].GetString()) == "silent");
        CHECK(doc[0]["enabled"].IsNull());
        CHECK(doc[1]["enabled"].GetBool());
    }
}

TEST_CASE("e2e: logs lines lose their surrounding whitespace, as the original printed them", "[worker_api]") {
    Arcade arcade;
    arcade.cloud.set_log_script(
        SseScript{{{"data:   padded\tline \t\n\ndata:\tfirst \ndata:  second\n\ndata: [DONE]\n\n", 0ms}}, SseEnd::hang});
    auto r = arcade.run({"worker", "logs", "w1"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "padded\tline\nfirst\nsecond\n");
}

TEST_CASE("e2e: `arcade server` alone shows the group's help, as `server`", "[worker_api]") {
    Arcade arcade;
    const std::string typed = GENERATE(as<std::string>{}, "server", "worker");
    auto r = arcade.run({typed});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: arcade " + typed + " [OPTIONS]") != std::string::npos);
    for (const char* sub : {"list", "enable", "disable", "rm", "logs"})
        CHECK(r.out.find(std::string("\n  ") + sub + " ") != std::string::npos);
    CHECK(r.err.find("A subcommand is required") == std::string::npos);
    CHECK(arcade.engine.requests().empty());
    CHECK(arcade.last_event(typed)->event == "CLI execution succeeded");  // still recorded, as typed
}

TEST_CASE("e2e: help names the command as typed", "[worker_api]") {
    Arcade arcade;
    auto group = arcade.run({"server", "--help"});
    CHECK(group.exit_code == 0);
    CHECK(group.out.find("Usage: arcade server [OPTIONS]") != std::string::npos);
    CHECK(group.out.find("arcade worker") == std::string::npos);
    auto leaf = arcade.run({"server", "rm", "--help"});
    CHECK(leaf.exit_code == 0);
    CHECK(leaf.out.find("Usage: arcade server rm [OPTIONS] worker_id") != std::string::npos);
    auto canonical = arcade.run({"worker", "list", "--help"});
    CHECK(canonical.out.find("Usage: arcade worker list [OPTIONS]") != std::string::npos);
}

TEST_CASE("e2e: an unknown worker command is named", "[worker_api]") {
    Arcade arcade;
    // The event is named after the commands CLI11 did recognise.
    auto [args, command] = GENERATE(table<std::vector<std::string>, std::string>(
        {{{"server", "bogus"}, "server"}, {{"worker", "bogus", "list"}, "worker.list"}}));
    auto r = arcade.run(args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(has_line(r.err, "No such command 'bogus'."));
    auto ev = arcade.last_event(command);
    REQUIRE(ev);
    CHECK(ev->event == "CLI execution failed");
    CHECK(ev->error_message == "No such command 'bogus'.");
}

TEST_CASE("e2e: the original's hidden -c/-cp reach the Cloud", "[worker_api]") {
    Arcade arcade;
    // The configured Cloud is elsewhere: only the flags can reach the fake.
    arcade.home.env["ARCADE_CLOUD_URL"] = arcade.engine.url() + "/not-the-cloud";
    const std::string port = std::to_string(arcade.cloud.port());

    SECTION("list, -cp PORT") {
        arcade.cloud.set_workers({{"cloud-only", "https://c.dev"}});
        auto r = arcade.run({"server", "list", "-c", "127.0.0.1", "-cp", port});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("\ncloud-only ") != std::string::npos);
        CHECK(r.err.find("Warning") == std::string::npos);
    }
    SECTION("logs, -cp=PORT") {
        arcade.cloud.set_log_script(SseScript{{{"data: hello\n\ndata: [DONE]\n\n", 0ms}}, SseEnd::hang});
        auto r = arcade.run({"worker", "logs", "-c", "127.0.0.1", "-cp=" + port, "w1"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "hello\n");
    }
    SECTION("rm, the long spellings still work beside them") {
        arcade.cloud.set_workers({{"w1", "https://w1.dev"}});
        arcade.engine.set_workers({worker("w1", "https://w1.dev")});
        auto r = arcade.run({"worker", "rm", "w1", "-cp", port, "--cloud-host", "127.0.0.1"});
        CHECK(r.exit_code == 0);
        CHECK(arcade.cloud.workers().empty());
        CHECK(arcade.engine.workers().empty());
    }
}

namespace {

std::size_t listings(const FakeEngine& engine) {
    std::size_t n = 0;
    for (const auto& req : engine.requests_to("GET", "/v1/workers"))
        if (req.path == "/v1/workers") ++n;
    return n;
}

}  // namespace

TEST_CASE("e2e: passing Engine and Cloud trouble is retried twice, as the original's client did", "[worker_api]") {
    Arcade arcade;
    arcade.engine.set_workers({worker("w1", "https://w1.dev")});

    SECTION("list after two 503s, waiting 0.5 s then 1 s") {
        arcade.engine.inject("GET", "/v1/workers", 503, {}, 2);
        auto started = std::chrono::steady_clock::now();
        auto r = arcade.run({"worker", "list", "--json"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("\"w1\"") != std::string::npos);
        CHECK(listings(arcade.engine) == 3);
        CHECK(std::chrono::steady_clock::now() - started >= 1500ms);
    }
    SECTION("enable after a 429 and a dropped connection") {
        arcade.engine.inject("PATCH", "/v1/workers/w1", 429, {}, 1);
        arcade.engine.inject_drop("PATCH", "/v1/workers/w1", 1);
        auto r = arcade.run({"worker", "disable", "w1"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "Worker 'w1' is now disabled.\n");
        CHECK(arcade.engine.requests_to("PATCH", "/v1/workers/w1").size() == 3);
        CHECK_FALSE(arcade.engine.workers()[0].enabled);
    }
    SECTION("logs after a 502 and a 408") {
        arcade.cloud.inject("GET", "/api/v1/workers/logs/w1", 502, {}, 1);
        arcade.cloud.inject("GET", "/api/v1/workers/logs/w1", 408, {}, 1);
        arcade.cloud.set_log_script(SseScript{{{"data: up\n\ndata: [DONE]\n\n", 0ms}}, SseEnd::hang});
        auto r = arcade.run({"worker", "logs", "w1"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "up\n");
        CHECK(arcade.cloud.requests_to("GET", "/api/v1/workers/logs/w1").size() == 3);
    }
    SECTION("a stream cut after its first lines is not started over") {
        arcade.cloud.set_log_script(SseScript{{{"data: once\n\n", 0ms}}, SseEnd::drop});
        auto r = arcade.run({"worker", "logs", "w1"});
        CHECK(r.exit_code == 1);
        CHECK(r.out == "once\n");
        CHECK(arcade.cloud.requests_to("GET", "/api/v1/workers/logs/w1").size() == 1);
    }
    SECTION("three failures in a row fail with the last one") {
        arcade.engine.inject("GET", "/v1/workers", 500, R"({"message":"down"})");
        auto r = arcade.run({"worker", "list"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("Could not list workers: Arcade Engine returned 500 Internal Server Error: down") !=
              std::string::npos);
        CHECK(listings(arcade.engine) == 3);
    }
    SECTION("answers that will not change are not retried") {
        auto r = arcade.run({"worker", "enable", "ghost"});
        CHECK(r.exit_code == 1);
        CHECK(arcade.engine.requests_to("PATCH", "/v1/workers/ghost").size() == 1);
    }
    SECTION("rm is not retried: a repeated DELETE is not safe to read") {
        arcade.engine.inject("DELETE", "/v1/workers/w1", 503);
        auto r = arcade.run({"worker", "rm", "-d", "w1"});
        CHECK(r.exit_code == 1);
        CHECK(arcade.engine.requests_to("DELETE", "/v1/workers/w1").size() == 1);
    }
}

TEST_CASE("e2e: Ctrl-C during a retry's wait ends the command at once", "[worker_api]") {
    Arcade arcade;
    arcade.engine.inject("GET", "/v1/workers", 503);
    auto child = arcade.start({"worker", "list"});
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (listings(arcade.engine) < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    REQUIRE(listings(arcade.engine) == 2);  // now in the 1 s wait before the last try
    auto sent = std::chrono::steady_clock::now();
    child->send_signal(SIGINT);
    auto r = child->finish(10s);
    CHECK(std::chrono::steady_clock::now() - sent < 700ms);
    CHECK(r.exit_code == 130);
    CHECK(listings(arcade.engine) == 2);
    CHECK(arcade.last_event("worker.list"));
}

TEST_CASE("e2e: `.` and `..` are refused as worker ids, and nothing reaches the Engine or the Cloud", "[worker_api]") {
    Arcade arcade;
    const std::string id = GENERATE(as<std::string>{}, ".", "..");
    const std::vector<std::string> command = GENERATE(as<std::vector<std::string>>{}, std::vector<std::string>{"rm"},
                                                      std::vector<std::string>{"rm", "-d"},
                                                      std::vector<std::string>{"enable"},
                                                      std::vector<std::string>{"logs"});
    std::vector<std::string> args = {"worker"};
    args.insert(args.end(), command.begin(), command.end());
    args.push_back(id);
    INFO("arcade worker " << command.front() << " " << id);
    auto r = arcade.run(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'" + id + "' is not a worker id") != std::string::npos);
    CHECK(arcade.engine.requests().empty());
    // (The shipper may ask the Cloud who the key belongs to; no worker call.)
    for (const auto& req : arcade.cloud.requests()) CHECK(req.path.find("/workers") == std::string::npos);
}
