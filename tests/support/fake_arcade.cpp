#include "support/fake_arcade.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <functional>
#include <stdexcept>
#include <thread>

#include "core/sha256.h"
#include "support/loopback_listener.h"

namespace arcade::testing {

namespace {

struct Injection {
    std::string method;
    std::string path;
    int status = 500;
    std::string body;
    int remaining = -1;
    bool drop = false;  // cut the connection instead of answering `status`
};

std::string json_message(const std::string& message, const std::string& name) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("message");
    w.String(message.c_str());
    w.Key("name");
    w.String(name.c_str());
    w.EndObject();
    return buf.GetString();
}

FakeReply json_reply(int status, std::string body) {
    FakeReply reply;
    reply.status = status;
    reply.body = std::move(body);
    return reply;
}

// Percent-encodes a query value as the Cloud's redirect does (RFC 3986
// unreserved characters kept). Written here, not borrowed from src/: the fake
// stands for the service the CLI is checked against.
std::string query_encode(const std::string& text) {
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

FakeReply not_found(const std::string& what) { return json_reply(404, json_message(what + " not found", "not_found")); }

long long to_int(const std::string& text, long long fallback) {
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return fallback;
    return value;
}

long long param(const FakeRequest& req, const std::string& name, long long fallback) {
    auto it = req.params.find(name);
    return it == req.params.end() ? fallback : to_int(it->second, fallback);
}

// Splits "/a/b/c" into {"a", "b", "c"}.
std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 1;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_worker(Writer& w, const FakeEngineWorker& worker) {
    w.StartObject();
    w.Key("id");
    w.String(worker.id.c_str());
    if (!worker.omit_enabled) {
        w.Key("enabled");
        w.Bool(worker.enabled);
    }
    w.Key("type");
    w.String(worker.type.c_str());
    w.Key("http");
    if (worker.http_uri.empty()) {
        w.Null();
    } else {
        w.StartObject();
        w.Key("uri");
        w.String(worker.http_uri.c_str());
        w.EndObject();
    }
    w.Key("mcp");
    if (worker.mcp_uri.empty()) {
        w.Null();
    } else {
        w.StartObject();
        w.Key("uri");
        w.String(worker.mcp_uri.c_str());
        w.EndObject();
    }
    w.Key("managed");
    w.Bool(worker.managed);
    w.Key("binding");
    w.StartObject();
    w.Key("type");
    w.String("static");
    w.EndObject();
    w.EndObject();
}

}  // namespace

long long RecordedRequest::param_int(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? -1 : to_int(it->second, -1);
}

// ---------------------------------------------------------------------------
// FakeServer

struct FakeServer::Impl {
    httplib::Server server;
    LoopbackListener listener{server};

    mutable std::mutex state_mu;  // everything below
    mutable std::condition_variable cv;
    bool stopping = false;
    bool stopped = false;
    std::size_t steps_sent = 0;
    std::vector<RecordedRequest> recorded;
    std::vector<Injection> injections;
    std::chrono::milliseconds delay{0};
    std::optional<std::string> expected_auth;
    std::function<bool(const FakeRequest&)> auth_check;

