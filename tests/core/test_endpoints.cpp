// The one endpoint rule (core/endpoints.h): every service's base URL, from a
// flag or the environment, as a table.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "core/endpoints.h"

using arcade::EndpointRequest;
using arcade::Environ;
using arcade::Service;

namespace {

struct Row {
    Service service;
    const char* host;
    std::optional<int> port;
    bool tls;
    bool no_tls;
    std::optional<std::string> expected;
};

constexpr Service kEngine = Service::engine;
constexpr Service kCloud = Service::cloud;
constexpr Service kPostHog = Service::posthog;

Environ env_of(std::initializer_list<std::pair<const char*, const char*>> vars) {
    Environ env;
    for (const auto& [name, value] : vars) env.set(name, value);
    return env;
}

}  // namespace

TEST_CASE("resolve_endpoint: one rule for the Engine, the Cloud and PostHog", "[core]") {
    auto row = GENERATE(values<Row>({
        // Engine: localhost aliases, default dev port, plain HTTP
        {kEngine, "localhost", {}, false, false, "http://localhost:9099"},
        {kEngine, "127.0.0.1", {}, false, false, "http://localhost:9099"},
        {kEngine, "0.0.0.0", {}, false, false, "http://localhost:9099"},
        {kEngine, "LocalHost", {}, false, false, "http://localhost:9099"},
        {kEngine, "0.0.0.0", 8000, false, false, "http://localhost:8000"},
        {kEngine, "localhost", {}, true, false, "https://localhost:9099"},
        // --no-tls wins over --tls
        {kEngine, "localhost", {}, true, true, "http://localhost:9099"},
        {kEngine, "api.arcade.dev", {}, true, true, "http://api.arcade.dev"},
        // TLS unless loopback
        {kEngine, "api.arcade.dev", {}, false, false, "https://api.arcade.dev"},
        {kEngine, "api.arcade.dev", {}, false, true, "http://api.arcade.dev"},
        {kEngine, "api.arcade.dev", 8443, false, false, "https://api.arcade.dev:8443"},
        {kEngine, "my_engine", {}, false, false, "https://my_engine"},
        {kEngine, "10.1.2.3", 80, false, false, "https://10.1.2.3:80"},
        // a host that carries a port keeps it
        {kEngine, "localhost:8080", {}, false, false, "http://localhost:8080"},
        {kEngine, "localhost:8080", 9, false, false, "http://localhost:8080"},
        {kEngine, "127.0.0.1:5000", {}, false, false, "http://localhost:5000"},
        {kEngine, "example.com:444", 1, false, false, "https://example.com:444"},
        // URLs (ARCADE_ENGINE_URL): the scheme decides unless a flag is given
        {kEngine, "https://api.arcade.dev", {}, false, false, "https://api.arcade.dev"},
        {kEngine, "https://api.arcade.dev/", {}, false, false, "https://api.arcade.dev"},
        {kEngine, "HTTP://engine.internal", {}, false, false, "http://engine.internal"},
        {kEngine, "http://engine.internal", {}, true, false, "https://engine.internal"},
        {kEngine, "https://localhost", {}, false, true, "http://localhost:9099"},
        {kEngine, "http://127.0.0.1:5000", {}, false, false, "http://localhost:5000"},
        {kEngine, "https://example.com/prefix//", {}, false, false, "https://example.com/prefix"},
        {kEngine, "https://example.com:8443/api", 1, false, false, "https://example.com:8443/api"},
        {kEngine, "  api.arcade.dev  ", {}, false, false, "https://api.arcade.dev"},
        // IPv6: ::1 is loopback like localhost, other addresses are not
        {kEngine, "[::1]:8080", {}, false, false, "http://[::1]:8080"},
        {kEngine, "::1", 8080, false, false, "http://[::1]:8080"},
        {kEngine, "[::1]", {}, false, false, "http://[::1]:9099"},
        {kEngine, "[FE80::1]", {}, false, true, "http://[fe80::1]"},
        {kEngine, "[FE80::1]", {}, false, false, "https://[fe80::1]"},
        // unusable input
        {kEngine, "", {}, false, false, std::nullopt},
        {kEngine, "   ", {}, false, false, std::nullopt},
        {kEngine, "bad host", {}, false, false, std::nullopt},
        {kEngine, "host:abc", {}, false, false, std::nullopt},
        {kEngine, "host:", {}, false, false, std::nullopt},
        {kEngine, "host:0", {}, false, false, std::nullopt},
        {kEngine, "host:65536", {}, false, false, std::nullopt},
        {kEngine, "host", 70000, false, false, std::nullopt},
        {kEngine, "ftp://host", {}, false, false, std::nullopt},
        {kEngine, "https://user:pw@host", {}, false, false, std::nullopt},
        {kEngine, "https://host/path?q=1", {}, false, false, std::nullopt},
        {kEngine, "[::1", {}, false, false, std::nullopt},
        {kEngine, "[zz]", {}, false, false, std::nullopt},
        {kEngine, "host\n.evil", {}, false, false, std::nullopt},

        // Cloud: the same rule; localhost's port is 8000, and the host is kept as given
        {kCloud, "https://cloud.arcade.dev/", {}, false, false, "https://cloud.arcade.dev"},
        {kCloud, "cloud.arcade.dev", {}, false, false, "https://cloud.arcade.dev"},
        {kCloud, "cloud.example.com", {}, false, false, "https://cloud.example.com"},
        {kCloud, "example.com:8443", {}, false, false, "https://example.com:8443"},
        {kCloud, "http://127.0.0.1:8123", {}, false, false, "http://127.0.0.1:8123"},
        {kCloud, "localhost", {}, false, false, "http://localhost:8000"},
        {kCloud, "http://localhost", {}, false, false, "http://localhost:8000"},
        {kCloud, "localhost", 7000, false, false, "http://localhost:7000"},
        {kCloud, "127.0.0.1", {}, false, false, "http://127.0.0.1:8000"},
        {kCloud, "localhost:9099", {}, false, false, "http://localhost:9099"},
        {kCloud, "127.0.0.1:9099", {}, false, false, "http://127.0.0.1:9099"},
        {kCloud, "[::1]:9099", {}, false, false, "http://[::1]:9099"},
        {kCloud, "localhost", {}, true, false, "https://localhost:8000"},
        {kCloud, "ftp://cloud.arcade.dev", {}, false, false, std::nullopt},

        // PostHog: the same rule, and no local default port
        {kPostHog, "https://us.i.posthog.com", {}, false, false, "https://us.i.posthog.com"},
        {kPostHog, "eu.i.posthog.com", {}, false, false, "https://eu.i.posthog.com"},
        {kPostHog, "http://127.0.0.1:4318/", {}, false, false, "http://127.0.0.1:4318"},
        {kPostHog, "127.0.0.1:4318", {}, false, false, "http://127.0.0.1:4318"},
        {kPostHog, "localhost", {}, false, false, "http://localhost"},
        {kPostHog, "https://user@posthog.example.com", {}, false, false, std::nullopt},
    }));

    EndpointRequest request;
    request.host = row.host;
    request.port = row.port;
    request.force_tls = row.tls;
    request.force_no_tls = row.no_tls;
    INFO(arcade::service_name(row.service) << ": host='" << row.host
                                           << "' port=" << (row.port ? std::to_string(*row.port) : "none")
                                           << " tls=" << row.tls << " no_tls=" << row.no_tls);
    CHECK(arcade::resolve_endpoint(row.service, request) == row.expected);
}

