#include "cli/auth_commands.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <ostream>
#include <utility>
#include <vector>

#include "cli/tracking.h"
#include "core/build_info.h"
#include "core/credentials.h"
#include "core/endpoints.h"
#include "core/files.h"
#include "core/spawn.h"
#include "core/utf8.h"
#include "http/transport.h"
#include "shipper/identity_link.h"
#include "store/journal.h"

namespace arcade::cli {

// ---------------------------------------------------------------------------
// Pure pieces of the callback protocol

namespace auth {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

}  // namespace

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::string percent_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c)) {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0F];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
    std::map<std::string, std::string> out;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        std::string key = percent_decode(part.substr(0, eq));
        std::string value = eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1));
        out.emplace(std::move(key), std::move(value));  // emplace keeps the first occurrence
    }
    return out;
}

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

std::string callback_uri(std::string_view host, int port) {
    return fmt::format("http://{}:{}/callback", host, port);
}

std::string login_url(std::string_view cloud_base, std::string_view callback, std::string_view state) {
    return fmt::format("{}/api/v1/auth/cli_login?callback_uri={}&state={}", cloud_base, percent_encode(callback),
                       percent_encode(state));
}

std::optional<std::string> random_state() {
    unsigned char bytes[32];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t r = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;  // no weaker fallback: the state is the login's only secret
        }
        got += static_cast<std::size_t>(r);
    }
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 0x3F];
        }
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
    return out;
}

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

CallbackVerdict judge_callback(const RequestLine& request, std::string_view expected_state) {
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

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7F) {
            out += '?';
        } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
            out += '?';  // a C1 control (U+0080..U+009F) in UTF-8, which some terminals obey
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
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

}  // namespace auth

// ---------------------------------------------------------------------------
// The one-shot callback server

namespace {

using Clock = std::chrono::steady_clock;
using auth::CallbackVerdict;

constexpr int kInterruptedExit = 130;
constexpr std::size_t kMaxRequestHead = 16 * 1024;
// Browsers open speculative connections that may never carry a request; a
// few are kept so they cannot starve the real one.
constexpr std::size_t kMaxConnections = 16;

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

std::string html_page(const std::string& title, const std::string& message_html) {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
           "</title></head>\n<body style=\"font-family: sans-serif; margin: 4em auto; max-width: 40em\">\n<h1>" +
           title + "</h1>\n<p>" + message_html + "</p>\n</body></html>\n";
}

const char* reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 431: return "Request Header Fields Too Large";
        default: return "Error";
    }
}

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
        status, reason_phrase(status), html.size());
    response += html;
    send_all(fd, response, std::chrono::milliseconds(2000));
    ::shutdown(fd, SHUT_WR);
}

// What waiting for the browser ended with.
struct CallbackWait {
    enum class Status { judged, timed_out, interrupted, failed } status = Status::failed;
    CallbackVerdict verdict;  // when judged: ok, wrong_state or missing_fields
    std::string error;        // when failed
};

// A listening socket on 127.0.0.1 that serves until one /callback request
// has been judged. Owns its sockets; used from one thread.
class CallbackServer {
public:
    // Binds 127.0.0.1:`port` (loopback only: the callback carries the API
    // key). On failure returns nullopt and sets `error` to the errno.
    static std::optional<CallbackServer> bind_loopback(int port, int& error) {
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

    // Serves requests until a /callback request is judged, `deadline`
    // passes or `interrupted` is set. Other paths get a 404 and waiting goes
    // on. For an accepted callback, `on_accepted` does the work (saving the
    // credentials) and returns the page to answer; it may change the verdict.
    CallbackWait wait(std::string_view expected_state, Clock::time_point deadline,
                      const std::atomic<bool>& interrupted,
                      const std::function<std::pair<int, std::string>(CallbackVerdict&)>& on_accepted) {
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
                        if (handle(conns_[i], expected_state, on_accepted, out)) return out;
                        break;
                    }
                }
            }
            for (auto it = finished.rbegin(); it != finished.rend(); ++it)
                conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(*it));
            if (fds[0].revents & POLLIN) accept_all();
        }
    }