    void serve(FakeServer& owner, const httplib::Request& hreq, httplib::Response& hres) {
        RecordedRequest rec;
        rec.method = hreq.method;
        rec.path = hreq.path;
        for (const auto& [k, v] : hreq.params) rec.params.emplace(k, v);
        rec.authorization = hreq.get_header_value("Authorization");
        rec.body = hreq.body;

        std::chrono::milliseconds wait{0};
        std::optional<Injection> injected;
        std::optional<std::string> expected;
        std::function<bool(const FakeRequest&)> check;
        {
            std::lock_guard lock(state_mu);
            recorded.push_back(rec);
            wait = delay;
            expected = expected_auth;
            check = auth_check;
            for (auto& inj : injections) {
                if (inj.remaining == 0 || inj.method != rec.method || inj.path != rec.path) continue;
                if (inj.remaining > 0) --inj.remaining;
                injected = inj;
                break;
            }
        }
        if (wait.count() > 0 && !owner.pause(wait)) {
            hres.status = 503;
            return;
        }
        if (injected && injected->drop) {
            hres.set_chunked_content_provider("application/json", [](std::size_t, httplib::DataSink& sink) {
                sink.write("{", 1);
                return false;
            });
            return;
        }
        if (injected) {
            hres.status = injected->status;
            std::string body = injected->body.empty()
                                   ? json_message("injected " + std::to_string(injected->status), "injected")
                                   : injected->body;
            hres.set_content(body, "application/json");
            return;
        }
        FakeRequest request{rec.method, rec.path, rec.params, rec.authorization, rec.body};
        const bool authorized = check ? check(request) : !expected || rec.authorization == *expected;
        if (!authorized && owner.needs_authorization(request)) {
            hres.status = 401;
            hres.set_content(json_message("Invalid API key", "unauthorized"), "application/json");
            return;
        }

        FakeReply reply = owner.handle(request);
        hres.status = reply.status;
        for (const auto& [name, value] : reply.headers) hres.set_header(name, value);
        if (reply.stream) {
            auto script = std::make_shared<SseScript>(std::move(*reply.stream));
            hres.set_chunked_content_provider(
                "text/event-stream", [this, &owner, script](std::size_t, httplib::DataSink& sink) {
                    for (const auto& step : script->steps) {
                        if (!owner.pause(step.pause_before)) return false;
                        if (!sink.write(step.bytes.data(), step.bytes.size())) return false;
                        {
                            std::lock_guard lock(state_mu);
                            ++steps_sent;
                        }
                        cv.notify_all();
                    }
                    switch (script->end) {
                        case SseEnd::finish: sink.done(); return true;
                        case SseEnd::drop: return false;
                        case SseEnd::hang: owner.wait_for_stop(); return false;
                    }
                    return false;
                });
        } else if (!reply.body.empty()) {
            hres.set_content(reply.body, reply.content_type);
        }
    }
};

FakeServer::FakeServer() : impl_(std::make_unique<Impl>()) {}

FakeServer::~FakeServer() { stop(); }

void FakeServer::start() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { impl_->serve(*this, req, res); };
    impl_->server.Get(".*", handler);
    impl_->server.Post(".*", handler);
    impl_->server.Patch(".*", handler);
    impl_->server.Delete(".*", handler);
    impl_->server.set_keep_alive_timeout(1);
    impl_->server.set_read_timeout(5);
    impl_->server.set_write_timeout(5);

    port_ = impl_->listener.start(0, "fake Arcade service");
}

void FakeServer::stop() {
    {
        std::lock_guard lock(impl_->state_mu);
        if (impl_->stopped) return;
        impl_->stopped = true;
        impl_->stopping = true;
    }
    impl_->cv.notify_all();
    impl_->listener.stop();
}

std::string FakeServer::url() const { return "http://localhost:" + std::to_string(port_); }

std::vector<RecordedRequest> FakeServer::requests() const {
    std::lock_guard lock(impl_->state_mu);
    return impl_->recorded;
}

std::vector<RecordedRequest> FakeServer::requests_to(std::string_view method, std::string_view path_prefix) const {
    std::vector<RecordedRequest> out;
    for (auto& r : requests())
        if (r.method == method && std::string_view(r.path).substr(0, path_prefix.size()) == path_prefix)
            out.push_back(std::move(r));
    return out;
}

void FakeServer::inject(std::string method, std::string path, int status, std::string body, int times) {
    std::lock_guard lock(impl_->state_mu);
    impl_->injections.push_back(Injection{std::move(method), std::move(path), status, std::move(body), times});
}

void FakeServer::inject_drop(std::string method, std::string path, int times) {
    std::lock_guard lock(impl_->state_mu);
    impl_->injections.push_back(Injection{std::move(method), std::move(path), 200, {}, times, true});
}

void FakeServer::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->state_mu);
    impl_->delay = delay;
}

void FakeServer::set_expected_authorization(std::string value) {
    std::lock_guard lock(impl_->state_mu);
    impl_->expected_auth = std::move(value);
}

