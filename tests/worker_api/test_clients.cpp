// EngineClient and CloudClient over the real libcurl transport against the
// loopback fakes: paging, auth header forms, error mapping, timeouts and
// log streaming.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_arcade.h"
#include "support/reserved_port.h"
#include "http/transport.h"
#include "worker_api/cloud_client.h"
#include "worker_api/engine_client.h"

using namespace arcade;
using namespace arcade::worker_api;
using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::FakeEngine;
using arcade::testing::FakeEngineWorker;
using arcade::testing::kTestApiKey;
using arcade::testing::SseEnd;
using arcade::testing::SseScript;

namespace {

ClientConfig config_for(const testing::FakeServer& server, int page_size = 100) {
    ClientConfig c;
    c.base_url = server.url();
    c.api_key = kTestApiKey;
    c.page_size = page_size;
    c.timeouts.connect = 2000ms;
    c.timeouts.request = 5000ms;
    return c;
}

std::vector<FakeEngineWorker> numbered_workers(int n) {
    std::vector<FakeEngineWorker> out;
    for (int i = 0; i < n; ++i) {
        FakeEngineWorker w;
        w.id = "w" + std::to_string(i);
        w.http_uri = "https://w" + std::to_string(i) + ".example.com";
        w.enabled = i % 2 == 0;
        out.push_back(w);
    }
    return out;
}

}  // namespace

TEST_CASE("EngineClient reads every page of workers with the raw key", "[worker_api]") {
    FakeEngine engine;
    engine.set_workers(numbered_workers(7));
    engine.set_page_size(3);
    auto transport = http::make_curl_transport("test");
    EngineClient client(*transport, config_for(engine));

    auto workers = client.list_workers();
    REQUIRE(workers.ok());
    REQUIRE(workers.value().size() == 7);
    CHECK(workers.value()[0].id == "w0");
    CHECK(workers.value()[6].id == "w6");
    CHECK(workers.value()[1].enabled == false);
    CHECK(workers.value()[2].http_uri == "https://w2.example.com");

    auto requests = engine.requests_to("GET", "/v1/workers");
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].param_int("offset") == 0);
    CHECK(requests[1].param_int("offset") == 3);
    CHECK(requests[2].param_int("offset") == 6);
    for (const auto& r : requests) {
        CHECK(r.param_int("limit") == 100);
        CHECK(r.authorization == kTestApiKey);
    }
}

TEST_CASE("EngineClient de-duplicates toolkits across tool pages", "[worker_api]") {
    FakeEngine engine;
    FakeEngineWorker w;
    w.id = "tools worker+1";  // needs escaping in the path
    w.tool_toolkits = {"Github", "Slack", "Github", "Math", "Slack", "Zoom", "Math"};
    engine.set_workers({w});
    engine.set_page_size(3);
    auto transport = http::make_curl_transport("test");
    EngineClient client(*transport, config_for(engine));

    auto toolkits = client.list_toolkits(w.id);
    REQUIRE(toolkits.ok());
    CHECK(toolkits.value() == std::vector<std::string>{"Github", "Slack", "Math", "Zoom"});
    auto requests = engine.requests_to("GET", "/v1/workers/tools worker+1/tools");
    CHECK(requests.size() == 3);
}

TEST_CASE("EngineClient stops paging a server that never advances", "[worker_api]") {
    FakeEngine engine;
    engine.set_workers(numbered_workers(4));
    engine.set_page_size(2);
    auto transport = http::make_curl_transport("test");
    EngineClient client(*transport, config_for(engine));

    SECTION("a server that echoes a different offset than asked") {
        engine.set_ignore_offset(true, true);
        auto workers = client.list_workers();
        REQUIRE(workers.ok());
        CHECK(workers.value().size() == 2);
        CHECK(engine.requests_to("GET", "/v1/workers").size() == 2);
    }
    SECTION("a server that ignores the offset without saying so") {
        engine.set_ignore_offset(true, false);
        engine.set_claimed_total(1'000'000);
        auto workers = client.list_workers();
        REQUIRE(workers.ok());
        CHECK(workers.value().size() == 2);
        CHECK(engine.requests_to("GET", "/v1/workers").size() == 2);
    }
    SECTION("a server that claims more items than it has") {
        engine.set_claimed_total(1'000'000);
        auto workers = client.list_workers();
        REQUIRE(workers.ok());
        CHECK(workers.value().size() == 4);
        CHECK(engine.requests_to("GET", "/v1/workers").size() == 3);  // the third page is empty
    }
}

