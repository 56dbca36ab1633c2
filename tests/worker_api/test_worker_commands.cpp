// The `worker` command group in process: argv through CLI11 and the
// CommandTable into each run function, with output captured and the fakes
// standing in for the Engine and the Cloud.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "cli/worker_commands.h"
#include "core/credentials.h"
#include "core/environ.h"
#include "core/paths.h"
#include "support/arcade_home.h"
#include "support/fake_arcade.h"
#include "support/reserved_port.h"

using namespace arcade;
using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::FakeCloudWorker;
using arcade::testing::FakeEngine;
using arcade::testing::FakeEngineWorker;
using arcade::testing::SseEnd;
using arcade::testing::SseScript;

namespace {

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
    std::string error;    // what the tracking wrapper would record
    std::string command;  // the dotted canonical name tracking uses
};

// One `arcade` invocation restricted to the worker group.
class Harness {
public:
    Harness() {
        home.write_credentials(testing::kTestApiKey, "a@b.c");
        env.set("ARCADE_WORK_DIR", home.path().string());
        env.set("HOME", home.path().string());
        deps.timeouts.connect = 2000ms;
        deps.timeouts.request = 5000ms;
    }

    CommandResult run(std::vector<std::string> args) {
        CommandResult result;
        CLI::App root("Arcade command-line tool", "arcade");
        cli::CommandTable table;
        cli::setup_worker_commands(root, table, deps);

        std::ostringstream out;
        std::ostringstream err;
        cli::Output io{out, err, false, false, color};
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        try {
            root.parse(reversed);
        } catch (const CLI::ParseError& e) {
            result.exit_code = root.exit(e, out, err);
            result.out = out.str();
            result.err = err.str();
            return result;
        }
        const CLI::App* leaf = &root;
        while (!leaf->get_subcommands().empty()) {
            leaf = leaf->get_subcommands().front();
            result.command += (result.command.empty() ? "" : ".") + leaf->get_name();
        }
        const auto* entry = table.find(leaf);
        REQUIRE(entry != nullptr);
        CHECK(entry->tracked == cli::Tracked::yes);
        const Runtime runtime{system_clock(), env, endpoints_from_env(env), [] { return http::make_curl_transport(); },
                              system_spawner(Tricks{}), Tricks{}};
        cli::Context ctx(runtime, io, config_paths(env), interrupted);
        result.exit_code = entry->run(ctx);
        result.out = out.str();
        result.err = err.str();
        result.error = ctx.error();
        return result;
    }

    // `worker --host 127.0.0.1 -p <engine> <command> <args> --cloud-host 127.0.0.1 --cloud-port <cloud>`
    CommandResult run_against(const FakeEngine& engine, const FakeCloud* cloud, std::vector<std::string> command) {
        std::vector<std::string> args = {"worker", "--host", "127.0.0.1", "-p", std::to_string(engine.port())};
        args.insert(args.end(), command.begin(), command.end());
        if (cloud) {
            args.insert(args.end(), {"--cloud-host", "127.0.0.1", "--cloud-port", std::to_string(cloud->port())});
        }
        return run(args);
    }

    testing::ArcadeHome home;  // only its directory: the commands run in-process
    Environ env;
    cli::WorkerCommandDeps deps;
    bool color = false;
    std::atomic<bool> interrupted{false};
};

FakeEngineWorker engine_worker(std::string id, std::string uri, bool enabled, std::vector<std::string> toolkits = {}) {
    FakeEngineWorker w;
    w.id = std::move(id);
    w.http_uri = std::move(uri);
    w.enabled = enabled;
    w.tool_toolkits = std::move(toolkits);
    return w;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Table cells are separated by at least two spaces and never contain two.
std::vector<std::string> cells_of(const std::string& line) {
    std::vector<std::string> cells;
    std::size_t pos = 0;
    while (pos < line.size()) {
        auto gap = line.find("  ", pos);
        if (gap == std::string::npos) gap = line.size();
        cells.push_back(line.substr(pos, gap - pos));
        pos = line.find_first_not_of(' ', gap);
        if (pos == std::string::npos) break;
    }
    return cells;
}

// The table row whose first cell is `id`, split into cells.
std::vector<std::string> row_for(const std::string& table, const std::string& id) {
    for (const auto& line : lines_of(table)) {
        auto cells = cells_of(line);
        if (!cells.empty() && cells[0] == id) return cells;
    }
    return {};
}

}  // namespace