void FakeServer::set_authorization_check(std::function<bool(const FakeRequest&)> check) {
    std::lock_guard lock(impl_->state_mu);
    impl_->auth_check = std::move(check);
}

std::size_t FakeServer::stream_steps_sent() const {
    std::lock_guard lock(impl_->state_mu);
    return impl_->steps_sent;
}

bool FakeServer::wait_for_stream_steps(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->state_mu);
    return impl_->cv.wait_for(lock, timeout, [&] { return impl_->steps_sent >= n; });
}

bool FakeServer::pause(std::chrono::milliseconds d) {
    std::unique_lock lock(impl_->state_mu);
    if (d.count() > 0) impl_->cv.wait_for(lock, d, [&] { return impl_->stopping; });
    return !impl_->stopping;
}

void FakeServer::wait_for_stop() {
    std::unique_lock lock(impl_->state_mu);
    impl_->cv.wait(lock, [&] { return impl_->stopping; });
}

// ---------------------------------------------------------------------------
// FakeEngine

FakeEngine::FakeEngine(std::string api_key) {
    set_expected_authorization(std::move(api_key));
    start();
}

FakeEngine::~FakeEngine() { stop(); }

void FakeEngine::set_workers(std::vector<FakeEngineWorker> workers) {
    std::lock_guard lock(mu_);
    workers_ = std::move(workers);
}

std::vector<FakeEngineWorker> FakeEngine::workers() const {
    std::lock_guard lock(mu_);
    return workers_;
}

void FakeEngine::set_page_size(int page_size) {
    std::lock_guard lock(mu_);
    page_size_ = page_size;
}

void FakeEngine::set_ignore_offset(bool ignore, bool echo_offset) {
    std::lock_guard lock(mu_);
    ignore_offset_ = ignore;
    echo_offset_ = echo_offset;
}

void FakeEngine::set_claimed_total(std::optional<long long> total) {
    std::lock_guard lock(mu_);
    claimed_total_ = total;
}

void FakeEngine::set_scope(std::string org_id, std::string project_id) {
    std::lock_guard lock(mu_);
    scope_ = std::pair(std::move(org_id), std::move(project_id));
}

void FakeEngine::set_log_script(SseScript script) {
    std::lock_guard lock(mu_);
    script_ = std::move(script);
}

FakeReply FakeEngine::handle(const FakeRequest& req) {
    std::lock_guard lock(mu_);
    auto parts = segments(req.path);
    if (scope_) {
        // /v1/orgs/{org}/projects/{project}/<resource...>: the scope is
        // checked and taken out, then routed as an unscoped path.
        if (parts.size() < 6 || parts[0] != "v1" || parts[1] != "orgs" || parts[2] != scope_->first ||
            parts[3] != "projects" || parts[4] != scope_->second)
            return not_found("route");
        parts.erase(parts.begin() + 1, parts.begin() + 5);
        if (parts.size() == 5 && parts[1] == "deployments" && parts[3] == "logs" && parts[4] == "stream" &&
            req.method == "GET") {
            FakeReply reply;
            reply.stream = script_;
            return reply;
        }
    }
    if (parts.size() < 2 || parts[0] != "v1" || parts[1] != "workers") return not_found("route");

    // One page of `count` items starting at the requested offset.
    auto page = [&](std::size_t count, const std::function<void(Writer&, std::size_t)>& write_item) {
        long long limit = param(req, "limit", 25);
        long long offset = std::max(0LL, param(req, "offset", 0));
        long long served_offset = ignore_offset_ ? 0 : offset;
        long long take = std::max(0LL, limit);
        if (page_size_ > 0) take = std::min<long long>(take, page_size_);
        rapidjson::StringBuffer buf;
        Writer w(buf);
        w.StartObject();
        w.Key("items");
        w.StartArray();
        for (long long i = served_offset; i < static_cast<long long>(count) && i < served_offset + take; ++i)
            write_item(w, static_cast<std::size_t>(i));
        w.EndArray();
        w.Key("offset");
        w.Int64(ignore_offset_ && echo_offset_ ? 0 : offset);
        w.Key("limit");
        w.Int64(limit);
        w.Key("total_count");
        w.Int64(claimed_total_.value_or(static_cast<long long>(count)));
        w.EndObject();
        return json_reply(200, buf.GetString());
    };

    auto find = [&](const std::string& id) {
        return std::find_if(workers_.begin(), workers_.end(), [&](const auto& w) { return w.id == id; });
    };

    if (parts.size() == 2 && req.method == "GET") {
        return page(workers_.size(), [&](Writer& w, std::size_t i) { write_worker(w, workers_[i]); });
    }
    if (parts.size() == 4 && parts[3] == "tools" && req.method == "GET") {
        auto it = find(parts[2]);
        if (it == workers_.end()) return not_found("worker");
        const auto& tools = it->tool_toolkits;
        return page(tools.size(), [&](Writer& w, std::size_t i) {
            w.StartObject();
            w.Key("name");
            w.String(("Tool" + std::to_string(i)).c_str());
            w.Key("toolkit");
            w.StartObject();
            w.Key("name");
            w.String(tools[i].c_str());
            w.EndObject();
            w.EndObject();
        });
    }
    if (parts.size() == 3) {
        auto it = find(parts[2]);
        if (req.method == "PATCH") {
            if (it == workers_.end()) return not_found("worker");
            rapidjson::Document doc;
            doc.Parse(req.body.c_str());
            if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("enabled") || !doc["enabled"].IsBool())
                return json_reply(400, json_message("body must be {\"enabled\": bool}", "bad_request"));
            it->enabled = doc["enabled"].GetBool();
            it->omit_enabled = false;
            rapidjson::StringBuffer buf;
            Writer w(buf);
            write_worker(w, *it);
            return json_reply(200, buf.GetString());
        }
        if (req.method == "DELETE") {
            if (it == workers_.end()) return not_found("worker");
            workers_.erase(it);
            return json_reply(204, "");
        }
    }
    return not_found("route");
}