TEST_CASE("EngineClient maps errors to ApiError with the server's message and the URL", "[worker_api]") {
    FakeEngine engine;
    engine.set_workers(numbered_workers(2));
    auto transport = http::make_curl_transport("test");
    EngineClient client(*transport, config_for(engine));

    SECTION("401 from a wrong key") {
        auto cfg = config_for(engine);
        cfg.api_key = "wrong";
        EngineClient wrong(*transport, cfg);
        auto workers = wrong.list_workers();
        REQUIRE_FALSE(workers.ok());
        const auto& e = workers.error();
        CHECK(e.kind == ErrorKind::status);
        CHECK(e.status == 401);
        CHECK(e.message == "Invalid API key");
        CHECK(e.name == "unauthorized");
        CHECK(e.describe() == "Arcade Engine returned 401 Unauthorized: Invalid API key (GET " + engine.url() +
                                  "/v1/workers?limit=100&offset=0)");
    }
    SECTION("500 with a message") {
        engine.inject("GET", "/v1/workers", 500, "", 0);  // an exhausted injection is ignored
        CHECK(client.list_workers().ok());
        engine.inject("GET", "/v1/workers", 500, R"({"message":"database down","name":"internal"})");
        auto workers = client.list_workers();
        REQUIRE_FALSE(workers.ok());
        CHECK(workers.error().status == 500);
        CHECK(workers.error().message == "database down");
    }
    SECTION("404 on PATCH and DELETE of an unknown worker") {
        auto patched = client.set_enabled("nope", true);
        REQUIRE_FALSE(patched.ok());
        CHECK(patched.error().is_status(404));
        CHECK(patched.error().method == "PATCH");
        auto removed = client.remove_worker("nope");
        REQUIRE_FALSE(removed.ok());
        CHECK(removed.error().is_status(404));
    }
    SECTION("a body that is not the promised JSON") {
        engine.inject("GET", "/v1/workers", 200, "[1,2,3]");
        auto workers = client.list_workers();
        REQUIRE_FALSE(workers.ok());
        CHECK(workers.error().kind == ErrorKind::bad_response);
        CHECK_THAT(workers.error().describe(), Catch::Contains("unexpected response from Arcade Engine"));
    }
    SECTION("a plain-text error body is kept on one line") {
        engine.inject("GET", "/v1/workers", 502, "upstream\nconnect error\x1b[31m");
        auto workers = client.list_workers();
        REQUIRE_FALSE(workers.ok());
        CHECK(workers.error().describe().find('\n') == std::string::npos);
        CHECK(workers.error().describe().find('\x1b') == std::string::npos);
        CHECK_THAT(workers.error().describe(),
                   Catch::StartsWith("Arcade Engine returned 502 Bad Gateway: upstream connect error"));
    }
}

TEST_CASE("EngineClient sends PATCH {\"enabled\": bool} and DELETE", "[worker_api]") {
    FakeEngine engine;
    engine.set_workers(numbered_workers(2));
    auto transport = http::make_curl_transport("test");
    EngineClient client(*transport, config_for(engine));

    REQUIRE(client.set_enabled("w1", true).ok());
    CHECK(engine.workers()[1].enabled);
    REQUIRE(client.set_enabled("w1", false).ok());
    CHECK_FALSE(engine.workers()[1].enabled);
    auto patches = engine.requests_to("PATCH", "/v1/workers/w1");
    REQUIRE(patches.size() == 2);
    CHECK(patches[0].body == R"({"enabled":true})");
    CHECK(patches[1].authorization == kTestApiKey);

    REQUIRE(client.remove_worker("w0").ok());
    CHECK(engine.workers().size() == 1);
}

