#pragma once
// Where arcade's three remote services are: one rule that turns a host or URL
// (a command-line flag, or ARCADE_CLOUD_URL / ARCADE_ENGINE_URL /
// ARCADE_USAGE_POSTHOG_HOST) into a base URL, used by every command and by
// the shipper. Pure functions; no I/O.
//
// The rule (the Python CLI's compute_base_url, made strict about bad input):
//  - the result always has a scheme: `--no-tls` wins over `--tls`; without
//    either, a scheme in the host decides, else https unless the host is
//    loopback (`localhost`, `127.0.0.1`, `0.0.0.0`, `::1`);
//  - a loopback host without a port gets its service's local default port:
//    the Engine 9099, the Cloud 8000 (what the Python CLI's `arcade login`
//    gives `localhost`), PostHog none;
//  - a host that already carries a port keeps it (`--port` is ignored);
//    otherwise `--port` is appended when given;
//  - the Engine's `127.0.0.1` and `0.0.0.0` are written `localhost`, as the
//    Python CLI writes Engine URLs; the Cloud and PostHog keep the host as
//    given (the Cloud's URL goes to the browser and into credentials).

#include <optional>
#include <string>
#include <string_view>

#include "core/environ.h"

namespace arcade {

enum class Service { cloud, engine, posthog };

// What a command asked for. `host` is `host`, `host:port`, `[v6]`,
// `[v6]:port`, or `http(s)://host[:port][/prefix]`.
struct EndpointRequest {
    std::string host;
    std::optional<int> port;
    bool force_tls = false;
    bool force_no_tls = false;
};

inline constexpr int kLocalEngineDefaultPort = 9099;
inline constexpr int kLocalCloudDefaultPort = 8000;

// "Arcade Cloud", "Arcade Engine", "PostHog": the service's name in messages.
std::string_view service_name(Service service);

// The service's environment variable (ARCADE_CLOUD_URL, ...).
std::string_view service_variable(Service service);

// The service's variable when set and non-empty, else its default
// (https://cloud.arcade.dev, https://api.arcade.dev, https://us.i.posthog.com).
std::string configured_host(Service service, const Environ& env);

// The base URL (scheme, no trailing slash) for `request`, or nullopt when its
// host is empty, contains characters no host can have, has a non-http(s)
// scheme, user info, a query or fragment, or a port outside 1..65535.
std::optional<std::string> resolve_endpoint(Service service, const EndpointRequest& request);

// The three base URLs as the environment sets them, built once per process.
// A field is empty when its variable holds something that cannot be a base
// URL: requests to it then fail in the transport, never go elsewhere.
struct Endpoints {
    std::string cloud;
    std::string engine;
    std::string posthog;
};

Endpoints endpoints_from_env(const Environ& env);

}  // namespace arcade
