#include "fake_cloud.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cctype>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace arcade::testing {
namespace {

std::string encode(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0F];
        }
    }
    return out;
}

}  // namespace

struct FakeCloud::State {
    httplib::Server server;
    std::thread thread;
    int port = 0;

    mutable std::mutex mutex;
    std::map<std::string, std::string> principals;
    int forced_status = 0;
    std::chrono::milliseconds delay{0};
    int validate_calls = 0;
    std::vector<std::string> authorizations;
    LoginAnswer answer;
    std::vector<std::map<std::string, std::string>> login_requests;

    void validate(const httplib::Request& req, httplib::Response& res) {
        std::string auth = req.get_header_value("Authorization");
        std::chrono::milliseconds wait;
        int status;
        std::string principal;
        {
            std::lock_guard lock(mutex);
            ++validate_calls;
            authorizations.push_back(auth);
            wait = delay;
            status = forced_status;
            const std::string prefix = "Bearer ";
            if (status == 0) {
                auto it = auth.rfind(prefix, 0) == 0 ? principals.find(auth.substr(prefix.size())) : principals.end();
                if (it == principals.end()) status = 401;
                else principal = it->second;
            }
        }
        if (wait.count() > 0) std::this_thread::sleep_for(wait);
        if (status == 0) {
            res.status = 200;
            res.set_content(R"({"data":{"principal_id":")" + principal + R"("}})", "application/json");
        } else {
            res.status = status;
            res.set_content(R"({"error":"scripted"})", "application/json");
        }
    }

    void cli_login(const httplib::Request& req, httplib::Response& res) {
        LoginAnswer a;
        {
            std::lock_guard lock(mutex);
            std::map<std::string, std::string> params;
            for (const auto& [k, v] : req.params) params.emplace(k, v);
            login_requests.push_back(params);
            a = answer;
        }
        std::string callback = req.get_param_value("callback_uri");
        std::string state = req.get_param_value("state");
        if (callback.empty()) {
            res.status = 400;
            res.set_content("callback_uri missing", "text/plain");
            return;
        }
        std::string location = callback + "?state=" + encode(a.wrong_state ? state + "x" : state);
        if (!a.omit_api_key) location += "&api_key=" + encode(a.api_key);
        if (!a.omit_email) location += "&email=" + encode(a.email);
        if (!a.warning.empty()) location += "&warning=" + encode(a.warning);
        res.status = 302;
        res.set_header("Location", location);
        res.set_content("Redirecting to the Arcade CLI…", "text/plain");
    }
};

FakeCloud::FakeCloud() : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.server.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    s.server.set_keep_alive_timeout(1);
    s.server.Get("/api/v1/auth/validate",
                 [&s](const httplib::Request& req, httplib::Response& res) { s.validate(req, res); });
    s.server.Get("/api/v1/auth/cli_login",
                 [&s](const httplib::Request& req, httplib::Response& res) { s.cli_login(req, res); });
    s.port = s.server.bind_to_any_port("127.0.0.1");
    if (s.port <= 0) throw std::runtime_error("fake cloud cannot bind 127.0.0.1");
    s.thread = std::thread([&s] { s.server.listen_after_bind(); });
}

FakeCloud::~FakeCloud() {
    try {
        state_->server.stop();
        if (state_->thread.joinable()) state_->thread.join();
    } catch (...) {
        // Destructors never throw; nothing is left to clean up.
    }
}

std::string FakeCloud::url() const { return "http://127.0.0.1:" + std::to_string(state_->port); }

void FakeCloud::set_principal(const std::string& api_key, const std::string& principal) {
    std::lock_guard lock(state_->mutex);
    state_->principals[api_key] = principal;
}

void FakeCloud::force_validate_status(int status) {
    std::lock_guard lock(state_->mutex);
    state_->forced_status = status;
}

void FakeCloud::set_validate_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(state_->mutex);
    state_->delay = delay;
}

int FakeCloud::validate_calls() const {
    std::lock_guard lock(state_->mutex);
    return state_->validate_calls;
}

std::vector<std::string> FakeCloud::validate_authorizations() const {
    std::lock_guard lock(state_->mutex);
    return state_->authorizations;
}

void FakeCloud::set_login_answer(LoginAnswer answer) {
    std::lock_guard lock(state_->mutex);
    state_->answer = std::move(answer);
}

std::vector<std::map<std::string, std::string>> FakeCloud::login_requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->login_requests;
}

}  // namespace arcade::testing
