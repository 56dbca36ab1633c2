// The one file that speaks libcurl. CURLcode never leaves it: callers see
// http::Response with a Failure kind and a message.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "http/transport.h"

namespace arcade::http {

std::optional<std::string> Response::header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers)
        if (name == lower_name) return value;
    return std::nullopt;
}

namespace {

struct Transfer {
    std::string* body = nullptr;
    const ChunkSink* sink = nullptr;
    Headers* headers = nullptr;
    bool sink_stopped = false;
    const std::atomic<bool>* cancel = nullptr;
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
        t->body->append(data, len);
    }
    return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
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

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    return (t->cancel && t->cancel->load()) ? 1 : 0;
}

class CurlTransport final : public Transport {
public:
    explicit CurlTransport(std::string user_agent) : user_agent_(std::move(user_agent)) {
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        handle_ = curl_easy_init();
    }
    ~CurlTransport() override {
        if (handle_) curl_easy_cleanup(handle_);
    }

    Response send(const Request& req) override { return perform(req, nullptr); }
    Response stream(const Request& req, const ChunkSink& sink) override { return perform(req, &sink); }

private:
    Response perform(const Request& req, const ChunkSink* sink) {
        Response resp;
        if (!handle_) {
            resp.failure = Failure::other;
            resp.error = "could not initialise libcurl";
            return resp;
        }
        CURL* h = handle_;
        curl_easy_reset(h);
        Transfer t;
        t.body = &resp.body;
        t.sink = sink;
        t.headers = &resp.headers;
        t.cancel = req.cancel;

        curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent_.c_str());
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 15L);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
        if (sink) curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 1024L);

        curl_slist* headers = nullptr;
        bool has_expect = false;
        for (const auto& [name, value] : req.headers) {
            std::string line = name + ": " + value;
            headers = curl_slist_append(headers, line.c_str());
            if (name == "Expect") has_expect = true;
        }
        if (!has_expect) headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

        if (req.method == "GET") {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
            if (req.method != "DELETE" || !req.body.empty()) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
            }
        }

        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        resp.status = static_cast<int>(status);

        if (rc != CURLE_OK && !(t.sink_stopped && rc == CURLE_WRITE_ERROR)) {
            resp.error = curl_easy_strerror(rc);
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
    CURL* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(std::string user_agent) {
    return std::make_unique<CurlTransport>(std::move(user_agent));
}

}  // namespace arcade::http