TEST_CASE("Transport failures name the URL tried", "[worker_api]") {
    auto transport = http::make_curl_transport("test");
    SECTION("connection refused") {
        testing::ReservedPort closed(false);
        ClientConfig cfg;
        cfg.base_url = "http://localhost:" + std::to_string(closed.port());
        cfg.api_key = kTestApiKey;
        EngineClient client(*transport, cfg);
        auto workers = client.list_workers();
        REQUIRE_FALSE(workers.ok());
        CHECK(workers.error().kind == ErrorKind::connect);
        CHECK_THAT(workers.error().describe(),
                   Catch::StartsWith("could not connect to Arcade Engine at " + cfg.base_url + "/v1/workers?"));
    }
    SECTION("a server slower than the request timeout") {
        FakeEngine engine;
        engine.set_delay(3000ms);
        auto cfg = config_for(engine);
        cfg.timeouts.request = 300ms;
        EngineClient client(*transport, cfg);
        auto started = std::chrono::steady_clock::now();
        auto workers = client.list_workers();
        auto took = std::chrono::steady_clock::now() - started;
        REQUIRE_FALSE(workers.ok());
        CHECK(workers.error().kind == ErrorKind::timeout);
        CHECK(took < 2500ms);
        CHECK_THAT(workers.error().describe(), Catch::Contains("did not answer in time (GET " + engine.url()));
    }
}

TEST_CASE("CloudClient lists and deletes deployments with a Bearer key", "[worker_api]") {
    FakeCloud cloud;
    cloud.set_workers({{"a", "https://a"}, {"b", "https://b"}, {"c", "https://c"}, {"d", "https://d"}});
    auto transport = http::make_curl_transport("test");

    SECTION("one response") {
        CloudClient client(*transport, config_for(cloud));
        auto workers = client.list_workers();
        REQUIRE(workers.ok());
        REQUIRE(workers.value().size() == 4);
        CHECK(workers.value()[3].name == "d");
        CHECK(workers.value()[3].endpoint == "https://d");
        auto requests = cloud.requests_to("GET", "/api/v1/workers");
        REQUIRE(requests.size() == 1);
        CHECK(requests[0].authorization == std::string("Bearer ") + kTestApiKey);
        CHECK(requests[0].params.empty());
    }
    SECTION("pages when the Cloud reports a total_count") {
        cloud.set_page_size(3);
        CloudClient client(*transport, config_for(cloud, 3));
        auto workers = client.list_workers();
        REQUIRE(workers.ok());
        CHECK(workers.value().size() == 4);
        auto requests = cloud.requests_to("GET", "/api/v1/workers");
        REQUIRE(requests.size() == 2);
        CHECK(requests[1].param_int("offset") == 3);
    }
    SECTION("delete: success, then 404") {
        CloudClient client(*transport, config_for(cloud));
        REQUIRE(client.delete_deployment("b").ok());
        CHECK(cloud.workers().size() == 3);
        auto again = client.delete_deployment("b");
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().is_status(404));
        CHECK(again.error().service == "Arcade Cloud");
    }
    SECTION("a wrong key is a 401") {
        auto cfg = config_for(cloud);
        cfg.api_key = "nope";
        CloudClient client(*transport, cfg);
        auto workers = client.list_workers();
        REQUIRE_FALSE(workers.ok());
        CHECK(workers.error().is_status(401));
    }
}

