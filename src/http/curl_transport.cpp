// The transport that speaks libcurl, through the CurlApi table. CURLcode
// never leaves it: callers see http::Response with a Failure kind and a
// message.
//
// The performance trick: libcurl is loaded with dlopen the first time a
// transport is made, not at process start. Linking it pulls in ~30 shared
// libraries (TLS, Kerberos, LDAP, …) whose loading and relocation were most
// of every `arcade` invocation's cost, while most invocations never touch
// the network (the detached arcade-ship does). The bench row that pays for
// it: `arcade-bench --only cli`, "CLI cost per invocation (`arcade
// --version`)" (docs/PERFORMANCE.md: 24.7 → 8.6 ms tracked, 20.6M → 5.5M
// instructions). Its boring twin, libcurl linked normally, is
// curl_linked.cpp; the transport tests run both.
#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "http/curl_api.h"
#include "http/transport.h"

namespace arcade::http {

std::optional<std::string> Response::header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers)
        if (name == lower_name) return value;
    return std::nullopt;
}

namespace {

template <class Fn>
bool resolve(void* lib, const char* name, Fn& out) {
    out = reinterpret_cast<Fn>(::dlsym(lib, name));
    return out != nullptr;
}

CurlApi load_curl() {
    CurlApi api;
    // The soname of the ABI the header describes (Debian's libcurl4).
    void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* why = ::dlerror();
        api.error = std::string("libcurl is not available: ") + (why ? why : "libcurl.so.4 not found");
        return api;
    }
    bool ok = resolve(lib, "curl_global_init", api.global_init) && resolve(lib, "curl_easy_init", api.init) &&
              resolve(lib, "curl_easy_cleanup", api.cleanup) && resolve(lib, "curl_easy_reset", api.reset) &&
              resolve(lib, "curl_easy_setopt", api.setopt) && resolve(lib, "curl_easy_perform", api.perform) &&
              resolve(lib, "curl_easy_getinfo", api.getinfo) && resolve(lib, "curl_easy_strerror", api.strerror) &&
              resolve(lib, "curl_slist_append", api.slist_append) &&
              resolve(lib, "curl_slist_free_all", api.slist_free_all);
    if (!ok) {
        api.error = "libcurl.so.4 lacks an expected function";
        return api;
    }
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) api.error = "libcurl could not be initialised";
    return api;
}


struct Transfer {
    std::string* body = nullptr;
    const ChunkSink* sink = nullptr;
    Headers* headers = nullptr;
    bool sink_stopped = false;
    const std::atomic<bool>* cancel = nullptr;
    std::size_t max_body = kMaxResponseBody;
    std::size_t header_bytes = 0;
    bool too_large = false;  // the body or the headers outgrew their bound
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    if (t->sink) {
        if (!(*t->sink)(std::string_view(data, len))) {
            t->sink_stopped = true;
            return 0;
        }
    } else {
        if (len > t->max_body - std::min(t->max_body, t->body->size())) {
            t->too_large = true;
            return 0;  // abandons the transfer (CURLE_WRITE_ERROR)
        }
        t->body->append(data, len);
    }
    return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    t->header_bytes += len;
    if (t->header_bytes > kMaxResponseHeaders) {
        t->too_large = true;
        return 0;
    }
    std::string_view line(data, len);
    if (line.rfind("HTTP/", 0) == 0) t->headers->clear();  // a new response (redirect, 100-continue)
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
            value.remove_suffix(1);
        t->headers->emplace_back(std::move(name), std::string(value));
    }
    return len;
}

std::string describe_bytes(std::size_t n) {
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0) return std::to_string(n / (1024 * 1024)) + " MiB";
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
    return std::to_string(n) + " bytes";
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    return (t->cancel && t->cancel->load()) ? 1 : 0;
}

class CurlTransport final : public Transport {
public:
    CurlTransport(const CurlApi& api, std::string user_agent) : user_agent_(std::move(user_agent)), api_(api) {
        if (api_.usable()) handle_ = api_.init();
    }
    ~CurlTransport() override {
        if (handle_) api_.cleanup(handle_);
    }