TEST_CASE("endpoints_from_env: the variables, or the defaults, always with a scheme", "[core]") {
    SECTION("defaults") {
        auto e = arcade::endpoints_from_env(Environ{});
        CHECK(e.cloud == "https://cloud.arcade.dev");
        CHECK(e.engine == "https://api.arcade.dev");
        CHECK(e.posthog == "https://us.i.posthog.com");
    }
    SECTION("an empty variable is unset") {
        auto e = arcade::endpoints_from_env(
            env_of({{"ARCADE_CLOUD_URL", ""}, {"ARCADE_ENGINE_URL", ""}, {"ARCADE_USAGE_POSTHOG_HOST", ""}}));
        CHECK(e.cloud == "https://cloud.arcade.dev");
        CHECK(e.engine == "https://api.arcade.dev");
        CHECK(e.posthog == "https://us.i.posthog.com");
    }
    SECTION("a bare host is https: a key is never sent in clear text to a host named without a scheme") {
        auto e = arcade::endpoints_from_env(env_of({{"ARCADE_CLOUD_URL", "cloud.example.com"},
                                                     {"ARCADE_ENGINE_URL", "engine.example.com:8443"},
                                                     {"ARCADE_USAGE_POSTHOG_HOST", "eu.i.posthog.com/"}}));
        CHECK(e.cloud == "https://cloud.example.com");
        CHECK(e.engine == "https://engine.example.com:8443");
        CHECK(e.posthog == "https://eu.i.posthog.com");
    }
    SECTION("a local Cloud is on one port, named with or without a scheme") {
        CHECK(arcade::endpoints_from_env(env_of({{"ARCADE_CLOUD_URL", "http://localhost"}})).cloud ==
              "http://localhost:8000");
        CHECK(arcade::endpoints_from_env(env_of({{"ARCADE_CLOUD_URL", "localhost"}})).cloud ==
              "http://localhost:8000");
    }
    SECTION("a value that cannot be a base URL leaves the field empty") {
        auto e = arcade::endpoints_from_env(
            env_of({{"ARCADE_CLOUD_URL", "ftp://x"}, {"ARCADE_USAGE_POSTHOG_HOST", "https://u:p@x"}}));
        CHECK(e.cloud.empty());
        CHECK(e.engine == "https://api.arcade.dev");
        CHECK(e.posthog.empty());
    }
}
