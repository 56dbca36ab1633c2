#include "core/endpoints.h"

#include <algorithm>
#include <charconv>

namespace arcade {

namespace {

// What differs between the services; everything else is one rule.
struct ServiceRule {
    std::string_view name;
    std::string_view variable;
    std::string_view default_url;
    std::optional<int> loopback_port;
    bool loopback_written_localhost;
};

ServiceRule rule_for(Service service) {
    switch (service) {
        case Service::cloud:
            return {"Arcade Cloud", "ARCADE_CLOUD_URL", "https://cloud.arcade.dev", kLocalCloudDefaultPort, false};
        case Service::engine:
            return {"Arcade Engine", "ARCADE_ENGINE_URL", "https://api.arcade.dev", kLocalEngineDefaultPort, true};
        case Service::posthog:
            return {"PostHog", "ARCADE_USAGE_POSTHOG_HOST", "https://us.i.posthog.com", std::nullopt, false};
    }
    return {};
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
    });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool valid_port(int port) { return port >= 1 && port <= 65535; }

std::optional<int> parse_port(std::string_view digits) {
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    int value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || !valid_port(value)) return std::nullopt;
    return value;
}

// Registered names (letters, digits, `-`, `.`, `_`; non-ASCII for IDNs that
// the transport encodes) and IPv4 literals.
bool valid_name(std::string_view host) {
    if (host.empty()) return false;
    return std::all_of(host.begin(), host.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c >= 0x80;
    });
}

bool valid_ipv6(std::string_view inner) {
    if (inner.empty()) return false;
    return std::all_of(inner.begin(), inner.end(), [](unsigned char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    });
}

bool valid_path(std::string_view path) {
    return std::all_of(path.begin(), path.end(), [](unsigned char c) {
        return c > 0x20 && c != 0x7f && c != '?' && c != '#' && c != '\\';
    });
}

// `host` as written in a URL (lower case, IPv6 in brackets).
bool is_loopback(std::string_view host) {
    return host == "localhost" || host == "127.0.0.1" || host == "0.0.0.0" || host == "[::1]";
}

}  // namespace

std::string_view service_name(Service service) { return rule_for(service).name; }

std::string_view service_variable(Service service) { return rule_for(service).variable; }

std::string configured_host(Service service, const Environ& env) {
    const ServiceRule rule = rule_for(service);
    return env.get_or(rule.variable, rule.default_url);
}

std::optional<std::string> resolve_endpoint(Service service, const EndpointRequest& request) {
    const ServiceRule rule = rule_for(service);
    std::string_view rest = trim(request.host);
    if (rest.empty()) return std::nullopt;

    std::optional<bool> scheme_tls;
    if (auto sep = rest.find("://"); sep != std::string_view::npos) {
        std::string scheme = ascii_lower(rest.substr(0, sep));
        if (scheme == "https")
            scheme_tls = true;
        else if (scheme == "http")
            scheme_tls = false;
        else
            return std::nullopt;
        rest.remove_prefix(sep + 3);
    }

    std::string_view authority = rest;
    std::string_view path;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        authority = rest.substr(0, slash);
        path = rest.substr(slash);
        while (!path.empty() && path.back() == '/') path.remove_suffix(1);
        if (!valid_path(path)) return std::nullopt;
    }
    if (authority.find('@') != std::string_view::npos) return std::nullopt;

    std::string host;
    std::optional<int> host_port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos || !valid_ipv6(authority.substr(1, close - 1))) return std::nullopt;
        host = ascii_lower(authority.substr(0, close + 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':' || !(host_port = parse_port(after.substr(1)))) return std::nullopt;
        }
    } else if (std::count(authority.begin(), authority.end(), ':') > 1) {
        // A bare IPv6 literal such as `::1`: it cannot carry a port.
        if (!valid_ipv6(authority)) return std::nullopt;
        host = "[" + ascii_lower(authority) + "]";
    } else {
        auto colon = authority.find(':');
        std::string_view name = authority.substr(0, colon);
        if (!valid_name(name)) return std::nullopt;
        host = ascii_lower(name);
        if (colon != std::string_view::npos && !(host_port = parse_port(authority.substr(colon + 1))))
            return std::nullopt;
    }

    const bool loopback = is_loopback(host);
    if (loopback && rule.loopback_written_localhost && host != "[::1]") host = "localhost";

    bool tls = false;
    if (request.force_no_tls)
        tls = false;
    else if (request.force_tls)
        tls = true;
    else if (scheme_tls)
        tls = *scheme_tls;
    else
        tls = !loopback;

    std::optional<int> port = host_port;
    if (!port && request.port) {
        if (!valid_port(*request.port)) return std::nullopt;
        port = request.port;
    }
    if (!port && loopback) port = rule.loopback_port;

    std::string url = (tls ? "https://" : "http://") + host;
    if (port) url += ":" + std::to_string(*port);
    url += path;
    return url;
}

Endpoints endpoints_from_env(const Environ& env) {
    auto resolve = [&](Service service) {
        return resolve_endpoint(service, EndpointRequest{configured_host(service, env), {}, false, false})
            .value_or(std::string());
    };
    return Endpoints{resolve(Service::cloud), resolve(Service::engine), resolve(Service::posthog)};
}

}  // namespace arcade
