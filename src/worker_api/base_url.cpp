#include "worker_api/base_url.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string_view>

namespace arcade::worker_api {

namespace {

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

}  // namespace

std::optional<std::string> resolve_base_url(const HostOptions& opts, std::optional<int> localhost_default_port) {
    std::string_view rest = trim(opts.host);
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
        host = fmt::format("[{}]", ascii_lower(authority));
    } else {
        auto colon = authority.find(':');
        std::string_view name = authority.substr(0, colon);
        if (!valid_name(name)) return std::nullopt;
        host = ascii_lower(name);
        if (colon != std::string_view::npos && !(host_port = parse_port(authority.substr(colon + 1))))
            return std::nullopt;
    }

    if (host == "127.0.0.1" || host == "0.0.0.0") host = "localhost";
    const bool is_localhost = host == "localhost";

    bool tls = false;
    if (opts.force_no_tls)
        tls = false;
    else if (opts.force_tls)
        tls = true;
    else if (scheme_tls)
        tls = *scheme_tls;
    else
        tls = !is_localhost;

    std::optional<int> port = host_port;
    if (!port && opts.port) {
        if (!valid_port(*opts.port)) return std::nullopt;
        port = opts.port;
    }
    if (!port && is_localhost) port = localhost_default_port;

    std::string url = fmt::format("{}://{}", tls ? "https" : "http", host);
    if (port) url += fmt::format(":{}", *port);
    url += path;
    return url;
}

}  // namespace arcade::worker_api