TEST_CASE("worker list joins every page of the Engine and the Cloud", "[worker_api]") {
    FakeEngine engine;
    FakeCloud cloud;
    FakeEngineWorker mcp = engine_worker("mcp-worker", "", true, {"Mcp"});
    mcp.type = "mcp";
    mcp.mcp_uri = "https://mcp.example.com/mcp";
    engine.set_workers({
        engine_worker("same", "https://same.example.com", true, {"Github", "Slack", "Github", "Zoom", "Slack", "Math"}),
        engine_worker("moved", "https://old.example.com", false, {"Search"}),
        engine_worker("engine-only", "https://e.example.com", true),
        mcp,
        engine_worker("p2-a", "https://p2a.example.com", true, {"A"}),
        engine_worker("p2-b", "https://p2b.example.com", false, {"B"}),
        engine_worker("p3", "https://p3.example.com", true, {"C", "C"}),
    });
    engine.set_page_size(3);  // workers span 3 pages; `same`'s tools span 2
    cloud.set_workers({{"same", "https://same.example.com/"},
                       {"moved", "https://new.example.com"},
                       {"cloud-only", "https://c.example.com"}});
    Harness h;

    SECTION("table") {
        auto r = h.run_against(engine, &cloud, {"list"});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK(r.error.empty());
        CHECK(r.command == "worker.list");

        auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 3 + 8);
        CHECK(lines[0] == std::string((lines[2].size() - 7) / 2, ' ') + "Workers");
        CHECK(cells_of(lines[1]) == std::vector<std::string>{"ID", "Cloud Deployed", "Engine Registered", "Enabled",
                                                              "Host", "Toolkits"});
        CHECK(lines[2].find_first_not_of("- ") == std::string::npos);
        CHECK(row_for(r.out, "same") == std::vector<std::string>{"same", "True", "True", "True",
                                                                 "https://same.example.com", "Github, Slack, Zoom, Math"});
        CHECK(row_for(r.out, "moved") ==
              std::vector<std::string>{"moved", "True", "True", "False",
                                       "mismatch: engine https://old.example.com, cloud https://new.example.com",
                                       "Search"});
        CHECK(row_for(r.out, "engine-only") ==
              std::vector<std::string>{"engine-only", "False", "True", "True", "https://e.example.com"});
        CHECK(row_for(r.out, "mcp-worker") ==
              std::vector<std::string>{"mcp-worker", "False", "True", "True", "https://mcp.example.com/mcp", "Mcp"});
        CHECK(row_for(r.out, "p3") == std::vector<std::string>{"p3", "False", "True", "True", "https://p3.example.com", "C"});
        CHECK(row_for(r.out, "cloud-only") ==
              std::vector<std::string>{"cloud-only", "True", "False", "False", "https://c.example.com"});
        // Engine order first, then cloud-only workers.
        CHECK(cells_of(lines[3])[0] == "same");
        CHECK(cells_of(lines[10])[0] == "cloud-only");
        CHECK(r.out.find('\x1b') == std::string::npos);

        auto pages = engine.requests_to("GET", "/v1/workers");
        std::vector<long long> offsets;
        for (const auto& p : pages)
            if (p.path == "/v1/workers") offsets.push_back(p.param_int("offset"));
        CHECK(offsets == std::vector<long long>{0, 3, 6});
        CHECK(engine.requests_to("GET", "/v1/workers/same/tools").size() == 2);
        for (const auto& req : engine.requests()) CHECK(req.authorization == testing::kTestApiKey);
        for (const auto& req : cloud.requests()) CHECK(req.authorization == std::string("Bearer ") + testing::kTestApiKey);
    }
    SECTION("alias `server` is tracked as worker.list") {
        auto r = h.run({"server", "-h", "127.0.0.1", "-p", std::to_string(engine.port()), "list", "--cloud-host",
                        "127.0.0.1", "--cloud-port", std::to_string(cloud.port())});
        CHECK(r.exit_code == 0);
        CHECK(r.command == "worker.list");
        CHECK_FALSE(row_for(r.out, "cloud-only").empty());
    }
    SECTION("JSON") {
        auto r = h.run_against(engine, &cloud, {"list", "--json"});
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.rfind("[\n  {\n    \"id\": \"same\",\n    \"cloud_deployed\": true,", 0) == 0);
        CHECK(r.out.find("\"id\": \"cloud-only\"") != std::string::npos);
        CHECK(r.out.find("\"endpoint_mismatch\": true") != std::string::npos);
        CHECK(r.out.find("\"toolkits\": [\n      \"Github\",\n      \"Slack\",\n      \"Zoom\",\n      \"Math\"\n    ]") !=
              std::string::npos);
    }
    SECTION("colour highlights the mismatch") {
        h.color = true;
        auto r = h.run_against(engine, &cloud, {"list"});
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("\x1b[1;31mmismatch:\x1b[0m engine \x1b[33mhttps://old.example.com\x1b[0m, cloud "
                         "\x1b[32mhttps://new.example.com\x1b[0m") != std::string::npos);
    }
    SECTION("hosts from ARCADE_ENGINE_URL and ARCADE_CLOUD_URL") {
        h.env.set("ARCADE_ENGINE_URL", engine.url());
        h.env.set("ARCADE_CLOUD_URL", "http://127.0.0.1:" + std::to_string(cloud.port()));
        auto r = h.run({"worker", "list"});
        CHECK(r.exit_code == 0);
        CHECK(row_for(r.out, "cloud-only").size() == 5);
    }
}