// ---------------------------------------------------------------------------
// FakeCloud

FakeCloud::FakeCloud(std::string api_key) {
    set_expected_authorization("Bearer " + api_key);
    start();
}

FakeCloud::~FakeCloud() { stop(); }

void FakeCloud::set_workers(std::vector<FakeCloudWorker> workers) {
    std::lock_guard lock(mu_);
    workers_ = std::move(workers);
}

std::vector<FakeCloudWorker> FakeCloud::workers() const {
    std::lock_guard lock(mu_);
    return workers_;
}

void FakeCloud::set_page_size(int page_size) {
    std::lock_guard lock(mu_);
    page_size_ = page_size;
}

void FakeCloud::set_log_script(SseScript script) {
    std::lock_guard lock(mu_);
    script_ = std::move(script);
}

bool FakeCloud::needs_authorization(const FakeRequest& req) const {
    return req.path.rfind("/api/v1/auth/", 0) != 0 && req.path.rfind("/oauth/", 0) != 0;
}

FakeReply FakeCloud::handle(const FakeRequest& req) {
    if (req.path.rfind("/oauth/", 0) == 0 || req.path == "/api/v1/auth/cli_config" ||
        req.path == "/api/v1/auth/whoami")
        return oauth(req);
    if (req.method == "GET" && req.path == "/api/v1/auth/validate") return validate(req);
    if (req.method == "GET" && req.path == "/api/v1/auth/cli_login") return cli_login(req);
    std::lock_guard lock(mu_);
    auto parts = segments(req.path);
    if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "workers") return not_found("route");

    if (parts.size() == 3 && req.method == "GET") {
        std::size_t first = 0;
        std::size_t last = workers_.size();
        if (page_size_ > 0) {
            first = static_cast<std::size_t>(std::max(0LL, param(req, "offset", 0)));
            long long limit = std::min<long long>(param(req, "limit", page_size_), page_size_);
            last = std::min(workers_.size(), first + static_cast<std::size_t>(std::max(0LL, limit)));
            first = std::min(first, last);
        }
        rapidjson::StringBuffer buf;
        Writer w(buf);
        w.StartObject();
        w.Key("data");
        w.StartObject();
        w.Key("workers");
        w.StartArray();
        for (std::size_t i = first; i < last; ++i) {
            w.StartObject();
            w.Key("name");
            w.String(workers_[i].name.c_str());
            w.Key("endpoint");
            w.String(workers_[i].endpoint.c_str());
            w.Key("status");
            w.String("running");
            w.EndObject();
        }
        w.EndArray();
        if (page_size_ > 0) {
            w.Key("total_count");
            w.Uint64(workers_.size());
        }
        w.EndObject();
        w.EndObject();
        return json_reply(200, buf.GetString());
    }
    if (parts.size() == 5 && parts[3] == "logs" && req.method == "GET") {
        FakeReply reply;
        reply.stream = script_;
        return reply;
    }
    if (parts.size() == 4 && req.method == "DELETE") {
        auto it = std::find_if(workers_.begin(), workers_.end(), [&](const auto& w) { return w.name == parts[3]; });
        if (it == workers_.end()) return not_found("deployment");
        workers_.erase(it);
        return json_reply(200, R"({"data":{}})");
    }
    return not_found("route");
}

