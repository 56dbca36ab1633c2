#include "auth_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>


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

Machine::Machine(const std::string& posthog_url, const std::string& cloud_url) : ArcadeHome(posthog_url) {
    env["ARCADE_CLOUD_URL"] = cloud_url;
    browser_url_file_ = path() / "browser-url.txt";
    auto script = path() / "record-browser.sh";
    {
        std::ofstream s(script);
        // Written to a temp name and renamed, so the test never reads half a URL.
        s << "#!/bin/sh\nprintf '%s' \"$1\" > '" << browser_url_file_.string() << ".tmp' && mv '"
          << browser_url_file_.string() << ".tmp' '" << browser_url_file_.string() << "'\n";
    }
    ::chmod(script.c_str(), 0700);
    env["BROWSER"] = script.string();
}

Machine::~Machine() { wait_shipper_idle(); }

ProcessResult Machine::arcade(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    ProcessResult r = run(args, std::nullopt, timeout);
    transcript_ += r.out + r.err;
    return r;
}

std::unique_ptr<ChildProcess> Machine::start_arcade(const std::vector<std::string>& args) {
    std::error_code ec;
    std::filesystem::remove(browser_url_file_, ec);
    return start(args);
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
    std::vector<std::string> args = {"login", "--callback-port", std::to_string(port.port()), "--timeout", "20"};
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

bool HeadlessChromium::installed() { return std::filesystem::exists(kPath); }

HeadlessChromium::HeadlessChromium(Machine& machine) : dir_(machine.path()) {
    const auto wrapper = dir_ / "chromium-browser.sh";
    {
        std::ofstream s(wrapper);
        s << "#!/bin/sh\n"
          << "echo $$ > '" << (dir_ / "chromium.pid").string() << "'\n"
          << "exec timeout -k 5 60 " << kPath
          << " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
             " --disable-background-networking --disable-component-update --disable-sync"
             " --user-data-dir='"
          << (dir_ / "chromium-profile").string() << "' --dump-dom \"$1\" > '" << (dir_ / "chromium.dom").string()
          << "' 2> '" << (dir_ / "chromium.log").string() << "'\n";
    }
    ::chmod(wrapper.c_str(), 0700);
    machine.env["BROWSER"] = wrapper.string();
}

HeadlessChromium::~HeadlessChromium() {
    std::ifstream in(dir_ / "chromium.pid");
    long pid = 0;
    if (in >> pid && pid > 1) ::kill(static_cast<pid_t>(pid), SIGTERM);  // `timeout` passes it on to Chromium
}

std::string HeadlessChromium::log() const { return slurp(dir_ / "chromium.log"); }

std::string HeadlessChromium::wait_for_dom(std::chrono::milliseconds timeout) const {
    std::string dom;
    for (auto deadline = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(100ms)) {
        dom = slurp(dir_ / "chromium.dom");
        if (dom.find("</html>") != std::string::npos) break;
    }
    return dom;
}

}  // namespace arcade::testing
