#include "cli/login_callback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/random_token.h"
#include "core/url_codec.h"
#include "core/utf8.h"
#include "http/status.h"

namespace arcade::cli::auth {

// ---------------------------------------------------------------------------
// Pure pieces of the protocol

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Every byte of the longer input is visited and folded into one
    // accumulator, so the time taken says nothing about the first difference.
    const std::size_t n = std::max(a.size(), b.size());
    std::size_t diff = a.size() ^ b.size();
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<std::size_t>(x ^ y);
    }
    return diff == 0;
}

std::string callback_uri(int port) { return fmt::format("http://{}:{}/callback", kLoopbackHost, port); }

std::string login_url(std::string_view cloud_base, std::string_view callback, std::string_view state) {
    return fmt::format("{}/api/v1/auth/cli_login?callback_uri={}&state={}", cloud_base, percent_encode(callback),
                       percent_encode(state));
}

std::optional<std::string> random_state() { return random_urlsafe(32); }

std::optional<RequestLine> parse_request_line(std::string_view head) {
    std::string_view line = head.substr(0, head.find('\n'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return std::nullopt;
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return std::nullopt;
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) return std::nullopt;
    if (target.front() != '/') return std::nullopt;
    if (!std::all_of(target.begin(), target.end(), [](char c) {
            auto u = static_cast<unsigned char>(c);
            return u > 0x20 && u != 0x7F;
        }))
        return std::nullopt;
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/") return std::nullopt;
    RequestLine out;
    out.method = std::string(method);
    out.target = std::string(target);
    auto q = target.find('?');
    out.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
    return out;
}

CallbackVerdict judge_callback(const RequestLine& request, std::string_view expected_state, Flow flow) {
    using Outcome = CallbackVerdict::Outcome;
    CallbackVerdict v;
    if (request.path != "/callback") return v;
    if (request.method != "GET") {
        v.outcome = Outcome::bad_method;
        return v;
    }
    auto params = parse_query(request.query);
    auto state = params.find("state");
    // The state is checked before anything else, so a request that does not
    // know it learns nothing about what else would have been accepted.
    if (state == params.end() || expected_state.empty() || !constant_time_equal(state->second, expected_state)) {
        v.outcome = Outcome::wrong_state;
        return v;
    }
    if (flow == Flow::oauth) {
        // RFC 6749 §4.1.2.1: an `error` ends the login; its description is
        // the better message when it can be shown.
        auto error = params.find("error");
        if (error != params.end()) {
            auto description = params.find("error_description");
            if (description != params.end() && !description->second.empty() && is_valid_utf8(description->second))
                v.error = description->second;
            else if (is_valid_utf8(error->second))
                v.error = error->second;
            if (v.error.empty()) v.error = "unknown error";
            v.outcome = Outcome::denied;
            return v;
        }
        auto code = params.find("code");
        if (code == params.end() || code->second.empty() || !usable_credential_text(code->second)) {
            v.missing = "code";
            v.outcome = Outcome::missing_fields;
            return v;
        }
        v.code = code->second;
        v.outcome = Outcome::ok;
        return v;
    }
    // A key or e-mail that could not be stored and read back as it came
    // (ill-formed UTF-8, control characters) counts as missing.
    auto field = [&](const char* name) {
        auto it = params.find(name);
        return it == params.end() || !usable_credential_text(it->second) ? std::string() : it->second;
    };
    v.credentials.api_key = field("api_key");
    v.credentials.email = field("email");
    auto warning = params.find("warning");
    if (warning != params.end() && is_valid_utf8(warning->second)) v.warning = warning->second;
    if (v.credentials.api_key.empty() && v.credentials.email.empty()) v.missing = "api_key and email";
    else if (v.credentials.api_key.empty()) v.missing = "api_key";
    else if (v.credentials.email.empty()) v.missing = "email";
    if (!v.missing.empty()) {
        v.credentials = {};
        v.outcome = Outcome::missing_fields;
        return v;
    }
    v.outcome = Outcome::ok;
    return v;
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string html_page(const std::string& title, const std::string& message_html) {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
           "</title></head>\n<body style=\"font-family: sans-serif; margin: 4em auto; max-width: 40em\">\n<h1>" +
           title + "</h1>\n<p>" + message_html + "</p>\n</body></html>\n";
}

// ---------------------------------------------------------------------------
// The one-shot server

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxRequestHead = 16 * 1024;
// Browsers open speculative connections that may never carry a request; a
// few are kept so they cannot starve the real one.
constexpr std::size_t kMaxConnections = 16;

// Writes all of `data` within `limit`; a client that does not read only
// costs it its page.
void send_all(int fd, std::string_view data, std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return;
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, static_cast<int>(left));
            continue;
        }
        return;
    }
}