FakeReply FakeCloud::validate(const FakeRequest& req) {
    std::chrono::milliseconds wait;
    int status;
    std::string principal;
    {
        std::lock_guard lock(mu_);
        wait = validate_delay_;
        status = forced_validate_status_;
        const std::string prefix = "Bearer ";
        if (status == 0) {
            auto it = req.authorization.rfind(prefix, 0) == 0 ? principals_.find(req.authorization.substr(prefix.size()))
                                                              : principals_.end();
            if (it == principals_.end()) status = 401;
            else principal = it->second;
        }
    }
    if (!pause(wait)) return json_reply(503, "");
    if (status != 0) return json_reply(status, R"({"error":"scripted"})");
    return json_reply(200, R"({"data":{"principal_id":")" + principal + R"("}})");
}

FakeReply FakeCloud::cli_login(const FakeRequest& req) {
    LoginAnswer a;
    {
        std::lock_guard lock(mu_);
        a = login_answer_;
    }
    auto param_of = [&](const char* name) {
        auto it = req.params.find(name);
        return it == req.params.end() ? std::string() : it->second;
    };
    std::string callback = param_of("callback_uri");
    std::string state = param_of("state");
    FakeReply reply;
    reply.content_type = "text/plain";
    if (callback.empty()) {
        reply.status = 400;
        reply.body = "callback_uri missing";
        return reply;
    }
    std::string location = callback + "?state=" + query_encode(a.wrong_state ? state + "x" : state);
    if (!a.omit_api_key) location += "&api_key=" + query_encode(a.api_key);
    if (!a.omit_email) location += "&email=" + query_encode(a.email);
    if (!a.warning.empty()) location += "&warning=" + query_encode(a.warning);
    reply.status = 302;
    reply.headers.emplace_back("Location", location);
    reply.body = "Redirecting to the Arcade CLI…";
    return reply;
}

void FakeCloud::set_principal(const std::string& api_key, const std::string& principal) {
    std::lock_guard lock(mu_);
    principals_[api_key] = principal;
}

void FakeCloud::force_validate_status(int status) {
    std::lock_guard lock(mu_);
    forced_validate_status_ = status;
}

void FakeCloud::set_validate_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    validate_delay_ = delay;
}

int FakeCloud::validate_calls() const {
    return static_cast<int>(requests_to("GET", "/api/v1/auth/validate").size());
}

std::vector<std::string> FakeCloud::validate_authorizations() const {
    std::vector<std::string> out;
    for (const auto& r : requests_to("GET", "/api/v1/auth/validate")) out.push_back(r.authorization);
    return out;
}

void FakeCloud::set_login_answer(LoginAnswer answer) {
    std::lock_guard lock(mu_);
    login_answer_ = std::move(answer);
}

// ---------------------------------------------------------------------------
// FakeCloud's OAuth (the Coordinator as the Python CLI 1.15 meets it)