    Response send(const Request& req) override { return perform(req, nullptr); }
    Response stream(const Request& req, const ChunkSink& sink) override { return perform(req, &sink); }

private:
    Response perform(const Request& req, const ChunkSink* sink) {
        Response resp;
        if (!handle_) {
            resp.failure = Failure::other;
            resp.error = api_.usable() ? "could not initialise libcurl" : api_.error;
            return resp;
        }
        CURL* h = handle_;
        api_.reset(h);
        Transfer t;
        t.body = &resp.body;
        t.sink = sink;
        t.headers = &resp.headers;
        t.cancel = req.cancel;
        t.max_body = req.max_body_bytes;

        api_.setopt(h, CURLOPT_URL, req.url.c_str());
        api_.setopt(h, CURLOPT_NOSIGNAL, 1L);
        api_.setopt(h, CURLOPT_USERAGENT, user_agent_.c_str());
        api_.setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        api_.setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        api_.setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        // libcurl guesses plain http for a URL without a scheme; a bare host
        // must never receive an Authorization header in clear text.
        api_.setopt(h, CURLOPT_DEFAULT_PROTOCOL, "https");
        api_.setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        api_.setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
        api_.setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
        api_.setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        api_.setopt(h, CURLOPT_TCP_KEEPIDLE, 15L);
        api_.setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
        api_.setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        api_.setopt(h, CURLOPT_WRITEDATA, &t);
        api_.setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        api_.setopt(h, CURLOPT_HEADERDATA, &t);
        api_.setopt(h, CURLOPT_NOPROGRESS, 0L);
        api_.setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        api_.setopt(h, CURLOPT_XFERINFODATA, &t);
        if (sink) api_.setopt(h, CURLOPT_BUFFERSIZE, 1024L);

        curl_slist* headers = nullptr;
        bool has_expect = false;
        for (const auto& [name, value] : req.headers) {
            std::string line = name + ": " + value;
            headers = api_.slist_append(headers, line.c_str());
            if (name == "Expect") has_expect = true;
        }
        if (!has_expect) headers = api_.slist_append(headers, "Expect:");
        api_.setopt(h, CURLOPT_HTTPHEADER, headers);

        if (req.method == "GET") {
            api_.setopt(h, CURLOPT_HTTPGET, 1L);
        } else {
            api_.setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
            if (req.method != "DELETE" || !req.body.empty()) {
                api_.setopt(h, CURLOPT_POSTFIELDS, req.body.data());
                api_.setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
            }
        }

        CURLcode rc = api_.perform(h);
        long status = 0;
        api_.getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        api_.slist_free_all(headers);
        resp.status = static_cast<int>(status);

        if (t.too_large) {
            // Failure::other: callers treat it as any broken answer. What was
            // read is dropped, so a partial body is never mistaken for one.
            resp.failure = Failure::other;
            resp.error = t.header_bytes > kMaxResponseHeaders
                             ? "the answer's headers are larger than " + std::to_string(kMaxResponseHeaders / 1024) +
                                   " KiB; abandoned"
                             : "the answer is larger than " + describe_bytes(req.max_body_bytes) + "; abandoned";
            resp.body.clear();
            resp.body.shrink_to_fit();
        } else if (rc != CURLE_OK && !(t.sink_stopped && rc == CURLE_WRITE_ERROR)) {
            resp.error = api_.strerror(rc);
            switch (rc) {
                case CURLE_COULDNT_CONNECT:
                case CURLE_COULDNT_RESOLVE_HOST:
                case CURLE_COULDNT_RESOLVE_PROXY: resp.failure = Failure::connect; break;
                case CURLE_OPERATION_TIMEDOUT: resp.failure = Failure::timeout; break;
                case CURLE_RECV_ERROR:
                case CURLE_SEND_ERROR:
                case CURLE_GOT_NOTHING:
                case CURLE_PARTIAL_FILE: resp.failure = Failure::reset; break;
                case CURLE_ABORTED_BY_CALLBACK: resp.failure = Failure::cancelled; break;
                default: resp.failure = Failure::other; break;
            }
        }
        return resp;
    }

    std::string user_agent_;
    const CurlApi& api_;
    CURL* handle_ = nullptr;
};

}  // namespace

// Loaded once per process and kept (never dlclose'd: libcurl keeps global state).
const CurlApi& dlopened_curl() {
    static const CurlApi api = load_curl();
    return api;
}

std::unique_ptr<Transport> make_transport_over(const CurlApi& api, std::string user_agent) {
    return std::make_unique<CurlTransport>(api, std::move(user_agent));
}

std::unique_ptr<Transport> make_curl_transport(std::string user_agent) {
    return make_transport_over(dlopened_curl(), std::move(user_agent));
}

}  // namespace arcade::http
