// The libcurl transport against the loopback fake Engine and Cloud: what it
// sends, what it refuses, and where a URL without a scheme goes. Every case
// runs twice: over the dlopened libcurl the product uses, and over its
// boring twin, libcurl linked normally.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "support/fake_arcade.h"
#include "http/curl_linked.h"
#include "http/transport.h"

using namespace std::chrono_literals;
using arcade::testing::FakeCloud;
using arcade::testing::FakeEngine;
using arcade::testing::kTestApiKey;
using arcade::testing::SseEnd;
using arcade::testing::SseScript;

namespace {

struct Variant {
    const char* name;
    std::function<std::unique_ptr<arcade::http::Transport>()> make;
};

Variant transport_variant() {
    return GENERATE(values<Variant>({
        {"dlopened libcurl", [] { return arcade::http::make_curl_transport("arcade-test"); }},
        {"linked libcurl", [] { return arcade::http::make_linked_curl_transport("arcade-test"); }},
    }));
}

arcade::http::Request get(std::string url) {
    arcade::http::Request req;
    req.url = std::move(url);
    req.headers = {{"Authorization", kTestApiKey}};
    req.timeout = 5s;
    req.connect_timeout = 2s;
    return req;
}

// 127.0.0.1:<port>, without a scheme.
std::string bare_authority(const arcade::testing::FakeServer& server) {
    return "127.0.0.1:" + std::to_string(server.port());
}

}  // namespace

TEST_CASE("the transport sends a request and reads the answer", "[http]") {
    const Variant variant = transport_variant();
    INFO("transport: " << variant.name);
    FakeEngine engine;
    auto transport = variant.make();
    auto resp = transport->send(get("http://" + bare_authority(engine) + "/v1/workers"));
    CHECK(resp.status == 200);
    CHECK_FALSE(resp.transport_failed());
    CHECK(resp.body.find("\"items\"") != std::string::npos);
    CHECK(resp.header("content-type") == "application/json");
    auto seen = engine.requests_to("GET", "/v1/workers");
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].authorization == kTestApiKey);
}

TEST_CASE("the transport streams a body piece by piece", "[http]") {
    const Variant variant = transport_variant();
    INFO("transport: " << variant.name);
    FakeCloud cloud;
    cloud.set_log_script(SseScript{{{"data: one\n\n", 0ms}, {"data: two\n\n", 50ms}}, SseEnd::finish});
    auto transport = variant.make();
    auto req = get("http://" + bare_authority(cloud) + "/api/v1/workers/logs/w1");
    req.headers = {{"Authorization", std::string("Bearer ") + kTestApiKey}};
    std::string received;
    auto resp = transport->stream(req, [&](std::string_view chunk) {
        received += chunk;
        return true;
    });
    CHECK(resp.status == 200);
    CHECK(resp.body.empty());
    CHECK(received == "data: one\n\ndata: two\n\n");
}

TEST_CASE("the transport reports a refused connection as such", "[http]") {
    const Variant variant = transport_variant();
    INFO("transport: " << variant.name);
    int port = 0;
    {
        FakeEngine probe;
        port = probe.port();
    }
    auto resp = variant.make()->send(get("http://127.0.0.1:" + std::to_string(port) + "/"));
    CHECK(resp.status == 0);
    CHECK(resp.failure == arcade::http::Failure::connect);
}

TEST_CASE("the transport speaks only http and https, and https unless told otherwise", "[http]") {
    const Variant variant = transport_variant();
    INFO("transport: " << variant.name);
    FakeEngine engine;
    auto transport = variant.make();

    SECTION("another scheme is refused") {
        auto resp = transport->send(get("ftp://" + bare_authority(engine) + "/v1/workers"));
        CHECK(resp.transport_failed());
        CHECK(resp.status == 0);
    }
    SECTION("a path without a host (an unusable configured base URL, see core/endpoints.h) goes nowhere") {
        auto resp = transport->send(get("/v1/workers"));
        CHECK(resp.transport_failed());
        CHECK(resp.status == 0);
    }
    SECTION("a URL without a scheme is https: the key never travels in clear text") {
        auto resp = transport->send(get(bare_authority(engine) + "/v1/workers"));
        CHECK(resp.transport_failed());
        CHECK(resp.status == 0);
    }
    CHECK(engine.requests().empty());
}
