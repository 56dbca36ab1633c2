#pragma once
// The HTTP seam: every network call in arcade goes through Transport::send or
// Transport::stream. The real implementation (curl_transport.cpp, over the
// entry-point table in curl_api.h) is where libcurl is spoken; nothing
// outside src/http includes it. Tests hand in fakes or talk to loopback
// servers. A Transport is used from one thread at a time.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcade::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The most body bytes send() reads of an answer by default: far beyond any
// API answer arcade expects, far below what would strain memory (SPEC §7:
// server answers are bounded in size).
inline constexpr std::size_t kMaxResponseBody = 16 * 1024 * 1024;
// The most header bytes of one answer (all header lines together).
inline constexpr std::size_t kMaxResponseHeaders = 256 * 1024;

struct Request {
    std::string method = "GET";
    std::string url;
    Headers headers;
    std::string body;
    // Whole-request limit; zero means none (streams).
    std::chrono::milliseconds timeout{5000};
    std::chrono::milliseconds connect_timeout{5000};
    // send(): an answer whose body grows past this is abandoned, with
    // Failure::other and an error that says so. stream() hands bytes on and
    // keeps none, so it has no such bound.
    std::size_t max_body_bytes = kMaxResponseBody;
    // When set and true, the transfer is abandoned as soon as possible.
    const std::atomic<bool>* cancel = nullptr;
};

enum class Failure { none, connect, timeout, reset, cancelled, other };

struct Response {
    int status = 0;    // 0 when no HTTP status was received
    Headers headers;   // names lower-cased, in arrival order
    std::string body;  // empty for stream()
    Failure failure = Failure::none;
    std::string error;  // human-readable transport failure, empty on success

    bool ok() const { return status >= 200 && status < 300; }
    bool transport_failed() const { return failure != Failure::none; }
    std::optional<std::string> header(std::string_view lower_name) const;
};

// Receives body bytes as they arrive; return false to stop the transfer.
using ChunkSink = std::function<bool(std::string_view)>;

class Transport {
public:
    virtual ~Transport() = default;
    // Performs `req` and returns what happened; never throws.
    virtual Response send(const Request& req) = 0;
    // Like send, but hands the body to `sink` piece by piece (server-sent
    // events); Response::body stays empty. Never throws.
    virtual Response stream(const Request& req, const ChunkSink& sink) = 0;
};

// "arcade-cli/<version>": the User-Agent of every request arcade makes (SPEC §5).
std::string user_agent();

// The libcurl transport: TLS verification always on, http and https only, and
// a URL without a scheme is https. `user_agent` is sent on every request.
std::unique_ptr<Transport> make_curl_transport(std::string user_agent = http::user_agent());

}  // namespace arcade::http
