#include "auth_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "core/clock.h"
#include "core/paths.h"

namespace arcade::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

struct ParsedUrl {
    std::string host;
    int port = 80;
    std::string target = "/";
};

std::optional<ParsedUrl> parse_http_url(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) return std::nullopt;
    std::string rest = url.substr(scheme.size());
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    ParsedUrl out;
    out.target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) out.port = std::stoi(authority.substr(colon + 1));
    return out;
}

}  // namespace

Page http_get(const std::string& url, std::chrono::milliseconds timeout) {
    Page page;
    auto parsed = parse_http_url(url);
    if (!parsed || (parsed->host != "127.0.0.1" && parsed->host != "localhost")) return page;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return page;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(parsed->port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return page;
    }
    std::string request = "GET " + parsed->target + " HTTP/1.1\r\nHost: " + parsed->host + ":" +
                          std::to_string(parsed->port) + "\r\nUser-Agent: arcade-auth-test\r\nConnection: close\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string raw;
    auto deadline = SteadyClock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
        if (left <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        raw.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    auto head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return page;
    page.status = std::stoi(raw.substr(9, 3));
    std::string head = raw.substr(0, head_end);
    page.body = raw.substr(head_end + 4);
    std::size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string::npos) {
        pos += 2;
        auto end = head.find("\r\n", pos);
        std::string line = head.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "location") page.location = value;
    }
    return page;
}

ReservedPort::ReservedPort(bool shareable) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    if (shareable) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd_);
        throw std::runtime_error("cannot reserve a loopback port");
    }
    port_ = ntohs(addr.sin_port);
}

ReservedPort::~ReservedPort() {
    if (fd_ >= 0) ::close(fd_);
}

// ---------------------------------------------------------------------------

Machine::Machine(const std::string& posthog_url, const std::string& cloud_url) {
    env = arcade_env(tmp_.path(), posthog_url);
    env["ARCADE_CLOUD_URL"] = cloud_url;
    browser_url_file_ = tmp_.path() / "browser-url.txt";
    auto script = tmp_.path() / "record-browser.sh";
    {
        std::ofstream s(script);
        // Written to a temp name and renamed, so the test never reads half a URL.
        s << "#!/bin/sh\nprintf '%s' \"$1\" > '" << browser_url_file_.string() << ".tmp' && mv '"
          << browser_url_file_.string() << ".tmp' '" << browser_url_file_.string() << "'\n";
    }
    ::chmod(script.c_str(), 0700);
    env["BROWSER"] = script.string();
}

Machine::~Machine() { wait_shipper_idle(std::chrono::seconds(12)); }

ProcessSpec Machine::arcade_spec(const std::vector<std::string>& args) const {
    ProcessSpec spec;
    spec.argv = {env_path("ARCADE_BIN")};
    if (spec.argv[0].empty()) throw std::runtime_error("ARCADE_BIN is not set");
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = env;
    return spec;
}

ProcessResult Machine::arcade(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    ProcessSpec spec = arcade_spec(args);
    spec.timeout = timeout;
    ProcessResult r = run_process(spec);
    transcript_ += r.out + r.err;
    return r;
}

std::unique_ptr<ChildProcess> Machine::start_arcade(const std::vector<std::string>& args) {
    std::error_code ec;
    std::filesystem::remove(browser_url_file_, ec);
    return std::make_unique<ChildProcess>(arcade_spec(args));
}

std::optional<std::string> Machine::wait_for_browser_url(std::chrono::milliseconds timeout) {
    auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
        if (std::filesystem::exists(browser_url_file_)) return slurp(browser_url_file_);
        std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
}

bool Machine::browser_was_opened() const { return std::filesystem::exists(browser_url_file_); }

LoginRun Machine::login(const std::vector<std::string>& extra_args) {
    ReservedPort port(true);
    std::vector<std::string> args = {"login", "--port", std::to_string(port.port()), "--timeout", "20"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    LoginRun run;
    auto proc = start_arcade(args);
    if (auto url = wait_for_browser_url()) {
        run.login_url = *url;
        run.cloud_page = http_get(*url);
        if (run.cloud_page.status == 302) run.callback_page = http_get(run.cloud_page.location);
    }
    run.result = proc->finish(std::chrono::seconds(20));
    transcript_ += run.result.out + run.result.err;
    return run;
}

void Machine::write_credentials(const std::string& api_key, const std::string& email) const {
    std::filesystem::create_directories(config_dir());
    ::chmod(config_dir().c_str(), 0700);
    std::ofstream f(credentials_path());
    f << "cloud:\n  api:\n    key: " << api_key << "\n  user:\n    email: " << email << "\n";
    f.close();
    ::chmod(credentials_path().c_str(), 0600);
}

namespace {

std::unique_ptr<store::Journal> open_read_only(const std::filesystem::path& dir) {
    auto open = store::Journal::open(ConfigPaths{dir}, system_clock(), store::OpenMode::read_only);
    if (!open.journal) throw std::runtime_error("cannot open the journal: " + open.reason);
    return std::move(open.journal);
}

}  // namespace

std::vector<store::StoredEvent> Machine::journal_events() const {
    return open_read_only(config_dir())->events(100000);
}

std::vector<store::IdentityTransition> Machine::identity_history() const {
    return open_read_only(config_dir())->identity_history();
}

std::optional<store::Identity> Machine::identity() const { return open_read_only(config_dir())->identity(); }

namespace {

// Whether some process holds an flock on `path`, read from /proc/locks. Unlike
// ShipLock::is_held_elsewhere this never takes the lock itself, so it cannot
// make a shipper that starts at that moment give up.
bool flock_held(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    std::ifstream locks("/proc/locks");
    std::string line;
    const std::string inode = ":" + std::to_string(st.st_ino) + " ";
    while (std::getline(locks, line)) {
        if (line.find("FLOCK") != std::string::npos && line.find(inode) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

bool Machine::wait_shipper_idle(std::chrono::milliseconds timeout) const {
    auto deadline = SteadyClock::now() + timeout;
    int free_in_a_row = 0;
    const auto lock = config_dir() / "ship.lock";
    while (SteadyClock::now() < deadline) {
        bool held = flock_held(lock);
        free_in_a_row = held ? 0 : free_in_a_row + 1;
        if (free_in_a_row >= 10) return true;  // 300 ms without a shipper
        std::this_thread::sleep_for(30ms);
    }
    return false;
}

std::string command_name_of(const std::string& properties_json) {
    rapidjson::Document doc;
    doc.Parse(properties_json.c_str(), properties_json.size());
    if (doc.HasParseError() || !doc.IsObject()) return {};
    auto it = doc.FindMember("command_name");
    if (it == doc.MemberEnd() || !it->value.IsString()) return {};
    return it->value.GetString();
}

bool file_contains(const std::filesystem::path& path, const std::string& needle) {
    return slurp(path).find(needle) != std::string::npos;
}

}  // namespace arcade::testing