private:
    struct Connection {
        UniqueFd fd;
        std::string head;
    };
    enum class Read { more, complete, closed };

    explicit CallbackServer(UniqueFd listener) : listener_(std::move(listener)) {}

    void accept_all() {
        for (;;) {
            int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) return;  // EAGAIN, or a transient error: poll will tell again
            if (conns_.size() >= kMaxConnections) conns_.pop_front();  // the oldest is the likeliest idle one
            conns_.push_back(Connection{UniqueFd(fd), {}});
        }
    }

    static Read read_request(Connection& c) {
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

    // Answers one complete request; true when it decided the login.
    static bool handle(Connection& c, std::string_view expected_state,
                       const std::function<std::pair<int, std::string>(CallbackVerdict&)>& on_accepted,
                       CallbackWait& out) {
        using Outcome = CallbackVerdict::Outcome;
        auto line = auth::parse_request_line(c.head);
        if (!line) {
            respond(c.fd.get(), 400, html_page("Bad request", "This server only receives the Arcade CLI login."));
            return false;
        }
        CallbackVerdict verdict = auth::judge_callback(*line, expected_state);
        switch (verdict.outcome) {
            case Outcome::not_callback:
                respond(c.fd.get(), 404, html_page("Not found", "This server only receives the Arcade CLI login."));
                return false;
            case Outcome::bad_method:
                respond(c.fd.get(), 405, html_page("Method not allowed", "The login callback must be a GET request."));
                return false;
            case Outcome::wrong_state:
                respond(c.fd.get(), 400,
                        html_page("Login failed",
                                  "This login link does not belong to the waiting <code>arcade login</code> "
                                  "(its state does not match). Run <code>arcade login</code> again."));
                break;
            case Outcome::missing_fields:
                respond(c.fd.get(), 400,
                        html_page("Login failed", "Arcade Cloud did not send " + auth::html_escape(verdict.missing) +
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

    UniqueFd listener_;
    std::deque<Connection> conns_;
};

// ---------------------------------------------------------------------------
// Opening the browser

// `program` as an executable path: itself when it has a slash, else the
// first match on `search_path`.
std::optional<std::string> find_program(const std::string& program, const std::string& search_path) {
    if (program.empty()) return std::nullopt;
    if (program.find('/') != std::string::npos)
        return ::access(program.c_str(), X_OK) == 0 ? std::optional(program) : std::nullopt;
    std::string_view rest = search_path;
    while (true) {
        auto colon = rest.find(':');
        std::string dir(rest.substr(0, colon));
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) return std::nullopt;
        rest = rest.substr(colon + 1);
    }
}

// Starts `argv` detached, never becoming our zombie although login goes on.
bool launch_detached(const std::vector<std::string>& argv) {
    if (argv.empty()) return false;
    return spawn_detached(argv[0], std::vector<std::string>(argv.begin() + 1, argv.end()), Reap::by_init);
}

// Opens `url` like Python's webbrowser module: each `:`-separated entry of
// $BROWSER is a command (`%s` stands for the URL, else it is appended), the
// first one found is started; without one, xdg-open. Failing to open is not
// an error: the URL has been printed. Returns whether something was started.
bool open_browser(const Environ& env, const std::string& url) {
    std::string search_path = env.get_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    std::vector<std::vector<std::string>> commands;
    std::string browsers = env.get_or("BROWSER", "");
    std::string_view rest = browsers;
    while (!rest.empty()) {
        auto colon = rest.find(':');
        std::string_view entry = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        std::vector<std::string> words;
        std::size_t i = 0;
        while (i < entry.size()) {
            while (i < entry.size() && entry[i] == ' ') ++i;
            std::size_t j = entry.find(' ', i);
            if (j == std::string_view::npos) j = entry.size();
            if (j > i) words.emplace_back(entry.substr(i, j - i));
            i = j;
        }
        if (words.empty()) continue;
        bool substituted = false;
        for (auto& w : words) {
            for (std::size_t at = w.find("%s"); at != std::string::npos; at = w.find("%s", at + url.size())) {
                w.replace(at, 2, url);
                substituted = true;
            }
        }
        if (!substituted) words.push_back(url);
        commands.push_back(std::move(words));
    }
    commands.push_back({"xdg-open", url});
    for (auto& command : commands) {
        auto program = find_program(command[0], search_path);
        if (!program) continue;
        command[0] = *program;
        if (launch_detached(command)) return true;
    }
    return false;
}

// ---------------------------------------------------------------------------
// Identity at login (SPEC §4)

// Links this machine's anonymous id to the principal behind `api_key`, so
// the journal holds `linked` and the `$create_alias` row before login's own
// event. Telemetry only: every failure is swallowed, and nothing happens
// when tracking is off. A failed lookup leaves the link to the shipper (the
// wrapper marks login's event as needing an identity).
void link_identity(Context& ctx, const std::string& cloud_url, const std::string& api_key) noexcept {
    try {
        auto journal = open_tracking_journal(ctx.env(), ctx.paths());
        if (!journal) return;
        const std::optional<store::Identity> asked_for = journal->identity();
        auto transport = http::make_curl_transport(std::string(build::kLibName) + "/" + build::kVersion);
        auto found = shipper::lookup_principal(*transport, cloud_url, api_key, std::chrono::milliseconds(2000));
        if (found.outcome != shipper::PrincipalLookup::Outcome::found) return;
        const std::string principal = found.principal_id;
        auto current = journal->identity();
        // A logout elsewhere rotated the identity while Cloud answered: the
        // new anonymous id belongs to whoever comes next, never to this
        // principal (link() re-checks this inside its transaction).
        if (asked_for && current && current->anon_id != asked_for->anon_id) return;
        // Still linked to someone else (their credentials were removed by
        // hand, not by `arcade logout`): start from a fresh anonymous id so
        // this user is never stitched to the previous user's history.
        std::optional<std::string> expected = current ? std::optional<std::string>(current->anon_id) : std::nullopt;
        if (current && current->principal_id && *current->principal_id != principal) expected = journal->rotate().anon_id;
        journal->link(
            principal, [&](const store::Identity& before) { return shipper::alias_properties(before.anon_id, principal); },
            expected);
    } catch (...) {
    }
}

// ---------------------------------------------------------------------------
// The commands

struct LoginOptions {
    std::string host;  // empty: ARCADE_CLOUD_URL or Arcade Cloud
    int port = auth::kDefaultCallbackPort;
    std::string callback_host = "localhost";
    int timeout_s = auth::kDefaultTimeoutSeconds;
};

bool valid_callback_host(const std::string& host) {
    return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '[' || c == ']' ||
                      c == ':';
           });
}

int run_login(Context& ctx, const LoginOptions& opt) {
    if (!ctx.paths())
        return ctx.fail("Cannot tell where to keep credentials: set HOME or ARCADE_WORK_DIR.");
    const auto creds_path = ctx.paths()->credentials();
    if (auto existing = load_credentials(creds_path)) {
        if (existing->email.empty()) ctx.out() << "Already logged in.\n";
        else ctx.out() << "Already logged in as " << auth::printable(existing->email) << ".\n";
        return 0;
    }
    if (opt.port < 1 || opt.port > 65535) return ctx.fail(fmt::format("Invalid --port {}: use 1 to 65535.", opt.port));
    if (opt.timeout_s < 1) return ctx.fail(fmt::format("Invalid --timeout {}: use a number of seconds above 0.", opt.timeout_s));
    if (!valid_callback_host(opt.callback_host))
        return ctx.fail(fmt::format("Invalid --callback-host '{}': use a host name or address.",
                                    auth::printable(opt.callback_host)));
    EndpointRequest asked;
    asked.host = opt.host;
    const std::string cloud =
        opt.host.empty() ? endpoints_from_env(ctx.env()).cloud : resolve_endpoint(Service::cloud, asked).value_or("");
    if (cloud.empty())
        return ctx.fail(fmt::format("Invalid Arcade Cloud host: '{}'",
                                    auth::printable(opt.host.empty() ? configured_host(Service::cloud, ctx.env())
                                                                     : opt.host)));

    auto state = auth::random_state();
    if (!state) return ctx.fail("Login failed: the system has no randomness to secure the login with.");

    int bind_error = 0;
    auto server = CallbackServer::bind_loopback(opt.port, bind_error);
    if (!server) {
        if (bind_error == EADDRINUSE)
            return ctx.fail(fmt::format("Cannot receive the login: port {} on 127.0.0.1 is already in use. "
                                        "Stop what uses it, or pass --port.",
                                        opt.port));
        return ctx.fail(fmt::format("Cannot receive the login on 127.0.0.1:{}: {}.", opt.port,
                                    std::strerror(bind_error)));
    }

    const std::string url = auth::login_url(cloud, auth::callback_uri(opt.callback_host, opt.port), *state);
    ctx.out() << "Opening your browser to log in to Arcade Cloud.\n"
              << "If it does not open, copy this URL into a browser on this machine:\n\n  " << url << "\n\n"
              << "Waiting for the login to finish (Ctrl-C to cancel)...\n"
              << std::flush;
    open_browser(ctx.env(), url);

    bool saved = false;
    auto deadline = Clock::now() + std::chrono::seconds(opt.timeout_s);
    CallbackWait got = server->wait(*state, deadline, ctx.interrupted(), [&](CallbackVerdict& v) {
        // Saved before the browser is answered, so its page tells the truth.
        saved = ensure_private_dir(ctx.paths()->dir) && save_credentials(creds_path, v.credentials);
        if (!saved)
            return std::pair(500, html_page("Login failed", "The Arcade CLI could not save your credentials. "
                                                            "See your terminal."));
        std::string page = "You are logged in to the Arcade CLI as <b>" + auth::html_escape(v.credentials.email) +
                           "</b>. You can close this window and return to your terminal.";
        if (!v.warning.empty()) page += "</p>\n<p><b>Warning:</b> " + auth::html_escape(v.warning);
        return std::pair(200, html_page("Login successful", page));
    });
    server.reset();  // one-shot: stop listening before anything slow happens

    using Outcome = CallbackVerdict::Outcome;
    switch (got.status) {
        case CallbackWait::Status::timed_out:
            return ctx.fail(fmt::format("Login timed out after {} s without an answer from the browser. "
                                        "Run `arcade login` again.",
                                        opt.timeout_s));
        case CallbackWait::Status::interrupted:
            return ctx.fail("Login cancelled.", kInterruptedExit);
        case CallbackWait::Status::failed:
            return ctx.fail("Login failed: the callback server stopped: " + got.error + ".");
        case CallbackWait::Status::judged:
            break;
    }
    switch (got.verdict.outcome) {
        case Outcome::wrong_state:
            return ctx.fail("Login failed: the browser's answer does not belong to this login (state mismatch). "
                            "Run `arcade login` again.");
        case Outcome::missing_fields:
            return ctx.fail("Login failed: Arcade Cloud's answer is missing " + got.verdict.missing +
                            ". Run `arcade login` again.");
        case Outcome::not_callback:
        case Outcome::bad_method:
        case Outcome::ok:
            break;
    }
    if (!saved) return ctx.fail(fmt::format("Login failed: could not write {}.", creds_path.string()));

    const Credentials& creds = got.verdict.credentials;
    ctx.out() << "Logged in as " << auth::printable(creds.email) << ".\n" << std::flush;
    if (!got.verdict.warning.empty()) ctx.err() << "Warning: " << auth::printable(got.verdict.warning) << "\n";
    link_identity(ctx, cloud, creds.api_key);
    return 0;
}

int run_logout(Context& ctx) {
    if (!ctx.paths()) {
        ctx.out() << "Not logged in.\n";
        return 0;
    }
    const auto path = ctx.paths()->credentials();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            ctx.out() << "Not logged in.\n";
            return 0;
        }
        return ctx.fail(fmt::format("Could not check {}: {}.", path.string(), std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode))
        return ctx.fail(fmt::format("{} is a directory, not a credentials file; remove it yourself.", path.string()));
    const bool had_credentials = load_credentials(path).has_value();
    // unlink removes a symlink itself, never what it points to.
    if (::unlink(path.c_str()) != 0)
        return ctx.fail(fmt::format("Could not remove {}: {}.", path.string(), std::strerror(errno)));
    // Whatever was there is gone, so the next person on this machine must
    // not inherit this identity (it may be linked even if the file had
    // become unreadable since).
    ctx.rotate_identity_after_event();
    if (had_credentials) ctx.out() << "Logged out.\n";
    else ctx.out() << "Not logged in (removed an unusable credentials file).\n";
    return 0;
}

}  // namespace

void setup_auth_commands(CLI::App& root, CommandTable& table) {
    auto opt = std::make_shared<LoginOptions>();
    auto* login = root.add_subcommand("login", "Log in to Arcade Cloud in your browser");
    login->add_option("--host", opt->host, "Arcade Cloud URL or host (default: $ARCADE_CLOUD_URL or cloud.arcade.dev)");
    login->add_option("--port", opt->port, "Local port for the browser's callback")
        ->default_val(auth::kDefaultCallbackPort);
    login->add_option("--callback-host", opt->callback_host, "Host name in the callback URL")
        ->default_val("localhost");
    login->add_option("--timeout", opt->timeout_s, "Seconds to wait for the browser")
        ->default_val(auth::kDefaultTimeoutSeconds);
    table.add(login, [opt](Context& ctx) { return run_login(ctx, *opt); });

    auto* logout = root.add_subcommand("logout", "Remove this machine's Arcade Cloud credentials");
    table.add(logout, [](Context& ctx) { return run_logout(ctx); });
}

}  // namespace arcade::cli