TEST_CASE("CloudClient streams log events as they arrive", "[worker_api]") {
    FakeCloud cloud;
    auto transport = http::make_curl_transport("test");
    std::vector<SseEvent> seen;
    std::vector<std::size_t> steps_at_event;

    SECTION("pieces with pauses; events come before the stream ends") {
        cloud.set_log_script(SseScript{{{"data: one\n", 0ms},
                                        {"\ndata: tw", 200ms},
                                        {"o\r\n\r\n", 200ms},
                                        {": ping\n\n", 200ms},
                                        {"data: [DONE]\n\n", 200ms}},
                                       SseEnd::hang});
        CloudClient client(*transport, config_for(cloud));
        auto end = client.stream_logs("w1", [&](const SseEvent& e) {
            seen.push_back(e);
            steps_at_event.push_back(cloud.stream_steps_sent());
            return e.data != "[DONE]";
        });
        REQUIRE(end.ok());
        CHECK(end.value() == StreamEnd::stopped);
        REQUIRE(seen.size() == 3);
        CHECK(seen[0].data == "one");
        CHECK(seen[1].data == "two");
        // "one" was handed over while the rest of the stream was still to come.
        CHECK(steps_at_event[0] < 5);
        auto requests = cloud.requests_to("GET", "/api/v1/workers/logs/w1");
        REQUIRE(requests.size() == 1);
        CHECK(requests[0].authorization == std::string("Bearer ") + kTestApiKey);
    }
    SECTION("the server closing the stream ends it") {
        cloud.set_log_script(SseScript{{{"data: only\n\n", 0ms}}, SseEnd::finish});
        CloudClient client(*transport, config_for(cloud));
        auto end = client.stream_logs("w1", [&](const SseEvent& e) {
            seen.push_back(e);
            return true;
        });
        REQUIRE(end.ok());
        CHECK(end.value() == StreamEnd::closed);
        CHECK(seen.size() == 1);
    }
    SECTION("a dropped connection is an error") {
        cloud.set_log_script(SseScript{{{"data: partial\n\n", 0ms}}, SseEnd::drop});
        CloudClient client(*transport, config_for(cloud));
        auto end = client.stream_logs("w1", [&](const SseEvent& e) {
            seen.push_back(e);
            return true;
        });
        REQUIRE_FALSE(end.ok());
        CHECK(end.error().kind == ErrorKind::connection_lost);
        CHECK(seen.size() == 1);
    }
    SECTION("a non-2xx status carries the server's message") {
        cloud.inject("GET", "/api/v1/workers/logs/w1", 404, R"({"message":"no such deployment"})");
        CloudClient client(*transport, config_for(cloud));
        auto end = client.stream_logs("w1", [&](const SseEvent& e) {
            seen.push_back(e);
            return true;
        });
        REQUIRE_FALSE(end.ok());
        CHECK(end.error().is_status(404));
        CHECK(end.error().message == "no such deployment");
        CHECK(seen.empty());
    }
    SECTION("the cancel flag ends a quiet stream promptly") {
        cloud.set_log_script(SseScript{{{"data: hello\n\n", 0ms}}, SseEnd::hang});
        std::atomic<bool> cancel{false};
        auto cfg = config_for(cloud);
        cfg.cancel = &cancel;
        CloudClient client(*transport, cfg);
        std::thread canceller([&] {
            cloud.wait_for_stream_steps(1, 5000ms);
            std::this_thread::sleep_for(100ms);
            cancel = true;
        });
        auto started = std::chrono::steady_clock::now();
        auto end = client.stream_logs("w1", [&](const SseEvent& e) {
            seen.push_back(e);
            return true;
        });
        canceller.join();
        REQUIRE_FALSE(end.ok());
        CHECK(end.error().kind == ErrorKind::cancelled);
        CHECK(std::chrono::steady_clock::now() - started < 4000ms);
        CHECK(seen.size() == 1);
    }
}

TEST_CASE("retries stay within the call's time budget", "[worker_api]") {
    FakeEngine engine;
    engine.set_workers(numbered_workers(1));
    engine.inject("GET", "/v1/workers", 503);
    auto transport = http::make_curl_transport("test");
    auto config = config_for(engine);
    // Room for the 0.5 s wait, not for the 1 s one after it.
    config.timeouts.request = 1200ms;
    EngineClient client(*transport, config);
    auto started = std::chrono::steady_clock::now();
    auto workers = client.list_workers();
    CHECK(std::chrono::steady_clock::now() - started < 1200ms);
    REQUIRE_FALSE(workers.ok());
    CHECK(workers.error().is_status(503));
    CHECK(engine.requests_to("GET", "/v1/workers").size() == 2);
}

TEST_CASE("a lost connection on a listing page is retried", "[worker_api]") {
    FakeCloud cloud;
    cloud.set_workers({{"c1", "https://c1"}});
    cloud.inject_drop("GET", "/api/v1/workers", 1);
    auto transport = http::make_curl_transport("test");
    CloudClient client(*transport, config_for(cloud));
    auto workers = client.list_workers();
    REQUIRE(workers.ok());
    CHECK(workers.value().size() == 1);
    CHECK(cloud.requests_to("GET", "/api/v1/workers").size() == 2);
}