namespace {

std::string b64url(const arcade::Sha256Digest& d) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto b : d) {
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

// application/x-www-form-urlencoded, as the token endpoint reads it.
std::map<std::string, std::string> form_fields(const std::string& body) {
    auto decode = [](std::string_view t) {
        std::string out;
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (t[i] == '+') out += ' ';
            else if (t[i] == '%' && i + 2 < t.size() && std::isxdigit(static_cast<unsigned char>(t[i + 1])) &&
                     std::isxdigit(static_cast<unsigned char>(t[i + 2]))) {
                out += static_cast<char>(std::stoi(std::string(t.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else out += t[i];
        }
        return out;
    };
    std::map<std::string, std::string> out;
    std::string_view rest = body;
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        auto eq = pair.find('=');
        out.emplace(decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
    }
    return out;
}

FakeReply oauth_error(int status, const std::string& error) {
    return json_reply(status, R"({"error":")" + error + R"("})");
}

}  // namespace

void FakeCloud::enable_oauth(OAuthAccount account, long long expires_in) {
    std::lock_guard lock(mu_);
    oauth_account_ = std::move(account);
    expires_in_ = expires_in;
}

void FakeCloud::set_oauth_denied(bool denied) {
    std::lock_guard lock(mu_);
    oauth_denied_ = denied;
}

void FakeCloud::set_refresh_omits_refresh_token(bool omit) {
    std::lock_guard lock(mu_);
    refresh_omits_refresh_ = omit;
}

std::string FakeCloud::new_token(const char* kind) {
    // Distinctive, so a leak check can grep for it; unique per server.
    std::string token = std::string(kind) + "_" + std::to_string(port()) + "_" + std::to_string(++serial_) +
                        "_S3cr3tT0k3nV4lu3";
    issued_.push_back(token);
    return token;
}

std::string FakeCloud::issue_code(const std::string& challenge, const std::string& redirect_uri) {
    std::lock_guard lock(mu_);
    std::string code = "code_" + std::to_string(++serial_) + "_" + std::to_string(port());
    codes_[code] = IssuedCode{challenge, redirect_uri, false};
    return code;
}

void FakeCloud::add_tokens(const std::string& access_token, const std::string& refresh_token) {
    std::lock_guard lock(mu_);
    access_tokens_.push_back(access_token);
    refresh_tokens_.push_back(refresh_token);
}

bool FakeCloud::is_access_token(const std::string& token) const {
    std::lock_guard lock(mu_);
    return std::find(access_tokens_.begin(), access_tokens_.end(), token) != access_tokens_.end();
}

std::vector<std::string> FakeCloud::issued_tokens() const {
    std::lock_guard lock(mu_);
    return issued_;
}

std::vector<std::map<std::string, std::string>> FakeCloud::token_requests() const {
    std::vector<std::map<std::string, std::string>> out;
    for (const auto& r : requests_to("POST", "/oauth/token")) out.push_back(form_fields(r.body));
    return out;
}

FakeReply FakeCloud::oauth(const FakeRequest& req) {
    std::lock_guard lock(mu_);
    if (!oauth_account_) return not_found("route");  // a first-generation Cloud
    const OAuthAccount& account = *oauth_account_;
    auto param_of = [&](const std::map<std::string, std::string>& m, const char* name) {
        auto it = m.find(name);
        return it == m.end() ? std::string() : it->second;
    };

    if (req.method == "GET" && req.path == "/api/v1/auth/cli_config") {
        return json_reply(200, R"({"client_id":")" + std::string(kTestClientId) +
                                   R"(","authorization_endpoint":")" + url() +
                                   R"(/oauth/authorize","token_endpoint":")" + url() + R"(/oauth/token"})");
    }

    if (req.method == "GET" && req.path == "/oauth/authorize") {
        const std::string redirect = param_of(req.params, "redirect_uri");
        FakeReply reply;
        reply.content_type = "text/plain";
        if (param_of(req.params, "response_type") != "code" || param_of(req.params, "client_id") != kTestClientId ||
            param_of(req.params, "code_challenge_method") != "S256" || param_of(req.params, "code_challenge").empty() ||
            redirect.rfind("http://127.0.0.1:", 0) != 0) {
            reply.status = 400;
            reply.body = "bad authorization request";
            return reply;
        }
        std::string location = redirect + "?";
        if (oauth_denied_) {
            location += "error=access_denied&error_description=" + query_encode("The user said no");
        } else {
            std::string code = "code_" + std::to_string(++serial_) + "_" + std::to_string(port());
            codes_[code] = IssuedCode{param_of(req.params, "code_challenge"), redirect, false};
            location += "code=" + query_encode(code);
        }
        location += "&state=" + query_encode(param_of(req.params, "state"));
        reply.status = 302;
        reply.headers.emplace_back("Location", location);
        reply.body = "Redirecting to the Arcade CLI…";
        return reply;
    }

    if (req.method == "POST" && req.path == "/oauth/token") {
        auto form = form_fields(req.body);
        if (param_of(form, "client_id") != kTestClientId) return oauth_error(401, "invalid_client");
        std::string refresh;
        const std::string grant = param_of(form, "grant_type");
        if (grant == "authorization_code") {
            auto it = codes_.find(param_of(form, "code"));
            // RFC 6749 §4.1.3 and RFC 7636 §4.6: a code once, from the same
            // redirect URI, with the verifier its challenge was made from.
            if (it == codes_.end() || it->second.used) return oauth_error(400, "invalid_grant");
            it->second.used = true;
            if (param_of(form, "redirect_uri") != it->second.redirect_uri) return oauth_error(400, "invalid_grant");
            if (b64url(arcade::sha256(param_of(form, "code_verifier"))) != it->second.challenge)
                return oauth_error(400, "invalid_grant");
            refresh = new_token("rt");
            refresh_tokens_.push_back(refresh);
        } else if (grant == "refresh_token") {
            const std::string old = param_of(form, "refresh_token");
            if (std::find(refresh_tokens_.begin(), refresh_tokens_.end(), old) == refresh_tokens_.end())
                return oauth_error(400, "invalid_grant");
            if (!refresh_omits_refresh_) {
                refresh = new_token("rt");
                refresh_tokens_.push_back(refresh);
            }
        } else {
            return oauth_error(400, "unsupported_grant_type");
        }
        std::string access = new_token("at");
        access_tokens_.push_back(access);
        std::string body = R"({"access_token":")" + access + R"(","token_type":"Bearer","expires_in":)" +
                           std::to_string(expires_in_);
        if (!refresh.empty()) body += R"(,"refresh_token":")" + refresh + R"(")";
        body += "}";
        return json_reply(200, body);
    }

    if (req.method == "GET" && req.path == "/api/v1/auth/whoami") {
        const std::string prefix = "Bearer ";
        std::string token = req.authorization.rfind(prefix, 0) == 0 ? req.authorization.substr(prefix.size()) : "";
        if (std::find(access_tokens_.begin(), access_tokens_.end(), token) == access_tokens_.end())
            return json_reply(401, json_message("Invalid access token", "unauthorized"));
        rapidjson::StringBuffer buf;
        Writer w(buf);
        w.StartObject();
        w.Key("data");
        w.StartObject();
        w.Key("account_id");
        w.String(account.account_id.c_str());
        w.Key("email");
        w.String(account.email.c_str());
        w.Key("organizations");
        w.StartArray();
        for (const auto& o : account.orgs) {
            w.StartObject();
            w.Key(o.organization_id_key ? "organization_id" : "org_id");
            w.String(o.id.c_str());
            w.Key("name");
            w.String(o.name.c_str());
            w.Key("is_default");
            w.Bool(o.is_default);
            w.EndObject();
        }
        w.EndArray();
        w.Key("projects");
        w.StartArray();
        for (const auto& p : account.projects) {
            w.StartObject();
            w.Key("project_id");
            w.String(p.id.c_str());
            w.Key("name");
            w.String(p.name.c_str());
            w.Key("is_default");
            w.Bool(p.is_default);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        w.EndObject();
        return json_reply(200, buf.GetString());
    }
    return not_found("route");
}

std::vector<std::map<std::string, std::string>> FakeCloud::login_requests() const {
    std::vector<std::map<std::string, std::string>> out;
    for (const auto& r : requests_to("GET", "/api/v1/auth/cli_login")) out.push_back(r.params);
    return out;
}

}  // namespace arcade::testing