TEST_CASE("worker list prints an exact, aligned table", "[worker_api]") {
    FakeEngine engine;
    FakeCloud cloud;
    engine.set_workers({engine_worker("w1", "https://w1.dev", true, {"Github"})});
    cloud.set_workers({{"longer-name", "https://x.dev"}});
    Harness h;
    auto r = h.run_against(engine, &cloud, {"list"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out ==
          "                                     Workers\n"
          "ID           Cloud Deployed  Engine Registered  Enabled  Host            Toolkits\n"
          "-----------  --------------  -----------------  -------  --------------  --------\n"
          "w1           False           True               True     https://w1.dev  Github\n"
          "longer-name  True            False              False    https://x.dev\n");
}

TEST_CASE("worker list shows cloud-only workers when the Engine has none", "[worker_api]") {
    FakeEngine engine;
    FakeCloud cloud;
    cloud.set_workers({{"c1", "https://c1"}, {"c2", "https://c2"}});
    Harness h;
    auto r = h.run_against(engine, &cloud, {"list"});
    REQUIRE(r.exit_code == 0);
    CHECK(row_for(r.out, "c1") == std::vector<std::string>{"c1", "True", "False", "False", "https://c1"});
    CHECK(row_for(r.out, "c2").size() == 5);
}

TEST_CASE("worker list with nothing anywhere", "[worker_api]") {
    FakeEngine engine;
    FakeCloud cloud;
    Harness h;
    auto r = h.run_against(engine, &cloud, {"list"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "No workers found\n");
    auto j = h.run_against(engine, &cloud, {"list", "--json"});
    CHECK(j.exit_code == 0);
    CHECK(j.out == "[]\n");
}

TEST_CASE("worker list failures", "[worker_api]") {
    FakeEngine engine;
    FakeCloud cloud;
    engine.set_workers({engine_worker("w1", "https://w1", true, {"T"}), engine_worker("w2", "https://w2", true, {"U"})});
    cloud.set_workers({{"w1", "https://w1"}});
    Harness h;
    const std::string engine_list_url = engine.url() + "/v1/workers?limit=100&offset=0";

    SECTION("the Engine refuses the key") {
        engine.inject("GET", "/v1/workers", 401, R"({"message":"Invalid API key","name":"unauthorized"})");
        auto r = h.run_against(engine, &cloud, {"list"});
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        const std::string expected =
            "Could not list workers: Arcade Engine returned 401 Unauthorized: Invalid API key (GET " + engine_list_url +
            ")";
        CHECK(r.err == expected + "\n");
        CHECK(r.error == expected);
    }
    SECTION("the Engine fails") {
        engine.inject("GET", "/v1/workers", 500);
        auto r = h.run_against(engine, &cloud, {"list"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::StartsWith("Could not list workers: Arcade Engine returned 500 Internal Server Error"));
    }
    SECTION("the Engine is not there: the URL tried is named") {
        testing::ReservedPort closed(false);
        h.env.set("ARCADE_ENGINE_URL", "http://127.0.0.1:" + std::to_string(closed.port()));
        auto r = h.run({"worker", "list", "--cloud-host", "127.0.0.1", "--cloud-port", std::to_string(cloud.port())});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::StartsWith("Could not list workers: could not connect to Arcade Engine at http://localhost:"));
        CHECK_THAT(r.err, Catch::Contains("/v1/workers?limit=100&offset=0"));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    SECTION("the Cloud fails: Engine workers still shown, Cloud column unknown") {
        cloud.inject("GET", "/api/v1/workers", 500);
        auto r = h.run_against(engine, &cloud, {"list"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.err, Catch::StartsWith("Warning: could not list Cloud deployments: Arcade Cloud returned 500"));
        CHECK(row_for(r.out, "w1") == std::vector<std::string>{"w1", "unknown", "True", "True", "https://w1", "T"});
    }
    SECTION("one worker's tools fail: the rest is shown") {
        engine.inject("GET", "/v1/workers/w2/tools", 500);
        auto r = h.run_against(engine, &cloud, {"list"});
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.err, Catch::StartsWith("Warning: could not list the tools of worker 'w2': Arcade Engine returned 500"));
        CHECK(row_for(r.out, "w2") ==
              std::vector<std::string>{"w2", "False", "True", "True", "https://w2", "(could not fetch)"});
        CHECK(row_for(r.out, "w1").back() == "T");
    }
    SECTION("a worker without tools (404) has none") {
        engine.inject("GET", "/v1/workers/w2/tools", 404);
        auto r = h.run_against(engine, &cloud, {"list"});
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        CHECK(row_for(r.out, "w2") == std::vector<std::string>{"w2", "False", "True", "True", "https://w2"});
    }
    SECTION("a slow Engine hits the request timeout") {
        h.deps.timeouts.request = 300ms;
        engine.set_delay(3000ms);
        auto started = std::chrono::steady_clock::now();
        auto r = h.run_against(engine, &cloud, {"list"});
        CHECK(std::chrono::steady_clock::now() - started < 2500ms);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::StartsWith("Could not list workers: Arcade Engine did not answer in time (GET " +
                                            engine_list_url));
    }
    SECTION("a slow Engine within the timeout still works") {
        engine.set_delay(200ms);
        auto r = h.run_against(engine, &cloud, {"list"});
        CHECK(r.exit_code == 0);
        CHECK(row_for(r.out, "w2").size() == 6);
    }
}

TEST_CASE("every worker command needs login", "[worker_api]") {
    FakeEngine engine;
    FakeCloud cloud;
    Harness h;
    std::filesystem::remove(h.home.config_dir() / "credentials.yaml");
    auto command = GENERATE(as<std::vector<std::string>>{}, std::vector<std::string>{"list"},
                            std::vector<std::string>{"enable", "w1"}, std::vector<std::string>{"disable", "w1"},
                            std::vector<std::string>{"rm", "w1"}, std::vector<std::string>{"logs", "w1"});
    INFO(command[0]);
    auto r = h.run_against(engine, command[0] == "enable" || command[0] == "disable" ? nullptr : &cloud, command);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == std::string(kNotLoggedIn) + "\n");
    CHECK(r.error == kNotLoggedIn);
    CHECK(r.command == "worker." + command[0]);
    CHECK(engine.requests().empty());
    CHECK(cloud.requests().empty());
}

TEST_CASE("worker enable and disable", "[worker_api]") {
    FakeEngine engine;
    engine.set_workers({engine_worker("w1", "https://w1", false)});
    Harness h;

    auto on = h.run_against(engine, nullptr, {"enable", "w1"});
    CHECK(on.exit_code == 0);
    CHECK(on.out == "Worker 'w1' is now enabled.\n");
    CHECK(on.command == "worker.enable");
    CHECK(engine.workers()[0].enabled);

    auto off = h.run_against(engine, nullptr, {"disable", "w1"});
    CHECK(off.exit_code == 0);
    CHECK(off.out == "Worker 'w1' is now disabled.\n");
    CHECK(off.command == "worker.disable");
    CHECK_FALSE(engine.workers()[0].enabled);

    auto patches = engine.requests_to("PATCH", "/v1/workers/w1");
    REQUIRE(patches.size() == 2);
    CHECK(patches[0].body == R"({"enabled":true})");
    CHECK(patches[1].body == R"({"enabled":false})");
    CHECK(patches[0].authorization == testing::kTestApiKey);

    auto missing = h.run_against(engine, nullptr, {"enable", "ghost"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.out.empty());
    CHECK(missing.err == "Could not enable worker 'ghost': Arcade Engine returned 404 Not Found: worker not found "
                         "(PATCH " + engine.url() + "/v1/workers/ghost)\n");
}

TEST_CASE("worker rm", "[worker_api]") {
    FakeEngine engine;
    FakeCloud cloud;
    engine.set_workers({engine_worker("w1", "https://w1", true), engine_worker("w2", "https://w2", true)});
    cloud.set_workers({{"w1", "https://w1"}});
    Harness h;

    SECTION("deletes the deployment, then deregisters") {
        auto r = h.run_against(engine, &cloud, {"rm", "w1"});
        CHECK(r.exit_code == 0);
        CHECK(r.command == "worker.rm");
        CHECK(r.out ==
              "Deleted the Cloud deployment of worker 'w1'.\nDeregistered worker 'w1' from the Arcade Engine.\n");
        CHECK(cloud.workers().empty());
        CHECK(engine.workers().size() == 1);
        auto deletes = cloud.requests_to("DELETE", "/api/v1/workers/w1");
        REQUIRE(deletes.size() == 1);
        CHECK(deletes[0].authorization == std::string("Bearer ") + testing::kTestApiKey);
        CHECK(engine.requests_to("DELETE", "/v1/workers/w1").at(0).authorization == testing::kTestApiKey);
    }
    SECTION("no deployment: the Python CLI's hint, and the Engine is left alone") {
        auto r = h.run_against(engine, &cloud, {"rm", "w2"});
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(r.err ==
              "Deployment not found. To deregister the worker from the engine, use the --deregister flag.\n");
        CHECK(engine.requests_to("DELETE", "/v1/workers").empty());
        CHECK(engine.workers().size() == 2);
    }
    SECTION("--deregister skips the Cloud") {
        auto flag = GENERATE(as<std::string>{}, "--deregister", "-d");
        auto r = h.run_against(engine, &cloud, {"rm", "w2", flag});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "Deregistered worker 'w2' from the Arcade Engine.\n");
        CHECK(cloud.requests().empty());
        CHECK(engine.workers().size() == 1);
    }
    SECTION("--deregister of an unknown worker says so and succeeds, as the original did") {
        auto r = h.run_against(engine, &cloud, {"rm", "ghost", "-d"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "Worker not found\n");
        CHECK(r.err.empty());
    }
    SECTION("--deregister fails on other Engine errors") {
        engine.inject("DELETE", "/v1/workers/w2", 403, R"({"message":"no"})");
        auto r = h.run_against(engine, &cloud, {"rm", "w2", "-d"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::StartsWith("Could not deregister worker 'w2' from the Arcade Engine: Arcade Engine "
                                            "returned 403 Forbidden"));
    }
    SECTION("deployed but never registered: the deletion is enough") {
        cloud.set_workers({{"c-only", "https://c"}});
        auto r = h.run_against(engine, &cloud, {"rm", "c-only"});
        CHECK(r.exit_code == 0);
        CHECK(r.out ==
              "Deleted the Cloud deployment of worker 'c-only'.\nWorker 'c-only' was not registered with the Arcade "
              "Engine.\n");
    }
    SECTION("the Cloud fails otherwise") {
        cloud.inject("DELETE", "/api/v1/workers/w1", 401, R"({"message":"bad token"})");
        auto r = h.run_against(engine, &cloud, {"rm", "w1"});
        CHECK(r.exit_code == 1);
        CHECK(r.err == "Could not delete the Cloud deployment of worker 'w1': Arcade Cloud returned 401 "
                       "Unauthorized: bad token (DELETE http://127.0.0.1:" + std::to_string(cloud.port()) +
                       "/api/v1/workers/w1)\n");  // the Cloud's host is kept as given (core/endpoints.h)
        CHECK(engine.requests().empty());
    }
}

TEST_CASE("worker logs", "[worker_api]") {
    FakeCloud cloud;
    Harness h;
    auto run_logs = [&] {
        return h.run({"worker", "logs", "w1", "--cloud-host", "127.0.0.1", "--cloud-port", std::to_string(cloud.port())});
    };

    SECTION("prints data lines and stops at [DONE]") {
        cloud.set_log_script(SseScript{{{"data: starting\n", 0ms},
                                        {"\nevent: log\ndata: li", 50ms},
                                        {"ne two\r\n\r\n: keepalive\n\n", 50ms},
                                        {"data: [DONE]\n\n", 50ms},
                                        {"data: after done\n\n", 0ms}},
                                       SseEnd::hang});
        auto r = run_logs();
        CHECK(r.exit_code == 0);
        CHECK(r.command == "worker.logs");
        CHECK(r.out == "starting\nline two\n");
        CHECK(r.err.empty());
        auto reqs = cloud.requests_to("GET", "/api/v1/workers/logs/w1");
        REQUIRE(reqs.size() == 1);
        CHECK(reqs[0].authorization == std::string("Bearer ") + testing::kTestApiKey);
    }
    SECTION("an error event fails after what came before") {
        cloud.set_log_script(SseScript{{{"data: one\n\n", 0ms}, {"event: error\ndata: worker crashed\n\n", 50ms}},
                                       SseEnd::hang});
        auto r = run_logs();
        CHECK(r.exit_code == 1);
        CHECK(r.out == "one\n");
        CHECK(r.err == "Could not stream logs: worker crashed\n");
        CHECK(r.error == "Could not stream logs: worker crashed");
    }
    SECTION("a bare error event") {
        cloud.set_log_script(SseScript{{{"event: error\n\n", 0ms}}, SseEnd::hang});
        auto r = run_logs();
        CHECK(r.exit_code == 1);
        CHECK(r.err == "Could not stream logs\n");
    }
    SECTION("a non-2xx status") {
        cloud.inject("GET", "/api/v1/workers/logs/w1", 404, R"({"message":"deployment not found"})");
        auto r = run_logs();
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(r.err == "Could not stream logs for worker 'w1': Arcade Cloud returned 404 Not Found: deployment not "
                       "found (GET http://127.0.0.1:" + std::to_string(cloud.port()) +
                       "/api/v1/workers/logs/w1)\n");  // the Cloud's host is kept as given
    }
    SECTION("a dropped connection") {
        cloud.set_log_script(SseScript{{{"data: one\n\n", 0ms}}, SseEnd::drop});
        auto r = run_logs();
        CHECK(r.exit_code == 1);
        CHECK(r.out == "one\n");
        CHECK_THAT(r.err, Catch::StartsWith("Could not stream logs for worker 'w1': the connection to Arcade Cloud was lost"));
    }
    SECTION("the server ending the stream is a normal end") {
        cloud.set_log_script(SseScript{{{"data: one\n\n", 0ms}}, SseEnd::finish});
        auto r = run_logs();
        CHECK(r.exit_code == 0);
        CHECK(r.out == "one\n");
    }
    SECTION("Ctrl-C ends cleanly with 130 and no error line") {
        cloud.set_log_script(SseScript{{{"data: one\n\n", 0ms}}, SseEnd::hang});
        std::thread ctrl_c([&] {
            cloud.wait_for_stream_steps(1, 5000ms);
            std::this_thread::sleep_for(100ms);
            h.interrupted = true;
        });
        auto started = std::chrono::steady_clock::now();
        auto r = run_logs();
        ctrl_c.join();
        CHECK(std::chrono::steady_clock::now() - started < 4000ms);
        CHECK(r.exit_code == 130);
        CHECK(r.out == "one\n");
        CHECK(r.err.empty());
        CHECK(r.error == "Interrupted");
    }
}

TEST_CASE("worker group options and help", "[worker_api]") {
    Harness h;
    SECTION("--help lists the group options; -h is the host") {
        auto r = h.run({"worker", "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("-h,--host") != std::string::npos);
        CHECK(r.out.find("-p,--port") != std::string::npos);
        CHECK(r.out.find("--no-tls") != std::string::npos);
        for (const char* sub : {"list", "enable", "disable", "rm", "logs"}) CHECK(r.out.find(sub) != std::string::npos);
    }
    SECTION("the Cloud options are hidden") {
        auto r = h.run({"worker", "list", "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("--json") != std::string::npos);
        CHECK(r.out.find("--cloud-host") == std::string::npos);
    }
    SECTION("an unusable host is one clear line") {
        auto r = h.run({"worker", "--host", "bad host", "list"});
        CHECK(r.exit_code == 1);
        CHECK(r.err == "Invalid Arcade Engine host: 'bad host'\n");
    }
    SECTION("a port out of range is a usage error") {
        auto r = h.run({"worker", "-p", "70000", "list"});
        CHECK(r.exit_code != 0);
        CHECK(r.command.empty());
    }
    SECTION("--no-tls wins over --tls for the Engine") {
        FakeEngine engine;
        FakeCloud cloud;
        auto r = h.run({"worker", "--host", "127.0.0.1", "-p", std::to_string(engine.port()), "--tls", "--no-tls",
                        "list", "--cloud-host", "localhost", "--cloud-port", std::to_string(cloud.port())});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "No workers found\n");
    }
    SECTION("--tls reaches the Engine over TLS") {
        FakeEngine engine;
        FakeCloud cloud;
        auto r = h.run({"worker", "--host", "127.0.0.1", "-p", std::to_string(engine.port()), "--tls", "list",
                        "--cloud-host", "localhost", "--cloud-port", std::to_string(cloud.port())});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("https://localhost:" + std::to_string(engine.port())));
    }
}
