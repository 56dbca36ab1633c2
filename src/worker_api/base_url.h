#pragma once
// How `--host`/`--port`/`--tls`/`--no-tls` (or ARCADE_ENGINE_URL /
// ARCADE_CLOUD_URL) become a base URL. Pure functions; no I/O.
//
// Rules (the Python CLI's compute_base_url, made strict about bad input):
//  - `127.0.0.1` and `0.0.0.0` mean `localhost`;
//  - `--no-tls` wins over `--tls`; without either, a scheme in the host
//    decides, else TLS unless the host is `localhost`;
//  - `localhost` without a port gets `localhost_default_port` (9099);
//  - a host that already carries a port keeps it (`--port` is ignored);
//  - otherwise `--port` is appended when given.

#include <optional>
#include <string>

namespace arcade::worker_api {

struct HostOptions {
    // `host`, `host:port`, `[v6]`, `[v6]:port`, or `http(s)://host[:port][/prefix]`.
    std::string host;
    std::optional<int> port;
    bool force_tls = false;
    bool force_no_tls = false;
};

inline constexpr int kLocalEngineDefaultPort = 9099;

// The base URL (no trailing slash), or nullopt when `opts.host` is empty,
// contains characters no host can have, has a non-http(s) scheme or user
// info, or carries a port outside 1..65535.
std::optional<std::string> resolve_base_url(const HostOptions& opts,
                                            std::optional<int> localhost_default_port = kLocalEngineDefaultPort);

}  // namespace arcade::worker_api