void respond(int fd, int status, const std::string& html) {
    std::string response = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n"
        "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        status, http::reason_phrase(status), html.size());
    response += html;
    send_all(fd, response, std::chrono::milliseconds(2000));
    ::shutdown(fd, SHUT_WR);
}

}  // namespace

CallbackServer::CallbackServer(UniqueFd listener) : listener_(std::move(listener)) {}

std::optional<CallbackServer> CallbackServer::bind_loopback(int port, int& error) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) {
        error = errno;
        return std::nullopt;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 16) != 0) {
        error = errno;
        return std::nullopt;
    }
    return CallbackServer(std::move(fd));
}

CallbackWait CallbackServer::wait(std::string_view expected_state, Clock::time_point deadline,
                                  const std::atomic<bool>& interrupted, const OnAccepted& on_accepted, Flow flow) {
    CallbackWait out;
    for (;;) {
        if (interrupted.load()) {
            out.status = CallbackWait::Status::interrupted;
            return out;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            out.status = CallbackWait::Status::timed_out;
            return out;
        }
        std::vector<pollfd> fds;
        fds.push_back({listener_.get(), POLLIN, 0});
        for (const auto& c : conns_) fds.push_back({c.fd.get(), POLLIN, 0});
        // Short slices, so Ctrl-C is noticed even if the signal lands
        // between the check above and poll().
        int rc = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left, 200)));
        if (rc < 0) {
            if (errno == EINTR) continue;
            out.error = std::strerror(errno);
            return out;
        }
        if (rc == 0) continue;
        // Connections first (their indices match fds[1..]); new ones after.
        std::vector<std::size_t> finished;
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            if (fds[i + 1].revents == 0) continue;
            switch (read_request(conns_[i])) {
                case Read::more: break;
                case Read::closed: finished.push_back(i); break;
                case Read::complete: {
                    finished.push_back(i);
                    if (handle(conns_[i], expected_state, flow, on_accepted, out)) return out;
                    break;
                }
            }
        }
        for (auto it = finished.rbegin(); it != finished.rend(); ++it)
            conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(*it));
        if (fds[0].revents & POLLIN) accept_all();
    }
}

void CallbackServer::accept_all() {
    for (;;) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;  // EAGAIN, or a transient error: poll will tell again
        if (conns_.size() >= kMaxConnections) conns_.pop_front();  // the oldest is the likeliest idle one
        conns_.push_back(Connection{UniqueFd(fd), {}});
    }
}

CallbackServer::Read CallbackServer::read_request(Connection& c) {
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
        if (n > 0) {
            c.head.append(buf, static_cast<std::size_t>(n));
            if (c.head.find("\r\n\r\n") != std::string::npos || c.head.find("\n\n") != std::string::npos)
                return Read::complete;
            if (c.head.size() > kMaxRequestHead) {
                respond(c.fd.get(), 431, html_page("Request too large", "The request was too large."));
                return Read::closed;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Read::more;
        return Read::closed;
    }
}

bool CallbackServer::handle(Connection& c, std::string_view expected_state, Flow flow, const OnAccepted& on_accepted,
                            CallbackWait& out) {
    using Outcome = CallbackVerdict::Outcome;
    auto line = parse_request_line(c.head);
    if (!line) {
        respond(c.fd.get(), 400, html_page("Bad request", "This server only receives the Arcade CLI login."));
        return false;
    }
    CallbackVerdict verdict = judge_callback(*line, expected_state, flow);
    switch (verdict.outcome) {
        case Outcome::not_callback:
            respond(c.fd.get(), 404, html_page("Not found", "This server only receives the Arcade CLI login."));
            return false;
        case Outcome::bad_method:
            respond(c.fd.get(), 405, html_page("Method not allowed", "The login callback must be a GET request."));
            return false;
        case Outcome::wrong_state:
            // Ignored: anyone on this machine can reach the port, and only the
            // browser that carries the state may end the login.
            respond(c.fd.get(), 400,
                    html_page("Not this login",
                              "This answer does not belong to the waiting <code>arcade login</code> "
                              "(its state does not match), so it was ignored."));
            ++out.ignored;
            return false;
        case Outcome::denied:
            respond(c.fd.get(), 400,
                    html_page("Login failed", "Arcade Cloud refused the login: " + html_escape(verdict.error) +
                                                  ". Run <code>arcade login</code> again."));
            break;
        case Outcome::missing_fields:
            respond(c.fd.get(), 400,
                    html_page("Login failed", "Arcade Cloud did not send " + html_escape(verdict.missing) +
                                                  ". Run <code>arcade login</code> again."));
            break;
        case Outcome::ok: {
            auto [status, page] = on_accepted(verdict);
            respond(c.fd.get(), status, page);
            break;
        }
    }
    out.status = CallbackWait::Status::judged;
    out.verdict = std::move(verdict);
    return true;
}

}  // namespace arcade::cli::auth
