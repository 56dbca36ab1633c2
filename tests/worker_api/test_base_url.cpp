#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "worker_api/base_url.h"

using arcade::worker_api::HostOptions;
using arcade::worker_api::resolve_base_url;

namespace {

struct Row {
    const char* host;
    std::optional<int> port;
    bool tls;
    bool no_tls;
    std::optional<std::string> expected;
};

}  // namespace

TEST_CASE("resolve_base_url follows the Engine host rules", "[worker_api]") {
    auto row = GENERATE(values<Row>({
        // localhost aliases, default dev port, plain HTTP
        {"localhost", {}, false, false, "http://localhost:9099"},
        {"127.0.0.1", {}, false, false, "http://localhost:9099"},
        {"0.0.0.0", {}, false, false, "http://localhost:9099"},
        {"LocalHost", {}, false, false, "http://localhost:9099"},
        {"0.0.0.0", 8000, false, false, "http://localhost:8000"},
        {"localhost", {}, true, false, "https://localhost:9099"},
        // --no-tls wins over --tls
        {"localhost", {}, true, true, "http://localhost:9099"},
        {"api.arcade.dev", {}, true, true, "http://api.arcade.dev"},
        // TLS unless localhost
        {"api.arcade.dev", {}, false, false, "https://api.arcade.dev"},
        {"api.arcade.dev", {}, false, true, "http://api.arcade.dev"},
        {"api.arcade.dev", 8443, false, false, "https://api.arcade.dev:8443"},
        {"my_engine", {}, false, false, "https://my_engine"},
        {"10.1.2.3", 80, false, false, "https://10.1.2.3:80"},
        // a host that carries a port keeps it
        {"localhost:8080", {}, false, false, "http://localhost:8080"},
        {"localhost:8080", 9, false, false, "http://localhost:8080"},
        {"127.0.0.1:5000", {}, false, false, "http://localhost:5000"},
        {"example.com:444", 1, false, false, "https://example.com:444"},
        // URLs (ARCADE_ENGINE_URL): the scheme decides unless a flag is given
        {"https://api.arcade.dev", {}, false, false, "https://api.arcade.dev"},
        {"https://api.arcade.dev/", {}, false, false, "https://api.arcade.dev"},
        {"HTTP://engine.internal", {}, false, false, "http://engine.internal"},
        {"http://engine.internal", {}, true, false, "https://engine.internal"},
        {"https://localhost", {}, false, true, "http://localhost:9099"},
        {"http://127.0.0.1:5000", {}, false, false, "http://localhost:5000"},
        {"https://example.com/prefix//", {}, false, false, "https://example.com/prefix"},
        {"https://example.com:8443/api", 1, false, false, "https://example.com:8443/api"},
        {"  api.arcade.dev  ", {}, false, false, "https://api.arcade.dev"},
        // IPv6
        {"[::1]:8080", {}, false, false, "https://[::1]:8080"},
        {"::1", 8080, false, false, "https://[::1]:8080"},
        {"[FE80::1]", {}, false, true, "http://[fe80::1]"},
        // unusable input
        {"", {}, false, false, std::nullopt},
        {"   ", {}, false, false, std::nullopt},
        {"bad host", {}, false, false, std::nullopt},
        {"host:abc", {}, false, false, std::nullopt},
        {"host:", {}, false, false, std::nullopt},
        {"host:0", {}, false, false, std::nullopt},
        {"host:65536", {}, false, false, std::nullopt},
        {"host", 70000, false, false, std::nullopt},
        {"ftp://host", {}, false, false, std::nullopt},
        {"https://user:pw@host", {}, false, false, std::nullopt},
        {"https://host/path?q=1", {}, false, false, std::nullopt},
        {"[::1", {}, false, false, std::nullopt},
        {"[zz]", {}, false, false, std::nullopt},
        {"host\n.evil", {}, false, false, std::nullopt},
    }));

    HostOptions opts;
    opts.host = row.host;
    opts.port = row.port;
    opts.force_tls = row.tls;
    opts.force_no_tls = row.no_tls;
    INFO("host='" << row.host << "' port=" << (row.port ? std::to_string(*row.port) : "none") << " tls=" << row.tls
                  << " no_tls=" << row.no_tls);
    CHECK(resolve_base_url(opts) == row.expected);
}

TEST_CASE("resolve_base_url can leave localhost without a default port", "[worker_api]") {
    HostOptions opts;
    opts.host = "localhost";
    CHECK(resolve_base_url(opts, std::nullopt) == "http://localhost");
    opts.port = 7000;
    CHECK(resolve_base_url(opts, std::nullopt) == "http://localhost:7000");
}
